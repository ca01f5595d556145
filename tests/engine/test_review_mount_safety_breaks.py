"""Review of the issue 9 mount-safety engine (state.c, registry.c, mountlist.c,
mount.c, mountd.c): reproductions of defects found by attacking it.  Each test
states what should happen; on the reviewed commit they FAIL.

Run as root with FUSE:  python -m pytest -q -p no:cacheprovider
tests/engine/test_review_mount_safety_breaks.py
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import dism
from support import STATE_DIR, registry_entry, wimfs_mounts

pytestmark = pytest.mark.usefixtures("fuse")

GRACE = 61  # mountlist.c spares staging directories younger than 60 s


def py(code: str, state: Path | None = None, prefix: list[str] | None = None,
       timeout: float = 120, **env) -> subprocess.CompletedProcess:
    e = {**os.environ, **env}
    if state is not None:
        e["DISM_STATE_DIR"] = str(state)
    return subprocess.run((prefix or []) + [sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, env=e, timeout=timeout)


def age(path: Path, seconds: int = GRACE) -> None:
    """The staging directory as it is `seconds` after the mount was made
    (cleanup looks only at its mtime, which nothing inside the mount changes)."""
    t = time.time() - seconds
    os.utime(path, (t, t))


def servers_of(mount_dir: Path) -> list[int]:
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd[0].endswith(b"dism-mountd") and str(mount_dir).encode() in cmd:
                pids.append(int(p.name))
    return pids


def kill_servers(mount_dir: Path) -> None:
    for pid in servers_of(mount_dir):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    for point in wimfs_mounts():
        if point == str(mount_dir):
            subprocess.run(["umount", "-l", point], check=False)


# ---------------------------------------------------------------------------
# 1. Cleanup deletes the staging data of live read-write mounts it has no
#    record of (orphan-staging sweep trusts "no record in my registry").
# ---------------------------------------------------------------------------

KILL_BEFORE_RECORD_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
/* SIGKILLs the caller as it stores the mount record: the server already runs. */
int rename(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (n > 6 && !strcmp(b + n - 6, ".mount"))
        raise(SIGKILL);
    int (*real)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    return real(a, b);
}
"""


def test_cleanup_spares_a_live_mount_whose_caller_died_before_recording_it(sample_wim,
                                                                          tmp_path):
    shim_c = tmp_path / "killrec.c"
    shim_c.write_text(KILL_BEFORE_RECORD_C)
    shim = tmp_path / "killrec.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(shim_c), "-ldl"], check=True)
    d = tmp_path / "mnt"
    d.mkdir()
    r = py(f"import dism; dism.mount({str(sample_wim)!r}, {str(d)!r}, index=1)",
           LD_PRELOAD=str(shim))
    try:
        assert r.returncode == -signal.SIGKILL, r.stderr
        assert str(d) in wimfs_mounts()  # the mount lives on, unrecorded
        (d / "Windows" / "mine.txt").write_text("keep me")
        staging_root = STATE_DIR / "scratch" / "dism-staging"
        (staging,) = list(staging_root.iterdir())
        age(staging)
        dism.cleanup_mountpoints()
        assert staging.is_dir(), "cleanup deleted the staging data of a live mount"
        assert (d / "Windows" / "mine.txt").read_text() == "keep me"
        dism.unmount(d, commit=True)
        assert "mine.txt" in subprocess.run(["wimlib-imagex", "dir", str(sample_wim), "1"],
                                            capture_output=True, text=True).stdout
    finally:
        if str(d) in wimfs_mounts():
            dism.unmount(d, commit=False)
        for f in (STATE_DIR / "mounts").iterdir():
            if f.name.endswith(".tmp"):
                f.unlink()


def test_cleanup_with_another_state_dir_spares_mounts_sharing_the_scratch_dir(sample_wim,
                                                                              tmp_path):
    """Two DISM_STATE_DIRs (two CI jobs, root and a DISM_STATE_DIR override)
    given the same scratch directory."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)
    d = tmp_path / "mnt"
    d.mkdir()
    init = f"import dism; dism.initialize(scratch_dir={str(scratch)!r})\n"
    r = py(init + f"dism.mount({str(sample_wim)!r}, {str(d)!r}, index=1)", tmp_path / "s1")
    assert r.returncode == 0, r.stderr
    try:
        (d / "Windows" / "mine.txt").write_text("keep me")
        (staging,) = list((scratch / "dism-staging").iterdir())
        age(staging)
        r = py(init + "dism.cleanup_mountpoints()", tmp_path / "s2")
        assert r.returncode == 0, r.stderr
        assert staging.is_dir(), "another registry's cleanup deleted a live mount's staging"
        r = py(init + f"dism.unmount({str(d)!r}, commit=True)", tmp_path / "s1")
        assert r.returncode == 0, r.stderr
    finally:
        if str(d) in wimfs_mounts():
            py(init + f"dism.unmount({str(d)!r}, commit=False)", tmp_path / "s1")


def test_a_state_dir_path_with_dot_dot_keeps_its_records_readable(sample_wim, tmp_path):
    """DISM_STATE_DIR=$PWD/../state: the state dir is accepted, every
    read-write record it writes is then rejected as malformed (staging_dir
    holds "/../"), so the mount is unprotected and its record never removed."""
    state = tmp_path / "x" / ".." / "state"
    d = tmp_path / "mnt"
    d.mkdir()
    r = py(f"""
        import dism, os
        m = dism.mount({str(sample_wim)!r}, {str(d)!r}, index=1)
        print(os.listdir({str(tmp_path / 'state' / 'mounts')!r}))
        m.unmount(commit=False)
        print(os.listdir({str(tmp_path / 'state' / 'mounts')!r}))
    """, state)
    try:
        assert r.returncode == 0, r.stderr
        during, after = r.stdout.splitlines()
        assert during != "[]"
        assert after == "[]", f"record left behind after a successful unmount: {after}"
        assert "malformed" not in (tmp_path / "state" / "logs" / "dism.log").read_text()
    finally:
        if str(d) in wimfs_mounts():
            dism.unmount(d, commit=False)


# ---------------------------------------------------------------------------
# 2. A process that cannot read the boot id takes every mount for one of an
#    earlier boot and releases it, live or not.
# ---------------------------------------------------------------------------

def test_cleanup_where_proc_sys_is_hidden_never_releases_live_mounts(sample_wim, tmp_path):
    """systemd's ProcSubset=pid (and sandboxes that hide /proc/sys): the boot
    id reads as "" and differs from every record's."""
    area = tmp_path / "area"
    d = area / "mnt"
    d.mkdir(parents=True)
    with dism.mount(sample_wim, d, index=1) as m:
        (d / "Windows" / "mine.txt").write_text("keep me")
        staging = Path(registry_entry(d)["staging_dir"])
        script = ("mount -t proc -o subset=pid proc /proc && exec "
                  f"{sys.executable} -c 'import dism; dism.cleanup_mountpoints()'")
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            script], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ))
        assert r.returncode == 0, r.stderr
        assert staging.is_dir(), "cleanup deleted the staging data of a live mount"
        assert m.status == dism.MountStatus.OK
        assert (d / "Windows" / "mine.txt").read_text() == "keep me"


# ---------------------------------------------------------------------------
# 3. Namespaces: mounts made in a pid or mount namespace that has ended.
# ---------------------------------------------------------------------------

def test_a_mount_whose_pid_namespace_ended_can_be_cleaned_up(sample_wim, tmp_path):
    """`unshare --pid --fork` (a container whose init is the script): when
    the script exits the kernel kills the server.  From the host the record
    says OK for ever: unmount fails, cleanup leaves it, the directory cannot
    be mounted again, remount reports success without mounting anything."""
    d = tmp_path / "mnt"
    d.mkdir()
    r = py(f"import dism; dism.mount({str(sample_wim)!r}, {str(d)!r}, index=1)",
           prefix=["unshare", "--pid", "--fork"])
    assert r.returncode == 0, r.stderr
    try:
        time.sleep(0.5)
        assert servers_of(d) == []  # the namespace took its server with it
        dism.cleanup_mountpoints()
        statuses = [i.status for i in dism.get_mounted_images() if i.mount_path == str(d)]
        assert statuses in ([], [dism.MountStatus.NEEDS_REMOUNT]), statuses
        with dism.mount(sample_wim, d, index=1, read_only=True):
            assert (d / "Windows").is_dir()
    finally:
        for f in (STATE_DIR / "mounts").glob("*.mount"):
            if f"mount_path={d}\n" in f.read_text():
                f.unlink()
        kill_servers(d)


def test_a_mount_left_in_an_ended_mount_namespace_can_be_ended(sample_wim, tmp_path):
    """`unshare --mount` (a PrivateTmp= service) mounts and exits: the server
    keeps the namespace alive, unreachable by anyone.  DISM offers no way to
    end it: unmount says "unmount it from there" (nobody is there), cleanup
    leaves it, the WIM stays locked read-write and the path stays refused."""
    area = tmp_path / "area"
    d = area / "mnt"
    d.mkdir(parents=True)
    r = py(f"import dism; dism.mount({str(sample_wim)!r}, {str(d)!r}, index=1)",
           prefix=["unshare", "--mount", "--propagation", "private"])
    assert r.returncode == 0, r.stderr
    try:
        assert servers_of(d)
        dism.cleanup_mountpoints()
        try:
            dism.unmount(d, commit=False)
        except dism.DismError as e:
            message = e.message
        else:
            message = ""
        assert servers_of(d) == [], f"no way to end the mount: {message}"
    finally:
        kill_servers(d)
        dism.cleanup_mountpoints()


# ---------------------------------------------------------------------------
# 4. Locks keyed by path text: two names of one directory take two locks.
# ---------------------------------------------------------------------------

def test_two_names_of_one_directory_never_get_two_mounts(sample_wim, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    other = tmp_path / "other.wim"
    shutil.copyfile(sample_wim, other)
    stacked = None
    try:
        for attempt in range(30):
            ok = []

            def go(wim, path):
                try:
                    dism.mount(wim, path, index=1)
                    ok.append(path)
                except dism.DismError:
                    pass

            ts = [threading.Thread(target=go, args=(sample_wim, real)),
                  threading.Thread(target=go, args=(other, link))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            if len(ok) == 2:
                stacked = attempt
                break
            for p in ok:
                dism.unmount(p, commit=False)
        assert stacked is None, (f"attempt {stacked}: both mounts succeeded, stacked on one "
                                 f"directory: {wimfs_mounts().count(str(real))} wimfs mounts")
    finally:
        for _ in range(3):
            for p in (link, real):
                try:
                    dism.unmount(p, commit=False)
                except dism.DismError:
                    pass
        kill_servers(real)
        for f in (STATE_DIR / "mounts").glob("*.mount"):
            f.unlink()


# ---------------------------------------------------------------------------
# 5. Hangs: flock inherited by fork(); re-entry from a progress callback.
# ---------------------------------------------------------------------------

def test_a_forked_child_does_not_hold_the_mount_directory_lock(sample_wim, tmp_path):
    d = tmp_path / "mnt"
    d.mkdir()
    r = py(f"""
        import dism, time, multiprocessing as mp
        def worker():
            time.sleep(12)
        kids = []
        def progress(cur, total):
            # a pipeline starting a worker pool while a mount is being made
            if cur == total and not kids:
                p = mp.get_context("fork").Process(target=worker); p.start(); kids.append(p)
        m = dism.mount({str(sample_wim)!r}, {str(d)!r}, index=1, read_only=True,
                       progress=progress)
        t = time.monotonic()
        m.unmount(commit=False)
        print(round(time.monotonic() - t, 1))
        kids[0].terminate()
    """)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) < 5, f"unmount waited {r.stdout.strip()} s for a forked child"


def test_a_progress_callback_that_remounts_does_not_deadlock(sample_wim, tmp_path):
    d = tmp_path / "mnt"
    d.mkdir()
    try:
        r = py(f"""
            import dism
            def progress(cur, total):
                if cur == total:
                    try:
                        dism.remount({str(d)!r})
                    except dism.DismError as e:
                        print(type(e).__name__)
            m = dism.mount({str(sample_wim)!r}, {str(d)!r}, index=1, read_only=True,
                           progress=progress)
            m.unmount(commit=False)
            print("done")
        """, timeout=30)
        assert r.returncode == 0, r.stderr
    except subprocess.TimeoutExpired:
        pytest.fail("mount() whose progress callback calls remount() on the same directory "
                    "hangs for ever (the directory lock is held across the callback)")
    finally:
        if str(d) in wimfs_mounts():
            dism.unmount(d, commit=False)
