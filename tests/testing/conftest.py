"""Fixtures of the checks of dism.testing: the independent readers they check
the builders' output with (support.hives), skipped where the reader's tool is
not installed."""
from __future__ import annotations

import ctypes
import shutil

import pytest

from support.hives import load_hivex


@pytest.fixture(scope="module")
def hivex() -> ctypes.CDLL:
    lib = load_hivex()
    if lib is None:
        pytest.skip("libhivex.so.0 not available (Debian package libhivex0)")
    return lib


@pytest.fixture(scope="module")
def wimlib_imagex() -> str:
    executable = shutil.which("wimlib-imagex")
    if executable is None:
        pytest.skip("wimlib-imagex not available (Debian package wimtools)")
    return executable
