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
from collections.abc import Callable
from typing import Any

from .. import _goals
from .._table import BenchResult, Row

_MINIMIZE = ("import gdbench, time; p = gdbench.problems.make('rosenbrock', d=2); t = time.perf_counter(); "
             "r = gdbench.minimize(p, 'adam', steps=10, record_every=0); print(time.perf_counter() - t)")


def cold_env(tmp: str) -> dict[str, str]:
    """The environment of a process that finds no compiled kernel anywhere."""
    return dict(os.environ, GDBENCH_CACHE_DIR=os.path.join(tmp, "gdbench"), NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))


def _cold_then_warm(size: dict[str, Any], measure: Callable[[dict[str, str], str, int], float | None]
                    ) -> tuple[list[float], list[float]] | None:
    """``cold_rep`` rounds, each with its own fresh caches: ``measure(env, tmp, 0)`` (cold), then
    ``measure(env, tmp, 1)`` (warm, the caches the first left); None when a measurement failed."""
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(size.get("cold_rep", 1)):
        with tempfile.TemporaryDirectory() as tmp:
            env = cold_env(tmp)
            for k, into in enumerate((cold, warm)):
                t = measure(env, tmp, k)
                if t is None:
                    return None
                into.append(t)
    return cold, warm


def _cold_warm_rows(res: BenchResult, bench: str, cold_impl: str, warm_impl: str, goal: str,
                    times: tuple[list[float], list[float]]) -> None:
    cold, warm = times
    res.rows.append(_goals.apply(Row(bench, cold_impl, "s", cold, note="fresh GDBENCH_CACHE_DIR and NUMBA_CACHE_DIR"),
                                 goal))
    mw = statistics.median(warm)
    res.rows.append(Row(bench, warm_impl, "s", warm, statistics.median(cold) / mw if mw > 0 else None))


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

    def minimize(env: dict[str, str], tmp: str, k: int) -> float:
        r = subprocess.run([py, "-c", _MINIMIZE], check=True, env=env, capture_output=True, text=True)
        return float(r.stdout.strip().splitlines()[-1])

    _cold_warm_rows(res, "first minimize call (adam x rosenbrock)", "cold: compile, empty cache",
                    "warm: load from disk cache", "cold_minimize", _cold_then_warm(size, minimize))


def run_cold_suite(res: BenchResult, size: dict[str, Any]) -> None:
    """``gdbench run`` (quick suite, defaults) with cold caches, then again warm (full mode)."""
    if not size["cold"]:
        return
    cmd = [sys.executable, "-m", "gdbench", "run", "quick", "--quiet"]

    def quick(env: dict[str, str], tmp: str, k: int) -> float | None:
        t0 = time.perf_counter()
        r = subprocess.run([*cmd, "--out", os.path.join(tmp, f"out{k}")], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            res.notes.append(f"cold gdbench run failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
            return None
        return time.perf_counter() - t0

    times = _cold_then_warm(size, quick)
    if times is not None:
        _cold_warm_rows(res, "first `gdbench run` (quick suite, figures)", "cold: fresh caches, compile every pair",
                        "warm: second run, same caches", "cold_run", times)
