"""Which DISM library serves the process (dism/_library.py).

The choice logic is plain Python over the file system and the registry's
kit roots, so it runs here against real folders; loading the chosen DLL is
Windows-only and is exercised by tests/windows/test_dll_choice.py there.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import dism
from dism import _dism, _library
from dism._library import DismSource
from dism.errors import ELEVATION_ADVICE, elevation_required

needs_portable = pytest.mark.skipif(sys.platform == "win32", reason="portable engine only")


@needs_portable
def test_portable_library_is_the_extension_itself():
    library = dism.dism_library()
    assert library.source is DismSource.PORTABLE
    assert os.path.samefile(library.path, _dism.__file__)
    assert library.version == tuple(int(p) for p in dism.__version__.split(".")) + (0,)
    with pytest.raises(AttributeError):
        library.path = "elsewhere"  # frozen


@needs_portable
def test_choosing_a_dll_off_windows_is_refused_and_changes_nothing():
    was_initialized = dism.is_initialized()
    with pytest.raises(dism.DismLibraryError) as caught:
        dism.initialize(dism_dir="/opt/dism")
    assert caught.value.hresult == 0x80070032
    assert "portable engine" in str(caught.value)
    assert isinstance(caught.value, dism.DismError)
    assert dism.is_initialized() == was_initialized


@needs_portable
def test_environment_variable_does_not_disturb_the_portable_engine(tmp_path):
    code = ("import dism; dism.initialize(); print(dism.dism_library().source.value); "
            "dism.shutdown()")
    env = {**os.environ, _library.ENV_VAR: str(tmp_path)}
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "portable"


def no_adk():
    raise AssertionError("the ADK must not be looked up")


def test_default_is_the_in_box_copy():
    assert _library.resolve(None, environ={}, find_adk=no_adk) == (DismSource.SYSTEM, None)
    assert _library.resolve(None, environ={_library.ENV_VAR: ""}, find_adk=no_adk) == \
        (DismSource.SYSTEM, None)


@pytest.mark.parametrize("spelling", ["adk", "ADK", " Adk "])
def test_adk_keyword_asks_for_the_adk(spelling):
    found = r"C:\Kits\10\Assessment and Deployment Kit\Deployment Tools\amd64\DISM\DismApi.dll"
    assert _library.resolve(spelling, environ={}, find_adk=lambda: found) == \
        (DismSource.ADK, found)
    assert _library.resolve(None, environ={_library.ENV_VAR: spelling},
                            find_adk=lambda: found) == (DismSource.ADK, found)


def test_folder_with_the_dll_is_used_by_full_path(tmp_path):
    (tmp_path / "DismApi.dll").write_bytes(b"MZ")
    source, path = _library.resolve(tmp_path, environ={}, find_adk=no_adk)
    assert source is DismSource.FOLDER
    assert path == os.path.join(str(tmp_path), "DismApi.dll")


def test_argument_wins_over_the_environment(tmp_path):
    (tmp_path / "DismApi.dll").write_bytes(b"MZ")
    env = {_library.ENV_VAR: "adk"}
    assert _library.resolve(str(tmp_path), environ=env, find_adk=no_adk)[0] is DismSource.FOLDER


def test_folder_without_the_dll_is_named_in_the_error(tmp_path):
    with pytest.raises(dism.DismLibraryError) as caught:
        _library.resolve(tmp_path, environ={}, find_adk=no_adk)
    assert caught.value.hresult == 0x8007007E
    assert str(tmp_path) in str(caught.value)


def test_relative_folder_is_refused(tmp_path, monkeypatch):
    # Relative to what would be a search order: refuse rather than guess.
    (tmp_path / "DismApi.dll").write_bytes(b"MZ")
    monkeypatch.chdir(tmp_path.parent)
    with pytest.raises(dism.DismLibraryError, match="absolute"):
        _library.resolve(tmp_path.name, environ={}, find_adk=no_adk)


@pytest.mark.parametrize("platform_tag, folder", [
    ("win-amd64", "amd64"), ("win32", "x86"), ("win-arm64", "arm64")])
def test_adk_folder_follows_the_process_architecture(platform_tag, folder):
    assert _library.adk_architecture(platform_tag) == folder


def test_unknown_architecture_has_no_adk_dism():
    with pytest.raises(dism.DismLibraryError, match="linux-x86_64"):
        _library.adk_architecture("linux-x86_64")


def make_kit(root, architecture, with_dll=True):
    folder = root.joinpath("Assessment and Deployment Kit", "Deployment Tools", architecture,
                           "DISM")
    folder.mkdir(parents=True)
    if with_dll:
        (folder / "DismApi.dll").write_bytes(b"MZ")
    return folder


def test_newest_kit_with_a_dism_wins(tmp_path):
    kit10, kit81 = tmp_path / "10", tmp_path / "8.1"
    make_kit(kit10, "arm64")
    make_kit(kit10, "amd64", with_dll=False)
    expected = make_kit(kit81, "amd64") / "DismApi.dll"
    assert _library.find_adk_dll([str(kit10), str(kit81)], "amd64") == str(expected)
    make_kit(kit10, "x86")
    assert _library.find_adk_dll([str(kit10), str(kit81)], "x86") == \
        str(kit10 / "Assessment and Deployment Kit" / "Deployment Tools" / "x86" / "DISM" /
            "DismApi.dll")


def test_no_adk_says_where_it_looked(tmp_path):
    with pytest.raises(dism.DismLibraryError) as caught:
        _library.find_adk_dll([str(tmp_path)], "amd64")
    assert caught.value.hresult == 0x8007007E
    assert str(tmp_path) in str(caught.value) and "amd64" in str(caught.value)
    with pytest.raises(dism.DismLibraryError, match="no kit roots"):
        _library.find_adk_dll([], "amd64")


def test_elevation_error_says_what_to_do():
    original = dism.ElevationRequiredError("[0x800702E4] The requested operation requires "
                                           "elevation.")
    original.hresult = 0x800702E4
    original.message = "The requested operation requires elevation."
    better = elevation_required(original)
    assert isinstance(better, dism.ElevationRequiredError)
    assert better.hresult == 0x800702E4
    assert ELEVATION_ADVICE in str(better) and "Run as administrator" in str(better)
    assert "requires elevation" in better.message


def test_load_failures_keep_the_file_and_the_windows_code():
    # What load_library raises: OSError with .winerror (and, from LoadLibrary,
    # the path as .filename); DismLibraryError keeps both.
    failed = OSError(0, "The specified module could not be found", r"D:\DISM\DismApi.dll")
    failed.winerror = 126
    assert _library._win32_hresult(failed) == 0x8007007E
    assert _library._sentence(failed) == \
        r"The specified module could not be found: 'D:\DISM\DismApi.dll'"
    refused = OSError(0, "this process already uses C:\\Windows\\System32\\DismApi.dll")
    refused.winerror = 1247
    assert _library._win32_hresult(refused) == 0x800704DF
    assert _library._sentence(refused) == refused.strerror
    assert _library._win32_hresult(OSError("no code")) == _dism.E_FAIL
