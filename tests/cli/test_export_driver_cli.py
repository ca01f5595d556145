"""export-driver (DISM.exe: /Export-Driver /Destination:DIR) in both
spellings: the lines DISM.exe prints, the folders it leaves, JSON, and the
refusals (no destination, a package missing from the store,
a destination others can write to); --image-file extracts from the WIM."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import dism
from dism.testing import build_windows_tree, sample_servicing_spec

from support.cli import run

SUCCESS = "The operation completed successfully."
STORE = "Windows/System32/DriverStore/FileRepository"
FOLDERS = {"oem0.inf": "contosoraid.inf_amd64_a1b2c3d4e5f60718",
           "oem1.inf": "contosonet.inf_amd64_0123456789abcdef",
           "oem2.inf": "contosoport.inf_amd64_fedcba9876543210"}
EXPORTED_LINES = [f"Exporting {n} of 3 - oem{n - 1}.inf: The driver package successfully "
                  f"exported." for n in (1, 2, 3)]


@pytest.fixture
def tree(tmp_path) -> Path:
    return build_windows_tree(tmp_path / "image", sample_servicing_spec())


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir(mode=0o755)
    return folder


def same_files(a: Path, b: Path) -> bool:
    def files(root: Path) -> dict:
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*")) if p.is_file()}
    return files(a) == files(b)


def check_exported(tree: Path, out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == sorted(FOLDERS.values())
    for folder in FOLDERS.values():
        assert same_files(out / folder, tree / STORE / folder)


SPELLINGS = {
    "cli": lambda tree, out: ["export-driver", "--image", tree, "--destination", out],
    "dism.exe": lambda tree, out: [f"/Image:{tree}", "/Export-Driver", f"/Destination:{out}"],
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_export_driver_prints_dism_exe_lines_and_copies_the_folders(capsys, tree, out,
                                                                    spelling):
    code, stdout, err = run(capsys, *SPELLINGS[spelling](tree, out))
    assert (code, err) == (0, "")
    lines = stdout.splitlines()
    assert lines[-4:] == EXPORTED_LINES + [SUCCESS]
    check_exported(tree, out)


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_running_the_same_line_again_works(capsys, tree, out, spelling):
    argv = SPELLINGS[spelling](tree, out)
    assert run(capsys, *argv)[0] == 0
    (out / FOLDERS["oem1.inf"] / "left over").write_text("from the first run")
    code, stdout, _ = run(capsys, *argv)
    assert code == 0 and stdout.splitlines()[-4:] == EXPORTED_LINES + [SUCCESS]
    check_exported(tree, out)


def test_json_lists_each_package_and_its_folder(capsys, tree, out):
    code, stdout, _ = run(capsys, "export-driver", "--image", tree, "--destination", out,
                          "--json")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["operation"] == "export-driver" and doc["destination"] == str(out)
    assert [(d["driver_package"]["published_name"], d["folder"]) for d in doc["drivers"]] == \
        [(name, str(out / folder)) for name, folder in sorted(FOLDERS.items())]
    assert doc["restart_required"] is False


def test_help_names_the_dism_exe_spelling(capsys):
    code, stdout, _ = run(capsys, "export-driver", "--help")
    text = " ".join(stdout.split())   # as argparse wrapped it for the terminal's width
    assert code == 0
    assert "(DISM.exe: /Export-Driver)" in text and "--destination DIR" in text
    assert "(DISM.exe: /Destination)" in text
    code, stdout, _ = run(capsys, "--help")
    assert "export-driver" in stdout


def test_the_destination_is_required(capsys, tree):
    code, stdout, err = run(capsys, "export-driver", "--image", tree)
    assert code == 2 and "--destination" in err


@pytest.mark.usefixtures("engine_tmpdir")
def test_image_file_extracts_the_folders_from_the_wim(capsys, tree, tmp_path, out):
    wim = tmp_path / "sample.wim"
    dism.capture_image(tree, wim, name="Sample")
    code, stdout, err = run(capsys, "export-driver", "--image-file", wim, "--index", "1",
                            "--destination", out)
    assert (code, err) == (0, "")
    assert stdout.splitlines()[-4:] == EXPORTED_LINES + [SUCCESS]
    check_exported(tree, out)


def test_a_package_missing_from_the_store_fails_before_any_is_exported(capsys, tree, out):
    shutil.rmtree(tree / STORE / FOLDERS["oem1.inf"])
    code, stdout, err = run(capsys, "export-driver", "--image", tree, "--destination", out)
    assert code == 3
    assert "Exporting" not in stdout and SUCCESS not in stdout
    assert err.startswith("Error: 0x80070003\n")
    assert "export-driver:" in err and "oem1.inf (contosonet.inf)" in err
    assert str(tree / STORE / FOLDERS["oem1.inf"]) in err
    assert list(out.iterdir()) == []


def test_a_destination_others_can_write_is_refused(capsys, tree, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    code, stdout, _ = run(capsys, "export-driver", "--image", tree, "--destination", shared,
                          "--json")
    assert code == 1
    error = json.loads(stdout)["error"]
    assert error["hresult"] == "0x80070005" and "other users" in error["message"]
    assert list(shared.iterdir()) == []


def test_a_missing_destination_is_named_with_the_verb(capsys, tmp_path, image):
    code, _, err = run(capsys, f"/Image:{image}", "/Export-Driver",
                       f"/Destination:{tmp_path / 'nowhere'}")
    assert code == 3
    assert f"/Export-Driver: the directory '{tmp_path / 'nowhere'}' (destination) does not " \
           "exist" in err


@pytest.mark.parametrize("spelling, check_with", [
    ("dism.exe", "/Get-MountedImageInfo"), ("cli", "get-mountedimageinfo")])
def test_a_ctrl_c_between_packages_says_what_was_exported_in_the_line_s_words(
        capsys, tree, out, monkeypatch, spelling, check_with):
    """Ctrl+C as the first package's line is printed: outside any DISM call,
    after that package landed."""
    say = dism.cli.console.Console.say

    def interrupted_after_the_first(console, line=""):
        say(console, line)
        if line.startswith("Exporting 1 of 3"):
            raise KeyboardInterrupt

    monkeypatch.setattr(dism.cli.console.Console, "say", interrupted_after_the_first)
    argv = ([f"/Image:{tree}", "/Export-Driver", f"/Destination:{out}"] if spelling == "dism.exe"
            else ["export-driver", "--image", tree, "--destination", out])
    code, _, err = run(capsys, *argv)
    assert code == 130, err
    assert "Done before it, and kept in the destination: oem0.inf." in err
    assert check_with in err and (spelling == "cli" or "get-mountedimageinfo" not in err), err
    assert sorted(p.name for p in out.iterdir()) == [FOLDERS["oem0.inf"]]
