"""One mini-batch(64) Adam epoch on linreg: gdbench against NumPy and torch on the same batches."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from .. import _goals
from .._data import bare_problem, make_data
from .._kernels import driver_batches
from .._peers import numpy_adam_epoch, torch, torch_adam_epoch
from .._table import BenchResult, Row
from .._timing import rel, timed_interleaved


def run(res: BenchResult, size: dict[str, Any]) -> None:
    import gdbench

    n, d, bs, lam, lr = size["mb_n"], size["mb_d"], 64, 1e-4, 1e-3
    X, y = make_data("regression", n, d, seed=4)
    p = bare_problem("linreg", X, y, lam)
    steps = -(-n // bs)
    batches = driver_batches(n, bs, 0, steps)

    def run_gd():
        return gdbench.minimize(p, "adam", steps=steps, lr=lr, batch_size=bs, seed=0, record_every=0)

    fns: dict[str, Callable[[], Any]] = {"gdbench": run_gd, "numpy": lambda: numpy_adam_epoch(X, y, lam, batches, lr)}
    th = torch()
    if th is not None:
        Xt, yt = th.from_numpy(X), th.from_numpy(y)
        bt = [th.from_numpy(b) for b in batches]
        fns[f"torch {th.__version__} (CPU)"] = lambda: torch_adam_epoch(th, Xt, yt, lam, bt, lr)
    else:
        res.notes.append("torch not installed: torch rows skipped (pip install torch)")
    ts = timed_interleaved(fns, size["rep"], settle=size["settle"], warm=size["warm"])
    f_gd = p.loss(run_gd().params)
    bench = f"mini-batch(64) Adam epoch linreg {n}x{d}"
    med = statistics.median(ts["gdbench"])
    res.rows.append(Row(bench, "gdbench", "s", ts["gdbench"], 1.0, check=f"f={f_gd:.10g}"))
    for k, fn in fns.items():
        if k == "gdbench":
            continue
        f = p.loss(fn())
        ok = rel(f, f_gd) < 1e-6
        ratio = statistics.median(ts[k]) / med
        row = Row(bench, k, "s", ts[k], ratio if ok else None,
                  check=f"same batches, f rel {rel(f, f_gd):.0e}" + ("" if ok else " UNEQUAL"))
        if k == "numpy":
            _goals.apply(row, "minibatch_numpy")
        else:
            row.goal, row.met = ">= 10x", (ratio >= 10) and ok
        res.rows.append(row)
