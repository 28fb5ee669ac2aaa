#!/usr/bin/env bash
# Creates bench/peer/.venv with the GoRules ZEN engine (zen-engine, see requirements.txt), with
# the same Python interpreter as Reviewer's venv (/work/main/.venv or $REVIEWER_PYTHON) when
# there is one, so both sides start the same interpreter. Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${REVIEWER_PYTHON:-}"
if [ -z "$python" ] && [ -x "$root/.venv/bin/python" ]; then
    python="$(readlink -f "$root/.venv/bin/python")"
fi
python="${python:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
    "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
"$here/.venv/bin/python" -c "import importlib.metadata as m, zen; print('zen-engine', m.version('zen-engine'), 'in', '$here/.venv')"
