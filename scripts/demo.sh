#!/usr/bin/env bash
# Installs what the package needs (not the test tools), then runs the main
# job on a sample image it builds: image info, mount, session, commit,
# unmount, with progress shown.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
    exec sudo --preserve-env=DISM_STATE_DIR .venv/bin/python examples/demo.py "$@"
fi
exec .venv/bin/python examples/demo.py "$@"
