"""Host side of a GPU sweep: move the prepared records to the device, launch once, copy back once.

:func:`gdbench.engine.sweep` validates and encodes the configurations exactly as for the CPU
(:func:`gdbench.engine.prepare`) and, for ``device="cuda"``, hands the same records to
:func:`run_records`, so both devices share one front end and return the same
:class:`gdbench.SweepResult`.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from numba import cuda

from ..kernels.records import Configs, Outputs, ProblemArrays, Scratch
from . import codegen
from .devfn import SIM

ANALYTIC_TPB = 128
_compiled: set = set()
#: timings of the last :func:`run_records` call in this process (seconds): host-to-device copies,
#: the kernel alone, device-to-host copies. The bench reads ``kernel_s``.
last_timing: dict[str, float] = {}
_sms: list[int] = []


def _sm_count() -> int:
    if not _sms:
        try:
            _sms.append(1 if SIM else int(cuda.get_current_device().MULTIPROCESSOR_COUNT))
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
    defn = problem.definition
    if problem.kind == "data":
        if defn.form != "linear":
            raise ValueError(f"problem {problem.name!r} has no GPU kernel (only losses of the linear-model family "
                             "run on the GPU); use device='cpu'")
        tpb = codegen.data_threads(problem.n, D)
        if tpb == 0:
            raise ValueError(f"problem {problem.name!r}: d = {D - 1} features is too wide for the GPU data kernel "
                             f"(at most {codegen.SHARED_DOUBLES // 2 - 2}); use device='cpu'")
        return codegen.module(opt, defn, D, tpb).kernel, K, tpb, "data"
    if D > codegen.MAX_ANALYTIC_DIM:
        raise ValueError(f"problem {problem.name!r}: dimension {D} is above the GPU kernel's "
                         f"{codegen.MAX_ANALYTIC_DIM}; use device='cpu'")
    tpb = analytic_threads(K)
    return codegen.module(opt, defn, D).kernel, (K + tpb - 1) // tpb, tpb, "analytic"


def _launch(kern, blocks: int, tpb: int, args: tuple) -> None:
    with warnings.catch_warnings():
        # a small sweep is a small grid by design; numba-cuda's occupancy hint is noise here
        warnings.filterwarnings("ignore", message="Grid size")
        kern[blocks, tpb](*args)
    cuda.synchronize()


def _scratch(kind: str, problem, batch: np.ndarray) -> Scratch:
    if kind != "data":
        return Scratch(perm_all=np.zeros((1, 1), dtype=np.int32), perm_row=np.zeros(1, dtype=np.int64))
    n = problem.n
    # a row permutation (int32, n entries) only for the stochastic configurations
    stochastic = (batch > 0) & (batch < n)
    n_st = int(stochastic.sum())
    perm_row = np.where(stochastic, np.cumsum(stochastic) - 1, 0).astype(np.int64)
    return Scratch(perm_all=np.zeros((max(n_st, 1), n if n_st else 1), dtype=np.int32), perm_row=perm_row)


def run_records(problem, opt, cfg: Configs, prob: ProblemArrays, bud, out: Outputs) -> tuple[float, float]:
    """Run the sweep on the GPU; fill ``out`` in place. Returns ``(wall_s, compile_s)``: wall time of
    transfers + kernel, and the first-launch compile time of this kernel in this process (0 when
    already compiled)."""
    K = cfg.lrs.shape[0]
    kern, blocks, tpb, kind = launch_plan(problem, opt, K)
    X = problem.X if problem.X.size else np.zeros((1, 1))
    y = problem.y if problem.y.size else np.zeros(1)
    scr = _scratch(kind, problem, cfg.batch)

    def to_dev():
        c = Configs(*(cuda.to_device(np.ascontiguousarray(a)) for a in cfg))
        p = prob._replace(X=cuda.to_device(np.ascontiguousarray(X)), y=cuda.to_device(np.ascontiguousarray(y)),
                          prm=cuda.to_device(prob.prm), x_star=cuda.to_device(np.ascontiguousarray(prob.x_star)),
                          f_star=np.float64(prob.f_star), has_xstar=bool(prob.has_xstar))
        o = Outputs(*(cuda.to_device(a) for a in out))
        s = Scratch(*(cuda.to_device(a) for a in scr))
        return c, p, o, s

    compile_s = 0.0
    if id(kern) not in _compiled:
        # first launch: compile (or load) the kernel outside the timed region, on a 0-step run
        c, p, o, s = to_dev()
        t0 = time.perf_counter()
        _launch(kern, blocks, tpb, (c, p, bud._replace(steps=np.int64(0)), o, s))
        compile_s = time.perf_counter() - t0
        _compiled.add(id(kern))

    t0 = time.perf_counter()
    c, p, o, s = to_dev()
    cuda.synchronize()
    t1 = time.perf_counter()
    _launch(kern, blocks, tpb, (c, p, bud, o, s))
    t2 = time.perf_counter()
    for host, devarr in zip(out, o):
        devarr.copy_to_host(host)
    t3 = time.perf_counter()
    last_timing.clear()
    last_timing.update(h2d_s=t1 - t0, kernel_s=t2 - t1, d2h_s=t3 - t2, blocks=blocks, threads_per_block=tpb)
    return t3 - t0, compile_s
