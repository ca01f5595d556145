"""Image management through Microsoft's own wimgapi.dll, on the GitHub
Windows runner only (skipped under Wine, where System32 holds the stand-ins;
conftest's REAL_DISM_ONLY): capture, apply, export WIM <-> ESD, split and
apply from the parts, delete, rename, list and extract, through the public
API (dism.capture_image and its kin, built on _dism.wim_*), each result
checked against the files captured and against what DISM.exe reports of
the same file, plus a cancelled capture that leaves nothing behind.

Nothing here has run yet: no Windows machine runs where it was written.
The first run on the runner is its test; expect to read its failures as
facts about wimgapi.dll first (which message kinds it sends, what it counts
in a size), and only then as faults of the binding.
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import threading
from pathlib import Path
from typing import Dict

import pytest

import dism

# Files of three kinds: text, incompressible data (a part of a split WIM
# must hold at least one of the 2 MiB files), a non-BMP name, an empty file.
TREE = {
    "hello.txt": b"hello from the WIMGAPI check\r\n",
    "sub/one.bin": random.Random(12).randbytes(2 * 1024 * 1024),
    "sub/two.bin": random.Random(13).randbytes(2 * 1024 * 1024),
    "sub/\U0001D11E clef.txt": "clef \U0001D11E\r\n".encode("utf-8"),
    "sub/nested/empty.txt": b"",
}


def dism_exe(*arguments: str) -> str:
    """System32's DISM.exe by full path, in English."""
    exe = os.path.join(os.environ["SystemRoot"], "System32", "Dism.exe")
    run = subprocess.run([exe, "/English", *arguments], capture_output=True, text=True,
                         errors="replace", timeout=900)
    assert run.returncode == 0, f"DISM.exe {' '.join(arguments)} -> {run.returncode}\n" \
                                f"{run.stdout}\n{run.stderr}"
    return run.stdout


def dism_exe_images(image_file: Path) -> Dict[int, str]:
    """Index -> name of each image DISM.exe lists in `image_file`."""
    output = dism_exe("/Get-ImageInfo", f"/ImageFile:{image_file}")
    indexes = [int(i) for i in re.findall(r"^Index : (\d+)", output, re.M)]
    names = re.findall(r"^Name : (.*)$", output, re.M)
    return dict(zip(indexes, (n.strip() for n in names)))


def write_tree(root: Path) -> Path:
    for relative, data in TREE.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def read_tree(root: Path) -> Dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture
def source(tmp_path) -> Path:
    return write_tree(tmp_path / "source")


@pytest.fixture
def captured(tmp_path, source, require_elevation) -> Path:
    path = tmp_path / "captured.wim"
    # ASCII names: DISM.exe's piped output is in the console's code page.
    dism.capture_image(source, path, name="First", description="the check \U0001F600")
    return path


def applied(image_path: Path, target: Path, **kwargs) -> Dict[str, bytes]:
    target.mkdir()
    dism.apply_image(image_path, target, **kwargs)
    return read_tree(target)


def test_wimgapi_is_system32s(captured):
    """The binding's calls went to the in-box DLL (library.c loads
    System32's only), never to a copy elsewhere."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetModuleHandleW.restype = wintypes.HMODULE
    kernel32.GetModuleHandleW.argtypes = [wintypes.LPCWSTR]
    kernel32.GetModuleFileNameW.argtypes = [wintypes.HMODULE, wintypes.LPWSTR, wintypes.DWORD]
    module = kernel32.GetModuleHandleW("wimgapi.dll")
    assert module
    name = ctypes.create_unicode_buffer(32768)
    assert kernel32.GetModuleFileNameW(module, name, len(name))
    expected = os.path.join(os.environ["SystemRoot"], "System32", "wimgapi.dll")
    assert os.path.normcase(name.value) == os.path.normcase(expected)


def test_capture_then_dism_exe_and_the_api_agree(captured):
    info = dism.get_wim_info(captured)
    assert info.image_count == 1 and info.part_number == 1 and info.total_parts == 1
    assert info.compression == dism.Compression.FAST  # DISM.exe's default
    assert info.guid.int != 0 and not info.solid
    assert info.image_names == ("First",)
    assert dism_exe_images(captured) == {1: "First"}
    # The DISM API reads it the same (another DLL on the same file).
    (image,) = dism.get_image_info(captured)
    assert image.name == "First" and image.description == "the check \U0001F600"


def test_apply_gives_back_every_byte(captured, tmp_path):
    assert applied(captured, tmp_path / "target", index=1) == TREE


def test_list_and_extract(captured, tmp_path):
    listed = {entry.path.replace("\\", "/").lstrip("/"): entry
              for entry in dism.list_image(captured, index=1)}
    for relative, data in TREE.items():
        assert listed[relative].size == len(data), relative
        assert not listed[relative].is_directory
    assert listed["sub"].is_directory
    out = tmp_path / "out"
    out.mkdir()
    dism.extract_files(captured, ["sub\\\U0001D11E clef.txt"], out, index=1)
    assert (out / "\U0001D11E clef.txt").read_bytes() == TREE["sub/\U0001D11E clef.txt"]


def test_export_to_esd_and_back(captured, tmp_path):
    esd = tmp_path / "install.esd"
    dism.export_image(captured, esd, index=1, compression="recovery")
    info = dism.get_wim_info(esd)
    assert info.compression == dism.Compression.RECOVERY and info.solid
    assert dism_exe_images(esd) == {1: "First"}
    back = tmp_path / "back.wim"
    dism.export_image(esd, back, index=1, compression="max")
    assert dism.get_wim_info(back).compression == dism.Compression.MAX
    assert applied(back, tmp_path / "target", index=1) == TREE


def test_append_rename_and_delete(captured, source, tmp_path):
    dism.capture_image(source, captured, name="Second", append=True)
    assert dism_exe_images(captured) == {1: "First", 2: "Second"}
    dism.set_image_info(captured, index=2, new_name="Renamed")
    dism.delete_image(captured, index=1)
    assert dism_exe_images(captured) == {1: "Renamed"}
    with pytest.raises(dism.DismError):
        dism.delete_image(captured, index=1)  # a WIM keeps its last image
    assert dism.get_wim_info(captured).image_count == 1


def test_split_and_apply_from_the_parts(captured, tmp_path):
    parts = dism.split_image(captured, tmp_path / "install.swm", file_size_mb=1)
    assert len(parts) >= 2 and parts[0].name == "install.swm"
    assert parts[1].name == "install2.swm"
    first = dism.get_wim_info(parts[0])
    assert (first.part_number, first.total_parts) == (1, len(parts))
    assert first.spanned
    target = tmp_path / "target"
    target.mkdir()
    dism.apply_image(parts[0], target, index=1, swm_files=str(tmp_path / "install*.swm"))
    assert read_tree(target) == TREE


def test_a_cancelled_capture_leaves_no_file(source, tmp_path, require_elevation):
    token = threading.Event()
    seen = []

    def progress(current, total):
        seen.append(current)
        token.set()

    path = tmp_path / "cancelled.wim"
    with pytest.raises(dism.CancelledError):
        dism.capture_image(source, path, name="Never", progress=progress, cancel=token)
    # Whether wimgapi.dll stops at once or finishes first (.completed), the
    # file is gone: a cancelled capture leaves nothing behind.
    assert seen and not path.exists()


def test_a_wim_dism_exe_captured_is_read_and_applied(source, tmp_path, require_elevation):
    path = tmp_path / "by-dism-exe.wim"
    dism_exe("/Capture-Image", f"/ImageFile:{path}", f"/CaptureDir:{source}",
             "/Name:By DISM.exe", "/Compress:max")
    info = dism.get_wim_info(path)
    assert info.image_names == ("By DISM.exe",)
    assert info.compression == dism.Compression.MAX
    assert applied(path, tmp_path / "target", name="By DISM.exe") == TREE
