"""The records of ``gdbench bench`` and their text table, JSON and markdown files."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._sys import atomic_write_text


@dataclass
class Row:
    """One implementation of one benchmark."""

    benchmark: str
    impl: str
    unit: str  # what `times` measure: "s" (per call) or "ns/step"
    times: list[float]
    ratio: float | None = None  # peer time / gdbench time; roofline: stream time / gdbench time
    goal: str = ""
    met: bool | None = None
    check: str = ""  # the equal-work check, e.g. "loss rel 3e-15"
    note: str = ""
    goal_key: str = ""  # the issue-10 goal this row measures (gdbench.perf._goals), if any

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan


@dataclass
class BenchResult:
    header: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _fmt(v: float, unit: str) -> str:
    if unit == "ns/step":
        return f"{v:.1f} ns"
    if v >= 1:
        return f"{v:.2f} s"
    if v >= 1e-3:
        return f"{v * 1e3:.1f} ms"
    return f"{v * 1e6:.0f} us"


def _aligned(cols: list[str], body: list[list[str]], blank_repeats: bool = True) -> list[str]:
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(cols)]
    fmt = " | ".join(f"{{:{w}}}" for w in widths)
    lines = [fmt.format(*cols), "-+-".join("-" * w for w in widths)]
    prev = None
    for b in body:
        if blank_repeats and prev is not None and b[0] == prev:
            b = ["", *b[1:]]
        else:
            prev = b[0]
        lines.append(fmt.format(*b).rstrip())
    return lines


def _met(m: bool | None) -> str:
    return "" if m is None else ("met" if m else "MISSED")


def table(res: BenchResult) -> str:
    """The whole report: machine, one line per (benchmark, implementation), then the goals."""
    h = res.header
    lines = [
        f"gdbench bench ({h.get('mode')}) — {h['time_utc']}",
        f"machine: {h['cpu']}, {h['cores']} cores, load average {h.get('load_avg', '?')} at start; "
        f"numba threads: {h['numba_threads']} ({h['threading_layer']}); BLAS: {h['blas']}",
        f"python {h['python']}, numpy {h['numpy']}, numba {h['numba']}; row kernels fastmath {h['rows_fastmath']}",
        "ratio = implementation's median / gdbench's median (> 1: gdbench faster); roofline row: time to read X "
        "once / gdbench time",
        "",
    ]
    body = []
    for r in res.rows:
        mm = f"{_fmt(min(r.times), r.unit)}–{_fmt(max(r.times), r.unit)}" if r.times else ""
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        chk = "; ".join(x for x in (r.check, r.note) if x)
        body.append([r.benchmark, r.impl, _fmt(r.median, r.unit) if r.times else "", mm, ratio, r.goal, _met(r.met),
                     chk])
    lines += _aligned(["benchmark", "implementation", "median", "min–max", "ratio", "goal", "met", "check"], body)
    lines += ["", *goals_table(res)]
    if res.notes:
        lines.append("")
        lines.extend(f"note: {n}" for n in res.notes)
    return "\n".join(lines)


def goals_table(res: BenchResult) -> list[str]:
    """Every goal of issue 10 with what this run measured for it (or why it did not)."""
    from ._goals import GOALS

    mode = res.header.get("mode")
    body = []
    for g in GOALS:
        rows = [r for r in res.rows if r.goal_key == g.key]
        if not rows:
            body.append([g.what, "not measured" + (" (full mode only)" if g.key in FULL_ONLY else ""), g.text, ""])
            continue
        for r in rows:
            value = (f"{r.ratio:.2f}" if r.ratio is not None else "n/a (unequal)") if g.on == "ratio" else \
                (_fmt(r.median, r.unit) if g.on == "median" else r.check)
            body.append([g.what, value if g.on == "flag" else f"{value}  [{r.benchmark}: {r.impl}]", g.text,
                         _met(r.met)])
    out = [f"goals of issue 10 ({mode} sizes{'' if mode == 'full' else ': indicative only'})"]
    return out + _aligned(["goal", "measured", "wanted", "met"], body)


#: goals measured only by ``gdbench bench`` in full mode (minutes of cold compiles, valgrind)
FULL_ONLY = frozenset({"cold_run", "cold_minimize", "gate"})


def save(res: BenchResult, out: Path, text: str) -> tuple[Path, Path]:
    """Write ``bench.json`` (every value) and ``bench.md`` (the table) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    data = {"version": 1, "header": res.header, "notes": res.notes,
            "rows": [dict(asdict(r), median=r.median) for r in res.rows]}
    pj, pm = out / "bench.json", out / "bench.md"
    for path, content in ((pj, json.dumps(data, indent=1, default=float)), (pm, f"```\n{text}\n```\n")):
        atomic_write_text(path, content)
    return pj, pm
