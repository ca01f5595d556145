"""The image-management verbs of the command line, in both spellings, on
real WIMs: capture/append, apply, export (WIM <-> ESD), split, delete,
set-imageinfo, list-image, extract-files and get-imageinfo --header; JSON
output, progress bars and exit codes."""
from __future__ import annotations

from pathlib import Path

import pytest

import dism
from support.cli import run, run_json
from support.imaging import (PORTABLE_ENGINE_ONLY, tree, tree_digest, wim,  # noqa: F401
                             wimlib_names)

pytestmark = PORTABLE_ENGINE_ONLY

SUCCESS = "The operation completed successfully."




def test_capture_image_dism_spelling(capsys, tree, tmp_path):
    path = tmp_path / "new.wim"
    code, out, err = run(capsys, "/Capture-Image", f"/ImageFile:{path}",
                         f"/CaptureDir:{tree}", "/Name:Captured", "/Description:Words",
                         "/Compress:max", "/CheckIntegrity", "/Verify")
    assert code == 0, err
    assert out.rstrip().endswith(SUCCESS)
    assert "Capturing image" in out and "%" in err  # the progress bar
    info = dism.get_wim_info(path)
    assert info.compression == dism.Compression.MAX and info.integrity
    assert wimlib_names(path) == ["Captured"]


def test_capture_image_without_compress_is_dism_exe_fast(capsys, tree, tmp_path):
    path = tmp_path / "default.wim"
    code, out, err = run(capsys, "/Capture-Image", f"/ImageFile:{path}",
                         f"/CaptureDir:{tree}", "/Name:Captured")
    assert code == 0, err
    assert dism.get_wim_info(path).compression == dism.Compression.FAST


def test_append_and_get_imageinfo_header_json(capsys, tree, wim):
    code, doc, err = run_json(capsys, "append-image", "--image-file", wim, "--capture-dir",
                              tree, "--name", "Second", "--bootable")
    assert code == 0, err
    assert doc["operation"] == "append-image" and doc["image"]["index"] == 2
    code, doc, err = run_json(capsys, "get-imageinfo", wim, "--header")
    assert code == 0, err
    assert doc["wim"]["image_count"] == 2 and doc["wim"]["boot_index"] == 2
    assert doc["wim"]["compression"] == "FAST" and doc["wim"]["solid"] is False
    assert doc["wim"]["image_names"] == ["First", "Second"]


def test_header_in_dism_spelling_and_get_wiminfo_keeps_its_meaning(capsys, wim):
    code, out, err = run(capsys, "/Get-ImageInfo", f"/ImageFile:{wim}", "/Header")
    assert code == 0, err
    assert "Image Count : 1" in out and "Compression : fast" in out
    code, out, err = run(capsys, "/Get-WimInfo", f"/WimFile:{wim}")
    assert code == 0, err
    assert "Index : 1" in out and "Name : First" in out


def test_apply_image(capsys, tree, wim, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = run(capsys, "/Apply-Image", f"/ImageFile:{wim}", "/Index:1",
                         f"/ApplyDir:{out_dir}")
    assert code == 0, err
    assert tree_digest(out_dir) == tree_digest(tree)


def test_export_to_esd_and_split(capsys, wim, tmp_path):
    esd = tmp_path / "install.esd"
    code, doc, err = run_json(capsys, "/Export-Image", f"/SourceImageFile:{wim}",
                              "/SourceName:First", f"/DestinationImageFile:{esd}",
                              "/DestinationName:Exported", "/Compress:recovery")
    assert code == 0, err
    assert doc["image"]["name"] == "Exported"
    assert dism.get_wim_info(esd).solid
    code, out, err = run(capsys, "split-image", "--image-file", esd, "--swm-file",
                         tmp_path / "x.swm", "--file-size", "1")
    assert code == 6 and "non-solid" in err   # not supported
    code, doc, err = run_json(capsys, "/Split-Image", f"/ImageFile:{wim}",
                              f"/SWMFile:{tmp_path / 'install.swm'}", "/FileSize:1")
    assert code == 0, err
    assert doc["parts"][0] == str(tmp_path / "install.swm")


def test_set_imageinfo_delete_and_list(capsys, tree, wim, tmp_path):
    dism.capture_image(tree, wim, name="Second", append=True)
    code, out, err = run(capsys, "set-imageinfo", "--image-file", wim, "--index", "2",
                         "--new-name", "Renamed")
    assert code == 0, err
    assert wimlib_names(wim) == ["First", "Renamed"]
    code, out, err = run(capsys, "/Delete-Image", f"/ImageFile:{wim}", "/Name:First")
    assert code == 0, err
    assert wimlib_names(wim) == ["Renamed"]
    code, doc, err = run_json(capsys, "/List-Image", f"/ImageFile:{wim}", "/Index:1")
    assert code == 0, err
    paths = {entry["path"] for entry in doc["files"]}
    assert "Windows\\System32\\big.bin" in paths
    code, out, err = run(capsys, "list-image", "--image-file", wim, "--index", "1",
                         "--path", "Windows\\System32")
    assert code == 0, err
    assert "\\Windows\\System32\\big.bin" in out and "readme.txt" not in out


def test_extract_files(capsys, wim, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    code, out, err = run(capsys, "extract-files", "--image-file", wim, "--index", "1",
                         "--path", "readme.txt", "--path", "Windows\\System32",
                         "--dest-dir", dest)
    assert code == 0, err
    assert (dest / "readme.txt").read_text() == "hello\n"
    assert (dest / "System32" / "big.bin").exists()


def test_errors_name_cli_verbs_and_exit_codes(capsys, wim, tmp_path):
    code, out, err = run(capsys, "delete-image", "--image-file", wim, "--index", "5")
    assert code == 3
    assert "delete-image" in err and "delete_image" not in err and "'First'" in err
    code, out, err = run(capsys, "delete-image", "--image-file", wim, "--index", "1")
    assert code == 1 and "only image" in err
    code, out, err = run(capsys, "capture-image", "--image-file", wim, "--capture-dir",
                         tmp_path / "tree", "--name", "x")
    assert code == 1 and "append-image" in err
    code, out, err = run(capsys, "capture-image", "--image-file", tmp_path / "n.wim",
                         "--capture-dir", tmp_path / "tree", "--name", "x",
                         "--compress", "zip")
    assert code == 2
    code, out, err = run(capsys, "set-imageinfo", "--image-file", wim, "--index", "1")
    assert code == 2 and "nothing to change" in err


def test_image_verbs_are_no_longer_refused_as_unsupported(capsys):
    for verb in ("/Capture-Image", "/Append-Image", "/Apply-Image", "/Export-Image",
                 "/Split-Image", "/Delete-Image", "/List-Image"):
        code, out, err = run(capsys, verb)
        assert code == 2 and "not supported by this CLI" not in err, verb


def test_export_of_an_image_already_there_says_how_in_cli_terms(capsys, wim, tmp_path):
    dest = tmp_path / "dest.wim"
    args = ("export-image", "--source-image-file", wim, "--source-index", "1",
            "--destination-image-file", dest)
    assert run(capsys, *args)[0] == 0
    code, out, err = run(capsys, *args)
    assert code == 1 and "--allow-duplicates" in err, err
    code, out, err = run(capsys, *args, "--allow-duplicates")
    assert code == 0, err
    assert len(wimlib_names(dest)) == 2
