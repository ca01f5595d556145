"""dism.Session's servicing methods and the CLI verbs, end to end on a
synthetic offline image (and a mounted WIM of it): typed results, progress
and cancellation through the Python layer, and the write methods' checks."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import pytest

import dism
from dism.testing import build_wim

from support.cli import run


@pytest.fixture
def session(image):
    with dism.Session(image) as s:
        yield s


def test_typed_results(session, spec):
    packages = {p.name: p for p in session.get_packages()}
    kb = next(p for p in spec.packages if p.name == "Package_for_KB5005565")
    assert packages[kb.identity].state is dism.PackageFeatureState.INSTALLED
    assert packages[kb.identity].release_type is dism.ReleaseType.SECURITY_UPDATE
    assert packages[kb.identity].install_time == datetime(2021, 9, 14, 18, 30, 5, 123000,
                                                          tzinfo=timezone.utc)
    info = session.get_package_info(kb.identity)
    assert info.restart_required is dism.RestartType.REQUIRED
    assert {c.name for c in info.custom_properties} == {"KBArticle", "Servicing_Type"}

    features = {f.name: f.state for f in session.get_features()}
    assert features["SMB1Protocol"] is dism.PackageFeatureState.REMOVED
    assert features["Microsoft-Hyper-V-Hypervisor"] is dism.PackageFeatureState.INSTALL_PENDING
    parents = session.get_feature_parents("Microsoft-Hyper-V-Hypervisor")
    assert [p.name for p in parents] == ["Microsoft-Hyper-V"]

    drivers = {d.published_name: d for d in session.get_drivers()}
    assert set(drivers) == {"oem0.inf", "oem1.inf", "oem2.inf"}
    assert drivers["oem0.inf"].boot_critical is True
    assert str(drivers["oem0.inf"].version) == "2.5.0.17"
    package, devices = session.get_driver_info("oem0.inf")
    assert package.class_name == "SCSIAdapter"
    assert {d.architecture for d in devices} == {dism.Architecture.AMD64, dism.Architecture.X86}

    assert [c.name for c in session.get_capabilities()
            if c.state is dism.PackageFeatureState.INSTALLED] == ["OpenSSH.Client~~~~0.0.1.0"]
    assert session.get_current_edition() == "Enterprise"
    assert session.get_reserved_storage_state() is dism.ReservedStorageState.ENABLED
    assert session.check_health() is dism.ImageHealthState.HEALTHY
    apps = session.get_provisioned_appx_packages()
    assert {a.display_name for a in apps} == {a.name for a in spec.appx}


def test_progress_and_cancel_reach_servicing_calls(session):
    seen = []
    session.check_health(progress=lambda current, total: seen.append((current, total)))
    assert seen == [(0, 1), (1, 1)]
    token = threading.Event()
    token.set()
    with pytest.raises(dism.CancelledError):
        session.check_health(cancel=token)

    def boom(current, total):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        session.check_health(progress=boom)


def test_write_methods_check_then_refuse(session, image, tmp_path):
    with pytest.raises(dism.UnknownFeatureError):
        session.enable_features("TelnetClient", "NoSuchFeature")
    with pytest.raises(ValueError):
        session.enable_features("A;B")
    with pytest.raises(dism.NotSupportedError, match="not changed"):
        session.enable_features("TelnetClient", enable_all=True, sources=[tmp_path])
    with pytest.raises(dism.NotSupportedError):
        session.disable_features("Microsoft-Hyper-V-All", remove_payload=True)

    drivers = tmp_path / "drivers"
    (drivers / "net" / "deeper").mkdir(parents=True)
    inf = image / "Windows" / "INF" / "oem1.inf"
    (drivers / "net" / "deeper" / "b.INF").write_bytes(inf.read_bytes())
    (drivers / "a.inf").write_bytes(inf.read_bytes())
    (drivers / "readme.txt").write_text("not a driver")
    assert dism.find_driver_infs(drivers, recurse=True) == [
        str(drivers / "a.inf"), str(drivers / "net" / "deeper" / "b.INF")]
    with pytest.raises(dism.NotSupportedError):
        session.add_driver(drivers, recurse=True)
    with pytest.raises(dism.InvalidArgumentError, match="in-box"):
        session.remove_driver("1394.inf")
    with pytest.raises(dism.InvalidProductKeyError):
        session.set_edition("Professional", product_key="nope")


def test_missing_export_through_the_session(session):
    dism._dism._hide_export("_DismGetProvisionedAppxPackages")
    try:
        with pytest.raises(dism.ExportNotAvailableError, match="_DismGetProvisionedAppx"):
            session.get_provisioned_appx_packages()
    finally:
        dism._dism._hide_export("_DismGetProvisionedAppxPackages", False)


@pytest.mark.usefixtures("fuse")
def test_servicing_a_mounted_wim(tmp_path, spec, mount_dir):
    wim = build_wim(tmp_path / "install.wim", [spec])
    with dism.mount(wim, mount_dir, index=1, read_only=True) as mounted:
        with dism.Session(mounted.path) as s:
            assert {d.published_name for d in s.get_drivers()} == {"oem0.inf", "oem1.inf",
                                                                   "oem2.inf"}
            assert s.get_current_edition() == "Enterprise"
            assert len(s.get_features()) == 7


def test_cli_inspects_an_offline_image(capsys, image):
    code, out, _ = run(capsys, "get-drivers", "--image", image, "--all", "--json")
    assert code == 0
    assert len(json.loads(out)["drivers"]) == 6
    code, out, _ = run(capsys, f"/Image:{image}", "/Get-FeatureInfo",
                       "/FeatureName:TelnetClient")
    assert code == 0 and "Telnet Client" in out and "Disabled" in out
    code, out, _ = run(capsys, "get-currentedition", "--image", image)
    assert code == 0 and "Enterprise" in out
    code, out, _ = run(capsys, "get-capabilities", "--image", image, "--json")
    assert {c["name"] for c in json.loads(out)["capabilities"]} == {"OpenSSH.Client~~~~0.0.1.0",
                                                     "Language.Basic~~~de-DE~0.0.1.0"}
    code, out, err = run(capsys, "enable-feature", "--image", image, "--feature-name", "Nope")
    assert code != 0 and "Nope" in err
    code, out, err = run(capsys, "add-driver", "--image", image, "--driver",
                         image / "Windows" / "INF" / "oem1.inf")
    assert code == 6 and "not supported by the portable DISM engine" in err


def test_image_info_of_a_session(session, spec):
    info = session.get_image_info()
    assert info.product_name == spec.product_name and info.edition == spec.edition_id
    assert info.installation_type == spec.installation_type
    assert (info.version.major, info.version.minor, info.version.build,
            info.version.spbuild) == (spec.major, spec.minor, spec.build, spec.ubr)
    assert info.product_type == spec.product_type
    assert info.architecture is dism.Architecture.AMD64
    assert info.system_root == "Windows"
