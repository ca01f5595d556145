"""Mount plumbing shared by the mount and thread benchmarks.

Every mount point the benchmarks create is registered here, so that
`cleanup()` can take down whatever a failed trial left behind - and only that:
mounts made by anything else on the machine are never touched.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator, List, Optional, Set

from _timing import log

WIMLIB_IMAGEX = shutil.which("wimlib-imagex")

_our_mount_points: Set[str] = set()


# --- the kernel's view -------------------------------------------------------

def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) + 1 and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def wimfs_mounts() -> List[str]:
    """Mount points of every wimfs (wimlib FUSE) file system in this namespace."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            if "wimfs" not in line:
                continue
            fields = line.split()
            points.append(_unescape(fields[4]))
    return points


def is_mounted(path: str) -> bool:
    return os.path.realpath(path) in wimfs_mounts()


def server_pids(mount_point: str) -> List[int]:
    """PIDs whose command line names `mount_point`: the dism-mountd or
    `wimlib-imagex mount[rw]` daemon serving it."""
    target = os.fsencode(os.path.realpath(mount_point))
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if target in argv:
            found.append(int(entry))
    return found


def cpus_allowed(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Cpus_allowed_list:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU seconds of a process (all its threads), or None if it
    is gone.  An exited server stays readable while it is an unreaped zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK   # utime, stime


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_teardown(mount_point: str, pids: List[int], timeout: float = 30.0) -> None:
    """Wait until the servers in `pids` are gone and nothing is mounted at
    `mount_point` (what dism's unmount waits for before it returns)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not any(_alive(p) for p in pids) and not is_mounted(mount_point):
            return
        time.sleep(0.0005)
    raise TimeoutError(f"the server of {mount_point} did not go away in {timeout} s")


# --- our mount points ----------------------------------------------------------

def new_mount_point(parent: Path, name: str) -> str:
    path = parent / name
    path.mkdir(parents=True, exist_ok=True)
    real = os.path.realpath(path)
    _our_mount_points.add(real)
    return real


def reset_mount_point(path: str) -> None:
    """Make one of our mount points an empty directory again.  If another
    process unmounted it behind our back, files written "into the image"
    landed in the directory itself, and the next mount would refuse it."""
    if path not in _our_mount_points or is_mounted(path):
        return
    for entry in os.listdir(path):
        target = os.path.join(path, entry)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        else:
            os.unlink(target)


def wimlib(*args: str) -> None:
    """Runs wimlib-imagex with an argument list; raises with its stderr on failure."""
    if WIMLIB_IMAGEX is None:
        raise RuntimeError("wimlib-imagex not found (Debian package: wimtools)")
    result = subprocess.run([WIMLIB_IMAGEX, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if result.returncode:
        raise RuntimeError(f"wimlib-imagex {' '.join(args)} failed ({result.returncode}): "
                           f"{result.stderr.decode(errors='replace').strip()}")


def force_unmount(mount_point: str) -> None:
    """Best-effort discard of whatever is mounted at one of *our* mount points."""
    import dism
    if not is_mounted(mount_point):
        return
    pids = server_pids(mount_point)
    for attempt in ("dism", "wimlib", "fusermount"):
        try:
            if attempt == "dism":
                dism.unmount(mount_point, commit=False)
            elif attempt == "wimlib":
                wimlib("unmount", mount_point)
            else:
                subprocess.run(["fusermount", "-u", "-z", mount_point], check=False,
                               capture_output=True)
        except Exception as error:  # try the next way
            log(f"  cleanup: {attempt} unmount of {mount_point} failed: {error}")
        try:
            wait_teardown(mount_point, pids, timeout=10)
        except TimeoutError:
            pass
        if not is_mounted(mount_point):
            return


def cleanup() -> List[str]:
    """Unmount every mount point of ours that is still mounted; return what is
    left mounted afterwards (should be nothing)."""
    for point in sorted(_our_mount_points):
        if is_mounted(point):
            log(f"  cleanup: {point} was still mounted")
            force_unmount(point)
    return [p for p in sorted(_our_mount_points) if is_mounted(p)]


def our_mount_points() -> Set[str]:
    return set(_our_mount_points)


# --- misc ---------------------------------------------------------------------------

@contextlib.contextmanager
def thread_affinity(cpus: Optional[Set[int]]) -> Iterator[None]:
    """Pin the *calling thread* to `cpus` for the block (None: leave it alone).
    Threads and processes started meanwhile (a mount server) inherit it."""
    if cpus is None:
        yield
        return
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def write_file(path: str, data: bytes, chunk: int = 1 << 20) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    view = memoryview(data)
    with open(path, "wb") as f:
        for start in range(0, len(data), chunk):
            f.write(view[start:start + chunk])


def fresh_copy(source: Path, dest: Path) -> str:
    """An identical copy of the WIM for one trial, so commits never compound."""
    dest.unlink(missing_ok=True)
    shutil.copyfile(source, dest)
    return str(dest)


class SideBySide:
    """What the mount benchmarks (bench_mount, bench_threads) set up the same
    way: one mount point for dism and one for wimlib-imagex under `workdir`,
    a fresh copy of the base WIM for each trial, and `data` to write as the
    file PAYLOAD inside a read-write mount.  PREFIX keeps each benchmark's
    scratch names apart."""

    PREFIX = "side"
    PAYLOAD = "payload.bin"

    def __init__(self, base_wim: Path, workdir: Path, data: bytes) -> None:
        self.base = base_wim
        self.work = workdir
        self.data = data
        self.dism_dir = new_mount_point(workdir, f"{self.PREFIX}-dism")
        self.wimlib_dir = new_mount_point(workdir, f"{self.PREFIX}-wimlib")

    def _copy(self, side: str) -> str:
        reset_mount_point(self.dism_dir)
        reset_mount_point(self.wimlib_dir)
        return fresh_copy(self.base, self.work / f"{self.PREFIX}-{side}.wim")

    def _fill(self, mount_dir: str) -> None:
        write_file(os.path.join(mount_dir, "bench", self.PAYLOAD), self.data)
