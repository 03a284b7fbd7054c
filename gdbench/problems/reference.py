"""Estimated reference optima, for problems that do not give an exact f*.

- With a Hessian: damped Newton with a backtracking line search from the start, run until the
  gradient norm stops decreasing (machine precision for a smooth, locally convex problem);
  f* = f(x), x* = x. Labelled ``"estimated (Newton)"``.
- Without: an accelerated gradient method (Nesterov, backtracking on the Lipschitz constant,
  adaptive restart), run until the loss stops improving over 2 000 iterations or 50 000 in all;
  f* = the best loss found, x* unknown. Labelled ``"estimated (reference run)"``.

Either way the value is an upper bound on the true f* only to the precision these methods reach
(and, for a non-convex problem, the optimum of the basin the start lies in): gdbench marks it
*estimated* in every table, figure and ``meta.json``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np


class EstimatedOptimum(UserWarning):
    """A problem's f* was estimated, not computed exactly."""


_warned: set[tuple[str, float]] = set()

NEWTON = "estimated (Newton)"
REFERENCE_RUN = "estimated (reference run)"


def newton(p, max_iter: int = 100) -> np.ndarray | None:
    x = p.x0.copy()
    f = p.loss(x)
    best_gn, stall, f_prev = math.inf, 0, math.inf
    for _ in range(max_iter):
        g = p.grad(x)
        gn = float(np.linalg.norm(g))
        # stop once neither the gradient norm halves nor f decreases, three times running
        progress = gn < 0.5 * best_gn or f_prev - f > 1e-15 * abs(f)
        stall = 0 if progress else stall + 1
        f_prev = f
        best_gn = min(best_gn, gn)
        if gn == 0.0 or stall >= 3:
            break
        H = p.hess(x)
        try:
            step = np.linalg.solve(H + 1e-12 * max(1.0, float(np.abs(np.diag(H)).max())) * np.eye(p.dim), g)
        except np.linalg.LinAlgError:
            break
        if not np.isfinite(step).all() or g @ step <= 0:
            break  # not a descent direction (not locally convex here, or g at rounding level)
        a = 1.0
        while a > 1e-12:
            cand = x - a * step
            fc = p.loss(cand)
            if fc <= f + 1e-4 * a * (g @ -step) or abs(fc - f) <= 1e-15 * abs(f):
                break
            a *= 0.5
        x, f = cand, fc
    return x if best_gn <= 1e-8 * max(1.0, abs(f)) else None


def accelerated(p, max_iter: int = 50_000, patience: int = 2_000) -> tuple[float, np.ndarray]:
    x = p.x0.copy()
    yk = x.copy()
    f_best, x_best = p.loss(x), x.copy()
    L, tk, since = 1.0, 1.0, 0
    for _ in range(max_iter):
        fy = p.loss(yk)
        gy = p.grad(yk)
        while True:  # backtracking: sufficient decrease with step 1/L
            xn = yk - gy / L
            fx = p.loss(xn)
            if fx <= fy - 0.5 / L * float(gy @ gy) + 1e-15 * abs(fy) or L > 1e30:
                break
            L *= 2.0
        tn = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * tk * tk))
        if fx > f_best:  # adaptive restart (O'Donoghue & Candès)
            tn, yk = 1.0, x_best.copy()
        else:
            yk = xn + (tk - 1.0) / tn * (xn - x)
        x, tk = xn, tn
        L *= 0.9
        if fx < f_best - 1e-15 * max(1.0, abs(f_best)):
            f_best, x_best, since = fx, xn.copy(), 0
        else:
            since += 1
            if since >= patience:
                break
    return f_best, x_best


def estimate(p) -> None:
    """Fill ``p.f_star``/``p.x_star``/``p.f_star_source`` with an estimate, and warn once."""
    x = newton(p) if p.has_hessian else None
    if x is not None:
        p.f_star, p.x_star, p.f_star_source = float(p.loss(x)), x, NEWTON
    else:
        f, _ = accelerated(p)
        p.f_star, p.x_star, p.f_star_source = float(f), None, REFERENCE_RUN
    p.info["f_star_source"] = p.f_star_source
    if (p.name, p.f_star) not in _warned:  # once per problem instance and process
        _warned.add((p.name, p.f_star))
        warnings.warn(f"problem {p.name!r} gives no exact optimum: f* = {p.f_star:.17g} is {p.f_star_source}",
                      EstimatedOptimum, stacklevel=3)
