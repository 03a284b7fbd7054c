"""CUDA kernels for sweeps: one kernel per (optimizer, problem kind, dimension), built on demand.

The update rules, problems, random numbers, schedules and clipping are *not* rewritten here: the
kernels call the CPU modules' own kernels, compiled as CUDA device functions from their
``py_func`` (one source of truth; :mod:`gdbench.cuda._compat` supplies the scalar ufuncs that
numba-cuda lacks). Only the step loop is a GPU twin of :func:`gdbench.kernels.loop.run_config`,
statement for statement, so statuses, records and random streams are the CPU's.

Analytic problems — one thread per configuration (``cuda.grid(1)``), θ, g and the optimizer
state in local arrays of compile-time size D.

Data problems — one block of ``TPB`` threads per configuration; X (n×d) and y stay in global
memory once for all blocks. Loss and gradient over the rows R of the step (all rows, or the
mini-batch ``perm[pos:pos+nb]``) in a fixed order:

1. thread t accumulates, in increasing order, the terms of rows ``R[t], R[t+TPB], R[t+2·TPB], …``
   into its own row of a shared ``(TPB, D+1)`` buffer (per-row terms as on the CPU:
   ``z = b + Σⱼ Xᵢⱼ·wⱼ`` left to right);
2. after a barrier, thread j (j ≤ D, striding by TPB) sums column j over threads 0, 1, …, TPB−1
   left to right, then applies the 1/m (or 2/m) scale and the L2 term exactly as the CPU does.

The order is fixed, so GPU runs are bit-reproducible; it differs from the CPU's single
left-to-right sum over rows only in rounding (relative differences of a few ulp·√n per step).
Thread 0 alone draws random numbers (the per-epoch Fisher–Yates shuffle of the config's ``perm``
row in global memory, gradient noise) from the config's xoroshiro128+ stream — the same calls in
the same order as on the CPU, hence the same batches and noise — and applies the update.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numba import cuda

from ..kernels import rng, transforms
from . import rows, simulator_enabled

MAX_STEPS, CONVERGED, DIVERGED = 0, 1, 2
SIM = simulator_enabled()
MAX_ANALYTIC_DIM = 1024  # local arrays of this many doubles per thread (θ, g, g_full, state)
SHARED_DOUBLES = 4096  # the data kernel's (TPB, D+1) partial-sum buffer: 32 KiB

_lock = threading.Lock()
_dev_cache: dict = {}
_kernel_cache: dict = {}


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
        d = _dev_cache.get(py)
        if d is None:
            d = cuda.jit(device=True)(py) if SIM else cuda.jit(device=True, forceinline=True)(py)
            _dev_cache[py] = d
    return d


def _ensure_compat():
    if not SIM:
        from ._compat import ensure_scalar_ufuncs

        ensure_scalar_ufuncs()


@cuda.jit(device=True)
def _record(trace, k, r, t, f, g, theta, x_star, has_xstar):
    s = 0.0
    for i in range(g.shape[0]):
        s += g[i] * g[i]
    dist = math.nan
    if has_xstar:
        dd = 0.0
        for i in range(theta.shape[0]):
            e = theta[i] - x_star[i]
            dd += e * e
        dist = math.sqrt(dd)
    trace[k, r, 0] = t
    trace[k, r, 1] = f
    trace[k, r, 2] = math.sqrt(s)
    trace[k, r, 3] = dist
    for i in range(trace.shape[2] - 4):  # the iterate itself, where the trace has room (small D)
        trace[k, r, 4 + i] = theta[i]


def analytic_kernel(opt_mod, prob_mod, D: int):
    """Kernel for an analytic problem of dimension D: one thread per configuration."""
    key = ("analytic", opt_mod.NAME, prob_mod.NAME, D)
    with _lock:
        kern = _kernel_cache.get(key)
    if kern is not None:
        return kern
    _ensure_compat()
    NS = max(len(opt_mod.STATE), 1)
    NH = max(len(opt_mod.HYPER) - 1, 1)
    opt_init = dev(opt_mod.init)
    opt_step = dev(opt_mod.step)
    loss_grad = dev(prob_mod.loss_grad, sim_direct=False)
    sched_lr = dev(transforms.scheduled_lr)
    clip_grad = dev(transforms.clip_grad)
    rng_seed = dev(rng.rng_seed)
    rng_normal = dev(rng.rng_normal)
    record = _record

    @cuda.jit
    def kernel(theta0, hp, lrs, sched, clip, noise, seeds, steps, record_every, stop_tol, div_factor,
               X, y, prm, idx, f_star, x_star, has_xstar, theta_out, trace, nrec, status, steps_done):
        k = cuda.grid(1)
        if k >= theta0.shape[0]:
            return
        theta = cuda.local.array(D, np.float64)
        g = cuda.local.array(D, np.float64)
        gfull = cuda.local.array(D, np.float64)
        s = cuda.local.array((NS, D), np.float64)
        H = cuda.local.array((1, 1), np.float64)
        hpk = cuda.local.array(NH, np.float64)
        st = cuda.local.array(2, np.uint64)
        for i in range(D):
            theta[i] = theta0[k, i]
            for j in range(NS):
                s[j, i] = 0.0
        for j in range(NH):
            hpk[j] = hp[k, j]
        opt_init(s, hpk)
        lr = lrs[k]
        skind = int(sched[k, 0])
        sp1 = sched[k, 1]
        sp2 = sched[k, 2]
        ckind = int(clip[k, 0])
        cval = clip[k, 1]
        sigma = noise[k]
        rng_seed(st, seeds[k])

        f0 = loss_grad(theta, X, y, prm, idx, 0, -1, gfull)
        scale = f0 - f_star
        if not scale > 0.0:
            scale = abs(f0) + 1.0
        thresh = f_star + div_factor * scale
        r = 0
        if record_every > 0:
            record(trace, k, 0, 0, f0, gfull, theta, x_star, has_xstar)
            r = 1
        code = MAX_STEPS
        if not math.isfinite(f0):
            code = DIVERGED
        t = 0
        while t < steps and code == MAX_STEPS:
            t += 1
            fb = loss_grad(theta, X, y, prm, idx, 0, -1, g)
            if not (fb <= thresh):
                code = DIVERGED
                t -= 1
                break
            if sigma > 0.0:
                for i in range(D):
                    g[i] += sigma * rng_normal(st)
            if ckind != 0:
                clip_grad(g, ckind, cval)
            opt_step(theta, g, H, s, hpk, sched_lr(lr, skind, sp1, sp2, t), t)
            if record_every > 0 and (t % record_every == 0 or t == steps):
                f = loss_grad(theta, X, y, prm, idx, 0, -1, gfull)
                record(trace, k, r, t, f, gfull, theta, x_star, has_xstar)
                r += 1
                if not (f <= thresh):
                    code = DIVERGED
                elif stop_tol > 0.0 and f - f_star <= stop_tol * scale:
                    code = CONVERGED
        if code == MAX_STEPS and record_every <= 0:
            fl = loss_grad(theta, X, y, prm, idx, 0, -1, gfull)
            if not (fl <= thresh):
                code = DIVERGED
        for i in range(D):
            theta_out[k, i] = theta[i]
        nrec[k] = r
        status[k] = code
        steps_done[k] = t

    with _lock:
        _kernel_cache[key] = kernel
    return kernel


def data_threads(n: int, D: int) -> int:
    """Threads per block for a data problem with n rows and D = d+1 parameters (0: too wide)."""
    tpb = 1
    while tpb < 128 and tpb < n and 2 * tpb * (D + 1) <= SHARED_DOUBLES:
        tpb *= 2
    return tpb if tpb * (D + 1) <= SHARED_DOUBLES else 0


def data_kernel(opt_mod, prob_name: str, D: int, TPB: int):
    """Kernel for a data problem with D = d+1 parameters: one block of TPB threads per configuration."""
    key = ("data", opt_mod.NAME, prob_name, D, TPB)
    with _lock:
        kern = _kernel_cache.get(key)
    if kern is not None:
        return kern
    _ensure_compat()
    NS = max(len(opt_mod.STATE), 1)
    NH = max(len(opt_mod.HYPER) - 1, 1)
    D1 = D + 1
    d = D - 1
    row_fn, GS = rows.ROW_TERMS[prob_name]
    row = dev(row_fn)
    opt_init = dev(opt_mod.init)
    opt_step = dev(opt_mod.step)
    sched_lr = dev(transforms.scheduled_lr)
    clip_grad = dev(transforms.clip_grad)
    rng_seed = dev(rng.rng_seed)
    rng_normal = dev(rng.rng_normal)
    shuffle = dev(rng.shuffle, sim_direct=False)
    record = _record

    @cuda.jit(device=True)
    def block_loss_grad(th, X, y, lam, perm, i0, nb, g, part, fsh, tid):
        """f over the rows (all when nb < 0, else perm[i0:i0+nb]); ∇f into g (shared). All threads."""
        n = X.shape[0]
        full = nb < 0
        m = n if full else nb
        for j in range(D1):
            part[tid, j] = 0.0
        jj = tid
        while jj < m:
            i = jj if full else perm[i0 + jj]
            z = th[d]
            for j in range(d):
                z += X[i, j] * th[j]
            fi, c = row(z, y[i])
            part[tid, D] += fi
            for j in range(d):
                part[tid, j] += c * X[i, j]
            part[tid, d] += c
            jj += TPB
        cuda.syncthreads()
        sc = GS / m
        j = tid
        while j < D1:
            acc = 0.0
            for q in range(TPB):
                acc += part[q, j]
            if j < d:
                g[j] = sc * acc + lam * th[j]
            elif j == d:
                g[j] = sc * acc
            else:
                reg = 0.0
                for q in range(d):
                    reg += th[q] * th[q]
                fsh[0] = acc / m + 0.5 * lam * reg
            j += TPB
        cuda.syncthreads()
        return fsh[0]

    @cuda.jit
    def kernel(theta0, hp, lrs, sched, clip, batch, noise, seeds, steps, record_every, stop_tol, div_factor,
               X, y, lam, perm_all, perm_row, f_star, x_star, has_xstar, theta_out, trace, nrec, status, steps_done):
        k = cuda.blockIdx.x
        tid = cuda.threadIdx.x
        th = cuda.shared.array(D, np.float64)
        g = cuda.shared.array(D, np.float64)
        part = cuda.shared.array((TPB, D1), np.float64)
        fsh = cuda.shared.array(2, np.float64)
        ctl = cuda.shared.array(4, np.int64)  # code, t, i0, nb
        s = cuda.shared.array((NS, D), np.float64)  # optimizer state (thread 0): shared, not registers
        H = cuda.local.array((1, 1), np.float64)
        hpk = cuda.local.array(NH, np.float64)
        st = cuda.local.array(2, np.uint64)
        n = X.shape[0]
        b = batch[k]
        full = b <= 0 or b >= n
        perm = perm_all[perm_row[k]]  # this config's row order (stochastic configs only have their own)
        lr = lrs[k]
        skind = int(sched[k, 0])
        sp1 = sched[k, 1]
        sp2 = sched[k, 2]
        ckind = int(clip[k, 0])
        cval = clip[k, 1]
        sigma = noise[k]
        pos = 0
        if tid == 0:
            for i in range(D):
                th[i] = theta0[k, i]
                for j in range(NS):
                    s[j, i] = 0.0
            for j in range(NH):
                hpk[j] = hp[k, j]
            opt_init(s, hpk)
            rng_seed(st, seeds[k])
            if not full:
                for i in range(n):
                    perm[i] = i
                shuffle(perm, st)
        cuda.syncthreads()
        f0 = block_loss_grad(th, X, y, lam, perm, 0, -1, g, part, fsh, tid)
        scale = f0 - f_star
        if not scale > 0.0:
            scale = abs(f0) + 1.0
        thresh = f_star + div_factor * scale
        r = 0
        if tid == 0:
            if record_every > 0:
                record(trace, k, 0, 0, f0, g, th, x_star, has_xstar)
                r = 1
            ctl[0] = MAX_STEPS if math.isfinite(f0) else DIVERGED
            ctl[1] = 0
        while True:
            cuda.syncthreads()
            go = ctl[0] == MAX_STEPS and ctl[1] < steps
            cuda.syncthreads()
            if not go:
                break
            if tid == 0:
                ctl[1] += 1
                if full:
                    ctl[3] = -1
                else:
                    if pos >= n:
                        shuffle(perm, st)
                        pos = 0
                    nb = min(b, n - pos)
                    ctl[2] = pos
                    ctl[3] = nb
                    pos += nb
            cuda.syncthreads()
            fb = block_loss_grad(th, X, y, lam, perm, ctl[2], ctl[3], g, part, fsh, tid)
            if tid == 0:
                t = ctl[1]
                if not (fb <= thresh):
                    ctl[0] = DIVERGED
                    ctl[1] = t - 1
                else:
                    if sigma > 0.0:
                        for i in range(D):
                            g[i] += sigma * rng_normal(st)
                    if ckind != 0:
                        clip_grad(g, ckind, cval)
                    opt_step(th, g, H, s, hpk, sched_lr(lr, skind, sp1, sp2, t), t)
            cuda.syncthreads()
            t = ctl[1]
            if ctl[0] == MAX_STEPS and record_every > 0 and (t % record_every == 0 or t == steps):
                f = block_loss_grad(th, X, y, lam, perm, 0, -1, g, part, fsh, tid)
                if tid == 0:
                    record(trace, k, r, t, f, g, th, x_star, has_xstar)
                    r += 1
                    if not (f <= thresh):
                        ctl[0] = DIVERGED
                    elif stop_tol > 0.0 and f - f_star <= stop_tol * scale:
                        ctl[0] = CONVERGED
        if ctl[0] == MAX_STEPS and record_every <= 0:
            fl = block_loss_grad(th, X, y, lam, perm, 0, -1, g, part, fsh, tid)
            if tid == 0 and not (fl <= thresh):
                ctl[0] = DIVERGED
        if tid == 0:
            for i in range(D):
                theta_out[k, i] = th[i]
            nrec[k] = r
            status[k] = ctl[0]
            steps_done[k] = ctl[1]

    with _lock:
        _kernel_cache[key] = kernel
    return kernel
