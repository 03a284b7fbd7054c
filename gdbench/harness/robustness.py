"""Tuning robustness of each (problem, optimizer variant), from the grid it was run on.

From the grid points aggregated over seeds (``metrics.aggregate_cells``), per learning rate
(the best grid point at that lr when a variant also varies other fields):

- *width*: the interval of consecutive grid lrs around the best lr whose ERT to the target
  tolerance is ≤ 2 × the best ERT, in decades: log10(lr_hi / lr_lo) (0 = only the best lr;
  "–" when no lr reaches the target);
- *smallest diverging lr*: the smallest grid lr at which at least one seed diverged ("–": none did);
- *lr_max / lr_best*: lr_max is the largest grid lr at which no seed diverged — how far above the
  best lr one can go before instability ("≥" when even the grid's largest lr was stable);
- *expected best after k random trials* (Sivaprasad et al., ICML 2020; the "expected maximum"
  of Dodge et al., 2019): draw k runs (grid point × seed) uniformly with replacement from the N
  runs of the grid and keep the best final relative suboptimality r; a diverged run, or one that
  ended above its start, counts as r = 1 (no progress), r is floored at 1e-16. With the values
  v = log10 r sorted ascending v_(1) ≤ … ≤ v_(N),
  E[min of k] = Σ_i v_(i) · [((N − i + 1)/N)^k − ((N − i)/N)^k], reported as 10^E[min of k].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .tabular import Table, fmt_num

KS = (1, 2, 4, 8)
R_FLOOR = 1e-16


def trial_values(final_rel: Sequence[float], diverged: Sequence[bool]) -> np.ndarray:
    """log10 of each run's result as a tuning trial (rules in the module docstring)."""
    r = np.asarray(final_rel, dtype=float)
    bad = np.asarray(diverged, dtype=bool) | ~np.isfinite(r)
    r = np.where(bad, 1.0, np.clip(r, R_FLOOR, 1.0))
    return np.log10(r)


def expected_best(values: Sequence[float], k: int) -> float:
    """E[min of k draws with replacement from ``values``] (formula in the module docstring)."""
    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    if n == 0:
        return math.nan
    i = np.arange(1, n + 1)
    w = ((n - i + 1) / n) ** k - ((n - i) / n) ** k
    return float((w * v).sum())


def lr_profile(cells: pd.DataFrame) -> pd.DataFrame:
    """Per lr of one (problem, variant): the best ERT over the other grid fields, and the seeds
    that diverged; sorted by lr."""
    lrs, inv = np.unique(cells["lr"].to_numpy(dtype=float), return_inverse=True)
    ert = np.full(len(lrs), np.nan)
    np.fmin.at(ert, inv, cells["ert"].to_numpy(dtype=float))  # the min over the lr's cells, NaN skipped
    div = np.zeros(len(lrs), dtype=np.int64)
    np.add.at(div, inv, cells["diverged"].to_numpy(dtype=np.int64))
    return pd.DataFrame({"lr": lrs, "ert": ert, "diverged": div})


def robustness_row(cells: pd.DataFrame, lr_best: float, runs: pd.DataFrame, ks: Sequence[int] = KS) -> dict:
    """Robustness measures of one (problem, variant) from its cells and runs."""
    prof = lr_profile(cells)
    lrs = prof["lr"].to_numpy(dtype=float)
    ert = prof["ert"].to_numpy(dtype=float)
    div = prof["diverged"].to_numpy() > 0
    row: dict = {"lr_best": lr_best, "grid": len(lrs)}
    i = int(np.argmin(np.abs(np.log(lrs) - math.log(lr_best)))) if len(lrs) else 0
    e_best = ert[i] if len(lrs) else math.inf
    if np.isfinite(e_best):
        good = np.isfinite(ert) & (ert <= 2.0 * e_best)
        lo = hi = i
        while lo > 0 and good[lo - 1]:
            lo -= 1
        while hi < len(lrs) - 1 and good[hi + 1]:
            hi += 1
        row["width_dec"] = math.log10(lrs[hi] / lrs[lo])
    else:
        row["width_dec"] = math.nan
    row["lr_div"] = float(lrs[div].min()) if div.any() else math.nan
    stable = lrs[~div]
    row["lr_max"] = float(stable.max()) if stable.size else math.nan
    row["lr_max_is_top"] = bool(stable.size and stable.max() == lrs.max())
    row["lr_max_ratio"] = row["lr_max"] / lr_best if stable.size else math.nan
    vals = trial_values(runs["final_rel_subopt"], runs["status"] == "diverged")
    row["trials"] = len(vals)
    for k in ks:
        row[f"best_of_{k}"] = 10.0 ** expected_best(vals, k)
    return row


def robustness(runs: pd.DataFrame, cells: pd.DataFrame, best: pd.DataFrame, ks: Sequence[int] = KS) -> pd.DataFrame:
    """One row per (problem, variant) in ``best``'s order."""
    rows = []
    cell_rows = cells.groupby(["problem", "variant"], sort=False).indices
    run_rows = runs.groupby(["problem", "variant"], sort=False).indices
    for _, b in best.iterrows():
        key = (b["problem"], b["variant"])
        c = cells.iloc[cell_rows.get(key, [])]
        r = runs.iloc[run_rows.get(key, [])]
        rows.append({"problem": b["problem"], "variant": b["variant"], **robustness_row(c, float(b["lr"]), r, ks)})
    return pd.DataFrame(rows)


def expected_best_curve(runs: pd.DataFrame, kmax: int) -> np.ndarray:
    """10^E[min of k] for k = 1..kmax over ``runs`` (one problem, one variant)."""
    vals = trial_values(runs["final_rel_subopt"], runs["status"] == "diverged")
    return np.array([10.0 ** expected_best(vals, k) for k in range(1, kmax + 1)])


def robustness_table(rob: pd.DataFrame, target_label: str, ks: Sequence[int] = KS) -> Table:
    t = Table(["problem", "optimizer", "best lr", f"width (decades, ERT to {target_label} ≤ 2× best)",
               "smallest diverging lr", "lr_max / lr_best", "runs in grid",
               *[f"E[best of {k}]" for k in ks]], "ll" + "r" * (5 + len(ks)))
    for _, r in rob.iterrows():
        ratio = fmt_num(r["lr_max_ratio"])
        if r["lr_max_is_top"] and ratio != "–":
            ratio = "≥ " + ratio
        t.add([str(r["problem"]), str(r["variant"]), (fmt_num(r["lr_best"]), r["lr_best"]),
               (fmt_num(r["width_dec"], 2), r["width_dec"]), (fmt_num(r["lr_div"]), r["lr_div"]),
               (ratio, r["lr_max_ratio"]), (str(int(r["trials"])), int(r["trials"])),
               *[(fmt_num(r[f"best_of_{k}"], 2), r[f"best_of_{k}"]) for k in ks]])
    return t


DOC = ("Tuning robustness from the grid: *width* = decades of consecutive grid lrs around the best one whose ERT "
       "is within 2× the best ERT (0 = only the best lr); *smallest diverging lr* = smallest grid lr where a seed "
       "diverged; *lr_max / lr_best* with lr_max the largest grid lr where no seed diverged (≥: the grid's top was "
       "stable). *E[best of k]*: expected best final relative suboptimality after k random trials drawn with "
       "replacement from the N runs of the grid (grid point × seed; Sivaprasad et al., ICML 2020): with v = log10 r "
       "sorted ascending (diverged or no progress: r = 1; floor 1e-16), E[min of k] = Σᵢ v₍ᵢ₎·[((N−i+1)/N)^k − "
       "((N−i)/N)^k], shown as 10^E.")
