"""The exception hierarchy.

Every failure of a DISM call raises DismError (an OSError) or one of its
subclasses; `.hresult` holds DISM's code as an unsigned 32-bit int and
`.message` the sentence DISM gave.  The classes are created by the extension,
which maps each HRESULT to its class in one table (src/_dism.c, class_for).
ExportNotAvailableError (a NotSupportedError) means the DISM that is loaded
is too old to have the function called; NotFoundError and UnknownFeatureError
are LookupErrors as well.
"""
from typing import Tuple

from . import _dism
from ._dism import (
    BusyError,
    CancelledError,
    DismError,
    ElevationRequiredError,
    InvalidArgumentError,
    InvalidImageIndexError,
    InvalidImageNameError,
    InvalidSessionError,
    MountPathError,
    NeedsRemountError,
    NotImplementedByEngineError,
    NotInitializedError,
    NotSupportedError,
    OpenSessionsError,
    PathNotFoundError,
)


def _from_extension(name: str, bases: Tuple[type, ...], doc: str) -> type:
    """The extension's class `name`.  An extension built before the servicing
    functions lacks it, and then never raises it either: a stand-in with the
    same bases keeps `except` clauses working without changing what they catch."""
    found = getattr(_dism, name, None)
    if found is not None:
        return found
    return type(name, bases, {"__doc__": doc, "__module__": __name__})


ExportNotAvailableError = _from_extension(
    "ExportNotAvailableError", (NotSupportedError,),
    "The loaded DISM lacks the function; the message names the export and the DISM "
    "version that has it.")
NotFoundError = _from_extension(
    "NotFoundError", (DismError, LookupError),
    "The image holds no package, driver or app by that name.")
UnknownFeatureError = _from_extension(
    "UnknownFeatureError", (DismError, LookupError), "The image has no feature by that name.")
ParentFeatureDisabledError = _from_extension(
    "ParentFeatureDisabledError", (DismError,),
    "A parent feature must be enabled first (or enable_all).")
NotApplicableError = _from_extension(
    "NotApplicableError", (DismError,),
    "The package or capability does not apply to this image.")
InvalidProductKeyError = _from_extension(
    "InvalidProductKeyError", (DismError,), "The product key is not valid.")


def with_code(cls: type, hresult: int, sentence: str) -> DismError:
    """An error of class `cls` as the extension makes them: the code in
    str(), `.hresult` and `.message` set.  Every DismError the Python layer
    raises is made here, so none lacks its code or sentence."""
    error = cls(f"[0x{hresult:08X}] {sentence}")
    error.hresult = hresult
    error.message = sentence
    return error


HRESULT_FILE_NOT_FOUND = 0x80070002   # HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)


def path_not_found(sentence: str) -> DismError:
    """PathNotFoundError (a FileNotFoundError) for a file or folder that does
    not exist; the sentence names it."""
    return with_code(PathNotFoundError, HRESULT_FILE_NOT_FOUND, sentence)


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
