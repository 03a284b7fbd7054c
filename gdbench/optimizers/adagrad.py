"""Adagrad (torch.optim.Adagrad semantics).

Update (t counts from 1)::

    lr_t = lr / (1 + (t − 1) · lr_decay)
    s_t  = s_{t-1} + g²                  (s_0 = initial_accumulator_value)
    θ_t  = θ_{t-1} − lr_t · g / (√s_t + eps)

Defaults: lr=0.01, lr_decay=0, initial_accumulator_value=0, eps=1e-10.
Reference: Duchi, Hazan & Singer (2011), JMLR 12.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .base import NONNEG, POSITIVE

NAME = "adagrad"
SUMMARY = "Adagrad: s ← s + g²; θ ← θ − lr·g/(√s + eps)"
HYPER = {"lr": 0.01, "lr_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10}
BOUNDS = {"lr_decay": NONNEG, "initial_accumulator_value": NONNEG, "eps": POSITIVE}
STATE = ("sum",)


@njit(**JIT)
def init(s, initial_accumulator_value):
    for i in range(s.shape[1]):
        s[0, i] = initial_accumulator_value


@njit(**JIT)
def step(theta, g, s, lr, t, lr_decay, eps):
    clr = lr / (1.0 + (t - 1) * lr_decay)
    acc = s[0]
    for i in range(theta.shape[0]):
        acc[i] += g[i] * g[i]
        theta[i] -= clr * g[i] / (np.sqrt(acc[i]) + eps)


def reference(theta, g, s, lr, t, lr_decay, eps):
    clr = lr / (1.0 + (t - 1) * lr_decay)
    s[0] = s[0] + g * g
    theta -= clr * g / (np.sqrt(s[0]) + eps)
