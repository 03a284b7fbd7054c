"""Markdown tables (summary.md) from a saved runs table and meta.json — nothing else, so that
``gdbench report DIR`` reproduces summary.md byte for byte."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .metrics import aggregate_cells, best_cells, steps_col, tol_label

BEST_LR_RULE = ("best lr = the grid point with the smallest ERT to the target tolerance (ties and the no-success "
                "case: smaller median final relative suboptimality of the non-diverged seeds, then smaller lr)")


def fmt_num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    v = float(v)
    if math.isinf(v):
        return "∞"
    return f"{v:.{digits}g}"


def fmt_rate(v: Any) -> str:
    """Large positive quantities (ns/step, evaluations/s): plain digits below 1e7."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    v = float(v)
    if math.isinf(v):
        return "∞"
    return f"{v:.0f}" if 1e3 <= abs(v) < 1e7 else f"{v:.3g}"


def fmt_steps(v: float) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "–"
    return "∞" if math.isinf(v) else f"{int(round(v))}"


def fmt_band(med: float, lo: float, hi: float) -> str:
    if isinstance(med, float) and math.isnan(med):
        return "–"
    if fmt_steps(lo) == fmt_steps(hi):
        return fmt_steps(med)
    return f"{fmt_steps(med)} [{fmt_steps(lo)}–{fmt_steps(hi)}]"


def fmt_time(s: float) -> str:
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "–"
    if math.isinf(s):
        return "∞"
    for unit, f in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= f or unit == "ns":
            return f"{s / f:.3g} {unit}"
    return "–"  # pragma: no cover


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    align = align or "l" * len(header)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _order(runs: pd.DataFrame, col: str) -> list[str]:
    return list(dict.fromkeys(runs[col].astype(str)))


def summarize(runs: pd.DataFrame, tolerances: Sequence[float], target_tol: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, best): every grid point over seeds, and the best-lr cell per (problem, variant),
    both in the runs table's order of problems and variants."""
    cells = aggregate_cells(runs, tolerances, target_tol)
    best = best_cells(cells)
    po, vo = _order(runs, "problem"), _order(runs, "variant")
    def order(df: pd.DataFrame) -> pd.DataFrame:
        if df.empty:
            return df
        df = df.assign(_p=df["problem"].map(po.index), _v=df["variant"].map(vo.index))
        df = df.sort_values(["_p", "_v", "lr", "run_name"], kind="mergesort")
        return df.drop(columns=["_p", "_v"]).reset_index(drop=True)

    return order(cells), order(best)


def estimated_optima(runs: pd.DataFrame) -> dict[str, str]:
    """problem label -> how its f* was estimated, for the problems whose f* is not exact."""
    if "f_star_source" not in runs:
        return {}
    est = runs.loc[runs["f_star_source"].astype(str) != "exact", ["problem", "f_star_source"]]
    est = est.drop_duplicates("problem")
    return dict(zip(est["problem"].astype(str), est["f_star_source"].astype(str)))


def problem_label(problem: str, estimated: dict[str, str]) -> str:
    """The problem's name, marked where its f* is estimated (so no suboptimality passes for exact)."""
    return f"{problem} (f* estimated)" if problem in estimated else problem


def convergence_table(best: pd.DataFrame, tolerances: Sequence[float], target_tol: float,
                      estimated: dict[str, str] | None = None) -> str:
    show = [t for t in (1e-4, 1e-6) if t in tolerances] or list(tolerances)[:2]
    header = ["problem", "optimizer", "best lr", *[f"steps to {tol_label(t)}" for t in show],
              f"time to {tol_label(show[0])}", f"success ({tol_label(target_tol)})", "ERT (steps)",
              "final rel. subopt.", "statuses"]
    rows = []
    for _, r in best.iterrows():
        rows.append([
            problem_label(str(r["problem"]), estimated or {}), str(r["variant"]), fmt_num(r["lr"]),
            *[fmt_band(r[f"{steps_col(t)}_med"], r[f"{steps_col(t)}_p10"], r[f"{steps_col(t)}_p90"]) for t in show],
            fmt_time(r[f"time_to_{tol_label(show[0])}_med"]),
            f"{r['success'] * 100:.0f} %", fmt_steps(r["ert"]), fmt_num(r["final_rel_med"]), str(r["statuses"]),
        ])
    return md_table(header, rows, "lll" + "r" * (len(header) - 4) + "l")


def timing_table(runs: pd.DataFrame) -> str:
    header = ["problem", "optimizer", "ns/step (median)", "grad evals/s", "compile s (pair)"]
    rows = []
    for (p, v), g in runs.groupby(["problem", "variant"], sort=False):
        ns = g["ns_per_step"].median()
        rows.append([str(p), str(v), fmt_rate(ns), fmt_rate(g["grad_evals_per_s"].median()),
                     fmt_num(g["compile_s"].max(), 2)])
    return md_table(header, rows, "llrrr")


GRID_TABLE_MAX = 120


def grid_table(cells: pd.DataFrame, tolerances: Sequence[float], target_tol: float) -> str:
    t = target_tol
    header = ["problem", "run", "seeds", f"steps to {tol_label(t)}", f"success ({tol_label(t)})",
              "final rel. subopt.", "statuses"]
    esc = bool("escape_med" in cells and cells["escape_med"].notna().any())
    if esc:
        header.insert(4, "escape step")
    rows = []
    for _, r in cells.iterrows():
        row = [str(r["problem"]), str(r["run_name"]), str(int(r["seeds"])),
               fmt_band(r[f"{steps_col(t)}_med"], r[f"{steps_col(t)}_p10"], r[f"{steps_col(t)}_p90"]),
               f"{r['success'] * 100:.0f} %", fmt_num(r["final_rel_med"]), str(r["statuses"])]
        if esc:
            row.insert(4, fmt_band(r["escape_med"], r["escape_p10"], r["escape_p90"]))
        rows.append(row)
    return md_table(header, rows, "llrrr" + "r" * esc + "rl")


def escape_table(best: pd.DataFrame) -> str | None:
    if "escape_med" not in best or best["escape_med"].isna().all():
        return None
    rows = []
    for _, r in best[best["escape_med"].notna()].iterrows():
        rows.append([str(r["problem"]), str(r["variant"]), fmt_num(r["lr"]),
                     fmt_band(r["escape_med"], r["escape_p10"], r["escape_p90"])])
    return md_table(["problem", "optimizer", "lr", "escape step (median [10–90 %])"], rows, "lllr")


def _provenance_lines(estimated: dict[str, str], plugins: list[dict[str, str]]) -> list[str]:
    out = []
    if estimated:
        which = ", ".join(f"{k} ({v})" for k, v in estimated.items())
        out.append(f"- f* is **estimated**, not exact, for: {which}; their suboptimalities are relative to that "
                   "estimate")
    if plugins:
        which = ", ".join(f"{x['name']} ({x['kind']}, `{x['path']}`, sha256 `{x['sha256'][:12]}`)" for x in plugins)
        out.append(f"- plugins: {which}")
    return out


def render_summary(runs: pd.DataFrame, meta: dict[str, Any]) -> str:
    """summary.md as text."""
    s = meta.get("suite", {})
    tolerances = [float(t) for t in s.get("tolerances", [1e-2, 1e-4, 1e-6, 1e-8])]
    target = float(s.get("target_tol", 1e-4))
    runs = runs.copy()
    runs["problem"] = pd.Categorical(runs["problem"], categories=_order(runs, "problem"), ordered=True)
    runs["variant"] = pd.Categorical(runs["variant"], categories=_order(runs, "variant"), ordered=True)
    runs = runs.sort_values(["problem", "variant"], kind="mergesort")
    runs["problem"] = runs["problem"].astype(str)
    runs["variant"] = runs["variant"].astype(str)
    _, best = summarize(runs, tolerances, target)
    est = estimated_optima(runs)
    env = meta.get("environment", {})
    out = [f"# gdbench results: suite `{s.get('name', '?')}`", ""]
    if s.get("description"):
        out += [str(s["description"]), ""]
    out += [
        f"- suite file: `{s.get('path', '?')}` (sha256 `{str(s.get('sha256', '?'))[:12]}`)",
        f"- runs: {len(runs)} ({runs['problem'].nunique()} problems × {runs['variant'].nunique()} optimizer "
        f"variants × lr grid × {len(s.get('seeds', []))} seeds); budget {s.get('steps', '?')} steps, "
        f"recorded every {s.get('record_every', '?')} (unless a problem overrides them)",
        f"- tolerances on relative suboptimality (f − f*)/(f₀ − f*): {', '.join(tol_label(t) for t in tolerances)}; "
        f"target {tol_label(target)}; runs stop at {fmt_num(s.get('stop_tol'))} (0 = never)",
        *_provenance_lines(est, meta.get("plugins") or []),
        f"- machine: {env.get('cpu', '?')}, {env.get('threads', '?')} threads; gdbench {env.get('gdbench', '?')}, "
        f"numba {env.get('numba', '?')}, git `{str(env.get('git_commit', '?'))[:10]}`",
        "",
        "## Convergence",
        "",
        f"Per problem × optimizer at its best learning rate; {BEST_LR_RULE}. Steps: median "
        "[10 %–90 %] over seeds, first recorded step at or below the tolerance; ∞ = not reached. Time = steps × "
        "ns/step measured without recording and compilation. ERT = (steps of successes + budget of failures) / "
        "successes.",
        "",
        convergence_table(best, tolerances, target, est),
        "",
        "## Timing",
        "",
        "ns/step: single thread, no trace recording, compilation excluded (median over the variant's runs). Gradient "
        "evaluations are per-sample for data problems. Compile s: first compile or cache load of the (rule, problem) "
        "driver in the worker (0 when already loaded).",
        "",
        timing_table(runs),
        "",
    ]
    cells, _ = summarize(runs, tolerances, target)
    if len(cells) <= GRID_TABLE_MAX and len(cells) > len(best):
        out += ["## Every grid point", "", "Median over seeds (steps: [10 %–90 %]).", "",
                grid_table(cells, tolerances, target), ""]
    esc = escape_table(best)
    if esc:
        out += ["## Saddle escape", "", "First recorded step with f < f_saddle − escape_frac·(f_saddle − f*) "
                f"(escape_frac = {fmt_num(s.get('escape_frac', 0.1))}), at the best lr.", "", esc, ""]
    from .basins import basins_section  # here: basins builds on this module's helpers

    out += basins_section(runs, meta, best)
    skipped = meta.get("skipped", [])
    if skipped:
        out += ["## Skipped combinations", ""] + [f"- {x}" for x in skipped] + [""]
    return "\n".join(out)
