"""One number per optimizer variant, AlgoPerf-style, and its speed-up against a baseline.

Costs are each variant's ERT to the target tolerance at its best lr, per problem, in steps or in
time (ERT × ns/step); a problem a variant did not run on, or never solved, costs ∞.

- performance ratio on problem p: r_p = cost_p / (the smallest cost of any variant on p);
- performance profile ρ(τ) = share of the suite's problems with r_p ≤ τ (``metrics.performance_profile``);
- **score** = ∫₁⁴ ρ(τ) dτ / 3 (AlgoPerf, Dahl et al. 2023, with r_max = 4: a ratio beyond 4× earns
  nothing). As ρ is a step function this is exactly mean over problems of max(0, 4 − r_p) / 3 for
  r_p ≤ 4: 1 = fastest everywhere, 0 = never within 4× of the fastest;
- **speed-up vs the baseline** (the suite's ``baseline`` variant) = geometric mean over the problems
  both solved of cost_baseline / cost_variant (> 1: faster than the baseline).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .metrics import performance_profile
from .tabular import Table, fmt_num

TAU_MAX = 4.0


def profile_score(costs: pd.DataFrame, tau_max: float = TAU_MAX) -> pd.Series:
    """∫₁^τmax ρ_s(τ) dτ / (τmax − 1) per solver column of ``costs`` (rows = problems),
    integrating the step function ``performance_profile`` exactly between its breakpoints."""
    c = costs.astype(float).where(lambda x: np.isfinite(x), np.inf)
    best = c.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = c.div(best, axis=0).to_numpy(dtype=float).ravel()
    knots = ratios[np.isfinite(ratios) & (ratios > 1) & (ratios < tau_max)]
    taus = np.unique(np.concatenate([[1.0, tau_max], knots]))
    rho = performance_profile(costs, taus).to_numpy()  # ρ is right-continuous and constant between knots
    area = (rho[:-1] * np.diff(taus)[:, None]).sum(axis=0)
    return pd.Series(area / (tau_max - 1.0), index=costs.columns)


def geomean_speedup(costs: pd.DataFrame, baseline: str) -> tuple[pd.Series, pd.Series]:
    """(speed-up, number of problems both solved) per column against the ``baseline`` column."""
    c = costs.astype(float)
    base = c[baseline]
    sp, n = {}, {}
    for v in c.columns:
        ok = np.isfinite(c[v]) & np.isfinite(base) & (c[v] > 0) & (base > 0)
        n[v] = int(ok.sum())
        sp[v] = float(np.exp(np.mean(np.log(base[ok] / c[v][ok])))) if ok.any() else math.nan
    return pd.Series(sp), pd.Series(n)


def cost_matrix(best: pd.DataFrame, problems: Sequence[str], variants: Sequence[str], unit: str) -> pd.DataFrame:
    """Rows = every problem of the suite, columns = variants; ∞ where a variant did not run or failed."""
    b = best.assign(cost=best["ert"].astype(float) * (1.0 if unit == "steps" else best["ns_per_step_med"] * 1e-9))
    m = b.pivot(index="problem", columns="variant", values="cost")
    return m.reindex(index=list(problems), columns=list(variants)).astype(float).fillna(np.inf)


def scores(best: pd.DataFrame, problems: Sequence[str], variants: Sequence[str],
           baseline: str | None) -> pd.DataFrame:
    rows = pd.DataFrame({"variant": list(variants)}).set_index("variant")
    rows["problems_run"] = best.groupby("variant")["problem"].nunique().reindex(rows.index).fillna(0).astype(int)
    rows["problems"] = len(problems)
    for unit in ("steps", "time"):
        costs = cost_matrix(best, problems, variants, unit)
        if unit == "time" and not np.isfinite(costs.to_numpy()).any():
            rows[f"score_{unit}"] = math.nan
            continue
        rows[f"score_{unit}"] = profile_score(costs)
        if baseline is not None and baseline in costs:
            sp, n = geomean_speedup(costs, baseline)
            rows[f"speedup_{unit}"], rows[f"both_{unit}"] = sp, n
    return rows.reset_index()


def score_table(sc: pd.DataFrame, baseline: str | None) -> Table:
    head = ["optimizer", "problems run", "score (steps)", "score (time)"]
    if baseline is not None and "speedup_steps" in sc:
        head += [f"speed-up vs {baseline} (steps)", f"speed-up vs {baseline} (time)", "problems both solved"]
    t = Table(head, "l" + "r" * (len(head) - 1))
    for _, r in sc.iterrows():
        cells: list = [str(r["variant"]), (f"{int(r['problems_run'])}/{int(r['problems'])}", int(r["problems_run"])),
                       (fmt_num(r["score_steps"], 3), r["score_steps"]), (fmt_num(r["score_time"], 3), r["score_time"])]
        if len(head) > 4:
            cells += [(fmt_num(r["speedup_steps"], 3), r["speedup_steps"]),
                      (fmt_num(r.get("speedup_time"), 3), r.get("speedup_time", math.nan)),
                      (str(int(r["both_steps"])), int(r["both_steps"]))]
        t.add(cells)
    return t


DOC = ("score = ∫₁⁴ ρ(τ) dτ / 3 (AlgoPerf with r_max = 4), ρ(τ) = share of the suite's problems on which the "
       "optimizer's ERT to the target at its best lr is ≤ τ × the fastest optimizer's; equal to the mean over "
       "problems of max(0, 4 − r_p)/3 with r_p = cost/fastest cost (∞ when not solved or not run). 1 = fastest "
       "on every problem; 0 = never within 4×. Speed-up = geometric mean over the problems both solved of "
       "ERT_baseline / ERT_optimizer (> 1: faster than the baseline); time = ERT × ns/step.")
