"""Enums and result records of the DISM API.

Enum values mirror the C values of dismapi.h.  Records are frozen
dataclasses built from the plain dicts that the extension returns.
"""
from __future__ import annotations

import datetime as _dt
import enum
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple, Type, TypeVar, Union

__all__ = [
    "Architecture", "ImageBootable", "ImageInfo", "ImageType", "LogLevel", "MountMode",
    "MountStatus", "MountedImageInfo", "Version",
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


E = TypeVar("E", bound=enum.IntEnum)


def as_enum(cls: Type[E], value: int) -> Union[E, int]:
    """The member for value, or the plain int when DISM sends a newer value."""
    try:
        return cls(value)
    except ValueError:
        return value


def systemtime(parts: Optional[Tuple[int, ...]]) -> Optional[_dt.datetime]:
    """A SYSTEMTIME tuple as an aware UTC datetime; None when unset or invalid."""
    if not parts:
        return None
    year, month, day, hour, minute, second, millis = parts
    try:
        return _dt.datetime(year, month, day, hour, minute, second, millis * 1000,
                            tzinfo=_dt.timezone.utc)
    except ValueError:
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
