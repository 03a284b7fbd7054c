"""report.html and the report's purity: a tiny suite's results → summary.md with every section,
report.html opened in headless Chromium (no console errors, every chart and figure drawn with a
non-zero size, a click on a column header reorders the rows, the filter box hides rows); and
``gdbench report`` redraws everything without building a problem or running a sweep.

The browser test needs Debian's ``chromium`` and the ``playwright`` package; without them it is
skipped, unless GDBENCH_REQUIRE_BROWSER=1 (set by .ci/run) turns the skip into a failure. It saves
a screenshot of the first screen as ``report-screenshot.png`` in its tmp folder, and copies it to
the path in GDBENCH_REPORT_SCREENSHOT when that is set (.ci/run: results/report-screenshot.png).
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from gdbench.cli import main

# the pairs of the end-to-end tests (compiled once per machine), plus a quadratic for 1/L, 2/L
SUITE = """
name = "htmltiny"
description = "report test: two problems x three optimizers"
steps = 120
record_every = 4
seeds = [0, 1]
tolerances = [1e-2, 1e-4, 1e-6]
target_tol = 1e-4
timing_steps = 50
baseline = "batch_gd"

[problems.linreg]
n = 40
d = 3

[problems.rosenbrock]
d = 2

[optimizers.batch_gd]
lr = [0.001, 0.01]

[optimizers.minibatch]
rule = "gd"
lr = [0.01]
batch_size = 8

[optimizers.adam]
lr = [0.01, 0.1]
"""

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    (d / "htmltiny.toml").write_text(SUITE)
    out = d / "res"
    assert main(["run", str(d / "htmltiny.toml"), "--out", str(out), "--quiet"]) == 0
    return out


def test_summary_has_every_section(results):
    text = (results / "summary.md").read_text()
    for title in ("## Convergence", "## Timing", "## Runtime ECDF", "## Score", "## Tuning robustness",
                  "## Paired comparison: steps", "## Paired comparison: time"):
        assert title in text
    assert "speed-up vs batch_gd (steps)" in text and "**Too few seeds for a conclusion**" in text
    figs = {p.name for p in (results / "figures").glob("*.png")}
    assert {"ecdf.png", "ecdf_problems.png", "tuning.png", "trajectories.png"} <= figs
    page = (results / "report.html").read_text()
    assert re.findall(r"<(?:script|img|link|iframe)\b[^>]*\b(?:src|href)=", page.replace('src="data:', "")) == []


def test_report_is_a_pure_function_of_the_saved_files(results, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    before = (copy / "summary.md").read_bytes()
    for name in ("summary.md", "report.html"):
        (copy / name).unlink()
    shutil.rmtree(copy / "figures")

    def forbidden(*a, **k):
        raise AssertionError("gdbench report must not build problems or run sweeps")

    import gdbench
    import gdbench.problems
    from gdbench.harness import worker

    monkeypatch.setattr(gdbench, "sweep", forbidden)
    monkeypatch.setattr(gdbench.problems, "make", forbidden)
    monkeypatch.setattr(worker, "build_problem", forbidden)
    assert main(["report", str(copy)]) == 0
    assert (copy / "summary.md").read_bytes() == before
    assert (copy / "figures" / "trajectories.png").stat().st_size > 10_000
    assert (copy / "report.html").stat().st_size > 50_000


def _browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = "chromium" if CHROMIUM is None else ("playwright" if sync_playwright is None else None)
    if missing:
        if os.environ.get("GDBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"GDBENCH_REQUIRE_BROWSER=1 but {missing} is missing")
        pytest.skip(f"{missing} is not installed (apt-get install chromium; pip install playwright)")
    return sync_playwright


def test_report_in_headless_chromium(results, tmp_path):
    sync_playwright = _browser()
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       args=FLAGS, viewport={"width": 1400, "height": 900})
        try:
            page = browser.new_page()
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((results / "report.html").as_uri())
            page.wait_for_load_state("load")
            shot = tmp_path / "report-screenshot.png"
            page.screenshot(path=str(shot))
            sizes = page.evaluate("""() => ({
                charts: Array.from(document.querySelectorAll('.gd-chart')).map(e => {
                    const c = e.querySelector('canvas'); return c ? [c.width, c.height] : [0, 0]; }),
                images: Array.from(document.querySelectorAll('figure img')).map(i => [i.naturalWidth,
                    i.getBoundingClientRect().height]),
                tables: document.querySelectorAll('table.gd-table').length })""")
            assert errors == []
            n_problems = 2
            assert len(sizes["charts"]) >= 3 + 3 * n_problems - 1  # aggregated ECDFs + per problem
            assert all(w > 0 and h > 0 for w, h in sizes["charts"]), sizes["charts"]
            assert len(sizes["images"]) >= 4 and all(w > 0 and h > 0 for w, h in sizes["images"])
            assert sizes["tables"] >= 6

            # sort the convergence table by "ERT (steps)": a numeric column, ∞ last when ascending
            table = "#t-convergence"
            col = page.evaluate(f"""() => Array.from(document.querySelectorAll('{table} th'))
                                          .findIndex(th => th.textContent.startsWith('ERT'))""")
            assert col >= 0
            read = f"""() => Array.from(document.querySelectorAll('{table} tbody tr'))
                         .map(r => r.cells[{col}].getAttribute('data-sort'))"""
            before = page.evaluate(read)
            page.click(f"{table} th:nth-child({col + 1})")
            first = [float(x) for x in page.evaluate(read)]
            page.click(f"{table} th:nth-child({col + 1})")
            second = [float(x) for x in page.evaluate(read)]
            assert sorted(first) == sorted(float(x) for x in before)
            assert {tuple(first), tuple(second)} == {tuple(sorted(first)), tuple(sorted(first, reverse=True))}
            assert first != [float(x) for x in before] or second != [float(x) for x in before]

            page.fill(f"{table}-filter", "rosenbrock")
            visible = page.evaluate(f"""() => Array.from(document.querySelectorAll('{table} tbody tr'))
                                           .filter(r => r.style.display !== 'none').map(r => r.cells[0].textContent)""")
            assert visible and set(visible) == {"rosenbrock"}

            # hovering a convergence curve shows its optimizer, lr, seed and value
            cid = page.locator("#problem-0 .gd-chart").first.get_attribute("id")
            page.locator(f"#{cid}").scroll_into_view_if_needed()
            x, y = page.evaluate(f"""() => {{ const u = window.gdCharts['{cid}'], i = 3;
                const r = u.over.getBoundingClientRect();
                return [r.left + u.valToPos(u.data[0][i], 'x'), r.top + u.valToPos(u.data[1][i], 'y')]; }}""")
            page.mouse.move(x - 5, y - 5)
            page.mouse.move(x, y)
            tip = page.locator(f"#{cid} .gd-tip").inner_text()
            assert "lr=" in tip and "seed" in tip and "step" in tip, tip
            assert errors == []
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    dest = os.environ.get("GDBENCH_REPORT_SCREENSHOT")
    if dest:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, dest)
