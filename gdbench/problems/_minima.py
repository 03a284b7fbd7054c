"""Every local minimum of a multimodal problem, and which one a point is nearest to.

A multimodal problem module stores a :class:`Minima` in ``problem.info["minima"]`` (and offers
``minima(**params) -> list[(x, f, kind)]``), so that the harness can say in which minimum's
basin a run ended (:mod:`gdbench.harness.basins`). Two forms:

- an explicit list of points (Himmelblau, six-hump camel);
- for separable problems f(x) = c + Σᵢ fᵢ(xᵢ), the Cartesian product of the per-coordinate
  minima (double well, Styblinski–Tang, Rastrigin): 2ᵈ or 11ᵈ minima are never enumerated, the
  nearest one is found coordinate by coordinate (the Euclidean nearest point of a product set is
  the product of the per-coordinate nearest points).

Each minimum has a location, its value f, a kind (``"global"``: value = f*, else ``"local"``),
a short label (its rounded location, e.g. ``"(3, 2)"``) and a *radius*: a quarter of the distance
to the nearest other minimum (∞ when there is only one). A point within that radius of a minimum
is at least three times closer to it than to any other minimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np

#: relative tolerance on values for "this minimum is a global one" (f ≤ f* + tol·(1 + |f*|))
GLOBAL_RTOL = 1e-12


def polish(grad_hess: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], x: Sequence[float],
           iters: int = 60) -> np.ndarray:
    """Newton's method on ∇f = 0 from ``x`` to machine precision (stops when a step no longer
    shrinks the gradient); ValueError if it does not end at a point with a tiny gradient."""
    x = np.array(x, dtype=np.float64)
    g, H = grad_hess(x)
    for _ in range(iters):
        step = np.linalg.solve(H, g)
        x_new = x - step
        g_new, H_new = grad_hess(x_new)
        if not np.linalg.norm(g_new) < np.linalg.norm(g):
            break
        x, g, H = x_new, g_new, H_new
        if not np.any(step):
            break
    if not np.linalg.norm(g) <= 1e-9 * (1.0 + np.abs(H).max() * (1.0 + np.abs(x).max())):
        raise ValueError(f"Newton's method did not reach a stationary point from {x!r}")
    return x


def _label(x: Sequence[float]) -> str:
    return "(" + ", ".join(_num(v) for v in x) + ")"


def _num(v: float) -> str:
    r = round(float(v), 2)
    return str(int(r)) if r == int(r) else f"{r:.2f}".replace("-", "−")


@dataclass(frozen=True)
class Factor:
    """The minima of one coordinate's term fᵢ(xᵢ) of a separable problem, sorted by position."""

    xs: tuple[float, ...]
    fs: tuple[float, ...]
    names: tuple[str, ...]

    @property
    def best(self) -> int:
        return int(np.argmin(self.fs))


class Minima:
    """Every local minimum of one problem instance (see the module docstring)."""

    def __init__(self, *, f_star: float, points: Sequence[Sequence[float]] | None = None,
                 values: Sequence[float] | None = None, factors: Sequence[Factor] | None = None,
                 offset: float = 0.0) -> None:
        if (points is None) == (factors is None):
            raise ValueError("give either points and values, or factors")
        self.f_star = float(f_star)
        self.offset = float(offset)
        if points is not None:
            self.points = np.array(points, dtype=np.float64)
            self.values = np.array(values, dtype=np.float64)
            self.factors: tuple[Factor, ...] | None = None
            self.dim = int(self.points.shape[1])
            d = np.linalg.norm(self.points[:, None, :] - self.points[None, :, :], axis=2)
            np.fill_diagonal(d, np.inf)
            self._radius = 0.25 * d.min(axis=1)
        else:
            self.factors = tuple(factors)
            self.dim = len(self.factors)
            # per coordinate and 1-D minimum: the gap to its neighbouring 1-D minima
            self._gaps = []
            for fac in self.factors:
                xs = np.array(fac.xs)
                gap = np.full(xs.size, np.inf)
                if xs.size > 1:
                    dx = np.diff(xs)
                    gap[:-1] = dx
                    gap[1:] = np.minimum(gap[1:], dx)
                self._gaps.append(gap)

    # --- size and listing ----------------------------------------------------------------------
    def __len__(self) -> int:
        if self.factors is None:
            return int(self.points.shape[0])
        return math.prod(len(f.xs) for f in self.factors)

    def _kind(self, f: float) -> str:
        return "global" if f <= self.f_star + GLOBAL_RTOL * (1.0 + abs(self.f_star)) else "local"

    def listed(self, limit: int = 4096, box: tuple[Sequence[float], Sequence[float]] | None = None,
               ) -> list[tuple[np.ndarray, float, str]]:
        """Every minimum (inside ``box`` = (low, high) when given) as ``(x, f, kind)``, by value
        (global ones first); ValueError when there are more than ``limit``."""
        lo = np.full(self.dim, -np.inf) if box is None else np.asarray(box[0], dtype=np.float64)
        hi = np.full(self.dim, np.inf) if box is None else np.asarray(box[1], dtype=np.float64)
        if self.factors is None:
            inside = np.all((self.points >= lo) & (self.points <= hi), axis=1)
            out = [(self.points[i].copy(), float(self.values[i])) for i in np.flatnonzero(inside)]
        else:
            keep = [[j for j, x in enumerate(f.xs) if lo[i] <= x <= hi[i]] for i, f in enumerate(self.factors)]
            if math.prod(len(k) for k in keep) > limit:
                raise ValueError(f"{math.prod(len(k) for k in keep)} minima; more than {limit} to list")
            out = []
            for combo in product(*keep):
                fsum = self.offset
                for f, j in zip(self.factors, combo):  # the kernels' order: coordinate by coordinate
                    fsum += f.fs[j]
                out.append((np.array([f.xs[j] for f, j in zip(self.factors, combo)]), fsum))
        if len(out) > limit:
            raise ValueError(f"{len(out)} minima; more than {limit} to list")
        out.sort(key=lambda t: (t[1], tuple(t[0])))
        return [(x, f, self._kind(f)) for x, f in out]

    def n_global(self) -> int:
        if self.factors is None:
            return sum(self._kind(f) == "global" for f in self.values)
        return math.prod(sum(1 for v in f.fs if v == min(f.fs)) for f in self.factors)

    # --- nearest minimum ------------------------------------------------------------------------
    def nearest(self, X: np.ndarray) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray]:
        """For each row of ``X`` (K, D): the nearest minimum's label, kind, value, the distance
        to it and its radius. Rows with NaN/Inf get label ``""`` and distance NaN."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        K = X.shape[0]
        ok = np.isfinite(X).all(axis=1)
        labels, kinds = [""] * K, [""] * K
        val, dist, rad = np.full(K, np.nan), np.full(K, np.nan), np.full(K, np.nan)
        if self.factors is None:
            d = np.linalg.norm(X[:, None, :] - self.points[None, :, :], axis=2)
            j = np.argmin(np.where(np.isfinite(d), d, np.inf), axis=1)
            for k in np.flatnonzero(ok):
                labels[k] = _label(self.points[j[k]])
                val[k] = self.values[j[k]]
                kinds[k] = self._kind(val[k])
                dist[k] = d[k, j[k]]
                rad[k] = self._radius[j[k]]
            return labels, kinds, val, dist, rad
        idx = np.empty((K, self.dim), dtype=np.int64)
        sq = np.zeros(K)
        r = np.full(K, np.inf)
        fsum = np.full(K, self.offset)
        for i, fac in enumerate(self.factors):
            xs = np.array(fac.xs)
            col = np.where(ok, X[:, i], 0.0)
            j = np.argmin(np.abs(col[:, None] - xs[None, :]), axis=1)
            idx[:, i] = j
            sq += (col - xs[j]) ** 2
            r = np.minimum(r, 0.25 * self._gaps[i][j])
            fsum += np.array(fac.fs)[j]
        for k in np.flatnonzero(ok):
            labels[k] = "(" + ", ".join(fac.names[idx[k, i]] for i, fac in enumerate(self.factors)) + ")"
            val[k] = fsum[k]
            kinds[k] = "global" if all(idx[k, i] == fac.best for i, fac in enumerate(self.factors)) else "local"
            dist[k] = math.sqrt(sq[k])
            rad[k] = r[k]
        return labels, kinds, val, dist, rad

    def __repr__(self) -> str:
        return f"Minima({len(self)} minima, {self.n_global()} global, f*={self.f_star:.10g})"


def minima_table(m: Minima, limit: int = 64) -> str:
    """Plain-text list of the minima (for docstrings and ``gdbench list``)."""
    return "\n".join(f"{k:6s} f = {f:+.16g} at {_label(x)}" for x, f, k in m.listed(limit))
