"""Six-hump camel: two global and four local minima.

    f(x, y) = (4 − 2.1·x² + x⁴/3)·x² + x·y + (4·y² − 4)·y²

f is even (f(−x, −y) = f(x, y)), so its minima come in pairs. Polished by Newton's method to
machine precision:

    global  ±( 0.08984201310031807, −0.7126564030207396)   f* = −1.0316284534898774
    local   ±(−1.703606714969981,    0.7960835686726251)   f  = −0.21546382438371703
    local   ±( 1.607104752920197,    0.5686514548841314)   f  =  2.1042503103112584

Other stationary points: maxima at ±(1.2302, 0.1623), saddles at the origin and at ±(1.6381,
0.2287), ±(1.2961, 0.6051), ±(1.1092, −0.7683). The often quoted (0.08984201368301331,
−0.7126564032704135) is the global minimiser to ~6e-10 only: the gradient vanishes at the point
above (checked with 50-digit arithmetic).

x* is not unique (two global minimisers), so it is ``None``; ``minima()`` lists the six and
``problem.info["minima"]`` holds them for the harness. Default start x₀ = (−1.5, 1): in the
basin of the local minimum at (−1.70, 0.80). The usual box is [−3, 3] × [−2, 2].
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from .._config import JIT
from ._minima import Minima, polish
from .base import Problem, x0_or_default

NAME = "six_hump_camel"
SUMMARY = "six-hump camel: two global minima (f* = −1.0316) and four local ones"
KIND = "analytic"
HAS_HESSIAN = True
PARAMS: dict = {}

#: approximate locations of one of each pair, polished at build time (the other is its negative)
_APPROX = ((0.0898420, -0.7126564), (-1.7036067, 0.7960836), (1.6071048, 0.5686515))


@njit(**JIT)
def loss_grad(theta, X, y, prm, idx, i0, nb, g):
    a = theta[0]
    b = theta[1]
    a2 = a * a
    b2 = b * b
    g[0] = 8.0 * a - 8.4 * a2 * a + 2.0 * a2 * a2 * a + b
    g[1] = a - 8.0 * b + 16.0 * b2 * b
    return (4.0 - 2.1 * a2 + a2 * a2 / 3.0) * a2 + a * b + (4.0 * b2 - 4.0) * b2


@njit(**JIT)
def hess(theta, X, y, prm, idx, i0, nb, H):
    a = theta[0]
    b = theta[1]
    a2 = a * a
    H[0, 0] = 8.0 - 25.2 * a2 + 10.0 * a2 * a2
    H[0, 1] = 1.0
    H[1, 0] = 1.0
    H[1, 1] = -8.0 + 48.0 * b * b


_E2, _E1, _I = np.empty((0, 0)), np.empty(0), np.zeros(0, np.int64)


def _grad_hess(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g, H = np.empty(2), np.empty((2, 2))
    loss_grad(v, _E2, _E1, _E1, _I, 0, -1, g)
    hess(v, _E2, _E1, _E1, _I, 0, -1, H)
    return g, H


def build(*, x0=None) -> Problem:
    pts = []
    for a in _APPROX:
        p = polish(_grad_hess, a)
        pts += [p, -p]
    g = np.empty(2)
    vals = [float(loss_grad(p, _E2, _E1, _E1, _I, 0, -1, g)) for p in pts]
    f_star = min(vals)
    start = np.array([-1.5, 1.0]) if x0 is None else x0_or_default(NAME, x0, 2)
    info = {"minima": Minima(f_star=f_star, points=pts, values=vals), "box": ([-3.0, -2.0], [3.0, 2.0])}
    return Problem(NAME, sys.modules[__name__], _E2, _E1, np.zeros(1), start, f_star, None, info)


def minima(**params) -> list[tuple[np.ndarray, float, str]]:
    """The six minima of ``build(**params)`` as (x, f, kind), the two global ones first."""
    return build(**params).info["minima"].listed()
