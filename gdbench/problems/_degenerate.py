"""Exact optima on degenerate data: rank-deficient designs and infima that are not attained.

The linear models' losses depend on θ only through A·θ (A = [X, 1], plus the L2 term on w).
When A has rank r < D = d + 1 (collinear features, a duplicated or constant column, fewer rows
than columns) and there is no L2 term, the minimum value f* is still unique but the minimisers
form a set, ``x_mn + null(A)``, with ``x_mn`` the minimum-norm minimiser (in the row space of
A). Its distance from θ is ``‖Vᵣᵀ(θ − x_mn)‖``, Vᵣ (D×r) an orthonormal basis of the row space
(:func:`distance_to_set`); ``Problem.x_star`` is then None (the driver's distance-to-optimum is
NaN) and ``Problem.info`` carries ``x_min_norm``, ``x_star_row_basis`` and, in words,
``x_star_note``.

A logistic loss without L2 on separable data (or on one class) has infimum 0 and no minimiser:
``f_star = 0``, ``x_star`` None, ``f_star_note`` says why, and a warning is shown once per
process and reason.

Ranks come from a singular value decomposition with numpy's ``matrix_rank`` tolerance
(σᵢ > max(n, D)·ε·σ₁).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the normal equations are solved directly only below this condition number (else via the SVD)
NORMAL_EQ_MAX_COND = 1e10


class DegenerateProblemWarning(UserWarning):
    """The problem's optimum is not what the usual metrics assume (an infimum not attained)."""


_warned: set[str] = set()


@dataclass
class Optimum:
    """A solver's answer: ``point`` attains f* (the minimum-norm one where minimisers are not
    unique; None where f* is an infimum no point attains), ``f_star`` the infimum where no point
    attains it (else None: f(point)), ``info`` what goes into ``Problem.info``."""

    point: np.ndarray | None
    unique: bool = True
    f_star: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


def apply(p: Any, opt: Optimum) -> Any:
    """Set ``p.x_star``, ``p.f_star`` and ``p.info`` from ``opt``; return ``p``."""
    p.x_star = opt.point if opt.unique else None
    p.f_star = float(p.loss(opt.point)) if opt.point is not None and opt.f_star is None else float(opt.f_star)
    p.info.update(opt.info)
    return p


def design(X: np.ndarray) -> np.ndarray:
    """A = [X, 1]."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def row_space(A: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(rank r, Vᵣ (D×r) orthonormal basis of A's row space, Uᵣ, σ₁..σᵣ) by SVD."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    tol = (s[0] if s.size else 0.0) * max(A.shape) * np.finfo(np.float64).eps
    r = int(np.sum(s > tol))
    return r, Vt[:r].T.copy(), U[:, :r], s[:r]


def well_conditioned(M: np.ndarray, max_cond: float = NORMAL_EQ_MAX_COND) -> bool:
    """Whether the symmetric positive semi-definite M can be solved directly."""
    ev = np.linalg.eigvalsh(M)
    return bool(ev[0] > 0 and ev[-1] / ev[0] < max_cond and np.isfinite(ev).all())


def least_squares(A: np.ndarray, b: np.ndarray, dim: int) -> Optimum:
    """Minimum-norm solution of min ‖Aθ − b‖ by SVD; non-unique (a set) when rank < ``dim``."""
    r, Vr, Ur, s = row_space(A)
    x = Vr @ ((Ur.T @ b) / s)
    if r == dim:
        return Optimum(x)
    return Optimum(x, unique=False, info=set_info(x, Vr, dim))


def set_info(x_mn: np.ndarray, Vr: np.ndarray, dim: int) -> dict[str, Any]:
    r = Vr.shape[1]
    return {
        "x_star_note": (f"not unique: the design [X, 1] has rank {r} < {dim}, so the minimisers are the minimum-norm "
                        f"one plus a {dim - r}-dimensional null space; dist_to_opt is left NaN (distance to that set: "
                        "gdbench.problems._degenerate.distance_to_set)"),
        "x_star_rank": r,
        "x_min_norm": x_mn,
        "x_star_row_basis": Vr,
    }


def distance_to_set(theta: Any, x_mn: np.ndarray, row_basis: np.ndarray) -> float:
    """Distance from θ to the minimiser set ``x_mn + null(A)``: ‖Vᵣᵀ(θ − x_mn)‖."""
    return float(np.linalg.norm(row_basis.T @ (np.asarray(theta, dtype=np.float64) - x_mn)))


def _caller_level() -> int:
    """``stacklevel`` of the first frame outside gdbench (the user's call)."""
    import sys
    from pathlib import Path

    pkg = str(Path(__file__).resolve().parents[1])
    f, level = sys._getframe(1), 1
    while f is not None and str(Path(f.f_code.co_filename).resolve()).startswith(pkg):
        f, level = f.f_back, level + 1
    return level


def not_attained(problem: str, f_inf: float, reason: str) -> Optimum:
    """An infimum that no point attains: f* = ``f_inf``, no x*; warn once per process and reason."""
    note = f"f* = {f_inf:g} is an infimum that no finite θ attains ({reason}); x* does not exist"
    key = f"{problem}: {reason}"
    if key not in _warned:
        _warned.add(key)
        warnings.warn(f"problem {problem!r}: {note}; distance to optimum is NaN and runs approach f* only as "
                      "‖θ‖ → ∞", DegenerateProblemWarning, stacklevel=_caller_level())
    return Optimum(None, unique=False, f_star=f_inf, info={"f_star_note": note, "x_star_note": "does not exist"})


__all__ = ["DegenerateProblemWarning", "Optimum", "apply", "design", "distance_to_set", "least_squares",
           "not_attained", "row_space", "well_conditioned"]
