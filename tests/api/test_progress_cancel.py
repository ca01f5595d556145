"""Progress callbacks, cancellation, exceptions raised inside callbacks,
Ctrl+C, and other Python threads during long DISM calls."""
from __future__ import annotations

import os
import sys
import signal
import threading
import time

import pytest

import dism

from support import is_mounted, sha256

pytestmark = pytest.mark.usefixtures("fuse")


class Recorder:
    def __init__(self):
        self.calls = []
        self.threads = set()

    def __call__(self, current, total):
        self.calls.append((current, total))
        self.threads.add(threading.get_ident())


def assert_sane(calls):
    assert calls, "no progress was reported"
    for current, total in calls:
        assert 0 <= current <= total
    assert calls[-1][0] == calls[-1][1]  # ends complete


def test_mount_reports_integrity_verification(big_wim, mount_dir):
    rec = Recorder()
    m = dism.mount(big_wim, mount_dir, index=1, read_only=True, check_integrity=True,
                   progress=rec)
    m.unmount(commit=False)
    assert_sane(rec.calls)
    byte_totals = {t for _, t in rec.calls if t > 100}
    assert byte_totals, "integrity verification should report bytes"
    verified = [c for c, t in rec.calls if t in byte_totals]
    assert verified == sorted(verified) and verified[-1] == max(byte_totals)


def test_commit_progress_arrives_on_another_thread(big_wim, mount_dir):
    m = dism.mount(big_wim, mount_dir, index=1)
    (mount_dir / "new.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    rec = Recorder()
    m.unmount(commit=True, progress=rec)
    assert_sane(rec.calls)
    assert threading.get_ident() not in rec.threads
    # Phases (writing data, then the integrity table) each count up to
    # their own total.
    phases = {}
    for current, total in rec.calls:
        phases.setdefault(total, []).append(current)
    assert any(t >= 8 * 1024 * 1024 and len(c) > 3 for t, c in phases.items())
    for currents in phases.values():
        assert currents == sorted(currents)


def test_exception_in_mount_callback_cancels_and_propagates(sample_wim, mount_dir):
    class Stop(Exception):
        pass

    def progress(current, total):
        raise Stop("from the callback")

    with pytest.raises(Stop, match="from the callback"):
        dism.mount(sample_wim, mount_dir, index=1, progress=progress)
    assert not is_mounted(mount_dir) and os.listdir(mount_dir) == []


def test_exception_before_the_commit_point_keeps_the_image_mounted(sample_wim, mount_dir):
    m = dism.mount(sample_wim, mount_dir, index=1)
    (mount_dir / "change.txt").write_text("not saved")
    before = sha256(sample_wim)

    def progress(current, total):
        raise ValueError("stop now")

    with pytest.raises(ValueError, match="stop now"):
        m.unmount(commit=True, progress=progress)
    assert is_mounted(mount_dir) and (mount_dir / "change.txt").exists()
    assert sha256(sample_wim) == before
    m.unmount(commit=False)


def test_exception_after_the_commit_point_still_propagates(big_wim, mount_dir):
    dism.mount(big_wim, mount_dir, index=1)
    (mount_dir / "late.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    seen = []

    def progress(current, total):
        seen.append((current, total))
        if total > 100:  # bytes are being written: past the cancel point
            raise LookupError("too late")

    with pytest.raises(LookupError, match="too late") as e:
        dism.unmount(mount_dir, commit=True, progress=progress)
    if sys.version_info >= (3, 11):  # exception notes (add_note) are 3.11+
        assert any("completed successfully" in note for note in e.value.__notes__)
    assert not is_mounted(mount_dir)
    with dism.mount(big_wim, mount_dir, index=1, read_only=True):
        assert (mount_dir / "late.bin").stat().st_size == 4 * 1024 * 1024


def test_a_cancel_token_set_beforehand_cancels(sample_wim, mount_dir):
    token = dism.CancelToken()
    token.cancel()
    with pytest.raises(dism.CancelledError) as e:
        dism.mount(sample_wim, mount_dir, index=1, cancel=token)
    assert e.value.hresult == 0x800704C7
    assert not is_mounted(mount_dir)


def test_a_cancel_token_set_by_another_thread_during_verification(big_wim, mount_dir):
    token = threading.Event()  # anything with is_set() will do

    def progress(current, total):
        if total > 100 and current > 0:
            threading.Thread(target=token.set).start()
            time.sleep(0.2)  # let the waiting caller notice before the check ends

    with pytest.raises(dism.CancelledError):
        dism.mount(big_wim, mount_dir, index=1, read_only=True, check_integrity=True,
                   progress=progress, cancel=token)
    assert not is_mounted(mount_dir) and os.listdir(mount_dir) == []


def test_cancel_before_unmount_keeps_it_mounted(sample_wim, mount_dir):
    m = dism.mount(sample_wim, mount_dir, index=1)
    token = dism.CancelToken()
    token.cancel()
    with pytest.raises(dism.CancelledError):
        m.unmount(commit=True, cancel=token)
    assert is_mounted(mount_dir)
    m.unmount(commit=False)


def test_ctrl_c_cancels_a_mount_and_raises_keyboard_interrupt(big_wim, mount_dir):
    def progress(current, total):
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        dism.mount(big_wim, mount_dir, index=1, read_only=True, check_integrity=True,
                   progress=progress)
    assert not is_mounted(mount_dir) and os.listdir(mount_dir) == []


def test_other_python_threads_run_during_a_long_call(big_wim, mount_dir):
    m = dism.mount(big_wim, mount_dir, index=1)
    (mount_dir / "more.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    counts = []
    stop = threading.Event()

    def count():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 1000 == 0:
                counts.append((time.perf_counter(), n))

    worker = threading.Thread(target=count)
    worker.start()
    start = time.perf_counter()
    m.unmount(commit=True)
    end = time.perf_counter()
    stop.set()
    worker.join()
    during = [n for t, n in counts if start <= t <= end]
    assert len(during) >= 2 and during[-1] - during[0] >= 10_000, \
        "the counting thread barely ran while DISM worked"


def test_progress_must_be_callable_and_cancel_must_have_is_set(sample_wim, mount_dir):
    with pytest.raises(TypeError):
        dism.mount(sample_wim, mount_dir, index=1, progress=42)
    with pytest.raises(TypeError):
        dism.mount(sample_wim, mount_dir, index=1, cancel=object())
    assert not is_mounted(mount_dir)
