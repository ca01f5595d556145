"""6. Image management: dism.imaging vs wimlib-imagex doing the same on the
same tree, in one run.

  capture (max)      dism.capture_image(TREE, WIM, name=, compression="max")
                     | wimlib-imagex capture TREE WIM NAME --compress=LZX
  apply              dism.apply_image(WIM, DIR, index=1)
                     | wimlib-imagex apply WIM 1 DIR
  export to ESD      dism.export_image(WIM, ESD, index=1, compression="recovery")
                     | wimlib-imagex export WIM 1 ESD --solid   (solid LZMS, as DISM's recovery)

Same compression and chunk size (wimlib's defaults: 32 KiB for LZX, LZMS
solid), same threads (wimlib's default, every CPU, on both sides: the engine
leaves wimlib's thread count alone).  dism's side includes what it does on
top: the DISM exclusion list answered per file through WIM_MSG_PROCESS on
capture, and the listing (WIM_FLAG_NO_APPLY) that checks names before an
apply.  Every trial writes a new file or an empty directory; removing the
previous one is outside the timed interval.  wimlib-imagex's time includes
its process start (a few ms).
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List

import dism

from _mounts import WIMLIB_IMAGEX, wimlib
from _timing import Row, Target, collect, log

SECTION = "6. image management (capture / apply / export to ESD)"
GOAL = Target("ratio_max", 1.10)


def build_tree(root: Path, payload_bytes: int) -> Path:
    """Half compressible text, half random bytes, in files of 4 KiB - 2 MiB
    across a few directories, plus duplicates (single-instanced)."""
    rng = random.Random(12)
    words = b" ".join(b"word%d" % rng.randrange(5000) for _ in range(200_000))
    written, n = 0, 0
    while written < payload_bytes:
        folder = root / f"dir{n % 17}" / f"sub{n % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        size = min(rng.choice((4 << 10, 60 << 10, 300 << 10, 2 << 20)), payload_bytes - written)
        if n % 2:
            data = rng.randbytes(size)
        else:
            start = rng.randrange(len(words) - size) if size < len(words) else 0
            data = words[start:start + size]
        (folder / f"file{n}.bin").write_bytes(data)
        if n % 23 == 0:
            (folder / f"copy{n}.bin").write_bytes(data)
        written += size
        n += 1
    return root


def _fresh(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _timed(prepare: Callable[[], None], action: Callable[[], object]) -> Callable[[], float]:
    def trial() -> float:
        prepare()
        os.sync()
        start = time.perf_counter()
        action()
        return time.perf_counter() - start
    return trial


def _run_cli(*args: str) -> None:
    wimlib(*map(str, args))


def run(work: Path, *, payload_bytes: int, repeats: int, warmup: int) -> List[Row]:
    if WIMLIB_IMAGEX is None:
        raise RuntimeError("wimlib-imagex not found (Debian package: wimtools)")
    log(f"[5] imaging: {payload_bytes >> 20} MiB tree, {repeats} repeats")
    tree = build_tree(work / "imaging-tree", payload_bytes)
    out = work / "imaging-out"
    out.mkdir()
    ours_wim, theirs_wim = out / "ours.wim", out / "theirs.wim"
    source = out / "source.wim"
    _run_cli("capture", tree, source, "Bench", "--compress=LZX")

    def empty_dir(path: Path) -> Callable[[], None]:
        def make() -> None:
            _fresh(path)
            path.mkdir()
        return make

    trials: Dict[str, Dict[str, Callable[[], float]]] = {
        "capture": {
            "dism": _timed(lambda: _fresh(ours_wim), lambda: dism.capture_image(
                tree, ours_wim, name="Bench", compression="max")),
            "wimlib": _timed(lambda: _fresh(theirs_wim), lambda: _run_cli(
                "capture", tree, theirs_wim, "Bench", "--compress=LZX")),
        },
        "apply": {
            "dism": _timed(empty_dir(out / "ours-dir"), lambda: dism.apply_image(
                source, out / "ours-dir", index=1)),
            "wimlib": _timed(lambda: _fresh(out / "theirs-dir"), lambda: _run_cli(
                "apply", source, "1", out / "theirs-dir")),
        },
        "export": {
            "dism": _timed(lambda: _fresh(out / "ours.esd"), lambda: dism.export_image(
                source, out / "ours.esd", index=1, compression="recovery")),
            "wimlib": _timed(lambda: _fresh(out / "theirs.esd"), lambda: _run_cli(
                "export", source, "1", out / "theirs.esd", "--solid")),
        },
    }
    stats = {name: collect(sides, repeats=repeats, warmup=warmup, label=f"imaging {name}")
             for name, sides in trials.items()}
    _check_same(out, tree)
    sizes = (f"sizes: ours.wim {ours_wim.stat().st_size:,} B vs theirs.wim "
             f"{theirs_wim.stat().st_size:,} B; ours.esd {(out / 'ours.esd').stat().st_size:,}"
             f" B vs theirs.esd {(out / 'theirs.esd').stat().st_size:,} B")
    base = "wimlib-imagex"
    return [
        Row(SECTION, "capture_image, LZX", stats["capture"]["dism"],
            stats["capture"]["wimlib"], base, "s", GOAL, note=sizes),
        Row(SECTION, "apply_image", stats["apply"]["dism"], stats["apply"]["wimlib"], base,
            "s", GOAL, note="dism lists the image first (the name check)"),
        Row(SECTION, "export_image to ESD (solid LZMS)", stats["export"]["dism"],
            stats["export"]["wimlib"], base, "s", GOAL),
    ]


def _check_same(out: Path, tree: Path) -> None:
    """Both sides must have done the same work, or the comparison is void."""
    ours = sorted(p.relative_to(out / "ours-dir").as_posix()
                  for p in (out / "ours-dir").rglob("*"))
    theirs = sorted(p.relative_to(out / "theirs-dir").as_posix()
                    for p in (out / "theirs-dir").rglob("*"))
    if ours != theirs:
        raise RuntimeError("dism and wimlib-imagex applied different trees")
    for name in ("ours.esd", "theirs.esd"):
        subprocess.run([WIMLIB_IMAGEX, "verify", str(out / name)], check=True,
                       stdout=subprocess.DEVNULL)
    if not dism.get_wim_info(out / "ours.esd").solid:
        raise RuntimeError("dism's ESD is not solid")
