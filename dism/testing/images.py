"""Windows-shaped directory trees and WIM files for tests, benchmarks and demos.

A tree built here holds just enough of an installed Windows for tools to
identify it: SOFTWARE and SYSTEM registry hives (written by :mod:`.hive`), a
tiny PE ``kernel32.dll`` whose header names the CPU architecture, and a few
ordinary files.  ``wimlib-imagex capture`` reads the same files and fills in
the image's WINDOWS metadata (edition, version, languages, architecture...) in
the WIM's XML, exactly as for a real Windows installation.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .hive import HiveTree, expand_sz, write_hive

__all__ = [
    "LANGUAGE_LCIDS",
    "WindowsImageSpec",
    "build_wim",
    "build_windows_tree",
    "sample_specs",
]

# Windows language identifiers (LCIDs) of common UI languages.
LANGUAGE_LCIDS: Mapping[str, int] = {
    "ar-SA": 0x0401, "cs-CZ": 0x0405, "da-DK": 0x0406, "de-DE": 0x0407,
    "en-GB": 0x0809, "en-US": 0x0409, "es-ES": 0x0C0A, "es-MX": 0x080A,
    "fi-FI": 0x040B, "fr-CA": 0x0C0C, "fr-FR": 0x040C, "he-IL": 0x040D,
    "it-IT": 0x0410, "ja-JP": 0x0411, "ko-KR": 0x0412, "nb-NO": 0x0414,
    "nl-NL": 0x0413, "pl-PL": 0x0415, "pt-BR": 0x0416, "pt-PT": 0x0816,
    "ru-RU": 0x0419, "sv-SE": 0x041D, "tr-TR": 0x041F, "uk-UA": 0x0422,
    "zh-CN": 0x0804, "zh-TW": 0x0404,
}

# COFF machine types, which is what identifies the architecture of a Windows.
_PE_MACHINES: Mapping[str, int] = {"x86": 0x014C, "amd64": 0x8664, "arm64": 0xAA64}

_DISPLAY_CLASS_GUID = "{4D36E966-E325-11CE-BFC1-08002BE10318}"   # "Computer" device class
_PAYLOAD_PATH = "Windows/System32/payload.bin"
_PAYLOAD_CHUNK = 1 << 20


@dataclass(frozen=True)
class WindowsImageSpec:
    """What one Windows image should look like (see :func:`build_windows_tree`)."""

    name: str
    description: str = ""
    edition_id: str = "Professional"
    product_name: str = "Windows 10 Pro"
    installation_type: str = "Client"
    major: int = 10
    minor: int = 0
    build: int = 19045
    ubr: int = 3803
    sp_build: int = 0
    sp_level: int = 0
    architecture: str = "amd64"
    languages: Sequence[str] = ("en-US",)
    default_language: str = "en-US"
    product_type: str = "WinNT"
    product_suite: Sequence[str] = ("Terminal Server",)
    hal: str = "acpiapic"
    extra_files: Mapping[str, bytes] = field(default_factory=dict, hash=False)
    payload_bytes: int = 0

    def __post_init__(self) -> None:
        if self.architecture not in _PE_MACHINES:
            raise ValueError(f"architecture must be one of {sorted(_PE_MACHINES)}, "
                             f"not {self.architecture!r}")
        unknown = [lang for lang in self.languages if lang not in LANGUAGE_LCIDS]
        if unknown:
            raise ValueError(f"no LCID known for {unknown}; known: {sorted(LANGUAGE_LCIDS)}")
        if self.default_language not in self.languages:
            raise ValueError(f"default language {self.default_language!r} "
                             f"is not among {list(self.languages)}")
        if self.payload_bytes < 0:
            raise ValueError("payload_bytes must not be negative")


def sample_specs() -> list[WindowsImageSpec]:
    """Three images for tests; the last is *named* "1" to catch name/index mix-ups."""
    return [
        WindowsImageSpec(
            name="Windows 10 Pro", description="Windows 10 Pro",
            edition_id="Professional", product_name="Windows 10 Pro"),
        WindowsImageSpec(
            name="Windows 10 Enterprise", description="Windows 10 Enterprise",
            edition_id="Enterprise", product_name="Windows 10 Enterprise",
            languages=("en-US", "de-DE"), default_language="de-DE"),
        WindowsImageSpec(
            name="1", description="Windows 10 Education (ARM64), named '1'",
            edition_id="Education", product_name="Windows 10 Education",
            architecture="arm64"),
    ]


# --- registry content --------------------------------------------------------

def _software_hive(spec: WindowsImageSpec) -> HiveTree:
    current_version: dict = {
        "ProductName": spec.product_name,
        "EditionID": spec.edition_id,
        "InstallationType": spec.installation_type,
        "CurrentBuild": str(spec.build),
        "CurrentBuildNumber": str(spec.build),
        "UBR": spec.ubr,
        "SystemRoot": "C:\\Windows",
    }
    if spec.major >= 10:
        # Windows 10 froze CurrentVersion at "6.3" and added the two numbers.
        current_version["CurrentVersion"] = "6.3"
        current_version["CurrentMajorVersionNumber"] = spec.major
        current_version["CurrentMinorVersionNumber"] = spec.minor
    else:
        current_version["CurrentVersion"] = f"{spec.major}.{spec.minor}"
    return {
        "Microsoft": {
            "Windows NT": {"CurrentVersion": current_version},
            "Windows": {
                "CurrentVersion": {
                    "ProgramFilesDir": "C:\\Program Files",
                    "CommonFilesDir": "C:\\Program Files\\Common Files",
                },
            },
        },
    }


def _system_hive(spec: WindowsImageSpec) -> HiveTree:
    install_language = f"{LANGUAGE_LCIDS[spec.default_language]:04X}"
    control = {
        "ComputerName": {"ComputerName": {"ComputerName": "MINWINPC"}},
        "Class": {_DISPLAY_CLASS_GUID: {"0000": {"MatchingDeviceId": spec.hal}}},
        "MUI": {"UILanguages": {lang: {"LCID": LANGUAGE_LCIDS[lang]}
                                for lang in spec.languages}},
        "Nls": {"Language": {"InstallLanguage": install_language,
                             "Default": install_language}},
        "ProductOptions": {"ProductType": spec.product_type,
                           "ProductSuite": list(spec.product_suite)},
        "Windows": {"CSDBuildNumber": spec.sp_build,
                    "CSDVersion": spec.sp_level << 8},
    }
    services = {
        "EventLog": _service("Windows Event Log",
                             "%SystemRoot%\\System32\\svchost.exe -k LocalServiceNetwork"),
        "Tcpip": _service("TCP/IP Protocol Driver", "System32\\drivers\\tcpip.sys",
                          kernel_driver=True),
    }
    return {
        "Select": {"Current": 1, "Default": 1, "LastKnownGood": 1, "Failed": 0},
        "ControlSet001": {"Control": control, "Services": services},
    }


def _service(display_name: str, image_path: str, *, kernel_driver: bool = False) -> HiveTree:
    service_kernel_driver, service_win32_share_process = 0x1, 0x20
    boot_start, auto_start = 0, 2
    return {
        "DisplayName": display_name,
        "ImagePath": expand_sz(image_path),
        "Type": service_kernel_driver if kernel_driver else service_win32_share_process,
        "Start": boot_start if kernel_driver else auto_start,
        "ErrorControl": 1,
    }


# --- files ------------------------------------------------------------------------

def _pe_image(spec: WindowsImageSpec, *, dll: bool, gui: bool) -> bytes:
    """A header-only PE file: enough for tools that read the machine type.

    MZ header with e_lfanew -> "PE\\0\\0", COFF header, and a standard-size
    optional header (PE32 for x86, PE32+ otherwise) without sections.
    """
    is_64bit = spec.architecture != "x86"
    optional_size = 240 if is_64bit else 224
    pe_offset = 0x40
    size_of_headers = 0x200

    dos_header = bytearray(pe_offset)
    dos_header[0:2] = b"MZ"
    struct.pack_into("<I", dos_header, 0x3C, pe_offset)

    executable_image, large_address_aware, machine_32bit, image_dll = 0x2, 0x20, 0x100, 0x2000
    characteristics = executable_image | (large_address_aware if is_64bit else machine_32bit)
    if dll:
        characteristics |= image_dll
    coff_header = struct.pack("<4sHHIIIHH", b"PE\0\0", _PE_MACHINES[spec.architecture],
                              0, 0, 0, 0, optional_size, characteristics)

    optional = bytearray(optional_size)
    struct.pack_into("<H", optional, 0, 0x20B if is_64bit else 0x10B)
    if is_64bit:
        struct.pack_into("<Q", optional, 24, 0x180000000 if dll else 0x140000000)
    else:
        struct.pack_into("<I", optional, 28, 0x10000000 if dll else 0x400000)
    struct.pack_into("<II", optional, 32, 0x1000, 0x200)              # section/file alignment
    struct.pack_into("<HHHHHH", optional, 40, spec.major, spec.minor,  # OS, image and
                     spec.major, spec.minor, spec.major, spec.minor)   # subsystem versions
    struct.pack_into("<II", optional, 56, 0x1000, size_of_headers)    # image/header sizes
    subsystem_gui, subsystem_console = 2, 3
    struct.pack_into("<H", optional, 68, subsystem_gui if gui else subsystem_console)
    struct.pack_into("<I", optional, optional_size - 16 * 8 - 4, 16)  # data directory count

    return (bytes(dos_header) + coff_header + bytes(optional)).ljust(size_of_headers, b"\0")


def _write_file(root: Path, relative: str, content: bytes) -> None:
    path = PurePosixPath(relative)
    # Extra files come from callers; keep them inside the tree.
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"extra file path must be relative and stay in the tree: {relative!r}")
    target = root.joinpath(*path.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def _write_payload(path: Path, size: int, seed: int) -> None:
    """Incompressible, reproducible filler data, written in 1 MiB chunks."""
    generator = random.Random(seed)
    with path.open("wb") as out:
        remaining = size
        while remaining:
            chunk = min(remaining, _PAYLOAD_CHUNK)
            out.write(generator.randbytes(chunk))
            remaining -= chunk


def build_windows_tree(root: str | os.PathLike[str], spec: WindowsImageSpec) -> Path:
    """Create a Windows-shaped directory tree for `spec` under `root`; return `root`."""
    root = Path(root)
    config = root / "Windows" / "System32" / "config"
    config.mkdir(parents=True, exist_ok=True)
    write_hive(config / "SOFTWARE", _software_hive(spec), name="SOFTWARE")
    write_hive(config / "SYSTEM", _system_hive(spec), name="SYSTEM")

    files = {
        "Windows/System32/kernel32.dll": _pe_image(spec, dll=True, gui=False),
        "Windows/System32/cmd.exe": _pe_image(spec, dll=False, gui=False),
        "Windows/explorer.exe": _pe_image(spec, dll=False, gui=True),
        "Windows/INF/placeholder.txt": b"Driver INF files would live here.\r\n",
        "Users/Public/Desktop/readme.txt": f"{spec.product_name} test image\r\n".encode(),
        "Program Files/Common Files/placeholder.txt": b"Shared program files would live here.\r\n",
        **spec.extra_files,
    }
    for relative, content in files.items():
        _write_file(root, relative, content)

    if spec.payload_bytes:
        # Seeded by the image name so that the payloads of different images
        # differ and WIM single-instancing cannot fold them together.
        _write_payload(root.joinpath(*_PAYLOAD_PATH.split("/")), spec.payload_bytes,
                       seed=zlib.crc32(spec.name.encode("utf-8")))
    return root


# --- WIM files ------------------------------------------------------------------

def _wimlib_imagex() -> str:
    executable = shutil.which("wimlib-imagex")
    if executable is None:
        raise RuntimeError("wimlib-imagex not found; install it (Debian package: wimtools)")
    return executable


def _run_wimlib(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True)
    except subprocess.CalledProcessError as error:
        stderr = error.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{' '.join(command[:2])} failed with exit status "
                           f"{error.returncode}: {stderr}") from error


def _add_image_command(executable: str, tree: Path, wim: Path, spec: WindowsImageSpec, *,
                       first: bool, compression: str, integrity: bool, boot: bool) -> list[str]:
    command = [executable, "capture" if first else "append", str(tree), str(wim), spec.name]
    if spec.description:
        command.append(spec.description)
    if first:
        # The compression type is fixed when the WIM is created; appends reuse it.
        command.append(f"--compress={compression}")
    if integrity:
        command.append("--check")
    if boot:
        command.append("--boot")
    return command


def build_wim(path: str | os.PathLike[str], specs: Sequence[WindowsImageSpec], *,
              compression: str = "lzx", integrity: bool = False,
              boot_index: int | None = None,
              workdir: str | os.PathLike[str] | None = None) -> Path:
    """Build a WIM at `path` holding one image per spec, in order (index 1 first).

    `compression` is any ``wimlib-imagex --compress`` type ("none", "xpress",
    "lzx", "lzms"); `integrity` adds an integrity table; `boot_index` (1-based)
    marks that image bootable.  Trees are built one at a time in temporary
    directories under `workdir` (default: the system temp dir) and removed
    after capture.  An existing file at `path` is replaced.
    """
    specs = list(specs)
    if not specs:
        raise ValueError("build_wim needs at least one image spec")
    if boot_index is not None and not 1 <= boot_index <= len(specs):
        raise ValueError(f"boot_index must be between 1 and {len(specs)}, not {boot_index}")
    executable = _wimlib_imagex()
    wim = Path(path)
    wim.unlink(missing_ok=True)

    for index, spec in enumerate(specs, start=1):
        with tempfile.TemporaryDirectory(prefix="dism-image-", dir=workdir) as scratch:
            tree = build_windows_tree(Path(scratch) / "image", spec)
            _run_wimlib(_add_image_command(
                executable, tree, wim, spec, first=index == 1, compression=compression,
                integrity=integrity, boot=index == boot_index))
    return wim
