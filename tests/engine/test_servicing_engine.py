"""The portable engine's servicing side, through the C binding (dism._dism):
each function checked against what the fixture put into a synthetic image,
and the driver listing against the real Windows 8.1 and 10 SYSTEM hives."""
from __future__ import annotations

import hashlib
import os
import shutil
from datetime import timezone
from pathlib import Path

import pytest

import dism
from dism import _dism, types
from dism.testing import (AppxSpec, DriverSpec, FeatureSpec, PackageSpec, WindowsImageSpec,
                          build_windows_tree, sample_servicing_spec)
from dism.testing.servicing import package_manifest

from support import SHARED_REAL
from support.raw_records import record_dict
from support.hives import HiveReader, load_hivex

# The DISM values the tests expect for each CBS state code, stated here
# independently of the engine's table (src/engine/offline/mappings.c).
NOT_PRESENT, UNINSTALL_PENDING, STAGED, REMOVED, INSTALLED, INSTALL_PENDING, SUPERSEDED = \
    0, 1, 2, 3, 4, 5, 6
EXPECTED_STATE = {0x00: NOT_PRESENT, 0x05: UNINSTALL_PENDING, 0x20: REMOVED, 0x40: STAGED,
                  0x50: SUPERSEDED, 0x60: INSTALL_PENDING, 0x70: INSTALLED, 0x80: INSTALLED}
RELEASE = {"Foundation": 9, "Security Update": 4, "Language Pack": 8, "Update": 6,
           "OnDemand Pack": 14, "Feature Pack": 2}
AMD64, X86, NEUTRAL = 9, 0, 11


def systemtime(dt):
    dt = dt.astimezone(timezone.utc)
    return (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond // 1000)


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture
def session(image):
    with dism.Session(image) as s:
        yield s._handle


def driver_info(session, path):
    """get_driver_info's (devices, package) as dicts keyed by field name."""
    devices, pkg = _dism.get_driver_info(session, path)
    return record_dict(types.Driver, devices), record_dict(types.DriverPackage, pkg)


def package(spec, name) -> PackageSpec:
    return next(p for p in spec.packages if p.name == name)


def driver(spec, published) -> DriverSpec:
    return next(d for d in spec.drivers if d.published_name == published)


# --- packages ----------------------------------------------------------------

def test_packages_list_the_visible_ones_with_state_release_and_time(session, spec):
    listed = {p["name"]: p for p in record_dict(types.Package, _dism.get_packages(session))}
    visible = [p for p in spec.packages if p.visibility != 2]
    assert sorted(listed) == sorted(p.identity for p in visible)
    for p in visible:
        got = listed[p.identity]
        assert got["state"] == EXPECTED_STATE[p.state], p.name
        # A package whose manifest is gone has no release type to read.
        assert got["release_type"] == (RELEASE[p.release_type] if p.write_mum else 13), p.name
        assert got["install_time"] == (systemtime(p.install_time) if p.install_time else None)


def test_package_info_reads_registry_and_manifest(session, spec):
    p = package(spec, "Package_for_KB5005565")
    info = record_dict(types.PackageInfo, _dism.get_package_info(session, p.identity, False))
    assert info["name"] == p.identity
    assert info["state"] == INSTALLED and info["applicable"] is True
    assert info["release_type"] == 4
    assert info["display_name"] == p.display_name
    assert info["description"] == p.description
    assert info["company"] == p.company and info["copyright"] == p.copyright
    assert info["support_information"] == p.support_information
    assert info["creation_time"] == systemtime(p.creation_time)
    assert info["last_update_time"] == systemtime(p.last_update_time)
    assert info["install_time"] == systemtime(p.install_time)
    assert info["restart_required"] == 2                      # restart="required"
    assert info["install_client"] == p.install_client
    assert info["install_package_name"] == p.identity + ".mum"
    assert info["fully_offline"] == 2                          # undetermined offline
    props = {c["name"]: c["value"] for c in info["custom_properties"]}
    assert props == dict(p.custom_information)
    assert "capability_id" not in info


def test_package_info_lists_the_packages_features(session, spec):
    p = package(spec, "Microsoft-Windows-Foundation-Package")
    info = record_dict(types.PackageInfo, _dism.get_package_info(session, p.identity, False))
    got = {f["name"]: f["state"] for f in info["features"]}
    assert got == {f.name: EXPECTED_STATE[f.state] for f in p.features}


def test_package_info_ex_gives_the_capability_id(session, spec):
    p = package(spec, "OpenSSH-Client-Package")
    info = record_dict(types.PackageInfo, _dism.get_package_info(session, p.identity, False, ex=True))
    assert info["capability_id"] == "OpenSSH.Client~~~~0.0.1.0"
    plain = package(spec, "Package_for_KB5005565")
    assert record_dict(types.PackageInfo, _dism.get_package_info(session, plain.identity, False, ex=True))["capability_id"] is None


def test_package_without_manifest_reports_registry_facts_only(session, spec):
    p = package(spec, "Package_for_DotNetRollup")
    info = record_dict(types.PackageInfo, _dism.get_package_info(session, p.identity, False))
    assert info["state"] == INSTALLED and info["display_name"] is None
    assert info["release_type"] == 13


def test_package_by_name_is_case_insensitive_and_unknown_is_not_found(session, spec):
    p = package(spec, "Package_for_KB5005565")
    assert record_dict(types.PackageInfo, _dism.get_package_info(session, p.identity.upper(), False))["name"] == p.identity
    with pytest.raises(dism.NotFoundError, match="no package named"):
        _dism.get_package_info(session, "Package_for_KB0~31bf3856ad364e35~amd64~~1.0", False)


def test_package_by_path(session, spec, tmp_path):
    p = package(spec, "Package_for_KB5005565")
    folder = tmp_path / "expanded"
    folder.mkdir()
    (folder / "update.mum").write_bytes(package_manifest(p))
    info = record_dict(types.PackageInfo, _dism.get_package_info(session, str(folder), True))
    assert info["name"] == p.identity and info["state"] == INSTALLED
    other = PackageSpec("Package_for_KB9999999", version="19041.2000.1.1")
    (folder / "update.mum").write_bytes(package_manifest(other))
    info = record_dict(types.PackageInfo, _dism.get_package_info(session, str(folder), True))
    assert info["name"] == other.identity and info["state"] == NOT_PRESENT
    assert info["applicable"] is False
    cab = tmp_path / "x.cab"
    cab.write_bytes(b"MSCF")
    with pytest.raises(dism.NotSupportedError, match="cabextract"):
        _dism.get_package_info(session, str(cab), True)
    with pytest.raises(dism.PathNotFoundError):
        _dism.get_package_info(session, str(tmp_path / "missing.cab"), True)


# --- features ----------------------------------------------------------------

def foundation_features(spec) -> list[FeatureSpec]:
    return list(package(spec, "Microsoft-Windows-Foundation-Package").features)


def test_features_list_selectable_features_with_their_states(session, spec):
    got = {f["name"]: f["state"] for f in record_dict(types.Feature, _dism.get_features(session))}
    expected = {f.name: EXPECTED_STATE[f.state] for f in foundation_features(spec) if f.selectable}
    assert got == expected
    assert "MSRDC-Infrastructure" not in got      # no <selectable>: not a user feature


def test_features_of_one_package(session, spec):
    identity = package(spec, "Microsoft-Windows-Foundation-Package").identity
    got = {f["name"] for f in record_dict(types.Feature, _dism.get_features(session, identity, False))}
    assert got == {f.name for f in foundation_features(spec)}
    assert record_dict(types.Feature, _dism.get_features(session, package(spec, "Package_for_KB5005565").identity,
                              False)) == []


def test_feature_info(session, spec):
    for f in foundation_features(spec):
        if not f.selectable:
            continue
        info = record_dict(types.FeatureInfo, _dism.get_feature_info(session, f.name))
        assert info["name"] == f.name
        assert info["state"] == EXPECTED_STATE[f.state]
        assert info["display_name"] == f.display_name
        assert info["description"] == f.description
        restart = {"required": 2, "possible": 1, None: 1}[f.restart]
        assert info["restart_required"] == restart, f.name
        assert info["custom_properties"] == []


def test_feature_parents(session, spec):
    by_name = {f.name: f for f in foundation_features(spec)}
    for f in by_name.values():
        parents = record_dict(types.Feature, _dism.get_feature_parent(session, f.name))
        if f.parent:
            assert parents == [{"name": f.parent,
                                "state": EXPECTED_STATE[by_name[f.parent].state]}]
        else:
            assert parents == []


def test_unknown_feature(session):
    for call in (lambda: _dism.get_feature_info(session, "NoSuchFeature"),
                 lambda: _dism.get_feature_parent(session, "NoSuchFeature"),
                 lambda: _dism.enable_feature(session, "TelnetClient;NoSuchFeature", None, False,
                                              False, [], False),
                 lambda: _dism.disable_feature(session, "NoSuchFeature", None, False)):
        with pytest.raises(dism.UnknownFeatureError) as info:
            call()
        assert info.value.hresult == 0x800F080C and "NoSuchFeature" in str(info.value)


def test_enabling_checks_parents_before_refusing(tmp_path):
    spec = WindowsImageSpec(name="parents", packages=(PackageSpec(
        "Microsoft-Windows-Foundation-Package", features=(
            FeatureSpec("Parent", 0x40, "Parent"),
            FeatureSpec("Child", 0x40, "Child", parent="Parent"))),))
    root = build_windows_tree(tmp_path / "image", spec)
    before = tree_digest(root)
    with dism.Session(root) as s:
        with pytest.raises(dism.ParentFeatureDisabledError, match="Parent"):
            _dism.enable_feature(s._handle, "Child", None, False, False, [], False)
        for names, enable_all in (("Child", True), ("Parent;Child", False)):
            with pytest.raises(dism.NotSupportedError, match="not changed"):
                _dism.enable_feature(s._handle, names, None, False, False, ["/src"], enable_all)
        with pytest.raises(dism.NotSupportedError):
            _dism.disable_feature(s._handle, "Child", None, True)
    assert tree_digest(root) == before


# --- drivers -----------------------------------------------------------------

def test_drivers_third_party_and_all(session, spec, image):
    third = {d["published_name"]: d for d in record_dict(types.DriverPackage, _dism.get_drivers(session, False))}
    assert sorted(third) == sorted(d.published_name for d in spec.drivers if d.third_party)
    everything = {d["published_name"]: d for d in record_dict(types.DriverPackage, _dism.get_drivers(session, True))}
    assert sorted(everything) == sorted(d.published_name for d in spec.drivers)
    for d in spec.drivers:
        got = everything[d.published_name]
        assert got["inbox"] is (not d.third_party)
        assert got["provider_name"] == d.provider
        assert got["catalog_file"] == d.catalog
        assert got["class_guid"].lower() == d.class_guid.lower()
        # From ControlSet002 (Select\Current = 2); the decoy set would say "Decoy: ...".
        assert got["class_name"] == d.class_name
        assert got["class_description"] == d.class_description
        assert got["date"] == (*d.date, 0, 0, 0, 0)
        assert got["version"] == tuple(d.version)
        assert got["boot_critical"] is d.boot_start, d.published_name
        assert got["signature"] == 2
        assert Path(got["original_file_name"]).is_file()
        assert Path(got["original_file_name"]).name == d.inf_name


def test_driver_info_parses_the_inf(session, spec):
    for d in spec.drivers:
        devices, pkg = driver_info(session, d.published_name)
        assert pkg["published_name"] == d.published_name
        assert pkg["provider_name"] == d.provider
        expected = {dev.hardware_id: dev for dev in d.devices}
        assert sorted(x["hardware_id"] for x in devices) == sorted(expected)
        for got in devices:
            dev = expected[got["hardware_id"]]
            assert got["hardware_description"] == dev.description
            assert got["manufacturer_name"] == dev.manufacturer
            assert got["compatible_ids"] == ",".join(dev.compatible_ids)
            assert got["service_name"] == d.service
            arch = {"amd64": AMD64, "x86": X86}[d.device_arch(dev)]
            assert got["architecture"] == arch


def test_driver_info_of_an_inf_file(session, spec, image):
    d = driver(spec, "oem1.inf")
    inf = image / "Windows" / "INF" / "oem1.inf"
    devices, pkg = driver_info(session, str(inf))
    assert pkg["class_name"] == d.class_name and pkg["version"] == tuple(d.version)
    assert pkg["inbox"] is False
    assert "Contoso Gigabit Adapter (Réseau)" in {x["hardware_description"] for x in devices}


def test_driver_writes_are_validated_then_refused(session, image, tmp_path):
    before = tree_digest(image)
    with pytest.raises(dism.PathNotFoundError):
        _dism.add_driver(session, str(tmp_path / "missing.inf"), False)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(dism.InvalidArgumentError):
        _dism.add_driver(session, str(text), False)
    bad = tmp_path / "bad.inf"
    bad.write_text("[Strings]\nx=1\n")
    with pytest.raises(dism.DismError, match="does not describe a driver"):
        _dism.add_driver(session, str(bad), False)
    with pytest.raises(dism.NotSupportedError, match="not changed"):
        _dism.add_driver(session, str(image / "Windows" / "INF" / "oem1.inf"), True)
    with pytest.raises(dism.InvalidArgumentError, match="in-box"):
        _dism.remove_driver(session, "1394.inf")
    with pytest.raises(dism.PathNotFoundError):
        _dism.remove_driver(session, "oem99.inf")
    with pytest.raises(dism.NotSupportedError):
        _dism.remove_driver(session, "oem1.inf")
    assert tree_digest(image) == before


# --- capabilities, edition, apps, storage, health ----------------------------

def test_capabilities(session, spec):
    got = {c["name"]: c["state"] for c in record_dict(types.Capability, _dism.get_capabilities(session))}
    assert got == {"OpenSSH.Client~~~~0.0.1.0": INSTALLED, "Language.Basic~~~de-DE~0.0.1.0": STAGED}
    info = record_dict(types.CapabilityInfo, _dism.get_capability_info(session, "OpenSSH.Client~~~~0.0.1.0"))
    assert info["display_name"] == "OpenSSH Client" and info["state"] == INSTALLED
    assert info["download_size"] == 0 and info["install_size"] == 0
    with pytest.raises(dism.NotApplicableError):
        _dism.get_capability_info(session, "Nope~~~~0.0.1.0")


def test_edition_storage_health_and_registry_paths(session, image):
    assert _dism.get_current_edition(session) == "Enterprise"
    assert _dism.get_reserved_storage_state(session) == _dism.DISM_RESERVED_STORAGE_ENABLED
    seen = []
    assert _dism.check_image_health(session, False, lambda c, t: seen.append((c, t))) == (0, 0)
    assert seen == [(0, 1), (1, 1)]
    with pytest.raises(dism.NotSupportedError):
        _dism.check_image_health(session, True)
    path = _dism.get_registry_mount_point(session, 0)     # DismRegistrySoftware
    assert Path(path) == image / "Windows" / "System32" / "config" / "SOFTWARE"
    with pytest.raises(dism.PathNotFoundError):
        _dism.get_registry_mount_point(session, 5)         # NTUSER.DAT: not in the fixture


def test_check_health_honours_a_cancel_token(session):
    class Set:
        def is_set(self):
            return True
    with pytest.raises(dism.CancelledError):
        _dism.check_image_health(session, False, None, Set())


def test_provisioned_apps(session, spec):
    got = {a["package_name"]: a for a in record_dict(types.AppxPackage, _dism.get_provisioned_appx_packages(session))}
    assert sorted(got) == sorted(a.full_name for a in spec.appx)
    for a in spec.appx:
        app = got[a.full_name]
        assert app["display_name"] == a.name
        assert app["version"] == tuple(a.version)
        assert app["publisher_id"] == a.publisher_id
        assert app["architecture"] == {"x64": AMD64, "neutral": NEUTRAL}[a.arch]
        assert app["install_location"].endswith("\\" + a.full_name)


def test_every_other_write_is_validated_then_refused(session, spec, image, tmp_path):
    before = tree_digest(image)
    kb = package(spec, "Package_for_KB5005565").identity
    staged_cap = "Language.Basic~~~de-DE~0.0.1.0"
    missing = str(tmp_path / "missing")
    unattend = tmp_path / "unattend.xml"
    unattend.write_text('<unattend xmlns="urn:schemas-microsoft-com:unattend"/>')
    app = tmp_path / "app.msix"
    app.write_bytes(b"PK")
    cases = [
        (dism.NotSupportedError, lambda: _dism.remove_package(session, kb, False)),
        (dism.NotFoundError, lambda: _dism.remove_package(session, kb + "x", False)),
        (dism.PathNotFoundError, lambda: _dism.add_package(session, missing, False, False)),
        (dism.NotSupportedError, lambda: _dism.add_capability(session, "X.Y~~~~0.0.1.0", True,
                                                              [missing])),
        (dism.InvalidArgumentError, lambda: _dism.add_capability(session, "plain", False, [])),
        (dism.NotSupportedError, lambda: _dism.remove_capability(session,
                                                                 "OpenSSH.Client~~~~0.0.1.0")),
        (dism.NotApplicableError, lambda: _dism.remove_capability(session, staged_cap)),
        (dism.NotSupportedError, lambda: _dism.add_language(session, "fr-FR", False, True, [])),
        (dism.InvalidArgumentError, lambda: _dism.add_language(session, "fr FR!", False, True,
                                                               [])),
        (dism.NotSupportedError, lambda: _dism.remove_language(session, "de-DE")),
        (dism.NotSupportedError, lambda: _dism.apply_unattend(session, str(unattend), False)),
        (dism.PathNotFoundError, lambda: _dism.apply_unattend(session, missing, True)),
        (dism.NotSupportedError, lambda: _dism.restore_image_health(session, [missing], True)),
        (dism.NotSupportedError, lambda: _dism.set_reserved_storage_state(session, 0)),
        (dism.InvalidArgumentError, lambda: _dism.set_reserved_storage_state(session, 7)),
        (dism.InvalidArgumentError, lambda: _dism.set_edition(session, "Enterprise")),
        (dism.NotSupportedError, lambda: _dism.set_edition(session, "Professional")),
        (dism.InvalidProductKeyError, lambda: _dism.set_edition(session, "Professional",
                                                                 "not-a-key")),
        (dism.InvalidProductKeyError, lambda: _dism.validate_product_key(session, "ABC")),
        (dism.NotSupportedError, lambda: _dism.set_product_key(
            session, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE")),
        (dism.NotSupportedError, lambda: _dism.get_product_key_info(
            session, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE")),
        (dism.NotSupportedError, lambda: _dism.get_target_editions(session)),
        (dism.InvalidArgumentError, lambda: _dism.add_provisioned_appx_package(
            session, str(app), [], [], [], False, None, None, 0)),
        (dism.PathNotFoundError, lambda: _dism.add_provisioned_appx_package(
            session, str(app), [missing], [], [], True, None, None, 0)),
        (dism.NotSupportedError, lambda: _dism.add_provisioned_appx_package(
            session, str(app), [], [], [], True, None, "DE", 1)),
        (dism.NotFoundError, lambda: _dism.remove_provisioned_appx_package(session, "Nope_1_x64__a")),
        (dism.NotSupportedError, lambda: _dism.remove_provisioned_appx_package(
            session, spec.appx[0].full_name)),
    ]
    for expected, call in cases:
        with pytest.raises(expected) as info:
            call()
        assert info.value.message, info.value
    assert tree_digest(image) == before


def test_missing_exports_raise_a_clear_error(session):
    assert _dism.export_available("_DismGetCurrentEdition")
    _dism._hide_export("_DismGetCurrentEdition")
    try:
        assert not _dism.export_available("_DismGetCurrentEdition")
        with pytest.raises(dism.ExportNotAvailableError, match="_DismGetCurrentEdition") as info:
            _dism.get_current_edition(session)
        assert isinstance(info.value, dism.NotSupportedError)
        assert info.value.hresult == 0x8007007F
    finally:
        _dism._hide_export("_DismGetCurrentEdition", False)
    assert _dism.get_current_edition(session) == "Enterprise"
    with pytest.raises(ValueError):
        _dism.export_available("DismGetPackages")     # always linked, not optional


def test_a_closed_session_is_refused(image):
    s = dism.Session(image)
    handle = s._handle
    s.close()
    with pytest.raises(dism.InvalidSessionError):
        _dism.get_drivers(handle, True)
    with pytest.raises(TypeError):
        _dism.get_drivers(object(), True)


# --- images that lack the keys ---------------------------------------------

def test_an_image_without_servicing_data_gives_empty_results(tmp_path):
    root = build_windows_tree(tmp_path / "bare", WindowsImageSpec(name="bare"))
    with dism.Session(root) as s:
        h = s._handle
        assert record_dict(types.Package, _dism.get_packages(h)) == [] and record_dict(types.Feature, _dism.get_features(h)) == []
        assert record_dict(types.DriverPackage, _dism.get_drivers(h, True)) == [] and record_dict(types.Capability, _dism.get_capabilities(h)) == []
        assert record_dict(types.AppxPackage, _dism.get_provisioned_appx_packages(h)) == []
        with pytest.raises(dism.NotSupportedError):
            _dism.get_reserved_storage_state(h)


needs_real = pytest.mark.skipif(not SHARED_REAL.is_dir(), reason="../shared/testdata/real absent")


def image_with_hive(tmp_path: Path, name: str, hive: str) -> Path:
    config = tmp_path / "real" / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    shutil.copy(SHARED_REAL / hive, config / name)
    return tmp_path / "real"


def hive_driver_packages(path: Path) -> dict[str, str]:
    """Folder name -> published name, read independently through libhivex."""
    with HiveReader(load_hivex(), path) as hive:
        packages = hive.key("DriverDatabase", "DriverPackages")
        out = {}
        for node in hive.children(packages):
            values = hive.values(node)
            out[hive.name(node)] = hive.string(values[""]) if "" in values else None
        return out


@needs_real
@pytest.mark.parametrize("hive,total,third_party", [
    ("regipy__SYSTEM_WIN_10_1709", 238, {"oem0.inf", "oem2.inf", "oem4.inf", "oem6.inf",
                                         "oem11.inf"}),
    ("regipy__SYSTEM_2", 159, {"oem1.inf"}),
])
def test_real_system_hives(tmp_path, hive, total, third_party):
    expected = hive_driver_packages(SHARED_REAL / hive)
    assert len(expected) == total
    root = image_with_hive(tmp_path, "SYSTEM", hive)
    with dism.Session(root) as s:
        everything = record_dict(types.DriverPackage, _dism.get_drivers(s._handle, True))
        oem = record_dict(types.DriverPackage, _dism.get_drivers(s._handle, False))
    assert sorted(d["published_name"] for d in everything) == sorted(expected.values())
    assert {d["published_name"] for d in oem} == third_party
    for d in everything:
        assert d["class_guid"].startswith("{") and d["version"][0] > 0
        assert d["date"] is not None and d["provider_name"]
    if hive == "regipy__SYSTEM_WIN_10_1709":
        mouse = next(d for d in oem if d["published_name"] == "oem0.inf")
        assert mouse["provider_name"] == "VMware, Inc."
        assert mouse["version"] == (12, 5, 10, 0) and mouse["date"][:3] == (2019, 7, 11)
        assert mouse["class_name"] == "Mouse"
        box = next(d for d in everything if d["published_name"] == "1394.inf")
        assert box["version"] == (10, 0, 18362, 1) and box["date"][:3] == (2006, 6, 21)


@needs_real
def test_real_container_software_hive_lacks_the_keys(tmp_path):
    root = image_with_hive(tmp_path, "SOFTWARE", "scancode-toolkit__Software_Delta")
    with dism.Session(root) as s:
        h = s._handle
        assert record_dict(types.Package, _dism.get_packages(h)) == [] and record_dict(types.Feature, _dism.get_features(h)) == []
        assert record_dict(types.AppxPackage, _dism.get_provisioned_appx_packages(h)) == []
        with pytest.raises(dism.NotFoundError, match="EditionID"):
            _dism.get_current_edition(h)
        with pytest.raises(dism.NotSupportedError, match="no component store"):
            _dism.check_image_health(h, False)


# --- hostile images and callers (found in review) ---------------------------

def test_a_callback_using_its_own_session_gets_busy_not_a_deadlock(image):
    with dism.Session(image) as s:
        def progress(current, total):
            s.get_packages()
        with pytest.raises(dism.BusyError, match="progress callback"):
            s.check_health(progress=progress)

        class Token:
            def is_set(self):
                s.get_features()
                return False
        with pytest.raises(dism.BusyError):
            s.check_health(cancel=Token())
        assert s.get_current_edition() == "Enterprise"     # still usable afterwards


def test_a_source_list_that_shrinks_while_converted(session):
    sources = []

    class Shrinking:
        def __fspath__(self):
            sources.clear()
            return "/nonexistent"
    sources.extend([Shrinking(), "/a", "/b", "/c"])
    with pytest.raises(dism.NotSupportedError):
        _dism.restore_image_health(session, sources, True)


def test_links_and_fifos_in_the_image_are_not_followed(tmp_path, spec):
    root = build_windows_tree(tmp_path / "image", spec)
    packages = root / "Windows" / "servicing" / "Packages"
    kb = package(spec, "Package_for_KB5005565")
    secret = tmp_path / "outside.xml"
    secret.write_bytes(package_manifest(PackageSpec(
        "Package_for_KB5005565", version="19041.1237.1.6",
        custom_information={"Secret": "host file outside the image"})))
    manifest = packages / (kb.identity + ".mum")
    manifest.unlink()
    manifest.symlink_to(secret)
    os.mkfifo(packages / "Evil~31bf3856ad364e35~amd64~~1.0.mum")
    with dism.Session(root) as s:
        info = record_dict(types.PackageInfo, _dism.get_package_info(s._handle, kb.identity, False))
        assert info["custom_properties"] == [] and info["display_name"] is None
        assert {c["name"] for c in record_dict(types.Capability, _dism.get_capabilities(s._handle))} == {
            "OpenSSH.Client~~~~0.0.1.0", "Language.Basic~~~de-DE~0.0.1.0"}


def test_a_manifest_with_endless_custom_information_is_refused(tmp_path):
    spec = WindowsImageSpec(name="big", packages=(PackageSpec("Package_for_KB1"),))
    root = build_windows_tree(tmp_path / "image", spec)
    identity = spec.packages[0].identity
    deep = "".join(f"<n{'x' * 200}{i}>" for i in range(8))
    closing = "".join(f"</n{'x' * 200}{i}>" for i in reversed(range(8)))
    leaves = '<b a="1"/>' * 5000
    body = ('<assembly xmlns="urn:schemas-microsoft-com:asm.v3"><package releaseType="Update">'
            f'<customInformation>{deep}{leaves}{closing}</customInformation>'
            '</package></assembly>')
    (root / "Windows" / "servicing" / "Packages" / f"{identity}.mum").write_text(body)
    with dism.Session(root) as s:
        with pytest.raises(dism.DismError, match="more custom information"):
            _dism.get_package_info(s._handle, identity, False)
        # Listing still works: the package is reported without its manifest's facts.
        assert [p["name"] for p in record_dict(types.Package, _dism.get_packages(s._handle))] == [identity]


def test_a_package_with_very_many_features(tmp_path):
    features = tuple(FeatureSpec(f"Feature{i}", 0x40) for i in range(20000))
    spec = WindowsImageSpec(name="many", packages=(PackageSpec("Big-Package", features=features),))
    root = build_windows_tree(tmp_path / "image", spec)
    with dism.Session(root) as s:
        got = record_dict(types.Feature, _dism.get_features(s._handle))
    assert len(got) == 20000 and {f["state"] for f in got} == {STAGED}


def test_an_image_without_driver_database_lists_published_infs(tmp_path):
    """Windows 7 has no DriverDatabase: the oem*.inf copies are parsed."""
    drivers = tuple(d for d in sample_servicing_spec().drivers if d.database is None)
    spec = WindowsImageSpec(name="win7", drivers=drivers)
    root = build_windows_tree(tmp_path / "image", spec)
    (root / "Windows" / "System32" / "config" / "DRIVERS").unlink()
    with dism.Session(root) as s:
        got = {d["published_name"]: d for d in record_dict(types.DriverPackage, _dism.get_drivers(s._handle, False))}
    third = [d for d in drivers if d.third_party]
    assert sorted(got) == sorted(d.published_name for d in third) and third
    for d in third:
        assert got[d.published_name]["provider_name"] == d.provider
        assert got[d.published_name]["version"] == tuple(d.version)
        assert got[d.published_name]["date"][:3] == d.date
        assert got[d.published_name]["boot_critical"] is d.boot_start


def test_a_permanent_package_cannot_be_removed(tmp_path):
    spec = WindowsImageSpec(name="perm", packages=(PackageSpec("Permanent-Package", state=0x80),))
    root = build_windows_tree(tmp_path / "image", spec)
    with dism.Session(root) as s:
        assert record_dict(types.Package, _dism.get_packages(s._handle))[0]["state"] == INSTALLED
        with pytest.raises(dism.DismError, match="permanent") as info:
            _dism.remove_package(s._handle, spec.packages[0].identity, False)
        assert info.value.hresult == 0x80070005


def test_registry_mount_point_of_the_default_user(tmp_path):
    root = build_windows_tree(tmp_path / "image", WindowsImageSpec(name="user"))
    hive = root / "Users" / "Default" / "NTUSER.DAT"
    hive.parent.mkdir(parents=True)
    hive.write_bytes(b"regf")
    with dism.Session(root) as s:
        assert Path(_dism.get_registry_mount_point(s._handle, 5)) == hive
