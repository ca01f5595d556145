"""DISM.exe's exit codes (the CLI's table for Windows and DISM.exe's
spelling), computed from real failures as the CLI catches them; the Windows
lane (tests/windows/test_standin_cli_exit_codes.py) checks the process exit
codes of `python -m dism` itself."""
from __future__ import annotations

import errno
import sys

import pytest

import dism
from dism import _dism
from dism.cli import exit_codes
from dism.cli.console import as_closed_pipe
from dism.cli.exit_codes import UsageError, dism_exe_exit_status, dism_exe_success_status
from dism.cli.syntax import uses_dism_exe_syntax
from dism.errors import with_code

from support.cli import run


def failure(cls, hresult):
    return with_code(cls, hresult, "what went wrong, and what to do")


@pytest.mark.parametrize("cls, hresult, code", [
    (dism.PathNotFoundError, 0x80070002, 2),            # ERROR_FILE_NOT_FOUND
    (dism.PathNotFoundError, 0x80070003, 3),            # ERROR_PATH_NOT_FOUND
    (dism.ElevationRequiredError, 0x80070005, 5),       # ERROR_ACCESS_DENIED
    (dism.InvalidArgumentError, 0x80070057, 87),        # E_INVALIDARG from DISM itself
    (dism.BusyError, 0x800700AA, 170),                  # ERROR_BUSY
    (dism.NotSupportedError, 0x80070032, 50),           # ERROR_NOT_SUPPORTED
])
def test_a_win32_failure_exits_with_its_win32_error(cls, hresult, code):
    assert dism_exe_exit_status(failure(cls, hresult)) == code


@pytest.mark.parametrize("cls, hresult, code", [
    # CBS_E_SOURCE_MISSING, DISM.exe's "source files could not be found".
    (dism.DismError, 0x800F081F, -2146498529),
    # DISMAPI_E_OPEN_SESSION_HANDLES
    (dism.OpenSessionsError, 0xC0040003, -1073479677),
    (dism.DismError, 0x80004005, -2147467259),           # E_FAIL
    # Facility Win32 but code 0: no Win32 error says "failed" with 0.
    (dism.DismError, 0x80070000, -2147024896),
])
def test_any_other_failure_exits_with_its_hresult_as_a_signed_number(cls, hresult, code):
    status = dism_exe_exit_status(failure(cls, hresult))
    assert status == code
    # What GetExitCodeProcess gives for it: the HRESULT's own bits.
    assert status & 0xFFFFFFFF == hresult


def test_a_failure_without_an_error_code_exits_with_e_fail():
    # A DismError must never exit 0 (success) because its code said so.
    assert dism_exe_exit_status(failure(dism.DismError, 0)) == _dism.E_FAIL - (1 << 32)
    assert dism_exe_exit_status(dism.DismError("no code at all")) == _dism.E_FAIL - (1 << 32)


def test_a_usage_error_exits_87():
    assert dism_exe_exit_status(UsageError("no verb given")) == 87


def test_a_cancel_exits_1223_whether_it_stopped_in_time_or_too_late():
    assert dism_exe_exit_status(KeyboardInterrupt()) == 1223
    for completed in (False, True):
        interrupt = KeyboardInterrupt()
        interrupt.completed = completed
        assert dism_exe_exit_status(interrupt) == 1223
        cancelled = failure(dism.CancelledError, _dism.HR_CANCELLED)
        cancelled.completed = completed
        assert dism_exe_exit_status(cancelled) == 1223
    # The POSIX table keeps telling the two apart.
    assert exit_codes.exit_status(interrupt) == exit_codes.EXIT_CANCELLED_TOO_LATE


def test_a_closed_pipe_exits_232_and_141_on_posix():
    assert dism_exe_exit_status(BrokenPipeError()) == 232
    assert exit_codes.exit_status(BrokenPipeError()) == 141


def test_a_success_exits_0_or_3010_when_a_restart_is_required():
    assert dism_exe_success_status(False) == 0
    assert dism_exe_success_status(True) == 3010


@pytest.mark.parametrize("argv, dism_exe", [
    (["/Get-ImageInfo", "/ImageFile:x.wim"], True),
    (["/image:C:\\mnt", "/get-features"], True),
    (["/Image:C:\\mnt", "/Cleanup-Image", "/CheckHealth"], True),
    (["/?"], True),
    (["/Capture-FFU", "/ImageFile:x.ffu"], True),     # a DISM.exe verb this CLI refuses
    (["get-imageinfo", "x.wim"], False),
    (["get-imageinfo", "/tmp/x.wim", "--index", "1"], False),   # a POSIX path, no verb
    ([], False),
])
def test_which_spelling_a_command_line_uses(argv, dism_exe):
    assert uses_dism_exe_syntax(argv) is dism_exe


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX table is the Linux one")
def test_off_windows_dism_exe_spelling_keeps_the_posix_table(capsys, tmp_path):
    code, _, err = run(capsys, "/Get-ImageInfo", f"/ImageFile:{tmp_path / 'missing.wim'}")
    assert code == exit_codes.EXIT_INVALID and "0x80070002" in err
    code, _, _ = run(capsys, "/Get-ImageInfo")
    assert code == exit_codes.EXIT_USAGE


def test_help_lists_both_tables(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for number in ("130", "141", "3010", "1223", "-2146498529"):
        assert number in out, number


def test_only_a_closed_pipe_counts_as_one():
    pipe = BrokenPipeError(32, "Broken pipe")
    assert as_closed_pipe(pipe) is pipe
    # EINVAL is how Windows reports it; elsewhere (and on Windows with the
    # reader still there, tests/windows) it is any other failure.
    if sys.platform != "win32":
        assert as_closed_pipe(OSError(errno.EINVAL, "Invalid argument")) is None
    assert as_closed_pipe(OSError(errno.ENOSPC, "No space left on device")) is None
