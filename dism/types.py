"""Enums and result records of the DISM API.

Enum values mirror the C values of dismapi.h.  Records are frozen
dataclasses built from the plain dicts that the extension returns.
"""
from __future__ import annotations

import datetime as _dt
import enum
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

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


@dataclass(frozen=True)
class ImageInfo:
    """DismImageInfo: one image of a WIM (or VHD) file."""
    index: int
    name: Optional[str]
    description: Optional[str]
    size: int
    architecture: Union[Architecture, int]
    edition: Optional[str]
    product_name: Optional[str]
    installation_type: Optional[str]
    version: Version
    languages: Tuple[str, ...]
    default_language: Optional[str]
    bootable: Union[ImageBootable, int]
    image_type: Union[ImageType, int]
    hal: Optional[str]
    product_type: Optional[str]
    product_suite: Optional[str]
    system_root: Optional[str]
    directory_count: Optional[int]
    file_count: Optional[int]
    created: Optional[_dt.datetime]
    modified: Optional[_dt.datetime]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "ImageInfo":
        languages = tuple(raw["languages"])
        default_index = raw["default_language_index"]
        return cls(
            index=raw["index"],
            name=raw["name"],
            description=raw["description"],
            size=raw["size"],
            architecture=as_enum(Architecture, raw["architecture"]),
            edition=raw["edition"],
            product_name=raw["product_name"],
            installation_type=raw["installation_type"],
            version=Version(*raw["version"]),
            languages=languages,
            default_language=languages[default_index] if default_index < len(languages) else None,
            bootable=as_enum(ImageBootable, raw["bootable"]),
            image_type=as_enum(ImageType, raw["image_type"]),
            hal=raw["hal"],
            product_type=raw["product_type"],
            product_suite=raw["product_suite"],
            system_root=raw["system_root"],
            directory_count=raw["directory_count"],
            file_count=raw["file_count"],
            created=systemtime(raw["created"]),
            modified=systemtime(raw["modified"]),
        )


@dataclass(frozen=True)
class MountedImageInfo:
    """DismMountedImageInfo: one mounted image on this machine."""
    mount_path: str
    image_path: str
    index: int
    read_only: bool
    status: Union[MountStatus, int]

    @property
    def mode(self) -> MountMode:
        return MountMode.READ_ONLY if self.read_only else MountMode.READ_WRITE

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "MountedImageInfo":
        return cls(
            mount_path=raw["mount_path"],
            image_path=raw["image_path"],
            index=raw["index"],
            read_only=raw["mount_mode"] == MountMode.READ_ONLY,
            status=as_enum(MountStatus, raw["status"]),
        )


def _records(cls: Type[Any], raws: Sequence[Mapping[str, Any]]) -> Tuple[Any, ...]:
    return tuple(cls._from_raw(raw) for raw in raws)


@dataclass(frozen=True)
class CustomProperty:
    """DismCustomProperty: a name/value pair from a package's or feature's
    manifest; `path` says where in the manifest it sits."""
    name: Optional[str]
    value: Optional[str]
    path: Optional[str]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "CustomProperty":
        return cls(name=raw["name"], value=raw["value"], path=raw["path"])


@dataclass(frozen=True)
class Feature:
    """DismFeature: a Windows optional feature and its state."""
    name: str
    state: Union[PackageFeatureState, int]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "Feature":
        return cls(name=raw["name"], state=as_enum(PackageFeatureState, raw["state"]))


@dataclass(frozen=True)
class FeatureInfo:
    """DismFeatureInfo: one feature in detail."""
    name: str
    state: Union[PackageFeatureState, int]
    display_name: Optional[str]
    description: Optional[str]
    restart_required: Union[RestartType, int]
    custom_properties: Tuple[CustomProperty, ...]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "FeatureInfo":
        return cls(
            name=raw["name"],
            state=as_enum(PackageFeatureState, raw["state"]),
            display_name=raw["display_name"],
            description=raw["description"],
            restart_required=as_enum(RestartType, raw["restart_required"]),
            custom_properties=_records(CustomProperty, raw["custom_properties"]),
        )


@dataclass(frozen=True)
class Package:
    """DismPackage: a servicing package (.cab/.msu) known to the image."""
    name: str
    state: Union[PackageFeatureState, int]
    release_type: Union[ReleaseType, int]
    install_time: Optional[_dt.datetime]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "Package":
        return cls(
            name=raw["name"],
            state=as_enum(PackageFeatureState, raw["state"]),
            release_type=as_enum(ReleaseType, raw["release_type"]),
            install_time=systemtime(raw["install_time"]),
        )


@dataclass(frozen=True)
class PackageInfo:
    """DismPackageInfo (DismPackageInfoEx when `capability_id` is known): one
    package in detail, with its custom properties and its features."""
    name: str
    state: Union[PackageFeatureState, int]
    release_type: Union[ReleaseType, int]
    install_time: Optional[_dt.datetime]
    applicable: bool
    copyright: Optional[str]
    company: Optional[str]
    creation_time: Optional[_dt.datetime]
    display_name: Optional[str]
    description: Optional[str]
    install_client: Optional[str]
    install_package_name: Optional[str]
    last_update_time: Optional[_dt.datetime]
    product_name: Optional[str]
    product_version: Optional[str]
    restart_required: Union[RestartType, int]
    fully_offline: Union[FullyOfflineInstallable, int]
    support_information: Optional[str]
    custom_properties: Tuple[CustomProperty, ...]
    features: Tuple[Feature, ...]
    capability_id: Optional[str] = None

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "PackageInfo":
        return cls(
            name=raw["name"],
            state=as_enum(PackageFeatureState, raw["state"]),
            release_type=as_enum(ReleaseType, raw["release_type"]),
            install_time=systemtime(raw["install_time"]),
            applicable=bool(raw["applicable"]),
            copyright=raw["copyright"],
            company=raw["company"],
            creation_time=systemtime(raw["creation_time"]),
            display_name=raw["display_name"],
            description=raw["description"],
            install_client=raw["install_client"],
            install_package_name=raw["install_package_name"],
            last_update_time=systemtime(raw["last_update_time"]),
            product_name=raw["product_name"],
            product_version=raw["product_version"],
            restart_required=as_enum(RestartType, raw["restart_required"]),
            fully_offline=as_enum(FullyOfflineInstallable, raw["fully_offline"]),
            support_information=raw["support_information"],
            custom_properties=_records(CustomProperty, raw["custom_properties"]),
            features=_records(Feature, raw["features"]),
            # Only DismGetPackageInfoEx has the field; DismGetPackageInfo leaves it out.
            capability_id=raw.get("capability_id"),
        )


@dataclass(frozen=True)
class Capability:
    """DismCapability: a capability (Feature on Demand) and its state."""
    name: str
    state: Union[PackageFeatureState, int]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "Capability":
        return cls(name=raw["name"], state=as_enum(PackageFeatureState, raw["state"]))


@dataclass(frozen=True)
class CapabilityInfo:
    """DismCapabilityInfo: one capability in detail; sizes in bytes."""
    name: str
    state: Union[PackageFeatureState, int]
    display_name: Optional[str]
    description: Optional[str]
    download_size: int
    install_size: int

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "CapabilityInfo":
        return cls(
            name=raw["name"],
            state=as_enum(PackageFeatureState, raw["state"]),
            display_name=raw["display_name"],
            description=raw["description"],
            download_size=raw["download_size"],
            install_size=raw["install_size"],
        )


@dataclass(frozen=True)
class DriverPackage:
    """DismDriverPackage: a driver package (.inf) in the image's driver store,
    or the package an .inf file would be."""
    published_name: Optional[str]
    original_file_name: Optional[str]
    inbox: bool
    catalog_file: Optional[str]
    class_name: Optional[str]
    class_guid: Optional[str]
    class_description: Optional[str]
    boot_critical: bool
    signature: Union[DriverSignature, int]
    provider_name: Optional[str]
    date: Optional[_dt.datetime]
    version: Version

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "DriverPackage":
        return cls(
            published_name=raw["published_name"],
            original_file_name=raw["original_file_name"],
            inbox=bool(raw["inbox"]),
            catalog_file=raw["catalog_file"],
            class_name=raw["class_name"],
            class_guid=raw["class_guid"],
            class_description=raw["class_description"],
            boot_critical=bool(raw["boot_critical"]),
            signature=as_enum(DriverSignature, raw["signature"]),
            provider_name=raw["provider_name"],
            date=systemtime(raw["date"]),
            version=Version._from_quad(raw["version"]),
        )


@dataclass(frozen=True)
class Driver:
    """DismDriver: one device a driver package supports."""
    manufacturer_name: Optional[str]
    hardware_description: Optional[str]
    hardware_id: Optional[str]
    architecture: Union[Architecture, int]
    service_name: Optional[str]
    compatible_ids: Optional[str]
    exclude_ids: Optional[str]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "Driver":
        return cls(
            manufacturer_name=raw["manufacturer_name"],
            hardware_description=raw["hardware_description"],
            hardware_id=raw["hardware_id"],
            architecture=as_enum(Architecture, raw["architecture"]),
            service_name=raw["service_name"],
            compatible_ids=raw["compatible_ids"],
            exclude_ids=raw["exclude_ids"],
        )


@dataclass(frozen=True)
class AppxPackage:
    """DismAppxPackage: an app package provisioned for every new user."""
    package_name: str
    display_name: Optional[str]
    publisher_id: Optional[str]
    version: Version
    architecture: Union[Architecture, int]
    resource_id: Optional[str]
    install_location: Optional[str]
    region: Optional[str]

    @classmethod
    def _from_raw(cls, raw: Mapping[str, Any]) -> "AppxPackage":
        return cls(
            package_name=raw["package_name"],
            display_name=raw["display_name"],
            publisher_id=raw["publisher_id"],
            version=Version._from_quad(raw["version"]),
            architecture=as_enum(Architecture, raw["architecture"]),
            resource_id=raw["resource_id"],
            install_location=raw["install_location"],
            region=raw["region"],
        )


@dataclass(frozen=True)
class ProductKeyInfo:
    """What _DismGetProductKeyInfo says about a product key."""
    edition_id: Optional[str]
    channel: Optional[str]

    @classmethod
    def _from_raw(cls, raw: Sequence[Optional[str]]) -> "ProductKeyInfo":
        """From the extension's (edition_id, channel) pair."""
        edition_id, channel = raw
        return cls(edition_id=edition_id, channel=channel)
