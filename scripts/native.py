"""Build dialback's hot path as a C extension with mypyc, beside the pure-Python sources (issue 16).

    .venv/bin/python scripts/native.py build    # compile if missing or stale (scripts/_venv.sh)
    .venv/bin/python scripts/native.py status   # say which build Python will run, and why
    .venv/bin/python scripts/native.py clean    # remove it: the pure build runs

What is compiled: every module of ``domain/`` and the simulator's driver (``sim/driver.py``) and
agents (``sim/agents.py``, ``sim/clock.py``). A compiled class keeps only erased annotations at
run time (``tuple``, ``type``); the store's codec reads the real ones from the source. The
extension goes to ``build/native/`` (one shared library and a small module per source), never into
``src/``: the sources stay the package, importable and correct without any build. A ``.pth``
file in the virtualenv puts a meta-path finder in front of the normal import for exactly those
modules, so:

- ``DIALBACK_PURE=1`` runs the pure-Python build (the finder steps aside);
- a source edited after the build is noticed at start-up (the build records each source's
  SHA-256; a mismatch anywhere) and the pure build runs, with a message saying so, until the next
  ``scripts/native.py build`` (which ``./scripts/test`` and ``./scripts/run`` call);
- without a C compiler or Python's headers the build is skipped with a message, and the pure
  build runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
OUT = ROOT / "build" / "native"
GROUP = "dialback_native"
PTH = "dialback_native.pth"
SOURCES = [
    *sorted(
        str(p.relative_to(SRC))
        for p in (SRC / "dialback" / "domain").glob("*.py")
        if p.name != "__init__.py"
    ),
    "dialback/sim/driver.py",
    "dialback/sim/agents.py",
    "dialback/sim/clock.py",
]

FINDER = '''"""Written by scripts/native.py: runs dialback's mypyc-compiled modules unless
DIALBACK_PURE is set or a source changed since the build (then the pure build runs, and says so).
"""

import hashlib
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class _Finder:
    def __init__(self, modules):
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        found = self.modules.get(fullname)
        if found is None:
            return None
        return importlib.util.spec_from_file_location(fullname, os.path.join(HERE, found))


def _install():
    if os.environ.get("DIALBACK_PURE"):
        return
    try:
        with open(os.path.join(HERE, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError:
        return
    for source, digest in manifest["sources"].items():
        try:
            with open(source, "rb") as f:
                current = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            current = None
        if current != digest:
            sys.stderr.write(
                "dialback: " + source + " changed since the compiled build; running the "
                "pure-Python build (rebuild: python scripts/native.py build)\\n"
            )
            return
    sys.meta_path.insert(0, _Finder(manifest["modules"]))


_install()
'''


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def is_fresh() -> bool:
    manifest = OUT / "manifest.json"
    if not manifest.exists() or not (site_packages() / PTH).exists():
        return False
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    wanted = {str(SRC / s): digest(SRC / s) for s in SOURCES}
    return bool(recorded.get("sources") == wanted and recorded.get("python") == sys.version)


def missing_compiler() -> str | None:
    """Why no extension can be built here, or None."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc})"
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not include.exists():
        return f"no Python headers ({include}; Debian: python3-dev)"
    return None


def missing_tools() -> str | None:
    """Why mypyc cannot run here (it comes with the dev tools' mypy), or None."""
    try:
        import mypyc.build  # noqa: F401
        import setuptools  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as missing:
        return f"{missing.name} is not installed (pip install -e '.[dev]')"
    return None


def build() -> int:
    if os.environ.get("DIALBACK_PURE"):
        print("== DIALBACK_PURE is set: the pure-Python build runs; nothing compiled")
        return 0
    if is_fresh():
        return 0
    why = missing_compiler() or missing_tools()
    if why is not None:
        clean()
        print(f"!! {why}: dialback runs its pure-Python build (correct, slower)", file=sys.stderr)
        return 0
    from mypyc.build import mypycify
    from setuptools import Distribution
    from setuptools.command.build_ext import build_ext  # type: ignore[import-untyped]

    print(f"== compiling {len(SOURCES)} modules with mypyc into {OUT.relative_to(ROOT)}")
    clean()
    temp = ROOT / "build" / "native-tmp"
    here = os.getcwd()
    os.chdir(SRC)
    try:
        extensions = mypycify(
            SOURCES, opt_level="3", group_name=GROUP, target_dir=str(temp / "c"), verbose=False
        )
        dist = Distribution({"name": GROUP, "ext_modules": extensions})
        command = build_ext(dist)
        command.build_lib = str(OUT)
        command.build_temp = str(temp / "o")
        command.parallel = os.cpu_count() or 1
        command.ensure_finalized()
        command.run()
    finally:
        os.chdir(here)
    modules = {}
    for source in SOURCES:
        name = source.removesuffix(".py").replace("/", ".")
        (built,) = OUT.glob(source.removesuffix(".py") + ".*.so")
        modules[name] = str(built.relative_to(OUT))
    manifest = {
        "python": sys.version,
        "sources": {str(SRC / s): digest(SRC / s) for s in SOURCES},
        "modules": modules,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    (OUT / "_dialback_native.py").write_text(FINDER, encoding="utf-8")
    (site_packages() / PTH).write_text(f"{OUT}\nimport _dialback_native\n", encoding="utf-8")
    return 0


def clean() -> int:
    (site_packages() / PTH).unlink(missing_ok=True)
    shutil.rmtree(OUT, ignore_errors=True)
    return 0


def status() -> int:
    import dialback.domain.core as core

    compiled = not core.__file__ or not core.__file__.endswith(".py")
    print(f"dialback runs its {'compiled (mypyc)' if compiled else 'pure-Python'} build")
    if not compiled and os.environ.get("DIALBACK_PURE"):
        print("because DIALBACK_PURE is set")
    elif not compiled:
        print("fresh build present" if is_fresh() else "no fresh build: scripts/native.py build")
    return 0


if __name__ == "__main__":
    commands = {"build": build, "clean": clean, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    sys.exit(commands[sys.argv[1]]())
