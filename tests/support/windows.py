"""The Windows check's helpers (tests/windows): whether this process is
elevated, the DISM mounts below a directory, as DismGetMountedImageInfo
lists them (there is no /proc/self/mountinfo to read on Windows), and
whether the System32 DismApi.dll is the Windows lane's stand-in
(tests/windows/standin, under Wine) rather than Microsoft's."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import dism


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


def is_below(path: str, root: Path) -> bool:
    top = os.path.normcase(os.path.realpath(root)) + os.sep
    return os.path.normcase(os.path.realpath(path)).startswith(top)


def discard(mount_path: str) -> None:
    """DismUnmountImage with discard; a mount DISM cannot unmount any more
    (server gone, image moved) is left to DismCleanupMountpoints."""
    try:
        dism.unmount(mount_path, commit=False)
    except dism.DismError:
        pass


def mounts_below(root: Path) -> List[str]:
    return [info.mount_path for info in dism.get_mounted_images()
            if is_below(info.mount_path, root)]


# Every build of the stand-in exports this (tests/windows/standin/core.c);
# no Microsoft DLL does.
STANDIN_MARK = b"StandinOutstanding\0"


def system32_dismapi_path() -> Path:
    return Path(os.environ.get("SystemRoot", r"C:\Windows")) / "System32" / "DismApi.dll"


def system32_dismapi_is_standin() -> bool:
    """Whether System32's DismApi.dll is the stand-in, read from the file's
    export names without loading it (loading would choose it)."""
    try:
        return STANDIN_MARK in system32_dismapi_path().read_bytes()
    except OSError:
        return False


# CreateProcess flag: the child gets a console of its own, so that the
# CTRL_C_EVENT it sends to process group 0 (every process on its console)
# reaches it alone, as a Ctrl+C typed into a console window does.
CREATE_NEW_CONSOLE = 0x00000010


def run_in_own_console(script: str, work: Path, *args: str, timeout: float = 300) -> dict:
    """Runs `script` in a child Python with a console of its own, with the
    arguments (result file, *args), and returns the JSON object the script
    wrote to that result file."""
    import json

    result_file = work / "result.json"
    code = subprocess.run([sys.executable, "-c", script, str(result_file), *args], cwd=work,
                          stdin=subprocess.DEVNULL, creationflags=CREATE_NEW_CONSOLE,
                          timeout=timeout).returncode
    assert result_file.is_file(), f"the child wrote no result (exit code {code})"
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert "crash" not in result, result["crash"]
    assert code == 0, (code, result)
    return result


# The kernel32 functions the probes that run in a child Python (tests/windows'
# loader cases) ask which DLLs that child loaded; a probe puts this text
# after its imports of ctypes and ctypes.wintypes.
KERNEL32_PROBE_SETUP = r'''
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
kernel32.GetModuleHandleW.restype = wintypes.HMODULE
kernel32.GetModuleHandleW.argtypes = [wintypes.LPCWSTR]
kernel32.FreeLibrary.argtypes = [wintypes.HMODULE]
kernel32.GetProcAddress.restype = ctypes.c_void_p
kernel32.GetProcAddress.argtypes = [wintypes.HMODULE, ctypes.c_char_p]
kernel32.GetModuleFileNameW.argtypes = [wintypes.HMODULE, wintypes.LPWSTR, wintypes.DWORD]
kernel32.GetCurrentProcess.restype = wintypes.HANDLE
kernel32.K32EnumProcessModules.argtypes = [
    wintypes.HANDLE, ctypes.POINTER(wintypes.HMODULE), wintypes.DWORD,
    ctypes.POINTER(wintypes.DWORD)]
'''


def run_python(script: str, *args: str, cwd: Optional[Path] = None,
               env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Runs `script` in a child Python with `args` and returns its exit code
    and output (see run_python_with)."""
    return run_python_with(["-c", script, *args], cwd=cwd, env=env)


def run_python_with(arguments: List[str], cwd: Optional[Path] = None,
                    env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Runs a child Python with these command-line arguments (`-m dism ...`)
    and returns its exit code, as GetExitCodeProcess gives it (a DWORD), and
    its output. The output goes through files, not pipes: a crashing child
    may hand its handles to a process Wine starts for the crash (its
    desktop), and a pipe would then never reach end-of-file."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        code = subprocess.run([sys.executable, *arguments], cwd=cwd, env=env,
                              stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                              timeout=300).returncode
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            [], code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))
