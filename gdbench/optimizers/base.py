"""What an optimizer module provides, and the record the registry keeps for it.

An optimizer is one module with:

- ``NAME``, ``SUMMARY`` (one line), a module docstring with the update rule and defaults;
- ``HYPER``: ordered ``{name: default}``, always starting with ``lr``;
- ``BOUNDS``: ``{name: (low, high, low_inclusive, high_inclusive)}`` for validation;
- ``STATE``: names of the per-coordinate state vectors (zero-initialised unless ``init`` says
  otherwise);
- ``NEEDS_HESSIAN``: whether ``step`` reads the Hessian ``H``;
- ``init(s, hp)`` and ``step(theta, g, H, s, hp, lr, t)``: ``@njit`` kernels, in place.
  ``hp`` holds the hyper-parameters *after* ``lr`` in ``HYPER`` order; ``lr`` is the
  scheduled learning rate of step ``t`` (t counts from 1);
- ``reference(theta, g, H, s, hp, lr, t)``: a plain NumPy twin of ``step`` used by the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np


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

    @classmethod
    def from_module(cls, mod: ModuleType) -> Optimizer:
        hyper = dict(mod.HYPER)
        if next(iter(hyper)) != "lr":
            raise TypeError(f"{mod.__name__}: HYPER must start with 'lr'")
        return cls(
            name=mod.NAME,
            summary=mod.SUMMARY,
            doc=(mod.__doc__ or "").strip(),
            hyper=hyper,
            bounds=dict(getattr(mod, "BOUNDS", {})),
            state=tuple(mod.STATE),
            needs_hessian=bool(getattr(mod, "NEEDS_HESSIAN", False)),
            module=mod,
        )

    @property
    def extra_names(self) -> tuple[str, ...]:
        """Hyper-parameter names after ``lr`` (the order of the ``hp`` vector)."""
        return tuple(list(self.hyper)[1:])

    @property
    def step(self) -> Callable[..., Any]:
        return self.module.step

    @property
    def init(self) -> Callable[..., Any]:
        return self.module.init

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


UNIT = (0.0, 1.0, True, False)  # [0, 1)
POSITIVE = (0.0, math.inf, False, False)  # (0, inf)
NONNEG = (0.0, math.inf, True, False)  # [0, inf)
