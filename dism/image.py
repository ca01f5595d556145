"""Image files and mounts: info, mount, unmount, commit, remount, cleanup."""
from __future__ import annotations

import os
from types import TracebackType
from typing import List, Optional, Type, Union

from . import _dism, _runtime, errors
from .progress import CancelLike, ProgressCallback
from .session import Session
from .types import ImageInfo, MountedImageInfo, MountStatus

PathArg = Union[str, "os.PathLike[str]"]


__all__ = [
    "MountedImage", "cleanup_mountpoints", "get_image_info", "get_mounted_images", "mount",
    "remount", "unmount",
]


def get_image_info(image_path: PathArg) -> List[ImageInfo]:
    """DismGetImageInfo: every image in a WIM file, in index order."""
    _runtime.ensure_initialized()
    return [ImageInfo._from_raw(raw) for raw in _dism.get_image_info(image_path)]


def get_mounted_images() -> List[MountedImageInfo]:
    """DismGetMountedImageInfo: every WIM mounted on this machine, by any process
    or tool, with its true status."""
    _runtime.ensure_initialized()
    return [MountedImageInfo._from_raw(raw) for raw in _dism.get_mounted_image_info()]


def _unmount_flags(commit: bool, append: bool, integrity: bool) -> int:
    if not commit:
        if append or integrity:
            raise ValueError("append and integrity apply only when committing")
        return _dism.DISM_DISCARD_IMAGE
    flags = _dism.DISM_COMMIT_IMAGE
    if append:
        flags |= _dism.DISM_COMMIT_APPEND
    if integrity:
        flags |= _dism.DISM_COMMIT_GENERATE_INTEGRITY
    return flags


def unmount(mount_path: PathArg, *, commit: bool, append: bool = False, integrity: bool = False,
            progress: Optional[ProgressCallback] = None,
            cancel: Optional[CancelLike] = None) -> None:
    """DismUnmountImage.  `commit` is required: True saves the changes (as a new
    image with `append`), False discards them."""
    _runtime.ensure_initialized()
    _dism.unmount_image(mount_path, _unmount_flags(commit, append, integrity), progress, cancel)


def remount(mount_path: PathArg) -> None:
    """DismRemountImage: bring a mount whose server is gone back to OK.
    Changes that were not committed before the server died are lost."""
    _runtime.ensure_initialized()
    _dism.remount_image(mount_path)


def cleanup_mountpoints() -> None:
    """DismCleanupMountpoints: release every stale mount (dead server, vanished
    WIM or directory, leftover staging data).  Healthy mounts are untouched."""
    _runtime.ensure_initialized()
    _dism.cleanup_mountpoints()


def _add_note(error: BaseException, sentence: str) -> None:
    """Adds `sentence` to the exception: as a note (3.11+), and to .message
    where a DismError has one, so str() and the CLI show it everywhere."""
    if hasattr(error, "add_note"):
        error.add_note(sentence)
    message = getattr(error, "message", None)
    if isinstance(message, str):
        setattr(error, "message", f"{message} {sentence}")


class MountedImage:
    """An image mounted by mount().  As a context manager, a normal exit commits
    a read-write mount and an exception discards; either way the image is
    unmounted when the block exits, except when the commit itself fails or is
    stopped before it wrote anything: then the image stays mounted with its
    changes, and the exception says so."""

    def __init__(self, path: str, image_path: str, index: int, read_only: bool) -> None:
        self.path = path
        self.image_path = image_path
        self.index = index
        self.read_only = read_only
        self._sessions: List[Session] = []
        self._mounted = True

    @property
    def mounted(self) -> bool:
        return self._mounted

    @property
    def status(self) -> Union[MountStatus, int, None]:
        """The mount's status as DISM reports it now; None once unmounted."""
        for info in get_mounted_images():
            if os.path.realpath(info.mount_path) == os.path.realpath(self.path):
                return info.status
        return None

    def session(self, *, windows_dir: Optional[PathArg] = None) -> Session:
        """A servicing session on this image; closed for you before unmount."""
        s = Session(self.path, windows_dir=windows_dir)
        self._sessions.append(s)
        return s

    def commit(self, *, append: bool = False, integrity: bool = False,
               progress: Optional[ProgressCallback] = None,
               cancel: Optional[CancelLike] = None) -> None:
        """DismCommitImage: save the changes and stay mounted.  With `append` the
        changes become a new image and the mount shows that image."""
        try:
            with Session(self.path) as s:
                s.commit(append=append, integrity=integrity, progress=progress, cancel=cancel)
        finally:
            # Also after a cancel that came too late (.completed): the mount
            # then shows the appended image all the same.
            if append:
                self.index = self._current_index()

    def _current_index(self) -> int:
        for info in get_mounted_images():
            if os.path.realpath(info.mount_path) == os.path.realpath(self.path):
                return info.index
        return self.index

    def _close_sessions(self) -> None:
        while self._sessions:
            self._sessions.pop().close()

    def unmount(self, *, commit: bool, append: bool = False, integrity: bool = False,
                progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelLike] = None) -> None:
        """DismUnmountImage for this mount (see dism.unmount)."""
        self._close_sessions()
        try:
            unmount(self.path, commit=commit, append=append, integrity=integrity,
                    progress=progress, cancel=cancel)
        except BaseException as error:
            if getattr(error, "completed", None) is True:  # a cancel that came too late
                self._mounted = False
            raise
        self._mounted = False

    def __enter__(self) -> "MountedImage":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if not self._mounted:
            return
        if exc_type is not None or self.read_only:
            self.unmount(commit=False)
            return
        try:
            self.unmount(commit=True)
        except BaseException as error:
            # Saving failed or was interrupted before anything was written.
            # Dropping the changes here would lose them for good, so the image
            # stays mounted with them and the exception says how to finish.
            if self._still_mounted():
                _add_note(error, f"The image is still mounted at {self.path} with its changes: "
                                 f"unmount it with commit=True to save them, or commit=False "
                                 f"to discard them.")
            raise

    def _still_mounted(self) -> bool:
        self._mounted = self.status is not None
        return self._mounted

    def __repr__(self) -> str:
        mode = "ro" if self.read_only else "rw"
        return (f"<dism.MountedImage {self.image_path!r} index={self.index} at {self.path!r} "
                f"{mode}{'' if self._mounted else ' unmounted'}>")


def mount(image_path: PathArg, mount_path: PathArg, *, index: Optional[int] = None,
          name: Optional[str] = None, read_only: bool = False, optimize: bool = False,
          check_integrity: bool = False, progress: Optional[ProgressCallback] = None,
          cancel: Optional[CancelLike] = None) -> MountedImage:
    """DismMountImage: mount one image of a WIM into an existing empty directory.

    Choose the image by `index` (from 1; anything else raises
    InvalidImageIndexError) or by `name` (an exact name: "1" is a name here,
    never an index).  Returns a MountedImage, which is also a
    context manager.
    """
    if (index is None) == (name is None):
        raise ValueError("give exactly one of index= or name=")
    if index is not None:
        errors.check_image_index("mount", index)
    flags = _dism.DISM_MOUNT_READONLY if read_only else _dism.DISM_MOUNT_READWRITE
    if optimize:
        flags |= _dism.DISM_MOUNT_OPTIMIZE
    if check_integrity:
        flags |= _dism.DISM_MOUNT_CHECK_INTEGRITY
    _runtime.ensure_initialized()
    # Resolved before mounting: afterwards the mount point's lstat() would
    # wait for the new file system's first answer.
    paths = os.path.realpath(mount_path), os.path.realpath(image_path)
    _dism.mount_image(image_path, mount_path, index or 0, name, flags, progress, cancel)
    mounted = MountedImage(*paths, index or 0, read_only)
    if name is not None:
        mounted.index = mounted._current_index()
    return mounted

