"""The records and the enum of image management (WIMGAPI).

Like dism.types: enums carry the C values (here wimgapi.h's), records are
frozen dataclasses built from what the extension returns.
"""
from __future__ import annotations

import datetime as _dt
import enum
import uuid
from dataclasses import dataclass
from typing import Optional, Tuple, Union

__all__ = ["Compression", "ImageFile", "WimInfo", "filetime"]


class Compression(enum.IntEnum):
    """How a WIM's resources are compressed: WIM_COMPRESS_* values.

    DISM's names are the members' names in lower case ("none", "fast",
    "max", "recovery"); "maximum" is accepted for "max".  RECOVERY is LZMS
    written solid, the format of Microsoft's .esd files; a WIM whose
    resources are LZMS but not solid (wimlib can write one) reports RECOVERY
    with WimInfo.solid False.
    """
    NONE = 0       # WIM_COMPRESS_NONE
    FAST = 1       # WIM_COMPRESS_XPRESS
    MAX = 2        # WIM_COMPRESS_LZX
    RECOVERY = 3   # WIM_COMPRESS_LZMS (+ WIM_FLAG_CHUNKED: solid)
    XPRESS = 1
    LZX = 2
    LZMS = 3

    @property
    def dism_name(self) -> str:
        """DISM.exe's word for it (/Compress:...)."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: Union["Compression", str]) -> "Compression":
        """A Compression from DISM's name (any case) or a member; ValueError
        names the choices for anything else."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            word = value.strip().lower()
            word = {"maximum": "max", "xpress": "fast", "lzx": "max", "lzms": "recovery"}.get(
                word, word)
            if word in ("none", "fast", "max", "recovery"):
                return cls[word.upper()]
        raise ValueError(f"compression {value!r} is not one of DISM's: "
                         "'none', 'fast', 'max', 'recovery' (or a dism.Compression)")


_FILETIME_EPOCH = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)


def filetime(value: int) -> Optional[_dt.datetime]:
    """A FILETIME (100 ns since 1601, UTC) as an aware datetime; None for 0."""
    if not value:
        return None
    try:
        return _FILETIME_EPOCH + _dt.timedelta(microseconds=value // 10)
    except OverflowError:
        return None


@dataclass(frozen=True)
class WimInfo:
    """WIMGetAttributes (WIM_INFO) of a WIM, ESD or split part, plus what
    WIM_INFO lacks.

    `solid` is not in WIM_INFO: it is read from the file's own header, whose
    version field is 0xE00 for a WIM holding solid resources (.esd) and
    0x10D00 otherwise - the same bytes on every platform.  `image_names` come
    from the WIM's XML (WIMGetImageInformation), in index order.
    """
    path: str
    guid: uuid.UUID            # WIM_INFO.Guid read as a Windows GUID (uuid.bytes_le = raw bytes)
    image_count: int
    compression: Union[Compression, int]
    part_number: int
    total_parts: int
    boot_index: int            # 0: no image is bootable
    attributes: int            # WIM_ATTRIBUTE_*
    solid: bool
    image_names: Tuple[Optional[str], ...] = ()

    @property
    def integrity(self) -> bool:
        """The WIM holds an integrity table (WIM_ATTRIBUTE_VERIFY_DATA)."""
        return bool(self.attributes & 0x4)

    @property
    def read_only(self) -> bool:
        """Marked read-only (WIM_ATTRIBUTE_READONLY)."""
        return bool(self.attributes & 0x20)

    @property
    def spanned(self) -> bool:
        """One part of a split WIM (WIM_ATTRIBUTE_SPANNED)."""
        return bool(self.attributes & 0x10) or self.total_parts > 1

    @property
    def rp_fix(self) -> bool:
        """Some image was captured with reparse-point fix-up (WIM_ATTRIBUTE_RP_FIX)."""
        return bool(self.attributes & 0x8)


FILE_ATTRIBUTE_DIRECTORY = 0x10
FILE_ATTRIBUTE_REPARSE_POINT = 0x400


@dataclass(frozen=True)
class ImageFile:
    """One file or directory of an image, as WIM_MSG_FILEINFO describes it.

    `path` is relative to the image root, with backslashes
    (`Windows\\System32\\drivers`); times are aware UTC datetimes (None when
    the image holds none).
    """
    path: str
    attributes: int
    size: int
    created: Optional[_dt.datetime]
    accessed: Optional[_dt.datetime]
    modified: Optional[_dt.datetime]

    @property
    def name(self) -> str:
        return self.path.rpartition("\\")[2]

    @property
    def is_directory(self) -> bool:
        return bool(self.attributes & FILE_ATTRIBUTE_DIRECTORY)

    @property
    def is_reparse_point(self) -> bool:
        """A symbolic link, junction or other reparse point."""
        return bool(self.attributes & FILE_ATTRIBUTE_REPARSE_POINT)
