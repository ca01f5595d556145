"""The engine's INF reader (src/engine/formats/inf) as a C library: tests/engine/c/inf_check.c
checks every field it reads from embedded INFs and feeds it truncated,
mutated and random input, once as a plain build and once under
AddressSanitizer + UndefinedBehaviorSanitizer (with the leak checker)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from c_layout import include_dirs, inf_reader_sources
from support import REPO
from support.cprograms import SANITIZERS, STRICT, require_sanitizers

# The check program: main() and the shared helpers in inf_check.c, the
# limit, disk and hostile-input tests in inf_check_limits.c.
CHECK_SOURCES = [Path(__file__).parent / "c" / name
                 for name in ("inf_check.c", "inf_check_limits.c")]


def compiler() -> str:
    cc = shutil.which("gcc")
    assert cc, "gcc is required to build the engine and its C tests"
    return cc


def build_check(tmp_path: Path, sanitize: bool) -> Path:
    out = tmp_path / ("inf_check_asan" if sanitize else "inf_check")
    cmd = [compiler(), *(SANITIZERS if sanitize else ["-O2"]), *STRICT,
           *(f"-I{d}" for d in include_dirs(REPO)),
           *map(str, CHECK_SOURCES), *inf_reader_sources(REPO), "-o", str(out)]
    built = subprocess.run(cmd, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return out


def run_check(program: Path, scratch: Path) -> str:
    scratch.mkdir()
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1", "LC_ALL": "C.UTF-8"}
    run = subprocess.run([str(program), str(scratch)], capture_output=True, text=True,
                         env=env, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert re.search(r"^\d+ checks, 0 failures$", run.stdout, re.M), output
    # The hostile-input loop really ran: every prefix of the sample in two
    # encodings plus 6500 mutated or random buffers.
    runs = re.search(r"^hostile input: (\d+) runs, (\d+) parsed$", run.stdout, re.M)
    assert runs and int(runs.group(1)) > 13000 and int(runs.group(2)) > 100, output
    assert "ERROR: AddressSanitizer" not in output and "runtime error" not in output, output
    return run.stdout


def test_inf_parser_checks_pass(tmp_path):
    run_check(build_check(tmp_path, sanitize=False), tmp_path / "scratch")


def test_inf_parser_checks_pass_under_sanitizers(tmp_path):
    require_sanitizers(compiler(), tmp_path)
    run_check(build_check(tmp_path, sanitize=True), tmp_path / "scratch")
