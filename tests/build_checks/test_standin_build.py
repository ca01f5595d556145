"""The stand-in DismApi.dll variants of the Windows lane (tests/windows/standin),
built here with mingw-w64: each exports exactly what it is meant to, by plain
name, so that the lane under Wine (scripts/test-windows.sh) exercises every
function the extension binds, and its variants lack exactly one thing each."""
from __future__ import annotations

import os
import re

import pytest

from support import windows_build

# The optional exports the extension looks up (src/ext/ext.h's enum
# export_id), less the portable engine's own.
EXT_H = windows_build.REPO / "src" / "ext" / "ext.h"


def export_names(dll) -> set:
    dumped = windows_build.run([windows_build.tool("x64", "objdump"), "-p", dll])
    assert dumped.returncode == 0, dumped.stderr
    table = dumped.stdout[dumped.stdout.index("[Ordinal/Name Pointer] Table"):]
    return set(re.findall(r"^\s+\[\s*\d+\] (\w+)$", table, re.M))


def imported_dlls(dll) -> set:
    dumped = windows_build.run([windows_build.tool("x64", "objdump"), "-p", dll])
    return {name.lower() for name in re.findall(r"DLL Name: (\S+)", dumped.stdout)}


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    try:
        return windows_build.build_standins(tmp_path_factory.mktemp("standins"))
    except windows_build.ToolMissing as what:
        if os.environ.get("CI"):
            pytest.fail(f"the stand-in build needs {what} in CI")
        pytest.skip(f"needs {what}")


def test_the_export_lists_cover_what_the_extension_binds():
    optional = re.findall(r"^\s+X_(\w+),$", EXT_H.read_text(), re.M)
    assert len(windows_build.core_exports()) == 29
    portable = [name for name in optional if name.startswith("Portable")]  # engine-only
    assert portable == ["PortableGetSessionImageInfo", "PortableOpenImageFileSession"]
    assert len(windows_build.optional_exports()) == len(optional) - len(portable)
    assert all(name.endswith(x) for name, x in zip(windows_build.optional_exports(), optional))


def test_the_system32_stand_in_exports_every_binding_by_plain_name(standins):
    names = export_names(standins["system32"])
    assert names == set(windows_build.core_exports() + windows_build.optional_exports()
                        + windows_build.STANDIN_QUERIES)
    # Only system DLLs: it must load in any Windows (or Wine) prefix.
    assert imported_dlls(standins["system32"]) <= {"kernel32.dll", "msvcrt.dll"}


def test_each_variant_lacks_exactly_its_one_thing(standins):
    full = export_names(standins["system32"])
    assert export_names(standins["no-optional"]) == full - set(windows_build.optional_exports())
    assert export_names(standins["no-core"]) == full - {windows_build.MISSING_CORE_EXPORT}
    assert export_names(standins["folder"]) == full | {"StandinDependency"}
    assert "standin_dep.dll" in imported_dlls(standins["folder"])
    assert "standin_dep.dll" in imported_dlls(standins["lonely"])
    assert not (standins["lonely"].parent / "standin_dep.dll").exists()
    assert b"V\0S\0_\0V\0E\0R" in standins["planted"].read_bytes()
    assert b"V\0S\0_\0V\0E\0R" not in standins["no-version"].read_bytes()


# --- the stand-in wimgapi.dll (tests/windows/standin/wimgapi) -------------------------------

IMAGING = windows_build.REPO / "src" / "ext" / "imaging"


def test_the_wimgapi_export_list_covers_every_function_the_binding_calls():
    called = set()
    for source in IMAGING.glob("*.c"):
        called |= set(re.findall(r"\b(WIM[A-Z]\w+)\(", source.read_text()))
    assert called <= set(windows_build.wimgapi_exports())
    assert len(windows_build.wimgapi_exports()) == 19


def test_the_wimgapi_stand_ins_export_every_function_by_plain_name(standins):
    full = set(windows_build.wimgapi_exports() + windows_build.WIM_STANDIN_QUERIES)
    for name in windows_build.WIM_STANDIN_VARIANTS:
        assert standins[name].name == "wimgapi.dll"
        lacking = {windows_build.WIM_MISSING_EXPORT} if name == "wimgapi-lacking" else set()
        assert export_names(standins[name]) == full - lacking
        assert imported_dlls(standins[name]) <= {"kernel32.dll", "msvcrt.dll"}
    assert "planted".encode("utf-16-le") in standins["wimgapi-planted"].read_bytes()
    assert "planted".encode("utf-16-le") not in standins["wimgapi"].read_bytes()
