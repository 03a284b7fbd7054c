"""The tables of a results folder (summary.md, and the same tables in report.html) from the saved
runs and traces tables and meta.json — nothing else, so that ``gdbench report DIR`` reproduces
summary.md byte for byte."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from . import ecdf, paired, robustness, score, theory
from .analysis import Analysis, analyse, sorted_runs
from .metrics import aggregate_cells, best_cells, steps_col, tol_label
from .tabular import Table, fmt_band, fmt_num, fmt_pct, fmt_rate, fmt_steps, fmt_time, md_table

__all__ = ["BEST_LR_RULE", "Table", "fmt_band", "fmt_num", "fmt_rate", "fmt_steps", "fmt_time", "md_table",
           "summarize", "convergence_table", "timing_table", "grid_table", "escape_table", "sections",
           "render_summary"]

BEST_LR_RULE = ("best lr = the grid point with the smallest ERT to the target tolerance (ties and the no-success "
                "case: smaller median final relative suboptimality of the non-diverged seeds, then smaller lr)")


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


def _band(r: pd.Series, col: str) -> tuple[str, float]:
    return fmt_band(r[f"{col}_med"], r[f"{col}_p10"], r[f"{col}_p90"]), r[f"{col}_med"]


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


def convergence(best: pd.DataFrame, tolerances: Sequence[float], target_tol: float,
                estimated: dict[str, str] | None = None) -> Table:
    show = [t for t in (1e-4, 1e-6) if t in tolerances] or list(tolerances)[:2]
    header = ["problem", "optimizer", "best lr", *[f"steps to {tol_label(t)}" for t in show],
              f"time to {tol_label(show[0])}", f"success ({tol_label(target_tol)})", "ERT (steps)",
              "final rel. subopt.", "statuses"]
    t = Table(header, "lll" + "r" * (len(header) - 4) + "l")
    for _, r in best.iterrows():
        tt = r[f"time_to_{tol_label(show[0])}_med"]
        t.add([problem_label(str(r["problem"]), estimated or {}), str(r["variant"]), (fmt_num(r["lr"]), r["lr"]),
               *[_band(r, steps_col(x)) for x in show], (fmt_time(tt), tt),
               (f"{r['success'] * 100:.0f} %", r["success"]), (fmt_steps(r["ert"]), r["ert"]),
               (fmt_num(r["final_rel_med"]), r["final_rel_med"]), str(r["statuses"])])
    return t


def convergence_table(best: pd.DataFrame, tolerances: Sequence[float], target_tol: float,
                      estimated: dict[str, str] | None = None) -> str:
    return convergence(best, tolerances, target_tol, estimated).md()


def timing(runs: pd.DataFrame) -> Table:
    t = Table(["problem", "optimizer", "ns/step (median)", "grad evals/s", "compile s (pair)"], "llrrr")
    for (p, v), g in runs.groupby(["problem", "variant"], sort=False):
        ns, ge, cs = g["ns_per_step"].median(), g["grad_evals_per_s"].median(), g["compile_s"].max()
        t.add([str(p), str(v), (fmt_rate(ns), ns), (fmt_rate(ge), ge), (fmt_num(cs, 2), cs)])
    return t


def timing_table(runs: pd.DataFrame) -> str:
    return timing(runs).md()


GRID_TABLE_MAX = 120


def grid(cells: pd.DataFrame, target_tol: float) -> Table:
    t = target_tol
    header = ["problem", "run", "seeds", f"steps to {tol_label(t)}", f"success ({tol_label(t)})",
              "final rel. subopt.", "statuses"]
    esc = bool("escape_med" in cells and cells["escape_med"].notna().any())
    if esc:
        header.insert(4, "escape step")
    tab = Table(header, "llrrr" + "r" * esc + "rl")
    for _, r in cells.iterrows():
        row: list = [str(r["problem"]), str(r["run_name"]), (str(int(r["seeds"])), int(r["seeds"])),
                     _band(r, steps_col(t)), (f"{r['success'] * 100:.0f} %", r["success"]),
                     (fmt_num(r["final_rel_med"]), r["final_rel_med"]), str(r["statuses"])]
        if esc:
            row.insert(4, _band(r, "escape"))
        tab.add(row)
    return tab


def grid_table(cells: pd.DataFrame, tolerances: Sequence[float], target_tol: float) -> str:
    return grid(cells, target_tol).md()


def escape(best: pd.DataFrame) -> Table | None:
    if "escape_med" not in best or best["escape_med"].isna().all():
        return None
    t = Table(["problem", "optimizer", "lr", "escape step (median [10–90 %])"], "lllr")
    for _, r in best[best["escape_med"].notna()].iterrows():
        t.add([str(r["problem"]), str(r["variant"]), (fmt_num(r["lr"]), r["lr"]), _band(r, "escape")])
    return t


def escape_table(best: pd.DataFrame) -> str | None:
    t = escape(best)
    return None if t is None else t.md()


def notes_of(runs: pd.DataFrame) -> list[str]:
    """Notes the problems made when built (e.g. which label became +1), once each."""
    if "problem_note" not in runs:
        return []
    out = []
    for p, g in runs.groupby("problem", sort=False):
        for note in dict.fromkeys(str(x) for x in g["problem_note"] if isinstance(x, str) and x):
            out.append(f"{p}: {note}")
    return out


def sections(a: Analysis) -> list[tuple[str, str, Table | None, str]]:
    """The summary's sections after the header: (id, title, table, text above the table). The
    HTML report renders the same list (built once per analysis)."""
    if a.sections is None:
        a.sections = _sections(a)
    return a.sections


def _sections(a: Analysis) -> list[tuple[str, str, Table | None, str]]:
    s = a.meta.get("suite", {})
    tl = tol_label(a.target)
    out: list[tuple[str, str, Table | None, str]] = [
        ("convergence", "Convergence", convergence(a.best, a.tolerances, a.target, estimated_optima(a.runs)),
         f"Per problem × optimizer at its best learning rate; {BEST_LR_RULE}. Steps: median "
         "[10 %–90 %] over seeds, first recorded step at or below the tolerance; ∞ = not reached. Time = steps × "
         "ns/step measured without recording and compilation. ERT = (steps of successes + budget of failures) / "
         "successes."),
        ("timing", "Timing", timing(a.runs),
         "ns/step: single thread, no trace recording, compilation excluded (median over the variant's runs). "
         "Gradient evaluations are per-sample for data problems. Compile s: first compile or cache load of the "
         "(rule, problem) driver in the worker (0 when already loaded)."),
    ]
    if len(a.cells) <= GRID_TABLE_MAX and len(a.cells) > len(a.best):
        out.append(("grid", "Every grid point", grid(a.cells, a.target), "Median over seeds (steps: [10 %–90 %])."))
    esc = escape(a.best)
    if esc is not None:
        out.append(("escape", "Saddle escape", esc,
                    "First recorded step with f < f_saddle − escape_frac·(f_saddle − f*) "
                    f"(escape_frac = {fmt_num(s.get('escape_frac', 0.1))}), at the best lr."))
    if not a.best.empty:
        if a.traces.empty:
            out.append(("ecdf", "Runtime ECDF", None, "No traces saved: the ECDF needs them."))
        else:
            out.append(("ecdf", "Runtime ECDF", ecdf.ecdf_table(a.ecdf_all), ecdf.DOC))
        out.append(("score", "Score", score.score_table(a.scores, a.baseline),
                    f"Cost: ERT to {tl} at the best lr. " + score.DOC
                    + ("" if a.baseline else " No speed-up column: the suite names no `baseline` variant.")))
        out.append(("robustness", "Tuning robustness", robustness.robustness_table(a.robust, tl), robustness.DOC))
        for key, title, pr in (("paired_steps", "Paired comparison: steps", a.paired_steps),
                               ("paired_time", "Paired comparison: time", a.paired_time)):
            if pr.empty:
                continue
            out.append((key, title, paired.paired_matrix(pr, a.variants),
                        f"Cost: steps to {tl}" + (" × ns/step" if key == "paired_time" else "") + ". "
                        + paired.DOC + " " + paired.verdict(pr)))
        if not a.kappa.empty:
            out.append(("theory", "Theory: steps to 1e-6 against the condition number", theory.kappa_table(a.kappa),
                        "Quadratics of several condition numbers κ; each optimizer at its tuned grid point (fewest "
                        "median steps to 1e-6). Gradient descent needs O(κ log 1/ε) steps, heavy ball and Nesterov "
                        "with tuned momentum O(√κ log 1/ε); the last two rows are those rates with constant 1."))
    from .basins import basins_sections  # here: basins builds on this module's helpers

    out += basins_sections(a.runs, a.meta, a.best)
    return out


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


def header_lines(a: Analysis) -> list[str]:
    s, env, runs = a.meta.get("suite", {}), a.meta.get("environment", {}), a.runs
    tl = ", ".join(tol_label(t) for t in a.tolerances)
    return [
        f"- suite file: `{s.get('path', '?')}` (sha256 `{str(s.get('sha256', '?'))[:12]}`)",
        f"- runs: {len(runs)} ({runs['problem'].nunique()} problems × {runs['variant'].nunique()} optimizer "
        f"variants × lr grid × {len(s.get('seeds', []))} seeds); budget {s.get('steps', '?')} steps, "
        f"recorded every {s.get('record_every', '?')} (unless a problem overrides them)",
        f"- tolerances on relative suboptimality (f − f*)/(f₀ − f*): {tl}; "
        f"target {tol_label(a.target)}; runs stop at {fmt_num(s.get('stop_tol'))} (0 = never)",
        *_provenance_lines(estimated_optima(runs), a.meta.get("plugins") or []),
        f"- machine: {env.get('cpu', '?')}, {env.get('threads', '?')} threads; gdbench {env.get('gdbench', '?')}, "
        f"numba {env.get('numba', '?')}, git `{str(env.get('git_commit') or '–')[:10]}`",
    ]


def render_summary(runs: pd.DataFrame, meta: dict[str, Any], traces: pd.DataFrame | None = None,
                   analysis: Analysis | None = None) -> str:
    """summary.md as text (the ECDF section needs ``traces``)."""
    a = analysis or analyse(runs, traces, meta)
    s = a.meta.get("suite", {})
    out = [f"# gdbench results: suite `{s.get('name', '?')}`", ""]
    if s.get("description"):
        out += [str(s["description"]), ""]
    out += [*header_lines(a), ""]
    for _, title, table, text in sections(a):
        out += [f"## {title}", "", text, ""]
        if table is not None:
            out += [table.md(), ""]
    notes = notes_of(a.runs)
    if notes:
        out += ["## Notes on the data", ""] + [f"- {x}" for x in notes] + [""]
    skipped = a.meta.get("skipped", [])
    if skipped:
        out += ["## Skipped combinations", ""] + [f"- {x}" for x in skipped] + [""]
    return "\n".join(out)


__all__ += ["fmt_pct", "sorted_runs", "notes_of", "header_lines", "convergence", "timing", "grid", "escape"]
