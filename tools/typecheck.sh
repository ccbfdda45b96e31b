#!/usr/bin/env bash
# mypy --strict over the stele package and the pytest_stele entry-point shim.
# mypy has no notion of setuptools' package-dir mapping (runtime/ -> stele,
# actors/ -> stele.actors, protocol/ -> stele.protocol), so we lay the same
# mapping out as a tree of symlinks under .typecheck/ and point mypy at it.
# Arguments are passed to mypy (default: -p stele -p pytest_stele).
set -euo pipefail
cd "$(dirname "$0")/.."
# One type check at a time: the symlink map is rebuilt on every run.
exec 9>.typecheck.lock
flock 9
rm -rf .typecheck
mkdir -p .typecheck/stele
for entry in runtime/*; do
    ln -s "../../$entry" ".typecheck/stele/$(basename "$entry")"
done
ln -s ../../actors .typecheck/stele/actors
ln -s ../../protocol .typecheck/stele/protocol
if [ "$#" -eq 0 ]; then
    set -- -p stele -p pytest_stele
fi
MYPYPATH=.typecheck .venv/bin/python -m mypy "$@"
