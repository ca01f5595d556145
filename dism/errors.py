"""The exception hierarchy.

Every failure of a DISM call raises DismError (an OSError) or one of its
subclasses; `.hresult` holds DISM's code as an unsigned 32-bit int and
`.message` the sentence DISM gave.  The classes are created by the extension,
which maps each HRESULT to its class in one table (src/_dism.c, class_for).
"""
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

__all__ = [
    "BusyError", "CancelledError", "DismError", "ElevationRequiredError",
    "InvalidArgumentError", "InvalidImageIndexError", "InvalidImageNameError",
    "InvalidSessionError", "MountPathError", "NeedsRemountError",
    "NotImplementedByEngineError", "NotInitializedError", "NotSupportedError",
    "OpenSessionsError", "PathNotFoundError",
]
