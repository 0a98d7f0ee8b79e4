"""The core/shell line: ``domain/`` imports only the standard library and itself, and touches no
clock, global random or I/O (STYLE.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import dialback.domain

DOMAIN = Path(dialback.domain.__file__).parent
FORBIDDEN_CALLS = {
    ("time", "time"),
    ("time", "monotonic"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("random", "random"),
    ("random", "randint"),
    ("random", "choice"),
    ("random", "shuffle"),
    ("random", "uniform"),
    ("random", "seed"),
}
FORBIDDEN_MODULES = {
    "asyncio",
    "logging",
    "socket",
    "os",
    "subprocess",
    "threading",
    "io",
    "sqlite3",
}


def modules() -> list[Path]:
    return sorted(DOMAIN.glob("*.py"))


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    assert len(modules()) >= 10
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top == "dialback":
                    assert name.startswith("dialback.domain"), f"{path.name} imports {name}"
                    continue
                assert top in sys.stdlib_module_names, f"{path.name} imports {name}"
                assert top not in FORBIDDEN_MODULES, f"{path.name} imports {name} (I/O or async)"


def test_domain_reads_no_clock_and_no_global_random() -> None:
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = node.func.value
                if isinstance(target, ast.Name):
                    assert (target.id, node.func.attr) not in FORBIDDEN_CALLS, (
                        f"{path.name}:{node.lineno} calls {target.id}.{node.func.attr}"
                    )
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"open", "print", "input"}, (
                    f"{path.name}:{node.lineno} calls {node.func.id}"
                )
