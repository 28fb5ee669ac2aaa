#!/usr/bin/env bash
# Builds the desktop bundle (Linux, one folder): dist/reviewer/, whose `reviewer` is the whole
# application with its own Python (the window without a sub-command, the command line with
# one), and dist/reviewer/share/ with the desktop entry and the icon, laid out as under
# ~/.local/share (README: "Install as a desktop application").
#
#   scripts/build-desktop.sh [PYINSTALLER-OPTION...]     e.g. --clean to drop PyInstaller's cache
#
# It builds in a virtual environment of its own, made when missing (REVIEWER_BUNDLE_VENV,
# default .venv-bundle; PYTHON, default python3, makes it: a Python with its shared library,
# libpython3.X.so, as PyInstaller needs), with the project installed into it as a regular
# package with the `bundle` and `pg` extras; PyInstaller's work folder is build/desktop.
# Safe to run again: the project is installed afresh each time, the rest only when missing.
# Needs binutils (objdump, strip).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${REVIEWER_BUNDLE_VENV:-.venv-bundle}
PYTHON=${PYTHON:-python3}
started=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
VENV=$(cd "$VENV" && pwd)

# The project from a copy of its files: setuptools' own staging folder (build/lib) would carry
# into the wheel a module deleted since it was last filled.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r pyproject.toml README.md reviewer resources "$stage/"
find "$stage" -name __pycache__ -type d -prune -exec rm -rf {} +
# No .pyc files: PyInstaller compiles what it bundles itself (saves about 15 s).
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-compile "$stage[bundle,pg]"

# Run from the work folder: in the checkout, its reviewer/ folder would shadow the installed
# package (and its resources) for PyInstaller's analysis.
root=$PWD
mkdir -p build/desktop
(cd build/desktop && "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath "$root/dist" --workpath "$root/build/desktop" "$root/packaging/reviewer.spec" "$@")

share=dist/reviewer/share
mkdir -p "$share/applications" "$share/icons/hicolor/256x256/apps" "$share/icons/hicolor/scalable/apps"
cp packaging/reviewer.desktop "$share/applications/"
cp resources/icons/reviewer.png "$share/icons/hicolor/256x256/apps/"
cp resources/icons/reviewer.svg "$share/icons/hicolor/scalable/apps/"

echo "built dist/reviewer ($(du -sh dist/reviewer | cut -f1)) in $(($(date +%s) - started)) s"
