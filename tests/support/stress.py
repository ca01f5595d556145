"""What the reliability battery (tests/stress) shares: WIM content checks
with wimlib-imagex, the mount server of a mount, POSIX message queues, and a
second user.  The engine's mount records are support's own (record_for)."""
from __future__ import annotations

import errno
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import dism
from support import record_for, wimfs_mounts

SECOND_USER = "dismstress"


def verify_wim(path: Path) -> None:
    run = subprocess.run(["wimlib-imagex", "verify", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, f"wimlib-imagex verify {path} failed:\n{run.stdout}{run.stderr}"


def read_from_wim(wim: Path, index: int, inner: str) -> bytes | None:
    """The bytes of one file of the image, or None when the image lacks it."""
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(["wimlib-imagex", "extract", str(wim), str(index), inner,
                              f"--dest-dir={out}", "--no-acls"], capture_output=True)
        if run.returncode != 0:
            return None
        return (Path(out) / Path(inner).name).read_bytes()


def server_pid(mount_dir: Path) -> int:
    """The pid of the dism-mountd serving mount_dir: from the registry, else
    from /proc (a process whose command line names the directory)."""
    rec = record_for(mount_dir)
    if rec and int(rec.get("server_pid", "0")) > 0:
        return int(rec["server_pid"])
    wanted = os.path.realpath(mount_dir).encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"dism-mountd") and wanted in argv:
            return int(pid)
    raise AssertionError(f"no mount server found for {mount_dir}")


def is_stale(mount_dir: Path) -> bool:
    try:
        os.stat(mount_dir)
    except OSError as e:
        return e.errno == errno.ENOTCONN
    return False


def is_served(mount_dir: Path) -> bool:
    """mount_dir is a wimfs mount that answers."""
    if os.path.realpath(mount_dir) not in wimfs_mounts():
        return False
    try:
        os.listdir(mount_dir)
        return True
    except OSError:
        return False


def mounted_info(mount_dir: Path):
    wanted = os.path.realpath(mount_dir)
    return next((m for m in dism.get_mounted_images()
                 if os.path.realpath(m.mount_path) == wanted), None)


def force_release(mount_dir: Path) -> None:
    """Last-resort cleanup so one failure does not cascade."""
    if os.path.realpath(mount_dir) in wimfs_mounts():
        try:
            dism.unmount(mount_dir, commit=False)
        except dism.DismError:
            subprocess.run(["umount", "-l", str(mount_dir)], check=False)


def ensure_second_user() -> pwd.struct_passwd:
    """A second, unprivileged user: created when missing.  Outside CI a
    machine where it cannot be created skips the test; in CI it fails."""
    try:
        return pwd.getpwnam(SECOND_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    problem = None
    if os.geteuid() != 0:
        problem = "creating a second user needs root"
    elif not useradd:
        problem = "useradd is not installed"
    else:
        run = subprocess.run([useradd, "--system", "--no-create-home", "--shell",
                              "/usr/sbin/nologin", SECOND_USER], capture_output=True, text=True)
        if run.returncode not in (0, 9):  # 9: created meanwhile
            problem = f"useradd failed: {run.stderr.strip()}"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"a second user is required in CI: {problem}")
        pytest.skip(problem)
    return pwd.getpwnam(SECOND_USER)


class MessageQueues:
    """POSIX message queues of this IPC namespace, through an mqueue file
    system (the system's /dev/mqueue, or one mounted for the test)."""

    def __init__(self) -> None:
        self._mounted: Path | None = None
        self.root = self._find_or_mount()

    @staticmethod
    def _mqueue_mounts() -> list[str]:
        with open("/proc/self/mountinfo") as f:
            return [line.split()[4] for line in f if " - mqueue " in line]

    def _find_or_mount(self) -> Path:
        existing = self._mqueue_mounts()
        if existing:
            return Path(existing[0])
        where = Path(tempfile.mkdtemp(prefix="dism-mqueue-"))
        run = subprocess.run(["mount", "-t", "mqueue", "mqueue", str(where)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            where.rmdir()
            problem = f"cannot mount an mqueue file system: {run.stderr.strip()}"
            if os.environ.get("CI"):
                pytest.fail(problem)
            pytest.skip(problem)
        self._mounted = where
        return where

    def wimlib_queues(self) -> set[str]:
        return {name for name in os.listdir(self.root) if name.startswith("wimfs-")}

    def close(self) -> None:
        if self._mounted:
            subprocess.run(["umount", str(self._mounted)], check=False)
            self._mounted.rmdir()
