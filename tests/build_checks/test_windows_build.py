"""The Windows build, checked on Linux with mingw-w64 for x86 and x64, and
compiled for ARM64 with clang on mingw-w64's headers.

No Windows machine runs here, so the Windows half is proven by construction:

* the project header's layout checks (every field offset and size of every
  DISM structure, from src/include/dismapi_layout.h) hold for x86, x64 and
  ARM64, and they do catch a structure that is not packed (x64, ARM64) and
  a wrong figure in the table (each target);
* the same figures hold for mingw-w64's independent <dismapi.h> on each of
  the three, every function it declares is declared by the project header
  with the same parameter types, and the constants both define agree;
* the export list the import library is made from (src/windows/dismapi.def)
  names the same exports, with the same x86 argument sizes, as mingw-w64's
  own import library;
* the whole extension compiles with warnings as errors, links into a
  _dism.pyd against python3.dll (the stable ABI) and a delay-loaded
  DismApi.dll, and the DLL's tables say so; for ARM64 it compiles.

What only a Windows runner can prove (the real DismApi.dll answering) is in
tests/windows/ and .github/workflows/windows.yml.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import import_library
from support import REPO, windows_build
from support.wintools import (MINGW_HEADERS, clang_with_mingw_headers, llvm_tool, mingw_tool,
                              missing, run)

INCLUDE = windows_build.INCLUDE
DEF_FILE = windows_build.DEF_FILE
LIBRARY_C = REPO / "src" / "windows" / "library.c"
# What setup.py builds on Windows: the extension and the DLL choice.
EXTENSION_SOURCES = windows_build.EXTENSION_SOURCES

TARGETS = windows_build.TARGETS
# ARM64 is compiled (never linked) with clang: Debian's mingw-w64 has no
# aarch64 gcc, but its headers serve every target, and clang's
# aarch64-w64-windows-gnu target compiles on them.  It has 8-byte pointers,
# so the x64 column of dismapi_layout.h, as on Microsoft's ARM64 headers.
# (clang's aarch64-pc-windows-msvc target cannot be used: the project
# header includes <windows.h> there, and mingw-w64's headers, the only ones
# here, do not compile for the MSVC targets: "VARARGS not implemented for
# this TARGET" in vadefs.h.)
ARM64 = {"clang_target": "aarch64-w64-windows-gnu", "defines": [], "pointer": 8,
         "machine": "__aarch64__"}
COMPILED = {**TARGETS, "arm64": ARM64}
for _arch, _machine in (("x86", "__i386__"), ("x64", "__x86_64__")):
    TARGETS[_arch]["machine"] = _machine
STRICT = windows_build.STRICT


tool = mingw_tool


def mingw_root(arch: str) -> Path:
    root = Path("/usr") / TARGETS[arch]["triplet"]
    if not (root / "include" / "dismapi.h").is_file():
        missing(f"mingw-w64's dismapi.h under {root}")
    return root


def c_compiler(arch: str) -> list:
    if arch == "arm64":
        # Every failed check reported, as gcc does.
        return [*clang_with_mingw_headers(ARM64["clang_target"]), "-ferror-limit=0"]
    return [tool(arch, "gcc")]


def compile_c(arch: str, source: Path, out: Path, flags=(), includes=(INCLUDE,)):
    cmd = [*c_compiler(arch), *STRICT, *COMPILED[arch]["defines"], *flags,
           *(f"-I{i}" for i in includes), "-c", source, "-o", out]
    return run(cmd)


# Built and linked with mingw-w64: x86 and x64; compiled: ARM64 too.
arch_params = pytest.mark.parametrize("arch", sorted(TARGETS))
compiled_params = pytest.mark.parametrize("arch", sorted(COMPILED))


# ---------------------------------------------------------------------------
# The project header
# ---------------------------------------------------------------------------

def layout_probe(arch: str, tmp_path: Path) -> Path:
    """A file that includes the header, for this target only."""
    source = tmp_path / "layout.c"
    source.write_text('#include "dismapi.h"\n'
                      f'#ifndef {COMPILED[arch]["machine"]}\n#error "not the {arch} target"\n#endif\n'
                      f'_Static_assert(sizeof(void *) == {COMPILED[arch]["pointer"]}, "target");\n'
                      "int dism_layout_probe(void) { return (int)sizeof(DismImageInfo); }\n")
    return source


@compiled_params
def test_header_layout_checks_hold_for_windows(arch, tmp_path):
    built = compile_c(arch, layout_probe(arch, tmp_path), tmp_path / "layout.o",
                      flags=["-pedantic"])
    assert built.returncode == 0, built.stderr


def header_copy(tmp_path: Path, header: str, layout: str) -> Path:
    """src/include with dismapi.h and dismapi_layout.h as given."""
    copy = tmp_path / "include"
    copy.mkdir()
    (copy / "win32.h").write_text((INCLUDE / "win32.h").read_text())
    (copy / "dismapi.h").write_text(header)
    (copy / "dismapi_layout.h").write_text(layout)
    return copy


@pytest.mark.parametrize("arch", ["x64", "arm64"])
def test_layout_checks_catch_a_structure_that_is_not_packed(arch, tmp_path):
    """The checks are live: without #pragma pack(1) the same header fails for
    x64 and ARM64 (on x86 every DISM structure happens to be laid out the
    same either way, which the facts sheet's table shows as well)."""
    header = (INCLUDE / "dismapi.h").read_text()
    pragmas = re.compile(r"^#pragma pack\((?:push, 1|pop)\)$", re.M)
    assert len(pragmas.findall(header)) == 2
    unpacked = header_copy(tmp_path, pragmas.sub("", header),
                           (INCLUDE / "dismapi_layout.h").read_text())
    built = compile_c(arch, layout_probe(arch, tmp_path), tmp_path / "unpacked.o",
                      includes=(unpacked,))
    assert built.returncode != 0
    assert "offset of DismImageInfo.ProductName" in built.stderr
    assert "size of DismFeature" in built.stderr


@compiled_params
def test_layout_checks_catch_a_wrong_offset(arch, tmp_path):
    """One figure of the table off by one, in the column this target reads,
    fails this target's compile and names the field."""
    layout = (INCLUDE / "dismapi_layout.h").read_text()
    right = "X(DismPackage, PackageState, 8, 4)"
    wrong = ("X(DismPackage, PackageState, 8, 5)" if COMPILED[arch]["pointer"] == 4
             else "X(DismPackage, PackageState, 9, 4)")
    assert layout.count(right) == 1
    changed = header_copy(tmp_path, (INCLUDE / "dismapi.h").read_text(),
                          layout.replace(right, wrong))
    built = compile_c(arch, layout_probe(arch, tmp_path), tmp_path / "wrong.o",
                      includes=(changed,))
    assert built.returncode != 0
    assert "offset of DismPackage.PackageState" in built.stderr


def layout_entries():
    """(type, field, x64 offset, x86 offset) from dismapi_layout.h, as the C
    preprocessor expands its table (rows shared by two structures count for
    each)."""
    source = ('#include "dismapi_layout.h"\n'
              "#define ROW(t, f, a, b) @ROW t f a b\n"
              "DISMAPI_ALL_FIELDS(ROW)\n")
    expanded = run(["cc", "-E", "-P", f"-I{INCLUDE}", "-"], input=source)
    assert expanded.returncode == 0, expanded.stderr
    return [(t, f, int(a), int(b))
            for t, f, a, b in re.findall(r"@ROW (\w+) (\w+) (\d+) (\d+)", expanded.stdout)]


def test_layout_table_covers_every_field_of_every_structure():
    header = (INCLUDE / "dismapi.h").read_text()
    packed = header[header.index("\n#pragma pack(push, 1)"):header.index("\n#pragma pack(pop)")]
    declared = {}
    for body, name in re.findall(r"typedef struct _\w+ \{(.*?)\} (\w+);", packed, re.S):
        declared[name] = re.findall(r"(\w+);", body)
    table = {}
    for type_name, field, _, _ in layout_entries():
        table.setdefault(type_name, []).append(field)
    assert declared == table


# ---------------------------------------------------------------------------
# Against mingw-w64's independent declarations
# ---------------------------------------------------------------------------

def mingw_header_path(arch: str) -> Path:
    if arch == "arm64":  # the one header set (mingw-w64-common) of every target
        if not (MINGW_HEADERS / "dismapi.h").is_file():
            missing(f"mingw-w64's dismapi.h under {MINGW_HEADERS}")
        return MINGW_HEADERS / "dismapi.h"
    return mingw_root(arch) / "include" / "dismapi.h"


def mingw_header_flags(arch: str) -> list:
    """mingw declares DismPackageInfoEx with an anonymous DismPackageInfo
    member, a Microsoft extension, which clang also warns about."""
    return ["-fms-extensions"] + (["-Wno-microsoft-anon-tag"] if arch == "arm64" else [])


def mingw_header(arch: str) -> str:
    return mingw_header_path(arch).read_text()


def mingw_structs(arch: str) -> set:
    return set(re.findall(r"\}\s*(Dism\w+)\s*,?\s*\*?\w*;", mingw_header(arch)))


@compiled_params
def test_mingw_structures_have_the_same_layout(arch, tmp_path):
    structs = mingw_structs(arch)
    ours = {t for t, *_ in layout_entries()}
    compared = sorted(structs & ours)
    assert len(compared) >= 14, compared  # all but DismAppxPackage, which mingw lacks
    # Absolute paths: with -I src/include, <dismapi.h> would be our own header.
    lines = ["#include <windows.h>", f'#include "{mingw_header_path(arch)}"',
             f'#include "{INCLUDE / "dismapi_layout.h"}"', "#include <stddef.h>",
             "#define P(n64, n32) (sizeof(void *) == 8 ? (n64) : (n32))",
             "#define CHECK(t, f, a, b) _Static_assert(offsetof(t, f) == P(a, b), #t \".\" #f);",
             "#define SIZE(t, a, b) _Static_assert(sizeof(t) == P(a, b), \"size of \" #t);"]
    lines += [f"DISMAPI_FIELDS_{name}(CHECK)" for name in compared]
    sizes = (INCLUDE / "dismapi_layout.h").read_text()
    for name, a, b in re.findall(r"S\((\w+), (\d+), (\d+)\)", sizes):
        if name in compared:
            lines.append(f"SIZE({name}, {a}, {b})")
    source = tmp_path / "mingw_layout.c"
    source.write_text("\n".join(lines) + "\n")
    built = compile_c(arch, source, tmp_path / "mingw_layout.o", flags=mingw_header_flags(arch),
                      includes=())
    assert built.returncode == 0, built.stderr


def function_names(header_text: str) -> set:
    return set(re.findall(r"HRESULT\s+WINAPI\s+(\w+)\s*\(", header_text))


def prototypes_source(arch: str, tmp_path: Path, our_include: Path) -> Path:
    source = tmp_path / "prototypes.c"
    source.write_text(f'#include <windows.h>\n#include "{mingw_header_path(arch)}"\n'
                      "#define DISMAPI_PROTOTYPES_ONLY\n"
                      f'#include "{our_include / "dismapi.h"}"\n')
    return source


@compiled_params
def test_every_mingw_function_is_declared_alike(arch, tmp_path):
    theirs = function_names(mingw_header(arch))
    ours = function_names((INCLUDE / "dismapi.h").read_text())
    assert len(theirs) >= 30
    assert theirs <= ours, sorted(theirs - ours)
    # Redeclaring a function with any other parameter or return type, or
    # another calling convention, is a "conflicting types" error.
    built = compile_c(arch, prototypes_source(arch, tmp_path, INCLUDE), tmp_path / "p.o",
                      flags=mingw_header_flags(arch), includes=())
    assert built.returncode == 0, built.stderr


@compiled_params
def test_a_differing_prototype_would_be_caught(arch, tmp_path):
    changed = tmp_path / "changed"
    changed.mkdir()
    header = (INCLUDE / "dismapi.h").read_text()
    original = "HRESULT WINAPI DismRemountImage(_In_ PCWSTR MountPath);"
    assert original in header
    (changed / "dismapi.h").write_text(
        header.replace(original, "HRESULT WINAPI DismRemountImage(_In_ UINT MountPath);"))
    shutil.copy(INCLUDE / "dismapi_layout.h", changed)
    shutil.copy(INCLUDE / "win32.h", changed)
    built = compile_c(arch, prototypes_source(arch, tmp_path, changed), tmp_path / "p.o",
                      flags=mingw_header_flags(arch), includes=())
    assert built.returncode != 0
    assert "conflicting types for" in built.stderr and "DismRemountImage" in built.stderr


def our_constants() -> dict:
    """Numeric #defines and enum constants of the project header."""
    text = (INCLUDE / "dismapi.h").read_text()
    values = {}
    for name, value in re.findall(
            r"#define\s+((?:DISM|DISMAPI|CBS)_\w+)\s+\(?(?:\(HRESULT\))?(0x[0-9A-Fa-f]+|\d+)L?\)?",
            text):
        values[name] = int(value, 0)
    for body in re.findall(r"typedef enum _\w+ \{(.*?)\}", text, re.S):
        previous = -1
        for name, value in re.findall(r"(\w+)(?:\s*=\s*(-?\w+))?\s*(?:,|$)", body.strip()):
            if value:
                previous = values[value] if value in values else int(value, 0)
            else:
                previous += 1
            values[name] = previous
    return values


@compiled_params
def test_constants_agree_with_mingw(arch, tmp_path):
    theirs = mingw_header(arch)
    shared = {name: value for name, value in our_constants().items()
              if re.search(rf"\b{name}\b", theirs)}
    assert len(shared) >= 80, len(shared)
    lines = ["#include <windows.h>", f'#include "{mingw_header_path(arch)}"']
    lines += [f'_Static_assert((long long)(int)({name}) == {value}LL || '
              f'(unsigned)({name}) == {value & 0xFFFFFFFF}u, "{name}");'
              for name, value in sorted(shared.items())]
    source = tmp_path / "constants.c"
    source.write_text("\n".join(lines) + "\n")
    built = compile_c(arch, source, tmp_path / "constants.o", flags=mingw_header_flags(arch),
                      includes=())
    assert built.returncode == 0, built.stderr


def def_exports() -> dict:
    """name -> x86 argument bytes, from src/windows/dismapi.def."""
    return dict(import_library.exports(str(DEF_FILE)))


def test_export_list_matches_mingw_import_library():
    listed = run([tool("x86", "nm"), mingw_root("x86") / "lib" / "libdismapi.a"])
    assert listed.returncode == 0, listed.stderr
    theirs = dict((n, int(s)) for n, s in re.findall(r" T _(Dism\w+)@(\d+)$", listed.stdout, re.M))
    ours = def_exports()
    assert len(ours) == 29
    assert {n: theirs.get(n) for n in ours} == ours


def test_export_list_matches_the_exports_the_loader_requires():
    text = LIBRARY_C.read_text()
    table = text[text.index("core_exports[] = {"):text.index("};", text.index("core_exports[]"))]
    assert re.findall(r'"(\w+)"', table) == list(def_exports())


def test_export_list_names_only_functions_the_header_declares():
    documented = (INCLUDE / "dismapi.h").read_text()
    assert set(def_exports()) <= function_names(documented)


# ---------------------------------------------------------------------------
# The whole extension, compiled and linked for Windows
# ---------------------------------------------------------------------------

def compile_extension(arch: str, out_dir: Path) -> list[Path]:
    """Every source setup.py compiles on Windows, as errors on warnings
    (tests/support/windows_build.py, which the Windows lane builds with too)."""
    try:
        if arch == "arm64":
            return windows_build.compile_extension(arch, out_dir, c_compiler(arch),
                                                   ARM64["defines"])
        return windows_build.compile_extension(arch, out_dir)
    except windows_build.ToolMissing as what:
        missing(str(what))


def build_windows_extension(arch: str, out_dir: Path) -> Path:
    try:
        return windows_build.build_windows_extension(arch, out_dir)
    except windows_build.ToolMissing as what:
        missing(str(what))


def pe_tables(arch: str, pyd: Path) -> str:
    dumped = run([tool(arch, "objdump"), "-p", pyd])
    assert dumped.returncode == 0, dumped.stderr
    return dumped.stdout


def dll_names(section: str) -> set:
    return {name.lower() for name in re.findall(r"DLL Name: (\S+)", section)}


@arch_params
def test_extension_builds_and_links_for_windows(arch, tmp_path):
    pyd = build_windows_extension(arch, tmp_path)
    tables = pe_tables(arch, pyd)
    imports = dll_names(tables)
    symbols = run([tool(arch, "nm"), pyd]).stdout
    # DismApi.dll is delay-loaded, so the package chooses it before any call:
    # it is not in the import table, and its calls go through the delay-load
    # helper, whose hook (library.c) hands over the chosen DLL.  GNU ld
    # leaves the PE header's delay-import directory entry empty, so the
    # symbols are where this shows; MSVC's /DELAYLOAD fills the entry too.
    assert "dismapi.dll" not in imports
    assert re.search(r" __DELAY_IMPORT_DESCRIPTOR_\w*libdismapi_delay", symbols)
    # wimgapi.dll too: the WIMGAPI binding's calls are bound at the first
    # one, by the same hook, to System32's copy only.
    assert "wimgapi.dll" not in imports
    assert re.search(r" __DELAY_IMPORT_DESCRIPTOR_\w*libwimgapi_delay", symbols)
    assert re.search(r" _{2,3}delayLoadHelper2(@8)?$", symbols, re.M)
    assert re.search(r" _{2,3}pfnDliNotifyHook2$", symbols, re.M)
    # The stable ABI: python3.dll, never a versioned python3XY.dll.
    assert "python3.dll" in imports
    assert not any(re.fullmatch(r"python3\d+\.dll", n) for n in imports)
    assert re.search(r"\bPyInit__dism\b", tables)
    # The optional exports are looked up by name at run time, not imported.
    for optional in ("_DismGetProvisionedAppxPackages", "DismAddLanguage",
                     "DismGetCapabilities"):
        assert not re.search(rf"__imp__?{optional}\b", symbols)


def test_extension_compiles_for_arm64(tmp_path):
    """The ARM64 wheel's sources, compiled (not linked: no aarch64 Windows
    libraries here) for aarch64 Windows with warnings as errors."""
    objects = compile_extension("arm64", tmp_path)
    assert len(objects) == len(EXTENSION_SOURCES)
    dumped = run([llvm_tool("llvm-readobj"), "--file-headers", *objects])
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stdout.count("Format: COFF-ARM64") == len(objects)
