"""1. get_image_info vs the same read through libwim directly (ctypes).

Sides, all on the same 3-image WIM (dism.testing.sample_specs, LZX):
  dism          dism.get_image_info(path): the public API, typed ImageInfo objects
  dism raw      dism._dism.get_image_info(path): the C layer's tuples (informational,
                separates engine + extension cost from the Python dataclasses)
  ctypes-libwim _libwim.LibWim.read_image_info(path): wimlib_open_wim,
                wimlib_get_wim_info, wimlib_get_image_property per property, wimlib_free
  CLI           `wimlib-imagex info --xml WIM` as a subprocess (informational)
Each sample is the mean of `inner` back-to-back calls (a call is ~0.1 ms).
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List

import dism
from dism import _dism

from _libwim import LibWim
from _mounts import WIMLIB_IMAGEX
from _timing import Row, Target, collect, log, time_call

SECTION = "1. get_image_info (3-image WIM)"


def check_same_data(wim: str, libwim: LibWim) -> None:
    """Both sides must really read the same thing, or the comparison is void."""
    ours = dism.get_image_info(wim)
    theirs = libwim.read_image_info(wim)
    if len(ours) != len(theirs):
        raise RuntimeError(f"image count differs: dism {len(ours)}, libwim {len(theirs)}")
    for a, b in zip(ours, theirs):
        pairs = [(a.name, b["name"]), (a.edition, b["edition"]), (a.size, b["size"]),
                 (a.version.build, b["build"]), (list(a.languages), b["languages"]),
                 (a.file_count, b["file_count"]), (a.default_language, b["default_language"])]
        for mine, other in pairs:
            if mine != other:
                raise RuntimeError(f"image {a.index}: dism read {mine!r}, libwim {other!r}")


def run(wim: Path, *, repeats: int, warmup: int, inner: int) -> List[Row]:
    log(f"[1] get_image_info: {repeats} repeats x {inner} calls")
    libwim = LibWim()
    path = str(wim)
    check_same_data(path, libwim)

    def cli() -> None:
        subprocess.run([WIMLIB_IMAGEX, "info", path, "--xml"], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    trials = {
        "dism": lambda: time_call(lambda: dism.get_image_info(path), inner),
        "raw": lambda: time_call(lambda: _dism.get_image_info(path), inner),
        "ctypes": lambda: time_call(lambda: libwim.read_image_info(path), inner),
    }
    stats = collect(trials, repeats=repeats, warmup=warmup, label="image_info")
    cli_stats = collect({"cli": lambda: time_call(cli, max(1, inner // 5))},
                        repeats=repeats, warmup=warmup, label="info --xml")["cli"]
    base = "ctypes-libwim"
    return [
        Row(SECTION, "get_image_info (dism API)", stats["dism"], stats["ctypes"], base, "s",
            Target("ratio_max", 1.2)),
        Row(SECTION, "  C layer only: _dism.get_image_info (tuples)", stats["raw"],
            stats["ctypes"], base, "s",
            note="engine + extension without the ImageInfo dataclasses"),
        Row(SECTION, "  vs `wimlib-imagex info --xml` (CLI)", stats["dism"], cli_stats,
            "wimlib-imagex", "s", note="process start dominates; informational"),
    ]
