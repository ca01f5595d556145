#!/usr/bin/env bash
# The reliability battery (tests/stress): kill -9 of the mount server and of
# the caller mid-commit, cleanup and registry races, the bad-input table
# (also against the extension built with ASan+UBSan), leak slopes over 10k
# iterations and state-directory security.  About 5 minutes on 2 cores, so
# it is not part of scripts/test.sh; CI runs it (.ci/run).  Needs root
# (FUSE, bind mounts, a second user).  The figures (trials, mounts checked,
# cases, slopes) close pytest's output; the exit status is pytest's.
# Tunables: STRESS_KILL_TRIALS, STRESS_RACE_SECONDS, STRESS_LEAK_ITERATIONS,
# STRESS_SEED (the kill points; printed when a trial fails).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
run=(.venv/bin/python -m pytest -q -rfEs -m stress tests/stress "$@")
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
    exec sudo --preserve-env=CI,STRESS_KILL_TRIALS,STRESS_RACE_SECONDS,STRESS_LEAK_ITERATIONS,STRESS_SEED "${run[@]}"
fi
exec "${run[@]}"
