"""Lines a demanding user (or an attacker) might write, which once slipped
through: a global option's value given twice, the first silently dropped."""
from __future__ import annotations

import json
import re

import pytest

from dism.testing import build_windows_tree, sample_servicing_spec
from dism.testing.hive import write_hive
from dism.testing.servicing import driver_database

from support.cli import run
from support.folders import unmovable


@pytest.mark.parametrize("line", [
    # argparse's spelling: before and after the verb, or twice after it
    ["--log-path", "{tmp}/a.log", "get-mountedimageinfo", "--log-path", "{tmp}/b.log"],
    ["get-mountedimageinfo", "--log-path", "{tmp}/a.log", "--log-path", "{tmp}/b.log"],
    ["get-mountedimageinfo", "--log-level", "1", "--log-level", "4"],
    ["--scratch-dir", "{tmp}", "get-mountedimageinfo", "--scratch-dir", "{tmp}/s"],
    # DISM.exe's spelling, with the program's own option mixed in
    ["/Get-MountedImageInfo", "/LogPath:{tmp}/a.log", "--log-path={tmp}/b.log"],
    ["--log-level", "2", "/Get-MountedImageInfo", "/LogLevel:4"],
])
def test_a_global_option_given_twice_is_refused_not_half_dropped(capsys, tmp_path, line):
    code, out, err = run(capsys, *(word.format(tmp=tmp_path) for word in line))
    assert code == 2, err
    assert "given twice" in err
    # Nothing ran: no log was written to either path.
    assert not list(tmp_path.glob("*.log"))


@pytest.mark.parametrize("line", [
    ["--log-path", "{tmp}/a.log", "get-mountedimageinfo"],
    ["get-mountedimageinfo", "--log-path", "{tmp}/a.log"],
    ["--log-level", "4", "--scratch-dir", "{tmp}", "get-mountedimageinfo", "--log-path",
     "{tmp}/a.log"],
    ["--log-path", "{tmp}/a.log", "/Get-MountedImageInfo", "/LogLevel:4"],
])
def test_a_global_option_given_once_anywhere_still_works(capsys, tmp_path, line):
    code, out, err = run(capsys, *(word.format(tmp=tmp_path) for word in line))
    assert code == 0, err
    assert (tmp_path / "a.log").is_file()


def _cli_verbs_named(message: str) -> list:
    from dism.cli.verbs import VERBS
    words = set(re.findall(r"(?<![\w/-])[a-z]+(?:-[a-z]+)+(?![\w-])", message))
    return sorted(words & {verb.name for verb in VERBS})


@pytest.mark.parametrize("line, dism_exe_words", [
    (["/ImageFile:{tmp}/x.wim", "/Add-Driver", "/Driver:{tmp}/a.inf"], "/Mount-Image"),
    (["/Image:{tmp}", "/Set-ReservedStorageState", "/State:Disabled"],
     "/Set-ReservedStorageState"),
    (["/Get-ImageInfo", "/ImageFile:{tmp}/x.wim", "/Index:99999999999"], "/Get-ImageInfo"),
    # DISM.exe's option names that are DISM API names too stay as they are
    (["/Image:{tmp}", "/Get-FeatureInfo", "/FeatureName:A", "/FeatureName:B"],
     "The /FeatureName option was given twice (/FeatureName and /FeatureName)"),
    (["/Image:{tmp}", "/Get-PackageInfo", "/PackageName:A", "/PackagePath:B"],
     "argument /PackagePath: not allowed with argument /PackageName"),
])
def test_a_dism_exe_line_s_usage_error_names_dism_exe_verbs(capsys, tmp_path, line,
                                                            dism_exe_words):
    code, out, err = run(capsys, *(word.format(tmp=tmp_path) for word in line))
    assert code == 2 and err.startswith("Error: 87")
    assert _cli_verbs_named(err) == []
    assert dism_exe_words in err


DRIVER_STORE = "Windows/System32/DriverStore/FileRepository"


@pytest.mark.parametrize("spelling", ["cli", "dism.exe"])
def test_add_driver_refuses_a_missing_inf_before_adding_any(capsys, image, tmp_path, spelling):
    # The first INF exists; were it added before the second is found
    # missing, the image would be left half changed (on Windows; the
    # portable engine refuses adding drivers, which must not come first).
    present = next((image / DRIVER_STORE).glob("*/*.inf"))
    missing = tmp_path / "missing.inf"
    line = {"cli": ["add-driver", "--image", image, "--driver", present, "--driver", missing],
            "dism.exe": [f"/Image:{image}", "/Add-Driver", f"/Driver:{present}",
                         f"/Driver:{missing}"]}[spelling]
    code, out, err = run(capsys, *line)
    assert code == 3, err
    assert f"'{missing}'" in err and "nothing was added" in err
    assert "Found 2 driver package(s)" not in out


@pytest.mark.parametrize("json_mode", [False, True])
def test_export_driver_reports_a_file_system_failure_and_what_was_exported(
        capsys, image, tmp_path, json_mode):
    # Not a Python traceback (and, with --json, not an empty stdout): the
    # error with its code, naming the folder, and the packages exported
    # before it, which stay.
    destination = tmp_path / "out"
    destination.mkdir(mode=0o755)
    folders = sorted(p.name for p in (image / DRIVER_STORE).iterdir()
                     if p.name.startswith("contoso"))
    stuck = destination / "contosoport.inf_amd64_fedcba9876543210"
    stuck.mkdir()
    line = [f"/Image:{image}", "/Export-Driver", f"/Destination:{destination}"]
    with unmovable(stuck):
        code, out, err = run(capsys, *line, *(["--json"] if json_mode else []))
    message = json.loads(out)["error"]["message"] if json_mode else err
    assert code == 1, message
    assert f"'{stuck}'" in message and "/Export-Driver" in message
    assert "oem0.inf, oem1.inf" in message
    assert sorted(p.name for p in destination.iterdir()) == folders


@pytest.mark.parametrize("line, shown", [
    (["/Get-Help"], "DISM.exe verbs"),
    (["/Image:/m", "/Get-Help"], "DISM.exe verbs"),
    (["/Image:/m", "/Get-Packages", "/Get-Help"], "--format"),
    (["/get-help", "/Mount-Wim"], "--mount-dir"),
])
def test_get_help_is_dism_exe_s_other_spelling_of_help(capsys, line, shown):
    # DISM.exe documents /Get-Help as /?: "Dism /Get-Help",
    # "Dism /Image:C:\test\offline /Add-Package /Get-Help".
    code, out, err = run(capsys, *line)
    assert code == 0, err
    assert shown in out


#: What a hostile image could put in a string the CLI prints: a colour, a
#: window title, and a line forged after a carriage return.
HOSTILE = "Evil\x1b[31mRED\x1b]0;pwned\x07\r\nThe operation completed successfully.\x9b2J"


@pytest.fixture
def hostile_image(tmp_path):
    """An image whose driver database names a provider holding control
    characters."""
    spec = sample_servicing_spec()
    root = build_windows_tree(tmp_path / "image", spec)
    database = driver_database(spec.drivers_in("DRIVERS"), spec.architecture)
    database["DriverPackages"]["contosoraid.inf_amd64_a1b2c3d4e5f60718"]["Provider"] = HOSTILE
    write_hive(root / "Windows/System32/config/DRIVERS", {"DriverDatabase": database},
               name="DRIVERS")
    return root


@pytest.mark.parametrize("verb", ["/Get-Drivers", "/Get-DriverInfo"])
def test_control_characters_from_an_image_never_reach_the_terminal_raw(capsys, hostile_image,
                                                                       verb):
    line = [f"/Image:{hostile_image}", verb] + (["/Driver:oem0.inf"] if "Info" in verb else [])
    code, out, err = run(capsys, *line)
    assert code == 0, err
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)
    assert out.splitlines().count("The operation completed successfully.") == 1
    # Shown, escaped, rather than dropped: the provider is still readable.
    assert "Evil\\x1b[31mRED\\x1b]0;pwned\\x07\\x0d\\x0aThe operation" in out


def test_json_keeps_an_image_s_string_exactly(capsys, hostile_image):
    code, out, err = run(capsys, f"/Image:{hostile_image}", "/Get-Drivers", "--json")
    assert code == 0, err
    providers = [d["provider_name"] for d in json.loads(out)["drivers"]]
    assert HOSTILE in providers


@pytest.mark.parametrize("log_path", ["{tmp}", "{tmp}/missing/dism.log"])
def test_a_log_file_that_cannot_be_opened_is_not_said_to_be_found(capsys, image, tmp_path,
                                                                   log_path):
    log = log_path.format(tmp=tmp_path)
    code, out, err = run(capsys, f"/Image:{image}", "/Get-Packages", f"/LogPath:{log}")
    assert code != 0 and f"'{log}'" in err
    assert "The DISM log file can be found at" not in err


def test_a_failure_with_a_log_file_points_at_it(capsys, image, tmp_path):
    log = tmp_path / "dism.log"
    code, out, err = run(capsys, f"/Image:{image}", "/Get-PackageInfo", "/PackageName:nope",
                         f"/LogPath:{log}")
    assert code == 3 and log.is_file()
    assert f"The DISM log file can be found at {log}" in err
