"""Building a problem of the linear-model family from a loss definition (built-in or plugin).

The data come from :func:`gdbench.problems.datasets.resolve_data` (given arrays, a seeded
generator for the loss's ``TASK``, a tutorial data set, scikit-learn's bundled sets or a file);
the reference optimum from the loss's own ``optimum`` when it has one (exact), otherwise it is
estimated (:mod:`gdbench.problems.reference`) and labelled so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Problem, ProblemDef, check_data, check_nonneg, data_problem_dim, shapes_only_now, x0_or_default
from .datasets import resolve_data


def loss_param_values(defn: ProblemDef, given: dict[str, Any]) -> list[float]:
    """The loss's own parameters (defaults overlaid with ``given``), as finite floats in PARAMS order."""
    out = []
    for k in defn.loss_params:
        v = given.pop(k, defn.params[k])
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"problem {defn.name!r}: {k} must be a finite number, got {v!r}")
        out.append(float(v))
    return out


def build_linear(defn: ProblemDef, *, X: Any = None, y: Any = None, l2: Any = None, x0: Any = None,
                 **params: Any) -> Problem:
    """A problem of the linear-model family for the loss ``defn`` on given or generated data."""
    name = defn.name
    lp = loss_param_values(defn, params)
    X, y = check_data(name, *resolve_data(name, defn.task, X=X, y=y, **params),
                      labels_pm1=defn.task == "classification")
    l2 = check_nonneg(name, "l2", defn.params["l2"] if l2 is None else l2)
    prm = np.array([l2, *lp], dtype=np.float64)
    info: dict[str, Any] = {"n": X.shape[0], "d": X.shape[1], "l2": l2,
                            **{k: v for k, v in zip(defn.loss_params, lp)}}
    p = Problem(name, defn.module, X, y, prm, x0_or_default(name, x0, data_problem_dim(X)), math.nan, None, info)
    if shapes_only_now():  # planning only: no optimum
        p.f_star = 0.0
        return p
    exact = getattr(defn.module, "optimum", None)
    if exact is not None:
        p.f_star, p.x_star = exact(p)
        p.f_star = float(p.f_star)
    else:
        from .reference import estimate

        estimate(p)
    return p
