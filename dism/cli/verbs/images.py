"""The image verbs: a WIM's images, and mounting them (DISM.exe's
/Get-ImageInfo, /Mount-Image, /Commit-Image, /Unmount-Image,
/Remount-Image, /Get-MountedImageInfo, /Cleanup-Mountpoints).

Each verb has its options (adders, see .verb), a check for what argparse
cannot say, and its action, which returns a result; VERBS, at the end,
puts them together.
"""
from __future__ import annotations

import argparse
import os
from typing import Any, Dict, List, Optional, Sequence, Union

import dism
from dism.errors import with_code

from ..console import Console
from ..results import ActionResult, ImageInfoResult, MountedImagesResult, WimInfoResult
from .verb import Verb, flag, image_index, one_of, options, value

# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------

image_file = options(value("--image-file", "PATH", "the WIM file (DISM.exe: /ImageFile)",
                           required=True))

#: get-imageinfo takes the WIM file as a positional argument or as --image-file.
image_file_either_way = options(
    value("image_file_given", "IMAGE_FILE", "the WIM file, as an alternative to --image-file",
          nargs="?"),
    value("--image-file", "PATH", "the WIM file (DISM.exe: /ImageFile)"))

mount_dir = options(value("--mount-dir", "DIR", "the mount directory (DISM.exe: /MountDir)",
                          required=True))

_INDEX_OR_NAME = (
    value("--index", "N", "the image's index, from 1 (DISM.exe: /Index)", type=image_index),
    value("--name", "NAME", "the image's exact name; \"1\" is a name here (DISM.exe: /Name)"))
any_index_or_name = one_of(*_INDEX_OR_NAME, required=False)

header_option = options(flag("--header", "show the WIM's header instead: GUID, compression, "
                                         "parts, boot index, integrity, solid (DISM.exe: "
                                         "/Header; WIMGetAttributes)"))
one_index_or_name = one_of(*_INDEX_OR_NAME, required=True)

mount_options = options(
    flag("--read-only", "mount read-only (DISM.exe: /ReadOnly)"),
    flag("--optimize", "optimize the mount for speed (DISM.exe: /Optimize)"),
    flag("--check-integrity",
         "verify the WIM's integrity data first (DISM.exe: /CheckIntegrity)"))

commit_or_discard = one_of(
    flag("--commit", "save the changes, then unmount (DISM.exe: /Commit)"),
    flag("--discard", "throw the changes away and unmount (DISM.exe: /Discard)"),
    required=True)

commit_options = options(
    flag("--append", "save the changes as a new image in the WIM (DISM.exe: /Append)"),
    flag("--check-integrity", "write integrity data into the WIM (DISM.exe: /CheckIntegrity)"))


def check_get_imageinfo(args: argparse.Namespace) -> Optional[str]:
    """One image file, given either way; it lands in args.image_file."""
    if args.image_file is not None and args.image_file_given is not None:
        return "give the image file once: as IMAGE_FILE or with --image-file, not both"
    if args.image_file is None and args.image_file_given is None:
        return "give the image file: IMAGE_FILE or --image-file PATH"
    if args.image_file is None:
        args.image_file = args.image_file_given
    if args.header and (args.index is not None or args.name is not None):
        return "--header shows the whole WIM: give no --index or --name with it"
    return None


def check_unmount_image(args: argparse.Namespace) -> Optional[str]:
    if args.discard and (args.append or args.check_integrity):
        return "--append and --check-integrity apply only with --commit"
    return None


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------

def _select_image(images: Sequence[dism.ImageInfo], image_file: str, index: Optional[int],
                  name: Optional[str]) -> List[dism.ImageInfo]:
    if index is not None:
        chosen = [image for image in images if image.index == index]
        if not chosen:
            raise with_code(dism.InvalidImageIndexError, dism._dism.DISMAPI_E_INVALID_IMAGE_INDEX,
                            f"image index {index} does not exist in '{image_file}'; it holds "
                            f"{len(images)} image(s), numbered from 1.")
        return chosen
    if name is not None:
        chosen = [image for image in images if image.name == name]
        if not chosen:
            raise with_code(dism.InvalidImageNameError, dism._dism.DISMAPI_E_INVALID_IMAGE_NAME,
                            f"'{image_file}' has no image named '{name}'.")
        return chosen[:1]
    return list(images)


def get_imageinfo(args: argparse.Namespace,
                  console: Console) -> Union[ImageInfoResult, WimInfoResult]:
    if args.header:
        return WimInfoResult(args.image_file, dism.get_wim_info(args.image_file))
    images = dism.get_image_info(args.image_file)
    chosen = _select_image(images, args.image_file, args.index, args.name)
    detailed = args.index is not None or args.name is not None
    return ImageInfoResult(args.image_file, chosen, detailed)


def get_mountedimageinfo(args: argparse.Namespace, console: Console) -> MountedImagesResult:
    return MountedImagesResult(dism.get_mounted_images())


def mount_image(args: argparse.Namespace, console: Console) -> ActionResult:
    with console.step("Mounting image") as progress:
        mounted = dism.mount(args.image_file, args.mount_dir, index=args.index, name=args.name,
                             read_only=args.read_only, optimize=args.optimize,
                             check_integrity=args.check_integrity, progress=progress)
    return ActionResult("mount-image", {
        "mount_dir": mounted.path, "image_file": mounted.image_path, "index": mounted.index,
        "read_only": mounted.read_only})


def _find_mount(mount_dir: str) -> Optional[dism.MountedImageInfo]:
    wanted = os.path.realpath(mount_dir)
    for info in dism.get_mounted_images():
        if os.path.realpath(info.mount_path) == wanted:
            return info
    return None


def _mount_details(info: Optional[dism.MountedImageInfo], mount_dir: str) -> Dict[str, Any]:
    """Where the mount is and what it holds, as far as the mount list says."""
    return {"mount_dir": info.mount_path if info else os.path.abspath(mount_dir),
            "image_file": info.image_path if info else None,
            "index": info.index if info else None}


def unmount_image(args: argparse.Namespace, console: Console) -> ActionResult:
    info = _find_mount(args.mount_dir)
    if info is not None:
        console.say(f"Image File : {info.image_path}")
        console.say(f"Image Index : {info.index}")
    saving = args.commit and not (info is not None and info.read_only)
    title = "Saving and unmounting image" if saving else "Unmounting image"
    with console.step(title) as progress:
        dism.unmount(args.mount_dir, commit=args.commit, append=args.append,
                     integrity=args.check_integrity, progress=progress)
    return ActionResult("unmount-image", {**_mount_details(info, args.mount_dir),
                                          "committed": args.commit, "append": args.append})


def commit_image(args: argparse.Namespace, console: Console) -> ActionResult:
    with dism.Session(args.mount_dir) as session:
        with console.step("Saving image") as progress:
            session.commit(append=args.append, integrity=args.check_integrity,
                           progress=progress)
        restart = session.reboot_required
    info = _find_mount(args.mount_dir)
    return ActionResult("commit-image", {**_mount_details(info, args.mount_dir),
                                         "append": args.append}, restart_required=restart)


def remount_image(args: argparse.Namespace, console: Console) -> ActionResult:
    console.say("Remounting image")
    dism.remount(args.mount_dir)
    return ActionResult("remount-image", {"mount_dir": os.path.abspath(args.mount_dir)})


def _mount_key(info: dism.MountedImageInfo) -> str:
    return os.path.realpath(info.mount_path)


def cleanup_mountpoints(args: argparse.Namespace, console: Console) -> ActionResult:
    # DismCleanupMountpoints answers only an HRESULT; what it did is the
    # difference between the mounts listed before and after it.
    console.say("Releasing stale mount points")
    before = dism.get_mounted_images()
    dism.cleanup_mountpoints()
    after = dism.get_mounted_images()
    remaining = {_mount_key(info) for info in after}
    # Cleanup releases only mounts that were not OK; a healthy one that went
    # meanwhile was unmounted by someone else.
    released = [info for info in before if _mount_key(info) not in remaining
                and info.status != dism.MountStatus.OK]
    return ActionResult("cleanup-mountpoints", {"released": released, "left": after})


# ---------------------------------------------------------------------------
# The verbs
# ---------------------------------------------------------------------------

VERBS = (
    Verb("Get-ImageInfo", "show the images of a WIM file, or one image in detail",
         (image_file_either_way, any_index_or_name, header_option), get_imageinfo,
         check_get_imageinfo),
    Verb("Mount-Image", "mount an image of a WIM file into an empty directory",
         (image_file, mount_dir, one_index_or_name, mount_options), mount_image),
    Verb("Commit-Image", "save the changes of a mounted image and stay mounted",
         (mount_dir, commit_options), commit_image),
    Verb("Unmount-Image", "unmount an image, saving (--commit) or dropping (--discard) changes",
         (mount_dir, commit_or_discard, commit_options), unmount_image, check_unmount_image),
    Verb("Remount-Image", "bring a mount that needs a remount back to OK",
         (mount_dir,), remount_image),
    Verb("Get-MountedImageInfo", "list the mounted images and their status",
         (), get_mountedimageinfo),
    Verb("Cleanup-Mountpoints", "release stale mounts and their leftover files",
         (), cleanup_mountpoints),
)
