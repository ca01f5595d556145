"""The verbs over provisioned apps, the edition, the product key and
reserved storage (DISM.exe: /Add-ProvisionedAppxPackage,
/Remove-ProvisionedAppxPackage, /Set-Edition, /Set-ProductKey,
/Get-ReservedStorageState, /Set-ReservedStorageState), run on real offline
trees: the portable engine refuses the changes, and the CLI says so in one
line naming the verb, with exit status 6, leaving every byte of the image
as it was."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from dism.cli.parser import build_parser, parse as parse_command_line
from dism.testing import WindowsImageSpec, build_wim, build_windows_tree, sample_servicing_spec

from support.cli import run, run_json

pytestmark = pytest.mark.usefixtures("engine_tmpdir")

NOT_SUPPORTED = "0x80070032"   # HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)
EXIT_INVALID, EXIT_UNSUPPORTED, EXIT_USAGE = 3, 6, 2
CALCULATOR = "Microsoft.WindowsCalculator_10.1906.55.0_x64__8wekyb3d8bbwe"

NEW_VERBS = {
    "add-provisionedappxpackage": "/Add-ProvisionedAppxPackage",
    "remove-provisionedappxpackage": "/Remove-ProvisionedAppxPackage",
    "set-edition": "/Set-Edition:EDITION",
    "set-productkey": "/Set-ProductKey:KEY",
    "get-reservedstoragestate": "/Get-ReservedStorageState",
    "set-reservedstoragestate": "/Set-ReservedStorageState",
}


def tree_digest(root: Path) -> str:
    """Every name, kind, mode and byte below root, in one digest."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(folder, name)
            info = path.lstat()
            digest.update(f"{path.relative_to(root)}\0{info.st_mode:o}\0".encode())
            if path.is_file() and not path.is_symlink():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_digest_sees_one_changed_byte(offline_tree):
    before = tree_digest(offline_tree)
    hive = offline_tree / "Windows" / "System32" / "config" / "SOFTWARE"
    data = bytearray(hive.read_bytes())
    data[-1] ^= 1
    hive.write_bytes(bytes(data))
    assert tree_digest(offline_tree) != before


def parse(*argv):
    args = parse_command_line(build_parser(), [str(a) for a in argv])
    return {k: v for k, v in vars(args).items() if k not in ("parser", "spec")}


@pytest.fixture
def app_files(tmp_path):
    """An app package, its unpacked folder, a dependency and a license, outside the image."""
    package = tmp_path / "Contoso.App_1.0.0.0_x64__abc.msix"
    package.write_bytes(b"PK\x03\x04 not a real package; the engine refuses before reading it")
    folder = tmp_path / "Contoso.App"
    folder.mkdir()
    (folder / "AppxManifest.xml").write_text("<Package/>")
    dependency = tmp_path / "Microsoft.VCLibs.x64.appx"
    dependency.write_bytes(b"PK\x03\x04")
    license_file = tmp_path / "license.xml"
    license_file.write_text("<License/>")
    return {"package": package, "folder": folder, "dependency": dependency,
            "license": license_file}


# --- help and parsing ------------------------------------------------------------------

@pytest.mark.parametrize("verb", sorted(NEW_VERBS))
def test_each_new_verb_has_help_naming_dism_exes_spelling(capsys, verb):
    code, out, err = run(capsys, verb, "--help")
    assert code == 0 and err == ""
    assert f"(DISM.exe: {NEW_VERBS[verb]})" in out
    assert "--image DIR" in out and "--online" in out


def test_add_provisionedappxpackage_parses_every_option():
    args = parse("add-provisionedappxpackage", "--image", "/m", "--package-path", "/a.msix",
                 "--dependency-package-path", "/d1.appx", "--dependency-package-path",
                 "/d2.appx", "--license-path", "/l1.xml", "--license-path", "/l2.xml",
                 "--custom-data-path", "/c.xml", "--region", "us;gb",
                 "--stub-package-option", "InstallStub")
    assert args["package_path"] == "/a.msix" and args["folder_path"] is None
    assert args["dependency_package_path"] == ["/d1.appx", "/d2.appx"]
    assert args["license_path"] == ["/l1.xml", "/l2.xml"]
    assert (args["custom_data_path"], args["region"], args["stub_package_option"],
            args["skip_license"]) == ("/c.xml", "us;gb", "installstub", False)


def test_dism_exe_puts_the_verbs_value_in_its_option():
    assert parse("/Image:/m", "/Set-Edition:Professional")["edition"] == "Professional"
    assert parse("/Image:/m", "/Set-ProductKey:AAAAA-BBBBB-CCCCC-DDDDD-EEEEE")["product_key"] \
        == "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"
    assert parse("/Image:/m", "/Remove-ProvisionedAppxPackage",
                 f"/PackageName:{CALCULATOR}")["package_name"] == CALCULATOR


# --- changes the portable engine refuses: one line, exit 6, nothing changed -------------

def _refused_changes(app_files):
    return {
        "set-edition": ["--edition", "Professional"],
        "set-productkey": ["--product-key", "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"],
        "remove-provisionedappxpackage": ["--package-name", CALCULATOR],
        "add-provisionedappxpackage": ["--package-path", app_files["package"],
                                       "--dependency-package-path", app_files["dependency"],
                                       "--license-path", app_files["license"]],
    }


REFUSED = ["set-edition", "set-productkey", "remove-provisionedappxpackage",
           "add-provisionedappxpackage"]
REASONS = {
    "set-edition": "changing the edition",
    "set-productkey": "setting a product key",
    "remove-provisionedappxpackage": "removing a provisioned app package",
    "add-provisionedappxpackage": "provisioning an app package",
}


@pytest.mark.parametrize("verb", REFUSED)
def test_a_change_the_engine_cannot_make_is_one_error_line(capsys, image, app_files, verb):
    before = tree_digest(image)
    code, out, err = run(capsys, verb, "--image", image, *_refused_changes(app_files)[verb])
    assert code == EXIT_UNSUPPORTED
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0] == f"Error: {NOT_SUPPORTED}"
    assert lines[1:] == [f"{verb}: {REASONS[verb]} is not supported by the portable DISM "
                         "engine: it needs Windows' servicing stack. The image was not changed."]
    assert "The operation completed successfully." not in out
    assert tree_digest(image) == before


@pytest.mark.parametrize("verb", REFUSED)
def test_the_refusal_as_json(capsys, image, app_files, verb):
    before = tree_digest(image)
    code, doc, _ = run_json(capsys, verb, "--image", image,
                            *_refused_changes(app_files)[verb])
    assert code == EXIT_UNSUPPORTED
    assert doc["error"]["hresult"] == NOT_SUPPORTED
    assert doc["error"]["type"] == "NotSupportedError"
    assert doc["error"]["message"].startswith(f"{verb}: {REASONS[verb]} is not supported")
    assert tree_digest(image) == before


def test_dism_exes_spelling_of_set_edition_reaches_the_engine(capsys, image):
    before = tree_digest(image)
    code, _, err = run(capsys, f"/Image:{image}", "/Set-Edition:Professional")
    assert code == EXIT_UNSUPPORTED and "/Set-Edition: changing the edition" in err   # DISM.exe's words
    assert tree_digest(image) == before


def test_an_unpacked_app_folder_is_given_to_the_engine_as_the_apps_path(capsys, image,
                                                                         app_files):
    before = tree_digest(image)
    code, doc, _ = run_json(capsys, "add-provisionedappxpackage", "--image", image,
                            "--folder-path", app_files["folder"], "--skip-license")
    assert code == EXIT_UNSUPPORTED and doc["error"]["hresult"] == NOT_SUPPORTED
    assert tree_digest(image) == before


# --- bad input the engine finds: exit 3, the image unchanged ------------------------------

@pytest.mark.parametrize("argv, words", [
    (["set-edition", "--edition", "Enterprise"], "set-edition: the image already is the "
                                                 "Enterprise edition."),
    (["set-edition", "--edition", "enterprise"], "already is the Enterprise edition"),
    (["set-productkey", "--product-key", "not-a-key"], "set-productkey: a product key has the "
                                                       "form XXXXX-XXXXX-XXXXX-XXXXX-XXXXX."),
    (["remove-provisionedappxpackage", "--package-name", "Contoso.Missing_1.0.0.0_x64__x"],
     "remove-provisionedappxpackage: no app package named 'Contoso.Missing_1.0.0.0_x64__x' "
     "is provisioned in the image."),
])
def test_bad_input_is_named_and_changes_nothing(capsys, image, argv, words):
    before = tree_digest(image)
    code, out, err = run(capsys, argv[0], "--image", image, *argv[1:])
    assert code == EXIT_INVALID
    assert words in err and "The operation completed successfully." not in out
    assert tree_digest(image) == before


def test_a_missing_app_package_is_named(capsys, image, tmp_path):
    missing = tmp_path / "absent.msix"
    code, doc, _ = run_json(capsys, "add-provisionedappxpackage", "--image", image,
                            "--package-path", missing, "--skip-license")
    assert code == EXIT_INVALID
    assert doc["error"]["message"] == (f"add-provisionedappxpackage: the app package "
                                       f"'{missing}' does not exist.")


# --- usage errors ------------------------------------------------------------------------

@pytest.mark.parametrize("argv, words", [
    (["set-edition", "--online", "--edition", "Professional"], "needs --accept-eula"),
    (["set-reservedstoragestate", "--image", "/m", "--state", "enabled"],
     "changes the running Windows only (--online)"),
    (["set-reservedstoragestate", "--image-file", "/w.wim", "--state", "disabled"],
     "changes the running Windows only (--online)"),
    (["set-reservedstoragestate", "--online", "--state", "on"], "invalid choice"),
    (["add-provisionedappxpackage", "--image", "/m", "--package-path", "/a.msix"],
     "--license-path, or --skip-license"),
    (["add-provisionedappxpackage", "--image", "/m", "--package-path", "/a.msix",
      "--folder-path", "/a", "--skip-license"], "not allowed with argument"),
    (["add-provisionedappxpackage", "--image", "/m", "--skip-license"],
     "one of the arguments --package-path --folder-path is required"),
    (["add-provisionedappxpackage", "--image", "/m", "--package-path", "/a.msix",
      "--skip-license", "--stub-package-option", "half"], "invalid choice"),
    (["set-edition", "--image", "/m"], "--edition"),
    (["set-productkey", "--image", "/m"], "--product-key"),
    (["remove-provisionedappxpackage", "--image", "/m"], "--package-name"),
])
def test_usage_errors(capsys, argv, words):
    code, _, err = run(capsys, *argv)
    assert code == EXIT_USAGE
    assert words in err


def test_folder_path_takes_a_folder_and_package_path_a_file(capsys, image, app_files):
    code, _, err = run(capsys, "add-provisionedappxpackage", "--image", image,
                       "--folder-path", app_files["package"], "--skip-license")
    assert code == EXIT_USAGE and "--folder-path takes the folder of an unpacked app" in err
    code, _, err = run(capsys, "add-provisionedappxpackage", "--image", image,
                       "--package-path", app_files["folder"], "--skip-license")
    assert code == EXIT_USAGE and "--package-path takes a package file, not a folder" in err


@pytest.mark.parametrize("verb", REFUSED)
def test_changes_refuse_an_image_read_from_its_wim(capsys, app_files, tmp_path, verb):
    code, _, err = run(capsys, verb, "--image-file", tmp_path / "install.wim",
                       *_refused_changes(app_files)[verb], *(
                           ["--skip-license"] if verb == "add-provisionedappxpackage" else []))
    assert code == EXIT_USAGE
    assert "--image-file opens the image read-only" in err


@pytest.mark.parametrize("argv", [
    ["set-edition", "--edition", "Professional", "--accept-eula"],
    ["set-reservedstoragestate", "--state", "disabled"],
    ["get-reservedstoragestate"],
])
def test_online_needs_windows(capsys, argv):
    code, _, err = run(capsys, argv[0], "--online", *argv[1:])
    assert code == EXIT_UNSUPPORTED
    assert f"{argv[0]}: servicing the running system (--online) is not supported" in err


# --- reading reserved storage ------------------------------------------------------------

def test_reserved_storage_of_an_offline_image(capsys, image):
    # The sample image keeps reserved storage (ShippedWithReserves = 1).
    code, out, _ = run(capsys, "get-reservedstoragestate", "--image", image)
    assert code == 0
    assert "Reserved storage is enabled.\n" in out and out.endswith(
        "The operation completed successfully.\n")
    code, doc, _ = run_json(capsys, "get-reservedstoragestate", "--image", image)
    assert code == 0 and doc == {"image": str(image), "reserved_storage_state": "ENABLED"}


def test_reserved_storage_turned_off(capsys, tmp_path):
    tree = build_windows_tree(tmp_path / "image", WindowsImageSpec(name="Off", reserved_storage=0))
    code, out, _ = run(capsys, "get-reservedstoragestate", "--image", tree)
    assert code == 0 and "Reserved storage is disabled." in out


def test_reserved_storage_of_an_image_without_the_setting(capsys, offline_tree):
    code, doc, _ = run_json(capsys, "get-reservedstoragestate", "--image", offline_tree)
    assert code == EXIT_UNSUPPORTED
    assert doc["error"]["message"].startswith(
        "get-reservedstoragestate: the image has no reserved storage settings")


def test_reserved_storage_read_from_a_wim(capsys, tmp_path):
    wim = build_wim(tmp_path / "install.wim", [sample_servicing_spec()])
    code, doc, _ = run_json(capsys, "get-reservedstoragestate", "--image-file", wim)
    assert code == 0 and doc["reserved_storage_state"] == "ENABLED"
