"""Per-sample SGD epochs: gdbench against scikit-learn's SGDRegressor/SGDClassifier, same
update, same objective; and against the random-row read floor (the same rows in gdbench's order,
read once each with nothing else done), which bounds the ratio any implementation could reach."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from .. import _goals
from .._data import bare_problem, make_data
from .._kernels import driver_perms, prefetch_rows_ahead
from .._peers import random_row_read
from .._table import BenchResult, Row
from .._timing import rel, timed_interleaved

FLOOR = "random-row read floor (same rows, same order)"

# scikit-learn's per-sample update: w ← (1 − ηα)·w − η·dloss(p, y)·x, b ← b − η·dloss.
# gdbench's, for f = mean loss + (λ/2)‖w‖²: w ← w − η'·(∂loss·x + λw). Same update when
# squared: η' = η/2, λ = 2α (gdbench's loss is r², sklearn's ½r²); log, hinge: η' = η, λ = α.
#: (problem, sklearn loss, estimator name, η, α, η'/η, λ/α)
CASES = [("linreg", "squared_error", "SGDRegressor", 5e-4, 1e-4, 0.5, 2.0),
         ("logistic", "log_loss", "SGDClassifier", 2e-3, 1e-4, 1.0, 1.0),
         ("hinge", "hinge", "SGDClassifier", 2e-3, 1e-4, 1.0, 1.0)]


def run(res: BenchResult, size: dict[str, Any]) -> None:
    try:
        import sklearn
        from sklearn import linear_model
    except ImportError:
        res.notes.append("scikit-learn not installed: SGD comparison skipped (pip install scikit-learn)")
        return
    import gdbench

    n, d, E = size["sgd_n"], size["sgd_d"], size["sgd_epochs"]
    for name, loss, est_name, eta, alpha, lr_f, l2_f in CASES:
        Est = getattr(linear_model, est_name)
        X, y = make_data("regression" if name == "linreg" else "classification", n, d, seed=3)
        p = bare_problem(name, X, y, alpha * l2_f)
        steps = E * n

        def run_gd(p=p, eta=eta, lr_f=lr_f, steps=steps):
            return gdbench.minimize(p, "gd", steps=steps, lr=eta * lr_f, batch_size=1, seed=0, record_every=0)

        def run_sk(Est=Est, loss=loss, eta=eta, alpha=alpha, X=X, y=y):
            est = Est(loss=loss, penalty="l2", alpha=alpha, learning_rate="constant", eta0=eta, max_iter=E, tol=None,
                      shuffle=True, random_state=0, average=False)
            est.fit(X, y)
            return est

        perms = driver_perms(n, 0, E)
        theta0 = np.zeros(d + 1)
        ahead = prefetch_rows_ahead()

        def run_floor(X=X, y=y, perms=perms, theta0=theta0, ahead=ahead):
            return random_row_read(X, y, perms, theta0, ahead)

        gdbench.minimize(p, "gd", steps=10, lr=eta * lr_f, batch_size=1, record_every=0)  # compile
        ts = timed_interleaved({"gdbench": run_gd, "sk": run_sk, FLOOR: run_floor}, size["rep"],
                               settle=size["settle"], warm=size["warm"])
        r = run_gd()
        est = run_sk()
        theta_sk = np.append(np.ravel(est.coef_), np.ravel(est.intercept_)[0])
        f_gd, f_sk = p.loss(r.params), p.loss(theta_sk)
        ok = rel(f_gd, f_sk) <= 0.02
        bench = f"SGD epochs {name} ({loss}) {n}x{d}, {E} ep"
        med = statistics.median(ts["gdbench"])
        res.rows.append(Row(bench, "gdbench", "s", ts["gdbench"], 1.0, check=f"f={f_gd:.6g}"))
        sk_med, fl_med = statistics.median(ts["sk"]), statistics.median(ts[FLOOR])
        ratio = sk_med / med
        row = Row(bench, f"scikit-learn {sklearn.__version__} {est_name}", "s", ts["sk"], ratio if ok else None,
                  check=f"objective within 2%: f={f_sk:.6g} (rel {rel(f_gd, f_sk):.1e})" + ("" if ok else " UNEQUAL"),
                  note=f"the floor allows at most {sk_med / fl_med:.2f}x")
        res.rows.append(_goals.apply(row, "sgd_sklearn"))
        res.rows.append(Row(bench, FLOOR, "s", ts[FLOOR], fl_med / med,
                            note=f"{fl_med / steps * 1e9:.0f} ns a row, gdbench {med / steps * 1e9:.0f} ns a step"))
