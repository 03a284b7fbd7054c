"""Run K configurations of one (optimizer, problem) pair in one compiled call.

Python plans and times; every step runs inside the generated, cached driver
(:mod:`gdbench.kernels.loop`). Configurations are spread over threads (the driver releases the
GIL), each thread taking the next chunk, so diverging runs that stop early do not leave a core
idle. ``device="cuda"`` hands the same records to one GPU launch (:mod:`gdbench.cuda.sweep`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._sys import usable_cores
from .kernels.records import TRACE_FIXED, Budget, Configs, Outputs, ProblemArrays, Scratch
from .kernels.support import rel_scale_py
from .optimizers import Optimizer
from .problems import Problem
from .resources import check_sweep
from .runspec import (
    check_batch,
    check_configs,
    check_int,
    check_noise,
    check_real,
    check_restart_init,
    check_start,
    encode_clip,
    encode_init,
    encode_restart,
    encode_schedule,
)

if TYPE_CHECKING:  # pandas costs ~0.25 s to import: loaded only when a trace frame is built
    import pandas as pd

STATUS_NAMES = ("max_steps", "converged", "diverged")
TRACE_COLUMNS = TRACE_FIXED
#: problems of at most this dimension also record the iterate θ at every record (trajectories)
TRACE_THETA_DIM = 2
CONFIG_KEYS = ("lr", "seed", "batch_size", "schedule", "clip", "noise", "x0", "init", "restart")
#: data size (n·d) from which a sweep of few configurations parallelises its full passes over rows
ROWS_MIN_ELEMENTS = 1 << 20
#: random starts and restarts are available (the harness and tests check for it)
SUPPORTS_RANDOM_STARTS = True


@dataclass
class SweepResult:
    """Outputs of one sweep; index k is the k-th configuration."""

    problem: Problem
    optimizer: Optimizer
    configs: list[dict[str, Any]]
    theta: np.ndarray  # (K, D) final iterates (the best one of a run with restarts)
    trace: np.ndarray  # (K, R, 5 [+ D]) records: step, loss, grad_norm, dist_to_opt, restarts [, θ when D <= 2]
    nrec: np.ndarray  # (K,) records written
    status_code: np.ndarray  # (K,)
    steps_done: np.ndarray  # (K,)
    wall_s: float  # the whole sweep, compilation excluded
    compile_s: float  # first-call compile or cache-load time in this process (0 if already loaded)
    threads: int
    status: list[str] = field(default_factory=list)
    theta_start: np.ndarray | None = None  # (K, D) the start each configuration actually used
    restarts: np.ndarray | None = None  # (K,) restarts made
    loss: np.ndarray | None = None  # (K,) f at ``theta`` from the driver's last full evaluation (NaN: diverged)

    def trace_frame(self, k: int) -> pd.DataFrame:
        """Configuration k's records, with suboptimality columns (``restarts`` when a policy is on)."""
        import pandas as pd

        tr = self.trace[k, : self.nrec[k]]
        nf = len(TRACE_COLUMNS)
        keep_restarts = bool(self.configs[k].get("restart"))
        data: dict[str, np.ndarray] = {}
        for i, c in enumerate(TRACE_COLUMNS):
            if c == "restarts" and not keep_restarts:
                continue
            data[c] = tr[:, i].astype(np.int64) if c in ("step", "restarts") else tr[:, i].copy()
        for i in range(tr.shape[1] - nf):
            data[f"theta_{i}"] = tr[:, nf + i].copy()
        fs = self.problem.f_star
        sub = data["loss"] - fs
        data["suboptimality"] = sub
        f0 = tr[0, 1] if len(tr) else np.nan
        data["rel_suboptimality"] = sub / rel_scale_py(f0, fs)
        return pd.DataFrame(data, copy=False)


def classify(code: int, trace: np.ndarray, f_star: float) -> str:
    """Status name. A run out of steps is ``stalled`` when, over the second half of its records,
    its best suboptimality improved by less than 1e-4 of the initial gap f₀ − f* while still
    above 1e-8 of it (stuck on a plateau or saddle, not merely slow or done)."""
    name = STATUS_NAMES[int(code)]
    if name != "max_steps" or trace.shape[0] < 4:
        return name
    sub = trace[:, 1] - f_star
    scale = rel_scale_py(trace[0, 1], f_star)
    half = trace.shape[0] // 2
    first, second = np.min(sub[:half]), np.min(sub[half:])
    if first - second < 1e-4 * scale and second > 1e-8 * scale:
        return "stalled"
    return name


class CompileError(ValueError):
    """A rule or problem that numba cannot compile: one line at the user's file and line."""


@contextlib.contextmanager
def compile_errors(opt: Optimizer, problem: Problem) -> Iterator[None]:
    """Turn numba's multi-page compile errors into one :class:`CompileError` naming the plugin's line."""
    try:
        yield
    except Exception as e:
        from numba.core.errors import NumbaError

        if not isinstance(e, NumbaError):
            raise
        from .checks import explain

        files = [f for f in (opt.path, problem.definition.path) if f]
        raise CompileError(f"cannot compile {opt.name!r} x {problem.name!r}: {explain(e, files)}") from None


def _threads(requested: int | None) -> int:
    if requested is not None:
        return check_int("threads", requested, 1)
    env = os.environ.get("NUMBA_NUM_THREADS")
    if env and env.isdigit():
        return int(env)
    return usable_cores()


def _max_restarts(kind: int, period: int, steps: int) -> int:
    return 0 if kind == 0 else steps // max(period, 1) + 1


def loop_features(cfg: Configs) -> frozenset[str]:
    """The optional parts of the step loop (:data:`gdbench.kernels.codegen.FEATURES`) these
    configurations use: the driver compiled for them leaves the others out
    (:func:`gdbench.runspec.config_features` answers the same from the configurations' specs)."""
    used = {"restarts": np.any(cfg.restart[:, 0] != 0),
            "transforms": np.any(cfg.noise > 0) or np.any(cfg.clip[:, 0] != 0),
            "starts": np.any(cfg.init_kind != 0), "schedules": np.any(cfg.sched[:, 0] != 0)}
    return frozenset(f for f, on in used.items() if on)


def prepare(problem: Problem, opt: Optimizer, configs: Sequence[Mapping[str, Any]], *, steps: int, record_every: int,
            stop_tol: float, div_factor: float, x0: Any, rule: int = 0, hp_width: int = 0,
            kid: int = 0) -> tuple[Configs, ProblemArrays, Budget, Outputs, list[dict[str, Any]]]:
    """Validate and encode the configurations into the driver's records (shared by CPU and GPU).
    ``rule``: the rule's index in a driver holding several; ``hp_width``: their widest hyper-parameter
    list; ``kid``: the problem's index in a driver holding several."""
    K, D = len(configs), problem.dim
    start = problem.x0 if x0 is None else check_start(x0, D)
    theta0 = np.tile(start, (K, 1))
    hp = np.zeros((K, max(len(opt.extra_names), hp_width, 1)))
    lrs = np.empty(K)
    sched = np.zeros((K, 3))
    clip = np.zeros((K, 2))
    batch = np.zeros(K, dtype=np.int64)
    noise = np.zeros(K)
    seeds = np.zeros(K, dtype=np.int64)
    init_kind = np.zeros(K, dtype=np.int64)
    init_a = np.zeros((K, D))
    init_b = np.zeros((K, D))
    restart = np.zeros((K, 3))
    extra_records = 0
    normalized = []
    for k, c in enumerate(configs):
        c = dict(c)
        hyper = {h: c.pop(h) for h in list(c) if h in opt.hyper}
        resolved = opt.resolve(**hyper)
        seeds[k] = check_int("seed", c.pop("seed", 0), 0)
        batch[k] = check_batch(c.pop("batch_size", None), problem.kind, problem.n, problem.name)
        sched[k] = encode_schedule(c.pop("schedule", None), steps)
        clip[k] = encode_clip(c.pop("clip", None))
        noise[k] = check_noise(c.pop("noise", None))
        x0k = c.pop("x0", None)
        if x0k is not None:  # this configuration's own start (e.g. a grid of starts for a basin map)
            theta0[k] = check_start(x0k, D, f"configs[{k}]: x0")
        init_kind[k], init_a[k], init_b[k] = encode_init(c.pop("init", None), D, theta0[k])
        rk, rp, rt = encode_restart(c.get("restart"))
        c.pop("restart", None)
        check_restart_init(rk, int(init_kind[k]))
        restart[k] = (rk, rp, rt)
        extra_records = max(extra_records, _max_restarts(rk, rp, steps))
        if c:
            bad = sorted(c)[0]
            raise ValueError(f"optimizer {opt.name!r}: unknown hyper-parameter {bad!r}; allowed: "
                             f"{', '.join([*opt.hyper, *CONFIG_KEYS[1:]])}")
        lrs[k] = resolved["lr"]
        hp[k, : len(opt.extra_names)] = opt.hp_vector(resolved)
        orig = configs[k]
        normalized.append({**resolved, "seed": int(seeds[k]), "batch_size": int(batch[k]),
                           "schedule": orig.get("schedule"), "clip": orig.get("clip"), "noise": float(noise[k]),
                           **{key: orig[key] for key in ("init", "restart") if orig.get(key) is not None}})

    R = (steps // record_every + 2 + extra_records) if record_every > 0 else 1
    C = len(TRACE_COLUMNS) + (D if D <= TRACE_THETA_DIM else 0)
    out = Outputs(theta=np.empty((K, D)), trace=np.full((K, R, C), np.nan), nrec=np.zeros(K, dtype=np.int64),
                  status=np.zeros(K, dtype=np.int64), steps_done=np.zeros(K, dtype=np.int64),
                  theta_start=np.empty((K, D)), restarts=np.zeros(K, dtype=np.int64), loss=np.full(K, np.nan))
    has_xs = problem.x_star is not None
    prob = ProblemArrays(X=problem.X, y=problem.y, prm=problem.prm, f_star=float(problem.f_star),
                         x_star=problem.x_star if has_xs else np.zeros(D), has_xstar=has_xs, kid=np.int64(kid))
    cfg = Configs(theta0=theta0, hp=hp, lrs=lrs, sched=sched, clip=clip, batch=batch, noise=noise, seeds=seeds,
                  init_kind=init_kind, init_a=init_a, init_b=init_b, restart=restart,
                  rule=np.full(K, rule, dtype=np.int64))
    bud = Budget(steps=np.int64(steps), record_every=np.int64(record_every), stop_tol=float(stop_tol),
                 div_factor=float(div_factor))
    return cfg, prob, bud, out, normalized


def sweep(
    problem: Problem,
    optimizer: Any,
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
    rules: Sequence[Any] | None = None,
    problems: Sequence[Any] | None = None,
    features: Iterable[str] = (),
) -> SweepResult:
    """Run every configuration for up to ``steps`` steps.

    ``optimizer`` is a registry name, a path to a rule file of yours (registered on first use), a
    module or an :class:`Optimizer` record. Each configuration is a mapping with optional ``lr``,
    ``seed`` (default 0), ``batch_size`` (None = full batch, 1 = SGD), ``schedule``, ``clip``,
    ``noise`` (σ of added Gaussian gradient noise), ``x0`` (this configuration's start; default the
    ``x0`` argument, else the problem's), ``init`` (a random start drawn from the seed's stream:
    ``{"dist": "uniform", "low": l, "high": h}`` or ``{"dist": "normal", "scale": σ}``),
    ``restart`` (``{"every": k}`` or ``{"on": "stall", "window": w}``: fresh random starts, keeping
    the best iterate; the budget counts every restart's steps) and the optimizer's other
    hyper-parameters. ``record_every=0`` records nothing (for timing); ``stop_tol > 0`` stops a run
    once (f − f*)/(f₀ − f*) ≤ stop_tol at a record. A run is marked diverged when f is NaN/Inf or
    f − f* > div_factor·(f₀ − f*).
    ``device="cuda"`` runs the whole sweep as one GPU launch (:mod:`gdbench.cuda`; ``threads`` is
    then unused) with the same outputs.
    ``rows``: parallelise each pass over all rows (a full-batch step; a mini-batch or SGD run's
    evaluations at its start, its records and its end) over row blocks instead of running
    configurations side by side (None: automatically, when there are fewer configurations than
    threads and n·d ≥ ``ROWS_MIN_ELEMENTS``). Mini-batch and SGD steps stay serial, so their
    steps are the same bits either way; the full evaluations are summed by row blocks, which
    changes their last bits (the loss and the records agree to ~1e-14).
    ``rules``: run on a driver compiled for these update rules together (``optimizer`` among them):
    the same results, and one compile for a whole suite's rules on this problem (the harness does
    this; on the GPU and for the row-parallel driver the rule's own driver is used).
    ``problems``: likewise, run on a driver compiled for these problems (registry names or
    records, all of the problem's kind, its own definition among them): one compile of the step
    loop for a suite's problems of one family, the same results.
    ``features``: optional parts of the step loop (:data:`gdbench.kernels.codegen.FEATURES`) to
    compile in beyond those the configurations use, so that sweeps over subsets of a group's
    configurations share its driver (the harness passes the group's); the same results.
    """
    from .plugins import resolve_optimizer

    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    opt = resolve_optimizer(optimizer)
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gdbench Problem, got {type(problem).__name__}")
    if opt.needs_hessian and not problem.has_hessian:
        raise ValueError(f"optimizer {opt.name!r} needs a Hessian; problem {problem.name!r} has none")
    steps = check_int("steps", steps, 0)
    record_every = check_int("record_every", record_every, 0)
    configs = check_configs(configs)  # a non-empty list of mappings, else one ValueError
    div_factor = check_real("div_factor", div_factor, lo=0, lo_open=True)
    stop_tol = check_real("stop_tol", stop_tol, lo=0)
    K = len(configs)
    # size limits before any allocation: a sweep that cannot fit is one ValueError, never a MemoryError
    check_sweep(K, steps, record_every, problem.dim, 1 if device == "cuda" else min(_threads(threads), K),
                opt.needs_hessian)
    opts: tuple[Optimizer, ...] = (opt,)
    if rules is not None and device == "cpu":
        found = {o.name: o for o in map(resolve_optimizer, rules)}
        if found.get(opt.name) is not opt:
            raise ValueError(f"rules must include the optimizer {opt.name!r}, got {list(found)}")
        opts = tuple(found.values())
    defs = (problem.definition,)
    if problems is not None and device == "cpu":
        from .plugins import resolve_problem

        named = {d.name: d for d in map(resolve_problem, problems)}
        if named.get(problem.definition.name) is not problem.definition:
            raise ValueError(f"problems must include the problem {problem.definition.name!r}, got {list(named)}")
        if any(d.kind != problem.kind for d in named.values()):
            raise ValueError(f"problems must all be of the problem's kind ({problem.kind!r}), got "
                             f"{[(n, d.kind) for n, d in named.items()]}")
        defs = tuple(named.values())
    cfg, prob, bud, out, normalized = prepare(problem, opt, configs, steps=steps, record_every=record_every,
                                              stop_tol=stop_tol, div_factor=div_factor, x0=x0,
                                              rule=[o.name for o in opts].index(opt.name),
                                              hp_width=max(len(o.extra_names) for o in opts),
                                              kid=defs.index(problem.definition))

    if device == "cuda":
        from .cuda import require_cuda

        require_cuda()
        from .cuda.sweep import run_records

        with compile_errors(opt, problem):
            wall, compile_s = run_records(problem, opt, cfg, prob, bud, out)
        T = 1
    else:
        from .kernels.codegen import check_features, driver

        T = min(_threads(threads), K)
        kern = problem.kernels
        if rows is None:
            rows = (hasattr(kern, "loss_grad_rows") and K < _threads(threads)
                    and problem.X.size >= ROWS_MIN_ELEMENTS)
        rows = bool(rows) and hasattr(kern, "loss_grad_rows")
        if rows:
            T = 1  # the threads work inside each gradient instead
            if len(opts) > 1 or len(defs) > 1:  # the row-parallel drivers stay one per pair (rare: large data)
                opts, defs = (opt,), (problem.definition,)
                cfg = cfg._replace(rule=np.zeros(K, dtype=np.int64))
                prob = prob._replace(kid=np.int64(0))
        drv = driver(opts if len(opts) > 1 else opt, defs if len(defs) > 1 else defs[0], rows, problem.dim,
                     loop_features(cfg) | check_features(features))
        scr = Scratch(perm_all=np.zeros((1, 1), dtype=np.int32), perm_row=np.zeros(1, dtype=np.int64))

        def call(lo: int, hi: int) -> None:
            drv.sweep(lo, hi, cfg, prob, bud, out, scr)

        t0 = time.perf_counter()
        # the dispatcher's compiled overloads (a dict: ``signatures`` would hash every argument type
        # again, ~0.1 ms a sweep); None: NUMBA_DISABLE_JIT=1 (plain Python)
        sigs = getattr(drv.sweep, "overloads", None)
        compiled_before = len(sigs) if sigs is not None else 0
        with compile_errors(opt, problem):
            call(0, 0)  # compile (or load from the disk cache) outside the timed region
        sigs = getattr(drv.sweep, "overloads", None)
        compile_s = time.perf_counter() - t0 if sigs is not None and len(sigs) > compiled_before else 0.0

        t0 = time.perf_counter()
        if T == 1:
            call(0, K)
        else:
            chunk = max(1, K // (4 * T))
            bounds = [(lo, min(lo + chunk, K)) for lo in range(0, K, chunk)]
            with ThreadPoolExecutor(T) as ex:
                list(ex.map(lambda b: call(*b), bounds))
        wall = time.perf_counter() - t0

    res = SweepResult(problem, opt, normalized, out.theta, out.trace, out.nrec, out.status, out.steps_done, wall,
                      compile_s, T, theta_start=out.theta_start, restarts=out.restarts, loss=out.loss)
    res.status = [classify(out.status[k], out.trace[k, : out.nrec[k]], problem.f_star) for k in range(K)]
    return res
