"""Exit status: the one place that maps outcomes to exit codes.

Two tables, each a list of rows below, printed by --help
(EXIT_STATUS_TABLE):

* the POSIX table (exit_status()): small codes by the class of the failure,
  as shell scripts expect; used on Linux, and on Windows for a command line
  in this CLI's own spelling (`get-imageinfo x.wim`);
* DISM.exe's (dism_exe_exit_status()): on Windows, a command line in
  DISM.exe's spelling (`/Get-ImageInfo /ImageFile:x.wim`) exits as DISM.exe
  does, so that a batch file's `%errorlevel%` checks keep working: 0,
  3010 when a restart is required, else the failure's Win32 error code (the
  low word of an HRESULT_FROM_WIN32 code, 0x80070002 -> 2), or its HRESULT as
  a signed 32-bit number (0x800F081F -> -2146498529, which the process
  exit code carries as 0x800F081F).

Also the failure the command line itself raises (UsageError) and the
HRESULTs it reports for failures that are not DISM's (a bad command line,
a Ctrl+C, DISM set up otherwise by the embedding process).
"""
from __future__ import annotations

import argparse
import textwrap
from typing import Optional, Sequence, Tuple

import dism
from dism import _dism

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_ELEVATION = 4
EXIT_CANCELLED = 5
EXIT_UNSUPPORTED = 6
EXIT_BUSY = 7
EXIT_CANCELLED_TOO_LATE = 8
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left

# DISM.exe's exit codes that are no failure's HRESULT: Win32 error codes.
ERROR_SUCCESS = 0
ERROR_INVALID_PARAMETER = 87
ERROR_NO_DATA = 232          # "the pipe is being closed": the reader went away
ERROR_CANCELLED = 1223
ERROR_SUCCESS_REBOOT_REQUIRED = 3010

#: (code, meaning) rows of the POSIX table.
POSIX_EXIT_ROWS: Tuple[Tuple[str, str], ...] = (
    (str(EXIT_OK), "success"),
    (str(EXIT_ERROR), "any other DISM error"),
    (str(EXIT_USAGE), "usage error: the command line is wrong"),
    (str(EXIT_INVALID), "invalid argument, no image with that index or name, nothing mounted "
                        "at the path, file or path not found, no package, feature, driver or "
                        "app by that name, invalid product key"),
    (str(EXIT_ELEVATION), "elevation (administrator rights) required"),
    (str(EXIT_CANCELLED), "the operation was cancelled"),
    (str(EXIT_UNSUPPORTED), "not supported on this platform, or not implemented by the engine"),
    (str(EXIT_BUSY), "busy: open sessions or handles, or the mount needs a remount"),
    (str(EXIT_CANCELLED_TOO_LATE), "cancelled or interrupted too late: the operation had passed "
                                   "the point where it can stop and completed (the message says "
                                   "what that means: a commit's changes were saved, a discard's "
                                   "discarded)"),
    (str(EXIT_INTERRUPTED), "interrupted (Ctrl+C) before anything was saved; or outside the "
                            "operation, and then the message says it cannot tell"),
    (str(EXIT_BROKEN_PIPE), "the output's reader went away (a closed pipe, as with `| head`)"),
)

#: (code, meaning) rows of DISM.exe's table (Windows, DISM.exe's spelling).
DISM_EXE_EXIT_ROWS: Tuple[Tuple[str, str], ...] = (
    (str(ERROR_SUCCESS), "success"),
    (str(ERROR_SUCCESS_REBOOT_REQUIRED), "success; a restart is required to finish "
                                         "(ERROR_SUCCESS_REBOOT_REQUIRED)"),
    (str(ERROR_INVALID_PARAMETER), "usage error: the command line is wrong "
                                   "(ERROR_INVALID_PARAMETER)"),
    (str(ERROR_NO_DATA), "the output's reader went away, a closed pipe (ERROR_NO_DATA)"),
    (str(ERROR_CANCELLED), "cancelled or interrupted (Ctrl+C), also when the cancel came too "
                           "late and the operation completed: the message says which "
                           "(ERROR_CANCELLED)"),
    ("N", "any other failure whose HRESULT is a Win32 error (0x8007NNNN): that error, "
          "such as 2 (file not found) or 5 (access denied: run elevated)"),
    ("-N", "any other failure: its HRESULT as a signed 32-bit number, as %errorlevel% shows "
           "it (0x800F081F, source files not found: -2146498529)"),
)

_CODE_WIDTH = 6


def _table(rows: Sequence[Tuple[str, str]]) -> str:
    """Rows as `  CODE  meaning`, the meaning wrapped under itself."""
    width = _CODE_WIDTH
    lines = []
    for code, meaning in rows:
        wrapped = textwrap.wrap(meaning, 78 - 2 - width)
        lines.append(f"  {code:<{width}}{wrapped[0]}")
        lines.extend(" " * (2 + width) + more for more in wrapped[1:])
    return "\n".join(lines) + "\n"


#: The table printed by --help; the package docstring holds the same text.
EXIT_STATUS_TABLE = (_table(POSIX_EXIT_ROWS)
                     + "\non Windows, a command line in DISM.exe's spelling (/Verb /Option:value)"
                       " exits\nas DISM.exe does:\n"
                     + _table(DISM_EXE_EXIT_ROWS))

_EXIT_BY_CLASS: Tuple[Tuple[Tuple[type, ...], int], ...] = (
    ((dism.InvalidArgumentError, dism.InvalidImageIndexError, dism.InvalidImageNameError,
      dism.MountPathError, dism.PathNotFoundError, dism.NotFoundError, dism.UnknownFeatureError,
      dism.InvalidProductKeyError), EXIT_INVALID),
    ((dism.ElevationRequiredError,), EXIT_ELEVATION),
    ((dism.CancelledError,), EXIT_CANCELLED),
    ((dism.NotSupportedError, dism.NotImplementedByEngineError), EXIT_UNSUPPORTED),
    ((dism.BusyError, dism.OpenSessionsError, dism.NeedsRemountError), EXIT_BUSY),
)

# From the extension's one table of HRESULTs: E_INVALIDARG is what DISM.exe
# reports for a bad command line (error 87); HR_CANCELLED is ERROR_CANCELLED
# (1223, "cancelled by the user"); HR_INVALID_STATE, DISM already set up otherwise.
E_INVALIDARG = _dism.E_INVALIDARG
HRESULT_CANCELLED = _dism.HR_CANCELLED
HRESULT_INVALID_STATE = _dism.HR_INVALID_STATE


class UsageError(Exception):
    """A command line argparse accepted but the verb cannot (or argparse's own error)."""

    def __init__(self, message: str, parser: Optional[argparse.ArgumentParser] = None) -> None:
        super().__init__(message)
        self.message = message
        self.parser = parser


def completed(exc: BaseException) -> Optional[bool]:
    """A cancelled or interrupted operation's `completed` mark: True when the
    cancel came too late, False when it stopped in time, None when unknown."""
    mark = getattr(exc, "completed", None)
    return mark if isinstance(mark, bool) else None


def exit_status(exc: BaseException) -> int:
    """The exit status for a failure: the POSIX table (see EXIT_STATUS_TABLE)."""
    if isinstance(exc, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    if completed(exc) is True:
        return EXIT_CANCELLED_TOO_LATE
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, dism.DismError):
        for classes, status in _EXIT_BY_CLASS:
            if isinstance(exc, classes):
                return status
        return EXIT_ERROR
    return EXIT_ERROR


def hresult_of(exc: BaseException) -> Optional[int]:
    """The HRESULT a failure reports: DISM's own, or the one DISM.exe gives
    for a bad command line or a cancel."""
    if isinstance(exc, KeyboardInterrupt):
        return HRESULT_CANCELLED
    if isinstance(exc, UsageError):
        return E_INVALIDARG
    hresult = getattr(exc, "hresult", None)
    return hresult if isinstance(hresult, int) else None


def _signed(hresult: int) -> int:
    """An HRESULT as the signed 32-bit number Windows shows for it."""
    hresult &= 0xFFFFFFFF
    return hresult - (1 << 32) if hresult & 0x80000000 else hresult


def _win32_error(hresult: int) -> Optional[int]:
    """The Win32 error of an HRESULT_FROM_WIN32 code (0x8007NNNN), else None."""
    hresult &= 0xFFFFFFFF
    code = hresult & 0xFFFF
    return code if (hresult & 0xFFFF0000) == 0x80070000 and code else None


def dism_exe_exit_status(exc: BaseException) -> int:
    """The exit code DISM.exe gives for a failure (DISM.exe's table in
    EXIT_STATUS_TABLE).  A cancel is ERROR_CANCELLED even when it came too
    late and the operation completed: Windows has no code for "cancelled,
    yet done", and a script should not read a Ctrl+C as a clean success; the
    message (and --json's "completed") says what happened."""
    if isinstance(exc, BrokenPipeError):
        return ERROR_NO_DATA
    if isinstance(exc, UsageError):
        return ERROR_INVALID_PARAMETER
    if isinstance(exc, (KeyboardInterrupt, dism.CancelledError)) or completed(exc) is not None:
        return ERROR_CANCELLED
    hresult = hresult_of(exc)
    if hresult is None or not hresult & 0xFFFFFFFF:  # no code, or 0: never exit as a success
        hresult = _dism.E_FAIL
    win32 = _win32_error(hresult)
    return win32 if win32 is not None else _signed(hresult)


def dism_exe_success_status(restart_required: bool) -> int:
    """The exit code DISM.exe gives for a success."""
    return ERROR_SUCCESS_REBOOT_REQUIRED if restart_required else ERROR_SUCCESS
