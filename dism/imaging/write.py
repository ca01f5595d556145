"""Writing WIMs: capture (new and append), export, split, delete and
changing an image's name and description.

The cancel rule holds for each: a capture, export or split that fails or
is cancelled leaves no new file behind; an append, export into an existing
WIM, delete or info change that fails or is cancelled leaves the existing
file byte-identical (see _wim.Unchanged for how that is made sure of on
Windows too).
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple, Union

from .. import _dism, errors
from ..progress import CancelLike, ProgressCallback
from ..types import ImageInfo
from . import _wim, _xml
from ._config import CaptureConfig
from ._wim import PathArg
from .types import Compression

__all__ = ["capture_image", "delete_image", "export_image", "set_image_info", "split_image"]

#: A new WIM captured from Python: "max" (LZX), as the API was specified:
#: smaller files for a little more time.  The CLI keeps DISM.exe's
#: /Compress default, "fast", for capture-image (dism/cli/verbs/imaging.py).
CAPTURE_COMPRESSION = Compression.MAX
#: An export to a new file: DISM.exe's /Export-Image default, "fast" ("the
#: default compression type that is used if you do not specify the
#: argument").
EXPORT_COMPRESSION = Compression.FAST

CompressionArg = Union[Compression, str, None]


def image_info_of(wim: "_dism.WimHandle", index: int) -> ImageInfo:
    """DismGetImageInfo's record for image `index`, read from the WIM's XML
    through WIMGAPI (no DISM session, no elevation)."""
    boot_index = _dism.wim_get_attributes(wim)[6]
    for image in _xml.images(_wim.wim_xml(wim)):
        if int(image.get("INDEX", "0") or 0) == index:
            return _xml.image_info(image, boot_index)
    raise _wim.invalid(f"the WIM's XML has no image {index}")


def _compression(value: CompressionArg, what: str) -> Optional[Compression]:
    if value is None:
        return None
    try:
        return Compression.parse(value)
    except ValueError as error:
        raise _wim.invalid(f"{what}: {error}") from None


def _check_new_compression(compression: Compression, path: str, what: str) -> None:
    if compression == Compression.RECOVERY and not path.lower().endswith(".esd"):
        raise _wim.invalid(f"{what}: compression 'recovery' (solid LZMS) needs an .esd "
                           f"destination, as DISM.exe says; '{path}' is not one")


def _check_existing_compression(wim: "_dism.WimHandle", path: str,
                                wanted: Optional[Compression], what: str) -> None:
    """An existing WIM keeps its compression: a different one asked for is an
    error, not a silent change."""
    if wanted is None:
        return
    have = _dism.wim_get_attributes(wim)[3]
    if have == Compression.LZMS and not _wim.is_solid(path):
        have_name = "LZMS (not solid)"
        matches = False
    else:
        have_name = Compression(have).dism_name if have in set(Compression) else str(have)
        matches = have == wanted
    if not matches:
        raise _wim.invalid(f"{what}: '{path}' exists with compression '{have_name}'; an image "
                           f"added to it uses that compression, so '{wanted.dism_name}' cannot "
                           f"be used (leave compression out)")


def _refuse_existing(path: str, what: str, advice: str) -> None:
    if os.path.lexists(path):
        raise _wim.fail(errors.DismError, _wim.ERROR_FILE_EXISTS,
                        f"{what}: '{path}' already exists; {advice}")


def _check_text(what: str, **values: Optional[str]) -> None:
    """Refuses, before anything is written, a value the image's XML cannot
    hold (WIMSetImageInformation would fail only after the capture or
    export had been written, with an XML parse error)."""
    for argument, text in values.items():
        if text is None:
            continue
        if not isinstance(text, str):
            raise TypeError(f"{argument} must be a str, not {type(text).__name__}")
        char = _xml.unholdable(text)
        if char is not None:
            raise _wim.invalid(f"{what}: {argument} holds {char}, a character an image's "
                               f"XML cannot hold")


def _refuse_taken_name(wim: "_dism.WimHandle", path: str, name: Optional[str],
                       what: str) -> None:
    """WIMSetImageInformation refuses a name the WIM already holds, but only
    after the capture or export was written; refuse it before any work."""
    held = [image_name for _, image_name in _xml.image_names(_wim.wim_xml(wim))]
    if name is not None and name in held:
        raise _wim.fail(errors.DismError, _HR_ALREADY_EXISTS,
                        f"{what}: '{path}' already holds an image named {name!r}; "
                        f"choose another name")


def _set_info(image: "_dism.WimHandle", values: "dict[str, Optional[str]]") -> None:
    xml = _dism.wim_get_image_information(image)
    _dism.wim_set_image_information(image, _xml.edit_image(xml, values))


# ---------------------------------------------------------------------------
# Capture
# ---------------------------------------------------------------------------

def _capture_config(config_file: Optional[PathArg]) -> CaptureConfig:
    if config_file is None:
        return CaptureConfig.default()
    path = _wim.existing_file(config_file, "config_file")
    try:
        return CaptureConfig.load(path)
    except (ValueError, UnicodeDecodeError) as error:
        raise _wim.invalid(f"capture_image: config_file: {error}") from None


def _capture_into(wim: "_dism.WimHandle", source: str, name: str, description: Optional[str],
                  config: CaptureConfig, verify: bool, bootable: bool,
                  progress: Optional[ProgressCallback],
                  cancel: Optional[CancelLike],
                  written: Callable[[], None] = lambda: None) -> ImageInfo:
    """`written` is told after each step that changed the file."""
    messages = _wim.Messages(progress,
                             process=lambda path: config.keeps(_wim.relative(path, source)))
    image = _dism.wim_capture_image(wim, source, _dism.WIM_FLAG_VERIFY if verify else 0,
                                    messages, cancel)
    written()
    with image:  # WIMCaptureImage takes no name: DISM sets it afterwards, as here
        _set_info(image, {"NAME": name, "DESCRIPTION": description})
    written()
    index = _dism.wim_get_image_count(wim)
    if bootable:
        _dism.wim_set_boot_image(wim, index)
        written()
    messages.finish()
    return image_info_of(wim, index)


@contextlib.contextmanager
def _destination(path: str, exists: bool, wanted: Optional[Compression],
                 default: Compression, name: Optional[str], flags: int,
                 what: str) -> Iterator[Tuple["_dism.WimHandle", Callable[[], None]]]:
    """The WIM a capture or export writes `name` into, opened for writing,
    and the `written` callback to tell after each step that changed it: the
    existing `path` (kept byte-identical on failure; its own compression,
    `wanted` must agree; `name` must not be taken), or a new one in `wanted`
    or `default` compression (removed on failure)."""
    if exists:
        with _wim.keep_existing(path, _wim.ENGINE_RESTORES) as guard:
            wim, _ = _wim.open_wim(path, _wim.WRITE, flags=flags)
            with _wim.closing(wim):
                _check_existing_compression(wim, path, wanted, what)
                _refuse_taken_name(wim, path, name, what)
                yield wim, guard.written
        return
    chosen = wanted if wanted is not None else default
    _check_new_compression(chosen, path, what)
    wim, _ = _wim.open_wim(path, _wim.WRITE, disposition=_dism.WIM_CREATE_NEW, flags=flags,
                           compression=int(chosen))
    with _wim.remove_new_on_failure(path) as new, _wim.closing(wim):
        new.written()   # wimgapi.dll has created it; the engine has not yet
        yield wim, new.written


def capture_image(source_dir: PathArg, image_path: PathArg, *, name: str,
                  description: Optional[str] = None, compression: CompressionArg = None,
                  append: bool = False, config_file: Optional[PathArg] = None,
                  check_integrity: bool = False, verify: bool = False, bootable: bool = False,
                  progress: Optional[ProgressCallback] = None,
                  cancel: Optional[CancelLike] = None) -> ImageInfo:
    """DISM.exe's /Capture-Image (or /Append-Image with `append`): the
    directory `source_dir` as a new image named `name` (required, as DISM
    requires /Name) in `image_path`.  Returns the new image's ImageInfo.

    `compression`: DISM's name or a Compression, for a new file only.  The
    default for a new file is "max" (LZX); the CLI's capture-image keeps
    DISM.exe's /Compress default, "fast".  "recovery" (solid LZMS)
    needs an .esd file.  An append uses the WIM's own compression: giving
    another one is an error.  A new capture refuses an existing file (use
    append=True).  `config_file` is a WimScript.ini (see
    dism.imaging._config); without one DISM's default exclusion list
    applies.  `check_integrity` writes an integrity table, `verify` checks
    single-instanced files byte by byte, `bootable` marks the new image as
    the WIM's boot image (WIMSetBootImage).  An empty directory cannot be
    captured (DISM.exe refuses it too).

    A cancelled or failed capture leaves no file behind; a cancelled or
    failed append leaves the WIM byte-identical.
    """
    what = "append_image" if append else "capture_image"
    source = os.path.abspath(_wim.existing_dir(source_dir, "source_dir"))
    path = _wim.path_of(image_path, "image_path")
    if not isinstance(name, str) or not name:
        raise _wim.invalid(f"{what}: name= is required (DISM.exe's /Name), a non-empty str")
    if not os.listdir(source):
        raise _wim.invalid(f"{what}: '{source}' is empty; DISM cannot capture an empty "
                           f"directory")
    _check_text(what, name=name, description=description)
    wanted = _compression(compression, what)
    config = _capture_config(config_file)
    flags = _dism.WIM_FLAG_VERIFY if check_integrity else 0
    args = (source, name, description, config, verify, bootable, progress, cancel)
    if append:
        path = _wim.existing_file(path)
    else:
        _refuse_existing(path, what, "append to it with append=True (append-image), or "
                                     "choose another file")
    with _destination(path, append, wanted, CAPTURE_COMPRESSION, name, flags,
                      what) as (wim, written):
        return _capture_into(wim, *args, written=written)


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

_HR_ALREADY_EXISTS = _wim.hr_win32(183)


def _export_into(image: "_dism.WimHandle", wim: "_dism.WimHandle",
                 destination_name: Optional[str], bootable: bool, allow_duplicates: bool,
                 progress: Optional[ProgressCallback],
                 cancel: Optional[CancelLike],
                 written: Callable[[], None] = lambda: None) -> ImageInfo:
    """`written` is told after each step that changed the file."""
    messages = _wim.Messages(progress)
    flags = _dism.WIM_EXPORT_ALLOW_DUPLICATES if allow_duplicates else 0
    try:
        _dism.wim_export_image(image, wim, flags, messages, cancel)
    except errors.DismError as error:
        if error.hresult != _HR_ALREADY_EXISTS:
            raise
        raise errors.with_code(type(error), error.hresult,
                               "export_image: the destination already holds this image; "
                               "pass allow_duplicates=True (--allow-duplicates) to add "
                               "it again") from None
    written()
    index = _dism.wim_get_image_count(wim)
    if destination_name is not None:
        with _dism.wim_load_image(wim, index) as exported:
            _set_info(exported, {"NAME": destination_name})
        written()
    if bootable:
        _dism.wim_set_boot_image(wim, index)
        written()
    messages.finish()
    return image_info_of(wim, index)


def export_image(source_image: PathArg, destination_image: PathArg, *,
                 index: Optional[int] = None, name: Optional[str] = None,
                 destination_name: Optional[str] = None, compression: CompressionArg = None,
                 bootable: bool = False, check_integrity: bool = False,
                 swm_files: Optional[PathArg] = None, allow_duplicates: bool = False,
                 progress: Optional[ProgressCallback] = None,
                 cancel: Optional[CancelLike] = None) -> ImageInfo:
    """DISM.exe's /Export-Image (WIMExportImage): copy one image, chosen by
    exactly one of `index`/`name`, into `destination_image`, appending when
    it exists, creating it otherwise.  Returns the exported image's
    ImageInfo in the destination.

    A new destination gets `compression` (default "fast", DISM.exe's
    default; "recovery" = solid LZMS, which needs an .esd destination: this
    is how an install.wim becomes an install.esd, and "max" or "fast" turns
    an .esd back into a .wim).  An existing destination keeps its own
    compression: a different `compression` is an error.  `destination_name`
    renames the copy, `bootable` makes it the destination's boot image,
    `check_integrity` checks the source's integrity table and writes one in
    a new destination, `swm_files` references a split source's other parts.
    An image the destination already holds is refused (WIMGAPI's
    ERROR_ALREADY_EXISTS) unless `allow_duplicates`.

    A cancelled or failed export leaves no new destination behind, and an
    existing destination byte-identical.
    """
    what = "export_image"
    dest = _wim.path_of(destination_image, "destination_image")
    _check_text(what, destination_name=destination_name)
    wanted = _compression(compression, what)
    flags = _dism.WIM_FLAG_VERIFY if check_integrity else 0
    with _wim.OpenedImage(source_image, index, name, what, swm_files=swm_files,
                          check_integrity=check_integrity) as source:
        if os.path.exists(dest) and os.path.samefile(dest, source.path):
            raise _wim.invalid(f"{what}: the source and the destination are the same file, "
                               f"'{dest}'")
        args = (destination_name, bootable, allow_duplicates, progress, cancel)
        exists = os.path.exists(dest)
        if exists:
            dest = _wim.existing_file(dest, "destination_image")
        with _destination(dest, exists, wanted, EXPORT_COMPRESSION, destination_name, flags,
                          what) as (wim, written):
            return _export_into(source.image, wim, *args, written=written)


# ---------------------------------------------------------------------------
# Split
# ---------------------------------------------------------------------------

#: WIMSplitFile's part size is a signed 64-bit count of bytes; a larger
#: file_size_mb means "larger than any WIM": one part.
_MAX_PART = 2**63 - 1


def _part_names(swm: str) -> List[str]:
    """The files that are or could be parts of the split `swm` (name.swm,
    name2.swm, name3.swm, ...), as they are on disk now."""
    folder, base = os.path.split(os.path.abspath(swm))
    stem, suffix = os.path.splitext(base)
    part = re.compile(re.escape(stem) + r"(\d*)" + re.escape(suffix) + r"\Z", re.IGNORECASE)
    return [os.path.join(folder, entry) for entry in os.listdir(folder) if part.match(entry)]


def split_image(image_path: PathArg, swm_path: PathArg, *, file_size_mb: int,
                check_integrity: bool = False, progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelLike] = None) -> List[Path]:
    """DISM.exe's /Split-Image (WIMSplitFile): `image_path` into parts of at
    most `file_size_mb` MiB (2**20 bytes, as wimlib-imagex split; a part
    is as large as the WIM's largest resource when that is larger: WIMGAPI's
    minimum, asked for first), named as DISM names them:
    `swm_path` (install.swm), then install2.swm, install3.swm, ... .
    Returns the parts in order.  A WIM with solid resources (an ESD) cannot
    be split: export it to a non-solid WIM ("max") first.  A cancelled or
    failed split leaves no part behind."""
    what = "split_image"
    path = _wim.existing_file(image_path)
    swm = _wim.path_of(swm_path, "swm_path")
    if isinstance(file_size_mb, bool) or not isinstance(file_size_mb, int):
        raise TypeError(f"file_size_mb must be an int, not {type(file_size_mb).__name__}")
    if file_size_mb < 1:
        raise _wim.invalid(f"{what}: file_size_mb must be at least 1, not {file_size_mb}")
    if _wim.is_solid(path):
        raise _wim.fail(errors.NotSupportedError, _wim.ERROR_NOT_SUPPORTED,
                        f"{what}: '{path}' holds solid resources (an ESD), which cannot be "
                        f"split; export it to a non-solid WIM first (export_image with "
                        f"compression 'max')")
    _wim.existing_dir(os.path.dirname(os.path.abspath(swm)), "swm_path's folder")
    _refuse_existing(swm, what, "remove it or choose another name")
    before = set(_part_names(swm))
    if before:   # WIMSplitFile would overwrite name2.swm, name3.swm, ...
        raise _wim.fail(errors.DismError, _wim.ERROR_FILE_EXISTS,
                        f"{what}: {', '.join(repr(p) for p in sorted(before, key=_wim.natural_key))}"
                        f" already exist(s), and the split would overwrite them as its later "
                        f"parts; remove them or choose another name")
    wim, _ = _wim.open_wim(path, _wim.READ,
                           flags=_dism.WIM_FLAG_VERIFY if check_integrity else 0)
    messages = _wim.Messages(progress)
    with _wim.remove_on_failure(lambda: sorted(set(_part_names(swm)) - before)), \
            _wim.closing(wim):
        # WIMSplitFile fails when a part cannot hold the largest resource;
        # DISM lets that part grow instead, so ask for the minimum first.
        minimum = _dism.wim_split_file(wim, swm, 0, 0)
        size = min(max(file_size_mb << 20, minimum), _MAX_PART)
        _dism.wim_split_file(wim, swm, size, 0, messages, cancel)
    from .read import get_wim_info   # read imports nothing from here
    total = get_wim_info(swm).total_parts
    stem, suffix = os.path.splitext(swm)
    messages.finish()
    return [Path(swm)] + [Path(f"{stem}{n}{suffix}") for n in range(2, total + 1)]


# ---------------------------------------------------------------------------
# Delete and change
# ---------------------------------------------------------------------------

def delete_image(image_path: PathArg, *, index: Optional[int] = None,
                 name: Optional[str] = None, check_integrity: bool = False) -> None:
    """DISM.exe's /Delete-Image (WIMDeleteImage): remove one image, chosen by
    exactly one of `index`/`name`.  Like DISM, only the image's metadata and
    XML go; the file does not shrink (export the images you keep into a new
    file for that).  The last image of a WIM cannot be deleted."""
    what = "delete_image"
    path = _wim.existing_file(image_path)
    with _wim.keep_existing(path, _wim.ENGINE_RESTORES):
        wim, _ = _wim.open_wim(path, _wim.WRITE,
                               flags=_dism.WIM_FLAG_VERIFY if check_integrity else 0)
        with _wim.closing(wim):
            index = _wim.resolve(wim, path, index, name, what)
            if _dism.wim_get_attributes(wim)[5] > 1:   # total parts
                raise _wim.fail(errors.NotSupportedError, _wim.ERROR_NOT_SUPPORTED,
                                f"{what}: '{path}' is one part of a split WIM, which cannot "
                                f"be changed; export its images to a single WIM first")
            if _dism.wim_get_image_count(wim) == 1:
                raise _wim.fail(errors.DismError, _wim.ERROR_ACCESS_DENIED,
                                f"{what}: image {index} is the only image of '{path}', and a "
                                f"WIM cannot lose its last image; delete the file instead")
            _dism.wim_delete_image(wim, index)


def set_image_info(image_path: PathArg, *, index: Optional[int] = None,
                   name: Optional[str] = None, new_name: Optional[str] = None,
                   description: Optional[str] = None, display_name: Optional[str] = None,
                   display_description: Optional[str] = None,
                   flags: Optional[str] = None) -> ImageInfo:
    """WIMSetImageInformation on one image, chosen by exactly one of
    `index`/`name`: rename it (`new_name`) and set its DESCRIPTION,
    DISPLAYNAME, DISPLAYDESCRIPTION or FLAGS (the edition ID).  None leaves
    a value as it is, "" empties it.  Image names stay unique within a WIM.
    Returns the image's ImageInfo after the change."""
    what = "set_image_info"
    values = {"NAME": new_name, "DESCRIPTION": description, "DISPLAYNAME": display_name,
              "DISPLAYDESCRIPTION": display_description, "FLAGS": flags}
    if all(value is None for value in values.values()):
        raise _wim.invalid(f"{what}: nothing to change; give new_name, description, "
                           f"display_name, display_description or flags")
    if new_name == "":
        raise _wim.invalid(f"{what}: an image's name cannot be empty")
    _check_text(what, new_name=new_name, description=description, display_name=display_name,
                display_description=display_description, flags=flags)
    path = _wim.existing_file(image_path)
    with _wim.keep_existing(path, _wim.ENGINE_RESTORES):
        wim, _ = _wim.open_wim(path, _wim.WRITE)
        with _wim.closing(wim):
            index = _wim.resolve(wim, path, index, name, what)
            others = [n for i, n in _xml.image_names(_wim.wim_xml(wim)) if i != index]
            if new_name is not None and new_name in others:
                raise _wim.invalid(f"{what}: another image of '{path}' is already named "
                                   f"{new_name!r}")
            with _dism.wim_load_image(wim, index) as image:
                _set_info(image, values)
            return image_info_of(wim, index)
