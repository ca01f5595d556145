"""C programs built against the engine, the way the engine's tests build them:
strict warnings, and optionally AddressSanitizer + UndefinedBehaviorSanitizer
(any report fails the program: -fno-sanitize-recover)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from c_layout import engine_sources, include_dirs
from support import REPO, skip_or_fail


STRICT = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror"]
SANITIZERS = ["-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=all"]


def require_sanitizers(cc: str, tmp_path: Path) -> None:
    """Skips (or fails in CI) only when the toolchain cannot link a sanitized
    program at all (some minimal images lack libasan); a failure to build the
    real program is never skipped."""
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    built = subprocess.run([cc, *SANITIZERS, str(probe), "-o", str(tmp_path / "probe")],
                           capture_output=True, text=True)
    if built.returncode != 0:
        skip_or_fail(f"ASan/UBSan cannot link: {built.stderr.strip()[:500]}")


def compile_program(source: Path, out: Path, sanitize: bool = False) -> Path:
    """source linked with the whole engine library (not the mount server's
    main) and the libraries it uses."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler")
    sources = engine_sources(REPO)
    cmd = [cc, *(SANITIZERS if sanitize else []), *STRICT,
           "-Wno-unused-parameter", "-Wno-format-truncation", "-Wno-missing-field-initializers",
           *(f"-I{d}" for d in include_dirs(REPO)), str(source), *sources,
           "-o", str(out), "-lwim", "-lhivex", "-lpthread", "-ldl", "-lrt"]
    built = subprocess.run(cmd, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return out
