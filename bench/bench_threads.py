"""3. A pure-Python thread's throughput alone vs while a long mount/commit runs.

A counter thread runs pure-Python work (an LCG step per iteration) and, every
CHUNK iterations, publishes (iterations, its own CPU time).  A *window* reads
that snapshot, runs something on the main thread, reads it again:
    rate      = iterations in the window / wall time of the window
    cpu share = the counter thread's CPU seconds / wall seconds (1.0 = a full core)
    busy      = CPU time the whole machine spent busy, in cores (/proc/stat)
"solo" windows are time.sleep(T) on the main thread; each measured window is
compared with the mean of the solo windows just before and just after it, so
slow drift of the machine cancels.  ratio = rate during / rate solo.

Scenarios (the WIM holds one image with an incompressible payload of P bytes;
P more random bytes are written into the read-write mount as a new file, so
the commit LZX-compresses P bytes):
  commit          window = the unmount-with-commit call alone
                  (dism: MountedImage.unmount(commit=True);
                   baseline: `wimlib-imagex unmount DIR --commit`)
  mount+write+commit
                  window = mount read-write, write the file, unmount with commit
  commit, 1 core  as "commit", but the mount server (which does the
                  compressing) is confined to CPU 1 and the counter to CPU 0.
                  dism cannot configure wimlib's compressor threads; this pins the
                  server through CPU affinity inherited from the thread that mounts.
The wimlib-imagex column shows the same windows with wimlib-imagex doing the
work: how much a Python thread loses to the work itself, without dism.
"""
from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set

import dism
from dism.testing import WindowsImageSpec, build_wim

from _mounts import (SideBySide, cpus_allowed, is_mounted, process_cpu_seconds,
                     server_pids, thread_affinity, wait_teardown, wimlib)
from _timing import Row, Stats, Target, attempt, log

SECTION = "3. Python thread throughput during a long operation (during/solo)"
CHUNK = 2000


def _busy_jiffies() -> int:
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle + iowait
    return sum(fields[:8]) - idle                                  # without guest time


_HZ = os.sysconf("SC_CLK_TCK")


class Counter(threading.Thread):
    def __init__(self, cpus: Optional[Set[int]] = None) -> None:
        super().__init__(name="bench-counter", daemon=True)
        self.cpus = cpus
        self.snapshot = (0, 0.0)
        self._stop_requested = False
        self._started_event = threading.Event()

    def run(self) -> None:
        if self.cpus is not None:
            os.sched_setaffinity(0, self.cpus)
        n, x = 0, 1
        thread_time = time.thread_time
        self._started_event.set()
        while not self._stop_requested:
            for _ in range(CHUNK):
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            n += CHUNK
            self.snapshot = (n, thread_time())

    def begin(self) -> "Counter":
        self.start()
        self._started_event.wait()
        time.sleep(0.2)   # let it reach its steady state
        return self

    def end(self) -> None:
        self._stop_requested = True
        self.join()

    def window(self, fn: Callable[[], object], servers: Sequence[int] = ()) -> Dict[str, float]:
        """Run fn() on this (the main) thread and measure the counter meanwhile.

        Besides the counter's rate and CPU share, it accounts for the machine's
        CPU time: this process (all threads), its reaped children, the mount
        servers in `servers` (best effort: a server that was reaped is lost), and
        "other": everything else on the machine, e.g. other users' jobs."""
        jiffies0 = _busy_jiffies()
        times0 = os.times()
        server0 = [process_cpu_seconds(p) for p in servers]
        n0, cpu0 = self.snapshot
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        n1, cpu1 = self.snapshot
        server1 = [process_cpu_seconds(p) for p in servers]
        times1 = os.times()
        jiffies1 = _busy_jiffies()
        wall = t1 - t0
        own = (times1.user + times1.system - times0.user - times0.system) / wall
        children = (times1.children_user + times1.children_system
                    - times0.children_user - times0.children_system) / wall
        server: Optional[float] = None
        if servers and None not in server0 and None not in server1:
            server = sum(b - a for a, b in zip(server0, server1)) / wall   # type: ignore
        busy = (jiffies1 - jiffies0) / _HZ / wall
        other = busy - own - children - (server or 0.0)
        return {"rate": (n1 - n0) / wall, "cpu_share": (cpu1 - cpu0) / wall, "wall": wall,
                "busy_cores": busy, "own_cores": own, "children_cores": children,
                "server_cores": server, "other_cores": other if server is not None or
                not servers else None}


class Scenarios(SideBySide):
    PREFIX = "thr"
    PAYLOAD = "new.bin"

    def __init__(self, base_wim: Path, workdir: Path, data: bytes) -> None:
        super().__init__(base_wim, workdir, data)
        self.server_cpus: Dict[str, str] = {}

    # Each returns the window's measurements; set-up and clean-up stay outside it.

    def dism_commit(self, counter: Counter, server_cpus: Optional[Set[int]] = None) -> dict:
        wim = self._copy("dism")
        with thread_affinity(server_cpus):
            m = dism.mount(wim, self.dism_dir, index=1)
        try:
            pids = server_pids(self.dism_dir)
            self.server_cpus["dism"] = ",".join(cpus_allowed(p) for p in pids)
            self._fill(self.dism_dir)
            os.sync()
            return counter.window(lambda: m.unmount(commit=True), pids)
        finally:
            if m.mounted:
                m.unmount(commit=False)

    def wimlib_commit(self, counter: Counter, server_cpus: Optional[Set[int]] = None) -> dict:
        wim = self._copy("wimlib")
        with thread_affinity(server_cpus):
            wimlib("mountrw", wim, "1", self.wimlib_dir)
        pids = server_pids(self.wimlib_dir)
        try:
            self.server_cpus["wimlib"] = ",".join(cpus_allowed(p) for p in pids)
            self._fill(self.wimlib_dir)
            os.sync()
            return counter.window(lambda: wimlib("unmount", self.wimlib_dir, "--commit"), pids)
        finally:
            if is_mounted(self.wimlib_dir):
                wimlib("unmount", self.wimlib_dir)
            wait_teardown(self.wimlib_dir, pids)

    def dism_sequence(self, counter: Counter) -> dict:
        wim = self._copy("dism")
        os.sync()

        def sequence() -> None:
            m = dism.mount(wim, self.dism_dir, index=1)
            try:
                self._fill(self.dism_dir)
                m.unmount(commit=True)
            finally:
                if m.mounted:
                    m.unmount(commit=False)

        return counter.window(sequence)

    def wimlib_sequence(self, counter: Counter) -> dict:
        wim = self._copy("wimlib")
        os.sync()

        def sequence() -> None:
            wimlib("mountrw", wim, "1", self.wimlib_dir)
            pids = server_pids(self.wimlib_dir)
            try:
                self._fill(self.wimlib_dir)
                wimlib("unmount", self.wimlib_dir, "--commit")
            except BaseException:
                if is_mounted(self.wimlib_dir):
                    wimlib("unmount", self.wimlib_dir)   # discard
                raise
            finally:
                wait_teardown(self.wimlib_dir, pids)   # dism's unmount includes this too

        return counter.window(sequence)


def _measure(counter: Counter, solo_seconds: float, runs: Dict[str, Callable[[], dict]],
             repeats: int, warmup: int, results: Dict[str, List[dict]], label: str) -> None:
    """Interleave solo windows and measured windows; append per-window results
    with 'ratio' = rate / mean(adjacent solo rates)."""
    names = list(runs)
    for _ in range(warmup):
        for name in names:
            attempt(runs[name], f"{label} {name} (warm-up)")
    previous_solo = counter.window(lambda: time.sleep(solo_seconds))
    results.setdefault("solo", []).append(previous_solo)
    for i in range(repeats):
        order = names if i % 2 == 0 else list(reversed(names))
        for name in order:
            during = attempt(runs[name], f"{label} {name}")
            solo = counter.window(lambda: time.sleep(solo_seconds))
            results["solo"].append(solo)
            during["solo_rate"] = (previous_solo["rate"] + solo["rate"]) / 2
            during["solo_cpu_share"] = (previous_solo["cpu_share"] + solo["cpu_share"]) / 2
            during["ratio"] = during["rate"] / during["solo_rate"]
            # ratio = share_ratio x speed_ratio: how much CPU the thread got, and
            # how much work it did per CPU second (the hardware's speed).
            during["share_ratio"] = during["cpu_share"] / during["solo_cpu_share"]
            during["speed_ratio"] = during["ratio"] / during["share_ratio"]
            results.setdefault(name, []).append(during)
            previous_solo = solo
            server = during["server_cores"]
            other = during["other_cores"]
            log(f"  {label} [{i + 1}/{repeats}] {name}: ratio {during['ratio']:.3f}, "
                f"counter {during['cpu_share']:.2f} cores, machine busy "
                f"{during['busy_cores']:.2f} = own {during['own_cores']:.2f}"
                f" + server {'?' if server is None else f'{server:.2f}'}"
                f" + children {during['children_cores']:.2f}"
                f" + other {'?' if other is None else f'{other:.2f}'}; {during['wall']:.2f} s")


def _maybe(results: Dict[str, List[dict]], name: str, key: str) -> Optional[Stats]:
    values = [r[key] for r in results.get(name, [])]
    if not values or any(v is None for v in values):
        return None
    return Stats.of(values)


def run(workdir: Path, *, payload_bytes: int, repeats: int, warmup: int,
        solo_seconds: float) -> tuple[List[Row], dict]:
    mib = f"{payload_bytes >> 20} MiB"
    log(f"[3] thread throughput: building a WIM with a {mib} payload")
    base = workdir / "payload.wim"
    build_wim(base, [WindowsImageSpec(name="Payload", description="payload image",
                                      payload_bytes=payload_bytes)], compression="lzx")
    data = random.Random(777).randbytes(payload_bytes)
    sc = Scenarios(base, workdir, data)
    results: Dict[str, List[dict]] = {}

    counter = Counter().begin()
    try:
        _measure(counter, solo_seconds, {
            "dism commit": lambda: sc.dism_commit(counter),
            "wimlib commit": lambda: sc.wimlib_commit(counter),
            "dism sequence": lambda: sc.dism_sequence(counter),
            "wimlib sequence": lambda: sc.wimlib_sequence(counter),
        }, repeats, warmup, results, "all cores")
    finally:
        counter.end()

    pinned = len(os.sched_getaffinity(0)) >= 2 and {0, 1} <= os.sched_getaffinity(0)
    pinned_results: Dict[str, List[dict]] = {}
    if pinned:
        counter = Counter(cpus={0}).begin()
        try:
            _measure(counter, solo_seconds, {
                "dism commit": lambda: sc.dism_commit(counter, server_cpus={1}),
                "wimlib commit": lambda: sc.wimlib_commit(counter, server_cpus={1}),
            }, repeats, 0, pinned_results, "server on 1 core")
        finally:
            counter.end()

    target = Target("value_min", 0.90)
    b = "wimlib-imagex"
    rows: List[Row] = []

    def add(label: str, res: Dict[str, List[dict]], scenario: str, key: str, unit: str = "x",
            row_target: Optional[Target] = None, note: str = "") -> None:
        mine = _maybe(res, f"dism {scenario}", key)
        theirs = _maybe(res, f"wimlib {scenario}", key)
        if mine is not None:
            rows.append(Row(SECTION, label, mine, theirs, b, unit, row_target, note,
                            compare=key != "other_cores"))

    add(f"thread rate during unmount+commit ({mib}, LZX)", results, "commit", "ratio",
        row_target=target)
    add("  = counter's CPU share, during/solo", results, "commit", "share_ratio",
        note="the counter thread's CPU seconds per wall second, during / solo: what "
             "the scheduler and the GIL let it have")
    add("  x counter's work per CPU second, during/solo", results, "commit", "speed_ratio",
        note="iterations per CPU second of the counter, during / solo: the CPU's speed "
             "(frequency, cache and SMT contention, noisy neighbours on a VM)")
    add("  mount server CPU (cores)", results, "commit", "server_cores")
    add("  CPU of everything else on the machine (cores)", results, "commit", "other_cores",
        note="busy CPU time (/proc/stat) minus this process, its children and the server")
    add("  commit window length", results, "commit", "wall", unit="s")
    add(f"thread rate during mount+write+commit ({mib})", results, "sequence", "ratio",
        row_target=target)
    add("  = counter's CPU share, during/solo", results, "sequence", "share_ratio")
    add("  x counter's work per CPU second, during/solo", results, "sequence", "speed_ratio")
    add("  window length", results, "sequence", "wall", unit="s")
    if pinned:
        add("thread rate during commit, server pinned to CPU 1, counter to CPU 0",
            pinned_results, "commit", "ratio", row_target=target,
            note=f"Cpus_allowed of the servers in the last pinned run: {sc.server_cpus}")
        add("  = counter's CPU share, during/solo", pinned_results, "commit", "share_ratio")
        add("  x counter's work per CPU second, during/solo", pinned_results, "commit",
            "speed_ratio")
        add("  mount server CPU (cores)", pinned_results, "commit", "server_cores")
        add("  CPU of everything else on the machine (cores)", pinned_results, "commit",
            "other_cores")
        add("  commit window length", pinned_results, "commit", "wall", unit="s")
    solo = results["solo"] + pinned_results.get("solo", [])
    solo_other = [w["other_cores"] for w in solo if w["other_cores"] is not None]
    if solo_other:
        rows.append(Row(SECTION, "  (solo windows) CPU of everything else (cores)",
                        Stats.of(solo_other), None, "", "x", compare=False,
                        note="background load while only the counter ran"))
        rates = Stats.of([w["rate"] for w in solo])
        rows.append(Row(SECTION, "  (solo windows) counter rate / its median", Stats.of(
            [w["rate"] / rates.median for w in solo]), None, "", "x",
            note=f"solo rates relative to their median ({rates.median:,.0f} iterations/s): "
                 "how much the machine's speed drifts with nothing else of ours running"))
    raw = {"all_cores": results, "server_pinned": pinned_results,
           "server_cpus_allowed_last_pinned_run": sc.server_cpus, "chunk": CHUNK}
    return rows, raw
