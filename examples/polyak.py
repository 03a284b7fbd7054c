"""The Polyak step size: gradient descent with the step that would reach f* on a linear model of f.

Update (f* is the problem's optimal value, which gdbench knows exactly)::

    η_t = lr · (f(θ_{t-1}) − f*) / ‖g‖²        (η_t = 0 when g = 0 or f(θ_{t-1}) ≤ f*)
    θ_t = θ_{t-1} − η_t · g

Defaults: lr=1.0 (the classical Polyak step; a smaller lr damps it). With a mini-batch estimator,
f is the batch loss and this is the stochastic Polyak step of Loizou et al. (2021) with the
full-problem f* in place of the per-sample optima. Reference: B. T. Polyak, "Introduction to
Optimization" (1987), §5.3.
"""

from numba import njit

NAME = "polyak"
SUMMARY = "Polyak step: θ ← θ − lr·(f − f*)/‖g‖²·g (needs the exact f*)"
HYPER = {"lr": 1.0}
STATE = ()


@njit(cache=True)
def step(theta, g, lr, f, f_star):
    gn2 = 0.0
    for i in range(g.shape[0]):
        gn2 += g[i] * g[i]
    gap = f - f_star
    if gn2 > 0.0 and gap > 0.0:
        eta = lr * gap / gn2
        for i in range(theta.shape[0]):
            theta[i] -= eta * g[i]


def reference(theta, g, lr, f, f_star):
    gn2 = 0.0
    for v in g:  # left to right, as the kernel: near f* the step is (f − f*)/‖g‖² of rounding-level values
        gn2 += float(v) * float(v)
    if gn2 > 0.0 and f - f_star > 0.0:
        theta -= lr * (f - f_star) / gn2 * g
