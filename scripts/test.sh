#!/usr/bin/env bash
# Installs everything the tests need (scripts/install.sh --test), then runs
# the whole test suite (mount tests need root for FUSE; under CI=true a
# missing FUSE fails those tests instead of skipping them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
run=(.venv/bin/python -m pytest -q "$@")
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
    exec sudo --preserve-env=CI "${run[@]}"
fi
exec "${run[@]}"
