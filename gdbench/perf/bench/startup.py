"""Start-up: ``import gdbench`` (every mode) and, in full mode, the first ``minimize`` call and
the first ``gdbench run`` of the quick suite with cold caches (fresh ``GDBENCH_CACHE_DIR`` and
``NUMBA_CACHE_DIR``: every kernel and driver compiled, as on a fresh machine), each in a
subprocess, ``cold_rep`` times (each with its own fresh caches, then once more warm): on a shared
2-core VM one cold quick run varies by a second or two, so the goal is judged on the median."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from .. import _goals
from .._table import BenchResult, Row

_MINIMIZE = ("import gdbench, time; p = gdbench.problems.make('rosenbrock', d=2); t = time.perf_counter(); "
             "r = gdbench.minimize(p, 'adam', steps=10, record_every=0); print(time.perf_counter() - t)")


def cold_env(tmp: str) -> dict[str, str]:
    """The environment of a process that finds no compiled kernel anywhere."""
    return dict(os.environ, GDBENCH_CACHE_DIR=os.path.join(tmp, "gdbench"), NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))


def run(res: BenchResult, size: dict[str, Any]) -> None:
    py = sys.executable

    def wall(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([py, "-c", code], check=True, capture_output=True)
        return time.perf_counter() - t0

    rep = size["startup_rep"]
    ts = [wall("import gdbench") for _ in range(rep)]
    tn = [wall("import numba") for _ in range(rep)]
    med = statistics.median(ts)
    res.rows.append(Row("start-up: python -c 'import gdbench'", "gdbench", "s", ts, 1.0, "<= 0.5 s", med <= 0.5))
    res.rows.append(Row("start-up: python -c 'import gdbench'", "python -c 'import numba' (floor)", "s", tn,
                        statistics.median(tn) / med))
    if not size["cold"]:
        return
    cold, warm = [], []
    for _ in range(size.get("cold_rep", 1)):
        with tempfile.TemporaryDirectory() as tmp:
            env = cold_env(tmp)
            for into in (cold, warm):
                r = subprocess.run([py, "-c", _MINIMIZE], check=True, env=env, capture_output=True, text=True)
                into.append(float(r.stdout.strip().splitlines()[-1]))
    bench = "first minimize call (adam x rosenbrock)"
    res.rows.append(_goals.apply(Row(bench, "cold: compile, empty cache", "s", cold,
                                     note="fresh GDBENCH_CACHE_DIR and NUMBA_CACHE_DIR"), "cold_minimize"))
    mw = statistics.median(warm)
    res.rows.append(Row(bench, "warm: load from disk cache", "s", warm,
                        statistics.median(cold) / mw if mw > 0 else None))


def run_cold_suite(res: BenchResult, size: dict[str, Any]) -> None:
    """``gdbench run`` (quick suite, defaults) with cold caches, then again warm (full mode)."""
    if not size["cold"]:
        return
    cmd = [sys.executable, "-m", "gdbench", "run", "quick", "--quiet"]
    cold, warm = [], []
    for _ in range(size.get("cold_rep", 1)):
        with tempfile.TemporaryDirectory() as tmp:
            env = cold_env(tmp)
            for k, into in enumerate((cold, warm)):
                t0 = time.perf_counter()
                r = subprocess.run([*cmd, "--out", os.path.join(tmp, f"out{k}")], env=env, capture_output=True,
                                   text=True)
                into.append(time.perf_counter() - t0)
                if r.returncode != 0:
                    res.notes.append(f"cold gdbench run failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
                    return
    bench = "first `gdbench run` (quick suite, figures)"
    res.rows.append(_goals.apply(Row(bench, "cold: fresh caches, compile every pair", "s", cold,
                                     note="fresh GDBENCH_CACHE_DIR and NUMBA_CACHE_DIR"), "cold_run"))
    res.rows.append(Row(bench, "warm: second run, same caches", "s", warm,
                        statistics.median(cold) / statistics.median(warm)))
