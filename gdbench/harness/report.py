"""Everything derived from a results folder's saved tables: summary.md, figures/ and report.html.

``gdbench report DIR`` calls :func:`write_report`; ``gdbench run`` calls it after consolidating,
so a report is always a pure function of ``runs``, ``traces`` and ``meta.json`` (it never builds
a problem nor runs a sweep).
"""

from __future__ import annotations

from pathlib import Path

from .analysis import analyse
from .store import atomic_write_text, load_results
from .tables import render_summary


def write_report(out: str | Path, *, figures: bool = True, html: bool = True) -> list[Path]:
    """(Re)write ``summary.md``, the figures (unless ``figures=False``) and ``report.html`` of
    ``out``; returns the files written."""
    out = Path(out)
    runs, traces, meta = load_results(out)
    a = analyse(runs, traces, meta)
    written = [out / "summary.md"]
    atomic_write_text(written[0], render_summary(runs, meta, traces, analysis=a))
    pngs: list[Path] = []
    if figures and not runs.empty:
        from .plots import make_figures

        pngs = make_figures(runs, traces, meta, out / "figures", analysis=a, palettes=html)
        written += pngs
    if html and not runs.empty:
        from .html_report import write_html

        written.append(write_html(a, out / "report.html", pngs))
    return written
