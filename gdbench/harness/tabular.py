"""Formatting of numbers and tables, shared by summary.md and report.html.

A :class:`Table` keeps, for every cell, the text shown and a sort key (a number where the
column is numeric), so that the same table is written as Markdown and as a sortable HTML
table whose numeric columns sort by value ("∞" last), not by text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_num(v: Any, digits: int = 3) -> str:
    if is_missing(v):
        return "–"
    v = float(v)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.{digits}g}"


def fmt_rate(v: Any) -> str:
    """Large positive quantities (ns/step, evaluations/s): plain digits below 1e7."""
    if is_missing(v):
        return "–"
    v = float(v)
    if math.isinf(v):
        return "∞"
    return f"{v:.0f}" if 1e3 <= abs(v) < 1e7 else f"{v:.3g}"


def fmt_steps(v: float) -> str:
    if is_missing(v):
        return "–"
    return "∞" if math.isinf(v) else f"{int(round(v))}"


def fmt_band(med: float, lo: float, hi: float) -> str:
    if is_missing(med):
        return "–"
    if fmt_steps(lo) == fmt_steps(hi):
        return fmt_steps(med)
    return f"{fmt_steps(med)} [{fmt_steps(lo)}–{fmt_steps(hi)}]"


def fmt_time(s: float) -> str:
    if is_missing(s):
        return "–"
    if math.isinf(s):
        return "∞"
    for unit, f in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= f or unit == "ns":
            return f"{s / f:.3g} {unit}"
    return "–"  # pragma: no cover


def fmt_pct(v: Any) -> str:
    return "–" if is_missing(v) else f"{float(v) * 100:.0f} %"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    align = align or "l" * len(header)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def sort_key(v: Any) -> float | str:
    """A number for the HTML table's sort (NaN and missing sort last, as +∞ does)."""
    if isinstance(v, str):
        return v
    if is_missing(v):
        return math.inf
    return float(v)


@dataclass
class Table:
    """Rows of (text, sort key) cells; ``align`` is one letter per column (l or r)."""

    header: list[str]
    align: str
    rows: list[list[str]] = field(default_factory=list)
    keys: list[list[float | str]] = field(default_factory=list)

    def add(self, cells: Sequence[tuple[str, Any] | str]) -> None:
        """Append a row; a cell is its text or (text, value to sort by)."""
        texts, keys = [], []
        for c in cells:
            text, key = (c, c) if isinstance(c, str) else c
            texts.append(text)
            keys.append(sort_key(key))
        self.rows.append(texts)
        self.keys.append(keys)

    def md(self) -> str:
        return md_table(self.header, self.rows, self.align)

    def __len__(self) -> int:
        return len(self.rows)
