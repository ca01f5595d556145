"""The exception hierarchy.

Every failure of a DISM call raises DismError (an OSError) or one of its
subclasses; `.hresult` holds DISM's code as an unsigned 32-bit int and
`.message` the sentence DISM gave.  The classes are created by the extension
from its one error table (src/ext/errors.c: codes, class, parent, builtin
base, doc), which also maps each HRESULT to its class.
ExportNotAvailableError (a NotSupportedError) means the DISM that is loaded
is too old to have the function called; NotFoundError and UnknownFeatureError
are LookupErrors as well.
"""
import errno
from typing import Optional, Type, TypeVar

from . import _dism
from ._dism import (
    BusyError,
    CancelledError,
    DismError,
    ElevationRequiredError,
    ExportNotAvailableError,
    InvalidArgumentError,
    InvalidImageIndexError,
    InvalidImageNameError,
    InvalidProductKeyError,
    InvalidSessionError,
    MountPathError,
    NeedsRemountError,
    NotApplicableError,
    NotFoundError,
    NotImplementedByEngineError,
    NotInitializedError,
    NotSupportedError,
    OpenSessionsError,
    ParentFeatureDisabledError,
    PathNotFoundError,
    UnknownFeatureError,
)


E = TypeVar("E", bound=DismError)


def with_code(cls: Type[E], hresult: int, sentence: str) -> E:
    """An error of class `cls` as the extension makes them: the code in
    str(), `.hresult` and `.message` set.  Every DismError the Python layer
    raises is made here, so none lacks its code or sentence."""
    error = cls(f"[0x{hresult:08X}] {sentence}")
    error.hresult = hresult
    error.message = sentence
    return error


def path_not_found(sentence: str) -> DismError:
    """PathNotFoundError (a FileNotFoundError) for a file or folder that does
    not exist; the sentence names it."""
    return with_code(PathNotFoundError, _dism.HR_FILE_NOT_FOUND, sentence)


#: DISM's UINT: a larger image index must fail, never wrap.
MAX_UINT = 0xFFFFFFFF


def check_image_index(function: str, index: int) -> None:
    """Raises TypeError for an index that is not an int (a bool included),
    and InvalidImageIndexError for one no image can have (images are
    numbered from 1), before the binding's own range check, which would
    name 0 as allowed."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError("index must be an int")
    if not 1 <= index <= MAX_UINT:
        raise with_code(InvalidImageIndexError, _dism.DISMAPI_E_INVALID_IMAGE_INDEX,
                        f"{function}: index={index} is not an image index; images are "
                        f"numbered from 1 (dism.get_image_info lists them)")


def session_closed(image_root: object) -> DismError:
    """InvalidSessionError with DISM's code for a call on a closed session."""
    return with_code(InvalidSessionError, _dism.DISMAPI_E_INVALID_DISM_SESSION,
                     f"the session on {image_root!r} is closed; open a new one")


class DismLibraryError(DismError):
    """The DISM library could not be found, loaded or chosen (Windows: which
    DismApi.dll; see dism.initialize(dism_dir=...)).  The message says which
    file or folder and why."""

    @classmethod
    def with_code(cls, hresult: int, sentence: str) -> "DismLibraryError":
        return with_code(cls, hresult, sentence)


ELEVATION_ADVICE = (
    "DISM needs an elevated process: run Python from an elevated prompt (\"Run as "
    "administrator\") or as a service or scheduled task with the highest privileges")


def elevation_required(error: DismError) -> DismError:
    """The same ElevationRequiredError, with a sentence that says what to do."""
    said = getattr(error, "message", None)
    sentence = f"{ELEVATION_ADVICE} (DISM said: {said})" if said else ELEVATION_ADVICE
    return with_code(ElevationRequiredError, error.hresult, sentence)


__all__ = [
    "BusyError", "CancelledError", "DismError", "DismLibraryError", "ElevationRequiredError",
    "ExportNotAvailableError", "InvalidArgumentError", "InvalidImageIndexError",
    "InvalidImageNameError", "InvalidProductKeyError", "InvalidSessionError", "MountPathError",
    "NeedsRemountError", "NotApplicableError", "NotFoundError", "NotImplementedByEngineError",
    "NotInitializedError", "NotSupportedError", "OpenSessionsError",
    "ParentFeatureDisabledError", "PathNotFoundError", "UnknownFeatureError",
]


#: The Win32 error for what the file system says, where Python's OSError
#: carries an errno (on Windows it carries its own winerror).
_WIN32_OF_ERRNO = {errno.ENOENT: 2, errno.ENOTDIR: 3, errno.EACCES: 5, errno.EPERM: 5,
                   errno.EROFS: 19, errno.ENOSPC: 112, errno.ENOTEMPTY: 145,
                   errno.EBUSY: 170, errno.EEXIST: 183,
                   getattr(errno, "EDQUOT", errno.ENOSPC): 112}
_ERROR_FILE_NOT_FOUND = 2
_ERROR_PATH_NOT_FOUND = 3
_E_FAIL = 0x80004005


def win32_error_of(error: OSError) -> Optional[int]:
    """The Win32 error code of a file-system failure, when it has one."""
    return getattr(error, "winerror", None) or _WIN32_OF_ERRNO.get(error.errno or 0)


def from_os_error(error: OSError, sentence: str) -> DismError:
    """A file-system failure as a DismError with HRESULT_FROM_WIN32 of its
    Win32 code (E_FAIL without one): PathNotFoundError for a missing file
    or folder (a path through a file is ERROR_PATH_NOT_FOUND on Windows)."""
    code = win32_error_of(error)
    if code is None:
        return with_code(DismError, _E_FAIL, sentence)
    missing = code in (_ERROR_FILE_NOT_FOUND, _ERROR_PATH_NOT_FOUND)
    cls = PathNotFoundError if missing else DismError
    return with_code(cls, 0x80070000 | code, sentence)
