"""What every imaging call shares: opening WIMs through the extension's
WIMGAPI binding, choosing an image by index or name, typed errors with a
sentence, the message callback (progress, file lists, warnings), and the
guarantees of the cancel rule (a new file that failed is removed, an
existing one is left byte-identical)."""
from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import stat
import struct
import sys
import tempfile
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Type, Union

from .. import _dism, errors
from ..progress import ProgressCallback
from . import _xml

PathArg = Union[str, "os.PathLike[str]"]
log = logging.getLogger("dism.imaging")

_MAX_UINT = 0xFFFFFFFF


def hr_win32(code: int) -> int:
    """HRESULT_FROM_WIN32."""
    return code if code <= 0 else (code & 0xFFFF) | 0x80070000


ERROR_ACCESS_DENIED = 5
ERROR_FILE_EXISTS = 80
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_INVALID_NAME = 123
ERROR_SHARING_VIOLATION = 32


def fail(cls: Type[errors.DismError], code: int, sentence: str) -> errors.DismError:
    """A typed error with HRESULT_FROM_WIN32(code) (or `code` itself when it
    is already an HRESULT) and its sentence."""
    return errors.with_code(cls, code if code > 0xFFFF else hr_win32(code), sentence)


def invalid(sentence: str) -> errors.DismError:
    return fail(errors.InvalidArgumentError, ERROR_INVALID_PARAMETER, sentence)


def path_of(value: PathArg, what: str) -> str:
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{what} must be str or os.PathLike[str], not {type(path).__name__}")
    if not path:
        raise invalid(f"{what} is empty")
    return path


def existing_file(value: PathArg, what: str = "image_path") -> str:
    path = path_of(value, what)
    if not os.path.isfile(path):
        noun = "the image file" if what == "image_path" else f"the {what}"
        raise errors.path_not_found(f"{noun} '{path}' does not exist"
                                    if not os.path.exists(path)
                                    else f"'{path}' is not a file")
    return path


def existing_dir(value: PathArg, what: str) -> str:
    path = path_of(value, what)
    if not os.path.isdir(path):
        raise errors.path_not_found(f"the directory '{path}' ({what}) does not exist"
                                    if not os.path.exists(path)
                                    else f"'{path}' ({what}) is not a directory")
    return path


def refuse_shared(destination: str, what: str) -> None:
    """Refuses (E_ACCESSDENIED as a DismError) a destination folder that
    other users can write to: the folders a call makes in it are the
    caller's alone, but whoever else may write to the destination itself
    can swap a folder just made for a link between the check and the write
    (the same rule as the engine's WIMApplyImage).  `what` names the call."""
    if sys.platform == "win32":   # spelled out, so the type checker follows it
        return
    st = os.stat(destination)
    if st.st_uid != os.geteuid() or st.st_mode & stat.S_IWOTH or \
            (st.st_mode & stat.S_IWGRP and st.st_gid != os.getegid()):
        raise fail(errors.DismError, ERROR_ACCESS_DENIED,
                   f"{what}: '{destination}' can be written by other users, who could "
                   f"redirect the files being written out of it through links; use a "
                   f"folder only you can write to")


# ---------------------------------------------------------------------------
# The WIM header: what WIM_INFO does not say
# ---------------------------------------------------------------------------

_MAGICS = (b"MSWIM\0\0\0", b"WLPWM\0\0\0")
WIM_VERSION_SOLID = 0xE00


def header_version(path: str) -> Optional[int]:
    """The version field of a WIM's header (offset 12); None when the file is
    no WIM.  0xE00 marks a WIM with solid resources (an ESD)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(16)
    except OSError:
        return None
    if len(head) < 16 or head[:8] not in _MAGICS:
        return None
    version: int = struct.unpack_from("<I", head, 12)[0]
    return version


def is_solid(path: str) -> bool:
    return header_version(path) == WIM_VERSION_SOLID


# ---------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------

# Access rights of WIMCreateFile (the binding's constants, read when called).
QUERY = "query"
READ = "WIM_GENERIC_READ"
WRITE = "WIM_GENERIC_WRITE"


def open_wim(path: str, access: str, *, disposition: Optional[int] = None,
             flags: int = 0, compression: int = 0) -> Tuple["_dism.WimHandle", int]:
    """WIMCreateFile + WIMSetTemporaryPath (which WIMGAPI wants before
    LoadImage, DeleteImage and ExportImage).  WIM_FLAG_CHUNKED lets WIMGAPI
    open newer WIMs and ESDs; it is what makes a new LZMS file solid."""
    rights = 0 if access == QUERY else getattr(_dism, access)
    if disposition is None:
        disposition = _dism.WIM_OPEN_EXISTING
    wim, created = _dism.wim_create_file(path, rights, disposition,
                                         flags | _dism.WIM_FLAG_CHUNKED, compression)
    try:
        _dism.wim_set_temporary_path(wim, tempfile.gettempdir())
    except BaseException:
        wim.close()
        raise
    return wim, created


@contextlib.contextmanager
def closing(handle: "_dism.WimHandle") -> Iterator["_dism.WimHandle"]:
    """`with closing(wim):` - WimHandle's own context manager, typed as one
    that never swallows an exception."""
    try:
        yield handle
    finally:
        handle.close()


def natural_key(path: str) -> Tuple[str, int, str]:
    """install.swm (part 1) < install2.swm < install10.swm."""
    stem, suffix = os.path.splitext(path)
    match = re.match(r"(.*?)(\d*)\Z", stem, re.DOTALL)
    assert match is not None
    return match.group(1).lower(), int(match.group(2) or 1), suffix.lower()


def reference_parts(wim: "_dism.WimHandle", image_path: str, swm_files: Optional[PathArg]) -> None:
    """DISM's /SWMFile: every file matching the pattern but the first part
    itself becomes a reference (WIMSetReferenceFile APPEND, one per part)."""
    if swm_files is None:
        return
    pattern = path_of(swm_files, "swm_files")
    parts = sorted(glob.glob(pattern), key=natural_key)
    if not parts:
        raise errors.path_not_found(f"no file matches the split-image pattern '{pattern}'")
    first = os.path.realpath(image_path)
    for part in parts:
        if os.path.realpath(part) != first:
            _dism.wim_set_reference_file(wim, part, _dism.WIM_REFERENCE_APPEND)


def wim_xml(wim: "_dism.WimHandle") -> str:
    return _dism.wim_get_image_information(wim)


def check_index_type(index: Optional[int]) -> None:
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise TypeError(f"index must be an int, not {type(index).__name__}")


def _choices(names: Sequence[Tuple[int, Optional[str]]]) -> str:
    if not names:
        return "it holds no image"
    listed = ", ".join(f"{i} ({name!r})" if name is not None else f"{i}" for i, name in names)
    return f"it holds {len(names)} image(s): {listed}"


def resolve(wim: "_dism.WimHandle", path: str, index: Optional[int], name: Optional[str],
            what: str) -> int:
    """The 1-based index of the image chosen by exactly one of index/name."""
    check_index_type(index)
    if (index is None) == (name is None):
        raise errors.with_code(errors.InvalidImageNameError,
                               _dism.DISMAPI_E_MUST_SPECIFY_INDEX_OR_NAME,
                               f"{what}: give exactly one of index or name to choose "
                               f"an image of '{path}'")
    names = _xml.image_names(wim_xml(wim))
    count = _dism.wim_get_image_count(wim)
    if index is not None:
        if not 1 <= index <= max(count, 0) or index > _MAX_UINT:
            raise errors.with_code(errors.InvalidImageIndexError,
                                   _dism.DISMAPI_E_INVALID_IMAGE_INDEX,
                                   f"{what}: '{path}' has no image {index}; {_choices(names)}")
        return index
    for found, image_name in names:
        if image_name == name:
            return found
    raise errors.with_code(errors.InvalidImageNameError, _dism.DISMAPI_E_INVALID_IMAGE_NAME,
                           f"{what}: '{path}' has no image named {name!r}; {_choices(names)}")


def relative(path: str, root: Optional[str]) -> str:
    """An image path as WIMGAPI reports it, relative to the image root with
    backslashes: the target prefix (if one was given) and one leading and
    trailing backslash go; anything else stays for unsafe_reason to judge."""
    text = path.replace("/", "\\")
    if root:
        prefix = root.replace("/", "\\").rstrip("\\")
        if text.lower() == prefix.lower():
            return ""
        if text.lower().startswith(prefix.lower() + "\\"):
            text = text[len(prefix):]
    if text.startswith("\\"):
        text = text[1:]
    return text[:-1] if text.endswith("\\") else text



class OpenedImage:
    """An image of a WIM opened for reading, with its split parts referenced."""

    def __init__(self, image_path: PathArg, index: Optional[int], name: Optional[str],
                 what: str, *, swm_files: Optional[PathArg] = None,
                 check_integrity: bool = False) -> None:
        self.path = existing_file(image_path)
        flags = _dism.WIM_FLAG_VERIFY if check_integrity else 0
        self.wim, _ = open_wim(self.path, READ, flags=flags)
        try:
            reference_parts(self.wim, self.path, swm_files)
            self.index = resolve(self.wim, self.path, index, name, what)
            self.image = _dism.wim_load_image(self.wim, self.index)
        except BaseException:
            self.wim.close()
            raise

    def __enter__(self) -> "OpenedImage":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.image.close()
        self.wim.close()



# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

_WIN32_WORDS = {
    5: "access denied", 32: "in use by another process", 50: "not supported here",
    87: "invalid parameter", 123: "a name this file system cannot hold",
    1314: "a privilege the process does not hold (security data not applied)",
}


def win32_text(code: object) -> str:
    """A Win32 error of a WIM_MSG_WARNING in words (FormatMessage on Windows)."""
    if not isinstance(code, int):
        return str(code)
    if os.name == "nt":
        import ctypes
        format_error = getattr(ctypes, "FormatError")   # Windows only
        return f"{str(format_error(code)).strip()} ({code})"
    return f"{_WIN32_WORDS.get(code, 'Win32 error')} ({code})"


class Messages:
    """The `messages` callable of the binding's long calls: forwards
    WIM_MSG_PROGRESS to `progress(percent, 100)`, answers WIM_MSG_PROCESS
    through `process` (False skips the file), collects WIM_MSG_FILEINFO and
    WIM_MSG_SPLIT, and logs warnings (what a Linux directory cannot hold is
    reported per file by the engine: never a silent loss)."""

    def __init__(self, progress: Optional[ProgressCallback] = None, *,
                 process: Optional[Callable[[str], bool]] = None,
                 fileinfo: Optional[Callable[[str, Tuple[int, ...]], None]] = None) -> None:
        self.progress = progress
        self.process = process
        self.fileinfo = fileinfo
        self.parts: List[str] = []
        self.warnings: List[Tuple[Optional[str], int]] = []

    def __call__(self, message: int, a: object, b: object) -> object:
        if message == _dism.WIM_MSG_PROGRESS:
            if self.progress is not None:
                self.progress(min(int(a), 100), 100)  # type: ignore[call-overload]
        elif message == _dism.WIM_MSG_PROCESS:
            if self.process is not None and not self.process(str(a)):
                return False
        elif message == _dism.WIM_MSG_FILEINFO:
            if self.fileinfo is not None:
                self.fileinfo(str(a), b)  # type: ignore[arg-type]
        elif message == _dism.WIM_MSG_SPLIT:
            self.parts.append(str(a))
        elif message in (_dism.WIM_MSG_WARNING, _dism.WIM_MSG_WARNING_OBJECTID):
            self.warnings.append((a if isinstance(a, str) else None, int(b or 0)))  # type: ignore
            log.warning("%s: %s", a, win32_text(b))
        return None

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(100, 100)


# ---------------------------------------------------------------------------
# The cancel rule
# ---------------------------------------------------------------------------

_HEADER_SIZE = 208   # the WIM header WIMGAPI rewrites at offset 0 after an append


class Unchanged:
    """Keeps an existing WIM byte-identical when a change fails or is
    cancelled.  On Windows an append or an export writes new resources,
    lookup table and XML after the old end of the file and only then the
    header at offset 0 (the WIM format leaves no other way), so truncating
    to the old length and putting the old header back restores the file.
    The portable engine already puts the file back when one of its calls
    fails; what is left to undo there are this call's own earlier steps
    (a capture appended, then the naming failed), marked by written().

    Never another writer's change: a file that differs from both the state
    before the call and the state this call last wrote (or a failure that
    is a sharing violation: another program was writing) was changed by
    someone else, and is left as it is."""

    def __init__(self, path: str, engine_restores: bool = False) -> None:
        self.path = path
        self.engine_restores = engine_restores
        self.before = self.state()
        if self.before is None:
            raise errors.path_not_found(f"cannot read the image file '{path}'")
        self.size, self.header = self.before
        self.after: Optional[Tuple[int, bytes]] = None

    def state(self) -> Optional[Tuple[int, bytes]]:
        try:
            with open(self.path, "rb") as stream:
                return os.fstat(stream.fileno()).st_size, stream.read(_HEADER_SIZE)
        except OSError:
            return None

    def written(self) -> None:
        """This call's own write succeeded: the file as it is now is ours."""
        self.after = self.state()

    def intact(self) -> bool:
        return self.state() == self.before

    def ours(self, error: Optional[BaseException] = None) -> bool:
        """Whether the file's difference from before is this call's doing."""
        if getattr(error, "hresult", None) == hr_win32(ERROR_SHARING_VIOLATION):
            return False
        if self.after is not None and self.state() == self.after:
            return True
        # WIMGAPI leaves its own failed write behind; the engine never does
        return not self.engine_restores

    def restore(self) -> bool:
        """Puts the old length and header back; True if it had to."""
        if self.intact():
            return False
        with open(self.path, "r+b") as stream:
            stream.truncate(self.size)
            stream.seek(0)
            stream.write(self.header)
        return True


#: The portable engine puts an existing WIM back itself when one of its
#: calls fails (src/engine/imaging/commit.c); wimgapi.dll does not.
ENGINE_RESTORES = os.name != "nt"


@contextlib.contextmanager
def keep_existing(path: str, engine_restores: bool = False) -> Iterator[Unchanged]:
    guard = Unchanged(path, engine_restores)
    try:
        yield guard
    except BaseException as error:
        if guard.intact():
            raise
        if guard.ours(error):
            guard.restore()
            add_note(error, f"'{path}' was restored to its state before the call.")
        else:
            add_note(error, f"'{path}' was changed meanwhile by something other than this "
                            f"call (another program writing it?) and was left as it is.")
        raise


@contextlib.contextmanager
def remove_on_failure(paths: Callable[[], Sequence[str]]) -> Iterator[None]:
    """Removes the files `paths()` names when the block fails: a cancelled or
    failed capture, export or split leaves nothing behind (WIMGAPI creates a
    new file at WIMCreateFile; the engine only on success)."""
    try:
        yield
    except BaseException:
        for path in paths():
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        raise


class NewFile:
    """A file this call creates: wimgapi.dll creates it at WIMCreateFile,
    the engine only when its write succeeds.  written() marks the file on
    disk as this call's (after the open and after each writing step), so a
    failure removes it, and never a file someone else created meanwhile
    under the same name (the engine then fails with ERROR_FILE_EXISTS)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity: Optional[Tuple[int, int]] = None

    def _identity(self) -> Optional[Tuple[int, int]]:
        try:
            st = os.lstat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def written(self) -> None:
        self.identity = self._identity()

    def ours(self) -> bool:
        return self.identity is not None and self._identity() == self.identity


@contextlib.contextmanager
def remove_new_on_failure(path: str) -> Iterator[NewFile]:
    """Removes the new file `path` when the block fails, if it is this
    call's (see NewFile)."""
    new = NewFile(path)
    try:
        yield new
    except BaseException:
        if new.ours():
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        raise


def add_note(error: BaseException, sentence: str) -> None:
    if hasattr(error, "add_note"):
        error.add_note(sentence)
    message = getattr(error, "message", None)
    if isinstance(message, str) and sentence not in message:
        setattr(error, "message", f"{message} {sentence}")
