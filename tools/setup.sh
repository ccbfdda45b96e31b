#!/usr/bin/env bash
# Create .venv and install Stele (with test extras), plus the system tools the
# tests use: Debian's RISC-V cross compiler and qemu-user.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v riscv64-unknown-elf-gcc >/dev/null 2>&1 || need_apt+=(gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf)
command -v qemu-riscv32 >/dev/null 2>&1 || need_apt+=(qemu-user)
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ${need_apt[*]} (apt)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "setup: note: ${need_apt[*]} not installed; tests that need them are skipped" >&2
    fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# Idempotent and fast: reinstall only when pyproject.toml (dependencies, entry
# points, package list) changed since the last successful install.  The
# install is editable, so source edits never need one.
stamp=.venv/.stele-installed
want="$(cat pyproject.toml | cksum) extras=test,docs"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c "import stele" 2>/dev/null; then
    exit 0
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# pip's build backend prints setuptools notices even with -q: keep them in a log
# and show it only if the install fails.
if ! .venv/bin/python -m pip install -q -e '.[test,docs]' > .venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log >&2
    echo "setup: pip install failed (log above, also in .venv/pip-install.log)" >&2
    exit 1
fi
echo "$want" > "$stamp"
