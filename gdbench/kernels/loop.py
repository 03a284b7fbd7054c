"""The step loop — one source for every optimizer × problem × estimator × schedule × clipping ×
start × restart policy, on the CPU and on the GPU.

This file is a working module (bound to ``gd`` × ``quadratic`` on the CPU below, so it imports,
lints and runs) and the *template* that :mod:`gdbench.kernels.codegen` copies into one small
module per (optimizer, problem, device), replacing three marked blocks:

- ``BIND``: the pair's kernels as direct calls (a driver may hold several update rules for one
  problem, chosen per configuration by ``cfg.rule``): ``opt_update``/``opt_init``/``opt_hyper`` pass the
  rule's parameters *by name* (its hyper-parameters as plain numbers), ``prob_loss_grad`` and
  ``prob_hess`` are the problem's kernels (a loss of the linear-model family: its generated
  kernels); a CPU driver may also hold several problems of one family, chosen per sweep by
  ``prob.kid``, which reaches the ``prob_*`` functions as their last argument ``ws`` (a GPU
  passes its block's shared workspace there);
- ``DEVICE``: how a configuration is run — here the CPU: ``sweep`` runs configurations
  ``k_lo..k_hi-1`` one after another (threads call it on disjoint ranges); the GPU variants
  (:mod:`gdbench.cuda.codegen`) put one configuration on a thread, or on a block whose threads
  share each gradient;
- ``ALLOC``: where θ, g and the state live (heap arrays here, local or shared memory on a GPU).

``run_config`` is written for a *block* of threads that share a configuration: every thread runs
the same control flow (step counter, epoch position, statuses: the values that decide them are
the same on every thread), the ``leader`` alone draws random numbers, applies the update and
writes records, and ``barrier()`` separates phases. On the CPU the block is one thread:
``leader`` is the constant True and ``barrier`` does nothing, so the compiled code is the plain
loop. Estimators, schedules, clipping, recording and statuses therefore change in one place.

Status codes: 0 max_steps, 1 converged, 2 diverged. Trace columns per record: step, loss,
grad_norm, dist_to_x* (NaN where x* is unknown), restarts so far, [θ for small D]. ``out.loss``
is f over all rows at the iterate returned, from the driver's own last full evaluation (the last
record, or the end-of-run check without records), so that no caller pays another pass over the
data for it; NaN for a diverged run (its last full evaluation, if any, is not at that iterate).
"""

import math

import numpy as np
from numba import njit

from gdbench._config import JIT
from gdbench.kernels.prefetch import prefetch_row
from gdbench.kernels.rng import rng_normal, rng_seed, shuffle
from gdbench.kernels.stack import borrowed as _b
from gdbench.kernels.support import draw_start, record, rel_scale
from gdbench.kernels.transforms import clip_grad, scheduled_lr

# --- DEVICE BEGIN ---
#: CPU-only software prefetch of the rows ahead (pruned at compile time elsewhere)
PREFETCH = True
inline_fn = njit(inline="always", **JIT)


@njit(inline="always", **JIT)
def barrier():
    pass


# The kernels called at every step (not inlined) receive borrowed views of the heap arrays: numba
# would otherwise count references around each call, atomic instructions that wait for the step's
# stores (the BIND block's calls do the same; see gdbench.kernels.stack.borrowed).
_rng_normal, _clip_grad, _record = rng_normal, clip_grad, record


@inline_fn
def rng_normal(st):  # noqa: F811
    return _rng_normal(_b(st))


@inline_fn
def clip_grad(g, kind, c):  # noqa: F811
    _clip_grad(_b(g), kind, c)


@inline_fn
def record(trace, k, r, t, f, g, theta, x_star, has_xstar, restarts):  # noqa: F811
    """``support.record`` with int64 counters: the literal 0s of the first record (and of a driver
    without restarts) would each compile another copy of it."""
    _record(trace, np.int64(k), np.int64(r), np.int64(t), f, g, theta, x_star, has_xstar, np.int64(restarts))


@inline_fn
def prefetch_rows(X, y, perm, lo, hi):
    """The rows perm[lo:hi] of X and their labels (a label is a miss of its own: y[i] of a random
    row was the hottest load of a hinge SGD step on 1e5x64, 120 -> ~95 ns a step with it)."""
    for i in range(lo, hi):
        prefetch_row(X, perm[i])
        prefetch_row(y, perm[i])


@njit(**JIT)
def sweep(k_lo, k_hi, cfg, prob, bud, out, scr):
    """Run configurations ``k_lo..k_hi-1`` one after another (releases the GIL: call it from
    several threads on disjoint ranges to use several cores)."""
    for k in range(k_lo, k_hi):
        run_config(k, 0, cfg, prob, bud, out, scr)
# --- DEVICE END ---


# --- BIND BEGIN ---
from gdbench.optimizers.gd import step as _opt_step  # noqa: E402
from gdbench.problems.quadratic import hess as _prob_hess  # noqa: E402
from gdbench.problems.quadratic import loss_grad as _prob_loss_grad  # noqa: E402

NSTATE = 0
NEEDS_HESSIAN = False
IS_DATA = False
#: restart policies compiled in (drivers without them drop that code: a smaller, faster compile)
RESTARTS = True
#: gradient noise and clipping compiled in (without them the step has no call to a math library,
#: so a tiny problem's θ, g and state stay in registers across steps)
TRANSFORMS = True
#: plain SGD (the gd rule, one row, no noise or clipping) on a loss of the linear-model family:
#: one fused pass for the gradient and the update (``prob_sgd_steps``), as scikit-learn does
FUSED_SGD = False
#: random starts compiled in (without them every configuration starts at its theta0 and, with no
#: noise and no mini-batches either, the driver draws no random number at all)
STARTS = True
#: learning-rate schedules compiled in (without them lr_t = lr)
SCHEDULES = True


@inline_fn
def opt_hyper(hp):
    return ()


@inline_fn
def opt_needs_hessian(rid):
    return False


@inline_fn
def opt_init(s, theta, hpv, hprow, rid):
    pass


@inline_fn
def opt_update(theta, g, H, s, hpv, hprow, lr, t, f, f_star, rid):
    _opt_step(_b(theta), _b(g), lr)


@inline_fn
def prob_loss_grad(theta, X, y, prm, idx, i0, nb, g, ws):
    return _prob_loss_grad(_b(theta), _b(X), _b(y), _b(prm), _b(idx), i0, nb, _b(g))


@inline_fn
def prob_loss(theta, X, y, prm, idx, i0, nb, g, ws):
    return prob_loss_grad(theta, X, y, prm, idx, i0, nb, g, ws)


@inline_fn
def prob_hess(theta, X, y, prm, idx, i0, nb, H, ws):
    _prob_hess(_b(theta), _b(X), _b(y), _b(prm), _b(idx), i0, nb, _b(H))


@inline_fn
def prob_sgd_steps(theta, X, y, prm, perm, pos, m, lr, thresh, ahead, ws):
    return m, 0.0
# --- BIND END ---

MAX_STEPS, CONVERGED, DIVERGED = 0, 1, 2
#: batches of at most this many rows have the rows of a later batch prefetched at each step,
#: PREFETCH_ROWS rows ahead (SGD: 8 steps ahead; batches of 8: the next batch); larger batches of
#: a linear-family loss prefetch inside the row kernel, 8 rows ahead as they go
#: (``linear_kernels.PREFETCH_AHEAD``): a burst of a whole next batch of 64 rows left most unfetched
PREFETCH_MAX_BATCH = 8
PREFETCH_ROWS = 8
#: restarts on stall: not once the best loss is within this share of the initial gap of f*
STALL_FLOOR = 1e-8


@inline_fn
def keep_best(f, best_f, best, theta, D, leader):
    """Restarts: θ becomes the best iterate if its full loss f beats ``best_f``; the best loss."""
    if f < best_f:
        if leader:
            for i in range(D):
                best[i] = theta[i]
        return f
    return best_f



# inline="always" (CPU): numba inlines the body into ``sweep`` at its IR level, so the pair is
# compiled and LLVM-optimised once instead of twice (standalone, then again inside ``sweep``):
# about 40 % less compile time per pair (3.0 -> 1.7 CPU-s median over 4 pairs x 2 runs).
@inline_fn
def run_config(k, tid, cfg, prob, bud, out, scr):
    """Run configuration ``k`` (as thread ``tid`` of its block) for up to ``bud.steps`` steps;
    write its outputs at index ``k``."""
    D = cfg.theta0.shape[1]
    X = prob.X
    y = prob.y
    prm = prob.prm
    f_star = prob.f_star
    steps = bud.steps
    record_every = bud.record_every
    n = X.shape[0] if IS_DATA else 0
    b = cfg.batch[k]
    full = (not IS_DATA) or b <= 0 or b >= n
    leader = tid == 0
    # --- ALLOC BEGIN ---
    theta = np.empty(D)
    g = np.empty(D)  # ∇f at θ_t (a record's and a full batch's), or the step's batch gradient
    best = np.empty(D)
    H = np.empty((D, D)) if NEEDS_HESSIAN else np.empty((1, 1))
    s = np.zeros((NSTATE, D))
    st = np.empty(2, dtype=np.uint64)
    perm = np.empty(n, dtype=np.int64)  # (not np.arange: one overload fewer to compile per process)
    for i in range(n):
        perm[i] = i
    # SGD and mini-batches ask for the rows of a later step while this one computes, so no step
    # waits on the cache misses of its randomly placed rows
    ahead = max(1, PREFETCH_ROWS // b) * b if (not full) and b <= PREFETCH_MAX_BATCH else 0
    ws = prob.kid  # the problem among the driver's (a GPU passes its block's shared workspace instead)
    # --- ALLOC END ---
    hprow = cfg.hp[k]
    hpv = opt_hyper(hprow)
    rid = cfg.rule[k]  # the configuration's update rule among the driver's (several share one driver)
    need_h = NEEDS_HESSIAN and opt_needs_hessian(rid)
    lr = cfg.lrs[k]
    skind = int(cfg.sched[k, 0])
    sp1 = cfg.sched[k, 1]
    sp2 = cfg.sched[k, 2]
    ckind = int(cfg.clip[k, 0])
    cval = cfg.clip[k, 1]
    sigma = cfg.noise[k]
    ikind = cfg.init_kind[k]
    rkind = int(cfg.restart[k, 0])
    rper = int(cfg.restart[k, 1])
    rtol = cfg.restart[k, 2]

    if leader:
        if IS_DATA or STARTS or TRANSFORMS:  # (else the configuration draws no random number)
            rng_seed(st, cfg.seeds[k])
        if STARTS:
            draw_start(theta, cfg.theta0[k], cfg.init_a[k], cfg.init_b[k], ikind, st)
        else:
            for i in range(D):
                theta[i] = cfg.theta0[k, i]
        for i in range(D):
            out.theta_start[k, i] = theta[i]
        opt_init(s, theta, hpv, hprow, rid)
        if IS_DATA and not full:  # (IS_DATA first: analytic drivers drop the estimator code at compile time)
            shuffle(perm, st)
    barrier()
    pos = 0
    fused = False
    r = 0
    nres = 0
    code = MAX_STEPS
    f = 0.0  # f over all rows at θ_t (the evaluations at events)
    fb = 0.0  # the step's loss: its batch's, or f at θ_t for a full batch
    scale = 1.0
    thresh = math.inf
    # restarts: the best iterate so far (by the full loss, at records and restarts)
    best_f = math.inf
    f_end = math.nan  # f over all rows at θ as of the last full evaluation
    last_gain = 0
    t = 0  # steps of the run, over all restarts (the budget)
    tl = 0  # steps since the last (re)start: the rule's and the schedule's t
    # the steps of the next record and periodic restart (steps + 1: none), and next_ev, the next
    # step at which anything but a step happens (0: the start; steps: the end): one comparison a step
    next_rec = 0 if record_every > 0 else steps + 1
    next_res = rper if RESTARTS and rkind == 1 else steps + 1
    next_ev = 0
    post = False  # θ is a restart's fresh start, to be evaluated (and recorded) at step t
    while True:
        # Every evaluation over all rows happens here, at θ_t, once: the start, a record, the end
        # of a run without records, a periodic restart's check and its fresh start, and the
        # gradient of a full-batch step from θ_t (a record and the next step share one evaluation).
        ev = post or t == next_ev
        rec = False
        per = False
        want_g = full  # between events: a full batch's step needs f and ∇f at θ_t
        if ev:
            rec = t == next_rec and not post
            per = RESTARTS and rkind == 1 and t == next_res and 0 < t < steps and not post
            want_g = post or rec or (full and t < steps and not per)
        if IS_DATA:
            # f alone where no gradient is wanted (a data kernel skips the gradient's pass): the
            # start and the end of a run without records, a periodic restart's check
            lo = ev and (not want_g or (t == 0 and not post and record_every <= 0))
            if lo:
                f = prob_loss(theta, X, y, prm, perm, 0, -1, g, ws)
            if want_g:
                fb = prob_loss_grad(theta, X, y, prm, perm, 0, -1, g, ws)
                if not lo:
                    f = fb
        elif ev or want_g:  # an analytic problem's f and ∇f are one kernel: one call site
            f = prob_loss_grad(theta, X, y, prm, perm, 0, -1, g, ws)
            fb = f
        if ev:
            restart = False
            if rec or (post and record_every > 0):  # (one call site: a record costs a copy of the recorder)
                if leader:
                    record(out.trace, k, r, t, f, g, theta, prob.x_star, prob.has_xstar, nres)
                r += 1
            if rec:
                next_rec = min(next_rec + record_every, steps)
            if (RESTARTS and post) or t == 0:
                sc = rel_scale(f, f_star)
                f_end = f
                if RESTARTS and post:  # a restart's fresh start: it widens the threshold
                    post = False
                    tr = f_star + bud.div_factor * sc
                    if tr > thresh:  # (max() would compile one more overload per process)
                        thresh = tr
                    best_f = keep_best(f, best_f, best, theta, D, leader)
                else:
                    scale = sc
                    thresh = f_star + bud.div_factor * scale
                    best_f = f
                    if RESTARTS and rkind != 0 and leader:
                        for i in range(D):
                            best[i] = theta[i]
                    if not math.isfinite(f):
                        code = DIVERGED
            else:
                if rec:
                    f_end = f
                    if not (f <= thresh):
                        code = DIVERGED
                    else:
                        if RESTARTS and rkind != 0:
                            if f < best_f - rtol * scale:
                                last_gain = t
                            best_f = keep_best(f, best_f, best, theta, D, leader)
                            restart = rkind == 2 and t - last_gain >= rper and best_f - f_star > STALL_FLOOR * scale
                        if bud.stop_tol > 0.0 and f - f_star <= bud.stop_tol * scale:
                            code = CONVERGED
                if RESTARTS and rkind == 1 and t == next_res:
                    next_res += rper
                    restart = True
            if t == steps and record_every <= 0 and code == MAX_STEPS:
                # the end of a run without records: is the last iterate finite?
                f_end = f
                if not (f <= thresh):
                    code = DIVERGED
                elif RESTARTS and rkind != 0:
                    best_f = keep_best(f, best_f, best, theta, D, leader)
            if RESTARTS and restart and code == MAX_STEPS and t < steps:
                if not rec:  # a periodic restart between records: is this iterate the best so far?
                    best_f = keep_best(f, best_f, best, theta, D, leader)
                nres += 1
                tl = 0
                last_gain = t
                if leader:
                    draw_start(theta, cfg.theta0[k], cfg.init_a[k], cfg.init_b[k], ikind, st)
                    for j in range(NSTATE):
                        for i in range(D):
                            s[j, i] = 0.0
                    opt_init(s, theta, hpv, hprow, rid)
                barrier()
                post = True  # evaluated at the top, at the same step
            next_ev = min(min(next_rec, next_res), steps)
            if RESTARTS and post:
                continue
        if code != MAX_STEPS or t >= steps:
            break
        t += 1
        tl += 1
        if IS_DATA and not full:  # a mini-batch (analytic drivers drop this branch at compile time)
            if pos >= n:
                if leader:
                    shuffle(perm, st)
                barrier()
                pos = 0
            nb = min(b, n - pos)
            fused = FUSED_SGD and nb == 1 and sigma == 0.0 and ckind == 0
            if PREFETCH and not fused:  # (the fused steps ask for their rows themselves)
                if ahead > 0 and pos + ahead < n:
                    prefetch_rows(X, y, perm, pos + ahead, min(pos + ahead + nb, n))
            if fused:  # θ is updated here, unless a row's loss says the run diverged
                if SCHEDULES and skind != 0:  # a rate of its own for each step: one step per call
                    m = 1
                    lr_t = scheduled_lr(lr, skind, sp1, sp2, tl)
                else:  # every step up to the next event or the epoch's end in one call
                    m = min(next_ev - t + 1, n - pos)
                    lr_t = lr
                done, fb = prob_sgd_steps(theta, X, y, prm, perm, pos, m, lr_t, thresh, ahead, ws)
                # t and tl: the chunk's last step, or the one that diverged (t -= 1 below, as for one step)
                t += done if done < m else m - 1
                tl += done if done < m else m - 1
                nb = m
            else:
                fb = prob_loss_grad(theta, X, y, prm, perm, pos, nb, g, ws)
            if NEEDS_HESSIAN:
                if need_h:
                    prob_hess(theta, X, y, prm, perm, pos, nb, H, ws)
            pos += nb
        elif NEEDS_HESSIAN:  # (f and ∇f at θ_t: evaluated above)
            if need_h:
                prob_hess(theta, X, y, prm, perm, 0, -1, H, ws)
        if not (fb <= thresh):  # NaN, +Inf, or beyond the divergence threshold
            code = DIVERGED
            t -= 1
            break
        if leader and not (FUSED_SGD and fused):
            if TRANSFORMS and sigma > 0.0:
                for i in range(D):
                    g[i] += sigma * rng_normal(st)
            if TRANSFORMS and ckind != 0:
                clip_grad(g, ckind, cval)
            lr_t = scheduled_lr(lr, skind, sp1, sp2, tl) if SCHEDULES else lr
            opt_update(theta, g, H, s, hpv, hprow, lr_t, tl, fb, f_star, rid)
        barrier()
    if leader:
        use_best = RESTARTS and rkind != 0 and code != DIVERGED
        for i in range(D):
            out.theta[k, i] = best[i] if use_best else theta[i]
        out.loss[k] = best_f if use_best else (f_end if code != DIVERGED else math.nan)
        out.nrec[k] = r
        out.status[k] = code
        out.steps_done[k] = t
        out.restarts[k] = nres
