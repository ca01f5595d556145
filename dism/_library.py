"""Which DISM library serves the process.

On Windows the extension delay-loads DismApi.dll, so the package decides
which copy is loaded before the first DISM call:

* by default the in-box ``%SystemRoot%\\System32\\DismApi.dll``, loaded from
  System32 only (never from the current directory or PATH);
* ``"adk"``: the newest installed Windows ADK's
  ``Deployment Tools\\<arch>\\DISM\\DismApi.dll``, found through
  ``HKLM\\SOFTWARE\\Microsoft\\Windows Kits\\Installed Roots``, needed to
  service images newer than the running Windows;
* a folder: its DismApi.dll, loaded by full path so its dependencies resolve
  from that folder.

The choice comes from ``initialize(dism_dir=...)`` or, when that is not
given, the DISMAPI_DISM_DIR environment variable, and it holds for the life
of the process.  Elsewhere the portable engine is linked into the extension
and there is nothing to choose.
"""
from __future__ import annotations

import enum
import os
import sys
import sysconfig
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, List, Mapping, Optional, Tuple, Union

from . import _dism
from .errors import DismLibraryError

PathArg = Union[str, "os.PathLike[str]"]

ENV_VAR = "DISMAPI_DISM_DIR"
ADK = "adk"
DLL_NAME = "DismApi.dll"
INSTALLED_ROOTS_KEY = r"SOFTWARE\Microsoft\Windows Kits\Installed Roots"
# Newest kit first: the Windows 10/11 ADK, then the 8.1 and 8.0 ones.
KITS_ROOT_VALUES = ("KitsRoot10", "KitsRoot81", "KitsRoot")
ADK_DISM_SUBPATH = ("Assessment and Deployment Kit", "Deployment Tools")
# The ADK names its per-architecture folders after the process architecture.
ADK_ARCHITECTURES = {"win-amd64": "amd64", "win32": "x86", "win-arm64": "arm64"}


IS_WINDOWS = sys.platform == "win32"


class DismSource(str, enum.Enum):
    """Where the DISM library in use came from."""

    SYSTEM = "system"      #: the in-box System32\DismApi.dll
    ADK = "adk"            #: the newest installed Windows ADK's copy
    FOLDER = "folder"      #: a folder named by dism_dir or DISMAPI_DISM_DIR
    PORTABLE = "portable"  #: the portable engine inside the extension (not Windows)


@dataclass(frozen=True)
class DismLibrary:
    """The DISM library this process uses: its file, file version and origin."""

    path: str
    version: Tuple[int, int, int, int]
    source: DismSource


_lock = threading.Lock()
_source: Optional[DismSource] = None


def adk_architecture(platform_tag: Optional[str] = None) -> str:
    """The ADK folder name for this process's architecture (not the OS's:
    a 32-bit Python on 64-bit Windows needs the x86 DLL)."""
    tag = platform_tag or sysconfig.get_platform()
    try:
        return ADK_ARCHITECTURES[tag]
    except KeyError:
        raise DismLibraryError.with_code(
            _dism.HR_NOT_SUPPORTED, f"the Windows ADK has no DISM for platform {tag!r}") from None


def adk_dism_dirs(kits_roots: Iterable[str], architecture: str) -> List[str]:
    """The DISM folders the given kit roots would hold, newest kit first."""
    return [os.path.join(root, *ADK_DISM_SUBPATH, architecture, "DISM") for root in kits_roots]


def read_kits_roots() -> List[str]:
    """The installed kits' root folders from the registry, newest first.  The
    ADK installer writes them to the 32-bit view on every architecture."""
    roots: List[str] = []
    if sys.platform != "win32":
        return roots
    import winreg

    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, INSTALLED_ROOTS_KEY, 0,
                             winreg.KEY_READ | winreg.KEY_WOW64_32KEY)
    except OSError:
        return roots
    with key:
        for name in KITS_ROOT_VALUES:
            try:
                value, kind = winreg.QueryValueEx(key, name)
            except OSError:
                continue
            if kind in (winreg.REG_SZ, winreg.REG_EXPAND_SZ) and value:
                roots.append(os.path.expandvars(value))
    return roots


def find_adk_dll(kits_roots: Optional[Iterable[str]] = None,
                 architecture: Optional[str] = None) -> str:
    """The newest installed ADK's DismApi.dll for this architecture."""
    roots = list(read_kits_roots() if kits_roots is None else kits_roots)
    folders = adk_dism_dirs(roots, architecture or adk_architecture())
    for folder in folders:
        candidate = os.path.join(folder, DLL_NAME)
        if os.path.isfile(candidate):
            return candidate
    where = "; ".join(folders) if folders else f"no kit roots under HKLM\\{INSTALLED_ROOTS_KEY}"
    raise DismLibraryError.with_code(
        _dism.HR_MOD_NOT_FOUND,
        f"no Windows ADK DISM found (looked in: {where}); install the Windows ADK's "
        "Deployment Tools or name a folder with dism_dir")


def folder_dll(folder: PathArg) -> str:
    """The DismApi.dll in a folder the user named; the path must be absolute
    so that no search order decides what gets loaded."""
    folder = os.fspath(folder)
    if not os.path.isabs(folder):
        raise DismLibraryError.with_code(
            _dism.E_FAIL, f"dism_dir must be an absolute folder, not '{folder}'")
    candidate = os.path.join(folder, DLL_NAME)
    if not os.path.isfile(candidate):
        raise DismLibraryError.with_code(
            _dism.HR_MOD_NOT_FOUND, f"no {DLL_NAME} in the folder '{folder}'")
    return candidate


def requested(dism_dir: Optional[PathArg], environ: Mapping[str, str] = os.environ) -> Optional[PathArg]:
    """What the caller asked for: the argument, else the environment variable."""
    if dism_dir is not None:
        return dism_dir
    return environ.get(ENV_VAR) or None


def resolve(dism_dir: Optional[PathArg], environ: Mapping[str, str] = os.environ,
            find_adk: Callable[[], str] = find_adk_dll) -> Tuple[DismSource, Optional[str]]:
    """(source, full path of the DLL, or None for the in-box copy)."""
    wanted = requested(dism_dir, environ)
    if wanted is None:
        return DismSource.SYSTEM, None
    if isinstance(wanted, str) and wanted.strip().lower() == ADK:
        return DismSource.ADK, find_adk()
    return DismSource.FOLDER, folder_dll(wanted)


def _load_windows(dism_dir: Optional[PathArg]) -> None:
    global _source
    if sys.platform != "win32":  # callers check IS_WINDOWS; this tells the type checker
        raise AssertionError("the DLL choice exists on Windows only")
    if dism_dir is None and _dism.library_path() is not None:
        return  # the process's choice stands for every later start of DISM
    source, path = resolve(dism_dir)
    try:
        # Refuses a DLL lacking a core export, and any DLL other than the one
        # the process already uses (see src/windows/library.c).
        _dism.load_library(path)
    except OSError as error:
        raise DismLibraryError.with_code(_win32_hresult(error), _sentence(error)) from None
    _source = _source or source


def _sentence(error: OSError) -> str:
    """The extension's message, with the file it is about (LoadLibrary's
    failures carry the path as the filename)."""
    text = error.strerror or str(error)
    return f"{text}: '{error.filename}'" if error.filename else text


def _win32_hresult(error: OSError) -> int:
    winerror = getattr(error, "winerror", None)
    if isinstance(winerror, int) and winerror:
        return 0x80070000 | (winerror & 0xFFFF)
    return _dism.E_FAIL


def load(dism_dir: Optional[PathArg] = None) -> None:
    """Choose and load the DISM library before the first DISM call."""
    if not IS_WINDOWS:
        if dism_dir is not None:
            raise DismLibraryError.with_code(
                _dism.HR_NOT_SUPPORTED,
                "dism_dir chooses a Windows DismApi.dll; on this platform the portable "
                "engine built into the extension serves the DISM API")
        return
    with _lock:
        _load_windows(dism_dir)


def portable_version(package_version: str) -> Tuple[int, int, int, int]:
    parts = [int(p) if p.isdigit() else 0 for p in package_version.split(".")[:4]]
    return tuple(parts + [0] * (4 - len(parts)))  # type: ignore[return-value]


def dism_library() -> DismLibrary:
    """The DISM library this process uses (loading the default one on Windows
    if nothing has been loaded yet, without initializing DISM)."""
    if sys.platform != "win32":  # spelled out, so the type checker follows it
        from . import __version__

        return DismLibrary(os.path.abspath(_dism.__file__), portable_version(__version__),
                           DismSource.PORTABLE)
    with _lock:
        if _dism.library_path() is None:
            _load_windows(None)
        path = _dism.library_path()
        source = _source or DismSource.SYSTEM
    if path is None:  # load_library either chose a DLL or raised
        raise AssertionError("no DismApi.dll chosen after a successful load")
    return DismLibrary(path, _file_version(path), source)


def _file_version(path: str) -> Tuple[int, int, int, int]:
    """The DLL's file version; every DismApi.dll has a version resource, so
    a DLL without one is a DismLibraryError like any other unfit DLL."""
    if sys.platform != "win32":  # callers check; this tells the type checker
        raise AssertionError("DLL versions exist on Windows only")
    try:
        return _dism.file_version(path)
    except OSError as error:
        raise DismLibraryError.with_code(
            _win32_hresult(error),
            f"cannot read the file version of '{path}' ({error.strerror or error}): "
            "every DismApi.dll has one") from None
