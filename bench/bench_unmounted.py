"""5. get_drivers on an unmounted-image session vs on a mount of the same WIM.

Image: a WIM captured (LZX) from the root of section 4 (the real Windows 10
SYSTEM hive, 238 driver packages).  Both sides are dism; the baseline is the
route that needs FUSE and root:
  unmounted  dism.Session.open_image_file(wim, index=1): the hives, manifests
             and INF files are copied into a private temporary directory
  mounted    dism.mount(wim, dir, index=1, read_only=True) + Session(dir)
Rows:
  get_drivers            one call on an open session (opened outside the timing)
  open + get_drivers     what a pipeline that only looks pays: open the session
                         (or mount), list, close (or unmount)
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List, Tuple

import dism

from _mounts import new_mount_point
from _timing import Row, collect, log, time_call
from bench_drivers import SOURCE_HIVE, make_image_root

SECTION = "5. unmounted-image session vs mount (real Windows 10 SYSTEM hive)"


def make_wim(work: Path) -> Path:
    wim = work / "drivers.wim"
    subprocess.run(["wimlib-imagex", "capture", str(make_image_root(work)), str(wim), "Drivers",
                    "--compress=lzx"], check=True, capture_output=True)
    return wim


def _cycle_unmounted(wim: Path) -> int:
    with dism.Session.open_image_file(wim, index=1) as session:
        return len(session.get_drivers(all_drivers=True))


def _cycle_mounted(wim: Path, mount_dir: str) -> int:
    with dism.mount(wim, mount_dir, index=1, read_only=True) as mounted:
        with mounted.session() as session:
            return len(session.get_drivers(all_drivers=True))


def run(work: Path, *, repeats: int, warmup: int, inner: int) -> Tuple[List[Row], dict]:
    if not SOURCE_HIVE.is_file():
        log(f"[5] unmounted: SKIPPED, the test hive {SOURCE_HIVE} is not on this machine")
        return [], {"skipped": f"{SOURCE_HIVE} not found"}
    wim = make_wim(work)
    mount_dir = new_mount_point(work, "unmounted-vs-mount")
    log(f"[5] unmounted: {repeats} repeats x {inner} get_drivers calls; "
        f"{repeats} open/list/close cycles")
    with dism.Session.open_image_file(wim, index=1) as unmounted, \
            dism.mount(wim, mount_dir, index=1, read_only=True) as mounted, \
            mounted.session() as on_mount:
        listed = len(unmounted.get_drivers(all_drivers=True))
        if listed != len(on_mount.get_drivers(all_drivers=True)):
            raise RuntimeError("the two sessions list different numbers of drivers")
        calls = collect({
            "unmounted": lambda: time_call(lambda: unmounted.get_drivers(all_drivers=True),
                                           inner),
            "mounted": lambda: time_call(lambda: on_mount.get_drivers(all_drivers=True), inner),
        }, repeats=repeats, warmup=warmup, label="get_drivers")
    cycles = collect({
        "unmounted": lambda: time_call(lambda: _cycle_unmounted(wim)),
        "mounted": lambda: time_call(lambda: _cycle_mounted(wim, mount_dir)),
    }, repeats=repeats, warmup=warmup, label="open + get_drivers + close")
    rows = [
        Row(SECTION, f"get_drivers all ({listed} pkgs), unmounted vs mounted session",
            calls["unmounted"], calls["mounted"], "mounted session", "s",
            note="the same engine reads the same hive: from a private copy on the local "
                 "disk, or through the FUSE mount"),
        Row(SECTION, "open_image_file + get_drivers + close vs mount + get_drivers + unmount",
            cycles["unmounted"], cycles["mounted"], "mount", "s",
            note="the unmounted session copies the hives, manifests and INF files it reads "
                 "(no FUSE, no root); the mount starts and stops a wimfs server"),
    ]
    return rows, {"wim": str(wim), "packages": listed}
