"""The servicing verbs of the command line: parsing in both spellings, help,
usage errors, the failures that need no servicing engine, and how results
(real dataclasses built from the extension's dicts) are shown, as text and
as JSON."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest

import dism
from dism import cli, types
from dism.cli.console import Console
from dism.cli.exit_codes import UsageError
from dism.cli.parser import build_parser, parse as parse_command_line
from dism.cli.render import _SERVICING_RENDERERS
from dism.cli.report import RESTART_NOTE, emit_result
from dism.cli.results import ActionResult, ServicingResult
from dism.cli.verbs.servicing import _feature_names
from dism.testing import WindowsImageSpec, build_windows_tree

from support.cli import run
from support.raw_records import raw_record

SUCCESS = "The operation completed successfully."


def parse(*argv):
    return parse_command_line(build_parser(), [str(a) for a in argv])


def without_parser(args) -> dict:
    """The parsed values; each parse builds its own parser object."""
    return {key: value for key, value in vars(args).items() if key != "parser"}


SERVICING_VERBS = {
    "get-features": "/Get-Features", "get-featureinfo": "/Get-FeatureInfo",
    "enable-feature": "/Enable-Feature", "disable-feature": "/Disable-Feature",
    "get-packages": "/Get-Packages", "get-packageinfo": "/Get-PackageInfo",
    "add-package": "/Add-Package", "remove-package": "/Remove-Package",
    "get-drivers": "/Get-Drivers", "get-driverinfo": "/Get-DriverInfo",
    "add-driver": "/Add-Driver", "remove-driver": "/Remove-Driver",
    "get-capabilities": "/Get-Capabilities", "get-capabilityinfo": "/Get-CapabilityInfo",
    "add-capability": "/Add-Capability", "remove-capability": "/Remove-Capability",
    "get-currentedition": "/Get-CurrentEdition", "get-targeteditions": "/Get-TargetEditions",
    "get-provisionedappxpackages": "/Get-ProvisionedAppxPackages",
    "check-health": "/Cleanup-Image /CheckHealth", "scan-health": "/Cleanup-Image /ScanHealth",
    "restore-health": "/Cleanup-Image /RestoreHealth",
    "apply-unattend": "/Apply-Unattend:PATH",
}


# --- help ----------------------------------------------------------------------------

@pytest.mark.parametrize("verb", sorted(SERVICING_VERBS))
def test_every_servicing_verb_has_help(capsys, verb):
    code, out, err = run(capsys, verb, "--help")
    assert code == 0 and err == ""
    assert f"(DISM.exe: {SERVICING_VERBS[verb]})" in out
    assert "--image DIR" in out and "--online" in out and "--windows-dir" in out
    assert "exit status:" in out


def test_top_level_help_lists_the_servicing_verbs(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for verb in SERVICING_VERBS:
        assert verb in out, verb
    assert "/Cleanup-Image /CheckHealth" in out


def test_help_in_dism_exe_spelling(capsys):
    code, out, _ = run(capsys, "/Get-Features", "/?")
    assert code == 0 and "--package-name" in out and "--format" in out


# --- parsing, both spellings ----------------------------------------------------------

PARSED = [
    (["get-features", "--image", "/mnt/w"],
     ["/Image:/mnt/w", "/Get-Features"],
     {"verb": "get-features", "image": "/mnt/w", "online": False, "windows_dir": None,
      "package_name": None, "package_path": None, "format": "list"}),
    (["get-features", "--image", "/mnt/w", "--package-name", "Foundation", "--format", "table"],
     ["/Image:/mnt/w", "/Get-Features", "/PackageName:Foundation", "/Format:Table"],
     {"package_name": "Foundation", "format": "table"}),
    (["get-featureinfo", "--image", "/mnt/w", "--feature-name", "NetFx3",
      "--package-path", "/p.cab"],
     ["/Image:/mnt/w", "/Get-FeatureInfo", "/FeatureName:NetFx3", "/PackagePath:/p.cab"],
     {"feature_name": "NetFx3", "package_path": "/p.cab", "package_name": None}),
    (["enable-feature", "--image", "/mnt/w", "--feature-name", "A", "--feature-name", "B;C",
      "--all", "--source", "/s1", "--source", "/s2", "--limit-access"],
     ["/Image:/mnt/w", "/Enable-Feature", "/FeatureName:A", "/FeatureName:B;C", "/All",
      "/Source:/s1", "/Source:/s2", "/LimitAccess"],
     {"feature_name": ["A", "B;C"], "all": True, "source": ["/s1", "/s2"],
      "limit_access": True, "package_name": None}),
    (["enable-feature", "--image", "/mnt/w", "--feature-name", "A"],
     ["/Image:/mnt/w", "/Enable-Feature", "/FeatureName:A"],
     {"all": False, "source": [], "limit_access": False}),
    (["disable-feature", "--image", "/mnt/w", "--feature-name", "A", "--package-name", "P",
      "--remove"],
     ["/Image:/mnt/w", "/Disable-Feature", "/FeatureName:A", "/PackageName:P", "/Remove"],
     {"feature_name": ["A"], "package_name": "P", "remove": True}),
    (["get-packages", "--image", "/mnt/w", "--windows-dir", "WINNT"],
     ["/Image:/mnt/w", "/WindowsDir:WINNT", "/Get-Packages"],
     {"windows_dir": "WINNT", "format": "list"}),
    (["get-packageinfo", "--image", "/mnt/w", "--package-name", "P~1"],
     ["/Image:/mnt/w", "/Get-PackageInfo", "/PackageName:P~1"],
     {"package_name": "P~1", "package_path": None}),
    (["add-package", "--image", "/mnt/w", "--package-path", "/a.cab", "--package-path", "/b.msu",
      "--ignore-check", "--prevent-pending"],
     ["/Image:/mnt/w", "/Add-Package", "/PackagePath:/a.cab", "/PackagePath:/b.msu",
      "/IgnoreCheck", "/PreventPending"],
     {"package_path": ["/a.cab", "/b.msu"], "ignore_check": True, "prevent_pending": True}),
    (["remove-package", "--image", "/mnt/w", "--package-path", "/a.cab"],
     ["/Image:/mnt/w", "/Remove-Package", "/PackagePath:/a.cab"],
     {"package_path": ["/a.cab"], "package_name": None}),
    (["get-drivers", "--image", "/mnt/w", "--all"],
     ["/Image:/mnt/w", "/Get-Drivers", "/All"],
     {"all": True}),
    (["get-driverinfo", "--image", "/mnt/w", "--driver", "oem1.inf"],
     ["/Image:/mnt/w", "/Get-DriverInfo", "/Driver:oem1.inf"],
     {"driver": ["oem1.inf"]}),
    (["add-driver", "--image", "/mnt/w", "--driver", "/drv", "--recurse", "--force-unsigned"],
     ["/Image:/mnt/w", "/Add-Driver", "/Driver:/drv", "/Recurse", "/ForceUnsigned"],
     {"driver": ["/drv"], "recurse": True, "force_unsigned": True}),
    (["remove-driver", "--image", "/mnt/w", "--driver", "oem1.inf", "--driver", "oem2.inf"],
     ["/Image:/mnt/w", "/Remove-Driver", "/Driver:oem1.inf", "/Driver:oem2.inf"],
     {"driver": ["oem1.inf", "oem2.inf"]}),
    (["get-capabilities", "--image", "/mnt/w"],
     ["/Image:/mnt/w", "/Get-Capabilities"],
     {"format": "list"}),
    (["get-capabilityinfo", "--image", "/mnt/w", "--capability-name", "Lang~~~de-DE~0.0.1.0"],
     ["/Image:/mnt/w", "/Get-CapabilityInfo", "/CapabilityName:Lang~~~de-DE~0.0.1.0"],
     {"capability_name": "Lang~~~de-DE~0.0.1.0"}),
    (["add-capability", "--image", "/mnt/w", "--capability-name", "C", "--source", "/fod",
      "--limit-access"],
     ["/Image:/mnt/w", "/Add-Capability", "/CapabilityName:C", "/Source:/fod", "/LimitAccess"],
     {"capability_name": ["C"], "source": ["/fod"], "limit_access": True}),
    (["remove-capability", "--image", "/mnt/w", "--capability-name", "C"],
     ["/Image:/mnt/w", "/Remove-Capability", "/CapabilityName:C"],
     {"capability_name": ["C"]}),
    (["get-currentedition", "--online"],
     ["/Online", "/Get-CurrentEdition"],
     {"online": True, "image": None}),
    (["get-targeteditions", "--image", "/mnt/w"],
     ["/Image:/mnt/w", "/Get-TargetEditions"],
     {"verb": "get-targeteditions"}),
    (["get-provisionedappxpackages", "--image", "/mnt/w"],
     ["/Image:/mnt/w", "/Get-ProvisionedAppxPackages"],
     {"verb": "get-provisionedappxpackages"}),
    (["check-health", "--image", "/mnt/w"],
     ["/Image:/mnt/w", "/Cleanup-Image", "/CheckHealth"],
     {"verb": "check-health"}),
    (["scan-health", "--image", "/mnt/w"],
     ["/Image:/mnt/w", "/Cleanup-Image", "/ScanHealth"],
     {"verb": "scan-health"}),
    (["restore-health", "--image", "/mnt/w", "--source", "/wim", "--limit-access"],
     ["/Image:/mnt/w", "/Cleanup-Image", "/RestoreHealth", "/Source:/wim", "/LimitAccess"],
     {"verb": "restore-health", "source": ["/wim"], "limit_access": True}),
    (["apply-unattend", "--image", "/mnt/w", "--unattend", "/u.xml"],
     ["/Image:/mnt/w", "/Apply-Unattend:/u.xml"],
     {"verb": "apply-unattend", "unattend": "/u.xml", "single_session": False}),
]


@pytest.mark.parametrize("argv, dism_argv, expected", PARSED,
                         ids=[f"{case[0][0]}-{i}" for i, case in enumerate(PARSED)])
def test_both_spellings_parse_alike(argv, dism_argv, expected):
    args = parse(*argv)
    dism_args = parse(*dism_argv)
    for key, value in expected.items():
        assert getattr(args, key) == value, key
    assert without_parser(args) == without_parser(dism_args)
    assert args.spec.name == args.verb


def test_dism_spelling_is_case_insensitive():
    args = parse("/IMAGE:/mnt/w", "/cleanup-image", "/checkhealth")
    assert args.verb == "check-health" and args.image == "/mnt/w"
    args = parse("/image:/mnt/w", "/APPLY-UNATTEND:C:\\u.xml")
    assert args.unattend == "C:\\u.xml"


def test_translate_servicing_syntax():
    t = cli.translate_dism_syntax
    assert t(["/Image:C:\\mnt", "/Cleanup-Image", "/RestoreHealth", "/Source:D:\\sources",
              "/LimitAccess"]) == ["restore-health", "--image=C:\\mnt", "--source=D:\\sources",
                                   "--limit-access"]
    assert t(["/Image:/m", "/Apply-Unattend:/a b.xml"]) == \
        ["apply-unattend", "--unattend=/a b.xml", "--image=/m"]
    # A verb that takes no value keeps refusing one.
    with pytest.raises(UsageError, match="/Get-Packages takes no value"):
        t(["/Image:/m", "/Get-Packages:x"])
    # No DISM.exe verb: left alone, even with DISM-like options in its paths.
    argv = ["get-features", "--image", "/Online", "--package-path", "/Image:x/p.cab"]
    assert t(argv) == argv


def test_feature_names_split_on_semicolons():
    args = parse("enable-feature", "--image", "/m", "--feature-name", "A;B", "--feature-name", "C")
    assert _feature_names(args) == ["A", "B", "C"]


# --- usage errors ------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["get-features"],                                               # no image
    ["get-features", "--image", "/m", "--online"],                  # two images
    ["get-packages", "--online", "--windows-dir", "Windows"],       # windows dir online
    ["get-features", "--image", "/m", "--package-name", "P", "--package-path", "/p"],
    ["get-features", "--image", "/m", "--format", "wide"],
    ["get-featureinfo", "--image", "/m"],
    ["enable-feature", "--image", "/m"],
    ["enable-feature", "--image", "/m", "--feature-name", "A;;B"],
    ["disable-feature", "--image", "/m", "--feature-name", " "],
    ["get-packageinfo", "--image", "/m"],
    ["remove-package", "--image", "/m"],
    ["add-package", "--image", "/m"],
    ["get-driverinfo", "--image", "/m"],
    ["add-driver", "--image", "/m"],
    ["remove-driver", "--image", "/m"],
    ["get-capabilityinfo", "--image", "/m"],
    ["add-capability", "--image", "/m"],
    ["remove-capability", "--image", "/m"],
    ["apply-unattend", "--image", "/m"],
    ["/Image:/m", "/Apply-Unattend"],
    ["/Image:/m", "/Cleanup-Image"],
    ["/Image:/m", "/Cleanup-Image", "/CheckHealth", "/ScanHealth"],
    ["/Image:/m", "/Get-Drivers", "/Bogus"],
])
def test_servicing_usage_errors_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert ("error:" in err) != err.startswith("Error: 87\n")   # argparse's or DISM.exe's


def test_cleanup_image_without_an_action_says_which(capsys):
    code, out, err = run(capsys, "/Image:/m", "/Cleanup-Image", "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["error"]["type"] == "UsageError"
    assert "/Cleanup-Image needs an action: one of /CheckHealth, /ScanHealth" in doc["error"]["message"]


# --- failures that happen before any servicing call ------------------------------------

def test_add_driver_without_infs_exits_3(capsys, offline_tree, tmp_path):
    empty = tmp_path / "no-drivers"
    empty.mkdir()
    code, out, err = run(capsys, "add-driver", "--image", offline_tree, "--driver", empty,
                         "--recurse", "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc["error"]["type"] == "PathNotFoundError"
    assert doc["error"]["hresult"] == "0x80070002"
    assert str(empty) in doc["error"]["message"]

    code, out, err = run(capsys, "/Image:" + str(offline_tree), "/Add-Driver",
                         "/Driver:" + str(empty))
    assert code == 3
    assert "Searching for driver package(s) to install..." in out and SUCCESS not in out
    assert err.startswith("Error: 0x80070002\n")


def test_a_missing_image_exits_3(capsys, tmp_path):
    code, out, _ = run(capsys, "get-packages", "--image", tmp_path / "absent", "--json")
    assert code == 3
    assert json.loads(out)["error"]["type"] == "PathNotFoundError"


@pytest.mark.skipif(dism.BACKEND != "portable", reason="online servicing works on Windows")
def test_online_is_not_supported_by_the_portable_engine(capsys):
    code, out, _ = run(capsys, "/Online", "/Get-Packages", "--json")
    assert code == 6
    assert json.loads(out)["error"]["type"] == "NotSupportedError"


# --- rendering results -----------------------------------------------------------------

FEATURES = [types.Feature._from_raw(raw_record(types.Feature, {"name": "NetFx3", "state": 4})),
            types.Feature._from_raw(raw_record(types.Feature, {"name": "TelnetClient", "state": 2})),
            types.Feature._from_raw(raw_record(types.Feature, {"name": "SMB1Protocol", "state": 3})),
            types.Feature._from_raw(raw_record(types.Feature, {"name": "Future", "state": 42}))]


def human(result) -> list:
    stdout = io.StringIO()
    emit_result(result, Console(stdout, io.StringIO(), json_mode=False, quiet=False))
    return stdout.getvalue().splitlines()


def as_json(result) -> dict:
    stdout = io.StringIO()
    emit_result(result, Console(stdout, io.StringIO(), json_mode=True, quiet=False))
    return json.loads(stdout.getvalue())


def test_features_as_dism_blocks():
    result = ServicingResult("features", "/mnt/w", FEATURES)
    lines = human(result)
    assert lines[:2] == ["Features listing:", ""]
    assert lines[2:5] == ["Feature Name : NetFx3", "State : Enabled", ""]
    assert "State : Disabled" in lines
    assert "State : Disabled with Payload Removed" in lines
    assert "State : 42" in lines  # a state newer than this program
    assert lines[-1] == SUCCESS


def test_features_of_a_package_name_it():
    result = ServicingResult("features", "/mnt/w", FEATURES[:1],
                                 context={"package_name": "Foundation", "package_path": None})
    assert human(result)[0] == "Features listing for package : Foundation"


def test_features_as_a_table():
    lines = human(ServicingResult("features", "/mnt/w", FEATURES, table=True))
    rule, header, rule2 = lines[2:5]
    assert rule == rule2 and set(rule) == {"-", " ", "|"}
    assert header.split(" | ")[0].rstrip() == "Feature Name"
    rows = lines[5:9]
    assert rows[0].split(" | ") == ["NetFx3      ", "Enabled"]
    assert [row.index("|") for row in rows] == [header.index("|")] * 4


def test_features_as_json():
    doc = as_json(ServicingResult("features", "/mnt/w", FEATURES,
                                      context={"package_name": None, "package_path": None}))
    assert doc == {"image": "/mnt/w", "package_name": None, "package_path": None, "features": [
        {"name": "NetFx3", "state": "INSTALLED"}, {"name": "TelnetClient", "state": "STAGED"},
        {"name": "SMB1Protocol", "state": "RESOLVED"}, {"name": "Future", "state": 42}]}


def test_an_empty_listing_says_so():
    assert "(No features found)" in human(ServicingResult("features", "/m", []))
    assert "(No capabilities found)" in human(ServicingResult("capabilities", "/m", [],
                                                                  table=True))


def package_info(**changes) -> types.PackageInfo:
    raw = {
        "name": "Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.2", "state": 4,
        "release_type": 4, "install_time": (2021, 3, 2, 9, 10, 11, 12, 0),
        "applicable": True, "copyright": None, "company": "Microsoft Corporation",
        "creation_time": (0,) * 8, "display_name": "Security Update", "description": "Fix",
        "install_client": "DISM", "install_package_name": "update.mum",
        "last_update_time": (0,) * 8, "product_name": "Windows", "product_version": "10.0.1.2",
        "restart_required": 2, "fully_offline": 0, "support_information": None,
        "custom_properties": [{"name": "Id", "value": "7", "path": "Meta"}],
        "features": [{"name": "A", "state": 4}], **changes}
    return types.PackageInfo._from_raw(raw_record(types.PackageInfo, raw))


def test_package_info_human_and_json():
    info = package_info(capability_id="Cap~~~~0.0.1.0")
    lines = human(ServicingResult("package", "/mnt/w", info))
    for expected in ["Package information:", f"Package Identity : {info.name}",
                     "Applicable : Yes", "Copyright : <undefined>",
                     "Creation Time : <undefined>", "Release Type : Security Update",
                     "Restart Required : Required", "State : Installed",
                     "Completely offline capable : Yes", "Capability Identity : Cap~~~~0.0.1.0",
                     "Meta\\Id : 7", f"Features listing for package : {info.name}",
                     "Feature Name : A", "State : Enabled"]:
        assert expected in lines, expected
    assert any(line.startswith("Install Time : 3/") or line.startswith("Install Time : 3/9")
               for line in lines)

    doc = as_json(ServicingResult("package", "/mnt/w", info))
    package = doc["package"]
    assert package["state"] == "INSTALLED" and package["release_type"] == "SECURITY_UPDATE"
    assert dt.datetime.fromisoformat(package["install_time"]) == \
        dt.datetime(2021, 3, 9, 10, 11, 12, tzinfo=dt.timezone.utc)
    assert package["creation_time"] is None
    assert package["custom_properties"] == [{"name": "Id", "value": "7", "path": "Meta"}]
    assert package["features"] == [{"name": "A", "state": "INSTALLED"}]
    assert package["capability_id"] == "Cap~~~~0.0.1.0"


def test_package_info_without_capability_id_has_no_such_line():
    lines = human(ServicingResult("package", "/mnt/w", package_info(features=[])))
    assert not any(line.startswith("Capability Identity") for line in lines)
    assert "(No features found for this package)" in lines


def driver_package(**changes) -> types.DriverPackage:
    raw = {"published_name": "oem3.inf", "original_file_name": "e1d.inf", "inbox": False,
           "catalog_file": "e1d.cat", "class_name": "Net", "class_guid": "{4D36E972}",
           "class_description": "Network adapters", "boot_critical": False, "signature": 2,
           "provider_name": "Intel", "date": (2020, 6, 5, 12, 0, 0, 0, 0),
           "version": (12, 19, 1, 37), **changes}
    return types.DriverPackage._from_raw(raw_record(types.DriverPackage, raw))


def test_drivers_listing_and_json():
    drivers = [driver_package(), driver_package(published_name="oem4.inf", date=(0,) * 8)]
    lines = human(ServicingResult("drivers", "/mnt/w", drivers))
    for expected in ["Driver packages listing:", "Published Name : oem3.inf",
                     "Original File Name : e1d.inf", "Inbox : No", "Class Name : Net",
                     "Provider Name : Intel", "Date : 6/12/2020", "Version : 12.19.1.37",
                     "Date : <undefined>"]:
        assert expected in lines, expected
    doc = as_json(ServicingResult("drivers", "/mnt/w", drivers, context={"all_drivers": False}))
    assert doc["all_drivers"] is False
    first = doc["drivers"][0]
    assert first["version"] == "12.19.1.37" and first["signature"] == "SIGNED"
    assert first["date"].startswith("2020-06-12T00:00:00")
    assert doc["drivers"][1]["date"] is None


def test_driver_info_groups_devices_by_architecture():
    def device(arch, hwid):
        return types.Driver._from_raw(raw_record(types.Driver, {
            "manufacturer_name": "Intel", "hardware_description": "NIC", "hardware_id": hwid,
            "architecture": arch, "service_name": "e1d", "compatible_ids": None,
            "exclude_ids": None}))

    value = {"driver_package": driver_package(),
             "drivers": (device(9, "PCI\\A"), device(12, "PCI\\B"), device(9, "PCI\\C"))}
    lines = human(ServicingResult("driver_info", "/mnt/w", value))
    x64 = lines.index("Drivers for architecture : x64")
    arm64 = lines.index("Drivers for architecture : arm64")
    assert x64 < lines.index("    Hardware ID : PCI\\A") < lines.index("    Hardware ID : PCI\\C") \
        < arm64 < lines.index("    Hardware ID : PCI\\B")
    assert "Boot Critical : No" in lines and "Class Description : Network adapters" in lines
    doc = as_json(ServicingResult("driver_info", "/mnt/w", value))
    assert doc["driver_info"]["driver_package"]["published_name"] == "oem3.inf"
    assert [d["architecture"] for d in doc["driver_info"]["drivers"]] == \
        ["AMD64", "ARM64", "AMD64"]


def test_capabilities_editions_appx_and_health():
    caps = [types.Capability._from_raw(raw_record(types.Capability, {"name": "Language.Basic~~~en-US~0.0.1.0", "state": 4})),
            types.Capability._from_raw(raw_record(types.Capability, {"name": "OpenSSH.Client~~~~0.0.1.0", "state": 0}))]
    lines = human(ServicingResult("capabilities", "/m", caps))
    assert "Capability Identity : Language.Basic~~~en-US~0.0.1.0" in lines
    assert "State : Installed" in lines and "State : Not Present" in lines

    info = types.CapabilityInfo._from_raw(raw_record(types.CapabilityInfo, {
        "name": "C", "state": 5, "display_name": "Cap", "description": None,
        "download_size": 1234567, "install_size": 0}))
    lines = human(ServicingResult("capability", "/m", info))
    assert "State : Install Pending" in lines and "Download Size : 1,234,567 bytes" in lines

    assert "Current Edition : Professional" in human(
        ServicingResult("current_edition", "/m", "Professional"))
    assert as_json(ServicingResult("current_edition", "/m", "Professional")) == \
        {"image": "/m", "current_edition": "Professional"}
    lines = human(ServicingResult("target_editions", "/m", ["Enterprise", "Education"]))
    assert ["Target Edition : Enterprise", "Target Edition : Education"] == \
        [line for line in lines if line.startswith("Target Edition")]

    appx = types.AppxPackage._from_raw(raw_record(types.AppxPackage, {
        "package_name": "Microsoft.BingWeather_4.25.20211.0_neutral_~_8wekyb3d8bbwe",
        "display_name": "Microsoft.BingWeather", "publisher_id": "8wekyb3d8bbwe",
        "version": (4, 25, 20211, 0), "architecture": 11, "resource_id": "~",
        "install_location": "x", "region": None}))
    lines = human(ServicingResult("provisioned_appx_packages", "/m", [appx]))
    assert "DisplayName : Microsoft.BingWeather" in lines and "Architecture : neutral" in lines
    assert "Version : 4.25.20211.0" in lines and "Regions : None" in lines
    doc = as_json(ServicingResult("provisioned_appx_packages", "/m", [appx]))
    assert doc["provisioned_appx_packages"][0]["version"] == "4.25.20211.0"
    assert doc["provisioned_appx_packages"][0]["architecture"] == "NEUTRAL"

    for state, sentence in [(0, "No component store corruption detected."),
                            (1, "The component store is repairable."),
                            (2, "The component store cannot be repaired.")]:
        health = types.as_enum(types.ImageHealthState, state)
        assert human(ServicingResult("health_state", "/m", health))[0] == sentence
    assert as_json(ServicingResult("health_state", "/m", dism.ImageHealthState.REPAIRABLE)) \
        == {"image": "/m", "health_state": "REPAIRABLE"}
    assert "9" in human(ServicingResult("health_state", "/m", 9))[0]


def test_actions_report_restart_and_json():
    result = ActionResult("enable-feature", {"image": "/m", "features": ["A", "B"]},
                              restart_required=True)
    lines = human(result)
    assert lines[-2:] == [SUCCESS, RESTART_NOTE]
    assert as_json(result) == {"operation": "enable-feature", "image": "/m",
                               "features": ["A", "B"], "restart_required": True}


def test_exit_status_of_servicing_errors():
    def error(cls, hresult):
        exc = cls("x")
        exc.hresult = hresult
        return exc

    assert cli.exit_status(error(dism.NotFoundError, 0x80070490)) == 3
    assert cli.exit_status(error(dism.UnknownFeatureError, 0x800F080C)) == 3
    assert cli.exit_status(error(dism.InvalidProductKeyError, 0x80070645)) == 3
    assert cli.exit_status(error(dism.ExportNotAvailableError, 0x8007007F)) == 6
    assert cli.exit_status(error(dism.NotApplicableError, 0x800F081E)) == 1
    assert cli.exit_status(error(dism.ParentFeatureDisabledError, 0xC004000D)) == 1


def test_every_kind_a_verb_can_return_has_a_renderer():
    kinds = {"features", "feature", "packages", "package", "drivers", "driver_info",
             "driver_infos", "capabilities", "capability", "current_edition",
             "target_editions", "provisioned_appx_packages", "health_state",
             "reserved_storage_state"}
    assert set(_SERVICING_RENDERERS) == kinds
