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
from dism.cli.exit_codes import EXIT_INTERRUPTED


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
    assert status == EXIT_INTERRUPTED, text
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


@pytest.mark.usefixtures("fuse")
def test_a_discard_cancelled_too_late_does_not_say_the_changes_were_saved(sample_wim, mount_dir,
                                                                           tmp_path):
    m = dism.mount(sample_wim, mount_dir, index=1)
    (mount_dir / "review2.txt").write_text("to be discarded")
    token = dism.CancelToken()

    def progress(current, total):
        if total and current == total:   # the last report: the discard is done
            token.set()

    with pytest.raises(dism.CancelledError) as caught:
        m.unmount(commit=False, progress=progress, cancel=token)
    text = str(caught.value) + " ".join(getattr(caught.value, "__notes__", []))
    check = tmp_path / "check"
    check.mkdir()
    with dism.mount(sample_wim, check, index=1, read_only=True):
        assert not (check / "review2.txt").exists()      # the change was discarded ...
    assert "changes were saved" not in text, text          # ... so this sentence is false


def test_listing_mounts_is_a_read_only_call_that_works_without_a_state_directory():
    # Issue 9 item 14: only operations that need state may need the state
    # directory.  Listing the machine's mounts reads /proc's mount table.
    from support import run_python
    done = run_python("import dism; print(len(dism.get_mounted_images()))",
                      DISM_STATE_DIR="/proc/no-state-here")
    assert done.returncode == 0, done.stderr


# ---- as_callback's single save/restore slot, shared by two threads ----

INTERLEAVED_SCRIPT = r'''
import os, signal, sys, time
import dism
wim, mnt = sys.argv[1], sys.argv[2]
m = dism.mount(wim, mnt, index=1)
with open(os.path.join(mnt, "payload.bin"), "wb") as f:
    f.write(os.urandom(24 * 1024 * 1024))
s = dism._dism.open_session(mnt)
state = {"handler": "idle", "sent": False, "result": None}

def handler(signum, frame):          # runs on the main thread, inside the wait
    state["handler"] = "running"
    time.sleep(0.5)                  # releases the GIL: progress reports go on
    state["handler"] = "done"

signal.signal(signal.SIGUSR1, handler)

def progress(current, total):        # runs on the worker thread
    if not state["sent"]:
        state["sent"] = True
        os.kill(os.getpid(), signal.SIGUSR1)
        return
    if state["handler"] == "running" and state["result"] is None:
        state["result"] = "pending"
        while state["handler"] != "done":
            time.sleep(0.01)
        print("progress callback re-enters the session", flush=True)
        try:
            s.commit(dism._dism.DISM_COMMIT_IMAGE)
        except dism.BusyError:
            state["result"] = "BusyError"
        except BaseException as e:
            state["result"] = repr(e)

s.commit(dism._dism.DISM_COMMIT_IMAGE, progress)
s.close()
m.unmount(commit=False)
print(state["result"])
'''


@pytest.mark.usefixtures("fuse")
def test_a_progress_callback_overlapping_a_signal_handler_still_gets_busy_error(big_wim,
                                                                                 tmp_path):
    # The main thread's signal handler and the worker's progress callback both
    # run through as_callback, which keeps ONE saved value of callback_thread:
    # the handler ending first restores 0 while the callback still runs, and
    # the callback's session call then waits for the lock its own call holds.
    import subprocess
    mnt = tmp_path / "overlap"
    mnt.mkdir()
    script = tmp_path / "overlap.py"
    script.write_text(INTERLEAVED_SCRIPT)
    worktree = Path(dism.__file__).parent.parent
    try:
        done = subprocess.run([sys.executable, str(script), str(big_wim), str(mnt)],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(worktree)})
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"deadlock: the progress callback waited for its own call's session lock "
                    f"({e.stdout!r})")
    finally:
        subprocess.run(["fusermount3", "-u", "-z", str(mnt)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("BusyError"), done.stdout + done.stderr


def test_cli_mount_index_out_of_range_speaks_cli_words(capsys, sample_wim, tmp_path):
    # Item 16: CLI messages use the CLI's verbs and options.  This one tells a
    # CLI user about `index=` and `dism.get_image_info`.
    target = tmp_path / "m"
    target.mkdir()
    status = dism.cli.main(["mount-image", f"--image-file={sample_wim}", "--index=4294967298",
                            f"--mount-dir={target}"])
    err = capsys.readouterr().err
    assert status != 0
    assert "dism.get_image_info" not in err and "index=" not in err, err


@pytest.mark.usefixtures("fuse")
def test_a_handled_too_late_cancel_of_unmount_does_not_break_the_with_block(sample_wim,
                                                                            mount_dir):
    # MountedImage.unmount only marks itself unmounted when the call returns;
    # a CancelledError(completed=True) means the image IS unmounted, yet the
    # object still believes it is mounted, so the block's exit unmounts again.
    token = dism.CancelToken()

    def progress(current, total):
        if total and current == total:
            token.set()

    with dism.mount(sample_wim, mount_dir, index=1) as m:
        (mount_dir / "x.txt").write_text("x")
        with pytest.raises(dism.CancelledError) as caught:
            m.unmount(commit=True, progress=progress, cancel=token)
        assert caught.value.completed is True
        assert "unmounted" in repr(m), repr(m)


@pytest.mark.usefixtures("fuse")
def test_cleanup_report_does_not_claim_a_healthy_mount_another_process_unmounted(
        sample_wim, mount_dir, capsys):
    # cleanup-mountpoints reports "released" = listed before - listed after.
    # Another process unmounting its healthy mount in between (here: right
    # as the engine's cleanup starts) is reported as a stale mount cleanup
    # released.
    import subprocess
    dism.mount(sample_wim, mount_dir, index=1, read_only=True)
    worktree = Path(dism.__file__).parent.parent

    def hook(frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", None) == "cleanup_mountpoints":
            sys.setprofile(None)
            subprocess.run([sys.executable, "-m", "dism", "unmount-image",
                            f"--mount-dir={mount_dir}", "--discard"], check=True,
                           capture_output=True, cwd=worktree,
                           env={**os.environ, "PYTHONPATH": str(worktree)})

    sys.setprofile(hook)
    try:
        status = dism.cli.main(["cleanup-mountpoints"])
    finally:
        sys.setprofile(None)
    out = capsys.readouterr().out
    assert status == 0
    assert str(mount_dir) not in out.split("Left")[0], out
