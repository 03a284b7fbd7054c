"""Memory and run-count estimates, made before anything large is allocated.

A typo of three zeros (``n = 1000000000000``, ``steps = 10000000000000``, a ``logspace`` of 10⁸
points) must be refused in a second with one line, not by numpy's ``MemoryError`` or the
kernel's out-of-memory killer. The functions here are pure arithmetic on sizes (no gdbench
imports), so the suite planner, :func:`gdbench.sweep` and the problem constructors share them:

- data of a data problem: ``n·(d+1)`` float64 × ``DATA_COPIES`` (generated, validated copy, the
  exact solver's design matrix), plus the solver's (d+1)² normal matrix / Hessian;
- a dense d×d problem matrix (``quadratic``): d² float64 × ``DENSE_COPIES`` (Gaussian draw, QR
  factor, A);
- the trace of a sweep: K configurations × R = steps // record_every + 2 records × columns × 8 B;
- per thread of a sweep: a (D×D) Hessian where the rule needs one;
- per planned run: ``PLAN_BYTES_PER_RUN`` (its spec, id and row of the runs table).

The limit is the memory available now (``MemAvailable`` in /proc/meminfo), or
``$GDBENCH_MAX_MEMORY`` (e.g. ``4G``; what ``gdbench run --max-memory`` sets).
"""

from __future__ import annotations

import math
import os
import re

ENV_MAX_MEMORY = "GDBENCH_MAX_MEMORY"
BYTES = 8  # float64
#: copies of the n·(d+1) data alive while a data problem is built (generator, validated copy, A = [X, 1])
DATA_COPIES = 3
#: copies of a d×d matrix alive while the quadratic is built (Gaussian draw, Q, A)
DENSE_COPIES = 3
#: plan entry + runs-table row of one run (spec dicts, ids, ~100 columns)
PLAN_BYTES_PER_RUN = 4096
#: one record of the long traces table (8 float/int columns + the run id), counted twice (frame + part file)
TRACE_ROW_BYTES = 2 * 9 * BYTES
#: trace columns: step, loss, grad_norm, dist_to_opt (+ θ where D <= 2)
TRACE_BASE_COLUMNS = 4
TRACE_THETA_DIM = 2

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


class ResourceError(ValueError):
    """A size that does not fit: one line naming what, the estimate and the limit."""


def parse_size(text: str | int) -> int:
    """Bytes from ``4G``, ``512M``, ``1.5GiB``, ``2TB`` or a plain number of bytes (powers of 1024)."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text <= 0:
            raise ValueError(f"memory size must be > 0, got {text!r}")
        return text
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgtp]?)(?:i?b)?\s*", str(text), flags=re.IGNORECASE)
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"memory size must be a number with an optional unit K, M, G, T (e.g. 4G), got {text!r}")
    return max(1, int(float(m.group(1)) * _UNITS[m.group(2).lower()]))


def fmt_size(nbytes: float) -> str:
    """``72.8 TiB``-style text."""
    v = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(v) < 1024 or unit == "PiB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.3g} {unit}"
        v /= 1024
    return f"{v:.3g} EiB"  # pragma: no cover


def available_memory() -> int | None:
    """``MemAvailable`` of /proc/meminfo in bytes (None where unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def memory_limit(limit: int | None = None) -> tuple[int | None, str]:
    """(bytes, where the limit comes from): ``limit``, else ``$GDBENCH_MAX_MEMORY``, else the
    available memory. ``None`` bytes: unknown (no check)."""
    if limit is not None:
        return limit, "--max-memory"
    env = os.environ.get(ENV_MAX_MEMORY)
    if env:
        try:
            return parse_size(env), f"${ENV_MAX_MEMORY}"
        except ValueError:
            raise ResourceError(f"${ENV_MAX_MEMORY}={env!r}: not a memory size; use e.g. 4G or 512M") from None
    return available_memory(), f"available memory; raise it with --max-memory or ${ENV_MAX_MEMORY}"


def check_memory(what: str, nbytes: float, detail: str = "", limit: int | None = None, hint: str = "") -> None:
    """Raise :class:`ResourceError` (one line) when ``nbytes`` exceeds the limit."""
    lim, source = memory_limit(limit)
    if lim is None or nbytes <= lim:
        return
    d = f" ({detail})" if detail else ""
    h = f"; {hint}" if hint else ""
    raise ResourceError(f"{what} would need about {fmt_size(nbytes)} of memory{d}; the limit is "
                        f"{fmt_size(lim)} ({source}){h}")


# -- estimates ---------------------------------------------------------------------------------


def trace_records(steps: int, record_every: int) -> int:
    """Records per configuration (the engine's R)."""
    return steps // record_every + 2 if record_every > 0 else 1


def trace_columns(dim: int | None) -> int:
    """Columns of a trace record; ``dim`` None (unknown yet): the widest."""
    if dim is None:
        return TRACE_BASE_COLUMNS + TRACE_THETA_DIM
    return TRACE_BASE_COLUMNS + (dim if dim <= TRACE_THETA_DIM else 0)


def trace_bytes(configs: int, steps: int, record_every: int, dim: int | None) -> int:
    """The (K, R, cols) float64 trace array of one sweep."""
    return configs * trace_records(steps, record_every) * trace_columns(dim) * BYTES


def data_bytes(n: int, d: int) -> int:
    """Peak memory of building a data problem of n rows and d features (data + solver)."""
    return DATA_COPIES * n * (d + 1) * BYTES + 2 * (d + 1) ** 2 * BYTES


def dense_bytes(d: int) -> int:
    """Peak memory of building a dense d×d problem matrix."""
    return DENSE_COPIES * d * d * BYTES


def vector_bytes(d: int) -> int:
    return 4 * d * BYTES


def hessian_bytes(dim: int) -> int:
    return dim * dim * BYTES


def sweep_bytes(configs: int, steps: int, record_every: int, dim: int, threads: int, hessian: bool) -> int:
    """What :func:`gdbench.sweep` allocates besides the problem: trace + per-thread Hessians and state."""
    per_thread = (hessian_bytes(dim) if hessian else 0) + 8 * dim * BYTES
    return trace_bytes(configs, steps, record_every, dim) + 6 * configs * dim * BYTES + threads * per_thread


def check_sweep(configs: int, steps: int, record_every: int, dim: int, threads: int, hessian: bool) -> None:
    """The engine's guard: ValueError before the trace of a too-large sweep is allocated."""
    R = trace_records(steps, record_every)
    check_memory(
        "sweep", sweep_bytes(configs, steps, record_every, dim, threads, hessian),
        f"trace of {configs} configurations × {R} records × {trace_columns(dim)} columns"
        + (f", {threads} Hessians of {dim}×{dim}" if hessian else ""),
        hint="record less often (record_every), run fewer steps or fewer configurations")


def check_data_size(problem: str, n: int, d: int) -> None:
    """The data problems' guard (n·d), before the data is generated."""
    check_memory(f"problem {problem!r}: n={n}, d={d}", data_bytes(n, d),
                 f"{DATA_COPIES} copies of {n}×{d + 1} float64 while building")


def check_dense_size(problem: str, d: int) -> None:
    """A dense d×d problem matrix's guard."""
    check_memory(f"problem {problem!r}: d={d}", dense_bytes(d), f"{DENSE_COPIES} copies of a {d}×{d} float64 matrix")


def check_vector_size(problem: str, d: int) -> None:
    check_memory(f"problem {problem!r}: d={d}", vector_bytes(d), f"vectors of {d} float64")


def grid_length(v: object) -> int:
    """How many values a suite field's grid holds, without expanding it (a list: its length;
    ``{logspace|linspace = [lo, hi, num]}``: num; anything else: 1). Malformed ranges count 1
    (their own validation reports them)."""
    if isinstance(v, list):
        return max(len(v), 1)
    if isinstance(v, dict) and len(v) == 1 and set(v) <= {"logspace", "linspace"}:
        spec = next(iter(v.values()))
        if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[2], int) and not isinstance(spec[2], bool):
            return max(spec[2], 1)
    return 1


def count(values: list[int]) -> int:
    """Product of grid lengths (exact integer arithmetic: no overflow, no float rounding)."""
    return math.prod(values)


__all__ = ["ResourceError", "available_memory", "check_data_size", "check_dense_size", "check_memory", "check_sweep",
           "check_vector_size", "data_bytes", "dense_bytes", "fmt_size", "grid_length", "memory_limit", "parse_size",
           "sweep_bytes", "trace_bytes", "trace_columns", "trace_records"]
