"""RMSprop (torch.optim.RMSprop with momentum=0, centered=False).

Update::

    v_t = α · v_{t-1} + (1 − α) · g²
    θ_t = θ_{t-1} − lr · g / (√v_t + eps)

Defaults: lr=0.01, alpha=0.99, eps=1e-8.
Reference: Tieleman & Hinton (2012), Lecture 6.5, COURSERA Neural Networks for ML.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .base import POSITIVE, UNIT

NAME = "rmsprop"
SUMMARY = "RMSprop: v ← αv + (1−α)g²; θ ← θ − lr·g/(√v + eps)"
HYPER = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}
BOUNDS = {"alpha": UNIT, "eps": POSITIVE}
STATE = ("square_avg",)


@njit(**JIT)
def step(theta, g, s, lr, alpha, eps):
    v = s[0]
    for i in range(theta.shape[0]):
        v[i] = alpha * v[i] + (1.0 - alpha) * g[i] * g[i]
        theta[i] -= lr * g[i] / (np.sqrt(v[i]) + eps)


def reference(theta, g, s, lr, alpha, eps):
    s[0] = alpha * s[0] + (1.0 - alpha) * g * g
    theta -= lr * g / (np.sqrt(s[0]) + eps)
