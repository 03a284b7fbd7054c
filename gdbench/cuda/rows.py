"""Per-row terms of the data problems, for the block-parallel GPU gradient.

A data problem's loss over rows R is ``(1/m)·Σ_{i∈R} ℓ(zᵢ, yᵢ) + (λ/2)‖w‖²`` with
``zᵢ = b + Σⱼ Xᵢⱼ·wⱼ`` and a gradient ``(gscale/m)·Σ cᵢ·[xᵢ, 1] + λ·[w, 0]``. Each function below
returns ``(ℓ, c)`` for one row, written with the same operations as the problem's CPU
``loss_grad`` (:mod:`gdbench.problems`), which the tests compare it with. ``ROW_TERMS`` maps a
problem name to ``(row function, gscale)``.
"""

from __future__ import annotations

from ..problems.logistic import _sigmoid_neg, _softplus


def linreg_row(z, yi):
    r = z - yi
    return r * r, r


def logistic_row(z, yi):
    mg = yi * z
    return _softplus(-mg), -yi * _sigmoid_neg(mg)


def hinge_row(z, yi):
    h = 1.0 - yi * z
    if h > 0.0:
        return h, -yi
    return 0.0, 0.0


ROW_TERMS = {"linreg": (linreg_row, 2.0), "logistic": (logistic_row, 1.0), "hinge": (hinge_row, 1.0)}
