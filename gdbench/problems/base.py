"""The Problem record, the registry record of a problem definition, and the problem contracts.

A problem is defined by one module — built in, a plain Python file of yours, or a module of an
installed package — in one of three forms:

1. **A loss of the linear-model family** (``KIND = "linear"``; linreg, logistic and hinge are
   such modules): the loss of one sample as a function of its margin ``z = xᵀw + b``::

       loss(z, y, <params>) -> ℓ        dloss(z, y, <params>) -> ∂ℓ/∂z
       d2loss(z, y, <params>) -> ∂²ℓ/∂z²  (optional: Hessian, Newton, an exact-ish f*)
       loss_upper(z, y, <params>) -> u ≥ ℓ  (optional: a cheaper upper bound; the fused SGD step
                                           checks divergence on it and computes ℓ only above it)
       loss_dloss_vec(z, y, <params>) -> (ℓ, ∂ℓ/∂z)  (optional: both without a library call, so
                                           that the fused full-batch kernel vectorises them over
                                           blocks of rows; ``gdbench.kernels.vmath`` has exp, log1p)

   with ``TASK`` ("regression" or "classification": labels ±1), ``PARAMS`` (the loss's own
   parameters, passed by name), optional ``L2`` (the default λ) and optional ``optimum(problem)
   -> (f*, x* or None)`` (an exact reference). f(w, b) = (1/n)·Σ ℓ(zᵢ, yᵢ) + (λ/2)‖w‖². Every data
   source, estimator and the fused multi-core and GPU kernels then serve the loss
   (:mod:`gdbench.problems.linear_kernels`, generated per loss).
2. **An analytic problem, short form** (``KIND = "analytic"``)::

       loss_grad(theta, g, <params>) -> f   (writes ∇f into g)     hess(theta, H, <params>) (optional)

   with ``PARAMS`` (numbers, passed by name), a start ``X0`` (a list, or a function of the
   parameters) and, when known, ``F_STAR`` and ``X_STAR`` (constants or functions of the params).
3. **The full contract** of the built-in analytic problems (quadratic, rosenbrock, saddle):
   ``loss_grad(theta, X, y, prm, idx, i0, nb, g) -> f`` over the rows ``idx[i0:i0+nb]`` (``nb < 0``:
   all rows), ``hess(...)`` likewise, and ``build(**params) -> Problem`` with exact f*, x*.

Where a problem gives no f*, gdbench computes one (Newton to machine precision with a Hessian,
otherwise a long, tightly converged reference run) and labels it *estimated* everywhere
(:attr:`Problem.f_star_source`).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ..contract import ContractError, is_jitted, module_origin, params_of, source_sha256

_EMPTY_IDX = np.zeros(0, dtype=np.int64)
#: parameters every data problem accepts (the data source; see gdbench.problems.datasets)
DATA_PARAMS = ("data", "n", "d", "cond", "noise", "separation", "flip", "seed", "target", "standardize")
KINDS = ("linear", "analytic")
F_STAR_EXACT = "exact"


@dataclass(eq=False)
class Problem:
    """One concrete instance: data, start point and reference optimum.

    For data problems ``theta = [w_1..w_d, b]`` and ``n`` is the number of rows.
    ``f_star`` is exact (closed form, Newton to machine precision, or an exact solver) unless
    ``f_star_source`` says it was estimated; ``x_star`` is ``None`` where the minimiser is not
    unique (or not known).
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
    f_star_source: str = F_STAR_EXACT  # "exact", "estimated (Newton)" or "estimated (reference run)"

    @property
    def definition(self) -> ProblemDef:
        from . import definition_of

        return definition_of(self.module)

    @property
    def kernels(self) -> ModuleType:
        """The module with the full-contract kernels (``loss_grad``, ``hess``[, ``loss_grad_rows``])."""
        return self.definition.kernels

    @property
    def kind(self) -> str:
        return self.definition.kind

    @property
    def dim(self) -> int:
        return int(self.x0.shape[0])

    @property
    def n(self) -> int:
        """Rows of data (0 for analytic problems)."""
        return int(self.X.shape[0]) if self.kind == "data" else 0

    @property
    def has_hessian(self) -> bool:
        return self.definition.has_hessian

    @property
    def f_star_exact(self) -> bool:
        return self.f_star_source == F_STAR_EXACT

    def _theta(self, theta: Any) -> np.ndarray:
        t = np.ascontiguousarray(theta, dtype=np.float64)
        if t.shape != (self.dim,):
            raise ValueError(f"problem {self.name!r}: theta must have shape ({self.dim},), got {t.shape}")
        return t

    def loss(self, theta: Any) -> float:
        """f(θ) over all rows."""
        g = np.empty(self.dim)
        return float(self.kernels.loss_grad(self._theta(theta), self.X, self.y, self.prm, _EMPTY_IDX, 0, -1, g))

    def grad(self, theta: Any) -> np.ndarray:
        """∇f(θ) over all rows."""
        g = np.empty(self.dim)
        self.kernels.loss_grad(self._theta(theta), self.X, self.y, self.prm, _EMPTY_IDX, 0, -1, g)
        return g

    def loss_grad_rows(self, theta: Any, rows: Any) -> tuple[float, np.ndarray]:
        """f and ∇f over the given rows only (a mini-batch), as the driver computes them."""
        g = np.empty(self.dim)
        idx = np.ascontiguousarray(rows, dtype=np.int64)
        f = self.kernels.loss_grad(self._theta(theta), self.X, self.y, self.prm, idx, 0, idx.shape[0], g)
        return float(f), g

    def hess(self, theta: Any, rows: Any = None) -> np.ndarray:
        """∇²f(θ) over all rows, or the given rows (ValueError where the problem has none)."""
        if not self.has_hessian:
            raise ValueError(f"problem {self.name!r} has no Hessian")
        H = np.empty((self.dim, self.dim))
        if rows is None:
            self.kernels.hess(self._theta(theta), self.X, self.y, self.prm, _EMPTY_IDX, 0, -1, H)
        else:
            idx = np.ascontiguousarray(rows, dtype=np.int64)
            self.kernels.hess(self._theta(theta), self.X, self.y, self.prm, idx, 0, idx.shape[0], H)
        return H

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.info.items()
                          if np.isscalar(v) and k not in ("n", "f_star_source"))
        est = "" if self.f_star_exact else f" ({self.f_star_source})"
        return (f"Problem({self.name}, dim={self.dim}, n={self.n}, f*={self.f_star:.6g}{est}"
                f"{', ' if extra else ''}{extra})")


def _scalar_params(where: str, params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ContractError(f"{where}: PARAMS must be a dict of {{name: default}}, got {params!r}")
    for k in params:
        if not isinstance(k, str) or not k.isidentifier():
            raise ContractError(f"{where}: PARAMS key {k!r} is not an identifier")
    return dict(params)


def _check_named(where: str, fname: str, params: list[str], lead: tuple[str, ...], names: list[str]) -> None:
    if tuple(params[: len(lead)]) != lead:
        raise ContractError(f"{where}: {fname}({', '.join(params)}) must start with ({', '.join(lead)})")
    for p in params[len(lead):]:
        if p not in names:
            raise ContractError(f"{where}: {fname}({', '.join(params)}): parameter {p!r} is not in PARAMS "
                                f"({', '.join(names) or 'none'})")


FULL_SIGNATURE = ("theta", "X", "y", "prm", "idx", "i0", "nb")


@dataclass(frozen=True)
class ProblemDef:
    """Registry record of one problem definition (see the module docstring for the three forms).

    The upper-case properties (``NAME``, ``KIND``, ``PARAMS``, ``HAS_HESSIAN``, ``SUMMARY``)
    mirror a problem module's constants, so code may treat a record and a module alike.
    """

    name: str
    summary: str
    doc: str
    form: str  # "linear", "analytic" (short form) or "full"
    params: dict[str, Any]  # the parameters build accepts, with their defaults where known
    has_hessian: bool
    module: ModuleType
    task: str | None = None  # linear family: "regression" or "classification"
    loss_params: tuple[str, ...] = ()  # linear family / short analytic: names passed by name, in order
    origin: str = "builtin"
    path: str | None = None
    sha256: str | None = None

    # --- the module view ---------------------------------------------------------------------------------
    @property
    def NAME(self) -> str:  # noqa: N802 - mirrors the module constant
        return self.name

    @property
    def KIND(self) -> str:  # noqa: N802
        return self.kind

    @property
    def PARAMS(self) -> dict[str, Any]:  # noqa: N802
        return self.params

    @property
    def HAS_HESSIAN(self) -> bool:  # noqa: N802
        return self.has_hessian

    @property
    def SUMMARY(self) -> str:  # noqa: N802
        return self.summary

    @property
    def kind(self) -> str:
        """``"data"`` (rows to sample: the linear family, data modules) or ``"analytic"``."""
        if self.form == "linear":
            return "data"
        return str(getattr(self.module, "KIND", "analytic")) if self.form == "full" else "analytic"

    @property
    def is_plugin(self) -> bool:
        return self.origin != "builtin"

    @property
    def kernels(self) -> ModuleType:
        if self.form == "full":
            return self.module
        got = self.__dict__.get("_kernels")
        if got is None:  # rendered and imported once per definition: ``Problem.loss`` reads it per call
            from ..kernels import codegen

            got = codegen.problem_kernels(self)
            object.__setattr__(self, "_kernels", got)  # (a cache on a frozen record, not a field)
        return got

    def allowed_params(self) -> list[str]:
        """Parameter names ``build`` accepts (the one whitelist: API, suite files, `gdbench list`)."""
        if self.form == "full":
            sig = inspect.signature(self.module.build)
            names = [p for p, v in sig.parameters.items() if v.kind == inspect.Parameter.KEYWORD_ONLY]
            if self.kind == "data":
                names += list(DATA_PARAMS)
            return list(dict.fromkeys(names))
        if self.form == "linear":
            return list(dict.fromkeys(["X", "y", *DATA_PARAMS, "l2", *self.loss_params, "x0"]))
        return [*self.loss_params, "x0"]

    def build(self, **params: Any) -> Problem:
        allowed = self.allowed_params()
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(f"problem {self.name!r}: unknown parameter {unknown[0]!r}; allowed: {', '.join(allowed)}")
        if self.form == "full":
            return self.module.build(**params)
        if self.form == "linear":
            from .linear import build_linear

            return build_linear(self, **params)
        from .analytic import build_short

        return build_short(self, **params)

    # --- construction -----------------------------------------------------------------------------------
    @classmethod
    def from_module(cls, mod: ModuleType, *, origin: str = "builtin") -> ProblemDef:
        """Validate ``mod`` against one of the three contracts; ContractError naming the file otherwise."""
        where = module_origin(mod)
        name = getattr(mod, "NAME", None)
        if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
            raise ContractError(f"{where}: NAME must be a lowercase identifier such as 'huber', got {name!r}")
        doc = (mod.__doc__ or "").strip()
        if not doc:
            raise ContractError(f"{where}: the module docstring must state the problem (its f, parameters, optimum)")
        summary = str(getattr(mod, "SUMMARY", None) or doc.splitlines()[0])
        kind = getattr(mod, "KIND", None)
        common = dict(name=name, summary=summary, doc=doc, module=mod, origin=origin,
                      path=None if origin == "builtin" else getattr(mod, "__file__", None),
                      sha256=None if origin == "builtin" else source_sha256(mod))
        if kind == "linear":
            missing = [a for a in ("loss", "dloss", "TASK") if not hasattr(mod, a)]
            if missing:
                raise ContractError(f"{where}: a loss of the linear-model family must define {', '.join(missing)}")
            if mod.TASK not in ("regression", "classification"):
                raise ContractError(f"{where}: TASK must be 'regression' or 'classification', got {mod.TASK!r}")
            lp = _scalar_params(where, getattr(mod, "PARAMS", {}))
            if "l2" in lp or any(k in DATA_PARAMS for k in lp):
                raise ContractError(f"{where}: PARAMS are the loss's own parameters; l2 and the data parameters "
                                    f"({', '.join(DATA_PARAMS)}) are the family's")
            for fname in ("loss", "dloss", "d2loss", "loss_upper", "loss_dloss_vec"):
                fn = getattr(mod, fname, None)
                if fn is not None:
                    _check_named(where, fname, params_of(fn), ("z", "y"), list(lp))
            l2 = getattr(mod, "L2", 0.0)
            source = {"noise": 0.1} if mod.TASK == "regression" else {"separation": 1.0, "flip": 0.05}
            defaults = {"data": "synthetic", "n": 1000, "d": 10, "cond": 1.0, **source, "seed": 0, "l2": float(l2),
                        **lp}
            return cls(form="linear", params=defaults, has_hessian=hasattr(mod, "d2loss"), task=mod.TASK,
                       loss_params=tuple(lp), **common)
        if kind not in ("analytic", "data"):
            raise ContractError(f"{where}: KIND must be 'linear' (a loss of the linear-model family) or 'analytic', "
                                f"got {kind!r}")
        if not hasattr(mod, "loss_grad"):
            raise ContractError(f"{where}: a problem must define loss_grad")
        lg = params_of(mod.loss_grad)
        if hasattr(mod, "build") and tuple(lg) == (*FULL_SIGNATURE, "g"):
            if not is_jitted(mod.loss_grad):
                raise ContractError(f"{where}: loss_grad must be compiled with @numba.njit")
            has_h = bool(getattr(mod, "HAS_HESSIAN", hasattr(mod, "hess")))
            if has_h and not hasattr(mod, "hess"):
                raise ContractError(f"{where}: HAS_HESSIAN is true but there is no hess")
            params = dict(getattr(mod, "PARAMS", {}))
            return cls(form="full", params=params, has_hessian=has_h, **common)
        if kind == "data":
            raise ContractError(f"{where}: a data problem needs the full contract: loss_grad("
                                f"{', '.join(FULL_SIGNATURE)}, g) and build(); or write it as KIND = 'linear'")
        params = _scalar_params(where, getattr(mod, "PARAMS", {}))
        _check_named(where, "loss_grad", lg, ("theta", "g"), list(params))
        if not is_jitted(mod.loss_grad):
            raise ContractError(f"{where}: loss_grad must be compiled with @numba.njit")
        if hasattr(mod, "hess"):
            _check_named(where, "hess", params_of(mod.hess), ("theta", "H"), list(params))
        if not hasattr(mod, "X0"):
            raise ContractError(f"{where}: an analytic problem needs a start X0 (a list of numbers, or a function "
                                "of PARAMS returning one)")
        return cls(form="analytic", params=params, has_hessian=hasattr(mod, "hess"), loss_params=tuple(params),
                   **common)


class DataNote(UserWarning):
    """Something the data loader decided for the user (e.g. which class became +1)."""


def two_class_labels(name: str, y: Any) -> np.ndarray:
    """Labels of any two distinct values → −1/+1 (the larger value, or the later name in sort
    order, becomes +1), with a :class:`DataNote` saying which; −1/+1 labels pass unchanged."""
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind == "O":  # class names from a file, possibly mixed with numbers: compare as text
        if any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in y):
            raise ValueError(f"problem {name!r}: labels contain empty or NaN values")
        y = y.astype(str)
    values = np.unique(y)
    if values.size != 2:
        shown = ", ".join(map(repr, values[:5].tolist())) + (", ..." if values.size > 5 else "")
        raise ValueError(f"problem {name!r}: labels must take exactly two values (e.g. 0/1 or -1/+1), got "
                         f"{values.size}: {shown}")
    neg, pos = values.tolist()
    if y.dtype.kind in "biuf" and (neg, pos) == (-1, 1):
        return np.asarray(y, dtype=np.float64)
    warnings.warn(f"labels {neg!r}/{pos!r} mapped to -1/+1: {pos!r} became +1", DataNote, stacklevel=3)
    return np.where(y == pos, 1.0, -1.0)


def check_data(name: str, X: Any, y: Any, *, labels_pm1: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate and copy (X, y) into C-contiguous float64; ValueError names what is wrong.
    ``labels_pm1``: two-class labels of any two values become −1/+1 (:func:`two_class_labels`)."""
    if labels_pm1:
        y = np.asarray(y)
        numeric = y.dtype.kind in "biuf"
        if not numeric or (np.isfinite(y).all() and not np.isin(y, (-1, 1)).all()):
            y = two_class_labels(name, y)
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


#: while True (:func:`shapes_only`), problems of the linear-model family and short analytic ones are
#: built without their reference optimum: f* = 0.0 stands in, x* = None
_SHAPES_ONLY = False


@contextlib.contextmanager
def shapes_only() -> Iterator[None]:
    """Build problems for their shapes only (data, dimension, start), not their optimum: what the
    compile helper needs to plan a suite's drivers while the run's process solves the f*. A
    problem built so must never be run or reported."""
    global _SHAPES_ONLY
    was, _SHAPES_ONLY = _SHAPES_ONLY, True
    try:
        yield
    finally:
        _SHAPES_ONLY = was


def shapes_only_now() -> bool:
    return _SHAPES_ONLY


def check_optimum(p: Problem) -> Problem:
    """``p`` when its reference optimum is a number (finite, or −∞ for an unbounded problem); a
    NaN (e.g. an L2 weight so small that 1/λ overflows in an exact solver) is a ValueError."""
    if np.isnan(p.f_star) or np.isposinf(p.f_star):
        params = ", ".join(f"{k}={v!r}" for k, v in p.info.items() if np.isscalar(v) and not isinstance(v, str))
        raise ValueError(f"problem {p.name!r}: the exact optimum could not be computed (f* = {p.f_star}) with "
                         f"{params}; try less extreme parameters")
    return p


def check_nonneg(name: str, field_: str, v: float) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"problem {name!r}: {field_} must be a finite number >= 0, got {v!r}") from None
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
