"""Concurrency: cleanup_mountpoints() racing mounts and unmounts (issue 9
item 1) and the mount registry used by many threads at once (item 2).

A mount that mount() returned is healthy until its owner unmounts it:
cleanup, from another thread or another process, must never detach it.
Registry records live only in <state>/mounts and none outlives a successful
unmount."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from pathlib import Path

import pytest

import dism

from support import STATE_DIR, record_for, wimfs_mounts
from support import race_worker
from support.race_worker import Tally, cleanup_loop, mount_loop
from support.stress import force_release, is_served, read_from_wim

RACE_SECONDS = float(os.environ.get("STRESS_RACE_SECONDS", "30"))
WORKER = Path(race_worker.__file__)


def start_worker(*args: str) -> subprocess.Popen:
    package_root = str(Path(dism.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": package_root}
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def worker_tally(proc: subprocess.Popen, timeout: float) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def run_threads(targets, tally: Tally) -> None:
    def guarded(target):
        try:
            target()
        except BaseException:  # an unexpected exception is a failure, not a warning
            tally.fail(traceback.format_exc())

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(RACE_SECONDS + 120)
        assert not t.is_alive(), "a race thread hung"


@pytest.mark.usefixtures("fuse")
def test_cleanup_never_detaches_a_healthy_mount(sample_wim, tmp_path, figures):
    deadline = time.monotonic() + RACE_SECONDS
    tally = Tally()
    other_mounts = start_worker("mount", str(RACE_SECONDS), str(sample_wim),
                                str(tmp_path / "proc"), "99")
    other_cleanup = start_worker("cleanup", str(RACE_SECONDS))
    run_threads([lambda i=i: mount_loop(sample_wim, tmp_path / f"thread{i}", deadline, tally,
                                        seed=i) for i in range(2)]
                + [lambda: cleanup_loop(deadline, tally)] * 2, tally)
    proc_mounts = worker_tally(other_mounts, 120)
    proc_cleanup = worker_tally(other_cleanup, 120)
    failures = tally.failures + proc_mounts["failures"] + proc_cleanup["failures"]
    checked = tally.mounts + proc_mounts["mounts"]
    figures["cleanup race: mounts checked"] = checked
    figures["cleanup race: cleanups run"] = tally.cleanups + proc_cleanup["cleanups"]
    figures["cleanup race: failures"] = len(failures)
    assert checked > 0
    assert not failures, f"{len(failures)} failure(s) in {checked} mounts:\n" + \
        "\n".join(failures[:40])


def stray_entries(directory: Path, before: set[str]) -> set[str]:
    return set(os.listdir(directory)) - before


@pytest.mark.usefixtures("fuse")
def test_registry_under_many_threads(sample_wim, tmp_path, figures, monkeypatch):
    # A torn shared path buffer once wrote records into "/" (as root) or the
    # current directory: both are watched, and every record must be gone
    # once its mount was unmounted.
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    root_before = set(os.listdir("/"))
    records_before = set((STATE_DIR / "mounts").glob("*.mount"))
    deadline = time.monotonic() + RACE_SECONDS * 2 / 3
    tally = Tally()
    run_threads([lambda i=i: mount_loop(sample_wim, tmp_path / f"t{i}", deadline, tally,
                                        seed=100 + i, state_dir=STATE_DIR, list_too=True)
                 for i in range(8)], tally)
    leftovers = sorted(p.name for p in set((STATE_DIR / "mounts").glob("*.mount")) - records_before)
    in_root = stray_entries(Path("/"), root_before)
    in_cwd = stray_entries(workdir, set())
    figures["registry race: mounts by 8 threads"] = tally.mounts
    figures["registry race: failures"] = len(tally.failures)
    assert tally.mounts > 0
    assert not in_root, f"files appeared in /: {sorted(in_root)}"
    assert not in_cwd, f"files appeared in the working directory: {sorted(in_cwd)}"
    assert not leftovers, f"records left behind in {STATE_DIR / 'mounts'}: {leftovers}"
    assert not tally.failures, "\n".join(tally.failures[:40])
    assert not [p for p in wimfs_mounts() if p.startswith(str(tmp_path))]


CLEANUP_IN_OTHER_NAMESPACE = textwrap.dedent("""
    import dism
    dism.cleanup_mountpoints()
    print([(m.mount_path, m.status.name) for m in dism.get_mounted_images()])
""")


@pytest.mark.usefixtures("fuse")
def test_cleanup_from_another_mount_namespace_keeps_a_live_mount(sample_wim, tmp_path):
    # Like a container or a unit with PrivateTmp= sharing the state dir: its
    # mount namespace was made before the mount, so there the directory is
    # empty and the mount looks dead, although it is alive here.
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    package_root = str(Path(dism.__file__).resolve().parents[1])
    other = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'echo ready && read go && exec "$1" -c "$2"', "sh", sys.executable,
         CLEANUP_IN_OTHER_NAMESPACE],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": package_root})
    assert other.stdout.readline().strip() == "ready", other.stderr.read()
    mounted = dism.mount(sample_wim, mnt, index=1)
    try:
        (mnt / "change.txt").write_text("kept")
        staging = record_for(mnt)["staging_dir"]
        out, err = other.communicate("go\n", timeout=120)
        assert other.returncode == 0, err
        assert is_served(mnt), "cleanup in another namespace detached the mount"
        assert record_for(mnt) is not None, \
            f"cleanup in another namespace dropped the record (it saw {out.strip()})"
        assert staging and os.path.isdir(staging), \
            "cleanup in another namespace deleted the live mount's staging data"
        mounted.unmount(commit=True)
        assert read_from_wim(sample_wim, 1, "/change.txt") == b"kept"
    finally:
        if other.poll() is None:
            other.kill()
        force_release(mnt)
