"""The layout of docs/architecture.md, enforced: the import arrows between packages, no import
cycle between modules, nothing loose at the top of ``src/dialback/``, and the runtime's engine
read only inside ``service/``.

Imports are read from each module's syntax tree, wherever they stand: at module level, under
``if TYPE_CHECKING:``, in a class body or inside a function. All of them count for the package
arrows (a function-local import is still a dependency). For cycles only the imports run when the
module is loaded count, plus ``TYPE_CHECKING`` ones: module-level statements, not those inside a
function (a function-local import is the usual way to defer, and the arrows already bound it).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import dialback

SRC = Path(dialback.__file__).parent
TOP = "dialback"  # the package's own __init__.py and __main__.py

# package -> the packages it may import (each may import itself). docs/architecture.md draws it.
ARROWS: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "telephony": frozenset({"domain"}),
    "store": frozenset({"domain"}),
    "sim": frozenset({"domain", "telephony"}),
    "service": frozenset({"domain", "store", "telephony", "sim"}),
    "demo": frozenset({"domain", "sim", "service", "telephony"}),
    "api": frozenset({"domain", "service"}),
    "web": frozenset({"domain", "service", "api"}),
    "cli": frozenset({"domain", "telephony", "store", "sim", "service", "demo", "api", "web"}),
    TOP: frozenset({"cli"}),
}
TOP_MODULES = {"__init__.py", "__main__.py"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    where: str  # its file, for messages
    line: int
    target: str  # the imported module (or the package whose attribute is imported), dotted
    local: bool  # inside a function: counts for the arrows, not for cycles

    def __str__(self) -> str:
        return f"{self.where}:{self.line} -> {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def package_of(module: str) -> str:
    """``domain`` for ``dialback.domain.core``; ``dialback`` for the top's own modules."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return TOP
    return parts[1]


def _scopes(tree: ast.Module) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement with whether it is inside a function."""

    def visit(node: ast.AST, local: bool) -> Iterator[tuple[ast.stmt, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, local
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from visit(child, inner)

    return visit(tree, False)


def imports_of(path: Path, module: str, known: set[str]) -> list[Import]:
    """The ``dialback`` modules that ``source`` (the text of ``module``) imports. ``from p import
    n`` targets the module ``p.n`` when it exists, else ``p``; relative imports are resolved."""
    found: list[Import] = []
    here = module if path.name == "__init__.py" else module.rpartition(".")[0]
    where = str(path.relative_to(SRC.parent.parent)) if path.is_relative_to(SRC) else str(path)
    for node, local in _scopes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            assert isinstance(node, ast.ImportFrom)
            base = node.module or ""
            if node.level:
                package = here.split(".")
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        found.extend(
            Import(module, where, node.lineno, target, local)
            for target in dict.fromkeys(targets)
            if target == TOP or target.startswith(TOP + ".")
        )
    return found


def all_imports() -> list[Import]:
    known = {module_name(p) for p in modules()}
    found: list[Import] = []
    for path in modules():
        found += imports_of(path, module_name(path), known)
    return found


def arrow_violations(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        source, target = package_of(imp.source), package_of(imp.target)
        if imp.target == TOP:
            continue  # ``from dialback import __version__``: the top __init__ imports nothing
        if source not in ARROWS:
            bad.append(f"{imp} (package {source} is not in the picture)")
        elif target != source and target not in ARROWS[source]:
            bad.append(f"{imp} ({source} may not import {target})")
    return bad


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node, or of one node importing
    itself (Tarjan's algorithm, iterative), each sorted; sorted by their first node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return sorted(found)


def module_graph(imports: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if not imp.local:
            graph.setdefault(imp.source, set()).add(imp.target)
    return graph


def runtime_engine_reads(source: str) -> list[int]:
    """Lines that read the runtime's engine: ``runtime.engine``, ``self.runtime.engine``,
    ``runtime(request).engine``, ``getattr(runtime, "engine")``."""

    def runtime_like(node: ast.expr) -> bool:
        if isinstance(node, ast.Call):
            node = node.func
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        return "runtime" in name.lower()

    def reads_engine(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "engine" and runtime_like(node.value)
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "engine"
            and runtime_like(node.args[0])
        )

    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute | ast.Call) and reads_engine(node)
    )


# --- the checks ---------------------------------------------------------------------------------
def test_every_import_follows_the_arrows_of_docs_architecture() -> None:
    assert arrow_violations(all_imports()) == []


# mypyc's class attributes (``mypyc_attr``): a decorator that returns the class unchanged when
# run, read only by the compiler (issue 16: the compiled engine must stay picklable).
COMPILER_HINTS = ("mypy_extensions",)


def test_the_domain_imports_only_the_standard_library() -> None:
    bad = []
    for path in sorted((SRC / "domain").rglob("*.py")):
        for node, _ in _scopes(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if top not in (TOP, *COMPILER_HINTS) and top not in sys.stdlib_module_names:
                    bad.append(f"{path.name}:{node.lineno} -> {name}")
    assert bad == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(module_graph(all_imports())) == []


def test_nothing_loose_at_the_top_of_the_package() -> None:
    loose = sorted(p.name for p in SRC.glob("*.py") if p.name not in TOP_MODULES)
    assert loose == []


def test_only_the_service_reads_the_runtime_s_engine() -> None:
    bad = [
        f"{path.relative_to(SRC.parent.parent)}:{line}"
        for path in modules()
        if module_name(path).split(".")[1:2] != ["service"]
        for line in runtime_engine_reads(path.read_text(encoding="utf-8"))
    ]
    assert bad == []


def test_the_picture_names_every_package_and_the_arrows_are_acyclic() -> None:
    on_disk = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    assert on_disk <= set(ARROWS)
    package_graph = {p: set(targets) for p, targets in ARROWS.items()}
    assert cycles(package_graph) == []
    text = (SRC.parent.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in set(ARROWS) - {TOP}:
        assert f"`{package}/`" in text, f"docs/architecture.md does not describe {package}/"


# --- the checker, checked -----------------------------------------------------------------------
def test_imports_are_found_wherever_they_stand(tmp_path: Path) -> None:
    source = """
from typing import TYPE_CHECKING
from dialback.domain import core
from . import model
from ..store import db
if TYPE_CHECKING:
    from dialback.telephony.port import Dialer
class Box:
    import dialback.demo
def f():
    from dialback.api import app
"""
    known = {"dialback.domain.core", "dialback.service.model", "dialback.api.app"}
    path = tmp_path / "runtime.py"
    path.write_text(source, encoding="utf-8")
    found = imports_of(path, "dialback.service.runtime", known)
    assert [(i.target, i.local) for i in found] == [
        ("dialback.domain.core", False),
        ("dialback.service.model", False),
        ("dialback.store", False),
        ("dialback.telephony.port", False),
        ("dialback.demo", False),
        ("dialback.api.app", True),
    ]
    assert arrow_violations(found) == [
        f"{path}:9 -> dialback.demo (service may not import demo)",
        f"{path}:11 -> dialback.api.app (service may not import api)",
    ]


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        pytest.param({"a": {"b"}, "b": {"c"}, "c": set()}, [], id="chain"),
        pytest.param({"a": {"b"}, "b": {"a"}}, [["a", "b"]], id="pair"),
        pytest.param({"a": {"a"}}, [["a"]], id="self"),
        pytest.param(
            {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}},
            [["a", "b", "c"], ["d", "e"]],
            id="two",
        ),
    ],
)
def test_the_cycle_finder(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_runtime_engine_reads_are_found_however_spelled() -> None:
    source = """
a = runtime.engine
b = self.runtime.engine.queues
c = runtime(request).engine
d = getattr(app.state.runtime, "engine")
e = self.clock.engine
f = runtime.store.engine
"""
    assert runtime_engine_reads(source) == [2, 3, 4, 5]
