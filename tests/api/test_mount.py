"""The mount lifecycle on real FUSE mounts: mount, commit, discard, append,
commit-and-stay-mounted, remount, killed servers, cleanup, other processes
and other tools."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dism

from support import STATE_DIR, kill_server, registry_entry, run_python, sha256, wimfs_mounts

pytestmark = pytest.mark.usefixtures("fuse")


def status_of(mount_dir: Path):
    for info in dism.get_mounted_images():
        if info.mount_path == str(Path(mount_dir).resolve()):
            return info
    return None


def test_mount_read_only_by_index(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=2, read_only=True) as m:
        assert m.index == 2 and m.read_only
        assert sorted(os.listdir(mount_dir)) == ["Program Files", "Users", "Windows"]
        info = status_of(mount_dir)
        assert info.status is dism.MountStatus.OK
        assert info.read_only and info.index == 2
        assert info.image_path == str(Path(sample_wim).resolve())
        with pytest.raises(OSError) as e:
            (mount_dir / "new.txt").write_text("x")
        assert e.value.errno == errno.EROFS
    assert status_of(mount_dir) is None
    assert os.listdir(mount_dir) == []


def test_mount_by_name_is_never_an_index(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, name="1", read_only=True) as m:
        assert m.index == 3
        assert status_of(mount_dir).index == 3


def test_invalid_index_and_name_leave_nothing_mounted(sample_wim, mount_dir):
    with pytest.raises(dism.InvalidImageIndexError) as e:
        dism.mount(sample_wim, mount_dir, index=4)
    assert e.value.hresult == 0xC0040005
    with pytest.raises(dism.InvalidImageNameError) as e:
        dism.mount(sample_wim, mount_dir, name="Windows 11 Pro")
    assert e.value.hresult == 0xC0040006
    assert os.listdir(mount_dir) == [] and status_of(mount_dir) is None


@pytest.mark.parametrize("problem", ["not empty", "not .wim"])
def test_bad_paths_give_invalid_argument(sample_wim, mount_dir, tmp_path, problem):
    wim, target = sample_wim, mount_dir
    if problem == "not empty":
        (mount_dir / "keep.txt").write_text("mine")
    else:
        wim = tmp_path / "image.img"
        shutil.copyfile(sample_wim, wim)
    with pytest.raises(dism.InvalidArgumentError) as e:
        dism.mount(wim, target, index=1)
    assert e.value.hresult == 0x80070057
    assert status_of(target) is None
    if problem == "not empty":
        assert os.listdir(mount_dir) == ["keep.txt"]


@pytest.mark.parametrize("problem", ["missing dir", "missing parent", "missing wim"])
def test_missing_paths_are_file_not_found(sample_wim, mount_dir, tmp_path, problem):
    wim, target = sample_wim, mount_dir
    if problem == "missing dir":
        target = tmp_path / "absent"
    elif problem == "missing parent":
        target = tmp_path / "absent" / "dir"
    else:
        wim = tmp_path / "absent.wim"
    with pytest.raises(FileNotFoundError) as e:
        dism.mount(wim, target, index=1)
    assert isinstance(e.value, dism.PathNotFoundError)
    assert e.value.hresult in (0x80070002, 0x80070003)
    assert "absent" in e.value.message
    assert status_of(target) is None


def test_read_write_changes_are_committed_on_normal_exit(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1) as m:
        (mount_dir / "Windows" / "added.txt").write_text("hello")
        (mount_dir / "Users" / "Public" / "Desktop" / "readme.txt").unlink()
        assert not m.read_only
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True):
        assert (mount_dir / "Windows" / "added.txt").read_text() == "hello"
        assert not (mount_dir / "Users" / "Public" / "Desktop" / "readme.txt").exists()
    # Other images are untouched.
    with dism.mount(sample_wim, mount_dir, index=2, read_only=True):
        assert not (mount_dir / "Windows" / "added.txt").exists()


def test_an_exception_discards_and_the_wim_is_byte_identical(sample_wim, mount_dir):
    before = sha256(sample_wim)
    with pytest.raises(RuntimeError, match="boom"):
        with dism.mount(sample_wim, mount_dir, index=1):
            (mount_dir / "Windows" / "added.txt").write_text("hello")
            raise RuntimeError("boom")
    assert sha256(sample_wim) == before
    assert status_of(mount_dir) is None and os.listdir(mount_dir) == []


def test_unmount_discard_leaves_the_wim_byte_identical(sample_wim, mount_dir):
    before = sha256(sample_wim)
    m = dism.mount(sample_wim, mount_dir, index=1)
    (mount_dir / "junk.bin").write_bytes(os.urandom(100_000))
    dism.unmount(mount_dir, commit=False)
    assert sha256(sample_wim) == before
    assert not m.mounted or status_of(mount_dir) is None


def test_commit_append_adds_an_image_and_keeps_the_original(sample_wim, mount_dir):
    m = dism.mount(sample_wim, mount_dir, index=1)
    (mount_dir / "Windows" / "appended.txt").write_text("new image")
    m.unmount(commit=True, append=True)
    images = dism.get_image_info(sample_wim)
    assert len(images) == 4 and images[3].index == 4
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True):
        assert not (mount_dir / "Windows" / "appended.txt").exists()
    with dism.mount(sample_wim, mount_dir, index=4, read_only=True):
        assert (mount_dir / "Windows" / "appended.txt").read_text() == "new image"


def wim_listing(wim: Path, index: int) -> list[str]:
    out = subprocess.run(["wimlib-imagex", "dir", str(wim), str(index)], check=True,
                         capture_output=True, text=True).stdout
    return out.splitlines()


def test_commit_saves_and_stays_mounted(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1) as m:
        (mount_dir / "Windows" / "first.txt").write_text("1")
        m.commit()
        assert m.mounted and status_of(mount_dir).status is dism.MountStatus.OK
        assert "/Windows/first.txt" in wim_listing(sample_wim, 1)
        (mount_dir / "Windows" / "second.txt").write_text("2")
        assert (mount_dir / "Windows" / "first.txt").read_text() == "1"
    listing = wim_listing(sample_wim, 1)
    assert "/Windows/first.txt" in listing and "/Windows/second.txt" in listing


def test_commit_append_while_mounted_switches_to_the_new_image(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=2) as m:
        (mount_dir / "extra.txt").write_text("x")
        m.commit(append=True)
        assert m.index == 4 and status_of(mount_dir).index == 4
    assert len(dism.get_image_info(sample_wim)) == 4
    assert "/extra.txt" not in wim_listing(sample_wim, 2)
    assert "/extra.txt" in wim_listing(sample_wim, 4)


def test_commit_of_a_read_only_mount_is_refused(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True) as m:
        with pytest.raises(dism.DismError) as e:
            m.commit()
        assert e.value.hresult == 0x80070013  # ERROR_WRITE_PROTECT
        assert "read-only" in e.value.message


def test_commit_with_integrity_then_verified_mount(sample_wim, mount_dir):
    m = dism.mount(sample_wim, mount_dir, index=1)
    (mount_dir / "f.txt").write_text("integrity")
    m.unmount(commit=True, integrity=True)
    info = subprocess.run(["wimlib-imagex", "info", str(sample_wim)], capture_output=True,
                          text=True, check=True).stdout
    assert "Integrity" in info
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True, check_integrity=True):
        assert (mount_dir / "f.txt").read_text() == "integrity"


def test_check_integrity_rejects_a_corrupted_wim(big_wim, mount_dir):
    data = bytearray(big_wim.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    big_wim.write_bytes(bytes(data))
    with pytest.raises(dism.DismError) as e:
        dism.mount(big_wim, mount_dir, index=1, read_only=True, check_integrity=True)
    assert e.value.hresult == 0x80070570  # ERROR_FILE_CORRUPT
    assert status_of(mount_dir) is None


def test_a_second_read_write_mount_of_one_wim_is_refused(sample_wim, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    with dism.mount(sample_wim, a, index=1):
        with pytest.raises(dism.BusyError):
            dism.mount(sample_wim, b, index=2)
        assert status_of(b) is None
        with dism.mount(sample_wim, b, index=2, read_only=True):
            assert status_of(b).status is dism.MountStatus.OK


def test_killed_server_needs_remount_and_remount_restores_it(sample_wim, mount_dir):
    m = dism.mount(sample_wim, mount_dir, index=1)
    try:
        kill_server(mount_dir)
        assert status_of(mount_dir).status is dism.MountStatus.NEEDS_REMOUNT
        with pytest.raises(dism.NeedsRemountError):
            dism.Session(mount_dir)
        staging = Path(registry_entry(mount_dir)["staging_dir"])
        dism.remount(mount_dir)
        assert status_of(mount_dir).status is dism.MountStatus.OK
        assert (mount_dir / "Windows").is_dir()
        assert int(registry_entry(mount_dir)["server_pid"]) > 0
        assert staging.is_dir()  # a fresh staging area for the new server
    finally:
        m.unmount(commit=False)


def test_killed_server_is_cleaned_up(sample_wim, mount_dir):
    dism.mount(sample_wim, mount_dir, index=1)
    staging = Path(registry_entry(mount_dir)["staging_dir"])
    (mount_dir / "data.bin").write_bytes(os.urandom(50_000))
    before = sha256(sample_wim)
    kill_server(mount_dir)
    assert staging.exists()
    dism.cleanup_mountpoints()
    assert status_of(mount_dir) is None
    assert str(mount_dir) not in wimfs_mounts()
    assert not staging.exists()
    assert os.listdir(mount_dir) == []
    assert sha256(sample_wim) == before
    dism.mount(sample_wim, mount_dir, index=1).unmount(commit=False)  # usable again


def test_vanished_wim_is_invalid_and_cleanup_removes_it(sample_wim, mount_dir):
    dism.mount(sample_wim, mount_dir, index=1, read_only=True)
    kill_server(mount_dir)
    sample_wim.unlink()
    assert status_of(mount_dir).status is dism.MountStatus.INVALID
    with pytest.raises(dism.DismError):
        dism.remount(mount_dir)
    dism.cleanup_mountpoints()
    assert status_of(mount_dir) is None


def test_vanished_mount_directory_is_invalid(sample_wim, tmp_path):
    target = tmp_path / "gone"
    target.mkdir()
    dism.mount(sample_wim, target, index=1, read_only=True)
    kill_server(target)
    subprocess.run(["umount", "-l", str(target)], check=True)
    target.rmdir()
    assert status_of(target).status is dism.MountStatus.INVALID
    dism.cleanup_mountpoints()
    assert status_of(target) is None


def test_orphaned_staging_directory_is_removed(tmp_path):
    orphan = STATE_DIR / "scratch" / "dism-staging" / "0badc0de-0000-4000-8000-000000000000"
    orphan.mkdir(parents=True)
    (orphan / "leftover").write_bytes(b"x" * 1000)
    dism.cleanup_mountpoints()
    assert orphan.exists(), "a young staging directory may belong to a mount being made"
    an_hour_ago = time.time() - 3600
    os.utime(orphan, (an_hour_ago, an_hour_ago))
    dism.cleanup_mountpoints()
    assert not orphan.exists()


def test_cleanup_leaves_healthy_mounts_alone(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True):
        dism.cleanup_mountpoints()
        assert status_of(mount_dir).status is dism.MountStatus.OK


def test_a_mount_outlives_its_process_and_is_shared(sample_wim, mount_dir):
    made = run_python(
        "import dism, sys; dism.mount(sys.argv[1] if len(sys.argv) > 1 else %r, %r, index=2)"
        % (str(sample_wim), str(mount_dir)))
    assert made.returncode == 0, made.stderr
    info = status_of(mount_dir)
    assert info.status is dism.MountStatus.OK and info.index == 2 and not info.read_only
    (mount_dir / "from-parent.txt").write_text("hi")
    listed = run_python("import dism, json; print(json.dumps([m.mount_path for m in "
                        "dism.get_mounted_images()]))")
    assert str(mount_dir) in json.loads(listed.stdout)
    done = run_python(f"import dism; dism.unmount({str(mount_dir)!r}, commit=True)")
    assert done.returncode == 0, done.stderr
    assert status_of(mount_dir) is None
    assert "/from-parent.txt" in wim_listing(sample_wim, 2)


def test_mounts_made_by_wimlib_imagex_are_listed_and_unmountable(sample_wim, mount_dir):
    subprocess.run(["wimlib-imagex", "mountrw", str(sample_wim), "3", str(mount_dir)], check=True)
    try:
        info = status_of(mount_dir)
        assert info.status is dism.MountStatus.OK
        assert info.index == 3 and not info.read_only
        assert info.image_path == str(Path(sample_wim).resolve())
        (mount_dir / "x.txt").write_text("x")
        dism.unmount(mount_dir, commit=True)
    finally:
        subprocess.run(["wimlib-imagex", "unmount", str(mount_dir)], capture_output=True)
    assert status_of(mount_dir) is None
    assert "/x.txt" in wim_listing(sample_wim, 3)


def test_unmount_of_a_path_that_is_not_mounted(mount_dir):
    with pytest.raises(dism.MountPathError) as e:
        dism.unmount(mount_dir, commit=True)
    assert e.value.hresult == 0xC0040007


def test_open_sessions_block_unmount(sample_wim, mount_dir):
    m = dism.mount(sample_wim, mount_dir, index=1, read_only=True)
    s = dism.Session(mount_dir)
    with pytest.raises(dism.OpenSessionsError) as e:
        dism.unmount(mount_dir, commit=False)
    assert e.value.hresult == 0xC004000A
    s.close()
    m.unmount(commit=False)


def test_context_manager_closes_its_sessions_before_unmounting(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1) as m:
        s = m.session()
        assert not s.closed
    assert s.closed and status_of(mount_dir) is None


def test_mount_without_fuse_rights_asks_for_elevation(sample_wim, mount_dir, tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to hide /dev/fuse in a private mount namespace")
    fake = tmp_path / "not-a-fuse-device"
    fake.write_text("")
    code = ("import dism\n"
            "try:\n"
            f"    dism.mount({str(sample_wim)!r}, {str(mount_dir)!r}, index=1)\n"
            "except dism.ElevationRequiredError as e:\n"
            "    print(hex(e.hresult)); print(e.message)\n")
    script = tmp_path / "try_mount.py"
    script.write_text(code)
    # The namespace sees a plain file where /dev/fuse was: no FUSE rights.
    out = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                          'mount --bind "$1" /dev/fuse && exec "$2" "$3"', "sh",
                          str(fake), sys.executable, str(script)],
                         capture_output=True, text=True, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "0x800702e4"
    assert "FUSE" in lines[1] and "root" in lines[1]
    assert status_of(mount_dir) is None


def test_optimize_is_accepted(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True, optimize=True):
        assert (mount_dir / "Windows").is_dir()


def test_registry_and_staging_are_private(sample_wim, mount_dir):
    with dism.mount(sample_wim, mount_dir, index=1):
        entry_files = list((STATE_DIR / "mounts").glob("*.mount"))
        assert entry_files
        assert (STATE_DIR / "mounts").stat().st_mode & 0o777 == 0o700
        assert all(f.stat().st_mode & 0o777 == 0o600 for f in entry_files)
        staging = Path(registry_entry(mount_dir)["staging_dir"])
        assert staging.stat().st_mode & 0o077 == 0


def test_after_a_reboot_the_mount_needs_remount(sample_wim, mount_dir):
    # A reboot leaves the registry entry but no server and no FUSE mount.
    m = dism.mount(sample_wim, mount_dir, index=2, read_only=True)
    kill_server(mount_dir)
    subprocess.run(["umount", "-l", str(mount_dir)], check=True)
    info = status_of(mount_dir)
    assert info.status is dism.MountStatus.NEEDS_REMOUNT and info.index == 2
    with pytest.raises(dism.NeedsRemountError):
        dism.Session(mount_dir)
    dism.remount(mount_dir)
    assert status_of(mount_dir).status is dism.MountStatus.OK
    assert (mount_dir / "Windows").is_dir()
    m.unmount(commit=False)


def test_discarding_a_dead_mount_cleans_it(sample_wim, mount_dir):
    dism.mount(sample_wim, mount_dir, index=1)
    kill_server(mount_dir)
    with pytest.raises(dism.NeedsRemountError):
        dism.unmount(mount_dir, commit=True)
    dism.unmount(mount_dir, commit=False)
    assert status_of(mount_dir) is None and os.listdir(mount_dir) == []
