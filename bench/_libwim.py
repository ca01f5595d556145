"""A minimal ctypes binding to libwim.so.15: the baseline for get_image_info.

`read_image_info(path)` does what the engine's DismGetImageInfo does
(src/engine/wim/imageinfo.c) with the same libwim calls - wimlib_open_wim,
wimlib_get_wim_info, one wimlib_get_image_property per XML property per image,
wimlib_free - and turns the answers into Python values (str, int), so both
sides end with Python objects holding the same data.
"""
from __future__ import annotations

import ctypes
import os
from typing import Dict, List, Optional

WIMLIB_GUID_LEN = 16


class WimInfo(ctypes.Structure):
    """struct wimlib_wim_info from /usr/include/wimlib.h (wimlib 1.13): 88 bytes,
    image_count at offset 16, total_bytes at 40, reserved[9] at 52."""

    _fields_ = [
        ("guid", ctypes.c_uint8 * WIMLIB_GUID_LEN),
        ("image_count", ctypes.c_uint32),
        ("boot_index", ctypes.c_uint32),
        ("wim_version", ctypes.c_uint32),
        ("chunk_size", ctypes.c_uint32),
        ("part_number", ctypes.c_uint16),
        ("total_parts", ctypes.c_uint16),
        ("compression_type", ctypes.c_int32),
        ("total_bytes", ctypes.c_uint64),
        ("has_integrity_table", ctypes.c_uint32, 1),
        ("opened_from_file", ctypes.c_uint32, 1),
        ("is_readonly", ctypes.c_uint32, 1),
        ("has_rpfix", ctypes.c_uint32, 1),
        ("is_marked_readonly", ctypes.c_uint32, 1),
        ("spanned", ctypes.c_uint32, 1),
        ("write_in_progress", ctypes.c_uint32, 1),
        ("metadata_only", ctypes.c_uint32, 1),
        ("resource_only", ctypes.c_uint32, 1),
        ("pipable", ctypes.c_uint32, 1),
        ("reserved_flags", ctypes.c_uint32, 22),
        ("reserved", ctypes.c_uint32 * 9),
    ]


# Checked against the C compiler's layout (sizeof and offsetof) when written.
assert ctypes.sizeof(WimInfo) == 88, ctypes.sizeof(WimInfo)
assert WimInfo.image_count.offset == 16 and WimInfo.total_bytes.offset == 40
assert WimInfo.reserved.offset == 52


class LibWim:
    def __init__(self, name: str = "libwim.so.15") -> None:
        lib = ctypes.CDLL(name)
        lib.wimlib_open_wim.argtypes = [ctypes.c_char_p, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_void_p)]
        lib.wimlib_open_wim.restype = ctypes.c_int
        lib.wimlib_get_wim_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(WimInfo)]
        lib.wimlib_get_wim_info.restype = ctypes.c_int
        lib.wimlib_get_image_property.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                                  ctypes.c_char_p]
        lib.wimlib_get_image_property.restype = ctypes.c_char_p   # copied into bytes, or None
        lib.wimlib_free.argtypes = [ctypes.c_void_p]
        lib.wimlib_free.restype = None
        lib.wimlib_get_error_string.argtypes = [ctypes.c_int]
        lib.wimlib_get_error_string.restype = ctypes.c_char_p
        lib.wimlib_get_version_string.argtypes = []
        lib.wimlib_get_version_string.restype = ctypes.c_char_p
        self.lib = lib

    def version(self) -> str:
        return self.lib.wimlib_get_version_string().decode()

    def read_image_info(self, path: "str | os.PathLike[str]") -> List[Dict[str, object]]:
        lib = self.lib
        wim = ctypes.c_void_p()
        rc = lib.wimlib_open_wim(os.fsencode(path), 0, ctypes.byref(wim))
        if rc:
            raise OSError(f"wimlib_open_wim: {lib.wimlib_get_error_string(rc).decode()}")
        try:
            info = WimInfo()
            rc = lib.wimlib_get_wim_info(wim, ctypes.byref(info))
            if rc:
                raise OSError(f"wimlib_get_wim_info: {lib.wimlib_get_error_string(rc).decode()}")
            return [_image(lib.wimlib_get_image_property, wim, image, info.boot_index)
                    for image in range(1, info.image_count + 1)]
        finally:
            lib.wimlib_free(wim)


_STRINGS = {
    "name": b"NAME",
    "description": b"DESCRIPTION",
    "product_name": b"WINDOWS/PRODUCTNAME",
    "edition": b"WINDOWS/EDITIONID",
    "installation_type": b"WINDOWS/INSTALLATIONTYPE",
    "hal": b"WINDOWS/HAL",
    "product_type": b"WINDOWS/PRODUCTTYPE",
    "product_suite": b"WINDOWS/PRODUCTSUITE",
    "system_root": b"WINDOWS/SYSTEMROOT",
}
_NUMBERS = {
    "size": b"TOTALBYTES",
    "architecture": b"WINDOWS/ARCH",
    "major": b"WINDOWS/VERSION/MAJOR",
    "minor": b"WINDOWS/VERSION/MINOR",
    "build": b"WINDOWS/VERSION/BUILD",
    "spbuild": b"WINDOWS/VERSION/SPBUILD",
    "splevel": b"WINDOWS/VERSION/SPLEVEL",
    "directory_count": b"DIRCOUNT",
    "file_count": b"FILECOUNT",
}
_TIMES = {
    "created": (b"CREATIONTIME/HIGHPART", b"CREATIONTIME/LOWPART"),
    "modified": (b"LASTMODIFICATIONTIME/HIGHPART", b"LASTMODIFICATIONTIME/LOWPART"),
}


def _number(raw: Optional[bytes]) -> int:
    """Like the engine's strtoull(s, &end, 0): decimal or 0x-hex, 0 if absent."""
    if not raw:
        return 0
    try:
        return int(raw, 0)
    except ValueError:
        return 0


def _image(prop, wim, image: int, boot_index: int) -> Dict[str, object]:
    d: Dict[str, object] = {"index": image, "bootable": boot_index == image}
    for key, name in _STRINGS.items():
        raw = prop(wim, image, name)
        d[key] = raw.decode("utf-8") if raw is not None else None
    for key, name in _NUMBERS.items():
        d[key] = _number(prop(wim, image, name))
    for key, (high, low) in _TIMES.items():
        d[key] = (_number(prop(wim, image, high)) << 32) | (_number(prop(wim, image, low))
                                                           & 0xFFFFFFFF)
    languages = []
    while True:
        raw = prop(wim, image, b"WINDOWS/LANGUAGES/LANGUAGE[%d]" % (len(languages) + 1))
        if raw is None:
            break
        languages.append(raw.decode("utf-8"))
    d["languages"] = languages
    default = prop(wim, image, b"WINDOWS/LANGUAGES/DEFAULT")
    d["default_language"] = default.decode("utf-8") if default is not None else None
    return d
