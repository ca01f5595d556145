"""The cross tools of the Windows build checks (tests/build_checks): Debian's
mingw-w64 and LLVM (clang, lld-link, llvm-readobj), which compile for and
read and write Windows' formats here on Linux.

In CI (scripts/install.sh --test installs them all) a missing tool fails the
check; elsewhere it skips it.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# mingw-w64's Windows headers (mingw-w64-common): one set for every target,
# aarch64 included.
MINGW_HEADERS = Path("/usr/share/mingw-w64/include")


def missing(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"the Windows build check needs {what} in CI (scripts/install.sh --test)")
    pytest.skip(f"needs {what} (scripts/install.sh --test installs it)")


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)


def llvm_tool(name: str) -> str:
    """An LLVM tool by its plain name, else the newest versioned install's
    (Debian's llvm-NN packages put them in /usr/lib/llvm-NN/bin)."""
    found = shutil.which(name)
    if found:
        return found
    versioned = sorted(glob.glob(f"/usr/lib/llvm-*/bin/{name}"),
                       key=lambda p: int(p.split("/")[3].split("-")[1]))
    if not versioned:
        missing(f"LLVM's {name} (Debian's clang, lld and llvm)")
    return versioned[-1]


def clang_with_mingw_headers(target: str) -> list[str]:
    """clang for a `-w64-windows-gnu` target on mingw-w64's headers only:
    never the host's /usr/include, and clang's own stddef.h and friends."""
    clang = llvm_tool("clang")
    if not (MINGW_HEADERS / "windows.h").is_file():
        missing(f"mingw-w64's headers ({MINGW_HEADERS}, mingw-w64-common)")
    resource = run([clang, "-print-resource-dir"]).stdout.strip()
    return [clang, f"--target={target}", "-nostdinc", "-isystem", f"{resource}/include",
            "-isystem", str(MINGW_HEADERS)]


def mingw_tool(arch: str, name: str) -> str:
    """mingw-w64's `name` for x86 or x64 (windows_build.tool), or a skip
    (a failure in CI) when it is missing."""
    from support import windows_build

    try:
        return windows_build.tool(arch, name)
    except windows_build.ToolMissing as what:
        missing(str(what))
