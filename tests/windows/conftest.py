"""The Windows check: tests against the real DismApi.dll of the machine.

Everything in this directory carries the `windows` marker and is skipped on
any other system, where the portable engine serves the API and the rest of the
suite tests it.  The DISM API refuses non-elevated callers, so the tests that
call it need an elevated process (GitHub's Windows runners are); in CI a
missing elevation is a failure, not a skip, so a misconfigured runner cannot
turn the check green.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import dism

from support import in_ci
from support.windows import (discard, mounts_below, process_is_elevated,
                             system32_dismapi_is_standin)

IS_WINDOWS = sys.platform == "win32"
HERE = Path(__file__).resolve().parent
NOT_WINDOWS_REASON = ("needs Windows and its DismApi.dll; "
                      "the portable engine is covered by the rest of the suite")
# The Windows lane (scripts/test-windows.sh) runs this directory under Wine
# with the stand-in DismApi.dll in System32.  What needs Microsoft's DISM
# (dism.exe, real images, real mounts, a filtered token) runs on the GitHub
# Windows runner only; what needs the stand-in's variants, under Wine only.
REAL_DISM_ONLY = {"test_real_dism.py", "test_real_wimgapi.py"}
STANDIN_ONLY = {"test_standin_bindings.py", "test_standin_cli_exit_codes.py",
                "test_standin_cli_lines.py", "test_standin_loader.py", "test_standin_public_api.py",
                "test_standin_wimgapi.py"}
STANDIN_REASON = ("needs Microsoft's DismApi.dll, dism.exe and real images: System32 holds "
                  "the stand-in of the Windows lane (Wine); the GitHub Windows runner runs it")
NO_STANDIN_REASON = ("needs the stand-in DismApi.dll in System32 and its variants: "
                     "scripts/test-windows.sh runs it under Wine")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "windows: runs against the real DismApi.dll (tests/windows; "
                   "skipped on other systems)")


def pytest_collection_modifyitems(config, items):
    # Called with the whole session's items: only this directory's are touched.
    standin = IS_WINDOWS and system32_dismapi_is_standin()
    for item in items:
        if Path(item.path).resolve().parent != HERE:
            continue
        item.add_marker(pytest.mark.windows)
        if not IS_WINDOWS:
            item.add_marker(pytest.mark.skip(reason=NOT_WINDOWS_REASON))
        elif standin and Path(item.path).name in REAL_DISM_ONLY:
            item.add_marker(pytest.mark.skip(reason=STANDIN_REASON))
        elif not standin and Path(item.path).name in STANDIN_ONLY:
            item.add_marker(pytest.mark.skip(reason=NO_STANDIN_REASON))


@pytest.fixture(scope="session")
def elevated() -> bool:
    return process_is_elevated()


@pytest.fixture(scope="session")
def require_elevation(elevated):
    """For tests that call DISM in this process."""
    if elevated:
        return
    reason = "the DISM API needs an elevated process (run from an elevated prompt)"
    if in_ci():
        pytest.fail(f"the Windows check must run elevated in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def system32_dismapi() -> str:
    """The in-box DismApi.dll, as the default choice must find it."""
    path = os.path.join(os.environ["SystemRoot"], "System32", "DismApi.dll")
    assert os.path.isfile(path), f"this Windows has no in-box DismApi.dll at {path}"
    return path


@pytest.fixture(autouse=True)
def no_leftover_mounts(tmp_path):
    """Replaces the suite's fixture of this name, which reads Linux's
    /proc/self/mountinfo.  Here a mount is what DismGetMountedImageInfo lists:
    whatever a test leaves mounted below its tmp_path is discarded, stale
    mount points are cleaned up, and then the test fails, so that one broken
    test never leaves an image mounted on the runner."""
    yield
    # Only a process that started DISM can have mounted anything, and asking
    # DISM in a process that never did would start it (and need elevation).
    if not (IS_WINDOWS and dism.is_initialized()):
        return
    leftovers = mounts_below(tmp_path)
    for mount_path in leftovers:
        discard(mount_path)
    if leftovers:
        dism.cleanup_mountpoints()
    assert not leftovers, f"test left images mounted: {leftovers}"
    assert not mounts_below(tmp_path), "mounts survived unmount and DismCleanupMountpoints"


@pytest.fixture(scope="session")
def standins() -> Path:
    """The folder of the stand-in's variants, one subfolder each
    (tests/support/windows_build.py build_standins), as the lane passes it."""
    folder = os.environ.get("DISMAPI_TEST_STANDINS")
    if not folder:
        pytest.fail("DISMAPI_TEST_STANDINS is not set: run scripts/test-windows.sh")
    return Path(folder)
