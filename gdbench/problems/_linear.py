"""Shared pieces of the linear-model data problems (linreg, logistic, hinge).

All three write their per-row sums (Σ c·x, Σ c, Σ loss) first and finish the same way; these
helpers hold that common tail so the three kernels differ only in their per-row terms. They are
compiled with the same flags as the row kernels (``JIT_ROWS``), so inlining them changes no bit.
"""

from numba import njit

from .._config import JIT_ROWS


@njit(**JIT_ROWS)
def finish_l2(theta, g, f, m, s, lam):
    """g_w ← s·g_w + λ·w, g_b ← s·g_b; return f/m + (λ/2)‖w‖² (θ = [w, b])."""
    d = theta.shape[0] - 1
    reg = 0.0
    for j in range(d):
        g[j] = s * g[j] + lam * theta[j]
        reg += theta[j] * theta[j]
    g[d] *= s
    return f / m + 0.5 * lam * reg


@njit(**JIT_ROWS)
def l2_loss(theta, f, m, lam):
    """f/m + (λ/2)‖w‖²: ``finish_l2``'s value without a gradient."""
    d = theta.shape[0] - 1
    reg = 0.0
    for j in range(d):
        reg += theta[j] * theta[j]
    return f / m + 0.5 * lam * reg


@njit(**JIT_ROWS)
def sum_row_blocks(acc, g):
    """g[:d+1] = Σₖ acc[k, :d+1] in block order (independent of the thread count); return the
    loss sum Σₖ acc[k, d+1]."""
    d1 = g.shape[0]
    f = 0.0
    for j in range(d1):
        g[j] = 0.0
    for k in range(acc.shape[0]):
        for j in range(d1):
            g[j] += acc[k, j]
        f += acc[k, d1]
    return f
