"""Huber regression: a robust linear-regression loss, written as a loss of the linear-model family.

Per sample, with the residual r = z − y of the margin z = xᵀw + b::

    ℓ(z, y)      = r²/2            if |r| ≤ δ,   δ·(|r| − δ/2)   otherwise
    ∂ℓ/∂z        = r               if |r| ≤ δ,   δ·sign(r)       otherwise
    ∂²ℓ/∂z²      = 1               if |r| ≤ δ,   0               otherwise

f(w, b) = (1/n)·Σ ℓ(zᵢ, yᵢ) + (λ/2)‖w‖². Parameters: delta=1.0 (δ); the family's l2 defaults to
1e-3 here (L2). There is no closed form: gdbench estimates f* by Newton's method with this
generalised Hessian and labels it "estimated". Reference: P. J. Huber (1964), "Robust Estimation
of a Location Parameter", Ann. Math. Statist. 35(1).
"""

from numba import njit

NAME = "huber"
SUMMARY = "Huber regression (robust to outliers): ℓ = r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond"
KIND = "linear"
TASK = "regression"
PARAMS = {"delta": 1.0}
L2 = 1e-3


@njit(cache=True)
def loss(z, y, delta):
    r = z - y
    a = abs(r)
    return 0.5 * r * r if a <= delta else delta * (a - 0.5 * delta)


@njit(cache=True)
def dloss(z, y, delta):
    r = z - y
    if r > delta:
        return delta
    if r < -delta:
        return -delta
    return r


@njit(cache=True)
def d2loss(z, y, delta):
    return 1.0 if abs(z - y) <= delta else 0.0
