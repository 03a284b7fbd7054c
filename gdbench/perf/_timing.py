"""Timing helpers and the machine header of ``gdbench bench``."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .._config import ROWS_FASTMATH
from .._sys import usable_cores


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[list[float], Any]:
    """Wall times of ``repeat`` calls after ``warmup`` untimed ones; also the last call's value."""
    out = None
    for _ in range(warmup):
        out = fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return ts, out


# Idle time before each call of a multi-threaded peer comparison. After a BLAS call OpenBLAS's
# worker threads spin-wait for ~2^28 cycles (~0.1 s; MKL's KMP_BLOCKTIME is 200 ms) and take the
# cores from whatever runs next: measured on a 2-core Xeon, gdbench's fused 1e6x64 gradient took
# 37.0 ms right after a NumPy X.T @ r and 22.0 ms after 0.3 s idle (200000x512: 51.9 vs 34.7 ms).
SETTLE_S = 0.25


# Untimed calls after the idle, before each timed call. After 0.25 s idle this VM class runs
# compute-bound code slower for its first tens of milliseconds (a clock ramp; memory-bound code
# barely notices): on a 2-core Zen 4 VM, the fused linreg 1e6x64 gradient took 20.8-26.6 ms right
# after the idle, 15.7-17.1 ms after 2-8 untimed calls, 15.4-16.1 ms back to back, while the
# read-X-once roofline took 14.5-15.5 ms in all three (medians of 7-9). A gradient-descent run
# calls its kernels back to back, so the timed call comes after WARM_S of the same work.
WARM_S = 0.05


def timed_interleaved(fns: dict[str, Callable[[], Any]], repeat: int, settle: float = 0.0,
                      warm: float = 0.0) -> dict[str, list[float]]:
    """Round-robin timing (one call of each per round), so that machine noise hits all alike.

    ``settle``: seconds of idle before every timed call (``SETTLE_S`` where a peer leaves
    spinning threads behind), so no implementation is timed while another's threads still run.
    ``warm``: after the idle, untimed calls of the same function for at least this many seconds
    (``WARM_S``), so that each is timed as it runs in a loop, not as the first call after a pause.
    """
    for f in fns.values():
        f()
    ts: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            if settle > 0:
                time.sleep(settle)
            if warm > 0:
                t_w = time.perf_counter()
                while time.perf_counter() - t_w < warm:
                    f()
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return ts


def rel(a: float, b: float) -> float:
    """Relative difference of two numbers (0 when equal)."""
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def cpu_name() -> str:
    """The CPU's model name and LLVM's name for it (what numba compiles for)."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import llvmlite.binding as llvm

        cpu = f"{cpu} ({llvm.get_host_cpu_name()})"
    except Exception:  # pragma: no cover
        pass
    return cpu


def machine_header() -> dict[str, Any]:
    """Where and with what a benchmark ran: CPU, cores, load, threads, BLAS, versions, time."""
    import numba

    blas = "unknown (threadpoolctl not installed)"
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            i = infos[0]
            blas = f"{i.get('internal_api')} {i.get('version')} {i.get('architecture') or ''} " \
                   f"({i.get('num_threads')} threads)".replace("  ", " ")
    except ImportError:
        pass
    try:
        load = "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:  # pragma: no cover - not on this platform
        load = "unknown"
    return {
        "cpu": cpu_name(), "cores": usable_cores(), "load_avg": load, "numba_threads": numba.get_num_threads(),
        "threading_layer": _threading_layer(), "blas": blas, "python": platform.python_version(),
        "numpy": np.__version__, "numba": numba.__version__, "rows_fastmath": sorted(ROWS_FASTMATH),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _threading_layer() -> str:
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        from ._peers import stream_sum

        stream_sum(np.ones((2, 2)))  # initialises the parallel backend
        return numba.threading_layer()
