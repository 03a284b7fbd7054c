"""The GPU step loops, generated from the CPU's template (:mod:`gdbench.kernels.loop`).

There is one loop source. A GPU module is the template with three blocks replaced
(:func:`gdbench.kernels.codegen.render`):

- ``DEVICE``: the kernel entry and the device's primitives. *Analytic problems*: one thread per
  configuration (``k = cuda.grid(1)``; ``barrier`` does nothing). *Data problems*: one block of
  ``TPB`` threads per configuration (``k = blockIdx.x``); every thread runs the same control flow,
  thread 0 (the ``leader``) draws random numbers, applies the update and writes records, and
  ``barrier`` is ``cuda.syncthreads``.
- ``ALLOC``: θ, g and the state in thread-local arrays of compile-time size D (analytic), or in
  shared memory (data: θ and g are read by every thread of the block; the permutation of a
  stochastic configuration lives in global memory).
- ``BIND``: the rule's and problem's CPU kernels compiled as device functions (:func:`dev`); for a
  data problem, ``prob_loss_grad`` is the block reduction below around the loss's own
  ``loss``/``dloss``.

Block reduction (data problems), a fixed order: thread t accumulates, in increasing order, the
terms of rows R[t], R[t+TPB], R[t+2·TPB], … of the step's rows R into its own row of a shared
(TPB, D+1) buffer (z = b + Σⱼ Xᵢⱼ·wⱼ left to right, as on the CPU); after a barrier, thread j sums
column j over threads 0 … TPB−1 left to right, then applies 1/m and the L2 term exactly as the CPU
does. GPU runs are therefore bit-reproducible; they differ from the CPU's single left-to-right
sum over rows only in rounding.
"""

from __future__ import annotations

from types import ModuleType

from ..kernels import codegen as cg

MAX_ANALYTIC_DIM = 1024  # local arrays of this many doubles per thread (θ, g, best, state)
SHARED_DOUBLES = 4096  # the data kernel's (TPB, D+1) partial-sum buffer: 32 KiB

DEVICE_COMMON = """import importlib

from numba import cuda

from gdbench.cuda.devfn import dev, inline_device
from gdbench.kernels import rng as _rng
from gdbench.kernels import support as _support
from gdbench.kernels import transforms as _transforms

PREFETCH = False
inline_fn = inline_device
rng_seed = dev(_rng.rng_seed)
rng_normal = dev(_rng.rng_normal)
shuffle = dev(_rng.shuffle, sim_direct=False)
draw_start = dev(_support.draw_start, sim_direct=False)
record = dev(_support.record, sim_direct=False)
rel_scale = dev(_support.rel_scale)
clip_grad = dev(_transforms.clip_grad)
scheduled_lr = dev(_transforms.scheduled_lr)
"""

DEVICE_ANALYTIC = DEVICE_COMMON + '''

@inline_device
def barrier():
    pass


@cuda.jit
def kernel(cfg, prob, bud, out, scr):
    """One thread per configuration."""
    k = cuda.grid(1)
    if k < cfg.lrs.shape[0]:
        run_config(k, 0, cfg, prob, bud, out, scr)
'''

DEVICE_DATA = DEVICE_COMMON + '''

@inline_device
def barrier():
    cuda.syncthreads()


@cuda.jit
def kernel(cfg, prob, bud, out, scr):
    """One block of TPB threads per configuration."""
    run_config(cuda.blockIdx.x, cuda.threadIdx.x, cfg, prob, bud, out, scr)
'''

ALLOC_ANALYTIC = """    theta = cuda.local.array(D_, np.float64)
    g = cuda.local.array(D_, np.float64)
    best = cuda.local.array(D_, np.float64)
    H = cuda.local.array((1, 1), np.float64)
    s = cuda.local.array((NS_, D_), np.float64)
    for j in range(NSTATE):
        for i in range(D):
            s[j, i] = 0.0
    st = cuda.local.array(2, np.uint64)
    perm = scr.perm_row
    ahead = 0
    ws = 0"""

ALLOC_DATA = """    theta = cuda.shared.array(D_, np.float64)
    g = cuda.shared.array(D_, np.float64)
    best = cuda.local.array(D_, np.float64)
    H = cuda.local.array((1, 1), np.float64)
    s = cuda.shared.array((NS_, D_), np.float64)
    part = cuda.shared.array((TPB, D1_), np.float64)
    fsh = cuda.shared.array(2, np.float64)
    st = cuda.local.array(2, np.uint64)
    perm = scr.perm_all[scr.perm_row[k]]  # this configuration's row order (stochastic ones have their own)
    if leader:
        for j in range(NSTATE):
            for i in range(D):
                s[j, i] = 0.0
        if not full:
            for i in range(n):
                perm[i] = i
    ahead = 0
    ws = (part, fsh, tid)"""

BLOCK_REDUCTION = '''

@inline_fn
def prob_loss(th, X, y, prm, perm, i0, nb, g, ws):
    """f alone: the block reduction of ``prob_loss_grad`` (g is written too)."""
    return prob_loss_grad(th, X, y, prm, perm, i0, nb, g, ws)


@inline_fn
def prob_loss_grad(th, X, y, prm, perm, i0, nb, g, ws):
    """f over the rows (all when nb < 0, else perm[i0:i0+nb]); ∇f into g (shared). All threads."""
    part = ws[0]
    fsh = ws[1]
    tid = ws[2]
    lam = prm[0]
    n = X.shape[0]
    full = nb < 0
    m = n if full else nb
    for j in range(D1_):
        part[tid, j] = 0.0
    jj = tid
    while jj < m:
        i = jj if full else perm[i0 + jj]
        z = th[DW_]
        for j in range(DW_):
            z += X[i, j] * th[j]
        fi, c = row_terms(z, y[i], prm)
        part[tid, D_] += fi
        if c != 0.0:
            for j in range(DW_):
                part[tid, j] += c * X[i, j]
            part[tid, DW_] += c
        jj += TPB
    cuda.syncthreads()
    sc = 1.0 / m
    j = tid
    while j < D1_:
        acc = 0.0
        for q in range(TPB):
            acc += part[q, j]
        if j < DW_:
            g[j] = sc * acc + lam * th[j]
        elif j == DW_:
            g[j] = sc * acc
        else:
            reg = 0.0
            for q in range(DW_):
                reg += th[q] * th[q]
            fsh[0] = acc / m + 0.5 * lam * reg
        j += TPB
    cuda.syncthreads()
    return fsh[0]


@inline_fn
def prob_hess(theta, X, y, prm, idx, i0, nb, H, ws):
    pass


FUSED_SGD = False


@inline_fn
def prob_sgd_steps(theta, X, y, prm, perm, pos, m, lr, thresh, ahead, ws):
    return m, 0.0
'''


def data_threads(n: int, D: int) -> int:
    """Threads per block for a data problem with n rows and D = d+1 parameters (0: too wide)."""
    tpb = 1
    while tpb < 128 and tpb < n and 2 * tpb * (D + 1) <= SHARED_DOUBLES:
        tpb *= 2
    return tpb if tpb * (D + 1) <= SHARED_DOUBLES else 0


def _row_terms(prob) -> str:
    mod = prob.module.__name__
    args = cg.param_args(prob.loss_params)
    return "\n".join([
        f"_loss = dev(importlib.import_module({mod!r}).loss)",
        f"_dloss = dev(importlib.import_module({mod!r}).dloss)", "", "",
        "@inline_fn", "def row_terms(z, yi, prm):", f"    return _loss(z, yi{args}), _dloss(z, yi{args})",
    ])


def module(opt, prob, D: int, tpb: int = 0) -> ModuleType:
    """The generated GPU module of a pair: analytic (tpb = 0) or data (tpb threads per block)."""
    consts = [f"D_ = {D}", f"NS_ = {max(len(opt.state), 1)}"]
    if tpb:
        consts += [f"TPB = {tpb}", f"DW_ = {D - 1}", f"D1_ = {D + 1}"]
        src = cg.render(opt, prob, device="gpu", device_block=DEVICE_DATA, alloc_block=ALLOC_DATA,
                        problem_block=_row_terms(prob) + BLOCK_REDUCTION, constants="\n".join(consts),
                        features=cg.FEATURES)
        name = f"gdbench_gpu_data_{cg.key(opt)}__{cg.key(prob)}__d{D}_t{tpb}"
    else:
        src = cg.render(opt, prob, device="gpu", device_block=DEVICE_ANALYTIC, alloc_block=ALLOC_ANALYTIC,
                        constants="\n".join(consts), features=cg.FEATURES)
        name = f"gdbench_gpu_analytic_{cg.key(opt)}__{cg.key(prob)}__d{D}"
    return cg.generated(name, src)
