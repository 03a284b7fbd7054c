"""The generic step loop: any optimizer × problem × estimator × schedule × clipping.

This file is both a working module (bound to ``gd`` × ``quadratic`` below, so it imports and
lints) and the *source* that :mod:`gdbench.kernels.codegen` copies into one small module per
(optimizer, problem) pair, replacing only the block between the BIND markers. Each generated
module therefore calls its optimizer and problem kernels directly (inlined, no function-pointer
cost) and is cached on disk by numba like any other file.

Status codes: 0 max_steps, 1 converged, 2 diverged.
Trace columns (per record): step, loss, grad_norm, dist_to_x* (NaN where x* is unknown).
"""

import numpy as np
from numba import njit

from gdbench._config import JIT
from gdbench.kernels.rng import rng_normal, rng_seed, shuffle
from gdbench.kernels.support import _gather, _record, _touch_rows
from gdbench.kernels.transforms import clip_grad, scheduled_lr

# --- BIND BEGIN ---
from gdbench.optimizers.gd import init as opt_init
from gdbench.optimizers.gd import step as opt_step
from gdbench.problems.quadratic import hess as prob_hess
from gdbench.problems.quadratic import loss_grad as prob_loss_grad

NSTATE = 0
NEEDS_HESSIAN = False
IS_DATA = False
# --- BIND END ---

MAX_STEPS, CONVERGED, DIVERGED = 0, 1, 2
#: batches of at most this many rows read the next batch's rows one step ahead (see _touch_rows)
TOUCH_ROWS = 16
#: mini-batches of at most GATHER_MAX_BATCH rows on data of at most GATHER_MAX_ELEMENTS (n·d;
#: 128 MB of float64) read an epoch-ordered copy of the data (see run_config)
GATHER_MAX_BATCH = 16
GATHER_MAX_ELEMENTS = 1 << 24


# inline="always": numba inlines the body into ``sweep`` at its IR level, so the pair is compiled
# and LLVM-optimised once instead of twice (standalone, then again inside ``sweep``): about 40 %
# less compile time per pair (3.0 -> 1.7 CPU-s median over 4 pairs x 2 runs, loaded machine).
@njit(inline="always", **JIT)
def run_config(k, theta0, hp, lrs, sched, clip, batch, noise, seeds, steps, record_every, stop_tol, div_factor,
               X, y, prm, f_star, x_star, has_xstar, theta_out, trace, nrec, status, steps_done):
    """Run configuration ``k`` for up to ``steps`` steps; write its outputs at index ``k``."""
    D = theta0.shape[1]
    theta = theta0[k].copy()
    g = np.empty(D)
    gfull = np.empty(D)
    H = np.empty((D, D)) if NEEDS_HESSIAN else np.empty((1, 1))
    s = np.zeros((NSTATE, D))
    hpk = hp[k]
    opt_init(s, hpk)
    lr = lrs[k]
    skind = int(sched[k, 0])
    sp1 = sched[k, 1]
    sp2 = sched[k, 2]
    ckind = int(clip[k, 0])
    cval = clip[k, 1]
    sigma = noise[k]

    n = X.shape[0] if IS_DATA else 0
    b = batch[k]
    full = (not IS_DATA) or b <= 0 or b >= n
    perm = np.arange(n)
    st = np.empty(2, dtype=np.uint64)
    rng_seed(st, seeds[k])
    # small mini-batches (SGD) read the rows of an epoch-shuffled copy of (X, y) in order: the
    # copy is one pass of independent loads per epoch, after which no step waits on a cache miss
    # for a randomly placed row (same rows, same order: bit-identical results). Larger batches
    # already overlap their rows' misses, and the copy would double their memory traffic.
    gather = (not full) and b <= GATHER_MAX_BATCH and X.shape[0] * X.shape[1] <= GATHER_MAX_ELEMENTS
    Xg = np.empty((n if gather else 0, X.shape[1]))
    yg = np.empty(n if gather else 0)
    rows = np.arange(n)
    if not full:
        shuffle(perm, st)
        if gather:
            _gather(X, y, perm, Xg, yg)
    pos = 0
    sink = 0.0

    f0 = prob_loss_grad(theta, X, y, prm, perm, 0, -1, gfull)
    scale = f0 - f_star
    if not scale > 0.0:
        scale = abs(f0) + 1.0
    thresh = f_star + div_factor * scale
    r = 0
    if record_every > 0:
        _record(trace, k, 0, 0, f0, gfull, theta, x_star, has_xstar)
        r = 1
    code = MAX_STEPS
    if not np.isfinite(f0):
        code = DIVERGED
    t = 0
    # countdown to the next record: no integer division per step
    next_rec = record_every if record_every > 0 else steps + 1
    while t < steps and code == MAX_STEPS:
        t += 1
        if full:
            fb = prob_loss_grad(theta, X, y, prm, perm, 0, -1, g)
            if NEEDS_HESSIAN:
                prob_hess(theta, X, y, prm, perm, 0, -1, H)
        else:
            if pos >= n:
                shuffle(perm, st)
                pos = 0
                if gather:
                    _gather(X, y, perm, Xg, yg)
            nb = min(b, n - pos)
            if gather:
                fb = prob_loss_grad(theta, Xg, yg, prm, rows, pos, nb, g)
            else:
                if nb <= TOUCH_ROWS and pos + nb < n:
                    sink += _touch_rows(X, perm, pos + nb, min(nb, n - pos - nb))
                fb = prob_loss_grad(theta, X, y, prm, perm, pos, nb, g)
            if NEEDS_HESSIAN:
                prob_hess(theta, X, y, prm, perm, pos, nb, H)
            pos += nb
        if not (fb <= thresh):  # NaN, +Inf, or beyond the divergence threshold
            code = DIVERGED
            t -= 1
            break
        if sigma > 0.0:
            for i in range(D):
                g[i] += sigma * rng_normal(st)
        if ckind != 0:
            clip_grad(g, ckind, cval)
        opt_step(theta, g, H, s, hpk, scheduled_lr(lr, skind, sp1, sp2, t), t)
        if t == next_rec or (t == steps and record_every > 0):
            next_rec += record_every
            f = prob_loss_grad(theta, X, y, prm, perm, 0, -1, gfull)
            _record(trace, k, r, t, f, gfull, theta, x_star, has_xstar)
            r += 1
            if not (f <= thresh):
                code = DIVERGED
            elif stop_tol > 0.0 and f - f_star <= stop_tol * scale:
                code = CONVERGED
    if code == MAX_STEPS and record_every <= 0:
        # no records: still report whether the last iterate is finite
        fl = prob_loss_grad(theta, X, y, prm, perm, 0, -1, gfull)
        if not (fl <= thresh):
            code = DIVERGED
    for i in range(D):
        theta_out[k, i] = theta[i]
    if sink == 1.2345e-300:  # never true; keeps the prefetch loads alive
        nrec[k] = -1
    nrec[k] = r
    status[k] = code
    steps_done[k] = t


@njit(**JIT)
def sweep(k_lo, k_hi, theta0, hp, lrs, sched, clip, batch, noise, seeds, steps, record_every, stop_tol, div_factor,
          X, y, prm, f_star, x_star, has_xstar, theta_out, trace, nrec, status, steps_done):
    """Run configurations ``k_lo..k_hi-1`` one after another (releases the GIL: call it from
    several threads on disjoint ranges to use several cores)."""
    for k in range(k_lo, k_hi):
        run_config(k, theta0, hp, lrs, sched, clip, batch, noise, seeds, steps, record_every, stop_tol,
                   div_factor, X, y, prm, f_star, x_star, has_xstar, theta_out, trace, nrec, status, steps_done)
