"""Session.export_drivers: DISM.exe's /Export-Driver, which the DISM API has
no call for, built on the driver listing.

Each out-of-box package's OriginalFileName is its INF in the image's driver
store (.../DriverStore/FileRepository/<folder>/<name>.inf); the export
copies that folder to destination/<folder>, as DISM.exe does.

What it promises:
- every package is checked before anything is written: a folder or INF
  missing from the store, a folder outside the image (through a link), a
  link or anything but files and folders inside a package folder, a folder
  the image's driver database names that is no plain folder of
  FileRepository ("." or "x/../../Users"): refused, naming each, and
  nothing is copied;
- links are never followed, neither out of the image nor inside a folder;
- the destination is an existing folder only its owner can write to (as for
  extract_files), and nothing is written outside it (a link in its path is
  resolved once, at the check);
- each package is built in a scratch folder inside the destination and then
  renamed into place, so a failure or Ctrl+C leaves no half-copied package
  folder (the scratch folder is removed);
- destination/<folder> that exists already is replaced, so that a script
  can run again: the old one is moved aside into the scratch folder, the new
  one renamed in, and only then the old one deleted.  Packages exported
  before a failure stay exported.  An old copy that cannot be deleted fails
  the export after the new one is in place, and the error names the scratch
  folder still holding it;
- a failure of the file system (a folder that cannot be moved aside, a
  full disk) is a DismError with its Win32 code, naming the paths.

A session on the running Windows (Session.online) takes the folders from
%SystemRoot%\\System32\\DriverStore, and refuses any that lies elsewhere.  A
session on an image read from its WIM (Session.open_image_file) has a
private copy holding only the INF files: the check runs on that copy and on
the WIM's listing (a link there is refused too), and the folders are
extracted from the WIM (extract_files, whose own checks apply).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

from . import _dism, errors
from .imaging import _wim, read
from .types import DriverPackage

if TYPE_CHECKING:
    from .session import Session

__all__ = ["ExportedDriver", "export_drivers"]

ERROR_PATH_NOT_FOUND = 3
#: FILE_ATTRIBUTE_REPARSE_POINT: a Windows junction or symlink, which
#: os.DirEntry.is_symlink() does not report for junctions before 3.12.
_REPARSE_POINT = 0x400
_CALL = "export_drivers"


class ExportedDriver(NamedTuple):
    """One exported package: the driver store's record of it, and the folder
    it now has in the destination."""
    package: DriverPackage
    folder: Path


#: Called after each package lands: (what landed, its number from 1, how many).
ExportCallback = Callable[[ExportedDriver, int, int], object]


class _Plan(NamedTuple):
    package: DriverPackage
    source: str      # the package's folder in the store, links resolved
    name: str        # the folder's name, which it keeps in the destination


# ---------------------------------------------------------------------------
# Where the driver store may lie
# ---------------------------------------------------------------------------

def _store_root(session: "Session", packages: List[DriverPackage]) -> str:
    """The folder every package folder must lie in: the image root; for the
    running Windows its DriverStore; for an image read from its WIM the
    session's private copy (see _image_path)."""
    if session.image_file is not None:
        infs = [p.original_file_name for p in packages if p.original_file_name]
        return os.path.realpath(_private_root(infs[0])) if infs else ""
    if session.image_root != _dism.DISM_ONLINE_IMAGE:
        return os.path.realpath(session.image_root)
    windows = os.environ.get("SystemRoot") or os.environ.get("WINDIR")
    if not windows:
        raise _wim.fail(errors.NotSupportedError, _wim.ERROR_NOT_SUPPORTED,
                        f"{_CALL}: neither SystemRoot nor WINDIR is set, so the running "
                        f"Windows' driver store cannot be found")
    return os.path.realpath(os.path.join(windows, "System32", "DriverStore"))


# An image read from its WIM (Session.open_image_file) is a private copy of
# its hives and INF files only: a package's INF lies at
# <copy>/Windows/System32/DriverStore/FileRepository/<folder>/<inf>, and its
# folder is extracted from the WIM itself.
_STORE_PATH = ("windows", "system32", "driverstore", "filerepository")


def _store_parts(folder: str) -> List[str]:
    """Windows/System32/DriverStore/FileRepository/<folder>: the last five
    components of a package folder in the private copy."""
    parts = list(Path(folder).parts)
    if len(parts) < 6 or [part.lower() for part in parts[-5:-1]] != list(_STORE_PATH):
        raise _wim.fail(errors.DismError, _wim.ERROR_ACCESS_DENIED,
                        f"{_CALL}: '{folder}' is not a folder of the image's driver store")
    return parts[-5:]


def _private_root(inf: str) -> str:
    folder = os.path.dirname(inf)
    _store_parts(folder)
    return str(Path(folder).parents[4])


def _image_path(folder: str) -> str:
    """The folder's path in the image, as WIMGAPI spells it."""
    return "\\".join(_store_parts(folder))


def _inside(root: str, path: str) -> bool:
    """Whether `path` (links resolved) lies inside `root` (resolved too)."""
    root, path = os.path.normcase(root), os.path.normcase(path)
    try:
        return path != root and os.path.commonpath([root, path]) == root
    except ValueError:   # another drive
        return False


# ---------------------------------------------------------------------------
# Checking every package before anything is written
# ---------------------------------------------------------------------------

def _is_link(entry: "os.DirEntry[str]") -> bool:
    if entry.is_symlink() or getattr(entry, "is_junction", lambda: False)():
        return True
    return bool(getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
                & _REPARSE_POINT)


def _contents_problems(folder: str) -> List[str]:
    """What inside a package folder cannot be copied safely: links (never
    followed) and anything but files and folders (a FIFO would block)."""
    problems: List[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if _is_link(entry):
                problems.append(f"'{entry.path}' is a link, which is not followed")
            elif entry.is_dir(follow_symlinks=False):
                problems.extend(_contents_problems(entry.path))
            elif not entry.is_file(follow_symlinks=False):
                problems.append(f"'{entry.path}' is neither a file nor a folder")
    return problems


def _describe(package: DriverPackage) -> str:
    return f"{package.published_name} ({os.path.basename(package.original_file_name or '')})"


def _names_a_store_folder(folder: str) -> bool:
    """Whether `folder` is a plain name below System32/DriverStore/FileRepository.
    The folder names come from the image's driver database; one such as "."
    or "x/../../Users" would have the export copy the whole store or another
    folder of the image, and ".." would have it replace destination/..."""
    parts = [part.lower() for part in Path(folder).parts]
    return ".." not in parts and parts[-4:-1] == ["system32", "driverstore", "filerepository"]


def _package_problems(package: DriverPackage, root: str) -> Tuple[Optional[str], List[str]]:
    """(the sentence saying the package is missing, or None; its other problems)."""
    inf = package.original_file_name or ""
    folder = os.path.dirname(inf)
    if not inf:
        return f"{package.published_name}: the driver store names no INF for it", []
    if not _names_a_store_folder(folder):
        return None, [f"{_describe(package)}: the image's driver database puts it in "
                      f"'{folder}', which is not a folder of the driver store "
                      f"({os.path.join('System32', 'DriverStore', 'FileRepository', '<folder>')})"]
    if not os.path.lexists(folder):
        return f"{_describe(package)}: its folder '{folder}' does not exist", []
    if not os.path.lexists(inf):
        return f"{_describe(package)}: its INF '{inf}' does not exist", []
    if os.path.islink(folder) or not _inside(root, os.path.realpath(folder)):
        return None, [f"{_describe(package)}: its folder '{folder}' is a link or lies outside "
                      f"'{root}'; links are not followed"]
    if not os.path.isdir(folder) or os.path.islink(inf) or not os.path.isfile(inf):
        return None, [f"{_describe(package)}: '{inf}' is not a file in a folder"]
    return None, _contents_problems(folder)


def _plan(packages: List[DriverPackage], root: str) -> List[_Plan]:
    missing: List[str] = []
    problems: List[str] = []
    plans: Dict[str, _Plan] = {}
    # In published-name order (oem2.inf before oem10.inf), as DISM.exe numbers them.
    for package in sorted(packages, key=lambda p: _wim.natural_key(p.published_name or "")):
        gone, wrong = _package_problems(package, root)
        if gone:
            missing.append(gone)
            continue
        problems.extend(wrong)
        folder = os.path.dirname(package.original_file_name or "")
        source = os.path.realpath(folder)
        plans.setdefault(os.path.normcase(os.path.basename(source)),
                         _Plan(package, source, os.path.basename(folder)))
    if missing:
        raise errors.with_code(
            errors.PathNotFoundError, _wim.hr_win32(ERROR_PATH_NOT_FOUND),
            f"{_CALL}: {len(missing)} driver package(s) are missing from the image's driver "
            f"store, so nothing was exported: " + "; ".join(missing))
    if problems:
        raise _wim.fail(errors.DismError, _wim.ERROR_ACCESS_DENIED,
                        f"{_CALL}: nothing was exported: " + "; ".join(problems))
    return list(plans.values())


def _refuse_overlap(plans: List[_Plan], destination: str) -> None:
    """A destination inside a package folder, or the store itself, would have
    the export replace or grow what it copies."""
    real = os.path.realpath(destination)
    for plan in plans:
        target = os.path.join(real, plan.name)
        if os.path.normcase(target) == os.path.normcase(plan.source) or \
                _inside(plan.source, target) or _inside(target, plan.source):
            raise _wim.invalid(f"{_CALL}: the destination '{destination}' overlaps the driver "
                               f"store folder '{plan.source}'; export to a folder outside it")


# ---------------------------------------------------------------------------
# Copying
# ---------------------------------------------------------------------------

#: Opening a store file never follows a link that appeared after the check.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0) | \
    getattr(os, "O_NONBLOCK", 0)


def _copy_file(source: str, target: str) -> None:
    descriptor = os.open(source, _READ_FLAGS)
    with open(descriptor, "rb") as reader:
        status = os.fstat(reader.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _wim.fail(errors.DismError, _wim.ERROR_ACCESS_DENIED,
                            f"{_CALL}: '{source}' is no longer a file; nothing more was copied")
        with open(target, "xb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
    os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))


def _copy_tree(source: str, target: str) -> None:
    """Copies a package folder checked by _contents_problems; what became a
    link since is refused again rather than followed."""
    os.mkdir(target)
    with os.scandir(source) as entries:
        for entry in entries:
            destination = os.path.join(target, entry.name)
            if _is_link(entry):
                raise _wim.fail(errors.DismError, _wim.ERROR_ACCESS_DENIED,
                                f"{_CALL}: '{entry.path}' became a link; it is not followed")
            if entry.is_dir(follow_symlinks=False):
                _copy_tree(entry.path, destination)
            else:
                _copy_file(entry.path, destination)


def _discard(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _swap_in(built: str, target: str, aside: str) -> None:
    """Puts `built` at `target`, moving what is there to `aside` (for the
    caller to delete); when the rename fails, what was there is put back."""
    replaced = os.path.lexists(target)
    if replaced:
        os.rename(target, aside)
    try:
        os.rename(built, target)
    except BaseException:
        if replaced and not os.path.lexists(target):
            os.rename(aside, target)
        raise


def _file_system_failure(error: OSError) -> errors.DismError:
    paths = f"'{error.filename}'" + (f" -> '{error.filename2}'" if error.filename2 else "")
    return errors.from_os_error(
        error, f"{_CALL}: {error.strerror or error}: {paths}; nothing more was exported.")


@contextlib.contextmanager
def _as_dism_error() -> Iterator[None]:
    """A file-system failure (a folder that cannot be moved aside, a full
    disk, a file gone) as a DismError with its Win32 code, naming the paths,
    rather than a bare OSError."""
    try:
        yield
    except errors.DismError:
        raise
    except OSError as error:
        raise _file_system_failure(error) from error


def _built_as_dism_errors(built: Iterator[Tuple[_Plan, str]]) -> Iterator[Tuple[_Plan, str]]:
    """A builder's folders, its failures as DismErrors; the caller's own
    (the callback's, such as a closed pipe) are not touched."""
    with _as_dism_error():
        yield from built


#: Makes each planned package's folder inside the scratch folder, one at a
#: time, and says where: (plan, the folder built).
Builder = Callable[[List[_Plan], str], Iterator[Tuple[_Plan, str]]]


def _copied(plans: List[_Plan], scratch: str) -> Iterator[Tuple[_Plan, str]]:
    for plan in plans:
        built = os.path.join(scratch, "new")
        _copy_tree(plan.source, built)
        yield plan, built


def _wim_folder(plan: _Plan) -> str:
    return _image_path(os.path.dirname(plan.package.original_file_name or ""))


def _refuse_wim_links(session: "Session", plans: List[_Plan]) -> None:
    """The WIM's own entries below each package folder: a link there (a
    reparse point) would be extracted as one; refused as on a tree."""
    path, index, name = _image_choice(session)
    folders = [_wim_folder(plan).lower() for plan in plans]
    links = [entry.path for entry in read.list_image(path, index=index, name=name)
             if entry.is_reparse_point and any(
                 entry.path.lower() == folder or entry.path.lower().startswith(folder + "\\")
                 for folder in folders)]
    if links:
        raise _wim.fail(errors.DismError, _wim.ERROR_ACCESS_DENIED,
                        f"{_CALL}: nothing was exported: image {index or name!r} of '{path}' "
                        f"holds links in its driver store, which are not followed: "
                        + ", ".join(f"'\\{link}'" for link in links))


def _image_choice(session: "Session") -> Tuple[str, Optional[int], Optional[str]]:
    """The WIM, index and name an open_image_file session was opened with;
    with neither index nor name the WIM holds one image, index 1."""
    assert session._image_file is not None
    path, index, name = session._image_file
    return path, (1 if index is None and name is None else index), name


def _extracted(session: "Session") -> Builder:
    """Extracts every package folder from the session's WIM at once (one
    listing of the image), then hands them over one by one."""
    def build(plans: List[_Plan], scratch: str) -> Iterator[Tuple[_Plan, str]]:
        landed = os.path.join(scratch, "new")
        os.mkdir(landed, 0o700)
        if plans:
            path, index, name = _image_choice(session)
            read.extract_files(path, [_wim_folder(plan) for plan in plans], landed,
                               index=index, name=name)
        for plan in plans:
            yield plan, os.path.join(landed, plan.name)
    return build


def _export_all(plans: List[_Plan], destination: str, build: Builder,
                on_exported: Optional[ExportCallback]) -> List[ExportedDriver]:
    with _as_dism_error():
        scratch = tempfile.mkdtemp(prefix=".dism-export-driver-", dir=destination)
    exported: List[ExportedDriver] = []
    try:
        for number, (plan, built) in enumerate(
                _built_as_dism_errors(build(plans, scratch)), 1):
            target = os.path.join(destination, plan.name)
            aside = os.path.join(scratch, "old")
            with _as_dism_error():
                _swap_in(built, target, aside)
            exported.append(ExportedDriver(plan.package, Path(target)))
            if on_exported is not None:
                on_exported(exported[-1], number, len(plans))
            # Only once the package counts as exported: an old copy that
            # cannot be deleted must not make the failure deny it.
            with _as_dism_error():
                _discard(aside)
    except BaseException as exc:
        if exported and hasattr(exc, "add_note"):  # notes exist from Python 3.11 on
            exc.add_note("exported before the failure: "
                         + ", ".join(str(item.package.published_name) for item in exported))
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return exported


def _existing_destination(destination: "os.PathLike[str] | str") -> str:
    """The destination, which must be an existing folder; the refusal names
    the call, as every other refusal of the export does."""
    try:
        return _wim.existing_dir(destination, "destination")
    except errors.PathNotFoundError as error:
        raise errors.path_not_found(f"{_CALL}: {error.message}") from None


def export_drivers(session: "Session", destination: "os.PathLike[str] | str", *,
                   on_exported: Optional[ExportCallback] = None) -> List[ExportedDriver]:
    """See Session.export_drivers."""
    with _as_dism_error():   # the checks read the store and the destination
        # Resolved once: a link in the path, pointed elsewhere while the
        # export runs, cannot move its writes out of the folder checked.
        folder = os.path.realpath(_existing_destination(destination))
        _wim.refuse_shared(folder, _CALL)
        packages = session.get_drivers(all_drivers=False)
        plans = _plan(packages, _store_root(session, packages))
        _refuse_overlap(plans, folder)
        build: Builder = _copied
        if session.image_file is not None:
            _refuse_wim_links(session, plans)
            build = _extracted(session)
    return _export_all(plans, folder, build, on_exported)
