"""Sweep scaling: 8 Adam configurations on 1 and 2 threads, bit-identical results."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from .._table import BenchResult, Row
from .._timing import timed_interleaved


def run(res: BenchResult, size: dict[str, Any]) -> None:
    import gdbench

    cores = res.header["cores"]
    if cores < 2:
        res.notes.append("sweep scaling skipped: one core")
        return
    p = gdbench.problems.make("linreg", n=2000, d=16, seed=0)
    K, steps = size["sweep_k"], size["sweep_steps"]
    cfgs = [{"lr": lr} for lr in np.geomspace(1e-3, 1e-1, K)]
    gdbench.sweep(p, "adam", cfgs[:1], steps=5, record_every=0, threads=1)
    out: dict[int, list[Any]] = {1: [], 2: []}

    def one(T):
        r = gdbench.sweep(p, "adam", cfgs, steps=steps, record_every=0, threads=T, rows=False)
        out[T].append(r)
        return r

    timed_interleaved({"1": lambda: one(1), "2": lambda: one(2)}, size["rep"])
    t1 = [r.wall_s for r in out[1][-size["rep"]:]]
    t2 = [r.wall_s for r in out[2][-size["rep"]:]]
    same = np.array_equal(out[1][-1].theta, out[2][-1].theta)
    bench = f"sweep: {K} adam configs, linreg 2000x16, {steps} steps"
    ratio = statistics.median(t1) / statistics.median(t2)
    res.rows.append(Row(bench, "gdbench, 2 threads", "s", t2, 1.0, check="theta bit-identical" if same else "DIFF"))
    res.rows.append(Row(bench, "gdbench, 1 thread", "s", t1, ratio if same else None, ">= 1.8x", ratio >= 1.8 and same))
