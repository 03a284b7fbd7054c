"""Validated, encoded run options shared by the Python API, the harness and the GPU path.

Schedules, clipping, batch size and gradient noise are parsed here once, so every entry point
gives the same readable errors and the same encoding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .kernels.transforms import CLIPS, SCHEDULES

SCHEDULE_PARAMS = {
    "constant": {},
    "step": {"step_size": 100, "gamma": 0.5},
    "exponential": {"gamma": 0.999},
    "inverse_time": {"decay": 1e-3},
    "cosine": {"T_max": None, "eta_min": 0.0},
}


def _num(where: str, name: str, v: Any, *, lo: float | None = None, lo_open: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{where}: {name} must be a number, got {v!r}")
    v = float(v)
    if not math.isfinite(v) or (lo is not None and (v <= lo if lo_open else v < lo)):
        raise ValueError(f"{where}: {name} must be {'>' if lo_open else '>='} {lo}, got {v!r}")
    return v


def encode_schedule(spec: Any, steps: int) -> tuple[int, float, float]:
    """(kind, p1, p2) for :func:`gdbench.kernels.transforms.scheduled_lr`.

    ``spec``: ``None``/``"constant"``, a name, or a mapping ``{"name": ..., <params>}``.
    """
    if spec is None:
        spec = "constant"
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise ValueError(f"schedule must be a name or a table with 'name'; allowed names: {', '.join(SCHEDULES)}")
    name = spec["name"]
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}")
    allowed = SCHEDULE_PARAMS[name]
    extra = sorted(set(spec) - {"name"} - set(allowed))
    if extra:
        raise ValueError(f"schedule {name!r}: unknown parameter {extra[0]!r}; allowed: {', '.join(allowed) or 'none'}")
    p = {**allowed, **{k: v for k, v in spec.items() if k != "name"}}
    w = f"schedule {name!r}"
    if name == "step":
        ss = p["step_size"]
        if isinstance(ss, bool) or not isinstance(ss, int) or ss < 1:
            raise ValueError(f"{w}: step_size must be an integer >= 1, got {ss!r}")
        return SCHEDULES[name], float(ss), _num(w, "gamma", p["gamma"], lo=0, lo_open=True)
    if name == "exponential":
        return SCHEDULES[name], 0.0, _num(w, "gamma", p["gamma"], lo=0, lo_open=True)
    if name == "inverse_time":
        return SCHEDULES[name], _num(w, "decay", p["decay"], lo=0), 0.0
    if name == "cosine":
        T = steps if p["T_max"] is None else p["T_max"]
        return SCHEDULES[name], _num(w, "T_max", T, lo=0, lo_open=True), _num(w, "eta_min", p["eta_min"], lo=0)
    return 0, 0.0, 0.0


def encode_clip(spec: Any) -> tuple[int, float]:
    """(kind, c) for :func:`gdbench.kernels.transforms.clip_grad`.

    ``spec``: ``None``, ``{"norm": c}``, ``{"value": c}`` or a pair ``("norm", c)``.
    """
    if spec is None:
        return 0, 0.0
    if isinstance(spec, Mapping):
        items = list(spec.items())
    elif isinstance(spec, (tuple, list)) and len(spec) == 2:
        items = [tuple(spec)]
    else:
        items = []
    if len(items) != 1 or items[0][0] not in ("norm", "value"):
        raise ValueError(f"clip must be {{'norm': c}} or {{'value': c}} with c > 0, got {spec!r}")
    kind, c = items[0]
    return CLIPS[kind], _num("clip", kind, c, lo=0, lo_open=True)


def check_batch(batch_size: Any, problem_kind: str, n: int, problem_name: str) -> int:
    """0 for the full batch, else the mini-batch size (1 = SGD)."""
    if batch_size is None or batch_size == "full":
        return 0
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, 'full' or None, got {batch_size!r}")
    if problem_kind != "data":
        raise ValueError(
            f"batch_size: problem {problem_name!r} has no data rows to sample; use noise=<σ> for a "
            "stochastic gradient, or leave batch_size unset"
        )
    return 0 if batch_size >= n else int(batch_size)


def check_noise(noise: Any) -> float:
    return 0.0 if noise is None else _num("noise", "noise", noise, lo=0)


def check_int(name: str, v: Any, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


INIT_KINDS = {"fixed": 0, "uniform": 1, "normal": 2}


def _vec(where: str, name: str, v: Any, dim: int) -> Any:
    import numpy as np

    if isinstance(v, bool):
        raise ValueError(f"{where}: {name} must be a number or a list of {dim} numbers, got {v!r}")
    try:
        a = np.array(v, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {name} must be a number or a list of {dim} numbers, got {v!r}") from None
    if a.size == 1:
        a = np.full(dim, a[0])
    if a.shape != (dim,) or not np.isfinite(a).all():
        raise ValueError(f"{where}: {name} must be finite: a number or a list of {dim} numbers, got {v!r}")
    return a


def encode_init(spec: Any, dim: int, x0: Any) -> tuple[int, Any, Any]:
    """(kind, a, b) for :func:`gdbench.kernels.support.draw_start`: the start of every run and restart.

    ``spec``: ``None``/``"fixed"`` (the problem's x0), ``{"dist": "uniform", "low": l, "high": h}``
    (a box; numbers or one per coordinate) or ``{"dist": "normal", "scale": σ, "center": c}``
    (default centre: x0), drawn per seed from the run's own random stream.
    """
    import numpy as np

    x0 = np.asarray(x0, dtype=np.float64).reshape(-1)
    if spec is None or spec == "fixed":
        return 0, x0.copy(), np.zeros(dim)
    if isinstance(spec, str):
        spec = {"dist": spec}
    if not isinstance(spec, Mapping) or spec.get("dist") not in ("uniform", "normal"):
        raise ValueError("init must be 'fixed', {dist = 'uniform', low, high} or {dist = 'normal', scale[, center]}, "
                         f"got {spec!r}")
    dist = spec["dist"]
    allowed = {"uniform": ("dist", "low", "high"), "normal": ("dist", "scale", "center")}[dist]
    extra = sorted(set(spec) - set(allowed))
    if extra:
        raise ValueError(f"init ({dist}): unknown field {extra[0]!r}; allowed: {', '.join(allowed)}")
    w = f"init ({dist})"
    if dist == "uniform":
        if "low" not in spec or "high" not in spec:
            raise ValueError(f"{w}: needs low and high (numbers, or one per coordinate)")
        lo, hi = _vec(w, "low", spec["low"], dim), _vec(w, "high", spec["high"], dim)
        if not (lo < hi).all():
            i = int(np.argmax(~(lo < hi)))
            raise ValueError(f"{w}: low must be < high in every coordinate; coordinate {i}: low {lo[i]!r} >= high "
                             f"{hi[i]!r}")
        return 1, lo, hi
    if "scale" not in spec:
        raise ValueError(f"{w}: needs scale (> 0: a number or one per coordinate)")
    sc = _vec(w, "scale", spec["scale"], dim)
    if not (sc > 0).all():
        raise ValueError(f"{w}: scale must be > 0, got {spec['scale']!r}")
    c = x0.copy() if spec.get("center") is None else _vec(w, "center", spec["center"], dim)
    return 2, c, sc


RESTART_KINDS = {"none": 0, "every": 1, "stall": 2}


def encode_restart(spec: Any) -> tuple[int, int, float]:
    """(kind, period, tol): ``None`` (no restarts), ``{"every": k}`` (a fresh random start every k
    steps) or ``{"on": "stall", "window": w, "tol": t}`` (when the best loss has not improved by
    t·(f₀ − f*) over w steps; defaults 100 and 1e-4)."""
    if spec is None or spec == "none":
        return 0, 0, 0.0
    if not isinstance(spec, Mapping):
        raise ValueError(f"restart must be {{every = k}} or {{on = 'stall', window = w, tol = t}}, got {spec!r}")
    if "every" in spec:
        extra = sorted(set(spec) - {"every"})
        if extra:
            raise ValueError(f"restart: unknown field {extra[0]!r} next to 'every'")
        k = spec["every"]
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"restart: every must be an integer >= 1 (steps), got {k!r}")
        return 1, int(k), 0.0
    if spec.get("on") == "stall":
        extra = sorted(set(spec) - {"on", "window", "tol"})
        if extra:
            raise ValueError(f"restart: unknown field {extra[0]!r}; allowed: on, window, tol")
        w = spec.get("window", 100)
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValueError(f"restart: window must be an integer >= 1 (steps), got {w!r}")
        tol = _num("restart", "tol", spec.get("tol", 1e-4), lo=0)
        return 2, int(w), tol
    raise ValueError(f"restart must be {{every = k}} or {{on = 'stall', window = w, tol = t}}, got {spec!r}")
