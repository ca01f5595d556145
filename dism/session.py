"""DISM servicing sessions."""
from __future__ import annotations

import os
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _dism, _runtime, drivers_export
from .drivers_export import ExportCallback, ExportedDriver
from .errors import check_image_index, path_not_found, session_closed
from .progress import CancelLike, ProgressCallback
from .types import (
    ImageInfo,
    AppxPackage,
    Capability,
    CapabilityInfo,
    Driver,
    DriverPackage,
    Feature,
    FeatureInfo,
    ImageHealthState,
    Package,
    PackageInfo,
    ProductKeyInfo,
    RegistryHive,
    ReservedStorageState,
    StubPackageOption,
    as_enum,
)

PathArg = Union[str, "os.PathLike[str]"]

#: Success codes DISM returns next to S_OK.
RELOAD_SESSION = 1       # DISMAPI_S_RELOAD_IMAGE_SESSION_REQUIRED
REBOOT_REQUIRED = 3010   # ERROR_SUCCESS_REBOOT_REQUIRED

__all__ = ["Session", "ONLINE", "find_driver_infs", "join_feature_names"]

ONLINE = _dism.DISM_ONLINE_IMAGE


# ---------------------------------------------------------------------------
# Argument helpers: the checks DISM would make too late or not at all
# ---------------------------------------------------------------------------

def _path(value: PathArg) -> str:
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"paths must be str or os.PathLike[str], not {type(path).__name__}")
    return path


def _optional_path(value: Optional[PathArg]) -> Optional[str]:
    return None if value is None else _path(value)


def _paths(values: Union[PathArg, Iterable[PathArg]]) -> List[str]:
    """A list of paths; one path on its own counts as a list of one, so that a
    string is never taken apart into its characters."""
    if isinstance(values, (str, bytes, os.PathLike)):
        return [_path(values)]
    return [_path(value) for value in values]


def join_feature_names(names: Sequence[str]) -> str:
    """The names as DISM's one ';'-separated string.  A name that is empty or
    holds ';' itself would silently turn into other names, so it is refused."""
    if not names:
        raise ValueError("give at least one feature name")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"feature names are str, not {type(name).__name__}")
        if not name.strip():
            raise ValueError("a feature name is empty")
        if ";" in name:
            raise ValueError(f"feature name {name!r} holds ';'; pass the names separately")
    return ";".join(names)


def _package_identifier(name: Optional[str], path: Optional[PathArg], *,
                        required: bool) -> Tuple[Optional[str], bool]:
    """DISM's (Identifier, PackageIdentifier) pair as (identifier, by_path);
    (None, False) stands for DismPackageNone."""
    if name is not None and path is not None:
        raise ValueError("give a package name or a package path, not both")
    if path is not None:
        return _path(path), True
    if name is None and required:
        raise ValueError("give a package name or a package path")
    return name, False


def _is_inf(name: str) -> bool:
    return name.lower().endswith(".inf")


def _infs_in(folder: str) -> List[str]:
    with os.scandir(folder) as entries:
        return sorted(entry.path for entry in entries if _is_inf(entry.name) and entry.is_file())


def _raise(error: OSError) -> None:
    raise error


def _infs_below(folder: str) -> List[str]:
    found: List[str] = []
    # followlinks=False: a symlinked directory could loop back up the tree or
    # lead out of it.  A link to a single .inf file is still taken.
    for where, _dirs, files in os.walk(folder, onerror=_raise, followlinks=False):
        found.extend(os.path.join(where, name) for name in files if _is_inf(name))
    return sorted(path for path in found if os.path.isfile(path))


def find_driver_infs(path: PathArg, *, recurse: bool = False) -> List[str]:
    """The .inf files Session.add_driver installs for `path`, in sorted order.

    A file is taken as it is.  A folder gives the *.inf files in it (suffix
    matched ignoring case), and with `recurse` those in every folder below it
    too, without following symlinked folders.  A folder without any raises
    PathNotFoundError (0x80070002), so that it fails rather than add nothing.
    """
    root = _path(path)
    if not os.path.isdir(root):
        return [root]
    found = _infs_below(root) if recurse else _infs_in(root)
    if not found:
        where = "in or below" if recurse else "in"
        raise path_not_found(f"no driver package (.inf file) {where} '{root}'")
    return found


class Session:
    """A DISM session on a mounted image, an offline Windows directory tree,
    or the running system (Session.online(), Windows only).

    `windows_dir` is the Windows directory relative to the image root
    (default "Windows"); `system_drive` is the drive letter holding the boot
    manager ("C:"), which the portable engine checks and records but does not
    otherwise use, since it has no drive letters.

    Use it as a context manager, or call close(); close() is idempotent and
    waits for calls other threads have in flight.  Any other call on a closed
    session raises InvalidSessionError.
    """

    def __init__(self, image_root: PathArg, *, windows_dir: Optional[PathArg] = None,
                 system_drive: Optional[str] = None) -> None:
        self._image_root = image_root if image_root == ONLINE else os.fspath(image_root)
        self._windows_dir = os.fspath(windows_dir) if windows_dir is not None else None
        self._system_drive = system_drive
        self._image_file: Optional[Tuple[str, Optional[int], Optional[str]]] = None
        self._start()

    def _start(self) -> None:
        """Opens the session the fields describe and tracks it."""
        self.reboot_required = False
        # None only until _open() returns: a half-built session reads as closed.
        self._handle: _dism.Session = None  # type: ignore[assignment]
        _runtime.ensure_initialized()
        self._handle = self._open()
        _runtime.track_session(self)

    @classmethod
    def online(cls) -> "Session":
        """A session on the running Windows installation."""
        return cls(ONLINE)

    @classmethod
    def open_image_file(cls, image_path: PathArg, *, index: Optional[int] = None,
                        name: Optional[str] = None) -> "Session":
        """A read-only session straight on one image of a WIM or ESD, without
        mounting it: no FUSE and no root needed.

        Choose the image by `index` (from 1) or by `name` (exact; "1" is a
        name here); with neither, a WIM holding one image opens that one.
        The hives, servicing manifests and INF files the read calls need are
        copied into a private temporary directory (mode 0700, this user's;
        in dism.initialize's scratch directory, else $TMPDIR or /tmp; refused,
        E_ACCESSDENIED, when another user could change that directory or one
        above it), which close() removes; paths the calls return point into
        it.  Every read works as on a mounted image; writes are refused as on
        a read-only mount.  A WIM that another process is writing is refused (DismError
        with HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION)), never half-read.

        Portable engine only (_DismPortableOpenImageFileSession): on Windows
        this raises ExportNotAvailableError.
        """
        if index is not None and name is not None:
            raise ValueError("give index= or name=, not both")
        if index is not None:
            check_image_index("Session.open_image_file", index)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        path = _path(image_path)
        self = cls.__new__(cls)
        self._image_root = os.path.realpath(path)
        self._windows_dir = None
        self._system_drive = None
        self._image_file = (path, index, name)
        self._start()
        return self

    def _open(self) -> _dism.Session:
        if self._image_file is not None:
            path, index, name = self._image_file
            return _dism.open_image_file_session(path, index, name)
        return _dism.open_session(self._image_root, self._windows_dir, self._system_drive)

    @property
    def image_file(self) -> Optional[str]:
        """The WIM or ESD of a session made by open_image_file(), else None."""
        return None if self._image_file is None else self._image_root

    @property
    def image_root(self) -> str:
        return self._image_root

    @property
    def closed(self) -> bool:
        return self._handle is None or self._handle.closed

    @property
    def handle(self) -> int:
        """The DismSession number."""
        return self._handle.handle

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"handle={self.handle}"
        return f"<dism.Session {self._image_root!r} {state}>"

    def _succeeded(self, code: int) -> None:
        """Acts on DISM's success codes after a call."""
        if code == REBOOT_REQUIRED:
            self.reboot_required = True
        elif code == RELOAD_SESSION:
            # The servicing stack changed under the session: DISM wants it
            # closed and opened again before the next call.
            self._handle.close()
            self._handle = self._open()

    def _require_open(self) -> None:
        if self.closed:
            raise session_closed(self._image_root)

    def commit(self, *, append: bool = False, integrity: bool = False, discard: bool = False,
               progress: Optional[ProgressCallback] = None,
               cancel: Optional[CancelLike] = None) -> None:
        """DismCommitImage: save the changes of the mounted image and stay mounted.

        `discard=True` throws the changes away instead (and stays mounted).
        """
        self._require_open()
        flags = _dism.DISM_DISCARD_IMAGE if discard else _dism.DISM_COMMIT_IMAGE
        if append:
            flags |= _dism.DISM_COMMIT_APPEND
        if integrity:
            flags |= _dism.DISM_COMMIT_GENERATE_INTEGRITY
        self._succeeded(self._handle.commit(flags, progress, cancel))

    # -- features ---------------------------------------------------------------

    def get_features(self, package: Optional[str] = None, *,
                     package_path: Optional[PathArg] = None) -> List[Feature]:
        """DismGetFeatures: the optional features of the image, or of one package
        (by name, or by the path of its .cab file)."""
        identifier, by_path = _package_identifier(package, package_path, required=False)
        self._require_open()
        return [Feature._from_raw(raw)
                for raw in _dism.get_features(self._handle, identifier, by_path)]

    def get_feature_info(self, name: str, package: Optional[str] = None, *,
                         package_path: Optional[PathArg] = None) -> FeatureInfo:
        """DismGetFeatureInfo: one feature in detail, with its custom properties."""
        identifier, by_path = _package_identifier(package, package_path, required=False)
        self._require_open()
        return FeatureInfo._from_raw(
            _dism.get_feature_info(self._handle, name, identifier, by_path))

    def get_feature_parents(self, name: str, package: Optional[str] = None, *,
                            package_path: Optional[PathArg] = None) -> List[Feature]:
        """DismGetFeatureParent: the features that `name` depends on."""
        identifier, by_path = _package_identifier(package, package_path, required=False)
        self._require_open()
        return [Feature._from_raw(raw)
                for raw in _dism.get_feature_parent(self._handle, name, identifier, by_path)]

    def enable_features(self, *names: str, package: Optional[str] = None,
                        package_path: Optional[PathArg] = None, enable_all: bool = False,
                        sources: Union[PathArg, Iterable[PathArg]] = (),
                        limit_access: bool = False, progress: Optional[ProgressCallback] = None,
                        cancel: Optional[CancelLike] = None) -> None:
        """DismEnableFeature: enable features, all in one operation.

        `enable_all` enables the parent features they need as well (without it
        a disabled parent fails the call); `sources` are folders holding the
        payload of features whose files were removed, and `limit_access` keeps
        DISM from looking on Windows Update for it.
        """
        joined = join_feature_names(names)
        identifier, by_path = _package_identifier(package, package_path, required=False)
        source_list = _paths(sources)
        self._require_open()
        self._succeeded(_dism.enable_feature(self._handle, joined, identifier, by_path,
                                             bool(limit_access), source_list, bool(enable_all),
                                             progress, cancel))

    def disable_features(self, *names: str, package: Optional[str] = None,
                         remove_payload: bool = False,
                         progress: Optional[ProgressCallback] = None,
                         cancel: Optional[CancelLike] = None) -> None:
        """DismDisableFeature: disable features; `remove_payload` also deletes
        their files from the image (they then need a source to come back).
        `package` names the package holding them, when it is not the foundation."""
        joined = join_feature_names(names)
        self._require_open()
        self._succeeded(_dism.disable_feature(self._handle, joined, package,
                                              bool(remove_payload), progress, cancel))

    # -- packages ---------------------------------------------------------------

    def get_packages(self) -> List[Package]:
        """DismGetPackages: every package the image knows, installed or not."""
        self._require_open()
        return [Package._from_raw(raw) for raw in _dism.get_packages(self._handle)]

    def get_package_info(self, name: Optional[str] = None, *, path: Optional[PathArg] = None,
                         extended: bool = False) -> PackageInfo:
        """DismGetPackageInfo: one package in detail, chosen by its name or by
        the path of its .cab file.  `extended` asks DismGetPackageInfoEx, which
        also gives the capability identity (newer DISM only:
        ExportNotAvailableError otherwise)."""
        identifier, by_path = _package_identifier(name, path, required=True)
        self._require_open()
        return PackageInfo._from_raw(
            _dism.get_package_info(self._handle, identifier, by_path, bool(extended)))

    def add_package(self, path: PathArg, *, ignore_check: bool = False,
                    prevent_pending: bool = False, progress: Optional[ProgressCallback] = None,
                    cancel: Optional[CancelLike] = None) -> None:
        """DismAddPackage: install a .cab or .msu package (or an expanded .cab
        folder).  `ignore_check` skips the applicability check; `prevent_pending`
        refuses a package that would need online actions to finish."""
        package_path = _path(path)
        self._require_open()
        self._succeeded(_dism.add_package(self._handle, package_path, bool(ignore_check),
                                          bool(prevent_pending), progress, cancel))

    def remove_package(self, name: Optional[str] = None, *, path: Optional[PathArg] = None,
                       progress: Optional[ProgressCallback] = None,
                       cancel: Optional[CancelLike] = None) -> None:
        """DismRemovePackage: uninstall a package, by name or by its .cab path."""
        identifier, by_path = _package_identifier(name, path, required=True)
        self._require_open()
        self._succeeded(_dism.remove_package(self._handle, identifier, by_path,
                                             progress, cancel))

    # -- drivers ----------------------------------------------------------------

    def get_drivers(self, all_drivers: bool = False) -> List[DriverPackage]:
        """DismGetDrivers: the out-of-box driver packages, or every one
        (in-box drivers too) with `all_drivers`."""
        self._require_open()
        return [DriverPackage._from_raw(raw)
                for raw in _dism.get_drivers(self._handle, bool(all_drivers))]

    def get_driver_info(self, inf: PathArg) -> Tuple[DriverPackage, Tuple[Driver, ...]]:
        """DismGetDriverInfo: a driver package and the devices it supports.
        `inf` is a published name in the image ("oem0.inf") or an .inf file."""
        target = _path(inf)
        self._require_open()
        drivers, package = _dism.get_driver_info(self._handle, target)
        return DriverPackage._from_raw(package), tuple(Driver._from_raw(raw) for raw in drivers)

    def add_driver(self, path: PathArg, *, recurse: bool = False,
                   force_unsigned: bool = False) -> List[str]:
        """DismAddDriver for an .inf file, or for every .inf file in a folder
        (and below it, with `recurse`; see find_driver_infs).  `force_unsigned`
        lets unsigned drivers into images that require signatures.

        Returns the .inf paths added, in order.  When one fails, those before
        it stay added, and the exception's notes list them.
        """
        infs = find_driver_infs(path, recurse=recurse)
        self._require_open()
        added: List[str] = []
        for inf in infs:
            try:
                self._succeeded(_dism.add_driver(self._handle, inf, bool(force_unsigned)))
            except BaseException as exc:
                if added and hasattr(exc, "add_note"):  # notes exist from Python 3.11 on
                    exc.add_note("added before the failure: " + ", ".join(added))
                raise
            added.append(inf)
        return added

    def export_drivers(self, destination: PathArg, *,
                       on_exported: Optional[ExportCallback] = None) -> List[ExportedDriver]:
        """DISM.exe's /Export-Driver (the DISM API has no call for it): copies
        the folder of every out-of-box driver package in the image's driver
        store to destination/<folder name>, and returns them in order as
        ExportedDriver(package, folder).  `on_exported(item, number, total)`
        is called as each lands.

        `destination` must be an existing folder only you can write to.
        Every package is checked first: one whose folder or INF is missing
        from the store raises PathNotFoundError (0x80070003) naming each, a
        link (out of the image or inside a package folder), or a folder the
        image's driver database names outside FileRepository, is refused,
        and then nothing is written.  A file-system failure while copying is
        a DismError with its Win32 code, naming the paths.  An existing destination/<folder> is
        replaced, so a script can run again; a failure or Ctrl+C leaves no
        half-copied folder (see dism.drivers_export).  On a session opened
        with open_image_file() the folders are extracted from the WIM itself
        (its private copy holds only the INF files).
        """
        self._require_open()
        return drivers_export.export_drivers(self, destination, on_exported=on_exported)

    def remove_driver(self, published_name: str) -> None:
        """DismRemoveDriver: remove an out-of-box driver by its published name
        ("oem0.inf")."""
        self._require_open()
        self._succeeded(_dism.remove_driver(self._handle, published_name))

    # -- capabilities and languages -------------------------------------------

    def get_capabilities(self) -> List[Capability]:
        """DismGetCapabilities: the capabilities (Features on Demand) and their states."""
        self._require_open()
        return [Capability._from_raw(raw) for raw in _dism.get_capabilities(self._handle)]

    def get_capability_info(self, name: str) -> CapabilityInfo:
        """DismGetCapabilityInfo: one capability in detail."""
        self._require_open()
        return CapabilityInfo._from_raw(_dism.get_capability_info(self._handle, name))

    def add_capability(self, name: str, *, sources: Union[PathArg, Iterable[PathArg]] = (),
                       limit_access: bool = False, progress: Optional[ProgressCallback] = None,
                       cancel: Optional[CancelLike] = None) -> None:
        """DismAddCapability: install a capability from `sources` (and Windows
        Update, unless `limit_access`)."""
        source_list = _paths(sources)
        self._require_open()
        self._succeeded(_dism.add_capability(self._handle, name, bool(limit_access),
                                             source_list, progress, cancel))

    def remove_capability(self, name: str, *, progress: Optional[ProgressCallback] = None,
                          cancel: Optional[CancelLike] = None) -> None:
        """DismRemoveCapability: uninstall a capability."""
        self._require_open()
        self._succeeded(_dism.remove_capability(self._handle, name, progress, cancel))

    def add_language(self, name: str, *, prevent_pending: bool = False,
                     sources: Union[PathArg, Iterable[PathArg]] = (), limit_access: bool = False,
                     progress: Optional[ProgressCallback] = None,
                     cancel: Optional[CancelLike] = None) -> None:
        """DismAddLanguage: install a language ("de-DE") from `sources` (and
        Windows Update, unless `limit_access`)."""
        source_list = _paths(sources)
        self._require_open()
        self._succeeded(_dism.add_language(self._handle, name, bool(prevent_pending),
                                           bool(limit_access), source_list, progress, cancel))

    def remove_language(self, name: str, *, progress: Optional[ProgressCallback] = None,
                        cancel: Optional[CancelLike] = None) -> None:
        """DismRemoveLanguage: uninstall a language."""
        self._require_open()
        self._succeeded(_dism.remove_language(self._handle, name, progress, cancel))

    # -- provisioned app packages ----------------------------------------------

    def get_provisioned_appx_packages(self) -> List[AppxPackage]:
        """_DismGetProvisionedAppxPackages: the apps every new user gets."""
        self._require_open()
        return [AppxPackage._from_raw(raw)
                for raw in _dism.get_provisioned_appx_packages(self._handle)]

    def add_provisioned_appx_package(
            self, path: PathArg, *, dependencies: Iterable[PathArg] = (),
            optional_packages: Iterable[PathArg] = (), licenses: Iterable[PathArg] = (),
            skip_license: bool = False, custom_data: Optional[PathArg] = None,
            region: Optional[str] = None,
            stub: Union[StubPackageOption, int] = StubPackageOption.NONE) -> None:
        """_DismAddProvisionedAppxPackage: provision an .appx/.msix (or bundle)
        for every new user, with its dependency packages and license files.
        `region` limits it to regions ("all", or "us;gb")."""
        app_path = _path(path)
        arguments = (_paths(dependencies), _paths(optional_packages), _paths(licenses),
                     bool(skip_license), _optional_path(custom_data), region, int(stub))
        self._require_open()
        self._succeeded(_dism.add_provisioned_appx_package(self._handle, app_path, *arguments))

    def remove_provisioned_appx_package(self, name: str) -> None:
        """_DismRemoveProvisionedAppxPackage: stop provisioning an app, by its
        full package name."""
        self._require_open()
        self._succeeded(_dism.remove_provisioned_appx_package(self._handle, name))

    # -- unattend, health, reserved storage ------------------------------------

    def apply_unattend(self, path: PathArg, *, single_session: bool = False) -> None:
        """DismApplyUnattend: apply the offlineServicing pass of an answer file;
        `single_session` installs its packages in one servicing session."""
        unattend = _path(path)
        self._require_open()
        self._succeeded(_dism.apply_unattend(self._handle, unattend, bool(single_session)))

    def check_health(self, *, scan: bool = False, progress: Optional[ProgressCallback] = None,
                     cancel: Optional[CancelLike] = None) -> Union[ImageHealthState, int]:
        """DismCheckImageHealth: whether the component store is corrupt.  Without
        `scan` it reports what an earlier scan recorded; with it, it scans (slow)."""
        self._require_open()
        code, state = _dism.check_image_health(self._handle, bool(scan), progress, cancel)
        self._succeeded(code)
        return as_enum(ImageHealthState, state)

    def restore_health(self, *, sources: Union[PathArg, Iterable[PathArg]] = (),
                       limit_access: bool = False, progress: Optional[ProgressCallback] = None,
                       cancel: Optional[CancelLike] = None) -> None:
        """DismRestoreImageHealth: repair a repairable component store from
        `sources` (and Windows Update, unless `limit_access`)."""
        source_list = _paths(sources)
        self._require_open()
        self._succeeded(_dism.restore_image_health(self._handle, source_list,
                                                   bool(limit_access), progress, cancel))

    def get_reserved_storage_state(self) -> Union[ReservedStorageState, int]:
        """DismGetReservedStorageState: whether Windows reserves disk space for updates."""
        self._require_open()
        return as_enum(ReservedStorageState, _dism.get_reserved_storage_state(self._handle))

    def set_reserved_storage_state(self, enabled: bool) -> None:
        """DismSetReservedStorageState: turn reserved storage on or off."""
        state = ReservedStorageState.ENABLED if enabled else ReservedStorageState.DISABLED
        self._require_open()
        self._succeeded(_dism.set_reserved_storage_state(self._handle, int(state)))

    # -- editions and product keys ---------------------------------------------

    def get_current_edition(self) -> Optional[str]:
        """_DismGetCurrentEdition: the image's edition ID ("Professional"), or
        None when DISM answers without one."""
        self._require_open()
        return _dism.get_current_edition(self._handle)

    def get_target_editions(self) -> List[str]:
        """_DismGetTargetEditions: the editions the image can be changed to."""
        self._require_open()
        # A NULL entry (DISM's list of DismString may hold one) names no edition.
        return [e for e in _dism.get_target_editions(self._handle) if e is not None]

    def set_edition(self, edition: str, *, product_key: Optional[str] = None,
                    progress: Optional[ProgressCallback] = None,
                    cancel: Optional[CancelLike] = None) -> None:
        """_DismSetEdition: change the image to a target edition, optionally
        installing a product key with it."""
        self._require_open()
        self._succeeded(_dism.set_edition(self._handle, edition, product_key, progress, cancel))

    def set_product_key(self, key: str) -> None:
        """_DismSetProductKey: install a product key in the image."""
        self._require_open()
        self._succeeded(_dism.set_product_key(self._handle, key))

    def validate_product_key(self, key: str) -> None:
        """_DismValidateProductKey: raises DismError when the key does not fit
        the image (HRESULT 0x80070645 for an unknown product)."""
        self._require_open()
        self._succeeded(_dism.validate_product_key(self._handle, key))

    def get_product_key_info(self, key: str) -> ProductKeyInfo:
        """_DismGetProductKeyInfo: the edition and channel a product key is for."""
        self._require_open()
        return ProductKeyInfo._from_raw(_dism.get_product_key_info(self._handle, key))

    def get_registry_mount_point(self, hive: Union[RegistryHive, int]) -> Optional[str]:
        """_DismGetRegistryMountPoint: where DISM loaded one of the image's
        registry hives (offline sessions), or None when DISM answers without one."""
        if isinstance(hive, bool) or not isinstance(hive, int):
            raise TypeError(f"hive must be a RegistryHive, not {type(hive).__name__}")
        self._require_open()
        return _dism.get_registry_mount_point(self._handle, int(hive))

    def get_image_info(self) -> ImageInfo:
        """What DismGetImageInfo reports for a WIM's image, read from the
        image this session is open on: product name, edition, installation
        and product type, version (the UBR is ``version.spbuild``, as
        DISM.exe shows it) and architecture.

        Portable engine only (no DismApi.dll has it): on Windows this raises
        ExportNotAvailableError."""
        self._require_open()
        return ImageInfo._from_raw(_dism.get_session_image_info(self._handle))
