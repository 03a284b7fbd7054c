"""Cross-cutting step transforms: learning-rate schedules and gradient clipping.

Schedules (t counts from 1; ``lr`` is the base rate; codes in ``SCHEDULES``):

- ``constant``:      lr_t = lr
- ``step``:          lr_t = lr · γ^⌊(t−1)/step_size⌋                (p1 = step_size, p2 = γ)
- ``exponential``:   lr_t = lr · γ^(t−1)                            (p2 = γ)
- ``inverse_time``:  lr_t = lr / (1 + decay·(t−1))                   (p1 = decay)
- ``cosine``:        lr_t = η_min + (lr − η_min)·(1 + cos(π·min(t−1, T)/T))/2   (p1 = T, p2 = η_min)

Clipping (codes in ``CLIPS``): ``value`` clamps every coordinate to [−c, c]; ``norm`` rescales
g to global norm c when ‖g‖ > c (torch's ``clip_grad_norm_`` without its 1e-6).
"""

import numpy as np
from numba import njit

from .._config import JIT

SCHEDULES = {"constant": 0, "step": 1, "exponential": 2, "inverse_time": 3, "cosine": 4}
CLIPS = {"none": 0, "value": 1, "norm": 2}


@njit(**JIT)
def scheduled_lr(lr, kind, p1, p2, t):
    if kind == 0:
        return lr
    if kind == 1:
        return lr * p2 ** ((t - 1) // int(p1))
    if kind == 2:
        return lr * p2 ** (t - 1)
    if kind == 3:
        return lr / (1.0 + p1 * (t - 1))
    tt = min(t - 1, p1)
    return p2 + (lr - p2) * 0.5 * (1.0 + np.cos(np.pi * tt / p1))


@njit(**JIT)
def clip_grad(g, kind, c):
    if kind == 1:
        for i in range(g.shape[0]):
            if g[i] > c:
                g[i] = c
            elif g[i] < -c:
                g[i] = -c
    elif kind == 2:
        s = 0.0
        for i in range(g.shape[0]):
            s += g[i] * g[i]
        nrm = np.sqrt(s)
        if nrm > c:
            f = c / nrm
            for i in range(g.shape[0]):
                g[i] *= f
