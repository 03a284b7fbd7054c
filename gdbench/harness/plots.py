"""Figures of a results folder (matplotlib, Agg), all derived from the saved tables.

- ``convergence_steps.png`` / ``convergence_time.png``: median relative suboptimality over seeds
  with the 10–90 % band, per problem, each optimizer at its best lr (log y; time on log x);
- ``lr_sensitivity.png``: median final relative suboptimality against the learning rate;
- ``trajectories.png``: iterates of each optimizer (best lr, first seed) on contour plots of
  the 2-D problems. The driver does not record θ, so θ_t is obtained by re-running the same
  configuration for t steps (exact: same seed, same compiled code) at a few dozen t;
- ``performance_profile.png``: Dolan–Moré profile of ERT to the target tolerance;
- ``timing.png``: ns per step of every optimizer on every problem.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .metrics import performance_profile, steps_col
from .store import atomic_write_bytes
from .tables import estimated_optima, problem_label, summarize

FLOOR = 1e-12  # relative suboptimality at or below this is drawn at it (log scale)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8,
                         "axes.grid": True, "grid.alpha": 0.3})
    return plt


def _styles(variants: list[str]) -> dict[str, dict[str, Any]]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    ls = ["-", "--", "-.", ":"]
    return {v: {"color": cmap(i % 10), "linestyle": ls[(i // 10) % 4]} for i, v in enumerate(variants)}


def _save(fig, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, n)
    return math.ceil(n / cols), cols


def _median_band(traces: dict[str, tuple[np.ndarray, np.ndarray]], run_ids: list[str], budget: int, record_every: int):
    """Common step grid; runs that stopped early keep their last value (converged runs stay
    converged, diverged ones stay at their last, large, value)."""
    grid = np.arange(0, budget + 1, max(1, record_every), dtype=np.int64)
    if grid[-1] != budget:
        grid = np.append(grid, budget)
    vals = []
    for rid in run_ids:
        if rid not in traces:
            continue
        st, r = traces[rid]
        r = np.clip(np.nan_to_num(r, nan=np.inf, posinf=1e300), FLOOR, 1e300)
        idx = np.searchsorted(st, grid, side="right") - 1
        vals.append(r[np.clip(idx, 0, len(r) - 1)])
    if not vals:
        return grid, None
    v = np.vstack(vals)
    return grid, (np.median(v, axis=0), np.quantile(v, 0.1, axis=0), np.quantile(v, 0.9, axis=0))


def _best_lookup(runs: pd.DataFrame, meta: dict[str, Any]):
    s = meta.get("suite", {})
    tols = [float(t) for t in s.get("tolerances", [1e-2, 1e-4, 1e-6, 1e-8])]
    target = float(s.get("target_tol", 1e-4))
    cells, best = summarize(runs, tols, target)
    return cells, best, target


def fig_convergence(runs, traces, meta, best, path: Path, *, time_axis: bool) -> Path | None:
    plt = _plt()
    est = estimated_optima(runs)
    problems = list(dict.fromkeys(runs["problem"]))
    variants = list(dict.fromkeys(runs["variant"]))
    sty = _styles(variants)
    nr, nc = _grid(len(problems))
    fig, axes = plt.subplots(nr, nc, figsize=(4.2 * nc, 3.2 * nr), squeeze=False)
    handles = {}
    for ax, prob in zip(axes.flat, problems):
        for _, b in best[best["problem"] == prob].iterrows():
            g = runs[(runs["problem"] == prob) & (runs["run_name"] == b["run_name"])]
            budget = int(g["steps_budget"].max())
            grid, mb = _median_band(traces, list(g["run_id"]), budget, int(g["record_every"].iloc[0]))
            if mb is None:
                continue
            med, lo, hi = mb
            x = grid.astype(float)
            if time_axis:
                ns = float(g["ns_per_step"].median())
                if not np.isfinite(ns):
                    continue
                x = np.maximum(x, 1) * ns * 1e-9
            st = sty[b["variant"]]
            (h,) = ax.plot(x, med, lw=1.4, **st, label=f"{b['variant']}")
            ax.fill_between(x, lo, hi, color=st["color"], alpha=0.15, lw=0)
            handles[b["variant"]] = h
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, 1e2)
        if time_axis:
            ax.set_xscale("log")
            ax.set_xlabel("compute time (s, ns/step × steps; log)")
        else:
            ax.set_xlabel("step")
        ax.set_ylabel("(f − f*) / (f₀ − f*)")
        ax.set_title(problem_label(prob, est))
    for ax in list(axes.flat)[len(problems):]:
        ax.set_visible(False)
    order = [v for v in variants if v in handles]
    fig.legend([handles[v] for v in order], order, loc="lower center", ncol=min(len(order), 9),
               bbox_to_anchor=(0.5, -0.01), frameon=False)
    what = "time" if time_axis else "steps"
    fig.suptitle(f"Convergence vs {what} at each optimizer's best lr: median over seeds, band = 10–90 %", y=1.0)
    fig.tight_layout(rect=(0, 0.05, 1, 0.98))
    return _save(fig, path)


def fig_lr_sensitivity(runs, cells, path: Path) -> Path | None:
    plt = _plt()
    problems = list(dict.fromkeys(runs["problem"]))
    variants = list(dict.fromkeys(runs["variant"]))
    if cells.groupby(["problem", "variant"])["lr"].nunique().max() < 2:
        return None
    sty = _styles(variants)
    nr, nc = _grid(len(problems))
    fig, axes = plt.subplots(nr, nc, figsize=(4.2 * nc, 3.2 * nr), squeeze=False)
    handles = {}
    for ax, prob in zip(axes.flat, problems):
        c = cells[cells["problem"] == prob]
        for v in variants:
            cv = c[c["variant"] == v].groupby("lr", as_index=False).agg(
                fin=("final_rel_med", "min"), div=("diverged", "sum"), seeds=("seeds", "sum"))
            if cv.empty:
                continue
            y = np.clip(cv["fin"].to_numpy(dtype=float), FLOOR, None)
            y = np.where(np.isfinite(y), y, 10.0)  # every seed diverged: drawn at the top
            st = sty[v]
            (h,) = ax.plot(cv["lr"], y, marker="o", ms=3.5, lw=1.2, **st)
            alld = cv["div"] >= cv["seeds"]
            if alld.any():
                ax.plot(cv["lr"][alld], y[alld.to_numpy()], "x", color=st["color"], ms=8, mew=2)
            handles[v] = h
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, 1e2)
        ax.set_xlabel("learning rate (log)")
        ax.set_ylabel("final (f − f*)/(f₀ − f*), median")
        ax.set_title(prob)
    for ax in list(axes.flat)[len(problems):]:
        ax.set_visible(False)
    order = [v for v in variants if v in handles]
    fig.legend([handles[v] for v in order], order, loc="lower center", ncol=min(len(order), 9),
               bbox_to_anchor=(0.5, -0.01), frameon=False)
    fig.suptitle("Learning-rate sensitivity (× at the top: every seed diverged)", y=1.0)
    fig.tight_layout(rect=(0, 0.05, 1, 0.98))
    return _save(fig, path)


def _config_of(row: pd.Series) -> dict[str, Any]:
    cfg: dict[str, Any] = json.loads(row["hyper"]) if row.get("hyper") else {"lr": float(row["lr"])}
    cfg["seed"] = int(row["seed"])
    b = int(row["batch_size"])
    cfg["batch_size"] = b if b > 0 else None
    for k in ("schedule", "clip"):
        v = row.get(k)
        if isinstance(v, str) and v:
            cfg[k] = json.loads(v)
    sch = cfg.get("schedule")
    if sch is not None:
        sch = {"name": sch} if isinstance(sch, str) else dict(sch)
        if sch.get("name") == "cosine" and sch.get("T_max") is None:
            sch["T_max"] = int(row["steps_budget"])  # the run's own horizon, not the replay's
        cfg["schedule"] = sch
    if float(row.get("noise") or 0) > 0:
        cfg["noise"] = float(row["noise"])
    return cfg


def trajectory(problem, rule: str, cfg: dict[str, Any], steps: int, points: int = 60) -> np.ndarray:
    """θ_t at ~``points`` steps t ≤ ``steps`` by re-running the configuration for t steps."""
    import gdbench

    ts = np.unique(np.concatenate([[0], np.geomspace(1, max(steps, 1), points).astype(int),
                                   np.linspace(0, steps, points // 2).astype(int)]))
    path = [problem.x0.copy()]
    for t in ts[1:]:
        r = gdbench.sweep(problem, rule, [cfg], steps=int(t), record_every=0, threads=1)
        th = r.theta[0]
        if not np.isfinite(th).all():
            break
        path.append(th.copy())
        if r.steps_done[0] < t:  # diverged: stop
            break
    return np.array(path)


def fig_trajectories(runs, best, path: Path) -> Path | None:
    from .worker import build_problem

    two_d = [p for p in dict.fromkeys(runs["problem"]) if int(runs.loc[runs["problem"] == p, "dim"].iloc[0]) == 2]
    if not two_d:
        return None
    plt = _plt()
    variants = list(dict.fromkeys(runs["variant"]))
    sty = _styles(variants)
    nr, nc = _grid(len(two_d))
    fig, axes = plt.subplots(nr, nc, figsize=(4.6 * nc, 4.0 * nr), squeeze=False)
    handles = {}
    for ax, prob in zip(axes.flat, two_d):
        first = runs[runs["problem"] == prob].iloc[0]
        problem = build_problem(str(first["problem_name"]), json.loads(first["problem_params"] or "{}"))
        paths: dict[str, np.ndarray] = {}
        pb = best[best["problem"] == prob]
        per_lr = pb["variant"].nunique() == 1  # one optimizer: show every grid point (e.g. lr regimes)
        names = (list(runs.loc[runs["problem"] == prob, "run_name"].drop_duplicates())[:6] if per_lr
                 else list(pb["run_name"]))
        for rn in names:
            g = runs[(runs["problem"] == prob) & (runs["run_name"] == rn)].sort_values("seed")
            row = g.iloc[0]
            key = f"lr={row['lr']:g}" if per_lr else str(row["variant"])
            try:
                paths[key] = trajectory(problem, str(row["rule"]), _config_of(row), int(row["steps_done"]))
            except ValueError:  # a plugin rule not loaded in this process: no path to redraw
                continue
        # view box: start, optimum, and the path points that did not run away
        f0 = problem.loss(problem.x0)
        pts = [problem.x0[None, :]]
        if problem.x_star is not None:
            pts.append(problem.x_star[None, :])
        spread = max(abs(f0 - problem.f_star), 1e-12)
        for key, p in list(paths.items()):
            keep = np.array([problem.loss(x) - problem.f_star <= 10 * spread for x in p])
            if not keep.all():  # running away: draw it up to its first point far uphill
                p = paths[key] = p[: int(np.argmin(keep)) + 1]
                keep = keep[: len(p)]
            pts.append(p[keep])
        allp = np.vstack(pts)
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        span = np.maximum(hi - lo, 0.5)
        lo, hi = lo - 0.15 * span, hi + 0.15 * span
        xs = np.linspace(lo[0], hi[0], 160)
        ys = np.linspace(lo[1], hi[1], 160)
        Z = np.array([[problem.loss(np.array([x, y])) for x in xs] for y in ys])
        zmin = min(Z.min(), problem.f_star)
        levels = zmin + np.geomspace(max((Z.max() - zmin) * 1e-5, 1e-8), Z.max() - zmin, 18)
        ax.contour(xs, ys, Z, levels=levels, colors="0.6", linewidths=0.6, linestyles="solid")
        lr_colors = _styles(list(paths))
        for v, p in paths.items():
            st = lr_colors[v] if per_lr else sty[v]
            (h,) = ax.plot(p[:, 0], p[:, 1], lw=1.2, marker=".", ms=2.5, label=v, **st)
            if not per_lr:
                handles[v] = h
        if per_lr:
            ax.legend(loc="best", fontsize=7, title=str(pb["variant"].iloc[0]), title_fontsize=7)
        ax.plot(*problem.x0, "ks", ms=5)
        if problem.x_star is not None:
            ax.plot(*problem.x_star, "k*", ms=10)
        if "f_saddle" in problem.info:
            ax.plot(0.0, 0.0, "kx", ms=8, mew=2)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        names = ("w", "b") if problem.kind == "data" else ("θ₁", "θ₂")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        marks = "■ start" + (", ★ optimum" if problem.x_star is not None else "") + (
            ", × saddle point" if "f_saddle" in problem.info else "")
        ax.set_title(f"{prob} ({marks})")
    for ax in list(axes.flat)[len(two_d):]:
        ax.set_visible(False)
    order = [v for v in variants if v in handles]
    if order:
        fig.legend([handles[v] for v in order], order, loc="lower center", ncol=min(len(order), 9),
                   bbox_to_anchor=(0.5, -0.01), frameon=False)
    fig.suptitle("Iterates on the 2-D problems (best lr, or every lr for a single optimizer; first seed; "
                 "contours of f, log-spaced)", y=1.0)
    fig.tight_layout(rect=(0, 0.05, 1, 0.98))
    return _save(fig, path)


def fig_performance_profile(best, target: float, path: Path) -> Path | None:
    costs = best.pivot(index="problem", columns="variant", values="ert")
    if costs.shape[0] < 1 or costs.shape[1] < 2:
        return None
    variants = list(dict.fromkeys(best["variant"]))
    costs = costs[variants]
    finite = costs.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    best_row = costs.min(axis=1)
    ratios = (costs.div(best_row, axis=0)).to_numpy(dtype=float)
    rmax = np.nanmax(ratios[np.isfinite(ratios)]) if np.isfinite(ratios).any() else 10.0
    taus = np.geomspace(1.0, max(2.0, rmax * 1.5), 400)
    prof = performance_profile(costs, taus)
    plt = _plt()
    sty = _styles(variants)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for v in variants:
        ax.step(taus, prof[v], where="post", lw=1.5, label=v, **sty[v])
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("τ (cost ≤ τ × the best optimizer's cost on that problem; log)")
    ax.set_ylabel("share of problems solved")
    ax.set_title(f"Performance profile: ERT to rel. suboptimality {target:.0e} at the best lr "
                 f"({costs.shape[0]} problems)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def fig_timing(runs, path: Path) -> Path | None:
    t = runs.groupby(["problem", "variant"], sort=False)["ns_per_step"].median().reset_index()
    t = t[np.isfinite(t["ns_per_step"])]
    if t.empty:
        return None
    plt = _plt()
    from matplotlib.ticker import NullFormatter

    problems = list(dict.fromkeys(t["problem"]))
    variants = list(dict.fromkeys(runs["variant"]))
    sty = _styles(variants)
    nr, nc = _grid(len(problems))
    fig, axes = plt.subplots(nr, nc, figsize=(4.2 * nc, 0.28 * len(variants) * nr + 1.2 * nr), squeeze=False)
    for ax, prob in zip(axes.flat, problems):
        tp = t[t["problem"] == prob]
        y = np.arange(len(tp))
        ax.barh(y, tp["ns_per_step"], color=[sty[v]["color"] for v in tp["variant"]])
        ax.set_yticks(y, list(tp["variant"]))
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("ns per step (1 thread, no recording; log)")
        ax.set_title(prob)
        ax.xaxis.set_minor_formatter(NullFormatter())
        for yi, val in zip(y, tp["ns_per_step"]):
            ax.text(val, yi, f" {val:.0f}" if val >= 100 else f" {val:.3g}", va="center", fontsize=7)
        ax.set_xlim(tp["ns_per_step"].min() / 2, tp["ns_per_step"].max() * 6)
    for ax in list(axes.flat)[len(problems):]:
        ax.set_visible(False)
    fig.suptitle("Cost per step (median over the variant's runs)", y=1.0)
    fig.tight_layout()
    return _save(fig, path)


def make_figures(runs: pd.DataFrame, traces: pd.DataFrame, meta: dict[str, Any], outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    cells, best, target = _best_lookup(runs, meta)
    made = []
    if not traces.empty:
        steps = traces["step"].to_numpy()
        rel = traces["rel_suboptimality"].to_numpy(dtype=float)
        by_run = {str(rid): (steps[ix], rel[ix]) for rid, ix in traces.groupby("run_id", sort=False).indices.items()}
        made.append(fig_convergence(runs, by_run, meta, best, outdir / "convergence_steps.png", time_axis=False))
        made.append(fig_convergence(runs, by_run, meta, best, outdir / "convergence_time.png", time_axis=True))
    made.append(fig_lr_sensitivity(runs, cells, outdir / "lr_sensitivity.png"))
    made.append(fig_trajectories(runs, best, outdir / "trajectories.png"))
    made.append(fig_performance_profile(best, target, outdir / "performance_profile.png"))
    made.append(fig_timing(runs, outdir / "timing.png"))
    from .plots_basins import fig_basin_maps  # basin maps: the basins table next to outdir

    made.append(fig_basin_maps(runs, best, outdir.parent, outdir / "basin_maps.png"))
    return [p for p in made if p is not None]


__all__ = ["make_figures", "trajectory", "steps_col"]
