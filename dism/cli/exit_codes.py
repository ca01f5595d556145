"""Exit status: the one place that maps failures to exit codes.

Also the failure the command line itself raises (UsageError) and the
HRESULTs it reports for failures that are not DISM's (a bad command line,
a Ctrl+C, DISM set up otherwise by the embedding process).
"""
from __future__ import annotations

import argparse
from typing import Optional, Tuple

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

#: The table printed by --help; the package docstring holds the same text.
EXIT_STATUS_TABLE = """\
  0    success
  1    any other DISM error
  2    usage error: the command line is wrong
  3    invalid argument, no image with that index or name, nothing mounted at
       the path, file or path not found, no package, feature, driver or app
       by that name, invalid product key
  4    elevation (administrator rights) required
  5    the operation was cancelled
  6    not supported on this platform, or not implemented by the engine
  7    busy: open sessions or handles, or the mount needs a remount
  8    cancelled or interrupted too late: the operation had passed the point
       where it can stop and completed (the message says what that means:
       a commit's changes were saved, a discard's discarded)
  130  interrupted (Ctrl+C) before anything was saved; or outside the
       operation, and then the message says it cannot tell
  141  the output's reader went away (a closed pipe, as with `| head`)
"""

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
    """The exit status for a failure (see EXIT_STATUS_TABLE)."""
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
