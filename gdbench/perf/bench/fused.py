"""Full-batch loss+gradient: gdbench's fused row kernel against the streaming-read roofline,
NumPy/BLAS and gdbench's own serial kernel."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from .. import _goals
from .._data import make_data
from .._kernels import fused_kernel, serial_kernel
from .._peers import hand_linreg_grad, np_loss_grad, stream_sum
from .._table import BenchResult, Row
from .._timing import rel, timed_interleaved

L2 = 1e-3
ROOF = "roofline (read X once)"
HAND = "hand-written prange kernel"


def run(res: BenchResult, size: dict[str, Any]) -> None:
    for k, (n, d) in enumerate(size["rows"]):
        X, yr = make_data("regression", n, d, seed=1)
        yc = np.where(yr > np.median(yr), 1.0, -1.0)
        theta = np.random.default_rng(2).standard_normal(d + 1) * 0.1
        for name in ("linreg", "logistic", "hinge"):
            _one(res, size, name, X, yr if name == "linreg" else yc, theta, first_size=k == 0)
        del X


def _one(res: BenchResult, size: dict[str, Any], name: str, X: np.ndarray, y: np.ndarray, theta: np.ndarray,
         first_size: bool) -> None:
    n, d = X.shape
    g_par = np.empty(d + 1)
    g_ser = np.empty(d + 1)
    fused = fused_kernel(name, theta, X, y, L2, g_par)
    serial = serial_kernel(name, theta, X, y, L2, g_ser)
    fns = {
        "gdbench": fused,
        ROOF: lambda: stream_sum(X),
        "numpy": lambda: np_loss_grad(name, theta, X, y, L2),
        "gdbench serial kernel": serial,
    }
    g_hand = np.empty(d + 1)
    if name == "linreg":
        fns[HAND] = lambda: hand_linreg_grad(theta, X, y, L2, g_hand)
    ts = timed_interleaved(fns, size["rows_rep"], settle=size["settle"], warm=size["warm"])
    f_par, f_ser = fused(), serial()
    f_np, g_np = np_loss_grad(name, theta, X, y, L2)
    bench = f"fused {name} loss+grad {n}x{d}"
    gd_med = statistics.median(ts["gdbench"])
    res.rows.append(Row(bench, "gdbench (rows kernel)", "s", ts["gdbench"], 1.0,
                        check=f"vs serial: loss rel {rel(f_par, f_ser):.0e}, grad rel "
                              f"{np.max(np.abs(g_par - g_ser)) / np.max(np.abs(g_ser)):.0e}"))
    roof = Row(bench, ROOF, "s", ts[ROOF], statistics.median(ts[ROOF]) / gd_med,
               note=f"{X.nbytes / statistics.median(ts[ROOF]) / 1e9:.1f} GB/s")
    key = "roofline_logistic" if name == "logistic" else ("roofline_d64" if first_size else "roofline_d512")
    res.rows.append(_goals.apply(roof, key))
    ok = rel(f_np, f_par) < 1e-9 and np.max(np.abs(g_np - g_par)) <= 1e-9 * np.max(np.abs(g_np))
    r_np = statistics.median(ts["numpy"]) / gd_med
    row = Row(bench, "numpy (BLAS, X.T @ (X @ w - y))" if name == "linreg" else "numpy (BLAS)", "s", ts["numpy"],
              r_np if ok else None, check=f"loss rel {rel(f_np, f_par):.0e}" + ("" if ok else " UNEQUAL"))
    res.rows.append(_goals.apply(row, "numpy_d64") if name == "linreg" and d == 64 else row)
    res.rows.append(Row(bench, "gdbench serial kernel", "s", ts["gdbench serial kernel"],
                        statistics.median(ts["gdbench serial kernel"]) / gd_med))
    if HAND in ts:
        f_h = hand_linreg_grad(theta, X, y, L2, g_hand)
        ok = rel(f_h, f_par) < 1e-9 and np.max(np.abs(g_hand - g_par)) <= 1e-9 * np.max(np.abs(g_hand))
        t_h = statistics.median(ts[HAND])
        res.rows.append(Row(bench, HAND, "s", ts[HAND], t_h / gd_med if ok else None,
                            note=f"{statistics.median(ts[ROOF]) / t_h:.2f} of the roofline"
                                 + ("" if ok else " UNEQUAL")))
