#!/usr/bin/env python3
"""Side-by-side benchmarks of the dism package against plain wimlib and regipy.

    python bench/run.py            # full run (a few minutes)
    python bench/run.py --quick    # smoke run, well under a minute

Prints one table - operation | dism | baseline | ratio | target | verdict -
with "median [min-max]" over the repeats, and writes bench/results.json.
Targets are reported, never asserted: the exit status is 0 unless a
benchmark failed to run or something of ours was left mounted.
See bench/README.md for what each row measures.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent



def _scratch_parent() -> str:
    """Where scratch and state directories go: /var/tmp rather than /tmp.
    Test suites on a shared machine sweep wimfs mounts under the temp dir
    (tests/conftest.py unmounts every one below tempfile.gettempdir() when a
    pytest session ends), which would pull mounts out from under a benchmark."""
    tmp = os.path.realpath(tempfile.gettempdir())
    for candidate in ("/var/tmp",):
        real = os.path.realpath(candidate)
        if (os.path.isdir(real) and os.access(real, os.W_OK)
                and not (real + "/").startswith(tmp + "/")):
            return real
    return tmp


SCRATCH_PARENT = _scratch_parent()
# The engine keeps its mount registry in DISM_STATE_DIR; every benchmark
# process gets a fresh one, set before dism is imported or initialized.
STATE_DIR = tempfile.mkdtemp(prefix="dism-bench-state-", dir=SCRATCH_PARENT)
os.environ["DISM_STATE_DIR"] = STATE_DIR

for entry in (str(BENCH_DIR), str(REPO_ROOT)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import dism  # noqa: E402
from dism.testing import build_wim, sample_specs  # noqa: E402

import _mounts  # noqa: E402
from _libwim import LibWim  # noqa: E402
from _timing import RETRIED, Row, format_table, log  # noqa: E402

FULL = dict(info_repeats=15, info_inner=50, info_warmup=2,
            mount_repeats=7, mount_warmup=1, write_mib=32,
            thread_repeats=5, thread_warmup=1, payload_mib=64, solo_seconds=2.0,
            drivers_repeats=11, drivers_inner=10, drivers_warmup=1,
            imaging_repeats=5, imaging_warmup=1, imaging_mib=64)
QUICK = dict(info_repeats=5, info_inner=10, info_warmup=1,
             mount_repeats=3, mount_warmup=1, write_mib=8,
             thread_repeats=1, thread_warmup=0, payload_mib=16, solo_seconds=0.5,
             drivers_repeats=3, drivers_inner=3, drivers_warmup=1,
             imaging_repeats=2, imaging_warmup=0, imaging_mib=16)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fast smoke run (< 60 s)")
    p.add_argument("--repeats", type=int, help="measured repeats for every section "
                   "(default: 15/7/5/11/5 for info/mount/threads/drivers/imaging, 5/3/1/3/2 with "
                   "--quick)")
    p.add_argument("--warmup", type=int, help="discarded warm-up runs for every section")
    p.add_argument("--only", action="append", choices=SECTIONS,
                   help="run only this section (may be repeated)")
    p.add_argument("--write-mib", type=int, help="MiB written before unmount in section 2")
    p.add_argument("--payload-mib", type=int, help="payload and written MiB in section 3")
    p.add_argument("--json", type=Path, default=BENCH_DIR / "results.json",
                   help="where to write the results (default: bench/results.json)")
    p.add_argument("--workdir", type=Path, help="parent of the scratch directory "
                   f"(default: {SCRATCH_PARENT}; avoid the system temp dir, see README)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    return p.parse_args()


def settings(args: argparse.Namespace) -> dict:
    s = dict(QUICK if args.quick else FULL)
    if args.repeats is not None:
        s.update(info_repeats=args.repeats, mount_repeats=args.repeats,
                 thread_repeats=args.repeats, drivers_repeats=args.repeats,
                 imaging_repeats=args.repeats)
    if args.warmup is not None:
        s.update(info_warmup=args.warmup, mount_warmup=args.warmup, thread_warmup=args.warmup,
                 drivers_warmup=args.warmup, imaging_warmup=args.warmup)
    if args.write_mib is not None:
        s["write_mib"] = args.write_mib
    if args.payload_mib is not None:
        s["payload_mib"] = args.payload_mib
    return s


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


class Section(NamedTuple):
    """What a section runs with: the settings, the scratch directory, the
    sample WIM (built only for the sections that use it) and `raw`, where a
    section may leave its raw figures for results.json."""
    s: dict
    work: Path
    sample: Optional[Path]
    raw: dict


# Each section's module is imported only when the section runs.
def _info(run: Section) -> List[Row]:
    import bench_image_info
    assert run.sample is not None
    return bench_image_info.run(run.sample, repeats=run.s["info_repeats"],
                                warmup=run.s["info_warmup"], inner=run.s["info_inner"])


def _mount(run: Section) -> List[Row]:
    import bench_mount
    assert run.sample is not None
    return bench_mount.run(run.sample, run.work, repeats=run.s["mount_repeats"],
                           warmup=run.s["mount_warmup"], write_bytes=run.s["write_mib"] << 20)


def _threads(run: Section) -> List[Row]:
    import bench_threads
    rows, run.raw["threads"] = bench_threads.run(
        run.work, payload_bytes=run.s["payload_mib"] << 20, repeats=run.s["thread_repeats"],
        warmup=run.s["thread_warmup"], solo_seconds=run.s["solo_seconds"])
    return rows


def _drivers(run: Section) -> List[Row]:
    import bench_drivers
    rows, run.raw["drivers"] = bench_drivers.run(
        run.work, repeats=run.s["drivers_repeats"], warmup=run.s["drivers_warmup"],
        inner=run.s["drivers_inner"])
    return rows


def _unmounted(run: Section) -> List[Row]:
    import bench_unmounted
    rows, run.raw["unmounted"] = bench_unmounted.run(
        run.work, repeats=run.s["drivers_repeats"], warmup=run.s["drivers_warmup"],
        inner=run.s["drivers_inner"])
    return rows


def _imaging(run: Section) -> List[Row]:
    import bench_imaging
    return bench_imaging.run(run.work, payload_bytes=run.s["imaging_mib"] << 20,
                             repeats=run.s["imaging_repeats"], warmup=run.s["imaging_warmup"])


# name: (measure, whether it mounts, so that its mounts are cleaned up after it)
SECTION_RUNNERS: Dict[str, Tuple[Callable[[Section], List[Row]], bool]] = {
    "info": (_info, False),
    "mount": (_mount, True),
    "threads": (_threads, True),
    "drivers": (_drivers, False),
    "unmounted": (_unmounted, True),
    "imaging": (_imaging, False),
}
SECTIONS = tuple(SECTION_RUNNERS)   # in the order they run


def run_section(name: str, run: Section, errors: List[str]) -> List[Row]:
    """One section's rows; a section that fails adds its traceback to
    `errors` and no rows, and the other sections still run."""
    measure, mounts = SECTION_RUNNERS[name]
    try:
        return measure(run)
    except Exception:
        errors.append(f"{name}: " + traceback.format_exc())
        return []
    finally:
        if mounts:
            _mounts.cleanup()


def main() -> int:
    args = parse_args()
    s = settings(args)
    sections = args.only or list(SECTIONS)
    started = time.perf_counter()
    foreign_before = set(_mounts.wimfs_mounts())
    work = Path(tempfile.mkdtemp(prefix="dism-bench-", dir=args.workdir or SCRATCH_PARENT))
    log(f"scratch {work}, DISM_STATE_DIR {STATE_DIR}, settings {s}")

    rows: list[Row] = []
    raw: dict = {}
    errors: list[str] = []
    try:
        sample = None
        if {"info", "mount"} & set(sections):
            sample = build_wim(work / "sample.wim", sample_specs(), compression="lzx")
        for name in SECTIONS:
            if name in sections:
                rows += run_section(name, Section(s, work, sample, raw), errors)
    finally:
        left = _mounts.cleanup()
        foreign_after = set(_mounts.wimfs_mounts()) - _mounts.our_mount_points()
        if not left and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif left:
            log(f"LEFT MOUNTED (scratch kept at {work}): {left}")

    elapsed = time.perf_counter() - started
    libwim_version = LibWim().version()
    table = format_table(rows)
    regipy_version = raw.get("drivers", {}).get("regipy_version")
    regipy = f", regipy {regipy_version}" if regipy_version else ""
    print(f"dism {dism.__version__} (backend {dism.BACKEND}, commit {git_commit()}) vs "
          f"wimlib {libwim_version}{regipy}; Python {platform.python_version()}; "
          f"{os.cpu_count()} CPUs; {'quick' if args.quick else 'full'} run, {elapsed:.1f} s")
    print("numbers: median [min-max] over the repeats; ratio = dism median / baseline median")
    print(table)
    seen = set()
    for row in rows:
        if row.note and row.note not in seen:
            seen.add(row.note)
            print(f"note - {row.operation.strip()}: {row.note}")
    for retried in RETRIED:
        print(f"retried - {retried}")
    print(f"wimfs mounts of ours left: {len(left)}; other wimfs mounts on the machine "
          f"(not ours, untouched): {len(foreign_after)}")
    for error in errors:
        print(f"ERROR in {error}", file=sys.stderr)

    result = {
        "meta": {
            "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "settings": s,
            "sections": sections,
            "elapsed_s": elapsed,
            "dism_version": dism.__version__,
            "dism_backend": dism.BACKEND,
            "git_commit": git_commit(),
            "wimlib_version": libwim_version,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "affinity": sorted(os.sched_getaffinity(0)),
            "rlimit_nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
            "scratch_parent": str(args.workdir or SCRATCH_PARENT),
        },
        "rows": [row.to_json() for row in rows],
        "raw": raw,
        "table": table,
        "left_mounted": left,
        "foreign_wimfs_mounts_before": sorted(foreign_before),
        "foreign_wimfs_mounts_after": sorted(foreign_after),
        "errors": errors,
        "retried_trials": RETRIED,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.json}")
    if not left and not errors and not args.keep:
        dism.shutdown()   # closes the engine's log inside the state directory
        shutil.rmtree(STATE_DIR, ignore_errors=True)
    else:
        log(f"kept DISM_STATE_DIR {STATE_DIR} (engine log in logs/dism.log)")
    return 1 if (errors or left) else 0


if __name__ == "__main__":
    sys.exit(main())
