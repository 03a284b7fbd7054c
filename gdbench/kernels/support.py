"""Pair-independent helpers of the step loop: trace records, the relative-suboptimality scale,
and drawing a start.

They live apart from :mod:`gdbench.kernels.loop` so that they are compiled and cached once,
not once per generated (optimizer, problem) driver: that alone cut the cold compile of a pair
by about a fifth (2.9 → 2.3 CPU-s median over 4 pairs × 2 runs, measured on a loaded 2-core
machine). ``record``, ``rel_scale`` and ``draw_start`` also compile as CUDA device functions.
"""

import numpy as np
from numba import njit

from gdbench._config import JIT
from gdbench.kernels.rng import rng_normal, rng_uniform


@njit(**JIT)
def rel_scale(f0, f_star):
    """The scale of relative suboptimality (f − f*)/scale: f₀ − f*, or |f₀| + 1 when f₀ ≤ f*
    (the one definition; :func:`gdbench.harness.metrics.rel_scale` is its Python twin)."""
    s = f0 - f_star
    if not s > 0.0:
        s = abs(f0) + 1.0
    return s


#: the same rule as plain Python (for the harness; also under NUMBA_DISABLE_JIT=1)
rel_scale_py = getattr(rel_scale, "py_func", rel_scale)


@njit(**JIT)
def draw_start(theta, center, a, b, kind, st):
    """θ ← the configuration's start: ``center`` (kind 0), uniform in [a, b] (kind 1) or
    a + b·N(0, 1) per coordinate (kind 2), drawn from the stream ``st`` in coordinate order."""
    for i in range(theta.shape[0]):
        if kind == 1:
            theta[i] = a[i] + (b[i] - a[i]) * rng_uniform(st)
        elif kind == 2:
            theta[i] = a[i] + b[i] * rng_normal(st)
        else:
            theta[i] = center[i]


@njit(**JIT)
def record(trace, k, r, t, f, g, theta, x_star, has_xstar, restarts):
    """Record r of configuration k: step, loss, ‖g‖, ‖θ − x*‖ (NaN without x*), restarts so far,
    and θ itself where the trace has room for it (problems of small dimension)."""
    s = 0.0
    for i in range(g.shape[0]):
        s += g[i] * g[i]
    dist = np.nan
    if has_xstar:
        dd = 0.0
        for i in range(theta.shape[0]):
            e = theta[i] - x_star[i]
            dd += e * e
        dist = np.sqrt(dd)
    trace[k, r, 0] = t
    trace[k, r, 1] = f
    trace[k, r, 2] = np.sqrt(s)
    trace[k, r, 3] = dist
    trace[k, r, 4] = restarts
    for i in range(trace.shape[2] - 5):
        trace[k, r, 5 + i] = theta[i]
