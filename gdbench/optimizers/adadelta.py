"""Adadelta (torch.optim.Adadelta semantics).

Update (v: running average of g², u: running average of squared updates)::

    v_t = ρ · v_{t-1} + (1 − ρ) · g²
    Δ_t = √(u_{t-1} + eps) / √(v_t + eps) · g
    u_t = ρ · u_{t-1} + (1 − ρ) · Δ_t²
    θ_t = θ_{t-1} − lr · Δ_t

Defaults: lr=1.0, rho=0.9, eps=1e-6.
Reference: Zeiler (2012), "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .base import POSITIVE, UNIT

NAME = "adadelta"
SUMMARY = "Adadelta: Δ = √(u+eps)/√(v+eps)·g; θ ← θ − lr·Δ"
HYPER = {"lr": 1.0, "rho": 0.9, "eps": 1e-6}
BOUNDS = {"rho": UNIT, "eps": POSITIVE}
STATE = ("square_avg", "acc_delta")


@njit(**JIT)
def step(theta, g, s, lr, rho, eps):
    v = s[0]
    u = s[1]
    for i in range(theta.shape[0]):
        v[i] = rho * v[i] + (1.0 - rho) * g[i] * g[i]
        d = np.sqrt(u[i] + eps) / np.sqrt(v[i] + eps) * g[i]
        u[i] = rho * u[i] + (1.0 - rho) * d * d
        theta[i] -= lr * d


def reference(theta, g, s, lr, rho, eps):
    s[0] = rho * s[0] + (1.0 - rho) * g * g
    d = np.sqrt(s[1] + eps) / np.sqrt(s[0] + eps) * g
    s[1] = rho * s[1] + (1.0 - rho) * d * d
    theta -= lr * d
