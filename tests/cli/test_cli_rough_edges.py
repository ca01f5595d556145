"""The command line's rough edges (issue 9): a closed pipe, DISM API names in
messages, DISM.exe verbs it lacks, what cleanup-mountpoints did, and
get-imageinfo's positional image file."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import dism
from dism import cli
from dism.cli.exit_codes import EXIT_BROKEN_PIPE
from dism.cli.words import cli_words

from support import kill_server
from support.cli import run, run_json

API_NAME = re.compile(r"\b_?Dism[A-Z]\w+|\bDISM_[A-Z_]+")


@pytest.fixture
def two_mounts(fuse, sample_wim, tmp_path):
    """A healthy read-only mount and one whose server was killed."""
    healthy, dead = tmp_path / "healthy", tmp_path / "dead"
    healthy.mkdir()
    dead.mkdir()
    try:
        dism.mount(sample_wim, healthy, index=1, read_only=True)
        dism.mount(sample_wim, dead, index=2)
        kill_server(dead)
        yield healthy.resolve(), dead.resolve()
    finally:  # a failure while setting up must not leave the other mount behind
        for path in (healthy, dead):
            if any(info.mount_path == str(path.resolve())
                   for info in dism.get_mounted_images()):
                dism.unmount(path, commit=False)


# --- item 15: a reader that goes away ends the program quietly ---------------------

def test_a_closed_pipe_ends_quietly_with_status_141(sample_wim):
    process = subprocess.Popen([sys.executable, "-m", "dism", "get-imageinfo", str(sample_wim)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before the first line is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE == 141
    assert err == ""


# --- item 16: the CLI's own words ------------------------------------------------------

def test_messages_name_cli_verbs_and_options_not_api_names(capsys, two_mounts):
    _, dead = two_mounts
    code, _, err = run(capsys, "commit-image", "--mount-dir", dead)
    assert code == 7
    assert "remount-image" in err and not API_NAME.search(err), err
    code, _, err = run(capsys, "unmount-image", "--mount-dir", dead, "--commit")
    assert code == 7
    assert "--discard" in err and not API_NAME.search(err), err
    code, doc, _ = run_json(capsys, "commit-image", "--mount-dir", dead)
    assert not API_NAME.search(doc["error"]["message"]), doc


def test_the_running_verb_stands_for_the_session_it_opened(capsys, tmp_path):
    code, _, err = run(capsys, "get-packages", "--image", tmp_path / "absent")
    assert code == 3
    assert "get-packages: the image path" in err and "DismOpenSession" not in err


def test_quoted_text_is_never_translated():
    message = "DismMountImage: '/srv/DismMountImage/MountPath' is busy; use DISM_DISCARD_IMAGE."
    assert cli_words(message) == \
        "mount-image: '/srv/DismMountImage/MountPath' is busy; use --discard."


def test_a_dism_exe_name_already_in_a_message_is_left_as_it_is():
    """/PackageName is DISM.exe's option and, without its slash, a DISM API
    parameter too: only the API's own word is translated, and an unquoted
    path's components are not words of a message."""
    message = "DismRemovePackage: /PackageName or PackageName, in /srv/ProductKey/x"
    assert cli_words(message) == \
        "remove-package: /PackageName or --package-name, in /srv/ProductKey/x"
    assert cli_words(message, "remove-package", ["/Image:/m", "/Remove-Package"],
                     dism_exe=True) == \
        "/Remove-Package: /PackageName or /PackageName, in /srv/ProductKey/x"


@pytest.mark.parametrize("argv, named", [
    (["/Image:/mnt/img", "/Set-TimeZone:Pacific Standard Time"], "/Set-TimeZone"),
    (["/Capture-FFU", "/ImageFile:a.ffu", "/CaptureDrive:/dev/sda", "/Name:x"], "/Capture-FFU"),
    (["/Optimize-Image", "/Image:/mnt/img", "/WIMBoot"], "/Optimize-Image"),
    (["/Image:/mnt/img", "/Cleanup-Image", "/StartComponentCleanup"],
     "/Cleanup-Image /StartComponentCleanup"),
])
def test_a_dism_exe_verb_the_cli_lacks_is_named_as_unsupported(capsys, argv, named):
    code, _, err = run(capsys, *argv)
    assert code == 6   # not supported (EXIT_UNSUPPORTED), before anything runs
    assert f"DISM.exe's {named} is recognised but not supported here: " in err
    assert len(err.strip().splitlines()) == 3   # "Error: 0x80070032", blank, one line
    assert "invalid choice" not in err
    code, doc, _ = run_json(capsys, *argv)
    assert named in doc["error"]["message"]


def _section(out: str, heading: str) -> str:
    """The lines under a heading of cleanup-mountpoints' report."""
    after = out.split(heading, 1)[1]
    return after.split("\n\n", 1)[0].split("\nLeft ", 1)[0]


def _mine(mounts, *paths):
    """The listed mounts among `paths` (other processes on the machine may
    have mounts of their own)."""
    wanted = {str(path) for path in paths}
    return [(m["mount_path"], m["status"]) for m in mounts if m["mount_path"] in wanted]


def test_cleanup_mountpoints_says_what_it_released_and_what_it_left(capsys, two_mounts):
    healthy, dead = two_mounts
    code, out, err = run(capsys, "cleanup-mountpoints")
    assert code == 0, err
    released, left = _section(out, "stale mount(s)"), _section(out, "mount(s) in place")
    assert f"  {dead} : " in released and f"  {healthy} : " not in released, out
    assert f"  {healthy} : " in left and f"  {dead} : " not in left, out
    assert "status Ok" in left.split(f"  {healthy} : ", 1)[1].splitlines()[0]


def test_cleanup_mountpoints_json_lists_the_released_mount(capsys, two_mounts):
    healthy, dead = two_mounts
    code, doc, _ = run_json(capsys, "cleanup-mountpoints")
    assert code == 0
    assert _mine(doc["released"], healthy, dead) == [(str(dead), "NEEDS_REMOUNT")]
    assert _mine(doc["left"], healthy, dead) == [(str(healthy), "OK")]
    code, doc, _ = run_json(capsys, "cleanup-mountpoints")
    assert _mine(doc["released"], healthy, dead) == []


def test_get_imageinfo_takes_the_image_file_as_a_positional_argument(capsys, sample_wim):
    code, out, err = run(capsys, "get-imageinfo", sample_wim, "--index", "1")
    assert code == 0, err
    assert f"Details for image : {sample_wim}" in out
    code, _, err = run(capsys, "get-imageinfo", sample_wim, "--image-file", sample_wim)
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "get-imageinfo")
    assert code == 2 and "IMAGE_FILE or --image-file" in err


def test_dism_exe_old_wim_verb_names_are_understood():
    t = cli.translate_dism_syntax
    assert t(["/Get-WimInfo", "/WimFile:a.wim"]) == ["get-imageinfo", "--image-file=a.wim"]
    assert t(["/Mount-Wim", "/WimFile:a.wim", "/Index:1", "/MountDir:/m"]) == \
        ["mount-image", "--image-file=a.wim", "--index=1", "--mount-dir=/m"]
    assert t(["/Cleanup-Wim"]) == ["cleanup-mountpoints"]
    assert t(["/Get-MountedWimInfo"]) == ["get-mountedimageinfo"]
