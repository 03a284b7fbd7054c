"""Adam (torch.optim.Adam semantics, amsgrad=False, weight_decay=0).

Update (t counts from 1)::

    m_t = β1 · m_{t-1} + (1 − β1) · g
    v_t = β2 · v_{t-1} + (1 − β2) · g²
    θ_t = θ_{t-1} − lr · (m_t / (1 − β1ᵗ)) / (√(v_t / (1 − β2ᵗ)) + eps)

computed as torch does: ``θ −= (lr/(1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)``.
Defaults: lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8.
Reference: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", ICLR.
β1ᵗ and β2ᵗ are kept as running products in the state (``beta1_power``, ``beta2_power``): one
multiply per step instead of a power; equal to ``β**t`` within t ulp.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .base import POSITIVE, UNIT

NAME = "adam"
SUMMARY = "Adam: bias-corrected first and second moment estimates"
HYPER = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
BOUNDS = {"beta1": UNIT, "beta2": UNIT, "eps": POSITIVE}
STATE = ("exp_avg", "exp_avg_sq", "beta1_power", "beta2_power")


@njit(**JIT)
def init(s):
    for i in range(s.shape[1]):  # β1ᵗ and β2ᵗ as running products (element 0 is used)
        s[2, i] = 1.0
        s[3, i] = 1.0


@njit(**JIT)
def step(theta, g, s, lr, beta1, beta2, eps):
    p1 = s[2, 0] * beta1  # β1ᵗ = β1·β1ᵗ⁻¹: a multiply instead of a pow per step (≤ t ulp from pow)
    p2 = s[3, 0] * beta2
    s[2, 0] = p1
    s[3, 0] = p2
    step_size = lr / (1.0 - p1)
    bc2_sqrt = np.sqrt(1.0 - p2)
    m = s[0]
    v = s[1]
    for i in range(theta.shape[0]):
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i]
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]
        theta[i] -= step_size * m[i] / (np.sqrt(v[i]) / bc2_sqrt + eps)


def reference(theta, g, s, lr, t, beta1, beta2, eps):
    s[0] = beta1 * s[0] + (1.0 - beta1) * g
    s[1] = beta2 * s[1] + (1.0 - beta2) * g * g
    m_hat = s[0] / (1.0 - beta1**t)
    v_hat = s[1] / (1.0 - beta2**t)
    theta -= lr * m_hat / (np.sqrt(v_hat) + eps)
