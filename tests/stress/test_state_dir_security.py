"""State-directory security (issue 9 item 4, the battery's part f).

A state directory that someone else owns, or that others can write, is
refused with a typed error naming DISM_STATE_DIR; and registry records,
even forged ones that look like the engine's own, never make the engine
delete or detach anything it did not create itself."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

import dism

from support import STATE_DIR, wimfs_mounts
from support.stress import ensure_second_user, force_release, is_served

DEAD_PID = 4194303  # above the kernel's largest pid_max: never a live process

MOUNT_WITH_STATE = textwrap.dedent("""
    import sys
    import dism
    wim, mnt = sys.argv[1], sys.argv[2]
    try:
        with dism.mount(wim, mnt, index=1, read_only=True):
            print("mounted")
    except dism.DismError as e:
        print("refused", type(e).__name__, e.hresult is not None, e.message)
""")


def mount_with_state_dir(state: Path, wim: Path, mnt: Path) -> str:
    env = {**os.environ, "DISM_STATE_DIR": str(state)}
    run = subprocess.run([sys.executable, "-c", MOUNT_WITH_STATE, str(wim), str(mnt)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


@pytest.fixture
def shared_parent():
    """A directory the second user can create things in."""
    parent = Path(tempfile.mkdtemp(prefix="dism-stress-shared-"))
    parent.chmod(0o1777)
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


def assert_refused(outcome: str, state: Path) -> None:
    assert outcome.startswith("refused"), f"the engine used {state}: {outcome}"
    assert "DISM_STATE_DIR" in outcome, outcome
    assert " True " in outcome, f"no HRESULT: {outcome}"


@pytest.mark.usefixtures("fuse")
def test_a_state_dir_owned_by_another_user_is_refused(sample_wim, mount_dir, shared_parent):
    user = ensure_second_user()
    state = shared_parent / "state"
    made = subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                           "--clear-groups", "mkdir", "-m", "0700", str(state)],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert state.stat().st_uid == user.pw_uid
    outcome = mount_with_state_dir(state, sample_wim, mount_dir)
    assert_refused(outcome, state)
    assert os.listdir(state) == [], "the engine wrote into a foreign state directory"
    assert str(mount_dir) not in wimfs_mounts()


@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777, 0o720, 0o702], ids=oct)
def test_a_state_dir_others_can_write_is_refused(sample_wim, mount_dir, tmp_path, mode):
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(mode)
    outcome = mount_with_state_dir(state, sample_wim, mount_dir)
    assert_refused(outcome, state)
    assert str(mount_dir) not in wimfs_mounts()


def forge_record(**fields) -> Path:
    """A registry record that looks like the engine's own."""
    rid = str(uuid.uuid4())
    record = {"id": rid, "image_index": "1", "read_only": "0", "server_pid": str(DEAD_PID),
              "owner_pid": str(DEAD_PID), "created": str(int(time.time()) - 3600), **fields}
    path = STATE_DIR / "mounts" / f"{rid}.mount"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in record.items()))
    return path


@pytest.fixture
def victim(tmp_path) -> Path:
    """A directory the engine did not create, with something in it."""
    d = tmp_path / "victim"
    d.mkdir()
    (d / "precious").write_text("must survive")
    return d


RELEASES = {
    "cleanup": lambda mnt: dism.cleanup_mountpoints(),
    "unmount-discard": lambda mnt: dism.unmount(mnt, commit=False),
    "remount": lambda mnt: dism.remount(mnt),
}


@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("release", sorted(RELEASES))
def test_a_forged_staging_dir_is_never_deleted(sample_wim, mount_dir, victim, release):
    record = forge_record(mount_path=os.path.realpath(mount_dir), wim_path=str(sample_wim),
                          staging_dir=str(victim))
    try:
        try:
            RELEASES[release](mount_dir)
        except dism.DismError:
            pass  # refusing is fine; deleting is not
        assert (victim / "precious").read_text() == "must survive", \
            f"{release} deleted {victim}, named as staging by a forged record"
    finally:
        record.unlink(missing_ok=True)
        force_release(mount_dir)


@pytest.fixture
def foreign_wimfs_mount(sample_wim, tmp_path):
    """A live read-only WIM mount made with wimlib-imagex, not the engine."""
    mnt = tmp_path / "foreign"
    mnt.mkdir()
    subprocess.run(["wimlib-imagex", "mount", str(sample_wim), "1", str(mnt)], check=True,
                   capture_output=True)
    yield mnt
    if os.path.realpath(mnt) in wimfs_mounts():
        subprocess.run(["wimlib-imagex", "unmount", str(mnt)], check=False, capture_output=True)


@pytest.fixture
def foreign_bind_mount(tmp_path):
    """A live bind mount: not a WIM at all."""
    source, target = tmp_path / "bind-src", tmp_path / "bind"
    source.mkdir()
    target.mkdir()
    (source / "kept").write_text("kept")
    subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
    yield target
    subprocess.run(["umount", str(target)], check=False)


def bind_mounted(path: Path) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == os.path.realpath(path) for line in f)


@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("release", ["cleanup", "remount"])
def test_a_forged_record_never_detaches_a_foreign_wim_mount(sample_wim, foreign_wimfs_mount,
                                                            release):
    record = forge_record(mount_path=os.path.realpath(foreign_wimfs_mount),
                          wim_path=str(sample_wim), staging_dir="", read_only="1")
    try:
        try:
            RELEASES[release](foreign_wimfs_mount)
        except dism.DismError:
            pass
        assert is_served(foreign_wimfs_mount), \
            f"{release} detached a live mount the engine did not make"
    finally:
        record.unlink(missing_ok=True)


@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("release", sorted(RELEASES))
def test_a_forged_record_never_detaches_a_bind_mount(sample_wim, foreign_bind_mount, victim,
                                                     release):
    record = forge_record(mount_path=os.path.realpath(foreign_bind_mount),
                          wim_path=str(sample_wim), staging_dir=str(victim))
    try:
        try:
            RELEASES[release](foreign_bind_mount)
        except dism.DismError:
            pass
        assert bind_mounted(foreign_bind_mount), f"{release} detached a bind mount"
        assert (foreign_bind_mount / "kept").exists()
        assert (victim / "precious").exists(), f"{release} deleted {victim}"
    finally:
        record.unlink(missing_ok=True)
