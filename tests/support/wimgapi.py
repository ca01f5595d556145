"""Driving the portable engine's WIMGAPI from tests: tests/engine/c/wimgapi_check.c
(a line interpreter over the C API) built once per session, the tree its
tests capture, and wimlib-imagex's raw views of what the engine wrote
(tree_digest and the wimlib-imagex runner are support.imaging's)."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from support import REPO
from support.cprograms import compile_program
from support.imaging import WIMLIB, wimlib

CHECK_SOURCE = REPO / "tests" / "engine" / "c" / "wimgapi_check.c"

WIM_FLAG_VERIFY = 0x2
WIM_FLAG_NO_APPLY = 0x8
WIM_FLAG_FILEINFO = 0x80
WIM_FLAG_WIM_BOOT = 0x2000
WIM_FLAG_APPLY_COMPACT = 0x4000
WIM_FLAG_CHUNKED = 0x20000000
WIM_EXPORT_ALLOW_DUPLICATES = 0x1
WIM_REFERENCE_APPEND = 0x10000
WIM_REFERENCE_REPLACE = 0x20000

ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_BAD_FORMAT = 11
ERROR_SHARING_VIOLATION = 32
ERROR_NOT_SUPPORTED = 50
ERROR_FILE_EXISTS = 80
ERROR_INVALID_PARAMETER = 87
ERROR_ALREADY_EXISTS = 183
ERROR_DISK_FULL = 112
ERROR_MORE_DATA = 234
ERROR_REQUEST_ABORTED = 1235
ERROR_FILE_CORRUPT = 1392


def build_check_program(tmp_dir: Path, sanitize: bool = False) -> Path:
    if WIMLIB is None:
        pytest.skip("wimlib-imagex is not installed")
    return compile_program(CHECK_SOURCE, tmp_dir / ("wimgapi_check" + ("_asan" if sanitize else "")),
                           sanitize)


class Engine:
    """Runs scripts through the check program; each returns its result lines."""

    def __init__(self, program: Path):
        self.program = program

    def run(self, script: str, timeout: float = 120) -> list[str]:
        done = subprocess.run([str(self.program)], input=script, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "LC_ALL": "C.UTF-8"})
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.splitlines()

    def results(self, script: str) -> list[str]:
        """The OK/ERR lines only (messages dropped)."""
        return [line for line in self.run(script) if line.startswith(("OK", "ERR", "SIZE"))]

    def start(self, script: str) -> subprocess.Popen:
        return subprocess.Popen([str(self.program)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "LC_ALL": "C.UTF-8"})


def error_code(line: str) -> int | None:
    return int(line.split()[1]) if line.startswith("ERR") else None


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def make_tree(root: Path) -> Path:
    """Unicode names, empty folders, hard links, single-instanced data, a
    symlink and a file large enough for several progress messages."""
    (root / "Windows" / "System32" / "drivers").mkdir(parents=True)
    (root / "empty" / "nested-empty").mkdir(parents=True)
    (root / "Ünïcødé ☃ dir").mkdir()
    (root / "Ünïcødé ☃ dir" / "日本語.txt").write_text("unicode content\n", encoding="utf-8")
    (root / "Windows" / "System32" / "a.dll").write_bytes(b"MZ" + bytes(range(256)) * 40)
    (root / "Windows" / "System32" / "same.dll").write_bytes(b"MZ" + bytes(range(256)) * 40)
    (root / "Windows" / "System32" / "drivers" / "x.sys").write_bytes(b"driver" * 1000)
    (root / "hardlink-target.txt").write_text("shared by two names\n")
    os.link(root / "hardlink-target.txt", root / "hardlink-other.txt")
    os.symlink("hardlink-target.txt", root / "relative-link")
    (root / "big.bin").write_bytes(os.urandom(3 << 20))
    (root / "notes.txt").write_text("plain text\n")
    return root


def wim_verify(path: Path, *refs: Path) -> None:
    wimlib("verify", path, *(f"--ref={r}" for r in refs))


def wim_info(path: Path) -> str:
    return wimlib("info", path).stdout


def wim_dir(path: Path, index: int = 1) -> list[str]:
    return wimlib("dir", path, index).stdout.splitlines()


def capture_script(wim: Path, source: Path, name: str = "Base", compression: int = 2,
                   flags: int = 0, disposition: str = "new") -> str:
    return (f"open w {wim} w {disposition} {flags} {compression}\n"
            f"capture i w {source} 0\n"
            f"setinfo i <IMAGE><NAME>{name}</NAME></IMAGE>\n"
            "close i\nclose w\n")


def rename_in_metadata(wim: Path, old: str, new: str) -> None:
    """Renames a file inside an uncompressed WIM's metadata resource by
    patching its bytes (and the resource's SHA-1 in the blob table), to make
    names that no tool would write, such as one holding a '/'.  Both names
    must have the same UTF-16 length."""
    data = bytearray(wim.read_bytes())
    old_raw, new_raw = old.encode("utf-16-le"), new.encode("utf-16-le")
    assert len(old_raw) == len(new_raw)
    table_size = int.from_bytes(data[48:55], "little")
    table_offset = int.from_bytes(data[56:64], "little")
    for entry in range(table_offset, table_offset + table_size, 50):
        flags = data[entry + 7]
        if not flags & 0x02:  # not a metadata resource
            continue
        assert not flags & 0x04, "the WIM must be uncompressed"
        size = int.from_bytes(data[entry:entry + 7], "little")
        offset = int.from_bytes(data[entry + 8:entry + 16], "little")
        resource = data[offset:offset + size]
        at = resource.find(old_raw)
        if at < 0:
            continue
        resource[at:at + len(old_raw)] = new_raw
        data[offset:offset + size] = resource
        data[entry + 30:entry + 50] = hashlib.sha1(bytes(resource)).digest()
        wim.write_bytes(bytes(data))
        return
    raise AssertionError(f"{old!r} is in no metadata resource of {wim}")
