"""Windows builds with mingw-w64: the extension as a _dism.pyd, and the
stand-in DismApi.dll variants of the Windows lane (tests/windows/standin).

The one place these builds are spelled: the Windows build check
(tests/build_checks/test_windows_build.py) links the extension with
build_windows_extension() and the Windows lane (scripts/test-windows.sh)
runs what it builds under Wine.  The lane imports this file by its path,
before any test runs, so it uses the standard library only (not pytest, not
dism): a missing tool is ToolMissing and a failed step BuildFailed, which the
build check turns into a skip or a failure.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "src") not in sys.path:  # c_layout, the one list of C sources
    sys.path.insert(0, str(REPO / "src"))
import c_layout  # noqa: E402

INCLUDE = REPO / "src" / "include"
DEF_FILE = REPO / "src" / "windows" / "dismapi.def"
WIMGAPI_DEF = REPO / "src" / "windows" / "wimgapi.def"
STANDIN = REPO / "tests" / "windows" / "standin"
# What setup.py builds on Windows: the extension and the DLL choice.
EXTENSION_SOURCES = [Path(p) for p in
                     c_layout.extension_sources(REPO) + c_layout.windows_sources(REPO)]
CPYTHON = REPO / "build" / "cross" / "cpython"  # scripts/fetch-windows-python-headers.sh
LIMITED_API = "0x030A0000"

TARGETS = {
    "x86": {"triplet": "i686-w64-mingw32", "defines": [], "pointer": 4},
    "x64": {"triplet": "x86_64-w64-mingw32", "defines": ["-DMS_WIN64"], "pointer": 8},
}
STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror"]
# The extension's own warning set (setup.py WARNINGS), as errors.
EXTENSION_WARNINGS = STRICT + ["-Wno-unused-parameter", "-Wno-missing-field-initializers",
                               "-Wno-format-truncation"]


class ToolMissing(Exception):
    """A tool or file the build needs is not installed; str() says which."""


class BuildFailed(Exception):
    """A compile or link step failed; str() holds its diagnostics."""


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)


def checked(cmd, what: str) -> subprocess.CompletedProcess:
    done = run(cmd)
    if done.returncode != 0:
        raise BuildFailed(f"{what}:\n{done.stderr}")
    return done


def tool(arch: str, name: str) -> str:
    path = shutil.which(f"{TARGETS[arch]['triplet']}-{name}")
    if not path:
        raise ToolMissing(f"mingw-w64 ({TARGETS[arch]['triplet']}-{name})")
    return path


def cpython_headers() -> Path:
    if not (CPYTHON / "PC" / "pyconfig.h").is_file():
        raise ToolMissing("CPython's Windows headers (scripts/fetch-windows-python-headers.sh)")
    return CPYTHON


def stable_abi_def(out: Path) -> Path:
    """python3.def: every symbol python3.dll exports, from CPython's manifest."""
    manifest = (cpython_headers() / "Misc" / "stable_abi.toml").read_text()
    lines = ["LIBRARY python3.dll", "EXPORTS"]
    for kind, name in re.findall(r"^\[(function|data)\.(\w+)\]", manifest, re.M):
        lines.append(f"    {name}" + (" DATA" if kind == "data" else ""))
    out.write_text("\n".join(lines) + "\n")
    return out


def dism_def_for(arch: str, out: Path, def_file: Path = DEF_FILE) -> Path:
    text = def_file.read_text()
    if arch != "x86":  # only x86 decorates __stdcall names (setup.py does the same)
        text = re.sub(r"@\d+\s*$", "", text, flags=re.M)
    out.write_text(text)
    return out


def compile_extension(arch: str, out_dir: Path, compiler=None, defines=None) -> list:
    """Every source setup.py compiles on Windows, warnings as errors: with
    mingw-w64's gcc for x86 and x64, or the given compiler command and
    target defines (the build check compiles ARM64 with clang, which has no
    -Wformat-truncation to turn off)."""
    headers = cpython_headers()
    warnings = EXTENSION_WARNINGS if compiler is None else [
        w for w in EXTENSION_WARNINGS if w != "-Wno-format-truncation"]
    compiler = compiler or [tool(arch, "gcc")]
    defines = TARGETS[arch]["defines"] if defines is None else defines
    objects = []
    for source in EXTENSION_SOURCES:
        obj = out_dir / (source.stem + ".o")
        checked([*compiler, *warnings, *defines,
                 f"-DPy_LIMITED_API={LIMITED_API}", "-DWIN32_LEAN_AND_MEAN",
                 f"-I{REPO / 'src'}", f"-I{INCLUDE}", f"-I{headers / 'Include'}",
                 f"-I{headers / 'PC'}", "-c", source, "-o", obj], source.name)
        objects.append(obj)
    return objects


def build_windows_extension(arch: str, out_dir: Path) -> Path:
    """Compiles the extension's sources with warnings as errors and links
    _dism.pyd against python3.dll and delay-loaded DismApi.dll and
    wimgapi.dll."""
    objects = compile_extension(arch, out_dir)
    kill_at = ["-k"] if arch == "x86" else []
    delay_libs = []
    for stem, def_file in (("dismapi", DEF_FILE), ("wimgapi", WIMGAPI_DEF)):
        delay_libs.append(out_dir / f"lib{stem}_delay.a")
        checked([tool(arch, "dlltool"), *kill_at,
                 "-d", dism_def_for(arch, out_dir / f"{stem}.def", def_file),
                 "--output-delaylib", delay_libs[-1]], f"the delay-load library of {stem}")
    python_lib = out_dir / "libpython3.a"
    checked([tool(arch, "dlltool"), "-d", stable_abi_def(out_dir / "python3.def"),
             "-l", python_lib], "the import library of python3.dll")
    pyd = out_dir / "_dism.pyd"
    # -static-libgcc: the thread-local storage mingw emulates (long_call.c)
    # would otherwise need libgcc_s_seh-1.dll, which Windows does not have;
    # MSVC's build links only system DLLs and python3.dll, and so does this.
    checked([tool(arch, "gcc"), "-shared", "-static-libgcc", "-o", pyd, *objects, *delay_libs,
             python_lib, "-lversion", "-ladvapi32", "-Wl,--no-undefined"], "linking _dism.pyd")
    return pyd


# ---------------------------------------------------------------------------
# The stand-in DismApi.dll variants (tests/windows/standin), x64
# ---------------------------------------------------------------------------

STANDIN_SOURCES = ["core.c", "image.c", "servicing.c"]
# Exports of the stand-in's own, for the tests (core.c).
STANDIN_QUERIES = ["StandinOutstanding", "StandinIdentity", "StandinLastCall",
                   "StandinProgressThreadId"]
# The core export the "no core" variant lacks (it is last in dismapi.def).
MISSING_CORE_EXPORT = "DismGetDriverInfo"


def core_exports() -> list:
    """The exports the import library links (src/windows/dismapi.def)."""
    body = DEF_FILE.read_text().split("EXPORTS", 1)[1]
    return re.findall(r"^\s+(\w+)@\d+\s*$", body, re.M)


def optional_exports() -> list:
    """The exports the extension looks up at run time (src/ext/exports.c),
    less the portable engine's own, which no DismApi.dll has."""
    table = (REPO / "src" / "ext" / "exports.c").read_text()
    return [name for name in re.findall(r"EXPORT\(X_\w+,\s*(\w+),", table)
            if not name.startswith("_DismPortable")]


def standin_variants() -> dict:
    """name -> (identity, exports, extra flags, with version resource, with
    the dependency); each is built as <name>/DismApi.dll."""
    full = core_exports() + optional_exports() + STANDIN_QUERIES
    return {
        "system32": ("system32", full, True, False),
        "folder": ("folder", full + ["StandinDependency"], True, True),
        "lonely": ("lonely", full + ["StandinDependency"], True, True),
        "no-optional": ("no-optional", core_exports() + STANDIN_QUERIES, True, False),
        "no-core": ("no-core", [n for n in full if n != MISSING_CORE_EXPORT], True, False),
        "planted": ("planted", full, True, False),
        "no-version": ("no-version", full, False, False),
    }


def _standin_compile(source: Path, obj: Path, defines=()) -> Path:
    checked([tool("x64", "gcc"), *STRICT, "-Wno-unused-parameter", "-O1", *defines,
             f"-I{INCLUDE}", f"-I{STANDIN}", "-c", source, "-o", obj], source.name)
    return obj


def _standin_dependency(out_dir: Path, identity: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    obj = _standin_compile(STANDIN / "dependency.c", out_dir / "dependency.o",
                           [f'-DDEPENDENCY_IDENTITY=L"{identity}"'])
    dll = out_dir / "standin_dep.dll"
    checked([tool("x64", "gcc"), "-shared", "-static", "-o", dll, obj], "standin_dep.dll")
    obj.unlink()
    return dll


def _standin_dll(out_dir: Path, identity: str, exports: list, versioned: bool,
                 dependency: Path | None) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    defines = [f'-DSTANDIN_IDENTITY=L"{identity}"']
    if dependency:
        defines.append("-DSTANDIN_WITH_DEPENDENCY")
    objects = [_standin_compile(STANDIN / source, out_dir / (source[:-2] + ".o"), defines)
               for source in STANDIN_SOURCES]
    if versioned:
        resource = out_dir / "version.o"
        checked([tool("x64", "windres"), STANDIN / "version.rc", "-O", "coff", "-o", resource],
                "version.rc")
        objects.append(resource)
    def_file = out_dir / "DismApi.def"
    def_file.write_text("LIBRARY DismApi.dll\nEXPORTS\n" +
                        "".join(f"    {name}\n" for name in exports))
    dll = out_dir / "DismApi.dll"
    checked([tool("x64", "gcc"), "-shared", "-static", "-o", dll, *objects, def_file,
             *([dependency] if dependency else [])], f"the {identity} stand-in")
    for leftover in [*objects, def_file]:
        leftover.unlink()
    return dll


# ---------------------------------------------------------------------------
# The stand-in wimgapi.dll (tests/windows/standin/wimgapi), x64
# ---------------------------------------------------------------------------

WIM_STANDIN = STANDIN / "wimgapi"
WIM_STANDIN_SOURCES = ["handles.c", "work.c", "watch.c"]
WIM_STANDIN_QUERIES = ["StandinWimOpenHandles", "StandinWimGlobalCallbacks", "StandinWimCallLog",
                       "StandinWimClearLog", "StandinWimIdentity", "StandinWimMessageThreadId",
                       "StandinWimWatchLocalFree", "StandinWimXmlOutstanding"]
# name -> identity: System32's copy, one planted in a folder or on PATH, and
# one lacking the newest export the binding calls (WIMExtractImagePath, of
# Windows 7), which the loader must refuse.
WIM_STANDIN_VARIANTS = {"wimgapi": "system32", "wimgapi-planted": "planted",
                        "wimgapi-lacking": "lacking"}
WIM_MISSING_EXPORT = "WIMExtractImagePath"


def wimgapi_exports() -> list:
    """The functions the WIMGAPI import library links (src/windows/wimgapi.def)."""
    body = WIMGAPI_DEF.read_text().split("EXPORTS", 1)[1]
    return re.findall(r"^\s+(\w+)@\d+\s*$", body, re.M)


def _wim_standin_dll(out_dir: Path, identity: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = []
    for source in WIM_STANDIN_SOURCES:
        obj = out_dir / (source[:-2] + ".o")
        checked([tool("x64", "gcc"), *STRICT, "-Wno-unused-parameter", "-O1",
                 f'-DSTANDIN_IDENTITY=L"{identity}"', f"-I{INCLUDE}", f"-I{WIM_STANDIN}",
                 "-c", WIM_STANDIN / source, "-o", obj], source)
        objects.append(obj)
    def_file = out_dir / "wimgapi.def"
    exports = [name for name in wimgapi_exports() + WIM_STANDIN_QUERIES
               if identity != "lacking" or name != WIM_MISSING_EXPORT]
    def_file.write_text("LIBRARY wimgapi.dll\nEXPORTS\n" + "".join(
        f"    {name}\n" for name in exports))
    dll = out_dir / "wimgapi.dll"
    checked([tool("x64", "gcc"), "-shared", "-static", "-o", dll, *objects, def_file],
            f"the {identity} wimgapi.dll stand-in")
    for leftover in [*objects, def_file]:
        leftover.unlink()
    return dll


def build_standins(out_dir: Path) -> dict:
    """Builds every variant below out_dir; returns name -> its DismApi.dll.
    Also "dependency" (folder/standin_dep.dll) and "planted-dependency"
    (planted-dependency/standin_dep.dll, which must never be loaded), and
    the wimgapi.dll stand-ins: "wimgapi" (System32's), "wimgapi-planted"
    (which must never be loaded) and "wimgapi-lacking" (one export short)."""
    built = {"dependency": _standin_dependency(out_dir / "folder", "folder"),
             "planted-dependency": _standin_dependency(out_dir / "planted-dependency",
                                                       "planted")}
    for name, (identity, exports, versioned, needs_dependency) in standin_variants().items():
        built[name] = _standin_dll(out_dir / name, identity, exports, versioned,
                                   built["dependency"] if needs_dependency else None)
    for name, identity in WIM_STANDIN_VARIANTS.items():
        built[name] = _wim_standin_dll(out_dir / name, identity)
    return built
