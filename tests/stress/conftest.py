"""The reliability battery (scripts/stress.sh): every test here carries the
`stress` marker, which the default suite deselects (pyproject addopts).

Figures (trials run, mounts checked, cases, leak slopes) are collected with
the `figures` fixture and printed at the end of the run; with
STRESS_FIGURES_FILE set, they are also written there as JSON."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FIGURES: dict[str, object] = {}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.stress)


@pytest.fixture
def figures():
    """Records figures for the summary: figures["name"] = value."""
    return FIGURES


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not FIGURES:
        return
    terminalreporter.section("stress figures")
    for name in sorted(FIGURES):
        terminalreporter.write_line(f"{name}: {FIGURES[name]}")
    out = os.environ.get("STRESS_FIGURES_FILE")
    if out:
        Path(out).write_text(json.dumps(FIGURES, indent=1, sort_keys=True, default=str))
