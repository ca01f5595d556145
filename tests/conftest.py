"""Shared fixtures: an isolated engine state directory, real WIM files built
with wimlib at test time, and guards that no test leaves an image mounted."""
from __future__ import annotations

import errno
import hashlib
import os
import signal
import shutil
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
# machine-wide registry of mounts.
STATE_DIR = Path(tempfile.mkdtemp(prefix="dism-test-state-"))
os.environ["DISM_STATE_DIR"] = str(STATE_DIR)

import dism  # noqa: E402
from dism.testing import WindowsImageSpec, build_wim, sample_specs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_REAL = REPO.parent / "shared" / "testdata" / "real"


def raw_record(cls, values: dict) -> tuple:
    """The tuple the extension returns for the record `cls`, from a dict of
    raw values keyed by the dataclass's field names (nested records as dicts
    too).  It stops at the first field the dict lacks, as a shorter tuple."""
    import dataclasses
    raw = []
    for spec in dataclasses.fields(cls):
        if spec.name not in values:
            break
        value = values[spec.name]
        nested = getattr(spec.metadata.get("convert"), "record", None)
        raw.append([raw_record(nested, v) for v in value] if nested else value)
    return tuple(raw)


def record_dict(cls, raw):
    """The extension's tuple for the record `cls` as a dict keyed by the
    dataclass's field names, nested records too; a list of them for a list."""
    import dataclasses
    if isinstance(raw, list):
        return [record_dict(cls, item) for item in raw]
    out = {}
    for spec, value in zip(dataclasses.fields(cls), raw):
        nested = getattr(spec.metadata.get("convert"), "record", None)
        out[spec.name] = record_dict(nested, value) if nested else value
    return out


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


def pytest_sessionstart(session):
    # scripts/test-wheel.sh and cibuildwheel set DISMAPI_TEST_INSTALLED=1 to
    # prove a wheel: a stray sys.path entry must not make them test the
    # sources instead, and pass.
    if os.environ.get("DISMAPI_TEST_INSTALLED") == "1":
        problem = installed_copy_problem()
        if problem:
            pytest.exit(f"DISMAPI_TEST_INSTALLED=1, but {problem}",
                        returncode=pytest.ExitCode.USAGE_ERROR)


# Modules that test the portable engine itself: they build Windows-shaped
# trees, WIMs with wimlib-imagex and C programs with gcc, and mount through
# FUSE.  On Windows the real DismApi.dll serves the API instead, and
# tests/windows holds the tests that prove it.
PORTABLE_ENGINE_MODULES = {
    "test_cli.py", "test_cli_servicing.py", "test_engine_c.py", "test_hostile_hives.py",
    "test_image_info.py", "test_inf_parser.py", "test_mount.py", "test_progress_cancel.py",
    "test_servicing_engine.py", "test_servicing_session.py", "test_servicing_types.py",
    "test_session.py", "test_stable_abi.py", "test_windows_build.py", "test_xml_scanner.py",
}


def pytest_collection_modifyitems(config, items):
    # Every test that mounts carries the `fuse` marker, so `-m "not fuse"`
    # selects what runs where there is no /dev/fuse.
    for item in items:
        if "fuse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.fuse)
    if dism.BACKEND == "portable":
        return
    skip = pytest.mark.skip(reason="tests the portable engine; tests/windows covers DismApi.dll")
    for item in items:
        if item.path.name in PORTABLE_ENGINE_MODULES and item.path.parent.name == "tests":
            item.add_marker(skip)


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


@pytest.fixture(scope="session")
def fuse():
    """Depend on this in every test that mounts.  In CI a missing FUSE is a
    failure, not a skip: those tests are the point of the suite."""
    problem = fuse_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"FUSE is required in CI: {problem}")
        pytest.skip(f"FUSE not available: {problem}")


@pytest.fixture(scope="session")
def _sample_wim_master(tmp_path_factory) -> Path:
    return build_wim(tmp_path_factory.mktemp("wims") / "sample.wim", sample_specs())


@pytest.fixture
def sample_wim(_sample_wim_master, tmp_path) -> Path:
    """A private copy of a 3-image Windows-shaped WIM (the third is named "1")."""
    path = tmp_path / "sample.wim"
    shutil.copyfile(_sample_wim_master, path)
    return path


@pytest.fixture(scope="session")
def _big_wim_master(tmp_path_factory) -> Path:
    spec = WindowsImageSpec(name="Big", payload_bytes=48 * 1024 * 1024)
    return build_wim(tmp_path_factory.mktemp("wims") / "big.wim", [spec], integrity=True)


@pytest.fixture
def big_wim(_big_wim_master, tmp_path) -> Path:
    """A WIM with a 48 MiB incompressible payload and an integrity table,
    for operations long enough to observe progress and cancellation."""
    path = tmp_path / "big.wim"
    shutil.copyfile(_big_wim_master, path)
    return path


@pytest.fixture
def mount_dir(tmp_path) -> Path:
    d = tmp_path / "mnt"
    d.mkdir()
    return d


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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


def registry_entry(mount_dir: Path) -> dict:
    """The engine's registry record of the mount at mount_dir."""
    wanted = str(Path(mount_dir).resolve())
    for f in (STATE_DIR / "mounts").glob("*.mount"):
        entry = dict(line.split("=", 1) for line in f.read_text().splitlines() if "=" in line)
        if entry.get("mount_path") == wanted:
            return entry
    raise AssertionError(f"no registry entry for {mount_dir}")


def kill_server(mount_dir: Path) -> None:
    """SIGKILLs the mount's dism-mountd and waits until the mount is stale."""
    pid = int(registry_entry(mount_dir)["server_pid"])
    assert pid > 0
    os.kill(pid, signal.SIGKILL)
    for _ in range(300):
        try:
            os.stat(mount_dir)
        except OSError as e:
            if e.errno == errno.ENOTCONN:
                return
        time.sleep(0.01)
    raise AssertionError("the mount did not go stale")


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter sharing this session's state dir."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


@pytest.fixture(autouse=True)
def no_leftover_mounts(tmp_path):
    """Fails a test that leaves an image mounted below its tmp_path, after
    unmounting it so one failure does not cascade."""
    yield
    leftovers = [p for p in wimfs_mounts() if p.startswith(str(tmp_path))]
    for point in leftovers:
        try:
            dism.unmount(point, commit=False)
        except dism.DismError:
            subprocess.run(["umount", "-l", point], check=False)
    assert not leftovers, f"test left images mounted: {leftovers}"


def pytest_sessionfinish(session, exitstatus):
    # Mounts are cleaned per test (no_leftover_mounts); other processes'
    # mounts on this machine are none of the suite's business.
    shutil.rmtree(STATE_DIR, ignore_errors=True)
