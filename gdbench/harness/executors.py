"""Where groups of runs execute: the unit of work and the executor contract.

The contract (stable; ``gdbench.harness.dask_executor`` builds on it)
-------------------------------------------------------------------
- The unit of work is a :class:`GroupTask`: ONE (problem spec, optimizer rule) pair and the list
  of configurations to run on it (with their stable run ids), plus the step budget, recording
  interval, tolerances and device. It is a frozen dataclass of plain Python values (str, int,
  float, tuples, dicts of those): picklable, small, and hashable by ``group_id``. A rule or
  problem that is a plugin travels as its source (``plugins``: ``gdbench.plugins.PluginSource``),
  which the worker loads first (``gdbench.plugins.ensure``): no shared folder needed. Problem data
  is NOT in the task: the worker builds it from ``problem_params`` with
  ``gdbench.problems.make(problem, **problem_params)`` (generated from a seed or read from a
  path the worker can see), so nothing large travels through a scheduler.
- The work function is :func:`gdbench.harness.worker.run_group` ``(task) -> GroupResult``: a
  module-level, pure function (no global state read or written besides numba's on-disk cache);
  a task may be retried or run twice and gives the same convergence columns. Raised exceptions
  propagate to the client (a ``ValueError`` there is a user error: bad data file, etc.).
- A :class:`GroupResult` is picklable: ``runs`` (one dict per run: plain scalars, every column
  of the runs table), ``traces`` (columnar dict ``column -> 1-D numpy array``, long format, one
  row per record), ``host`` (the worker's host name, also written into every run row), ``pid``,
  ``wall_s``.
- An executor is any object with::

      map_unordered(fn: Callable[[GroupTask], GroupResult], tasks: Iterable[GroupTask])
          -> Iterator[GroupResult]      # yield each result as soon as it completes
      close() -> None                   # release workers; idempotent

  Results are yielded in completion order (the harness writes each one atomically as it
  arrives, so an interrupted client loses nothing that came back). ``map_unordered`` may be
  called more than once on one executor. An exception from ``fn`` propagates out of the
  iterator (after the executor's own retries, if any).
- Executors are constructed from the registry :data:`EXECUTORS` by :func:`make_executor` as
  ``cls(scheduler=addr_or_None, workers=N_or_None)``; a registry value may be a class or a lazy
  ``"module:Class"`` string (so ``dask`` is imported only when asked for).
- Workers of out-of-process executors should run numba with one thread each
  (``NUMBA_NUM_THREADS=1`` set before numba is imported) unless told otherwise;
  ``GroupTask.threads`` is passed to ``gdbench.sweep`` (None: numba's default in that process).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .._sys import usable_cores


@dataclass(frozen=True)
class GroupTask:
    """One (problem, optimizer rule) pair and the configurations to run on it."""

    group_id: str  # stable id of the group (hash of problem spec + rule + device)
    suite: str  # suite name (copied into the runs table)
    problem: str  # problem label in the suite (e.g. "linreg_small")
    problem_name: str  # registry name for gdbench.problems.make (e.g. "linreg")
    problem_params: dict[str, Any]  # keyword arguments for gdbench.problems.make
    rule: str  # update rule: a key of gdbench.OPTIMIZERS (e.g. "gd", "adam")
    run_ids: tuple[str, ...]  # one stable id per configuration
    configs: tuple[dict[str, Any], ...]  # gdbench.sweep configurations (lr, seed, batch_size, ...)
    labels: tuple[dict[str, Any], ...]  # per run: {"variant": "sgd", "run_name": "sgd[lr=0.01]", ...}
    steps: int  # step budget per run
    record_every: int = 10  # trace interval (steps)
    tolerances: tuple[float, ...] = (1e-2, 1e-4, 1e-6, 1e-8)  # on relative suboptimality
    stop_tol: float = 0.0  # stop a run once rel. suboptimality <= stop_tol (0: run the budget)
    div_factor: float = 1e6
    time_budget_s: float | None = None  # per run; caps the steps by the measured ns/step
    timing_steps: int = 2000  # steps per configuration in the untimed-recording timing pass (0: skip)
    escape_frac: float = 0.1  # saddle escape: f < f_saddle - escape_frac * (f_saddle - f*)
    device: str = "cpu"  # passed to gdbench.sweep as device= only when not "cpu"
    threads: int | None = None  # gdbench.sweep threads (None: numba's default)
    plugins: tuple[Any, ...] = ()  # gdbench.plugins.PluginSource of the rule/problem: their source travels
    driver_rules: tuple[str, ...] = ()  # built-in rules sharing one compiled driver on this problem (see sweep)
    driver_problems: tuple[str, ...] = ()  # problems sharing that driver (one family of the suite; see sweep)
    basin_map: int = 0  # grid points per axis of a basin map (2-D multimodal problems; 0: none)
    basin_box: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # (low, high) the map covers

    @property
    def n_runs(self) -> int:
        return len(self.run_ids)

    def subset(self, keep: Iterable[str]) -> GroupTask:
        """The same group restricted to the run ids in ``keep`` (for --resume)."""
        keep = set(keep)
        idx = [i for i, r in enumerate(self.run_ids) if r in keep]
        from dataclasses import replace

        return replace(self, run_ids=tuple(self.run_ids[i] for i in idx),
                       configs=tuple(self.configs[i] for i in idx), labels=tuple(self.labels[i] for i in idx))


@dataclass
class GroupResult:
    """What a worker sends back for one :class:`GroupTask`."""

    group_id: str
    runs: list[dict[str, Any]]  # one row per run (every column of the runs table)
    traces: dict[str, np.ndarray] = field(default_factory=dict)  # long format, columnar
    host: str = ""
    pid: int = 0
    wall_s: float = 0.0  # worker time spent on the whole task (build + compile + runs)
    basins: dict[str, np.ndarray] = field(default_factory=dict)  # the basin map, columnar (may be empty)


class Executor(Protocol):
    """What the harness needs from an executor (see the module docstring)."""

    def map_unordered(self, fn: Callable[[GroupTask], GroupResult],
                      tasks: Iterable[GroupTask]) -> Iterator[GroupResult]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """In-process, one task at a time (default; cleanest timings, sweeps use every core)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        if scheduler:
            raise ValueError("--scheduler is only meaningful with --executor dask")

    def map_unordered(self, fn: Callable[[GroupTask], GroupResult],
                      tasks: Iterable[GroupTask]) -> Iterator[GroupResult]:
        for t in tasks:
            yield fn(t)

    def close(self) -> None:
        pass


def _single_thread_worker() -> None:
    """Process-pool initializer: one numba thread per worker (set before numba is imported in
    spawned workers; for forked ones numba may already be imported, so also set it at run time)."""
    os.environ["NUMBA_NUM_THREADS"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import numba

        # unpickling this initializer imported gdbench, hence numba, before the line above: make
        # numba re-read NUMBA_NUM_THREADS before its pool starts, else its next compile raises
        numba.core.config.reload_config()
        numba.set_num_threads(1)
    except Exception:  # noqa: BLE001 - best effort; the task still passes threads=1
        pass


class ProcessExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes (default: the usable cores), each with
    one numba thread; results are yielded as they complete."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        if scheduler:
            raise ValueError("--scheduler is only meaningful with --executor dask")
        if workers is None:
            workers = usable_cores()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"--workers must be an integer >= 1, got {workers!r}")
        self.workers = workers
        import multiprocessing as mp

        # spawn: a clean interpreter where NUMBA_NUM_THREADS=1 is set before numba is imported
        self._pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                         initializer=_single_thread_worker)

    def map_unordered(self, fn: Callable[[GroupTask], GroupResult],
                      tasks: Iterable[GroupTask]) -> Iterator[GroupResult]:
        pending: set[Future] = set()
        it = iter(tasks)
        limit = 2 * self.workers  # keep workers busy without queueing everything up front
        try:
            while True:
                while len(pending) < limit:
                    t = next(it, None)
                    if t is None:
                        break
                    pending.add(self._pool.submit(fn, t))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        finally:
            for f in pending:
                f.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


#: name -> executor class, or a lazy "module:Class" string
EXECUTORS: dict[str, Any] = {
    "local": LocalExecutor,
    "processes": ProcessExecutor,
    "dask": "gdbench.harness.dask_executor:DaskExecutor",
}


def make_executor(name: str, *, scheduler: str | None = None, workers: int | None = None) -> Executor:
    """Construct the executor ``name`` as ``cls(scheduler=..., workers=...)``."""
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}")
    entry = EXECUTORS[name]
    if isinstance(entry, str):
        modname, _, clsname = entry.partition(":")
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            raise ValueError(f"executor {name!r} is not available ({e}); install gdbench[{name}]") from None
        entry = getattr(mod, clsname)
    return entry(scheduler=scheduler, workers=workers)
