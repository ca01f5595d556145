"""The servicing verbs: a session on an image (DISM.exe: /Image or /Online)
reading or changing its features, packages, drivers, capabilities, edition,
provisioned apps and component store health.

Each verb has its options (adders, see .verb), a check for what argparse
cannot say, and its action, which returns a result; VERBS, at the end,
puts them together.  .appx and .settings declare more servicing verbs with
the same pieces: servicing_verb, check_target, and the two shapes of an
action, read (-> ServicingResult) and change then changed (-> ActionResult).
"""
from __future__ import annotations

import argparse
import contextlib
import os
from typing import (Any, Callable, ContextManager, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import dism

from ..console import Console, ProgressBar
from ..results import ActionResult, ServicingResult
from .verb import (Action, AddOptions, Check, Verb, flag, image_index, one_of, options,
                   value)

# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------

#: Every servicing verb works on an image, an image inside a WIM, or the running Windows.
image_or_online = one_of(
    value("--image", "DIR",
          "the mounted image or offline Windows root to service (DISM.exe: /Image)"),
    value("--image-file", "WIM",
          "read one image of a WIM or ESD without mounting it (no FUSE, no root), read-only; "
          "the portable engine's (DISM.exe spelling: /ImageFile)"),
    flag("--online", "service the running Windows; Windows only (DISM.exe: /Online)"),
    required=True)
windows_dir = options(
    value("--windows-dir", "DIR", "the Windows directory, relative to the image root "
          "(default Windows; DISM.exe: /WinDir or /WindowsDir)"),
    value("--sysdrive-dir", "DIR", "the folder of the image's system drive, where its boot "
          "files are (DISM.exe: /SysDriveDir)"))
image_in_file = one_of(
    value("--index", "N", "with --image-file: the image's index, from 1 (DISM.exe: /Index)",
          type=image_index),
    value("--name", "NAME", "with --image-file: the image's name (DISM.exe: /Name)"),
    required=False)

list_format = options(value(
    "--format", None, "show the list as blocks (default) or as a table (DISM.exe: /Format)",
    type=str.lower, choices=("list", "table"), default="list"))
info_format = options(value(
    "--format", None, "show the record as `Label : value` lines (default) or as a table of "
    "property and value (DISM.exe: /Format)",
    type=str.lower, choices=("list", "table"), default="list"))

_PACKAGE = (
    value("--package-name", "NAME", "the package's identity (DISM.exe: /PackageName)"),
    value("--package-path", "PATH", "the package's .cab file or folder (DISM.exe: /PackagePath)"))
any_package = one_of(*_PACKAGE, required=False)
one_package = one_of(*_PACKAGE, required=True)
packages_to_remove = one_of(
    value("--package-name", "NAME", "a package's identity; may be repeated "
          "(DISM.exe: /PackageName)", action="append"),
    value("--package-path", "PATH", "a package's .cab file or folder; may be repeated "
          "(DISM.exe: /PackagePath)", action="append"),
    required=True)

package_paths = options(
    value("--package-path", "PATH", "a .cab or .msu file, or an expanded .cab folder; may be "
          "repeated (DISM.exe: /PackagePath)", action="append", required=True),
    flag("--ignore-check", "skip the applicability check (DISM.exe: /IgnoreCheck)"),
    flag("--prevent-pending",
         "refuse a package that needs online actions (DISM.exe: /PreventPending)"))

feature_name = options(value("--feature-name", "NAME", "the feature (DISM.exe: /FeatureName)",
                             required=True))
feature_name_list = options(value(
    "--feature-name", "NAME", "a feature; repeat it or separate names with ';' "
    "(DISM.exe: /FeatureName)", action="append", required=True))
enable_all = options(flag("--all", "enable the parent features too (DISM.exe: /All)"))
disable_options = options(
    value("--package-name", "NAME", "the package holding the features, when not the "
          "foundation (DISM.exe: /PackageName)"),
    flag("--remove", "remove the features' files too (DISM.exe: /Remove)"))

sources = options(
    value("--source", "PATH", "where to find the files; may be repeated (DISM.exe: /Source)",
          action="append", default=[]),
    flag("--limit-access", "do not look on Windows Update (DISM.exe: /LimitAccess)"))

all_drivers = options(flag("--all", "list the in-box drivers too (DISM.exe: /All)"))
drivers_to_show = options(value(
    "--driver", "INF", "a published name (oem0.inf) or an .inf file; may be repeated "
    "(DISM.exe: /Driver)", action="append", required=True))
drivers_to_add = options(
    value("--driver", "PATH", "an .inf file, or a folder of them; may be repeated "
          "(DISM.exe: /Driver)", action="append", required=True),
    flag("--recurse", "take the .inf files in every folder below too (DISM.exe: /Recurse)"),
    flag("--force-unsigned", "add unsigned drivers too (DISM.exe: /ForceUnsigned)"))
drivers_to_remove = options(value(
    "--driver", "INF", "a published name (oem0.inf); may be repeated (DISM.exe: /Driver)",
    action="append", required=True))

capability_name = options(value(
    "--capability-name", "NAME", "the capability's identity (DISM.exe: /CapabilityName)",
    required=True))
capability_names = options(value(
    "--capability-name", "NAME", "a capability's identity; may be repeated "
    "(DISM.exe: /CapabilityName)", action="append", required=True))

unattend_file = options(
    value("--unattend", "PATH", "the answer file (DISM.exe: /Apply-Unattend:PATH)",
          required=True),
    flag("--single-session", "install the file's packages in one servicing session"))


def check_target(args: argparse.Namespace) -> Optional[str]:
    if args.image is None and (args.windows_dir is not None or args.sysdrive_dir is not None):
        return "--windows-dir and --sysdrive-dir apply only with --image"
    if args.image_file is None and (args.index is not None or args.name is not None):
        return "--index and --name apply only with --image-file"
    return None


def refusing_image_file(check: Check) -> Check:
    """The check of a verb that changes the image: an image read from its WIM
    with --image-file is read-only, as a read-only mount is."""
    def check_write(args: argparse.Namespace) -> Optional[str]:
        if args.image_file is not None:
            return ("--image-file opens the image read-only, so it cannot be changed; mount "
                    "it read-write (mount-image) and service the mount with --image DIR")
        return check(args)
    return check_write


def check_feature_names(args: argparse.Namespace) -> Optional[str]:
    problem = check_target(args)
    if problem:
        return problem
    if any(not name.strip() for name in _feature_names(args)):
        return "--feature-name needs a name (an empty name, or an empty one between ';')"
    return None


def _feature_names(args: argparse.Namespace) -> List[str]:
    """--feature-name given several times, each possibly "A;B" as DISM.exe takes it."""
    return [name for given in args.feature_name for name in given.split(";")]


# ---------------------------------------------------------------------------
# The session, and the two shapes of a servicing action
# ---------------------------------------------------------------------------

def _image_label(args: argparse.Namespace) -> str:
    if args.image_file is not None:
        which = (f"index {args.index}" if args.index is not None
                 else f"name {args.name!r}" if args.name is not None else "its only image")
        return f"{os.path.abspath(args.image_file)} ({which})"
    return "online" if args.online else os.path.abspath(args.image)


@contextlib.contextmanager
def _session(args: argparse.Namespace) -> Iterator[dism.Session]:
    if args.online:
        session = dism.Session.online()
    elif args.image_file is not None:
        session = dism.Session.open_image_file(args.image_file, index=args.index,
                                               name=args.name)
    else:
        session = dism.Session(args.image, windows_dir=args.windows_dir,
                               system_drive=args.sysdrive_dir)
    with session:
        yield session


def _package_context(args: argparse.Namespace) -> Dict[str, Any]:
    return {"package_name": getattr(args, "package_name", None),
            "package_path": getattr(args, "package_path", None)}


def read(args: argparse.Namespace, kind: str, query: Callable[[dism.Session], Any],
         context: Optional[Dict[str, Any]] = None) -> ServicingResult:
    """What `query` reads from the image, as the result of kind `kind`; a
    list is shown as a table when --format says so."""
    with _session(args) as session:
        found = query(session)
    table = getattr(args, "format", "list") == "table"
    return ServicingResult(kind, _image_label(args), found, table, context or {})


def _step(console: Console, title: Optional[str]) -> ContextManager[Optional[ProgressBar]]:
    """A progress step titled `title`; without a title, none (no progress)."""
    return console.step(title) if title else contextlib.nullcontext()


def change(args: argparse.Namespace, console: Console, title: Optional[str],
           act: Callable[[dism.Session, Optional[ProgressBar]], object]) -> bool:
    """Make one change, under a progress step when it has a `title`;
    whether the image now needs a restart."""
    with _session(args) as session:
        with _step(console, title) as progress:
            act(session, progress)
        return session.reboot_required


def changed(args: argparse.Namespace, operation: str, restart: bool,
            details: Dict[str, Any]) -> ActionResult:
    return ActionResult(operation, {"image": _image_label(args), **details},
                        restart_required=restart)


# ---------------------------------------------------------------------------
# Actions that read
# ---------------------------------------------------------------------------

def get_features(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "features",
                lambda session: session.get_features(args.package_name,
                                                     package_path=args.package_path),
                _package_context(args))


def get_featureinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "feature",
                lambda session: session.get_feature_info(args.feature_name, args.package_name,
                                                         package_path=args.package_path))


def get_packages(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "packages", lambda session: session.get_packages())


def get_packageinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "package",
                lambda session: session.get_package_info(args.package_name,
                                                         path=args.package_path))


def get_drivers(args: argparse.Namespace, console: Console) -> ServicingResult:
    console.say("Obtaining list of 3rd party drivers from the driver store..." if not args.all
                else "Obtaining list of all drivers from the driver store...")
    console.say()
    return read(args, "drivers", lambda session: session.get_drivers(args.all),
                {"all_drivers": args.all})


def _driver_info(session: dism.Session, driver: str) -> Dict[str, Any]:
    package, drivers = session.get_driver_info(driver)
    return {"driver_package": package, "drivers": drivers}


def get_driverinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    """One --driver: its package and devices; several: a list of those, in order."""
    if len(args.driver) == 1:
        return read(args, "driver_info", lambda session: _driver_info(session, args.driver[0]))
    return read(args, "driver_infos",
                lambda session: [_driver_info(session, inf) for inf in args.driver])


def get_capabilities(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "capabilities", lambda session: session.get_capabilities())


def get_capabilityinfo(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "capability",
                lambda session: session.get_capability_info(args.capability_name))


def get_currentedition(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "current_edition", lambda session: session.get_current_edition())


def get_targeteditions(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "target_editions", lambda session: session.get_target_editions())


def get_provisionedappxpackages(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "provisioned_appx_packages",
                lambda session: session.get_provisioned_appx_packages())


def check_health(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "health_state", lambda session: session.check_health())


def _scan(session: dism.Session, console: Console) -> Union[dism.ImageHealthState, int]:
    with console.step("Scanning the component store") as progress:
        return session.check_health(scan=True, progress=progress)


def scan_health(args: argparse.Namespace, console: Console) -> ServicingResult:
    return read(args, "health_state", lambda session: _scan(session, console))


# ---------------------------------------------------------------------------
# Actions that change the image
# ---------------------------------------------------------------------------

def restore_health(args: argparse.Namespace, console: Console) -> ActionResult:
    restart = change(args, console, "Restoring the component store",
                     lambda session, progress: session.restore_health(
                         sources=args.source, limit_access=args.limit_access,
                         progress=progress))
    return changed(args, "restore-health", restart,
                   {"sources": args.source, "limit_access": args.limit_access})


def enable_feature(args: argparse.Namespace, console: Console) -> ActionResult:
    names = _feature_names(args)
    restart = change(args, console, "Enabling feature(s)",
                     lambda session, progress: session.enable_features(
                         *names, package=args.package_name, package_path=args.package_path,
                         enable_all=args.all, sources=args.source,
                         limit_access=args.limit_access, progress=progress))
    return changed(args, "enable-feature", restart,
                   {"features": names, **_package_context(args), "all": args.all})


def disable_feature(args: argparse.Namespace, console: Console) -> ActionResult:
    names = _feature_names(args)
    restart = change(args, console, "Disabling feature(s)",
                     lambda session, progress: session.disable_features(
                         *names, package=args.package_name, remove_payload=args.remove,
                         progress=progress))
    return changed(args, "disable-feature", restart,
                   {"features": names, "package_name": args.package_name,
                    "remove_payload": args.remove})


#: Acts on one of several values (a package, a driver, a capability) in the
#: session, with the progress callback of its step.
ActOnOne = Callable[[dism.Session, str, Optional[ProgressBar]], object]


#: A line about one of several values: (its number from 1, the value) -> text.
LineAbout = Callable[[int, str], str]


def _in_turn(args: argparse.Namespace, console: Console, values: Sequence[str],
             title: Optional[LineAbout], act: ActOnOne,
             done_line: Optional[LineAbout] = None) -> bool:
    """`act` on each value in order, in one session, each under its own
    progress step when it has a `title`, then saying `done_line`; whether
    the image now needs a restart.  A failure says which values were done
    before it: their changes stay, and the report says so (a value is
    counted done before its line is printed, which a Ctrl+C may stop)."""
    done: List[str] = []
    with _session(args) as session:
        for number, item in enumerate(values, 1):
            with _telling_what_was_done(done):
                with _step(console, title(number, item) if title else None) as progress:
                    act(session, item, progress)
                done.append(item)
                if done_line:
                    console.say(done_line(number, item))
        return session.reboot_required


@contextlib.contextmanager
def _telling_what_was_done(done: Sequence[str], kept_in: str = "the image") -> Iterator[None]:
    try:
        yield
    except (dism.DismError, KeyboardInterrupt) as error:
        if done:
            error.done_before = (f"Done before it, and kept in {kept_in}: "  # type: ignore[union-attr]
                                 + ", ".join(done) + ".")
        raise


def add_package(args: argparse.Namespace, console: Console) -> ActionResult:
    paths: List[str] = args.package_path
    restart = _in_turn(args, console, paths,
                       lambda number, path: f"Processing {number} of {len(paths)} - "
                                            f"Adding package {path}",
                       lambda session, path, progress: session.add_package(
                           path, ignore_check=args.ignore_check,
                           prevent_pending=args.prevent_pending, progress=progress))
    return changed(args, "add-package", restart, {"packages": paths})


def remove_package(args: argparse.Namespace, console: Console) -> ActionResult:
    by_name = args.package_name is not None
    given: List[str] = args.package_name if by_name else args.package_path
    restart = _in_turn(args, console, given,
                       lambda number, package: f"Processing {number} of {len(given)} - "
                                               f"Removing package {package}",
                       lambda session, package, progress: session.remove_package(
                           package if by_name else None, path=None if by_name else package,
                           progress=progress))
    return changed(args, "remove-package", restart, _package_context(args))


def add_driver(args: argparse.Namespace, console: Console) -> ActionResult:
    console.say("Searching for driver package(s) to install...")
    # Every --driver is looked up before anything is added, so that a
    # missing one stops the line before the image changes.
    infs = [inf for given in args.driver
            for inf in dism.find_driver_infs(given, recurse=args.recurse)]
    # find_driver_infs takes a file as it is: one not there would otherwise
    # be found missing only after the INFs before it were added.
    missing = [inf for inf in infs if not os.path.isfile(inf)]
    if missing:
        named = ", ".join(f"'{inf}'" for inf in missing)
        raise dism.errors.path_not_found(f"add-driver: no such driver file: {named}; "
                                         "nothing was added")
    console.say(f"Found {len(infs)} driver package(s) to install.")

    # One INF at a time, so that the console shows each as it lands and a
    # failure leaves no doubt about which ones were added before it.
    restart = _in_turn(args, console, infs, None,
                       lambda session, inf, progress: session.add_driver(
                           inf, force_unsigned=args.force_unsigned),
                       lambda number, inf: f"Installing {number} of {len(infs)} - {inf}: "
                                           "The driver package was successfully installed.")
    return changed(args, "add-driver", restart, {"drivers": infs})


def remove_driver(args: argparse.Namespace, console: Console) -> ActionResult:
    names: List[str] = args.driver
    restart = _in_turn(args, console, names, None,
                       lambda session, name, progress: session.remove_driver(name),
                       lambda number, name: f"Removing {number} of {len(names)} - {name}: "
                                            "The driver package was successfully removed.")
    return changed(args, "remove-driver", restart, {"drivers": names})


def _each_capability(args: argparse.Namespace, console: Console, doing: str,
                     change: ActOnOne) -> bool:
    names: List[str] = args.capability_name
    return _in_turn(args, console, names,
                    lambda number, name: f"{doing} capability {number} of {len(names)} - "
                                         f"{name}", change)


# export-driver writes only to its destination, never to the image.
export_destination = options(value(
    "--destination", "DIR", "an existing folder only you can write to; each out-of-box driver "
    "package's store folder is copied into it, replacing a folder of the same name there "
    "(DISM.exe: /Destination)", required=True))


def export_driver(args: argparse.Namespace, console: Console) -> ActionResult:
    done: List[str] = []

    def landed(item: dism.ExportedDriver, number: int, total: int) -> None:
        # Counted before it is printed: a Ctrl+C while printing leaves it exported.
        done.append(str(item.package.published_name))
        console.say(f"Exporting {number} of {total} - {item.package.published_name}: "
                    "The driver package successfully exported.")

    # A failure names the packages exported before it (--json and --quiet
    # print no progress lines).
    with _session(args) as session, _telling_what_was_done(done, "the destination"):
        exported = session.export_drivers(args.destination, on_exported=landed)
    return changed(args, "export-driver", False, {
       "destination": os.path.abspath(args.destination),
       "drivers": [{"driver_package": item.package, "folder": str(item.folder)}
                   for item in exported]})


def add_capability(args: argparse.Namespace, console: Console) -> ActionResult:
    restart = _each_capability(args, console, "Adding",
                               lambda session, name, progress: session.add_capability(
                                   name, sources=args.source, limit_access=args.limit_access,
                                   progress=progress))
    return changed(args, "add-capability", restart, {"capabilities": args.capability_name})


def remove_capability(args: argparse.Namespace, console: Console) -> ActionResult:
    restart = _each_capability(args, console, "Removing",
                               lambda session, name, progress: session.remove_capability(
                                   name, progress=progress))
    return changed(args, "remove-capability", restart, {"capabilities": args.capability_name})


def apply_unattend(args: argparse.Namespace, console: Console) -> ActionResult:
    console.say(f"Applying the unattend file {args.unattend}")
    restart = change(args, console, None,
                    lambda session, progress: session.apply_unattend(
                        args.unattend, single_session=args.single_session))
    return changed(args, "apply-unattend", restart, {"unattend": args.unattend})


# ---------------------------------------------------------------------------
# The verbs
# ---------------------------------------------------------------------------

def servicing_verb(dism_name: str, help: str, own_options: Tuple[AddOptions, ...],
                   action: Action, check: Check = check_target, *,
                   value_option: Optional[str] = None, dism_usage: Optional[str] = None,
                   writes: bool = False) -> Verb:
    """A servicing verb: it works on --image DIR, --image-file WIM (reads only)
    or --online, named before its own options."""
    return Verb(dism_name, help, (image_or_online, windows_dir, image_in_file) + own_options,
                action, refusing_image_file(check) if writes else check, value_option,
                dism_usage)


VERBS = (
    servicing_verb("Get-Features", "list the optional features of an image or of one package",
                   (any_package, list_format), get_features),
    servicing_verb("Get-FeatureInfo", "show one optional feature in detail",
                   (feature_name, any_package, info_format), get_featureinfo),
    servicing_verb("Enable-Feature", "enable optional features",
                   (feature_name_list, any_package, enable_all, sources),
                   enable_feature, check_feature_names, writes=True),
    servicing_verb("Disable-Feature", "disable optional features",
                   (feature_name_list, disable_options), disable_feature,
                   check_feature_names, writes=True),
    servicing_verb("Get-Packages", "list the packages of an image",
                   (list_format,), get_packages),
    servicing_verb("Get-PackageInfo", "show one package in detail",
                   (one_package, info_format), get_packageinfo),
    servicing_verb("Add-Package", "install .cab or .msu packages",
                   (package_paths,), add_package, writes=True),
    servicing_verb("Remove-Package", "uninstall a package",
                   (packages_to_remove,), remove_package, writes=True),
    servicing_verb("Get-Drivers", "list the driver packages of an image",
                   (all_drivers, list_format), get_drivers),
    servicing_verb("Get-DriverInfo", "show a driver package and the devices it supports",
                   (drivers_to_show, info_format), get_driverinfo),
    servicing_verb("Add-Driver", "add driver packages (.inf), one file or a folder of them",
                   (drivers_to_add,), add_driver, writes=True),
    servicing_verb("Remove-Driver", "remove out-of-box driver packages",
                   (drivers_to_remove,), remove_driver, writes=True),
    servicing_verb("Export-Driver", "copy every out-of-box driver package of an image to a folder",
                   (export_destination,), export_driver),
    servicing_verb("Get-Capabilities", "list the capabilities (Features on Demand) of an image",
                   (list_format,), get_capabilities),
    servicing_verb("Get-CapabilityInfo", "show one capability in detail",
                   (capability_name, info_format), get_capabilityinfo),
    servicing_verb("Add-Capability", "install a capability",
                   (capability_names, sources), add_capability, writes=True),
    servicing_verb("Remove-Capability", "uninstall a capability",
                   (capability_names,), remove_capability, writes=True),
    servicing_verb("Get-CurrentEdition", "show the edition of an image",
                   (), get_currentedition),
    servicing_verb("Get-TargetEditions", "list the editions an image can be changed to",
                   (), get_targeteditions),
    servicing_verb("Get-ProvisionedAppxPackages", "list the app packages provisioned for new users",
                   (), get_provisionedappxpackages),
    servicing_verb("Check-Health",
                   "report the corruption an earlier scan recorded, without scanning", (), check_health, dism_usage="/Cleanup-Image /CheckHealth"),
    servicing_verb("Scan-Health", "scan the component store for corruption",
                   (), scan_health, dism_usage="/Cleanup-Image /ScanHealth"),
    servicing_verb("Restore-Health", "repair the component store",
                   (sources,), restore_health, dism_usage="/Cleanup-Image /RestoreHealth",
               writes=True),
    servicing_verb("Apply-Unattend", "apply the offlineServicing settings of an answer file",
                   (unattend_file,), apply_unattend,
                   value_option="--unattend", dism_usage="/Apply-Unattend:PATH", writes=True),
)
