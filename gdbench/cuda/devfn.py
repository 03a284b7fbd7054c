"""Device functions from CPU kernels, for the generated GPU modules (:mod:`gdbench.cuda.codegen`).

The update rules, problems, random numbers, schedules and clipping are *not* rewritten for the
GPU: :func:`dev` compiles a CPU module's own ``@njit`` function (its ``py_func``) as a CUDA device
function (one source of truth; :mod:`gdbench.cuda._compat` supplies the scalar ufuncs that
numba-cuda lacks).
"""

from __future__ import annotations

import threading

from numba import cuda

from . import simulator_enabled

SIM = simulator_enabled()
_lock = threading.Lock()
_cache: dict = {}


def dev(f, sim_direct: bool = True):
    """``f`` (an ``@njit`` dispatcher or a plain function) as a CUDA device function.

    In the simulator, kernels are Python and their local and shared arrays are NumPy arrays, so an
    ``@njit`` function whose array arguments are all local/shared is called as it is (the CPU's
    own compiled code: exact, and uint64 arithmetic stays uint64). Functions that index global
    (device) arrays, which the simulator wraps in its own types, run as Python (``sim_direct=False``).
    """
    if SIM and sim_direct and hasattr(f, "py_func"):
        return f
    py = getattr(f, "py_func", f)
    with _lock:
        d = _cache.get(py)
        if d is None:
            if not SIM:
                from ._compat import ensure_scalar_ufuncs

                ensure_scalar_ufuncs()
            d = cuda.jit(device=True)(py) if SIM else cuda.jit(device=True, forceinline=True)(py)
            _cache[py] = d
    return d


def inline_device(fn):
    """Decorator of the generated modules' small functions: an inlined CUDA device function."""
    return cuda.jit(device=True)(fn) if SIM else cuda.jit(device=True, forceinline=True)(fn)
