"""Checks of dism.testing against independent readers.

Hives are read back with the hivex C library (libhivex.so.0, through ctypes)
and WIM metadata with wimlib-imagex, whose own registry parser must accept the
hives for the WINDOWS section of the XML to be filled in.
"""

from __future__ import annotations

import ctypes
import random
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dism.testing import (
    LANGUAGE_LCIDS,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_NONE,
    REG_QWORD,
    REG_SZ,
    RegValue,
    WindowsImageSpec,
    build_wim,
    build_windows_tree,
    expand_sz,
    hive_bytes,
    qword,
    sample_specs,
    write_hive,
)

from support.hives import HiveReader, wim_xml


# --- hive writer -------------------------------------------------------------------

BIG_DATA = random.Random(7).randbytes(40_000)          # > 16344 bytes: a "db" record
# Prefixes whose order differs between plain and case-insensitive sorting.
MANY_NAMES = [f"{('alpha', 'Beta', '_gamma', 'DELTA')[i % 4]}{i:04d}" for i in range(1000)]
NON_ASCII_KEY = "Schlüssel-日本"

SAMPLE_TREE = {
    "Software": {
        "Vendor": {
            "": "default value",
            "Name": "Contoso ✓",
            "Count": 0xDEADBEEF,
            "Zero": 0,
            "Paths": ["C:\\one", "D:\\two"],
            "Blob": b"\x00\x01\x02\x03\x04\x05",
            "Tiny": b"\xAA",
            "Huge": BIG_DATA,
            "Expand": expand_sz("%SystemRoot%\\System32"),
            "Quad": qword(2**40 + 5),
            "Nothing": RegValue(REG_NONE, b""),
            "Wert-ä": "value with a non-ASCII name",
        },
        NON_ASCII_KEY: {"Inner": 1},
    },
    "Many": {name: {"Index": index} for index, name in enumerate(MANY_NAMES)},
}


@pytest.fixture(scope="module")
def sample_hive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hive") / "SOFTWARE"
    write_hive(path, SAMPLE_TREE)
    return path


def test_values_read_back_by_hivex(hivex: ctypes.CDLL, sample_hive: Path) -> None:
    with HiveReader(hivex, sample_hive) as hive:
        values = hive.values(hive.key("Software", "Vendor"))
        assert list(values) == list(SAMPLE_TREE["Software"]["Vendor"])

        assert hive.value_type(values[""]) == (REG_SZ, len(_utf16z("default value")))
        assert hive.string(values[""]) == "default value"
        assert hive.string(values["Name"]) == "Contoso ✓"
        assert hive.value_type(values["Count"]) == (REG_DWORD, 4)
        assert hive.dword(values["Count"]) == 0xDEADBEEF
        assert hive.dword(values["Zero"]) == 0
        assert hive.value_type(values["Paths"])[0] == REG_MULTI_SZ
        assert hive.multiple_strings(values["Paths"]) == ["C:\\one", "D:\\two"]
        assert hive.raw(values["Paths"])[1] == _utf16z("C:\\one") + _utf16z("D:\\two") + b"\0\0"
        assert hive.raw(values["Blob"]) == (REG_BINARY, b"\x00\x01\x02\x03\x04\x05")
        assert hive.raw(values["Tiny"]) == (REG_BINARY, b"\xAA")
        assert hive.raw(values["Huge"]) == (REG_BINARY, BIG_DATA)
        assert hive.value_type(values["Expand"])[0] == REG_EXPAND_SZ
        assert hive.string(values["Expand"]) == "%SystemRoot%\\System32"
        assert hive.raw(values["Quad"]) == (REG_QWORD, struct.pack("<Q", 2**40 + 5))
        assert hive.raw(values["Nothing"]) == (REG_NONE, b"")
        assert hive.string(values["Wert-ä"]) == "value with a non-ASCII name"


def test_non_ascii_key_name(hivex: ctypes.CDLL, sample_hive: Path) -> None:
    with HiveReader(hivex, sample_hive) as hive:
        software = hive.key("Software")
        assert sorted(hive.name(node) for node in hive.children(software)) == \
            sorted(["Vendor", NON_ASCII_KEY])
        inner = hive.values(hive.key("Software", NON_ASCII_KEY))["Inner"]
        assert hive.dword(inner) == 1


def test_every_one_of_many_subkeys_is_found(hivex: ctypes.CDLL, sample_hive: Path) -> None:
    with HiveReader(hivex, sample_hive) as hive:
        many = hive.key("Many")
        assert len(hive.children(many)) == len(MANY_NAMES)
        for index, name in enumerate(MANY_NAMES):
            node = hive.child(many, name)
            assert node, name
            assert hive.dword(hive.values(node)["Index"]) == index


def test_subkey_lists_are_sorted_and_hashed(hivex: ctypes.CDLL, sample_hive: Path) -> None:
    """Walk the raw ri/lh lists of "Many" and check order and hashes.

    hivex looks subkeys up linearly, but Windows binary-searches the lists
    and compares hashes, so both must follow the documented rules.
    """
    data = sample_hive.read_bytes()
    with HiveReader(hivex, sample_hive) as hive:
        many = hive.key("Many")
        # nk cell: 4-byte size, then the subkey list offset at 0x1C.
        (list_offset,) = struct.unpack_from("<I", data, many + 4 + 0x1C)
        signature, count = struct.unpack_from("<2sH", data, 0x1000 + list_offset + 4)
        assert signature == b"ri" and count >= 2, "1000 subkeys need several leaf lists"
        leaves = struct.unpack_from(f"<{count}I", data, 0x1000 + list_offset + 8)

        listed = []
        for leaf in leaves:
            signature, entries = struct.unpack_from("<2sH", data, 0x1000 + leaf + 4)
            assert signature == b"lh"
            for position in range(entries):
                nk_offset, name_hash = struct.unpack_from(
                    "<II", data, 0x1000 + leaf + 8 + 8 * position)
                name = hive.name(0x1000 + nk_offset)
                assert name_hash == _expected_hash(name), name
                assert hive.child(many, name) == 0x1000 + nk_offset
                listed.append(name)
    assert listed == sorted(MANY_NAMES, key=str.upper)


def _expected_hash(name: str) -> int:
    value = 0
    for char in name:
        value = (value * 37 + ord(char.upper())) & 0xFFFFFFFF
    return value


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def test_header_checksum_is_verified_by_hivex(hivex: ctypes.CDLL, tmp_path: Path) -> None:
    good = tmp_path / "good"
    write_hive(good, {"Key": {"Value": "x"}})
    with HiveReader(hivex, good):
        pass
    damaged = bytearray(good.read_bytes())
    damaged[0x30] ^= 0x01          # inside the file name, covered by the checksum
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(damaged))
    with pytest.raises(OSError):
        HiveReader(hivex, bad)


def test_output_is_deterministic() -> None:
    tree = {"Key": {"Value": "x", "Sub": {"Number": 5}}}
    assert hive_bytes(tree) == hive_bytes(tree)
    assert hive_bytes(tree, timestamp=1) != hive_bytes(tree, timestamp=2)


@pytest.mark.parametrize("tree, error", [
    ({"Key": {"Value": 2**32}}, ValueError),
    ({"Key": {"Value": -1}}, ValueError),
    ({"Key": {"Value": 1.5}}, TypeError),
    ({"Key": {"Value": ["a", 1]}}, TypeError),
    ({"key": {}, "KEY": {}}, ValueError),
    ({"Key": {"value": 1, "VALUE": 2}}, ValueError),
    ({"a\\b": {}}, ValueError),
    ({"": {}}, ValueError),
])
def test_invalid_trees_are_rejected(tree: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        hive_bytes(tree)


# --- Windows trees and WIM files ----------------------------------------------------

ARCH_CODES = {"x86": "0", "amd64": "9", "arm64": "12"}
PE_MACHINES = {"x86": 0x014C, "amd64": 0x8664, "arm64": 0xAA64}


def _wim_header(wimlib_imagex: str, wim: Path) -> dict[str, str]:
    output = subprocess.run([wimlib_imagex, "info", "--header", str(wim)],
                            check=True, capture_output=True, text=True).stdout
    fields = {}
    for line in output.splitlines():
        key, separator, value = line.partition("=")
        if separator:
            fields[key.strip()] = value.strip()
    return fields


def _check_image_xml(image: ET.Element, spec: WindowsImageSpec) -> None:
    windows = image.find("WINDOWS")
    assert windows is not None, f"no WINDOWS metadata for {spec.name!r}"
    expected = {
        "EDITIONID": spec.edition_id,
        "PRODUCTNAME": spec.product_name,
        "INSTALLATIONTYPE": spec.installation_type,
        "ARCH": ARCH_CODES[spec.architecture],
        "VERSION/MAJOR": str(spec.major),
        "VERSION/MINOR": str(spec.minor),
        "VERSION/BUILD": str(spec.build),
        "VERSION/SPBUILD": str(spec.sp_build),
        "VERSION/SPLEVEL": str(spec.sp_level),
        "LANGUAGES/DEFAULT": spec.default_language,
        "HAL": spec.hal,
        "PRODUCTTYPE": spec.product_type,
        "SYSTEMROOT": "WINDOWS",
    }
    if spec.product_suite:
        # wimlib reports the first string of the MULTI_SZ.
        expected["PRODUCTSUITE"] = spec.product_suite[0]
    actual = {path: windows.findtext(path) for path in expected}
    assert actual == expected, spec.name
    # Subkeys are stored sorted case-insensitively; wimlib lists them in that order.
    assert [element.text for element in windows.findall("LANGUAGES/LANGUAGE")] == \
        sorted(spec.languages, key=str.upper)
    assert image.findtext("NAME") == spec.name
    assert image.findtext("DESCRIPTION") == (spec.description or None)


@pytest.fixture(scope="module")
def sample_wim(wimlib_imagex: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wim(tmp_path_factory.mktemp("wim") / "install.wim", sample_specs(),
                     boot_index=1)


def test_sample_wim_metadata(wimlib_imagex: str, sample_wim: Path) -> None:
    specs = sample_specs()
    images = wim_xml(wimlib_imagex, sample_wim).findall("IMAGE")
    assert [image.get("INDEX") for image in images] == ["1", "2", "3"]
    for image, spec in zip(images, specs):
        _check_image_xml(image, spec)
    assert specs[2].name == "1" and specs[2].architecture == "arm64"

    header = _wim_header(wimlib_imagex, sample_wim)
    assert header["Image Count"] == "3"
    assert header["Boot Index"] == "1"


def test_sample_wim_contents(wimlib_imagex: str, sample_wim: Path) -> None:
    listing = subprocess.run([wimlib_imagex, "dir", str(sample_wim), "3"],
                             check=True, capture_output=True, text=True).stdout.splitlines()
    for path in ("/Windows/System32/config/SOFTWARE", "/Windows/System32/config/SYSTEM",
                 "/Windows/System32/kernel32.dll", "/Windows/System32/cmd.exe",
                 "/Windows/explorer.exe", "/Windows/INF",
                 "/Users/Public/Desktop/readme.txt",
                 "/Program Files/Common Files/placeholder.txt"):
        assert path in listing


def test_legacy_x86_image_options(wimlib_imagex: str, tmp_path: Path) -> None:
    """Windows 7 style version keys, x86, a service pack, other WIM options."""
    spec = WindowsImageSpec(
        name="Windows 7 Ultimate", edition_id="Ultimate", product_name="Windows 7 Ultimate",
        major=6, minor=1, build=7601, sp_build=1130, sp_level=1, architecture="x86",
        languages=("ja-JP",), default_language="ja-JP", hal="acpiapic_up")
    wim = build_wim(tmp_path / "legacy.wim", [spec], compression="none", integrity=True)
    (image,) = wim_xml(wimlib_imagex, wim).findall("IMAGE")
    _check_image_xml(image, spec)

    header = _wim_header(wimlib_imagex, wim)
    assert header["Boot Index"] == "0"
    assert header["Integrity Size"] != "0"
    wim_hdr_flag_compression = 0x2
    assert not int(header["Flags"], 16) & wim_hdr_flag_compression


def test_wimlib_failure_is_reported(wimlib_imagex: str, tmp_path: Path) -> None:
    spec = WindowsImageSpec(name="Twice")
    with pytest.raises(RuntimeError, match="append.*Twice"):
        build_wim(tmp_path / "dup.wim", [spec, spec])


def test_windows_tree_files(tmp_path: Path) -> None:
    for architecture, machine in PE_MACHINES.items():
        spec = WindowsImageSpec(name=architecture, architecture=architecture,
                                extra_files={"Windows/Temp/note.txt": b"hello"},
                                payload_bytes=100_000)
        root = build_windows_tree(tmp_path / architecture, spec)
        for binary in ("Windows/System32/kernel32.dll", "Windows/System32/cmd.exe",
                       "Windows/explorer.exe"):
            data = (root / binary).read_bytes()
            (pe_offset,) = struct.unpack_from("<I", data, 0x3C)
            assert data[:2] == b"MZ" and data[pe_offset:pe_offset + 4] == b"PE\0\0"
            assert struct.unpack_from("<H", data, pe_offset + 4)[0] == machine
        assert (root / "Windows/Temp/note.txt").read_bytes() == b"hello"
        assert (root / "Windows/System32/payload.bin").stat().st_size == 100_000

    again = build_windows_tree(tmp_path / "again", WindowsImageSpec(name="x86", architecture="x86",
                                                                      payload_bytes=100_000))
    payload = "Windows/System32/payload.bin"
    assert (again / payload).read_bytes() == (tmp_path / "x86" / payload).read_bytes()
    assert (again / payload).read_bytes() != (tmp_path / "amd64" / payload).read_bytes()


def test_system_hive_language_values(hivex: ctypes.CDLL, tmp_path: Path) -> None:
    spec = sample_specs()[1]
    root = build_windows_tree(tmp_path / "tree", spec)
    with HiveReader(hivex, root / "Windows/System32/config/SYSTEM") as hive:
        language = hive.values(hive.key("ControlSet001", "Control", "Nls", "Language"))
        assert hive.string(language["InstallLanguage"]) == "0407"
        for lang in spec.languages:
            lcid = hive.values(hive.key("ControlSet001", "Control", "MUI", "UILanguages", lang))
            assert hive.dword(lcid["LCID"]) == LANGUAGE_LCIDS[lang]


@pytest.mark.parametrize("kwargs", [
    {"architecture": "mips"},
    {"languages": ("xx-XX",), "default_language": "xx-XX"},
    {"languages": ("en-US",), "default_language": "de-DE"},
])
def test_invalid_specs_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        WindowsImageSpec(name="bad", **kwargs)


def test_extra_files_stay_inside_the_tree(tmp_path: Path) -> None:
    spec = WindowsImageSpec(name="escape", extra_files={"../outside.txt": b"x"})
    with pytest.raises(ValueError):
        build_windows_tree(tmp_path / "tree", spec)
