"""The DLL loader of src/windows/library.c under Wine, against the stand-in's
variants (tests/windows/standin; skipped where System32 holds Microsoft's
DLL): the delay-load helper gets a reference of its own, a missing System32
copy never lets a planted DismApi.dll in, a chosen folder's dependencies come
from that folder only, relative folders are refused, and a DLL without a
version resource is a DismLibraryError.

Each case runs in a fresh interpreter (PROBE), since the choice of DLL holds
for the life of a process; the probe names every DismApi.dll and
standin_dep.dll loaded into it, and which build each one is.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

import pytest

from support.windows import KERNEL32_PROBE_SETUP, run_python, system32_dismapi_path

PROBE = r'''
import ctypes, json, os, sys
from ctypes import wintypes

import dism
from dism import _dism

''' + KERNEL32_PROBE_SETUP + r'''

def identity(module, export):
    address = kernel32.GetProcAddress(module, export)
    return ctypes.WINFUNCTYPE(ctypes.c_wchar_p)(address)() if address else None


def loaded():
    modules = (wintypes.HMODULE * 4096)()
    needed = wintypes.DWORD()
    kernel32.K32EnumProcessModules(kernel32.GetCurrentProcess(), modules,
                                   ctypes.sizeof(modules), ctypes.byref(needed))
    name = ctypes.create_unicode_buffer(32768)
    found = []
    for module in modules[:needed.value // ctypes.sizeof(wintypes.HMODULE)]:
        if module and kernel32.GetModuleFileNameW(module, name, len(name)):
            base = os.path.basename(name.value).lower()
            if base == "dismapi.dll":
                found.append([name.value, identity(module, b"StandinIdentity")])
            elif base == "standin_dep.dll":
                found.append([name.value, identity(module, b"StandinDependencyIdentity")])
    return found


def outcome_of(step):
    kind, arg = step[0], (step[1] if len(step) > 1 else None)
    try:
        if kind == "initialize":
            dism.initialize(dism_dir=arg)
            return {"ok": True}
        if kind == "raw_initialize":
            print("calling DismInitialize", flush=True)
            _dism.initialize(2, None, None)
            return {"ok": True}
        if kind == "load_library":
            _dism.load_library(arg)
            return {"ok": True}
        if kind == "library":
            library = dism.dism_library()
            return {"path": library.path, "version": list(library.version)}
        if kind == "free_once":
            # What the delay-load helper does with the handle the hook gave
            # it when two threads bind at once: FreeLibrary, once.
            kernel32.FreeLibrary(kernel32.GetModuleHandleW("DismApi.dll"))
            return {"still_loaded": bool(kernel32.GetModuleHandleW("DismApi.dll"))}
        if kind == "call":
            return {"mounted": len(dism.get_mounted_images())}
        raise ValueError(kind)
    except Exception as error:
        return {"error": type(error).__name__, "message": str(error),
                "library_error": isinstance(error, dism.DismLibraryError)}


outcomes = []
for step in json.loads(sys.argv[1]):
    outcomes.append(outcome_of(step))
    if "still_loaded" in outcomes[-1] and not outcomes[-1]["still_loaded"]:
        break  # any further call would jump into an unloaded DLL
print(json.dumps({"steps": outcomes, "modules": loaded()}))
'''

# The exception the delay-load helper raises when a DLL cannot be loaded:
# VcppException(ERROR_SEVERITY_ERROR, ERROR_MOD_NOT_FOUND).
DELAY_LOAD_MODULE_NOT_FOUND = 0xC06D007E


def run_probe(steps: List[list], *, cwd: Optional[Path] = None,
              path_front: Optional[Path] = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k.upper() != "DISMAPI_DISM_DIR"}
    if path_front is not None:
        env["PATH"] = str(path_front) + os.pathsep + env.get("PATH", "")
    return run_python(PROBE, json.dumps(steps), cwd=cwd, env=env)


def probe(steps: List[list], **kwargs) -> dict:
    run = run_probe(steps, **kwargs)
    assert run.returncode == 0, f"probe failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
    return json.loads(run.stdout.strip().splitlines()[-1])


def copy_variant(standins: Path, name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for dll in (standins / name).glob("*.dll"):
        shutil.copy(dll, folder / dll.name)
    return folder


def identities(report: dict) -> list:
    return sorted(identity for _, identity in report["modules"])


@pytest.fixture
def system32_copy_missing():
    """System32's DismApi.dll moved away for one test (Wine allows renaming
    a DLL that is loaded; the file comes back whatever happens)."""
    path = system32_dismapi_path()
    moved = path.with_name("DismApi.dll.moved-by-test")
    os.replace(path, moved)
    try:
        yield
    finally:
        os.replace(moved, path)


# --- item 2: the delay-load helper's own reference ------------------------------------------

def test_the_delay_load_helper_gets_a_reference_of_its_own():
    """When two threads make their first DISM call at once, the delay-load
    helper FreeLibrarys the handle the hook returned (MSVC's delayhlp.cpp
    and mingw's alike).  That must drop a reference the hook gave it, never
    the one the chosen DLL lives on."""
    report = probe([["initialize"], ["free_once"], ["call"]])
    initialized, freed, call = report["steps"]
    assert initialized == {"ok": True}
    assert freed == {"still_loaded": True}, "the chosen DismApi.dll was unloaded"
    assert call == {"mounted": 2}
    assert identities(report) == ["system32"]


# --- item 3: a missing System32 copy never lets a planted one in -----------------------------

def test_without_the_system32_copy_a_planted_dll_is_never_loaded(
        tmp_path, standins, system32_copy_missing):
    """The extension's first DISM call, made directly (no Python layer to
    check first): the hook cannot load System32's copy, and the import must
    fail rather than let the helper search the current folder and PATH."""
    cwd = copy_variant(standins, "planted", tmp_path / "downloads")
    on_path = copy_variant(standins, "planted", tmp_path / "tools")
    run = run_probe([["raw_initialize"]], cwd=cwd, path_front=on_path)
    assert "planted" not in run.stdout, f"a planted DismApi.dll was loaded:\n{run.stdout}"
    assert run.returncode == DELAY_LOAD_MODULE_NOT_FOUND, (run.returncode, run.stdout,
                                                           run.stderr)


def test_without_the_system32_copy_the_python_layer_says_so(
        tmp_path, standins, system32_copy_missing):
    cwd = copy_variant(standins, "planted", tmp_path / "downloads")
    report = probe([["initialize"]], cwd=cwd, path_front=cwd)
    (initialized,) = report["steps"]
    assert initialized.get("library_error") is True, initialized
    assert report["modules"] == []


# --- item 4: a chosen folder's dependencies, and relative folders ---------------------------

def test_a_folder_copy_loads_its_own_dependency(tmp_path, standins):
    folder = copy_variant(standins, "folder", tmp_path / "adk like")
    planted = copy_variant(standins, "planted-dependency", tmp_path / "downloads")
    report = probe([["initialize", str(folder)], ["library"]], cwd=planted, path_front=planted)
    initialized, library = report["steps"]
    assert initialized == {"ok": True}
    assert Path(library["path"]).parent.name == "adk like"
    assert identities(report) == ["folder", "folder"]  # the DLL and its dependency


def test_a_dependency_missing_from_the_folder_is_not_taken_from_cwd_or_path(tmp_path, standins):
    """LOAD_WITH_ALTERED_SEARCH_PATH searches the current folder and PATH
    after the DLL's own folder: a planted dependency there was loaded."""
    folder = copy_variant(standins, "lonely", tmp_path / "incomplete")
    planted = copy_variant(standins, "planted-dependency", tmp_path / "downloads")
    elsewhere = copy_variant(standins, "planted-dependency", tmp_path / "tools")
    report = probe([["initialize", str(folder)]], cwd=planted, path_front=elsewhere)
    (initialized,) = report["steps"]
    assert "planted" not in identities(report), report
    assert initialized.get("library_error") is True, initialized
    assert report["modules"] == []


def test_the_extension_refuses_a_relative_path(tmp_path, standins):
    cwd = tmp_path / "work"
    copy_variant(standins, "planted", cwd / "sub")
    report = probe([["load_library", "sub\\DismApi.dll"]], cwd=cwd)
    (loaded,) = report["steps"]
    # ERROR_BAD_PATHNAME, refused before any load (an OSError subclass)
    assert "[WinError 161]" in loaded.get("message", ""), loaded
    assert report["modules"] == []


# --- item 5: no version resource ---------------------------------------------------------

def test_a_dll_without_a_version_resource_is_a_library_error(tmp_path, standins):
    folder = copy_variant(standins, "no-version", tmp_path / "no version")
    report = probe([["initialize", str(folder)], ["library"]])
    initialized, library = report["steps"]
    assert initialized == {"ok": True}
    assert library.get("library_error") is True, library
    assert "version" in library["message"].lower(), library


def test_the_stand_ins_version_is_what_dism_library_reports():
    """The version route PowerShell checks on a real runner (test_dll_choice),
    checked here against the stand-in's own version resource (version.rc)."""
    report = probe([["library"]])
    (library,) = report["steps"]
    assert library["version"] == [10, 0, 22621, 3007]


# --- the other variants -------------------------------------------------------------------

def test_a_dll_lacking_a_core_export_is_refused(tmp_path, standins):
    folder = copy_variant(standins, "no-core", tmp_path / "old")
    report = probe([["initialize", str(folder)]])
    (initialized,) = report["steps"]
    assert initialized.get("library_error") is True, initialized
    assert "DismGetDriverInfo" in initialized["message"]
    assert report["modules"] == []


def test_a_dll_lacking_the_optional_exports_serves_the_rest(tmp_path, standins):
    folder = copy_variant(standins, "no-optional", tmp_path / "win8")
    report = probe([["initialize", str(folder)], ["call"]])
    initialized, call = report["steps"]
    assert initialized == {"ok": True} and call == {"mounted": 2}
    assert identities(report) == ["no-optional"]
