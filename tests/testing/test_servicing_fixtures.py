"""Checks of the servicing content that dism.testing writes into Windows trees.

Hives are read back through libhivex (support.hives.HiveReader, also used by
test_testing_builders), manifests with xml.etree, INF files with a small INF
reader written here; expected values are derived from the spec objects
independently of dism.testing.servicing's own helpers.
"""

from __future__ import annotations

import ctypes
import dataclasses
import re
import struct
import subprocess
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dism.testing import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_SZ,
    AppxSpec,
    DeviceSpec,
    DriverSpec,
    FeatureSpec,
    PackageSpec,
    WindowsImageSpec,
    build_wim,
    build_windows_tree,
    sample_servicing_spec,
    sample_specs,
)

from support.hives import HiveReader, wim_xml

CBS = ("Microsoft", "Windows", "CurrentVersion", "Component Based Servicing")
CURRENT_VERSION = ("Microsoft", "Windows", "CurrentVersion")
ARCH_CODES = {"x86": 0, "arm": 5, "ia64": 6, "amd64": 9, "arm64": 12}
UTC = timezone.utc
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
ASM_V3 = "{urn:schemas-microsoft-com:asm.v3}"
APPX_NS = "{http://schemas.microsoft.com/appx/manifest/foundation/windows10}"


@pytest.fixture(scope="module")
def tree(spec: WindowsImageSpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_windows_tree(tmp_path_factory.mktemp("servicing") / "image", spec)


def _hive(lib: ctypes.CDLL, root: Path, name: str) -> HiveReader:
    return HiveReader(lib, root / "Windows" / "System32" / "config" / name)


def _filetime_to_datetime(ticks: int) -> datetime:
    return FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def _database_of(spec: WindowsImageSpec, driver: DriverSpec) -> str:
    return driver.database or spec.driver_database


# --- the sample itself ----------------------------------------------------------------

def test_sample_covers_what_engine_tests_need(spec: WindowsImageSpec) -> None:
    """Guard the sample against edits that would silently drop a case."""
    (foundation,) = [p for p in spec.packages if p.release_type == "Foundation"]
    feature_states = {f.state for f in foundation.features}
    assert {0x70, 0x40, 0x20, 0x00, 0x60, 0x05} <= feature_states
    parents = {f.name: f.parent for f in foundation.features}
    assert parents[parents[parents["Microsoft-Hyper-V-Hypervisor"]]] is None
    assert parents[parents["Microsoft-Hyper-V-Hypervisor"]] == "Microsoft-Hyper-V-All"
    assert any(not f.selectable for f in foundation.features)
    assert {f.selection for f in foundation.features} == {None, 0, 1}

    by_name = {p.name: p for p in spec.packages}
    update = by_name["Package_for_KB5005565"]
    assert (update.release_type, update.state, update.restart) == \
        ("Security Update", 0x70, "required")
    assert update.install_time is not None and update.custom_information
    assert any(p.release_type == "Language Pack" and p.language == "de-DE"
               for p in spec.packages)
    assert any(p.state == 0x50 for p in spec.packages)
    assert any(p.visibility == 2 for p in spec.packages)
    assert any(not p.write_mum for p in spec.packages)
    capabilities = {p.capability: p.state for p in spec.packages if p.capability}
    assert capabilities == {"OpenSSH.Client~~~~0.0.1.0": 0x70,
                            "Language.Basic~~~de-DE~0.0.1.0": 0x40}

    drivers = {d.published_name: d for d in spec.drivers}
    assert sorted(d.published_name for d in spec.drivers if not d.third_party) == \
        ["1394.inf", "netrtl.inf", "usbport.inf"]
    assert (drivers["oem0.inf"].encoding, drivers["oem0.inf"].boot_start) == ("utf-16", True)
    assert {d.arch for d in drivers["oem0.inf"].devices} == {None, "x86"}
    assert drivers["oem1.inf"].encoding == "ansi"
    assert all(d.compatible_ids for d in drivers["oem1.inf"].devices)
    assert (drivers["oem2.inf"].encoding, drivers["oem2.inf"].database) == ("utf-8", "SYSTEM")
    assert (spec.control_set, spec.reserved_storage) == (2, 1)
    assert [a.arch for a in spec.appx] == ["x64", "neutral"]


def test_spec_properties() -> None:
    package = PackageSpec("Package_for_KB1", version="19041.1.2.3", language="de-DE")
    assert package.identity == "Package_for_KB1~31bf3856ad364e35~amd64~de-DE~19041.1.2.3"
    driver = DriverSpec("Contoso.Net.inf", "OEM7.inf", arch="arm64", hash16="00000000000000ff")
    assert driver.folder_name == "Contoso.Net.inf_arm64_00000000000000ff"
    assert driver.third_party
    assert (driver.catalog, driver.service, driver.oem_path) == \
        ("Contoso.Net.cat", "Contoso_Net", "C:\\Drivers\\Contoso.Net")
    in_box = DriverSpec("netrtl.inf", "netrtl.inf")
    assert not in_box.third_party and in_box.oem_path is None
    app = AppxSpec("Contoso.App", (1, 2, 3, 4), "arm64", "split.scale-100", "abcdefghjkmnp")
    assert app.full_name == "Contoso.App_1.2.3.4_arm64_split.scale-100_abcdefghjkmnp"
    assert AppxSpec("Contoso.Lxp", arch="neutral").full_name == \
        "Contoso.Lxp_1.0.0.0_neutral__8wekyb3d8bbwe"


def test_specs_normalise_sequences_and_stay_hashable() -> None:
    device = DeviceSpec("Contoso Adapter", "PCI\\VEN_1&DEV_2", ["PCI\\CC_02"])
    driver = DriverSpec("a.inf", "oem0.inf", devices=[device], date=[2020, 1, 2])
    package = PackageSpec("P", features=[FeatureSpec("F")], custom_information={"K": "v"})
    image = WindowsImageSpec(name="x", packages=[package], drivers=[driver],
                             appx=[AppxSpec("Contoso.App")])
    assert device.compatible_ids == ("PCI\\CC_02",)
    assert driver.devices == (device,) and driver.date == (2020, 1, 2)
    assert isinstance(package.features, tuple)
    assert isinstance(image.packages, tuple) and isinstance(image.drivers, tuple)
    hash(image)
    assert sample_servicing_spec() == sample_servicing_spec()


# --- SOFTWARE: packages, features, appx, reserved storage ------------------------------------

def test_package_keys(hivex: ctypes.CDLL, tree: Path, spec: WindowsImageSpec) -> None:
    with _hive(hivex, tree, "SOFTWARE") as hive:
        packages = hive.key(*CBS, "Packages")
        assert sorted(hive.name(node) for node in hive.children(packages)) == \
            sorted(p.identity for p in spec.packages)
        for package in spec.packages:
            values = hive.values(hive.key(*CBS, "Packages", package.identity))
            assert hive.value_type(values["CurrentState"]) == (REG_DWORD, 4)
            assert hive.dword(values["CurrentState"]) == package.state
            assert hive.dword(values["Visibility"]) == package.visibility
            assert hive.string(values["InstallName"]) == package.identity + ".mum"
            assert hive.value_type(values["InstallLocation"])[0] == REG_SZ
            assert hive.string(values["InstallClient"]) == package.install_client
            assert hive.string(values["InstallUser"]) == package.install_user
            _check_install_time(hive, values, package)

            owners = hive.values(hive.key(*CBS, "Packages", package.identity, "Owners"))
            assert list(owners) == [package.identity]
            assert hive.dword(owners[package.identity]) == package.state


def _check_install_time(hive: HiveReader, values: dict[str, int], package: PackageSpec) -> None:
    if package.install_time is None:
        assert "InstallTimeHigh" not in values and "InstallTimeLow" not in values
        return
    high, low = hive.dword(values["InstallTimeHigh"]), hive.dword(values["InstallTimeLow"])
    assert _filetime_to_datetime(high << 32 | low) == package.install_time


def test_feature_updates_and_selection(hivex: ctypes.CDLL, tree: Path,
                                       spec: WindowsImageSpec) -> None:
    with _hive(hivex, tree, "SOFTWARE") as hive:
        for package in spec.packages:
            node = hive.key(*CBS, "Packages", package.identity)
            updates_node = hive.child(node, "Updates")
            if not package.features:
                assert not updates_node, package.name
                continue
            updates = hive.values(updates_node)
            assert list(updates) == [f.name for f in package.features]
            for feature in package.features:
                assert hive.value_type(updates[feature.name]) == (REG_DWORD, 4)
                assert hive.dword(updates[feature.name]) == feature.state, feature.name

        optional = hive.key(*CBS, "Notifications", "OptionalFeatures")
        features = [f for p in spec.packages for f in p.features]
        assert sorted(hive.name(node) for node in hive.children(optional)) == \
            sorted(f.name for f in features if f.selection is not None)
        for feature in features:
            if feature.selection is not None:
                selection = hive.values(hive.child(optional, feature.name))["Selection"]
                assert hive.dword(selection) == feature.selection


def test_appx_and_reserved_storage_keys(hivex: ctypes.CDLL, tree: Path,
                                        spec: WindowsImageSpec) -> None:
    with _hive(hivex, tree, "SOFTWARE") as hive:
        applications = hive.key(*CURRENT_VERSION, "Appx", "AppxAllUserStore", "Applications")
        assert sorted(hive.name(node) for node in hive.children(applications)) == \
            sorted(a.full_name for a in spec.appx)
        for app in spec.appx:
            values = hive.values(hive.child(applications, app.full_name))
            assert list(values) == ["Path"]
            assert hive.string(values["Path"]) == \
                f"C:\\Program Files\\WindowsApps\\{app.full_name}\\AppxManifest.xml"
        reserve = hive.values(hive.key(*CURRENT_VERSION, "ReserveManager"))
        assert hive.dword(reserve["ShippedWithReserves"]) == spec.reserved_storage

        # The edition and version values are still there.
        version = hive.values(hive.key("Microsoft", "Windows NT", "CurrentVersion"))
        assert hive.string(version["EditionID"]) == spec.edition_id
        assert hive.dword(version["UBR"]) == spec.ubr
        program_files = hive.values(hive.key(*CURRENT_VERSION))["ProgramFilesDir"]
        assert hive.string(program_files) == "C:\\Program Files"


def test_install_time_of_naive_and_offset_datetimes(hivex: ctypes.CDLL, tmp_path: Path) -> None:
    naive = PackageSpec("Naive", install_time=datetime(2021, 1, 2, 3, 4, 5))
    offset = PackageSpec("Offset", install_time=datetime(
        2021, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))))
    root = build_windows_tree(tmp_path, WindowsImageSpec(name="t", packages=(naive, offset)))
    expected = datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)
    with _hive(hivex, root, "SOFTWARE") as hive:
        for package in (naive, offset):
            values = hive.values(hive.key(*CBS, "Packages", package.identity))
            high, low = hive.dword(values["InstallTimeHigh"]), hive.dword(values["InstallTimeLow"])
            assert _filetime_to_datetime(high << 32 | low) == expected, package.name
        assert not hive.child(hive.key(*CBS), "Notifications")


def test_appx_region_value(hivex: ctypes.CDLL, tmp_path: Path) -> None:
    app = AppxSpec("Contoso.App", region="DE;AT")
    root = build_windows_tree(tmp_path, WindowsImageSpec(name="t", appx=(app,),
                                                         reserved_storage=0))
    with _hive(hivex, root, "SOFTWARE") as hive:
        key = hive.key(*CURRENT_VERSION, "Appx", "AppxAllUserStore", "Applications",
                       app.full_name)
        assert hive.string(hive.values(key)["Region"]) == "DE;AT"
        reserve = hive.values(hive.key(*CURRENT_VERSION, "ReserveManager"))
        assert hive.dword(reserve["ShippedWithReserves"]) == 0


# --- driver database ----------------------------------------------------------------------

def _decode_version_blob(blob: bytes) -> dict[str, object]:
    marker, arch, pad1, guid, date_ticks, version, pad2 = struct.unpack("<2sH4s16sQQ8s", blob)
    return {
        "marker": marker, "padding": pad1 + pad2, "arch": arch,
        "class_guid": uuid.UUID(bytes_le=guid),
        "date": _filetime_to_datetime(date_ticks),
        "version": (version >> 48, version >> 32 & 0xFFFF, version >> 16 & 0xFFFF,
                    version & 0xFFFF),
    }


def _database_path(spec: WindowsImageSpec, driver: DriverSpec) -> tuple[str, tuple[str, ...]]:
    """(hive file, path of DriverDatabase in it)."""
    return ("DRIVERS" if _database_of(spec, driver) == "DRIVERS" else "SYSTEM",
            ("DriverDatabase",))


def test_driver_package_keys(hivex: ctypes.CDLL, tree: Path, spec: WindowsImageSpec) -> None:
    for driver in spec.drivers:
        hive_name, database = _database_path(spec, driver)
        with _hive(hivex, tree, hive_name) as hive:
            values = hive.values(hive.key(*database, "DriverPackages", driver.folder_name))
            assert hive.string(values[""]) == driver.published_name
            assert hive.string(values["InfName"]) == driver.inf_name
            assert hive.string(values["Provider"]) == driver.provider
            assert hive.string(values["Catalog"]) == driver.catalog
            assert hive.string(values["SignerName"]) == driver.signer
            assert hive.dword(values["SignerScore"]) == 0x0D000005
            assert hive.dword(values["StatusFlags"]) == (0x112 if driver.third_party else 0x12)
            if driver.third_party:
                assert hive.string(values["OemPath"]) == driver.oem_path
            else:
                assert "OemPath" not in values

            blob_type, blob = hive.raw(values["Version"])
            assert blob_type == REG_BINARY and len(blob) == 48
            decoded = _decode_version_blob(blob)
            assert decoded == {
                "marker": b"\x00\xff", "padding": bytes(12),
                "arch": ARCH_CODES[driver.arch],
                "class_guid": uuid.UUID(driver.class_guid),
                "date": datetime(*driver.date, tzinfo=UTC),
                "version": driver.version,
            }, driver.inf_name


def test_driver_package_subkeys(hivex: ctypes.CDLL, tree: Path, spec: WindowsImageSpec) -> None:
    for driver in spec.drivers:
        hive_name, database = _database_path(spec, driver)
        with _hive(hivex, tree, hive_name) as hive:
            package = (*database, "DriverPackages", driver.folder_name)
            install = hive.values(hive.key(*package, "Configurations", "Install"))
            assert hive.string(install["Service"]) == driver.service
            assert hive.dword(install["ConfigFlags"]) == 0

            strings = hive.values(hive.key(*package, "Strings"))
            resolved = {name: hive.string(value) for name, value in strings.items()}
            for number, device in enumerate(driver.devices, start=1):
                bus, rest = device.hardware_id.split("\\")
                descriptor = hive.values(hive.key(*package, "Descriptors", bus, rest))
                assert hive.string(descriptor["Configuration"]) == "Install"
                description = hive.string(descriptor["Description"])
                manufacturer = hive.string(descriptor["Manufacturer"])
                assert description == f"%dev{number}.desc%"
                assert resolved[description.strip("%")] == device.description
                assert resolved[manufacturer.strip("%")] == device.manufacturer
            assert resolved["mfg"] == driver.devices[0].manufacturer


def test_driver_databases_hold_their_own_drivers(hivex: ctypes.CDLL, tree: Path,
                                                 spec: WindowsImageSpec) -> None:
    for hive_name in ("DRIVERS", "SYSTEM"):
        expected = sorted(d.folder_name for d in spec.drivers
                          if _database_of(spec, d) == hive_name)
        assert expected, f"the sample registers drivers in {hive_name}"
        with _hive(hivex, tree, hive_name) as hive:
            database = hive.key("DriverDatabase")
            values = hive.values(database)
            assert hive.dword(values["Version"]) == 0x0A000000
            assert hive.dword(values["Architecture"]) == ARCH_CODES[spec.architecture]
            packages = hive.key("DriverDatabase", "DriverPackages")
            assert sorted(hive.name(node) for node in hive.children(packages)) == expected

            inf_files = hive.key("DriverDatabase", "DriverInfFiles")
            for driver in (d for d in spec.drivers if _database_of(spec, d) == hive_name):
                entry = hive.values(hive.child(inf_files, driver.inf_name))
                assert hive.value_type(entry[""])[0] == REG_MULTI_SZ
                assert hive.multiple_strings(entry[""]) == [driver.folder_name]
                assert hive.string(entry["Active"]) == driver.folder_name


def test_one_inf_in_several_packages(hivex: ctypes.CDLL, tmp_path: Path) -> None:
    old = DriverSpec("contoso.inf", "oem3.inf", version=(1, 0, 0, 0), hash16="1111111111111111")
    new = DriverSpec("contoso.inf", "oem4.inf", version=(2, 0, 0, 0), hash16="2222222222222222",
                     service="contoso2")
    root = build_windows_tree(tmp_path, WindowsImageSpec(name="t", drivers=(old, new),
                                                         driver_database="SYSTEM"))
    assert not (root / "Windows/System32/config/DRIVERS").exists()
    with _hive(hivex, root, "SYSTEM") as hive:
        entry = hive.values(hive.key("DriverDatabase", "DriverInfFiles", "contoso.inf"))
        assert hive.multiple_strings(entry[""]) == [old.folder_name, new.folder_name]
        assert hive.string(entry["Active"]) == new.folder_name


def test_devices_of_several_manufacturers(hivex: ctypes.CDLL, tmp_path: Path) -> None:
    driver = DriverSpec("multi.inf", "oem0.inf", devices=(
        DeviceSpec("Contoso Adapter", "PCI\\VEN_1&DEV_1"),
        DeviceSpec("Fabrikam Adapter", "pci\\VEN_2&DEV_2", manufacturer="Fabrikam", arch="x86"),
        DeviceSpec("Contoso USB Adapter", "USB\\VID_1&PID_1")))
    root = build_windows_tree(tmp_path, WindowsImageSpec(name="t", drivers=(driver,)))
    with _hive(hivex, root, "DRIVERS") as hive:
        package = ("DriverDatabase", "DriverPackages", driver.folder_name)
        strings = {name: hive.string(value)
                   for name, value in hive.values(hive.key(*package, "Strings")).items()}
        assert strings == {"mfg": "Contoso", "mfg2": "Fabrikam", "dev1.desc": "Contoso Adapter",
                           "dev2.desc": "Fabrikam Adapter", "dev3.desc": "Contoso USB Adapter"}
        # "PCI" and "pci" are one registry key.
        buses = hive.children(hive.key(*package, "Descriptors"))
        assert sorted(hive.name(node) for node in buses) == ["PCI", "USB"]
        fabrikam = hive.values(hive.key(*package, "Descriptors", "PCI", "VEN_2&DEV_2"))
        assert hive.string(fabrikam["Manufacturer"]) == "%mfg2%"

    inf = _read_inf(root / "Windows/INF/oem0.inf", "utf-16")
    assert inf["manufacturer"] == ["%Mfg% = Models, NTamd64", "%Mfg2% = Models2, NTx86"]
    assert "models2.ntx86" in inf and "install.ntx86.services" in inf


# --- SYSTEM: Select and control sets ----------------------------------------------------------

def _class_key(guid: str) -> str:
    return "{" + str(uuid.UUID(guid)).upper() + "}"


def test_select_and_control_sets(hivex: ctypes.CDLL, tree: Path, spec: WindowsImageSpec) -> None:
    with _hive(hivex, tree, "SYSTEM") as hive:
        select = hive.values(hive.key("Select"))
        for name in ("Current", "Default", "LastKnownGood"):
            assert hive.dword(select[name]) == spec.control_set == 2
        root_keys = sorted(hive.name(node) for node in hive.children(hive.root()))
        assert root_keys == ["ControlSet001", "ControlSet002", "DriverDatabase", "Select"]

        for driver in spec.drivers:
            current = hive.values(hive.key("ControlSet002", "Control", "Class",
                                           _class_key(driver.class_guid)))
            assert hive.string(current[""]) == driver.class_description
            assert hive.string(current["Class"]) == driver.class_name
            decoy = hive.values(hive.key("ControlSet001", "Control", "Class",
                                         _class_key(driver.class_guid)))
            assert hive.string(decoy[""]) != driver.class_description
            assert hive.string(decoy["Class"]) == driver.class_name

            service = hive.values(hive.key("ControlSet002", "Services", driver.service))
            assert hive.dword(service["Type"]) == 1
            assert hive.dword(service["Start"]) == (0 if driver.boot_start else 3)
            assert hive.dword(service["ErrorControl"]) == 1
            assert hive.value_type(service["ImagePath"])[0] == REG_EXPAND_SZ
            assert hive.string(service["ImagePath"]).endswith(f"\\{driver.service}.sys")
            decoy_services = hive.key("ControlSet001", "Services")
            assert not hive.child(decoy_services, driver.service)

        # Both control sets keep what was there before (wimlib reads ControlSet001).
        for control_set in ("ControlSet001", "ControlSet002"):
            language = hive.values(hive.key(control_set, "Control", "Nls", "Language"))
            assert hive.string(language["InstallLanguage"]) == "0409"
            assert hive.child(hive.key(control_set, "Services"), "Tcpip")


def test_control_set_one_gets_a_decoy_two(hivex: ctypes.CDLL, tmp_path: Path) -> None:
    driver = DriverSpec("contoso.inf", "oem0.inf")
    root = build_windows_tree(tmp_path, WindowsImageSpec(name="t", drivers=(driver,)))
    with _hive(hivex, root, "SYSTEM") as hive:
        assert hive.dword(hive.values(hive.key("Select"))["Current"]) == 1
        guid = _class_key(driver.class_guid)
        real = hive.values(hive.key("ControlSet001", "Control", "Class", guid))
        decoy = hive.values(hive.key("ControlSet002", "Control", "Class", guid))
        assert hive.string(real[""]) == "Network adapters"
        assert hive.string(decoy[""]) != "Network adapters"
        assert not hive.child(hive.root(), "DriverDatabase")


def test_images_without_servicing_content_are_unchanged(hivex: ctypes.CDLL,
                                                        tmp_path: Path) -> None:
    root = build_windows_tree(tmp_path, sample_specs()[0])
    assert not (root / "Windows/System32/config/DRIVERS").exists()
    assert not (root / "Windows/servicing").exists()
    assert not (root / "Windows/System32/DriverStore").exists()
    assert sorted(p.name for p in (root / "Windows/INF").iterdir()) == ["placeholder.txt"]
    with _hive(hivex, root, "SYSTEM") as hive:
        assert sorted(hive.name(node) for node in hive.children(hive.root())) == \
            ["ControlSet001", "Select"]
    with _hive(hivex, root, "SOFTWARE") as hive:
        current_version = hive.key(*CURRENT_VERSION)
        assert hive.children(current_version) == []


# --- package manifests ------------------------------------------------------------------

def _manifest_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_package_manifests(tree: Path, spec: WindowsImageSpec) -> None:
    folder = tree / "Windows/servicing/Packages"
    assert sorted(p.name for p in folder.iterdir()) == \
        sorted(f"{p.identity}.mum" for p in spec.packages if p.write_mum)
    for package in (p for p in spec.packages if p.write_mum):
        data = (folder / f"{package.identity}.mum").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf<?xml"), package.name
        assembly = ET.fromstring(data)
        assert assembly.tag == f"{ASM_V3}assembly"
        expected_assembly = {
            "manifestVersion": "1.0", "displayName": package.display_name,
            "description": package.description, "company": package.company,
            "copyright": package.copyright,
            "supportInformation": package.support_information,
            "creationTimeStamp": _manifest_time(package.creation_time),
            "lastUpdateTimeStamp": _manifest_time(package.last_update_time),
        }
        assert assembly.attrib == {k: v for k, v in expected_assembly.items() if v is not None}
        assert assembly.find(f"{ASM_V3}assemblyIdentity").attrib == {
            "name": package.name, "version": package.version,
            "processorArchitecture": package.arch,
            "language": package.language or "neutral", "publicKeyToken": package.token,
        }
        body = assembly.find(f"{ASM_V3}package")
        expected_package = {"identifier": package.name, "releaseType": package.release_type,
                            "restart": package.restart}
        assert body.attrib == {k: v for k, v in expected_package.items() if v is not None}
        _check_manifest_updates(body, package)
        _check_manifest_capability(body, package)
        _check_manifest_custom_information(body, package)


def _check_manifest_updates(body: ET.Element, package: PackageSpec) -> None:
    updates = body.findall(f"{ASM_V3}update")
    assert [u.get("name") for u in updates] == [f.name for f in package.features]
    for update, feature in zip(updates, package.features):
        assert update.get("displayName") == feature.display_name
        assert update.get("description") == feature.description
        assert update.get("restart") == feature.restart
        parent = update.find(f"{ASM_V3}applicable/{ASM_V3}detectUpdate/{ASM_V3}update")
        assert (parent.get("name") if parent is not None else None) == feature.parent
        if parent is not None:
            assert update.find(f"{ASM_V3}applicable").get("disposition") == "detect"
        selectable = update.find(f"{ASM_V3}selectable")
        assert (selectable is not None) == feature.selectable
        if selectable is not None:
            assert selectable.get("disposition") == "staged"
            assert selectable.find(f"{ASM_V3}detectNone").get("default") == "false"


def _check_manifest_capability(body: ET.Element, package: PackageSpec) -> None:
    identities = body.findall(
        f"{ASM_V3}declareCapability/{ASM_V3}capability/{ASM_V3}capabilityIdentity")
    if package.capability is None:
        assert identities == []
        return
    name, _, _, language, version = package.capability.split("~")
    assert [i.attrib for i in identities] == \
        [{"name": name, "language": language, "version": version}]


def _check_manifest_custom_information(body: ET.Element, package: PackageSpec) -> None:
    information = body.find(f"{ASM_V3}customInformation")
    if not package.custom_information:
        assert information is None
        return
    assert {child.tag.replace(ASM_V3, ""): child.text for child in information} == \
        package.custom_information


def test_manifest_escapes_special_characters(tree: Path, spec: WindowsImageSpec) -> None:
    """The sample puts quotes, <, > and & into texts; they must round-trip."""
    update = next(p for p in spec.packages if p.name == "Package_for_KB5005565")
    assert "&" in update.description and "<" in update.custom_information["Servicing_Type"]
    telnet = next(f for p in spec.packages for f in p.features if f.name == "TelnetClient")
    assert set('"<&>') <= set(telnet.description)
    # Checked structurally by test_package_manifests; here the raw text must
    # not hold the characters unescaped.
    foundation = next(p for p in spec.packages if p.release_type == "Foundation")
    raw = (tree / f"Windows/servicing/Packages/{foundation.identity}.mum").read_text("utf-8-sig")
    assert 'Telnet &quot;client&quot; for &lt;remote&gt; terminals &amp; devices.' in raw


def test_tricky_text_round_trips_through_the_manifest(tmp_path: Path) -> None:
    text = "tab\there, line\nbreak, CR\r, quotes \"'\", markup <a & b>, unicode ✓"
    package = PackageSpec("Tricky", display_name=text, features=(
        FeatureSpec("F", description=text, parent="Parent-1", selectable=False),),
        custom_information={"Note": text})
    root = build_windows_tree(tmp_path, WindowsImageSpec(name="t", packages=(package,)))
    assembly = ET.fromstring(
        (root / f"Windows/servicing/Packages/{package.identity}.mum").read_bytes())
    assert assembly.get("displayName") == text
    update = assembly.find(f"{ASM_V3}package/{ASM_V3}update")
    assert update.get("description") == text
    assert update.find(f"{ASM_V3}selectable") is None
    assert assembly.find(f"{ASM_V3}package/{ASM_V3}customInformation/{ASM_V3}Note").text == text


# --- INF files ---------------------------------------------------------------------------

def _read_inf(path: Path, encoding: str) -> dict[str, list[str]]:
    """Sections of an INF (names lower-cased) with their logical lines.

    Joins lines ending in a backslash, drops comments outside quotes and
    blank lines.
    """
    data = path.read_bytes()
    boms = {"utf-16": b"\xff\xfe", "utf-8": b"\xef\xbb\xbf", "ansi": b""}
    assert data.startswith(boms[encoding]), f"{path.name}: expected a {encoding} BOM"
    if encoding == "ansi":
        assert not data.startswith((b"\xff\xfe", b"\xef\xbb\xbf"))
    codec = {"utf-16": "utf-16", "utf-8": "utf-8-sig", "ansi": "cp1252"}[encoding]
    text = data.decode(codec)
    assert "\r\n" in text
    text = re.sub(r"\\[ \t]*\r?\n", " ", text)
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw_line in text.splitlines():
        line = _strip_inf_comment(raw_line).strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].lower(), [])
        else:
            assert current is not None, f"{path.name}: line outside a section: {line!r}"
            current.append(re.sub(r"\s+", " ", line))
    return sections


def _strip_inf_comment(line: str) -> str:
    quoted = False
    for position, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            return line[:position]
    return line


def _inf_entries(lines: list[str]) -> dict[str, str]:
    return {key.strip().lower(): value.strip()
            for key, _, value in (line.partition("=") for line in lines)}


def test_driver_inf_files(tree: Path, spec: WindowsImageSpec) -> None:
    for driver in spec.drivers:
        folder = tree / "Windows/System32/DriverStore/FileRepository" / driver.folder_name
        assert sorted(p.name for p in folder.iterdir()) == \
            sorted([driver.inf_name, driver.catalog, f"{driver.service}.sys"])
        inf = _read_inf(folder / driver.inf_name, driver.encoding)
        _check_inf_version(inf, driver)
        _check_inf_models(inf, driver)
        _check_inf_service(inf, driver)

        published = tree / "Windows/INF" / driver.published_name
        if driver.third_party:
            assert published.read_bytes() == (folder / driver.inf_name).read_bytes()
        else:
            assert not published.exists()


def _check_inf_version(inf: dict[str, list[str]], driver: DriverSpec) -> None:
    version = _inf_entries(inf["version"])
    strings = {key: value.strip('"') for key, value in _inf_entries(inf["strings"]).items()}
    year, month, day = driver.date
    assert version == {
        "signature": '"$WINDOWS NT$"',
        "class": driver.class_name,
        "classguid": driver.class_guid,
        "provider": "%ProviderName%",
        "driverver": f"{month:02d}/{day:02d}/{year},{'.'.join(map(str, driver.version))}",
        f"catalogfile.nt{driver.arch}": driver.catalog,
        "pnplockdown": "1",
    }
    assert strings["providername"] == driver.provider
    assert "é" in strings["diskname"]


def _check_inf_models(inf: dict[str, list[str]], driver: DriverSpec) -> None:
    strings = {key: value.strip('"') for key, value in _inf_entries(inf["strings"]).items()}
    arches = list(dict.fromkeys(d.arch or driver.arch for d in driver.devices))
    assert inf["manufacturer"] == [f"%Mfg% = Models, {', '.join('NT' + a for a in arches)}"]
    assert strings["mfg"] == driver.devices[0].manufacturer
    for number, device in enumerate(driver.devices, start=1):
        models = inf[f"models.nt{device.arch or driver.arch}"]
        ids = ", ".join((device.hardware_id, *device.compatible_ids))
        assert f"%Dev{number}.Desc% = Install, {ids}" in models
        assert strings[f"dev{number}.desc"] == device.description
    for arch in arches:
        assert inf[f"install.nt{arch}"] == ["CopyFiles = Driver_Files"]
        assert inf[f"install.nt{arch}.services"] == \
            [f"AddService = {driver.service}, 0x00000002, Service_Inst"]


def _check_inf_service(inf: dict[str, list[str]], driver: DriverSpec) -> None:
    assert _inf_entries(inf["service_inst"]) == {
        "servicetype": "1", "starttype": "0" if driver.boot_start else "3",
        "errorcontrol": "1", "servicebinary": f"%12%\\{driver.service}.sys",
    }


def test_inf_syntax_that_readers_must_handle(tree: Path, spec: WindowsImageSpec) -> None:
    """Comment lines, an inline comment and a continuation line are present."""
    for driver in spec.drivers:
        path = (tree / "Windows/System32/DriverStore/FileRepository" / driver.folder_name
                / driver.inf_name)
        codec = {"utf-16": "utf-16", "utf-8": "utf-8-sig", "ansi": "cp1252"}[driver.encoding]
        lines = path.read_bytes().decode(codec).split("\r\n")
        assert lines[0].startswith(";")
        assert any(line.rstrip().endswith("\\") for line in lines)
        assert any(line.startswith("Provider") and ";" in line for line in lines)


def test_inf_encodings_are_real(tree: Path, spec: WindowsImageSpec) -> None:
    drivers = {d.published_name: d for d in spec.drivers}
    repository = tree / "Windows/System32/DriverStore/FileRepository"

    def raw(name: str) -> bytes:
        driver = drivers[name]
        return (repository / driver.folder_name / driver.inf_name).read_bytes()

    ansi = raw("oem1.inf")
    assert "é".encode("cp1252") in ansi and "é".encode("utf-8") not in ansi
    assert "Réseau".encode("cp1252") in ansi
    utf16 = raw("oem0.inf")
    assert utf16[:2] == b"\xff\xfe" and "[Version]".encode("utf-16-le") in utf16
    utf8 = raw("oem2.inf")
    assert utf8[:3] == b"\xef\xbb\xbf" and "™".encode("utf-8") in utf8


# --- appx manifests ----------------------------------------------------------------------

def test_appx_manifests(tree: Path, spec: WindowsImageSpec) -> None:
    for app in spec.appx:
        manifest = tree / "Program Files/WindowsApps" / app.full_name / "AppxManifest.xml"
        package = ET.fromstring(manifest.read_bytes())
        assert package.tag == f"{APPX_NS}Package"
        identity = package.find(f"{APPX_NS}Identity").attrib
        expected = {"Name": app.name, "Publisher": "CN=Contoso",
                    "Version": ".".join(map(str, app.version)),
                    "ProcessorArchitecture": app.arch}
        if app.resource_id:
            expected["ResourceId"] = app.resource_id
        assert identity == expected


# --- wimlib still understands the image ---------------------------------------------------

def test_wimlib_reads_the_servicing_image(wimlib_imagex: str, tmp_path: Path,
                                          spec: WindowsImageSpec) -> None:
    wim = build_wim(tmp_path / "servicing.wim", [spec])
    (image,) = wim_xml(wimlib_imagex, wim).findall("IMAGE")
    windows = image.find("WINDOWS")
    assert windows.findtext("EDITIONID") == spec.edition_id
    assert windows.findtext("ARCH") == "9"
    assert windows.findtext("LANGUAGES/DEFAULT") == spec.default_language
    listing = subprocess.run([wimlib_imagex, "dir", str(wim), "1"], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    assert "/Windows/System32/config/DRIVERS" in listing
    assert "/Windows/INF/oem1.inf" in listing


# --- invalid specs ----------------------------------------------------------------------

BAD_SPECS = [
    (lambda: FeatureSpec("F", restart="sometimes"), ValueError),
    (lambda: FeatureSpec("F", selection=2), ValueError),
    (lambda: FeatureSpec("F", state=-1), ValueError),
    (lambda: FeatureSpec("a\\b"), ValueError),
    (lambda: FeatureSpec("F", description="bell\x07"), ValueError),
    (lambda: PackageSpec("../evil"), ValueError),
    (lambda: PackageSpec("P", version="1.2.3"), ValueError),
    (lambda: PackageSpec("P", token="31BF3856AD364E35"), ValueError),
    (lambda: PackageSpec("P", arch="amd64~x"), ValueError),
    (lambda: PackageSpec("P", install_time=datetime(1600, 1, 1)), ValueError),
    (lambda: PackageSpec("P", install_time="2021-01-01"), TypeError),
    (lambda: PackageSpec("P", capability="OpenSSH.Client~0.0.1.0"), ValueError),
    (lambda: PackageSpec("P", capability="A~x~~~0.0.1.0"), ValueError),
    (lambda: PackageSpec("P", custom_information={"bad key": "v"}), ValueError),
    (lambda: PackageSpec("P", custom_information={"xmlKey": "v"}), ValueError),
    (lambda: PackageSpec("P", features=(FeatureSpec("F"), FeatureSpec("f"))), ValueError),
    (lambda: PackageSpec("P", features=("F",)), TypeError),
    (lambda: DeviceSpec("D", "NOBACKSLASH"), ValueError),
    (lambda: DeviceSpec("D", "PCI\\A\\B"), ValueError),
    (lambda: DeviceSpec("D", "PCI\\VEN 1"), ValueError),
    (lambda: DeviceSpec("D", "PCI\\VEN_1", ("PCI\\CC,02",)), ValueError),
    (lambda: DeviceSpec('Say "hi"', "PCI\\VEN_1"), ValueError),
    (lambda: DeviceSpec("100% fast", "PCI\\VEN_1"), ValueError),
    (lambda: DeviceSpec("D", "PCI\\VEN_1", arch="mips"), ValueError),
    (lambda: DriverSpec("driver.sys", "oem0.inf"), ValueError),
    (lambda: DriverSpec("../x.inf", "oem0.inf"), ValueError),
    (lambda: DriverSpec("x.inf", "sub/oem0.inf"), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", hash16="XYZ"), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", class_guid="4d36e972-e325-11ce-bfc1-08002be10318"),
     ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", date=(2021, 2, 30)), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", version=(1, 2, 3, 65536)), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", encoding="utf-32"), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", database="SOFTWARE"), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", devices=()), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", catalog="../x.cat"), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", service="a\\b"), ValueError),
    (lambda: DriverSpec("x.inf", "x.inf", oem_path="C:\\src"), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", devices=(
        DeviceSpec("A", "PCI\\VEN_1"), DeviceSpec("B", "pci\\ven_1"))), ValueError),
    (lambda: DriverSpec("x.inf", "oem0.inf", encoding="ansi", provider="Contoso ✓"), ValueError),
    (lambda: AppxSpec("Bad_Name"), ValueError),
    (lambda: AppxSpec("Contoso.App", arch="amd64"), ValueError),
    (lambda: AppxSpec("Contoso.App", version=(1, 2, 3)), ValueError),
    (lambda: AppxSpec("Contoso.App", publisher_id="short"), ValueError),
    (lambda: AppxSpec("Contoso.App", resource_id="a/b"), ValueError),
    (lambda: WindowsImageSpec(name="t", control_set=0), ValueError),
    (lambda: WindowsImageSpec(name="t", reserved_storage=2), ValueError),
    (lambda: WindowsImageSpec(name="t", driver_database="drivers"), ValueError),
    (lambda: WindowsImageSpec(name="t", packages=(PackageSpec("P"), PackageSpec("p"))),
     ValueError),
    (lambda: WindowsImageSpec(name="t", packages=(
        PackageSpec("P", features=(FeatureSpec("F", selection=1),)),
        PackageSpec("Q", features=(FeatureSpec("F", selection=0),)))), ValueError),
    (lambda: WindowsImageSpec(name="t", drivers=(
        DriverSpec("a.inf", "oem0.inf", hash16="1111111111111111"),
        DriverSpec("b.inf", "OEM0.inf", hash16="2222222222222222"))), ValueError),
    (lambda: WindowsImageSpec(name="t", drivers=(
        DriverSpec("a.inf", "oem0.inf"), DriverSpec("a.inf", "oem1.inf", service="b"))),
     ValueError),
    (lambda: WindowsImageSpec(name="t", drivers=(
        DriverSpec("a.inf", "oem0.inf"), DriverSpec("b.inf", "oem1.inf", service="a"))),
     ValueError),
    (lambda: WindowsImageSpec(name="t", drivers=(
        DriverSpec("a.inf", "oem0.inf"),
        DriverSpec("b.inf", "oem1.inf", class_description="Other adapters"))), ValueError),
    (lambda: WindowsImageSpec(name="t", drivers=(DriverSpec("tcpip.inf", "oem0.inf"),)),
     ValueError),
    (lambda: WindowsImageSpec(name="t", appx=(AppxSpec("Contoso.App"),
                                              AppxSpec("contoso.app"))), ValueError),
    (lambda: WindowsImageSpec(name="t", drivers=(PackageSpec("P"),)), TypeError),
]


@pytest.mark.parametrize("make, error", BAD_SPECS)
def test_invalid_specs_are_rejected(make, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DriverSpec("x.inf", "oem0.inf").arch = "x86"  # type: ignore[misc]
