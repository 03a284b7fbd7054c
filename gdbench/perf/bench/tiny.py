"""Tiny problems: 2-D Rosenbrock steps through ``gdbench.minimize`` against hand-written
whole-loop ``@njit`` loops (scalars in registers, and arrays) and torch.optim."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from .. import _goals
from .._peers import hand_adam_array, hand_adam_scalar, hand_gd_array, hand_gd_scalar, torch, torch_rosenbrock
from .._table import BenchResult, Row
from .._timing import timed, timed_interleaved


def run(res: BenchResult, size: dict[str, Any]) -> None:
    import gdbench

    p = gdbench.problems.make("rosenbrock", d=2)
    N = size["tiny_steps"]
    th = torch()
    for opt, lr in (("gd", 1e-4), ("adam", 1e-3)):
        gdbench.minimize(p, opt, steps=10, lr=lr, record_every=0)  # compile
        runs: list[Any] = []

        def run_gd(opt=opt, lr=lr, runs=runs):
            r = gdbench.minimize(p, opt, steps=N, lr=lr, record_every=0)
            runs.append(r)
            return r

        if opt == "gd":
            hs = {"hand @njit loop, scalars": lambda lr=lr: hand_gd_scalar(-1.2, 1.0, 100.0, lr, N),
                  "hand @njit loop, arrays": lambda lr=lr: hand_gd_array(np.array([-1.2, 1.0]), 100.0, lr, N)}
        else:
            hs = {"hand @njit loop, scalars": lambda lr=lr: hand_adam_scalar(-1.2, 1.0, 100.0, lr, 0.9, 0.999, 1e-8,
                                                                            N),
                  "hand @njit loop, arrays": lambda lr=lr: hand_adam_array(np.array([-1.2, 1.0]), 100.0, lr, 0.9,
                                                                          0.999, 1e-8, N)}
        ts = timed_interleaved({"gdbench": run_gd, **hs}, size["rep"])
        # gdbench: the driver's own clock (compiled call only); others: wall of the call
        gd_ns = [r.wall_s / N * 1e9 for r in runs[-size["rep"]:]]
        theta = runs[-1].params
        med = statistics.median(gd_ns)
        bench = f"tiny: 2-D Rosenbrock {opt}, ns/step ({N} steps)"
        res.rows.append(Row(bench, "gdbench.minimize", "ns/step", gd_ns, 1.0,
                            check=f"theta={theta[0]:.9f},{theta[1]:.9f}"))
        for k, fn in hs.items():
            x = np.asarray(fn())
            ok = np.max(np.abs(x - theta)) <= 1e-9
            ns = [t / N * 1e9 for t in ts[k]]
            ratio = statistics.median(ns) / med
            row = Row(bench, k, "ns/step", ns, ratio if ok else None,
                      check=f"theta max diff {np.max(np.abs(x - theta)):.0e}" + ("" if ok else " UNEQUAL"))
            res.rows.append(_goals.apply(row, f"tiny_{opt}") if "scalars" in k else row)
        if th is None:
            continue
        Nt = size["torch_steps"]
        ref = gdbench.minimize(p, opt, steps=Nt, lr=lr, record_every=0).params
        tt, x = timed(lambda opt=opt, lr=lr, Nt=Nt: torch_rosenbrock(th, opt, lr, Nt), max(1, size["rep"] - 2))
        ok = np.max(np.abs(x - ref)) <= 1e-9
        ns = [t / Nt * 1e9 for t in tt]
        ratio = statistics.median(ns) / med
        res.rows.append(Row(bench, f"torch.optim + autograd ({Nt} steps)", "ns/step", ns, ratio if ok else None,
                            ">= 5000x", (ratio >= 5000) and ok,
                            check=f"theta@{Nt} max diff {np.max(np.abs(x - ref)):.0e}" + ("" if ok else " UNEQUAL")))
