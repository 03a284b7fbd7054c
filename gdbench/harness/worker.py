"""The work function: one :class:`~gdbench.harness.executors.GroupTask` → one GroupResult.

Runs on whichever process or machine the executor picked. It builds the problem from its spec
(``gdbench.problems.make``), then for the group's configurations:

1. a *timing pass* per batch size: ``gdbench.sweep(..., record_every=0, threads=1)`` for at most
   ``timing_steps`` steps — ns/step without recording and without compilation (the first call
   in a process compiles or loads the driver; that time is the ``compile_s`` column);
2. the *measured pass*: one ``gdbench.sweep`` over all configurations (per step budget, when a
   time budget caps it) with the suite's recording interval and early stop at ``stop_tol``;
3. per-run metrics (:mod:`gdbench.harness.metrics`) and the long trace table.

Every per-step computation stays inside the compiled driver.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import warnings
from typing import Any

import numpy as np

from . import basins
from .executors import GroupResult, GroupTask
from .metrics import escape_step, rel_scale, steps_col, steps_to_tol, time_col, tol_label

#: trace record layout (gdbench.kernels.records.TRACE_FIXED): restarts so far, then θ for small D
RESTARTS_COL, THETA_COL = 4, 5
#: columns of the runs table that depend on timing (ignored by ``gdbench compare``)
TIMING_COLUMNS_PREFIX = ("time_to_", "ns_per_step", "compile_s", "wall_s", "grad_evals_per_s", "host", "pid")


def _sweep_kwargs(task: GroupTask) -> dict[str, Any]:
    if task.device != "cpu":
        return {"device": task.device}
    kw: dict[str, Any] = {"rules": task.driver_rules} if len(task.driver_rules) > 1 else {}
    if len(task.driver_problems) > 1:
        kw["problems"] = task.driver_problems
    # the optional loop parts of the whole group: its timing sweeps (per batch size) and basin map
    # run subsets of its configurations on the same driver
    kw["features"] = loop_features(task)
    return kw


def loop_features(task: GroupTask) -> tuple[str, ...]:
    """The optional parts of the step loop the group's configurations use (in
    ``codegen.FEATURES`` order): the driver variant its sweeps run on."""
    from gdbench.kernels.codegen import FEATURES
    from gdbench.runspec import config_features

    used = config_features(task.configs, task.steps)
    return tuple(f for f in FEATURES if f in used)


def _json(v: Any) -> str:
    return "" if v is None else json.dumps(v, sort_keys=True, separators=(",", ":"))


#: x_start / x_final are written (JSON lists) for problems of at most this dimension
X_COLUMNS_MAX_DIM = 16

#: timing pass: repeats (the minimum is kept) unless they already took TIMING_MAX_S seconds
TIMING_REPEATS = 3
TIMING_MAX_S = 0.2

_PROBLEMS: dict[str, Any] = {}


def build_problem(name: str, params: dict[str, Any]):
    """``gdbench.problems.make(name, **params)``, memoised per process (problems are immutable
    inputs; a local run then builds each problem once, including its exact optimum)."""
    from gdbench.problems import make

    key = _json({"problem": name, **params})
    p = _PROBLEMS.get(key)
    if p is None:
        if len(_PROBLEMS) > 64:
            _PROBLEMS.clear()
        from gdbench.problems.base import DataNote

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataNote)
            p = make(name, **params)
        notes = [str(w.message) for w in caught if issubclass(w.category, DataNote)]
        for w in caught:
            if not issubclass(w.category, DataNote):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if notes:  # e.g. which of two class labels became +1: kept with the problem, shown in summary.md
            p.info["note"] = "; ".join(notes)
        _PROBLEMS[key] = p
    return p


#: points per side of the loss grid saved with 2-D problems (for contour plots without the data)
CONTOUR_POINTS = 64


def contour_grid(problem, paths: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """JSON of f − f* on a CONTOUR_POINTS² grid over the box holding x0, x* and the iterates of
    ``paths`` [(θ records (m × 2), losses (m))] that did not run far uphill (f − f* ≤ 10 (f0 − f*)),
    padded by 15 %; with x0, x* and the saddle point, so a report draws contours from the results
    alone."""
    f_star = float(problem.f_star)
    x0 = np.asarray(problem.x0, dtype=float)
    spread = max(abs(float(problem.loss(x0)) - f_star), 1e-12)
    pts = [x0[None, :]]
    x_star = None if problem.x_star is None else np.asarray(problem.x_star, dtype=float)
    if x_star is not None:
        pts.append(x_star[None, :])
    for th, loss in paths:
        keep = np.isfinite(th).all(axis=1) & (loss - f_star <= 10 * spread)
        pts.append(th[keep])
    allp = np.vstack(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 0.5)
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    xs = np.linspace(lo[0], hi[0], CONTOUR_POINTS)
    ys = np.linspace(lo[1], hi[1], CONTOUR_POINTS)
    # problem.loss's kernel called directly (its argument checks and allocations were most of the
    # cost of these 4096 calls): the same compiled kernel, the same values
    kern, X, Y, prm = problem.kernels.loss_grad, problem.X, problem.y, problem.prm
    idx, theta, g = np.empty(0, dtype=np.int64), np.empty(2), np.empty(2)
    z = []
    for y in ys:
        theta[1] = y
        row = []
        for x in xs:
            theta[0] = x
            row.append(float(f"{float(kern(theta, X, Y, prm, idx, 0, -1, g)) - f_star:.5g}"))
        z.append(row)
    saddle = [0.0, 0.0] if "f_saddle" in problem.info else None
    return json.dumps({"x": [float(lo[0]), float(hi[0])], "y": [float(lo[1]), float(hi[1])], "z": z,
                       "x0": x0.tolist(), "x_star": None if x_star is None else x_star.tolist(),
                       "saddle": saddle, "kind": problem.kind}, separators=(",", ":"))


def run_group(task: GroupTask) -> GroupResult:
    """Run every configuration of ``task``; pure apart from numba's on-disk cache."""
    import gdbench

    t_start = time.perf_counter()
    host, pid = socket.gethostname(), os.getpid()
    if task.plugins:  # the task carries its plugins' sources: no shared folder needed
        from gdbench.plugins import ensure

        ensure(task.plugins)
    problem = build_problem(task.problem_name, task.problem_params)
    configs = [dict(c) for c in task.configs]
    kw = _sweep_kwargs(task)
    K = len(configs)

    # --- 1. timing pass, one sweep per batch size (their costs per step differ) -------------
    from gdbench.runspec import check_batch

    batch = [check_batch(c.get("batch_size"), problem.kind, problem.n, problem.name) for c in configs]
    ns_per_step = np.full(K, np.nan)
    compile_s = 0.0
    if task.timing_steps > 0 and task.steps > 0:
        for b in sorted(set(batch)):
            idx = [k for k in range(K) if batch[k] == b]
            best = math.inf
            spent = 0.0
            for _rep in range(TIMING_REPEATS):  # min over repeats: robust to other load on the machine
                r = gdbench.sweep(problem, task.rule, [configs[k] for k in idx],
                                  steps=min(task.steps, task.timing_steps), record_every=0, stop_tol=0.0,
                                  div_factor=task.div_factor, threads=1, **kw)
                compile_s += r.compile_s
                done = int(r.steps_done.sum())
                if done > 0:
                    best = min(best, r.wall_s / done * 1e9)
                spent += r.wall_s
                if spent > TIMING_MAX_S:
                    break
            ns_per_step[idx] = best if math.isfinite(best) else math.nan

    # --- 2. measured pass (time budget → per-configuration step cap) ------------------------
    budgets = np.full(K, task.steps, dtype=np.int64)
    if task.time_budget_s:
        for k in range(K):
            if np.isfinite(ns_per_step[k]) and ns_per_step[k] > 0:
                budgets[k] = max(1, min(task.steps, int(task.time_budget_s * 1e9 / ns_per_step[k])))
    results: dict[int, tuple[Any, int]] = {}
    wall = 0.0
    for steps in sorted(set(budgets.tolist())):
        idx = [k for k in range(K) if budgets[k] == steps]
        r = gdbench.sweep(problem, task.rule, [configs[k] for k in idx], steps=int(steps),
                          record_every=task.record_every, stop_tol=task.stop_tol, div_factor=task.div_factor,
                          threads=task.threads, **kw)
        compile_s += r.compile_s
        wall += r.wall_s
        for j, k in enumerate(idx):
            results[k] = (r, j)

    # --- basin map (2-D multimodal problems, when the suite asks for one) ----------------------
    map_cols: dict[str, np.ndarray] = {}
    map_share: dict[str, float] = {}
    if task.basin_map and task.basin_box is not None:
        map_cols, map_share = basins.basin_map(task, problem, configs, kw)

    # --- 3. metrics and traces ------------------------------------------------------------

    f_star = float(problem.f_star)
    n = problem.n
    f_saddle = problem.info.get("f_saddle")
    runs: list[dict[str, Any]] = []
    tr_cols: dict[str, list[np.ndarray]] = {c: [] for c in (
        "run_id", "step", "time_s", "loss", "grad_norm", "dist_to_opt", "suboptimality", "rel_suboptimality")}
    restarting = any(c.get("restart") for c in configs)
    where = {}
    for k in range(K):
        r, j = results[k]
        where.setdefault(id(r), (r, []))[1].append((k, j))
    basin_cols: dict[int, dict[str, Any]] = {}
    for r, kj in where.values():  # classify each sweep's final iterates at once
        cls = basins.classify(problem, r.theta[[j for _, j in kj]], [r.status[j] for _, j in kj])
        for i, (k, _) in enumerate(kj):
            basin_cols[k] = {c: cls[c][i] for c in basins.RUN_COLUMNS}
    for k in range(K):
        r, j = results[k]
        rec = r.trace[j, : r.nrec[j]]
        steps_arr = rec[:, 0]
        loss = rec[:, 1]
        f0 = float(loss[0]) if len(loss) else problem.loss(problem.x0)
        rel = (loss - f_star) / rel_scale(f0, f_star)
        b = batch[k]
        ge_step = float((b if 0 < b < n else n) if problem.kind == "data" else 1)
        ns = float(ns_per_step[k])
        theta = r.theta[j]
        cfg = r.configs[j]
        # a run with restarts returns its best iterate: its final loss is the best recorded
        final_loss = (float(np.nanmin(loss)) if cfg.get("restart") else float(loss[-1])) if len(loss) else math.nan
        row: dict[str, Any] = {
            "run_id": task.run_ids[k],
            "suite": task.suite,
            "group_id": task.group_id,
            "problem": task.problem,
            "variant": task.rule,
            "run_name": f"{task.rule}[lr={cfg['lr']:.6g}]",
            **task.labels[k],
            "problem_name": task.problem_name,
            "problem_params": _json(task.problem_params),
            "rule": task.rule,
            "lr": float(cfg["lr"]),
            "seed": int(cfg["seed"]),
            "batch_size": int(b),
            "schedule": _json(cfg.get("schedule")),
            "clip": _json(cfg.get("clip")),
            "noise": float(cfg.get("noise") or 0.0),
            "hyper": _json({h: cfg[h] for h in r.optimizer.hyper}),
            "dim": problem.dim,
            "n": n,
            "steps_budget": int(budgets[k]),
            "record_every": task.record_every,
            "status": r.status[j],
            "steps_done": int(r.steps_done[j]),
            "f_star": f_star,
            "f_star_source": problem.f_star_source,
            "f0": f0,
            "final_loss": final_loss,
            "final_subopt": final_loss - f_star,
            "final_rel_subopt": float(rel[-1]) if len(rel) else math.nan,
            "final_grad_norm": float(rec[-1, 2]) if len(rec) else math.nan,
            "final_dist_to_opt": float(rec[-1, 3]) if len(rec) else math.nan,
            "theta_finite": bool(np.isfinite(theta).all()),
            "grad_evals_per_step": ge_step,
            # random starts and restarts (the step loop reports the start it drew and its restarts)
            "init": _json(configs[k].get("init")),
            "restart": _json(configs[k].get("restart")),
            "restarts": int(r.restarts[j]) if hasattr(r, "restarts") else 0,
            "x_start": _xjson(_start_of(r, j, configs[k], problem)),
            "x_final": _xjson(theta),
            **basin_cols[k],
            "map_key": basins.map_key(configs[k]) if map_share else "",
            "map_global_share": map_share.get(basins.map_key(configs[k]), math.nan),
            "problem_note": str(problem.info.get("note", "")),
        }
        diverged = r.status[j] == "diverged"
        for tol in task.tolerances:
            s = math.inf if diverged and not np.any(rel <= tol) else steps_to_tol(steps_arr, rel, tol)
            row[steps_col(tol)] = s
            row[f"grad_evals_to_{tol_label(tol)}"] = s * ge_step
            row[f"epochs_to_{tol_label(tol)}"] = s * ge_step / n if n else math.nan
        row["escape_step"] = (escape_step(steps_arr, loss, float(f_saddle), f_star, task.escape_frac)
                              if f_saddle is not None else math.nan)
        # timing columns (ignored by compare)
        row["ns_per_step"] = ns
        row["grad_evals_per_s"] = ge_step / ns * 1e9 if ns and np.isfinite(ns) else math.nan
        for tol in task.tolerances:
            row[time_col(tol)] = row[steps_col(tol)] * ns * 1e-9
        row["compile_s"] = compile_s
        row["wall_s"] = wall
        row["host"] = host
        runs.append(row)
        m = len(rec)
        tr_cols["run_id"].append(np.full(m, task.run_ids[k], dtype=object))
        tr_cols["step"].append(steps_arr.astype(np.int64))
        tr_cols["time_s"].append(steps_arr * ns * 1e-9)
        tr_cols["loss"].append(loss.copy())
        tr_cols["grad_norm"].append(rec[:, 2].copy())
        tr_cols["dist_to_opt"].append(rec[:, 3].copy())
        tr_cols["suboptimality"].append(loss - f_star)
        tr_cols["rel_suboptimality"].append(rel)
        for i in range(rec.shape[1] - THETA_COL):  # the iterate, recorded for problems of dimension <= 2
            tr_cols.setdefault(f"theta_{i}", []).append(rec[:, THETA_COL + i].copy())
        if restarting:
            tr_cols.setdefault("restarts", []).append(rec[:, RESTARTS_COL].astype(np.int64))
    traces = {c: (np.concatenate(v) if v else np.zeros(0)) for c, v in tr_cols.items()}
    for k, row in enumerate(runs):  # 2-D problems: the loss landscape, once per group (first run)
        row["contour"] = ""
        if k == 0 and problem.dim == 2 and "theta_1" in tr_cols:
            paths = [(np.column_stack([a, b]), lo) for a, b, lo in zip(tr_cols["theta_0"], tr_cols["theta_1"],
                                                                      tr_cols["loss"])]
            row["contour"] = contour_grid(problem, paths)
    return GroupResult(task.group_id, runs, traces, host=host, pid=pid, wall_s=time.perf_counter() - t_start,
                       basins=map_cols)


def _start_of(r: Any, j: int, cfg: dict[str, Any], problem: Any) -> np.ndarray:
    """The start a run used: the step loop's record of it, else the configuration's or problem's x0."""
    if getattr(r, "theta_start", None) is not None:
        return r.theta_start[j]
    return np.asarray(cfg["x0"], dtype=np.float64) if cfg.get("x0") is not None else problem.x0


def _xjson(x: np.ndarray) -> str:
    """A point as a JSON list (repr precision) for problems of dimension <= X_COLUMNS_MAX_DIM, else ""."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return json.dumps([float(v) for v in x]) if x.size <= X_COLUMNS_MAX_DIM else ""
