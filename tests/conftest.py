"""Says which build of dialback's hot path the tests run (issue 16): mypyc-compiled, or pure."""

from __future__ import annotations

import dialback.domain.core


def pytest_report_header() -> str:
    compiled = not dialback.domain.core.__file__.endswith(".py")
    return f"dialback build: {'compiled (mypyc)' if compiled else 'pure Python'}"
