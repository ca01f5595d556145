"""Process-wide initialization of the DISM API.

DISM wants exactly one DismInitialize per process before any call and one
DismShutdown at the end, after every session is closed.  Here that is
automatic: the first call that needs DISM initializes it with defaults,
explicit initialize()/shutdown() calls are reference-counted, and the
interpreter's exit closes what is still open and shuts DISM down.
"""
from __future__ import annotations

import atexit
import os
import threading
import weakref
from typing import List, Optional, Protocol, Tuple, Union

from . import _dism, _library
from .errors import ElevationRequiredError, elevation_required
from .types import LogLevel

PathArg = Union[str, "os.PathLike[str]"]
# DismInitialize's arguments: log level, log path, scratch directory.
_Settings = Tuple[int, Optional[str], Optional[str]]


class _TrackedSession(Protocol):
    """What the exit handler needs of a Session (session.py imports this module)."""

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...


_lock = threading.RLock()
_initialized = False
_settings: Optional[_Settings] = None
_explicit_refs = 0
# Every Session made, while it lives; a closed one stays in the set until it
# is collected, so callers ask _sessions_open() rather than the set's size.
_sessions: "weakref.WeakSet[_TrackedSession]" = weakref.WeakSet()

DEFAULT_LOG_LEVEL = LogLevel.ERRORS_WARNINGS_INFO


def _normalize(log_level: int, log_path: Optional[PathArg],
               scratch_dir: Optional[PathArg]) -> _Settings:
    return (int(log_level), os.fspath(log_path) if log_path is not None else None,
            os.fspath(scratch_dir) if scratch_dir is not None else None)


def _start(settings: _Settings) -> None:
    global _initialized, _settings
    _library.load()  # the DLL chosen already, else the default one
    try:
        _dism.initialize(*settings)
    except ElevationRequiredError as error:
        raise elevation_required(error) from None
    _initialized, _settings = True, settings


def _stop() -> None:
    global _initialized, _settings
    _dism.shutdown()
    _initialized, _settings = False, None


def initialize(log_level: int = DEFAULT_LOG_LEVEL, log_path: Optional[PathArg] = None,
               scratch_dir: Optional[PathArg] = None, *,
               dism_dir: Optional[PathArg] = None) -> None:
    """Initialize DISM with these settings; pair each call with shutdown().

    If DISM was started implicitly with other settings and nothing is open,
    it is restarted with these; if sessions are open, RuntimeError is raised.

    dism_dir (Windows) chooses the DismApi.dll: None for the DISMAPI_DISM_DIR
    environment variable or else the in-box System32 copy, "adk" for the
    newest installed Windows ADK's, or an absolute folder holding one.  The
    choice holds for the life of the process (DismLibraryError otherwise);
    dism.dism_library() tells which DLL is in use.
    """
    global _explicit_refs
    settings = _normalize(log_level, log_path, scratch_dir)
    with _lock:
        _library.load(dism_dir)
        if _initialized and settings != _settings:
            if _explicit_refs or _sessions_open():
                raise RuntimeError("DISM is already initialized with other settings; "
                                   "call shutdown() first")
            _stop()
        if not _initialized:
            _start(settings)
        _explicit_refs += 1


def shutdown() -> None:
    """Release one initialize(); the last release shuts DISM down.

    DISM refuses to shut down while sessions are open (OpenSessionsError).
    """
    global _explicit_refs
    with _lock:
        if _explicit_refs == 0:
            if _initialized:
                _stop()
            return
        if _explicit_refs == 1 and _initialized:
            _stop()
        _explicit_refs -= 1


def ensure_initialized() -> None:
    """Called before every DISM call: starts DISM with defaults if needed."""
    if _initialized:
        return
    with _lock:
        if not _initialized:
            _start(_normalize(DEFAULT_LOG_LEVEL, None, None))


def is_initialized() -> bool:
    return _initialized


def track_session(session: _TrackedSession) -> None:
    _sessions.add(session)


def _sessions_open() -> List[_TrackedSession]:
    """The tracked sessions not closed yet (a Session also closes when DISM
    reloads it or when its handle is closed directly)."""
    return [session for session in list(_sessions) if not session.closed]


def _at_exit() -> None:
    with _lock:
        for session in _sessions_open():
            try:
                session.close()
            except Exception:  # exiting: a failed close must not hide the others
                pass
        if _initialized:
            try:
                _stop()
            except _dism.DismError:
                pass


atexit.register(_at_exit)
