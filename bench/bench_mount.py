"""2. Mount and unmount: dism vs wimlib-imagex doing the same on the same WIM.

Every trial starts from a fresh copy of the same WIM (copied outside the timed
interval), so commits never compound, then calls os.sync() so that neither
side pays for the other's dirty pages.  Timed intervals:
  mount read-only     dism.mount(..., read_only=True)     | wimlib-imagex mount WIM 1 DIR
  mount read-write    dism.mount(...)                     | wimlib-imagex mountrw WIM 1 DIR
  unmount read-only   MountedImage.unmount(commit=False)  | wimlib-imagex unmount DIR
  unmount + commit    MountedImage.unmount(commit=True)   | wimlib-imagex unmount DIR --commit
  unmount + discard   MountedImage.unmount(commit=False)  | wimlib-imagex unmount DIR
  read-only cycle     mount read-only, list the root, unmount, until the mount point
                      is gone on both sides (what a pipeline that only looks inside pays)
For the last two, a file of random bytes (the same bytes on both sides) is
written into the read-write mount before the clock starts.

dism's unmount returns only once the mount server has exited and the mount
point is gone; `wimlib-imagex unmount` returns as soon as the server has
answered, and the server tears down afterwards.  The "incl. teardown" rows
time the baseline until that teardown is over too (polled every 0.5 ms).
"""
from __future__ import annotations

import os
import random
import resource
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List

import dism

from _mounts import (WIMLIB_IMAGEX, SideBySide, is_mounted, server_pids, wait_teardown,
                     wimlib)
from _timing import Row, Stats, Target, collect, log

SECTION = "2. mount / unmount (sample WIM, index 1)"
HELPER = os.environ.get("DISM_MOUNT_HELPER") or str(
    Path(dism.__file__).resolve().parent / "_libexec" / "dism-mountd")


class Sides(SideBySide):
    PREFIX = "mnt"
    PAYLOAD = "random.bin"

    def __init__(self, base_wim: Path, workdir: Path, data: bytes) -> None:
        super().__init__(base_wim, workdir, data)
        self.teardown: Dict[str, List[float]] = {}

    # -- helpers ---------------------------------------------------------------

    def _dism_discard(self, m: "dism.MountedImage") -> None:
        if m.mounted:
            m.unmount(commit=False)

    def _wimlib_unmount(self, mount_dir: str, *args: str) -> None:
        if is_mounted(mount_dir):
            pids = server_pids(mount_dir)
            wimlib("unmount", mount_dir, *args)
            wait_teardown(mount_dir, pids)

    # -- dism ------------------------------------------------------------------------

    def dism_mount(self, read_only: bool) -> float:
        wim = self._copy("dism")
        os.sync()
        m = None
        try:
            start = time.perf_counter()
            m = dism.mount(wim, self.dism_dir, index=1, read_only=read_only)
            return time.perf_counter() - start
        finally:
            if m is not None:
                self._dism_discard(m)

    def dism_unmount(self, read_only: bool, commit: bool) -> float:
        wim = self._copy("dism")
        m = dism.mount(wim, self.dism_dir, index=1, read_only=read_only)
        try:
            if not read_only:
                self._fill(self.dism_dir)
            os.sync()
            start = time.perf_counter()
            m.unmount(commit=commit)
            return time.perf_counter() - start
        finally:
            self._dism_discard(m)

    def helper_mount(self) -> float:
        """dism's mount server helper exec'd directly, without the engine around
        it: what a read-only mount costs dism before its own bookkeeping."""
        wim = self._copy("helper")
        os.sync()
        argv = [HELPER, "--id", str(uuid.uuid4()), "--wim", wim, "--index", "1",
                "--dir", self.wimlib_dir]
        try:
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            return time.perf_counter() - start
        finally:
            self._wimlib_unmount(self.wimlib_dir)

    def dism_cycle(self) -> float:
        wim = self._copy("dism")
        os.sync()
        start = time.perf_counter()
        m = dism.mount(wim, self.dism_dir, index=1, read_only=True)
        try:
            os.listdir(self.dism_dir)
        finally:
            m.unmount(commit=False)
        return time.perf_counter() - start

    # -- wimlib-imagex ---------------------------------------------------------------

    def wimlib_cycle(self) -> float:
        wim = self._copy("wimlib")
        os.sync()
        start = time.perf_counter()
        wimlib("mount", wim, "1", self.wimlib_dir)
        try:
            os.listdir(self.wimlib_dir)
        finally:
            self._wimlib_unmount(self.wimlib_dir)
        return time.perf_counter() - start

    def wimlib_mount(self, read_only: bool) -> float:
        wim = self._copy("wimlib")
        os.sync()
        command = "mount" if read_only else "mountrw"
        try:
            start = time.perf_counter()
            wimlib(command, wim, "1", self.wimlib_dir)
            return time.perf_counter() - start
        finally:
            self._wimlib_unmount(self.wimlib_dir)

    def wimlib_unmount(self, read_only: bool, commit: bool, key: str) -> float:
        wim = self._copy("wimlib")
        wimlib("mount" if read_only else "mountrw", wim, "1", self.wimlib_dir)
        try:
            if not read_only:
                self._fill(self.wimlib_dir)
            pids = server_pids(self.wimlib_dir)
            args = ["--commit"] if commit else []
            os.sync()
            start = time.perf_counter()
            wimlib("unmount", self.wimlib_dir, *args)
            command_done = time.perf_counter()
            wait_teardown(self.wimlib_dir, pids)
            self.teardown.setdefault(key, []).append(time.perf_counter() - start)
            return command_done - start
        finally:
            self._wimlib_unmount(self.wimlib_dir)


def run(base_wim: Path, workdir: Path, *, repeats: int, warmup: int,
        write_bytes: int) -> List[Row]:
    if WIMLIB_IMAGEX is None:
        raise RuntimeError("wimlib-imagex not found")
    log(f"[2] mount/unmount: {repeats} repeats, {write_bytes >> 20} MiB written before unmount")
    data = random.Random(20240601).randbytes(write_bytes)
    s = Sides(base_wim, workdir, data)
    target = Target("ratio_max", 1.2)
    base = "wimlib-imagex"
    rows: List[Row] = []

    def pair(name: str, dism_trial: Callable[[], float], wimlib_trial: Callable[[], float],
             teardown_key: str = "") -> None:
        stats = collect({"dism": dism_trial, "wimlib": wimlib_trial}, repeats=repeats,
                        warmup=warmup, label=name)
        rows.append(Row(SECTION, name, stats["dism"], stats["wimlib"], base, "s", target))
        if teardown_key:
            full = Stats.of(s.teardown[teardown_key][-repeats:])   # the warm-ups came first
            rows.append(Row(SECTION, "  vs baseline incl. server teardown", stats["dism"], full,
                            base + "+teardown", "s",
                            note="baseline timed until its server exited and the mount "
                                 "point was gone, as dism's unmount waits"))

    mib = f"{write_bytes >> 20} MiB"
    ro = collect({"dism": lambda: s.dism_mount(True), "wimlib": lambda: s.wimlib_mount(True),
                  "helper": s.helper_mount}, repeats=repeats, warmup=warmup,
                 label="mount read-only")
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    rows.append(Row(SECTION, "mount read-only", ro["dism"], ro["wimlib"], base, "s", target))
    rows.append(Row(SECTION, "  dism-mountd helper alone (exec'd directly)", ro["helper"],
                    ro["wimlib"], base, "s",
                    note=f"the helper closes every fd up to RLIMIT_NOFILE (soft limit here: "
                         f"{nofile}) before mounting"))
    pair("read-only cycle: mount, list, unmount", s.dism_cycle, s.wimlib_cycle)
    pair("mount read-write", lambda: s.dism_mount(False), lambda: s.wimlib_mount(False))
    pair("unmount read-only", lambda: s.dism_unmount(True, False),
         lambda: s.wimlib_unmount(True, False, "ro"), "ro")
    pair(f"unmount + commit ({mib} new file, LZX)", lambda: s.dism_unmount(False, True),
         lambda: s.wimlib_unmount(False, True, "commit"), "commit")
    pair(f"unmount + discard ({mib} new file)", lambda: s.dism_unmount(False, False),
         lambda: s.wimlib_unmount(False, False, "discard"), "discard")
    return rows
