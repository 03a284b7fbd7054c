"""Registry of problems: one module per problem, one line per module here.

Factories take data or generator parameters and return a :class:`Problem`::

    gdbench.problems.logistic(X, y, l2=1e-3)
    gdbench.problems.logistic(n=1000, d=20, seed=0)        # seeded synthetic data
    gdbench.problems.rosenbrock(d=2)
"""

from __future__ import annotations

from typing import Any

from . import datasets, hinge, linreg, logistic, quadratic, rosenbrock, saddle
from .base import Problem, check_optimum, check_param_types

PROBLEMS: dict[str, Any] = {m.NAME: m for m in (linreg, logistic, hinge, rosenbrock, saddle, quadratic)}


def get_problem_module(name: str):
    try:
        return PROBLEMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown problem {name!r}; allowed: {', '.join(PROBLEMS)}") from None


def make(name: str, **params: Any) -> Problem:
    """Build the problem ``name`` from keyword parameters (ValueError on unknown ones)."""
    mod = get_problem_module(name)
    import inspect

    sig = inspect.signature(mod.build)
    allowed = [p for p in sig.parameters if sig.parameters[p].kind == inspect.Parameter.KEYWORD_ONLY]
    if mod.KIND == "data":
        allowed += ["X", "y", "data", "n", "d", "cond", "noise", "separation", "flip", "seed", "target", "standardize"]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"problem {name!r}: unknown parameter {unknown[0]!r}; allowed: {', '.join(allowed)}")
    check_param_types(name, mod.PARAMS, params)  # issue 13: wrong types are a ValueError, never a TypeError
    from threadpoolctl import threadpool_limits

    # The reference optimum must not depend on how many threads BLAS/LAPACK happen to use (their
    # summation order does, in the last bits): solve it, and generate the data, on one thread.
    with threadpool_limits(limits=1):
        return check_optimum(mod.build(**params))  # issue 13: never a NaN f*


def _factory(mod):
    def factory(X: Any = None, y: Any = None, **params: Any) -> Problem:
        if mod.KIND == "data":
            params.update({"X": X, "y": y} if X is not None or y is not None else {})
        elif X is not None or y is not None:
            raise ValueError(f"problem {mod.NAME!r} takes no data")
        return make(mod.NAME, **params)

    factory.__name__ = mod.NAME
    factory.__doc__ = mod.__doc__
    return factory


# ``gdbench.problems.<name>(...)`` factories, one per registry entry.
for _name, _mod in PROBLEMS.items():
    globals()[_name] = _factory(_mod)

__all__ = ["PROBLEMS", "Problem", "datasets", "make", "get_problem_module", *PROBLEMS]
