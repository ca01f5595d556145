"""--image-file WIM [--index N | --name NAME] on the servicing verbs
(DISM.exe: /ImageFile: /Index: /Name:): reads through an unmounted-image
session, writes refused with the CLI's words, no private area left."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dism import cli
from dism.cli.parser import build_parser, parse as parse_command_line
from dism.testing import build_wim, build_windows_tree, sample_servicing_spec

from support.cli import run, run_json
from support.imagefile import (REAL_DRIVER_COUNT, REAL_SYSTEM_HIVE, areas, capture,
                               real_hive_tree)


pytestmark = pytest.mark.usefixtures("engine_tmpdir")


@pytest.fixture(scope="module")
def wim(tmp_path_factory) -> Path:
    return build_wim(tmp_path_factory.mktemp("wim") / "install.wim", [sample_servicing_spec()])


def parse(*argv):
    args = parse_command_line(build_parser(), [str(a) for a in argv])
    return {k: v for k, v in vars(args).items() if k not in ("parser", "spec")}


def test_both_spellings_parse_alike():
    assert parse("get-drivers", "--image-file", "/w.wim", "--index", "2", "--all") == \
        parse("/ImageFile:/w.wim", "/Index:2", "/Get-Drivers", "/All")
    assert parse("get-packages", "--image-file", "/w.wim", "--name", "Pro") == \
        parse("/Get-Packages", "/imagefile:/w.wim", "/NAME:Pro")
    args = parse("/ImageFile:/w.wim", "/Cleanup-Image", "/CheckHealth")
    assert args["verb"] == "check-health" and args["image_file"] == "/w.wim"


def test_reads_match_the_offline_tree(capsys, wim, tmp_path):
    tree = build_windows_tree(tmp_path / "tree", sample_servicing_spec())
    for verb in ("get-drivers", "get-packages", "get-features", "get-capabilities",
                 "get-currentedition", "get-provisionedappxpackages"):
        code, from_file, _ = run_json(capsys, verb, "--image-file", wim)
        assert code == 0, from_file
        code, from_tree, _ = run_json(capsys, verb, "--image", tree)
        assert code == 0
        assert from_file["image"] == f"{wim} (its only image)"
        for doc in (from_file, from_tree):
            doc.pop("image")
        assert json.dumps(from_file).count("/image/Windows") == \
            json.dumps(from_tree).count(str(tree) + "/Windows")
        strip = lambda doc, root: json.loads(json.dumps(doc).replace(root, "<root>"))  # noqa: E731
        assert strip(from_file, _root_in(from_file)) == strip(from_tree, str(tree)), verb


def _root_in(doc: dict) -> str:
    text = json.dumps(doc)
    at = text.find("/image/Windows")
    if at < 0:
        return "\0"
    start = text.rfind('"', 0, at) + 1
    return text[start:at + len("/image")]


def test_dism_exe_spelling_lists_the_drivers(capsys, wim):
    code, out, err = run(capsys, f"/ImageFile:{wim}", "/Index:1", "/Get-Drivers")
    assert code == 0, err
    assert "oem0.inf" in out and "The operation completed successfully." in out


@pytest.mark.skipif(not REAL_SYSTEM_HIVE.is_file(), reason="../shared/testdata/real absent")
def test_the_real_hive_lists_238_drivers(capsys, tmp_path):
    image = capture(real_hive_tree(tmp_path / "tree"), tmp_path / "real.wim")
    code, doc, _ = run_json(capsys, "get-drivers", "--image-file", image, "--index", "1",
                            "--all")
    assert code == 0
    assert len(doc["drivers"]) == REAL_DRIVER_COUNT


@pytest.mark.parametrize("argv", [
    ["enable-feature", "--feature-name", "TelnetClient"],
    ["disable-feature", "--feature-name", "SMB1Protocol"],
    ["add-package", "--package-path", "/p.cab"],
    ["remove-package", "--package-name", "P"],
    ["add-driver", "--driver", "/d.inf"],
    ["remove-driver", "--driver", "oem0.inf"],
    ["add-capability", "--capability-name", "C"],
    ["remove-capability", "--capability-name", "C"],
    ["restore-health"],
    ["apply-unattend", "--unattend", "/u.xml"],
])
def test_writes_are_refused_with_the_clis_words(capsys, wim, argv):
    code, out, err = run(capsys, argv[0], "--image-file", wim, *argv[1:])
    assert code == 2 and out == ""
    assert "--image-file opens the image read-only" in err and "mount-image" in err


@pytest.mark.parametrize("argv", [
    ["get-drivers", "--image", "/m", "--index", "1"],
    ["get-drivers", "--online", "--name", "X"],
    ["get-drivers", "--image-file", "/w.wim", "--windows-dir", "Windows"],
    ["get-drivers", "--image-file", "/w.wim", "--index", "1", "--name", "X"],
    ["get-drivers", "--image-file", "/w.wim", "--image", "/m"],
])
def test_usage_errors(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and "error:" in err


@pytest.mark.parametrize("index, words", [("-1", "start at 1, not -1"),
                                          ("0", "start at 1, not 0"),
                                          ("x", "not an image index"),
                                          (str(2**32), "get-imageinfo lists")])
def test_an_index_no_image_can_have_is_a_usage_error_as_for_mount_image(capsys, wim, index,
                                                                         words):
    code, out, err = run(capsys, "get-drivers", "--image-file", wim, "--index", index)
    assert code == 2 and words in err
    code, out, err = run(capsys, "/Get-Drivers", f"/ImageFile:{wim}", f"/Index:{index}")
    # A DISM.exe line's message names DISM.exe's verbs.
    assert code == 2 and words.replace("get-imageinfo", "/Get-ImageInfo") in err


def test_failures_exit_with_their_status(capsys, wim, tmp_path):
    code, doc, _ = run_json(capsys, "get-drivers", "--image-file", wim, "--index", "2")
    assert code == 3 and doc["error"]["type"] == "InvalidImageIndexError"
    code, doc, _ = run_json(capsys, "get-drivers", "--image-file", wim, "--name", "nope")
    assert code == 3 and doc["error"]["type"] == "InvalidImageNameError"
    code, doc, _ = run_json(capsys, "get-drivers", "--image-file", tmp_path / "absent.wim")
    assert code == 3 and doc["error"]["type"] == "PathNotFoundError"
    junk = tmp_path / "junk.wim"
    junk.write_text("no WIM here")
    code, doc, _ = run_json(capsys, "get-drivers", "--image-file", junk)
    assert code == 1 and "junk.wim" in doc["error"]["message"]


def test_help_names_the_option(capsys):
    code, out, _ = run(capsys, "get-drivers", "--help")
    assert code == 0 and "--image-file WIM" in out and "/ImageFile" in out
    assert cli.translate_dism_syntax(["/ImageFile:a.esd", "/Get-Features"]) == \
        ["get-features", "--image-file=a.esd"]
