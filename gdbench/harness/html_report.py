"""``report.html``: one self-contained page (no network access needed) with the suite and machine
header, every table of summary.md — sortable by a click on a column header and filterable by a
text box — interactive charts (hover a curve: optimizer, lr, seed and value) and the figures.

Built from the same :class:`~gdbench.harness.analysis.Analysis` as summary.md and the PNGs.
Vendored in ``gdbench/harness/assets`` with their licenses: uPlot 1.6.32 (MIT, charts) and
tablesort 5.7.1 (MIT, sorting); ``report.js`` is the glue (chart specs → uPlot, filter boxes).
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import ecdf as ecdf_mod
from . import theory
from .analysis import Analysis
from .store import atomic_write_text
from .tables import header_lines, notes_of, sections
from .tabular import Table

#: tab10, the matplotlib colours of the PNG figures, so both views agree
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]
FLOOR = 1e-12
MAX_POINTS = 160  # per curve in the interactive charts (the PNGs keep every record)
#: figures drawn interactively in the page; the others are embedded as PNG
INTERACTIVE = {"convergence_steps.png", "lr_sensitivity.png", "ecdf.png", "ecdf_problems.png"}
#: where each PNG goes: section id
PNG_SECTION = {"convergence_time.png": "convergence", "timing.png": "timing", "performance_profile.png": "score",
               "tuning.png": "robustness", "theory_kappa.png": "theory", "trajectories.png": "trajectories"}
#: order of the summary's sections in the page (the rest follow in summary order)
FIRST = ["score", "ecdf", "convergence", "robustness", "paired_steps", "paired_time", "theory", "timing"]


def asset(name: str) -> str:
    return (resources.files("gdbench.harness") / "assets" / name).read_text(encoding="utf-8")


def md_inline(text: str) -> str:
    """HTML of a line of summary.md text: **bold**, *italic*, `code`."""
    t = html.escape(text, quote=False)
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", t)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", t)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return None if not math.isfinite(v) else float(f"{v:.3g}")


def _sort_attr(k: float | str) -> str:
    if isinstance(k, str):
        return html.escape(k)
    return "Infinity" if math.isinf(k) and k > 0 else ("-Infinity" if math.isinf(k) else repr(float(k)))


def table_html(t: Table, tid: str, rows: list[int] | None = None) -> str:
    idx = range(len(t.rows)) if rows is None else rows
    numeric = [all(not isinstance(t.keys[i][j], str) for i in idx) and len(idx) > 0 for j in range(len(t.header))]
    head = "".join(f'<th{" data-sort-method=" + chr(34) + "gdnum" + chr(34) if numeric[j] else ""}>'
                   f"{html.escape(h)}</th>" for j, h in enumerate(t.header))
    body = []
    for i in idx:
        cells = []
        for j, text in enumerate(t.rows[i]):
            cls = ' class="r"' if t.align[j] == "r" else ""
            cells.append(f'<td{cls} data-sort="{_sort_attr(t.keys[i][j])}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<input class="gd-filter" id="{tid}-filter" type="search" placeholder="filter rows…">'
            f'<div class="gd-wrap"><table class="gd-table" id="{tid}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _thin(n: int) -> np.ndarray:
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.append(np.linspace(0, n - 1, MAX_POINTS).astype(int), n - 1))


class Page:
    """Collects chart specs (rendered by report.js) while the HTML is assembled."""

    def __init__(self, a: Analysis) -> None:
        self.a = a
        self.charts: list[dict[str, Any]] = []
        self.color = {v: COLORS[i % len(COLORS)] for i, v in enumerate(a.variants)}
        self._trace_ids: pd.Series | None = None  # the traces' run ids as text (once: every problem filters on it)

    def chart(self, spec: dict[str, Any]) -> str:
        spec["id"] = f"chart-{len(self.charts)}"
        self.charts.append(spec)
        return f'<div class="gd-chart" id="{spec["id"]}"></div>'

    def legend(self, variants: list[str]) -> str:
        items = "".join(f'<span><i style="background:{self.color[v]}"></i>{html.escape(v)}</span>' for v in variants)
        return f'<div class="gd-legend">{items}</div>'

    # --- interactive charts -----------------------------------------------------------------

    def convergence(self, prob: str) -> str:
        a = self.a
        br = a.best_runs[a.best_runs["problem"] == prob]
        if a.traces.empty or br.empty:
            return ""
        if self._trace_ids is None:
            self._trace_ids = a.traces["run_id"].astype(str)
        tr = a.traces[self._trace_ids.isin(set(br["run_id"].astype(str)))]
        x = np.unique(tr["step"].to_numpy())
        keep = _thin(len(x))
        x = x[keep]
        by = {str(k): g for k, g in tr.groupby("run_id", sort=False)}
        series = []
        for _, r in br.iterrows():
            g = by.get(str(r["run_id"]))
            if g is None:
                continue
            y = np.full(len(x), np.nan)
            pos = np.searchsorted(x, g["step"].to_numpy())
            ok = (pos < len(x)) & (x[np.minimum(pos, len(x) - 1)] == g["step"].to_numpy())
            y[pos[ok]] = np.clip(g["rel_suboptimality"].to_numpy(dtype=float)[ok], FLOOR, 1e300)
            series.append({"label": f"{r['variant']} · lr={r['lr']:g} · seed {int(r['seed'])}",
                           "color": self.color[str(r["variant"])], "width": 1.3, "y": [_num(v) for v in y]})
        return self.chart({"title": f"{prob}: convergence at the best lr (every seed)", "xlabel": "step",
                           "ylabel": "(f − f*)/(f₀ − f*)", "ylog": True, "x": [int(v) for v in x], "series": series})

    def lr_sensitivity(self, prob: str) -> str:
        runs = self.a.runs[self.a.runs["problem"] == prob]
        lrs = np.unique(runs["lr"].to_numpy(dtype=float))
        if len(lrs) < 2:
            return ""
        series = []
        # per (variant, seed), in order of first appearance: the smallest final value at each lr (NaN
        # ignored; NaN where there is none), on NumPy arrays (a pandas group per seed cost ~2 ms)
        diverged = (runs["status"] == "diverged").to_numpy(dtype=bool)
        fin = np.where(diverged, 10.0, np.clip(runs["final_rel_subopt"].to_numpy(dtype=float, na_value=np.nan),
                                               FLOOR, 10.0))
        lr_of = runs["lr"].to_numpy(dtype=float)
        groups: dict[tuple[Any, Any], list[int]] = {}
        for i, key in enumerate(zip(runs["variant"].to_numpy(dtype=object), runs["seed"].to_numpy())):
            groups.setdefault(key, []).append(i)
        for (v, seed), idx in groups.items():
            f_g, lr_g = fin[idx], lr_of[idx]
            y = []
            for lr in lrs:
                m = f_g[(lr_g == lr) & ~np.isnan(f_g)]
                y.append(_num(m.min() if m.size else np.nan))
            series.append({"label": f"{v} · seed {int(seed)}", "color": self.color[str(v)], "width": 1.0,
                           "points": True, "y": y})
        vlines = []
        reg = theory.lr_regimes(self.a.runs, prob)
        if reg is not None:
            vlines = [{"x": reg[0], "label": "1/L"}, {"x": reg[1], "label": "2/L"}]
        return self.chart({"title": f"{prob}: final rel. suboptimality against lr (diverged: at 10)",
                           "xlabel": "lr", "ylabel": "final rel. subopt.", "xlog": True, "ylog": True,
                           "x": [float(v) for v in lrs], "series": series, "vlines": vlines})

    def ecdf(self, tr: pd.DataFrame, unit: str, title: str) -> str:
        lo, hi = ecdf_mod.budget_range(tr, unit)
        if tr.empty or not math.isfinite(lo):
            return ""
        b = np.geomspace(lo, hi, 160)
        series = [{"label": f"{v} (best lr)", "color": self.color[str(v)], "width": 1.8, "step": True,
                   "y": [_num(x) for x in ecdf_mod.ecdf(g[unit].to_numpy(), b)]}
                  for v, g in tr.groupby("variant", sort=False)]
        return self.chart({"title": title, "xlabel": ecdf_mod.UNIT_LABELS[unit], "ylabel": "share solved",
                           "xlog": True, "yrange": [0, 1], "x": [float(f"{v:.6g}") for v in b], "series": series})


#: palette PNGs made ahead by the figure drawing's child process: path -> (size, mtime, bytes)
_SMALL: dict[str, tuple[int, int, bytes]] = {}


def remember_small_png(path: Path, data: bytes) -> None:
    """Keep ``small_png(path)`` computed elsewhere (valid while the file is unchanged)."""
    st = path.stat()
    _SMALL[str(path)] = (st.st_size, st.st_mtime_ns, data)


def small_png(path: Path) -> bytes:
    """The figure with a 256-colour palette (a third of the bytes; figures/ keeps the original)."""
    hit = _SMALL.pop(str(path), None)
    if hit is not None:
        st = path.stat()
        if hit[:2] == (st.st_size, st.st_mtime_ns):
            return hit[2]
    return _small_png(path)


def _small_png(path: Path) -> bytes:
    import io

    from PIL import Image  # matplotlib's own dependency

    # the fast octree: 0.06 s a figure where median cut with an optimised encoding took 0.2 s, and
    # fewer bytes; its near-white entries are made white, so the background stays exactly white
    # (quick suite's figures: mean error 0.3-0.6 of 255 a channel, at most 49 on antialiased edges)
    with Image.open(path) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    pal = q.getpalette() or []
    for i in range(0, len(pal) - 2, 3):
        if min(pal[i:i + 3]) >= 252:
            pal[i:i + 3] = [255, 255, 255]
    q.putpalette(pal)
    buf = io.BytesIO()
    q.save(buf, format="PNG")
    return buf.getvalue()


def _png(path: Path) -> str:
    b64 = base64.b64encode(small_png(path)).decode("ascii")
    return (f'<figure><img alt="{path.name}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{path.name}</figcaption></figure>")


def render_html(a: Analysis, pngs: list[Path]) -> str:
    pg = Page(a)
    s, env = a.meta.get("suite", {}), a.meta.get("environment", {})
    figs = {p.name: p for p in pngs if p.is_file()}
    placed = {sec: [figs[n] for n in figs if PNG_SECTION.get(n) == sec] for sec in set(PNG_SECTION.values())}
    secs = sections(a)
    order = {k: i for i, k in enumerate(FIRST)}
    secs = sorted(secs, key=lambda x: order.get(x[0], len(FIRST)))
    body: list[str] = []
    toc: list[tuple[str, str]] = []
    for sid, title, table, text in secs:
        toc.append((sid, title))
        part = [f'<section id="{sid}"><h2>{html.escape(title)}</h2><p class="gd-doc">{md_inline(text)}</p>']
        if sid == "ecdf" and not a.triples.empty:
            charts = [pg.ecdf(a.triples, u, f"All problems: budget in {ecdf_mod.UNIT_LABELS[u]}")
                      for u in ecdf_mod.UNITS]
            part.append('<div class="gd-charts">' + "".join(charts) + "</div>" + pg.legend(a.variants))
        if table is not None:
            part.append(table_html(table, f"t-{sid}"))
        if sid == "ecdf" and not a.ecdf_problem.empty:
            part.append("<h3>Per problem</h3>" + table_html(ecdf_mod.ecdf_table(a.ecdf_problem, per_problem=True),
                                                            "t-ecdf-problem"))
        part += [_png(p) for p in placed.get(sid, [])]
        body.append("".join(part) + "</section>")
    # a section per problem
    conv = next((t for sid, _, t, _ in secs if sid == "convergence"), None)
    for i, prob in enumerate(a.problems):
        sid = f"problem-{i}"
        toc.append((sid, prob))
        vs = [v for v in a.variants if ((a.runs["problem"] == prob) & (a.runs["variant"] == v)).any()]
        charts = [pg.convergence(prob), pg.lr_sensitivity(prob),
                  pg.ecdf(a.triples[a.triples["problem"] == prob] if not a.triples.empty else a.triples, "steps",
                          f"{prob}: runtime ECDF (steps, targets 1e-1 … 1e-8)")]
        part = [f'<section id="{sid}"><h2>Problem: {html.escape(prob)}</h2>',
                '<div class="gd-charts">' + "".join(c for c in charts if c) + "</div>", pg.legend(vs)]
        if conv is not None:
            rows = [j for j, r in enumerate(conv.rows) if r[0] == prob]
            part.append(table_html(conv, f"t-conv-{i}", rows))
        body.append("".join(part) + "</section>")
    if placed.get("trajectories"):
        toc.append(("trajectories", "Trajectories"))
        body.append('<section id="trajectories"><h2>Trajectories on the 2-D problems</h2>'
                    + "".join(_png(p) for p in placed["trajectories"]) + "</section>")
    notes, skipped = notes_of(a.runs), a.meta.get("skipped", [])
    if notes or skipped:
        toc.append(("notes", "Notes"))
        items = [f"<li>{md_inline(x)}</li>" for x in [*notes, *skipped]]
        body.append(f'<section id="notes"><h2>Notes and skipped combinations</h2><ul>{"".join(items)}</ul></section>')
    if not pngs:
        body.append('<p class="gd-warn">The PNG figures were not drawn (--no-figures); '
                    "<code>gdbench report DIR</code> draws them.</p>")
    run = a.meta.get("run", {})
    machine = [f"{k}: {env[k]}" for k in ("python", "numpy", "numba", "pandas", "platform", "host", "cpus_usable",
                                          "numba_threading_layer") if k in env]
    if env.get("git_dirty"):
        machine.append("git: uncommitted changes")
    if run:
        machine.append(f"run: started {run.get('started', '?')}, {run.get('wall_s', '?')} s wall, executor "
                       f"{a.meta.get('executor', {}).get('name', '?')}")
    head = "".join(f"<li>{md_inline(x[2:])}</li>" for x in header_lines(a))
    head += f"<li>{html.escape('; '.join(machine))}</li>"
    nav = "".join(f'<a href="#{sid}">{html.escape(t)}</a>' for sid, t in toc)
    data = json.dumps({"charts": pg.charts}, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    title = f"gdbench: suite {s.get('name', '?')}"
    desc = f"<div>{html.escape(str(s['description']))}</div>" if s.get("description") else ""
    return "".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{asset('uPlot.min.css')}\n{asset('report.css')}</style></head><body>",
        f'<header class="gd-head"><h1>{html.escape(title)}</h1>{desc}<ul>{head}</ul></header>',
        f'<nav class="gd-toc">{nav}</nav><main>', *body, "</main>",
        "<footer>Written by gdbench from the saved runs, traces and meta.json (a report never re-runs anything). "
        "Charts: uPlot 1.6.32 (MIT, © Leon Sorokin); table sorting: tablesort 5.7.1 (MIT, © Tristen Brown); "
        "both embedded, licenses in gdbench/harness/assets.</footer>",
        f'<script type="application/json" id="gd-data">{data}</script>',
        f"<script>{asset('uPlot.iife.min.js')}</script>",
        f"<script>{asset('tablesort.min.js')}</script>",
        f"<script>{asset('report.js')}</script>",
        "</body></html>\n",
    ])


def write_html(a: Analysis, path: Path, pngs: list[Path]) -> Path:
    atomic_write_text(path, render_html(a, pngs))
    return path
