"""Lion (EvoLved Sign Momentum): the update rule found by program search in Chen et al. (2023),
"Symbolic Discovery of Optimization Algorithms", NeurIPS, Algorithm 2.

Update (t counts from 1; m₀ = 0; the sign of 0 is 0)::

    c_t = β1 · m_{t-1} + (1 − β1) · g
    θ_t = θ_{t-1} − lr · (sign(c_t) + λ · θ_{t-1})
    m_t = β2 · m_{t-1} + (1 − β2) · g

Defaults: lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0 (λ). Every coordinate moves by exactly
lr (plus decay): the paper recommends a learning rate 3–10× smaller than AdamW's.
"""

import numpy as np
from numba import njit

NAME = "lion"
SUMMARY = "Lion: θ ← θ − lr·(sign(β1·m + (1−β1)·g) + λθ); m ← β2·m + (1−β2)·g"
HYPER = {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0}
BOUNDS = {"beta1": (0.0, 1.0, True, False), "beta2": (0.0, 1.0, True, False),
          "weight_decay": (0.0, float("inf"), True, False)}
STATE = ("exp_avg",)


@njit(cache=True)
def step(theta, g, s, lr, beta1, beta2, weight_decay):
    m = s[0]
    for i in range(theta.shape[0]):
        c = beta1 * m[i] + (1.0 - beta1) * g[i]
        theta[i] -= lr * (np.sign(c) + weight_decay * theta[i])
        m[i] = beta2 * m[i] + (1.0 - beta2) * g[i]


def reference(theta, g, s, lr, beta1, beta2, weight_decay):
    c = beta1 * s[0] + (1.0 - beta1) * g
    theta -= lr * (np.sign(c) + weight_decay * theta)
    s[0] = beta2 * s[0] + (1.0 - beta2) * g
