"""Pure-Python writer of Windows registry hive files ("regf" format, version 1.5).

The tree to write is a nested mapping: a mapping value is a subkey, anything
else is a registry value::

    write_hive("SOFTWARE", {
        "Microsoft": {
            "Windows NT": {
                "CurrentVersion": {
                    "ProductName": "Windows 10 Pro",     # REG_SZ
                    "UBR": 3803,                         # REG_DWORD
                    "": "default value of the key",      # the key's default value
                },
            },
        },
    })

Python values map to registry types as follows: ``str`` -> REG_SZ, ``int`` ->
REG_DWORD, a list or tuple of ``str`` -> REG_MULTI_SZ, ``bytes`` -> REG_BINARY;
any other type can be given explicitly as a :class:`RegValue` (see also
:func:`expand_sz`, :func:`qword` and :func:`multi_sz`).

Layout summary (all integers little-endian): a 4096-byte base block, then
"hbins" whose sizes are multiples of 4096.  An hbin holds cells; each cell
starts with an int32 size (negative while in use) and is 8-byte aligned.  All
cell offsets stored in the file are relative to the start of the first hbin.
The output is deterministic: the same tree and timestamp give the same bytes.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Union

__all__ = [
    "REG_BINARY",
    "REG_DWORD",
    "REG_EXPAND_SZ",
    "REG_MULTI_SZ",
    "REG_NONE",
    "REG_QWORD",
    "REG_SZ",
    "RegValue",
    "expand_sz",
    "hive_bytes",
    "multi_sz",
    "qword",
    "write_hive",
]

REG_NONE = 0
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11

# 2023-01-01T00:00:00Z as a FILETIME (100 ns ticks since 1601-01-01), so that
# hives are reproducible byte for byte unless a timestamp is asked for.
DEFAULT_TIMESTAMP = 133_170_048_000_000_000


@dataclass(frozen=True)
class RegValue:
    """A registry value given by its raw type code and data bytes."""

    type: int
    data: bytes


ValueLike = Union[RegValue, str, int, bytes, bytearray, list[str], tuple[str, ...]]
HiveTree = Mapping[str, Union["HiveTree", ValueLike]]
# A key still being filled in: a plain dict, which is a HiveTree too.
HiveKey = dict[str, Union[HiveTree, ValueLike]]


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def expand_sz(text: str) -> RegValue:
    """A REG_EXPAND_SZ value (a string with %VARIABLE% references)."""
    return RegValue(REG_EXPAND_SZ, _utf16z(text))


def qword(number: int) -> RegValue:
    """A REG_QWORD value (unsigned 64-bit)."""
    if not 0 <= number < 2**64:
        raise ValueError(f"REG_QWORD out of range: {number}")
    return RegValue(REG_QWORD, struct.pack("<Q", number))


def multi_sz(strings: Iterable[str]) -> RegValue:
    """A REG_MULTI_SZ value: each string NUL-terminated, then a final NUL."""
    strings = list(strings)
    if not all(isinstance(s, str) for s in strings):
        raise TypeError(f"REG_MULTI_SZ needs str items: {strings!r}")
    return RegValue(REG_MULTI_SZ, b"".join(_utf16z(s) for s in strings) + b"\0\0")


def _to_reg_value(value: ValueLike) -> RegValue:
    if isinstance(value, RegValue):
        return value
    if isinstance(value, str):
        return RegValue(REG_SZ, _utf16z(value))
    if isinstance(value, int):
        if not 0 <= value < 2**32:
            raise ValueError(f"REG_DWORD out of range: {value}")
        return RegValue(REG_DWORD, struct.pack("<I", value))
    if isinstance(value, (list, tuple)):
        return multi_sz(value)
    if isinstance(value, (bytes, bytearray)):
        return RegValue(REG_BINARY, bytes(value))
    raise TypeError(f"cannot store {type(value).__name__} in the registry: {value!r}")


# --- on-disk constants ------------------------------------------------------

_BLOCK = 4096                 # base block size and hbin size granularity
_BIN_HEADER_SIZE = 32
_NO_CELL = 0xFFFFFFFF         # "no cell" marker in offset fields

_KEY_HIVE_ENTRY = 0x0004
_KEY_NO_DELETE = 0x0008
_KEY_COMP_NAME = 0x0020       # key name stored as 8-bit characters
_VALUE_COMP_NAME = 0x0001     # value name stored as 8-bit characters

_NK_HEADER = struct.Struct("<2sHQ15I2H")     # everything before the name
_VK_HEADER = struct.Struct("<2sHIIIHH")
_SK_HEADER = struct.Struct("<2sHIIII")
_DATA_INLINE = 0x80000000     # vk data size flag: data lives in the offset field
_BIG_DATA_SEGMENT = 16344     # values larger than this are split ("db" record)
_MAX_LEAF_ENTRIES = 500       # an "lh" list of 500 entries still fits one 4 KiB bin
_MAX_KEY_NAME = 255           # characters, as limited by Windows
_MAX_VALUE_NAME = 16383


def _align(size: int, alignment: int) -> int:
    return (size + alignment - 1) // alignment * alignment


# --- names ------------------------------------------------------------------

def _encode_name(name: str) -> tuple[bytes, bool]:
    """Return the stored form of a key/value name and whether it is 8-bit."""
    if name.isascii():
        return name.encode("ascii"), True
    return name.encode("utf-16-le"), False


def _upcase_units(name: str) -> list[int]:
    """UTF-16 code units of `name`, upper-cased one unit at a time.

    Windows compares and hashes names per UTF-16 unit with a 1:1 upcase
    table, so multi-character upper forms (German sharp s -> "SS") are kept
    as they are.
    """
    encoded = name.encode("utf-16-le")
    units = struct.unpack(f"<{len(encoded) // 2}H", encoded)
    return [_upcase_unit(unit) for unit in units]


def _upcase_unit(unit: int) -> int:
    upper = chr(unit).upper()
    if len(upper) == 1 and ord(upper) <= 0xFFFF:
        return ord(upper)
    return unit


def _name_hash(name: str) -> int:
    """The hash stored next to each entry of an "lh" subkey list."""
    value = 0
    for unit in _upcase_units(name):
        value = (value * 37 + unit) & 0xFFFFFFFF
    return value


def _check_key_name(name: str) -> None:
    if not name or "\\" in name or len(name) > _MAX_KEY_NAME:
        raise ValueError(
            f"invalid key name {name!r}: must be 1..{_MAX_KEY_NAME} characters without '\\'")


def _check_value_name(name: str) -> None:
    if len(name) > _MAX_VALUE_NAME:
        raise ValueError(f"value name longer than {_MAX_VALUE_NAME} characters: {name[:40]!r}...")


# --- cell allocation ----------------------------------------------------------

class _CellHeap:
    """Lays cells out in hbins; a cell never crosses a bin boundary.

    Bins are 4 KiB unless a single cell needs more.  The unused tail of a bin
    becomes one free cell (positive size), as in hives written by Windows.
    """

    def __init__(self, timestamp: int) -> None:
        self._data = bytearray()
        self._cursor = 0
        self._bin_end = 0
        self._timestamp = timestamp

    def reserve(self, payload_size: int) -> int:
        """Allocate a cell for `payload_size` bytes, to be filled in later."""
        cell_size = _align(4 + payload_size, 8)
        if self._cursor + cell_size > self._bin_end:
            self._close_bin()
            self._open_bin(cell_size)
        offset = self._cursor
        struct.pack_into("<i", self._data, offset, -cell_size)
        self._cursor += cell_size
        return offset

    def fill(self, offset: int, payload: bytes) -> None:
        capacity = -struct.unpack_from("<i", self._data, offset)[0] - 4
        if len(payload) > capacity:
            raise AssertionError(f"cell at {offset:#x} too small for {len(payload)} bytes")
        self._data[offset + 4:offset + 4 + len(payload)] = payload

    def add(self, payload: bytes, *, slack: int = 0) -> int:
        """Allocate and fill a cell; `slack` extra bytes stay zero after the payload."""
        offset = self.reserve(len(payload) + slack)
        self.fill(offset, payload)
        return offset

    def finish(self) -> bytes:
        self._close_bin()
        return bytes(self._data)

    def _open_bin(self, cell_size: int) -> None:
        start = len(self._data)
        size = max(_BLOCK, _align(_BIN_HEADER_SIZE + cell_size, _BLOCK))
        self._data.extend(bytes(size))
        # "hbin", own offset, size, 8 reserved bytes, FILETIME, 4 spare bytes.
        struct.pack_into("<4sIIIIQI", self._data, start,
                         b"hbin", start, size, 0, 0, self._timestamp, 0)
        self._cursor = start + _BIN_HEADER_SIZE
        self._bin_end = start + size

    def _close_bin(self) -> None:
        if self._cursor < self._bin_end:
            struct.pack_into("<i", self._data, self._cursor, self._bin_end - self._cursor)
        self._cursor = self._bin_end


# --- security descriptor --------------------------------------------------------

def _sid(*sub_authorities: int) -> bytes:
    """A binary SID in the NT authority (S-1-5-...)."""
    return (struct.pack("<BB", 1, len(sub_authorities)) + (5).to_bytes(6, "big")
            + struct.pack(f"<{len(sub_authorities)}I", *sub_authorities))


def _security_descriptor() -> bytes:
    """Self-relative descriptor: owner Administrators, group SYSTEM, NULL DACL.

    A present-but-NULL DACL grants everyone full access, which is all a test
    hive needs; the owner and group keep tools that display them happy.
    """
    owner = _sid(32, 544)                       # BUILTIN\Administrators
    group = _sid(18)                            # NT AUTHORITY\SYSTEM
    se_self_relative, se_dacl_present = 0x8000, 0x0004
    header_size = 20
    header = struct.pack("<BBHIIII", 1, 0, se_self_relative | se_dacl_present,
                         header_size, header_size + len(owner), 0, 0)
    return header + owner + group


# --- hive layout ------------------------------------------------------------------

@dataclass(frozen=True)
class _ValueStats:
    list_offset: int
    count: int
    max_name_size: int   # in UTF-16 bytes
    max_data_size: int


class _HiveBuilder:
    """Writes the key tree into cells, parents before their children."""

    def __init__(self, timestamp: int) -> None:
        self._heap = _CellHeap(timestamp)
        self._timestamp = timestamp
        self._key_count = 0
        self._security = _security_descriptor()
        self._sk_offset = _NO_CELL

    def build(self, tree: HiveTree, root_name: str) -> tuple[int, bytes]:
        """Return (root cell offset, hbin area)."""
        _check_key_name(root_name)
        # The root goes first (offset 0x20) like in hives written by Windows.
        root = self._reserve_key(root_name)
        self._sk_offset = self._heap.reserve(_SK_HEADER.size + len(self._security))
        self._fill_key(root, root_name, tree, parent=_NO_CELL,
                       extra_flags=_KEY_HIVE_ENTRY | _KEY_NO_DELETE)
        # One security cell shared by every key: its list links point to itself.
        self._heap.fill(self._sk_offset, _SK_HEADER.pack(
            b"sk", 0, self._sk_offset, self._sk_offset, self._key_count,
            len(self._security)) + self._security)
        return root, self._heap.finish()

    def _reserve_key(self, name: str) -> int:
        return self._heap.reserve(_NK_HEADER.size + len(_encode_name(name)[0]))

    def _write_key(self, name: str, tree: HiveTree, parent: int) -> int:
        offset = self._reserve_key(name)
        self._fill_key(offset, name, tree, parent, extra_flags=0)
        return offset

    def _fill_key(self, offset: int, name: str, tree: HiveTree,
                  parent: int, extra_flags: int) -> None:
        self._key_count += 1
        subkeys, values = _split_entries(tree)
        value_stats = self._write_values(values)
        children = [(child, self._write_key(child, subtree, offset))
                    for child, subtree in subkeys.items()]
        subkey_list = self._write_subkey_list(children) if children else _NO_CELL
        max_subkey_name = max((len(child.encode("utf-16-le")) for child in subkeys), default=0)

        stored_name, compressed = _encode_name(name)
        flags = extra_flags | (_KEY_COMP_NAME if compressed else 0)
        header = _NK_HEADER.pack(
            b"nk", flags, self._timestamp,
            0,                              # access bits
            parent,
            len(children), 0,               # subkeys, volatile subkeys
            subkey_list, _NO_CELL,          # subkey list, volatile subkey list
            value_stats.count, value_stats.list_offset,
            self._sk_offset,
            _NO_CELL,                       # class name
            max_subkey_name,                # u16 length + u16 flags (0)
            0,                              # largest subkey class name
            value_stats.max_name_size, value_stats.max_data_size,
            0,                              # workvar
            len(stored_name), 0)            # name length, class name length
        self._heap.fill(offset, header + stored_name)

    def _write_values(self, values: dict[str, RegValue]) -> _ValueStats:
        if not values:
            return _ValueStats(_NO_CELL, 0, 0, 0)
        vk_offsets = [self._write_value(name, value) for name, value in values.items()]
        list_offset = self._heap.add(struct.pack(f"<{len(vk_offsets)}I", *vk_offsets))
        return _ValueStats(
            list_offset, len(values),
            max(len(name.encode("utf-16-le")) for name in values),
            max(len(value.data) for value in values.values()))

    def _write_value(self, name: str, value: RegValue) -> int:
        stored_name, compressed = _encode_name(name)
        size = len(value.data)
        if size <= 4:
            # Small data lives in the vk cell itself, in place of the offset.
            size_field = size | _DATA_INLINE
            (data_field,) = struct.unpack("<I", value.data.ljust(4, b"\0"))
        else:
            size_field, data_field = size, self._write_data(value.data)
        header = _VK_HEADER.pack(b"vk", len(stored_name), size_field, data_field,
                                 value.type, _VALUE_COMP_NAME if compressed else 0, 0)
        return self._heap.add(header + stored_name)

    def _write_data(self, data: bytes) -> int:
        if len(data) <= _BIG_DATA_SEGMENT:
            return self._heap.add(data)
        # Big data: a "db" record points at a list of segment cells.  Every
        # segment cell keeps 4 spare bytes after its data, as Windows does (a
        # full segment is a 16352-byte cell); hivex relies on that slack.
        segments = [self._heap.add(data[start:start + _BIG_DATA_SEGMENT], slack=4)
                    for start in range(0, len(data), _BIG_DATA_SEGMENT)]
        segment_list = self._heap.add(struct.pack(f"<{len(segments)}I", *segments))
        return self._heap.add(struct.pack("<2sHI", b"db", len(segments), segment_list))

    def _write_subkey_list(self, children: list[tuple[str, int]]) -> int:
        # Readers binary-search subkey lists, so entries are sorted the way
        # Windows compares names: case-insensitively, by UTF-16 code unit.
        ordered = sorted(children, key=lambda child: _upcase_units(child[0]))
        leaves = [self._write_lh(ordered[start:start + _MAX_LEAF_ENTRIES])
                  for start in range(0, len(ordered), _MAX_LEAF_ENTRIES)]
        if len(leaves) == 1:
            return leaves[0]
        # An "ri" (index root) list just chains several leaf lists in order.
        return self._heap.add(struct.pack(f"<2sH{len(leaves)}I", b"ri", len(leaves), *leaves))

    def _write_lh(self, children: list[tuple[str, int]]) -> int:
        entries = b"".join(struct.pack("<II", offset, _name_hash(name))
                           for name, offset in children)
        return self._heap.add(struct.pack("<2sH", b"lh", len(children)) + entries)


def _split_entries(tree: HiveTree) -> tuple[dict[str, HiveTree], dict[str, RegValue]]:
    """Separate subkeys from values, rejecting names equal up to case."""
    subkeys: dict[str, HiveTree] = {}
    values: dict[str, RegValue] = {}
    seen_keys: set[tuple[int, ...]] = set()
    seen_values: set[tuple[int, ...]] = set()
    for name, item in tree.items():
        if not isinstance(name, str):
            raise TypeError(f"registry names must be str, not {type(name).__name__}")
        is_key = isinstance(item, Mapping)
        (_check_key_name if is_key else _check_value_name)(name)
        seen = seen_keys if is_key else seen_values
        folded = tuple(_upcase_units(name))
        if folded in seen:
            kind = "subkey" if is_key else "value"
            raise ValueError(f"duplicate {kind} name (registry names ignore case): {name!r}")
        seen.add(folded)
        if isinstance(item, Mapping):   # is_key, spelled so that the type checker narrows item
            subkeys[name] = item
        else:
            values[name] = _to_reg_value(item)
    return subkeys, values


# --- base block and public API ----------------------------------------------------

def _base_block(root_offset: int, hbins_size: int, name: str, timestamp: int) -> bytes:
    file_name = name.encode("utf-16-le")
    if len(file_name) > 64:
        raise ValueError(f"hive name {name!r} is longer than 64 bytes in UTF-16")
    block = bytearray(_BLOCK)
    # Equal sequence numbers mean the hive was written out completely.
    struct.pack_into("<4sIIQIIIIIII", block, 0,
                     b"regf", 1, 1, timestamp,
                     1, 5,            # format version 1.5 (needed for "lh" lists)
                     0, 1,            # primary file, direct memory load
                     root_offset, hbins_size,
                     1)               # clustering factor
    block[0x30:0x30 + len(file_name)] = file_name
    struct.pack_into("<I", block, 0x1FC, _header_checksum(block))
    return bytes(block)


def _header_checksum(block: bytes | bytearray) -> int:
    checksum = 0
    for (dword,) in struct.iter_unpack("<I", block[:0x1FC]):
        checksum ^= dword
    # 0 and -1 are reserved, so Windows nudges them.
    if checksum == 0:
        return 1
    if checksum == 0xFFFFFFFF:
        return 0xFFFFFFFE
    return checksum


def hive_bytes(tree: HiveTree, *, name: str = "SOFTWARE", root_name: str = "ROOT",
               timestamp: int = DEFAULT_TIMESTAMP) -> bytes:
    """Serialize `tree` into the bytes of a registry hive file.

    `name` is the file name recorded in the header, `root_name` the name of
    the root key, and `timestamp` (a FILETIME) is used for every
    last-written time in the hive.
    """
    root_offset, hbins = _HiveBuilder(timestamp).build(tree, root_name)
    return _base_block(root_offset, len(hbins), name, timestamp) + hbins


def write_hive(path: str | os.PathLike[str], tree: HiveTree, *, name: str = "SOFTWARE",
               root_name: str = "ROOT", timestamp: int = DEFAULT_TIMESTAMP) -> None:
    """Write `tree` as a registry hive file at `path` (see :func:`hive_bytes`)."""
    Path(path).write_bytes(hive_bytes(tree, name=name, root_name=root_name,
                                      timestamp=timestamp))
