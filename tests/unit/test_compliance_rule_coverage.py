"""Every rule of docs/compliance.md (R-X-…) is proved by at least one test that names it, as
SPEC's rules are (tests/unit/test_rule_coverage.py)."""

from __future__ import annotations

import re
from pathlib import Path

from .test_rule_coverage import collected_test_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"


def test_every_compliance_rule_has_a_test_naming_it() -> None:
    rules = sorted(set(re.findall(r"\*\*(R-X-\d+)\*\*", DOC.read_text(encoding="utf-8"))))
    assert len(rules) == 19
    names = collected_test_names()
    missing = [
        rule
        for rule in rules
        if not any(name.startswith(f"test_{rule.lower().replace('-', '_')}_") for name in names)
    ]
    assert missing == []
