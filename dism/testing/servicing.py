"""Servicing content of synthetic Windows images: CBS packages with their
optional features and capabilities, driver packages, provisioned appx packages.

The spec classes here describe that content; :func:`dism.testing.build_windows_tree`
writes it (through this module's private helpers) in the layout an offline
Windows image uses, which is also the layout the portable engine reads:

* CBS packages: SOFTWARE ``Microsoft\\Windows\\CurrentVersion\\Component Based
  Servicing\\Packages\\<identity>`` (``CurrentState``, ``Visibility``,
  ``InstallTimeHigh``/``Low``, ``Install*``, subkeys ``Updates`` (one DWORD per
  feature: its CBS state) and ``Owners``), ``...\\Notifications\\OptionalFeatures
  \\<feature>`` ``Selection``, and the manifest
  ``Windows/servicing/Packages/<identity>.mum`` (UTF-8 with a BOM).
* Drivers: ``Windows/System32/DriverStore/FileRepository/<inf>_<arch>_<hash>/``
  (INF, catalog, .sys), ``Windows/INF/oemN.inf`` for third-party drivers, the
  ``DriverDatabase`` key (in the DRIVERS hive, or at the SYSTEM root as on
  Windows 8.1) and, in SYSTEM ``ControlSet00N``, ``Control\\Class\\{guid}`` and
  ``Services\\<service>``.
* Provisioned appx: SOFTWARE ``...\\Appx\\AppxAllUserStore\\Applications
  \\<full name>`` ``Path`` (and ``Region`` when a region is given) and
  ``Program Files/WindowsApps/<full name>/AppxManifest.xml``.
* Reserved storage: SOFTWARE ``...\\ReserveManager`` ``ShippedWithReserves``.

Names that become file or key names are checked against conservative
patterns, so a spec can never write outside the image tree.  Naive datetimes
are taken as UTC.
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from .hive import HiveKey, HiveTree, expand_sz, multi_sz

__all__ = [
    "AppxSpec",
    "DeviceSpec",
    "DriverSpec",
    "FeatureSpec",
    "PackageSpec",
]

# --- constants -------------------------------------------------------------------

# PROCESSOR_ARCHITECTURE_* codes, as stored in the driver database.
_DRIVER_ARCH_CODES = {"x86": 0, "arm": 5, "ia64": 6, "amd64": 9, "arm64": 12}
_APPX_ARCHES = ("x86", "x64", "arm", "arm64", "neutral")
_INF_ENCODINGS = ("utf-16", "utf-8", "ansi")
_DRIVER_DATABASES = ("DRIVERS", "SYSTEM")
_RESTART_VALUES = (None, "possible", "required")

_DRIVER_DATABASE_VERSION = 0x0A000000
_SIGNER_SCORE_WHQL = 0x0D000005
_STATUS_FLAGS_INBOX = 0x12
_STATUS_FLAGS_THIRD_PARTY = 0x112
_SERVICE_KERNEL_DRIVER = 1
_SERVICE_BOOT_START, _SERVICE_DEMAND_START = 0, 3
_SERVICE_ERROR_NORMAL = 1

# Where Windows Update unpacks packages before installing them.
_DOWNLOAD_FOLDER = "\\\\?\\C:\\Windows\\SoftwareDistribution\\Download"

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)
_MAX_WORD = 0xFFFF
_MAX_DWORD = 0xFFFFFFFF

# Patterns for names that end up in file names, key names or identities:
# no path separators, no leading dot, nothing a shell or XML would mangle.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
_CBS_ARCH = re.compile(r"[a-z0-9]{1,16}")
_LANGUAGE = re.compile(r"(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)?")
_TOKEN = re.compile(r"[0-9a-f]{16}")
_DOTTED_VERSION = re.compile(r"\d{1,5}(?:\.\d{1,5}){3}")
_INF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}\.inf", re.IGNORECASE)
_CATALOG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}\.cat", re.IGNORECASE)
_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_CLASS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_CLASS_GUID = re.compile(r"\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}")
_HASH16 = re.compile(r"[0-9a-f]{16}")
_APPX_NAME = re.compile(r"[A-Za-z0-9.-]{3,50}")
_APPX_RESOURCE = re.compile(r"[A-Za-z0-9.~-]{0,30}")
_PUBLISHER_ID = re.compile(r"[a-z0-9]{13}")
_XML_NAME = re.compile(r"(?!xml)[A-Za-z_][A-Za-z0-9_.-]{0,99}", re.IGNORECASE)
# Characters XML 1.0 cannot carry at all, even escaped.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Hardware IDs: printable ASCII without the characters that separate INF fields.
_ID_PART = r"[!#$&'()*+\-./0-9:<>?@A-Z^_`a-z{|}~]+"
_HARDWARE_ID = re.compile(rf"{_ID_PART}\\{_ID_PART}")
_COMPATIBLE_ID = re.compile(rf"{_ID_PART}(?:\\{_ID_PART})*")


# --- checks ------------------------------------------------------------------------

def _check_pattern(what: str, text: object, pattern: re.Pattern[str]) -> None:
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise ValueError(f"invalid {what}: {text!r}")


def _check_dotted_version(what: str, text: object) -> None:
    """a.b.c.d with 16-bit parts, as CBS and capability versions are."""
    _check_pattern(f"{what} (a.b.c.d)", text, _DOTTED_VERSION)
    if any(int(part) > _MAX_WORD for part in str(text).split(".")):
        raise ValueError(f"{what} has a part above 65535: {text!r}")


def _check_choice(what: str, value: object, choices: Sequence[object]) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, not {value!r}")


def _check_dword(what: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_DWORD:
        raise ValueError(f"{what} must be a DWORD (0..0xFFFFFFFF), not {value!r}")


def _check_text(what: str, text: object, forbidden: str) -> None:
    """A str without the characters _XML_FORBIDDEN matches, which the error
    calls `forbidden`."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    if _XML_FORBIDDEN.search(text):
        raise ValueError(f"{what} holds {forbidden}: {text!r}")


def _check_xml_text(what: str, text: object) -> None:
    _check_text(what, text, "a character XML cannot carry")


def _check_optional_xml_text(what: str, text: object) -> None:
    if text is not None:
        _check_xml_text(what, text)


def _check_registry_text(what: str, text: object) -> None:
    # The same characters XML refuses: NULs would cut REG_SZ strings short
    # and lone surrogates cannot be encoded in UTF-16 at all.
    _check_text(what, text, "a control character or lone surrogate")


def _check_inf_text(what: str, text: object) -> None:
    """INF string values are quoted; keep out what would need escaping there."""
    _check_registry_text(what, text)
    if text == "" or any(char in str(text) for char in '"%\r\n\t'):
        raise ValueError(f'{what} must be non-empty, without quotes, "%" or line breaks: '
                         f"{text!r}")


def _check_moment(what: str, moment: object) -> None:
    if moment is None:
        return
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(moment).__name__}")
    if _as_utc(moment) < _FILETIME_EPOCH:
        raise ValueError(f"{what} is before 1601, which a FILETIME cannot hold: {moment}")


def _check_words(what: str, numbers: object, count: int) -> None:
    if (not isinstance(numbers, tuple) or len(numbers) != count
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= _MAX_WORD
                       for n in numbers)):
        raise ValueError(f"{what} must be {count} integers in 0..65535, not {numbers!r}")


def _check_items(what: str, items: Iterable[object], kind: type) -> None:
    for item in items:
        if not isinstance(item, kind):
            raise TypeError(f"{what} must hold {kind.__name__} objects, not {item!r}")


def _check_unique(what: str, names: Iterable[str]) -> None:
    """Registry and (Windows) file names ignore case, so duplicates do too."""
    seen: set[str] = set()
    for name in names:
        folded = name.casefold()
        if folded in seen:
            raise ValueError(f"duplicate {what}: {name!r}")
        seen.add(folded)


def _filled(value: str | None) -> str:
    """A DriverSpec field that may be given as None and that __post_init__
    then fills in (catalog, service; oem_path of a third-party driver)."""
    assert value is not None, "DriverSpec.__post_init__ fills this field in"
    return value


def _set(instance: object, name: str, value: object) -> None:
    """Normalise a field of a frozen dataclass in __post_init__."""
    object.__setattr__(instance, name, value)


# --- time ----------------------------------------------------------------------------

def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _filetime(moment: datetime) -> int:
    """100 ns ticks since 1601-01-01 UTC, computed exactly (no float seconds)."""
    delta = _as_utc(moment) - _FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _manifest_timestamp(moment: datetime) -> str:
    return _as_utc(moment).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


# --- spec classes --------------------------------------------------------------------

@dataclass(frozen=True)
class FeatureSpec:
    """An optional feature ("update" in CBS terms) owned by a package.

    `state` is the CBS state stored in the owning package's ``Updates`` key;
    `selection` (None, 0 or 1) is written to ``Notifications\\OptionalFeatures``.
    """

    name: str
    state: int = 0x40
    display_name: str = ""
    description: str = ""
    restart: str | None = None
    parent: str | None = None
    selectable: bool = True
    selection: int | None = None

    def __post_init__(self) -> None:
        _check_pattern("feature name", self.name, _NAME)
        _check_dword(f"state of feature {self.name}", self.state)
        _check_xml_text("feature display name", self.display_name)
        _check_xml_text("feature description", self.description)
        _check_choice("restart", self.restart, _RESTART_VALUES)
        if self.parent is not None:
            _check_pattern("parent feature name", self.parent, _NAME)
        _check_choice("selection", self.selection, (None, 0, 1))


@dataclass(frozen=True)
class PackageSpec:
    """A CBS package: its registry key, features and (when `write_mum`) manifest.

    `capability` ("Name~~~Lang~Version") makes the package declare a
    capability (Feature on Demand) in its manifest.
    """

    name: str
    version: str = "10.0.19041.1"
    arch: str = "amd64"
    language: str = ""
    token: str = "31bf3856ad364e35"
    state: int = 0x70
    visibility: int = 1
    install_time: datetime | None = None
    install_client: str = "DISM Package Manager Provider"
    install_user: str = "S-1-5-18"
    release_type: str = "Feature Pack"
    display_name: str | None = None
    description: str | None = None
    company: str | None = None
    copyright: str | None = None
    support_information: str | None = None
    creation_time: datetime | None = None
    last_update_time: datetime | None = None
    restart: str | None = None
    features: Sequence[FeatureSpec] = ()
    capability: str | None = None
    custom_information: Mapping[str, str] = field(default_factory=dict, hash=False)
    write_mum: bool = True

    def __post_init__(self) -> None:
        _set(self, "features", tuple(self.features))
        _set(self, "custom_information", dict(self.custom_information))
        self._check_identity()
        _check_dword(f"state of package {self.name}", self.state)
        _check_dword(f"visibility of package {self.name}", self.visibility)
        for what in ("install_time", "creation_time", "last_update_time"):
            _check_moment(what, getattr(self, what))
        for what in ("install_client", "install_user"):
            _check_registry_text(what, getattr(self, what))
        _check_xml_text("release type", self.release_type)
        for what in ("display_name", "description", "company", "copyright",
                     "support_information"):
            _check_optional_xml_text(what, getattr(self, what))
        _check_choice("restart", self.restart, _RESTART_VALUES)
        _check_items("features", self.features, FeatureSpec)
        _check_unique(f"feature of package {self.name}", (f.name for f in self.features))
        if self.capability is not None:
            _capability_parts(self.capability)
        for key, value in self.custom_information.items():
            _check_pattern("custom information key (an XML element name)", key, _XML_NAME)
            _check_xml_text(f"custom information {key}", value)

    def _check_identity(self) -> None:
        _check_pattern("package name", self.name, _NAME)
        _check_dotted_version("package version", self.version)
        _check_pattern("package architecture", self.arch, _CBS_ARCH)
        _check_pattern("package language", self.language, _LANGUAGE)
        _check_pattern("public key token (16 lower-case hex digits)", self.token, _TOKEN)

    @property
    def identity(self) -> str:
        """The CBS package identity, Name~Token~Arch~Language~Version."""
        return f"{self.name}~{self.token}~{self.arch}~{self.language}~{self.version}"


@dataclass(frozen=True)
class DeviceSpec:
    """One device a driver installs on.  `arch` None means the driver's arch.

    `hardware_id` must have the form ``BUS\\REST`` (one backslash): the
    driver database files its descriptor under ``Descriptors\\BUS\\REST``.
    """

    description: str
    hardware_id: str
    compatible_ids: Sequence[str] = ()
    manufacturer: str = "Contoso"
    arch: str | None = None

    def __post_init__(self) -> None:
        _set(self, "compatible_ids", tuple(self.compatible_ids))
        _check_inf_text("device description", self.description)
        _check_pattern("hardware ID (BUS\\ID, printable ASCII, no INF separators)",
                       self.hardware_id, _HARDWARE_ID)
        for compatible_id in self.compatible_ids:
            _check_pattern("compatible ID", compatible_id, _COMPATIBLE_ID)
        _check_inf_text("manufacturer", self.manufacturer)
        if self.arch is not None:
            _check_choice("device architecture", self.arch, tuple(_DRIVER_ARCH_CODES))

    @property
    def bus(self) -> str:
        """The part of `hardware_id` before the backslash ("PCI")."""
        return self.hardware_id.split("\\", 1)[0]

    @property
    def bus_relative_id(self) -> str:
        """The part of `hardware_id` after the backslash ("VEN_1234&DEV_5678")."""
        return self.hardware_id.split("\\", 1)[1]


_DEFAULT_DEVICES = (DeviceSpec("Contoso Gigabit Network Adapter", "PCI\\VEN_1234&DEV_5678"),)


@dataclass(frozen=True)
class DriverSpec:
    """A driver package in the driver store and the driver database.

    `catalog` defaults to "<stem>.cat" and `service` to "<stem>" (with
    characters other than letters, digits, "_" and "-" turned into "_"), where
    stem is `inf_name` without ".inf"; a third-party driver (published name
    oem*.inf) gets `oem_path` "C:\\Drivers\\<stem>" unless one is given.
    `database` None means the image's default (see WindowsImageSpec).
    `encoding` is that of the INF: "utf-16" (UTF-16LE with a BOM), "utf-8"
    (with a BOM) or "ansi" (Windows-1252).
    """

    inf_name: str
    published_name: str
    arch: str = "amd64"
    provider: str = "Contoso Ltd."
    class_name: str = "Net"
    class_guid: str = "{4d36e972-e325-11ce-bfc1-08002be10318}"
    class_description: str = "Network adapters"
    catalog: str | None = None
    date: tuple[int, int, int] = (2021, 6, 15)
    version: tuple[int, int, int, int] = (1, 2, 3, 4)
    service: str | None = None
    boot_start: bool = False
    devices: Sequence[DeviceSpec] = _DEFAULT_DEVICES
    signer: str = "Microsoft Windows Hardware Compatibility Publisher"
    encoding: str = "utf-16"
    hash16: str = "0123456789abcdef"
    database: str | None = None
    oem_path: str | None = None

    def __post_init__(self) -> None:
        _check_pattern("INF name", self.inf_name, _INF_NAME)
        _check_pattern("published name", self.published_name, _INF_NAME)
        stem = self.inf_name[:-len(".inf")]
        self._fill_defaults(stem)
        _check_choice("driver architecture", self.arch, tuple(_DRIVER_ARCH_CODES))
        _check_inf_text("provider", self.provider)
        _check_pattern("class name", self.class_name, _CLASS_NAME)
        _check_pattern("class GUID ({xxxxxxxx-...})", self.class_guid, _CLASS_GUID)
        _check_registry_text("class description", self.class_description)
        _check_pattern("catalog file name", self.catalog, _CATALOG_NAME)
        self._check_date()
        _check_words("driver version", self.version, 4)
        _check_pattern("service name", self.service, _SERVICE_NAME)
        self._check_devices()
        _check_registry_text("signer", self.signer)
        _check_choice("INF encoding", self.encoding, _INF_ENCODINGS)
        _check_pattern("hash16 (16 lower-case hex digits)", self.hash16, _HASH16)
        _check_choice("driver database", self.database, (None, *_DRIVER_DATABASES))
        self._check_oem_path()
        if self.encoding == "ansi":
            self._check_ansi_strings()

    def _fill_defaults(self, stem: str) -> None:
        _set(self, "devices", tuple(self.devices))
        _set(self, "date", tuple(self.date))
        _set(self, "version", tuple(self.version))
        if self.catalog is None:
            _set(self, "catalog", f"{stem}.cat")
        if self.service is None:
            _set(self, "service", re.sub(r"[^A-Za-z0-9_-]", "_", stem))
        if self.oem_path is None and self.third_party:
            _set(self, "oem_path", f"C:\\Drivers\\{stem}")

    def _check_date(self) -> None:
        _check_words("driver date", self.date, 3)
        try:
            driver_date = date(*self.date)
        except ValueError as error:
            raise ValueError(f"invalid driver date {self.date!r}: {error}") from None
        if driver_date.year < 1601:
            raise ValueError(f"driver date before 1601: {self.date!r}")

    def _check_devices(self) -> None:
        if not self.devices:
            raise ValueError(f"driver {self.inf_name} needs at least one device")
        _check_items("devices", self.devices, DeviceSpec)
        # Each device gets its own Descriptors\<bus>\<id> key.
        _check_unique(f"hardware ID in {self.inf_name}",
                      (device.hardware_id for device in self.devices))

    def _check_oem_path(self) -> None:
        if self.oem_path is None:
            return
        if not self.third_party:
            raise ValueError(f"only third-party (oem*.inf) drivers have an OemPath: "
                             f"{self.published_name}")
        _check_registry_text("OEM path", self.oem_path)

    def _check_ansi_strings(self) -> None:
        texts = [self.provider, *_INF_FIXED_STRINGS.values()]
        texts += [d.description for d in self.devices] + [d.manufacturer for d in self.devices]
        for text in texts:
            try:
                text.encode("cp1252")
            except UnicodeEncodeError:
                raise ValueError(f"{text!r} cannot be written to an ANSI (Windows-1252) INF"
                                 ) from None

    @property
    def folder_name(self) -> str:
        """The FileRepository folder and DriverPackages key: <inf>_<arch>_<hash16>."""
        return f"{self.inf_name}_{self.arch}_{self.hash16}"

    @property
    def third_party(self) -> bool:
        """Whether the driver is published as oem*.inf (installed by a user, not in-box)."""
        return self.published_name.lower().startswith("oem")

    def device_arch(self, device: DeviceSpec) -> str:
        """The architecture `device` is installed for: its own, else the driver's."""
        return device.arch or self.arch


@dataclass(frozen=True)
class AppxSpec:
    """A provisioned (all-users) appx package."""

    name: str
    version: tuple[int, int, int, int] = (1, 0, 0, 0)
    arch: str = "x64"
    resource_id: str = ""
    publisher_id: str = "8wekyb3d8bbwe"
    region: str | None = None

    def __post_init__(self) -> None:
        _set(self, "version", tuple(self.version))
        _check_pattern("appx package name", self.name, _APPX_NAME)
        _check_words("appx version", self.version, 4)
        _check_choice("appx architecture", self.arch, _APPX_ARCHES)
        _check_pattern("appx resource ID", self.resource_id, _APPX_RESOURCE)
        _check_pattern("appx publisher ID (13 characters)", self.publisher_id, _PUBLISHER_ID)
        if self.region is not None:
            _check_registry_text("appx region", self.region)

    @property
    def version_text(self) -> str:
        """The version as the package full name writes it ("10.1906.55.0")."""
        return ".".join(str(part) for part in self.version)

    @property
    def full_name(self) -> str:
        """Name_Version_Arch_ResourceId_PublisherId, the package full name."""
        return (f"{self.name}_{self.version_text}_{self.arch}_{self.resource_id}_"
                f"{self.publisher_id}")


def _capability_parts(capability: str) -> tuple[str, str, str]:
    """(name, language, version) of a capability identity Name~~~Lang~Version."""
    parts = capability.split("~") if isinstance(capability, str) else []
    if (len(parts) != 5 or parts[1] or parts[2]
            or not _NAME.fullmatch(parts[0]) or not _LANGUAGE.fullmatch(parts[3])
            or not _DOTTED_VERSION.fullmatch(parts[4])):
        raise ValueError(f"capability must look like Name~~~Lang~a.b.c.d, not {capability!r}")
    _check_dotted_version("capability version", parts[4])
    return parts[0], parts[3], parts[4]


# --- checks across specs ------------------------------------------------------------

def _validate_servicing(packages: Sequence[PackageSpec], drivers: Sequence[DriverSpec],
                       appx: Sequence[AppxSpec]) -> None:
    """Reject combinations that would collide in the registry or the file tree."""
    _check_items("packages", tuple(packages), PackageSpec)
    _check_items("drivers", tuple(drivers), DriverSpec)
    _check_items("appx", tuple(appx), AppxSpec)
    _check_unique("package identity", (p.identity for p in packages))
    _check_feature_selections(packages)
    _check_unique("driver store folder", (d.folder_name for d in drivers))
    _check_unique("published name", (d.published_name for d in drivers if d.third_party))
    _check_unique("driver service", (_filled(d.service) for d in drivers))
    _check_driver_classes(drivers)
    _check_unique("appx full name", (a.full_name for a in appx))


def _check_feature_selections(packages: Sequence[PackageSpec]) -> None:
    selections: dict[str, int] = {}
    for feature in (f for p in packages for f in p.features):
        if feature.selection is None:
            continue
        previous = selections.setdefault(feature.name.casefold(), feature.selection)
        if previous != feature.selection:
            raise ValueError(f"conflicting Selection values for feature {feature.name}")


def _check_driver_classes(drivers: Sequence[DriverSpec]) -> None:
    classes: dict[str, tuple[str, str]] = {}
    for driver in drivers:
        described = (driver.class_name, driver.class_description)
        previous = classes.setdefault(_class_key_name(driver.class_guid), described)
        if previous != described:
            raise ValueError(f"class {driver.class_guid} is described twice differently: "
                             f"{previous} and {described}")


# --- SOFTWARE hive ---------------------------------------------------------------------

def _software_keys(packages: Sequence[PackageSpec], appx: Sequence[AppxSpec],
                  reserved_storage: int | None) -> HiveKey:
    """Subkeys to add under SOFTWARE ``Microsoft\\Windows\\CurrentVersion``."""
    keys: HiveKey = {}
    if packages:
        keys["Component Based Servicing"] = _cbs_key(packages)
    if appx:
        applications = {app.full_name: _appx_key(app) for app in appx}
        keys["Appx"] = {"AppxAllUserStore": {"Applications": applications}}
    if reserved_storage is not None:
        keys["ReserveManager"] = {"ShippedWithReserves": reserved_storage}
    return keys


def _cbs_key(packages: Sequence[PackageSpec]) -> HiveKey:
    key: HiveKey = {"Packages": {package.identity: _package_key(package) for package in packages}}
    selections = {feature.name: {"Selection": feature.selection}
                  for package in packages for feature in package.features
                  if feature.selection is not None}
    if selections:
        key["Notifications"] = {"OptionalFeatures": selections}
    return key


def _package_key(package: PackageSpec) -> HiveKey:
    key: HiveKey = {"CurrentState": package.state, "Visibility": package.visibility}
    if package.install_time is not None:
        key["InstallTimeHigh"], key["InstallTimeLow"] = divmod(
            _filetime(package.install_time), 1 << 32)
    key["InstallName"] = f"{package.identity}.mum"
    key["InstallLocation"] = f"{_DOWNLOAD_FOLDER}\\{package.name}\\"
    key["InstallClient"] = package.install_client
    key["InstallUser"] = package.install_user
    if package.features:
        key["Updates"] = {feature.name: feature.state for feature in package.features}
    key["Owners"] = {package.identity: package.state}
    return key


def _appx_key(app: AppxSpec) -> HiveKey:
    key: HiveKey = {"Path": f"C:\\Program Files\\WindowsApps\\{app.full_name}\\AppxManifest.xml"}
    if app.region is not None:
        key["Region"] = app.region
    return key


# --- driver database and SYSTEM control set ---------------------------------------------

def driver_database(drivers: Sequence[DriverSpec], image_architecture: str) -> HiveKey:
    """The ``DriverDatabase`` key (DRIVERS hive root, or SYSTEM root on 8.1)."""
    inf_files: dict[str, list[str]] = {}
    for driver in drivers:
        inf_files.setdefault(driver.inf_name, []).append(driver.folder_name)
    return {
        "Version": _DRIVER_DATABASE_VERSION,
        "Architecture": _DRIVER_ARCH_CODES[image_architecture],
        "DriverPackages": {driver.folder_name: _driver_package_key(driver) for driver in drivers},
        # With several packages of one INF the last one listed is the active one.
        "DriverInfFiles": {inf: {"": multi_sz(folders), "Active": folders[-1]}
                           for inf, folders in inf_files.items()},
    }


def _driver_package_key(driver: DriverSpec) -> HiveKey:
    key: HiveKey = {
        "": driver.published_name,
        "InfName": driver.inf_name,
        "Provider": driver.provider,
        "Catalog": _filled(driver.catalog),
        "SignerName": driver.signer,
        "SignerScore": _SIGNER_SCORE_WHQL,
        "StatusFlags": _STATUS_FLAGS_THIRD_PARTY if driver.third_party else _STATUS_FLAGS_INBOX,
    }
    if driver.third_party:
        key["OemPath"] = _filled(driver.oem_path)
    key["Version"] = _driver_version_blob(driver)
    key["Configurations"] = {"Install": {"Service": _filled(driver.service), "ConfigFlags": 0}}
    key["Descriptors"] = _descriptors(driver)
    # The database keeps string keys in lower case, as Windows does.
    key["Strings"] = {name.lower(): text for name, text in _device_strings(driver).items()}
    return key


def _descriptors(driver: DriverSpec) -> dict[str, dict[str, HiveTree]]:
    buses: dict[str, dict[str, HiveTree]] = {}
    spelling: dict[str, str] = {}      # bus names ignore case; keep the first spelling
    manufacturers = _manufacturer_keys(driver)
    for number, device in enumerate(driver.devices, start=1):
        bus = spelling.setdefault(device.bus.casefold(), device.bus)
        buses.setdefault(bus, {})[device.bus_relative_id] = {
            "Configuration": "Install",
            "Manufacturer": f"%{manufacturers[device.manufacturer].lower()}%",
            "Description": f"%{_device_string_key(number).lower()}%",
        }
    return buses


def _driver_version_blob(driver: DriverSpec) -> bytes:
    """The 48-byte ``Version`` value of a DriverPackages key.

    00 FF, architecture code (u16), 4 zero bytes, class GUID (Windows byte
    order), driver date as a FILETIME at 00:00 UTC, driver version as
    (major << 48 | minor << 32 | build << 16 | revision), 8 zero bytes.
    """
    major, minor, build, revision = driver.version
    packed_version = major << 48 | minor << 32 | build << 16 | revision
    driver_date = datetime(*driver.date, tzinfo=timezone.utc)
    return struct.pack("<2sH4x16sQQ8x", b"\x00\xff", _DRIVER_ARCH_CODES[driver.arch],
                       uuid.UUID(driver.class_guid).bytes_le, _filetime(driver_date),
                       packed_version)


def _class_key_name(class_guid: str) -> str:
    # Control\Class keys are upper-case on Windows; readers match case-insensitively.
    return "{" + str(uuid.UUID(class_guid)).upper() + "}"


def _driver_classes(drivers: Sequence[DriverSpec], *, decoy: bool = False) -> dict[str, HiveTree]:
    """``Control\\Class\\{guid}`` keys of the drivers' setup classes.

    A decoy control set (one that ``Select\\Current`` does not point at) gets
    different descriptions, so that reading the wrong control set shows.
    """
    return {_class_key_name(driver.class_guid): {
                "": f"Decoy: {driver.class_description}" if decoy else driver.class_description,
                "Class": driver.class_name}
            for driver in drivers}


def _driver_services(drivers: Sequence[DriverSpec]) -> dict[str, HiveTree]:
    """``Services\\<service>`` keys of the drivers (kernel drivers)."""
    return {_filled(driver.service): {
                "Type": _SERVICE_KERNEL_DRIVER,
                "Start": _SERVICE_BOOT_START if driver.boot_start else _SERVICE_DEMAND_START,
                "ErrorControl": _SERVICE_ERROR_NORMAL,
                "ImagePath": expand_sz(f"\\SystemRoot\\System32\\drivers\\{driver.service}.sys")}
            for driver in drivers}


# --- XML -------------------------------------------------------------------------------

_XML_ATTRIBUTE_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                          "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_XML_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _escape(text: str, table: Mapping[str, str]) -> str:
    return "".join(table.get(char, char) for char in text)


def _attributes(pairs: Iterable[tuple[str, str | None]]) -> str:
    """` name="value"` for each pair whose value is not None, escaped."""
    return "".join(f' {name}="{_escape(value, _XML_ATTRIBUTE_ESCAPES)}"'
                   for name, value in pairs if value is not None)


def _xml_document(lines: Iterable[str], *, bom: bool) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig" if bom else "utf-8")


def _optional_timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else _manifest_timestamp(moment)


def package_manifest(package: PackageSpec) -> bytes:
    """The package's ``.mum`` manifest, UTF-8 with a BOM."""
    assembly = _attributes([
        ("xmlns", "urn:schemas-microsoft-com:asm.v3"),
        ("manifestVersion", "1.0"),
        ("displayName", package.display_name),
        ("description", package.description),
        ("company", package.company),
        ("copyright", package.copyright),
        ("supportInformation", package.support_information),
        ("creationTimeStamp", _optional_timestamp(package.creation_time)),
        ("lastUpdateTimeStamp", _optional_timestamp(package.last_update_time)),
    ])
    identity = _attributes([
        ("name", package.name), ("version", package.version),
        ("processorArchitecture", package.arch),
        ("language", package.language or "neutral"), ("publicKeyToken", package.token),
    ])
    header = _attributes([("identifier", package.name), ("releaseType", package.release_type),
                          ("restart", package.restart)])
    body = [line for feature in package.features for line in _update_lines(feature)]
    body += _capability_lines(package.capability)
    body += _custom_information_lines(package.custom_information)
    return _xml_document([
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>',
        f"<assembly{assembly}>",
        f"  <assemblyIdentity{identity} />",
        f"  <package{header}>",
        *body,
        "  </package>",
        "</assembly>",
    ], bom=True)


def _update_lines(feature: FeatureSpec) -> list[str]:
    attributes = _attributes([("name", feature.name), ("displayName", feature.display_name),
                              ("description", feature.description),
                              ("restart", feature.restart)])
    children = []
    if feature.parent is not None:
        parent = _attributes([("name", feature.parent)])
        children.append(f'      <applicable disposition="detect"><detectUpdate>'
                        f"<update{parent} /></detectUpdate></applicable>")
    if feature.selectable:
        children.append('      <selectable disposition="staged">'
                        '<detectNone default="false" /></selectable>')
    if not children:
        return [f"    <update{attributes} />"]
    return [f"    <update{attributes}>", *children, "    </update>"]


def _capability_lines(capability: str | None) -> list[str]:
    if capability is None:
        return []
    name, language, version = _capability_parts(capability)
    identity = _attributes([("name", name), ("language", language), ("version", version)])
    return [f"    <declareCapability><capability><capabilityIdentity{identity} />"
            "</capability></declareCapability>"]


def _custom_information_lines(information: Mapping[str, str]) -> list[str]:
    if not information:
        return []
    entries = [f"      <{key}>{_escape(value, _XML_TEXT_ESCAPES)}</{key}>"
               for key, value in information.items()]
    return ["    <customInformation>", *entries, "    </customInformation>"]


def _appx_manifest(app: AppxSpec) -> bytes:
    """A small but schema-shaped ``AppxManifest.xml`` for a provisioned package."""
    identity = _attributes([
        ("Name", app.name), ("Publisher", "CN=Contoso"), ("Version", app.version_text),
        ("ProcessorArchitecture", app.arch), ("ResourceId", app.resource_id or None),
    ])
    return _xml_document([
        '<?xml version="1.0" encoding="utf-8"?>',
        '<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">',
        f"  <Identity{identity} />",
        "  <Properties>",
        f"    <DisplayName>{app.name}</DisplayName>",
        "    <PublisherDisplayName>Contoso</PublisherDisplayName>",
        "    <Logo>Assets\\StoreLogo.png</Logo>",
        "  </Properties>",
        "  <Dependencies>",
        '    <TargetDeviceFamily Name="Windows.Universal" MinVersion="10.0.17763.0" '
        'MaxVersionTested="10.0.19041.0" />',
        "  </Dependencies>",
        "  <Resources>",
        '    <Resource Language="en-US" />',
        "  </Resources>",
        "</Package>",
    ], bom=False)


# --- INF files ---------------------------------------------------------------------------

# Strings every INF carries besides the provider, manufacturers and devices.
# The accented letter makes the encoding matter (0xE9 in Windows-1252).
_INF_FIXED_STRINGS = {"DiskName": "Contoso Installationsmédia"}
_INF_INSTALL_SECTION = "Install"
_SERVICE_INSTALL_SECTION = "Service_Inst"
_SPSVCINST_ASSOCSERVICE = 0x00000002


def _device_string_key(number: int) -> str:
    return f"Dev{number}.Desc"


def _manufacturer_keys(driver: DriverSpec) -> dict[str, str]:
    """[Strings] key of each manufacturer, in order of first appearance."""
    keys: dict[str, str] = {}
    for device in driver.devices:
        if device.manufacturer not in keys:
            position = len(keys) + 1
            keys[device.manufacturer] = "Mfg" if position == 1 else f"Mfg{position}"
    return keys


def _models_section(manufacturer_key: str) -> str:
    return "Models" + manufacturer_key[len("Mfg"):]


def _ordered_unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _device_strings(driver: DriverSpec) -> dict[str, str]:
    """The strings that device descriptors refer to: manufacturers, descriptions."""
    table = {key: manufacturer for manufacturer, key in _manufacturer_keys(driver).items()}
    table.update({_device_string_key(number): device.description
                  for number, device in enumerate(driver.devices, start=1)})
    return table


def _inf_string_table(driver: DriverSpec) -> dict[str, str]:
    return {"ProviderName": driver.provider, **_device_strings(driver), **_INF_FIXED_STRINGS}


def _inf_version_section(driver: DriverSpec) -> list[str]:
    year, month, day = driver.date
    return [
        "[Version]",
        'Signature   = "$WINDOWS NT$"',
        f"Class       = {driver.class_name}",
        f"ClassGuid   = {driver.class_guid}",
        "Provider    = %ProviderName%    ; resolved through [Strings]",
        f"DriverVer   = {month:02d}/{day:02d}/{year:04d},{'.'.join(map(str, driver.version))}",
        f"CatalogFile.NT{driver.arch} = {driver.catalog}",
        "PnpLockdown = 1",
    ]


def _inf_file_sections(driver: DriverSpec) -> list[str]:
    return [
        "[DestinationDirs]",
        "DefaultDestDir = 12",
        "",
        "[SourceDisksNames]",
        '1 = %DiskName%,,,""',
        "",
        "[SourceDisksFiles]",
        f"{driver.service}.sys = 1",
        "",
        "[Driver_Files]",
        f"{driver.service}.sys",
    ]


def _inf_manufacturer_section(driver: DriverSpec) -> list[str]:
    lines = ["[Manufacturer]"]
    for manufacturer, key in _manufacturer_keys(driver).items():
        arches = _ordered_unique(driver.device_arch(device) for device in driver.devices
                                 if device.manufacturer == manufacturer)
        decorations = ", ".join(f"NT{arch}" for arch in arches)
        lines.append(f"%{key}% = {_models_section(key)}, {decorations}")
    return lines


def _inf_models_sections(driver: DriverSpec) -> list[str]:
    """One [Models.NT<arch>] section per manufacturer and architecture.

    The first device's line is split with a trailing backslash, a line
    continuation that INF readers must join.
    """
    sections: dict[str, list[str]] = {}
    manufacturer_keys = _manufacturer_keys(driver)
    for number, device in enumerate(driver.devices, start=1):
        section = (f"[{_models_section(manufacturer_keys[device.manufacturer])}"
                   f".NT{driver.device_arch(device)}]")
        ids = ", ".join((device.hardware_id, *device.compatible_ids))
        entry = f"%{_device_string_key(number)}% = {_INF_INSTALL_SECTION}, "
        lines = [entry + "\\", f"    {ids}"] if number == 1 else [entry + ids]
        sections.setdefault(section, []).extend(lines)
    lines = [line for header, body in sections.items() for line in (header, *body, "")]
    return lines[:-1]


def _inf_install_sections(driver: DriverSpec) -> list[str]:
    lines: list[str] = []
    for arch in _ordered_unique(driver.device_arch(device) for device in driver.devices):
        lines += [
            f"[{_INF_INSTALL_SECTION}.NT{arch}]",
            "CopyFiles = Driver_Files",
            "",
            f"[{_INF_INSTALL_SECTION}.NT{arch}.Services]",
            f"AddService = {driver.service}, 0x{_SPSVCINST_ASSOCSERVICE:08x}, "
            f"{_SERVICE_INSTALL_SECTION}",
            "",
        ]
    return lines[:-1]


def _inf_service_section(driver: DriverSpec) -> list[str]:
    start = _SERVICE_BOOT_START if driver.boot_start else _SERVICE_DEMAND_START
    return [
        f"[{_SERVICE_INSTALL_SECTION}]",
        f"ServiceType   = {_SERVICE_KERNEL_DRIVER}",
        f"StartType     = {start}",
        f"ErrorControl  = {_SERVICE_ERROR_NORMAL}",
        f"ServiceBinary = %12%\\{driver.service}.sys",
    ]


def _inf_strings_section(driver: DriverSpec) -> list[str]:
    return ["[Strings]", *(f'{key} = "{text}"' for key, text in _inf_string_table(driver).items())]


def _inf_text(driver: DriverSpec) -> str:
    sections = [
        [f"; {driver.inf_name}: synthetic driver package written by dism.testing",
         "; (not a working driver; only its metadata is meaningful)"],
        _inf_version_section(driver),
        _inf_file_sections(driver),
        _inf_manufacturer_section(driver),
        _inf_models_sections(driver),
        _inf_install_sections(driver),
        _inf_service_section(driver),
        _inf_strings_section(driver),
    ]
    return "\r\n\r\n".join("\r\n".join(section) for section in sections) + "\r\n"


def _driver_inf(driver: DriverSpec) -> bytes:
    """The driver's INF in its `encoding` (see :class:`DriverSpec`)."""
    text = _inf_text(driver)
    if driver.encoding == "utf-16":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if driver.encoding == "utf-8":
        return text.encode("utf-8-sig")
    return text.encode("cp1252")


# --- files -------------------------------------------------------------------------------

_DRIVER_STORE = "Windows/System32/DriverStore/FileRepository"


def _servicing_files(packages: Sequence[PackageSpec], drivers: Sequence[DriverSpec],
                    appx: Sequence[AppxSpec]) -> dict[str, bytes]:
    """Files of the servicing content, by path relative to the image root."""
    files = {f"Windows/servicing/Packages/{package.identity}.mum": package_manifest(package)
             for package in packages if package.write_mum}
    for driver in drivers:
        files.update(_driver_files(driver))
    for app in appx:
        files[f"Program Files/WindowsApps/{app.full_name}/AppxManifest.xml"] = _appx_manifest(app)
    return files


def _driver_files(driver: DriverSpec) -> dict[str, bytes]:
    folder = f"{_DRIVER_STORE}/{driver.folder_name}"
    inf = _driver_inf(driver)
    files = {
        f"{folder}/{driver.inf_name}": inf,
        # Placeholders: nothing reads catalogs or binaries, they only need to exist.
        f"{folder}/{driver.catalog}": f"catalog of {driver.inf_name} (placeholder)\r\n".encode(),
        f"{folder}/{driver.service}.sys": b"MZ" + f" {driver.service} (placeholder)".encode(),
    }
    if driver.third_party:
        files[f"Windows/INF/{driver.published_name}"] = inf
    return files
