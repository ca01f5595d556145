"""The Python side of servicing: enums against dismapi.h, records built from
the extension's tuples, argument checks made before DISM is called, and the
.inf enumeration of add_driver on real directory trees."""
from __future__ import annotations

import ast
import sys
import dataclasses
import datetime as dt
import os
import re
from pathlib import Path

import pytest

import dism
from dism import types

from support.raw_records import raw_record
from dism.session import find_driver_infs, join_feature_names

from support import REPO

HEADER = REPO / "src" / "include" / "dismapi.h"
UTC = dt.timezone.utc


# --- enums mirror the C header -------------------------------------------------------

def c_enum(name: str) -> dict:
    """The members of `typedef enum ... } name;` in dismapi.h, aliases resolved."""
    text = HEADER.read_text()
    match = re.search(r"typedef enum \w+ \{([^}]*)\}\s*" + name + r";", text)
    assert match, f"{name} is not in dismapi.h"
    body = re.sub(r"/\*.*?\*/", "", match.group(1), flags=re.S)
    members: dict = {}
    for entry in filter(None, (part.strip() for part in body.split(","))):
        member, value = (s.strip() for s in entry.split("="))
        members[member] = members[value] if value in members else int(value, 0)
    return members


def c_define(name: str) -> int:
    match = re.search(r"#define " + name + r"\s+(0x[0-9A-Fa-f]+|\d+)", HEADER.read_text())
    assert match, f"{name} is not in dismapi.h"
    return int(match.group(1), 0)


# Each C enum with its Python enum and the prefix its C members share.  A
# Python member is named after its C member without the prefix, in upper snake
# case (DismReleaseTypeOnDemandPack: ON_DEMAND_PACK), except for those below.
ENUMS = {
    "DismPackageFeatureState": (types.PackageFeatureState, "DismState"),
    "DismReleaseType": (types.ReleaseType, "DismReleaseType"),
    "DismRestartType": (types.RestartType, "DismRestart"),
    "DismDriverSignature": (types.DriverSignature, "DismDriverSignature"),
    "DismFullyOfflineInstallableType": (types.FullyOfflineInstallable, "DismFullyOffline"),
    "DismImageHealthState": (types.ImageHealthState, "DismImage"),
    "DismStubPackageOption": (types.StubPackageOption, "DismStubPackageOption"),
    "DismRegistryHive": (types.RegistryHive, "DismRegistry"),
}
NAMED_OTHERWISE = {"DismFullyOfflineInstallableUndetermined": "UNDETERMINED"}


def python_name(c_member: str, prefix: str) -> str:
    assert c_member.startswith(prefix), c_member
    if c_member in NAMED_OTHERWISE:
        return NAMED_OTHERWISE[c_member]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", c_member[len(prefix):]).upper()


@pytest.mark.parametrize("c_name", sorted(ENUMS))
def test_enum_values_are_the_c_values(c_name):
    py_enum, prefix = ENUMS[c_name]
    members = c_enum(c_name)
    names = {c_member: python_name(c_member, prefix) for c_member in members}
    for c_member, value in members.items():
        assert py_enum[names[c_member]] == value, c_member
    # No Python member without a C counterpart.
    assert set(py_enum.__members__) == set(names.values())


def test_removed_is_an_alias_of_resolved():
    assert types.PackageFeatureState.REMOVED is types.PackageFeatureState.RESOLVED
    assert types.PackageFeatureState(3).name == "RESOLVED"


def test_reserved_storage_state_is_the_c_defines():
    assert types.ReservedStorageState.DISABLED == c_define("DISM_RESERVED_STORAGE_DISABLED")
    assert types.ReservedStorageState.ENABLED == c_define("DISM_RESERVED_STORAGE_ENABLED")


# --- SYSTEMTIME -----------------------------------------------------------------------

def test_systemtime_takes_the_eight_fields_of_systemtime():
    # 2019-12-07 was a Saturday: day_of_week 6 sits between month and day.
    assert types.systemtime((2019, 12, 6, 7, 9, 52, 25, 125)) == \
        dt.datetime(2019, 12, 7, 9, 52, 25, 125000, tzinfo=UTC)


def test_systemtime_still_takes_the_seven_fields_of_image_info():
    assert types.systemtime((2019, 12, 7, 9, 52, 25, 0)) == \
        dt.datetime(2019, 12, 7, 9, 52, 25, tzinfo=UTC)


@pytest.mark.parametrize("parts", [None, (), (0,) * 8, (0,) * 7,
                                   (2019, 13, 0, 1, 0, 0, 0, 0),   # month 13
                                   (2019, 2, 0, 30, 0, 0, 0, 0),   # 30 February
                                   (2019, 1, 0, 1, 24, 0, 0, 0),   # hour 24
                                   (2019, 1, 0, 1, 0, 0, 0, 1000)])  # 1000 ms
def test_systemtime_without_a_valid_time_is_none(parts):
    assert types.systemtime(parts) is None


def test_systemtime_of_a_wrong_shape_is_an_error():
    with pytest.raises(ValueError):
        types.systemtime((2019, 1, 1))


# --- records from the extension's tuples ----------------------------------------------

def raw_package_info(**changes):
    raw = {
        "name": "Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.2", "state": 4,
        "release_type": 4, "install_time": (2021, 3, 2, 9, 10, 11, 12, 0),
        "applicable": 1, "copyright": "(c) Microsoft", "company": "Microsoft Corporation",
        "creation_time": (0,) * 8, "display_name": "Security Update",
        "description": "Fix", "install_client": "DISM Package Manager Provider",
        "install_package_name": "update.mum", "last_update_time": (2021, 3, 2, 9, 10, 11, 12, 0),
        "product_name": "Windows", "product_version": "10.0.1.2", "restart_required": 1,
        "fully_offline": 2, "support_information": "http://support.microsoft.com",
        "custom_properties": [{"name": "Id", "value": "7", "path": "Update\\Meta"}],
        "features": [{"name": "A", "state": 4}, {"name": "B", "state": 2}],
    }
    raw.update(changes)
    return raw


def test_package_info_from_raw():
    info = types.PackageInfo._from_raw(raw_record(types.PackageInfo, raw_package_info()))
    assert info.name.startswith("Package_for_KB1")
    assert info.state is types.PackageFeatureState.INSTALLED
    assert info.release_type is types.ReleaseType.SECURITY_UPDATE
    assert info.install_time == dt.datetime(2021, 3, 9, 10, 11, 12, tzinfo=UTC)
    assert info.last_update_time == info.install_time
    assert info.creation_time is None
    assert info.applicable is True
    assert info.restart_required is types.RestartType.POSSIBLE
    assert info.fully_offline is types.FullyOfflineInstallable.UNDETERMINED
    assert info.custom_properties == (types.CustomProperty("Id", "7", "Update\\Meta"),)
    assert info.features == (types.Feature("A", types.PackageFeatureState.INSTALLED),
                             types.Feature("B", types.PackageFeatureState.STAGED))
    assert isinstance(info.features, tuple) and isinstance(info.custom_properties, tuple)
    # DismGetPackageInfo (not Ex) has no capability identity at all.
    assert info.capability_id is None


def test_package_info_ex_keeps_the_capability_id():
    raw = raw_package_info(capability_id="Language.Basic~~~de-DE~0.0.1.0")
    info = types.PackageInfo._from_raw(raw_record(types.PackageInfo, raw))
    assert info.capability_id == "Language.Basic~~~de-DE~0.0.1.0"


def test_unknown_enum_values_are_kept_as_ints():
    info = types.PackageInfo._from_raw(raw_record(types.PackageInfo, raw_package_info(
        state=42, release_type=99, restart_required=7, fully_offline=5,
        features=[{"name": "A", "state": 8}])))
    assert (info.state, info.release_type, info.restart_required, info.fully_offline) == \
        (42, 99, 7, 5)
    assert type(info.state) is int and type(info.release_type) is int
    assert type(info.features[0].state) is int
    package = types.DriverPackage._from_raw(raw_record(types.DriverPackage, raw_driver_package(signature=3)))
    assert package.signature == 3 and type(package.signature) is int
    driver = types.Driver._from_raw(raw_record(types.Driver, raw_driver(architecture=77)))
    assert driver.architecture == 77 and type(driver.architecture) is int


def test_package_feature_and_capability_from_raw():
    package = types.Package._from_raw(raw_record(types.Package, {"name": "P", "state": 5, "release_type": 14,
                                       "install_time": (0,) * 8}))
    assert package == types.Package("P", types.PackageFeatureState.INSTALL_PENDING,
                                    types.ReleaseType.ON_DEMAND_PACK, None)
    feature = types.FeatureInfo._from_raw(raw_record(types.FeatureInfo, {
        "name": "TelnetClient", "state": 2, "display_name": "Telnet Client",
        "description": "d", "restart_required": 2, "custom_properties": []}))
    assert feature.state is types.PackageFeatureState.STAGED
    assert feature.restart_required is types.RestartType.REQUIRED
    assert feature.custom_properties == ()
    capability = types.CapabilityInfo._from_raw(raw_record(types.CapabilityInfo, {
        "name": "Language.Basic~~~en-US~0.0.1.0", "state": 0, "display_name": None,
        "description": None, "download_size": 4294967295, "install_size": 0}))
    assert capability.state is types.PackageFeatureState.NOT_PRESENT
    assert capability.download_size == 0xFFFFFFFF and capability.display_name is None
    assert types.Capability._from_raw(raw_record(types.Capability, {"name": "X", "state": 6})).state \
        is types.PackageFeatureState.SUPERSEDED


def raw_driver_package(**changes):
    raw = {"published_name": "oem3.inf", "original_file_name": "e1d.inf", "inbox": 0,
           "catalog_file": "e1d.cat", "class_name": "Net",
           "class_guid": "{4D36E972-E325-11CE-BFC1-08002BE10318}",
           "class_description": "Network adapters", "boot_critical": 1, "signature": 2,
           "provider_name": "Intel", "date": (2020, 6, 5, 12, 0, 0, 0, 0),
           "version": (12, 19, 1, 37)}
    raw.update(changes)
    return raw


def raw_driver(**changes):
    raw = {"manufacturer_name": "Intel", "hardware_description": "Intel(R) Ethernet",
           "hardware_id": "PCI\\VEN_8086&DEV_15B8", "architecture": 9,
           "service_name": "e1dexpress", "compatible_ids": None, "exclude_ids": None}
    raw.update(changes)
    return raw


def test_driver_records_from_raw():
    package = types.DriverPackage._from_raw(raw_record(types.DriverPackage, raw_driver_package()))
    assert package.inbox is False and package.boot_critical is True
    assert package.signature is types.DriverSignature.SIGNED
    assert package.date == dt.datetime(2020, 6, 12, tzinfo=UTC)
    assert isinstance(package.version, types.Version)
    assert str(package.version) == "12.19.1.37" and package.version.revision == 37
    assert package.version < types.Version._from_quad((12, 19, 2, 0))
    driver = types.Driver._from_raw(raw_record(types.Driver, raw_driver()))
    assert driver.architecture is types.Architecture.AMD64
    assert driver.compatible_ids is None and driver.hardware_id.startswith("PCI\\")
    with pytest.raises(ValueError):
        types.DriverPackage._from_raw(raw_record(types.DriverPackage, raw_driver_package(version=(1, 2, 3))))


def test_appx_package_and_product_key_info_from_raw():
    appx = types.AppxPackage._from_raw(raw_record(types.AppxPackage, {
        "package_name": "Microsoft.BingWeather_4.25.20211.0_neutral_~_8wekyb3d8bbwe",
        "display_name": "Microsoft.BingWeather", "publisher_id": "8wekyb3d8bbwe",
        "version": (4, 25, 20211, 0), "architecture": 11, "resource_id": "~",
        "install_location": "%SYSTEMDRIVE%\\Program Files\\WindowsApps\\x", "region": None}))
    assert appx.architecture is types.Architecture.NEUTRAL
    assert str(appx.version) == "4.25.20211.0" and appx.region is None
    key = types.ProductKeyInfo._from_raw(("Professional", "Retail"))
    assert key == types.ProductKeyInfo(edition_id="Professional", channel="Retail")


def test_a_record_missing_a_field_is_an_error():
    raw = raw_package_info()
    del raw["features"]
    # The extension's tuple then stops before the field: the record cannot be made.
    with pytest.raises(TypeError):
        types.PackageInfo._from_raw(raw_record(types.PackageInfo, raw))


def test_records_are_frozen():
    feature = types.Feature._from_raw(raw_record(types.Feature, {"name": "A", "state": 4}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        feature.state = types.PackageFeatureState.STAGED  # type: ignore[misc]


def test_new_names_are_exported():
    for name in ["PackageFeatureState", "ReleaseType", "RestartType", "DriverSignature",
                 "FullyOfflineInstallable", "ImageHealthState", "StubPackageOption",
                 "RegistryHive", "ReservedStorageState", "CustomProperty", "Package",
                 "PackageInfo", "Feature", "FeatureInfo", "Capability", "CapabilityInfo",
                 "DriverPackage", "Driver", "AppxPackage", "ProductKeyInfo",
                 "ExportNotAvailableError", "NotFoundError", "UnknownFeatureError",
                 "ParentFeatureDisabledError", "NotApplicableError", "InvalidProductKeyError",
                 "find_driver_infs"]:
        assert name in dism.__all__ and hasattr(dism, name), name


def test_servicing_error_classes_and_their_bases():
    assert issubclass(dism.ExportNotAvailableError, dism.NotSupportedError)
    for cls in (dism.NotFoundError, dism.UnknownFeatureError):
        assert issubclass(cls, dism.DismError) and issubclass(cls, LookupError)
    for cls in (dism.ParentFeatureDisabledError, dism.NotApplicableError,
                dism.InvalidProductKeyError):
        assert issubclass(cls, dism.DismError) and not issubclass(cls, LookupError)
    # The classes are the extension's own when it has them: one class per name.
    for name in ("ExportNotAvailableError", "NotFoundError", "UnknownFeatureError"):
        if hasattr(dism._dism, name):
            assert getattr(dism, name) is getattr(dism._dism, name)


# --- feature names ---------------------------------------------------------------------

def test_feature_names_are_joined_with_semicolons():
    assert join_feature_names(["NetFx3"]) == "NetFx3"
    assert join_feature_names(("NetFx3", "TelnetClient")) == "NetFx3;TelnetClient"


@pytest.mark.parametrize("names", [(), ("",), ("  ",), ("A", ""), ("A;B",), ("A", "B;")])
def test_bad_feature_names_are_refused(names):
    with pytest.raises(ValueError):
        join_feature_names(names)


def test_feature_names_must_be_strings():
    with pytest.raises(TypeError):
        join_feature_names([b"NetFx3"])  # type: ignore[list-item]


# --- argument checks on a real session, made before any DISM call ---------------------

@pytest.fixture
def session(offline_tree):
    with dism.Session(offline_tree) as s:
        yield s


def test_bad_feature_names_never_reach_dism(session):
    with pytest.raises(ValueError, match="';'"):
        session.enable_features("NetFx3;TelnetClient")
    with pytest.raises(ValueError):
        session.enable_features()
    with pytest.raises(ValueError):
        session.disable_features("NetFx3", "")


def test_a_package_is_named_one_way_only(session, tmp_path):
    with pytest.raises(ValueError, match="not both"):
        session.get_features("Foundation", package_path=tmp_path / "p.cab")
    with pytest.raises(ValueError, match="not both"):
        session.enable_features("A", package="P", package_path=tmp_path / "p.cab")
    with pytest.raises(ValueError):
        session.get_package_info()
    with pytest.raises(ValueError):
        session.get_package_info("P", path=tmp_path / "p.cab")
    with pytest.raises(ValueError):
        session.remove_package()


def test_paths_must_be_text(session):
    with pytest.raises(TypeError):
        session.add_package(b"/tmp/x.cab")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        session.enable_features("A", sources=[b"/sources"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        session.get_registry_mount_point("SOFTWARE")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        session.get_registry_mount_point(True)


CLOSED_SESSION_CALLS = [
    ("get_features", (), {}),
    ("get_feature_info", ("NetFx3",), {}),
    ("get_feature_parents", ("NetFx3",), {}),
    ("enable_features", ("NetFx3",), {"sources": ["/src"]}),
    ("disable_features", ("NetFx3",), {}),
    ("get_packages", (), {}),
    ("get_package_info", ("P",), {}),
    ("add_package", ("/x.cab",), {}),
    ("remove_package", ("P",), {}),
    ("get_drivers", (), {}),
    ("get_driver_info", ("oem0.inf",), {}),
    ("remove_driver", ("oem0.inf",), {}),
    ("get_capabilities", (), {}),
    ("get_capability_info", ("C",), {}),
    ("add_capability", ("C",), {}),
    ("remove_capability", ("C",), {}),
    ("add_language", ("de-DE",), {}),
    ("remove_language", ("de-DE",), {}),
    ("get_provisioned_appx_packages", (), {}),
    ("add_provisioned_appx_package", ("/a.appx",), {"skip_license": True}),
    ("remove_provisioned_appx_package", ("A",), {}),
    ("apply_unattend", ("/u.xml",), {}),
    ("check_health", (), {}),
    ("restore_health", (), {}),
    ("get_reserved_storage_state", (), {}),
    ("set_reserved_storage_state", (True,), {}),
    ("get_current_edition", (), {}),
    ("get_target_editions", (), {}),
    ("set_edition", ("Enterprise",), {}),
    ("set_product_key", ("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",), {}),
    ("validate_product_key", ("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",), {}),
    ("get_product_key_info", ("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",), {}),
    ("get_registry_mount_point", (dism.RegistryHive.SOFTWARE,), {}),
]


@pytest.mark.parametrize("method, args, kwargs", CLOSED_SESSION_CALLS,
                         ids=[call[0] for call in CLOSED_SESSION_CALLS])
def test_servicing_on_a_closed_session_raises(offline_tree, method, args, kwargs):
    s = dism.Session(offline_tree)
    s.close()
    with pytest.raises(dism.InvalidSessionError):
        getattr(s, method)(*args, **kwargs)


def test_add_driver_on_a_closed_session_raises(offline_tree, tmp_path):
    inf = tmp_path / "net.inf"
    inf.write_text("[Version]\n")
    s = dism.Session(offline_tree)
    s.close()
    with pytest.raises(dism.InvalidSessionError):
        s.add_driver(inf)


# --- the .inf files add_driver takes ---------------------------------------------------

@pytest.fixture
def driver_tree(tmp_path) -> Path:
    """root/ with INFs at several depths, other files, a directory named like an
    INF, a symlinked directory (out of the tree and back to its root), a link to
    an INF file and a dangling link."""
    root = tmp_path / "drivers"
    outside = tmp_path / "outside"
    for folder in (root / "sub" / "deeper", root / "dir.inf", outside):
        folder.mkdir(parents=True)
    for f in ["a.inf", "B.INF", "readme.txt", "a.inf.bak", "sub/c.Inf", "sub/deeper/d.inf",
              "sub/deeper/e.cat", "dir.inf/f.inf"]:
        (root / f).write_text("[Version]\n")
    (outside / "g.inf").write_text("[Version]\n")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "h.inf").symlink_to(outside / "g.inf")
    (root / "dangling.inf").symlink_to(tmp_path / "missing.inf")
    return root


def test_a_folder_gives_its_own_infs(driver_tree):
    assert find_driver_infs(driver_tree) == [
        str(driver_tree / name) for name in ["B.INF", "a.inf", "h.inf"]]


def test_recurse_gives_every_inf_below_without_following_links(driver_tree):
    found = find_driver_infs(driver_tree, recurse=True)
    expected = sorted(str(driver_tree / name) for name in [
        "B.INF", "a.inf", "h.inf", "sub/c.Inf", "sub/deeper/d.inf", "dir.inf/f.inf"])
    assert found == expected
    assert not any("linked" in path or "loop" in path for path in found)


def test_a_file_is_taken_as_it_is(driver_tree):
    assert find_driver_infs(driver_tree / "sub" / "c.Inf") == [str(driver_tree / "sub" / "c.Inf")]
    assert find_driver_infs(str(driver_tree / "a.inf"), recurse=True) == \
        [str(driver_tree / "a.inf")]


def test_a_folder_without_infs_is_not_found(driver_tree, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no drivers here")
    for recurse in (False, True):
        with pytest.raises(dism.PathNotFoundError) as e:
            find_driver_infs(empty, recurse=recurse)
        assert e.value.hresult == 0x80070002
        assert str(empty) in e.value.message
        assert isinstance(e.value, FileNotFoundError)
    # The INF is only below: without recurse the folder holds none.
    (tmp_path / "nested" / "x").mkdir(parents=True)
    (tmp_path / "nested" / "x" / "y.inf").write_text("[Version]\n")
    with pytest.raises(dism.PathNotFoundError):
        find_driver_infs(tmp_path / "nested")
    assert find_driver_infs(tmp_path / "nested", recurse=True) == \
        [str(tmp_path / "nested" / "x" / "y.inf")]


def test_driver_paths_must_be_text(driver_tree):
    with pytest.raises(TypeError):
        find_driver_infs(os.fsencode(driver_tree))  # type: ignore[arg-type]


def stub_names(body):
    """Top-level names of the stub, following `if sys.platform == "win32":`
    the way a type checker on this platform does."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.AnnAssign):
            yield node.target.id
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "sys.platform == 'win32'":
            yield from stub_names(node.body if sys.platform == "win32" else node.orelse)


def test_the_stub_declares_exactly_the_extensions_public_names():
    stub = Path(dism.__file__).with_name("_dism.pyi")
    declared = set(stub_names(ast.parse(stub.read_text()).body))
    public = {name for name in dir(dism._dism) if not name.startswith("_")}
    assert public - declared == set(), "missing from _dism.pyi"
    assert {name for name in declared if not name.startswith("_")} - public == set(), \
        "declared in _dism.pyi but not in the extension"


# --- one schema: each dataclass against the extension's field table ----------------

def record_classes():
    return [cls for cls in vars(types).values()
            if isinstance(cls, type) and issubclass(cls, types._Record) and cls._dism_struct]


@pytest.mark.parametrize("cls", record_classes(), ids=lambda cls: cls.__name__)
def test_each_record_has_the_extensions_fields_in_order(cls):
    """A field added to the C table (src/ext/convert.c) and not to the
    dataclass, or the other way round, or in another order, fails here."""
    names = tuple(spec.metadata["dism"] for spec in dataclasses.fields(cls))
    assert names == dism._dism.RECORD_FIELDS[cls._dism_struct]


def test_every_record_of_the_extension_has_a_dataclass():
    described = {cls._dism_struct for cls in record_classes()}
    # DismPackageInfo is DismPackageInfoEx without its last field, CapabilityId:
    # PackageInfo serves both.
    assert set(dism._dism.RECORD_FIELDS) - described == {"DismPackageInfo"}
    plain, ex = (dism._dism.RECORD_FIELDS[name] for name in ("DismPackageInfo", "DismPackageInfoEx"))
    assert ex == plain + ("CapabilityId",)


def test_a_record_is_built_from_the_extensions_tuple():
    raw = ("Package_for_KB1", 4, 14, (2021, 3, 2, 9, 10, 11, 12))
    assert types.Package._from_raw(raw) == types.Package(
        "Package_for_KB1", types.PackageFeatureState.INSTALLED, types.ReleaseType.ON_DEMAND_PACK,
        dt.datetime(2021, 3, 2, 9, 10, 11, 12000, tzinfo=UTC))
