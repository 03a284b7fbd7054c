"""What an update-rule module provides, and the record the registry keeps for it.

An update rule is one module — built into gdbench, a plain Python file of yours, or a module of
an installed package — with:

- a module docstring stating the update rule and its defaults;
- ``NAME`` (a lowercase identifier) and ``SUMMARY`` (one line; default: the docstring's first line);
- ``HYPER``: ordered ``{name: default}``, always starting with ``lr``;
- ``BOUNDS`` (optional): ``{name: (low, high, low_inclusive, high_inclusive)}`` for validation;
- ``STATE``: names of the per-coordinate state rows, ``s`` is a ``(len(STATE), D)`` array,
  zero-initialised before ``init``;
- ``step(...)``: ``@njit``, updates ``theta`` and ``s`` in place. Its parameters are matched **by
  name**, so a rule asks only for what it uses, and hyper-parameters arrive as plain numbers::

      theta   the iterate θ (updated in place)        g       the gradient estimate at θ
      s       the state rows                           lr      the scheduled learning rate of step t
      t       the step number (from 1)                 H       the Hessian at θ (a second-order rule)
      f       the loss at θ on the step's rows         f_star  the problem's optimal value f*
      hp      every hyper-parameter after lr, as an array (older, positional style)
      <name>  any hyper-parameter of HYPER after lr, e.g. beta1

  ``step(theta, g, s, lr, beta1, beta2, eps)`` is Adam's. A rule that names ``H`` needs a Hessian.
- ``init(...)`` (optional): ``@njit``, sets the state before the first step; parameters by name from
  ``s``, ``theta``, ``hp`` and the hyper-parameters;
- ``reference(...)``: a plain NumPy twin of ``step`` (same parameter vocabulary, NumPy arrays), the
  independent implementation that ``gdbench check`` and the tests compare the compiled rule with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ..contract import ContractError, check_signature, is_jitted, module_origin, params_of, source_sha256

#: names a ``step`` (and ``reference``) may ask for besides the hyper-parameters
STEP_ARGS = ("theta", "g", "H", "s", "lr", "t", "f", "f_star", "hp")
#: names an ``init`` may ask for besides the hyper-parameters
INIT_ARGS = ("s", "theta", "hp")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Optimizer:
    """Registry record of one update rule."""

    name: str
    summary: str
    doc: str
    hyper: dict[str, float]
    bounds: dict[str, tuple[float, float, bool, bool]]
    state: tuple[str, ...]
    needs_hessian: bool
    module: ModuleType
    step_params: tuple[str, ...] = ()
    init_params: tuple[str, ...] | None = None
    origin: str = "builtin"  # builtin | file | entry point <distribution>
    path: str | None = None
    sha256: str | None = field(default=None, compare=False)

    @classmethod
    def from_module(cls, mod: ModuleType, *, origin: str = "builtin") -> Optimizer:
        """Validate ``mod`` against the contract; ContractError (one line naming the file) otherwise."""
        where = module_origin(mod)
        missing = [a for a in ("NAME", "HYPER", "STATE", "step", "reference") if not hasattr(mod, a)]
        if missing:
            raise ContractError(f"{where}: an update rule must define {', '.join(missing)} (see `gdbench check` "
                                "and the README section 'Bring your own optimizer')")
        name = mod.NAME
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ContractError(f"{where}: NAME must be a lowercase identifier such as 'lion', got {name!r}")
        doc = (mod.__doc__ or "").strip()
        if not doc:
            raise ContractError(f"{where}: the module docstring must state the update rule and its defaults")
        hyper = mod.HYPER
        if not isinstance(hyper, dict) or not hyper or next(iter(hyper)) != "lr":
            raise ContractError(f"{where}: HYPER must be a dict starting with 'lr', e.g. {{'lr': 1e-3, 'beta': 0.9}}")
        for k, v in hyper.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise ContractError(f"{where}: HYPER key {k!r} is not an identifier")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ContractError(f"{where}: HYPER[{k!r}] must be a finite number, got {v!r}")
            if k in STEP_ARGS and k != "lr":
                raise ContractError(f"{where}: HYPER name {k!r} clashes with a step argument ({', '.join(STEP_ARGS)})")
        state = mod.STATE
        if isinstance(state, str) or not all(isinstance(s, str) for s in state):
            raise ContractError(f"{where}: STATE must be a tuple of names, e.g. ('exp_avg',), got {state!r}")
        bounds = dict(getattr(mod, "BOUNDS", {}) or {})
        for k, b in bounds.items():
            if k not in hyper or k == "lr" or not (isinstance(b, tuple) and len(b) == 4):
                raise ContractError(f"{where}: BOUNDS[{k!r}] must name a hyper-parameter after lr and be "
                                    "(low, high, low_inclusive, high_inclusive)")
        extra = [k for k in hyper if k != "lr"]
        if not is_jitted(mod.step):
            raise ContractError(f"{where}: step must be compiled with @numba.njit")
        step_params = params_of(mod.step)
        check_signature(where, "step", step_params, STEP_ARGS, extra, required=("theta", "g"))
        ref_params = params_of(mod.reference)
        check_signature(where, "reference", ref_params, STEP_ARGS, extra, required=("theta", "g"))
        init = getattr(mod, "init", None)
        init_params = None
        if init is not None:
            if not is_jitted(init):
                raise ContractError(f"{where}: init must be compiled with @numba.njit")
            init_params = tuple(params_of(init))
            check_signature(where, "init", list(init_params), INIT_ARGS, extra)
        needs_h = "H" in step_params
        declared = getattr(mod, "NEEDS_HESSIAN", None)
        if declared is not None and bool(declared) != needs_h:
            raise ContractError(f"{where}: NEEDS_HESSIAN = {declared} but step {'does' if needs_h else 'does not'} "
                                "take H")
        summary = getattr(mod, "SUMMARY", None) or doc.splitlines()[0]
        return cls(
            name=name, summary=str(summary), doc=doc, hyper={k: float(v) for k, v in hyper.items()}, bounds=bounds,
            state=tuple(state), needs_hessian=needs_h, module=mod, step_params=tuple(step_params),
            init_params=init_params, origin=origin,
            path=None if origin == "builtin" else getattr(mod, "__file__", None),
            sha256=None if origin == "builtin" else source_sha256(mod),
        )

    @property
    def extra_names(self) -> tuple[str, ...]:
        """Hyper-parameter names after ``lr`` (the order of the ``hp`` vector)."""
        return tuple(list(self.hyper)[1:])

    @property
    def is_plugin(self) -> bool:
        return self.origin != "builtin"

    @property
    def step(self) -> Callable[..., Any]:
        return self.module.step

    @property
    def reference(self) -> Callable[..., Any]:
        return self.module.reference

    def resolve(self, **given: float) -> dict[str, float]:
        """Defaults overlaid with ``given``; unknown names or out-of-range values raise ValueError."""
        unknown = sorted(set(given) - set(self.hyper))
        if unknown:
            raise ValueError(
                f"optimizer {self.name!r}: unknown hyper-parameter {unknown[0]!r}; "
                f"allowed: {', '.join(self.hyper)}"
            )
        out = dict(self.hyper)
        for k, v in given.items():
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ValueError(f"optimizer {self.name!r}: {k} must be a number, got {v!r}")
            out[k] = float(v)
        for k, v in out.items():
            if not math.isfinite(v):
                raise ValueError(f"optimizer {self.name!r}: {k} must be finite, got {v!r}")
            if k == "lr":
                if v <= 0:
                    raise ValueError(f"optimizer {self.name!r}: lr must be > 0, got {v!r}")
                continue
            if k in self.bounds:
                lo, hi, lo_in, hi_in = self.bounds[k]
                ok = (v >= lo if lo_in else v > lo) and (v <= hi if hi_in else v < hi)
                if not ok:
                    iv = f"{'[' if lo_in else '('}{lo}, {hi}{']' if hi_in else ')'}"
                    raise ValueError(f"optimizer {self.name!r}: {k} must be in {iv}, got {v!r}")
        return out

    def hp_vector(self, resolved: dict[str, float]) -> np.ndarray:
        return np.array([resolved[k] for k in self.extra_names], dtype=np.float64)

    def init_state(self, dim: int, resolved: dict[str, float], theta: np.ndarray | None = None) -> np.ndarray:
        """The state rows before the first step, from the compiled ``init`` (for references and checks)."""
        s = np.zeros((len(self.state), dim))
        if self.init_params is not None:
            hp = self.hp_vector(resolved)
            vals = {"s": s, "theta": np.zeros(dim) if theta is None else np.asarray(theta, dtype=np.float64),
                    "hp": hp, **{k: resolved[k] for k in self.extra_names}}
            self.module.init(*[vals[p] for p in self.init_params])
        return s

    def reference_step(self, theta: np.ndarray, g: np.ndarray, H: np.ndarray | None, s: np.ndarray,
                       resolved: dict[str, float], lr: float, t: int, f: float, f_star: float) -> None:
        """One step of the NumPy ``reference`` (in place), its parameters supplied by name."""
        vals = {"theta": theta, "g": g, "H": H, "s": s, "lr": lr, "t": t, "f": f, "f_star": f_star,
                "hp": self.hp_vector(resolved), **{k: resolved[k] for k in self.extra_names}}
        self.module.reference(*[vals[p] for p in params_of(self.module.reference)])


UNIT = (0.0, 1.0, True, False)  # [0, 1)
POSITIVE = (0.0, math.inf, False, False)  # (0, inf)
NONNEG = (0.0, math.inf, True, False)  # [0, inf)
