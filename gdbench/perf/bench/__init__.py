"""``gdbench bench``: gdbench next to its peers, in one process, in one table.

Every benchmark times *the same work* in each implementation (same data, same steps, same
batches where the peer allows it) after an untimed warm-up (compilation, caches), checks that
every implementation reaches the same result (loss, gradient or final objective; a row whose
check fails is marked ``UNEQUAL`` and gets no ratio), and reports median and min–max over
repeats. ``ratio`` is peer time / gdbench time (> 1: gdbench is faster); for the roofline it is
gdbench's share of the streaming-read speed (time to read X once / gdbench time).

Peers (:mod:`gdbench.perf._peers`): NumPy (always), scikit-learn and torch (optional: skipped
with a note when absent), hand-written whole-loop ``@njit`` loops, and the measured
streaming-read roofline. The goals of issue 10 live in :mod:`gdbench.perf._goals`; every one of
them is listed under the table, met, missed or not measured.

One module per benchmark: :mod:`.fused`, :mod:`.sgd`, :mod:`.minibatch`, :mod:`.tiny`,
:mod:`.sweep`, :mod:`.startup` (import time and, in full mode, the cold first ``minimize`` and
the cold first ``gdbench run``), :mod:`.gate` (full mode: the instruction-count gate's A/A and
injected-slowdown check).

Sizes: ``full`` (the sizes of the goals), ``quick`` (a few seconds per benchmark; goals are then
only indicative) and ``tiny`` (code paths only, for the tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .._table import BenchResult, save, table
from .._timing import SETTLE_S, WARM_S, machine_header
from . import fused, gate, minibatch, sgd, startup, sweep, tiny

SIZES: dict[str, dict[str, Any]] = {
    "full": dict(rows=[(1_000_000, 64), (200_000, 512)], rows_rep=9, sgd_n=100_000, sgd_d=64, sgd_epochs=5,
                 mb_n=200_000, mb_d=64, tiny_steps=2_000_000, torch_steps=3_000, rep=5, sweep_k=8,
                 sweep_steps=20_000, startup_rep=5, cold=True, cold_rep=3, settle=SETTLE_S,
                 warm=WARM_S),
    "quick": dict(rows=[(200_000, 64), (40_000, 512)], rows_rep=5, sgd_n=20_000, sgd_d=64, sgd_epochs=3,
                  mb_n=50_000, mb_d=64, tiny_steps=500_000, torch_steps=1_000, rep=3, sweep_k=8,
                  sweep_steps=5_000, startup_rep=3, cold=False, cold_rep=1, settle=SETTLE_S,
                  warm=WARM_S),
    "tiny": dict(rows=[(4_000, 16)], rows_rep=2, sgd_n=500, sgd_d=8, sgd_epochs=2, mb_n=1_000, mb_d=8,
                 tiny_steps=2_000, torch_steps=50, rep=2, sweep_k=4, sweep_steps=200, startup_rep=1, cold=False,
                 cold_rep=1, settle=0.0, warm=0.0),  # tiny: the tests' sizes, where idling between calls buys nothing
}

BENCHES: dict[str, Callable[[BenchResult, dict[str, Any]], None]] = {
    "fused": fused.run, "sgd": sgd.run, "minibatch": minibatch.run, "tiny": tiny.run, "sweep": sweep.run,
    "startup": startup.run, "cold": startup.run_cold_suite, "gate": gate.run,
}


def run_all(mode: str = "full", only: list[str] | None = None, log: Callable[[str], None] | None = None) -> BenchResult:
    """Run the benchmarks (all, or those named in ``only``) at the sizes of ``mode``."""
    size = SIZES[mode]
    res = BenchResult(machine_header())
    res.header["mode"] = mode
    for name, fn in BENCHES.items():
        if only and name not in only:
            continue
        if log:
            log(f"[bench] {name} ...")
        t0 = time.perf_counter()
        fn(res, size)
        if log:
            log(f"[bench] {name} done in {time.perf_counter() - t0:.1f} s")
    return res


__all__ = ["BENCHES", "SIZES", "BenchResult", "run_all", "save", "table"]
