"""Registry of problems: one module per problem, one line per module here.

Factories take data or generator parameters and return a :class:`Problem`::

    gdbench.problems.logistic(X, y, l2=1e-3)
    gdbench.problems.logistic(n=1000, d=20, seed=0)        # seeded synthetic data
    gdbench.problems.rosenbrock(d=2)

Problems of your own (a file, or an installed package's entry point in the group
``gdbench.problems``) join the registry through :func:`gdbench.plugins.register`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import (
    datasets,
    double_well,
    himmelblau,
    hinge,
    linreg,
    logistic,
    quadratic,
    rastrigin,
    rosenbrock,
    saddle,
    six_hump_camel,
    styblinski_tang,
)
from .base import Problem, ProblemDef, check_optimum, check_param_types

PROBLEMS: dict[str, ProblemDef] = {d.name: d for d in map(ProblemDef.from_module, (
    linreg, logistic, hinge, rosenbrock, saddle, quadratic,
    double_well, himmelblau, six_hump_camel, styblinski_tang, rastrigin))}
_BY_MODULE: dict[str, ProblemDef] = {d.module.__name__: d for d in PROBLEMS.values()}


def add(defn: ProblemDef) -> None:
    """Put a validated definition into the registry (:func:`gdbench.plugins.register` checks clashes)."""
    PROBLEMS[defn.name] = defn
    _BY_MODULE[defn.module.__name__] = defn


def definition_of(module: ModuleType) -> ProblemDef:
    """The registry record of a problem module (a module built outside the registry is validated now)."""
    d = _BY_MODULE.get(module.__name__)
    if d is None or d.module is not module:
        d = ProblemDef.from_module(module, origin="builtin" if module.__name__.startswith("gdbench.") else "file")
        _BY_MODULE[module.__name__] = d
    return d


def get_problem(name: str) -> ProblemDef:
    """The registry record for ``name`` (installed plugins included); ValueError lists the allowed names."""
    if isinstance(name, str) and name not in PROBLEMS:
        from ..plugins import load_entry_points

        load_entry_points()
    try:
        return PROBLEMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown problem {name!r}; allowed: {', '.join(PROBLEMS)}") from None


get_problem_module = get_problem  # older name


def make(name: str, **params: Any) -> Problem:
    """Build the problem ``name`` from keyword parameters (ValueError on unknown ones)."""
    defn = get_problem(name)
    check_param_types(name, defn.params, params)  # wrong types are a ValueError, never a TypeError
    from threadpoolctl import threadpool_limits

    # The reference optimum must not depend on how many threads BLAS/LAPACK happen to use (their
    # summation order does, in the last bits): solve it, and generate the data, on one thread.
    with threadpool_limits(limits=1):
        return check_optimum(defn.build(**params))  # never a NaN f*


def _factory(name: str):
    def factory(X: Any = None, y: Any = None, **params: Any) -> Problem:
        defn = get_problem(name)
        if defn.kind == "data":
            params.update({"X": X, "y": y} if X is not None or y is not None else {})
        elif X is not None or y is not None:
            raise ValueError(f"problem {name!r} takes no data")
        return make(name, **params)

    factory.__name__ = name
    factory.__doc__ = PROBLEMS[name].doc
    return factory


# ``gdbench.problems.<name>(...)`` factories, one per built-in registry entry.
for _name in list(PROBLEMS):
    globals()[_name] = _factory(_name)

__all__ = ["PROBLEMS", "Problem", "ProblemDef", "datasets", "definition_of", "get_problem", "make", *PROBLEMS]
