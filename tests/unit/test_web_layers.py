"""The browser's layer (issue 13): ``web/`` imports the domain, the service and the API, never
the store, telephony or the engine itself (it reads through ``service/queries.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import dialback.web

WEB = Path(dialback.web.__file__).parent
ALLOWED = ("dialback.domain", "dialback.service", "dialback.api", "dialback.web")
FORBIDDEN = ("dialback.domain.engine", "dialback.domain.core", "dialback.service.runtime")


def _imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_web_reads_through_the_query_interface_and_acts_through_the_api() -> None:
    modules = sorted(WEB.glob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        for name in _imports(path):
            if not name.startswith("dialback"):
                continue
            assert name.startswith(ALLOWED), f"web/{path.name} imports {name}"
            if path.name != "__init__.py":  # mount() hands the runtime its listener
                assert not name.startswith(FORBIDDEN), f"web/{path.name} imports {name}"
