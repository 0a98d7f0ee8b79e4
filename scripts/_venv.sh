# Shared by scripts/run and scripts/test: make .venv if missing and install the project into it.
# Usage: . scripts/_venv.sh EXTRAS   (EXTRAS is "" or "[dev]")
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "dialback needs Python 3.11 or newer as '$PYTHON' (set PYTHON=... to choose another)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed$1"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "== installing dialback$1 into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".$1"
  touch "$stamp"
fi
# The engine's and the simulator's hot path compiled with mypyc (issue 16), rebuilt when a source
# changed; DIALBACK_PURE=1 skips it (the pure-Python build runs), and so does a missing compiler.
.venv/bin/python scripts/native.py build
