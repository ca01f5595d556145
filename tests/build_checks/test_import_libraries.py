"""The import libraries setup.py makes on Windows (DismAPI.lib from
src/windows/dismapi.def, wimgapi.lib from src/windows/wimgapi.def), made and
checked here with LLVM's tools, which speak MSVC's formats (clang's
`-pc-windows-msvc` targets, lld-link for link.exe, llvm-readobj for dumpbin).

Made as setup.py makes it (src/import_library.py writes the stub source and
the .def, and gives the linker's arguments to both), for x86, x64 and ARM64,
each import library must

* import every function its .def lists, by its plain name:
  on x86 the import symbol carries the __stdcall decoration the compiler
  refers to (`__imp__DismInitialize@12`) and the name type is UNDECORATE,
  so the DLL is asked for `DismInitialize`; x64 and ARM64 have no
  decoration (name type NAME);
* link a caller compiled against src/include/dismapi.h (wimgapi.h),
  plainly and with /DELAYLOAD as setup.py links the extension, into a DLL
  whose import table asks DismApi.dll (wimgapi.dll) for the plain names.

The caller is compiled for the `-w64-windows-gnu` targets: the project
header includes <windows.h>, and the only Windows headers here are
mingw-w64's, which clang's MSVC targets cannot compile.  The decoration of a
__stdcall C function is the same for both (`_Name@N`).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import import_library
from support import REPO
from support.wintools import clang_with_mingw_headers, llvm_tool, missing, run

INCLUDE = REPO / "src" / "include"
# arch -> setuptools' plat_name, the stubs' MSVC target, the caller's target.
ARCHES = {
    "x86": ("win32", "i686-pc-windows-msvc", "i686-w64-windows-gnu"),
    "x64": ("win-amd64", "x86_64-pc-windows-msvc", "x86_64-w64-windows-gnu"),
    "arm64": ("win-arm64", "aarch64-pc-windows-msvc", "aarch64-w64-windows-gnu"),
}
NAME_TYPES = {"x86": "undecorate", "x64": "name", "arm64": "name"}
EXPORTS = import_library.exports()
LIBRARIES = {library.stem: library for library in import_library.LIBRARIES}
# The header a caller of each DLL compiles against, and a call the probe makes.
CALLER_HEADERS = {"dismapi": ("dismapi.h", "DismInitialize(DismLogErrors, NULL, NULL)"),
                  "wimgapi": ("wimgapi.h", "(HRESULT)WIMGetImageCount(NULL)")}

arch_params = pytest.mark.parametrize("arch", sorted(ARCHES))
library_params = pytest.mark.parametrize("stem", sorted(LIBRARIES))


def exports_of(stem: str) -> list[tuple[str, int]]:
    return import_library.exports(LIBRARIES[stem].def_path)


def build_import_library(arch: str, out_dir: Path,
                         library: import_library.Library = import_library.DISMAPI) -> Path:
    """The import library of `library`, by setup.py's method with LLVM's tools."""
    plat_name, msvc_target, _ = ARCHES[arch]
    def_file, stub_file = import_library.write_sources(str(out_dir), library)
    stub_object = out_dir / f"{library.stem}_stubs.obj"
    compiled = run([llvm_tool("clang"), f"--target={msvc_target}", "-std=c11", "-Wall",
                    "-Werror", "-c", stub_file, "-o", stub_object])
    assert compiled.returncode == 0, compiled.stderr
    linked = run([llvm_tool("lld-link"), *import_library.linker_arguments(
        plat_name, def_file, str(stub_object), str(out_dir), library)])
    assert linked.returncode == 0, linked.stderr
    import_library.remove_stub_dll(str(out_dir), library)
    return out_dir / library.import_library


@pytest.fixture(scope="module")
def import_libraries(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """(arch, stem) -> the import library, each made in a folder of its own."""
    built = {}
    for arch in ARCHES:
        for stem, library in LIBRARIES.items():
            built[arch, stem] = build_import_library(
                arch, tmp_path_factory.mktemp(f"implib-{stem}-{arch}"), library)
    return built


SHORT_IMPORT = re.compile(r"^File: (\S+)\nFormat: COFF-import-file\nType: (\w+)\n"
                          r"Name type: (\w+)\n((?:Symbol: \S+\n)+)", re.M)


def short_imports(library: Path) -> dict[str, tuple[str, str, list[str]]]:
    """Import symbol -> (DLL, name type, symbols) of each short import
    object (code imports only: DISM exports no data)."""
    dumped = run([llvm_tool("llvm-readobj"), "--coff-imports", library])
    assert dumped.returncode == 0, dumped.stderr
    found = {}
    for dll, kind, name_type, lines in SHORT_IMPORT.findall(dumped.stdout):
        assert kind == "code", (dll, kind, lines)
        symbols = re.findall(r"Symbol: (\S+)", lines)
        imp = next(symbol for symbol in symbols if symbol.startswith("__imp_"))
        found[imp] = (dll, name_type, symbols)
    assert dumped.stdout.count("COFF-import-file") == len(found)
    return found


def expected_import_symbols(arch: str, stem: str) -> set[str]:
    if arch == "x86":
        return {f"__imp__{name}@{size}" for name, size in exports_of(stem)}
    return {f"__imp_{name}" for name, _ in exports_of(stem)}


def test_export_lists_are_read_whole():
    assert len(EXPORTS) == 29
    assert EXPORTS[0] == ("DismInitialize", 12)
    assert len(exports_of("wimgapi")) == 19
    assert exports_of("wimgapi")[0] == ("WIMCreateFile", 24)


@arch_params
@library_params
def test_only_the_import_library_is_left(arch, stem, import_libraries):
    left = {path.suffix for path in import_libraries[arch, stem].parent.iterdir()}
    assert ".lib" in left and ".dll" not in left


@arch_params
@library_params
def test_every_export_is_imported_by_its_plain_name(arch, stem, import_libraries):
    imports = short_imports(import_libraries[arch, stem])
    assert set(imports) == expected_import_symbols(arch, stem)
    assert {dll for dll, _, _ in imports.values()} == {LIBRARIES[stem].dll_name}
    name_types = {imp: name_type for imp, (_, name_type, _) in imports.items()}
    assert set(name_types.values()) == {NAME_TYPES[arch]}, name_types
    for imp, (_, _, symbols) in imports.items():
        # The thunk a plain call jumps through, beside the pointer.
        assert imp[len("__imp_"):] in symbols


CALLER = """#include "%s"
/* Every import the extension links, so each one must resolve. */
void (WINAPI *const dll_imports[])(void) = {
%s
};

HRESULT dll_probe(int i)
{
    return dll_imports[i] ? %s : E_FAIL;
}
"""


def compile_caller(arch: str, stem: str, out_dir: Path) -> Path:
    header, call = CALLER_HEADERS[stem]
    lines = ",\n".join(f"    (void (WINAPI *)(void)){name}" for name, _ in exports_of(stem))
    source = out_dir / f"{stem}_caller.c"
    source.write_text(CALLER % (header, lines, call))
    obj = out_dir / f"{stem}_caller.obj"
    compiled = run([*clang_with_mingw_headers(ARCHES[arch][2]), "-std=c11", "-Wall", "-Wextra",
                    "-Werror", f"-I{INCLUDE}", "-c", source, "-o", obj])
    assert compiled.returncode == 0, compiled.stderr
    return obj


def link_caller(arch: str, stem: str, library: Path, out_dir: Path, extra=()) -> Path:
    dll = out_dir / f"{stem}_caller.dll"
    linked = run([llvm_tool("lld-link"), "/nologo", "/dll", "/noentry", "/nodefaultlib",
                  "/machine:" + import_library.MACHINES[ARCHES[arch][0]], "/export:dll_probe",
                  "/out:" + str(dll), compile_caller(arch, stem, out_dir), library, *extra])
    assert linked.returncode == 0, linked.stderr
    return dll


def import_table(dll: Path, section: str) -> dict[str, list[str]]:
    """DLL name -> imported names, of the Import or DelayImport tables."""
    dumped = run([llvm_tool("llvm-readobj"), "--coff-imports", dll])
    assert dumped.returncode == 0, dumped.stderr
    tables = {}
    for body in re.findall(rf"^{section} \{{\n(.*?)^\}}", dumped.stdout, re.M | re.S):
        dll_name = re.search(r"Name: (\S+)", body).group(1)
        tables[dll_name] = re.findall(r"Symbol: (\S+) \(\d+\)", body)
    return tables


def plain_names(stem: str) -> list[str]:
    return sorted(name for name, _ in exports_of(stem))


@arch_params
@library_params
def test_a_caller_links_and_imports_the_plain_names(arch, stem, import_libraries, tmp_path):
    dll = link_caller(arch, stem, import_libraries[arch, stem], tmp_path)
    assert sorted(import_table(dll, "Import")[LIBRARIES[stem].dll_name]) == plain_names(stem)


def x86_delay_load_arguments(dll_name: str) -> list:
    """/DELAYLOAD, with mingw-w64's __delayLoadHelper2 (in libmingwex), as
    MSVC's delayimp.lib is not here.  That helper refers to the image base by
    GNU ld's name and has no SafeSEH table, hence the two switches."""
    lib = Path("/usr/i686-w64-mingw32/lib")
    if not (lib / "libmingwex.a").is_file():
        missing(f"mingw-w64's x86 libraries ({lib})")
    return [f"/delayload:{dll_name}", "/safeseh:no", "/alternatename:__image_base__=___ImageBase",
            lib / "libmingwex.a", lib / "libkernel32.a"]


@library_params
def test_an_x86_caller_delay_loads_the_plain_names(stem, import_libraries, tmp_path):
    """setup.py links the extension with /DELAYLOAD:DismApi.dll and
    /DELAYLOAD:wimgapi.dll: the delay-import table must ask for the plain
    names too (a decorated one would fail at the first call, with the SEH
    exception 0xC06D007F)."""
    dll_name = LIBRARIES[stem].dll_name
    dll = link_caller("x86", stem, import_libraries["x86", stem], tmp_path,
                      extra=x86_delay_load_arguments(dll_name))
    assert dll_name not in import_table(dll, "Import")
    assert sorted(import_table(dll, "DelayImport")[dll_name]) == plain_names(stem)
