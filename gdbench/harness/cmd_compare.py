"""``gdbench compare DIR_A DIR_B``: which runs changed status, steps-to-tolerance or final loss.

Runs are matched by ``run_id`` (a hash of the run's spec). Exit code 0 when every run of A is in
B with the same status, the same steps-to-tolerance (every tolerance, and the saddle escape
step) and a final loss equal within ``--rtol``/``--atol``; 1 otherwise (including runs present
on one side only). Timing columns (ns/step, time-to-tolerance, compile and wall time, host) are
ignored: this is the convergence-regression check for CI. Two folders of different suites (by
the suite name and file hash in ``meta.json``) are said to be so on the first line, before the
differences (whose run ids then cannot match).
"""

from __future__ import annotations

import argparse
import math
import sys

import pandas as pd


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="DIR_A", help="baseline results folder (e.g. results/baseline)")
    p.add_argument("b", metavar="DIR_B", help="new results folder")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance on the final loss (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-12, help="absolute tolerance on the final loss (default 1e-12)")
    p.add_argument("--steps-rtol", type=float, default=0.0,
                   help="relative tolerance on steps-to-tolerance (default 0: exact)")
    p.add_argument("--max-lines", type=int, default=50, help="print at most this many changes (default 50)")


def _num_eq(a: float, b: float, rtol: float, atol: float) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def diff_runs(a: pd.DataFrame, b: pd.DataFrame, *, rtol: float = 1e-6, atol: float = 1e-12,
              steps_rtol: float = 0.0) -> list[tuple[str, str, str, str]]:
    """(run, column, value in A, value in B) for every convergence difference."""
    ka = a.set_index(a["run_id"].astype(str))
    kb = b.set_index(b["run_id"].astype(str))
    label = lambda r: f"{r['problem']}/{r['run_name']} seed={r['seed']}"  # noqa: E731
    out: list[tuple[str, str, str, str]] = []
    for rid in ka.index.difference(kb.index, sort=False):
        out.append((label(ka.loc[rid]), "run", "present", "missing"))
    for rid in kb.index.difference(ka.index, sort=False):
        out.append((label(kb.loc[rid]), "run", "missing", "present"))
    steps_cols = [c for c in ka.columns if c.startswith("steps_to_") and c in kb.columns]
    if "escape_step" in ka.columns and "escape_step" in kb.columns:
        steps_cols.append("escape_step")
    for rid in ka.index.intersection(kb.index, sort=False):
        ra, rb = ka.loc[rid], kb.loc[rid]
        if str(ra["status"]) != str(rb["status"]):
            out.append((label(ra), "status", str(ra["status"]), str(rb["status"])))
        for c in steps_cols:
            if not _num_eq(ra[c], rb[c], steps_rtol, 0.0):
                out.append((label(ra), c, f"{ra[c]:g}", f"{rb[c]:g}"))
        if not _num_eq(ra["final_loss"], rb["final_loss"], rtol, atol):
            out.append((label(ra), "final_loss", f"{ra['final_loss']:.17g}", f"{rb['final_loss']:.17g}"))
    return out


def suite_mismatch(meta_a: dict, meta_b: dict) -> str | None:
    """One line saying how the suites of two results folders differ (None when they agree or a
    folder has no meta.json)."""
    sa, sb = meta_a.get("suite") or {}, meta_b.get("suite") or {}
    if not sa or not sb:
        return None
    na, nb = sa.get("name"), sb.get("name")
    ha, hb = str(sa.get("sha256") or "")[:12], str(sb.get("sha256") or "")[:12]
    if na != nb:
        return (f"the folders hold different suites: A = {na!r} (file sha256 {ha}), B = {nb!r} (file sha256 {hb}); "
                "their runs cannot match")
    if ha and hb and ha != hb:
        return (f"suite {na!r}: the suite file differs (sha256 {ha} in A, {hb} in B); runs whose spec changed "
                "appear as missing on one side")
    return None


def run(args: argparse.Namespace) -> int:
    from .store import load_results
    from .tables import md_table

    a, _, meta_a = load_results(args.a)
    b, _, meta_b = load_results(args.b)
    mismatch = suite_mismatch(meta_a, meta_b)
    if mismatch:
        print(mismatch)
    changes = diff_runs(a, b, rtol=args.rtol, atol=args.atol, steps_rtol=args.steps_rtol)
    n = len(set(a["run_id"].astype(str)) | set(b["run_id"].astype(str)))
    if not changes:
        print(f"identical: {n} runs, same status, steps-to-tolerance and final loss (rtol {args.rtol:g})")
        return 0
    runs_changed = len({c[0] for c in changes})
    print(f"{runs_changed} of {n} runs changed ({len(changes)} differences); A = {args.a}, B = {args.b}")
    rows = [list(c) for c in changes[: args.max_lines]]
    print(md_table(["run", "column", "A", "B"], rows))
    if len(changes) > args.max_lines:
        print(f"... and {len(changes) - args.max_lines} more", file=sys.stderr)
    return 1
