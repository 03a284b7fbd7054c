"""Export a results folder to the IOHprofiler data format, for IOHanalyzer.

Layout (one folder per algorithm, as IOHexperimenter writes it)::

    OUT/<algorithm>/IOHprofiler_f<fid>_<problem>.info
    OUT/<algorithm>/data_f<fid>_<problem>/IOHprofiler_f<fid>_DIM<dim>.dat

- an *algorithm* (``algId``) is an optimizer variant at its best lr on each problem (``best``,
  default), or every grid point by its run name (``all``);
- a *function* is a problem of the suite: ``funcId`` = its position (1, 2, …), ``funcName`` = its
  label, ``DIM`` = its dimension; an *instance* is a seed (instance number = seed);
- evaluations = 1 + steps × per-sample gradient evaluations per step (the start counts as one),
  or 1 + steps with ``unit="steps"``;
- the value is the relative suboptimality (f − f*)/(f₀ − f*), minimised (``maximization = 'F'``),
  so IOHanalyzer's targets mean what gdbench's tolerances mean.

A ``.dat`` file holds one block per run, each opened by the header line
``"function evaluation" "current f(x)" "best-so-far f(x)"``, with a line at every recorded step
that improved the best-so-far value and always the run's last record (IOHanalyzer needs a run's
last evaluation to compute ERT). The ``.info`` file has one three-line entry per dimension:
the key = value line, a ``%`` comment line and the data file's relative path followed by
``instance:evaluations|best-so-far`` per run.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import analyse
from .store import atomic_write_text, load_results

HEADER = '"function evaluation" "current f(x)" "best-so-far f(x)"'


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", s).strip("_") or "x"


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.10e}"


def run_block(steps: np.ndarray, rel: np.ndarray, per_step: float) -> tuple[list[str], int, float]:
    """Lines of one run's block, its last evaluation count and its best value."""
    lines = [HEADER]
    best = math.inf
    evals = 1 + np.asarray(steps, dtype=float) * per_step
    last = len(steps) - 1
    for i, (e, v) in enumerate(zip(evals, rel)):
        v = float(v)
        improved = math.isfinite(v) and v < best
        if improved:
            best = v
        if improved or i == last:
            lines.append(f"{int(round(e))} {_fmt(v)} {_fmt(best)}")
    return lines, int(round(evals[last])) if len(evals) else 1, best


def export_ioh(results: str | Path, out: str | Path, *, runs_kind: str = "best",
               unit: str = "grad_evals") -> list[Path]:
    """Write ``results`` in the IOHprofiler format under ``out``; returns the files written."""
    if runs_kind not in ("best", "all"):
        raise ValueError(f"--runs must be best or all, got {runs_kind!r}")
    if unit not in ("grad_evals", "steps"):
        raise ValueError(f"--unit must be grad_evals or steps, got {unit!r}")
    runs, traces, meta = load_results(results)
    if traces.empty:
        raise ValueError(f"{str(results)!r} holds no traces table; the IOHprofiler format needs the traces")
    a = analyse(runs, traces, meta)
    if runs_kind == "best":
        sel = a.best_runs.assign(alg=a.best_runs["variant"])
    else:
        sel = a.runs.assign(alg=a.runs["run_name"])
    suite = str(meta.get("suite", {}).get("name", "gdbench"))
    by_run = {str(k): g for k, g in traces.groupby("run_id", sort=False)}
    out = Path(out)
    written: list[Path] = []
    for alg, ga in sel.groupby("alg", sort=False):
        folder = out / _slug(str(alg))
        for fid, prob in enumerate(a.problems, start=1):
            g = ga[ga["problem"] == prob].sort_values("seed", kind="mergesort")
            if g.empty:
                continue
            dim = int(g["dim"].iloc[0])
            rel_dat = f"data_f{fid}_{_slug(prob)}/IOHprofiler_f{fid}_DIM{dim}.dat"
            lines, entries = [], []
            for _, r in g.iterrows():
                t = by_run.get(str(r["run_id"]), pd.DataFrame({"step": [0], "rel_suboptimality": [1.0]}))
                per = float(r["grad_evals_per_step"]) if unit == "grad_evals" else 1.0
                block, last, best = run_block(t["step"].to_numpy(), t["rel_suboptimality"].to_numpy(dtype=float), per)
                lines += block
                entries.append(f"{int(r['seed'])}:{last}|{_fmt(best)}")
            lrs = ", ".join(sorted({f"{x:g}" for x in g["lr"]}))
            info = (f"suite = 'gdbench-{suite}', funcId = {fid}, funcName = '{prob}', DIM = {dim}, "
                    f"maximization = 'F', algId = '{alg}', algInfo = 'lr {lrs}; {unit}; value (f-f*)/(f0-f*)'\n"
                    f"%\n{rel_dat}, {', '.join(entries)}\n")
            dat = folder / rel_dat
            dat.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(dat, "\n".join(lines) + "\n")
            info_p = folder / f"IOHprofiler_f{fid}_{_slug(prob)}.info"
            atomic_write_text(info_p, info)
            written += [info_p, dat]
    return written
