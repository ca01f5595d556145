"""The image-management verbs, on dism.imaging (WIMGAPI): DISM.exe's
/Capture-Image, /Append-Image, /Apply-Image, /Export-Image, /Split-Image,
/Delete-Image, /List-Image, plus set-imageinfo (rename, describe) and
extract-files, which DISM.exe lacks (wimlib-imagex info / extract do it).
`get-imageinfo --header` (/Header) is in .images, next to get-imageinfo.
"""
from __future__ import annotations

import argparse
import os
from typing import Any, Dict, List, Optional

import dism

from ..console import Console
from ..results import ActionResult, ImageFilesResult
from .images import one_index_or_name
from .verb import Verb, flag, image_index, one_of, options, value

# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------

def _compression(text: str) -> dism.Compression:
    try:
        return dism.Compression.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _size_mb(text: str) -> int:
    try:
        size = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size in MB: {text!r}") from None
    if size < 1:
        raise argparse.ArgumentTypeError(f"a part is at least 1 MB, not {size}")
    return size


_IMAGE_FILE = value("--image-file", "PATH", "the WIM file (DISM.exe: /ImageFile)",
                    required=True)
_CHECK = flag("--check-integrity", "check (and keep) the WIM's integrity table "
                                   "(DISM.exe: /CheckIntegrity)")
_SWM = value("--swm-file", "PATTERN", "the other parts of a split WIM, e.g. install*.swm "
                                      "(DISM.exe: /SWMFile)")

capture_options = options(
    _IMAGE_FILE,
    value("--capture-dir", "DIR", "the directory to capture (DISM.exe: /CaptureDir)",
          required=True),
    value("--name", "NAME", "the new image's name (DISM.exe: /Name)", required=True),
    value("--description", "TEXT", "its description (DISM.exe: /Description)"),
    value("--config-file", "INI", "exclusions, as WimScript.ini (DISM.exe: /ConfigFile)"),
    flag("--bootable", "mark the image bootable (DISM.exe: /Bootable)"),
    flag("--verify", "check single-instanced files byte by byte (DISM.exe: /Verify)"),
    _CHECK)

compress_option = options(
    value("--compress", "TYPE", "none, fast (default), max or recovery (.esd only) "
                                "(DISM.exe: /Compress)", type=_compression))

apply_options = options(
    _IMAGE_FILE,
    value("--apply-dir", "DIR", "the existing directory to apply to (DISM.exe: /ApplyDir)",
          required=True),
    _SWM, _CHECK, flag("--verify", "check the files written (DISM.exe: /Verify)"))

export_options = options(
    value("--source-image-file", "PATH", "the WIM or ESD to export from "
                                         "(DISM.exe: /SourceImageFile)", required=True),
    value("--destination-image-file", "PATH", "the WIM or ESD to export into, created if "
                                              "missing (DISM.exe: /DestinationImageFile)",
          required=True),
    value("--destination-name", "NAME", "the copy's name (DISM.exe: /DestinationName)"),
    value("--compress", "TYPE", "for a new destination: none, fast (default), max, or "
                                "recovery for an .esd (DISM.exe: /Compress)",
          type=_compression),
    flag("--bootable", "mark the copy bootable (DISM.exe: /Bootable)"),
    flag("--allow-duplicates", "export it even if the destination already holds this "
                               "image (WIM_EXPORT_ALLOW_DUPLICATES)"), _SWM, _CHECK)

source_index_or_name = one_of(
    value("--source-index", "N", "the source image's index, from 1 (DISM.exe: /SourceIndex)",
          type=image_index),
    value("--source-name", "NAME", "the source image's name (DISM.exe: /SourceName)"),
    required=True)

split_options = options(
    _IMAGE_FILE,
    value("--swm-file", "PATH", "the first part, e.g. install.swm; the next ones are "
                                "install2.swm, ... (DISM.exe: /SWMFile)", required=True),
    value("--file-size", "MB", "the largest part, in MB (DISM.exe: /FileSize)",
          required=True, type=_size_mb),
    _CHECK)

delete_options = options(_IMAGE_FILE, _CHECK)

set_info_options = options(
    _IMAGE_FILE,
    value("--new-name", "NAME", "rename the image"),
    value("--description", "TEXT", "set its description (DISM.exe: /Description)"),
    value("--display-name", "TEXT", "set its DISPLAYNAME"),
    value("--display-description", "TEXT", "set its DISPLAYDESCRIPTION"),
    value("--flags", "EDITION", "set its FLAGS (the edition ID)"))

list_options = options(
    _IMAGE_FILE, _SWM,
    value("--path", "IMAGE_PATH", "list only below this path of the image (default: all)",
          default="\\"))

extract_options = options(
    _IMAGE_FILE,
    value("--path", "IMAGE_PATH", "a file or directory of the image; repeat for more",
          action="append", required=True),
    value("--dest-dir", "DIR", "the existing directory to extract into", required=True),
    _SWM)


def check_set_imageinfo(args: argparse.Namespace) -> Optional[str]:
    if all(getattr(args, key) is None for key in ("new_name", "description", "display_name",
                                                  "display_description", "flags")):
        return ("nothing to change: give --new-name, --description, --display-name, "
                "--display-description or --flags")
    return None


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------

def _image_details(info: dism.ImageInfo) -> Dict[str, Any]:
    return {"index": info.index, "name": info.name, "description": info.description,
            "size": info.size, "bootable": info.bootable}


def _capture_compression(args: argparse.Namespace, append: bool) -> Optional[dism.Compression]:
    """DISM.exe's /Compress default, "fast", for a new WIM (the Python API's
    is "max"); an append keeps the WIM's own."""
    given: Optional[dism.Compression] = getattr(args, "compress", None)
    if given is None and not append:
        return dism.Compression.FAST
    return given


def _capture(args: argparse.Namespace, console: Console, append: bool) -> ActionResult:
    verb = "append-image" if append else "capture-image"
    with console.step("Capturing image") as progress:
        info = dism.capture_image(
            args.capture_dir, args.image_file, name=args.name, description=args.description,
            compression=_capture_compression(args, append), append=append,
            config_file=args.config_file, check_integrity=args.check_integrity,
            verify=args.verify, bootable=args.bootable, progress=progress)
    return ActionResult(verb, {"image_file": os.path.abspath(args.image_file),
                               "image": _image_details(info)})


def capture_image(args: argparse.Namespace, console: Console) -> ActionResult:
    return _capture(args, console, append=False)


def append_image(args: argparse.Namespace, console: Console) -> ActionResult:
    return _capture(args, console, append=True)


def apply_image(args: argparse.Namespace, console: Console) -> ActionResult:
    with console.step("Applying image") as progress:
        dism.apply_image(args.image_file, args.apply_dir, index=args.index, name=args.name,
                         swm_files=args.swm_file, check_integrity=args.check_integrity,
                         verify=args.verify, progress=progress)
    return ActionResult("apply-image", {"image_file": args.image_file,
                                        "apply_dir": os.path.abspath(args.apply_dir),
                                        "index": args.index, "name": args.name})


def export_image(args: argparse.Namespace, console: Console) -> ActionResult:
    with console.step("Exporting image") as progress:
        info = dism.export_image(
            args.source_image_file, args.destination_image_file, index=args.source_index,
            name=args.source_name, destination_name=args.destination_name,
            compression=args.compress, bootable=args.bootable,
            check_integrity=args.check_integrity, swm_files=args.swm_file,
            allow_duplicates=args.allow_duplicates, progress=progress)
    return ActionResult("export-image", {
        "destination_image_file": os.path.abspath(args.destination_image_file),
        "image": _image_details(info)})


def split_image(args: argparse.Namespace, console: Console) -> ActionResult:
    with console.step("Splitting image") as progress:
        parts = dism.split_image(args.image_file, args.swm_file, file_size_mb=args.file_size,
                                 check_integrity=args.check_integrity, progress=progress)
    return ActionResult("split-image", {"parts": [str(part) for part in parts]})


def delete_image(args: argparse.Namespace, console: Console) -> ActionResult:
    console.say("Deleting image")
    dism.delete_image(args.image_file, index=args.index, name=args.name,
                      check_integrity=args.check_integrity)
    return ActionResult("delete-image", {"image_file": args.image_file, "index": args.index,
                                         "name": args.name})


def set_imageinfo(args: argparse.Namespace, console: Console) -> ActionResult:
    info = dism.set_image_info(
        args.image_file, index=args.index, name=args.name, new_name=args.new_name,
        description=args.description, display_name=args.display_name,
        display_description=args.display_description, flags=args.flags)
    return ActionResult("set-imageinfo", {"image_file": args.image_file,
                                          "image": _image_details(info)})


def list_image(args: argparse.Namespace, console: Console) -> ImageFilesResult:
    files: List[dism.ImageFile] = list(dism.list_image(
        args.image_file, index=args.index, name=args.name, path=args.path,
        swm_files=args.swm_file))
    return ImageFilesResult(args.image_file, files)


def extract_files(args: argparse.Namespace, console: Console) -> ActionResult:
    with console.step("Extracting files") as progress:
        dism.extract_files(args.image_file, args.path, args.dest_dir, index=args.index,
                           name=args.name, swm_files=args.swm_file, progress=progress)
    return ActionResult("extract-files", {"image_file": args.image_file, "paths": args.path,
                                          "dest_dir": os.path.abspath(args.dest_dir)})


# ---------------------------------------------------------------------------
# The verbs
# ---------------------------------------------------------------------------

VERBS = (
    Verb("Capture-Image", "capture a directory as a new WIM file",
         (capture_options, compress_option), capture_image),
    Verb("Append-Image", "capture a directory as a new image of an existing WIM",
         (capture_options,), append_image),
    Verb("Apply-Image", "apply an image of a WIM, ESD or split WIM to a directory",
         (apply_options, one_index_or_name), apply_image),
    Verb("Export-Image", "copy an image into another WIM or ESD (WIM <-> ESD)",
         (export_options, source_index_or_name), export_image),
    Verb("Split-Image", "split a WIM into .swm parts of at most --file-size MB",
         (split_options,), split_image),
    Verb("Delete-Image", "delete an image from a WIM (the file does not shrink)",
         (delete_options, one_index_or_name), delete_image),
    Verb("Set-ImageInfo", "rename an image or change its description",
         (set_info_options, one_index_or_name), set_imageinfo, check_set_imageinfo),
    Verb("List-Image", "list the files and directories of an image",
         (list_options, one_index_or_name), list_image),
    Verb("Extract-Files", "extract files or directories of an image",
         (extract_options, one_index_or_name), extract_files),
)
