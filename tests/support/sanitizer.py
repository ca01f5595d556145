"""A copy of the dism package whose extension is built with AddressSanitizer
and UndefinedBehaviorSanitizer, and the environment that runs Python on it.

The C test programs in tests/engine/test_engine_c.py are sanitized already; this
covers the extension itself, as Python calls it: the sources are compiled
the way setup.py compiles them, plus the sanitizers, into a private copy of
the package (the tree's own dism/ is never touched), with the mount server
helper copied beside it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import c_layout
from c_layout import include_dirs

REPO = Path(__file__).resolve().parents[2]
SANITIZE = ["-g", "-O1", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=undefined"]
# What a sanitizer prints when it finds something; a run whose stderr holds
# one failed even if its exit status was 0.
REPORT_MARKERS = ("runtime error:", "AddressSanitizer", "UndefinedBehaviorSanitizer")


class SanitizerUnavailable(RuntimeError):
    """No compiler or no sanitizer runtime on this machine."""


def runtime_library(name: str) -> str:
    cc = shutil.which("gcc")
    if not cc:
        raise SanitizerUnavailable("gcc is not installed")
    path = subprocess.run([cc, f"-print-file-name={name}"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if not os.path.isabs(path) or not os.path.exists(path):
        raise SanitizerUnavailable(f"gcc has no {name}")
    return path


def extension_sources() -> list[str]:
    return c_layout.extension_sources(REPO) + c_layout.engine_sources(REPO)


def build_sanitized_package(out_dir: Path) -> Path:
    """Copies dism/ into out_dir and builds a sanitized _dism there (for the
    limited API, as setup.py does on a CPython with a GIL); returns the
    directory to put first on PYTHONPATH."""
    package = out_dir / "dism"
    shutil.copytree(REPO / "dism", package,
                    ignore=shutil.ignore_patterns("_dism*.so", "__pycache__"))
    helper = REPO / "dism" / "_libexec" / "dism-mountd"
    if not helper.exists():
        raise SanitizerUnavailable(f"build the tree first: {helper} is missing")
    cmd = [shutil.which("gcc") or "gcc", "-shared", "-fPIC", *SANITIZE, "-std=c11",
           "-D_GNU_SOURCE", "-DPy_LIMITED_API=0x030A0000",
           f"-I{sysconfig.get_paths()['include']}",
           *(f"-I{d}" for d in include_dirs(REPO)), *extension_sources(), "-o", str(package / "_dism.abi3.so"),
           "-lwim", "-lhivex", "-ldl", "-lpthread"]
    runtime_library("libasan.so")
    built = subprocess.run(cmd, capture_output=True, text=True)
    if built.returncode != 0:
        raise AssertionError(f"sanitized build failed:\n{built.stderr}")
    return out_dir


def sanitized_env(pythonpath: Path, **extra: str) -> dict[str, str]:
    """Python on the sanitized package: libasan must come first in the
    process, Python's own allocations are not leak-checked (CPython keeps
    much alive until exit), and the first UBSan report stops the run."""
    preload = [runtime_library("libasan.so"), runtime_library("libubsan.so")]
    return {
        **os.environ,
        "PYTHONPATH": str(pythonpath),
        "LD_PRELOAD": ":".join(preload),
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:halt_on_error=1",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        "PYTHONMALLOC": "malloc",
        **extra,
    }


def run_sanitized(pythonpath: Path, code: str, cwd: Path, timeout: float = 600,
                  **env: str) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter on the sanitized package.  cwd must
    not hold a dism/ of its own (the tree's would shadow the copy)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, env=sanitized_env(pythonpath, **env), timeout=timeout)


def sanitizer_reports(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(m in line for m in REPORT_MARKERS)]
