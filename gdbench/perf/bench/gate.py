"""The perf gate's sensitivity, measured (full mode; needs valgrind): the instruction-count perf
suite twice on this build (A/A) and once with every benchmark doing 1.2× its work (one
benchmark per process, ``GDBENCH_PERF_INJECT``), each judged by ``perf-gate``'s rule. At the
``--fast`` sizes (the counts are exact at any size; ~3 × 1.5 min on 2 cores);
``benchmarks/gate_sensitivity.sh`` does the same at the default sizes through the CLI."""

from __future__ import annotations

import time
from typing import Any

from .. import _goals
from .._table import BenchResult, Row
from ..cmd_gate import INSTR_THRESHOLD, gate

INJECT = 1.2


def run(res: BenchResult, size: dict[str, Any]) -> None:
    if not size["cold"]:
        return
    from .. import _count
    from ..perf_suite import names

    try:
        _count.check_available()
    except ValueError as e:
        res.notes.append(f"perf-gate sensitivity not measured: {e}")
        return
    sel = names(True)
    cores = res.header["cores"]
    t0 = time.perf_counter()
    a = _count.run_counts(True, sel, jobs=cores, log=lambda s: None)
    b = _count.run_counts(True, sel, jobs=cores, log=lambda s: None)
    c = _count.run_counts(True, sel, jobs=cores, log=lambda s: None, inject=INJECT)
    wall = time.perf_counter() - t0
    wrap = {k: [v] for k, v in a.items()}
    aa, _ = gate(wrap, {k: [v] for k, v in b.items()}, INSTR_THRESHOLD, mode="instructions")
    inj, _ = gate(wrap, {k: [v] for k, v in c.items()}, INSTR_THRESHOLD, mode="instructions")
    worst_aa = max(max(v.ratio_median, 1 / v.ratio_median) for v in aa)
    caught = sum(v.slower for v in inj)
    aa_pass = not any(v.slower for v in aa)
    lo = min(v.ratio_median for v in inj)
    row = Row(f"perf-gate sensitivity (instruction counts, --fast sizes, threshold {1 + INSTR_THRESHOLD:.2f}x)",
              f"{len(sel)} benchmarks: A/A, and each at {INJECT}x work",
              "s", [wall], met=aa_pass and caught == len(sel),
              check=f"A/A {'passes' if aa_pass else 'FAILS'} (worst ratio {worst_aa:.5f}); "
                    f"{INJECT}x injected: {caught}/{len(sel)} caught (smallest ratio {lo:.3f})",
              note="time column: wall of the 3 counted suites")
    res.rows.append(_goals.apply(row, "gate"))
