"""Shared fixtures and hooks: an isolated engine state directory, real WIM
files built with wimlib at test time, and guards that no test leaves an image
mounted.  Helpers live in support (tests/support), never here."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# support first: it sets DISM_STATE_DIR, which must come before dism is imported.
from support import STATE_DIR, fuse_problem, installed_copy_problem, wimfs_mounts  # noqa: I001

import dism  # noqa: E402
from dism.testing import (WindowsImageSpec, build_wim, build_windows_tree,  # noqa: E402
                          sample_servicing_spec, sample_specs)
from support.imagefile import areas  # noqa: E402

TESTS = Path(__file__).resolve().parent


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
# tests/windows holds the tests that prove it.  Paths relative to tests/.
PORTABLE_ENGINE_MODULES = {
    "api/test_export_drivers.py", "api/test_image_file_session.py", "api/test_image_info.py",
    "api/test_mount.py",
    "api/test_progress_cancel.py", "api/test_servicing_session.py",
    "api/test_servicing_types.py", "api/test_session.py",
    "build_checks/test_standin_build.py", "build_checks/test_windows_build.py",
    "cli/test_cli.py", "cli/test_cli_image_file.py", "cli/test_cli_servicing.py",
    "cli/test_attack_14.py", "cli/test_export_driver_cli.py",
    "engine/test_driver_and_hive_messages.py",
    "engine/test_engine_c.py", "engine/test_hostile_hives.py",
    "engine/test_image_file_engine.py", "engine/test_inf_parser.py",
    "engine/test_servicing_engine.py", "engine/test_xml_scanner.py",
    "engine/test_wimgapi_engine.py", "engine/test_wimgapi_safety.py",
    "ext/test_stable_abi.py", "ext/test_wim_binding.py",
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
        path = Path(item.path)
        if (path.is_relative_to(TESTS)
                and path.relative_to(TESTS).as_posix() in PORTABLE_ENGINE_MODULES):
            item.add_marker(skip)


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


@pytest.fixture
def offline_tree(tmp_path) -> Path:
    """A Windows-shaped directory tree with no servicing content."""
    return build_windows_tree(tmp_path / "offline", WindowsImageSpec(name="Offline"))


@pytest.fixture(scope="module")
def spec():
    """The sample servicing spec (packages, features, drivers, capabilities,
    apps), one per module."""
    return sample_servicing_spec()


@pytest.fixture(scope="module")
def image(tmp_path_factory, spec) -> Path:
    """An offline Windows tree with the sample servicing content, shared by
    the tests of one module."""
    return build_windows_tree(tmp_path_factory.mktemp("servicing") / "image", spec)


@pytest.fixture
def engine_tmpdir(tmp_path, monkeypatch) -> Path:
    """TMPDIR for the test, where unmounted-image sessions make their private
    areas; fails a test that leaves one behind."""
    tmp = tmp_path / "engine-tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    yield tmp
    assert areas(tmp) == [], "an unmounted-image session left its private area behind"


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
