"""Figures of a results folder (matplotlib, Agg), all derived from the saved tables — a report
never builds a problem or runs a sweep.

- ``convergence_steps.png`` / ``convergence_time.png``: median relative suboptimality over seeds
  with the 10–90 % band, per problem, each optimizer at its best lr (log y; time on log x);
- ``lr_sensitivity.png``: median final relative suboptimality against the learning rate (on
  quadratics, the lr regimes 1/L and 2/L of gradient descent are marked);
- ``trajectories.png``: iterates of each optimizer (best lr, first seed) on the 2-D problems,
  read from the traces (``theta_0``, ``theta_1``), over contours of the loss grid the worker saved
  with the runs (column ``contour``);
- ``performance_profile.png``: Dolan–Moré profile of ERT to the target tolerance;
- ``timing.png``: ns per step of every optimizer on every problem;
- ``ecdf.png`` / ``ecdf_problems.png``: runtime ECDFs (:mod:`.ecdf`) aggregated (steps, gradient
  evaluations, time) and per problem (steps);
- ``tuning.png``: expected best result after k random trials of the grid (:mod:`.robustness`);
- ``theory_kappa.png``: steps to 1e-6 against κ on quadratics beside the textbook rates
  (:mod:`.theory`; only for suites with quadratics of several condition numbers).
"""

from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import ecdf as ecdf_mod
from . import robustness, theory
from .analysis import Analysis
from .metrics import performance_profile, steps_col
from .store import atomic_write_bytes
from .tables import estimated_optima, problem_label

FLOOR = 1e-12  # relative suboptimality at or below this is drawn at it (log scale)
_LEGEND_BELOW = (0, 0.05, 1, 0.98)  # tight_layout's rect when a figure legend sits below the panels


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8,
                         "axes.grid": True, "grid.alpha": 0.3,
                         # the layout is _save's tight_layout, whatever a matplotlibrc says
                         "figure.autolayout": False, "figure.constrained_layout.use": False})
    return plt


def _styles(variants: list[str]) -> dict[str, dict[str, Any]]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    ls = ["-", "--", "-.", ":"]
    return {v: {"color": cmap(i % 10), "linestyle": ls[(i // 10) % 4]} for i, v in enumerate(variants)}


_SUPERSCRIPT = str.maketrans("0123456789-\u2212", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")
_MATHTEXT_LABEL = re.compile(r"\$\\mathdefault\{(.*)\}\$")
_POWER = re.compile("\\^\\{([-\u2212]?[0-9]+)\\}")


def plain_power_label(label: str) -> str:
    """``$\\mathdefault{10^{-3}}$`` (matplotlib's log-axis label) as ``10⁻³``, and
    ``2\\times10^{1}`` as ``2×10¹``: the same text without mathtext, whose parser took ~0.1 s
    per distinct label and process. Anything else is returned unchanged."""
    m = _MATHTEXT_LABEL.fullmatch(label)
    if m is None:
        return label
    body = _POWER.sub(lambda e: e.group(1).translate(_SUPERSCRIPT), m.group(1).replace(r"\times", "×"))
    return label if any(c in body for c in "\\^{}$") else body


@functools.cache
def _plain_powers() -> type:
    from matplotlib.ticker import LogFormatterSciNotation

    class PlainPowers(LogFormatterSciNotation):
        """matplotlib's log-axis labels, without mathtext (:func:`plain_power_label`)."""

        def __call__(self, x, pos=None):
            return plain_power_label(super().__call__(x, pos))

    return PlainPowers


def _plain_log_formatter(f):
    """A copy of the log-axis formatter ``f`` (same base, thresholds) that writes plain labels."""
    return _plain_powers()(base=getattr(f, "_base", 10.0), labelOnlyBase=f.labelOnlyBase,
                           minor_thresholds=f.minor_thresholds, linthresh=getattr(f, "_linthresh", None))


def _lean_log_axes(fig) -> None:
    """Log axes drawn for less: no minor ticks where they span more than 3 decades (a panel
    spanning 14 decades otherwise builds ~130 unlabelled tick artists per axis, and laying them out
    was most of a figure's cost; the grid and the labels sit at the major ticks, so the picture
    loses only the small marks; a shorter log axis keeps them, and matplotlib may label them), and
    labels such as 10⁻³ as plain text with superscript digits instead of mathtext
    (:func:`plain_power_label`)."""
    from matplotlib.ticker import LogFormatterSciNotation, NullLocator

    for ax in fig.axes:
        for axis, scale, (lo, hi) in ((ax.xaxis, ax.get_xscale(), ax.get_xlim()),
                                      (ax.yaxis, ax.get_yscale(), ax.get_ylim())):
            lo, hi = sorted((lo, hi))
            if scale == "log" and lo > 0 and hi > 1e3 * lo:
                axis.set_minor_locator(NullLocator())
            if type(axis.get_major_formatter()) is LogFormatterSciNotation:
                axis.set_major_formatter(_plain_log_formatter(axis.get_major_formatter()))
            if type(axis.get_minor_formatter()) is LogFormatterSciNotation:
                axis.set_minor_formatter(_plain_log_formatter(axis.get_minor_formatter()))


def _save(fig, path: Path, rect: tuple[float, float, float, float] | None = None) -> Path:
    """Lay ``fig`` out (``tight_layout`` within ``rect``), write it to ``path`` as PNG, close it.
    The PNG is cropped or grown to what was drawn (``bbox_inches="tight"``, one more layout pass):
    without it a title wider than its panel, or a figure title, is cut at the canvas edge."""
    import io

    import matplotlib

    _lean_log_axes(fig)
    fig.tight_layout(**({} if rect is None else {"rect": rect}))
    # tight_layout leaves a placeholder layout engine behind, and savefig lays out the whole figure
    # once more for any engine (a draw with rendering off, for constrained layout's sake): without
    # an engine it draws once (the same PNG, ~15 % less time per figure; _plt turns the rcParams
    # that would make None mean an engine off)
    fig.set_layout_engine(None)
    # the tight box from the layout just made (what bbox_inches="tight" computes, without the
    # extra draw savefig makes to find it: ~a third of a figure's saving time)
    bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches=bbox)
    atomic_write_bytes(path, buf.getvalue())
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _finish_panels(fig, axes, used: int, handles: dict, variants: list, title: str, path: Path) -> Path:
    """Hide the unused panels, one legend for the whole figure (in ``variants`` order), the title,
    and save."""
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)
    order = [v for v in variants if v in handles]
    fig.legend([handles[v] for v in order], order, loc="lower center", ncol=min(len(order), 9),
               bbox_to_anchor=(0.5, 0.0), frameon=False)
    fig.suptitle(title, y=1.0)
    return _save(fig, path, rect=_LEGEND_BELOW)


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


def _is_data(problem_name: str) -> bool:
    from ..problems import PROBLEMS

    mod = PROBLEMS.get(problem_name)
    return mod is not None and mod.KIND == "data"


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
               bbox_to_anchor=(0.5, 0.0), frameon=False)
    what = "time" if time_axis else "steps"
    fig.suptitle(f"Convergence vs {what} at each optimizer's best lr: median over seeds, band = 10–90 %", y=1.0)
    return _save(fig, path, rect=_LEGEND_BELOW)


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
        regimes = theory.lr_regimes(runs, prob)
        if regimes is not None:
            for x, name in zip(regimes, ("1/L", "2/L")):
                ax.axvline(x, color="0.3", lw=0.9, ls=":")
                ax.text(x, 3e1, f" {name}", fontsize=7, color="0.2", va="center")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, 1e2)
        ax.set_xlabel("learning rate (log)")
        ax.set_ylabel("final (f − f*)/(f₀ − f*), median")
        ax.set_title(prob)
    return _finish_panels(fig, axes, len(problems), handles, variants,
                          "Learning-rate sensitivity (× at the top: every seed diverged; quadratics: GD converges "
                          "for lr < 2/L, without overshoot for lr ≤ 1/L)", path)


def _contour_of(runs: pd.DataFrame, prob: str) -> dict[str, Any] | None:
    """The widest loss grid the workers saved for a 2-D problem (one per group), or None."""
    if "contour" not in runs:
        return None
    grids = [json.loads(c) for c in runs.loc[runs["problem"] == prob, "contour"] if isinstance(c, str) and c]
    if not grids:
        return None
    return max(grids, key=lambda g: (g["x"][1] - g["x"][0]) * (g["y"][1] - g["y"][0]))


def trajectory(traces_by_run: dict[str, pd.DataFrame], row: pd.Series) -> np.ndarray | None:
    """The recorded iterates θ_t of one run (traces ``theta_0``, ``theta_1``), up to its first point
    far uphill (f − f* > 10 (f0 − f*)) when it runs away."""
    t = traces_by_run.get(str(row["run_id"]))
    if t is None or "theta_1" not in t:
        return None
    p = t[["theta_0", "theta_1"]].to_numpy(dtype=float)
    sub = t["loss"].to_numpy(dtype=float) - float(row["f_star"])
    spread = max(abs(float(row["f0"]) - float(row["f_star"])), 1e-12)
    keep = np.isfinite(p).all(axis=1) & (sub <= 10 * spread)
    if not keep.all():
        p = p[: int(np.argmin(keep)) + 1]
        p = p[np.isfinite(p).all(axis=1)]
    return p


def fig_trajectories(runs, traces, best, path: Path) -> Path | None:
    """Iterates on the 2-D problems, read from the traces, over the loss grid the worker saved."""
    if traces.empty or "theta_1" not in traces:
        return None
    two_d = [p for p in dict.fromkeys(runs["problem"]) if int(runs.loc[runs["problem"] == p, "dim"].iloc[0]) == 2]
    if not two_d:
        return None
    ids = set(runs.loc[runs["problem"].isin(two_d), "run_id"].astype(str))
    sub = traces[traces["run_id"].astype(str).isin(ids)]
    by_run = {str(k): g for k, g in sub.groupby("run_id", sort=False)}
    plt = _plt()
    variants = list(dict.fromkeys(runs["variant"]))
    sty = _styles(variants)
    nr, nc = _grid(len(two_d))
    fig, axes = plt.subplots(nr, nc, figsize=(4.6 * nc, 4.0 * nr), squeeze=False)
    handles = {}
    for ax, prob in zip(axes.flat, two_d):
        pr = runs[runs["problem"] == prob]
        grid = _contour_of(runs, prob)
        paths: dict[str, np.ndarray] = {}
        pb = best[best["problem"] == prob]
        per_lr = pb["variant"].nunique() == 1  # one optimizer: show every grid point (e.g. lr regimes)
        names = list(pr["run_name"].drop_duplicates())[:6] if per_lr else list(pb["run_name"])
        for rn in names:
            row = pr[pr["run_name"] == rn].sort_values("seed").iloc[0]
            key = f"lr={row['lr']:g}" if per_lr else str(row["variant"])
            p = trajectory(by_run, row)
            if p is not None and len(p):
                paths[key] = p
        if not paths:
            ax.set_visible(False)
            continue
        x0 = next(iter(paths.values()))[0]
        x_star = None if grid is None or grid.get("x_star") is None else np.asarray(grid["x_star"])
        allp = np.vstack([x0[None, :], *([x_star[None, :]] if x_star is not None else []), *paths.values()])
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        span = np.maximum(hi - lo, 0.5)
        lo, hi = lo - 0.15 * span, hi + 0.15 * span
        if grid is not None:
            Z = np.asarray(grid["z"], dtype=float)
            xs = np.linspace(grid["x"][0], grid["x"][1], Z.shape[1])
            ys = np.linspace(grid["y"][0], grid["y"][1], Z.shape[0])
            zmin = min(np.nanmin(Z), 0.0)
            zmax = np.nanmax(Z)
            if zmax > zmin:
                levels = zmin + np.geomspace(max((zmax - zmin) * 1e-5, 1e-8), zmax - zmin, 18)
                ax.contour(xs, ys, Z, levels=levels, colors="0.6", linewidths=0.6, linestyles="solid")
        lr_colors = _styles(list(paths))
        for v, p in paths.items():
            st = lr_colors[v] if per_lr else sty[v]
            (h,) = ax.plot(p[:, 0], p[:, 1], lw=1.2, marker=".", ms=2.5, label=v, **st)
            if not per_lr:
                handles[v] = h
        if per_lr:
            ax.legend(loc="best", fontsize=7, title=str(pb["variant"].iloc[0]), title_fontsize=7)
        ax.plot(*x0, "ks", ms=5)
        if x_star is not None:
            ax.plot(*x_star, "k*", ms=10)
        saddle = grid is not None and grid.get("saddle") is not None
        if saddle:
            ax.plot(*grid["saddle"], "kx", ms=8, mew=2)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        names = ("w", "b") if _is_data(str(pr["problem_name"].iloc[0])) else ("θ₁", "θ₂")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        marks = "■ start" + (", ★ optimum" if x_star is not None else "") + (", × saddle point" if saddle else "")
        ax.set_title(f"{prob} ({marks})")
    for ax in list(axes.flat)[len(two_d):]:
        ax.set_visible(False)
    order = [v for v in variants if v in handles]
    if order:
        fig.legend([handles[v] for v in order], order, loc="lower center", ncol=min(len(order), 9),
                   bbox_to_anchor=(0.5, 0.0), frameon=False)
    fig.suptitle("Iterates on the 2-D problems (best lr, or every lr for a single optimizer; first seed; "
                 "contours of f, log-spaced)", y=1.0)
    return _save(fig, path, rect=_LEGEND_BELOW)


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
    return _save(fig, path)


def _ecdf_xy(costs: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    b = np.geomspace(lo, hi, 300)
    return b, ecdf_mod.ecdf(costs, b)


def fig_ecdf(a: Analysis, path: Path) -> Path | None:
    tr = a.triples
    units = [u for u in ecdf_mod.UNITS if np.isfinite(ecdf_mod.budget_range(tr, u)[0])]
    if tr.empty or not units:
        return None
    plt = _plt()
    sty = _styles(a.variants)
    fig, axes = plt.subplots(1, len(units), figsize=(4.4 * len(units), 3.6), squeeze=False)
    for ax, u in zip(axes.flat, units):
        lo, hi = ecdf_mod.budget_range(tr, u)
        for v, g in tr.groupby("variant", sort=False):
            x, y = _ecdf_xy(g[u].to_numpy(), lo, hi)
            ax.step(x, y, where="post", lw=1.4, label=v, **sty[v])
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"budget: {ecdf_mod.UNIT_LABELS[u]} (log)")
        ax.set_ylabel("share of (problem, seed, target) solved")
    axes.flat[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.suptitle("Runtime ECDF at the best lr, targets 1e-1 … 1e-8, all problems (failed runs count as unsolved)",
                 y=1.0)
    return _save(fig, path)


def fig_ecdf_problems(a: Analysis, path: Path) -> Path | None:
    tr = a.triples
    if tr.empty:
        return None
    plt = _plt()
    sty = _styles(a.variants)
    nr, nc = _grid(len(a.problems))
    fig, axes = plt.subplots(nr, nc, figsize=(4.2 * nc, 3.2 * nr), squeeze=False)
    handles = {}
    for ax, prob in zip(axes.flat, a.problems):
        tp = tr[tr["problem"] == prob]
        lo, hi = ecdf_mod.budget_range(tp, "steps")
        if not np.isfinite(lo):
            continue
        for v, g in tp.groupby("variant", sort=False):
            x, y = _ecdf_xy(g["steps"].to_numpy(), lo, hi)
            (handles[v],) = ax.step(x, y, where="post", lw=1.4, **sty[v])
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("budget: steps (log)")
        ax.set_ylabel("share of (seed, target) solved")
        ax.set_title(prob)
    return _finish_panels(fig, axes, len(a.problems), handles, a.variants,
                          "Runtime ECDF per problem at the best lr (targets 1e-1 … 1e-8)", path)


def fig_tuning(a: Analysis, path: Path) -> Path | None:
    if a.robust.empty:
        return None
    plt = _plt()
    sty = _styles(a.variants)
    nr, nc = _grid(len(a.problems))
    fig, axes = plt.subplots(nr, nc, figsize=(4.2 * nc, 3.2 * nr), squeeze=False)
    handles = {}
    kmax = int(max(16, a.robust["trials"].max()))
    ks = np.arange(1, kmax + 1)
    for ax, prob in zip(axes.flat, a.problems):
        for v in a.variants:
            r = a.runs[(a.runs["problem"] == prob) & (a.runs["variant"] == v)]
            if r.empty:
                continue
            y = np.clip(robustness.expected_best_curve(r, kmax), FLOOR, None)
            (handles[v],) = ax.plot(ks, y, lw=1.3, **sty[v])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("k random trials of the grid (log)")
        ax.set_ylabel("E[best final (f − f*)/(f₀ − f*)]")
        ax.set_title(prob)
    return _finish_panels(fig, axes, len(a.problems), handles, a.variants,
                          "Expected best result after k random trials of the grid (Sivaprasad et al. 2020)", path)


def fig_kappa(a: Analysis, path: Path) -> Path | None:
    kp = a.kappa
    if kp.empty:
        return None
    plt = _plt()
    sty = _styles(a.variants)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ks = np.array(sorted(set(kp["kappa"])), dtype=float)
    for v, g in kp.groupby("variant", sort=False):
        y = g["steps"].to_numpy(dtype=float)
        ax.plot(g["kappa"], np.where(np.isfinite(y), y, np.nan), marker="o", lw=1.5, label=f"{v} (tuned)", **sty[v])
    for (name, vals), ls in zip(theory.rate_lines(ks).items(), ("--", ":")):
        ax.plot(ks, vals, color="0.25", ls=ls, lw=1.2, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("condition number κ (log)")
    ax.set_ylabel("steps to (f − f*)/(f₀ − f*) ≤ 1e-6 (log)")
    ax.set_title("Steps to 1e-6 on quadratics against κ, beside the textbook rates")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return _save(fig, path)


def make_figures(runs: pd.DataFrame, traces: pd.DataFrame, meta: dict[str, Any], outdir: Path,
                 analysis: Analysis | None = None, workers: int | None = None, palettes: bool = False) -> list[Path]:
    """Write every figure that applies to ``outdir``; returns their paths (in a fixed order).
    ``workers`` processes draw them (default: the usable cores, at most 2): see :func:`_draw_all`;
    ``palettes``: report.html follows, so each process also makes the palette copies of the figures
    it drew, which the page embeds (:func:`gdbench.harness.html_report.small_png`)."""
    from .analysis import analyse

    a = analysis or analyse(runs, traces, meta)
    runs, traces = a.runs, a.traces
    outdir.mkdir(parents=True, exist_ok=True)
    cells, best, target = a.cells, a.best, a.target
    jobs: list[tuple[Any, ...]] = []  # (function, arguments, keywords), in the report's order
    if not traces.empty:
        steps = traces["step"].to_numpy()
        rel = traces["rel_suboptimality"].to_numpy(dtype=float)
        by_run = {str(rid): (steps[ix], rel[ix]) for rid, ix in traces.groupby("run_id", sort=False).indices.items()}
        for name, time_axis in (("convergence_steps", False), ("convergence_time", True)):
            jobs.append((fig_convergence, (runs, by_run, meta, best, outdir / f"{name}.png"),
                         {"time_axis": time_axis}))
    jobs.append((fig_lr_sensitivity, (runs, cells, outdir / "lr_sensitivity.png"), {}))
    jobs.append((fig_trajectories, (runs, traces, best, outdir / "trajectories.png"), {}))
    jobs.append((fig_performance_profile, (best, target, outdir / "performance_profile.png"), {}))
    jobs.append((fig_timing, (runs, outdir / "timing.png"), {}))
    jobs.append((fig_ecdf, (a, outdir / "ecdf.png"), {}))
    jobs.append((fig_ecdf_problems, (a, outdir / "ecdf_problems.png"), {}))
    jobs.append((fig_tuning, (a, outdir / "tuning.png"), {}))
    jobs.append((fig_kappa, (a, outdir / "theory_kappa.png"), {}))
    from .plots_basins import fig_basin_maps  # basin maps: the basins table next to outdir

    jobs.append((fig_basin_maps, (runs, best, outdir.parent, outdir / "basin_maps.png"), {}))
    made = _draw_all(jobs, _figure_workers() if workers is None else workers, palettes)
    return [p for p in made if p is not None]


def _figure_workers() -> int:
    from .._sys import usable_cores

    return min(2, usable_cores())


def _draw(job: tuple[Any, ...]) -> Path | None:
    fn, args, kwargs = job
    return fn(*args, **kwargs)


#: drawing cost of each figure, to start the costliest first (seconds on the quick suite, serial,
#: basin maps on multimodal); any order gives the same files
_COST = {"fig_lr_sensitivity": 2.5, "fig_convergence": 2.0, "fig_basin_maps": 2.0, "fig_tuning": 1.7,
         "fig_ecdf_problems": 1.2, "fig_timing": 1.1, "fig_trajectories": 0.7, "fig_ecdf": 0.4}


def _order(jobs: list[tuple[Any, ...]]) -> list[int]:
    """The jobs' indices, costliest first (ties in the report's order)."""
    return sorted(range(len(jobs)), key=lambda i: -_COST.get(jobs[i][0].__name__, 0.3))


def _draw_all(jobs: list[tuple[Any, ...]], workers: int, palettes: bool = False) -> list[Path | None]:
    """Draw ``jobs`` and return their results in order. matplotlib draws in one thread, and a
    suite's figures take about a second each, with the second core idle at the end of a run; so
    with ``workers`` ≥ 2 on Linux a forked child (which inherits the data: nothing is pickled but
    the paths it returns) draws beside this process. Both take the next job, costliest first, from
    a shared counter, so neither waits while the other has several left (a static split by
    estimated cost left one process drawing 7.6 s and the other 4.3 s on the quick suite, a
    figure's cost depending on the suite). Files are written atomically; if the child fails, dies
    or hangs, the jobs it took are drawn here, so the result is the same files either way (tested)."""
    import multiprocessing as mp
    import sys
    import time
    import warnings

    if workers < 2 or len(jobs) < 2 or sys.platform != "linux":
        return [_draw(j) for j in jobs]
    _plt()  # matplotlib imported and set up once, before the fork
    order = _order(jobs)
    ctx = mp.get_context("fork")
    counter = ctx.Value("i", 0)  # the position in ``order`` of the next job to draw
    recv, send = ctx.Pipe(duplex=False)

    def take() -> int | None:
        with counter.get_lock():
            k = counter.value
            counter.value = k + 1
        return order[k] if k < len(order) else None

    from .html_report import remember_small_png, small_png

    def child() -> None:
        done = []
        try:
            while (i := take()) is not None:
                p = _draw(jobs[i])
                done.append((i, None if p is None else str(p), small_png(p) if palettes and p is not None else None))
            send.send(done)
        except BaseException:  # noqa: BLE001 - the parent draws its jobs instead
            send.send(None)

    proc = ctx.Process(target=child, daemon=True)
    with warnings.catch_warnings():  # Python ≥ 3.12 warns of fork() in a threaded process: the
        warnings.simplefilter("ignore", DeprecationWarning)  # child only draws, in one thread
        proc.start()
    send.close()
    out: list[Path | None] = [None] * len(jobs)
    mine: set[int] = set()
    t0 = time.perf_counter()
    while (i := take()) is not None:
        out[i] = _draw(jobs[i])
        mine.add(i)
        if palettes and out[i] is not None:  # as the child does: the two stay balanced
            remember_small_png(out[i], small_png(out[i]))
    got = None
    try:
        if recv.poll(max(60.0, 4 * (time.perf_counter() - t0))):  # a hung child: draw its share here
            got = recv.recv()
    except (EOFError, OSError):
        got = None
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
        recv.close()
    theirs = set()
    for i, p, small in got or []:
        theirs.add(i)
        out[i] = None if p is None else Path(p)
        if small is not None:  # the page's palette copy, made there too (half the re-encoding)
            remember_small_png(out[i], small)
    for i in sorted(set(range(len(jobs))) - mine - theirs):  # the child's, had it failed
        out[i] = _draw(jobs[i])
    return out


__all__ = ["make_figures", "trajectory", "steps_col"]
