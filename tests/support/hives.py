"""Independent readers for what dism.testing writes: registry hives read back
through the hivex C library (libhivex.so.0, through ctypes), and a WIM's XML
metadata as wimlib-imagex reports it.  They share no code with dism.testing,
so a check made with them is not the builder agreeing with itself."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import subprocess
import xml.etree.ElementTree as ET
from ctypes import POINTER, c_char_p, c_int, c_int32, c_size_t, c_void_p
from pathlib import Path


_HIVEX_SIGNATURES = {
    # Prototypes from /usr/include/hivex.h; hive_node_h and hive_value_h are
    # size_t, and returned strings/arrays are malloc'd (freed with free()).
    "hivex_open": ([c_char_p, c_int], c_void_p),
    "hivex_close": ([c_void_p], c_int),
    "hivex_root": ([c_void_p], c_size_t),
    "hivex_node_name": ([c_void_p, c_size_t], c_void_p),
    "hivex_node_children": ([c_void_p, c_size_t], POINTER(c_size_t)),
    "hivex_node_get_child": ([c_void_p, c_size_t, c_char_p], c_size_t),
    "hivex_node_values": ([c_void_p, c_size_t], POINTER(c_size_t)),
    "hivex_value_key": ([c_void_p, c_size_t], c_void_p),
    "hivex_value_type": ([c_void_p, c_size_t, POINTER(c_int), POINTER(c_size_t)], c_int),
    "hivex_value_value": ([c_void_p, c_size_t, POINTER(c_int), POINTER(c_size_t)], c_void_p),
    "hivex_value_string": ([c_void_p, c_size_t], c_void_p),
    "hivex_value_multiple_strings": ([c_void_p, c_size_t], POINTER(c_void_p)),
    "hivex_value_dword": ([c_void_p, c_size_t], c_int32),
}


def load_hivex() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL("libhivex.so.0", use_errno=True)
    except OSError:
        return None
    for function, (argtypes, restype) in _HIVEX_SIGNATURES.items():
        getattr(lib, function).argtypes = argtypes
        getattr(lib, function).restype = restype
    return lib


@functools.cache
def _free() -> ctypes._CFuncPtr:
    """libc's free(), for the strings and arrays hivex hands over."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.free.argtypes = [c_void_p]
    libc.free.restype = None
    return libc.free


class HiveReader:
    """An open hive.  Node handles are file offsets of nk cells in hivex."""

    def __init__(self, lib: ctypes.CDLL, path: Path) -> None:
        self._lib = lib
        self._handle = lib.hivex_open(os.fsencode(path), 0)
        if not self._handle:
            errno = ctypes.get_errno()
            raise OSError(errno, f"hivex_open({path}): {os.strerror(errno)}")

    def __enter__(self) -> HiveReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lib.hivex_close(self._handle)

    def root(self) -> int:
        return self._lib.hivex_root(self._handle)

    def child(self, node: int, name: str) -> int:
        """The named subkey of `node`, or 0 when there is none."""
        return self._lib.hivex_node_get_child(self._handle, node, name.encode("utf-8"))

    def key(self, *names: str) -> int:
        node = self.root()
        for name in names:
            node = self.child(node, name)
            assert node, f"subkey {name!r} not found on the way to {names}"
        return node

    def name(self, node: int) -> str:
        return self._take_string(self._lib.hivex_node_name(self._handle, node))

    def children(self, node: int) -> list[int]:
        return self._take_handles(self._lib.hivex_node_children(self._handle, node))

    def values(self, node: int) -> dict[str, int]:
        handles = self._take_handles(self._lib.hivex_node_values(self._handle, node))
        return {self._take_string(self._lib.hivex_value_key(self._handle, value)): value
                for value in handles}

    def value_type(self, value: int) -> tuple[int, int]:
        reg_type, length = c_int(), c_size_t()
        assert self._lib.hivex_value_type(self._handle, value, reg_type, length) == 0
        return reg_type.value, length.value

    def raw(self, value: int) -> tuple[int, bytes]:
        reg_type, length = c_int(), c_size_t()
        pointer = self._lib.hivex_value_value(self._handle, value, reg_type, length)
        assert pointer, f"hivex_value_value failed: {os.strerror(ctypes.get_errno())}"
        data = ctypes.string_at(pointer, length.value)
        _free()(pointer)
        return reg_type.value, data

    def string(self, value: int) -> str:
        return self._take_string(self._lib.hivex_value_string(self._handle, value))

    def dword(self, value: int) -> int:
        return self._lib.hivex_value_dword(self._handle, value) & 0xFFFFFFFF

    def multiple_strings(self, value: int) -> list[str]:
        array = self._lib.hivex_value_multiple_strings(self._handle, value)
        assert array, f"hivex_value_multiple_strings failed: {os.strerror(ctypes.get_errno())}"
        strings = []
        for item in array:
            if not item:
                break
            strings.append(self._take_string(item))
        _free()(ctypes.cast(array, c_void_p))
        # Recent hivex reads the list's final NUL as one more, empty, string.
        if strings and strings[-1] == "":
            strings.pop()
        return strings

    @staticmethod
    def _take_string(pointer: int | None) -> str:
        assert pointer, f"hivex call failed: {os.strerror(ctypes.get_errno())}"
        text = ctypes.string_at(pointer).decode("utf-8")
        _free()(pointer)
        return text

    @staticmethod
    def _take_handles(array: ctypes._Pointer) -> list[int]:
        assert array, f"hivex call failed: {os.strerror(ctypes.get_errno())}"
        handles = []
        for handle in array:
            if handle == 0:
                break
            handles.append(handle)
        _free()(ctypes.cast(array, c_void_p))
        return handles


def wim_xml(wimlib_imagex: str, wim: Path) -> ET.Element:
    output = subprocess.run([wimlib_imagex, "info", "--xml", str(wim)],
                            check=True, capture_output=True).stdout
    return ET.fromstring(output.decode("utf-16"))    # UTF-16LE with a BOM
