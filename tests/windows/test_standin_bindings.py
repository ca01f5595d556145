"""Every binding of dism._dism, run for real on Windows CPython (under Wine, by
scripts/test-windows.sh) against the stand-in DismApi.dll in System32
(tests/windows/standin).

Each result is checked field by field against the stand-in's fixed tables
(strings outside the BMP, arrays, nested custom properties, SYSTEMTIMEs,
64-bit sizes); each call's arguments as the DLL received them (the
stand-in's call log); and after every test, that every result the DLL
handed out came back through DismDelete.  Skipped (conftest) where System32
holds Microsoft's DLL.
"""
from __future__ import annotations

import ast
import ctypes
import signal
import threading
from pathlib import Path

import pytest

from dism import _dism
from dism.progress import CancelToken
from support.windows import run_in_own_console, system32_dismapi_path

FACE = "\U0001F600"
CLEF = "\U0001D11E"
S_OK = 0
HR_CANCELLED = 0x800704C7
DISMAPI_E_INVALID_DISM_SESSION = 0xC0040004


# --- the stand-in's own exports ------------------------------------------------------------

class Standin:
    """ctypes view of the stand-in's Standin* exports (the same module the
    extension's delay-load hook hands out: loaded by the same full path)."""

    def __init__(self, path: Path):
        self.dll = ctypes.WinDLL(str(path))
        self.dll.StandinOutstanding.restype = ctypes.c_uint
        self.dll.StandinIdentity.restype = ctypes.c_wchar_p
        self.dll.StandinLastCall.restype = ctypes.c_uint
        self.dll.StandinLastCall.argtypes = [ctypes.c_wchar_p, ctypes.c_uint]
        self.dll.StandinProgressThreadId.restype = ctypes.c_ulong

    def outstanding(self) -> int:
        return self.dll.StandinOutstanding()

    def identity(self) -> str:
        return self.dll.StandinIdentity()

    def last_call(self) -> str:
        buf = ctypes.create_unicode_buffer(4096)
        self.dll.StandinLastCall(buf, len(buf))
        return buf.value

    def progress_thread(self) -> int:
        return self.dll.StandinProgressThreadId()


@pytest.fixture(scope="module")
def standin() -> Standin:
    return Standin(system32_dismapi_path())


@pytest.fixture(autouse=True)
def every_result_is_deleted(standin):
    before = standin.outstanding()
    yield
    assert standin.outstanding() == before, "results not given back to DismDelete"


@pytest.fixture
def session(standin):
    _dism.initialize(2, None, None)
    opened = _dism.open_session("C:\\image", "Windows", "C:")
    try:
        yield opened
    finally:
        opened.close()
        _dism.shutdown()


def fields(record_name: str, values: tuple) -> dict:
    names = _dism.RECORD_FIELDS[record_name]
    assert len(names) == len(values)
    return dict(zip(names, values))


def called(standin: Standin, *parts) -> None:
    assert standin.last_call() == "|".join(str(p) for p in parts)


# --- lifecycle, the DLL, image calls ---------------------------------------------------------

def test_the_default_dll_is_the_system32_stand_in(standin):
    assert standin.identity() == "system32"
    _dism.load_library(None)
    assert Path(_dism.library_path()).name.lower() == "dismapi.dll"
    assert "system32" in _dism.library_path().lower()
    assert _dism.file_version(_dism.library_path()) == (10, 0, 22621, 3007)
    assert _dism.is_elevated() is True  # Wine's token says so


def test_initialize_and_shutdown_pass_their_arguments(standin):
    _dism.initialize(3, "C:\\logs\\dism " + FACE + ".log", "C:\\scratch")
    try:
        called(standin, "DismInitialize", 3, "C:\\logs\\dism " + FACE + ".log", "C:\\scratch")
    finally:
        _dism.shutdown()
    called(standin, "DismShutdown", "")


def test_a_call_before_initialize_is_refused_with_the_dlls_message(standin):
    with pytest.raises(_dism.NotInitializedError) as caught:
        _dism.get_mounted_image_info()
    assert caught.value.hresult == 0xC0040001
    assert "stand-in DismGetMountedImageInfo failed" in caught.value.message


def test_image_info_field_by_field(standin, session):
    first, second = (fields("DismImageInfo", r) for r in _dism.get_image_info("C:\\x.wim"))
    called(standin, "DismGetImageInfo", "C:\\x.wim")
    assert first == {
        "ImageIndex": 1, "ImageName": f"Windows {CLEF} Pro", "ImageDescription": f"Description {FACE}",
        "ImageSize": 0x123456789, "Architecture": 9, "EditionId": "Professional",
        "ProductName": "Microsoft\u00ae Windows\u00ae Operating System",
        "InstallationType": "Client", "MajorVersion..SpLevel": (10, 0, 22631, 4001, 0),
        "Language": ["en-US", "de-DE", "ja-JP"], "Language[DefaultLanguageIndex]": "de-DE",
        "Bootable": 1, "ImageType": 0, "Hal": "acpiapic", "ProductType": "WinNT",
        "ProductSuite": "Terminal Server", "SystemRoot": "WINDOWS",
        "CustomizedInfo.DirectoryCount": 17000, "CustomizedInfo.FileCount": 90001,
        "CustomizedInfo.CreatedTime": (2024, 2, 29, 23, 59, 58, 999),
        "CustomizedInfo.ModifiedTime": (2025, 12, 31, 0, 0, 1, 7)}
    assert second["ImageSize"] == 2 * 0x123456789  # 64 bits, the stride of the array
    assert second["ImageDescription"] is None and second["Bootable"] == 0
    assert second["Language"] == ["en-US"] and second["CustomizedInfo.FileCount"] is None


def test_mounted_images_field_by_field(standin, session):
    mounts = [fields("DismMountedImageInfo", r) for r in _dism.get_mounted_image_info()]
    assert mounts == [
        {"MountPath": f"C:\\mounts\\{FACE}", "ImageFilePath": "C:\\images\\install.wim",
         "ImageIndex": 1, "MountMode": 0, "MountStatus": 0},
        {"MountPath": "D:\\offline", "ImageFilePath": "D:\\boot.wim", "ImageIndex": 2,
         "MountMode": 1, "MountStatus": 1}]


def test_mount_unmount_remount_cleanup_commit_pass_their_arguments(standin, session):
    assert _dism.mount_image("C:\\a.wim", "C:\\mnt " + FACE, 2, None, 0x1) == S_OK
    called(standin, "DismMountImage", "C:\\a.wim", "C:\\mnt " + FACE, 2, "<null>", 0, 1)
    assert _dism.mount_image("C:\\a.wim", "C:\\mnt", 0, "Pro", 0) == S_OK
    called(standin, "DismMountImage", "C:\\a.wim", "C:\\mnt", 0, "Pro", 1, 0)
    assert _dism.unmount_image("C:\\mnt", 1) == S_OK
    called(standin, "DismUnmountImage", "C:\\mnt", 1)
    assert _dism.remount_image("C:\\mnt") == S_OK
    called(standin, "DismRemountImage", "C:\\mnt")
    assert _dism.cleanup_mountpoints() is None
    called(standin, "DismCleanupMountpoints", "")
    assert session.commit(0) == S_OK
    called(standin, "DismCommitImage", session.handle, 0)


def test_open_session_passes_its_arguments_and_close_ends_it(standin):
    _dism.initialize(2, None, None)
    try:
        opened = _dism.open_session("C:\\img " + FACE)
        called(standin, "DismOpenSession", "C:\\img " + FACE, "<null>", "<null>")
        handle = opened.handle
        opened.close()
        called(standin, "DismCloseSession", handle)
        assert opened.closed
    finally:
        _dism.shutdown()


# --- packages and features -------------------------------------------------------------------

CUSTOM_PROPERTIES = [("SupportInformation", f"https://support.example/{CLEF}", ""),
                     ("Language", "neutral", "Properties\\Localized"),
                     (f"Deep{FACE}", None, f"Properties\\Localized\\Nested\\{FACE}")]
PACKAGE_FEATURES = [("NetFx3", 4), (f"Feature-{FACE}", 7)]


def test_packages_field_by_field(standin, session):
    packages = [fields("DismPackage", r) for r in _dism.get_packages(session)]
    called(standin, "DismGetPackages", session.handle)
    assert packages == [
        {"PackageName": "Package_for_KB5034441~31bf3856ad364e35~amd64~~22621.1.1",
         "PackageState": 4, "ReleaseType": 4, "InstallTime": (2024, 1, 9, 18, 30, 5, 250)},
        {"PackageName": f"Microsoft-Windows-{FACE}-Package~31bf3856ad364e35~~~",
         "PackageState": 2, "ReleaseType": 14, "InstallTime": None}]


@pytest.mark.parametrize("ex", [False, True])
def test_package_info_field_by_field(standin, session, ex):
    name = "DismPackageInfoEx" if ex else "DismPackageInfo"
    info = fields(name, _dism.get_package_info(session, "Pkg~" + FACE, False, ex))
    called(standin, "DismGetPackageInfoEx" if ex else "DismGetPackageInfo", session.handle,
           "Pkg~" + FACE, 1)
    expected = {
        "PackageName": "Pkg~" + FACE, "PackageState": 5, "ReleaseType": 6,
        "InstallTime": (2023, 6, 15, 12, 0, 0, 1), "Applicable": True,
        "Copyright": "\u00a9 Microsoft Corporation", "Company": "Microsoft Corporation",
        "CreationTime": (2023, 5, 1, 1, 2, 3, 4), "DisplayName": f"Display {CLEF}",
        "Description": f"A package {FACE}", "InstallClient": "DISM Package Manager Provider",
        "InstallPackageName": "update.mum", "LastUpdateTime": (2024, 12, 31, 23, 59, 59, 998),
        "ProductName": "Microsoft-Windows-Product", "ProductVersion": "10.0.22621.3007",
        "RestartRequired": 2, "FullyOffline": 2,
        "SupportInformation": "https://support.example/kb",
        "CustomProperty": CUSTOM_PROPERTIES, "Feature": PACKAGE_FEATURES}
    if ex:
        expected["CapabilityId"] = f"Capability.{FACE}~~~~0.0.1.0"
    assert info == expected


def test_package_info_by_path(standin, session):
    _dism.get_package_info(session, "C:\\pkg.cab", True)
    called(standin, "DismGetPackageInfo", session.handle, "C:\\pkg.cab", 2)


def test_features_field_by_field(standin, session):
    assert _dism.get_features(session) == [
        ("NetFx3", 2), (f"Microsoft-Hyper-V-{CLEF}", 4), ("TelnetClient", 3)]
    called(standin, "DismGetFeatures", session.handle, "<null>", 0)
    _dism.get_features(session, "C:\\p.cab", True)
    called(standin, "DismGetFeatures", session.handle, "C:\\p.cab", 2)


def test_feature_info_and_parent_field_by_field(standin, session):
    info = fields("DismFeatureInfo", _dism.get_feature_info(session, "F" + FACE, "Pkg", False))
    called(standin, "DismGetFeatureInfo", session.handle, "F" + FACE, "Pkg", 1)
    assert info == {"FeatureName": "F" + FACE, "FeatureState": 5,
                    "DisplayName": f"Feature {FACE}", "Description": f"What it does {CLEF}",
                    "RestartRequired": 1, "CustomProperty": CUSTOM_PROPERTIES}
    assert _dism.get_feature_parent(session, "Child") == [(f"Parent-{FACE}", 1)]
    called(standin, "DismGetFeatureParent", session.handle, "Child", "<null>", 0)


def test_feature_and_package_writes_pass_their_arguments(standin, session):
    h = session.handle
    assert _dism.enable_feature(session, "NetFx3", None, False, True,
                                ["C:\\src " + FACE, "D:\\sxs"], True) == S_OK
    called(standin, "DismEnableFeature", h, "NetFx3", "<null>", 0, 1,
           "C:\\src " + FACE + ";D:\\sxs", 2, 1)
    assert _dism.disable_feature(session, "NetFx3", "Pkg", True) == S_OK
    called(standin, "DismDisableFeature", h, "NetFx3", "Pkg", 1)
    assert _dism.add_package(session, "C:\\kb.msu", True, False) == S_OK
    called(standin, "DismAddPackage", h, "C:\\kb.msu", 1, 0)
    assert _dism.remove_package(session, "Pkg~1", False) == S_OK
    called(standin, "DismRemovePackage", h, "Pkg~1", 1)
    assert _dism.apply_unattend(session, "C:\\unattend.xml", True) == S_OK
    called(standin, "DismApplyUnattend", h, "C:\\unattend.xml", 1)


# --- drivers, capabilities, languages, apps ----------------------------------------------------

def driver_package(published: str) -> dict:
    return {"PublishedName": published, "OriginalFileName": f"C:\\drivers\\{FACE}\\net.inf",
            "InBox": False, "CatalogFile": "net.cat", "ClassName": "Net",
            "ClassGuid": "{4D36E972-E325-11CE-BFC1-08002BE10318}",
            "ClassDescription": "Network adapters", "BootCritical": True, "DriverSignature": 2,
            "ProviderName": f"Provider {CLEF}", "Date": (2021, 7, 4, 0, 0, 0, 0),
            "MajorVersion..Revision": (12, 34, 5678, 65535)}


def test_drivers_field_by_field(standin, session):
    one = [fields("DismDriverPackage", r) for r in _dism.get_drivers(session, False)]
    called(standin, "DismGetDrivers", session.handle, 0)
    assert one == [driver_package("oem0.inf")]
    both = [fields("DismDriverPackage", r) for r in _dism.get_drivers(session, True)]
    assert both[1] == {**driver_package("netrtl.inf"), "InBox": True, "DriverSignature": 1}


def test_driver_info_field_by_field(standin, session):
    drivers, package = _dism.get_driver_info(session, "C:\\d\\net.inf")
    called(standin, "DismGetDriverInfo", session.handle, "C:\\d\\net.inf")
    assert fields("DismDriverPackage", package) == driver_package("C:\\d\\net.inf")
    assert [fields("DismDriver", d) for d in drivers] == [
        {"ManufacturerName": f"Maker {FACE}", "HardwareDescription": "Ethernet Adapter",
         "HardwareId": "PCI\\VEN_8086", "Architecture": 9, "ServiceName": "rtl8168",
         "CompatibleIds": "PCI\\CC_0200", "ExcludeIds": None},
        {"ManufacturerName": "Other", "HardwareDescription": "Ethernet Adapter",
         "HardwareId": "PCI\\VEN_10EC&DEV_8168", "Architecture": 12, "ServiceName": "rtl8168",
         "CompatibleIds": None, "ExcludeIds": None}]


def test_driver_writes_pass_their_arguments(standin, session):
    assert _dism.add_driver(session, "C:\\d\\x.inf", True) == S_OK
    called(standin, "DismAddDriver", session.handle, "C:\\d\\x.inf", 1)
    assert _dism.remove_driver(session, "oem3.inf") == S_OK
    called(standin, "DismRemoveDriver", session.handle, "oem3.inf")


def test_capabilities_field_by_field(standin, session):
    assert _dism.get_capabilities(session) == [
        ("Language.Basic~~~en-US~0.0.1.0", 4), (f"Tools.{FACE}~~~~0.0.1.0", 0)]
    called(standin, "DismGetCapabilities", session.handle)
    info = fields("DismCapabilityInfo", _dism.get_capability_info(session, "Cap" + CLEF))
    called(standin, "DismGetCapabilityInfo", session.handle, "Cap" + CLEF)
    assert info == {"Name": "Cap" + CLEF, "State": 6, "DisplayName": f"Capability {CLEF}",
                    "Description": f"Installs {FACE}", "DownloadSize": 0xFFFFFFF0,
                    "InstallSize": 123456789}


def test_capability_and_language_writes_pass_their_arguments(standin, session):
    h = session.handle
    assert _dism.add_capability(session, "Cap", True, ["C:\\fod"]) == S_OK
    called(standin, "DismAddCapability", h, "Cap", 1, "C:\\fod", 1)
    assert _dism.add_capability(session, "Cap", False, None) == S_OK
    called(standin, "DismAddCapability", h, "Cap", 0, "<null>", 0)
    assert _dism.remove_capability(session, "Cap") == S_OK
    called(standin, "DismRemoveCapability", h, "Cap")
    assert _dism.add_language(session, "fr-FR", True, False, ["C:\\lp"]) == S_OK
    called(standin, "DismAddLanguage", h, "fr-FR", 1, 0, "C:\\lp", 1)
    assert _dism.remove_language(session, "fr-FR") == S_OK
    called(standin, "DismRemoveLanguage", h, "fr-FR")


def test_provisioned_apps_field_by_field(standin, session):
    apps = [fields("DismAppxPackage", r) for r in _dism.get_provisioned_appx_packages(session)]
    called(standin, "_DismGetProvisionedAppxPackages", session.handle)
    assert apps == [
        {"PackageName": f"Microsoft.{FACE}_2.3.4.5_x64__8wekyb3d8bbwe",
         "DisplayName": f"App {CLEF}", "PublisherId": "8wekyb3d8bbwe",
         "MajorVersion..RevisionNumber": (2, 3, 4, 5), "Architecture": 9, "ResourceId": None,
         "InstallLocation": "C:\\Program Files\\WindowsApps\\App", "Region": "all"},
        {"PackageName": "Microsoft.Other_1.0.0.0_neutral__8wekyb3d8bbwe", "DisplayName": "Other",
         "PublisherId": "8wekyb3d8bbwe", "MajorVersion..RevisionNumber": (3, 3, 4, 5),
         "Architecture": 11, "ResourceId": "~",
         "InstallLocation": "C:\\Program Files\\WindowsApps\\App", "Region": None}]


def test_provisioned_app_writes_pass_their_arguments(standin, session):
    h = session.handle
    assert _dism.add_provisioned_appx_package(
        session, "C:\\app.msix", ["C:\\dep1", "C:\\dep2"], None, ["C:\\lic.xml"], False,
        "C:\\custom.dat", "all", 2) == S_OK
    called(standin, "_DismAddProvisionedAppxPackage", h, "C:\\app.msix", "C:\\dep1;C:\\dep2", 2,
           "<null>", 0, "C:\\lic.xml", 1, 0, "C:\\custom.dat", "all", 2)
    assert _dism.remove_provisioned_appx_package(session, "App_1") == S_OK
    called(standin, "_DismRemoveProvisionedAppxPackage", h, "App_1")


# --- editions, keys, health, storage, the registry ---------------------------------------------

def test_editions_and_product_keys(standin, session):
    h = session.handle
    assert _dism.get_current_edition(session) == "Professional" + FACE
    called(standin, "_DismGetCurrentEdition", h)
    assert _dism.get_target_editions(session) == ["Enterprise", "Education" + CLEF, None]
    called(standin, "_DismGetTargetEditions", h)
    assert _dism.set_edition(session, "Enterprise", "AAAAA-BBBBB") == S_OK
    called(standin, "_DismSetEdition", h, "Enterprise", "AAAAA-BBBBB")
    assert _dism.set_product_key(session, "KEY-1") == S_OK
    called(standin, "_DismSetProductKey", h, "KEY-1")
    assert _dism.validate_product_key(session, "KEY-2") == S_OK
    called(standin, "_DismValidateProductKey", h, "KEY-2")
    assert _dism.get_product_key_info(session, "KEY-3") == ("Core" + CLEF, "Retail")
    called(standin, "_DismGetProductKeyInfo", h, "KEY-3")
    assert _dism.get_registry_mount_point(session, 6) == (
        "HKLM\\{bf1a281b-ad7b-4476-ac95-f47682990ce7}hive6")
    called(standin, "_DismGetRegistryMountPoint", h, 6)


def test_health_and_reserved_storage(standin, session):
    h = session.handle
    assert _dism.check_image_health(session, True) == (S_OK, 1)  # (code, health state)
    called(standin, "DismCheckImageHealth", h, 1)
    assert _dism.check_image_health(session, False) == (S_OK, 0)
    assert _dism.restore_image_health(session, ["C:\\src"], True) == S_OK
    called(standin, "DismRestoreImageHealth", h, "C:\\src", 1, 1)
    assert _dism.set_reserved_storage_state(session, 0) == S_OK
    called(standin, "DismSetReservedStorageState", h, 0)
    assert _dism.get_reserved_storage_state(session) == 0
    called(standin, "DismGetReservedStorageState", h)
    _dism.set_reserved_storage_state(session, 1)


def test_the_portable_engines_own_export_is_not_available(standin, session):
    assert _dism.export_available("_DismGetCurrentEdition") is True
    assert _dism.export_available("_DismPortableGetSessionImageInfo") is False
    with pytest.raises(_dism.ExportNotAvailableError):
        _dism.get_session_image_info(session)
    assert _dism.export_available("_DismPortableOpenImageFileSession") is False
    with pytest.raises(_dism.ExportNotAvailableError, match="_DismPortableOpenImageFileSession"):
        _dism.open_image_file_session("C:\\install.wim", 1, None)


def test_a_hidden_export_raises_and_leaves_the_session_alone(standin, session):
    _dism._hide_export("DismGetCapabilities")
    try:
        with pytest.raises(_dism.ExportNotAvailableError, match="DismGetCapabilities"):
            _dism.get_capabilities(session)
    finally:
        _dism._hide_export("DismGetCapabilities", False)
    assert len(_dism.get_capabilities(session)) == 2


# --- errors, progress, cancel -----------------------------------------------------------------

def test_a_failing_call_raises_its_class_with_the_dlls_message(standin, session):
    with pytest.raises(_dism.PathNotFoundError) as caught:
        _dism.get_package_info(session, "fail:80070002", False)
    assert caught.value.hresult == 0x80070002
    assert caught.value.message.startswith("stand-in DismGetPackageInfo failed (0x80070002)")


def test_a_closed_session_is_refused_by_the_binding(standin, session):
    other = _dism.open_session("C:\\other")
    other.close()
    with pytest.raises(_dism.InvalidSessionError):
        _dism.get_packages(other)


def test_last_error_messages_are_per_thread(standin, session):
    """Two threads fail at once with different errors; each gets its own
    message (DismGetLastErrorMessage is per thread)."""
    barrier = threading.Barrier(2)
    seen = {}

    def fail(code: str) -> None:
        barrier.wait()
        for _ in range(20):
            try:
                _dism.get_capability_info(session, f"fail:{code}")
            except _dism.DismError as error:
                seen.setdefault(code, set()).add(error.message)

    threads = [threading.Thread(target=fail, args=(c,)) for c in ("80070002", "80070005")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["80070002"] == {"stand-in DismGetCapabilityInfo failed (0x80070002): "
                                "requested by the argument"}
    assert seen["80070005"] == {"stand-in DismGetCapabilityInfo failed (0x80070005): "
                                "requested by the argument"}


def test_progress_comes_from_a_thread_the_dll_owns(standin, session):
    calls = []
    _dism.add_package(session, "C:\\kb.msu", False, False,
                      lambda current, total: calls.append((current, total,
                                                          threading.get_native_id())))
    assert [(c, t) for c, t, _ in calls] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    threads = {thread for _, _, thread in calls}
    assert threads == {standin.progress_thread()}
    assert threading.get_native_id() not in threads


def test_a_cancel_token_reaches_the_dll_through_the_cancel_event(standin, session):
    token = CancelToken()
    seen = []

    def progress(current, total):
        seen.append(current)
        if current == 3:
            token.set()

    with pytest.raises(_dism.CancelledError) as caught:
        _dism.enable_feature(session, "slow feature", None, False, False, None, False,
                             progress, token)
    assert caught.value.hresult == HR_CANCELLED and caught.value.completed is False
    assert 3 <= max(seen) < 400  # stopped by the DLL, well before its 400 steps


CONSOLE_CTRL_C_PROBE = r'''
import ctypes, json, sys, traceback
result = {}
try:
    from dism import _dism
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    seen = []

    def progress(current, total):
        seen.append(current)
        if current == 5:
            # What a Ctrl+C typed into this console sends: CTRL_C_EVENT to
            # process group 0, every process on the console (only this one).
            result["sent"] = bool(kernel32.GenerateConsoleCtrlEvent(0, 0))

    _dism.initialize(2, None, None)
    session = _dism.open_session("C:\\image", "Windows", "C:")
    try:
        _dism.remove_capability(session, "slow capability", progress)
        result["raised"] = None
    except KeyboardInterrupt as error:
        result.update(raised="KeyboardInterrupt", completed=getattr(error, "completed", None))
    finally:
        session.close()
        _dism.shutdown()
    result["steps"] = max(seen, default=0)
    standin = ctypes.WinDLL(_dism.library_path())
    result["outstanding"] = standin.StandinOutstanding()
except BaseException:
    result["crash"] = traceback.format_exc()
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(result, out)
'''


def test_a_console_ctrl_c_during_a_long_call_cancels_it_in_the_dll(tmp_path):
    # A real console control event, in a child with a console of its own
    # (Wine delivers one there; a process whose output is a pipe has none).
    result = run_in_own_console(CONSOLE_CTRL_C_PROBE, tmp_path)
    assert result["sent"] is True, result
    assert result["raised"] == "KeyboardInterrupt" and result["completed"] is False, result
    assert 5 <= result["steps"] < 400, result  # the CancelEvent stopped the DLL's 400 steps
    assert result["outstanding"] == 0, result


def test_ctrl_c_during_a_long_call_cancels_it_in_the_dll(standin, session):
    # CPython's console control handler trips SIGINT; raise_signal from
    # another thread takes that same path, here in the test's own process.
    seen = []
    timer = threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            _dism.remove_capability(session, "slow capability",
                                    lambda current, total: seen.append(current))
    finally:
        timer.cancel()
    assert caught.value.completed is False
    assert seen and max(seen) < 400  # the CancelEvent stopped the DLL before its 400 steps


def test_the_callbacks_exception_wins_and_cancels(standin, session):
    seen = []

    def progress(current, total):
        seen.append(current)
        raise ValueError("stop here")

    with pytest.raises(ValueError, match="stop here") as caught:
        _dism.remove_capability(session, "slow capability", progress)
    assert caught.value.completed is False
    assert len(seen) < 400


def functions_the_tests_call() -> set[str]:
    """The names this module's tests (and test_standin_wimgapi.py's, the
    WIMGAPI binding's) call as _dism.<name>(...), read from their source: a
    function of the module that no test calls shows."""
    here = Path(__file__).parent
    called = set()
    for source in (Path(__file__), here / "test_standin_wimgapi.py"):
        called |= _called_in(ast.parse(source.read_text(encoding="utf-8")))
    return called


def _called_in(tree: ast.AST) -> set[str]:
    called = set()
    for test in ast.walk(tree):
        if isinstance(test, ast.FunctionDef) and test.name.startswith("test_"):
            called |= {node.func.attr for node in ast.walk(test)
                       if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                       and isinstance(node.func.value, ast.Name) and node.func.value.id == "_dism"}
    return called


def test_every_function_of_the_module_is_run_here():
    functions = {name for name in dir(_dism) if callable(getattr(_dism, name))
                 and not isinstance(getattr(_dism, name), type)}
    assert functions - functions_the_tests_call() == set()
