#!/usr/bin/env bash
# Installs what dism needs on a Debian machine and builds it into .venv/.
#
#   scripts/install.sh          what the package needs to build and run
#                               (scripts/demo.sh)
#   scripts/install.sh --test   that, plus what the test suite needs: pytest,
#                               abi3audit and mypy, and mingw-w64 with CPython's
#                               Windows headers and LLVM (clang, lld) for the
#                               Windows build checks
#                               (scripts/test.sh, scripts/test-wheel.sh, CI)
#
# Safe to run again: nothing already there is installed twice.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
case "${1:-}" in
    "") ;;
    --test) for_tests=true ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

# libwim-dev: the engine links wimlib; wimtools: wimlib-imagex for fixtures
# and benchmarks; fuse3: mounting; libhivex-dev: offline registry hives.
packages=(gcc python3-dev python3-venv libwim-dev wimtools fuse3 libhivex-dev util-linux)
if $for_tests; then
    # mingw-w64: the Windows build check
    # (tests/build_checks/test_windows_build.py); the Windows headers it
    # compiles against come from CPython's source package
    # (scripts/fetch-windows-python-headers.sh, apt-get only).
    packages+=(mingw-w64)
    # clang, lld, llvm: MSVC's formats (the -msvc targets, lld-link,
    # llvm-readobj) for the import library check
    # (tests/build_checks/test_import_libraries.py), and clang's aarch64
    # Windows target for the ARM64 layout check.
    packages+=(clang lld llvm)
fi

bash scripts/apt-install.sh "${packages[@]}"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# setuptools 77 reads pyproject.toml's SPDX licence; pip builds in its own
# environment anyway, this one serves `python setup.py build_ext --inplace`.
.venv/bin/python -m pip install -q --upgrade pip "setuptools>=77"
if $for_tests; then
    .venv/bin/python -m pip install -q -e ".[test]"
    bash scripts/fetch-windows-python-headers.sh
else
    .venv/bin/python -m pip install -q -e .
fi
