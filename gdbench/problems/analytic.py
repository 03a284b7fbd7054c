"""Building an analytic problem written in the short form (``loss_grad(theta, g, <params>)``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Problem, ProblemDef, shapes_only_now


def _value(v: Any, params: dict[str, float]) -> Any:
    return v(**params) if callable(v) else v


def build_short(defn: ProblemDef, *, x0: Any = None, **given: Any) -> Problem:
    """Parameters (defaults overlaid with ``given``, finite numbers), the start ``X0`` (or ``x0``),
    and ``F_STAR``/``X_STAR`` when the module knows them; otherwise f* is estimated."""
    name, mod = defn.name, defn.module
    params: dict[str, float] = {}
    for k in defn.loss_params:
        v = given.get(k, defn.params[k])
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"problem {name!r}: {k} must be a finite number, got {v!r}")
        params[k] = float(v)
    start = np.array(_value(mod.X0, params) if x0 is None else x0, dtype=np.float64).reshape(-1)
    if start.size == 0 or not np.isfinite(start).all():
        raise ValueError(f"problem {name!r}: the start must be finite numbers, got {start!r}")
    prm = np.array(list(params.values()) or [0.0], dtype=np.float64)
    p = Problem(name, mod, np.empty((0, 0)), np.empty(0), prm, start, math.nan, None,
                {"d": int(start.size), **params})
    f_star = getattr(mod, "F_STAR", None)
    if f_star is not None:
        p.f_star = float(_value(f_star, params))
        xs = getattr(mod, "X_STAR", None)
        if xs is not None:
            p.x_star = np.array(_value(xs, params), dtype=np.float64).reshape(-1)
            if p.x_star.shape != start.shape:
                raise ValueError(f"problem {name!r}: X_STAR has {p.x_star.size} coordinates, the start {start.size}")
    elif shapes_only_now():  # planning only: no estimate
        p.f_star = 0.0
    else:
        from .reference import estimate

        estimate(p)
    return p
