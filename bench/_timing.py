"""Timing helpers shared by the benchmarks: statistics, interleaved trials, rows.

A *trial* is a zero-argument callable that does its own (untimed) set-up and
tear-down and returns the seconds - or any other number - it measured.  That
keeps set-up such as copying a WIM or mounting it before an unmount out of the
measured interval, which a plain ``timeit`` around the call could not do.
"""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Mapping, Optional

Trial = Callable[[], float]


@dataclass
class Stats:
    """Summary of repeated measurements (seconds unless `unit` says otherwise)."""

    median: float
    min: float
    max: float
    n: int
    samples: List[float] = field(default_factory=list)

    @classmethod
    def of(cls, samples: List[float]) -> "Stats":
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples),
                   list(samples))

    def to_json(self) -> dict:
        return asdict(self)


def log(message: str) -> None:
    """Progress lines go to stderr so that stdout holds just the table."""
    print(message, file=sys.stderr, flush=True)


#: Trials that failed and were run again, as "label: error" strings.  They are
#: reported with the results: a retry hides nothing, it only keeps one stray
#: failure (e.g. another process unmounting our mount) from voiding a run.
RETRIED: List[str] = []
MAX_ATTEMPTS = 3


def attempt(fn: Callable[[], float], label: str) -> float:
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return fn()
        except Exception as error:
            if number == MAX_ATTEMPTS:
                raise
            RETRIED.append(f"{label}: {type(error).__name__}: {error}")
            log(f"  {label}: attempt {number} failed ({type(error).__name__}: {error}); "
                f"running it again")
    raise AssertionError("unreachable")


def collect(trials: Mapping[str, Trial], *, repeats: int, warmup: int,
            label: str = "") -> Dict[str, Stats]:
    """Run every trial `warmup` times (discarded), then `repeats` times.

    The sides are interleaved (A B, then B A, ...) so that slow drift of the
    machine - page cache, CPU frequency, other load - hits them equally.
    """
    names = list(trials)
    for _ in range(warmup):
        for name in names:
            attempt(trials[name], f"{label} {name} (warm-up)")
    samples: Dict[str, List[float]] = {name: [] for name in names}
    for i in range(repeats):
        order = names if i % 2 == 0 else list(reversed(names))
        for name in order:
            samples[name].append(attempt(trials[name], f"{label} {name}"))
        if label:
            latest = ", ".join(f"{n}={samples[n][-1] * 1e3:.1f}ms" for n in names)
            log(f"  {label} [{i + 1}/{repeats}] {latest}")
    return {name: Stats.of(values) for name, values in samples.items()}


def time_call(fn: Callable[[], object], inner: int = 1) -> float:
    """Seconds per call of `fn`, averaged over `inner` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


# --- rows of the result table ---------------------------------------------

@dataclass
class Target:
    """`kind` "ratio_max": dism/baseline must be <= value.
    `kind` "value_min": the dism number itself must be >= value."""

    kind: str
    value: float

    def describe(self) -> str:
        if self.kind == "ratio_max":
            return f"ratio <= {self.value:g}"
        return f"dism >= {self.value:g}"

    def met(self, dism: float, ratio: Optional[float]) -> bool:
        if self.kind == "ratio_max":
            return ratio is not None and ratio <= self.value
        return dism >= self.value


@dataclass
class Row:
    section: str
    operation: str
    dism: Stats
    baseline: Optional[Stats]
    baseline_name: str
    unit: str                      # "s" (shown in ms) or "x" (a dimensionless ratio)
    target: Optional[Target] = None
    note: str = ""
    compare: bool = True           # False: a ratio of the two numbers means nothing

    @property
    def ratio(self) -> Optional[float]:
        if not self.compare or self.baseline is None or self.baseline.median == 0:
            return None
        return self.dism.median / self.baseline.median

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        return "meets" if self.target.met(self.dism.median, self.ratio) else "misses"

    def to_json(self) -> dict:
        return {
            "section": self.section,
            "operation": self.operation,
            "unit": self.unit,
            "dism": self.dism.to_json(),
            "baseline_name": self.baseline_name,
            "baseline": self.baseline.to_json() if self.baseline else None,
            "ratio": self.ratio,
            "target": self.target.describe() if self.target else None,
            "verdict": self.verdict,
            "note": self.note,
        }


def _fmt(stats: Optional[Stats], unit: str) -> str:
    if stats is None:
        return "-"
    if unit == "s":
        scale, suffix = 1e3, " ms"
        digits = 3 if stats.median < 0.01 else (2 if stats.median < 0.1 else 1)
    else:
        scale, suffix, digits = 1.0, "", 3
    m, lo, hi = (v * scale for v in (stats.median, stats.min, stats.max))
    return f"{m:.{digits}f}{suffix} [{lo:.{digits}f}-{hi:.{digits}f}]"


def format_table(rows: List[Row]) -> str:
    """Plain-text table; numbers are "median [min-max]" over the repeats."""
    header = ["operation", "dism", "baseline", "ratio (dism/baseline)", "target", "verdict"]
    body = []
    for row in rows:
        baseline = _fmt(row.baseline, row.unit)
        if row.baseline is not None:
            baseline = f"{baseline} ({row.baseline_name})"
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        body.append([row.operation, _fmt(row.dism, row.unit), baseline, ratio,
                     row.target.describe() if row.target else "-", row.verdict])
    widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]
    widths[0] = max([widths[0]] + [len(f"** {row.section} **") for row in rows])

    def line(cells: List[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    section = None
    for row, cells in zip(rows, body):
        if row.section != section:
            section = row.section
            out.append(line([f"** {section} **"] + [""] * (len(header) - 1)))
        out.append(line(cells))
    return "\n".join(out)
