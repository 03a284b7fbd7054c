"""Paired comparisons of optimizer variants across seeds.

Seed s draws the same random streams (mini-batches, noise) whatever the optimizer, so two
variants' runs with the same (problem, seed), each at its best lr, form a *pair*. For variants A
and B, over the pairs they share, with c the cost to the target tolerance (steps, or time =
steps × ns/step; ∞ when not reached):

- ratio of a pair: c_A / c_B (1 when both are ∞, 0 or ∞ when only one is);
- *median ratio* over the pairs, taken on log scale (even count: geometric mean of the two middle
  ratios; a 0 and an ∞ in the middle give 1), so that B vs A is exactly the reciprocal of A vs B;
  with a 95 % percentile bootstrap interval (pairs resampled with replacement, :data:`N_BOOT`
  resamples from a fixed seed, so the tables are reproducible); < 1: A needs less;
- *win probability* P(A beats B) = (#pairs with c_A < c_B + ½ · #ties) / #pairs.

With fewer than :data:`MIN_SEEDS` seeds per problem the interval says little about the seed-to-
seed spread, and deterministic runs (full-batch on analytic problems) repeat the same pair under
every seed: the tables then say that the seeds are too few for a conclusion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .tabular import Table, fmt_num, fmt_pct

N_BOOT = 2000
MIN_SEEDS = 5
LEVEL = 0.95


def pair_ratios(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """c_A / c_B per pair (rules in the module docstring)."""
    a = np.where(np.isnan(np.asarray(a, dtype=float)), np.inf, np.asarray(a, dtype=float))
    b = np.where(np.isnan(np.asarray(b, dtype=float)), np.inf, np.asarray(b, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = a / b
    r = np.where(np.isinf(a) & np.isinf(b), 1.0, r)
    r = np.where((a == 0) & (b == 0), 1.0, r)
    return r


def win_probability(a: Sequence[float], b: Sequence[float]) -> float:
    a = np.where(np.isnan(np.asarray(a, dtype=float)), np.inf, np.asarray(a, dtype=float))
    b = np.where(np.isnan(np.asarray(b, dtype=float)), np.inf, np.asarray(b, dtype=float))
    if a.size == 0:
        return math.nan
    return float(((a < b).sum() + 0.5 * (a == b).sum()) / a.size)


def median_ratio(r: np.ndarray, axis: int = -1) -> np.ndarray:
    """The median of ratios taken on log scale, so that the median of B/A is 1 / the median of A/B:
    for an even count the geometric mean of the two middle ratios (0 with a finite one is 0, ∞ with
    a finite one is ∞, 0 with ∞ is 1: the pairs disagree without limit)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.median(np.log(r), axis=axis)
    return np.exp(np.where(np.isnan(m), 0.0, m))


def bootstrap_median(r: Sequence[float], n_boot: int = N_BOOT, level: float = LEVEL,
                     seed: int = 0) -> tuple[float, float, float]:
    """(median ratio, lower bound, upper bound) of ``r`` with a percentile bootstrap interval."""
    r = np.asarray(r, dtype=float)
    if r.size == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    meds = np.sort(median_ratio(r[rng.integers(0, r.size, size=(n_boot, r.size))], axis=1))
    lo = meds[int(math.floor((1 - level) / 2 * (n_boot - 1)))]
    hi = meds[int(math.ceil((1 + level) / 2 * (n_boot - 1)))]
    return float(median_ratio(r)), float(lo), float(hi)


def paired(best_runs: pd.DataFrame, cost: str, variants: Sequence[str]) -> pd.DataFrame:
    """One row per ordered pair (A, B), A ≠ B: pairs, median ratio, interval, win probability.
    ``best_runs``: the runs at each (problem, variant)'s best lr; ``cost``: a column of it."""
    wide = best_runs.pivot(index=["problem", "seed"], columns="variant", values=cost)
    present = best_runs.groupby("variant")["problem"].agg(set)
    prob_of = wide.index.get_level_values("problem")
    cols = {v: wide[v].to_numpy(dtype=float, na_value=np.nan) for v in variants if v in wide}
    rows = []
    for a in variants:
        for b in variants:
            if a == b or a not in cols or b not in cols:
                continue
            shared = present.get(a, set()) & present.get(b, set())
            keep = prob_of.isin(shared)
            ca, cb = cols[a][keep], cols[b][keep]
            r = pair_ratios(ca, cb)
            med, lo, hi = bootstrap_median(r)
            seeds = np.unique(prob_of[keep], return_counts=True)[1].min() if keep.any() else 0
            rows.append({"A": a, "B": b, "pairs": int(keep.sum()), "problems": len(shared), "min_seeds": int(seeds),
                         "median_ratio": med, "lo": lo, "hi": hi, "win": win_probability(ca, cb)})
    return pd.DataFrame(rows)


def seeds_too_few(pairs: pd.DataFrame) -> bool:
    return bool(pairs.empty or pairs["min_seeds"].min() < MIN_SEEDS)


def paired_matrix(pairs: pd.DataFrame, variants: Sequence[str]) -> Table:
    """Rows A, columns B; a cell is 'median ratio [lo–hi] · P(win)'."""
    vs = [v for v in variants if (not pairs.empty) and (v in set(pairs["A"]))]
    t = Table(["A \\ B", *vs], "l" + "r" * len(vs))
    look = {(r["A"], r["B"]): r for _, r in pairs.iterrows()}
    for a in vs:
        cells: list = [a]
        for b in vs:
            r = look.get((a, b))
            if r is None:
                cells.append(("·", math.nan))
                continue
            cells.append((f"{fmt_num(r['median_ratio'], 2)} [{fmt_num(r['lo'], 2)}–{fmt_num(r['hi'], 2)}] · "
                          f"{fmt_pct(r['win'])}", r["median_ratio"]))
        t.add(cells)
    return t


def verdict(pairs: pd.DataFrame) -> str:
    if pairs.empty:
        return "No two optimizers share a problem: nothing to pair."
    s = int(pairs["min_seeds"].min())
    if s < MIN_SEEDS:
        return (f"**Too few seeds for a conclusion**: as few as {s} seed(s) per problem (≥ {MIN_SEEDS} needed); the "
                "intervals below describe these runs, not the spread you would see with other seeds. Deterministic "
                "runs (full batch on analytic problems) repeat the same pair under every seed.")
    return f"{s}+ seeds per problem; pairs pooled over the problems both optimizers ran."


DOC = ("Paired over seeds (seed s draws the same random streams for every optimizer), each at its best lr: a cell "
       "is the median over (problem, seed) pairs of c_A / c_B (on log scale: B vs A is its reciprocal) "
       "[95 % bootstrap interval, "
       f"{N_BOOT} resamples of the pairs] · P(A beats B) = (wins + ½ ties) / pairs, with c the cost to the target "
       "(∞ when not reached; both ∞ = a tie, ratio 1). Ratio < 1 and P > 50 %: the row's optimizer is faster.")
