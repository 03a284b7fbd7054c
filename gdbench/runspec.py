"""Validated, encoded run options shared by the Python API, the harness and the GPU path.

Schedules, clipping, batch size and gradient noise are parsed here once, so every entry point
gives the same readable errors and the same encoding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

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
    if not isinstance(name, str) or name not in SCHEDULES:
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


def check_batch_value(batch_size: Any) -> int:
    """0 for the full batch (``None`` or ``"full"``), else the requested mini-batch size (1 = SGD)."""
    if batch_size is None or batch_size == "full":
        return 0
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, 'full' or None, got {batch_size!r}")
    return int(batch_size)


def check_batch(batch_size: Any, problem_kind: str, n: int, problem_name: str) -> int:
    """0 for the full batch, else the mini-batch size (1 = SGD) on this problem."""
    batch_size = check_batch_value(batch_size)
    if batch_size == 0:
        return 0
    if problem_kind != "data":
        raise ValueError(
            f"batch_size: problem {problem_name!r} has no data rows to sample; use noise=<σ> for a "
            "stochastic gradient, or leave batch_size unset"
        )
    return 0 if batch_size >= n else int(batch_size)


def check_noise(noise: Any) -> float:
    return 0.0 if noise is None else _num("noise", "noise", noise, lo=0)


def check_configs(configs: Any) -> list[dict[str, Any]]:
    """A non-empty sequence of mappings (a sweep's configurations) as a list of dicts."""
    if isinstance(configs, (str, bytes, Mapping)) or not hasattr(configs, "__len__") or not hasattr(
            configs, "__iter__"):
        raise ValueError(f"configs must be a list of dicts (one per configuration), got {type(configs).__name__}")
    out = []
    for k, c in enumerate(configs):
        if not isinstance(c, Mapping):
            raise ValueError(f"configs[{k}] must be a dict such as {{'lr': 0.01, 'seed': 0}}, got {c!r}")
        out.append(dict(c))
    if not out:
        raise ValueError("configs must not be empty")
    return out


def check_start(x0: Any, dim: int, where: str = "x0") -> np.ndarray:
    """A start point: ``dim`` finite float64 numbers."""
    try:
        x = np.asarray(x0, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        x = None
    if x is None or x.shape != (dim,) or not np.isfinite(x).all():
        raise ValueError(f"{where} must be {dim} finite numbers, got {x0!r}"[:300])
    return x


def check_real(name: str, v: Any, *, lo: float, lo_open: bool = False) -> float:
    """A finite real number ≥ ``lo`` (> ``lo`` when ``lo_open``); ValueError naming ``name``."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v) or (
            v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be a number {'>' if lo_open else '>='} {lo:g}, got {v!r}")
    return float(v)


#: the largest integer the compiled driver takes (int64)
INT_MAX = 2**63 - 1


def check_int(name: str, v: Any, lo: int) -> int:
    """An integer in [lo, INT_MAX] (the compiled driver's int64); ValueError naming ``name``."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo or v > INT_MAX:
        raise ValueError(f"{name} must be an integer >= {lo}{' (at most 2**63 - 1)' if v > INT_MAX else ''}, "
                         f"got {v!r}" if isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                         else f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


# --------------------------------------------------------------------------------------------
# random starts and restarts (encoded for the step loop: the kernel draws x0 from each
# configuration's own xoroshiro stream)

INIT_KINDS = {"fixed": 0, "uniform": 1, "normal": 2}
INIT_FIELDS = {"fixed": ("dist",), "uniform": ("dist", "low", "high"), "normal": ("dist", "scale", "center")}
RESTART_KINDS = {"none": 0, "every": 1, "stall": 2}
#: default stall window (steps) and tolerance (relative to f0 − f*) of ``restart = {on = "stall"}``
STALL_WINDOW = 100
STALL_TOL = 1e-4


def _vector(where: str, name: str, v: Any, dim: int) -> np.ndarray:
    """A number (broadcast) or a list of ``dim`` numbers, all finite."""
    items = v if isinstance(v, (list, tuple, np.ndarray)) else [v]
    if any(isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) for x in items):
        raise ValueError(f"{where}: {name} must be a number or a list of {dim} numbers, got {v!r}")
    a = np.array(items, dtype=np.float64)
    if items is not v:  # a single number applies to every coordinate
        a = np.full(dim, a[0])
    if a.shape != (dim,):
        raise ValueError(f"{where}: {name} must be a number or a list of {dim} numbers (the problem's dimension), "
                         f"got {a.size}")
    if not np.isfinite(a).all():
        raise ValueError(f"{where}: {name} must be finite, got {v!r}")
    return a


def encode_init(spec: Any, dim: int, x0: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """(kind, a, b) for the step loop's start: ``kind`` 0 fixed (a = x0), 1 uniform on the box
    [a, b), 2 normal with centre a and per-coordinate standard deviation b.

    ``spec``: ``None`` or ``"fixed"`` (the problem's x0), ``{"dist": "uniform", "low": l,
    "high": h}`` (numbers or lists of ``dim`` numbers), or ``{"dist": "normal", "scale": s,
    "center": c}`` (``center`` defaults to ``x0``). ValueError naming the field otherwise.
    """
    x0 = np.asarray(x0, dtype=np.float64).reshape(-1)
    if spec is None or spec == "fixed":
        return 0, x0.copy(), np.zeros(dim)
    if isinstance(spec, str):
        spec = {"dist": spec}
    if not isinstance(spec, Mapping) or spec.get("dist") not in INIT_KINDS:
        raise ValueError(f"init: must be \"fixed\" or a table with dist = one of {', '.join(INIT_KINDS)}, "
                         f"got {spec!r}")
    dist = spec["dist"]
    where = f"init ({dist})"
    extra = sorted(set(spec) - set(INIT_FIELDS[dist]))
    if extra:
        raise ValueError(f"{where}: unknown field {extra[0]!r}; allowed: {', '.join(INIT_FIELDS[dist])}")
    if dist == "fixed":
        return 0, x0.copy(), np.zeros(dim)
    if dist == "uniform":
        for k in ("low", "high"):
            if k not in spec:
                raise ValueError(f"{where}: {k} is required (a number or a list of {dim} numbers)")
        low = _vector(where, "low", spec["low"], dim)
        high = _vector(where, "high", spec["high"], dim)
        if not (low < high).all():
            i = int(np.argmax(~(low < high)))
            raise ValueError(f"{where}: low must be < high in every coordinate, got low = {float(low[i])!r} >= "
                             f"high = {float(high[i])!r} in coordinate {i}")
        return 1, low, high
    if "scale" not in spec:
        raise ValueError(f"{where}: scale is required (a number > 0 or a list of {dim} numbers > 0)")
    scale = _vector(where, "scale", spec["scale"], dim)
    if not (scale > 0).all():
        raise ValueError(f"{where}: scale must be > 0, got {spec['scale']!r}")
    center = x0.copy() if spec.get("center") is None else _vector(where, "center", spec["center"], dim)
    return 2, center, scale


def config_features(configs: Iterable[Mapping[str, Any]], steps: int) -> frozenset[str]:
    """The optional parts of the step loop (:data:`gdbench.kernels.codegen.FEATURES`) that these
    valid configurations use: what :func:`gdbench.engine.loop_features` finds in their encoded
    records, known from the specs alone (the suite planner does not build the problem)."""
    used: set[str] = set()
    for c in configs:
        if encode_restart(c.get("restart"))[0] != 0:
            used.add("restarts")
        if check_noise(c.get("noise")) > 0 or encode_clip(c.get("clip"))[0] != 0:
            used.add("transforms")
        init = c.get("init")
        if INIT_KINDS.get(init.get("dist") if isinstance(init, Mapping) else init, 0) != 0:
            used.add("starts")
        if encode_schedule(c.get("schedule"), steps)[0] != 0:
            used.add("schedules")
    return frozenset(used)


def encode_restart(spec: Any) -> tuple[int, int, float]:
    """(kind, k, tol) for the step loop's restart policy: 0 none; 1 every ``k`` steps; 2 when the
    run stalls: best f improved by less than ``tol``·(f₀ − f*) over the last ``k`` steps.

    ``spec``: ``None``, ``{"every": k}`` (integer k ≥ 1) or ``{"on": "stall", "window": w,
    "tol": t}`` (defaults w = 100 steps, t = 1e-4); ``"stall"`` is short for the latter.
    """
    if spec is None or spec == "none":
        return 0, 0, 0.0
    if spec == "stall":
        spec = {"on": "stall"}
    if not isinstance(spec, Mapping) or not ("every" in spec or spec.get("on") == "stall"):
        raise ValueError(f"restart: must be {{every = k}} or {{on = \"stall\", window = w, tol = t}}, got {spec!r}")
    allowed = ("every",) if "every" in spec else ("on", "window", "tol")
    extra = sorted(set(spec) - set(allowed))
    if extra:
        raise ValueError(f"restart: unknown field {extra[0]!r} here; allowed: {', '.join(allowed)}")
    if "every" in spec:
        k = spec["every"]
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"restart: every (the restart period in steps) must be an integer >= 1, got {k!r}")
        return 1, int(k), 0.0
    w = spec.get("window", STALL_WINDOW)
    if isinstance(w, bool) or not isinstance(w, int) or w < 1:
        raise ValueError(f"restart: window (steps) must be an integer >= 1, got {w!r}")
    t = _num("restart", "tol", spec.get("tol", STALL_TOL), lo=0, lo_open=True)
    return 2, int(w), t


def check_restart_init(restart_kind: int, init_kind: int) -> None:
    """A restart draws a fresh random start: restarts with a fixed x0 would repeat the same run."""
    if restart_kind != 0 and init_kind == 0:
        raise ValueError("restart: restarts need a random start (init = {dist = \"uniform\", ...} or "
                         "{dist = \"normal\", ...}); this problem starts from a fixed x0 only")
