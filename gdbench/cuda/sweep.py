"""Host side of a GPU sweep: move the prepared arrays to the device, launch once, copy back once.

:func:`gdbench.engine.sweep` validates and encodes the configurations exactly as for the CPU and,
for ``device="cuda"``, hands the same arrays to :func:`run_arrays`, so both devices share one
front end and return the same :class:`gdbench.SweepResult`.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from numba import cuda

from . import kernels

ANALYTIC_TPB = 128
_compiled: set = set()
#: timings of the last :func:`run_arrays` call in this process (seconds): host-to-device copies,
#: the kernel alone, device-to-host copies. The bench reads ``kernel_s``.
last_timing: dict[str, float] = {}
_sms: list[int] = []


def _sm_count() -> int:
    if not _sms:
        try:
            _sms.append(1 if kernels.SIM else int(cuda.get_current_device().MULTIPROCESSOR_COUNT))
        except Exception:  # pragma: no cover - attribute missing on odd drivers
            _sms.append(132)
    return _sms[0]


def analytic_threads(K: int) -> int:
    """Threads per block for one-thread-per-configuration kernels: 128, or fewer (down to 32) so
    that a small sweep still spreads over every SM (about 4 blocks per SM)."""
    if K <= 32:
        return max(K, 1)
    tpb = ANALYTIC_TPB
    while tpb > 32 and K < 4 * _sm_count() * tpb:
        tpb //= 2
    return tpb


def launch_plan(problem, opt, K: int):
    """(kernel, blocks, threads per block, kind) for K configurations of this pair."""
    if opt.needs_hessian:
        raise ValueError(f"optimizer {opt.name!r} is not available on device='cuda' (it needs a Hessian solve); "
                         "use device='cpu'")
    D = problem.dim
    if problem.kind == "data":
        if problem.name not in kernels.rows.ROW_TERMS:
            raise ValueError(f"problem {problem.name!r} has no GPU kernel; use device='cpu'")
        tpb = kernels.data_threads(problem.n, D)
        if tpb == 0:
            raise ValueError(f"problem {problem.name!r}: d = {D - 1} features is too wide for the GPU data kernel "
                             f"(at most {kernels.SHARED_DOUBLES // 2 - 2}); use device='cpu'")
        return kernels.data_kernel(opt.module, problem.name, D, tpb), K, tpb, "data"
    if D > kernels.MAX_ANALYTIC_DIM:
        raise ValueError(f"problem {problem.name!r}: dimension {D} is above the GPU kernel's "
                         f"{kernels.MAX_ANALYTIC_DIM}; use device='cpu'")
    tpb = analytic_threads(K)
    return kernels.analytic_kernel(opt.module, problem.module, D), (K + tpb - 1) // tpb, tpb, "analytic"


def _launch(kern, blocks: int, tpb: int, args: list) -> None:
    with warnings.catch_warnings():
        # a small sweep is a small grid by design; numba-cuda's occupancy hint is noise here
        warnings.filterwarnings("ignore", message="Grid size")
        kern[blocks, tpb](*args)
    cuda.synchronize()


def run_arrays(problem, opt, theta0, hp, lrs, sched, clip, batch, noise, seeds, steps, record_every, stop_tol,
               div_factor, x_star, has_xstar, theta_out, trace, nrec, status, steps_done):
    """Run the sweep on the GPU; fill ``theta_out``, ``trace``, ``nrec``, ``status``, ``steps_done`` in
    place. Returns ``(wall_s, compile_s)``: wall time of transfers + kernel, and the first-launch
    compile time of this kernel in this process (0 when already compiled)."""
    K = theta0.shape[0]
    kern, blocks, tpb, kind = launch_plan(problem, opt, K)
    steps = np.int64(steps)
    record_every = np.int64(record_every)
    stop_tol = np.float64(stop_tol)
    div_factor = np.float64(div_factor)
    f_star = np.float64(problem.f_star)
    has_xstar = bool(has_xstar)

    def to_dev():
        common = [cuda.to_device(np.ascontiguousarray(a)) for a in (theta0, hp, lrs, sched, clip)]
        out = [cuda.to_device(a) for a in (theta_out, trace, nrec, status, steps_done)]
        xs = cuda.to_device(np.ascontiguousarray(x_star, dtype=np.float64))
        if kind == "data":
            n = problem.n
            # a row permutation (int32, n entries) only for the stochastic configurations
            stochastic = (batch > 0) & (batch < n)
            n_st = int(stochastic.sum())
            perm_row = np.where(stochastic, np.cumsum(stochastic) - 1, 0).astype(np.int64)
            perm = cuda.device_array((max(n_st, 1), n if n_st else 1), dtype=np.int32)
            args = [*common, cuda.to_device(batch), cuda.to_device(noise), cuda.to_device(seeds), steps,
                    record_every, stop_tol, div_factor, cuda.to_device(problem.X), cuda.to_device(problem.y),
                    np.float64(problem.prm[0]), perm, cuda.to_device(perm_row), f_star, xs, has_xstar, *out]
        else:
            X = problem.X if problem.X.size else np.zeros((1, 1))
            y = problem.y if problem.y.size else np.zeros(1)
            args = [*common, cuda.to_device(noise), cuda.to_device(seeds), steps, record_every, stop_tol,
                    div_factor, cuda.to_device(np.ascontiguousarray(X)), cuda.to_device(np.ascontiguousarray(y)),
                    cuda.to_device(problem.prm), cuda.to_device(np.zeros(1, dtype=np.int64)), f_star, xs, has_xstar,
                    *out]
        return args, out

    compile_s = 0.0
    key = id(kern)
    if key not in _compiled:
        # first launch: compile (or load) the kernel outside the timed region, on a 0-step run
        args, _ = to_dev()
        i_steps = 8 if kind == "data" else 7  # position of ``steps`` in the argument list
        args[i_steps] = np.int64(0)
        t0 = time.perf_counter()
        _launch(kern, blocks, tpb, args)
        compile_s = time.perf_counter() - t0
        _compiled.add(key)

    t0 = time.perf_counter()
    args, out = to_dev()
    cuda.synchronize()
    t1 = time.perf_counter()
    _launch(kern, blocks, tpb, args)
    t2 = time.perf_counter()
    for host, devarr in zip((theta_out, trace, nrec, status, steps_done), out):
        devarr.copy_to_host(host)
    t3 = time.perf_counter()
    last_timing.clear()
    last_timing.update(h2d_s=t1 - t0, kernel_s=t2 - t1, d2h_s=t3 - t2, blocks=blocks, threads_per_block=tpb)
    return t3 - t0, compile_s
