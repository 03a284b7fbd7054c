"""The theory view: iterations to ε against the condition number κ on quadratics.

When a suite runs ``quadratic`` problems with at least two condition numbers (``cond``), each
optimizer variant's steps to relative suboptimality ε = 1e-6 (from the traces), at its *tuned*
grid point (the smallest median steps over seeds, over every lr and other grid field), is set
against κ beside the textbook rates: gradient descent needs O(κ log 1/ε) steps, heavy ball and
Nesterov's method with tuned momentum O(√κ log 1/ε) (Nesterov 2004, Polyak 1964). The lines drawn
are κ·ln(1/ε) and √κ·ln(1/ε): on log–log axes a method follows the slope of its rate.

The lr regimes of the tutorials on a quadratic with largest eigenvalue L: gradient descent
converges iff lr < 2/L, monotonically (no overshoot) iff lr ≤ 1/L.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from .ecdf import first_hits
from .tabular import Table, fmt_num, fmt_steps

EPS = 1e-6


def quadratic_param(runs_row: pd.Series, name: str) -> float:
    """A quadratic's parameter from its saved spec, or the registry's default (``PARAMS``)."""
    params = json.loads(runs_row.get("problem_params") or "{}")
    if name in params:
        return float(params[name])
    from ..problems import PROBLEMS

    return float(PROBLEMS["quadratic"].PARAMS[name])


def kappa_problems(runs: pd.DataFrame) -> dict[str, float]:
    """problem label -> κ for the sweep: the quadratics of the suite that differ only in ``cond``
    (the largest such family, when it has ≥ 2 distinct κ)."""
    q = runs[runs["problem_name"] == "quadratic"].drop_duplicates("problem")
    families: dict[str, dict[str, float]] = {}
    for _, r in q.iterrows():
        rest = {k: v for k, v in json.loads(r.get("problem_params") or "{}").items() if k != "cond"}
        key = json.dumps(rest, sort_keys=True)
        families.setdefault(key, {})[str(r["problem"])] = quadratic_param(r, "cond")
    best = max(families.values(), key=lambda f: len(set(f.values())), default={})
    return best if len(set(best.values())) >= 2 else {}


def lr_regimes(runs: pd.DataFrame, problem: str) -> tuple[float, float] | None:
    """(1/L, 2/L) for a quadratic problem label, else None."""
    r = runs[runs["problem"] == problem]
    if r.empty or str(r["problem_name"].iloc[0]) != "quadratic":
        return None
    L = quadratic_param(r.iloc[0], "L")
    return 1.0 / L, 2.0 / L


def kappa_sweep(runs: pd.DataFrame, traces: pd.DataFrame, eps: float = EPS) -> pd.DataFrame:
    """One row per (κ problem, variant): κ, the tuned run name and its steps to ε (∞: never)."""
    kap = kappa_problems(runs)
    if not kap:
        return pd.DataFrame()
    sub = runs[runs["problem"].isin(list(kap))].reset_index(drop=True)
    hits = first_hits(sub, traces, [eps])[:, 0]
    sub = sub.assign(_hit=hits)
    rows = []
    for (p, v), g in sub.groupby(["problem", "variant"], sort=False):
        med = g.groupby("run_name", sort=False)["_hit"].median().sort_values(kind="mergesort")
        rows.append({"problem": p, "variant": v, "rule": str(g["rule"].iloc[0]), "kappa": kap[p],
                     "tuned": str(med.index[0]), "steps": float(med.iloc[0])})
    return pd.DataFrame(rows).sort_values(["variant", "kappa"], kind="mergesort").reset_index(drop=True)


def rate_lines(kappas: np.ndarray, eps: float = EPS) -> dict[str, np.ndarray]:
    k = np.asarray(kappas, dtype=float)
    return {"O(κ log 1/ε)": k * math.log(1 / eps), "O(√κ log 1/ε)": np.sqrt(k) * math.log(1 / eps)}


def kappa_table(sweep: pd.DataFrame, eps: float = EPS) -> Table:
    ks = sorted(set(sweep["kappa"]))
    t = Table(["optimizer", *[f"κ = {k:g}" for k in ks], "tuned grid points"], "l" + "r" * len(ks) + "l")
    for v, g in sweep.groupby("variant", sort=False):
        by = dict(zip(g["kappa"], g["steps"]))
        t.add([str(v), *[(fmt_steps(by.get(k, math.nan)), by.get(k, math.nan)) for k in ks],
               "; ".join(g["tuned"])])
    lines = rate_lines(np.array(ks), eps)
    for name, vals in lines.items():
        t.add([name.replace("ε", fmt_num(eps)), *[(fmt_steps(x), x) for x in vals], "textbook rate (constant 1)"])
    return t
