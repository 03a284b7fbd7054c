"""The Problem record and what a problem module provides.

A problem module has ``NAME``, ``SUMMARY``, ``KIND`` (``"data"`` or ``"analytic"``),
``HAS_HESSIAN``, ``PARAMS`` (``{name: default}`` accepted by ``build``) and:

- ``loss_grad(theta, X, y, prm, idx, i0, nb, g) -> f``: ``@njit``; loss and gradient over the
  rows ``idx[i0:i0+nb]`` (``nb < 0``: all rows, in order), gradient written into ``g``;
- ``hess(theta, X, y, prm, idx, i0, nb, H)``: ``@njit`` Hessian over the same rows (where
  ``HAS_HESSIAN``);
- ``build(**params) -> Problem``: data (generated from a seed or given), x0, and the exact
  reference optimum.

Analytic problems ignore ``idx``/``i0``/``nb``; ``X``/``y`` then carry the problem's matrices
(e.g. A and b of the quadratic) or are empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

_EMPTY_IDX = np.zeros(0, dtype=np.int64)


@dataclass(eq=False)
class Problem:
    """One concrete instance: data, start point and reference optimum.

    For data problems ``theta = [w_1..w_d, b]`` and ``n`` is the number of rows.
    ``f_star`` is exact (closed form, Newton to machine precision, or an exact solver);
    ``x_star`` is ``None`` where the minimiser is not unique.
    """

    name: str
    module: ModuleType
    X: np.ndarray
    y: np.ndarray
    prm: np.ndarray
    x0: np.ndarray
    f_star: float
    x_star: np.ndarray | None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.module.KIND

    @property
    def dim(self) -> int:
        return int(self.x0.shape[0])

    @property
    def n(self) -> int:
        """Rows of data (0 for analytic problems)."""
        return int(self.X.shape[0]) if self.kind == "data" else 0

    @property
    def has_hessian(self) -> bool:
        return bool(self.module.HAS_HESSIAN)

    def _theta(self, theta: Any) -> np.ndarray:
        t = np.ascontiguousarray(theta, dtype=np.float64)
        if t.shape != (self.dim,):
            raise ValueError(f"problem {self.name!r}: theta must have shape ({self.dim},), got {t.shape}")
        return t

    def loss(self, theta: Any) -> float:
        """f(θ) over all rows."""
        g = np.empty(self.dim)
        return float(self.module.loss_grad(self._theta(theta), self.X, self.y, self.prm, _EMPTY_IDX, 0, -1, g))

    def grad(self, theta: Any) -> np.ndarray:
        """∇f(θ) over all rows."""
        g = np.empty(self.dim)
        self.module.loss_grad(self._theta(theta), self.X, self.y, self.prm, _EMPTY_IDX, 0, -1, g)
        return g

    def hess(self, theta: Any) -> np.ndarray:
        """∇²f(θ) over all rows (ValueError where the problem has none)."""
        if not self.has_hessian:
            raise ValueError(f"problem {self.name!r} has no Hessian")
        H = np.empty((self.dim, self.dim))
        self.module.hess(self._theta(theta), self.X, self.y, self.prm, _EMPTY_IDX, 0, -1, H)
        return H

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.info.items() if np.isscalar(v))
        return f"Problem({self.name}, dim={self.dim}, n={self.n}, f*={self.f_star:.6g}{', ' if extra else ''}{extra})"


def check_data(name: str, X: Any, y: Any, *, labels_pm1: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate and copy (X, y) into C-contiguous float64; ValueError names what is wrong."""
    try:
        X = np.array(X, dtype=np.float64, order="C", copy=True)
        y = np.array(y, dtype=np.float64, copy=True).reshape(-1)
    except (TypeError, ValueError) as e:
        raise ValueError(f"problem {name!r}: X and y must be numeric arrays ({e})") from None
    if X.ndim != 2:
        raise ValueError(f"problem {name!r}: X must be 2-D (n, d), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"problem {name!r}: X must be non-empty, got shape {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"problem {name!r}: y has {y.shape[0]} rows but X has {X.shape[0]}; they must match")
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"problem {name!r}: X contains NaN/Inf (first at row {bad[0]}, column {bad[1]})")
    if not np.isfinite(y).all():
        raise ValueError(f"problem {name!r}: y contains NaN/Inf (first at row {int(np.argmax(~np.isfinite(y)))})")
    if labels_pm1:
        bad = ~np.isin(y, (-1.0, 1.0))
        if bad.any():
            raise ValueError(
                f"problem {name!r}: labels must be -1 or +1, got {float(y[bad][0])!r} at row {int(np.argmax(bad))}"
            )
    return X, y


#: parameters that are arrays of numbers (data, start point, spectrum, linear term)
ARRAY_PARAMS = ("X", "y", "x0", "eigenvalues", "b")


def check_param_types(name: str, defaults: dict[str, Any], params: dict[str, Any]) -> None:
    """ValueError (one line) for a parameter whose type does not match its default in the
    module's ``PARAMS``: an int default takes an integer, a float default a finite real number,
    a bool default a boolean, a str default a string (bools are never numbers here). Array
    parameters (``ARRAY_PARAMS``) must convert to float64 arrays."""
    for k, v in params.items():
        if k in ARRAY_PARAMS and v is not None:
            try:
                np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError, OverflowError) as e:
                raise ValueError(f"problem {name!r}: {k} must be an array of numbers ({e})") from None
        if k not in defaults:
            continue
        dv = defaults[k]
        is_bool = isinstance(v, (bool, np.bool_))
        if isinstance(dv, bool):
            ok, want = is_bool, "true or false"
        elif isinstance(dv, int):
            ok, want = isinstance(v, (int, np.integer)) and not is_bool, "an integer"
        elif isinstance(dv, float):
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not is_bool and math.isfinite(v)
            want = "a finite number"
        elif isinstance(dv, str):
            ok, want = isinstance(v, str), "a string"
        else:
            continue
        if not ok:
            raise ValueError(f"problem {name!r}: {k} must be {want}, got {v!r}")


def check_optimum(p: Problem) -> Problem:
    """``p`` when its reference optimum is a number (finite, or −∞ for an unbounded problem); a
    NaN (e.g. an L2 weight so small that 1/λ overflows in an exact solver) is a ValueError."""
    if np.isnan(p.f_star) or np.isposinf(p.f_star):
        params = ", ".join(f"{k}={v!r}" for k, v in p.info.items() if np.isscalar(v) and not isinstance(v, str))
        raise ValueError(f"problem {p.name!r}: the exact optimum could not be computed (f* = {p.f_star}) with "
                         f"{params}; try less extreme parameters")
    return p


def check_nonneg(name: str, field_: str, v: float) -> float:
    v = float(v)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"problem {name!r}: {field_} must be a finite number >= 0, got {v!r}")
    return v


def x0_or_default(name: str, x0: Any, dim: int) -> np.ndarray:
    if x0 is None:
        return np.zeros(dim)
    try:
        x = np.array(x0, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"problem {name!r}: x0 must be {dim} finite numbers, got {x0!r}") from None
    if x.shape != (dim,) or not np.isfinite(x).all():
        raise ValueError(f"problem {name!r}: x0 must be {dim} finite numbers, got shape {x.shape}")
    return x


def data_problem_dim(X: np.ndarray) -> int:
    return int(X.shape[1]) + 1
