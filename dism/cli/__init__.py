"""The dismapi command line, modelled on DISM.exe.

    python -m dism get-imageinfo (IMAGE_FILE | --image-file IMAGE_FILE) [--index N | --name NAME]
    python -m dism mount-image --image-file install.wim --mount-dir DIR (--index N | --name NAME)
                               [--read-only] [--optimize] [--check-integrity]
    python -m dism commit-image --mount-dir DIR [--append] [--check-integrity]
    python -m dism unmount-image --mount-dir DIR (--commit | --discard) [--append]
                                 [--check-integrity]
    python -m dism remount-image --mount-dir DIR
    python -m dism get-mountedimageinfo
    python -m dism cleanup-mountpoints

Servicing verbs work on a session: each takes ``--image DIR`` (a mounted
image or an offline Windows root; ``--windows-dir`` names its Windows
directory) or ``--online`` (Windows only), as DISM.exe's /Image: and /Online:

    get-features [--package-name N | --package-path P] [--format table]
    get-featureinfo --feature-name X [--package-name N | --package-path P]
    enable-feature --feature-name X [--all] [--source S]... [--limit-access]
    disable-feature --feature-name X [--package-name N] [--remove]
    get-packages [--format table]
    get-packageinfo (--package-name N | --package-path P)
    add-package --package-path P [--ignore-check] [--prevent-pending]
    remove-package (--package-name N | --package-path P)
    get-drivers [--all] [--format table]
    get-driverinfo --driver INF
    add-driver --driver PATH [--recurse] [--force-unsigned]
    remove-driver --driver oemN.inf
    get-capabilities [--format table]
    get-capabilityinfo --capability-name X
    add-capability --capability-name X [--source S]... [--limit-access]
    remove-capability --capability-name X
    get-currentedition | get-targeteditions | get-provisionedappxpackages
    check-health | scan-health | restore-health [--source S]... [--limit-access]
    apply-unattend --unattend answer.xml [--single-session]

The console script ``dismapi`` is the same program.  DISM.exe's own spelling
is accepted too and translated before parsing (names are case-insensitive):

    python -m dism /Get-ImageInfo /ImageFile:install.wim /Index:1
    python -m dism /Mount-Image /ImageFile:install.wim /Name:1 /MountDir:/mnt/img /ReadOnly
    python -m dism /Unmount-Image /MountDir:/mnt/img /Commit
    python -m dism /Image:/mnt/img /Get-Features /Format:Table
    python -m dism /Image:/mnt/img /Cleanup-Image /CheckHealth
    python -m dism /Image:/mnt/img /Apply-Unattend:answer.xml

Global options, accepted before or after the verb: ``--json`` prints one JSON
document on stdout (enums by name, datetimes in ISO 8601, versions as strings;
a failure is ``{"error": {"hresult": "0x...", "type": ..., "message": ...}}``);
``--quiet`` prints nothing but errors (and the JSON document, if asked for);
``--log-level``, ``--log-path`` and ``--scratch-dir`` go to dism.initialize().
Mount, unmount, commit and the long servicing operations draw a DISM-style
progress bar on stderr, redrawn in place on a terminal and printed once, in
its final state, otherwise.

Exit status: from the class of DISM's HRESULT (see exit_status()); the table,
EXIT_STATUS_TABLE, is appended to this docstring and printed by --help.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as _dt
import enum
import itertools
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, TextIO,
                    Tuple)

import dism
from dism.errors import with_code
from dism.progress import fraction

__all__ = ["EXIT_STATUS_TABLE", "exit_status", "main", "render_bar", "translate_dism_syntax"]

# ---------------------------------------------------------------------------
# Exit status: the one place that maps failures to exit codes
# ---------------------------------------------------------------------------

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_ELEVATION = 4
EXIT_CANCELLED = 5
EXIT_UNSUPPORTED = 6
EXIT_BUSY = 7
EXIT_CANCELLED_TOO_LATE = 8
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left

#: The table printed by --help; the module docstring holds the same text.
EXIT_STATUS_TABLE = """\
  0    success
  1    any other DISM error
  2    usage error: the command line is wrong
  3    invalid argument, no image with that index or name, nothing mounted at
       the path, file or path not found, no package, feature, driver or app
       by that name, invalid product key
  4    elevation (administrator rights) required
  5    the operation was cancelled
  6    not supported on this platform, or not implemented by the engine
  7    busy: open sessions or handles, or the mount needs a remount
  8    cancelled or interrupted too late: the operation had passed the point
       where it can stop and completed (the message says what that means:
       a commit's changes were saved, a discard's discarded)
  130  interrupted (Ctrl+C) before anything was saved; or outside the
       operation, and then the message says it cannot tell
  141  the output's reader went away (a closed pipe, as with `| head`)
"""

__doc__ += "\n" + EXIT_STATUS_TABLE

_EXIT_BY_CLASS = (
    ((dism.InvalidArgumentError, dism.InvalidImageIndexError, dism.InvalidImageNameError,
      dism.MountPathError, dism.PathNotFoundError, dism.NotFoundError, dism.UnknownFeatureError,
      dism.InvalidProductKeyError), EXIT_INVALID),
    ((dism.ElevationRequiredError,), EXIT_ELEVATION),
    ((dism.CancelledError,), EXIT_CANCELLED),
    ((dism.NotSupportedError, dism.NotImplementedByEngineError), EXIT_UNSUPPORTED),
    ((dism.BusyError, dism.OpenSessionsError, dism.NeedsRemountError), EXIT_BUSY),
)

E_INVALIDARG = 0x80070057        # what DISM.exe reports for a bad command line (error 87)
HRESULT_CANCELLED = 0x800704C7   # ERROR_CANCELLED (1223), "cancelled by the user"
HRESULT_INVALID_STATE = 0x8007139F  # ERROR_INVALID_STATE: DISM already set up otherwise


class UsageError(Exception):
    """A command line argparse accepted but the verb cannot (or argparse's own error)."""

    def __init__(self, message: str, parser: Optional[argparse.ArgumentParser] = None) -> None:
        super().__init__(message)
        self.message = message
        self.parser = parser


def exit_status(exc: BaseException) -> int:
    """The exit status for a failure (see EXIT_STATUS_TABLE)."""
    if getattr(exc, "completed", None) is True:
        return EXIT_CANCELLED_TOO_LATE
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, dism.DismError):
        for classes, status in _EXIT_BY_CLASS:
            if isinstance(exc, classes):
                return status
        return EXIT_ERROR
    return EXIT_ERROR


def _hresult(exc: BaseException) -> Optional[int]:
    if isinstance(exc, KeyboardInterrupt):
        return HRESULT_CANCELLED
    if isinstance(exc, UsageError):
        return E_INVALIDARG
    return getattr(exc, "hresult", None)


# ---------------------------------------------------------------------------
# Results of the actions (formatted below, never by the actions themselves)
# ---------------------------------------------------------------------------

@dataclass
class ImageInfoResult:
    image_file: str
    images: List[dism.ImageInfo]
    detailed: bool = False


@dataclass
class MountedImagesResult:
    mounted_images: List[dism.MountedImageInfo]


@dataclass
class ActionResult:
    operation: str
    details: Dict[str, Any] = field(default_factory=dict)
    restart_required: bool = False


@dataclass
class ServicingResult:
    """What a servicing verb read from an image.  `kind` picks the human
    renderer and is the JSON key of `value`; `context` adds JSON keys (and
    says what the human heading names, such as the package listed)."""
    kind: str
    image: str
    value: Any
    table: bool = False
    context: Dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Console: status lines and the progress bar while an action runs
# ---------------------------------------------------------------------------

_BAR_HALF = 26


def render_bar(current: int, total: int) -> str:
    """DISM's bar: `[=====...50.0%     ...]`, 52 cells around the percentage."""
    done = fraction(current, total) or 0.0
    cells = round(done * 2 * _BAR_HALF)
    left = "=" * min(cells, _BAR_HALF)
    right = "=" * max(cells - _BAR_HALF, 0)
    return f"[{left:<{_BAR_HALF}}{done * 100:.1f}%{right:<{_BAR_HALF}}]"


class ProgressBar:
    """A progress callback `(current, total)` drawing on `stream`.

    On a terminal the bar is redrawn in place (only when its text changes);
    otherwise nothing is written until close(), which writes the final state.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = _isatty(stream)
        self._text: Optional[str] = None
        self._drawn: Optional[str] = None

    def __call__(self, current: int, total: int) -> None:
        self._text = render_bar(current, total)
        if self._live and self._text != self._drawn:
            self._stream.write("\r" + self._text)
            self._stream.flush()
            self._drawn = self._text

    def close(self) -> None:
        if self._text is None:
            return
        if self._live:
            self._stream.write("\n")
        else:
            self._stream.write(self._text + "\n")
        self._stream.flush()
        self._text = self._drawn = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    """Where an action reports what it is doing.  Human chatter goes to stdout,
    the progress bar to stderr; --json and --quiet silence both."""

    def __init__(self, stdout: TextIO, stderr: TextIO, *, json_mode: bool, quiet: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.json_mode = json_mode
        self.human = not (json_mode or quiet)

    def say(self, line: str = "") -> None:
        if self.human:
            self.stdout.write(line + "\n")
            self.stdout.flush()

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Optional[ProgressBar]]:
        """Announce a long operation; yields its progress callback (or None)."""
        self.say(title)
        if not self.human:
            yield None
            return
        bar = ProgressBar(self.stderr)
        try:
            yield bar
        finally:
            bar.close()


# ---------------------------------------------------------------------------
# Actions: one function per verb, returning a result
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


def get_imageinfo(args: argparse.Namespace, console: Console) -> ImageInfoResult:
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
    return ActionResult("unmount-image", {
        "mount_dir": info.mount_path if info else os.path.abspath(args.mount_dir),
        "image_file": info.image_path if info else None,
        "index": info.index if info else None,
        "committed": args.commit, "append": args.append})


def commit_image(args: argparse.Namespace, console: Console) -> ActionResult:
    with dism.Session(args.mount_dir) as session:
        with console.step("Saving image") as progress:
            session.commit(append=args.append, integrity=args.check_integrity,
                           progress=progress)
        restart = session.reboot_required
    info = _find_mount(args.mount_dir)
    return ActionResult("commit-image", {
        "mount_dir": info.mount_path if info else os.path.abspath(args.mount_dir),
        "image_file": info.image_path if info else None,
        "index": info.index if info else None,
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


# --- servicing verbs: a session on an image (DISM.exe: /Image or /Online) ----------

def _image_label(args: argparse.Namespace) -> str:
    return "online" if args.online else os.path.abspath(args.image)


@contextlib.contextmanager
def _session(args: argparse.Namespace) -> Iterator[dism.Session]:
    if args.online:
        session = dism.Session.online()
    else:
        session = dism.Session(args.image, windows_dir=args.windows_dir)
    with session:
        yield session


def _package_context(args: argparse.Namespace) -> Dict[str, Any]:
    return {"package_name": getattr(args, "package_name", None),
            "package_path": getattr(args, "package_path", None)}


def _feature_names(args: argparse.Namespace) -> List[str]:
    """--feature-name given several times, each possibly "A;B" as DISM.exe takes it."""
    return [name for given in args.feature_name for name in given.split(";")]


def get_features(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        features = session.get_features(args.package_name, package_path=args.package_path)
    return ServicingResult("features", _image_label(args), features, args.format == "table",
                           _package_context(args))


def get_featureinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        info = session.get_feature_info(args.feature_name, args.package_name,
                                        package_path=args.package_path)
    return ServicingResult("feature", _image_label(args), info)


def get_packages(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        packages = session.get_packages()
    return ServicingResult("packages", _image_label(args), packages, args.format == "table")


def get_packageinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        info = session.get_package_info(args.package_name, path=args.package_path)
    return ServicingResult("package", _image_label(args), info)


def get_drivers(args: argparse.Namespace, console: Console) -> ServicingResult:
    console.say("Obtaining list of 3rd party drivers from the driver store..." if not args.all
                else "Obtaining list of all drivers from the driver store...")
    console.say()
    with _session(args) as session:
        drivers = session.get_drivers(args.all)
    return ServicingResult("drivers", _image_label(args), drivers, args.format == "table",
                           {"all_drivers": args.all})


def get_driverinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        package, drivers = session.get_driver_info(args.driver)
    return ServicingResult("driver_info", _image_label(args),
                           {"driver_package": package, "drivers": drivers})


def get_capabilities(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        capabilities = session.get_capabilities()
    return ServicingResult("capabilities", _image_label(args), capabilities,
                           args.format == "table")


def get_capabilityinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        info = session.get_capability_info(args.capability_name)
    return ServicingResult("capability", _image_label(args), info)


def get_currentedition(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        edition = session.get_current_edition()
    return ServicingResult("current_edition", _image_label(args), edition)


def get_targeteditions(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        editions = session.get_target_editions()
    return ServicingResult("target_editions", _image_label(args), editions)


def get_provisionedappxpackages(args: argparse.Namespace, console: Console) -> ServicingResult:
    with _session(args) as session:
        packages = session.get_provisioned_appx_packages()
    return ServicingResult("provisioned_appx_packages", _image_label(args), packages)


def _health(args: argparse.Namespace, console: Console, *, scan: bool) -> ServicingResult:
    with _session(args) as session:
        if scan:
            with console.step("Scanning the component store") as progress:
                state = session.check_health(scan=True, progress=progress)
        else:
            state = session.check_health()
    return ServicingResult("health_state", _image_label(args), state)


def check_health(args: argparse.Namespace, console: Console) -> ServicingResult:
    return _health(args, console, scan=False)


def scan_health(args: argparse.Namespace, console: Console) -> ServicingResult:
    return _health(args, console, scan=True)


def restore_health(args: argparse.Namespace, console: Console) -> ActionResult:
    with _session(args) as session:
        with console.step("Restoring the component store") as progress:
            session.restore_health(sources=args.source, limit_access=args.limit_access,
                                   progress=progress)
        restart = session.reboot_required
    return ActionResult("restore-health", {"image": _image_label(args), "sources": args.source,
                                           "limit_access": args.limit_access},
                        restart_required=restart)


def enable_feature(args: argparse.Namespace, console: Console) -> ActionResult:
    names = _feature_names(args)
    with _session(args) as session:
        with console.step("Enabling feature(s)") as progress:
            session.enable_features(*names, package=args.package_name,
                                    package_path=args.package_path, enable_all=args.all,
                                    sources=args.source, limit_access=args.limit_access,
                                    progress=progress)
        restart = session.reboot_required
    return ActionResult("enable-feature", {"image": _image_label(args), "features": names,
                                           **_package_context(args), "all": args.all},
                        restart_required=restart)


def disable_feature(args: argparse.Namespace, console: Console) -> ActionResult:
    names = _feature_names(args)
    with _session(args) as session:
        with console.step("Disabling feature(s)") as progress:
            session.disable_features(*names, package=args.package_name,
                                     remove_payload=args.remove, progress=progress)
        restart = session.reboot_required
    return ActionResult("disable-feature", {"image": _image_label(args), "features": names,
                                            "package_name": args.package_name,
                                            "remove_payload": args.remove},
                        restart_required=restart)


def add_package(args: argparse.Namespace, console: Console) -> ActionResult:
    paths = args.package_path
    with _session(args) as session:
        for number, path in enumerate(paths, 1):
            with console.step(f"Processing {number} of {len(paths)} - Adding package {path}") \
                    as progress:
                session.add_package(path, ignore_check=args.ignore_check,
                                    prevent_pending=args.prevent_pending, progress=progress)
        restart = session.reboot_required
    return ActionResult("add-package", {"image": _image_label(args), "packages": paths},
                        restart_required=restart)


def remove_package(args: argparse.Namespace, console: Console) -> ActionResult:
    with _session(args) as session:
        with console.step(f"Removing package {args.package_name or args.package_path}") \
                as progress:
            session.remove_package(args.package_name, path=args.package_path, progress=progress)
        restart = session.reboot_required
    return ActionResult("remove-package", {"image": _image_label(args), **_package_context(args)},
                        restart_required=restart)


def add_driver(args: argparse.Namespace, console: Console) -> ActionResult:
    console.say("Searching for driver package(s) to install...")
    infs = dism.find_driver_infs(args.driver, recurse=args.recurse)
    console.say(f"Found {len(infs)} driver package(s) to install.")
    with _session(args) as session:
        # One INF at a time, so that the console shows each as it lands and
        # a failure leaves no doubt about which ones were added before it.
        for number, inf in enumerate(infs, 1):
            session.add_driver(inf, force_unsigned=args.force_unsigned)
            console.say(f"Installing {number} of {len(infs)} - {inf}: "
                        "The driver package was successfully installed.")
        restart = session.reboot_required
    return ActionResult("add-driver", {"image": _image_label(args), "drivers": infs},
                        restart_required=restart)


def remove_driver(args: argparse.Namespace, console: Console) -> ActionResult:
    with _session(args) as session:
        for number, name in enumerate(args.driver, 1):
            session.remove_driver(name)
            console.say(f"Removing {number} of {len(args.driver)} - {name}: "
                        "The driver package was successfully removed.")
        restart = session.reboot_required
    return ActionResult("remove-driver", {"image": _image_label(args), "drivers": args.driver},
                        restart_required=restart)


def add_capability(args: argparse.Namespace, console: Console) -> ActionResult:
    with _session(args) as session:
        with console.step(f"Adding capability {args.capability_name}") as progress:
            session.add_capability(args.capability_name, sources=args.source,
                                   limit_access=args.limit_access, progress=progress)
        restart = session.reboot_required
    return ActionResult("add-capability", {"image": _image_label(args),
                                           "capability": args.capability_name},
                        restart_required=restart)


def remove_capability(args: argparse.Namespace, console: Console) -> ActionResult:
    with _session(args) as session:
        with console.step(f"Removing capability {args.capability_name}") as progress:
            session.remove_capability(args.capability_name, progress=progress)
        restart = session.reboot_required
    return ActionResult("remove-capability", {"image": _image_label(args),
                                              "capability": args.capability_name},
                        restart_required=restart)


def apply_unattend(args: argparse.Namespace, console: Console) -> ActionResult:
    console.say(f"Applying the unattend file {args.unattend}")
    with _session(args) as session:
        session.apply_unattend(args.unattend, single_session=args.single_session)
        restart = session.reboot_required
    return ActionResult("apply-unattend", {"image": _image_label(args),
                                           "unattend": args.unattend},
                        restart_required=restart)


# ---------------------------------------------------------------------------
# The verbs: one table drives the parser, DISM.exe spelling and dispatch
# ---------------------------------------------------------------------------

def _positive_int(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an image index: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"image indexes start at 1, not {value}")
    if value > 0xFFFFFFFF:   # DISM's UINT; get-imageinfo lists the indexes there are
        raise argparse.ArgumentTypeError(f"no WIM has an image {value}; get-imageinfo lists "
                                         f"the images of a WIM")
    return value


_LOG_LEVELS = {
    "1": dism.LogLevel.ERRORS, "errors": dism.LogLevel.ERRORS,
    "2": dism.LogLevel.ERRORS_WARNINGS, "warnings": dism.LogLevel.ERRORS_WARNINGS,
    "3": dism.LogLevel.ERRORS_WARNINGS_INFO, "info": dism.LogLevel.ERRORS_WARNINGS_INFO,
    "4": dism.LogLevel.ERRORS_WARNINGS_INFO_DEBUG,
    "debug": dism.LogLevel.ERRORS_WARNINGS_INFO_DEBUG,
}


def _log_level(text: str) -> dism.LogLevel:
    try:
        return _LOG_LEVELS[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"invalid log level {text!r}: use 1-4 (as DISM.exe's /LogLevel) or "
            "errors, warnings, info, debug") from None


def _image_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image-file", required=True, metavar="PATH",
                        help="the WIM file (DISM.exe: /ImageFile)")


def _mount_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mount-dir", required=True, metavar="DIR",
                        help="the mount directory (DISM.exe: /MountDir)")


def _index_or_name(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--index", type=_positive_int, metavar="N",
                       help="the image's index, from 1 (DISM.exe: /Index)")
    group.add_argument("--name", metavar="NAME",
                       help="the image's exact name; \"1\" is a name here (DISM.exe: /Name)")


def _commit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--append", action="store_true",
                        help="save the changes as a new image in the WIM (DISM.exe: /Append)")
    parser.add_argument("--check-integrity", action="store_true",
                        help="write integrity data into the WIM (DISM.exe: /CheckIntegrity)")


def _configure_get_imageinfo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image_file_given", nargs="?", metavar="IMAGE_FILE",
                        help="the WIM file, as an alternative to --image-file")
    parser.add_argument("--image-file", metavar="PATH",
                        help="the WIM file (DISM.exe: /ImageFile)")
    _index_or_name(parser, required=False)


def _check_get_imageinfo(args: argparse.Namespace) -> Optional[str]:
    """One image file, given either way; it lands in args.image_file."""
    if args.image_file is not None and args.image_file_given is not None:
        return "give the image file once: as IMAGE_FILE or with --image-file, not both"
    if args.image_file is None and args.image_file_given is None:
        return "give the image file: IMAGE_FILE or --image-file PATH"
    if args.image_file is None:
        args.image_file = args.image_file_given
    return None


def _configure_mount_image(parser: argparse.ArgumentParser) -> None:
    _image_file(parser)
    _mount_dir(parser)
    _index_or_name(parser, required=True)
    parser.add_argument("--read-only", action="store_true",
                        help="mount read-only (DISM.exe: /ReadOnly)")
    parser.add_argument("--optimize", action="store_true",
                        help="optimize the mount for speed (DISM.exe: /Optimize)")
    parser.add_argument("--check-integrity", action="store_true",
                        help="verify the WIM's integrity data first (DISM.exe: /CheckIntegrity)")


def _configure_unmount_image(parser: argparse.ArgumentParser) -> None:
    _mount_dir(parser)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--commit", action="store_true",
                       help="save the changes, then unmount (DISM.exe: /Commit)")
    group.add_argument("--discard", action="store_true",
                       help="throw the changes away and unmount (DISM.exe: /Discard)")
    _commit_options(parser)


def _check_unmount_image(args: argparse.Namespace) -> Optional[str]:
    if args.discard and (args.append or args.check_integrity):
        return "--append and --check-integrity apply only with --commit"
    return None


def _configure_commit_image(parser: argparse.ArgumentParser) -> None:
    _mount_dir(parser)
    _commit_options(parser)


def _configure_nothing(parser: argparse.ArgumentParser) -> None:
    pass


# --- servicing options -------------------------------------------------------------

def _image_target(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--image", metavar="DIR",
                       help="the mounted image or offline Windows root to service "
                            "(DISM.exe: /Image)")
    group.add_argument("--online", action="store_true",
                       help="service the running Windows; Windows only (DISM.exe: /Online)")
    parser.add_argument("--windows-dir", metavar="DIR",
                        help="the Windows directory, relative to the image root "
                             "(default Windows; DISM.exe: /WindowsDir)")


def _check_target(args: argparse.Namespace) -> Optional[str]:
    if args.online and args.windows_dir is not None:
        return "--windows-dir applies only with --image"
    return None


def _check_feature_names(args: argparse.Namespace) -> Optional[str]:
    problem = _check_target(args)
    if problem:
        return problem
    if any(not name.strip() for name in _feature_names(args)):
        return "--feature-name needs a name (an empty name, or an empty one between ';')"
    return None


def _list_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", type=str.lower, choices=("list", "table"), default="list",
                        help="show the list as blocks (default) or as a table "
                             "(DISM.exe: /Format)")


def _package_choice(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--package-name", metavar="NAME",
                       help="the package's identity (DISM.exe: /PackageName)")
    group.add_argument("--package-path", metavar="PATH",
                       help="the package's .cab file or folder (DISM.exe: /PackagePath)")


def _feature_name_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feature-name", action="append", required=True, metavar="NAME",
                        help="a feature; repeat it or separate names with ';' "
                             "(DISM.exe: /FeatureName)")


def _sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", action="append", default=[], metavar="PATH",
                        help="where to find the files; may be repeated (DISM.exe: /Source)")
    parser.add_argument("--limit-access", action="store_true",
                        help="do not look on Windows Update (DISM.exe: /LimitAccess)")


def _capability_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--capability-name", required=True, metavar="NAME",
                        help="the capability's identity (DISM.exe: /CapabilityName)")


def _configure_target_only(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)


def _configure_get_features(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _package_choice(parser, required=False)
    _list_format(parser)


def _configure_get_featureinfo(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    parser.add_argument("--feature-name", required=True, metavar="NAME",
                        help="the feature (DISM.exe: /FeatureName)")
    _package_choice(parser, required=False)


def _configure_enable_feature(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _feature_name_list(parser)
    _package_choice(parser, required=False)
    parser.add_argument("--all", action="store_true",
                        help="enable the parent features too (DISM.exe: /All)")
    _sources(parser)


def _configure_disable_feature(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _feature_name_list(parser)
    parser.add_argument("--package-name", metavar="NAME",
                        help="the package holding the features, when not the foundation "
                             "(DISM.exe: /PackageName)")
    parser.add_argument("--remove", action="store_true",
                        help="remove the features' files too (DISM.exe: /Remove)")


def _configure_get_packages(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _list_format(parser)


def _configure_get_packageinfo(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _package_choice(parser, required=True)


def _configure_add_package(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    parser.add_argument("--package-path", action="append", required=True, metavar="PATH",
                        help="a .cab or .msu file, or an expanded .cab folder; may be repeated "
                             "(DISM.exe: /PackagePath)")
    parser.add_argument("--ignore-check", action="store_true",
                        help="skip the applicability check (DISM.exe: /IgnoreCheck)")
    parser.add_argument("--prevent-pending", action="store_true",
                        help="refuse a package that needs online actions "
                             "(DISM.exe: /PreventPending)")


def _configure_remove_package(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _package_choice(parser, required=True)


def _configure_get_drivers(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    parser.add_argument("--all", action="store_true",
                        help="list the in-box drivers too (DISM.exe: /All)")
    _list_format(parser)


def _configure_get_driverinfo(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    parser.add_argument("--driver", required=True, metavar="INF",
                        help="a published name (oem0.inf) or an .inf file (DISM.exe: /Driver)")


def _configure_add_driver(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    parser.add_argument("--driver", required=True, metavar="PATH",
                        help="an .inf file, or a folder of them (DISM.exe: /Driver)")
    parser.add_argument("--recurse", action="store_true",
                        help="take the .inf files in every folder below too (DISM.exe: /Recurse)")
    parser.add_argument("--force-unsigned", action="store_true",
                        help="add unsigned drivers too (DISM.exe: /ForceUnsigned)")


def _configure_remove_driver(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    parser.add_argument("--driver", action="append", required=True, metavar="INF",
                        help="a published name (oem0.inf); may be repeated (DISM.exe: /Driver)")


def _configure_capability_info(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _capability_name(parser)


def _configure_get_capabilities(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _list_format(parser)


def _configure_add_capability(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _capability_name(parser)
    _sources(parser)


def _configure_restore_health(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    _sources(parser)


def _configure_apply_unattend(parser: argparse.ArgumentParser) -> None:
    _image_target(parser)
    parser.add_argument("--unattend", required=True, metavar="PATH",
                        help="the answer file (DISM.exe: /Apply-Unattend:PATH)")
    parser.add_argument("--single-session", action="store_true",
                        help="install the file's packages in one servicing session")


@dataclass(frozen=True)
class Verb:
    dism_name: str                                           # DISM.exe's spelling
    help: str
    configure: Callable[[argparse.ArgumentParser], None]     # adds the verb's options
    action: Callable[[argparse.Namespace, Console], Any]      # does it, returns a result
    check: Optional[Callable[[argparse.Namespace], Optional[str]]] = None  # what argparse can't
    value_option: Optional[str] = None   # where DISM.exe's /Verb:VALUE puts its value
    dism_usage: Optional[str] = None     # DISM.exe's spelling, when not just /dism_name

    @property
    def name(self) -> str:
        return self.dism_name.lower()

    @property
    def dism_spelling(self) -> str:
        return self.dism_usage or "/" + self.dism_name


VERBS = (
    Verb("Get-ImageInfo", "show the images of a WIM file, or one image in detail",
         _configure_get_imageinfo, get_imageinfo, _check_get_imageinfo),
    Verb("Mount-Image", "mount an image of a WIM file into an empty directory",
         _configure_mount_image, mount_image),
    Verb("Commit-Image", "save the changes of a mounted image and stay mounted",
         _configure_commit_image, commit_image),
    Verb("Unmount-Image", "unmount an image, saving (--commit) or dropping (--discard) changes",
         _configure_unmount_image, unmount_image, _check_unmount_image),
    Verb("Remount-Image", "bring a mount that needs a remount back to OK",
         _mount_dir, remount_image),
    Verb("Get-MountedImageInfo", "list the mounted images and their status",
         _configure_nothing, get_mountedimageinfo),
    Verb("Cleanup-Mountpoints", "release stale mounts and their leftover files",
         _configure_nothing, cleanup_mountpoints),
    Verb("Get-Features", "list the optional features of an image or of one package",
         _configure_get_features, get_features, _check_target),
    Verb("Get-FeatureInfo", "show one optional feature in detail",
         _configure_get_featureinfo, get_featureinfo, _check_target),
    Verb("Enable-Feature", "enable optional features",
         _configure_enable_feature, enable_feature, _check_feature_names),
    Verb("Disable-Feature", "disable optional features",
         _configure_disable_feature, disable_feature, _check_feature_names),
    Verb("Get-Packages", "list the packages of an image",
         _configure_get_packages, get_packages, _check_target),
    Verb("Get-PackageInfo", "show one package in detail",
         _configure_get_packageinfo, get_packageinfo, _check_target),
    Verb("Add-Package", "install .cab or .msu packages",
         _configure_add_package, add_package, _check_target),
    Verb("Remove-Package", "uninstall a package",
         _configure_remove_package, remove_package, _check_target),
    Verb("Get-Drivers", "list the driver packages of an image",
         _configure_get_drivers, get_drivers, _check_target),
    Verb("Get-DriverInfo", "show a driver package and the devices it supports",
         _configure_get_driverinfo, get_driverinfo, _check_target),
    Verb("Add-Driver", "add driver packages (.inf), one file or a folder of them",
         _configure_add_driver, add_driver, _check_target),
    Verb("Remove-Driver", "remove out-of-box driver packages",
         _configure_remove_driver, remove_driver, _check_target),
    Verb("Get-Capabilities", "list the capabilities (Features on Demand) of an image",
         _configure_get_capabilities, get_capabilities, _check_target),
    Verb("Get-CapabilityInfo", "show one capability in detail",
         _configure_capability_info, get_capabilityinfo, _check_target),
    Verb("Add-Capability", "install a capability",
         _configure_add_capability, add_capability, _check_target),
    Verb("Remove-Capability", "uninstall a capability",
         _configure_capability_info, remove_capability, _check_target),
    Verb("Get-CurrentEdition", "show the edition of an image",
         _configure_target_only, get_currentedition, _check_target),
    Verb("Get-TargetEditions", "list the editions an image can be changed to",
         _configure_target_only, get_targeteditions, _check_target),
    Verb("Get-ProvisionedAppxPackages", "list the app packages provisioned for new users",
         _configure_target_only, get_provisionedappxpackages, _check_target),
    Verb("Check-Health", "report the corruption an earlier scan recorded, without scanning",
         _configure_target_only, check_health, _check_target,
         dism_usage="/Cleanup-Image /CheckHealth"),
    Verb("Scan-Health", "scan the component store for corruption",
         _configure_target_only, scan_health, _check_target,
         dism_usage="/Cleanup-Image /ScanHealth"),
    Verb("Restore-Health", "repair the component store",
         _configure_restore_health, restore_health, _check_target,
         dism_usage="/Cleanup-Image /RestoreHealth"),
    Verb("Apply-Unattend", "apply the offlineServicing settings of an answer file",
         _configure_apply_unattend, apply_unattend, _check_target,
         value_option="--unattend", dism_usage="/Apply-Unattend:PATH"),
)

_VERBS_BY_NAME = {verb.name: verb for verb in VERBS}


# ---------------------------------------------------------------------------
# DISM.exe spelling -> argparse spelling
# ---------------------------------------------------------------------------

_DISM_OPTIONS = {
    "imagefile": "--image-file", "wimfile": "--image-file", "index": "--index",
    "name": "--name", "mountdir": "--mount-dir", "readonly": "--read-only",
    "optimize": "--optimize", "checkintegrity": "--check-integrity", "commit": "--commit",
    "discard": "--discard", "append": "--append", "loglevel": "--log-level",
    "logpath": "--log-path", "scratchdir": "--scratch-dir", "quiet": "--quiet", "?": "--help",
    # servicing
    "image": "--image", "online": "--online", "windowsdir": "--windows-dir",
    "featurename": "--feature-name", "packagename": "--package-name",
    "packagepath": "--package-path", "all": "--all", "source": "--source",
    "limitaccess": "--limit-access", "remove": "--remove", "ignorecheck": "--ignore-check",
    "preventpending": "--prevent-pending", "driver": "--driver", "recurse": "--recurse",
    "forceunsigned": "--force-unsigned", "capabilityname": "--capability-name",
    "format": "--format",
}

# DISM.exe still takes the names its WIM verbs had before Windows 8.
_DISM_EXE_OLD_NAMES = {
    "get-wiminfo": "get-imageinfo", "get-mountedwiminfo": "get-mountedimageinfo",
    "mount-wim": "mount-image", "unmount-wim": "unmount-image", "commit-wim": "commit-image",
    "remount-wim": "remount-image", "cleanup-wim": "cleanup-mountpoints",
}

# DISM.exe spells some verbs as a verb plus an option: /Cleanup-Image /CheckHealth.
_DISM_COMPOUND_VERBS = {
    "cleanup-image": {"checkhealth": "check-health", "scanhealth": "scan-health",
                      "restorehealth": "restore-health"},
}

_DISM_TOKEN = re.compile(r"/(\?|[A-Za-z][A-Za-z-]*)(?::(.*))?\Z", re.DOTALL)


def _dism_verb(token: str) -> Optional[Tuple[str, Optional[str]]]:
    """(verb, value) when token is a DISM.exe verb: `/Verb`, or `/Verb:VALUE`
    for a verb that takes a value (`/Apply-Unattend:answer.xml`)."""
    match = _DISM_TOKEN.match(token)
    if not match:
        return None
    name, value = match.group(1).lower(), match.group(2)
    if name in _DISM_COMPOUND_VERBS:
        return (name, None) if value is None else None
    name = _DISM_EXE_OLD_NAMES.get(name, name)
    verb = _VERBS_BY_NAME.get(name)
    if verb is None or (value is not None and verb.value_option is None):
        return None
    return name, value


def _compound_verb(verb: Optional[str], match: Optional["re.Match[str]"]) -> Optional[str]:
    """The verb that `/Cleanup-Image` becomes with the option in `match`, if any."""
    if verb not in _DISM_COMPOUND_VERBS or match is None or match.group(2) is not None:
        return None
    return _DISM_COMPOUND_VERBS[verb].get(match.group(1).lower())


# DISM.exe's verbs this command line does not have (from DISM.exe's own
# /? listings), so that they are named as unsupported rather than left to
# argparse, which would complain about whatever token came first.
_DISM_EXE_VERBS_NOT_HERE = frozenset(name.lower() for name in (
    "Add-Edge", "Add-ProvisionedAppxPackage", "Add-ProvisioningPackage", "Append-Image",
    "Apply-CustomDataImage", "Apply-FFU", "Apply-Image", "Apply-SiloedPackage",
    "Capture-CustomImage", "Capture-FFU", "Capture-Image", "Check-AppPatch", "Delete-Image",
    "Disable-Edge", "Enable-Edge", "Export-DefaultAppAssociations", "Export-Driver",
    "Export-Image", "Export-Source", "Get-AppInfo", "Get-AppPatchInfo", "Get-AppPatches",
    "Get-Apps", "Get-DefaultAppAssociations", "Get-Intl", "Get-OSUninstallWindow",
    "Get-ProvisioningPackageInfo", "Get-ReservedStorageState", "Get-WimBootEntry",
    "Import-DefaultAppAssociations", "Initiate-OSUninstall", "List-Image", "Optimize-FFU",
    "Optimize-Image", "Optimize-ProvisionedAppxPackages", "Remove-DefaultAppAssociations",
    "Remove-Edge", "Remove-OSUninstall", "Remove-ProvisionedAppxPackage", "Set-AllIntl",
    "Set-Edition", "Set-InputLocale", "Set-LayeredDriver", "Set-OSUninstallWindow",
    "Set-ProductKey", "Set-ProvisionedAppxDataFile", "Set-ReservedStorageState",
    "Set-ScratchSpace", "Set-SKUIntlDefaults", "Set-SysLocale", "Set-TargetPath",
    "Set-TimeZone", "Set-UILang", "Set-UILangFallback", "Set-UserLocale", "Split-FFU",
    "Split-Image", "Update-WimBootEntry",
)) - {verb.name for verb in VERBS}

# /Cleanup-Image's actions this command line lacks.
_DISM_EXE_CLEANUP_ACTIONS_NOT_HERE = frozenset((
    "analyzecomponentstore", "startcomponentcleanup", "resetbase", "spsuperseded",
    "hidesp", "revertpendingactions", "defer"))


def _unsupported_dism_verb(argv: Sequence[str]) -> Optional[str]:
    """The DISM.exe spelling of the first verb in argv this CLI does not have."""
    after_cleanup = False
    for token in argv:
        match = _DISM_TOKEN.match(token)
        if not match:
            continue
        name = match.group(1).lower()
        if name in _DISM_EXE_VERBS_NOT_HERE:
            return "/" + match.group(1)
        if after_cleanup and name in _DISM_EXE_CLEANUP_ACTIONS_NOT_HERE:
            return "/Cleanup-Image /" + match.group(1)
        after_cleanup = after_cleanup or name == "cleanup-image"
    return None


def _refuse_unsupported_verbs(argv: Sequence[str]) -> None:
    verb = _unsupported_dism_verb(argv)
    if verb is not None:
        raise UsageError(f"DISM.exe's {verb} is not supported by this CLI; --help lists the "
                         "verbs it has")


def translate_dism_syntax(argv: Sequence[str]) -> List[str]:
    """DISM.exe's spelling (`/Get-ImageInfo /ImageFile:x.wim /Index:1`) as argparse's
    (`get-imageinfo --image-file=x.wim --index=1`).  A command line holding no
    DISM.exe verb (nor `/?`) is returned unchanged, so POSIX paths are safe."""
    argv = list(argv)
    _refuse_unsupported_verbs(argv)
    if not any(_dism_verb(token) or token == "/?" for token in argv):
        return argv
    verb: Optional[str] = None
    verb_value: List[str] = []
    rest: List[str] = []
    for token in argv:
        found = _dism_verb(token) if verb is None else None
        if found:
            verb, value = found
            if value is not None:
                verb_value.append(f"{_VERBS_BY_NAME[verb].value_option}={value}")
            continue
        match = _DISM_TOKEN.match(token)
        compound = _compound_verb(verb, match)
        if compound:
            verb = compound
            continue
        option = _DISM_OPTIONS.get(match.group(1).lower()) if match else None
        if option is None:
            rest.append(token)  # argparse reports it if it makes no sense
        elif match.group(2) is None:
            rest.append(option)
        else:
            rest.append(f"{option}={match.group(2)}")
    if verb in _DISM_COMPOUND_VERBS:
        spellings = [_VERBS_BY_NAME[name].dism_spelling
                     for name in _DISM_COMPOUND_VERBS[verb].values()]
        raise UsageError("an action is missing: use " + ", ".join(spellings))
    return ([verb] if verb else []) + verb_value + rest


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Reports usage errors by raising UsageError instead of exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message, self)


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # On the verbs the defaults are SUPPRESS, so an option given before the
    # verb is not reset by the verb's parser.
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument("--json", action="store_true", default=default(False),
                       help="print one JSON document on stdout")
    group.add_argument("--quiet", action="store_true", default=default(False),
                       help="print only errors (and the JSON document with --json)")
    group.add_argument("--log-level", type=_log_level, default=default(None), metavar="LEVEL",
                       help="1 errors, 2 +warnings, 3 +information (default), 4 +debug")
    group.add_argument("--log-path", default=default(None), metavar="PATH",
                       help="the DISM log file")
    group.add_argument("--scratch-dir", default=default(None), metavar="DIR",
                       help="the directory for temporary files")


def _epilog() -> str:
    return ("DISM.exe's spelling works too, e.g.\n"
            "  /Get-ImageInfo /ImageFile:install.wim /Index:1\n"
            "  /Mount-Image /ImageFile:install.wim /Index:1 /MountDir:/mnt/img /ReadOnly\n"
            "  /Unmount-Image /MountDir:/mnt/img /Commit\n"
            "  /Image:/mnt/img /Enable-Feature /FeatureName:NetFx3 /All\n"
            "  /Image:/mnt/img /Cleanup-Image /CheckHealth\n\n"
            "exit status:\n" + EXIT_STATUS_TABLE)


def build_parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog or "dismapi",
                     description="Deployment Image Servicing and Management, on the DISM API "
                                 f"({dism.BACKEND} backend).",
                     epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dismapi {dism.__version__}")
    _add_global_options(parser, top=True)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        sub = verbs.add_parser(verb.name, help=verb.help,
                               description=f"{verb.help} (DISM.exe: {verb.dism_spelling})",
                               epilog="exit status:\n" + EXIT_STATUS_TABLE,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        verb.configure(sub)
        _add_global_options(sub, top=False)
        sub.set_defaults(spec=verb, parser=sub)
    return parser


# ---------------------------------------------------------------------------
# Output formatting
# ---------------------------------------------------------------------------

HEADER = "Deployment Image Servicing and Management tool (dismapi {version})"
SUCCESS = "The operation completed successfully."
RESTART_NOTE = "Restart Windows to complete this operation."

_ARCHITECTURES = {
    dism.Architecture.X86: "x86", dism.Architecture.ARM: "arm", dism.Architecture.IA64: "ia64",
    dism.Architecture.AMD64: "x64", dism.Architecture.NEUTRAL: "neutral",
    dism.Architecture.ARM64: "arm64", dism.Architecture.UNKNOWN: "<undefined>",
}
_BOOTABLE = {dism.ImageBootable.YES: "Yes", dism.ImageBootable.NO: "No",
             dism.ImageBootable.UNKNOWN: "<undefined>"}
_MOUNT_STATUS = {dism.MountStatus.OK: "Ok", dism.MountStatus.NEEDS_REMOUNT: "Needs Remount",
                 dism.MountStatus.INVALID: "Invalid"}


def _text(value: Any) -> str:
    return "<undefined>" if value is None or value == "" else str(value)


def _when(moment: Optional[_dt.datetime]) -> str:
    """DISM's `12/7/2019 - 9:52:25 AM`, in local time."""
    if moment is None:
        return "<undefined>"
    local = moment.astimezone()
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return (f"{local.month}/{local.day}/{local.year} - "
            f"{hour}:{local.minute:02d}:{local.second:02d} {meridiem}")


def _image_lines(image: dism.ImageInfo, detailed: bool) -> List[str]:
    lines = [f"Index : {image.index}", f"Name : {_text(image.name)}",
             f"Description : {_text(image.description)}", f"Size : {image.size:,} bytes"]
    if not detailed:
        return lines
    version = image.version
    lines += [
        f"WIM Bootable : {_BOOTABLE.get(image.bootable, image.bootable)}",
        f"Architecture : {_ARCHITECTURES.get(image.architecture, image.architecture)}",
        f"Hal : {_text(image.hal)}",
        f"Version : {version.major}.{version.minor}.{version.build}",
        f"ServicePack Build : {version.spbuild}",
        f"ServicePack Level : {version.splevel}",
        f"Edition : {_text(image.edition)}",
        f"Installation : {_text(image.installation_type)}",
        f"ProductType : {_text(image.product_type)}",
        f"ProductSuite : {_text(image.product_suite)}",
        f"System Root : {_text(image.system_root)}",
        f"Directories : {_text(image.directory_count)}",
        f"Files : {_text(image.file_count)}",
        f"Created : {_when(image.created)}",
        f"Modified : {_when(image.modified)}",
        "Languages :",
    ]
    for language in image.languages:
        default = " (Default)" if language == image.default_language else ""
        lines.append(f"        {language}{default}")
    return lines


def _human_image_info(result: ImageInfoResult) -> List[str]:
    lines = [f"Details for image : {result.image_file}", ""]
    for image in result.images:
        lines += _image_lines(image, result.detailed) + [""]
    return lines


def _human_mounted_images(result: MountedImagesResult) -> List[str]:
    if not result.mounted_images:
        return ["No mounted images found.", ""]
    lines = ["Mounted images:", ""]
    for info in result.mounted_images:
        lines += [f"Mount Dir : {info.mount_path}", f"Image File : {info.image_path}",
                  f"Image Index : {info.index}",
                  f"Mounted Read/Write : {'No' if info.read_only else 'Yes'}",
                  f"Status : {_MOUNT_STATUS.get(info.status, info.status)}", ""]
    return lines


def _mount_line(info: dism.MountedImageInfo) -> str:
    mode = "read-only" if info.read_only else "read/write"
    return (f"  {info.mount_path} : {info.image_path}, index {info.index}, {mode}, "
            f"status {_MOUNT_STATUS.get(info.status, info.status)}")


def _human_cleanup(details: Mapping[str, Any]) -> List[str]:
    released, left = details["released"], details["left"]
    lines = [f"Released {len(released)} stale mount(s)" + (":" if released else ".")]
    lines += [_mount_line(info) for info in released]
    lines.append(f"Left {len(left)} mount(s) in place" + (":" if left else "."))
    lines += [_mount_line(info) for info in left]
    return lines + [""]


_ACTION_RENDERERS: Mapping[str, Callable[[Mapping[str, Any]], List[str]]] = {
    "cleanup-mountpoints": _human_cleanup,
}


def _human_action(result: ActionResult) -> List[str]:
    render = _ACTION_RENDERERS.get(result.operation)
    return render(result.details) if render else []


# --- servicing results ---------------------------------------------------------------

_FEATURE_STATES = {
    dism.PackageFeatureState.NOT_PRESENT: "Not Present",
    dism.PackageFeatureState.UNINSTALL_PENDING: "Disable Pending",
    dism.PackageFeatureState.STAGED: "Disabled",
    dism.PackageFeatureState.RESOLVED: "Disabled with Payload Removed",
    dism.PackageFeatureState.INSTALLED: "Enabled",
    dism.PackageFeatureState.INSTALL_PENDING: "Enable Pending",
    dism.PackageFeatureState.SUPERSEDED: "Superseded",
    dism.PackageFeatureState.PARTIALLY_INSTALLED: "Partially Installed",
}
_PACKAGE_STATES = {  # packages and capabilities
    dism.PackageFeatureState.RESOLVED: "Removed",
}
_FULLY_OFFLINE = {
    dism.FullyOfflineInstallable.INSTALLABLE: "Yes",
    dism.FullyOfflineInstallable.NOT_INSTALLABLE: "No",
    dism.FullyOfflineInstallable.UNDETERMINED: "Undetermined",
}
_HEALTH = {
    dism.ImageHealthState.HEALTHY: "No component store corruption detected.",
    dism.ImageHealthState.REPAIRABLE: "The component store is repairable.",
    dism.ImageHealthState.NON_REPAIRABLE: "The component store cannot be repaired.",
}


def _words(value: Any, names: Optional[Mapping[Any, str]] = None) -> str:
    """An enum member as DISM.exe words ("Install Pending"), through `names`
    first; a value newer than this program is shown as its number."""
    if names and value in names:
        return names[value]
    if isinstance(value, enum.Enum):
        return value.name.replace("_", " ").title()
    return _text(value)


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def _day(moment: Optional[_dt.datetime]) -> str:
    """A driver's date, which is a calendar date and so not moved to local time."""
    return "<undefined>" if moment is None else f"{moment.month}/{moment.day}/{moment.year}"


def _architecture(value: Any) -> str:
    return _ARCHITECTURES.get(value, _text(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    """DISM.exe's /Format:Table: columns padded to width, rules of dashes."""
    widths = [max([len(header)] + [len(row[i]) for row in rows])
              for i, header in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    rule = " | ".join("-" * width for width in widths)
    return [rule, line(headers), rule] + [line(row) for row in rows] + [""]


def _blocks(records: Sequence[Sequence[Tuple[str, str]]], empty: str) -> List[str]:
    """DISM.exe's list format: `Label : value` lines, a blank line after each record."""
    if not records:
        return [empty, ""]
    lines: List[str] = []
    for record in records:
        lines += [f"{label} : {value}" for label, value in record] + [""]
    return lines


def _listing(result: ServicingResult, fields: Sequence[Tuple[str, Callable[[Any], str]]],
             empty: str) -> List[str]:
    rows = [[render(item) for _, render in fields] for item in result.value]
    if result.table and rows:
        return _table([label for label, _ in fields], rows)
    labels = [label for label, _ in fields]
    return _blocks([list(zip(labels, row)) for row in rows], empty)


def _custom_property_lines(properties: Sequence[dism.CustomProperty]) -> List[str]:
    lines = ["Custom Properties:", ""]
    if not properties:
        return lines + ["(No custom properties found)", ""]
    for prop in properties:
        where = f"{prop.path}\\" if prop.path else ""
        lines.append(f"{where}{_text(prop.name)} : {_text(prop.value)}")
    return lines + [""]


def _human_features(result: ServicingResult) -> List[str]:
    package = result.context.get("package_name") or result.context.get("package_path")
    heading = f"Features listing for package : {package}" if package else "Features listing:"
    fields = [("Feature Name", lambda f: f.name),
              ("State", lambda f: _words(f.state, _FEATURE_STATES))]
    return [heading, ""] + _listing(result, fields, "(No features found)")


def _human_feature(result: ServicingResult) -> List[str]:
    info: dism.FeatureInfo = result.value
    return ["Feature Information:", "",
            f"Feature Name : {info.name}",
            f"Display Name : {_text(info.display_name)}",
            f"Description : {_text(info.description)}",
            f"Restart Required : {_words(info.restart_required)}",
            f"State : {_words(info.state, _FEATURE_STATES)}", ""] + \
        _custom_property_lines(info.custom_properties)


def _human_packages(result: ServicingResult) -> List[str]:
    fields = [("Package Identity", lambda p: p.name),
              ("State", lambda p: _words(p.state, _PACKAGE_STATES)),
              ("Release Type", lambda p: _words(p.release_type)),
              ("Install Time", lambda p: _when(p.install_time))]
    return ["Packages listing:", ""] + _listing(result, fields, "(No packages found)")


def _human_package(result: ServicingResult) -> List[str]:
    info: dism.PackageInfo = result.value
    lines = ["Package information:", "",
             f"Package Identity : {info.name}",
             f"Applicable : {_yes_no(info.applicable)}",
             f"Copyright : {_text(info.copyright)}",
             f"Company : {_text(info.company)}",
             f"Creation Time : {_when(info.creation_time)}",
             f"Description : {_text(info.description)}",
             f"Install Client : {_text(info.install_client)}",
             f"Install Package Name : {_text(info.install_package_name)}",
             f"Install Time : {_when(info.install_time)}",
             f"Last Update Time : {_when(info.last_update_time)}",
             f"Name : {_text(info.display_name)}",
             f"Product Name : {_text(info.product_name)}",
             f"Product Version : {_text(info.product_version)}",
             f"Release Type : {_words(info.release_type)}",
             f"Restart Required : {_words(info.restart_required)}",
             f"Support Information : {_text(info.support_information)}",
             f"State : {_words(info.state, _PACKAGE_STATES)}",
             f"Completely offline capable : {_words(info.fully_offline, _FULLY_OFFLINE)}"]
    if info.capability_id is not None:
        lines.append(f"Capability Identity : {info.capability_id}")
    lines += [""] + _custom_property_lines(info.custom_properties)
    lines += [f"Features listing for package : {info.name}", ""]
    features = [[("Feature Name", f.name), ("State", _words(f.state, _FEATURE_STATES))]
                for f in info.features]
    return lines + _blocks(features, "(No features found for this package)")


def _human_drivers(result: ServicingResult) -> List[str]:
    fields = [("Published Name", lambda d: _text(d.published_name)),
              ("Original File Name", lambda d: _text(d.original_file_name)),
              ("Inbox", lambda d: _yes_no(d.inbox)),
              ("Class Name", lambda d: _text(d.class_name)),
              ("Provider Name", lambda d: _text(d.provider_name)),
              ("Date", lambda d: _day(d.date)),
              ("Version", lambda d: str(d.version))]
    return ["Driver packages listing:", ""] + _listing(result, fields,
                                                       "(No driver packages found)")


def _driver_lines(driver: dism.Driver) -> List[str]:
    return [f"    Manufacturer : {_text(driver.manufacturer_name)}",
            f"    Description : {_text(driver.hardware_description)}",
            f"    Architecture : {_architecture(driver.architecture)}",
            f"    Hardware ID : {_text(driver.hardware_id)}",
            f"    Service Name : {_text(driver.service_name)}",
            f"    Compatible IDs : {_text(driver.compatible_ids)}",
            f"    Exclude IDs : {_text(driver.exclude_ids)}", ""]


def _human_driver_info(result: ServicingResult) -> List[str]:
    package: dism.DriverPackage = result.value["driver_package"]
    lines = ["Driver package information:", "",
             f"Published Name : {_text(package.published_name)}",
             f"Original File Name : {_text(package.original_file_name)}",
             f"Inbox : {_yes_no(package.inbox)}",
             f"Catalog File : {_text(package.catalog_file)}",
             f"Class Name : {_text(package.class_name)}",
             f"Class Description : {_text(package.class_description)}",
             f"Class GUID : {_text(package.class_guid)}",
             f"Provider Name : {_text(package.provider_name)}",
             f"Date : {_day(package.date)}",
             f"Version : {package.version}",
             f"Boot Critical : {_yes_no(package.boot_critical)}",
             f"Signature : {_words(package.signature)}", ""]
    drivers: Sequence[dism.Driver] = result.value["drivers"]
    if not drivers:
        return lines + ["(No devices listed for this driver package)", ""]
    # DISM.exe groups the devices under the architecture they are built for.
    for arch in dict.fromkeys(driver.architecture for driver in drivers):
        lines += [f"Drivers for architecture : {_architecture(arch)}", ""]
        for driver in drivers:
            if driver.architecture == arch:
                lines += _driver_lines(driver)
    return lines


def _human_capabilities(result: ServicingResult) -> List[str]:
    fields = [("Capability Identity", lambda c: c.name),
              ("State", lambda c: _words(c.state, _PACKAGE_STATES))]
    return ["Capability listing:", ""] + _listing(result, fields, "(No capabilities found)")


def _human_capability(result: ServicingResult) -> List[str]:
    info: dism.CapabilityInfo = result.value
    return ["Capability Information:", "",
            f"Capability Identity : {info.name}",
            f"Name : {_text(info.display_name)}",
            f"State : {_words(info.state, _PACKAGE_STATES)}",
            f"Description : {_text(info.description)}",
            f"Download Size : {info.download_size:,} bytes",
            f"Install Size : {info.install_size:,} bytes", ""]


def _human_current_edition(result: ServicingResult) -> List[str]:
    return ["Current edition is:", "", f"Current Edition : {result.value}", ""]


def _human_target_editions(result: ServicingResult) -> List[str]:
    if not result.value:
        return ["The image cannot be changed to any other edition.", ""]
    return (["Editions that can be upgraded to:", ""]
            + [f"Target Edition : {edition}" for edition in result.value] + [""])


def _human_appx_packages(result: ServicingResult) -> List[str]:
    packages = [[("DisplayName", _text(p.display_name)), ("Version", str(p.version)),
                 ("Architecture", _architecture(p.architecture)),
                 ("ResourceId", _text(p.resource_id)), ("PackageName", p.package_name),
                 ("Regions", p.region or "None")]
                for p in result.value]
    return _blocks(packages, "(No provisioned app packages found)")


def _human_health(result: ServicingResult) -> List[str]:
    return [_HEALTH.get(result.value, f"Unknown component store state {result.value}."), ""]


_SERVICING_RENDERERS: Mapping[str, Callable[[ServicingResult], List[str]]] = {
    "features": _human_features,
    "feature": _human_feature,
    "packages": _human_packages,
    "package": _human_package,
    "drivers": _human_drivers,
    "driver_info": _human_driver_info,
    "capabilities": _human_capabilities,
    "capability": _human_capability,
    "current_edition": _human_current_edition,
    "target_editions": _human_target_editions,
    "provisioned_appx_packages": _human_appx_packages,
    "health_state": _human_health,
}


def _human_servicing(result: ServicingResult) -> List[str]:
    return _SERVICING_RENDERERS[result.kind](result)


_HUMAN_RENDERERS: Mapping[type, Callable[[Any], List[str]]] = {
    ImageInfoResult: _human_image_info,
    MountedImagesResult: _human_mounted_images,
    ActionResult: _human_action,
    ServicingResult: _human_servicing,
}


def jsonable(value: Any) -> Any:
    """Plain JSON values: enums by name, datetimes in ISO 8601, versions as strings."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dism.Version):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def json_document(result: Any) -> Dict[str, Any]:
    if isinstance(result, ImageInfoResult):
        return {"image_file": result.image_file, "images": jsonable(result.images)}
    if isinstance(result, ActionResult):
        return {"operation": result.operation, **jsonable(result.details),
                "restart_required": result.restart_required}
    if isinstance(result, ServicingResult):
        return {"image": result.image, **jsonable(result.context),
                result.kind: jsonable(result.value)}
    return jsonable(result)


# ---------------------------------------------------------------------------
# DISM API names -> the CLI's words, for the messages the engine writes
# ---------------------------------------------------------------------------

def _api_function(verb: Verb) -> str:
    """The DISM API function a verb calls, by DISM.exe's naming (/Get-Features
    calls DismGetFeatures)."""
    return "Dism" + verb.dism_name.replace("-", "")


#: What a CLI user types for each DISM API name the engine's messages use.
API_TO_CLI: Mapping[str, str] = {
    **{_api_function(verb): verb.name for verb in VERBS},
    **{"_" + _api_function(verb): verb.name for verb in VERBS},  # the private exports
    "DismRestoreImageHealth": "restore-health",
    "DISM_DISCARD_IMAGE": "--discard", "DISM_COMMIT_IMAGE": "--commit",
    "DISM_COMMIT_APPEND": "--append", "DISM_COMMIT_GENERATE_INTEGRITY": "--check-integrity",
    "DISM_MOUNT_CHECK_INTEGRITY": "--check-integrity", "DISM_MOUNT_READONLY": "--read-only",
    "DISM_MOUNT_OPTIMIZE": "--optimize", "DISM_ONLINE_IMAGE": "--online",
    "ImageFilePath": "--image-file", "MountPath": "--mount-dir", "ImageIndex": "--index",
    "ImageName": "--name", "ImagePath": "--image", "WindowsDirectory": "--windows-dir",
    "SourcePaths": "--source", "LimitAccess": "--limit-access", "EnableAll": "--all",
    "FeatureName": "--feature-name", "PackagePath": "--package-path",
    "RemovePayload": "--remove", "ForceUnsigned": "--force-unsigned",
    "ScratchDirectory": "--scratch-dir", "LogFilePath": "--log-path",
}

#: API names that stand for the verb being run (every servicing verb opens a
#: session; check-health and scan-health both call DismCheckImageHealth).
_API_OF_THE_RUNNING_VERB = ("DismInitialize", "DismOpenSession", "DismCloseSession",
                            "DismCheckImageHealth")

_QUOTED = re.compile(r"('[^']*')")   # the engine quotes paths and names given to it
_WORD = re.compile(r"\w+")


def _given_values(argv: Sequence[str]) -> List[str]:
    """What the user typed, argument by argument and option value by option
    value (--opt=VALUE, /Opt:VALUE), longest first."""
    values = set()
    for arg in argv:
        values.add(arg)
        for separator in "=:":
            if separator in arg:
                values.add(arg.split(separator, 1)[1])
    return sorted((v for v in values if len(v) > 1), key=len, reverse=True)


def _translate_unquoted(text: str, words: Mapping[str, str]) -> str:
    pieces = _QUOTED.split(text)
    return "".join(piece if quoted else _WORD.sub(lambda m: words.get(m[0], m[0]), piece)
                   for piece, quoted in zip(pieces, itertools.cycle((False, True))))


def cli_words(message: str, verb: Optional[str] = None, given: Sequence[str] = ()) -> str:
    """`message` with DISM API names replaced by the CLI's verbs and options.
    What the user gave (`given`: the command line) and quoted text are left
    as they are, even a path whose own apostrophe upsets the quoting."""
    words = dict(API_TO_CLI)
    if verb is not None:
        words.update(dict.fromkeys(_API_OF_THE_RUNNING_VERB, verb))
    values = _given_values(given)
    if not values:
        return _translate_unquoted(message, words)
    pieces = re.split("(" + "|".join(map(re.escape, values)) + ")", message)
    return "".join(piece if kept else _translate_unquoted(piece, words)
                   for piece, kept in zip(pieces, itertools.cycle((False, True))))


def error_document(exc: BaseException, verb: Optional[str] = None,
                   given: Sequence[str] = ()) -> Dict[str, Any]:
    hresult = _hresult(exc)
    error = {
        "hresult": None if hresult is None else f"0x{hresult:08X}",
        "type": type(exc).__name__,
        "message": _error_message(exc, verb, given),
    }
    if isinstance(getattr(exc, "completed", None), bool):
        error["completed"] = exc.completed
    return {"error": error}


#: What a cancelled or interrupted operation did, by its `completed` attribute
#: (the sentences of the extension's notes, src/_dism.c).
_CANCEL_OUTCOME = {
    True: "The cancel came after the point where the operation can stop: it completed "
          "successfully.",
    False: "The operation was stopped before it changed anything: nothing was saved.",
}


#: A Ctrl+C that reached Python outside a DISM call (before it started, or
#: after it returned) says nothing about the operation.
_INTERRUPT_OUTSIDE_A_CALL = (
    "Interrupted (Ctrl+C) outside the operation itself: if it came after the operation had "
    "finished, its changes were saved. Check with get-mountedimageinfo.")


def _error_message(exc: BaseException, verb: Optional[str] = None,
                   given: Sequence[str] = ()) -> str:
    if isinstance(exc, UsageError):
        return exc.message
    if isinstance(exc, KeyboardInterrupt):
        message = "The operation was cancelled by the user."
        if getattr(exc, "completed", None) is None:
            message = _INTERRUPT_OUTSIDE_A_CALL
    else:
        message = cli_words(getattr(exc, "message", None) or str(exc), verb, given)
    # The extension's sentence for this very operation (a discard that came
    # too late discarded, a commit saved), else the general one.
    outcome = getattr(exc, "outcome", None) or _CANCEL_OUTCOME.get(getattr(exc, "completed",
                                                                          None))
    if outcome and outcome not in message:
        message += " " + outcome
    return message


def _write_json(stream: TextIO, document: Mapping[str, Any]) -> None:
    stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    stream.flush()


def emit_result(result: Any, console: Console) -> None:
    if console.json_mode:
        _write_json(console.stdout, json_document(result))
        return
    for line in _HUMAN_RENDERERS[type(result)](result):
        console.say(line)
    console.say(SUCCESS)
    if getattr(result, "restart_required", False):
        console.say(RESTART_NOTE)


def emit_error(exc: BaseException, console: Console, log_path: Optional[str],
               verb: Optional[str] = None, given: Sequence[str] = ()) -> None:
    """Report a failure; `verb` is the verb being run, named where the
    engine's message names the API call it made for it; `given` is the
    command line, whose words are never translated."""
    if console.json_mode:
        _write_json(console.stdout, error_document(exc, verb, given))
        return
    err = console.stderr
    if isinstance(exc, UsageError):
        if exc.parser is not None:
            exc.parser.print_usage(err)
            err.write(f"{exc.parser.prog}: error: {exc.message}\n")
        else:
            err.write(f"error: {exc.message}\n")
    else:
        hresult = _hresult(exc)
        err.write(f"Error: {'unknown' if hresult is None else f'0x{hresult:08X}'}\n\n"
                  f"{_error_message(exc, verb, given)}\n")
        if log_path:
            err.write(f"\nThe DISM log file can be found at {log_path}\n")
    err.flush()


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def _initialized(args: argparse.Namespace) -> Iterator[None]:
    """dism.initialize() with the global options, if any was given."""
    if args.log_level is None and args.log_path is None and args.scratch_dir is None:
        yield
        return
    level = args.log_level if args.log_level is not None else dism.LogLevel.ERRORS_WARNINGS_INFO
    try:
        dism.initialize(log_level=level, log_path=args.log_path, scratch_dir=args.scratch_dir)
    except RuntimeError as exc:  # main() embedded in a process with sessions open
        raise with_code(dism.DismError, HRESULT_INVALID_STATE, str(exc)) from exc
    try:
        yield
    except BaseException:
        with contextlib.suppress(dism.DismError):
            dism.shutdown()
        raise
    dism.shutdown()


def _parse(parser: argparse.ArgumentParser, argv: List[str]) -> argparse.Namespace:
    args = parser.parse_args(translate_dism_syntax(argv))
    problem = args.spec.check(args) if args.spec.check else None
    if problem:
        raise UsageError(problem, args.parser)
    return args


def _stop_writing_to_closed_pipe() -> None:
    """The reader of our output went away (`| head`).  Python ignores SIGPIPE,
    so writes raise BrokenPipeError; pointing the standard streams at
    /dev/null keeps the interpreter's final flush from raising it again (the
    remedy Python's signal documentation gives)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def main(argv: Optional[Sequence[str]] = None, *, prog: Optional[str] = None) -> int:
    """Run the command line; returns the exit status (see EXIT_STATUS_TABLE)."""
    try:
        return _run(argv, prog)
    except BrokenPipeError:
        _stop_writing_to_closed_pipe()
        return EXIT_BROKEN_PIPE


def _run(argv: Optional[Sequence[str]], prog: Optional[str]) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    early = Console(sys.stdout, sys.stderr, json_mode="--json" in argv, quiet=True)
    try:
        args = _parse(parser, argv)
    except UsageError as exc:
        emit_error(exc, early, None)
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt as exc:
        emit_error(exc, early, None)
        return EXIT_INTERRUPTED

    console = Console(sys.stdout, sys.stderr, json_mode=args.json, quiet=args.quiet)
    try:
        console.say(HEADER.format(version=dism.__version__))
        console.say()
        with _initialized(args):
            result = args.spec.action(args, console)
    except (dism.DismError, UsageError, KeyboardInterrupt) as exc:
        emit_error(exc, console, args.log_path, args.verb, argv)
        return exit_status(exc)
    emit_result(result, console)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
