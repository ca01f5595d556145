"""Leaks (the battery's part e): resident memory and open descriptors stay
flat over 10,000 iterations of each repeated call, failing calls included.

The first fifth of each run is warm-up (caches, pymalloc arenas, wimlib's
one-time set-up); over the rest a least-squares slope of the samples must
stay under a small bound, and the descriptor count must not move at all."""
from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

import dism
from dism.testing import WindowsImageSpec, build_windows_tree

ITERATIONS = int(os.environ.get("STRESS_LEAK_ITERATIONS", "10000"))
SAMPLES = 40
WARMUP = 0.2
# 10,000 iterations at this many bytes each would be 1.2 MiB: far below a
# per-call leak of even one small allocation that Python does not free.
MAX_BYTES_PER_ITERATION = 128
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def slope(points: list[tuple[int, int]]) -> float:
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx


def expect_error(call, error=dism.DismError):
    def run():
        try:
            call()
        except error:
            return
        raise AssertionError(f"{call} did not raise {error.__name__}")
    return run


@pytest.fixture(scope="module")
def offline_tree(tmp_path_factory) -> Path:
    return build_windows_tree(tmp_path_factory.mktemp("leak") / "tree", WindowsImageSpec(name="L"))


@pytest.fixture
def operations(sample_wim, offline_tree, tmp_path):
    empty = tmp_path / "mnt"
    empty.mkdir()
    fifo = tmp_path / "fifo.wim"
    os.mkfifo(fifo)
    return {
        "get_image_info": lambda: dism.get_image_info(sample_wim),
        "session open+close": lambda: dism.Session(offline_tree).close(),
        "get_mounted_images": dism.get_mounted_images,
        "failing get_image_info (missing)":
            expect_error(lambda: dism.get_image_info(tmp_path / "missing.wim")),
        "failing get_image_info (FIFO)": expect_error(lambda: dism.get_image_info(fifo)),
        "failing mount (no such index)":
            expect_error(lambda: dism.mount(sample_wim, empty, index=9)),
        "failing session (no Windows)": expect_error(lambda: dism.Session(empty)),
        "failing unmount (not mounted)":
            expect_error(lambda: dism.unmount(empty, commit=False)),
    }


OPERATIONS = ["get_image_info", "session open+close", "get_mounted_images",
              "failing get_image_info (missing)", "failing get_image_info (FIFO)",
              "failing mount (no such index)", "failing session (no Windows)",
              "failing unmount (not mounted)"]


@pytest.mark.parametrize("name", OPERATIONS)
def test_rss_and_fds_stay_flat(operations, name, figures):
    call = operations[name]
    every = max(1, ITERATIONS // SAMPLES)
    memory, fds = [], []
    for i in range(ITERATIONS):
        call()
        if (i + 1) % every == 0:
            gc.collect()
            memory.append((i, rss()))
            fds.append((i, open_fds()))
    steady = int(len(memory) * WARMUP)
    memory, fds = memory[steady:], fds[steady:]
    rss_slope = slope(memory)
    fd_slope = slope(fds)
    figures[f"leak {name}: RSS slope (bytes/iteration)"] = round(rss_slope, 2)
    figures[f"leak {name}: fd slope (fds/iteration)"] = round(fd_slope, 6)
    figures[f"leak {name}: iterations"] = ITERATIONS
    assert rss_slope < MAX_BYTES_PER_ITERATION, \
        f"RSS grows {rss_slope:.1f} bytes per call: {memory}"
    assert fds[-1][1] == fds[0][1] and fd_slope == 0, f"open descriptors grow: {fds}"
