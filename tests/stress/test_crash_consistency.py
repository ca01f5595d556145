"""Crash consistency: kill -9 of the mount server and of the caller at
random points of a commit (issue 9 items 9 and the battery's part a).

Each trial mounts a fresh copy of a WIM read-write, writes a marker file and
a 4 MiB incompressible file, and commits from a child Python process; a
random delay after the child says it is about to commit, the server or the
child is SIGKILLed.  Afterwards the WIM must verify, hold exactly the old or
exactly the new content (the new one if the commit reported success),
get_mounted_images() must tell the truth about the mount, cleanup must
recover, the image must mount again, and no POSIX message queue of wimlib's
may be left behind."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import dism
from dism.testing import WindowsImageSpec, build_wim

from support import record_for, wimfs_mounts
from support.stress import (MessageQueues, force_release, is_served, is_stale, mounted_info,
                            read_from_wim, server_pid, verify_wim)

TRIALS = int(os.environ.get("STRESS_KILL_TRIALS", "20"))
BIG = 4 * 1024 * 1024
SEED = int(os.environ.get("STRESS_SEED", str(int(time.time()))))

COMMIT_CHILD = textwrap.dedent("""
    import sys
    import dism
    path, mode = sys.argv[1], sys.argv[2]
    print("go", flush=True)
    try:
        if mode == "unmount":
            dism.unmount(path, commit=True)
        else:
            with dism.Session(path) as s:
                s.commit()
    except dism.DismError as e:
        print("error", type(e).__name__, e, flush=True)
        sys.exit(3)
    print("ok", flush=True)
""")


@pytest.fixture(scope="module")
def crash_wim(tmp_path_factory) -> Path:
    return build_wim(tmp_path_factory.mktemp("crash") / "crash.wim",
                     [WindowsImageSpec(name="Crash")], compression="lzx")


@pytest.fixture(scope="module")
def mqueues():
    queues = MessageQueues()
    yield queues
    queues.close()


class Trial:
    def __init__(self, master: Path, root: Path, number: int) -> None:
        self.root = root
        self.wim = root / "image.wim"
        self.mnt = root / "mnt"
        self.mnt.mkdir(parents=True)
        shutil.copyfile(master, self.wim)
        self.marker = f"new content of trial {number}\n".encode()
        self.big = random.Random(number).randbytes(BIG)

    def change(self) -> None:
        dism.mount(self.wim, self.mnt, index=1)
        (self.mnt / "stress-marker.txt").write_bytes(self.marker)
        (self.mnt / "stress-big.bin").write_bytes(self.big)

    def start_commit(self, mode: str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", COMMIT_CHILD, str(self.mnt), mode],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "go", child.stderr.read()
        return child

    def content(self) -> str:
        """'old', 'new', or a description of the torn state."""
        marker = read_from_wim(self.wim, 1, "/stress-marker.txt")
        big = read_from_wim(self.wim, 1, "/stress-big.bin")
        if marker is None and big is None:
            return "old"
        if marker == self.marker and big == self.big:
            return "new"
        return f"torn (marker {marker!r:.40}, big {None if big is None else len(big)} bytes)"

    def check_recovers(self, problems: list[str], mode: str) -> None:
        """Status truthful, cleanup releases, the image mounts again."""
        info = mounted_info(self.mnt)
        # A commit that stays mounted unmounts and mounts again: cut in
        # between, the mount is gone but the user's mount may rightly be
        # reported as needing a remount.
        remount_is_truth = mode == "commit" and info is not None and \
            info.status == dism.MountStatus.NEEDS_REMOUNT
        if is_stale(self.mnt):
            if info is None or info.status != dism.MountStatus.NEEDS_REMOUNT:
                problems.append(f"dead server: get_mounted_images says {info}")
            try:
                dism.unmount(self.mnt, commit=True)
                problems.append("unmount(commit=True) of a dead mount succeeded")
            except dism.NeedsRemountError:
                pass
            except dism.DismError as e:
                problems.append(f"unmount of a dead mount: {type(e).__name__}, not "
                                f"NeedsRemountError: {e}")
        elif is_served(self.mnt):
            if info is None or info.status != dism.MountStatus.OK:
                problems.append(f"live server: get_mounted_images says {info}")
        elif info is not None and not remount_is_truth:
            problems.append(f"nothing mounted, yet get_mounted_images says {info}")
        dism.cleanup_mountpoints()
        if is_served(self.mnt):  # a healthy mount: cleanup must keep it; its owner unmounts
            dism.unmount(self.mnt, commit=False)
        if os.path.realpath(self.mnt) in wimfs_mounts():
            problems.append("still in the mount table after cleanup")
        if record_for(self.mnt) is not None or mounted_info(self.mnt) is not None:
            problems.append("a registry record survived cleanup")
        force_release(self.mnt)
        try:
            with dism.mount(self.wim, self.mnt, index=1, read_only=True):
                os.listdir(self.mnt)
        except dism.DismError as e:
            problems.append(f"mounting again failed: {e}")


def calibrate(master: Path, root: Path) -> float:
    """How long an undisturbed commit takes (the window the kills aim at)."""
    trial = Trial(master, root, 0)
    trial.change()
    child = trial.start_commit("unmount")
    start = time.monotonic()
    out, err = child.communicate(timeout=120)
    elapsed = time.monotonic() - start
    assert child.returncode == 0, out + err
    assert trial.content() == "new"
    return elapsed


def run_trials(victim: str, mode_for, crash_wim: Path, tmp_path: Path, mqueues, figures):
    rng = random.Random(f"{SEED}-{victim}")
    window = calibrate(crash_wim, tmp_path / "calibration")
    outcomes: dict[str, int] = {}
    failures = []
    for number in range(1, TRIALS + 1):
        trial = Trial(crash_wim, tmp_path / f"t{number}", number)
        queues_before = mqueues.wimlib_queues()
        trial.change()
        mode = mode_for(number)
        pid = server_pid(trial.mnt)
        child = trial.start_commit(mode)
        delay = rng.uniform(0, window * 1.3)
        time.sleep(delay)
        os.kill(pid if victim == "server" else child.pid, signal.SIGKILL)
        out, err = child.communicate(timeout=120)
        reported_ok = child.returncode == 0 and "ok" in out
        if victim == "caller":
            settle(trial.mnt, pid)
        problems: list[str] = []
        try:
            trial.check_recovers(problems, mode)
        finally:
            force_release(trial.mnt)
        verify_wim(trial.wim)
        content = trial.content()
        if content not in ("old", "new") or (reported_ok and content != "new"):
            problems.append(f"content {content} after a commit that reported "
                            f"{'success' if reported_ok else out.strip() or err.strip()[-200:]}")
        leaked = mqueues.wimlib_queues() - queues_before
        if leaked:
            problems.append(f"message queues left behind: {sorted(leaked)}")
        outcomes[content] = outcomes.get(content, 0) + 1
        if problems:
            failures.append(f"trial {number} ({mode}, kill after {delay:.3f}s): "
                            + "; ".join(problems))
    figures[f"kill -9 {victim}: trials"] = TRIALS
    figures[f"kill -9 {victim}: outcomes"] = outcomes
    figures[f"kill -9 {victim}: commit window (s)"] = round(window, 3)
    figures[f"kill -9 {victim}: failed trials"] = len(failures)
    assert not failures, f"seed {SEED}:\n" + "\n".join(failures)


def process_state(pid: int) -> tuple[str, int]:
    """The state letter of /proc/PID/stat (R, S, D, Z...) and the CPU ticks
    it has used, or ("gone", 0)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except OSError:
        return "gone", 0
    return fields[0], int(fields[11]) + int(fields[12])   # utime + stime


def settle(mnt: Path, server: int, timeout: float = 60) -> None:
    """After the caller died, the server finishes (or drops) the commit on
    its own and exits; or, when the caller died before asking it to unmount,
    it goes on serving.  Wait until it is gone, or idle: asleep without using
    any CPU at three looks 0.2 s apart (a commit compresses, so it uses CPU)."""
    deadline = time.monotonic() + timeout
    idle, last_ticks = 0, -1
    while time.monotonic() < deadline and idle < 3:
        state, ticks = process_state(server)
        if state in ("gone", "Z"):
            return
        idle = idle + 1 if state == "S" and ticks == last_ticks else 0
        last_ticks = ticks
        time.sleep(0.2)


@pytest.mark.usefixtures("fuse")
def test_kill_9_of_the_mount_server_mid_commit(crash_wim, tmp_path, mqueues, figures):
    run_trials("server", lambda n: "unmount", crash_wim, tmp_path, mqueues, figures)


@pytest.mark.usefixtures("fuse")
def test_kill_9_of_the_caller_mid_commit(crash_wim, tmp_path, mqueues, figures):
    # Odd trials unmount with commit, even ones commit and stay mounted.
    run_trials("caller", lambda n: "unmount" if n % 2 else "commit", crash_wim, tmp_path,
               mqueues, figures)
