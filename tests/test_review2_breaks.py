"""Review 2 reproductions (hostile review of issue 9's fixes).  Each test
states what should happen; they fail on the branch as reviewed."""
from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
from pathlib import Path

import pytest

import dism
import dism.cli


def test_cli_words_never_rewrite_a_path_holding_an_apostrophe(tmp_path, capsys):
    # The engine quotes paths as '%s'; a path with an apostrophe splits the
    # quoting wrongly and the words after it are "translated".
    folder = tmp_path / "It's ImageIndex"
    folder.mkdir()
    missing = folder / "x.wim"
    status = dism.cli.main(["get-imageinfo", str(missing), "--json"])
    out = capsys.readouterr().out
    assert status != 0
    assert str(missing) in out, out


def _interrupt_when_returning(function_name):
    """A profile hook that delivers a real SIGINT to this process the moment
    the extension function `function_name` returns: the Ctrl+C of a user who
    pressed it just as the operation finished."""
    def hook(frame, event, arg):
        if event == "c_return" and getattr(arg, "__name__", None) == function_name:
            sys.setprofile(None)
            os.kill(os.getpid(), signal.SIGINT)
    return hook


@pytest.mark.usefixtures("fuse")
def test_cli_ctrl_c_just_after_the_commit_returned_does_not_claim_nothing_saved(
        sample_wim, mount_dir, tmp_path):
    m = dism.mount(sample_wim, mount_dir, index=1)
    (mount_dir / "review2.txt").write_text("saved?")
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            sys.setprofile(_interrupt_when_returning("unmount_image"))
            try:
                status = dism.cli.main(["unmount-image", f"--mount-dir={mount_dir}", "--commit"])
            finally:
                sys.setprofile(None)
    finally:
        if any(i.mount_path == str(mount_dir) for i in dism.get_mounted_images()):
            m.unmount(commit=False)
    text = out.getvalue() + err.getvalue()
    # The change is in the WIM ...
    check = tmp_path / "check"
    check.mkdir()
    with dism.mount(sample_wim, check, index=1, read_only=True):
        assert (check / "review2.txt").read_text() == "saved?"
    # ... so the CLI must not claim that nothing was saved: an interrupt that
    # reached Python after the call returned says it cannot tell.
    assert status == dism.cli.EXIT_INTERRUPTED, text
    assert "nothing was saved" not in text and "changes were saved" in text, text


@pytest.mark.usefixtures("fuse")
def test_a_mount_cancelled_at_its_last_report_mounts_nothing(sample_wim, mount_dir):
    """A mount is cheap to undo, so it is never cancelled too late: a token
    set at the last progress report unmounts the image again."""
    token = dism.CancelToken()

    def progress(current, total):
        if total and current == total:   # the last report
            token.set()

    with pytest.raises(dism.CancelledError) as caught:
        dism.mount(sample_wim, mount_dir, index=1, read_only=True, progress=progress,
                   cancel=token)
    assert caught.value.completed is False
    assert not any(i.mount_path == str(mount_dir) for i in dism.get_mounted_images())
    assert os.listdir(mount_dir) == []
