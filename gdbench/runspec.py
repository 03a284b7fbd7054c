"""Validated, encoded run options shared by the Python API, the harness and the GPU path.

Schedules, clipping, batch size and gradient noise are parsed here once, so every entry point
gives the same readable errors and the same encoding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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
