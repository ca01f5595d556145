"""What the test files share: the one home of the suite's helpers (fixtures and
hooks stay in the conftest.py files; no test module imports another).

This module: the isolated state directory, the repository's paths, the
machine's wimlib FUSE mounts and the engine's records of them, and fresh
interpreters.  Its submodules, each for one kind of test:

- support.cli: running the command line in-process;
- support.cprograms: building C programs against the engine (gcc, ASan+UBSan);
- support.hives: independent readers of hives (libhivex) and WIM XML;
- support.sanitizer: the extension rebuilt under ASan+UBSan;
- support.stress: mount servers, message queues and a second user, for the
  reliability battery (tests/stress);
- support.windows: the Windows check's view of DISM mounts and elevation;
- support.wintools: the cross tools of the Windows build checks (mingw-w64, LLVM);
- support.race_worker, support.bad_inputs: programs the stress tests run in
  child processes (also imported for their tables).

tests/ is on sys.path through pyproject's pytest `pythonpath`, so this is
`import support`; the test modules themselves are imported in importlib mode
(unique names from their paths), so two test files may share a basename.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import pytest

# The engine reads DISM_STATE_DIR when DISM is initialized, once per process:
# set it before anything imports dism, so the tests never touch the
# machine-wide registry of mounts.  tests/conftest.py imports this module
# before dism for that reason; it removes the directory at the end.
STATE_DIR = Path(tempfile.mkdtemp(prefix="dism-test-state-"))
os.environ["DISM_STATE_DIR"] = str(STATE_DIR)

import dism  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED_REAL = REPO.parent / "shared" / "testdata" / "real"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    """A missing tool skips on a developer machine; in CI it is a failure,
    so a broken runner cannot turn the suite green by skipping."""
    if in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


# --- what the suite runs against ------------------------------------------------------

def installed_copy_problem() -> str | None:
    """Why the dism under test is not an installed copy (a wheel in this
    interpreter's site-packages), or None when it is."""
    site_dirs = {Path(sysconfig.get_path(key)).resolve() for key in ("purelib", "platlib")}
    for module in (dism, dism._dism):
        path = Path(module.__file__).resolve()
        if path.is_relative_to(REPO):
            return f"{module.__name__} was imported from the source tree: {path}"
        if not any(path.is_relative_to(site) for site in site_dirs):
            return f"{module.__name__} is not installed in {sorted(map(str, site_dirs))}: {path}"
    return None


def fuse_problem() -> str | None:
    """Why FUSE mounts cannot work here, or None when they can."""
    if not shutil.which("wimlib-imagex"):
        return "wimlib-imagex (Debian package wimtools) is not installed"
    try:
        st = os.stat("/dev/fuse")
    except OSError:
        return "/dev/fuse does not exist"
    if not stat.S_ISCHR(st.st_mode):
        return "/dev/fuse is not a character device"
    if os.geteuid() != 0 and not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "no access to /dev/fuse"
    return None


# --- files and processes --------------------------------------------------------------

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter sharing this session's state dir."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


# --- mounts: the kernel's table and the engine's records ------------------------------

def wimfs_mounts() -> list[str]:
    """The wimlib FUSE mounts of this machine (none where there is no
    /proc/self/mountinfo: Windows mounts are tests/windows' concern)."""
    points = []
    if not os.path.exists("/proc/self/mountinfo"):
        return points
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if " - fuse.wimfs " in line:
                points.append(fields[4].replace("\\040", " "))
    return points


def is_mounted(path) -> bool:
    """Whether DISM lists a mount at exactly this path."""
    return any(m.mount_path == str(path) for m in dism.get_mounted_images())


def records() -> list[dict]:
    """The engine's registry records in this process's state directory."""
    found = []
    for f in (STATE_DIR / "mounts").glob("*.mount"):
        try:
            text = f.read_text()
        except FileNotFoundError:
            continue
        found.append(dict(line.split("=", 1) for line in text.splitlines() if "=" in line))
    return found


def record_for(mount_dir: Path) -> dict | None:
    """The engine's registry record of the mount at mount_dir, or None."""
    wanted = os.path.realpath(mount_dir)
    return next((r for r in records() if r.get("mount_path") == wanted), None)


def registry_entry(mount_dir: Path) -> dict:
    """The engine's registry record of the mount at mount_dir, which must exist."""
    entry = record_for(mount_dir)
    if entry is None:
        raise AssertionError(f"no registry entry for {mount_dir}")
    return entry


def kill_server(mount_dir: Path) -> None:
    """SIGKILLs the mount's dism-mountd and waits until the mount is stale."""
    pid = int(registry_entry(mount_dir)["server_pid"])
    assert pid > 0
    os.kill(pid, signal.SIGKILL)
    # The kernel aborts the FUSE connection once the killed server's last
    # file is closed; on a loaded machine that has taken over 3 s.
    for _ in range(1000):
        try:
            os.stat(mount_dir)
        except OSError as e:
            if e.errno == errno.ENOTCONN:
                return
        time.sleep(0.01)
    raise AssertionError("the mount did not go stale")
