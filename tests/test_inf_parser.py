"""The engine's INF reader (src/engine/formats/inf) as a C library: tests/c/inf_check.c
checks every field it reads from embedded INFs and feeds it truncated,
mutated and random input, once as a plain build and once under
AddressSanitizer + UndefinedBehaviorSanitizer (with the leak checker)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from c_layout import include_dirs, inf_reader_sources
from conftest import REPO

CHECK_SOURCE = Path(__file__).parent / "c" / "inf_check.c"

STRICT = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror"]
SANITIZERS = ["-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=all"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def compiler() -> str:
    cc = shutil.which("gcc")
    assert cc, "gcc is required to build the engine and its C tests"
    return cc


def require_sanitizers(tmp_path: Path) -> None:
    """Skips when this toolchain cannot link a sanitized program at all (some
    minimal images lack libasan); in CI that is a failure, not a skip."""
    trivial = tmp_path / "trivial.c"
    trivial.write_text("int main(void) { return 0; }\n")
    built = subprocess.run([compiler(), *SANITIZERS, str(trivial), "-o", str(tmp_path / "t")],
                           capture_output=True, text=True)
    if built.returncode != 0:
        reason = f"cannot link an ASan/UBSan program: {built.stderr.strip()[:500]}"
        if in_ci():
            pytest.fail(f"sanitizers are required in CI: {reason}")
        pytest.skip(reason)


def build_check(tmp_path: Path, sanitize: bool) -> Path:
    out = tmp_path / ("inf_check_asan" if sanitize else "inf_check")
    cmd = [compiler(), *(SANITIZERS if sanitize else ["-O2"]), *STRICT,
           *(f"-I{d}" for d in include_dirs(REPO)),
           str(CHECK_SOURCE), *inf_reader_sources(REPO), "-o", str(out)]
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
    require_sanitizers(tmp_path)
    run_check(build_check(tmp_path, sanitize=True), tmp_path / "scratch")
