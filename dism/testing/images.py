"""Windows-shaped directory trees and WIM files for tests, benchmarks and demos.

A tree built here holds just enough of an installed Windows for tools to
identify it: SOFTWARE and SYSTEM registry hives (written by :mod:`.hive`), a
tiny PE ``kernel32.dll`` whose header names the CPU architecture, and a few
ordinary files.  A spec may add servicing content (CBS packages with features
and capabilities, drivers, provisioned appx packages; see :mod:`.servicing`),
which brings a DRIVERS hive, manifests, INF files and more registry keys.
``wimlib-imagex capture`` reads the same files and fills in the image's
WINDOWS metadata (edition, version, languages, architecture...) in the WIM's
XML, exactly as for a real Windows installation.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TypedDict

from .hive import HiveKey, HiveTree, expand_sz, write_hive
from .servicing import (
    _DRIVER_DATABASES,
    AppxSpec,
    DeviceSpec,
    DriverSpec,
    FeatureSpec,
    PackageSpec,
    _driver_classes,
    _driver_services,
    _filled,
    _servicing_files,
    _software_keys,
    _validate_servicing,
    driver_database,
)

__all__ = [
    "LANGUAGE_LCIDS",
    "WindowsImageSpec",
    "build_wim",
    "build_windows_tree",
    "sample_servicing_spec",
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
    """What one Windows image should look like (see :func:`build_windows_tree`).

    The servicing fields: `packages`, `drivers` and `appx` (see
    :mod:`.servicing`); `control_set`, the ``Select\\Current`` number (the
    tree also gets a decoy control set under the other of 1 and 2 whenever
    it has drivers or `control_set` is not 1); `reserved_storage` None (no
    ``ReserveManager`` key) or the ``ShippedWithReserves`` value 0/1; and
    `driver_database` ("DRIVERS" or "SYSTEM"), where drivers whose own
    `database` is None are registered.
    """

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
    packages: Sequence[PackageSpec] = ()
    drivers: Sequence[DriverSpec] = ()
    appx: Sequence[AppxSpec] = ()
    control_set: int = 1
    reserved_storage: int | None = None
    driver_database: str = "DRIVERS"

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
        self._check_servicing()

    def _check_servicing(self) -> None:
        for name in ("packages", "drivers", "appx"):
            # Tuples keep the spec hashable whatever sequence the caller passed.
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if (not isinstance(self.control_set, int) or isinstance(self.control_set, bool)
                or not 1 <= self.control_set <= 999):
            raise ValueError(f"control_set must be 1..999, not {self.control_set!r}")
        if self.reserved_storage not in (None, 0, 1):
            raise ValueError(f"reserved_storage must be None, 0 or 1, "
                             f"not {self.reserved_storage!r}")
        if self.driver_database not in _DRIVER_DATABASES:
            raise ValueError(f"driver_database must be one of {list(_DRIVER_DATABASES)}, "
                             f"not {self.driver_database!r}")
        _validate_servicing(self.packages, self.drivers, self.appx)
        _check_no_collision("service", _base_services(),
                            (_filled(d.service) for d in self.drivers))

    def drivers_in(self, database: str) -> list[DriverSpec]:
        """The drivers registered in `database` ("DRIVERS" or "SYSTEM")."""
        return [driver for driver in self.drivers
                if (driver.database or self.driver_database) == database]


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


def sample_servicing_spec() -> WindowsImageSpec:
    """An amd64 Windows 10 image rich in servicing content, for engine tests.

    It covers every common CBS state in packages and features, a two-level
    feature parent chain, hidden, superseded and manifest-less packages, two
    capabilities, in-box and third-party drivers in UTF-16, ANSI and UTF-8
    INFs (one registered the Windows 8.1 way, in SYSTEM), control set 2 with
    a decoy ControlSet001, reserved storage and two provisioned appx packages.
    """
    return WindowsImageSpec(
        name="Windows 10 Enterprise (servicing)",
        description="Windows 10 Enterprise with packages, features and drivers",
        edition_id="Enterprise", product_name="Windows 10 Enterprise", build=19041, ubr=1237,
        languages=("en-US", "de-DE"), default_language="en-US",
        packages=_sample_packages(), drivers=_sample_drivers(), appx=_sample_appx(),
        control_set=2, reserved_storage=1)


def _sample_features() -> tuple[FeatureSpec, ...]:
    installed, staged, resolved, absent, install_pending, uninstall_pending = \
        0x70, 0x40, 0x20, 0x00, 0x60, 0x05
    return (
        FeatureSpec("Microsoft-Hyper-V-All", installed, "Hyper-V",
                    "Hyper-V services and management tools.", restart="possible", selection=1),
        FeatureSpec("Microsoft-Hyper-V", installed, "Hyper-V Platform",
                    "Hyper-V services and the hypervisor.", restart="possible",
                    parent="Microsoft-Hyper-V-All", selection=1),
        FeatureSpec("Microsoft-Hyper-V-Hypervisor", install_pending, "Hyper-V Hypervisor",
                    "The Hyper-V hypervisor.", restart="required", parent="Microsoft-Hyper-V"),
        FeatureSpec("TelnetClient", staged, "Telnet Client",
                    'Telnet "client" for <remote> terminals & devices.', selection=0),
        FeatureSpec("SMB1Protocol", resolved, "SMB 1.0/CIFS File Sharing Support",
                    "Support for the SMB 1.0/CIFS file sharing protocol.", selection=0),
        FeatureSpec("TFTP", absent, "TFTP Client", "Transfer files with the TFTP protocol."),
        FeatureSpec("Printing-XPSServices-Features", uninstall_pending,
                    "Microsoft XPS Document Writer", "Print documents to the XPS format.",
                    restart="possible"),
        FeatureSpec("MSRDC-Infrastructure", installed,
                    "Remote Differential Compression API Support",
                    "Compare and synchronize files over a network.", selectable=False),
    )


class _Publisher(TypedDict):
    company: str
    copyright: str


def _sample_packages() -> tuple[PackageSpec, ...]:
    utc = timezone.utc
    microsoft: _Publisher = {"company": "Microsoft Corporation",
                 "copyright": "Copyright (c) Microsoft Corporation. All Rights Reserved."}
    return (
        PackageSpec("Microsoft-Windows-Foundation-Package", release_type="Foundation",
                    install_time=datetime(2019, 12, 7, 9, 10, 11, tzinfo=utc),
                    install_client="Setup", display_name="Windows Foundation",
                    features=_sample_features(), **microsoft),
        PackageSpec("Package_for_KB5005565", version="19041.1237.1.6",
                    release_type="Security Update", state=0x70,
                    install_time=datetime(2021, 9, 14, 18, 30, 5, 123456, tzinfo=utc),
                    install_client="UpdateAgentLCU", restart="required",
                    display_name="Security Update for Microsoft Windows (KB5005565)",
                    description="Fix for KB5005565 & others",
                    support_information="http://support.microsoft.com/?kbid=5005565",
                    creation_time=datetime(2021, 9, 3, 1, 2, 3, tzinfo=utc),
                    last_update_time=datetime(2021, 9, 3, 4, 5, 6, tzinfo=utc),
                    custom_information={"KBArticle": "5005565",
                                        "Servicing_Type": "Cumulative <LCU>"},
                    **microsoft),
        PackageSpec("Microsoft-Windows-Client-LanguagePack-Package", language="de-DE",
                    release_type="Language Pack",
                    install_time=datetime(2020, 3, 1, 12, 0, 0, tzinfo=utc),
                    display_name="Deutsch (Deutschland) Language Pack", **microsoft),
        PackageSpec("Package_for_KB5004237", version="19041.1083.1.7", state=0x50,
                    release_type="Security Update",
                    install_time=datetime(2021, 7, 13, 18, 0, 0, tzinfo=utc)),
        PackageSpec("Package_for_ServicingStack_1220", version="19041.1220.1.0", visibility=2,
                    release_type="Update",
                    install_time=datetime(2021, 9, 14, 18, 0, 0, tzinfo=utc)),
        PackageSpec("Package_for_DotNetRollup", version="10.0.4420.2", release_type="Update",
                    write_mum=False),
        PackageSpec("OpenSSH-Client-Package", version="10.0.19041.1", release_type="OnDemand Pack",
                    state=0x70, capability="OpenSSH.Client~~~~0.0.1.0",
                    display_name="OpenSSH Client"),
        PackageSpec("Microsoft-Windows-LanguageFeatures-Basic-de-de-Package",
                    release_type="OnDemand Pack", state=0x40,
                    capability="Language.Basic~~~de-DE~0.0.1.0"),
    )


def _in_box_driver(inf_name: str, **fields: Any) -> DriverSpec:
    """A driver that ships with Windows: published under its own INF name,
    provided by Microsoft and signed by Windows itself."""
    return DriverSpec(inf_name, inf_name, provider="Microsoft", signer="Microsoft Windows",
                      **fields)


def _sample_drivers() -> tuple[DriverSpec, ...]:
    # Windows' own class drivers keep the date 2006-06-21 and carry the build's version.
    class_driver_release = {"date": (2006, 6, 21), "version": (10, 0, 19041, 1)}
    storage = {"class_name": "SCSIAdapter",
               "class_guid": "{4d36e97b-e325-11ce-bfc1-08002be10318}",
               "class_description": "Storage controllers"}
    in_box = (
        _in_box_driver("1394.inf", class_name="1394",
                       class_guid="{6bdd1fc1-810f-11d0-bec7-08002be2092f}",
                       class_description="IEEE 1394 host controllers", service="1394ohci",
                       encoding="ansi", hash16="6c9cb6e2b2d9a4a1",
                       devices=(DeviceSpec("1394 OHCI Compliant Host Controller",
                                           "PCI\\CC_0C0010", manufacturer="Generic"),),
                       **class_driver_release),
        _in_box_driver("netrtl.inf", date=(2019, 4, 3), version=(10, 38, 117, 2020),
                       service="rt640x64", encoding="utf-16", hash16="5b1a3e2f86b2f3c0",
                       devices=(DeviceSpec("Realtek PCIe GbE Family Controller",
                                           "PCI\\VEN_10EC&DEV_8168", manufacturer="Realtek"),)),
        _in_box_driver("usbport.inf", class_name="USB",
                       class_guid="{36fc9e60-c465-11cf-8056-444553540000}",
                       class_description="Universal Serial Bus controllers", service="usbohci",
                       encoding="utf-16", hash16="0d1d7a2bd7e83e0a",
                       devices=(DeviceSpec("Standard OpenHCD USB Host Controller",
                                           "PCI\\CC_0C0310",
                                           manufacturer="(Standard USB Host Controller)"),),
                       **class_driver_release),
    )
    third_party = (
        DriverSpec("contosoraid.inf", "oem0.inf", encoding="utf-16", boot_start=True,
                   date=(2020, 11, 30), version=(2, 5, 0, 17), hash16="a1b2c3d4e5f60718",
                   devices=(DeviceSpec("Contoso RAID Controller", "PCI\\VEN_1234&DEV_0001"),
                            DeviceSpec("Contoso RAID Controller (32-bit)",
                                       "PCI\\VEN_1234&DEV_0002", arch="x86")),
                   **storage),
        DriverSpec("contosonet.inf", "oem1.inf", encoding="ansi", date=(2021, 6, 15),
                   version=(1, 2, 3, 4), hash16="0123456789abcdef",
                   devices=(DeviceSpec("Contoso Gigabit Adapter (Réseau)",
                                       "PCI\\VEN_1234&DEV_1000&SUBSYS_00011234",
                                       ("PCI\\VEN_1234&DEV_1000", "PCI\\CC_020000")),
                            DeviceSpec("Contoso 10G Adapter", "PCI\\VEN_1234&DEV_1001",
                                       ("PCI\\CC_0200",)))),
        DriverSpec("contosoport.inf", "oem2.inf", encoding="utf-8", database="SYSTEM",
                   class_name="Ports", class_guid="{4d36e978-e325-11ce-bfc1-08002be10318}",
                   class_description="Ports (COM & LPT)", date=(2018, 2, 28),
                   version=(3, 0, 1, 0), hash16="fedcba9876543210",
                   oem_path="C:\\Users\\Admin\\Downloads\\contoso port",
                   devices=(DeviceSpec("Contoso USB Serial Port \u2122",
                                       "USB\\VID_1234&PID_5678"),)),
    )
    return in_box + third_party


def _sample_appx() -> tuple[AppxSpec, ...]:
    return (
        AppxSpec("Microsoft.WindowsCalculator", (10, 1906, 55, 0), "x64"),
        AppxSpec("Microsoft.LanguageExperiencePackde-DE", (19041, 7, 23, 0), "neutral"),
    )


# --- registry content --------------------------------------------------------

def _software_hive(spec: WindowsImageSpec) -> HiveTree:
    current_version: HiveKey = {
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
                    **_software_keys(spec.packages, spec.appx, spec.reserved_storage),
                },
            },
        },
    }


def _system_hive(spec: WindowsImageSpec) -> HiveTree:
    current = spec.control_set
    tree: HiveKey = {
        "Select": {"Current": current, "Default": current, "LastKnownGood": current,
                   "Failed": 0},
    }
    for number in _control_set_numbers(spec):
        tree[f"ControlSet{number:03d}"] = _control_set(spec, decoy=number != current)
    windows_8_drivers = spec.drivers_in("SYSTEM")
    if windows_8_drivers:
        tree["DriverDatabase"] = driver_database(windows_8_drivers, spec.architecture)
    return tree


def _control_set_numbers(spec: WindowsImageSpec) -> list[int]:
    """The current control set, and a decoy when a reader could pick the wrong one.

    ControlSet001 always exists because wimlib reads it whatever
    ``Select\\Current`` says.
    """
    if spec.control_set == 1 and not spec.drivers:
        return [1]
    decoy = 2 if spec.control_set == 1 else 1
    return sorted({spec.control_set, decoy})


def _control_set(spec: WindowsImageSpec, *, decoy: bool) -> HiveTree:
    install_language = f"{LANGUAGE_LCIDS[spec.default_language]:04X}"
    classes = _merge_keys({_DISPLAY_CLASS_GUID: {"0000": {"MatchingDeviceId": spec.hal}}},
                          _driver_classes(spec.drivers, decoy=decoy))
    control: HiveKey = {
        "ComputerName": {"ComputerName": {"ComputerName": "MINWINPC"}},
        "Class": classes,
        "MUI": {"UILanguages": {lang: {"LCID": LANGUAGE_LCIDS[lang]}
                                for lang in spec.languages}},
        "Nls": {"Language": {"InstallLanguage": install_language,
                             "Default": install_language}},
        "ProductOptions": {"ProductType": spec.product_type,
                           "ProductSuite": list(spec.product_suite)},
        "Windows": {"CSDBuildNumber": spec.sp_build,
                    "CSDVersion": spec.sp_level << 8},
    }
    services = _base_services()
    if not decoy:
        services.update(_driver_services(spec.drivers))
    return {"Control": control, "Services": services}


def _base_services() -> dict[str, HiveTree]:
    return {
        "EventLog": _service("Windows Event Log",
                             "%SystemRoot%\\System32\\svchost.exe -k LocalServiceNetwork"),
        "Tcpip": _service("TCP/IP Protocol Driver", "System32\\drivers\\tcpip.sys",
                          kernel_driver=True),
    }


def _merge_keys(base: Mapping[str, HiveTree], extra: Mapping[str, HiveTree]) -> dict[str, HiveKey]:
    """Subkeys of both; a subkey in both (names ignore case) gets the entries of both."""
    merged = {name: dict(content) for name, content in base.items()}
    spelling = {name.casefold(): name for name in merged}
    for name, content in extra.items():
        merged.setdefault(spelling.get(name.casefold(), name), {}).update(content)
    return merged


def _check_no_collision(what: str, existing: Iterable[str], added: Iterable[str]) -> None:
    taken = {name.casefold() for name in existing}
    for name in added:
        if name.casefold() in taken:
            raise ValueError(f"{what} {name!r} is already part of every image")


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
    windows_10_drivers = spec.drivers_in("DRIVERS")
    if windows_10_drivers:
        write_hive(config / "DRIVERS",
                   {"DriverDatabase": driver_database(windows_10_drivers, spec.architecture)},
                   name="DRIVERS")

    files = {
        "Windows/System32/kernel32.dll": _pe_image(spec, dll=True, gui=False),
        "Windows/System32/cmd.exe": _pe_image(spec, dll=False, gui=False),
        "Windows/explorer.exe": _pe_image(spec, dll=False, gui=True),
        "Windows/INF/placeholder.txt": b"Driver INF files would live here.\r\n",
        "Users/Public/Desktop/readme.txt": f"{spec.product_name} test image\r\n".encode(),
        "Program Files/Common Files/placeholder.txt": b"Shared program files would live here.\r\n",
        **_servicing_files(spec.packages, spec.drivers, spec.appx),
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
