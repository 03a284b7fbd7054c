"""Every derived quantity of a results folder, computed once from the saved tables.

:func:`analyse` is the single entry point used by ``summary.md`` (:mod:`.tables`), the figures
(:mod:`.plots`) and ``report.html`` (:mod:`.html_report`), so the three always agree and a report
is a pure function of ``runs``, ``traces`` and ``meta.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import ecdf, paired, robustness, score, theory
from .metrics import DEFAULT_TOLERANCES, aggregate_cells, best_cells


def order_of(runs: pd.DataFrame, col: str) -> list[str]:
    return list(dict.fromkeys(runs[col].astype(str)))


@dataclass
class Analysis:
    runs: pd.DataFrame
    traces: pd.DataFrame
    meta: dict[str, Any]
    tolerances: list[float]
    target: float
    problems: list[str]
    variants: list[str]
    baseline: str | None
    cells: pd.DataFrame
    best: pd.DataFrame
    best_runs: pd.DataFrame
    triples: pd.DataFrame = field(default_factory=pd.DataFrame)
    ecdf_all: pd.DataFrame = field(default_factory=pd.DataFrame)
    ecdf_problem: pd.DataFrame = field(default_factory=pd.DataFrame)
    robust: pd.DataFrame = field(default_factory=pd.DataFrame)
    paired_steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    paired_time: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    kappa: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the report's sections (``tables.sections``), built once for summary.md and report.html
    sections: list | None = field(default=None, repr=False)


def _ordered(df: pd.DataFrame, problems: list[str], variants: list[str]) -> pd.DataFrame:
    if df.empty:
        return df
    df = df.assign(_p=df["problem"].map(problems.index), _v=df["variant"].map(variants.index))
    df = df.sort_values(["_p", "_v", "lr", "run_name"], kind="mergesort")
    return df.drop(columns=["_p", "_v"]).reset_index(drop=True)


def sorted_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs grouped by problem then variant, each in order of first appearance."""
    po, vo = order_of(runs, "problem"), order_of(runs, "variant")
    r = runs.assign(_p=runs["problem"].astype(str).map(po.index), _v=runs["variant"].astype(str).map(vo.index))
    r = r.sort_values(["_p", "_v"], kind="mergesort").drop(columns=["_p", "_v"]).reset_index(drop=True)
    r["problem"] = r["problem"].astype(str)
    r["variant"] = r["variant"].astype(str)
    return r


def analyse(runs: pd.DataFrame, traces: pd.DataFrame | None, meta: dict[str, Any]) -> Analysis:
    s = meta.get("suite", {})
    tolerances = [float(t) for t in s.get("tolerances", DEFAULT_TOLERANCES)]
    target = float(s.get("target_tol", 1e-4))
    traces = pd.DataFrame() if traces is None else traces
    runs = sorted_runs(runs)
    problems, variants = order_of(runs, "problem"), order_of(runs, "variant")
    baseline = s.get("baseline")
    baseline = baseline if baseline in variants else None
    cells = _ordered(aggregate_cells(runs, tolerances, target), problems, variants)
    best = _ordered(best_cells(cells), problems, variants) if not cells.empty else cells
    br = ecdf.best_runs(runs, best) if not best.empty else runs.iloc[:0]
    a = Analysis(runs, traces, meta, tolerances, target, problems, variants, baseline, cells, best, br)
    if best.empty:
        return a
    a.triples = ecdf.triples(runs, traces, best)
    a.ecdf_all = ecdf.summary(a.triples, ("variant",))
    a.ecdf_problem = ecdf.summary(a.triples, ("problem", "variant"))
    a.robust = robustness.robustness(runs, cells, best)
    from .metrics import steps_col, time_col

    a.paired_steps = paired.paired(br, steps_col(target), variants)
    if time_col(target) in br and br[time_col(target)].notna().any():
        a.paired_time = paired.paired(br, time_col(target), variants)
    a.scores = score.scores(best, problems, variants, baseline)
    if not traces.empty:
        a.kappa = theory.kappa_sweep(runs, traces)
    return a
