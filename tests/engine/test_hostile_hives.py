"""The engine's hive reading against damaged hives: truncated, flipped,
values claiming gigabytes, subkey lists pointing at themselves.  Every read
function runs on each damaged image, plainly and under AddressSanitizer and
UBSan; a call may fail, but with a message, and nothing may crash."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dism.testing import build_windows_tree, sample_servicing_spec

from support import SHARED_REAL
from support.cprograms import compile_program

C_SOURCE = Path(__file__).parent / "c" / "hostile_hives.c"


def seed_hives(tmp_path: Path) -> list[str]:
    root = build_windows_tree(tmp_path / "seed", sample_servicing_spec())
    config = root / "Windows" / "System32" / "config"
    seeds = [f"{name}={config / name}" for name in ("SOFTWARE", "SYSTEM", "DRIVERS")]
    if SHARED_REAL.is_dir():
        seeds += [f"SYSTEM={SHARED_REAL / 'regipy__SYSTEM_2'}",
                  f"SOFTWARE={SHARED_REAL / 'scancode-toolkit__Software_Delta'}"]
    return seeds


@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "asan-ubsan"])
def test_damaged_hives_give_errors_not_crashes(tmp_path, sanitize):
    program = compile_program(C_SOURCE, tmp_path / "hostile", sanitize)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "DISM_STATE_DIR": str(tmp_path / "state"), "LC_ALL": "C.UTF-8",
           "HOSTILE_ROUNDS": "25"}
    run = subprocess.run([str(program), str(work), *seed_hives(tmp_path)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.endswith(" 0 failure(s)"), summary
    cases = int(summary.split()[0])
    assert cases >= 200, summary
    # Damage must be noticed somewhere, and intact prefixes still read.
    assert " 0 calls succeeded" not in summary and " 0 failed with a message" not in summary
