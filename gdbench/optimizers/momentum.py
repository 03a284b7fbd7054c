"""Heavy-ball momentum (torch.optim.SGD with momentum, nesterov=False).

Update (t counts from 1; b is the momentum buffer)::

    b_1 = g                                  (first step)
    b_t = μ · b_{t-1} + (1 − dampening) · g  (t > 1)
    θ_t = θ_{t-1} − lr · b_t

Defaults: lr=1e-3, momentum μ=0.9, dampening=0.
Reference: Polyak (1964); PyTorch ``SGD`` documentation.
"""

from numba import njit

from .._config import JIT
from .base import UNIT

NAME = "momentum"
SUMMARY = "heavy-ball momentum: b ← μb + g; θ ← θ − lr·b"
HYPER = {"lr": 1e-3, "momentum": 0.9, "dampening": 0.0}
BOUNDS = {"momentum": UNIT, "dampening": (0.0, 1.0, True, True)}
STATE = ("buf",)


@njit(**JIT)
def step(theta, g, s, lr, t, momentum, dampening):
    damp = 1.0 - dampening
    b = s[0]
    if t == 1:
        for i in range(theta.shape[0]):
            b[i] = g[i]
            theta[i] -= lr * b[i]
    else:
        for i in range(theta.shape[0]):
            b[i] = momentum * b[i] + damp * g[i]
            theta[i] -= lr * b[i]


def reference(theta, g, s, lr, t, momentum, dampening):
    s[0] = g.copy() if t == 1 else momentum * s[0] + (1.0 - dampening) * g
    theta -= lr * s[0]
