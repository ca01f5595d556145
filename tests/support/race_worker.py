"""Loops that race each other in the stress tests, run in threads of the
test process or, through `python race_worker.py ROLE ...`, in a second
process sharing the state directory.

mount_loop: mounts (mostly read-only, every fourth read-write), checks the
mount is served right after mount() returned and again after a short hold,
then unmounts; every mount that vanished while its owner still held it is
a failure.  cleanup_loop: cleanup_mountpoints() and get_mounted_images()
as fast as they go."""
from __future__ import annotations

import json
import os
import random
import shutil
import sys
import threading
import time
from pathlib import Path

import dism


def served(mnt: Path) -> bool:
    wanted = os.path.realpath(mnt)
    with open("/proc/self/mountinfo") as f:
        if not any(" - fuse.wimfs " in line and line.split()[4] == wanted for line in f):
            return False
    try:
        os.listdir(mnt)
        return True
    except OSError:
        return False


def record_exists(state_dir: Path, mnt: Path) -> bool:
    wanted = f"mount_path={os.path.realpath(mnt)}\n"
    for f in (state_dir / "mounts").glob("*.mount"):
        try:
            if wanted in f.read_text():
                return True
        except FileNotFoundError:
            continue
    return False


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mounts = 0
        self.cleanups = 0
        self.failures: list[str] = []

    def fail(self, what: str) -> None:
        with self.lock:
            if len(self.failures) < 200:
                self.failures.append(what)

    def as_dict(self) -> dict:
        return {"mounts": self.mounts, "cleanups": self.cleanups, "failures": self.failures}


def mount_loop(wim: Path, root: Path, deadline: float, tally: Tally, seed: int,
               state_dir: Path | None = None, list_too: bool = False) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    rw_wim = root / "rw.wim"
    shutil.copyfile(wim, rw_wim)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        # Pipelines reuse their mount directory: a cleanup that decided on
        # the previous mount at this path must not detach the next one.
        mnt = root / f"m{n % 2}"
        mnt.mkdir(parents=True, exist_ok=True)
        read_only = n % 4 != 0
        try:
            mounted = dism.mount(wim if read_only else rw_wim, mnt, index=1, read_only=read_only)
        except dism.DismError as e:
            tally.fail(f"mount {mnt} failed: {type(e).__name__}: {e}")
            continue
        with tally.lock:
            tally.mounts += 1
        for check in range(rng.randint(1, 3)):
            if not served(mnt):
                tally.fail(f"healthy {'ro' if read_only else 'rw'} mount {mnt} vanished "
                           f"(check {check}) while its owner held it")
                break
            if not read_only:
                (mnt / f"written-{check}").write_bytes(b"x" * 100)
            if list_too:
                dism.get_mounted_images()
            time.sleep(rng.uniform(0, 0.01))
        try:
            mounted.unmount(commit=False)
        except dism.DismError as e:
            tally.fail(f"unmount {mnt} failed: {type(e).__name__}: {e}")
            if served(mnt):
                os.system(f"umount -l '{mnt}'")  # noqa: S605 - test-made path
            continue
        if served(mnt):
            tally.fail(f"{mnt} still mounted after a successful unmount")
        if state_dir is not None and record_exists(state_dir, mnt):
            tally.fail(f"registry record of {mnt} left behind after a successful unmount")


def cleanup_loop(deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        try:
            dism.cleanup_mountpoints()
            dism.get_mounted_images()
        except dism.DismError as e:
            tally.fail(f"cleanup_mountpoints raised {type(e).__name__}: {e}")
        with tally.lock:
            tally.cleanups += 1


def main(argv: list[str]) -> int:
    role, seconds = argv[0], float(argv[1])
    deadline = time.monotonic() + seconds
    tally = Tally()
    if role == "mount":
        mount_loop(Path(argv[2]), Path(argv[3]), deadline, tally, seed=int(argv[4]))
    else:
        cleanup_loop(deadline, tally)
    print(json.dumps(tally.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
