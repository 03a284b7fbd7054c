"""Run K configurations of one (optimizer, problem) pair in one compiled call.

Python plans and times; every step runs inside the generated, cached driver
(:mod:`gdbench.kernels.loop`). Configurations are spread over threads (the driver releases the
GIL), each thread taking the next chunk, so diverging runs that stop early do not leave a core
idle.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._sys import usable_cores
from .kernels.codegen import driver
from .optimizers import Optimizer, get_optimizer
from .problems import Problem
from .resources import check_sweep  # issue 13: size limits before allocation
from .runspec import (
    check_batch,
    check_configs,
    check_int,
    check_noise,
    check_real,
    check_start,
    encode_clip,
    encode_schedule,
)

if TYPE_CHECKING:  # pandas costs ~0.25 s to import: loaded only when a trace frame is built
    import pandas as pd

STATUS_NAMES = ("max_steps", "converged", "diverged")
TRACE_COLUMNS = ("step", "loss", "grad_norm", "dist_to_opt")
#: problems of at most this dimension also record the iterate θ at every record (trajectories)
TRACE_THETA_DIM = 2
CONFIG_KEYS = ("lr", "seed", "batch_size", "schedule", "clip", "noise", "x0")
#: data size (n·d) from which a sweep of few full-batch configurations parallelises over rows
ROWS_MIN_ELEMENTS = 1 << 20


@dataclass
class SweepResult:
    """Outputs of one sweep; index k is the k-th configuration."""

    problem: Problem
    optimizer: Optimizer
    configs: list[dict[str, Any]]
    theta: np.ndarray  # (K, D) final iterates
    trace: np.ndarray  # (K, R, 4 [+ D]) records: step, loss, grad_norm, dist_to_opt [, θ when D <= 2]
    nrec: np.ndarray  # (K,) records written
    status_code: np.ndarray  # (K,)
    steps_done: np.ndarray  # (K,)
    wall_s: float  # the whole sweep, compilation excluded
    compile_s: float  # first-call compile or cache-load time in this process (0 if already loaded)
    threads: int
    status: list[str] = field(default_factory=list)

    def trace_frame(self, k: int) -> pd.DataFrame:
        """Configuration k's records, with suboptimality columns."""
        import pandas as pd

        tr = self.trace[k, : self.nrec[k]]
        cols = [*TRACE_COLUMNS, *(f"theta_{i}" for i in range(tr.shape[1] - len(TRACE_COLUMNS)))]
        df = pd.DataFrame(tr, columns=cols)
        df["step"] = df["step"].astype(np.int64)
        fs = self.problem.f_star
        df["suboptimality"] = df["loss"] - fs
        f0 = tr[0, 1] if len(tr) else np.nan
        scale = f0 - fs if f0 - fs > 0 else abs(f0) + 1.0
        df["rel_suboptimality"] = df["suboptimality"] / scale
        return df


def classify(code: int, trace: np.ndarray, f_star: float) -> str:
    """Status name. A run out of steps is ``stalled`` when, over the second half of its records,
    its best suboptimality improved by less than 1e-4 of the initial gap f₀ − f* while still
    above 1e-8 of it (stuck on a plateau or saddle, not merely slow or done)."""
    name = STATUS_NAMES[int(code)]
    if name != "max_steps" or trace.shape[0] < 4:
        return name
    sub = trace[:, 1] - f_star
    scale = sub[0] if sub[0] > 0 else abs(trace[0, 1]) + 1.0
    half = trace.shape[0] // 2
    first, second = np.min(sub[:half]), np.min(sub[half:])
    if first - second < 1e-4 * scale and second > 1e-8 * scale:
        return "stalled"
    return name


def _threads(requested: int | None) -> int:
    if requested is not None:
        return check_int("threads", requested, 1)
    env = os.environ.get("NUMBA_NUM_THREADS")
    if env and env.isdigit():
        return int(env)
    return usable_cores()


def sweep(
    problem: Problem,
    optimizer: str | Optimizer,
    configs: Sequence[Mapping[str, Any]],
    *,
    steps: int,
    record_every: int = 1,
    stop_tol: float = 0.0,
    div_factor: float = 1e6,
    x0: Any = None,
    threads: int | None = None,
    device: str = "cpu",
    rows: bool | None = None,
) -> SweepResult:
    """Run every configuration for up to ``steps`` steps.

    Each configuration is a mapping with optional ``lr``, ``seed`` (default 0), ``batch_size``
    (None = full batch, 1 = SGD), ``schedule``, ``clip``, ``noise`` (σ of added Gaussian gradient
    noise), ``x0`` (this configuration's start; default the ``x0`` argument, else the problem's)
    and the optimizer's other hyper-parameters. ``record_every=0`` records nothing (for
    timing); ``stop_tol > 0`` stops a run once (f − f*)/(f₀ − f*) ≤ stop_tol at a record.
    A run is marked diverged when f is NaN/Inf or f − f* > div_factor·(f₀ − f*).
    ``device="cuda"`` runs the whole sweep as one GPU launch (:mod:`gdbench.cuda`; ``threads`` is
    then unused) with the same outputs.
    ``rows``: parallelise each full-batch gradient over row blocks instead of running
    configurations side by side (None: automatically, when there are fewer configurations than
    threads and n·d ≥ ``ROWS_MIN_ELEMENTS``).
    """
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    opt = optimizer if isinstance(optimizer, Optimizer) else get_optimizer(optimizer)
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gdbench Problem, got {type(problem).__name__}")
    if opt.needs_hessian and not problem.has_hessian:
        raise ValueError(f"optimizer {opt.name!r} needs a Hessian; problem {problem.name!r} has none")
    steps = check_int("steps", steps, 0)
    record_every = check_int("record_every", record_every, 0)
    configs = check_configs(configs)  # issue 13: a non-empty list of dicts, else one ValueError
    div_factor = check_real("div_factor", div_factor, lo=0, lo_open=True)  # issue 13: never a TypeError
    stop_tol = check_real("stop_tol", stop_tol, lo=0)

    K, D = len(configs), problem.dim
    # --- resource check (issue 13): refuse a sweep that cannot fit before allocating its trace ---
    check_sweep(K, steps, record_every, D, 1 if device == "cuda" else min(_threads(threads), K), opt.needs_hessian)
    start = problem.x0 if x0 is None else check_start(x0, D)  # issue 13: ValueError, never a TypeError
    theta0 = np.tile(start, (K, 1))
    hp = np.zeros((K, max(len(opt.extra_names), 1)))
    lrs = np.empty(K)
    sched = np.zeros((K, 3))
    clip = np.zeros((K, 2))
    batch = np.zeros(K, dtype=np.int64)
    noise = np.zeros(K)
    seeds = np.zeros(K, dtype=np.int64)
    normalized = []
    for k, c in enumerate(configs):
        c = dict(c)
        hyper = {h: c.pop(h) for h in list(c) if h in opt.hyper}
        resolved = opt.resolve(**hyper)
        seed = c.pop("seed", 0)
        seeds[k] = check_int("seed", seed, 0)
        batch[k] = check_batch(c.pop("batch_size", None), problem.kind, problem.n, problem.name)
        sched[k] = encode_schedule(c.pop("schedule", None), steps)
        clip[k] = encode_clip(c.pop("clip", None))
        noise[k] = check_noise(c.pop("noise", None))
        x0k = c.pop("x0", None)
        if x0k is not None:  # this configuration's own start (e.g. a grid of starts for a basin map)
            theta0[k] = check_start(x0k, D, f"configs[{k}]: x0")  # issue 13
        if c:
            bad = sorted(c)[0]
            raise ValueError(
                f"optimizer {opt.name!r}: unknown hyper-parameter {bad!r}; allowed: "
                f"{', '.join([*opt.hyper, *CONFIG_KEYS[1:]])}"
            )
        lrs[k] = resolved["lr"]
        hp[k, : len(opt.extra_names)] = opt.hp_vector(resolved)
        normalized.append({**resolved, "seed": int(seeds[k]), "batch_size": int(batch[k]), **{
            "schedule": configs[k].get("schedule"), "clip": configs[k].get("clip"), "noise": float(noise[k])}})

    R = (steps // record_every + 2) if record_every > 0 else 1
    theta_out = np.empty((K, D))
    trace = np.full((K, R, len(TRACE_COLUMNS) + (D if D <= TRACE_THETA_DIM else 0)), np.nan)
    nrec = np.zeros(K, dtype=np.int64)
    status = np.zeros(K, dtype=np.int64)
    steps_done = np.zeros(K, dtype=np.int64)
    xs = problem.x_star if problem.x_star is not None else np.zeros(D)
    has_xs = problem.x_star is not None

    if device == "cuda":
        from .cuda import run_arrays

        wall, compile_s = run_arrays(problem, opt, theta0, hp, lrs, sched, clip, batch, noise, seeds, steps,
                                     record_every, float(stop_tol), float(div_factor), xs, has_xs, theta_out, trace,
                                     nrec, status, steps_done)
        res = SweepResult(problem, opt, normalized, theta_out, trace, nrec, status, steps_done, wall, compile_s, 1)
        res.status = [classify(status[k], trace[k, : nrec[k]], problem.f_star) for k in range(K)]
        return res

    T = min(_threads(threads), K)
    if rows is None:
        rows = (hasattr(problem.module, "loss_grad_rows") and K < _threads(threads)
                and problem.X.size >= ROWS_MIN_ELEMENTS and bool(np.all(batch <= 0)))
    rows = bool(rows) and hasattr(problem.module, "loss_grad_rows")
    if rows:
        T = 1  # the threads work inside each gradient instead
    drv = driver(opt.module, problem.module, rows)

    def call(lo: int, hi: int) -> None:
        drv.sweep(lo, hi, theta0, hp, lrs, sched, clip, batch, noise, seeds, steps, record_every,
                  float(stop_tol), float(div_factor), problem.X, problem.y, problem.prm, float(problem.f_star),
                  xs, has_xs, theta_out, trace, nrec, status, steps_done)

    t0 = time.perf_counter()
    compiled_before = len(drv.sweep.signatures)
    call(0, 0)  # compile (or load from the disk cache) outside the timed region
    compile_s = time.perf_counter() - t0 if len(drv.sweep.signatures) > compiled_before else 0.0

    t0 = time.perf_counter()
    if T == 1:
        call(0, K)
    else:
        chunk = max(1, K // (4 * T))
        bounds = [(lo, min(lo + chunk, K)) for lo in range(0, K, chunk)]
        with ThreadPoolExecutor(T) as ex:
            list(ex.map(lambda b: call(*b), bounds))
    wall = time.perf_counter() - t0

    res = SweepResult(problem, opt, normalized, theta_out, trace, nrec, status, steps_done, wall, compile_s, T)
    res.status = [classify(status[k], trace[k, : nrec[k]], problem.f_star) for k in range(K)]
    return res
