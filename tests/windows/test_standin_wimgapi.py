"""The extension's WIMGAPI binding (src/ext/imaging/) run for real on Windows
CPython (under Wine, by scripts/test-windows.sh) against the stand-in
wimgapi.dll in System32 (tests/windows/standin/wimgapi), with a planted copy
first on PATH that must never load (src/windows/library.c binds System32's
only).

Every `_dism.wim_*` function runs here; each result is checked field by
field against what the stand-in answers, each call's arguments against the
stand-in's call log (what the DLL received), each message as the binding
hands it to Python (common12.md's table), and after every test that every
handle came back through WIMCloseHandle and every callback was
unregistered.  Skipped (conftest) where System32 holds Microsoft's DLLs.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import shutil
import threading
import time
import uuid
from ctypes import wintypes
from pathlib import Path

import pytest

from dism import _dism
from support.windows import KERNEL32_PROBE_SETUP, run_in_own_console, run_python

CLEF = "\U0001D11E"
FACE = "\U0001F600"
HR = lambda code: 0x80070000 | code  # noqa: E731  HRESULT_FROM_WIN32
ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION = 2, 5, 32
ERROR_NOT_SUPPORTED, ERROR_INVALID_PARAMETER, ERROR_MOD_NOT_FOUND = 50, 87, 126
ERROR_REQUEST_ABORTED = 1235
READ, WRITE = _dism.WIM_GENERIC_READ, _dism.WIM_GENERIC_WRITE
# The stand-in's GUID {00112233-4455-6677-8899-AABBCCDDEEFF}, as WIM_INFO holds it.
STANDIN_GUID = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff").bytes_le
MINIMUM_PART = 1048576


def system32_wimgapi() -> Path:
    return Path(os.environ["SystemRoot"]) / "System32" / "wimgapi.dll"


class WimStandin:
    """ctypes view of the stand-in's StandinWim* exports (loaded by the full
    path the extension's hook loads it by: the same module)."""

    def __init__(self, path: Path):
        self.dll = ctypes.WinDLL(str(path))
        self.dll.StandinWimOpenHandles.restype = ctypes.c_long
        self.dll.StandinWimGlobalCallbacks.restype = wintypes.DWORD
        self.dll.StandinWimCallLog.restype = ctypes.c_uint
        self.dll.StandinWimCallLog.argtypes = [ctypes.c_wchar_p, ctypes.c_uint]
        self.dll.StandinWimIdentity.restype = ctypes.c_wchar_p
        self.dll.StandinWimMessageThreadId.restype = wintypes.DWORD
        self.dll.StandinWimWatchLocalFree.restype = wintypes.DWORD
        self.dll.StandinWimWatchLocalFree.argtypes = [wintypes.HMODULE]
        self.dll.StandinWimXmlOutstanding.restype = wintypes.DWORD

    def open_handles(self) -> int:
        return self.dll.StandinWimOpenHandles()

    def log(self) -> list:
        buf = ctypes.create_unicode_buffer(70000)
        self.dll.StandinWimCallLog(buf, len(buf))
        return buf.value.splitlines()

    def clear(self) -> None:
        self.dll.StandinWimClearLog()


@pytest.fixture(scope="module")
def standin() -> WimStandin:
    # The first WIMGAPI call loads System32's copy through the extension.
    assert _dism.wim_create_file is not None
    view = WimStandin(system32_wimgapi())
    assert view.dll.StandinWimIdentity() == "system32"
    # Count what comes back through the extension's LocalFree.
    pyd = ctypes.WinDLL(_dism.__file__)
    assert view.dll.StandinWimWatchLocalFree(pyd._handle) == 0
    return view


@pytest.fixture(autouse=True)
def every_handle_closed(standin):
    standin.clear()
    yield
    gc.collect()
    assert standin.open_handles() == 0, standin.log()
    assert standin.dll.StandinWimGlobalCallbacks() == 0
    assert standin.dll.StandinWimXmlOutstanding() == 0, "an XML buffer was not LocalFree'd"
    registered = [line for line in standin.log() if line.startswith("WIMRegisterMessageCallback")]
    unregistered = [line for line in standin.log()
                    if line.startswith("WIMUnregisterMessageCallback")]
    assert len(registered) == len(unregistered), standin.log()


def opened(path=f"C:\\images\\{CLEF} music.wim", access=READ, flags=0):
    wim, result = _dism.wim_create_file(path, access, _dism.WIM_OPEN_EXISTING, flags, 0)
    assert result == _dism.WIM_OPENED_EXISTING
    return wim


def created(path="C:\\images\\new.wim", compression=_dism.WIM_COMPRESS_LZX):
    wim, result = _dism.wim_create_file(path, WRITE, _dism.WIM_CREATE_NEW, 0, compression)
    assert result == _dism.WIM_CREATED_NEW
    return wim


class Recorder:
    """A messages callable: records (message, a, b, native thread id) and
    answers from `answers` (message -> function of (a, b))."""

    def __init__(self, **answers):
        self.seen, self.answers = [], answers

    def __call__(self, message, a, b):
        self.seen.append((message, a, b, threading.get_native_id()))
        for name, answer in self.answers.items():
            if message == getattr(_dism, name):
                return answer(a, b)
        return None

    def of(self, name: str) -> list:
        return [(a, b) for m, a, b, _ in self.seen if m == getattr(_dism, name)]


# ---- the DLL that is loaded ----------------------------------------------------------------

def loaded_wimgapi() -> str:
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetModuleHandleW.restype = wintypes.HMODULE
    kernel32.GetModuleHandleW.argtypes = [wintypes.LPCWSTR]
    kernel32.GetModuleFileNameW.argtypes = [wintypes.HMODULE, wintypes.LPWSTR, wintypes.DWORD]
    module = kernel32.GetModuleHandleW("wimgapi.dll")
    assert module, "wimgapi.dll is not loaded"
    name = ctypes.create_unicode_buffer(32768)
    assert kernel32.GetModuleFileNameW(module, name, len(name))
    return name.value


def test_system32s_copy_is_loaded_not_the_planted_one(standin):
    with opened():
        pass
    assert Path(loaded_wimgapi()).resolve() == system32_wimgapi().resolve()
    planted = shutil.which("wimgapi.dll")
    # The lane puts a planted copy first on PATH (WINEPATH): it stays unloaded.
    if planted:
        assert Path(planted).resolve() != system32_wimgapi().resolve()


# ---- short calls -----------------------------------------------------------------------

def test_create_file_and_attributes_field_by_field(standin):
    flags = _dism.WIM_FLAG_VERIFY | _dism.WIM_FLAG_CHUNKED
    path = f"C:\\images\\{CLEF} music.wim"
    with opened(path, flags=flags) as wim:
        assert _dism.wim_get_attributes(wim) == (
            path, STANDIN_GUID, 3, _dism.WIM_COMPRESS_LZX, 1, 1, 2,
            _dism.WIM_ATTRIBUTE_VERIFY_DATA | _dism.WIM_ATTRIBUTE_RP_FIX, flags)
        assert _dism.wim_get_image_count(wim) == 3
        assert not wim.closed
    assert wim.closed
    assert standin.log() == [
        f"WIMCreateFile|{path}|0x80000000|3|0x20000002|0|result",
        "WIMGetAttributes|560", "WIMGetImageCount", "WIMCloseHandle|wim|0"]


def test_a_new_wim_and_a_part_of_a_split_one(standin):
    with created(compression=_dism.WIM_COMPRESS_LZMS) as wim:
        assert _dism.wim_get_image_count(wim) == 0
        attributes = _dism.wim_get_attributes(wim)
        assert attributes[2:7] == (0, _dism.WIM_COMPRESS_LZMS, 1, 1, 0)
    with opened("C:\\images\\split.swm") as part:
        attributes = _dism.wim_get_attributes(part)
        assert attributes[4:6] == (2, 3)
        assert attributes[7] & _dism.WIM_ATTRIBUTE_SPANNED


def test_temporary_path_references_and_boot_image(standin):
    with opened(access=WRITE) as wim:
        _dism.wim_set_temporary_path(wim, f"D:\\scratch {FACE}")
        _dism.wim_set_reference_file(wim, "C:\\images\\split2.swm", _dism.WIM_REFERENCE_APPEND)
        _dism.wim_set_reference_file(wim, None, _dism.WIM_REFERENCE_REPLACE)
        _dism.wim_set_boot_image(wim, 3)
        assert _dism.wim_get_attributes(wim)[6] == 3
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_set_boot_image(wim, 9)
        assert e.value.hresult == HR(ERROR_INVALID_PARAMETER)
        assert "WIMSetBootImage" in str(e.value)
    assert standin.log()[1:5] == [
        f"WIMSetTemporaryPath|D:\\scratch {FACE}",
        "WIMSetReferenceFile|C:\\images\\split2.swm|0x00010000",
        "WIMSetReferenceFile|<null>|0x00020000", "WIMSetBootImage|3"]


@pytest.mark.parametrize("code", [ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED, 11])
def test_a_failure_raises_the_typed_error_with_the_systems_sentence(code):
    with pytest.raises(_dism.DismError) as e:
        _dism.wim_create_file(f"fail:{code}", READ, _dism.WIM_OPEN_EXISTING, 0, 0)
    assert e.value.hresult == HR(code)
    message = str(e.value)
    assert "WIMCreateFile: " in message  # then FormatMessageW's sentence
    assert message.split("WIMCreateFile: ", 1)[1].strip()


def test_last_errors_are_per_thread():
    """Each thread's failures raise its own code, although the DLL sets
    another one on its message thread and other threads fail meanwhile."""
    seen, errors = {}, []

    def fail_many(code):
        try:
            for _ in range(30):
                with pytest.raises(_dism.DismError) as e:
                    _dism.wim_create_file(f"fail:{code}", READ, _dism.WIM_OPEN_EXISTING, 0, 0)
                seen.setdefault(code, set()).add(e.value.hresult)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=fail_many, args=(code,)) for code in (2, 3, 5, 32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert seen == {code: {HR(code)} for code in (2, 3, 5, 32)}


def test_load_image_and_the_xml_both_ways(standin):
    with opened(access=WRITE) as wim:
        assert _dism.wim_get_image_information(wim).startswith(
            f'<WIM><TOTALBYTES>4096</TOTALBYTES><IMAGE INDEX="1"><NAME>Clef {CLEF}</NAME>')
        with _dism.wim_load_image(wim, 2) as image:
            xml = _dism.wim_get_image_information(image)
            # No BOM, no NUL: exactly the text.
            assert xml == (f'<IMAGE INDEX="2"><NAME>Image 2 {CLEF}</NAME>'
                           "<DESCRIPTION>stand-in</DESCRIPTION></IMAGE>")
            new = f"<IMAGE><NAME>Renamed {FACE}</NAME></IMAGE>"
            _dism.wim_set_image_information(image, new)
            assert _dism.wim_get_image_information(image) == new
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_load_image(wim, 4)
        assert e.value.hresult == HR(ERROR_INVALID_PARAMETER)
    # The XML went in with a BOM and its NUL counted.
    assert f"WIMSetImageInformation|image|bom=1|nul=1|{new}" in standin.log()
    assert standin.dll.StandinWimXmlOutstanding() == 0


def test_closing_a_file_closes_its_images_first(standin):
    wim = opened()
    first, second = _dism.wim_load_image(wim, 1), _dism.wim_load_image(wim, 3)
    first.close()
    first.close()  # idempotent
    wim.close()
    assert first.closed and second.closed and wim.closed
    closes = [line for line in standin.log() if line.startswith("WIMCloseHandle")]
    assert closes == ["WIMCloseHandle|image|1", "WIMCloseHandle|image|3", "WIMCloseHandle|wim|0"]
    with pytest.raises(_dism.DismError) as e:
        _dism.wim_get_image_count(wim)
    assert e.value.hresult == HR(6)  # ERROR_INVALID_HANDLE, before any WIMGAPI call


def test_a_dropped_handle_is_closed(standin):
    wim = opened()
    image = _dism.wim_load_image(wim, 1)
    del wim, image
    gc.collect()
    assert standin.open_handles() == 0


# ---- long calls and their messages -----------------------------------------------------------

def test_capture_converts_every_message_and_honours_the_answers(standin):
    source = "C:\\source errors"
    rec = Recorder(WIM_MSG_PROCESS=lambda a, b: False if a.endswith("skip me.txt") else None,
                   WIM_MSG_COMPRESS=lambda a, b: False if a.endswith("a.txt") else None,
                   WIM_MSG_ERROR=lambda a, b: _dism.WIM_MSG_SKIP_ERROR)
    with created() as wim:
        with _dism.wim_capture_image(wim, source, _dism.WIM_FLAG_VERIFY, messages=rec) as image:
            assert _dism.wim_get_image_count(wim) == 1
            assert not image.closed
    files = [f"{source}\\Windows\\a.txt", f"{source}\\Windows\\{CLEF} clef.txt",
             f"{source}\\skip me.txt"]
    locked = f"{source}\\locked.sys"
    assert rec.of("WIM_MSG_TEXT") == [(f"stand-in {CLEF}", None)]
    assert rec.of("WIM_MSG_SCANNING") == [(1, 2)]
    assert rec.of("WIM_MSG_SETRANGE") == [(0, 3)]
    assert rec.of("WIM_MSG_PROCESS") == [(f, None) for f in files]
    assert rec.of("WIM_MSG_COMPRESS") == [(f, None) for f in files[:2]]
    assert rec.of("WIM_MSG_SETPOS") == [(0, 1), (0, 2), (0, 3)]
    assert rec.of("WIM_MSG_STEPIT") == [(None, None)] * 3
    assert rec.of("WIM_MSG_WARNING") == [(locked, ERROR_NOT_SUPPORTED)]
    assert rec.of("WIM_MSG_RETRY") == [(locked, ERROR_SHARING_VIOLATION)]
    assert rec.of("WIM_MSG_ERROR") == [(locked, ERROR_SHARING_VIOLATION)]
    assert (_dism.WIM_MSG + 30, 7, 9) in [(m, a, b) for m, a, b, _ in rec.seen]
    progress = rec.of("WIM_MSG_PROGRESS")
    assert [a for a, _ in progress] == [0, 25, 50, 75, 100] and progress[-1][1] == 0
    assert rec.of("WIM_MSG_QUERY_ABORT") == [(0, 0)] * 5
    # From the DLL's own thread, never the caller's.
    threads = {thread for *_, thread in rec.seen}
    assert threads == {standin.dll.StandinWimMessageThreadId()}
    assert threading.get_native_id() not in threads
    log = standin.log()
    assert f"WIMCaptureImage|{source}|0x00000002" in log
    assert f"skipped {files[2]}" in log and f"stored {files[0]}" in log
    assert f"error skipped {locked}" in log


def test_an_error_not_skipped_fails_the_call(standin):
    with created() as wim:
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_capture_image(wim, "C:\\errors", 0, messages=Recorder())
        assert e.value.hresult == HR(ERROR_SHARING_VIOLATION)
        assert "WIMCaptureImage" in str(e.value)
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_capture_image(wim, "C:\\errors", 0)  # no callback at all
        assert _dism.wim_get_image_count(wim) == 0


def test_apply_sends_file_information(standin):
    rec = Recorder()
    with opened() as wim, _dism.wim_load_image(wim, 2) as image:
        _dism.wim_apply_image(image, f"D:\\target {FACE}", _dism.WIM_FLAG_FILEINFO, messages=rec)
        _dism.wim_apply_image(image, None, _dism.WIM_FLAG_NO_APPLY)
    a, info = rec.of("WIM_MSG_FILEINFO")[0]
    assert a == f"D:\\target {FACE}\\Windows\\a.txt"
    # FILE_ATTRIBUTE_ARCHIVE | READONLY; FILETIMEs; a 64-bit size; the reparse tag.
    assert info == (0x21, (0x01D00000 << 32) | 0x11111111, (0x01D00001 << 32) | 0x22222222,
                    (0x01D00002 << 32) | 0x33333333, (1 << 32) | 16, 0xA000000C)
    assert len(rec.of("WIM_MSG_FILEINFO")) == 3
    assert f"WIMApplyImage|D:\\target {FACE}|0x00000080" in standin.log()
    assert "WIMApplyImage|<null>|0x00000008" in standin.log()


def test_export_and_delete(standin):
    rec = Recorder()
    with opened() as source, created("C:\\images\\out.esd", _dism.WIM_COMPRESS_LZMS) as dest:
        with _dism.wim_load_image(source, 3) as image:
            _dism.wim_export_image(image, dest, _dism.WIM_EXPORT_ALLOW_DUPLICATES, messages=rec)
            assert _dism.wim_get_image_count(dest) == 1
            with pytest.raises(_dism.DismError) as e:
                _dism.wim_export_image(image, source, 0)  # read-only destination
            assert e.value.hresult == HR(ERROR_ACCESS_DENIED)
    assert [a for a, _ in rec.of("WIM_MSG_PROGRESS")] == [0, 25, 50, 75, 100]
    assert "WIMExportImage|C:\\images\\out.esd|3|0x00000001" in standin.log()
    with opened(access=WRITE) as wim:
        _dism.wim_delete_image(wim, 2, messages=Recorder())
        _dism.wim_delete_image(wim, 1)
        assert _dism.wim_get_image_count(wim) == 1
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_delete_image(wim, 1)  # the only image
        assert e.value.hresult == HR(ERROR_ACCESS_DENIED)
    assert standin.log().count("WIMDeleteImage|1") == 2


def test_split_query_and_parts(standin):
    rec = Recorder()
    with opened() as wim:
        assert _dism.wim_split_file(wim, "C:\\out\\part.swm", 0, 0) == MINIMUM_PART
        assert _dism.wim_split_file(wim, "C:\\out\\part.swm", 2 * MINIMUM_PART, 0,
                                    messages=rec) == 2 * MINIMUM_PART
    assert rec.of("WIM_MSG_SPLIT") == [("C:\\out\\part.swm", (1 << 32) + 1),
                                       ("C:\\out\\part2.swm", (1 << 32) + 2),
                                       ("C:\\out\\part3.swm", (1 << 32) + 3)]
    splits = [line for line in standin.log() if line.startswith("WIMSplitFile")]
    assert splits == ["WIMSplitFile|C:\\out\\part.swm|0|0x00000000",
                      f"WIMSplitFile|C:\\out\\part.swm|{2 * MINIMUM_PART}|0x00000000"]


def test_extract_image_path(standin):
    with opened() as wim, _dism.wim_load_image(wim, 1) as image:
        _dism.wim_extract_image_path(image, f"Windows\\{CLEF}.txt", f"D:\\out\\{CLEF}.txt", 0)
        with pytest.raises(_dism.DismError) as e:
            _dism.wim_extract_image_path(image, "Windows\\missing.txt", "D:\\out\\m.txt", 0)
        assert e.value.hresult == HR(ERROR_FILE_NOT_FOUND)
    assert f"WIMExtractImagePath|Windows\\{CLEF}.txt|D:\\out\\{CLEF}.txt|0x00000000" in \
        standin.log()


# ---- cancel ---------------------------------------------------------------------------------

class Boom(Exception):
    pass


def test_abort_answered_to_process_cancels(standin):
    rec = Recorder(WIM_MSG_PROCESS=lambda a, b: _dism.WIM_MSG_ABORT_IMAGE)
    with opened() as wim, _dism.wim_load_image(wim, 1) as image:
        with pytest.raises(_dism.CancelledError) as e:
            _dism.wim_apply_image(image, "D:\\t", 0, messages=rec)
    assert e.value.hresult == HR(ERROR_REQUEST_ABORTED) and e.value.completed is False
    assert len(rec.of("WIM_MSG_PROCESS")) == 1 and "aborted" in standin.log()


def test_a_callback_exception_cancels_and_is_raised(standin):
    def explode(message, a, b):
        if message == _dism.WIM_MSG_PROCESS:
            raise Boom("from the callback")

    with created() as wim:
        with pytest.raises(Boom) as e:
            _dism.wim_capture_image(wim, "C:\\src", 0, messages=explode)
        assert e.value.completed is False
        assert _dism.wim_get_image_count(wim) == 0
    assert "aborted" in standin.log()


def test_a_cancel_token_stops_a_slow_call(standin):
    token = threading.Event()
    with opened() as wim, _dism.wim_load_image(wim, 1) as image:
        timer = threading.Timer(0.5, token.set)
        timer.start()
        started = time.monotonic()
        with pytest.raises(_dism.CancelledError) as e:
            _dism.wim_apply_image(image, "D:\\slow", 0, cancel=token)
        elapsed = time.monotonic() - started
        timer.join()
    assert e.value.completed is False
    assert elapsed < 3.5, elapsed  # the DLL's 400 steps take about four seconds
    assert "aborted" in standin.log()


CONSOLE_CTRL_C_PROBE = r'''
import ctypes, json, sys, traceback
result = {}
try:
    from dism import _dism
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    progress = []

    def messages(message, a, b):
        if message == _dism.WIM_MSG_PROGRESS:
            progress.append(a)
            if len(progress) == 5:
                # What a Ctrl+C typed into this console sends.
                result["sent"] = bool(kernel32.GenerateConsoleCtrlEvent(0, 0))

    wim, _ = _dism.wim_create_file("C:\\images\\w.wim", _dism.WIM_GENERIC_READ,
                                   _dism.WIM_OPEN_EXISTING, 0, 0)
    with wim, _dism.wim_load_image(wim, 1) as image:
        try:
            _dism.wim_apply_image(image, "D:\\slow", 0, messages=messages)
            result["raised"] = None
        except KeyboardInterrupt as error:
            result.update(raised="KeyboardInterrupt", completed=getattr(error, "completed", None))
    result["progress"] = max(progress, default=0)
    standin = ctypes.WinDLL(sys.argv[2])
    result["open_handles"] = standin.StandinWimOpenHandles()
except BaseException:
    result["crash"] = traceback.format_exc()
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(result, out)
'''


def test_a_console_ctrl_c_cancels_a_long_call_in_the_dll(tmp_path):
    result = run_in_own_console(CONSOLE_CTRL_C_PROBE, tmp_path, str(system32_wimgapi()))
    assert result["sent"] is True, result
    assert result["raised"] == "KeyboardInterrupt" and result["completed"] is False, result
    assert result["progress"] < 100, result  # the DLL stopped before its last step
    assert result["open_handles"] == 0, result


# ---- the loader, in fresh processes ------------------------------------------------------------

LOADER_PROBE = r'''
import ctypes, json, os, sys
from ctypes import wintypes
from dism import _dism

''' + KERNEL32_PROBE_SETUP + r'''

def module():
    handle = kernel32.GetModuleHandleW("wimgapi.dll")
    if not handle:
        return None
    name = ctypes.create_unicode_buffer(32768)
    kernel32.GetModuleFileNameW(handle, name, len(name))
    address = kernel32.GetProcAddress(handle, b"StandinWimIdentity")
    identity = ctypes.WINFUNCTYPE(ctypes.c_wchar_p)(address)() if address else None
    return [name.value, identity]


report = {}
try:
    wim, _ = _dism.wim_create_file("C:\\images\\w.wim", _dism.WIM_GENERIC_READ,
                                   _dism.WIM_OPEN_EXISTING, 0, 0)
    report["count"] = _dism.wim_get_image_count(wim)
    if "free_once" in sys.argv[1:]:
        # What the delay-load helper does with the hook's handle when two
        # threads bind at once: FreeLibrary, once.
        kernel32.FreeLibrary(kernel32.GetModuleHandleW("wimgapi.dll"))
        report["still_loaded"] = bool(kernel32.GetModuleHandleW("wimgapi.dll"))
        report["again"] = _dism.wim_get_image_count(wim)
    wim.close()
except Exception as error:
    report["error"] = [type(error).__name__, getattr(error, "hresult", None), str(error)]
report["module"] = module()
print(json.dumps(report))
'''


def run_loader_probe(*args, cwd=None, path_front=None) -> dict:
    env = dict(os.environ)
    if path_front is not None:
        env["PATH"] = str(path_front) + os.pathsep + env.get("PATH", "")
    run = run_python(LOADER_PROBE, *args, cwd=cwd, env=env)
    assert run.returncode == 0, (run.returncode, run.stdout, run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def planted(tmp_path, standins) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(standins / "wimgapi-planted" / "wimgapi.dll", folder / "wimgapi.dll")
    return folder


@pytest.fixture
def system32_copy_missing():
    """System32's wimgapi.dll moved away for one test (Wine allows renaming
    a loaded DLL; the file comes back whatever happens)."""
    path = system32_wimgapi()
    moved = path.with_name("wimgapi.dll.moved-by-test")
    os.replace(path, moved)
    try:
        yield path
    finally:
        if path.exists():
            path.unlink()
        os.replace(moved, path)


def test_a_planted_copy_in_the_current_folder_and_on_path_is_never_loaded(planted):
    report = run_loader_probe(cwd=planted, path_front=planted)
    assert report["count"] == 3, report
    assert report["module"][1] == "system32", report
    assert Path(report["module"][0]).resolve() == system32_wimgapi().resolve()


def test_without_the_system32_copy_the_planted_one_is_still_refused(
        planted, system32_copy_missing):
    """The load from System32 fails: the call raises (ERROR_MOD_NOT_FOUND)
    instead of letting the delay-load helper search the current folder and
    PATH, where the planted copy sits."""
    report = run_loader_probe(cwd=planted, path_front=planted)
    name, hresult, message = report["error"]
    assert hresult == HR(ERROR_MOD_NOT_FOUND), report
    assert "System32\\wimgapi.dll cannot be loaded" in message, report
    assert report["module"] is None, report


def test_a_wimgapi_dll_lacking_an_export_is_refused_before_any_call(
        standins, system32_copy_missing):
    """A missing export would otherwise be a delay-load exception (0xC06D007F)
    in the middle of the first call that needs it."""
    shutil.copy(standins / "wimgapi-lacking" / "wimgapi.dll", system32_copy_missing)
    report = run_loader_probe()
    name, hresult, message = report["error"]
    assert hresult == HR(127), report  # ERROR_PROC_NOT_FOUND
    assert "lacks WIMExtractImagePath" in message, report
    assert report["module"] is None, report  # not kept loaded either


def test_the_delay_load_helper_gets_a_reference_of_its_own():
    report = run_loader_probe("free_once")
    assert report["still_loaded"] is True, "the helper's FreeLibrary unloaded wimgapi.dll"
    assert report["again"] == 3 and report["module"][1] == "system32", report
