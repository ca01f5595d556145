"""Builders of test fixtures: registry hives and Windows-shaped WIM images.

:mod:`dism.testing.hive` is pure Python, and so is :mod:`dism.testing.servicing`,
which describes the servicing content of an image (packages, features,
capabilities, drivers, provisioned appx packages).  The WIM builders in
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
    sample_servicing_spec,
    sample_specs,
)
from .servicing import AppxSpec, DeviceSpec, DriverSpec, FeatureSpec, PackageSpec

__all__ = [
    "AppxSpec",
    "DeviceSpec",
    "DriverSpec",
    "FeatureSpec",
    "LANGUAGE_LCIDS",
    "PackageSpec",
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
    "sample_servicing_spec",
    "sample_specs",
    "write_hive",
]
