"""Mounts are never lost to another caller: cleanup racing with mounts, the
registry under threads, the state directory's ownership, forged records,
mount namespaces, a killed server or caller, split WIMs (issue 9)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

import dism
from support import STATE_DIR, kill_server, registry_entry, run_python, sha256, wimfs_mounts

pytestmark = pytest.mark.usefixtures("fuse")


def status_of(mount_dir):
    wanted = os.path.realpath(mount_dir)
    for info in dism.get_mounted_images():
        if os.path.realpath(info.mount_path) == wanted:
            return info.status
    return None


def records() -> list[Path]:
    return sorted((STATE_DIR / "mounts").glob("*.mount"))


# ---------------------------------------------------------------------------
# Cleanup and mounts at the same time
# ---------------------------------------------------------------------------

def test_cleanup_never_detaches_a_mount_that_was_just_made(sample_wim, tmp_path):
    """Each thread mounts, checks its mount is served, unmounts, over and
    over, on one directory, while cleanup runs in a loop: every mount that
    mount() returned must still be served until its owner unmounts it."""
    stop = threading.Event()
    failures: list[str] = []
    mounts_checked = [0]

    def cleaner():
        while not stop.is_set():
            dism.cleanup_mountpoints()

    def mounter(n):
        d = tmp_path / f"mnt{n}"
        d.mkdir()
        for _ in range(25):
            m = dism.mount(sample_wim, d, index=1, read_only=True)
            try:
                if not (d / "Windows").is_dir():
                    failures.append(f"{d}: mounted image vanished after mount() returned")
                mounts_checked[0] += 1
            finally:
                m.unmount(commit=False)

    threads = [threading.Thread(target=cleaner)] + [
        threading.Thread(target=mounter, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert failures == []
    assert mounts_checked[0] == 75
    assert records() == []


def test_cleanup_in_another_process_spares_live_read_write_mounts(sample_wim, tmp_path):
    d = tmp_path / "mnt"
    d.mkdir()
    with dism.mount(sample_wim, d, index=1) as m:
        (d / "Windows" / "mine.txt").write_text("keep me")
        staging = registry_entry(d)["staging_dir"]
        for _ in range(5):
            r = run_python("import dism; dism.cleanup_mountpoints()")
            assert r.returncode == 0, r.stderr
        assert os.path.isdir(staging)
        assert (d / "Windows" / "mine.txt").read_text() == "keep me"
        assert m.status == dism.MountStatus.OK
    with dism.mount(sample_wim, d, index=1, read_only=True):
        assert (d / "Windows" / "mine.txt").read_text() == "keep me"


# ---------------------------------------------------------------------------
# The registry under threads
# ---------------------------------------------------------------------------

def test_registry_writes_stay_in_the_state_directory_under_threads(sample_wim, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    root_before = set(os.listdir("/"))
    errors: list[BaseException] = []

    def worker(n):
        d = tmp_path / f"m{n}"
        d.mkdir()
        try:
            for _ in range(15):
                with dism.mount(sample_wim, d, index=2, read_only=True):
                    dism.get_mounted_images()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(os.listdir("/")) == root_before
    assert not [p for p in os.listdir(tmp_path) if p.endswith((".mount", ".tmp"))]
    assert records() == []
    leftovers = [p for p in (STATE_DIR / "mounts").iterdir() if p.name.startswith(".")]
    assert leftovers == []


# ---------------------------------------------------------------------------
# The state directory must be this user's alone
# ---------------------------------------------------------------------------

STATE_PROBE = textwrap.dedent("""
    import sys, dism
    print(len(dism.get_image_info(sys.argv[1])))
    try:
        dism.cleanup_mountpoints()
    except dism.DismError as e:
        print(type(e).__name__, hex(e.hresult), e.message)
    else:
        print("accepted")
""")


def probe_state_dir(state: Path, wim: Path, **env) -> list[str]:
    r = subprocess.run([sys.executable, "-c", STATE_PROBE, str(wim)], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "DISM_STATE_DIR": str(state),
                                                   **env})
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


@pytest.mark.parametrize("problem", ["foreign owner", "group writable", "world writable",
                                     "symlink", "file"])
def test_an_unsafe_state_directory_is_refused_but_reading_works(sample_wim, tmp_path, problem):
    state = tmp_path / "state"
    if problem == "symlink":
        (tmp_path / "real").mkdir(mode=0o700)
        state.symlink_to(tmp_path / "real")
    elif problem == "file":
        state.write_text("")
    else:
        state.mkdir(mode=0o700)
        if problem == "foreign owner":
            os.chown(state, 65534, 65534)
        else:
            os.chmod(state, 0o770 if problem == "group writable" else 0o777)
    before = sorted(os.listdir(tmp_path))
    count, outcome = probe_state_dir(state, sample_wim)
    assert count == "3"
    assert " 0x80070005 " in outcome, outcome
    assert "DISM_STATE_DIR" in outcome
    assert sorted(os.listdir(tmp_path)) == before
    if state.is_dir() and not state.is_symlink():
        assert os.listdir(state) == []


def test_a_private_state_directory_is_created_and_accepted(sample_wim, tmp_path):
    state = tmp_path / "new" / "state"
    assert probe_state_dir(state, sample_wim) == ["3", "accepted"]
    assert state.stat().st_mode & 0o777 == 0o700


def test_reading_images_needs_a_state_directory_nobody_can_create(sample_wim, tmp_path):
    """A state directory that cannot be made (here: inside /proc): reading
    works, a call that keeps state says what is wrong and names
    DISM_STATE_DIR."""
    count, outcome = probe_state_dir(Path("/proc/dismapi-state"), sample_wim)
    assert count == "3"
    assert "DISM_STATE_DIR" in outcome and "/proc/dismapi-state" in outcome


def nobody_can_import_dism() -> bool:
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        sys.executable, "-c", "import dism"], capture_output=True, timeout=60)
    return r.returncode == 0


def test_reading_images_needs_no_state_directory(sample_wim, tmp_path):
    """As `nobody`, with no home: get-imageinfo works; mounting says what is
    wrong with the state directory and names DISM_STATE_DIR."""
    if not nobody_can_import_dism():
        pytest.skip("the interpreter under test is private to root (a temporary venv); "
                    "the test above covers an unusable state directory")
    public = Path(tempfile.mkdtemp(prefix="dism-public-"))
    try:
        outcome = read_and_cleanup_as_nobody(sample_wim, public)
    finally:
        shutil.rmtree(public)
    assert "DISM_STATE_DIR" in outcome and "/nonexistent" in outcome


def read_and_cleanup_as_nobody(sample_wim: Path, public: Path) -> str:
    os.chmod(public, 0o755)
    shutil.copyfile(sample_wim, public / "public.wim")
    os.chmod(public / "public.wim", 0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("DISM_STATE_DIR", "XDG_STATE_HOME")}
    env["HOME"] = "/nonexistent"
    code = ("import sys, dism\n"
            "print(len(dism.get_image_info(sys.argv[1])))\n"
            "try:\n    dism.cleanup_mountpoints()\n"
            "except dism.DismError as e:\n    print(hex(e.hresult), e.message)\n")
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        sys.executable, "-c", code, str(public / "public.wim")],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    count, outcome = r.stdout.splitlines()
    assert count == "3"
    return outcome


# ---------------------------------------------------------------------------
# Forged records
# ---------------------------------------------------------------------------

def write_record(id_: str, **fields) -> Path:
    (STATE_DIR / "mounts").mkdir(mode=0o700, exist_ok=True)
    path = STATE_DIR / "mounts" / f"{id_}.mount"
    text = "".join(f"{k}={v}\n" for k, v in {"id": id_, **fields}.items())
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def test_forged_records_never_delete_or_detach_what_the_engine_did_not_make(
        sample_wim, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("x")
    live = tmp_path / "live"
    live.mkdir()
    subprocess.run(["wimlib-imagex", "mount", str(sample_wim), "1", str(live)], check=True)
    try:
        ids = ["0badc0de-0000-4000-8000-00000000000%d" % i for i in range(4)]
        # staging pointed at an arbitrary directory
        write_record(ids[0], mount_path=str(tmp_path / "gone"), wim_path=str(sample_wim),
                     image_index=1, read_only=0, staging_dir=str(victim))
        # staging shaped right, but in a folder anyone may write
        loose = tmp_path / "dism-staging"
        loose.mkdir()
        os.chmod(loose, 0o777)
        (loose / ids[1]).mkdir()
        write_record(ids[1], mount_path=str(tmp_path / "gone2"), wim_path=str(sample_wim),
                     image_index=1, read_only=0, staging_dir=str(loose / ids[1]))
        # mount path pointed at someone else's live mount, with a dead server pid
        write_record(ids[2], mount_path=str(live), wim_path=str(sample_wim), image_index=2,
                     read_only=1, server_pid=999999, server_start=1)
        # a record written by another user is not even read
        other = write_record(ids[3], mount_path=str(live), wim_path=str(sample_wim),
                             image_index=1, read_only=1)
        os.chown(other, 65534, 65534)
        dism.cleanup_mountpoints()
        assert (victim / "precious.txt").exists()
        assert (loose / ids[1]).is_dir()
        assert str(live) in wimfs_mounts() and (live / "Windows").is_dir()
        assert other.exists()
    finally:
        subprocess.run(["wimlib-imagex", "unmount", str(live)], check=False)
        for f in records():
            f.unlink()


# ---------------------------------------------------------------------------
# Mount namespaces
# ---------------------------------------------------------------------------

def in_private_namespace(code: str, hide: Path) -> subprocess.CompletedProcess:
    """Runs code in a new mount namespace in which `hide` is an empty tmpfs,
    as a service with PrivateTmp= or a container sharing the state dir sees
    the machine."""
    script = (f"mount -t tmpfs none {hide} && exec {sys.executable} -c \"$1\"")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                           script, "sh", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


def test_another_mount_namespace_never_releases_a_live_mount(sample_wim, tmp_path):
    area = tmp_path / "area"
    area.mkdir()
    d = area / "mnt"
    d.mkdir()
    with dism.mount(sample_wim, d, index=1) as m:
        (d / "Windows" / "mine.txt").write_text("keep me")
        staging = registry_entry(d)["staging_dir"]
        r = in_private_namespace(
            "import dism\n"
            "dism.cleanup_mountpoints()\n"
            "print([(i.mount_path, i.status.name) for i in dism.get_mounted_images()])\n"
            "try:\n    dism.unmount(%r, commit=False)\n"
            "except dism.DismError as e:\n    print(type(e).__name__, e.message)\n" % str(d),
            area)
        assert r.returncode == 0, r.stderr
        listed, refused = r.stdout.splitlines()
        assert f"('{d}', 'OK')" in listed
        assert refused.startswith("MountPathError") and "another mount namespace" in refused
        assert os.path.isdir(staging)
        assert m.status == dism.MountStatus.OK
        assert (d / "Windows" / "mine.txt").read_text() == "keep me"
    with dism.mount(sample_wim, d, index=1, read_only=True):
        assert (d / "Windows" / "mine.txt").read_text() == "keep me"


def test_records_of_an_earlier_boot_are_released(sample_wim, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    staging = STATE_DIR / "scratch" / "dism-staging" / "0badc0de-0000-4000-8000-0000000000b0"
    staging.mkdir(parents=True)
    write_record(staging.name, mount_path=str(gone), wim_path=str(sample_wim), image_index=1,
                 read_only=0, staging_dir=str(staging), server_pid=os.getpid(),
                 server_start=1, boot_id="00000000-0000-0000-0000-000000000000")
    assert status_of(gone) == dism.MountStatus.NEEDS_REMOUNT
    dism.cleanup_mountpoints()
    assert status_of(gone) is None
    assert not staging.exists()


# ---------------------------------------------------------------------------
# Killed servers and callers
# ---------------------------------------------------------------------------

def test_the_recorded_server_pid_is_the_mount_server(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True):
        entry = registry_entry(mount_dir)
        pid = int(entry["server_pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[0].endswith(b"dism-mountd")
        assert entry["id"].encode() in cmdline
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        assert entry["server_start"] == start


def test_unmount_after_the_server_was_killed_says_needs_remount(sample_wim, mount_dir):
    before = sha256(sample_wim)
    m = dism.mount(sample_wim, mount_dir, index=1)
    kill_server(mount_dir)
    assert status_of(mount_dir) == dism.MountStatus.NEEDS_REMOUNT
    with pytest.raises(dism.NeedsRemountError) as e:
        m.unmount(commit=True)
    assert "remount" in e.value.message.lower()
    dism.cleanup_mountpoints()
    assert status_of(mount_dir) is None and str(mount_dir) not in wimfs_mounts()
    assert sha256(sample_wim) == before
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True):
        assert (mount_dir / "Windows").is_dir()


KILL_MID_COMMIT = textwrap.dedent("""
    import os, signal, sys, dism
    def progress(current, total):
        if 0 < current < total:
            os.kill(os.getpid(), signal.SIGKILL)
    dism.unmount(sys.argv[1], commit=True, progress=progress)
""")


def test_a_caller_killed_mid_commit_leaves_no_stuck_mount(big_wim, mount_dir):
    with dism.mount(big_wim, mount_dir, index=1) as m:
        (mount_dir / "Windows" / "new.bin").write_bytes(os.urandom(4 << 20))
        m._mounted = False  # the child unmounts it
    r = subprocess.run([sys.executable, "-c", KILL_MID_COMMIT, str(mount_dir)],
                       timeout=120, env=dict(os.environ))
    assert r.returncode == -signal.SIGKILL
    # The server finishes the commit on its own and exits.
    for _ in range(600):
        if str(mount_dir) not in wimfs_mounts():
            break
        time.sleep(0.05)
    assert str(mount_dir) not in wimfs_mounts()
    assert status_of(mount_dir) is None
    subprocess.run(["wimlib-imagex", "verify", str(big_wim)], check=True,
                   capture_output=True)
    with dism.mount(big_wim, mount_dir, index=1, read_only=True):
        assert (mount_dir / "Windows" / "new.bin").stat().st_size == 4 << 20
    assert records() == []


# ---------------------------------------------------------------------------
# Split WIMs
# ---------------------------------------------------------------------------

def test_part_of_a_split_wim_is_refused(big_wim, tmp_path, mount_dir):
    subprocess.run(["wimlib-imagex", "split", str(big_wim), str(tmp_path / "part.swm"), "16"],
                   check=True, capture_output=True)
    part = tmp_path / "part.wim"
    (tmp_path / "part.swm").rename(part)
    with pytest.raises(dism.NotSupportedError) as e:
        dism.mount(part, mount_dir, index=1, read_only=True)
    assert "split WIM" in e.value.message and "export" in e.value.message.lower()
    assert os.listdir(mount_dir) == [] and status_of(mount_dir) is None


def test_a_progress_callback_that_unmounts_the_same_directory_does_not_deadlock(
        sample_wim, mount_dir):
    """The mount holds its directory's lock while it reports progress; a
    callback that unmounts that directory must get BusyError, not hang."""
    seen: list[BaseException] = []

    def progress(current, total):
        if current == total and not seen:  # reported with the lock held
            try:
                dism.unmount(mount_dir, commit=False)
            except dism.DismError as e:
                seen.append(e)

    dism.mount(sample_wim, mount_dir, index=1, read_only=True, progress=progress).unmount(
        commit=False)
    assert len(seen) == 1
    assert isinstance(seen[0], dism.BusyError), seen
    assert "another call of this process" in seen[0].message
    assert status_of(mount_dir) is None


# ---------------------------------------------------------------------------
# Committing right after the last close, and a commit that fails
# ---------------------------------------------------------------------------

def test_commit_right_after_the_last_close_is_not_busy(sample_wim, mount_dir):
    """FUSE delivers a file's release after close() returns; the unmount
    waits for it instead of failing with 'files are still open'."""
    for n in range(20):
        with dism.mount(sample_wim, mount_dir, index=1):
            for k in range(8):
                with open(mount_dir / "Windows" / f"f{n}-{k}.txt", "w") as f:
                    f.write("x" * 4096)
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True):
        assert len(list((mount_dir / "Windows").glob("f*-*.txt"))) == 160


def test_a_failed_commit_at_the_end_of_a_with_block_keeps_the_changes(sample_wim, mount_dir):
    before = sha256(sample_wim)
    held = None
    with pytest.raises(dism.BusyError) as e:
        with dism.mount(sample_wim, mount_dir, index=1) as m:
            (mount_dir / "Windows" / "work.txt").write_text("hours of work")
            held = open(mount_dir / "Windows" / "held.txt", "w")
    assert "still mounted" in e.value.message and "commit=True" in e.value.message
    assert m.mounted and m.status == dism.MountStatus.OK
    assert sha256(sample_wim) == before
    assert (mount_dir / "Windows" / "work.txt").read_text() == "hours of work"
    held.close()
    m.unmount(commit=True)
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True):
        assert (mount_dir / "Windows" / "work.txt").read_text() == "hours of work"


def test_cleanup_leaves_no_lock_files_or_dead_writers_temporaries(sample_wim, tmp_path):
    for n in range(5):
        d = tmp_path / f"m{n}"
        d.mkdir()
        dism.mount(sample_wim, d, index=1, read_only=True).unmount(commit=False)
    assert len(list((STATE_DIR / "locks").glob("*.lock"))) >= 5
    stale = STATE_DIR / "mounts" / ".0badc0de-0000-4000-8000-0000000000aa.1.tmp"
    stale.write_text("id=half-written")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = STATE_DIR / "mounts" / ".0badc0de-0000-4000-8000-0000000000ab.1.tmp"
    fresh.write_text("id=being-written")
    with dism.mount(sample_wim, tmp_path / "m0", index=1, read_only=True):
        dism.cleanup_mountpoints()
        assert len(list((STATE_DIR / "locks").glob("*.lock"))) == 0
        # the lock of a directory in use is taken again when it is next needed
    assert not stale.exists() and fresh.exists()
    fresh.unlink()
