"""The binding against the real DISM of the machine it runs on: the running
system's features and packages (checked against what dism.exe lists), a WIM
captured by dism.exe during the test (image info, read-only and read-write
mounts, commit, discard, the mount list, progress and cancellation), and the
error a non-elevated process gets.

Every mount lives below the test's tmp_path; the directory's conftest
discards whatever a failing test leaves mounted and runs
DismCleanupMountpoints, so the runner is never left with a mounted image.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

import pytest

import dism
from support.windows import run_in_own_console

State = dism.PackageFeatureState

# What dism.exe /English prints for the states DISM's API reports as numbers.
FEATURE_STATE_TEXT = {"Enabled": State.INSTALLED, "Disabled": State.STAGED,
                      "Disabled with Payload Removed": State.REMOVED,
                      "Enable Pending": State.INSTALL_PENDING,
                      "Disable Pending": State.UNINSTALL_PENDING}
PACKAGE_STATE_TEXT = {"Installed": State.INSTALLED, "Staged": State.STAGED,
                      "Superseded": State.SUPERSEDED}
# name~public key token~architecture~language~version
PACKAGE_NAME = re.compile(r"^[^~]+~[0-9a-f]{16}~[^~]*~[^~]*~[0-9][0-9.]*$", re.IGNORECASE)
HRESULT_ELEVATION_REQUIRED = 0x800702E4

CAPTURED_FILES = {
    "hello.txt": b"hello from the Windows check\r\n",
    "sub/data.bin": random.Random(20240229).randbytes(64 * 1024),
    "sub/nested/empty.txt": b"",
}


# --- helpers -------------------------------------------------------------------------

def dism_exe() -> str:
    """System32's DISM.exe by full path, so that nothing on PATH can stand in."""
    path = os.path.join(os.environ["SystemRoot"], "System32", "Dism.exe")
    assert os.path.isfile(path), f"no DISM.exe at {path}"
    return path


def run_dism_exe(*arguments: str) -> str:
    run = subprocess.run([dism_exe(), "/English", *arguments], capture_output=True, text=True,
                         errors="replace", timeout=900)
    assert run.returncode == 0, f"DISM.exe {' '.join(arguments)} -> {run.returncode}\n" \
                                f"{run.stdout}\n{run.stderr}"
    return run.stdout


def dism_exe_listing(output: str, first_key: str) -> List[Dict[str, str]]:
    """The "Key : Value" blocks of DISM.exe's list format; a block starts at
    each `first_key` line."""
    records: List[Dict[str, str]] = []
    for line in output.splitlines():
        key, separator, value = line.partition(" : ")
        if not separator:
            continue
        key, value = key.strip(), value.strip()
        if key == first_key:
            records.append({})
        if records:
            records[-1][key] = value
    return records


def online_listings(verb: str, first_key: str, get: Callable[[dism.Session], list]
                    ) -> Tuple[list, List[Dict[str, str]]]:
    """What the API (`get` in an online session) and DISM.exe (`verb`) list
    for the running system, both non-empty.  DISM.exe runs before the session
    is opened, so that two DISM clients never service it at the same time."""
    listed = dism_exe_listing(run_dism_exe("/Online", verb), first_key)
    with dism.Session.online() as session:
        records = get(session)
    assert records and listed
    return records, listed


def assert_dism_exe_lists_the_same(names: Set[str], listed: List[Dict[str, str]],
                                   key: str) -> None:
    """The names from the API are the values of `key` in DISM.exe's listing."""
    expected = {record[key] for record in listed}
    assert names == expected, (f"only from the API: {sorted(names - expected)[:20]}; "
                               f"only from DISM.exe: {sorted(expected - names)[:20]}")


def same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def mount_info(mount_dir: Path) -> Optional[dism.MountedImageInfo]:
    for info in dism.get_mounted_images():
        if same_path(info.mount_path, str(mount_dir)):
            return info
    return None


def read_tree(root: Path) -> Dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def discard_and_clean(mount_dir: Path) -> None:
    """Whatever state DISM left the mount in, it is gone afterwards."""
    try:
        dism.unmount(mount_dir, commit=False)
    except dism.DismError:
        dism.cleanup_mountpoints()


# --- the running system --------------------------------------------------------------

def test_online_features_are_the_ones_dism_exe_lists(require_elevation):
    features, listed = online_listings("/Get-Features", "Feature Name",
                                       lambda session: session.get_features())
    names = {feature.name for feature in features}
    assert len(names) == len(features), "a feature is listed twice"
    assert_dism_exe_lists_the_same(names, listed, "Feature Name")
    assert names & {"NetFx3", "TelnetClient"}, sorted(names)[:50]
    # The state field sits after a pointer in a packed struct: comparing it
    # with DISM.exe's text checks the layout, not just the names.
    states = {feature.name: feature.state for feature in features}
    assert all(isinstance(state, State) for state in states.values()), states
    for record in listed:
        text = record.get("State")
        if text in FEATURE_STATE_TEXT:
            assert states[record["Feature Name"]] == FEATURE_STATE_TEXT[text], record


def test_online_feature_info_agrees_with_the_listing(require_elevation):
    with dism.Session.online() as session:
        features = {feature.name: feature for feature in session.get_features()}
        name = "NetFx3" if "NetFx3" in features else sorted(features)[0]
        info = session.get_feature_info(name)
    assert info.name.lower() == name.lower()
    assert info.state == features[name].state
    assert info.display_name and info.description
    assert isinstance(info.restart_required, dism.RestartType)


def test_online_packages_are_the_ones_dism_exe_lists(require_elevation):
    packages, listed = online_listings("/Get-Packages", "Package Identity",
                                       lambda session: session.get_packages())
    names = {package.name for package in packages}
    assert_dism_exe_lists_the_same(names, listed, "Package Identity")
    malformed = [name for name in names if not PACKAGE_NAME.match(name)]
    assert not malformed, malformed
    # Every serviced (monthly-updated) Windows carries its cumulative update
    # and servicing stack as Package_for_* packages.
    assert any(name.startswith("Package_for_") for name in names), sorted(names)
    states = {package.name: package.state for package in packages}
    for record in listed:
        text = record.get("State")
        if text in PACKAGE_STATE_TEXT:
            assert states[record["Package Identity"]] == PACKAGE_STATE_TEXT[text], record
    # SYSTEMTIME decoding: install times are real dates, none in the future.
    times = [package.install_time for package in packages if package.install_time is not None]
    assert times, "no package has an install time"
    tomorrow = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    for when in times:
        aware = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
        assert dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) < aware < tomorrow, when


# --- a WIM captured by DISM.exe --------------------------------------------------------

@pytest.fixture(scope="module")
def captured_wim(require_elevation, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("capture")
    tree = root / "tree"
    for relative, content in CAPTURED_FILES.items():
        path = tree / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    wim = root / "test.wim"
    run_dism_exe("/Capture-Image", f"/ImageFile:{wim}", f"/CaptureDir:{tree}", "/Name:test",
                 "/Compress:fast")
    assert wim.is_file()
    return wim


@pytest.fixture
def wim(captured_wim, tmp_path) -> Path:
    """A private copy: the tests that commit change their WIM."""
    path = tmp_path / "test.wim"
    shutil.copyfile(captured_wim, path)
    return path


def test_image_info_of_the_captured_wim(wim):
    (image,) = dism.get_image_info(wim)
    assert image.index == 1
    assert image.name == "test"
    assert image.image_type is dism.ImageType.WIM
    assert image.size >= sum(len(content) for content in CAPTURED_FILES.values())
    assert image.file_count == len(CAPTURED_FILES)
    assert image.directory_count in (2, 3)  # sub, sub\nested, and perhaps the root
    now = dt.datetime.now(dt.timezone.utc)
    assert image.created is not None and abs(now - image.created) < dt.timedelta(hours=2)


def test_a_read_only_mount_shows_the_files_and_refuses_writes(wim, mount_dir):
    before = sha256(wim)
    mounted = dism.mount(wim, mount_dir, index=1, read_only=True)
    assert read_tree(mount_dir) == CAPTURED_FILES

    info = mount_info(mount_dir)
    assert info is not None, dism.get_mounted_images()
    assert info.read_only and info.index == 1
    assert info.status is dism.MountStatus.OK
    assert same_path(info.image_path, str(wim))

    hello = mount_dir / "hello.txt"
    with pytest.raises(OSError):
        with open(hello, "ab") as f:
            f.write(b"a change a read-only mount must refuse")
    assert hello.read_bytes() == CAPTURED_FILES["hello.txt"]

    mounted.unmount(commit=False)
    assert mount_info(mount_dir) is None
    assert list(mount_dir.iterdir()) == []
    assert sha256(wim) == before


def change_the_image(mount_dir: Path) -> Dict[str, bytes]:
    """Modifies, adds and deletes a file; returns the tree as it is now."""
    (mount_dir / "hello.txt").write_bytes(b"changed by the test\r\n")
    (mount_dir / "sub" / "added.txt").write_bytes(b"added by the test\r\n")
    (mount_dir / "sub" / "nested" / "empty.txt").unlink()
    return {"hello.txt": b"changed by the test\r\n",
            "sub/data.bin": CAPTURED_FILES["sub/data.bin"],
            "sub/added.txt": b"added by the test\r\n"}


def tree_in_the_wim(wim: Path, mount_dir: Path) -> Dict[str, bytes]:
    with dism.mount(wim, mount_dir, index=1, read_only=True):
        return read_tree(mount_dir)


# Changes are saved through DismUnmountImage with DISM_COMMIT_IMAGE.
# DismCommitImage (MountedImage.commit) would need a servicing session on the
# mount, which DISM is not expected to open on an image without Windows in it.

def test_a_read_write_mount_commits_on_unmount(wim, mount_dir):
    mounted = dism.mount(wim, mount_dir, index=1)
    info = mount_info(mount_dir)
    assert info is not None and not info.read_only and info.index == 1
    assert info.status is dism.MountStatus.OK
    expected = change_the_image(mount_dir)
    mounted.unmount(commit=True)
    assert mount_info(mount_dir) is None
    assert list(mount_dir.iterdir()) == []

    assert tree_in_the_wim(wim, mount_dir) == expected
    assert mount_info(mount_dir) is None
    assert [image.name for image in dism.get_image_info(wim)] == ["test"]


def test_discarding_a_read_write_mount_drops_the_changes(wim, mount_dir):
    mounted = dism.mount(wim, mount_dir, index=1)
    change_the_image(mount_dir)
    mounted.unmount(commit=False)
    assert mount_info(mount_dir) is None
    assert tree_in_the_wim(wim, mount_dir) == CAPTURED_FILES


def test_an_exception_in_the_with_block_discards(wim, mount_dir):
    with pytest.raises(RuntimeError, match="stop here"):
        with dism.mount(wim, mount_dir, index=1):
            change_the_image(mount_dir)
            raise RuntimeError("stop here")
    assert mount_info(mount_dir) is None
    assert tree_in_the_wim(wim, mount_dir) == CAPTURED_FILES


def test_mount_progress_reaches_the_callback_in_order(wim, mount_dir):
    calls = []
    mounted = dism.mount(wim, mount_dir, index=1, read_only=True,
                         progress=lambda current, total: calls.append((current, total)))
    mounted.unmount(commit=False)
    assert calls, "DismMountImage reported no progress"
    assert all(total > 0 for _, total in calls), calls
    # Totals may change between phases; within one phase progress only grows.
    for (current, total), (next_current, next_total) in zip(calls, calls[1:]):
        if total == next_total:
            assert next_current >= current, calls


def test_a_cancel_token_set_beforehand_cancels_the_mount(wim, mount_dir):
    token = dism.CancelToken()
    token.cancel()
    with pytest.raises(dism.CancelledError):
        dism.mount(wim, mount_dir, index=1, read_only=True, cancel=token)
    assert list(mount_dir.iterdir()) == []
    assert mount_info(mount_dir) is None


class StopMounting(Exception):
    pass


def test_an_exception_in_the_progress_callback_comes_out_of_mount(wim, mount_dir):
    def progress(current, total):
        raise StopMounting(current, total)

    with pytest.raises(StopMounting) as raised:
        dism.mount(wim, mount_dir, index=1, read_only=True, progress=progress)
    # DISM may be past the point where a mount can be cancelled; then it
    # finishes, and the exception says so.
    info = mount_info(mount_dir)
    finished = info is not None and info.status is dism.MountStatus.OK
    notes = getattr(raised.value, "__notes__", [])
    try:
        assert finished == any("completed successfully" in note for note in notes), (info, notes)
    finally:
        if info is not None:
            discard_and_clean(mount_dir)


CONSOLE_CTRL_C_MOUNT = r'''
import ctypes, json, sys, traceback
result = {}
try:
    import dism
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

    def progress(current, total):
        if "sent" not in result:
            # What a Ctrl+C typed into this console sends: CTRL_C_EVENT to
            # process group 0, every process on the console (only this one).
            result["sent"] = bool(kernel32.GenerateConsoleCtrlEvent(0, 0))

    try:
        dism.mount(sys.argv[2], sys.argv[3], index=1, read_only=True, progress=progress)
        result["raised"] = None
    except KeyboardInterrupt as error:
        result.update(raised="KeyboardInterrupt", completed=getattr(error, "completed", None))
except BaseException:
    result["crash"] = traceback.format_exc()
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(result, out)
'''


def test_a_console_ctrl_c_during_a_mount_cancels_it_or_says_it_finished(wim, mount_dir, tmp_path):
    # A real console control event, in a child with a console of its own.
    work = tmp_path / "console"
    work.mkdir()
    try:
        result = run_in_own_console(CONSOLE_CTRL_C_MOUNT, work, str(wim), str(mount_dir))
        assert result["sent"] is True, result
        assert result["raised"] == "KeyboardInterrupt", result
        # DISM may be past the point where a mount can be cancelled; then the
        # mount stands and .completed says so.
        info = mount_info(mount_dir)
        finished = info is not None and info.status is dism.MountStatus.OK
        assert result["completed"] is finished, (result, info)
    finally:
        if mount_info(mount_dir) is not None:
            discard_and_clean(mount_dir)


# --- a process without elevation ------------------------------------------------------

ELEVATION_PROBE = r'''
import json, sys, traceback
result = {}
try:
    import ctypes
    result["admin"] = bool(ctypes.windll.shell32.IsUserAnAdmin())
    import dism
    try:
        dism.get_mounted_images()
        result["raised"] = None
    except dism.DismError as error:
        result.update(raised=type(error).__name__, hresult=error.hresult, message=str(error),
                      elevation_error=isinstance(error, dism.ElevationRequiredError))
except BaseException:
    result["crash"] = traceback.format_exc()
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(result, out)
'''


def run_with_filtered_token(argv: List[str], cwd: Path, timeout_ms: int = 300_000) -> int:
    """Runs argv as UAC's filtered token would: this process's own token with
    the Administrators group made deny-only, privileges stripped and medium
    integrity.  A restricted copy of the caller's own token needs no special
    privilege for CreateProcessAsUserW.  Returns the exit code."""
    import ctypes
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

    class SidAndAttributes(ctypes.Structure):
        _fields_ = [("Sid", ctypes.c_void_p), ("Attributes", wintypes.DWORD)]

    class StartupInfo(ctypes.Structure):
        _fields_ = [("cb", wintypes.DWORD), ("lpReserved", wintypes.LPWSTR),
                    ("lpDesktop", wintypes.LPWSTR), ("lpTitle", wintypes.LPWSTR),
                    ("dwX", wintypes.DWORD), ("dwY", wintypes.DWORD),
                    ("dwXSize", wintypes.DWORD), ("dwYSize", wintypes.DWORD),
                    ("dwXCountChars", wintypes.DWORD), ("dwYCountChars", wintypes.DWORD),
                    ("dwFillAttribute", wintypes.DWORD), ("dwFlags", wintypes.DWORD),
                    ("wShowWindow", wintypes.WORD), ("cbReserved2", wintypes.WORD),
                    ("lpReserved2", ctypes.c_void_p), ("hStdInput", wintypes.HANDLE),
                    ("hStdOutput", wintypes.HANDLE), ("hStdError", wintypes.HANDLE)]

    class ProcessInformation(ctypes.Structure):
        _fields_ = [("hProcess", wintypes.HANDLE), ("hThread", wintypes.HANDLE),
                    ("dwProcessId", wintypes.DWORD), ("dwThreadId", wintypes.DWORD)]

    handle_out = ctypes.POINTER(wintypes.HANDLE)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    kernel32.LocalFree.argtypes = [ctypes.c_void_p]
    kernel32.LocalFree.restype = ctypes.c_void_p
    kernel32.WaitForSingleObject.argtypes = [wintypes.HANDLE, wintypes.DWORD]
    kernel32.WaitForSingleObject.restype = wintypes.DWORD
    kernel32.GetExitCodeProcess.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
    kernel32.TerminateProcess.argtypes = [wintypes.HANDLE, wintypes.UINT]
    advapi32.OpenProcessToken.argtypes = [wintypes.HANDLE, wintypes.DWORD, handle_out]
    advapi32.ConvertStringSidToSidW.argtypes = [wintypes.LPCWSTR, ctypes.POINTER(ctypes.c_void_p)]
    advapi32.GetLengthSid.argtypes = [ctypes.c_void_p]
    advapi32.GetLengthSid.restype = wintypes.DWORD
    advapi32.CreateRestrictedToken.argtypes = [
        wintypes.HANDLE, wintypes.DWORD, wintypes.DWORD, ctypes.POINTER(SidAndAttributes),
        wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD, ctypes.c_void_p, handle_out]
    advapi32.SetTokenInformation.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p,
                                             wintypes.DWORD]
    advapi32.CreateProcessAsUserW.argtypes = [
        wintypes.HANDLE, wintypes.LPCWSTR, wintypes.LPWSTR, ctypes.c_void_p, ctypes.c_void_p,
        wintypes.BOOL, wintypes.DWORD, ctypes.c_void_p, wintypes.LPCWSTR,
        ctypes.POINTER(StartupInfo), ctypes.POINTER(ProcessInformation)]
    for function in (kernel32.CloseHandle, kernel32.GetExitCodeProcess, kernel32.TerminateProcess,
                     advapi32.OpenProcessToken, advapi32.ConvertStringSidToSidW,
                     advapi32.CreateRestrictedToken, advapi32.SetTokenInformation,
                     advapi32.CreateProcessAsUserW):
        function.restype = wintypes.BOOL

    def check(ok) -> None:
        if not ok:
            raise ctypes.WinError(ctypes.get_last_error())

    def sid(text: str) -> ctypes.c_void_p:
        pointer = ctypes.c_void_p()
        check(advapi32.ConvertStringSidToSidW(text, ctypes.byref(pointer)))
        return pointer

    token_assign_primary, token_duplicate, token_query = 0x0001, 0x0002, 0x0008
    token_adjust_default = 0x0080
    disable_max_privilege, lua_token = 0x1, 0x4
    token_integrity_level, se_group_integrity = 25, 0x20
    create_no_window, wait_object_0, wait_timeout = 0x08000000, 0x00000000, 0x00000102

    own, filtered = wintypes.HANDLE(), wintypes.HANDLE()
    administrators = sid("S-1-5-32-544")
    medium = sid("S-1-16-8192")
    info = ProcessInformation()
    try:
        check(advapi32.OpenProcessToken(
            kernel32.GetCurrentProcess(),
            token_assign_primary | token_duplicate | token_query | token_adjust_default,
            ctypes.byref(own)))
        deny = SidAndAttributes(administrators, 0)
        check(advapi32.CreateRestrictedToken(own, disable_max_privilege | lua_token, 1,
                                             ctypes.byref(deny), 0, None, 0, None,
                                             ctypes.byref(filtered)))
        label = SidAndAttributes(medium, se_group_integrity)  # TOKEN_MANDATORY_LABEL
        check(advapi32.SetTokenInformation(filtered, token_integrity_level, ctypes.byref(label),
                                           ctypes.sizeof(label) + advapi32.GetLengthSid(medium)))
        startup = StartupInfo()
        startup.cb = ctypes.sizeof(startup)
        command_line = ctypes.create_unicode_buffer(subprocess.list2cmdline(argv))
        check(advapi32.CreateProcessAsUserW(filtered, argv[0], command_line, None, None, False,
                                            create_no_window, None, str(cwd),
                                            ctypes.byref(startup), ctypes.byref(info)))
        waited = kernel32.WaitForSingleObject(info.hProcess, timeout_ms)
        if waited == wait_timeout:
            kernel32.TerminateProcess(info.hProcess, 1)
            raise AssertionError(f"{argv[:2]} did not finish in {timeout_ms} ms")
        check(waited == wait_object_0)
        code = wintypes.DWORD()
        check(kernel32.GetExitCodeProcess(info.hProcess, ctypes.byref(code)))
        return code.value
    finally:
        for handle in (info.hThread, info.hProcess, filtered, own):
            if handle:
                kernel32.CloseHandle(handle)
        kernel32.LocalFree(administrators)
        kernel32.LocalFree(medium)


def folder_a_medium_integrity_process_may_write(folder: Path) -> Path:
    """A folder made by an elevated process may carry a High integrity label,
    which a medium-integrity process cannot write below."""
    folder.mkdir()
    icacls = os.path.join(os.environ["SystemRoot"], "System32", "icacls.exe")
    run = subprocess.run([icacls, str(folder), "/setintegritylevel", "M"], capture_output=True,
                         text=True, errors="replace", timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return folder


def test_a_process_without_elevation_is_told_to_elevate(elevated, tmp_path):
    if elevated:
        work = folder_a_medium_integrity_process_may_write(tmp_path / "unelevated")
        result_file = work / "result.json"
        argv = [sys.executable, "-c", ELEVATION_PROBE, str(result_file)]
        code = run_with_filtered_token(argv, work)
    else:
        result_file = tmp_path / "result.json"
        argv = [sys.executable, "-c", ELEVATION_PROBE, str(result_file)]
        code = subprocess.run(argv, cwd=tmp_path, timeout=300).returncode
    assert result_file.is_file(), f"the probe wrote no result (exit code {code})"
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert "crash" not in result, result["crash"]
    assert result["admin"] is False, "the probe still ran as an administrator"
    assert result["raised"] == "ElevationRequiredError" and result["elevation_error"], result
    assert result["hresult"] == HRESULT_ELEVATION_REQUIRED, result
    assert "elevated" in result["message"].lower(), result
    assert code == 0
