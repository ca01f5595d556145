"""Builders of test fixtures: registry hives and Windows-shaped WIM images.

:mod:`dism.testing.hive` is pure Python.  The WIM builders in
:mod:`dism.testing.images` run ``wimlib-imagex`` (Debian package: wimtools),
which must be on PATH.
"""

from .hive import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_NONE,
    REG_QWORD,
    REG_SZ,
    RegValue,
    expand_sz,
    hive_bytes,
    multi_sz,
    qword,
    write_hive,
)
from .images import (
    LANGUAGE_LCIDS,
    WindowsImageSpec,
    build_wim,
    build_windows_tree,
    sample_specs,
)

__all__ = [
    "LANGUAGE_LCIDS",
    "REG_BINARY",
    "REG_DWORD",
    "REG_EXPAND_SZ",
    "REG_MULTI_SZ",
    "REG_NONE",
    "REG_QWORD",
    "REG_SZ",
    "RegValue",
    "WindowsImageSpec",
    "build_wim",
    "build_windows_tree",
    "expand_sz",
    "hive_bytes",
    "multi_sz",
    "qword",
    "sample_specs",
    "write_hive",
]
