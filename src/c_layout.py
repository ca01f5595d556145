"""Where the C sources of the extension, the portable engine and the mount
server are.

The one list of them: setup.py builds from it, and so do the tests' and
the scripts' own C builds (tests/c programs, the sanitized extension), so a
file added to a folder of src/engine is built everywhere at once.  Paths are
relative to the checkout unless a root is given.

  src/ext/      the CPython extension: every .c file below it (servicing/ too)
  src/windows/  the DLL choice, linked into the extension on Windows only
  src/engine/   the portable DISM engine, linked into the extension: every .c
                file below it (core/, wim/, formats/, offline/, servicing/)
  src/mountd/   the dism-mountd program that serves mounts (its own program;
                it uses none of the engine's files)
"""
from __future__ import annotations

import os

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTENSION_DIR = os.path.join("src", "ext")
WINDOWS_DIR = os.path.join("src", "windows")
ENGINE_DIR = os.path.join("src", "engine")
MOUNTD_DIR = os.path.join("src", "mountd")
# dismapi.h, and the engine's folders named from its top ("wim/wim.h").
INCLUDE_DIRS = [os.path.join("src", "include"), ENGINE_DIR]


def c_files(folder: str, root: str | os.PathLike[str] = "") -> list[str]:
    """Every .c file below `folder` (relative to the checkout), sorted."""
    found = []
    for parent, dirs, files in os.walk(os.path.join(CHECKOUT, folder)):
        dirs.sort()
        relative = os.path.relpath(parent, CHECKOUT)
        found += [os.path.join(relative, name) for name in files if name.endswith(".c")]
    return [os.path.join(root, path) for path in sorted(found)]


def extension_sources(root: str | os.PathLike[str] = "") -> list[str]:
    return c_files(EXTENSION_DIR, root)


def windows_sources(root: str | os.PathLike[str] = "") -> list[str]:
    return c_files(WINDOWS_DIR, root)


def engine_sources(root: str | os.PathLike[str] = "") -> list[str]:
    return c_files(ENGINE_DIR, root)


def mountd_sources(root: str | os.PathLike[str] = "") -> list[str]:
    return c_files(MOUNTD_DIR, root)


def inf_reader_sources(root: str | os.PathLike[str] = "") -> list[str]:
    """The INF reader alone (libc only), as tests/c/inf_check.c links it."""
    return c_files(os.path.join(ENGINE_DIR, "formats", "inf"), root)


def xml_scanner_sources(root: str | os.PathLike[str] = "") -> list[str]:
    """The XML scanner alone (libc only), as tests/c/xml_check.c links it."""
    return c_files(os.path.join(ENGINE_DIR, "formats", "xml"), root)


def include_dirs(root: str | os.PathLike[str] = "") -> list[str]:
    return [os.path.join(root, path) for path in INCLUDE_DIRS]
