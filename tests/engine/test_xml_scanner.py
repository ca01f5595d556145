"""The servicing-manifest XML scanner (src/engine/formats/xml) as a C program:
tests/engine/c/xml_check.c compiled with strict warnings and run, plainly and under
AddressSanitizer + UndefinedBehaviorSanitizer."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from c_layout import include_dirs, xml_scanner_sources
from support import REPO, skip_or_fail
from support.cprograms import SANITIZERS, STRICT, require_sanitizers


CHECK_PROGRAM = Path(__file__).parent / "c" / "xml_check.c"


def compiler() -> str:
    cc = shutil.which("gcc")
    if not cc:
        skip_or_fail("gcc is not installed")
    return cc


def build_check(tmp_path: Path, sanitize: bool) -> Path:
    cc = compiler()
    if sanitize:
        require_sanitizers(cc, tmp_path)
    out = tmp_path / ("xml_check_asan" if sanitize else "xml_check")
    cmd = [cc, *(SANITIZERS if sanitize else ["-O2"]), *STRICT,
           *(f"-I{d}" for d in include_dirs(REPO)),
           str(CHECK_PROGRAM), *xml_scanner_sources(REPO), "-o", str(out)]
    built = subprocess.run(cmd, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return out


# The sanitized run adds ASan's leak checker: a leak on any path, error
# paths included, fails it.
@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "asan-ubsan"])
def test_xml_scanner_checks_pass(tmp_path, sanitize):
    program = build_check(tmp_path, sanitize)
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1"}
    run = subprocess.run([str(program)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.rstrip().endswith("0 failure(s)"), run.stdout
    assert "FAIL" not in run.stdout
    # The mutation loops really ran, over both encodings.
    assert "UTF-8 manifest: 4000 seeded mutations" in run.stdout
    assert "UTF-16LE manifest: 1000 seeded mutations" in run.stdout


def test_scanner_sources_are_pedantic_c11_and_need_only_libc(tmp_path):
    """xmlscan.c builds as strict ISO C11 (GNU extensions only through
    _GNU_SOURCE) and links into a program with no library but libc."""
    cc = compiler()
    main = tmp_path / "main.c"
    main.write_text('#include "formats/xml/xmlscan.h"\n'
                    "int main(void) { return xml_scan(\"<a/>\", 4, 0, 0, 0, 0); }\n")
    out = tmp_path / "minimal"
    built = subprocess.run([cc, *STRICT, "-pedantic", "-Wshadow", "-Wconversion",
                            "-Wmissing-prototypes", "-Wstrict-prototypes",
                            *(f"-I{d}" for d in include_dirs(REPO)),
                            str(main), *xml_scanner_sources(REPO), "-o", str(out)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert subprocess.run([str(out)]).returncode == 0
