"""DISM servicing sessions."""
from __future__ import annotations

import os
from typing import Optional, Union

from . import _dism, _runtime
from .errors import InvalidSessionError
from .progress import ProgressCallback

PathArg = Union[str, "os.PathLike[str]"]

#: Success codes DISM returns next to S_OK.
RELOAD_SESSION = 1       # DISMAPI_S_RELOAD_IMAGE_SESSION_REQUIRED
REBOOT_REQUIRED = 3010   # ERROR_SUCCESS_REBOOT_REQUIRED

__all__ = ["Session", "ONLINE"]

ONLINE = _dism.DISM_ONLINE_IMAGE


class Session:
    """A DISM session on a mounted image, an offline Windows directory tree,
    or the running system (Session.online(), Windows only).

    `windows_dir` is the Windows directory relative to the image root
    (default "Windows"); `system_drive` is the drive letter holding the boot
    manager ("C:"), which the portable engine checks and records but does not
    otherwise use, since it has no drive letters.

    Use it as a context manager, or call close(); close() is idempotent and
    waits for calls other threads have in flight.  Any other call on a closed
    session raises InvalidSessionError.
    """

    def __init__(self, image_root: PathArg, *, windows_dir: Optional[PathArg] = None,
                 system_drive: Optional[str] = None) -> None:
        self._image_root = image_root if image_root == ONLINE else os.fspath(image_root)
        self._windows_dir = os.fspath(windows_dir) if windows_dir is not None else None
        self._system_drive = system_drive
        self.reboot_required = False
        self._handle = None
        _runtime.ensure_initialized()
        self._handle = self._open()
        _runtime.track_session(self)

    @classmethod
    def online(cls) -> "Session":
        """A session on the running Windows installation."""
        return cls(ONLINE)

    def _open(self):
        return _dism.open_session(self._image_root, self._windows_dir, self._system_drive)

    @property
    def image_root(self) -> str:
        return self._image_root

    @property
    def closed(self) -> bool:
        return self._handle is None or self._handle.closed

    @property
    def handle(self) -> int:
        """The DismSession number."""
        return self._handle.handle

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"handle={self.handle}"
        return f"<dism.Session {self._image_root!r} {state}>"

    def _succeeded(self, code: int) -> None:
        """Acts on DISM's success codes after a call."""
        if code == REBOOT_REQUIRED:
            self.reboot_required = True
        elif code == RELOAD_SESSION:
            # The servicing stack changed under the session: DISM wants it
            # closed and opened again before the next call.
            self._handle.close()
            self._handle = self._open()

    def _require_open(self) -> None:
        if self.closed:
            raise InvalidSessionError(f"the session on {self._image_root!r} is closed")

    def commit(self, *, append: bool = False, integrity: bool = False, discard: bool = False,
               progress: Optional[ProgressCallback] = None, cancel=None) -> None:
        """DismCommitImage: save the changes of the mounted image and stay mounted.

        `discard=True` throws the changes away instead (and stays mounted).
        """
        self._require_open()
        flags = _dism.DISM_DISCARD_IMAGE if discard else _dism.DISM_COMMIT_IMAGE
        if append:
            flags |= _dism.DISM_COMMIT_APPEND
        if integrity:
            flags |= _dism.DISM_COMMIT_GENERATE_INTEGRITY
        self._succeeded(self._handle.commit(flags, progress, cancel))
