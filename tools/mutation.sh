#!/usr/bin/env bash
# Mutation testing: mutate each MODULE (a source file path such as
# protocol/_cbor.py) with seeded mutants, run the module's own test folder
# (mapping in pyproject.toml [tool.stele.mutation.tests]) against each, and
# print the per-module killed / non-equivalent table.  Slow: minutes per module.
#   bash tools/mutation.sh protocol/_cbor.py runtime/store/_store.py
#   bash tools/mutation.sh --changed [BASE]   # files this branch touched vs BASE (main)
# Extra flags go to tools/mutate.py (--n, --seed, --timeout, --list, --show KEY).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
if [ "${1:-}" = "--changed" ]; then
    base="${2:-main}"
    mapfile -t mods < <(git diff --name-only "$base"...HEAD -- runtime actors protocol \
        | grep -E '\.py$' | grep -v '__init__\.py$' || true)
    if [ "${#mods[@]}" -eq 0 ]; then echo "mutation: no changed modules vs $base"; exit 0; fi
    set -- "${mods[@]}"
fi
if [ "$#" -eq 0 ]; then
    echo "usage: tools/mutation.sh MODULE... | --changed [BASE]" >&2; exit 2
fi
exec "$PY" tools/mutate.py "$@"
