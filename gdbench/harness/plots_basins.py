"""``figures/basin_maps.png``: for every 2-D multimodal problem with a basin map, one panel per
optimizer at its best lr; each pixel is a start of the map's grid, coloured by the minimum that
start ends in (:mod:`gdbench.harness.basins` states the rule). Read from the saved basins table;
only the contour lines of f and the markers of the minima are computed here.

Up to ``CATEGORICAL_MAX`` distinct minima: one colour per minimum (★ in the legend marks global
ones); more (Rastrigin's lattice): global minima red, local ones coloured by their value f
(viridis, up to the largest value of a minimum inside the map's box). Unresolved
starts are light grey, diverged ones black. Variants with restarts are left out (from a fixed
start they follow the map of the same rule without restarts until they restart).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .basins import _pct, load_basins, map_of, text_columns

CATEGORICAL_MAX = 10
UNRESOLVED, DIVERGED = (0.85, 0.85, 0.85, 1.0), (0.0, 0.0, 0.0, 1.0)
GLOBAL = (0.84, 0.15, 0.16, 1.0)  # global minima when colouring by value


def _panels(runs: pd.DataFrame, best: pd.DataFrame, maps: pd.DataFrame) -> dict[str, list[tuple[str, pd.Series]]]:
    """problem -> [(variant, best run row)] that have a map."""
    out: dict[str, list[tuple[str, pd.Series]]] = {}
    keys = set(zip(maps["problem"].astype(str), maps["rule"].astype(str), maps["map_key"].astype(str)))
    for prob in dict.fromkeys(runs["problem"].astype(str)):
        for _, b in best[best["problem"] == prob].iterrows():
            g = runs[(runs["problem"] == prob) & (runs["run_name"] == b["run_name"])]
            if g.empty or "map_key" not in g:
                continue
            row = g.iloc[0]
            if row.get("restart", "") or (prob, str(row["rule"]), row["map_key"]) not in keys:
                continue
            out.setdefault(prob, []).append((str(b["variant"]), row))
    return out


def fig_basin_maps(runs: pd.DataFrame, best: pd.DataFrame, results: Path, path: Path) -> Path | None:
    """The basin-map figure of the results folder ``results`` (None when it holds no map)."""
    maps = load_basins(results)
    if maps.empty or "map_key" not in runs:
        return None
    panels = _panels(text_columns(runs), best, maps)
    if not panels:
        return None
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .plots import _plt, _save
    from .worker import build_problem

    plt = _plt()
    ncol = max(len(v) for v in panels.values())
    fig, axes = plt.subplots(len(panels), ncol, figsize=(3.3 * ncol + 1.6, 3.0 * len(panels)), squeeze=False)
    for r, (prob, items) in enumerate(panels.items()):
        pm = maps[maps["problem"] == prob]
        first = runs[runs["problem"] == prob].iloc[0]
        problem = build_problem(str(first["problem_name"]), json.loads(first["problem_params"] or "{}"))
        found = pm[pm["basin_kind"].isin(["global", "local"])].drop_duplicates("basin")
        found = found.sort_values(["basin_f", "basin"], kind="mergesort")
        labels = list(found["basin"])
        categorical = len(labels) <= CATEGORICAL_MAX
        cmap = plt.get_cmap("tab10")
        colors = {lab: cmap(i % 10) for i, lab in enumerate(labels)}
        G = int(pm["ix"].max()) + 1
        extent = (pm["x0_0"].min(), pm["x0_0"].max(), pm["x0_1"].min(), pm["x0_1"].max())
        xs = np.linspace(extent[0], extent[1], 120)
        ys = np.linspace(extent[2], extent[3], 120)
        Z = np.array([[problem.loss(np.array([x, y])) for x in xs] for y in ys])
        inside = problem.info["minima"].listed(limit=100_000, box=((extent[0], extent[2]), (extent[1], extent[3])))
        # the value scale of the local minima: those inside the map's box (starts may end further out)
        loc = [f for _, f, k in inside if k == "local"] or [float(problem.f_star) + 1.0]
        fmin, fmax = min(loc), max(loc)
        for c, (variant, row) in enumerate(items):
            ax = axes[r, c]
            m = map_of(maps, row)
            kind = m["basin_kind"].to_numpy(dtype=str)
            if categorical:
                cols = np.array([colors.get(lab, UNRESOLVED) for lab in m["basin"]])
            else:
                t = (m["basin_f"].to_numpy(dtype=float) - fmin) / ((fmax - fmin) or 1.0)
                cols = plt.get_cmap("viridis")(np.sqrt(np.clip(np.nan_to_num(t), 0.0, 1.0)))
                cols[kind == "global"] = GLOBAL
            cols[kind == "unresolved"] = UNRESOLVED
            cols[kind == "diverged"] = DIVERGED
            img = np.zeros((G, G, 4))
            img[m["iy"].to_numpy(dtype=int), m["ix"].to_numpy(dtype=int)] = cols
            ax.imshow(img, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
            zmin = min(Z.min(), problem.f_star)
            levels = zmin + np.geomspace(max((Z.max() - zmin) * 1e-3, 1e-8), Z.max() - zmin, 12)
            ax.contour(xs, ys, Z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
            for x, _, mk in inside:
                ax.plot(*x, "*" if mk == "global" else ".", color="white", mec="black", mew=0.5,
                        ms=9 if mk == "global" else (5 if len(inside) <= 40 else 2))
            share = float((m["basin_kind"] == "global").mean())
            ax.set_title(f"{prob}: {variant} lr={float(row['lr']):g}\n{_pct(share)} of starts → global",
                         fontsize=8)
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
            ax.grid(False)
        for ax in axes[r, len(items):]:
            ax.set_visible(False)
        handles = [Patch(color=UNRESOLVED, label="unresolved"), Patch(color=DIVERGED, label="diverged")]
        if categorical:
            handles = [Patch(color=colors[lab], label=f"{'★ ' if k == 'global' else ''}{lab} f={fmt(f)}")
                       for lab, k, f in zip(labels, found["basin_kind"], found["basin_f"])] + handles
        else:
            vir = plt.get_cmap("viridis")
            handles = [Patch(color=GLOBAL, label=f"★ global (f = {fmt(problem.f_star)})"),
                       Line2D([], [], color=vir(0.0), lw=6, label=f"local, f = {fmt(fmin)}"),
                       Line2D([], [], color=vir(1.0), lw=6, label=f"local, f ≥ {fmt(fmax)}")] + handles
        axes[r, len(items) - 1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7,
                                       frameon=False, title="start ends in", title_fontsize=7)
    fig.suptitle("Basin maps: each pixel a start, coloured by the minimum it ends in (best lr, no restarts; "
                 "★ global minima)", y=1.0)
    return _save(fig, path)


def fmt(v: float) -> str:
    return f"{float(v):.4g}"
