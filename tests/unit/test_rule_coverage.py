"""Every behaviour rule of SPEC §2 to §8 is proved by at least one test that names it
(``test_r_cf_5_...``). The list of ids is kept here; when the workspace's SPEC.md is next to the
project (``../shared/SPEC.md``) the list is checked against it too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "SPEC.md"
RULES = (
    [f"R-Q-{n}" for n in range(1, 4)]
    + [f"R-C-{n}" for n in range(1, 7)]
    + [f"R-O-{n}" for n in range(1, 5)]
    + [f"R-AF-{n}" for n in range(1, 5)]
    + [f"R-CF-{n}" for n in range(1, 11)]
    + [f"R-OW-{n}" for n in range(1, 4)]
)


def collected_test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_every_rule_of_spec_2_to_8_has_a_test_naming_it() -> None:
    names = collected_test_names()
    missing = [
        rule
        for rule in RULES
        if not any(name.startswith(f"test_{rule.lower().replace('-', '_')}_") for name in names)
    ]
    assert missing == []


def test_the_rule_list_matches_the_spec_when_it_is_at_hand() -> None:
    if not SPEC.exists():
        return  # a clone without the workspace: the list above stands
    text = SPEC.read_text(encoding="utf-8").split("## 9.")[0]
    in_spec = set(re.findall(r"R-(?:Q|C|O|AF|CF|OW)-\d+", text))
    assert in_spec <= set(RULES)
