"""The cancel rule, the same for every long call (README, "Cancelling"):
a cancel that arrives while the operation can still stop stops it and leaves
the image exactly as it was; one that arrives later lets it finish.  Either
way the call raises (CancelledError, the progress callback's exception, or
KeyboardInterrupt), and `.completed` says whether the changes were saved.

Each commit test checks the WIM with `wimlib-imagex verify` and that its
content is exactly the old or exactly the new one, as the exception claims."""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import subprocess
from pathlib import Path

import pytest

import dism
import dism.cli
from dism.cli.exit_codes import EXIT_CANCELLED_TOO_LATE, EXIT_INTERRUPTED

from support import is_mounted, sha256

pytestmark = pytest.mark.usefixtures("fuse")

NEW_FILE = "new.bin"
NEW_BYTES = 12 * 1024 * 1024  # incompressible: the write phase reports many times


def verify(wim: Path) -> None:
    done = subprocess.run(["wimlib-imagex", "verify", str(wim)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def new_file_in_wim(wim: Path, tmp_path: Path, index: int = 1) -> bytes | None:
    """The committed bytes of NEW_FILE, or None when the image lacks it."""
    out = tmp_path / f"extracted{index}"
    done = subprocess.run(["wimlib-imagex", "extract", str(wim), str(index), f"/{NEW_FILE}",
                           f"--dest-dir={out}"], capture_output=True, text=True)
    return (out / NEW_FILE).read_bytes() if done.returncode == 0 else None


@pytest.fixture
def changed_mount(big_wim, mount_dir):
    """A read-write mount of the big WIM with NEW_BYTES of new random data,
    and the data's digest; the mount is discarded at the end if still there."""
    m = dism.mount(big_wim, mount_dir, index=1)
    data = os.urandom(NEW_BYTES)
    (mount_dir / NEW_FILE).write_bytes(data)
    yield m, hashlib.sha256(data).hexdigest()
    if is_mounted(mount_dir):
        m.unmount(commit=False)


def cancel_at(token, fraction_of_write):
    """A progress callback that sets `token` once the data being written
    (a phase counted in bytes) reaches the given fraction; fraction None
    sets it on the very first report, before anything is written."""
    def progress(current, total):
        if fraction_of_write is None or (total > 100 and current >= total * fraction_of_write):
            token.cancel()
    return progress


def outcome_text(exc: BaseException) -> str:
    return " ".join([str(exc), *getattr(exc, "__notes__", [])])


def assert_saved(exc, wim, tmp_path, digest):
    assert exc.completed is True
    assert "changes were saved" in outcome_text(exc)
    verify(wim)
    saved = new_file_in_wim(wim, tmp_path)
    assert saved is not None and hashlib.sha256(saved).hexdigest() == digest


def assert_unchanged(exc, wim, before, tmp_path):
    assert exc.completed is False
    assert "nothing was saved" in outcome_text(exc)
    verify(wim)
    assert sha256(wim) == before and new_file_in_wim(wim, tmp_path) is None


# ---- MountedImage.commit (DismCommitImage) and unmount with commit ----

def save_changes(m, how, **kw):
    """Commit and stay mounted, or commit and unmount."""
    if how == "commit":
        m.commit(**kw)
    else:
        m.unmount(commit=True, **kw)


@pytest.mark.parametrize("how", ["commit", "unmount"])
def test_save_cancelled_at_the_start_changes_nothing(changed_mount, big_wim, mount_dir,
                                                      tmp_path, how):
    m, _ = changed_mount
    before = sha256(big_wim)
    token = dism.CancelToken()
    with pytest.raises(dism.CancelledError) as e:
        save_changes(m, how, progress=cancel_at(token, None), cancel=token)
    assert_unchanged(e.value, big_wim, before, tmp_path)
    # Still mounted, the change still there to save later.
    assert m.status is dism.MountStatus.OK and (mount_dir / NEW_FILE).stat().st_size == NEW_BYTES


@pytest.mark.parametrize("how", ["commit", "unmount"])
def test_save_cancelled_at_8_percent_completes_and_says_so(changed_mount, big_wim, mount_dir,
                                                            tmp_path, how):
    m, digest = changed_mount
    token = dism.CancelToken()
    with pytest.raises(dism.CancelledError) as e:
        save_changes(m, how, progress=cancel_at(token, 0.08), cancel=token)
    assert token.is_set()
    assert_saved(e.value, big_wim, tmp_path, digest)
    # A commit keeps the image mounted, an unmount does not.
    assert is_mounted(mount_dir) == (how == "commit")


def test_commit_cancelled_after_the_last_write_completes_and_says_so(changed_mount, big_wim,
                                                                     tmp_path):
    m, digest = changed_mount
    token = dism.CancelToken()
    with pytest.raises(dism.CancelledError) as e:
        m.commit(progress=cancel_at(token, 1.0), cancel=token)
    assert_saved(e.value, big_wim, tmp_path, digest)


def test_append_cancelled_too_late_follows_the_new_image(changed_mount, big_wim, tmp_path):
    m, digest = changed_mount
    token = dism.CancelToken()
    with pytest.raises(dism.CancelledError) as e:
        m.commit(append=True, progress=cancel_at(token, 0.08), cancel=token)
    assert e.value.completed is True
    verify(big_wim)
    assert len(dism.get_image_info(big_wim)) == 2 and m.index == 2
    assert hashlib.sha256(new_file_in_wim(big_wim, tmp_path, 2)).hexdigest() == digest
    assert new_file_in_wim(big_wim, tmp_path, 1) is None  # the original image is untouched


def test_callback_exception_mid_commit_says_the_changes_were_saved(changed_mount, big_wim,
                                                                   tmp_path):
    m, digest = changed_mount

    def progress(current, total):
        if total > 100 and current >= total * 0.08:
            raise LookupError("stop")

    with pytest.raises(LookupError, match="stop") as e:
        m.commit(progress=progress)
    assert_saved(e.value, big_wim, tmp_path, digest)


def test_ctrl_c_mid_commit_says_the_changes_were_saved(changed_mount, big_wim, tmp_path):
    m, digest = changed_mount
    sent = []

    def progress(current, total):
        if total > 100 and current >= total * 0.08 and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt) as e:
        m.commit(progress=progress)
    assert_saved(e.value, big_wim, tmp_path, digest)


def test_ctrl_c_at_the_last_report_is_part_of_the_call(changed_mount, big_wim, mount_dir,
                                                       tmp_path):
    """A SIGINT sent by the last progress report, just before DISM returns,
    still belongs to the call: it says the operation completed."""
    m, digest = changed_mount

    def progress(current, total):
        if current == total == 100:  # unmount's final report
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt) as e:
        m.unmount(commit=True, progress=progress)
    assert_saved(e.value, big_wim, tmp_path, digest)
    assert not is_mounted(mount_dir)


# ---- mount (DismMountImage): stoppable throughout its integrity check ----

def test_mount_cancelled_during_verification_mounts_nothing(big_wim, mount_dir):
    token = dism.CancelToken()
    with pytest.raises(dism.CancelledError) as e:
        dism.mount(big_wim, mount_dir, index=1, read_only=True, check_integrity=True,
                   progress=cancel_at(token, 0.08), cancel=token)
    assert e.value.completed is False and "nothing was saved" in outcome_text(e.value)
    assert not is_mounted(mount_dir) and os.listdir(mount_dir) == []


def test_a_long_call_without_cancel_returns_normally(changed_mount, big_wim, tmp_path):
    m, digest = changed_mount
    m.commit(cancel=dism.CancelToken())
    verify(big_wim)
    assert hashlib.sha256(new_file_in_wim(big_wim, tmp_path)).hexdigest() == digest


# ---- the command line ----

class InterruptingTerminal(io.StringIO):
    """stderr as a terminal, so the CLI draws its progress bar on it; sends
    a real SIGINT to this process once the bar passes `percent`."""

    def __init__(self, percent: float) -> None:
        super().__init__()
        self.percent = percent
        self.sent = False

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not self.sent and "%" in text:
            shown = float(text.split("%")[0].split("=")[-1].strip(" [\r"))
            if shown >= self.percent:
                self.sent = True
                os.kill(os.getpid(), signal.SIGINT)
        return super().write(text)


def run_cli_interrupted(argv, percent):
    out, err = io.StringIO(), InterruptingTerminal(percent)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = dism.cli.main(argv)
    assert err.sent, "the progress bar never reached the point to interrupt at"
    return status, out.getvalue() + err.getvalue()


def test_cli_commit_interrupted_mid_write_says_saved(changed_mount, big_wim, mount_dir,
                                                     tmp_path):
    _, digest = changed_mount
    status, text = run_cli_interrupted(["commit-image", f"--mount-dir={mount_dir}"], 8.0)
    assert status == EXIT_CANCELLED_TOO_LATE == 8
    assert "changes were saved" in text and "nothing was saved" not in text
    verify(big_wim)
    assert hashlib.sha256(new_file_in_wim(big_wim, tmp_path)).hexdigest() == digest


def test_cli_unmount_commit_interrupted_mid_write_says_saved(changed_mount, big_wim, mount_dir,
                                                             tmp_path):
    _, digest = changed_mount
    status, text = run_cli_interrupted(
        ["unmount-image", f"--mount-dir={mount_dir}", "--commit"], 8.0)
    assert status == 8 and "changes were saved" in text
    verify(big_wim)
    assert hashlib.sha256(new_file_in_wim(big_wim, tmp_path)).hexdigest() == digest
    assert not is_mounted(mount_dir)


def test_cli_mount_interrupted_during_verification_says_nothing_saved(big_wim, mount_dir):
    status, text = run_cli_interrupted(
        ["mount-image", f"--image-file={big_wim}", "--index=1", f"--mount-dir={mount_dir}",
         "--read-only", "--check-integrity"], 8.0)
    assert status == EXIT_INTERRUPTED == 130
    assert "nothing was saved" in text
    assert not is_mounted(mount_dir) and os.listdir(mount_dir) == []

