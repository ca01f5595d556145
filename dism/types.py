"""Enums and result records of the DISM API.

Enum values mirror the C values of dismapi.h.  Records are frozen
dataclasses built from the plain tuples that the extension returns.

One schema: the extension describes each DISM structure once, as a table of
fields in a fixed order (src/ext/convert.c), and returns a tuple in that
order.  Each record's dataclass lists the same fields in the same order;
`_dism_field(...)` names the C field a dataclass field comes from and the
converter that makes the Python value, and the one generic `_from_raw`
builds every record.  A new field is a row in the C table and a field here;
tests/ checks both against `_dism.RECORD_FIELDS`.
"""
from __future__ import annotations

import datetime as _dt
import enum
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Type, TypeVar, Union

__all__ = [
    "AppxPackage", "Architecture", "Capability", "CapabilityInfo", "CustomProperty", "Driver",
    "DriverPackage", "DriverSignature", "Feature", "FeatureInfo", "FullyOfflineInstallable",
    "ImageBootable", "ImageHealthState", "ImageInfo", "ImageType", "LogLevel", "MountMode",
    "MountStatus", "MountedImageInfo", "Package", "PackageFeatureState", "PackageInfo",
    "ProductKeyInfo", "RegistryHive", "ReleaseType", "ReservedStorageState", "RestartType",
    "StubPackageOption", "Version",
]


class LogLevel(enum.IntEnum):
    """DismLogLevel."""
    ERRORS = 0
    ERRORS_WARNINGS = 1
    ERRORS_WARNINGS_INFO = 2
    ERRORS_WARNINGS_INFO_DEBUG = 3


class ImageType(enum.IntEnum):
    """DismImageType."""
    UNSUPPORTED = -1
    WIM = 0
    VHD = 1


class ImageBootable(enum.IntEnum):
    """DismImageBootable."""
    YES = 0
    NO = 1
    UNKNOWN = 2


class MountMode(enum.IntEnum):
    """DismMountMode."""
    READ_WRITE = 0
    READ_ONLY = 1


class MountStatus(enum.IntEnum):
    """DismMountStatus."""
    OK = 0
    NEEDS_REMOUNT = 1
    INVALID = 2


class Architecture(enum.IntEnum):
    """PROCESSOR_ARCHITECTURE_* values used in DismImageInfo.Architecture."""
    X86 = 0
    ARM = 5
    IA64 = 6
    AMD64 = 9
    NEUTRAL = 11
    ARM64 = 12
    UNKNOWN = 0xFFFF


class PackageFeatureState(enum.IntEnum):
    """DismPackageFeatureState: the state of a package, feature or capability."""
    NOT_PRESENT = 0
    UNINSTALL_PENDING = 1
    STAGED = 2
    RESOLVED = 3
    REMOVED = 3          # DismStateRemoved, the same value under its documented name
    INSTALLED = 4
    INSTALL_PENDING = 5
    SUPERSEDED = 6
    PARTIALLY_INSTALLED = 7


class ReleaseType(enum.IntEnum):
    """DismReleaseType: what kind of release a package is."""
    CRITICAL_UPDATE = 0
    DRIVER = 1
    FEATURE_PACK = 2
    HOTFIX = 3
    SECURITY_UPDATE = 4
    SOFTWARE_UPDATE = 5
    UPDATE = 6
    UPDATE_ROLLUP = 7
    LANGUAGE_PACK = 8
    FOUNDATION = 9
    SERVICE_PACK = 10
    PRODUCT = 11
    LOCAL_PACK = 12
    OTHER = 13
    ON_DEMAND_PACK = 14


class RestartType(enum.IntEnum):
    """DismRestartType: whether installing a package or feature needs a restart."""
    NO = 0
    POSSIBLE = 1
    REQUIRED = 2


class DriverSignature(enum.IntEnum):
    """DismDriverSignature.  DISM checks only boot-critical drivers, so
    UNKNOWN is common."""
    UNKNOWN = 0
    UNSIGNED = 1
    SIGNED = 2


class FullyOfflineInstallable(enum.IntEnum):
    """DismFullyOfflineInstallableType: whether a package installs completely
    offline, without a pass in the booted system."""
    INSTALLABLE = 0
    NOT_INSTALLABLE = 1
    UNDETERMINED = 2


class ImageHealthState(enum.IntEnum):
    """DismImageHealthState: the component store's health."""
    HEALTHY = 0
    REPAIRABLE = 1
    NON_REPAIRABLE = 2


class StubPackageOption(enum.IntEnum):
    """DismStubPackageOption: how an appx package with a stub is provisioned."""
    NONE = 0
    INSTALL_FULL = 1
    INSTALL_STUB = 2


class RegistryHive(enum.IntEnum):
    """DismRegistryHive: the hives _DismGetRegistryMountPoint can locate."""
    SOFTWARE = 0
    SYSTEM = 1
    SECURITY = 2
    SAM = 3
    DEFAULT = 4
    NTUSER = 5
    COMPONENTS = 6
    DRIVERS = 7


class ReservedStorageState(enum.IntEnum):
    """DISM_RESERVED_STORAGE_*."""
    DISABLED = 0
    ENABLED = 1


E = TypeVar("E", bound=enum.IntEnum)


def as_enum(cls: Type[E], value: int) -> Union[E, int]:
    """The member for value, or the plain int when DISM sends a newer value."""
    try:
        return cls(value)
    except ValueError:
        return value


def systemtime(parts: Optional[Tuple[int, ...]]) -> Optional[_dt.datetime]:
    """A SYSTEMTIME as an aware UTC datetime; None when unset or invalid.

    Takes the 8 fields of SYSTEMTIME (year, month, day_of_week, day, hour,
    minute, second, ms) or the 7 without day_of_week that get_image_info
    gives.  DISM marks "no time" with an all-zero SYSTEMTIME (or None here).
    """
    if not parts or not any(parts):
        return None
    if len(parts) == 8:
        year, month, _day_of_week, day, hour, minute, second, millis = parts
    elif len(parts) == 7:
        year, month, day, hour, minute, second, millis = parts
    else:
        raise ValueError(f"a SYSTEMTIME has 7 or 8 fields, not {len(parts)}")
    try:
        return _dt.datetime(year, month, day, hour, minute, second, millis * 1000,
                            tzinfo=_dt.timezone.utc)
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True, order=True)
class Version:
    """An image's Windows version; str() gives major.minor.build.spbuild."""
    major: int
    minor: int
    build: int
    spbuild: int = 0
    splevel: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}.{self.spbuild}"

    @property
    def revision(self) -> int:
        """The fourth part, under the name drivers and appx packages give it."""
        return self.spbuild

    @classmethod
    def _from_quad(cls, parts: Sequence[int]) -> "Version":
        """A (major, minor, build, revision) version, as drivers and appx packages have."""
        major, minor, build, revision = parts
        return cls(major, minor, build, revision)


def _dism_field(c_name: str, convert: Optional[Callable[[Any], Any]] = None,
                **options: Any) -> Any:
    """A dataclass field read from the C field `c_name` of the extension's
    tuple, through `convert` (None: the value as it comes)."""
    return field(metadata={"dism": c_name, "convert": convert}, **options)


R = TypeVar("R", bound="_Record")


class _Record:
    """What every record shares: built from the extension's tuple."""

    #: The DISM structure the extension's tuple describes (a key of
    #: _dism.RECORD_FIELDS), or "" for a record that is not one structure.
    _dism_struct = ""

    @classmethod
    def _from_raw(cls: Type[R], raw: Sequence[Any]) -> R:
        """The record from the extension's tuple.  A tuple shorter than the
        dataclass leaves the last fields at their defaults (DismPackageInfo
        has no CapabilityId; DismPackageInfoEx has)."""
        plan = _PLANS.get(cls) or _plan_of(cls)
        return cls(**{name: value if convert is None else convert(value)
                      for (name, convert), value in zip(plan, raw)})


# Each record's (field name, converter) pairs, in the extension's order:
# worked out once per class, not once per record (a driver list is hundreds).
_PLANS: Dict[type, Tuple[Tuple[str, Optional[Callable[[Any], Any]]], ...]] = {}


def _plan_of(cls: type) -> Tuple[Tuple[str, Optional[Callable[[Any], Any]]], ...]:
    plan = tuple((spec.name, spec.metadata.get("convert"))
                 for spec in fields(cls))
    _PLANS[cls] = plan
    return plan


def _enum(cls: Type[E]) -> Callable[[int], Union[E, int]]:
    return partial(as_enum, cls)


class _Records:
    """Converts a list of the extension's tuples into a tuple of records."""

    def __init__(self, record: Type[_Record]) -> None:
        self.record = record

    def __call__(self, raws: Sequence[Sequence[Any]]) -> Tuple[Any, ...]:
        return tuple(self.record._from_raw(raw) for raw in raws)


def _is_read_only(mode: int) -> bool:
    return mode == MountMode.READ_ONLY


@dataclass(frozen=True)
class ImageInfo(_Record):
    """DismImageInfo: one image of a WIM (or VHD) file."""
    _dism_struct = "DismImageInfo"
    index: int = _dism_field("ImageIndex")
    name: Optional[str] = _dism_field("ImageName")
    description: Optional[str] = _dism_field("ImageDescription")
    size: int = _dism_field("ImageSize")
    architecture: Union[Architecture, int] = _dism_field("Architecture", _enum(Architecture))
    edition: Optional[str] = _dism_field("EditionId")
    product_name: Optional[str] = _dism_field("ProductName")
    installation_type: Optional[str] = _dism_field("InstallationType")
    version: Version = _dism_field("MajorVersion..SpLevel", lambda parts: Version(*parts))
    languages: Tuple[str, ...] = _dism_field("Language", tuple)
    default_language: Optional[str] = _dism_field("Language[DefaultLanguageIndex]")
    bootable: Union[ImageBootable, int] = _dism_field("Bootable", _enum(ImageBootable))
    image_type: Union[ImageType, int] = _dism_field("ImageType", _enum(ImageType))
    hal: Optional[str] = _dism_field("Hal")
    product_type: Optional[str] = _dism_field("ProductType")
    product_suite: Optional[str] = _dism_field("ProductSuite")
    system_root: Optional[str] = _dism_field("SystemRoot")
    directory_count: Optional[int] = _dism_field("CustomizedInfo.DirectoryCount")
    file_count: Optional[int] = _dism_field("CustomizedInfo.FileCount")
    created: Optional[_dt.datetime] = _dism_field("CustomizedInfo.CreatedTime", systemtime)
    modified: Optional[_dt.datetime] = _dism_field("CustomizedInfo.ModifiedTime", systemtime)


@dataclass(frozen=True)
class MountedImageInfo(_Record):
    """DismMountedImageInfo: one mounted image on this machine."""
    _dism_struct = "DismMountedImageInfo"
    mount_path: str = _dism_field("MountPath")
    image_path: str = _dism_field("ImageFilePath")
    index: int = _dism_field("ImageIndex")
    read_only: bool = _dism_field("MountMode", _is_read_only)
    status: Union[MountStatus, int] = _dism_field("MountStatus", _enum(MountStatus))

    @property
    def mode(self) -> MountMode:
        return MountMode.READ_ONLY if self.read_only else MountMode.READ_WRITE


@dataclass(frozen=True)
class CustomProperty(_Record):
    """DismCustomProperty: a name/value pair from a package's or feature's
    manifest; `path` says where in the manifest it sits."""
    _dism_struct = "DismCustomProperty"
    name: Optional[str] = _dism_field("Name")
    value: Optional[str] = _dism_field("Value")
    path: Optional[str] = _dism_field("Path")


@dataclass(frozen=True)
class Feature(_Record):
    """DismFeature: a Windows optional feature and its state."""
    _dism_struct = "DismFeature"
    name: str = _dism_field("FeatureName")
    state: Union[PackageFeatureState, int] = _dism_field("State", _enum(PackageFeatureState))


@dataclass(frozen=True)
class FeatureInfo(_Record):
    """DismFeatureInfo: one feature in detail."""
    _dism_struct = "DismFeatureInfo"
    name: str = _dism_field("FeatureName")
    state: Union[PackageFeatureState, int] = _dism_field("FeatureState",
                                                         _enum(PackageFeatureState))
    display_name: Optional[str] = _dism_field("DisplayName")
    description: Optional[str] = _dism_field("Description")
    restart_required: Union[RestartType, int] = _dism_field("RestartRequired",
                                                            _enum(RestartType))
    custom_properties: Tuple[CustomProperty, ...] = _dism_field("CustomProperty",
                                                                _Records(CustomProperty))


@dataclass(frozen=True)
class Package(_Record):
    """DismPackage: a servicing package (.cab/.msu) known to the image."""
    _dism_struct = "DismPackage"
    name: str = _dism_field("PackageName")
    state: Union[PackageFeatureState, int] = _dism_field("PackageState",
                                                         _enum(PackageFeatureState))
    release_type: Union[ReleaseType, int] = _dism_field("ReleaseType", _enum(ReleaseType))
    install_time: Optional[_dt.datetime] = _dism_field("InstallTime", systemtime)


@dataclass(frozen=True)
class PackageInfo(_Record):
    """DismPackageInfo (DismPackageInfoEx when `capability_id` is known): one
    package in detail, with its custom properties and its features."""
    _dism_struct = "DismPackageInfoEx"
    name: str = _dism_field("PackageName")
    state: Union[PackageFeatureState, int] = _dism_field("PackageState",
                                                         _enum(PackageFeatureState))
    release_type: Union[ReleaseType, int] = _dism_field("ReleaseType", _enum(ReleaseType))
    install_time: Optional[_dt.datetime] = _dism_field("InstallTime", systemtime)
    applicable: bool = _dism_field("Applicable", bool)
    copyright: Optional[str] = _dism_field("Copyright")
    company: Optional[str] = _dism_field("Company")
    creation_time: Optional[_dt.datetime] = _dism_field("CreationTime", systemtime)
    display_name: Optional[str] = _dism_field("DisplayName")
    description: Optional[str] = _dism_field("Description")
    install_client: Optional[str] = _dism_field("InstallClient")
    install_package_name: Optional[str] = _dism_field("InstallPackageName")
    last_update_time: Optional[_dt.datetime] = _dism_field("LastUpdateTime", systemtime)
    product_name: Optional[str] = _dism_field("ProductName")
    product_version: Optional[str] = _dism_field("ProductVersion")
    restart_required: Union[RestartType, int] = _dism_field("RestartRequired",
                                                            _enum(RestartType))
    fully_offline: Union[FullyOfflineInstallable, int] = _dism_field(
        "FullyOffline", _enum(FullyOfflineInstallable))
    support_information: Optional[str] = _dism_field("SupportInformation")
    custom_properties: Tuple[CustomProperty, ...] = _dism_field("CustomProperty",
                                                                _Records(CustomProperty))
    features: Tuple[Feature, ...] = _dism_field("Feature", _Records(Feature))
    # Only DismGetPackageInfoEx has the field; DismGetPackageInfo leaves it out.
    capability_id: Optional[str] = _dism_field("CapabilityId", default=None)


@dataclass(frozen=True)
class Capability(_Record):
    """DismCapability: a capability (Feature on Demand) and its state."""
    _dism_struct = "DismCapability"
    name: str = _dism_field("Name")
    state: Union[PackageFeatureState, int] = _dism_field("State", _enum(PackageFeatureState))


@dataclass(frozen=True)
class CapabilityInfo(_Record):
    """DismCapabilityInfo: one capability in detail; sizes in bytes."""
    _dism_struct = "DismCapabilityInfo"
    name: str = _dism_field("Name")
    state: Union[PackageFeatureState, int] = _dism_field("State", _enum(PackageFeatureState))
    display_name: Optional[str] = _dism_field("DisplayName")
    description: Optional[str] = _dism_field("Description")
    download_size: int = _dism_field("DownloadSize")
    install_size: int = _dism_field("InstallSize")


@dataclass(frozen=True)
class DriverPackage(_Record):
    """DismDriverPackage: a driver package (.inf) in the image's driver store,
    or the package an .inf file would be."""
    _dism_struct = "DismDriverPackage"
    published_name: Optional[str] = _dism_field("PublishedName")
    original_file_name: Optional[str] = _dism_field("OriginalFileName")
    inbox: bool = _dism_field("InBox", bool)
    catalog_file: Optional[str] = _dism_field("CatalogFile")
    class_name: Optional[str] = _dism_field("ClassName")
    class_guid: Optional[str] = _dism_field("ClassGuid")
    class_description: Optional[str] = _dism_field("ClassDescription")
    boot_critical: bool = _dism_field("BootCritical", bool)
    signature: Union[DriverSignature, int] = _dism_field("DriverSignature",
                                                         _enum(DriverSignature))
    provider_name: Optional[str] = _dism_field("ProviderName")
    date: Optional[_dt.datetime] = _dism_field("Date", systemtime)
    version: Version = _dism_field("MajorVersion..Revision", Version._from_quad)


@dataclass(frozen=True)
class Driver(_Record):
    """DismDriver: one device a driver package supports."""
    _dism_struct = "DismDriver"
    manufacturer_name: Optional[str] = _dism_field("ManufacturerName")
    hardware_description: Optional[str] = _dism_field("HardwareDescription")
    hardware_id: Optional[str] = _dism_field("HardwareId")
    architecture: Union[Architecture, int] = _dism_field("Architecture", _enum(Architecture))
    service_name: Optional[str] = _dism_field("ServiceName")
    compatible_ids: Optional[str] = _dism_field("CompatibleIds")
    exclude_ids: Optional[str] = _dism_field("ExcludeIds")


@dataclass(frozen=True)
class AppxPackage(_Record):
    """DismAppxPackage: an app package provisioned for every new user."""
    _dism_struct = "DismAppxPackage"
    package_name: str = _dism_field("PackageName")
    display_name: Optional[str] = _dism_field("DisplayName")
    publisher_id: Optional[str] = _dism_field("PublisherId")
    version: Version = _dism_field("MajorVersion..RevisionNumber", Version._from_quad)
    architecture: Union[Architecture, int] = _dism_field("Architecture", _enum(Architecture))
    resource_id: Optional[str] = _dism_field("ResourceId")
    install_location: Optional[str] = _dism_field("InstallLocation")
    region: Optional[str] = _dism_field("Region")


@dataclass(frozen=True)
class ProductKeyInfo(_Record):
    """What _DismGetProductKeyInfo says about a product key (the extension's
    (edition_id, channel) pair)."""
    edition_id: Optional[str] = _dism_field("EditionId")
    channel: Optional[str] = _dism_field("Channel")
