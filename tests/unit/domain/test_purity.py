"""The core/shell line: ``domain/`` imports only the standard library's pure modules and itself,
and touches no clock, global random or I/O, however it is spelled (STYLE.md).

The checker reads each module's syntax tree. It resolves every name a module binds by importing
(``import time as t``, ``from datetime import datetime``, ``from random import Random as R``) to
the qualified name it stands for, so ``t.time()``, ``datetime.now()`` and ``R()`` are judged as
``time.time``, ``datetime.datetime.now`` and ``random.Random``. Imports are checked wherever they
stand: at module level, under ``if TYPE_CHECKING:`` and inside functions. Names reached only
through values (``self.clock.now()``) cannot be resolved statically; the import allowlist is what
keeps a clock from reaching the domain that way. The checker is itself tested on snippets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dialback.domain

DOMAIN = Path(dialback.domain.__file__).parent
PACKAGE = "dialback.domain"

# Standard-library modules with no I/O, clock or global state (an allowlist: a module not named
# here is refused, so a new import is a decision). ``datetime`` and ``random`` are allowed for
# their values and types; their clock and global-random parts are refused below.
PURE_STDLIB = frozenset(
    {
        "__future__",
        "abc",
        "bisect",
        "collections",
        "contextlib",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "graphlib",
        "heapq",
        "itertools",
        "json",
        "math",
        "numbers",
        "operator",
        "random",
        "re",
        "statistics",
        "string",
        "textwrap",
        "types",
        "typing",
        "unicodedata",
    }
)
# Qualified names that read the clock (whatever module they came through).
CLOCK_READS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.today",
        "datetime.datetime.utcnow",
        "datetime.date.today",
    }
)
# Builtins that do I/O or run code from strings.
IO_BUILTINS = frozenset(
    {"open", "print", "input", "breakpoint", "exec", "eval", "compile", "__import__"}
)


def _import_problem(module: str) -> str | None:
    """Why importing ``module`` (absolute, dotted) is refused, or None."""
    if module == PACKAGE or module.startswith(PACKAGE + "."):
        return None
    if module.split(".")[0] == "dialback":
        return f"imports {module}: outside dialback.domain"
    if module.split(".")[0] not in PURE_STDLIB:
        return f"imports {module}: not a pure standard-library module"
    return None


def _absolute(node: ast.ImportFrom) -> str:
    """The module a ``from`` import names; relative ones resolved from ``dialback.domain``."""
    if node.level == 0:
        return node.module or ""
    base = PACKAGE.split(".")
    up = base[: len(base) - (node.level - 1)] if node.level - 1 < len(base) else []
    return ".".join([*up, node.module] if node.module else up)


def _qualified(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``a.b.c`` with ``a`` bound by an import, as the qualified name it stands for."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Every name bound by an import anywhere in the module, mapped to what it stands for."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node)
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
    return aliases


def _import_violations(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [p for a in node.names if (p := _import_problem(a.name))]
    if isinstance(node, ast.ImportFrom):
        module = _absolute(node)
        if module == "mypy_extensions":  # mypyc's class attributes, read only by the compiler
            names = [a.name for a in node.names]
            return [f"imports mypy_extensions.{n}" for n in names if n != "mypyc_attr"]
        if module == "dialback":  # ``from dialback import domain`` names a package
            return [p for a in node.names if (p := _import_problem(f"dialback.{a.name}"))]
        if problem := _import_problem(module):
            return [problem]
        if module == "random":  # only the class: the module-level functions share one state
            return [f"imports random.{a.name}" for a in node.names if a.name != "Random"]
    return []


def _use_violation(qualified: str, node: ast.expr, parent: ast.AST | None) -> str | None:
    if qualified in CLOCK_READS:
        return f"reads the clock: {qualified}"
    if qualified.startswith("random.") and qualified != "random.Random":
        return f"uses global or system random: {qualified}"
    if qualified == "random.Random" and isinstance(parent, ast.Call) and parent.func is node:
        seeded = parent.args or parent.keywords
        if not seeded or (
            parent.args
            and isinstance(parent.args[0], ast.Constant)
            and parent.args[0].value is None
        ):
            return "constructs an unseeded random.Random()"
    if qualified.split(".")[0] == "time":
        return f"reads the clock: {qualified}"
    return None


def violations(source: str) -> list[str]:
    """Every I/O, clock or global-random use in ``source`` (a domain module), as
    ``"line N: what"``; empty when the module is pure."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found += [f"line {node.lineno}: {p}" for p in _import_violations(node)]
        elif (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id in IO_BUILTINS
            and node.id not in aliases
        ):
            found.append(f"line {node.lineno}: uses the builtin {node.id}")
        elif isinstance(node, ast.Name | ast.Attribute):
            if isinstance(parents.get(node), ast.Attribute):
                continue  # judged as part of the longest chain (``a.b.c``, not ``a.b``)
            qualified = _qualified(node, aliases)
            if qualified and (problem := _use_violation(qualified, node, parents.get(node))):
                found.append(f"line {node.lineno}: {problem}")
    return found


def modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_domain_module_uses_no_io_clock_or_global_random(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


def test_the_domain_has_the_modules_it_should() -> None:
    names = {p.name for p in modules()}
    assert {"engine.py", "core.py", "routing.py", "pacing.py", "settings.py"} <= names


MUST_BE_FLAGGED = [
    pytest.param("import time\ntime.time()\n", id="time.time"),
    pytest.param("from time import time\nx = time()\n", id="from-time-import-time"),
    pytest.param("import time as t\nt.monotonic()\n", id="time-as-t"),
    pytest.param("from time import monotonic as m\n", id="from-time-import-as"),
    pytest.param("from datetime import datetime\ndatetime.now()\n", id="datetime.now"),
    pytest.param("import datetime\ndatetime.datetime.utcnow()\n", id="datetime.datetime.utcnow"),
    pytest.param("from datetime import date as d\nd.today()\n", id="date-as-d.today"),
    pytest.param("import datetime as dt\nclock = dt.datetime.now\n", id="clock-as-a-value"),
    pytest.param("import random\nrandom.random()\n", id="random.random"),
    pytest.param("from random import choice\n", id="from-random-import-choice"),
    pytest.param("import random as r\nr.shuffle([1, 2])\n", id="random-as-r.shuffle"),
    pytest.param("import random\nrng = random.Random()\n", id="unseeded-Random"),
    pytest.param("from random import Random\nrng = Random()\n", id="unseeded-from-Random"),
    pytest.param("import random\nrng = random.Random(None)\n", id="Random-None"),
    pytest.param("import random\nrng = random.SystemRandom(1)\n", id="SystemRandom"),
    pytest.param("import asyncio\n", id="asyncio"),
    pytest.param("import socket\n", id="socket"),
    pytest.param("import os\n", id="os"),
    pytest.param("from os import path\n", id="os.path"),
    pytest.param("import subprocess\n", id="subprocess"),
    pytest.param("from pathlib import Path\n", id="pathlib"),
    pytest.param("import logging\n", id="logging"),
    pytest.param("import threading\n", id="threading"),
    pytest.param("import sys\n", id="sys"),
    pytest.param("import uuid\n", id="uuid"),
    pytest.param("import sqlalchemy\n", id="third-party"),
    pytest.param("from dialback.store import db\n", id="dialback-store"),
    pytest.param("from dialback import api\n", id="from-dialback-import-api"),
    pytest.param("from .. import cli\n", id="relative-out-of-domain"),
    pytest.param("open('x')\n", id="open"),
    pytest.param("print(1)\n", id="print"),
    pytest.param("answer = input()\n", id="input"),
    pytest.param("reader = open\n", id="open-as-a-value"),
    pytest.param(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import os\n", id="type-checking"
    ),
    pytest.param("def f():\n    import time\n    return time.time()\n", id="function-local"),
]


@pytest.mark.parametrize("source", MUST_BE_FLAGGED)
def test_the_checker_flags_each_spelling(source: str) -> None:
    assert violations(source) != []


def test_the_checker_passes_a_pure_module() -> None:
    source = """
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from random import Random
from typing import TYPE_CHECKING

from dialback.domain.model import AgentId
from . import pacing

if TYPE_CHECKING:
    from dialback.domain.core import Core


def draw(rng: random.Random, seed: int, core: Core) -> float:
    local = random.Random(seed)
    other = Random(x=seed)
    when = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    return rng.random() + local.random() + other.random() + when + core.now


@dataclass(frozen=True)
class Segment:
    opened: bool
    agent: AgentId

    def open(self) -> bool:
        return self.opened
"""
    assert violations(source) == []


def test_the_checker_says_where_and_what() -> None:
    assert violations("import random\n\nx = random.choice([1])\n") == [
        "line 3: uses global or system random: random.choice"
    ]
