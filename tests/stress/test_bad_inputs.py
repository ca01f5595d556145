"""Bad inputs (the battery's part d): every case of stress/bad_inputs.py,
each a test of its own, run once against the extension as built and once
against a copy built with AddressSanitizer and UBSan (the CLI cases then run
the sanitized build too: they inherit its environment)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dism

from support import bad_inputs
from support.sanitizer import (SanitizerUnavailable, build_sanitized_package, sanitized_env,
                               sanitizer_reports)

RUNNER = Path(bad_inputs.__file__)
NAMES = [case.name for case in bad_inputs.CASES]


def run_table(pythonpath: Path, env: dict, work: Path, good: Path) -> tuple[dict, str]:
    """Runs the whole table in one process; returns {case: problem} and stderr."""
    run = subprocess.run([sys.executable, str(RUNNER), str(work), str(good)],
                         capture_output=True, text=True, timeout=900,
                         env={**env, "PYTHONPATH": str(pythonpath)})
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            results[entry["name"]] = entry["problem"]
    return results, run.stderr


@pytest.fixture(scope="module")
def plain_results(_sample_wim_master, tmp_path_factory):
    root = Path(dism.__file__).resolve().parents[1]
    return run_table(root, dict(os.environ), tmp_path_factory.mktemp("bad-plain") / "work",
                     _sample_wim_master)


@pytest.fixture(scope="module")
def sanitized_results(_sample_wim_master, tmp_path_factory):
    try:
        package = build_sanitized_package(tmp_path_factory.mktemp("bad-sanitized-build"))
    except SanitizerUnavailable as why:
        if os.environ.get("CI"):
            pytest.fail(f"the sanitized build is required in CI: {why}")
        pytest.skip(str(why))
    return run_table(package, sanitized_env(package),
                     tmp_path_factory.mktemp("bad-sanitized") / "work", _sample_wim_master)


def check(results: tuple[dict, str], name: str) -> None:
    table, stderr = results
    reports = sanitizer_reports(stderr)
    if name not in table:
        pytest.fail(f"no result: the runner died before this case\n{stderr[-4000:]}")
    assert table[name] is None, table[name]
    assert not reports, "sanitizer report during the table:\n" + stderr[-6000:]


def test_the_table_has_at_least_100_distinct_cases(figures):
    assert len(NAMES) == len(set(NAMES)) >= 100
    figures["bad inputs: cases"] = len(NAMES)
    figures["bad inputs: API cases"] = sum(1 for c in bad_inputs.CASES if c.call)
    figures["bad inputs: CLI cases"] = sum(1 for c in bad_inputs.CASES if not c.call)


@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("name", NAMES)
def test_bad_input(plain_results, name):
    check(plain_results, name)


@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("name", NAMES)
def test_bad_input_under_asan_ubsan(sanitized_results, name):
    check(sanitized_results, name)
