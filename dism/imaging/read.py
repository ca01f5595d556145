"""Reading images: WIM information, listing, apply and extraction.

apply_image and extract_files list the image first (WIMApplyImage with
WIM_FLAG_NO_APPLY | WIM_FLAG_FILEINFO, which writes nothing) and refuse,
before anything is written, an image holding a name that would land
outside the target: a `..` or `.` component, an absolute path or drive
letter, a colon (an NTFS named stream), or a path below a link.  WIMGAPI
is reported to extract `..` entries as they come; the portable engine
skips them, and this check makes both refuse the same images.
"""
from __future__ import annotations

import os
from typing import Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

from .. import _dism, errors
from ..progress import CancelLike, ProgressCallback
from . import _wim, _xml
from ._wim import PathArg
from .types import Compression, ImageFile, WimInfo, filetime
from uuid import UUID

__all__ = ["apply_image", "extract_files", "get_wim_info", "list_image", "unsafe_reason"]


def get_wim_info(image_path: PathArg) -> WimInfo:
    """WIMGetAttributes of a WIM, ESD or .swm part (opened for query only):
    GUID, image count, compression, part n of m, boot index, integrity,
    read-only; `solid` from the file's header (see WimInfo)."""
    path = _wim.existing_file(image_path)
    wim, _ = _wim.open_wim(path, _wim.QUERY)
    with wim:
        (wim_path, guid, count, compression, part, parts, boot, attributes,
         _flags) = _dism.wim_get_attributes(wim)
        try:
            names = tuple(name for _, name in _xml.image_names(_wim.wim_xml(wim)))
        except errors.DismError:
            names = ()
    try:
        kind: Union[Compression, int] = Compression(compression)
    except ValueError:
        kind = compression
    return WimInfo(path=wim_path or os.path.abspath(path), guid=UUID(bytes_le=bytes(guid)),
                   image_count=count, compression=kind, part_number=part,
                   total_parts=parts, boot_index=boot, attributes=attributes,
                   solid=_wim.is_solid(path), image_names=names)


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------

def _image_file(path: str, info: Sequence[int], root: Optional[str]) -> ImageFile:
    attributes, creation, last_access, last_write, size = (int(v) for v in info[:5])
    return ImageFile(path=_wim.relative(path, root), attributes=attributes, size=size,
                     created=filetime(creation), accessed=filetime(last_access),
                     modified=filetime(last_write))


def _files(image: "_dism.WimHandle", cancel: Optional[CancelLike]) -> List[ImageFile]:
    """Every entry of the image but its root, as WIM_MSG_FILEINFO lists them."""
    found: List[ImageFile] = []
    messages = _wim.Messages(fileinfo=lambda path, info: found.append(
        _image_file(path, info, None)))
    _dism.wim_apply_image(image, None, _dism.WIM_FLAG_NO_APPLY | _dism.WIM_FLAG_FILEINFO,
                          messages, cancel)
    return [entry for entry in found if entry.path]


def _under(path: str, prefix: str) -> bool:
    return not prefix or path.lower() == prefix.lower() or \
        path.lower().startswith(prefix.lower() + "\\")


def _image_prefix(path: str) -> str:
    return path.replace("/", "\\").strip("\\")


def list_image(image_path: PathArg, *, index: Optional[int] = None, name: Optional[str] = None,
               path: str = "\\", swm_files: Optional[PathArg] = None,
               cancel: Optional[CancelLike] = None) -> Iterator[ImageFile]:
    """DISM.exe's /List-Image: the files and directories of one image under
    `path` (`\\` for all; backslashes or slashes), without applying it.  The
    listing is made when called (errors raise here); the iterator walks it."""
    prefix = _image_prefix(path)
    with _wim.OpenedImage(image_path, index, name, "list_image", swm_files=swm_files) as opened:
        files = _files(opened.image, cancel)
    if prefix and not any(entry.path.lower() == prefix.lower() for entry in files):
        raise errors.path_not_found(f"image {opened.index} of '{opened.path}' has no "
                                    f"'\\{prefix}'")
    return iter([entry for entry in files if _under(entry.path, prefix)])


# ---------------------------------------------------------------------------
# Safety
# ---------------------------------------------------------------------------

def unsafe_reason(entry: ImageFile, links: Set[str]) -> Optional[str]:
    """Why writing this entry could land outside the target, or None.
    `links` holds the lower-cased paths of the image's reparse points."""
    parts = entry.path.split("\\")
    for part in parts:
        if part in ("", ".", ".."):
            return "it has an empty, '.' or '..' component (or is absolute)"
        if ":" in part:
            return "it holds a colon (a drive letter or an NTFS named stream)"
        if "/" in part or "\0" in part:
            return "it holds a slash or a NUL character"
    for depth in range(1, len(parts)):
        if "\\".join(parts[:depth]).lower() in links:
            return "it lies below a link, which could point outside the target"
    return None


def refuse_unsafe(entries: Iterable[ImageFile], path: str, index: int, what: str) -> None:
    entries = list(entries)
    links = {entry.path.lower() for entry in entries if entry.is_reparse_point}
    for entry in entries:
        reason = unsafe_reason(entry, links)
        if reason:
            raise _wim.fail(errors.InvalidArgumentError, _wim.ERROR_INVALID_NAME,
                            f"{what}: image {index} of '{path}' holds {entry.path!r}, which "
                            f"would be written outside the target: {reason}; nothing was "
                            f"written")


# ---------------------------------------------------------------------------
# Apply and extract
# ---------------------------------------------------------------------------

def apply_image(image_path: PathArg, target_dir: PathArg, *, index: Optional[int] = None,
                name: Optional[str] = None, swm_files: Optional[PathArg] = None,
                check_integrity: bool = False, verify: bool = False,
                progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelLike] = None) -> None:
    """DISM.exe's /Apply-Image (WIMApplyImage): one image, chosen by exactly
    one of `index` (from 1) or `name`, into the existing directory
    `target_dir`.  A split WIM is applied from its first part with
    `swm_files` (DISM's pattern, e.g. "install*.swm").  `check_integrity`
    checks the WIM's integrity table first, `verify` checks the data
    written (WIM_FLAG_VERIFY).  The image is listed first and refused,
    before anything is written, if a name in it would land outside
    `target_dir` (see the module's doc).  A cancelled apply stops where it
    was: what was written stays (as with DISM).

    On Linux the engine applies to a plain directory: NTFS security
    descriptors, named streams and short names cannot be kept there and each
    one lost is reported as a warning (logger "dism.imaging")."""
    target = _wim.existing_dir(target_dir, "target_dir")
    with _wim.OpenedImage(image_path, index, name, "apply_image", swm_files=swm_files,
                 check_integrity=check_integrity) as opened:
        refuse_unsafe(_files(opened.image, cancel), opened.path, opened.index, "apply_image")
        messages = _wim.Messages(progress)
        _dism.wim_apply_image(opened.image, target,
                              _dism.WIM_FLAG_VERIFY if verify else 0, messages, cancel)
        messages.finish()


def _inside(root: str, path: str) -> bool:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _selected(files: Sequence[ImageFile], wanted: Sequence[str], path: str,
              index: int) -> List[Tuple[ImageFile, str]]:
    """(entry, its path below the destination) for every entry the requested
    paths name: a file lands as its own name, a directory with its tree."""
    by_path = {entry.path.lower(): entry for entry in files}
    chosen: List[Tuple[ImageFile, str]] = []
    for request in wanted:
        prefix = _image_prefix(request)
        top = by_path.get(prefix.lower())
        if top is None:
            raise errors.path_not_found(f"extract_files: image {index} of '{path}' has no "
                                        f"'\\{prefix}'")
        cut = len(prefix) - len(top.name)
        chosen += [(entry, entry.path[cut:]) for entry in files if _under(entry.path, prefix)]
    return chosen


def _write_one(image: "_dism.WimHandle", entry: ImageFile, destination: str, below: str,
               cancel: Optional[CancelLike]) -> None:
    target = os.path.join(destination, *below.split("\\"))
    if not _inside(destination, os.path.dirname(target)) or os.path.islink(target):
        raise _wim.invalid(f"extract_files: '{target}' would be written outside "
                           f"'{destination}' (through a link); nothing more was written")
    if entry.is_directory:
        os.makedirs(target, exist_ok=True)
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    _dism.wim_extract_image_path(image, entry.path, target, 0, None, cancel)


def extract_files(image_path: PathArg, paths: Union[str, Iterable[str]], destination: PathArg,
                  *, index: Optional[int] = None, name: Optional[str] = None,
                  swm_files: Optional[PathArg] = None,
                  progress: Optional[ProgressCallback] = None,
                  cancel: Optional[CancelLike] = None) -> None:
    """WIMExtractImagePath for each of `paths` (image paths, backslashes or
    slashes, from the image root) into the existing directory `destination`:
    a file lands as destination/its name, a directory with its whole tree
    (as `wimlib-imagex extract --dest-dir`).  Everything is checked before
    anything is written (a missing path raises PathNotFoundError; names that
    would escape are refused), and nothing is written outside `destination`,
    not even through a link already there."""
    wanted = [paths] if isinstance(paths, str) else list(paths)
    if not wanted:
        raise _wim.invalid("extract_files: no path given")
    destination_dir = _wim.existing_dir(destination, "destination")
    _wim.refuse_shared(destination_dir, "extract_files")
    with _wim.OpenedImage(image_path, index, name, "extract_files", swm_files=swm_files) as opened:
        files = _files(opened.image, cancel)
        chosen = _selected(files, wanted, opened.path, opened.index)
        refuse_unsafe([entry for entry, _ in chosen], opened.path, opened.index,
                      "extract_files")
        for done, (entry, below) in enumerate(chosen):
            _write_one(opened.image, entry, destination_dir, below, cancel)
            if progress is not None:
                progress(done + 1, len(chosen))
