#!/usr/bin/env bash
# Install Stele into .venv and run the main job on the embedded default store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec .venv/bin/stele demo "$@"
