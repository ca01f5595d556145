"""The type check, part of the suite so that the README's one test command
(and so CI) covers it: mypy --strict on the package (configured in
pyproject.toml's [tool.mypy]), and stubtest comparing dism/_dism.pyi with
the extension module as built.

Both run as subprocesses of this interpreter: a failure shows their own
report.  mypy comes with the `test` extras (scripts/install.sh --test).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dism
from support import REPO

# A cold mypy run over the package takes a few seconds; this is far above it.
TIMEOUT = 300


def check_environment() -> dict[str, str]:
    """The environment for the checks: without PYTHONPATH, so that the
    directory they run from decides which dism they see (see dism_home)."""
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is not installed: install the test extras "
                    "(scripts/install.sh --test, or pip install -e '.[test]')")
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=check_environment(),
                          capture_output=True, text=True, timeout=TIMEOUT)


def report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit status {result.returncode}\n{result.stdout}{result.stderr}"


def dism_home(tmp_path: Path) -> Path:
    """Where to run from so that mypy and the interpreter find the dism under
    test: the checkout, or for an installed wheel (DISMAPI_TEST_INSTALLED)
    an empty directory, from which only site-packages holds a dism."""
    package = Path(dism.__file__).resolve().parent
    if package.parent == REPO:
        return REPO
    empty = tmp_path / "run"
    empty.mkdir()
    return empty


# The package has Windows-only paths (the DLL choice, winreg) that a check
# for this platform alone would pass over as unreachable.
@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_mypy_strict_passes_on_the_package(tmp_path: Path, platform: str) -> None:
    # The checkout's sources, with the settings in pyproject.toml; the cache
    # goes to a temporary directory, so that the checkout stays as it was.
    result = run(REPO, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
                 "--platform", platform, "--cache-dir", str(tmp_path / "mypy-cache"))
    assert result.returncode == 0, report(result)
    assert result.stdout.startswith("Success: no issues found"), report(result)


def test_stub_matches_the_built_extension(tmp_path: Path) -> None:
    # stubtest imports dism._dism and compares every name, signature and
    # class in the stub with it; names the stub lacks count as errors too.
    # It takes the cache directory only from a config file (and would
    # otherwise write one into the directory it runs from).
    config = tmp_path / "stubtest.ini"
    config.write_text(f"[mypy]\ncache_dir = {tmp_path / 'mypy-cache'}\n")
    result = run(dism_home(tmp_path), "-m", "mypy.stubtest", "--concise",
                 "--mypy-config-file", str(config), "dism._dism")
    assert result.returncode == 0, report(result)


def test_stubtest_sees_the_extension_under_test(tmp_path: Path) -> None:
    # The check above is only worth something if it compared the stub with
    # the module this run tests (the checkout's build, or the wheel's).
    result = run(dism_home(tmp_path), "-c",
                 "import dism._dism; print(dism._dism.__file__)")
    assert result.returncode == 0, report(result)
    assert Path(result.stdout.strip()).resolve() == Path(dism._dism.__file__).resolve()
