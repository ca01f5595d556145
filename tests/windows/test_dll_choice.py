"""Which DismApi.dll the binding loads: System32's by default, never one
planted in the current directory or on PATH, a folder named by
DISMAPI_DISM_DIR or dism_dir=, the newest ADK's with dism_dir="adk", and only
one per process.

The choice is made once per process, so each case runs in a fresh
interpreter (PROBE below) that reports what dism.dism_library() says and, as an
independent witness, every module named DismApi.dll that Windows has loaded
into it.  Choosing a DLL does not call DismInitialize, so most of these cases
need no elevation.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import List, Optional

import pytest

import dism

from support.windows import system32_dismapi_is_standin

# A fresh interpreter runs the steps given as JSON in argv[1] and prints one
# JSON document: the outcome of each step, and the DismApi.dll modules loaded
# after each step and at the end.
PROBE = r'''
import ctypes, json, os, sys
from ctypes import wintypes

import dism


def loaded_dismapi_modules():
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.K32EnumProcessModules.argtypes = [
        wintypes.HANDLE, ctypes.POINTER(wintypes.HMODULE), wintypes.DWORD,
        ctypes.POINTER(wintypes.DWORD)]
    kernel32.K32EnumProcessModules.restype = wintypes.BOOL
    kernel32.GetModuleFileNameW.argtypes = [wintypes.HMODULE, wintypes.LPWSTR, wintypes.DWORD]
    kernel32.GetModuleFileNameW.restype = wintypes.DWORD
    modules = (wintypes.HMODULE * 4096)()
    needed = wintypes.DWORD()
    if not kernel32.K32EnumProcessModules(kernel32.GetCurrentProcess(), modules,
                                          ctypes.sizeof(modules), ctypes.byref(needed)):
        raise ctypes.WinError(ctypes.get_last_error())
    count = min(needed.value // ctypes.sizeof(wintypes.HMODULE), len(modules))
    name = ctypes.create_unicode_buffer(32768)
    found = []
    for module in modules[:count]:
        if module and kernel32.GetModuleFileNameW(module, name, len(name)):
            if os.path.basename(name.value).lower() == "dismapi.dll":
                found.append(name.value)
    return found


def outcome_of(step):
    try:
        if step[0] == "library":
            library = dism.dism_library()
            return {"path": library.path, "version": list(library.version),
                    "source": library.source.value}
        if step[0] == "implicit":
            dism.get_mounted_images()  # starts DISM with the defaults
            return {"called": True}
        dism.initialize(dism_dir=step[1])
        dism.shutdown()
        return {"initialized": True}
    except Exception as error:
        return {"error": type(error).__name__, "message": str(error),
                "library_error": isinstance(error, dism.DismLibraryError)}


outcomes, modules_after = [], []
for step in json.loads(sys.argv[1]):
    outcomes.append(outcome_of(step))
    modules_after.append(loaded_dismapi_modules())
print(json.dumps({"steps": outcomes, "modules_after": modules_after,
                  "modules": modules_after[-1]}))
'''

LIBRARY = ["library"]
IMPLICIT_START = ["implicit"]


def initialize_with(dism_dir: str) -> list:
    return ["initialize", dism_dir]


def _runs_under_wow64() -> bool:
    return struct.calcsize("P") == 4 and "PROCESSOR_ARCHITEW6432" in os.environ


def path_key(path: str) -> str:
    """A path as Windows compares it: without case, either slash.  A 32-bit
    process on 64-bit Windows asks for System32 and gets SysWOW64 (file system
    redirection), and the loader may name the module by either folder."""
    key = os.path.normcase(os.path.abspath(path))
    if _runs_under_wow64():
        windows = os.path.normcase(os.environ["SystemRoot"])
        key = key.replace(os.path.join(windows, "syswow64"), os.path.join(windows, "system32"), 1)
    return key


def same_path(a: str, b: str) -> bool:
    return path_key(a) == path_key(b)


def probe(steps: List[list], *, cwd: Optional[Path] = None, path_front: Optional[Path] = None,
          dism_dir_env: Optional[str] = None) -> dict:
    """Runs PROBE in a fresh interpreter.  DISMAPI_DISM_DIR is cleared unless
    given, so that the caller's environment cannot choose for the test."""
    env = {key: value for key, value in os.environ.items() if key.upper() != "DISMAPI_DISM_DIR"}
    if dism_dir_env is not None:
        env["DISMAPI_DISM_DIR"] = dism_dir_env
    if path_front is not None:
        env["PATH"] = str(path_front) + os.pathsep + env.get("PATH", "")
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(steps)], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"probe failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
    return json.loads(run.stdout.strip().splitlines()[-1])


def assert_system32(outcome: dict, system32_dismapi: str, source: str = "system") -> None:
    assert "error" not in outcome, outcome
    assert same_path(outcome["path"], system32_dismapi), outcome
    assert outcome["source"] == source, outcome


def assert_only_module(report: dict, path: str) -> None:
    assert len(report["modules"]) == 1, report["modules"]
    assert same_path(report["modules"][0], path), report["modules"]


def file_version_by_powershell(path: str) -> tuple:
    """The DLL's file version (VS_FIXEDFILEINFO) as .NET reads it, a route
    independent of the binding.  The path travels in the environment, never
    in the command text."""
    powershell = os.path.join(os.environ["SystemRoot"], "System32", "WindowsPowerShell", "v1.0",
                              "powershell.exe")
    if system32_dismapi_is_standin():
        pytest.skip("reads the version with PowerShell, which Wine does not have "
                    "(the Windows lane); the GitHub Windows runner checks it")
    script = ("$v = (Get-Item -LiteralPath $env:DISM_TEST_DLL).VersionInfo; "
              "'{0}.{1}.{2}.{3}' -f $v.FileMajorPart, $v.FileMinorPart, "
              "$v.FileBuildPart, $v.FilePrivatePart")
    run = subprocess.run([powershell, "-NoProfile", "-NonInteractive", "-Command", script],
                         env={**os.environ, "DISM_TEST_DLL": path}, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return tuple(int(part) for part in run.stdout.strip().split("."))


def plant_bogus_dismapi(folder: Path) -> Path:
    """A real, loadable DLL that is not DISM, named DismApi.dll: what an
    attacker would leave in a download folder."""
    system32 = Path(os.environ["SystemRoot"]) / "System32"
    harmless = next(system32 / name for name in ("msimg32.dll", "version.dll")
                    if (system32 / name).is_file())
    folder.mkdir(parents=True, exist_ok=True)
    planted = folder / "DismApi.dll"
    shutil.copyfile(harmless, planted)
    return planted


def adk_architecture() -> str:
    """The Deployment Tools folder whose binaries fit this interpreter (not
    the OS: a 32-bit Python on 64-bit Windows loads x86 DLLs)."""
    return {"win32": "x86", "win-amd64": "amd64", "win-arm64": "arm64"}[sysconfig.get_platform()]


def installed_adk_dismapi() -> Optional[str]:
    """The newest installed ADK's DismApi.dll for this process's architecture,
    found the way Microsoft's tools find the kits: the KitsRoot* values (10,
    then 8.1, then 8.0) in the 32-bit view of the registry.  The Windows SDK
    sets the same values, so a kit counts only if its DISM folder exists."""
    import winreg

    roots = []
    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE,
                            r"SOFTWARE\Microsoft\Windows Kits\Installed Roots", 0,
                            winreg.KEY_READ | winreg.KEY_WOW64_32KEY) as key:
            for name in ("KitsRoot10", "KitsRoot81", "KitsRoot"):
                try:
                    roots.append(os.path.expandvars(winreg.QueryValueEx(key, name)[0]))
                except OSError:
                    continue
    except OSError:
        return None
    for root in roots:
        candidate = os.path.join(root, "Assessment and Deployment Kit", "Deployment Tools",
                                 adk_architecture(), "DISM", "DismApi.dll")
        if os.path.isfile(candidate):
            return candidate
    return None


# --- the default --------------------------------------------------------------------

def test_the_default_is_the_in_box_dll(system32_dismapi):
    report = probe([LIBRARY])
    (library,) = report["steps"]
    assert_system32(library, system32_dismapi)
    assert_only_module(report, system32_dismapi)


def test_this_process_reports_its_dll_and_the_dll_file_version(system32_dismapi):
    library = dism.dism_library()
    assert isinstance(library, dism.DismLibrary)
    if "DISMAPI_DISM_DIR" not in os.environ:
        assert same_path(library.path, system32_dismapi)
        assert library.source is dism.DismSource.SYSTEM
        assert library.source == "system"  # a str enum
    assert os.path.isabs(library.path) and os.path.isfile(library.path)
    assert len(library.version) == 4 and all(isinstance(part, int) for part in library.version)
    assert library.version == file_version_by_powershell(library.path)
    # DismApi.dll ships in Windows since 8 (6.2.9200).
    assert library.version >= (6, 2, 9200, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        library.path = "elsewhere"  # type: ignore[misc]
    assert dism.dism_library() == library


def test_dlls_planted_in_the_current_directory_and_on_path_are_never_loaded(
        tmp_path, system32_dismapi):
    cwd = tmp_path / "downloads"
    on_path = tmp_path / "tools"
    plant_bogus_dismapi(cwd)
    plant_bogus_dismapi(on_path)
    report = probe([LIBRARY], cwd=cwd, path_front=on_path)
    (library,) = report["steps"]
    assert_system32(library, system32_dismapi)
    assert_only_module(report, system32_dismapi)


# --- a folder of one's choice ---------------------------------------------------------

def test_dismapi_dism_dir_names_the_folder(system32_dismapi):
    folder = os.path.dirname(system32_dismapi)
    report = probe([LIBRARY], dism_dir_env=folder)
    (library,) = report["steps"]
    assert_system32(library, system32_dismapi, source="folder")
    assert_only_module(report, system32_dismapi)


@pytest.mark.parametrize("how", ["environment", "dism_dir"])
@pytest.mark.parametrize("folder_state", ["missing", "without DismApi.dll"])
def test_a_folder_without_the_dll_is_an_error_naming_it(tmp_path, how, folder_state):
    folder = tmp_path / "no DISM here"
    if folder_state != "missing":
        folder.mkdir()
        (folder / "readme.txt").write_text("not a DISM folder")
    if how == "environment":
        report = probe([LIBRARY], dism_dir_env=str(folder))
    else:
        report = probe([initialize_with(str(folder))])
    (outcome,) = report["steps"]
    assert outcome.get("library_error") is True, outcome
    assert os.path.normcase(str(folder)) in os.path.normcase(outcome["message"]), outcome
    # No quiet fallback to another DismApi.dll.
    assert report["modules"] == []


# --- the ADK --------------------------------------------------------------------------

def test_adk_loads_the_kits_dll_or_says_there_is_none(elevated):
    expected = installed_adk_dismapi()
    report = probe([initialize_with("adk"), LIBRARY])
    initialized, library = report["steps"]
    if expected is None:
        assert initialized.get("library_error") is True, initialized
        assert report["modules_after"][0] == [], "no ADK, yet a DismApi.dll was loaded"
        return
    # The DLL is chosen before DismInitialize, which needs elevation.
    if elevated:
        assert initialized == {"initialized": True}, initialized
    else:
        assert initialized.get("error") == "ElevationRequiredError", initialized
    assert library.get("source") == "adk", library
    assert "deployment tools" in library["path"].lower(), library
    assert os.path.isfile(library["path"])
    assert_only_module(report, library["path"])


# --- one DLL per process --------------------------------------------------------------

def test_another_dll_after_the_first_is_refused(tmp_path, system32_dismapi):
    # A folder that would be a valid choice on its own, so that only the
    # one-DLL rule can refuse it.
    other = tmp_path / "other DISM"
    other.mkdir()
    shutil.copyfile(system32_dismapi, other / "DismApi.dll")
    report = probe([LIBRARY, initialize_with(str(other)), LIBRARY])
    first, switch, after = report["steps"]
    assert_system32(first, system32_dismapi)
    assert switch.get("library_error") is True, switch
    assert after == first
    assert_only_module(report, system32_dismapi)


def test_the_chosen_dll_serves_later_implicit_starts(require_elevation, system32_dismapi):
    # initialize(dism_dir=...), shutdown(), then a call that starts DISM by
    # itself: that restart keeps the DLL chosen, it does not ask for another.
    folder = os.path.dirname(system32_dismapi)
    report = probe([initialize_with(folder), IMPLICIT_START, LIBRARY])
    initialized, implicit, library = report["steps"]
    assert initialized == {"initialized": True}, initialized
    assert implicit == {"called": True}, implicit
    assert_system32(library, system32_dismapi, source="folder")
    assert_only_module(report, system32_dismapi)
