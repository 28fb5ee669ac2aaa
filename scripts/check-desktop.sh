#!/usr/bin/env bash
# Starts the desktop bundle that scripts/build-desktop.sh wrote (dist/reviewer/) as a user
# would, with an empty environment and a new home folder: the command line on a demo database
# (seed-demo, verify, evaluate, signed export-pdf, verify --pdf, report), the window offscreen with
# --screenshot, the window without a display (exit 2), and the running window's memory map,
# which must hold no Python file from outside the bundle. Validates the desktop entry when
# desktop-file-validate is there. Exits non-zero on the first failure. .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=$PWD/dist/reviewer
app=$bundle/reviewer
[ -x "$app" ] || { echo "check-desktop: no $app (run scripts/build-desktop.sh)" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/home"
user_env=(env -i "HOME=$work/home" PATH=/usr/bin:/bin LANG=C.UTF-8)
db=(--database "sqlite:///$work/demo.db" --user alice)
run() { "${user_env[@]}" "$@" >>"$work/out.txt" 2>&1 || { cat "$work/out.txt" >&2; echo "check-desktop: failed: $*" >&2; exit 1; }; }
started=$(date +%s)

run "$app" seed-demo --count 20 --decisions 6 "${db[@]}"
run "$app" verify "${db[@]}"
# evaluate on the demo database: its quick read (sqlite3, read-only) inside the bundle.
"${user_env[@]}" "$app" evaluate "$PWD/tests/data/examples/p02-us-sheriff.json" --format json "${db[@]}" \
    >"$work/evaluated.json" 2>>"$work/out.txt" || { cat "$work/out.txt" >&2; echo "check-desktop: evaluate failed" >&2; exit 1; }
grep -q '"reference": *"EX-0002"' "$work/evaluated.json" || { echo "check-desktop: evaluate printed no EX-0002" >&2; exit 1; }
run env REVIEWER_KEY_PASSPHRASE=check-desktop-passphrase "$app" keys init "${db[@]}"
run env REVIEWER_KEY_PASSPHRASE=check-desktop-passphrase "$app" export-pdf --all-decided --out "$work/pdf" "${db[@]}"
ls "$work"/pdf/*.pdf >/dev/null
run "$app" verify --pdf "$work"/pdf/*.pdf "${db[@]}"
run env REVIEWER_KEY_PASSPHRASE=check-desktop-passphrase "$app" report --from 2000-01-01 --to 2099-12-31 \
    --out "$work/report.pdf" "${db[@]}"

run env QT_QPA_PLATFORM=offscreen "$app" --screenshot "$work/window.png" "${db[@]}"
[ -s "$work/window.png" ] || { echo "check-desktop: no screenshot" >&2; exit 1; }
grep "queue shown" "$work/out.txt"

set +e
"${user_env[@]}" "$app" "${db[@]}" >"$work/nodisplay.txt" 2>&1
code=$?
set -e
if [ "$code" != 2 ] || ! grep -q "no display found" "$work/nodisplay.txt"; then
    cat "$work/nodisplay.txt" >&2
    echo "check-desktop: without a display: exit $code, expected 2 and the message" >&2
    exit 1
fi

# The window, left running until its platform plugin is loaded: what it maps of Python must
# all be the bundle's (no system or virtual-environment Python library).
"${user_env[@]}" QT_QPA_PLATFORM=offscreen "$app" "${db[@]}" >"$work/window.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    grep -q libqoffscreen "/proc/$pid/maps" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/window.txt" >&2; echo "check-desktop: the window exited" >&2; exit 1; }
    sleep 0.1
done
sleep 2
awk '{print $6}' "/proc/$pid/maps" | sort -u >"$work/maps.txt"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
grep -q libqoffscreen "$work/maps.txt" || { echo "check-desktop: the window never loaded Qt" >&2; exit 1; }
if grep -E 'python|site-packages' "$work/maps.txt" | grep -v "^$bundle/"; then
    echo "check-desktop: the bundle mapped the Python files above from outside $bundle" >&2
    exit 1
fi

if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$bundle/share/applications/reviewer.desktop"
fi
echo "check-desktop: dist/reviewer ($(du -sh "$bundle" | cut -f1)) started and worked in $(($(date +%s) - started)) s"
