#!/usr/bin/env bash
# Install everything (tools/setup.sh), type-check the package with mypy
# --strict, then run the default test suite.  Extra arguments go to pytest,
# e.g. `bash tools/test.sh -m slow` for the slow suites.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
echo "== ruff (pyflakes checks)"
.venv/bin/python -m ruff check runtime actors protocol pytest_stele tests examples
echo "== mypy --strict (package)"
bash tools/typecheck.sh
echo "== mkdocs build --strict (docs/)"
NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict -q
echo "== pytest"
if [ "$#" -eq 0 ]; then
    set -- -m "not slow"
fi
# Branch coverage (pytest-cov) over the default run; the per-package table and
# floors are printed and held by tools/coverage_floor.py.
rm -f .coverage
.venv/bin/python -m pytest -q --cov --cov-branch --cov-report= "$@"
echo "== coverage"
exec .venv/bin/python tools/coverage_floor.py
