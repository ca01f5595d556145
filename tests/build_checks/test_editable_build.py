"""Building and installing the package warns about nothing (issue 9, item 20):
the editable build that scripts/install.sh runs, with every warning an error."""
from __future__ import annotations

import pytest

from support import REPO

BUILD_WITHOUT_WARNINGS = """
import sys, tempfile, warnings
warnings.simplefilter("error")       # every warning, setuptools' included, fails the build
from setuptools import build_meta
with tempfile.TemporaryDirectory() as metadata, tempfile.TemporaryDirectory() as wheels:
    build_meta.prepare_metadata_for_build_editable(metadata)
    build_meta.build_editable(wheels)
print("built")
"""


def _setuptools_problem() -> str | None:
    from importlib.metadata import version
    found = version("setuptools")
    if tuple(int(part) for part in found.split(".")[:2]) < (77, 0):
        return f"setuptools {found} is older than pyproject.toml needs (77)"
    return None


def test_an_editable_build_warns_about_nothing(tmp_path):
    """What `pip install -e .` (scripts/install.sh) runs, with every warning an
    error: setuptools' deprecation of a TOML-table licence and its note on
    editable installs were printed on every install.  Built from a copy of
    the checkout, so the extension this process loaded is not overwritten."""
    import os
    import shutil
    import subprocess
    import sys

    if os.environ.get("DISMAPI_TEST_INSTALLED") == "1":
        pytest.skip("checks the source checkout's build, not the installed wheel")
    problem = _setuptools_problem()
    if problem and os.environ.get("CI"):
        pytest.fail(problem + "; scripts/install.sh installs it")
    if problem:
        pytest.skip(problem)
    copy = tmp_path / "checkout"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.so", "_libexec", "__pycache__", ".pytest_cache"))
    out = subprocess.run([sys.executable, "-c", BUILD_WITHOUT_WARNINGS], cwd=copy,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.splitlines()[-1:] == ["built"], out.stderr[-3000:]
