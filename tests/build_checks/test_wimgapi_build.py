"""WIMGAPI's Windows build, checked on Linux: src/include/wimgapi.h and
src/windows/wimgapi.def against mingw-w64's independent import library
libwimgapi.a, and the header's layout checks for x86, x64 and ARM64.

No Windows machine runs here and no ADK header is at hand (mingw-w64 has no
<wimgapi.h>), so the prototypes are held against the only independent
description of the DLL's ABI there is: libwimgapi.a, whose x86 symbols carry
each function's __stdcall argument size (`_WIMCreateFile@24`).

* An i686 program calling every function wimgapi.h declares links against
  -lwimgapi: a prototype with a wrong argument size asks for a symbol
  (`_WIMSplitFile@20`) the library does not have, and the link fails, which
  is shown live with the prototype Microsoft's own WIMSplitFile page prints
  (the part size by value) and with one extra parameter.
* The export list the import library is made from (wimgapi.def) names the
  same functions with the same sizes as libwimgapi.a, as the header, and as
  the table library.c checks the loaded DLL against.
* The layout checks at the end of wimgapi.h (WIM_INFO's offsets and size,
  WIN32_FIND_DATAW's size) compile with -Werror for x86 and x64 (mingw-w64's
  gcc) and ARM64 (clang, --target=aarch64-w64-windows-gnu, on mingw-w64's
  headers), with the offsets of the WIN32_FIND_DATAW fields the binding
  reads; one figure changed fails each target.

The import libraries themselves are tested in test_import_libraries.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import import_library
from support import REPO, windows_build
from support.wintools import clang_with_mingw_headers, mingw_tool, missing, run

INCLUDE = windows_build.INCLUDE
HEADER = INCLUDE / "wimgapi.h"
WIMGAPI_DEF = windows_build.WIMGAPI_DEF
LIBRARY_C = REPO / "src" / "windows" / "library.c"
MACHINES = {"x86": "__i386__", "x64": "__x86_64__", "arm64": "__aarch64__"}
POINTER = {"x86": 4, "x64": 8, "arm64": 8}
compiled_params = pytest.mark.parametrize("arch", sorted(MACHINES))
linked_params = pytest.mark.parametrize("arch", ["x64", "x86"])


tool = mingw_tool


def libwimgapi(arch: str) -> Path:
    library = Path("/usr") / windows_build.TARGETS[arch]["triplet"] / "lib" / "libwimgapi.a"
    if not library.is_file():
        missing(f"mingw-w64's {library}")
    return library


def c_compiler(arch: str) -> list:
    if arch == "arm64":
        return [*clang_with_mingw_headers("aarch64-w64-windows-gnu"), "-ferror-limit=0"]
    return [tool(arch, "gcc")]


def compile_c(arch: str, source: Path, out: Path, include: Path = INCLUDE):
    return run([*c_compiler(arch), *windows_build.STRICT, "-pedantic", f"-I{include}",
                "-c", source, "-o", out])


def header_copy(tmp_path: Path, text: str) -> Path:
    """src/include's win32.h with the given wimgapi.h."""
    copy = tmp_path / "include"
    copy.mkdir()
    (copy / "win32.h").write_text((INCLUDE / "win32.h").read_text())
    (copy / "wimgapi.h").write_text(text)
    return copy


# ---------------------------------------------------------------------------
# Prototypes against libwimgapi.a
# ---------------------------------------------------------------------------

PROTOTYPE = re.compile(r"^\w+ WINAPI (WIM\w+)\(([^;]*)\);", re.M | re.S)


def parameter_types(header_text: str) -> dict[str, list[str]]:
    """WIM* function -> the types of its parameters, as the header declares
    them (SAL annotations and parameter names dropped)."""
    found = {}
    for name, params in PROTOTYPE.findall(header_text):
        params = params.strip()
        if params in ("", "void"):
            found[name] = []
            continue
        found[name] = [re.sub(r"^_\w+_\s+", "", param.strip()).rsplit(None, 1)[0]
                       for param in params.split(",")]
    return found


def prototypes(header_text: str) -> dict[str, int]:
    """WIM* function -> its number of parameters."""
    return {name: len(types) for name, types in parameter_types(header_text).items()}


def calling_program(header_text: str) -> str:
    """A program that calls every WIM* function of the header with a zero
    of each parameter's type (compiled and linked, never run)."""
    calls = "\n".join(
        f"    if (argc < 0) (void){name}({', '.join(f'({t}){{0}}' for t in types)});"
        for name, types in parameter_types(header_text).items())
    return ('#include "wimgapi.h"\nint main(int argc, char **argv)\n{\n    (void)argv;\n'
            f"{calls}\n    return 0;\n}}\n")


def link_calling_program(arch: str, tmp_path: Path, header_text: str):
    include = INCLUDE if header_text == HEADER.read_text() else header_copy(tmp_path,
                                                                            header_text)
    source = tmp_path / "calls.c"
    source.write_text(calling_program(header_text))
    libwimgapi(arch)
    return run([tool(arch, "gcc"), *windows_build.STRICT, f"-I{include}", source,
                "-o", tmp_path / "calls.exe", "-lwimgapi"])


def test_the_header_declares_the_functions_the_binding_uses():
    declared = prototypes(HEADER.read_text())
    assert len(declared) == 19
    assert declared["WIMCreateFile"] == 6 and declared["WIMSplitFile"] == 4


@linked_params
def test_a_program_calling_every_function_links_against_libwimgapi(arch, tmp_path):
    """On x86 this checks every argument size: each call refers to
    `_Name@N` with N from the prototype (x64 has no decoration: names only)."""
    linked = link_calling_program(arch, tmp_path, HEADER.read_text())
    assert linked.returncode == 0, linked.stderr
    if arch == "x86":
        symbols = run([tool(arch, "nm"), tmp_path / "calls.exe"]).stdout
        assert "WIMSplitFile@16" in symbols


@pytest.mark.parametrize("right, wrong, symbol", [
    # The prototype Microsoft's WIMSplitFile page prints: the size by value.
    ("_Inout_ PLARGE_INTEGER PartSize", "_Inout_ LARGE_INTEGER PartSize", "WIMSplitFile@20"),
    ("WIMDeleteImage(_In_ HANDLE Wim, _In_ DWORD ImageIndex)",
     "WIMDeleteImage(_In_ HANDLE Wim, _In_ DWORD ImageIndex, _In_ DWORD Extra)",
     "WIMDeleteImage@12"),
])
def test_a_wrong_argument_size_fails_the_x86_link(right, wrong, symbol, tmp_path):
    header = HEADER.read_text()
    assert header.count(right) == 1
    linked = link_calling_program("x86", tmp_path, header.replace(right, wrong))
    assert linked.returncode != 0
    assert symbol in linked.stderr, linked.stderr


# ---------------------------------------------------------------------------
# The export list of the import library
# ---------------------------------------------------------------------------

def def_exports() -> dict[str, int]:
    return dict(import_library.exports(str(WIMGAPI_DEF)))


def test_export_list_matches_mingw_import_library():
    listed = run([tool("x86", "nm"), libwimgapi("x86")])
    assert listed.returncode == 0, listed.stderr
    theirs = {n: int(s) for n, s in re.findall(r" T _(WIM\w+)@(\d+)$", listed.stdout, re.M)}
    ours = def_exports()
    assert len(ours) == 19
    assert {n: theirs.get(n) for n in ours} == ours


def test_export_list_is_what_the_header_declares():
    """Each function once, with 4 bytes per parameter (every parameter of
    these functions is a pointer or a DWORD on x86)."""
    assert def_exports() == {name: 4 * count
                             for name, count in prototypes(HEADER.read_text()).items()}


def test_export_list_is_what_the_loader_checks():
    text = LIBRARY_C.read_text()
    start = text.index("wimgapi_exports[] = {")
    table = text[start:text.index("};", start)]
    assert re.findall(r'"(\w+)"', table) == list(def_exports())


# ---------------------------------------------------------------------------
# Layout: WIM_INFO and WIN32_FIND_DATAW on x86, x64 and ARM64
# ---------------------------------------------------------------------------

# Offsets of the WIN32_FIND_DATAW fields a WIM_MSG_FILEINFO conversion reads
# (natural alignment: FILETIME is two DWORDs).
FIND_DATA_OFFSETS = {"dwFileAttributes": 0, "ftCreationTime": 4, "ftLastAccessTime": 12,
                     "ftLastWriteTime": 20, "nFileSizeHigh": 28, "nFileSizeLow": 32,
                     "dwReserved0": 36, "cFileName": 44}


def layout_probe(arch: str, tmp_path: Path) -> Path:
    asserts = "\n".join(
        f'_Static_assert(offsetof(WIN32_FIND_DATAW, {field}) == {offset}, "{field}");'
        for field, offset in FIND_DATA_OFFSETS.items())
    source = tmp_path / "layout.c"
    source.write_text('#include "wimgapi.h"\n'
                      f'#ifndef {MACHINES[arch]}\n#error "not the {arch} target"\n#endif\n'
                      f'_Static_assert(sizeof(void *) == {POINTER[arch]}, "target");\n'
                      f"{asserts}\n"
                      "int wim_layout_probe(void) { return (int)sizeof(WIM_INFO); }\n")
    return source


@compiled_params
def test_layout_checks_hold_for_windows(arch, tmp_path):
    built = compile_c(arch, layout_probe(arch, tmp_path), tmp_path / "layout.o")
    assert built.returncode == 0, built.stderr
    assert HEADER.read_text().count("WIMGAPI_LAYOUT_CHECK(") >= 11  # the checks are there


@compiled_params
@pytest.mark.parametrize("right, wrong, message", [
    ("(offsetof(WIM_INFO, Guid) == 520", "(offsetof(WIM_INFO, Guid) == 524",
     "offset of WIM_INFO.Guid"),
    ("sizeof(WIN32_FIND_DATAW) == 592", "sizeof(WIN32_FIND_DATAW) == 596",
     "size of WIN32_FIND_DATAW"),
])
def test_layout_checks_catch_a_wrong_figure(arch, right, wrong, message, tmp_path):
    header = HEADER.read_text()
    assert header.count(right) == 1
    changed = header_copy(tmp_path, header.replace(right, wrong))
    built = compile_c(arch, layout_probe(arch, tmp_path), tmp_path / "wrong.o", changed)
    assert built.returncode != 0
    assert message in built.stderr
