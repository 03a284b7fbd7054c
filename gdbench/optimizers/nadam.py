"""NAdam: Adam with Nesterov momentum (torch.optim.NAdam semantics, decoupled_weight_decay=False).

Update (t counts from 1; Π_t is the running product of the μ's, Π_0 = 1)::

    μ_t     = β1 · (1 − ½ · 0.96^(t · momentum_decay))
    μ_{t+1} = β1 · (1 − ½ · 0.96^((t+1) · momentum_decay))
    Π_t     = Π_{t-1} · μ_t
    m_t = β1 · m_{t-1} + (1 − β1) · g
    v_t = β2 · v_{t-1} + (1 − β2) · g²
    d   = √(v_t / (1 − β2ᵗ)) + eps
    θ_t = θ_{t-1} − lr · (1 − μ_t) / (1 − Π_t) · g / d
                  − lr · μ_{t+1} / (1 − Π_t · μ_{t+1}) · m_t / d

Defaults: lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3.
The scalar Π is kept in element 0 of the ``mu_product`` state row.
Reference: Dozat (2016), "Incorporating Nesterov Momentum into Adam", ICLR workshop.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .base import NONNEG, POSITIVE, UNIT

NAME = "nadam"
SUMMARY = "NAdam: Adam with a Nesterov look-ahead on the first moment"
HYPER = {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 4e-3}
BOUNDS = {"beta1": UNIT, "beta2": UNIT, "eps": POSITIVE, "momentum_decay": NONNEG}
STATE = ("exp_avg", "exp_avg_sq", "mu_product")


@njit(**JIT)
def init(s):
    for i in range(s.shape[1]):
        s[2, i] = 1.0


@njit(**JIT)
def step(theta, g, s, lr, t, beta1, beta2, eps, momentum_decay):
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    mu_prod = s[2, 0] * mu
    s[2, 0] = mu_prod
    bc2 = 1.0 - beta2**t
    c_g = lr * (1.0 - mu) / (1.0 - mu_prod)
    c_m = lr * mu_next / (1.0 - mu_prod * mu_next)
    m = s[0]
    v = s[1]
    for i in range(theta.shape[0]):
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i]
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]
        d = np.sqrt(v[i] / bc2) + eps
        theta[i] -= c_g * g[i] / d
        theta[i] -= c_m * m[i] / d


def reference(theta, g, s, lr, t, beta1, beta2, eps, momentum_decay):
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    s[2, 0] *= mu
    prod = s[2, 0]
    s[0] = beta1 * s[0] + (1.0 - beta1) * g
    s[1] = beta2 * s[1] + (1.0 - beta2) * g * g
    d = np.sqrt(s[1] / (1.0 - beta2**t)) + eps
    theta -= lr * (1.0 - mu) / (1.0 - prod) * g / d
    theta -= lr * mu_next / (1.0 - prod * mu_next) * s[0] / d
