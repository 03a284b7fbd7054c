"""Nesterov accelerated gradient (torch.optim.SGD with nesterov=True, dampening=0).

The look-ahead form "evaluate the gradient at θ + μ·v" is re-parametrised (as torch and optax
do) so that only ∇f(θ) is needed::

    b_1 = g ;  b_t = μ · b_{t-1} + g   (t > 1)
    θ_t = θ_{t-1} − lr · (g + μ · b_t)

Defaults: lr=1e-3, momentum μ=0.9.
Reference: Nesterov (1983); Sutskever et al. (2013), "On the importance of initialization and
momentum in deep learning".
"""

from numba import njit

from .._config import JIT
from .base import UNIT

NAME = "nesterov"
SUMMARY = "Nesterov momentum: b ← μb + g; θ ← θ − lr·(g + μb)"
HYPER = {"lr": 1e-3, "momentum": 0.9}
BOUNDS = {"momentum": UNIT}
STATE = ("buf",)


@njit(**JIT)
def step(theta, g, s, lr, t, momentum):
    b = s[0]
    first = t == 1
    for i in range(theta.shape[0]):
        b[i] = g[i] if first else momentum * b[i] + g[i]
        theta[i] -= lr * (g[i] + momentum * b[i])


def reference(theta, g, s, lr, t, momentum):
    s[0] = g.copy() if t == 1 else momentum * s[0] + g
    theta -= lr * (g + momentum * s[0])
