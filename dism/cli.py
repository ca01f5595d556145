"""The dismapi command line, modelled on DISM.exe.

    python -m dism get-imageinfo --image-file install.wim [--index N | --name NAME]
    python -m dism mount-image --image-file install.wim --mount-dir DIR (--index N | --name NAME)
                               [--read-only] [--optimize] [--check-integrity]
    python -m dism commit-image --mount-dir DIR [--append] [--check-integrity]
    python -m dism unmount-image --mount-dir DIR (--commit | --discard) [--append]
                                 [--check-integrity]
    python -m dism remount-image --mount-dir DIR
    python -m dism get-mountedimageinfo
    python -m dism cleanup-mountpoints

The console script ``dismapi`` is the same program.  DISM.exe's own spelling
is accepted too and translated before parsing (names are case-insensitive):

    python -m dism /Get-ImageInfo /ImageFile:install.wim /Index:1
    python -m dism /Mount-Image /ImageFile:install.wim /Name:1 /MountDir:/mnt/img /ReadOnly
    python -m dism /Unmount-Image /MountDir:/mnt/img /Commit

Global options, accepted before or after the verb: ``--json`` prints one JSON
document on stdout (enums by name, datetimes in ISO 8601, versions as strings;
a failure is ``{"error": {"hresult": "0x...", "type": ..., "message": ...}}``);
``--quiet`` prints nothing but errors (and the JSON document, if asked for);
``--log-level``, ``--log-path`` and ``--scratch-dir`` go to dism.initialize().
Mount, unmount and commit draw a DISM-style progress bar on stderr, redrawn in
place on a terminal and printed once, in its final state, otherwise.

Exit status: from the class of DISM's HRESULT (see exit_status()); the table,
EXIT_STATUS_TABLE, is appended to this docstring and printed by --help.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as _dt
import enum
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, TextIO

import dism
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
EXIT_INTERRUPTED = 130

#: The table printed by --help; the module docstring holds the same text.
EXIT_STATUS_TABLE = """\
  0    success
  1    any other DISM error
  2    usage error: the command line is wrong
  3    invalid argument, no image with that index or name, nothing mounted at
       the path, file or path not found
  4    elevation (administrator rights) required
  5    the operation was cancelled
  6    not supported on this platform, or not implemented by the engine
  7    busy: open sessions or handles, or the mount needs a remount
  130  interrupted (Ctrl+C)
"""

__doc__ += "\n" + EXIT_STATUS_TABLE

_EXIT_BY_CLASS = (
    ((dism.InvalidArgumentError, dism.InvalidImageIndexError, dism.InvalidImageNameError,
      dism.MountPathError, dism.PathNotFoundError), EXIT_INVALID),
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


def _dism_error(cls: type, hresult: int, message: str) -> "dism.DismError":
    """An exception shaped like the ones the extension raises."""
    exc = cls(f"[0x{hresult:08X}] {message}")
    exc.hresult = hresult
    exc.message = message
    return exc


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
            raise _dism_error(dism.InvalidImageIndexError, dism._dism.DISMAPI_E_INVALID_IMAGE_INDEX,
                              f"image index {index} does not exist in '{image_file}'; it holds "
                              f"{len(images)} image(s), numbered from 1.")
        return chosen
    if name is not None:
        chosen = [image for image in images if image.name == name]
        if not chosen:
            raise _dism_error(dism.InvalidImageNameError, dism._dism.DISMAPI_E_INVALID_IMAGE_NAME,
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


def cleanup_mountpoints(args: argparse.Namespace, console: Console) -> ActionResult:
    console.say("Releasing stale mount points")
    dism.cleanup_mountpoints()
    return ActionResult("cleanup-mountpoints")


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
    _image_file(parser)
    _index_or_name(parser, required=False)


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


@dataclass(frozen=True)
class Verb:
    dism_name: str                                           # DISM.exe's spelling
    help: str
    configure: Callable[[argparse.ArgumentParser], None]     # adds the verb's options
    action: Callable[[argparse.Namespace, Console], Any]      # does it, returns a result
    check: Optional[Callable[[argparse.Namespace], Optional[str]]] = None  # what argparse can't

    @property
    def name(self) -> str:
        return self.dism_name.lower()


VERBS = (
    Verb("Get-ImageInfo", "show the images of a WIM file, or one image in detail",
         _configure_get_imageinfo, get_imageinfo),
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
}

_DISM_TOKEN = re.compile(r"/(\?|[A-Za-z][A-Za-z-]*)(?::(.*))?\Z", re.DOTALL)


def _dism_verb(token: str) -> Optional[str]:
    match = _DISM_TOKEN.match(token)
    if match and match.group(2) is None and match.group(1).lower() in _VERBS_BY_NAME:
        return match.group(1).lower()
    return None


def translate_dism_syntax(argv: Sequence[str]) -> List[str]:
    """DISM.exe's spelling (`/Get-ImageInfo /ImageFile:x.wim /Index:1`) as argparse's
    (`get-imageinfo --image-file=x.wim --index=1`).  A command line holding no
    DISM.exe verb (nor `/?`) is returned unchanged, so POSIX paths are safe."""
    argv = list(argv)
    if not any(_dism_verb(token) or token == "/?" for token in argv):
        return argv
    verb: Optional[str] = None
    rest: List[str] = []
    for token in argv:
        if verb is None and _dism_verb(token):
            verb = _dism_verb(token)
            continue
        match = _DISM_TOKEN.match(token)
        option = _DISM_OPTIONS.get(match.group(1).lower()) if match else None
        if option is None:
            rest.append(token)  # argparse reports it if it makes no sense
        elif match.group(2) is None:
            rest.append(option)
        else:
            rest.append(f"{option}={match.group(2)}")
    return ([verb] if verb else []) + rest


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
            "  /Unmount-Image /MountDir:/mnt/img /Commit\n\n"
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
                               description=f"{verb.help} (DISM.exe: /{verb.dism_name})",
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


def _human_action(result: ActionResult) -> List[str]:
    return []


_HUMAN_RENDERERS: Mapping[type, Callable[[Any], List[str]]] = {
    ImageInfoResult: _human_image_info,
    MountedImagesResult: _human_mounted_images,
    ActionResult: _human_action,
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
    return jsonable(result)


def error_document(exc: BaseException) -> Dict[str, Any]:
    hresult = _hresult(exc)
    return {"error": {
        "hresult": None if hresult is None else f"0x{hresult:08X}",
        "type": type(exc).__name__,
        "message": _error_message(exc),
    }}


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "The operation was cancelled by the user."
    if isinstance(exc, UsageError):
        return exc.message
    message = getattr(exc, "message", None)
    return message if message else str(exc)


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


def emit_error(exc: BaseException, console: Console, log_path: Optional[str]) -> None:
    if console.json_mode:
        _write_json(console.stdout, error_document(exc))
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
                  f"{_error_message(exc)}\n")
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
        raise _dism_error(dism.DismError, HRESULT_INVALID_STATE, str(exc)) from exc
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


def main(argv: Optional[Sequence[str]] = None, *, prog: Optional[str] = None) -> int:
    """Run the command line; returns the exit status (see EXIT_STATUS_TABLE)."""
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
        emit_error(exc, console, args.log_path)
        return exit_status(exc)
    emit_result(result, console)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
