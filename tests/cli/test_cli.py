"""The command line (dism.cli, `python -m dism`, the `dismapi` script) on real
WIM files and real FUSE mounts, in-process with capsys and once as a real
subprocess.  The state directory is the session's, set up by conftest."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dism
from dism import cli
from dism.cli.console import ProgressBar
from dism.cli.exit_codes import UsageError

from support import STATE_DIR, kill_server, wimfs_mounts
from support.cli import run, run_json

SUCCESS = "The operation completed successfully."
HEADER = f"Deployment Image Servicing and Management tool (dismapi {dism.__version__})"


# --- helpers -----------------------------------------------------------------------

def mounted_at(mount_dir: Path):
    for info in dism.get_mounted_images():
        if os.path.realpath(info.mount_path) == os.path.realpath(mount_dir):
            return info
    return None


@pytest.fixture
def cli_mount_dir(fuse, mount_dir):
    """A mount directory whose mount, if a test leaves one, is discarded."""
    try:
        yield mount_dir
    finally:
        if mounted_at(mount_dir) is not None:
            dism.unmount(mount_dir, commit=False)


# --- get-imageinfo -------------------------------------------------------------------

def test_get_imageinfo_all_images_human(capsys, sample_wim):
    code, out, err = run(capsys, "get-imageinfo", "--image-file", sample_wim)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == HEADER
    assert f"Details for image : {sample_wim}" in lines
    assert [l for l in lines if l.startswith("Index : ")] == ["Index : 1", "Index : 2", "Index : 3"]
    assert [l for l in lines if l.startswith("Name : ")] == [
        "Name : Windows 10 Pro", "Name : Windows 10 Enterprise", "Name : 1"]
    assert any(l.startswith("Size : ") and l.endswith(" bytes") for l in lines)
    assert "Architecture : x64" not in out  # details only for one image
    assert lines[-1] == SUCCESS
    assert err == ""


def test_get_imageinfo_all_images_json(capsys, sample_wim):
    code, doc, err = run_json(capsys, "get-imageinfo", "--image-file", sample_wim)
    assert code == 0, err
    assert doc["image_file"] == str(sample_wim)
    images = doc["images"]
    assert [i["index"] for i in images] == [1, 2, 3]
    assert [i["name"] for i in images] == ["Windows 10 Pro", "Windows 10 Enterprise", "1"]
    first, second, third = images
    assert first["architecture"] == "AMD64" and third["architecture"] == "ARM64"
    assert first["bootable"] == "NO" and first["image_type"] == "WIM"
    assert first["version"] == "10.0.19045.0"
    assert second["languages"] == ["de-DE", "en-US"] and second["default_language"] == "de-DE"
    assert first["edition"] == "Professional"
    created = dt.datetime.fromisoformat(first["created"])
    assert created.tzinfo is not None
    assert err == ""


def test_get_imageinfo_one_image_by_index_in_detail(capsys, sample_wim):
    code, out, err = run(capsys, "get-imageinfo", "--image-file", sample_wim, "--index", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert "Index : 2" in lines and "Index : 1" not in lines and "Index : 3" not in lines
    for expected in ["Name : Windows 10 Enterprise", "Architecture : x64", "Version : 10.0.19045",
                     "Edition : Enterprise", "Installation : Client", "WIM Bootable : No",
                     "Languages :", "        de-DE (Default)", "        en-US"]:
        assert expected in lines, expected
    assert any(l.startswith("Created : ") and "<undefined>" not in l for l in lines)
    assert lines[-1] == SUCCESS


def test_name_1_is_the_third_image_not_index_1(capsys, sample_wim):
    code, doc, _ = run_json(capsys, "get-imageinfo", "--image-file", sample_wim, "--name", "1")
    assert code == 0
    assert [(i["index"], i["name"]) for i in doc["images"]] == [(3, "1")]
    assert doc["images"][0]["architecture"] == "ARM64"

    code, out, _ = run(capsys, "get-imageinfo", "--image-file", sample_wim, "--name", "1")
    assert code == 0
    assert "Index : 3" in out.splitlines() and "Architecture : arm64" in out.splitlines()


def test_dism_exe_spelling(capsys, sample_wim):
    code, dism_style, _ = run(capsys, "/Get-ImageInfo", f"/ImageFile:{sample_wim}", "/Index:1")
    assert code == 0
    code, argparse_style, _ = run(capsys, "get-imageinfo", "--image-file", sample_wim,
                                  "--index", "1")
    assert code == 0 and dism_style == argparse_style
    assert "Name : Windows 10 Pro" in dism_style

    # Case-insensitive, global options too, and /Name:1 is a name.
    code, doc, _ = run_json(capsys, "/get-imageinfo", f"/IMAGEFILE:{sample_wim}", "/name:1")
    assert code == 0 and [i["index"] for i in doc["images"]] == [3]


def test_translate_dism_syntax():
    t = cli.translate_dism_syntax
    assert t(["/Mount-Image", "/ImageFile:/w/x.wim", "/Index:1", "/MountDir:/mnt/a b",
              "/ReadOnly"]) == ["mount-image", "--image-file=/w/x.wim", "--index=1",
                                "--mount-dir=/mnt/a b", "--read-only"]
    assert t(["/LogLevel:4", "/Unmount-Image", "/MountDir:/m", "/Commit", "/Append", "--json"]) \
        == ["unmount-image", "--log-level=4", "--mount-dir=/m", "--commit", "--append", "--json"]
    assert t(["/Commit-Image", "/MountDir:C:\\mnt"]) == ["commit-image", "--mount-dir=C:\\mnt"]
    assert t(["/CLEANUP-MOUNTPOINTS"]) == ["cleanup-mountpoints"]
    assert t(["/Get-ImageInfo", "/?"]) == ["get-imageinfo", "--help"]
    # No DISM.exe verb: POSIX paths that start with "/" are left alone.
    argv = ["get-imageinfo", "--image-file", "/Index:1/x.wim", "--name", "/tmp"]
    assert t(argv) == argv


# --- errors and exit status ----------------------------------------------------------

def test_bad_index_exits_3_with_json_error(capsys, sample_wim, cli_mount_dir):
    code, doc, _ = run_json(capsys, "get-imageinfo", "--image-file", sample_wim, "--index", "9")
    assert code == 3
    assert doc["error"]["hresult"] == "0xC0040005"
    assert doc["error"]["type"] == "InvalidImageIndexError"
    assert "9" in doc["error"]["message"]

    code, doc, _ = run_json(capsys, "mount-image", "--image-file", sample_wim,
                            "--mount-dir", cli_mount_dir, "--index", "9")
    assert code == 3
    assert doc["error"] == {"hresult": "0xC0040005", "type": "InvalidImageIndexError",
                            "message": doc["error"]["message"]}
    assert mounted_at(cli_mount_dir) is None


def test_bad_name_exits_3(capsys, sample_wim):
    code, doc, _ = run_json(capsys, "get-imageinfo", "--image-file", sample_wim, "--name", "Nope")
    assert code == 3
    assert doc["error"]["hresult"] == "0xC0040006"
    assert doc["error"]["type"] == "InvalidImageNameError"


def test_human_error_goes_to_stderr(capsys, sample_wim):
    code, out, err = run(capsys, "get-imageinfo", "--image-file", sample_wim, "--index", "9")
    assert code == 3
    assert out.splitlines()[0] == HEADER and SUCCESS not in out
    assert err.startswith("Error: 0xC0040005\n")


def test_missing_image_file_exits_3(capsys, tmp_path, cli_mount_dir):
    missing = tmp_path / "missing.wim"
    code, out, err = run(capsys, "get-imageinfo", "--image-file", missing)
    assert code == 3
    assert err.startswith("Error: 0x80070002\n") and SUCCESS not in out
    code, doc, _ = run_json(capsys, "mount-image", "--image-file", missing,
                            "--mount-dir", cli_mount_dir, "--index", "1")
    assert code == 3 and doc["error"]["hresult"].startswith("0x8007")


def test_unmount_of_unmounted_dir_exits_3(capsys, fuse, mount_dir):
    code, out, err = run(capsys, "unmount-image", "--mount-dir", mount_dir, "--discard")
    assert code == 3
    assert err.startswith("Error: 0xC0040007\n")
    code, doc, _ = run_json(capsys, "/Unmount-Image", f"/MountDir:{mount_dir}", "/Commit")
    assert code == 3
    assert doc["error"]["type"] == "MountPathError" and doc["error"]["hresult"] == "0xC0040007"


@pytest.mark.parametrize("argv", [
    [],
    ["no-such-verb"],
    ["get-imageinfo"],
    ["get-imageinfo", "--image-file", "x.wim", "--index", "1", "--name", "a"],
    ["get-imageinfo", "--image-file", "x.wim", "--index", "0"],
    ["get-imageinfo", "--image-file", "x.wim", "--index", "one"],
    ["mount-image", "--image-file", "x.wim", "--mount-dir", "m"],
    ["unmount-image", "--mount-dir", "m"],
    ["unmount-image", "--mount-dir", "m", "--commit", "--discard"],
    ["unmount-image", "--mount-dir", "m", "--discard", "--append"],
    ["get-imageinfo", "--image-file", "x.wim", "--log-level", "9"],
])
def test_usage_errors_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "usage:" in err and "error:" in err


def test_a_dism_exe_line_gets_dism_exe_s_usage_error(capsys):
    code, out, err = run(capsys, "/Get-ImageInfo", "/ImageFile:x.wim", "/Bogus")
    assert (code, out) == (2, "")
    assert err.startswith("Error: 87\n\nThe /Bogus option is unknown.")
    assert "usage:" not in err and "--" not in err


def test_usage_error_as_json(capsys):
    code, doc, _ = run_json(capsys, "unmount-image", "--mount-dir", "m", "--discard", "--append")
    assert code == 2
    assert doc["error"]["type"] == "UsageError" and doc["error"]["hresult"] == "0x80070057"


def test_exit_status_table():
    def error(cls, hresult=0x80004005):
        exc = cls("x")
        exc.hresult = hresult
        return exc

    expected = {
        dism.DismError: 1, dism.InvalidSessionError: 1, dism.NotInitializedError: 1,
        dism.InvalidArgumentError: 3, dism.InvalidImageIndexError: 3,
        dism.InvalidImageNameError: 3, dism.MountPathError: 3,
        dism.ElevationRequiredError: 4, dism.CancelledError: 5,
        dism.NotSupportedError: 6, dism.NotImplementedByEngineError: 6,
        dism.BusyError: 7, dism.OpenSessionsError: 7, dism.NeedsRemountError: 7,
    }
    for cls, status in expected.items():
        assert cli.exit_status(error(cls)) == status, cls
    assert cli.exit_status(error(dism.PathNotFoundError, 0x80070002)) == 3
    assert cli.exit_status(KeyboardInterrupt()) == 130
    assert cli.exit_status(UsageError("bad")) == 2
    # The table is documented where users look for it.
    assert cli.EXIT_STATUS_TABLE in cli.__doc__


def test_help_documents_exit_status(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert cli.EXIT_STATUS_TABLE in out and "/Get-ImageInfo" in out
    code, out, _ = run(capsys, "mount-image", "--help")
    assert code == 0 and "--read-only" in out and "130" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and dism.__version__ in out


def test_ctrl_c_exits_130(capsys, sample_wim, monkeypatch):
    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(dism, "get_image_info", interrupted)
    code, out, err = run(capsys, "get-imageinfo", "--image-file", sample_wim)
    assert code == 130
    assert err.startswith("Error: 0x800704C7\n")
    code, doc, _ = run_json(capsys, "get-imageinfo", "--image-file", sample_wim)
    assert code == 130 and doc["error"]["type"] == "KeyboardInterrupt"


def test_global_options_reach_initialize(capsys, sample_wim, tmp_path):
    log = tmp_path / "dism.log"
    code, out, err = run(capsys, "--log-level", "4", "--log-path", log, "--scratch-dir", tmp_path,
                         "get-imageinfo", "--image-file", sample_wim, "--quiet")
    assert code == 0 and out == "" and err == ""
    assert "DismGetImageInfo" in log.read_text()
    # A missing scratch directory is "path not found", and the log is named.
    code, _, err = run(capsys, "get-imageinfo", "--image-file", sample_wim,
                       "--scratch-dir", tmp_path / "nope", "--log-path", log)
    assert code == 3
    assert err.startswith("Error: 0x80070003\n") and str(log) in err


# --- the mount lifecycle -------------------------------------------------------------

def test_mount_commit_unmount_round_trip(capsys, sample_wim, cli_mount_dir):
    mnt = cli_mount_dir
    code, out, err = run(capsys, "mount-image", "--image-file", sample_wim, "--mount-dir", mnt,
                         "--index", "1")
    assert code == 0, err
    assert out.splitlines()[0] == HEADER and "Mounting image" in out
    assert out.splitlines()[-1] == SUCCESS
    # stderr is not a terminal: only the final state of the bar.
    assert err == cli.render_bar(100, 100) + "\n"

    code, doc, _ = run_json(capsys, "get-mountedimageinfo")
    assert code == 0
    mine = [m for m in doc["mounted_images"] if m["mount_path"] == str(mnt.resolve())]
    assert mine == [{"mount_path": str(mnt.resolve()), "image_path": str(sample_wim.resolve()),
                     "index": 1, "read_only": False, "status": "OK"}]
    code, out, _ = run(capsys, "get-mountedimageinfo")
    assert f"Mount Dir : {mnt.resolve()}" in out and "Status : Ok" in out
    assert "Mounted Read/Write : Yes" in out

    (mnt / "committed.txt").write_text("saved by commit-image")
    code, doc, err = run_json(capsys, "commit-image", "--mount-dir", mnt)
    assert code == 0, err
    assert doc["operation"] == "commit-image" and doc["restart_required"] is False
    assert err == ""  # no progress with --json
    assert mounted_at(mnt) is not None and (mnt / "committed.txt").exists()

    (mnt / "unmounted.txt").write_text("saved by unmount-image --commit")
    code, out, err = run(capsys, "unmount-image", "--mount-dir", mnt, "--commit")
    assert code == 0, err
    assert f"Image File : {sample_wim.resolve()}" in out and "Image Index : 1" in out
    assert out.splitlines()[-1] == SUCCESS
    assert mounted_at(mnt) is None and not os.listdir(mnt)

    # Mounted again, the image holds both files.
    code, doc, _ = run_json(capsys, "mount-image", "--image-file", sample_wim,
                            "--mount-dir", mnt, "--index", "1", "--read-only")
    assert code == 0
    assert doc == {"operation": "mount-image", "mount_dir": str(mnt.resolve()),
                   "image_file": str(sample_wim.resolve()), "index": 1, "read_only": True,
                   "restart_required": False}
    assert (mnt / "committed.txt").read_text() == "saved by commit-image"
    assert (mnt / "unmounted.txt").read_text() == "saved by unmount-image --commit"
    code, _, _ = run(capsys, "unmount-image", "--mount-dir", mnt, "--discard")
    assert code == 0 and mounted_at(mnt) is None


def test_discard_drops_changes(capsys, sample_wim, cli_mount_dir):
    mnt = cli_mount_dir
    code, _, _ = run(capsys, "mount-image", "--image-file", sample_wim, "--mount-dir", mnt,
                     "--index", "2", "--quiet")
    assert code == 0
    (mnt / "dropped.txt").write_text("never saved")
    code, doc, _ = run_json(capsys, "unmount-image", "--mount-dir", mnt, "--discard")
    assert code == 0
    assert doc["committed"] is False and doc["index"] == 2
    assert mounted_at(mnt) is None

    code, _, _ = run(capsys, "mount-image", "--image-file", sample_wim, "--mount-dir", mnt,
                     "--index", "2", "--read-only", "--quiet")
    assert code == 0
    assert not (mnt / "dropped.txt").exists()
    assert (mnt / "Windows").is_dir()
    code, _, _ = run(capsys, "unmount-image", "--mount-dir", mnt, "--discard", "--quiet")
    assert code == 0


def test_dism_exe_mount_by_name_read_only(capsys, sample_wim, cli_mount_dir):
    mnt = cli_mount_dir
    code, doc, err = run_json(capsys, "/Mount-Image", f"/ImageFile:{sample_wim}", "/Name:1",
                              f"/MountDir:{mnt}", "/ReadOnly")
    assert code == 0, err
    assert doc["index"] == 3 and doc["read_only"] is True
    code, out, _ = run(capsys, "/Get-MountedImageInfo")
    assert "Mounted Read/Write : No" in out and "Image Index : 3" in out
    code, out, err = run(capsys, "/Remount-Image", f"/MountDir:{mnt}")
    assert code == 0, err
    assert "Remounting image" in out
    code, out, _ = run(capsys, "/Unmount-Image", f"/MountDir:{mnt}", "/Discard")
    assert code == 0 and out.splitlines()[-1] == SUCCESS
    assert mounted_at(mnt) is None


def test_killed_server_needs_remount(capsys, sample_wim, cli_mount_dir):
    mnt = cli_mount_dir
    assert run(capsys, "mount-image", "--image-file", sample_wim, "--mount-dir", mnt,
               "--index", "1", "--quiet")[0] == 0
    kill_server(mnt)
    code, doc, _ = run_json(capsys, "get-mountedimageinfo")
    mine = [m for m in doc["mounted_images"] if m["mount_path"] == str(mnt.resolve())]
    assert [m["status"] for m in mine] == ["NEEDS_REMOUNT"]

    code, doc, _ = run_json(capsys, "commit-image", "--mount-dir", mnt)
    assert code == 7 and doc["error"]["type"] == "NeedsRemountError"

    code, _, err = run(capsys, "remount-image", "--mount-dir", mnt)
    assert code == 0, err
    assert mounted_at(mnt).status is dism.MountStatus.OK
    assert (mnt / "Windows").is_dir()
    assert run(capsys, "unmount-image", "--mount-dir", mnt, "--discard")[0] == 0


def test_cleanup_mountpoints(capsys, sample_wim, cli_mount_dir):
    code, out, err = run(capsys, "cleanup-mountpoints")
    assert code == 0, err
    assert out.splitlines()[-1] == SUCCESS

    mnt = cli_mount_dir
    assert run(capsys, "mount-image", "--image-file", sample_wim, "--mount-dir", mnt,
               "--index", "1", "--quiet")[0] == 0
    kill_server(mnt)
    code, doc, _ = run_json(capsys, "/Cleanup-Mountpoints")
    assert code == 0 and doc["operation"] == "cleanup-mountpoints"
    assert str(mnt.resolve()) in [m["mount_path"] for m in doc["released"]]
    assert mounted_at(mnt) is None
    assert str(mnt.resolve()) not in wimfs_mounts()
    code, doc, _ = run_json(capsys, "get-mountedimageinfo")
    assert all(m["mount_path"] != str(mnt.resolve()) for m in doc["mounted_images"])


# --- progress ------------------------------------------------------------------------

def test_render_bar():
    assert cli.render_bar(50, 100) == \
        "[==========================50.0%                          ]"
    assert cli.render_bar(100, 100) == "[" + "=" * 26 + "100.0%" + "=" * 26 + "]"
    assert cli.render_bar(0, 100) == "[" + " " * 26 + "0.0%" + " " * 26 + "]"
    assert cli.render_bar(5, 0) == cli.render_bar(0, 100)      # no total
    assert cli.render_bar(250, 100) == cli.render_bar(1, 1)    # current > total
    assert cli.render_bar(1, 4).startswith("[" + "=" * 13 + " ")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_redraws_only_on_a_terminal():
    tty = _Terminal()
    bar = ProgressBar(tty)
    for current, total in [(0, 100), (0, 100), (0, 2), (1, 2), (2, 2), (100, 100)]:
        bar(current, total)
    bar.close()
    text = tty.getvalue()
    assert text.endswith("\n")
    frames = text[:-1].split("\r")[1:]
    assert frames == [cli.render_bar(0, 1), cli.render_bar(1, 2), cli.render_bar(1, 1)]

    pipe = io.StringIO()
    bar = ProgressBar(pipe)
    for current in range(0, 101, 10):
        bar(current, 100)
    bar.close()
    assert pipe.getvalue() == cli.render_bar(1, 1) + "\n"


# --- the real program ----------------------------------------------------------------

def test_python_m_dism_subprocess(sample_wim):
    env = {**os.environ, "DISM_STATE_DIR": str(STATE_DIR)}
    proc = subprocess.run([sys.executable, "-m", "dism", "get-imageinfo", "--image-file",
                           str(sample_wim), "--name", "1", "--json"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [i["index"] for i in json.loads(proc.stdout)["images"]] == [3]

    proc = subprocess.run([sys.executable, "-m", "dism", "/Get-ImageInfo",
                           f"/ImageFile:{sample_wim}", "/Index:7"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 3
    assert proc.stdout.startswith(HEADER) and "Error: 0xC0040005" in proc.stderr
    assert "usage: python -m dism" in subprocess.run(
        [sys.executable, "-m", "dism", "--help"], capture_output=True, text=True, env=env,
        timeout=60).stdout
