"""Where runs end on multimodal problems: basins, their shares, and basin maps.

The rule (stated once, used everywhere). A run *ends in* the minimum m when

1. it did not diverge and its final iterate θ is finite, and
2. m is the listed minimum nearest to θ (Euclidean distance; every minimum of the problem is
   listed, see :mod:`gdbench.problems._minima`) and ‖θ − m‖ is at most m's *radius*, a quarter of
   the distance from m to its nearest other minimum — so θ is at least three times closer to m
   than to any other minimum, whatever the optimizer's residual oscillation.

Otherwise the run is ``diverged`` (1 fails) or ``unresolved`` (2 fails: still travelling,
circling, stuck near a saddle point or ridge, or beyond the listed minima). A minimum is
``global`` when its value is f*, else ``local``. Problems without a list of minima get empty
basin columns. With restarts the final iterate is the best one of the run.

Aggregates (summary.md, "Basins"): per grid point the share of runs ending in a global minimum,
in each local one, unresolved and diverged; per optimizer at its best lr the same shares, the
expected steps to reach the global minimum (ERT: success = the first recorded step within the
target tolerance of f*, failures counted at their whole budget — restarts included — so it is
the expected cost of restarting a failed run from a fresh random start) and the share of the
basin map's starts that end in a global minimum.

Basin maps are computed by the worker (:func:`basin_map`), never by ``gdbench report``: one
``gdbench.sweep`` per group over every distinct configuration (seed, init and restart removed)
× every start of a G × G grid over the map's box, each from its own fixed start.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .metrics import ert, steps_col, tol_label
from .store import find_table, read_table
from .tables import fmt_num, fmt_steps

KINDS = ("global", "local", "unresolved", "diverged")
#: columns the worker adds to the runs table (empty / NaN where a problem has no list of minima)
RUN_COLUMNS = ("basin", "basin_kind", "basin_f", "basin_dist")
#: keys of a configuration that do not change where a start goes (removed for the basin map)
MAP_DROP = ("seed", "init", "restart", "x0")
#: local minima named per grid point in the shares table (the rest are summed as "k more")
TOP_LOCAL = 3


def classify(problem: Any, theta: np.ndarray, status: Sequence[str]) -> dict[str, list[Any]]:
    """The basin columns for final iterates ``theta`` (K, D) with run statuses ``status``."""
    K = len(status)
    m = problem.info.get("minima")
    if m is None:
        return {"basin": [""] * K, "basin_kind": [""] * K, "basin_f": [math.nan] * K, "basin_dist": [math.nan] * K}
    labels, kinds, vals, dist, rad = m.nearest(np.asarray(theta, dtype=np.float64).reshape(K, -1))
    out: dict[str, list[Any]] = {"basin": [], "basin_kind": [], "basin_f": [], "basin_dist": []}
    for k in range(K):
        if status[k] == "diverged" or not labels[k]:
            lab, kind, f = "diverged", "diverged", math.nan
        elif dist[k] <= rad[k]:
            lab, kind, f = labels[k], kinds[k], float(vals[k])
        else:
            lab, kind, f = "unresolved", "unresolved", math.nan
        out["basin"].append(lab)
        out["basin_kind"].append(kind)
        out["basin_f"].append(f)
        out["basin_dist"].append(float(dist[k]))
    return out


def map_key(cfg: dict[str, Any]) -> str:
    """The configuration a basin map belongs to: ``cfg`` without seed, init, restart and x0."""
    return json.dumps({k: v for k, v in cfg.items() if k not in MAP_DROP}, sort_keys=True, separators=(",", ":"))


def grid(box: tuple[Sequence[float], Sequence[float]], G: int) -> tuple[np.ndarray, np.ndarray]:
    """The map's G × G starts, row-major in (y, x): (starts (G², 2), index pairs (G², 2))."""
    xs = np.linspace(box[0][0], box[1][0], G)
    ys = np.linspace(box[0][1], box[1][1], G)
    iy, ix = np.divmod(np.arange(G * G), G)
    return np.stack([xs[ix], ys[iy]], axis=1), np.stack([ix, iy], axis=1)


def basin_map(task: Any, problem: Any, configs: Sequence[dict[str, Any]], sweep_kw: dict[str, Any],
              ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The basin map of a group: one ``gdbench.sweep`` over its distinct configurations × the
    G × G starts. Returns (columns of the basins table, {map_key: share of starts ending in a
    global minimum})."""
    import gdbench

    G = int(task.basin_map)
    starts, idx = grid(task.basin_box, G)
    keys = list(dict.fromkeys(map_key(c) for c in configs))
    cfgs = [{**json.loads(k), "seed": 0, "x0": s} for k in keys for s in starts]
    r = gdbench.sweep(problem, task.rule, cfgs, steps=task.steps, record_every=max(1, task.steps // 10),
                      stop_tol=task.stop_tol, div_factor=task.div_factor, threads=task.threads, **sweep_kw)
    cls = classify(problem, r.theta, r.status)
    n = len(starts)
    final_loss = np.array([r.trace[k, r.nrec[k] - 1, 1] if r.nrec[k] else math.nan for k in range(len(cfgs))])
    cols = {
        "group_id": np.full(len(cfgs), task.group_id, dtype=object),
        "problem": np.full(len(cfgs), task.problem, dtype=object),
        "rule": np.full(len(cfgs), task.rule, dtype=object),
        "map_key": np.repeat(np.array(keys, dtype=object), n),
        "lr": np.array([float(c.get("lr", r.optimizer.hyper["lr"])) for c in cfgs]),
        "ix": np.tile(idx[:, 0], len(keys)),
        "iy": np.tile(idx[:, 1], len(keys)),
        "x0_0": np.tile(starts[:, 0], len(keys)),
        "x0_1": np.tile(starts[:, 1], len(keys)),
        "x_final_0": r.theta[:, 0].copy(),
        "x_final_1": r.theta[:, 1].copy(),
        "final_loss": final_loss,
        "status": np.array(r.status, dtype=object),
        "steps_done": r.steps_done.astype(np.int64),
        **{c: np.array(cls[c], dtype=object if c in ("basin", "basin_kind") else np.float64)
           for c in RUN_COLUMNS},
    }
    glob = np.array(cls["basin_kind"]) == "global"
    share = {k: float(glob[i * n:(i + 1) * n].mean()) for i, k in enumerate(keys)}
    return cols, share


#: text columns of the runs table written here (a CSV reads an all-empty one back as NaN)
TEXT_COLUMNS = ("basin", "basin_kind", "init", "restart", "x_start", "x_final", "map_key")


def text_columns(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with the text columns of this module as strings ("" where missing)."""
    runs = runs.copy()
    for c in TEXT_COLUMNS:
        if c in runs:
            runs[c] = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in runs[c]]
    return runs


def map_of(maps: pd.DataFrame, run: pd.Series) -> pd.DataFrame:
    """The rows of the basins table that are the map of ``run`` (a row of the runs table): same
    problem, update rule and configuration (several rules share a configuration such as an lr)."""
    return maps[(maps["problem"] == run["problem"]) & (maps["rule"] == run["rule"])
                & (maps["map_key"] == run["map_key"])]


def load_basins(out: str | Path) -> pd.DataFrame:
    """The basins table of a results folder (empty when the suite drew no basin map)."""
    p = find_table(Path(out), "basins")
    return read_table(p) if p is not None else pd.DataFrame()


# --------------------------------------------------------------------------------------------
# summary.md


def _pct(v: float) -> str:
    """A share in per cent; one decimal below 1 % (so that a rare hit does not read as none)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * v:.1f} %" if 0 < v < 0.01 else f"{100 * v:.0f} %"


def restart_text(spec: Any) -> str:
    """A restart policy in words: ``none``, ``every 200``, ``on stall (100, 1e-4)``."""
    if isinstance(spec, str):
        spec = json.loads(spec) if spec.startswith("{") else (spec or None)
    if spec is None:
        return "none"
    if spec == "stall":
        spec = {"on": "stall"}
    if "every" in spec:
        return f"every {spec['every']}"
    from ..runspec import STALL_TOL, STALL_WINDOW

    return f"on stall ({spec.get('window', STALL_WINDOW)}, {fmt_num(spec.get('tol', STALL_TOL), 2)})"


def _shares(g: pd.DataFrame) -> dict[str, Any]:
    kind = g["basin_kind"].to_numpy(dtype=object)
    n = len(kind)
    counts = Counter(kind.tolist())  # (the labels are never missing here: unlabelled runs are left out)
    top = []
    is_local = kind == "local"
    if is_local.any():
        local = g["basin"][is_local].value_counts()  # by count, ties in pandas' order
        top = [f"{lab} {_pct(c / n)}" for lab, c in local.head(TOP_LOCAL).items()]
        rest = int(local.iloc[TOP_LOCAL:].sum())
        if rest:
            top.append(f"{len(local) - TOP_LOCAL} more {_pct(rest / n)}")
    return {k: counts.get(k, 0) / n for k in KINDS} | {"locals": ", ".join(top) or "–"}


def _mean_restarts(g: pd.DataFrame) -> str:
    return fmt_num(float(g["restarts"].mean()), 2) if "restarts" in g else "–"


def basins_sections(runs: pd.DataFrame, meta: dict[str, Any], best: pd.DataFrame) -> list[tuple[str, str, Any, str]]:
    """The Basins sections of summary.md and report.html, as (id, title, table, text) (none when no
    run has a basin label)."""
    from .tabular import Table

    if "basin_kind" not in runs:
        return []
    runs = text_columns(runs)
    if not (runs["basin_kind"] != "").any():
        return []
    s = meta.get("suite", {})
    target = float(s.get("target_tol", 1e-4))
    runs = runs[runs["basin_kind"] != ""]
    sc = steps_col(target)

    def table(header: list[str], rows: list[list[str]], align: str) -> Table:
        t = Table(header, align)
        for r in rows:
            t.add(r)
        return t

    rule = ("Where each run ends: the listed minimum nearest to its final iterate (Euclidean), when it lies within a "
            "quarter of that minimum's distance to its nearest other minimum (so at least 3× closer to it than to any "
            "other); else *unresolved*; *diverged* runs apart. With restarts the final iterate is the run's best. "
            f"ERT to the global minimum = (steps of the runs that got within {tol_label(target)} of f* + the whole "
            "budget of the others, restarts included) / (runs that did): the expected steps when a failed run is "
            "restarted from a fresh random start.")
    # 1. the answer at a glance: share of starts reaching a global minimum at each optimizer's tuned lr
    b = best[best["problem"].isin(set(runs["problem"]))]
    variants = list(dict.fromkeys(b["variant"]))
    problems = list(dict.fromkeys(b["problem"]))
    rows = []
    for p in problems:
        row = [p]
        for v in variants:
            c = b[(b["problem"] == p) & (b["variant"] == v)]
            if c.empty:
                row.append("–")
                continue
            g = runs[(runs["problem"] == p) & (runs["run_name"] == c["run_name"].iloc[0])]
            cell = f"{_pct(float((g['basin_kind'] == 'global').mean()))} (lr {fmt_num(c['lr'].iloc[0])})"
            if "map_global_share" in g and g["map_global_share"].notna().any():
                cell += f" [map {_pct(float(g['map_global_share'].iloc[0]))}]"
            row.append(cell)
        rows.append(row)
    out = [("basins", "Basins", table(["problem", *variants], rows, "l" + "r" * len(variants)),
            rule + " The table: share of runs ending in a global minimum, each optimizer at its tuned (best-ERT) lr; "
            "in brackets the share of the basin map's grid of starts that do.")]
    # 2. per optimizer at its best lr: shares, restarts and the expected steps to the global minimum
    rows = []
    for _, c in b.iterrows():
        g = runs[(runs["problem"] == c["problem"]) & (runs["run_name"] == c["run_name"])]
        sh = _shares(g)
        rs = g["restart"].iloc[0] if "restart" in g else ""
        rows.append([str(c["problem"]), str(c["variant"]), fmt_num(c["lr"]), restart_text(rs), str(len(g)),
                     _pct(sh["global"]), sh["locals"], _pct(sh["unresolved"]), _pct(sh["diverged"]),
                     _mean_restarts(g), fmt_steps(c["ert"])])
    out.append(("basins_tuned", "Basins at each tuned lr",
                table(["problem", "optimizer", "lr", "restarts", "runs", "global", "local minima", "unresolved",
                       "diverged", "restarts/run", "ERT to global (steps)"], rows, "lllllrlrrrr"),
                "At each optimizer's tuned lr: where the runs end, restarts per run and the expected steps to reach "
                "the global minimum, with and without restarts."))
    # 3. every grid point
    rows = []
    for (p, rn), g in runs.groupby(["problem", "run_name"], sort=False):
        sh = _shares(g)
        rows.append([str(p), str(rn), str(len(g)), _pct(sh["global"]), sh["locals"], _pct(sh["unresolved"]),
                     _pct(sh["diverged"]), fmt_steps(ert(g[sc], g["steps_budget"]))])
    out.append(("basins_grid", "Basins at every grid point",
                table(["problem", "run", "runs", "global", "local minima", "unresolved", "diverged",
                       "ERT to global (steps)"], rows, "llrrlrrr"), "Every grid point."))
    return out
