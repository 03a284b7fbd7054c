"""Runtime ECDFs (data profiles, as in COCO and IOHprofiler), computed from the saved traces.

For every optimizer variant at its best lr (the convergence table's rule), every run of that
grid point (one per seed) and every target t in :data:`TARGETS`, the *cost to target* is the
first recorded step with relative suboptimality ≤ t — taken from the trace, so any target works,
not only the suite's ``tolerances`` — expressed in three units:

- ``steps``;
- ``grad_evals``: steps × per-sample gradient evaluations per step (n for a full-batch step on a
  data problem, b for a mini-batch, 1 on analytic problems);
- ``time_s``: steps × ns/step (measured without recording and compilation) × 1e-9.

A (problem, seed, target) triple is *solved within budget B* when its cost is ≤ B. A run that
never reaches t (diverged, stalled, out of budget) has cost ∞: it counts as unsolved, it is never
dropped. The ECDF of a variant is F(B) = share of its triples solved within B, over every problem
it ran on (aggregated) or one problem at a time.

Summary numbers (the table in summary.md):

- *solved*: F(∞), the share of triples solved within the run's own budget;
- *AUC*: the area under F over log B on the common range [B_lo, B_hi] of the unit (B_lo: one step,
  B_hi: the largest budget of any run compared), normalised to [0, 1]; exactly
  mean over triples of max(0, min(1, (log B_hi − log max(c, B_lo)) / (log B_hi − log B_lo))),
  so 1 = every triple solved at once, 0 = none solved within B_hi;
- *steps for 50 %*: the smallest budget B with F(B) ≥ 0.5 (∞ when fewer than half are solved).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .tabular import Table, fmt_num, fmt_pct, fmt_steps

TARGETS: tuple[float, ...] = tuple(10.0 ** -k for k in range(1, 9))
UNITS = ("steps", "grad_evals", "time_s")
UNIT_LABELS = {"steps": "steps", "grad_evals": "gradient evaluations (per sample)", "time_s": "time (s)"}


def first_hits(runs: pd.DataFrame, traces: pd.DataFrame, targets: Sequence[float] = TARGETS) -> np.ndarray:
    """(runs × targets) array: the first recorded step of each run with rel. suboptimality ≤ target;
    ∞ when never (also for a run without a trace)."""
    out = np.full((len(runs), len(targets)), np.inf)
    if traces.empty or not len(runs):
        return out
    t = np.asarray(targets, dtype=float)
    steps = traces["step"].to_numpy(dtype=float)
    rel = traces["rel_suboptimality"].to_numpy(dtype=float)
    index = traces.groupby("run_id", sort=False).indices
    for i, rid in enumerate(runs["run_id"].astype(str)):
        ix = index.get(rid)
        if ix is None:
            continue
        r = np.where(np.isnan(rel[ix]), np.inf, rel[ix])
        best = np.minimum.accumulate(r)  # non-increasing: the first hit of t is a binary search
        pos = np.searchsorted(-best, -t, side="left")
        ok = pos < len(best)
        out[i, ok] = steps[ix][pos[ok]]
    return out


def best_runs(runs: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """The runs (all seeds) of each (problem, variant)'s best grid point."""
    keys = best[["problem", "variant", "run_name"]].astype(str)
    m = runs.merge(keys, on=["problem", "variant", "run_name"], how="inner")
    return m.reset_index(drop=True)


def triples(runs: pd.DataFrame, traces: pd.DataFrame, best: pd.DataFrame,
            targets: Sequence[float] = TARGETS) -> pd.DataFrame:
    """One row per (problem, variant, seed, target) at the best lr, with its cost in every unit."""
    br = best_runs(runs, best)
    hits = first_hits(br, traces, targets)
    ge = br["grad_evals_per_step"].to_numpy(dtype=float)[:, None]
    ns = br["ns_per_step"].to_numpy(dtype=float)[:, None]
    k = len(targets)
    frame = pd.DataFrame({
        "problem": np.repeat(br["problem"].astype(str).to_numpy(), k),
        "variant": np.repeat(br["variant"].astype(str).to_numpy(), k),
        "seed": np.repeat(br["seed"].to_numpy(), k),
        "target": np.tile(np.asarray(targets, dtype=float), len(br)),
        "steps": hits.ravel(),
        "grad_evals": (hits * ge).ravel(),
        "time_s": (hits * ns * 1e-9).ravel(),
        "budget_steps": np.repeat(br["steps_budget"].to_numpy(dtype=float), k),
        "budget_grad_evals": np.repeat(br["steps_budget"].to_numpy(dtype=float) * ge[:, 0], k),
        "budget_time_s": np.repeat(br["steps_budget"].to_numpy(dtype=float) * ns[:, 0] * 1e-9, k),
        "unit_grad_evals": np.repeat(ge[:, 0], k),
        "unit_time_s": np.repeat(ns[:, 0] * 1e-9, k),
    })
    return frame


def budget_range(tr: pd.DataFrame, unit: str) -> tuple[float, float]:
    """[B_lo, B_hi] of a unit over the compared triples: one step of the cheapest run up to the
    largest budget (NaN, NaN where the unit is unknown, e.g. no timing pass)."""
    lo = 1.0 if unit == "steps" else tr[f"unit_{unit}"].min()
    hi = tr[f"budget_{unit}"].max()
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        return math.nan, math.nan
    return float(lo), float(hi)


def ecdf(costs: Sequence[float], budgets: Sequence[float]) -> np.ndarray:
    """F(B) for each budget: share of ``costs`` ≤ B (∞ and NaN costs are never ≤ B)."""
    c = np.asarray(costs, dtype=float)
    b = np.asarray(budgets, dtype=float)
    if c.size == 0:
        return np.full(b.shape, np.nan)
    c = np.where(np.isnan(c), np.inf, c)
    return (c[None, :] <= b[:, None]).mean(axis=1)


def auc(costs: Sequence[float], lo: float, hi: float) -> float:
    """Normalised area under the ECDF over log B in [lo, hi] (formula in the module docstring)."""
    c = np.asarray(costs, dtype=float)
    if c.size == 0 or not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        return math.nan
    c = np.where(np.isnan(c), np.inf, c)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = (math.log(hi) - np.log(np.maximum(c, lo))) / (math.log(hi) - math.log(lo))
    return float(np.clip(np.where(np.isfinite(c), part, 0.0), 0.0, 1.0).mean())


def budget_for_share(costs: Sequence[float], share: float = 0.5) -> float:
    """Smallest budget B with F(B) ≥ share (∞ when the share is never reached)."""
    c = np.sort(np.where(np.isnan(np.asarray(costs, dtype=float)), np.inf, np.asarray(costs, dtype=float)))
    if c.size == 0:
        return math.nan
    return float(c[max(0, math.ceil(share * c.size) - 1)])


def summary(tr: pd.DataFrame, by: Sequence[str] = ("variant",)) -> pd.DataFrame:
    """Per group (variant, or problem and variant): triples, solved share, AUC per unit, steps
    for 50 %. AUC ranges are common to all groups (computed over ``tr``)."""
    ranges = {u: budget_range(tr, u) for u in UNITS}
    rows = []
    for key, g in tr.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        row["problems"] = g["problem"].nunique()
        row["triples"] = len(g)
        row["solved"] = float(np.isfinite(g["steps"]).mean())
        for u in UNITS:
            row[f"auc_{u}"] = auc(g[u], *ranges[u])
        row["steps_50"] = budget_for_share(g["steps"], 0.5)
        rows.append(row)
    return pd.DataFrame(rows)


def ecdf_table(summ: pd.DataFrame, per_problem: bool = False) -> Table:
    lead = ["problem", "optimizer"] if per_problem else ["optimizer", "problems"]
    t = Table([*lead, "triples", "solved", "AUC steps", "AUC grad evals", "AUC time", "steps for 50 %"],
              "ll" + "r" * 6)
    for _, r in summ.iterrows():
        first = [str(r["problem"]), str(r["variant"])] if per_problem else [
            str(r["variant"]), (str(int(r["problems"])), int(r["problems"]))]
        t.add([*first, (str(int(r["triples"])), int(r["triples"])), (fmt_pct(r["solved"]), r["solved"]),
               *[(fmt_num(r[f"auc_{u}"], 2), r[f"auc_{u}"]) for u in UNITS],
               (fmt_steps(r["steps_50"]), r["steps_50"])])
    return t


DOC = ("Runtime ECDF (data profile): for each optimizer at its best lr, the share of (problem, seed, target) "
       "triples solved within a budget, targets 1e-1 … 1e-8 on relative suboptimality, read from the traces; "
       "a run that never reaches a target (diverged, stalled, out of budget) counts as unsolved. *solved*: within "
       "the runs' own budget. *AUC*: area under the ECDF over log budget on the range common to all optimizers "
       "(one step … the largest budget), in [0, 1] = mean over triples of clip((log B_hi − log max(c, B_lo)) / "
       "(log B_hi − log B_lo), 0, 1), c = cost to target (∞ if never). *steps for 50 %*: smallest budget at which "
       "half the triples are solved.")
