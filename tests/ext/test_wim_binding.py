"""The extension's WIMGAPI binding (src/ext/imaging/): every _dism.wim_*
function on real WIMs built at test time, its argument checks, the messages
it hands Python, cancellation (callback exception, token, Ctrl+C), the lock
of a WimHandle, reference counts, and its constants against wimgapi.h.

These run against the portable engine (src/engine/imaging/); the Windows lane
proves the same source against a wimgapi.dll."""
from __future__ import annotations

import gc
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dism import _dism
from support.sanitizer import (SanitizerUnavailable, build_sanitized_package, run_sanitized,
                               sanitizer_reports)

HEADER = Path(__file__).resolve().parents[2] / "src" / "include" / "wimgapi.h"
WRITE = _dism.WIM_GENERIC_WRITE
READ = _dism.WIM_GENERIC_READ
HR = lambda code: 0x80070000 | code  # noqa: E731  HRESULT_FROM_WIN32
ERROR_FILE_NOT_FOUND, ERROR_INVALID_HANDLE, ERROR_BAD_FORMAT = 2, 6, 11
ERROR_INVALID_PARAMETER, ERROR_REQUEST_ABORTED, ERROR_BUSY = 87, 1235, 170


# ---- helpers -----------------------------------------------------------------

def make_tree(root: Path, files: int = 5, payload: int = 0) -> Path:
    """A small directory to capture: text files in two folders, and one
    incompressible file of `payload` bytes (a long capture or apply)."""
    (root / "sub" / "deeper").mkdir(parents=True)
    for i in range(files):
        (root / f"file{i}.txt").write_text(f"file {i}\n" * (i + 1))
        (root / "sub" / f"inner{i}.txt").write_text(f"inner {i}\n")
    (root / "sub" / "deeper" / "leaf.txt").write_text("leaf\n")
    if payload:
        (root / "big.bin").write_bytes(os.urandom(payload))
    return root


def tree_files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def new_wim(path: Path, compression=_dism.WIM_COMPRESS_XPRESS, flags=0):
    wim, result = _dism.wim_create_file(path, WRITE, _dism.WIM_CREATE_NEW, flags, compression)
    assert result == _dism.WIM_CREATED_NEW
    _dism.wim_set_temporary_path(wim, path.parent)
    return wim


def image_xml(name: str, description: str = "") -> str:
    return (f"<IMAGE><NAME>{name}</NAME><DESCRIPTION>{description}</DESCRIPTION></IMAGE>")


def capture(wim, source: Path, name: str, **kwargs):
    image = _dism.wim_capture_image(wim, source, 0, **kwargs)
    _dism.wim_set_image_information(image, image_xml(name))
    return image


@pytest.fixture
def source(tmp_path) -> Path:
    return make_tree(tmp_path / "src")


@pytest.fixture
def wim_path(tmp_path, source) -> Path:
    """A WIM of two images of `source` captured through the binding."""
    path = tmp_path / "two.wim"
    with new_wim(path) as wim:
        capture(wim, source, "First").close()
        (source / "second-only.txt").write_text("2\n")
        capture(wim, source, "Second").close()
        (source / "second-only.txt").unlink()
    return path


def open_wim(path: Path, access=WRITE):
    wim, result = _dism.wim_create_file(path, access, _dism.WIM_OPEN_EXISTING, 0, 0)
    assert result == _dism.WIM_OPENED_EXISTING
    _dism.wim_set_temporary_path(wim, path.parent)
    return wim


class Messages:
    """A messages callable that records (message, a, b) and the threads."""

    def __init__(self, answer=None):
        self.seen = []
        self.threads = set()
        self.answer = answer

    def __call__(self, message, a, b):
        self.seen.append((message, a, b))
        self.threads.add(threading.get_ident())
        return self.answer(message, a, b) if self.answer else None

    def of(self, message):
        return [(a, b) for m, a, b in self.seen if m == message]


# ---- constants ---------------------------------------------------------------

def header_constants() -> dict:
    """Every WIM_* / INVALID_CALLBACK_VALUE #define of wimgapi.h, evaluated."""
    values = {}
    pattern = r"^#define\s+(WIM_\w+|INVALID_CALLBACK_VALUE)\s+(.+?)\s*(?:/\*.*)?$"
    for name, expr in re.findall(pattern, HEADER.read_text(), re.M):
        expr = re.sub(r"(0x[0-9A-Fa-f]+|\d+)[uUlL]+\b", r"\1", expr)
        values[name] = eval(expr, {}, dict(values))  # only earlier names and numbers
    return values


def test_every_constant_of_the_header_is_exported_with_its_value():
    constants = header_constants()
    assert len(constants) > 60 and constants["WIM_MSG_PROCESS"] == 0x9479
    exported = {name: getattr(_dism, name, None) for name in constants}
    assert exported == constants
    module_names = {n for n in dir(_dism) if n.startswith("WIM_") or n == "INVALID_CALLBACK_VALUE"}
    assert module_names == set(constants)


# ---- the functions, each on real WIMs --------------------------------------------

def test_capture_info_and_apply_round_trip(tmp_path, source):
    path = tmp_path / "new.wim"
    with new_wim(path) as wim:
        assert not wim.closed and not wim.is_image
        with capture(wim, source, "Round trip") as image:
            assert image.is_image
            xml = _dism.wim_get_image_information(image)
            assert xml.startswith("<IMAGE") and "<NAME>Round trip</NAME>" in xml
            assert "\ufeff" not in xml and "\0" not in xml
        assert _dism.wim_get_image_count(wim) == 1
        whole = _dism.wim_get_image_information(wim)
        assert whole.startswith("<WIM>") and "Round trip" in whole
    assert image.closed and wim.closed
    assert path.is_file()

    with open_wim(path, READ) as wim, _dism.wim_load_image(wim, 1) as image:
        target = tmp_path / "applied"
        target.mkdir()
        assert _dism.wim_apply_image(image, target, 0) is None
    assert tree_files(target) == tree_files(source)


def test_get_attributes(wim_path):
    with open_wim(wim_path) as wim:
        (path, guid, count, compression, part, parts, boot, attributes,
         flags) = _dism.wim_get_attributes(wim)
    assert path == str(wim_path)
    assert isinstance(guid, bytes) and len(guid) == 16 and guid != bytes(16)
    assert (count, compression, part, parts, boot) == (2, _dism.WIM_COMPRESS_XPRESS, 1, 1, 0)
    assert attributes & _dism.WIM_ATTRIBUTE_SPANNED == 0
    assert flags == 0


def test_set_boot_image_and_image_information(wim_path):
    with open_wim(wim_path) as wim:
        _dism.wim_set_boot_image(wim, 2)
        with _dism.wim_load_image(wim, 1) as image:
            _dism.wim_set_image_information(image, image_xml("Renamed", "with ü and 𝄞"))
    with open_wim(wim_path, READ) as wim:
        assert _dism.wim_get_attributes(wim)[6] == 2
        with _dism.wim_load_image(wim, 1) as image:
            xml = _dism.wim_get_image_information(image)
    assert "<NAME>Renamed</NAME>" in xml and "with ü and 𝄞" in xml


def test_export_and_delete(tmp_path, wim_path, source):
    dest_path = tmp_path / "dest.wim"
    with open_wim(wim_path) as src, new_wim(dest_path, _dism.WIM_COMPRESS_LZX) as dest:
        with _dism.wim_load_image(src, 2) as image:
            rec = Messages()
            _dism.wim_export_image(image, dest, 0, messages=rec)
            assert rec.of(_dism.WIM_MSG_PROGRESS)[-1][0] == 100  # the source file's messages
            assert _dism.wim_get_image_count(dest) == 1
            with pytest.raises(_dism.DismError) as e:
                _dism.wim_export_image(image, dest, 0)
            assert e.value.hresult == HR(183)  # ERROR_ALREADY_EXISTS
            assert "WIMExportImage" in str(e.value)
    with open_wim(dest_path) as dest:
        assert _dism.wim_get_attributes(dest)[3] == _dism.WIM_COMPRESS_LZX
        assert "Second" in _dism.wim_get_image_information(dest)
    with open_wim(wim_path) as wim:
        _dism.wim_delete_image(wim, 1)
        assert _dism.wim_get_image_count(wim) == 1
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_delete_image(wim, 1)  # the only image left
        assert e.value.hresult == HR(5)
    with open_wim(wim_path) as wim:
        assert _dism.wim_get_image_count(wim) == 1
        assert "First" not in _dism.wim_get_image_information(wim)


def test_split_query_split_and_reference_parts(tmp_path):
    source = make_tree(tmp_path / "src", payload=3 * 1024 * 1024)
    (source / "more.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    path = tmp_path / "big.wim"
    with new_wim(path, _dism.WIM_COMPRESS_NONE) as wim:
        capture(wim, source, "Big").close()
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    first = parts_dir / "big.swm"
    rec = Messages()
    with open_wim(path, READ) as wim:
        minimum = _dism.wim_split_file(wim, first, 0, 0)
        assert minimum >= 3 * 1024 * 1024
        assert list(parts_dir.iterdir()) == []  # the query writes nothing
        _dism.wim_split_file(wim, first, minimum, 0, messages=rec)
    parts = sorted(p.name for p in parts_dir.iterdir())
    assert len(parts) >= 2 and "big.swm" in parts
    split_messages = rec.of(_dism.WIM_MSG_SPLIT)
    assert split_messages and all(isinstance(a, str) and isinstance(b, int)
                                  for a, b in split_messages)

    with open_wim(first, READ) as wim:
        info = _dism.wim_get_attributes(wim)
        assert info[4:6] == (1, len(parts)) and info[7] & _dism.WIM_ATTRIBUTE_SPANNED
        for name in parts:
            if name != "big.swm":
                _dism.wim_set_reference_file(wim, parts_dir / name, _dism.WIM_REFERENCE_APPEND)
        target = tmp_path / "applied"
        target.mkdir()
        with _dism.wim_load_image(wim, 1) as image:
            _dism.wim_apply_image(image, target, 0)
        _dism.wim_set_reference_file(wim, None, _dism.WIM_REFERENCE_REPLACE)
    assert tree_files(target) == tree_files(source)


def test_extract_image_path(tmp_path, wim_path, source):
    out = tmp_path / "out" / "leaf.copy"
    out.parent.mkdir()
    rec = Messages()
    with open_wim(wim_path, READ) as wim, _dism.wim_load_image(wim, 1) as image:
        _dism.wim_extract_image_path(image, "sub\\deeper\\leaf.txt", out, 0, messages=rec)
        assert all(m in (_dism.WIM_MSG_PROGRESS, _dism.WIM_MSG_QUERY_ABORT, _dism.WIM_MSG_PROCESS)
                   for m, a, b in rec.seen)
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_extract_image_path(image, "no\\such\\file", tmp_path / "x", 0)
        assert "WIMExtractImagePath" in str(e.value)
    assert out.read_bytes() == (source / "sub" / "deeper" / "leaf.txt").read_bytes()


def test_create_always_and_open_always(tmp_path, source):
    path = tmp_path / "a.wim"
    wim, result = _dism.wim_create_file(path, WRITE, _dism.WIM_OPEN_ALWAYS, 0,
                                        _dism.WIM_COMPRESS_NONE)
    with wim:
        assert result == _dism.WIM_CREATED_NEW
        capture(wim, source, "A").close()
    wim, result = _dism.wim_create_file(path, WRITE, _dism.WIM_OPEN_ALWAYS, 0, 0)
    with wim:
        assert result == _dism.WIM_OPENED_EXISTING
        assert _dism.wim_get_image_count(wim) == 1
    with pytest.raises(_dism.DismError) as e:
        _dism.wim_create_file(path, WRITE, _dism.WIM_CREATE_NEW, 0, 0)
    assert "WIMCreateFile" in str(e.value)


# ---- errors --------------------------------------------------------------------

def test_failures_raise_the_typed_class_with_the_function_named(tmp_path, wim_path):
    with pytest.raises(_dism.PathNotFoundError) as e:
        _dism.wim_create_file(tmp_path / "missing.wim", READ, _dism.WIM_OPEN_EXISTING, 0, 0)
    assert e.value.hresult == HR(ERROR_FILE_NOT_FOUND)
    assert e.value.message.startswith("WIMCreateFile: ") and len(e.value.message) > 20
    assert isinstance(e.value, FileNotFoundError)

    not_a_wim = tmp_path / "text.wim"
    not_a_wim.write_text("not a WIM at all\n" * 100)
    with pytest.raises(_dism.DismError) as e:
        _dism.wim_create_file(not_a_wim, READ, _dism.WIM_OPEN_EXISTING, 0, 0)
    assert e.value.hresult == HR(ERROR_BAD_FORMAT)

    with open_wim(wim_path) as wim:
        for index in (0, 3):
            with pytest.raises(_dism.InvalidArgumentError) as e:
                _dism.wim_load_image(wim, index)
            assert e.value.hresult == HR(ERROR_INVALID_PARAMETER)
            assert "WIMLoadImage" in e.value.message


# ---- argument checking -----------------------------------------------------------

def test_arguments_are_checked(tmp_path, wim_path):
    with open_wim(wim_path) as wim, _dism.wim_load_image(wim, 1) as image:
        with pytest.raises(TypeError, match="image"):
            _dism.wim_apply_image(wim, tmp_path, 0)  # a file where an image goes
        with pytest.raises(TypeError, match="WIM file"):
            _dism.wim_get_image_count(image)  # an image where a file goes
        with pytest.raises(TypeError, match="WIM file"):
            _dism.wim_export_image(image, image, 0)
        with pytest.raises(TypeError):
            _dism.wim_get_image_count(None)
        with pytest.raises(TypeError):
            _dism.wim_get_image_information("not a handle")
        with pytest.raises(TypeError):
            _dism.wim_set_temporary_path(wim, 42)
        with pytest.raises(TypeError):
            _dism.wim_set_temporary_path(wim, None)
        with pytest.raises(TypeError):
            _dism.wim_set_image_information(image, b"<IMAGE/>")
        with pytest.raises(TypeError):
            _dism.wim_apply_image(image, tmp_path, 0, messages=42)
        with pytest.raises(TypeError):
            _dism.wim_apply_image(image, tmp_path, 0, cancel=object())
        with pytest.raises(_dism.InvalidArgumentError):
            _dism.wim_load_image(wim, -1)
        with pytest.raises(_dism.InvalidArgumentError):
            _dism.wim_load_image(wim, 2**32 + 1)  # never wrapped to 1
        with pytest.raises(TypeError):
            _dism.wim_load_image(wim, True)
        with pytest.raises(_dism.InvalidArgumentError):
            _dism.wim_split_file(wim, tmp_path / "x.swm", -1, 0)
    with pytest.raises(TypeError):
        _dism.WimHandle()


def test_an_out_of_range_dword_names_its_function_and_parameter(tmp_path, wim_path, source):
    """Every DWORD argument is refused above 2**32 - 1, never wrapped, and
    the error names the WIMGAPI function and parameter."""
    big = 2**32 + 1
    with open_wim(wim_path) as wim, _dism.wim_load_image(wim, 1) as image, \
            new_wim(tmp_path / "dest.wim") as dest:
        fresh = tmp_path / "fresh.wim"
        create = _dism.wim_create_file
        calls = [
            ("WIMCreateFile: DesiredAccess",
             lambda: create(fresh, big, _dism.WIM_CREATE_NEW, 0, 0)),
            ("WIMCreateFile: CreationDisposition", lambda: create(fresh, WRITE, big, 0, 0)),
            ("WIMCreateFile: FlagsAndAttributes",
             lambda: create(fresh, WRITE, _dism.WIM_CREATE_NEW, big, 0)),
            ("WIMCreateFile: CompressionType",
             lambda: create(fresh, WRITE, _dism.WIM_CREATE_NEW, 0, big)),
            ("WIMSetReferenceFile: Flags",
             lambda: _dism.wim_set_reference_file(wim, wim_path, big)),
            ("WIMSetBootImage: ImageIndex", lambda: _dism.wim_set_boot_image(wim, big)),
            ("WIMCaptureImage: CaptureFlags",
             lambda: _dism.wim_capture_image(wim, source, big)),
            ("WIMApplyImage: ApplyFlags",
             lambda: _dism.wim_apply_image(image, tmp_path / "out", big)),
            ("WIMExtractImagePath: ExtractFlags",
             lambda: _dism.wim_extract_image_path(image, "a", tmp_path / "a", big)),
            ("WIMExportImage: Flags", lambda: _dism.wim_export_image(image, dest, big)),
            ("WIMDeleteImage: ImageIndex", lambda: _dism.wim_delete_image(wim, big)),
            ("WIMSplitFile: Flags",
             lambda: _dism.wim_split_file(wim, tmp_path / "x.swm", 0, big)),
        ]
        for sentence, call in calls:
            with pytest.raises(_dism.InvalidArgumentError) as e:
                call()
            assert sentence in e.value.message, sentence
            assert e.value.hresult == HR(ERROR_INVALID_PARAMETER), sentence
        assert _dism.wim_get_image_count(wim) == 2
    assert not fresh.exists()


def test_a_closed_handle_is_refused_and_close_is_idempotent(wim_path, tmp_path):
    wim = open_wim(wim_path)
    image = _dism.wim_load_image(wim, 1)
    wim.close()  # closes the open image first
    assert wim.closed and image.closed
    wim.close()
    image.close()
    for call in (lambda: _dism.wim_get_image_count(wim),
                 lambda: _dism.wim_get_image_information(image),
                 lambda: _dism.wim_apply_image(image, tmp_path, 0),
                 lambda: _dism.wim_load_image(wim, 1)):
        with pytest.raises(_dism.DismError) as e:
            call()
        assert e.value.hresult == HR(ERROR_INVALID_HANDLE) and "closed" in e.value.message


def test_a_dropped_handle_is_closed(wim_path):
    wim = open_wim(wim_path)
    image = _dism.wim_load_image(wim, 1)
    del wim  # the image keeps its file alive
    assert not image.closed
    del image
    gc.collect()
    with open_wim(wim_path) as again:  # a writer again: nothing holds the file
        _dism.wim_set_boot_image(again, 1)


# ---- messages ---------------------------------------------------------------------

def test_capture_messages(tmp_path, source):
    rec = Messages()
    with new_wim(tmp_path / "m.wim") as wim:
        _dism.wim_capture_image(wim, source, 0, messages=rec).close()
    assert threading.get_ident() not in rec.threads
    processed = [a for a, b in rec.of(_dism.WIM_MSG_PROCESS)]
    assert processed and all(isinstance(a, str) for a in processed)
    assert any(a.endswith("leaf.txt") for a in processed)
    assert all(b is None for a, b in rec.of(_dism.WIM_MSG_PROCESS))
    progress = rec.of(_dism.WIM_MSG_PROGRESS)
    assert progress and all(0 <= p <= 100 and isinstance(ms, int) for p, ms in progress)
    scanning = rec.of(_dism.WIM_MSG_SCANNING)  # (0: files / 1: folders, count)
    assert {a for a, b in scanning} == {0, 1} and all(isinstance(b, int) for a, b in scanning)
    assert (0, 11) in scanning and (1, 3) in scanning
    assert all(ab == (0, 0) for ab in rec.of(_dism.WIM_MSG_QUERY_ABORT))
    assert all(ab == (None, None) for ab in rec.of(_dism.WIM_MSG_STEPIT))


REAL = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "real"
MICROSOFT_WIM = REAL / "sevenzipjbinding__archive1.zip.0.wim"  # imagex on Windows, 2013


@pytest.mark.skipif(not MICROSOFT_WIM.is_file(), reason="needs ../shared/testdata/real")
def test_apply_of_a_wim_made_on_windows_warns_per_file(tmp_path):
    """Its files carry security descriptors a Linux folder cannot hold: one
    WIM_MSG_WARNING (path, ERROR_NOT_SUPPORTED) each, never a silent loss."""
    rec = Messages()
    with open_wim(MICROSOFT_WIM, READ) as wim:
        info = _dism.wim_get_attributes(wim)
        assert info[2:4] == (1, _dism.WIM_COMPRESS_LZX)
        with _dism.wim_load_image(wim, 1) as image:
            xml = _dism.wim_get_image_information(image)
            assert xml.startswith('<IMAGE INDEX="1">') and "<FILECOUNT>252</FILECOUNT>" in xml
            _dism.wim_apply_image(image, tmp_path, 0, messages=rec)
    warnings = rec.of(_dism.WIM_MSG_WARNING)
    assert len(warnings) == len(rec.of(_dism.WIM_MSG_PROCESS)) > 250
    assert all(isinstance(a, str) and b == 50 for a, b in warnings)
    assert all(ab == (0, 0) for ab in rec.of(_dism.WIM_MSG_QUERY_ABORT))
    assert rec.of(_dism.WIM_MSG_PROGRESS)[-1][0] == 100


ERROR_CHILD = textwrap.dedent("""
    import json, os, pwd, sys
    from dism import _dism
    # Imported as root, then the rest as nobody: the extension may live
    # where nobody cannot read (a private venv, a 0700 checkout).
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    root, answer = sys.argv[1], int(sys.argv[2])
    seen = []
    def messages(message, a, b):
        if message == _dism.WIM_MSG_ERROR:
            seen.append([a, b])
            return answer
    wim, _ = _dism.wim_create_file(root + "/out.wim", _dism.WIM_GENERIC_WRITE,
                                   _dism.WIM_CREATE_NEW, 0, 0)
    try:
        _dism.wim_capture_image(wim, root + "/src", 0, messages=messages).close()
        outcome = "captured"
    except _dism.DismError as e:
        outcome = e.message
    print(json.dumps([outcome, seen]))
""")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root to drop to an unprivileged user")
@pytest.mark.parametrize("answer", ["skip", "success"])
def test_error_messages_and_skip_error(answer):
    """A folder the (unprivileged) capturing user cannot read: WIM_MSG_ERROR
    (path, Win32 code); WIM_MSG_SKIP_ERROR goes on without it, SUCCESS fails."""
    # Outside pytest's tmp_path, whose parents the other user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="wim-binding-"))
    try:
        root.chmod(0o777)
        run_error_child(root, answer)
    finally:
        (root / "src" / "locked").chmod(0o755)
        shutil.rmtree(root)


def run_error_child(root: Path, answer: str):
    (root / "src" / "locked").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("a\n")
    (root / "src" / "locked" / "b.txt").write_text("b\n")
    (root / "src" / "locked").chmod(0)
    code = _dism.WIM_MSG_SKIP_ERROR if answer == "skip" else _dism.WIM_MSG_SUCCESS
    worktree = Path(_dism.__file__).parent.parent
    done = subprocess.run(
        [sys.executable, "-c", ERROR_CHILD, str(root), str(code)],
        capture_output=True, text=True, timeout=120, cwd=worktree,
        env={**os.environ, "PYTHONPATH": str(worktree)})
    assert done.returncode == 0, done.stderr
    outcome, errors = json.loads(done.stdout.splitlines()[-1])
    assert errors and errors[0][0] == str(root / "src" / "locked")
    assert isinstance(errors[0][1], int) and errors[0][1] != 0
    if answer == "skip":
        assert outcome == "captured"
    else:
        assert outcome.startswith("WIMCaptureImage: ") and not (root / "out.wim").exists()


def test_process_false_skips_a_file(tmp_path, source):
    def skip_leaf(message, a, b):
        if message == _dism.WIM_MSG_PROCESS and a.endswith("leaf.txt"):
            return False
        return None

    path = tmp_path / "skip.wim"
    with new_wim(path) as wim:
        capture(wim, source, "Skip", messages=Messages(skip_leaf)).close()
    target = tmp_path / "applied"
    target.mkdir()
    with open_wim(path, READ) as wim, _dism.wim_load_image(wim, 1) as image:
        _dism.wim_apply_image(image, target, 0)
    expected = tree_files(source)
    del expected["sub/deeper/leaf.txt"]
    assert tree_files(target) == expected


def test_apply_listing_sends_fileinfo(wim_path, source):
    rec = Messages()
    with open_wim(wim_path, READ) as wim, _dism.wim_load_image(wim, 1) as image:
        _dism.wim_apply_image(image, None, _dism.WIM_FLAG_NO_APPLY | _dism.WIM_FLAG_FILEINFO,
                              messages=rec)
    infos = rec.of(_dism.WIM_MSG_FILEINFO)
    assert infos
    by_name = {a.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]: b for a, b in infos}
    attributes, created, accessed, written, size, reserved = by_name["file2.txt"]
    assert size == len((source / "file2.txt").read_bytes())
    # FILETIME: 100 ns since 1601; the file was written a moment ago.
    seconds = written / 10**7 - 11644473600
    assert abs(seconds - (source / "file2.txt").stat().st_mtime) < 5
    assert all(isinstance(v, int) for v in (attributes, created, accessed, reserved))
    assert by_name["deeper"][0] & 0x10  # FILE_ATTRIBUTE_DIRECTORY


def test_the_answer_of_each_kind_of_message_is_checked(tmp_path, source):
    def bad(message, a, b):
        return "yes" if message == _dism.WIM_MSG_PROCESS else None

    path = tmp_path / "bad.wim"
    with new_wim(path) as wim:
        with pytest.raises(TypeError, match="message callback") as e:
            _dism.wim_capture_image(wim, source, 0, messages=Messages(bad))
    assert e.value.completed is False
    assert not path.exists()


# ---- cancellation -----------------------------------------------------------------

class Boom(Exception):
    pass


def test_a_callback_exception_cancels_and_is_raised(tmp_path, source):
    calls = []

    def explode(message, a, b):
        calls.append(message)
        if message == _dism.WIM_MSG_PROCESS:
            raise Boom("from the callback")

    path = tmp_path / "boom.wim"
    with new_wim(path) as wim:
        with pytest.raises(Boom) as e:
            _dism.wim_capture_image(wim, source, 0, messages=explode)
        assert e.value.completed is False
        assert calls.count(_dism.WIM_MSG_PROCESS) == 1  # nothing after the exception
        assert _dism.wim_get_image_count(wim) == 0
    assert not path.exists()  # a failed capture leaves no new WIM


def test_abort_returned_by_the_callback(tmp_path, wim_path):
    def abort(message, a, b):
        return _dism.WIM_MSG_ABORT_IMAGE if message == _dism.WIM_MSG_PROCESS else None

    target = tmp_path / "t"
    target.mkdir()
    with open_wim(wim_path, READ) as wim, _dism.wim_load_image(wim, 1) as image:
        with pytest.raises(_dism.CancelledError) as e:
            _dism.wim_apply_image(image, target, 0, messages=abort)
    assert e.value.hresult == HR(ERROR_REQUEST_ABORTED) and e.value.completed is False
    assert "stay in the target folder" in e.value.outcome  # not "nothing was saved"


def test_a_cancel_token(tmp_path, wim_path, source):
    token = threading.Event()

    def set_token(message, a, b):
        if message == _dism.WIM_MSG_PROCESS:
            token.set()

    path = tmp_path / "cancelled.wim"
    with new_wim(path) as wim:
        with pytest.raises(_dism.CancelledError) as e:
            _dism.wim_capture_image(wim, source, 0, messages=set_token, cancel=token)
        assert e.value.completed is False
        # An already-set token: WIMGAPI is not called at all.
        with pytest.raises(_dism.CancelledError) as e:
            _dism.wim_capture_image(wim, source, 0, cancel=token)
        assert e.value.completed is False
    assert not path.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is POSIX's")
def test_ctrl_c_during_a_long_call(tmp_path):
    source = make_tree(tmp_path / "src", files=200, payload=24 * 1024 * 1024)
    sent = []

    def interrupt(message, a, b):
        if message == _dism.WIM_MSG_PROCESS and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the waiting thread runs the handler meanwhile

    path = tmp_path / "interrupted.wim"
    with new_wim(path) as wim:
        with pytest.raises(KeyboardInterrupt) as e:
            _dism.wim_capture_image(wim, source, 0, messages=interrupt)
        assert e.value.completed is False
    assert sent and not path.exists()


# ---- threads and the lock ------------------------------------------------------------

def test_close_waits_for_a_call_in_flight(tmp_path):
    source = make_tree(tmp_path / "src", payload=4 * 1024 * 1024)
    path = tmp_path / "w.wim"
    with new_wim(path) as wim:
        capture(wim, source, "W").close()
    wim = open_wim(path, READ)
    image = _dism.wim_load_image(wim, 1)
    started, order = threading.Event(), []

    def slow(message, a, b):
        started.set()
        time.sleep(0.002)

    def apply():
        target = tmp_path / "t"
        target.mkdir()
        _dism.wim_apply_image(image, target, 0, messages=slow)
        order.append("applied")

    worker = threading.Thread(target=apply)
    worker.start()
    assert started.wait(30)
    wim.close()  # waits for the apply holding the file's lock, then closes both
    order.append("closed")
    worker.join()
    assert order == ["applied", "closed"]
    assert wim.closed and image.closed
    assert tree_files(tmp_path / "t") == tree_files(source)


def test_a_callback_using_its_own_wim_gets_busy(tmp_path, source):
    holder = {}

    def reenter(message, a, b):
        if message == _dism.WIM_MSG_PROCESS:
            _dism.wim_get_image_count(holder["wim"])

    with new_wim(tmp_path / "r.wim") as wim:
        holder["wim"] = wim
        with pytest.raises(_dism.BusyError) as e:
            _dism.wim_capture_image(wim, source, 0, messages=reenter)
        assert e.value.hresult == HR(ERROR_BUSY) and e.value.completed is False


def test_exports_in_opposite_directions_do_not_deadlock(tmp_path, wim_path):
    """Each export locks two files; both threads take them in one order."""
    other = tmp_path / "other.wim"
    with open_wim(wim_path) as a, new_wim(other) as b:
        with _dism.wim_load_image(a, 1) as image:
            _dism.wim_export_image(image, b, 0)
        errors, rounds = [], 4

        def export(source, dest):
            try:
                for _ in range(rounds):
                    with _dism.wim_load_image(source, 1) as image:
                        _dism.wim_export_image(image, dest, _dism.WIM_EXPORT_ALLOW_DUPLICATES,
                                               messages=lambda m, x, y: time.sleep(0))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=export, args=(a, b)),
                   threading.Thread(target=export, args=(b, a))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads), "the exports deadlocked"
        assert errors == []
        assert _dism.wim_get_image_count(a) == 2 + rounds
        assert _dism.wim_get_image_count(b) == 1 + rounds


def test_calls_from_many_threads_on_one_handle(wim_path):
    with open_wim(wim_path, READ) as wim:
        errors = []

        def work():
            try:
                for _ in range(50):
                    assert _dism.wim_get_image_count(wim) == 2
                    with _dism.wim_load_image(wim, 2) as image:
                        assert "Second" in _dism.wim_get_image_information(image)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


# ---- references and memory -------------------------------------------------------------

def test_reference_counts_stay_put(tmp_path, wim_path):
    rec = Messages()
    with open_wim(wim_path, READ) as wim, _dism.wim_load_image(wim, 1) as image:
        before = (sys.getrefcount(wim), sys.getrefcount(image), sys.getrefcount(rec))
        for _ in range(20):
            _dism.wim_get_attributes(wim)
            _dism.wim_get_image_information(image)
            _dism.wim_apply_image(image, None, _dism.WIM_FLAG_NO_APPLY | _dism.WIM_FLAG_FILEINFO,
                                  messages=rec)
            with pytest.raises(_dism.InvalidArgumentError):
                _dism.wim_load_image(wim, 9)
        rec.seen.clear()
        after = (sys.getrefcount(wim), sys.getrefcount(image), sys.getrefcount(rec))
    assert before == after


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_repeated_calls_keep_memory_flat(wim_path):
    def round_of_calls(n):
        for _ in range(n):
            with open_wim(wim_path, READ) as wim, _dism.wim_load_image(wim, 1) as image:
                _dism.wim_get_attributes(wim)
                _dism.wim_get_image_information(image)
                _dism.wim_get_image_information(wim)
                try:
                    _dism.wim_load_image(wim, 7)
                except _dism.InvalidArgumentError:
                    pass

    round_of_calls(100)  # warm up allocators and caches
    gc.collect()
    start = rss_kib()
    round_of_calls(3000)
    gc.collect()
    # A leaked XML buffer alone (2 per round, 4-byte characters) would be
    # over 10 MiB.
    assert rss_kib() - start < 3072, "3000 rounds of calls grew RSS by more than 3 MiB"


# ---- under AddressSanitizer and UBSan -----------------------------------------------------

SANITIZED_RUN = textwrap.dedent("""
    import os, sys, threading, time
    from pathlib import Path
    from dism import _dism
    assert _dism.__file__.startswith(os.environ["SANITIZED_PACKAGE"]), _dism.__file__
    root = Path(os.environ["SANITIZED_ROOT"])
    src = root / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(20):
        (src / f"f{i}.txt").write_text("x" * (i * 100))
    (src / "sub" / "big.bin").write_bytes(os.urandom(2_000_000))
    W, R = _dism.WIM_GENERIC_WRITE, _dism.WIM_GENERIC_READ
    seen = []
    rec = lambda m, a, b: seen.append((m, a, b))
    def skip(m, a, b):
        return False if m == _dism.WIM_MSG_PROCESS and a.endswith("f3.txt") else None
    def boom(m, a, b):
        raise LookupError("boom")
    wim, _ = _dism.wim_create_file(root / "a.wim", W, _dism.WIM_CREATE_NEW, 0, 2)
    _dism.wim_set_temporary_path(wim, root)
    img = _dism.wim_capture_image(wim, src, 0, messages=rec)
    _dism.wim_set_image_information(img, "<IMAGE><NAME>A \u00fc \U0001d11e</NAME></IMAGE>")
    assert "\U0001d11e" in _dism.wim_get_image_information(img)
    _dism.wim_capture_image(wim, src, 0, messages=skip).close()
    _dism.wim_get_attributes(wim)
    _dism.wim_set_boot_image(wim, 1)
    try:
        _dism.wim_capture_image(wim, src, 0, messages=boom)
    except LookupError as e:
        assert e.completed is False
    out = root / "out"
    out.mkdir()
    _dism.wim_apply_image(img, out, 0, messages=rec)
    _dism.wim_apply_image(img, None, _dism.WIM_FLAG_NO_APPLY | _dism.WIM_FLAG_FILEINFO,
                          messages=rec)
    _dism.wim_extract_image_path(img, "sub/big.bin", root / "big.copy", 0, messages=rec)
    dest, _ = _dism.wim_create_file(root / "b.esd", W, _dism.WIM_CREATE_NEW,
                                    _dism.WIM_FLAG_CHUNKED, _dism.WIM_COMPRESS_LZMS)
    _dism.wim_export_image(img, dest, 0, messages=rec)
    try:
        _dism.wim_export_image(img, dest, 0)
    except _dism.DismError as e:
        assert "WIMExportImage" in str(e)
    dest.close()
    img.close()
    _dism.wim_delete_image(wim, 2, messages=rec)
    size = _dism.wim_split_file(wim, root / "p.swm", 0, 0)
    _dism.wim_split_file(wim, root / "p.swm", size, 0, messages=rec)
    image = _dism.wim_load_image(wim, 1)
    listing = threading.Thread(target=lambda: _dism.wim_apply_image(
        image, None, _dism.WIM_FLAG_NO_APPLY, messages=lambda *a: time.sleep(0.001)))
    listing.start()
    time.sleep(0.01)
    wim.close()
    listing.join()
    assert image.closed and len(seen) > 100
    for bad in (lambda: _dism.wim_load_image(wim, 1),
                lambda: _dism.wim_create_file(root / "nope.wim", R, 3, 0, 0)):
        try:
            bad()
        except _dism.DismError:
            pass
    again, _ = _dism.wim_create_file(root / "a.wim", R, 3, 0, 0)
    dropped = _dism.wim_load_image(again, 1)
    del again, dropped
    print("CLEAN")
""")


@pytest.mark.skipif(sys.platform == "win32", reason="the sanitized build is the portable one")
def test_every_function_runs_clean_under_asan_and_ubsan(tmp_path_factory):
    try:
        package = build_sanitized_package(tmp_path_factory.mktemp("sanitized"))
    except SanitizerUnavailable as why:  # a failure in CI, which must have it
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"no sanitized build: {why}")
    work = tmp_path_factory.mktemp("sanitized-run")
    ran = run_sanitized(package, SANITIZED_RUN, cwd=work, SANITIZED_PACKAGE=str(package),
                        SANITIZED_ROOT=str(work))
    assert sanitizer_reports(ran.stderr) == [], ran.stderr
    assert ran.returncode == 0 and ran.stdout.strip() == "CLEAN", ran.stderr
