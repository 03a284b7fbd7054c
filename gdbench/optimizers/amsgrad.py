"""AMSGrad (torch.optim.Adam with amsgrad=True).

Update (t counts from 1)::

    m_t = β1 · m_{t-1} + (1 − β1) · g
    v_t = β2 · v_{t-1} + (1 − β2) · g²
    v̂_t = max(v̂_{t-1}, v_t)
    θ_t = θ_{t-1} − lr · (m_t / (1 − β1ᵗ)) / (√(v̂_t / (1 − β2ᵗ)) + eps)

Defaults: lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8.
Reference: Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond", ICLR.
β1ᵗ and β2ᵗ are kept as running products in the state (``beta1_power``, ``beta2_power``): one
multiply per step instead of a power; equal to ``β**t`` within t ulp.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .base import POSITIVE, UNIT

NAME = "amsgrad"
SUMMARY = "AMSGrad: Adam with the running maximum of v in the denominator"
HYPER = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
BOUNDS = {"beta1": UNIT, "beta2": UNIT, "eps": POSITIVE}
STATE = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "beta1_power", "beta2_power")


@njit(**JIT)
def init(s):
    for i in range(s.shape[1]):  # β1ᵗ and β2ᵗ as running products (element 0 is used)
        s[3, i] = 1.0
        s[4, i] = 1.0


@njit(**JIT)
def step(theta, g, s, lr, beta1, beta2, eps):
    p1 = s[3, 0] * beta1  # β1ᵗ = β1·β1ᵗ⁻¹: a multiply instead of a pow per step (≤ t ulp from pow)
    p2 = s[4, 0] * beta2
    s[3, 0] = p1
    s[4, 0] = p2
    step_size = lr / (1.0 - p1)
    bc2_sqrt = np.sqrt(1.0 - p2)
    m = s[0]
    v = s[1]
    vmax = s[2]
    for i in range(theta.shape[0]):
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i]
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]
        if v[i] > vmax[i]:
            vmax[i] = v[i]
        theta[i] -= step_size * m[i] / (np.sqrt(vmax[i]) / bc2_sqrt + eps)


def reference(theta, g, s, lr, t, beta1, beta2, eps):
    s[0] = beta1 * s[0] + (1.0 - beta1) * g
    s[1] = beta2 * s[1] + (1.0 - beta2) * g * g
    s[2] = np.maximum(s[2], s[1])
    theta -= lr * (s[0] / (1.0 - beta1**t)) / (np.sqrt(s[2] / (1.0 - beta2**t)) + eps)
