"""Edges of the extension's argument parsing and long-call machinery:
UINT arguments that must never wrap, a signal handler that re-enters the
session whose call it interrupts, and commits of mounts that hold no
Windows installation."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import dism
from dism import _dism

UINT_WRAPS_TO_2 = 2**32 + 2
WORKTREE = Path(dism.__file__).parent.parent  # so a child process imports this dism


def mounted_at(path) -> bool:
    return any(m.mount_path == str(path) for m in dism.get_mounted_images())


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dism", *argv], capture_output=True,
                          text=True, timeout=120, cwd=WORKTREE,
                          env={**os.environ, "PYTHONPATH": str(WORKTREE)})


# ---- UINT arguments (issue 9, item 5) ----

@pytest.mark.parametrize("index", [0, -1, -(2**40), UINT_WRAPS_TO_2, 2**64 + 1])
def test_mount_refuses_an_index_that_is_not_an_image_index(sample_wim, mount_dir, index):
    with pytest.raises(dism.InvalidImageIndexError) as e:
        dism.mount(sample_wim, mount_dir, index=index)
    assert e.value.hresult == _dism.DISMAPI_E_INVALID_IMAGE_INDEX
    assert str(index) in e.value.message and "numbered from 1" in e.value.message
    assert os.listdir(mount_dir) == [] and not mounted_at(mount_dir)


@pytest.mark.parametrize("index", [-1, UINT_WRAPS_TO_2, 2**64 + 1])
def test_the_extension_refuses_an_index_that_would_wrap(sample_wim, mount_dir, index):
    """The extension itself, below the Python checks: "I" wrapped 2**32 + 2 to 2."""
    dism._runtime.ensure_initialized()
    with pytest.raises(dism.InvalidImageIndexError) as e:
        _dism.mount_image(sample_wim, mount_dir, index, None, _dism.DISM_MOUNT_READONLY)
    assert e.value.hresult == _dism.DISMAPI_E_INVALID_IMAGE_INDEX
    assert "ImageIndex" in e.value.message and str(index) in e.value.message
    assert os.listdir(mount_dir) == [] and not mounted_at(mount_dir)


def test_uint_flags_out_of_range_are_invalid_arguments(sample_wim, mount_dir):
    dism._runtime.ensure_initialized()
    # READONLY (1) + 2**32 would wrap to a read-only mount.
    with pytest.raises(dism.InvalidArgumentError, match="Flags"):
        _dism.mount_image(sample_wim, mount_dir, 1, None, 2**32 + _dism.DISM_MOUNT_READONLY)
    assert not mounted_at(mount_dir)
    m = dism.mount(sample_wim, mount_dir, index=1)
    try:
        # 2**32 + DISM_DISCARD_IMAGE would wrap to a discard.
        with pytest.raises(dism.InvalidArgumentError, match="DismUnmountImage: Flags"):
            _dism.unmount_image(mount_dir, 2**32 + _dism.DISM_DISCARD_IMAGE)
        with pytest.raises(dism.InvalidArgumentError, match="DismUnmountImage: Flags"):
            _dism.unmount_image(mount_dir, -1)
        s = _dism.open_session(str(mount_dir))
        try:
            with pytest.raises(dism.InvalidArgumentError, match="DismCommitImage: Flags"):
                s.commit(2**32 + _dism.DISM_DISCARD_IMAGE)
            with pytest.raises(dism.InvalidArgumentError, match="State"):
                _dism.set_reserved_storage_state(s, 2**32)
            with pytest.raises(TypeError):
                s.commit(True)
        finally:
            s.close()
        assert m.status is dism.MountStatus.OK
    finally:
        m.unmount(commit=False)


# ---- a signal handler re-entering the session (issue 9, item 19) ----

SIGNAL_HANDLER_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import dism
    wim, mnt = sys.argv[1], sys.argv[2]
    m = dism.mount(wim, mnt, index=1)
    with open(os.path.join(mnt, "payload.bin"), "wb") as f:
        f.write(os.urandom(24 * 1024 * 1024))
    s = dism._dism.open_session(mnt)
    seen = []

    def handler(signum, frame):
        signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            s.commit(dism._dism.DISM_COMMIT_IMAGE)  # the session busy with the commit below
        except dism.BusyError as e:
            seen.append("BusyError: " + e.message)
        except BaseException as e:
            seen.append("other: " + repr(e))

    signal.signal(signal.SIGALRM, handler)
    reports = []

    def progress(current, total):
        if not reports:  # the commit is running: interrupt it with a real signal
            signal.setitimer(signal.ITIMER_REAL, 0.001, 0.01)
        reports.append(current)

    s.commit(dism._dism.DISM_COMMIT_IMAGE, progress)
    s.close()
    m.unmount(commit=False)
    print(seen[0] if seen else "the handler did not run")
""")


def test_a_signal_handler_using_the_busy_session_gets_busy_error(big_wim, tmp_path):
    mnt = tmp_path / "sig"
    mnt.mkdir()
    script = tmp_path / "handler.py"
    script.write_text(SIGNAL_HANDLER_SCRIPT)
    try:
        done = subprocess.run([sys.executable, str(script), str(big_wim), str(mnt)],
                              capture_output=True, text=True, timeout=45,
                              env={**os.environ, "PYTHONPATH": str(WORKTREE)})
    except subprocess.TimeoutExpired:
        pytest.fail("the signal handler deadlocked on the session lock")
    finally:
        subprocess.run(["fusermount3", "-u", "-z", str(mnt)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("BusyError: the session is busy"), done.stdout + done.stderr
    assert "signal handler" in done.stdout


# ---- commit on a mount that is not a Windows installation (issue 9, item 12) ----

@pytest.fixture
def plain_wim(tmp_path) -> Path:
    """A WIM of an ordinary directory tree: no Windows directory at all."""
    src = tmp_path / "plain-src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "readme.txt").write_text("version 1\n")
    wim = tmp_path / "plain.wim"
    subprocess.run(["wimlib-imagex", "capture", str(src), str(wim), "Plain"], check=True,
                   capture_output=True)
    return wim


def extracted_readme(wim: Path, tmp_path: Path, index: int = 1) -> str:
    out = tmp_path / f"x{index}"
    subprocess.run(["wimlib-imagex", "extract", str(wim), str(index), "/docs/readme.txt",
                    f"--dest-dir={out}"], check=True, capture_output=True)
    return (out / "readme.txt").read_text()


def test_commit_works_on_a_mount_without_windows(plain_wim, mount_dir, tmp_path):
    m = dism.mount(plain_wim, mount_dir, index=1)
    try:
        (mount_dir / "docs" / "readme.txt").write_text("version 2\n")
        m.commit()
        assert m.status is dism.MountStatus.OK
        assert (mount_dir / "docs" / "readme.txt").read_text() == "version 2\n"
    finally:
        m.unmount(commit=False)
    subprocess.run(["wimlib-imagex", "verify", str(plain_wim)], check=True, capture_output=True)
    assert extracted_readme(plain_wim, tmp_path) == "version 2\n"


def test_the_cli_commits_a_mount_without_windows(plain_wim, mount_dir, tmp_path):
    m = dism.mount(plain_wim, mount_dir, index=1)
    try:
        (mount_dir / "docs" / "readme.txt").write_text("from the cli\n")
        done = run_cli("commit-image", f"--mount-dir={mount_dir}")
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        m.unmount(commit=False)
    assert extracted_readme(plain_wim, tmp_path) == "from the cli\n"


def test_servicing_a_mount_without_windows_fails_when_it_reads(plain_wim, mount_dir):
    with dism.mount(plain_wim, mount_dir, index=1, read_only=True) as m:
        with m.session() as s:
            with pytest.raises(dism.PathNotFoundError, match="does not hold a Windows "
                                                             "installation"):
                s.get_features()
