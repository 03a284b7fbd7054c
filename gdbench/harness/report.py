"""Everything derived from a results folder's saved tables: summary.md and figures/.

``gdbench report DIR`` calls :func:`write_report`; ``gdbench run`` calls it after consolidating,
so a report is always a pure function of ``runs``, ``traces`` and ``meta.json``.
"""

from __future__ import annotations

from pathlib import Path

from .store import atomic_write_text, load_results
from .tables import render_summary


def write_report(out: str | Path, *, figures: bool = True) -> list[Path]:
    """(Re)write ``summary.md`` and the figures of ``out``; returns the files written."""
    out = Path(out)
    runs, traces, meta = load_results(out)
    written = [out / "summary.md"]
    atomic_write_text(written[0], render_summary(runs, meta))
    if figures and not runs.empty:
        from .plots import make_figures

        written += make_figures(runs, traces, meta, out / "figures")
    return written
