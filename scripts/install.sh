#!/usr/bin/env bash
# Installs what dism needs on a Debian machine and builds it into .venv/.
# Used by scripts/demo.sh, scripts/test.sh and CI; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

# libwim-dev: the engine links wimlib; wimtools: wimlib-imagex for fixtures
# and benchmarks; fuse3: mounting; libhivex-dev: offline registry hives;
# mingw-w64 and curl: the Windows build check (tests/test_windows_build.py).
packages=(gcc python3-dev python3-venv libwim-dev wimtools fuse3 libhivex-dev util-linux
          mingw-w64 curl ca-certificates)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
bash scripts/fetch-windows-python-headers.sh
