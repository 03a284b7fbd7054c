"""The kernels of the linear-model family, written once for every loss ℓ(z, y).

    f(w, b) = (1/m)·Σᵢ ℓ(zᵢ, yᵢ) + (λ/2)‖w‖²,   zᵢ = xᵢᵀw + b,   θ = [w, b],   prm = [λ, loss params]
    ∇f = (1/m)·Σᵢ ∂ℓ/∂z(zᵢ, yᵢ)·[xᵢ, 1] + λ·[w, 0]        ∇²f = (1/m)·Σᵢ ∂²ℓ/∂z²·[xᵢ, 1][xᵢ, 1]ᵀ + λ·diag(1, …, 1, 0)

This file is a working module (bound to linreg's squared error below) and the template that
:func:`gdbench.kernels.codegen.problem_kernels` copies into one module per loss, replacing the
BIND block: the loss's ``loss``/``dloss``/``d2loss`` are inlined into every kernel at numba's IR
level (so they get the row kernels' flags: vectorised dot products, FMA contraction) and receive
the loss's parameters by name. The same per-row formulas then serve the serial kernel (SGD and
mini-batches), the fused multi-core full-batch kernel and the Hessian; the GPU block reduction
(:mod:`gdbench.cuda.codegen`) compiles the same two functions as device functions.
"""

import importlib

import numpy as np
from numba import config, njit, prange

from gdbench._config import JIT, JIT_ROWS, JIT_ROWS_PAR, JIT_SGD, ROW_BLOCKS
from gdbench.kernels.lanes import dot_sq_lanes
from gdbench.kernels.prefetch import prefetch_row
from gdbench.problems._linear import finish_l2, l2_loss, sum_row_blocks

# --- BIND BEGIN ---
_loss_module = importlib.import_module("gdbench.problems.linreg")  # (gdbench.problems.linreg is a factory)

_loss = njit(inline="always", **JIT_ROWS)(getattr(_loss_module.loss, "py_func", _loss_module.loss))
_dloss = njit(inline="always", **JIT_ROWS)(getattr(_loss_module.dloss, "py_func", _loss_module.dloss))
_d2loss = njit(inline="always", **JIT)(getattr(_loss_module.d2loss, "py_func", _loss_module.d2loss))
HAS_D2 = True
HAS_UPPER = False
HAS_VEC = False


@njit(inline="always", **JIT_ROWS)
def row_loss(z, yi, prm):
    return _loss(z, yi)


@njit(inline="always", **JIT_ROWS)
def row_dloss(z, yi, prm):
    return _dloss(z, yi)


@njit(inline="always", **JIT)
def row_d2loss(z, yi, prm):
    return _d2loss(z, yi)


@njit(inline="always", **JIT_ROWS)
def row_loss_upper(z, yi, prm):
    return _loss(z, yi)


@njit(inline="always", **JIT_ROWS)
def row_loss_dloss_vec(z, yi, prm):
    return _loss(z, yi), _dloss(z, yi)
# --- BIND END ---

#: a mini-batch of more than this many rows asks for the rows (and labels) this many places ahead
#: in ``idx`` while it computes (the next batch's first rows at its end): spread over the batch,
#: where one burst of the whole next batch at the step's start left most of them unfetched (the
#: driver still prefetches for batches up to this size; Adam, batches of 64 on 200000x64: 43-48 ->
#: 32-37 ms an epoch)
PREFETCH_AHEAD = 8
PREFETCH = not config.DISABLE_JIT

#: rows of at most this width are processed two at a time by the fused kernel (θ loads and the
#: reduction shared by the pair: 1.3x at d = 64)
PAIR_MAX_D = 128
#: rows of at least this width four at a time: each gradient element is loaded and stored once
#: per four rows (the single-row axpy's load and store of a[j] for every element of every row
#: kept the kernel under the roofline there). Measured on stand-alone linreg kernels, 2 threads,
#: paired with one row at a time: 0.68 of its time at d = 512 and 1024, 0.92 at d = 192 and 200,
#: 1.00 at 160, 1.12-1.25 at 128 (and 1.33 against pairs at d = 64) on a Zen 3 VM. Their dot
#: products go one row after the other (``_dot4``); on a Zen 4 VM that quad ran at the speed of
#: one row at a time (2 threads, 800 MB of X: d = 192 23.6 vs 25.0 ms, 512 27.4 vs 26.1, 1024
#: 27.9 vs 28.7; 15 alternated rounds).
QUAD_MIN_D = 192


@njit(**JIT_ROWS)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    """f and ∇f (into g) over the rows idx[i0:i0+nb], or all rows in order when nb < 0."""
    n, d = X.shape
    full = nb < 0
    m = n if full else nb
    for j in range(d + 1):
        g[j] = 0.0
    b = theta[d]
    f = 0.0
    na = idx.shape[0] - PREFETCH_AHEAD
    for jj in range(m):
        i = jj if full else idx[i0 + jj]
        if PREFETCH and not full and m > PREFETCH_AHEAD and i0 + jj < na:
            k = idx[i0 + jj + PREFETCH_AHEAD]
            prefetch_row(X, k)
            prefetch_row(y, k)
        z = b
        for j in range(d):
            z += X[i, j] * theta[j]
        f += row_loss(z, y[i], prm)
        c = row_dloss(z, y[i], prm)
        if c != 0.0:  # rows that do not move the gradient (e.g. hinge margins met) cost one dot product
            for j in range(d):
                g[j] += c * X[i, j]
            g[d] += c
    return finish_l2(theta, g, f, m, 1.0 / m, prm[0])


@njit(**JIT_ROWS)
def loss_only(theta, X, y, prm, idx, i0, nb, g):
    """f alone over the same rows as ``loss_grad`` (g is not touched): the driver's evaluations
    that record no gradient (the start's divergence scale and the end-of-run check of an
    unrecorded run) read each row once for a dot product and skip the gradient's axpy."""
    n, d = X.shape
    full = nb < 0
    m = n if full else nb
    b = theta[d]
    f = 0.0
    for jj in range(m):
        i = jj if full else idx[i0 + jj]
        z = b
        for j in range(d):
            z += X[i, j] * theta[j]
        f += row_loss(z, y[i], prm)
    return l2_loss(theta, f, m, prm[0])


@njit(inline="always", **JIT_ROWS)
def _dot4(theta, X, i, b):
    """xₖᵀw + b for the four rows k = i..i+3, one row after the other.

    Not the four at once (θ loaded once for the four): on a 2-core Zen 4 VM four interleaved
    streams, each a new 4 KiB page at d = 512, were prefetched so poorly that a stand-alone
    linreg quad over 800 MB of X took 1.3-1.9x as long as with its dot products one row after the
    other (2 threads, d = 192: 45.2 vs 24.1 ms, 512: 31.9 vs 24.0, 1024: 31.2 vs 25.9 ms; the
    read-once roofline 22.0-22.4); in the L3 the two orders ran at the same speed. The rows just
    read are still in L1 for ``_axpy4``."""
    d = X.shape[1]
    x0 = X[i]
    x1 = X[i + 1]
    x2 = X[i + 2]
    x3 = X[i + 3]
    z0 = b
    for j in range(d):
        z0 += x0[j] * theta[j]
    z1 = b
    for j in range(d):
        z1 += x1[j] * theta[j]
    z2 = b
    for j in range(d):
        z2 += x2[j] * theta[j]
    z3 = b
    for j in range(d):
        z3 += x3[j] * theta[j]
    return z0, z1, z2, z3


@njit(inline="always", **JIT_ROWS)
def _axpy4(a, X, i, c0, c1, c2, c3):
    """a[:d] += Σₖ cₖ·xₖ over the four rows k = i..i+3: each element of a loaded and stored once."""
    x0 = X[i]
    x1 = X[i + 1]
    x2 = X[i + 2]
    x3 = X[i + 3]
    for j in range(X.shape[1]):
        a[j] += (c0 * x0[j] + c1 * x1[j]) + (c2 * x2[j] + c3 * x3[j])


@njit(**JIT_ROWS)
def _rows_block(theta, X, y, prm, lo, hi, a):
    """Σ cᵢ·xᵢ into a[:d], Σ cᵢ into a[d], Σ ℓᵢ into a[d+1] over rows lo..hi-1 (cᵢ = ∂ℓ/∂z);
    two rows per pass while rows are short and four while they are long, so that θ is loaded
    once per pair or quad and each gradient element loaded and stored once."""
    d = X.shape[1]
    b = theta[d]
    f = 0.0
    sc = 0.0
    i = lo
    while d >= QUAD_MIN_D and i + 4 <= hi:
        z0, z1, z2, z3 = _dot4(theta, X, i, b)
        f += (row_loss(z0, y[i], prm) + row_loss(z1, y[i + 1], prm)) + (
            row_loss(z2, y[i + 2], prm) + row_loss(z3, y[i + 3], prm))
        c0 = row_dloss(z0, y[i], prm)
        c1 = row_dloss(z1, y[i + 1], prm)
        c2 = row_dloss(z2, y[i + 2], prm)
        c3 = row_dloss(z3, y[i + 3], prm)
        if c0 != 0.0 or c1 != 0.0 or c2 != 0.0 or c3 != 0.0:
            sc += (c0 + c1) + (c2 + c3)
            _axpy4(a, X, i, c0, c1, c2, c3)
        i += 4
    while d <= PAIR_MAX_D and i + 2 <= hi:
        x0 = X[i]
        x1 = X[i + 1]
        z0 = b
        z1 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
            z1 += x1[j] * theta[j]
        f += row_loss(z0, y[i], prm) + row_loss(z1, y[i + 1], prm)
        c0 = row_dloss(z0, y[i], prm)
        c1 = row_dloss(z1, y[i + 1], prm)
        if c0 != 0.0 or c1 != 0.0:
            sc += c0 + c1
            for j in range(d):
                a[j] += c0 * x0[j] + c1 * x1[j]
        i += 2
    while i < hi:
        x0 = X[i]
        z0 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
        f += row_loss(z0, y[i], prm)
        c0 = row_dloss(z0, y[i], prm)
        if c0 != 0.0:
            sc += c0
            for j in range(d):
                a[j] += c0 * x0[j]
        i += 1
    a[d] = sc
    a[d + 1] = f


#: rows per block of the fused kernels for a loss with ``loss_dloss_vec`` (call-free): the
#: block's dot products, then its terms in one loop LLVM vectorises, then its gradient sums over
#: the rows, still in L1 (logistic 1e6x64, 2 threads: 0.60-0.72 -> 0.83-0.85 of the read-once roofline)
VEC_ROWS = 16


@njit(**JIT_ROWS)
def _dots(theta, X, i, m, zs):
    """zs[k] = xᵢ₊ₖᵀw + b for k < m, two or four rows per pass as in ``_rows_block``."""
    d = X.shape[1]
    b = theta[d]
    k = 0
    while d >= QUAD_MIN_D and k + 4 <= m:
        zs[k], zs[k + 1], zs[k + 2], zs[k + 3] = _dot4(theta, X, i + k, b)
        k += 4
    while d <= PAIR_MAX_D and k + 2 <= m:
        x0 = X[i + k]
        x1 = X[i + k + 1]
        z0 = b
        z1 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
            z1 += x1[j] * theta[j]
        zs[k] = z0
        zs[k + 1] = z1
        k += 2
    while k < m:
        x0 = X[i + k]
        z0 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
        zs[k] = z0
        k += 1


@njit(**JIT_ROWS)
def _rows_block_vec(theta, X, y, prm, lo, hi, a):
    """``_rows_block`` for a loss whose terms vectorise (``HAS_VEC``): VEC_ROWS rows at a time."""
    d = X.shape[1]
    f = 0.0
    sc = 0.0
    zs = np.empty(VEC_ROWS)
    cs = np.empty(VEC_ROWS)
    i = lo
    while i < hi:
        m = min(VEC_ROWS, hi - i)
        _dots(theta, X, i, m, zs)
        for k in range(m):
            lk, ck = row_loss_dloss_vec(zs[k], y[i + k], prm)
            f += lk
            cs[k] = ck
        k = 0
        while d >= QUAD_MIN_D and k + 4 <= m:
            c0 = cs[k]
            c1 = cs[k + 1]
            c2 = cs[k + 2]
            c3 = cs[k + 3]
            if c0 != 0.0 or c1 != 0.0 or c2 != 0.0 or c3 != 0.0:
                sc += (c0 + c1) + (c2 + c3)
                _axpy4(a, X, i + k, c0, c1, c2, c3)
            k += 4
        while d <= PAIR_MAX_D and k + 2 <= m:
            c0 = cs[k]
            c1 = cs[k + 1]
            if c0 != 0.0 or c1 != 0.0:
                x0 = X[i + k]
                x1 = X[i + k + 1]
                sc += c0 + c1
                for j in range(d):
                    a[j] += c0 * x0[j] + c1 * x1[j]
            k += 2
        while k < m:
            c0 = cs[k]
            if c0 != 0.0:
                x0 = X[i + k]
                sc += c0
                for j in range(d):
                    a[j] += c0 * x0[j]
            k += 1
        i += m
    a[d] = sc
    a[d + 1] = f


@njit(**JIT_ROWS_PAR)
def loss_grad_rows(theta, X, y, prm, idx, i0, nb, g):
    """``loss_grad`` with the full batch (nb < 0) fused into one parallel pass over X.

    Rows are cut into ``ROW_BLOCKS`` contiguous blocks (fewer when n is smaller); each block
    accumulates its partial sums in its own padded row, and the blocks are added in block order,
    so the result does not depend on the number of threads. Mini-batches (nb ≥ 0) use the
    serial kernel.
    """
    if nb >= 0:
        return loss_grad(theta, X, y, prm, idx, i0, nb, g)
    n, d = X.shape
    nbk = min(ROW_BLOCKS, max(n, 1))
    acc = np.zeros((nbk, d + 10))  # +8 doubles of padding: no two blocks share a cache line
    for k in prange(nbk):
        if HAS_VEC:
            _rows_block_vec(theta, X, y, prm, k * n // nbk, (k + 1) * n // nbk, acc[k])
        else:
            _rows_block(theta, X, y, prm, k * n // nbk, (k + 1) * n // nbk, acc[k])
    f = sum_row_blocks(acc, g)
    return finish_l2(theta, g, f, n, 1.0 / n, prm[0])


@njit(**JIT_ROWS)
def _loss_block(theta, X, y, prm, lo, hi):
    """Σ ℓᵢ over rows lo..hi-1 (VEC_ROWS at a time with ``loss_dloss_vec``, as ``loss_grad_rows``;
    the block loop is written out in both: a helper shared by the two, even inlined, made the
    fused gradient 1.1x slower at 2e6x16)."""
    d = X.shape[1]
    b = theta[d]
    f = 0.0
    if HAS_VEC:
        zs = np.empty(VEC_ROWS)
        i = lo
        while i < hi:
            m = min(VEC_ROWS, hi - i)
            _dots(theta, X, i, m, zs)
            for k in range(m):
                f += row_loss_dloss_vec(zs[k], y[i + k], prm)[0]
            i += m
        return f
    for i in range(lo, hi):
        x0 = X[i]
        z0 = b
        for j in range(d):
            z0 += x0[j] * theta[j]
        f += row_loss(z0, y[i], prm)
    return f


@njit(**JIT_ROWS_PAR)
def loss_only_rows(theta, X, y, prm, idx, i0, nb, g):
    """``loss_only`` over all rows (nb < 0) in one parallel pass, the row blocks of
    ``loss_grad_rows`` added in block order (independent of the thread count)."""
    if nb >= 0:
        return loss_only(theta, X, y, prm, idx, i0, nb, g)
    n = X.shape[0]
    nbk = min(ROW_BLOCKS, max(n, 1))
    acc = np.zeros(nbk * 8)  # one cache line per block
    for k in prange(nbk):
        acc[8 * k] = _loss_block(theta, X, y, prm, k * n // nbk, (k + 1) * n // nbk)
    f = 0.0
    for k in range(nbk):
        f += acc[8 * k]
    return l2_loss(theta, f, n, prm[0])


@njit(**JIT_SGD)
def sgd_step(theta, X, y, prm, i, lr, thresh):
    """Plain SGD on row i, fused as scikit-learn's loop is: one pass for z = xᵢᵀw + b (and ‖w‖²),
    one for θ ← θ − lr·(∂ℓ/∂z·[xᵢ, 1] + λ·[w, 0]). Returns fᵢ(θ) before the step; when it is
    not ≤ ``thresh`` (diverged) θ is left as it is; a loss's ``loss_upper`` may stand in for fᵢ
    where it is ≤ ``thresh`` (the same decision, since fᵢ ≤ it). The same step as ``loss_grad`` on the one row
    followed by the ``gd`` rule, to rounding.

    Compiled without reassociation (``JIT_SGD``), unlike the other row kernels: with it, this
    small function came out of a freshly compiling process with other bits than out of numba's
    disk cache (SGD runs differed between the first and every later process). Its sums are split
    by hand instead, into 8 partial sums in a fixed order (j mod 8): independent chains that keep
    the FMA units busy, the same bits however it is compiled, emitted as explicit vector code
    (:func:`gdbench.kernels.lanes.dot_sq_lanes`)."""
    d = X.shape[1]
    lam = prm[0]
    d8 = d - d % 8
    z0, z1, z2, z3, z4, z5, z6, z7, q0, q1, q2, q3, q4, q5, q6, q7 = dot_sq_lanes(X, i, theta, d8)
    for j in range(d8, d):
        z0 += X[i, j] * theta[j]
        q0 += theta[j] * theta[j]
    z = theta[d] + (((z0 + z1) + (z2 + z3)) + ((z4 + z5) + (z6 + z7)))
    reg = ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7))
    # the value returned only decides divergence (f ≤ thresh): a loss with a cheaper upper bound
    # u ≥ ℓ (logistic: max(−yz, 0) + 0.7, no log1p) returns the bound where it is ≤ thresh
    f = (row_loss_upper(z, y[i], prm) if HAS_UPPER else row_loss(z, y[i], prm)) + 0.5 * lam * reg
    if HAS_UPPER and not (f <= thresh):
        f = row_loss(z, y[i], prm) + 0.5 * lam * reg
    if not (f <= thresh):
        return f
    c = row_dloss(z, y[i], prm)
    for j in range(d):
        theta[j] -= lr * (c * X[i, j] + lam * theta[j])
    theta[d] -= lr * c
    return f


#: the same step inlined at numba's IR level into ``sgd_steps`` (compiled with the same flags)
_sgd_step_inline = njit(inline="always", **JIT_SGD)(getattr(sgd_step, "py_func", sgd_step))


@njit(**JIT_SGD)
def sgd_steps(theta, X, y, prm, perm, pos, m, lr, thresh, ahead):
    """``m`` plain SGD steps on rows ``perm[pos]``, …, ``perm[pos + m − 1]`` in one call (each
    exactly :func:`sgd_step`, asking for the row ``ahead`` places later as each starts, and for the
    row ``ahead // 2`` places later once more: on a 2-core Zen 4 VM, hinge 1e5×64 with rows from
    DRAM, 101–110 ns a step with the one request 8 rows ahead, 87–90 with the second 4 ahead, no
    change in cache: some lines asked for early were no longer in L1 when read); stops at
    the first step whose fᵢ is not ≤ ``thresh`` (θ left as before it). Returns (steps done, the
    last step's fᵢ): m and an fᵢ ≤ ``thresh``, or k < m and the diverging step's fᵢ. One call per
    stretch of steps between the driver's events instead of one per step: the driver's per-step
    work and the call (its arguments, the row's bounds) leave the SGD loop."""
    n = perm.shape[0]
    f = 0.0
    for k in range(m):
        q = pos + k + ahead
        if ahead > 0 and q < n:
            prefetch_row(X, perm[q])
            prefetch_row(y, perm[q])
        q = pos + k + ahead // 2  # the row's lines once more, nearer
        if ahead > 1 and q < n:
            prefetch_row(X, perm[q])
        f = _sgd_step_inline(theta, X, y, prm, perm[pos + k], lr, thresh)
        if not (f <= thresh):
            return k, f
    return m, f


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    """∇²f over the same rows as ``loss_grad`` (needs the loss's ``d2loss``)."""
    if not HAS_D2:
        raise NotImplementedError("this loss has no d2loss: no Hessian")
    n, d = X.shape
    full = nb < 0
    m = n if full else nb
    for a in range(d + 1):
        for c in range(d + 1):
            H[a, c] = 0.0
    b = theta[d]
    for jj in range(m):
        i = jj if full else idx[i0 + jj]
        z = b
        for j in range(d):
            z += X[i, j] * theta[j]
        w = row_d2loss(z, y[i], prm)
        for a in range(d):
            xa = w * X[i, a]
            for c in range(a, d):
                H[a, c] += xa * X[i, c]
            H[a, d] += xa
        H[d, d] += w
    s = 1.0 / m
    for a in range(d + 1):
        for c in range(a, d + 1):
            H[a, c] *= s
            H[c, a] = H[a, c]
    for a in range(d):
        H[a, a] += prm[0]
