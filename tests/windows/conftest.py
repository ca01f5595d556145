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
from typing import List

import pytest

import dism

IS_WINDOWS = sys.platform == "win32"
HERE = Path(__file__).resolve().parent
NOT_WINDOWS_REASON = ("needs Windows and its DismApi.dll; "
                      "the portable engine is covered by the rest of the suite")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "windows: runs against the real DismApi.dll (tests/windows; "
                   "skipped on other systems)")


def _is_in_this_directory(item) -> bool:
    return HERE == Path(item.path).resolve().parent


def pytest_collection_modifyitems(config, items):
    # Called with the whole session's items: only this directory's are touched.
    for item in items:
        if not _is_in_this_directory(item):
            continue
        item.add_marker(pytest.mark.windows)
        if not IS_WINDOWS:
            item.add_marker(pytest.mark.skip(reason=NOT_WINDOWS_REASON))


def process_is_elevated() -> bool:
    """Whether this process runs with a full (elevated) administrator token,
    as GetTokenInformation(TokenElevation) reports it."""
    import ctypes
    from ctypes import wintypes

    token_query = 0x0008
    token_elevation_class = 20
    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    advapi32.OpenProcessToken.argtypes = [wintypes.HANDLE, wintypes.DWORD,
                                          ctypes.POINTER(wintypes.HANDLE)]
    advapi32.OpenProcessToken.restype = wintypes.BOOL
    advapi32.GetTokenInformation.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p,
                                             wintypes.DWORD, ctypes.POINTER(wintypes.DWORD)]
    advapi32.GetTokenInformation.restype = wintypes.BOOL

    token = wintypes.HANDLE()
    if not advapi32.OpenProcessToken(kernel32.GetCurrentProcess(), token_query,
                                     ctypes.byref(token)):
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        elevated = wintypes.DWORD()
        size = wintypes.DWORD()
        if not advapi32.GetTokenInformation(token, token_elevation_class, ctypes.byref(elevated),
                                            ctypes.sizeof(elevated), ctypes.byref(size)):
            raise ctypes.WinError(ctypes.get_last_error())
        return bool(elevated.value)
    finally:
        kernel32.CloseHandle(token)


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


def _is_below(path: str, root: Path) -> bool:
    top = os.path.normcase(os.path.realpath(root)) + os.sep
    return os.path.normcase(os.path.realpath(path)).startswith(top)


def _discard(mount_path: str) -> None:
    """DismUnmountImage with discard; a mount DISM cannot unmount any more
    (server gone, image moved) is left to DismCleanupMountpoints."""
    try:
        dism.unmount(mount_path, commit=False)
    except dism.DismError:
        pass


def _mounts_below(root: Path) -> List[str]:
    return [info.mount_path for info in dism.get_mounted_images()
            if _is_below(info.mount_path, root)]


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
    leftovers = _mounts_below(tmp_path)
    for mount_path in leftovers:
        _discard(mount_path)
    if leftovers:
        dism.cleanup_mountpoints()
    assert not leftovers, f"test left images mounted: {leftovers}"
    assert not _mounts_below(tmp_path), "mounts survived unmount and DismCleanupMountpoints"
