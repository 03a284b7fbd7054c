"""Per-run measures from a trace, and their aggregation over seeds and problems (DESIGN §4).

Conventions (stated once, used everywhere):

- relative suboptimality r_t = (f(θ_t) − f*) / (f(θ_0) − f*)  (scale |f₀| + 1 when f₀ ≤ f*,
  exactly as :meth:`gdbench.SweepResult.trace_frame`);
- steps-to-tolerance τ: the first *recorded* step with r_t ≤ τ (resolution: the suite's
  ``record_every``); ``inf`` when never reached (also for diverged runs);
- gradient evaluations: per-sample gradients for data problems (n per full-batch step, b per
  mini-batch step), one per step for analytic problems; epochs = gradient evaluations / n;
  the full-data evaluations made only to *record* the trace are measurement, not counted;
- time-to-tolerance = steps-to-tolerance × ns/step, where ns/step is measured without
  recording and without compilation (the worker's timing pass);
- saddle escape step: the first recorded step with f < f_saddle − escape_frac·(f_saddle − f*);
- across seeds: median and the 10 % / 90 % quantiles (linear interpolation; a quantile that
  falls among unreached runs is ``inf``), success rate = share of runs reaching the target
  tolerance, ERT = (steps of successful runs + full budget for every failed run) / successes;
- best learning rate per (problem, variant): the lr with the smallest ERT at the target
  tolerance; ties (and the case where no lr succeeds) broken by the smaller median final
  relative suboptimality among non-diverged runs, then by the smaller lr;
- performance profile (Dolan & Moré): ρ_s(τ) = share of problems on which variant s, at its
  best lr, has ERT ≤ τ · (the best variant's ERT on that problem).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..kernels import support as _support

DEFAULT_TOLERANCES = (1e-2, 1e-4, 1e-6, 1e-8)


def tol_label(tol: float) -> str:
    """Column suffix for a tolerance: 1e-4 -> '1e-04'."""
    return f"{tol:.0e}"


#: the scale of relative suboptimality, f₀ − f* (or |f₀| + 1 when f₀ ≤ f*): the driver's own rule
#: (:func:`gdbench.kernels.support.rel_scale`), called as plain Python
rel_scale = _support.rel_scale_py


def rel_suboptimality(loss: np.ndarray, f0: float, f_star: float) -> np.ndarray:
    return (np.asarray(loss, dtype=np.float64) - f_star) / rel_scale(f0, f_star)


def steps_to_tol(steps: np.ndarray, rel: np.ndarray, tol: float) -> float:
    """First recorded step with rel ≤ tol; inf if none."""
    hit = np.flatnonzero(np.asarray(rel) <= tol)
    return float(steps[hit[0]]) if hit.size else math.inf


def escape_step(steps: np.ndarray, loss: np.ndarray, f_saddle: float, f_star: float, frac: float = 0.1) -> float:
    """First recorded step with f < f_saddle − frac·(f_saddle − f*); inf if none."""
    thr = f_saddle - frac * (f_saddle - f_star)
    hit = np.flatnonzero(np.asarray(loss) < thr)
    return float(steps[hit[0]]) if hit.size else math.inf


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile where ``inf`` sorts last; a position touching an inf is inf;
    NaN values are ignored (NaN when nothing is left)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    v = v[~np.isnan(v)]
    if v.size == 0:
        return math.nan
    pos = q * (v.size - 1)
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    if math.isinf(v[hi]) or math.isinf(v[lo]):
        return math.inf if v[hi] > 0 else (v[lo] if lo == hi else math.inf)
    return float(v[lo] + (v[hi] - v[lo]) * (pos - lo))


def band(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, 10 % quantile, 90 % quantile)."""
    return quantile(values, 0.5), quantile(values, 0.1), quantile(values, 0.9)


def success_rate(steps_to: Sequence[float]) -> float:
    s = np.asarray(steps_to, dtype=np.float64)
    return float(np.isfinite(s).mean()) if s.size else math.nan


def ert(steps_to: Sequence[float], budgets: Sequence[float] | float) -> float:
    """Expected running time: (Σ steps of successes + Σ budgets of failures) / #successes."""
    s = np.asarray(steps_to, dtype=np.float64)
    b = np.broadcast_to(np.asarray(budgets, dtype=np.float64), s.shape)
    ok = np.isfinite(s)
    if not ok.any():
        return math.inf
    return float((s[ok].sum() + b[~ok].sum()) / ok.sum())


def performance_profile(costs: pd.DataFrame, taus: Sequence[float]) -> pd.DataFrame:
    """``costs``: rows = problems, columns = solvers (inf/NaN = unsolved). Returns a frame
    indexed by τ with ρ_s(τ) per solver column."""
    c = costs.astype(float).where(lambda x: np.isfinite(x), np.inf)
    best = c.min(axis=1)
    ratio = c.div(best.where(np.isfinite(best) & (best > 0), np.nan), axis=0)
    # problems nobody solved count as unsolved for everyone; best == 0 (solved at step 0) → ratio 1
    zero = best == 0
    ratio.loc[zero] = np.where(c.loc[zero] == 0, 1.0, np.inf)
    R = ratio.fillna(np.inf).to_numpy(dtype=float)  # problems × solvers
    t = np.asarray(list(taus), dtype=float)
    rho = (R[None, :, :] <= t[:, None, None]).mean(axis=1) if len(c) else np.full((len(t), c.shape[1]), np.nan)
    return pd.DataFrame(rho, index=pd.Index(t, name="tau"), columns=c.columns)


# --------------------------------------------------------------------------------------------
# aggregation of the runs table


def steps_col(tol: float) -> str:
    return f"steps_to_{tol_label(tol)}"


def time_col(tol: float) -> str:
    return f"time_to_{tol_label(tol)}"


CELL_KEYS = ["problem", "variant", "run_name"]


def aggregate_cells(runs: pd.DataFrame, tolerances: Sequence[float], target_tol: float) -> pd.DataFrame:
    """One row per (problem, variant, run_name) = one grid point over its seeds."""
    # the columns as NumPy arrays once, each group's rows by position (a pandas column per group
    # and measure cost ~50 µs each: most of a report's time on suites with many grid points)
    def num(c: str) -> np.ndarray:
        return runs[c].to_numpy(dtype=np.float64, na_value=np.nan)

    cols = {c: num(c) for c in {steps_col(t) for t in tolerances} | {time_col(t) for t in tolerances}
            | {steps_col(target_tol), "steps_budget", "lr", "final_rel_subopt", "ns_per_step",
               "grad_evals_per_step", "compile_s"}}
    batch = runs["batch_size"].to_numpy()
    status = runs["status"].to_numpy(dtype=object)
    escape = num("escape_step") if "escape_step" in runs else None
    rows = []
    for key, idx in runs.groupby(CELL_KEYS, sort=True).indices.items():
        row = dict(zip(CELL_KEYS, key))
        first = idx[0]
        row["lr"] = float(cols["lr"][first])
        row["batch_size"] = int(batch[first])
        row["seeds"] = len(idx)
        budget = cols["steps_budget"][idx]
        for tol in tolerances:
            st = cols[steps_col(tol)][idx]
            med, lo, hi = band(st)
            row[f"{steps_col(tol)}_med"], row[f"{steps_col(tol)}_p10"], row[f"{steps_col(tol)}_p90"] = med, lo, hi
            row[f"{time_col(tol)}_med"] = quantile(cols[time_col(tol)][idx], 0.5)
            row[f"success_{tol_label(tol)}"] = success_rate(st)
            row[f"ert_{tol_label(tol)}"] = ert(st, budget)
        st = cols[steps_col(target_tol)][idx]
        row["success"] = success_rate(st)
        row["ert"] = ert(st, budget)
        stat = status[idx]
        ok = stat != "diverged"
        row["final_rel_med"] = quantile(cols["final_rel_subopt"][idx][ok], 0.5) if ok.any() else math.inf
        row["diverged"] = int((~ok).sum())
        row["statuses"] = ",".join(f"{s}:{c}" for s, c in sorted(Counter(stat.tolist()).items()))
        row["ns_per_step_med"] = quantile(cols["ns_per_step"][idx], 0.5)
        row["grad_evals_per_step"] = float(cols["grad_evals_per_step"][first])
        cs = cols["compile_s"][idx]
        row["compile_s"] = float(np.nanmax(cs)) if not np.isnan(cs).all() else math.nan  # (pandas' max skips NaN)
        if escape is not None:
            row["escape_med"], row["escape_p10"], row["escape_p90"] = band(escape[idx])
        rows.append(row)
    return pd.DataFrame(rows)


def best_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The best grid point per (problem, variant) by the rule in the module docstring."""
    if cells.empty:
        return cells
    c = cells.copy()
    c["_ert"] = c["ert"].astype(float)
    c["_fin"] = c["final_rel_med"].astype(float).fillna(np.inf)
    c = c.sort_values(["problem", "variant", "_ert", "_fin", "lr", "run_name"], kind="mergesort")
    best = c.groupby(["problem", "variant"], sort=True).head(1)
    return best.drop(columns=["_ert", "_fin"]).reset_index(drop=True)
