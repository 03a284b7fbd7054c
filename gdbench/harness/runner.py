"""Plan → executor → results folder: the orchestration behind ``gdbench run``."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from .._sys import usable_cores
from .executors import make_executor
from .store import ResultStore, atomic_write_text
from .suite import Plan
from .worker import run_group

# --------------------------------------------------------------------------------------------
# progress


class Progress:
    """A one-line progress bar with ETA on stderr (a line every few seconds when not a TTY)."""

    def __init__(self, total_runs: int, total_groups: int, stream: TextIO | None = None, enabled: bool = True):
        self.total, self.groups = total_runs, total_groups
        self.done = self.gdone = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self._last = 0.0

    @staticmethod
    def _clock(s: float) -> str:
        s = int(round(s))
        return f"{s // 60}:{s % 60:02d}"

    def line(self) -> str:
        el = time.perf_counter() - self.t0
        frac = self.done / self.total if self.total else 1.0
        width = 24
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        eta = self._clock(el / frac * (1 - frac)) if frac > 0 else "?"
        return (f"[{bar}] {self.done}/{self.total} runs  {self.gdone}/{self.groups} groups  "
                f"{self._clock(el)} elapsed  ETA {eta}")

    def update(self, runs: int, groups: int = 1) -> None:
        self.done += runs
        self.gdone += groups
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            self.stream.write("\r" + self.line())
            self.stream.flush()
        elif now - self._last > 5.0 or self.done >= self.total:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last = now

    def finish(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


# --------------------------------------------------------------------------------------------
# environment metadata


def _git_commit() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
        return {"git_commit": head.stdout.strip() or None, "git_dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(threads: int | None = None) -> dict[str, Any]:
    import numba
    import numpy
    import pandas

    import gdbench

    from .. import _config

    ncpu = usable_cores()
    env = {
        "gdbench": gdbench.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "pandas": pandas.__version__,
        "platform": platform.platform(),
        "host": platform.node(),
        "cpu": _cpu_name(),
        "cpus_usable": ncpu,
        "threads": threads or numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "numba_jit_options": {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in _config.JIT.items()},
        "numba_env": {k: v for k, v in os.environ.items() if k.startswith("NUMBA_") or k.startswith("GDBENCH_")},
    }
    with contextlib.suppress(ImportError):
        import pyarrow

        env["pyarrow"] = pyarrow.__version__
    env.update(_git_commit())
    return env


# --------------------------------------------------------------------------------------------
# compile ahead, in parallel, only the pairs the plan uses


@dataclasses.dataclass(frozen=True)
class CompileJob:
    """One compiled driver a plan needs: the pair, and the dimension when the pair gets the
    tiny-problem driver (compiled per dimension; 0 otherwise), with what building it takes."""

    rule: str
    problem: str
    dim: int = 0
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)
    plugins: tuple = dataclasses.field(default=(), compare=False, hash=False)
    rules: tuple[str, ...] = ()  # the rules sharing the driver (empty: the rule's own driver)
    features: tuple[str, ...] = ()  # the optional loop parts compiled in (codegen.FEATURES order)
    problems: tuple[str, ...] = ()  # the problems sharing the driver (empty: the problem's own driver)

    @property
    def key(self) -> tuple[str, str, int, tuple[str, ...]]:
        """Which compiled driver: the shared one of ``rules`` and ``problems``, else the pair's own."""
        rule = "+".join(self.rules) if len(self.rules) > 1 else self.rule
        problem = "+".join(self.problems) if len(self.problems) > 1 else self.problem
        return rule, problem, self.dim, self.features

    def to_json(self) -> str:
        return json.dumps([self.rule, self.problem, self.dim, self.params,
                           [dataclasses.asdict(x) for x in self.plugins], list(self.rules), list(self.features),
                           list(self.problems)], default=str)

    @classmethod
    def from_json(cls, line: str) -> CompileJob:
        from ..plugins import PluginSource

        rule, problem, dim, params, plugins, rules, features, problems = json.loads(line)
        return cls(rule, problem, dim, params, tuple(PluginSource(**x) for x in plugins), tuple(rules),
                   tuple(features), tuple(problems))


def compile_job(task) -> CompileJob:
    """The driver a task needs (analytic problems are built to know their dimension: cheap)."""
    from ..kernels.codegen import tiny
    from ..problems import get_problem
    from .worker import build_problem, loop_features

    defn = get_problem(task.problem_name)
    dim = 0
    if defn.kind == "analytic":
        d = build_problem(task.problem_name, task.problem_params).dim
        dim = d if tiny(defn, d) else 0
    params = task.problem_params if dim else {}
    rules = task.driver_rules if task.device == "cpu" and len(task.driver_rules) > 1 else ()
    problems = task.driver_problems if task.device == "cpu" and len(task.driver_problems) > 1 else ()
    features = loop_features(task) if task.device == "cpu" else ()
    return CompileJob(task.rule, task.problem_name, dim, params, task.plugins, rules, features, problems)


def _pair_is_cached(job: CompileJob) -> bool:
    """Best-effort: the generated driver is current and numba has a cache index for it."""
    try:
        from ..kernels import codegen
        from ..optimizers import get_optimizer
        from ..problems import get_problem

        opts = tuple(map(get_optimizer, job.rules)) if job.rules else get_optimizer(job.rule)
        probs = tuple(map(get_problem, job.problems)) if job.problems else get_problem(job.problem)
        return codegen.is_cached(opts, probs, dim=job.dim or None, features=job.features)
    except Exception:  # noqa: BLE001 - a wrong guess only costs an in-process compile
        return False


_TINY = {"data": {"n": 8, "d": 2}, "analytic": {}}


def compile_pair(job: CompileJob) -> tuple[str, str, float]:
    """Compile (or load) the driver of one job with a one-step sweep on a small instance."""
    t0 = time.perf_counter()
    import gdbench
    from gdbench.plugins import ensure
    from gdbench.problems import PROBLEMS, make

    ensure(job.plugins)
    with warnings.catch_warnings():  # a throw-away instance: its notes (an estimated f*, ...) are noise
        warnings.simplefilter("ignore")
        p = make(job.problem, **(job.params if job.dim else _TINY[PROBLEMS[job.problem].KIND]))
    gdbench.sweep(p, job.rule, [{"lr": 1e-3}], steps=1, record_every=1, threads=1, rules=job.rules or None,
                  problems=job.problems or None, features=job.features)
    return job.rule, job.problem, time.perf_counter() - t0


def _one_thread() -> None:
    os.environ["NUMBA_NUM_THREADS"] = "1"


def precompile(jobs: list[CompileJob], workers: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Compile the uncached drivers in a pool of ``workers`` processes, filling numba's disk
    cache before the timed runs (the in-process runs then only load them). Measured slower than
    :class:`BackgroundCompiler` on the shared 2-core machine; kept for ``--compile-mode pool``."""
    cold = [j for j in jobs if not _pair_is_cached(j)]
    info: dict[str, Any] = {"mode": "pool", "pairs": len(jobs), "cold": len(cold), "workers": 0, "wall_s": 0.0}
    if len(cold) < 2 or workers < 2:
        return info
    import multiprocessing as mp

    t0 = time.perf_counter()
    w = min(workers, len(cold))
    log(f"compiling {len(cold)} uncached (rule, problem) drivers in {w} processes ...")
    with ProcessPoolExecutor(w, mp_context=mp.get_context("spawn"), initializer=_one_thread) as ex:
        list(ex.map(compile_pair, cold))
    info.update(workers=w, wall_s=time.perf_counter() - t0)
    log(f"compiled {len(cold)} drivers in {info['wall_s']:.1f} s")
    return info


def _compile_from_stdin(prewarm: bool = False, plan: str | None = None) -> None:  # pragma: no cover - helper
    from gdbench.plugins import ensure

    first: list[CompileJob] = []
    if plan is not None:  # the drivers this helper will be given, known from the suite alone
        try:
            first = planned_jobs(json.loads(plan))
        except Exception:  # noqa: BLE001 - the run's process reports a bad suite; here: prewarm instead
            first = []
    if prewarm and not first:  # while the run's process builds the suite's problems: the shared kernels
        from .prewarm import prewarm as compile_shared

        compile_shared()
    for job in first:
        ensure(job.plugins)
        if not _pair_is_cached(job):
            compile_pair(job)
    for line in sys.stdin:
        job = CompileJob.from_json(line)
        ensure(job.plugins)
        if not _pair_is_cached(job):
            compile_pair(job)
    gc.freeze()  # a fast exit, as ``gdbench.cli.entry``: no full collections over numba's objects


def driver_jobs(tasks) -> dict[str, CompileJob]:
    """Each task's driver (group id -> job); the same driver is the same job (equal ``key``)."""
    return {t.group_id: compile_job(t) for t in tasks}


def unique_jobs(jobs: dict[str, CompileJob]) -> list[CompileJob]:
    """The distinct drivers of :func:`driver_jobs`, in task order."""
    out: dict[tuple, CompileJob] = {}
    for job in jobs.values():
        out.setdefault(job.key, job)
    return list(out.values())


def helper_split(jobs: list[CompileJob], workers: int) -> tuple[list[CompileJob], list[CompileJob]]:
    """(the uncached drivers, those the helpers compile): the later ones, last first
    (:func:`helper_share`), helper ``w`` taking ``[w::workers]`` of them; none when fewer than two
    are uncached."""
    cold = [j for j in jobs if not _pair_is_cached(j)]
    if len(cold) < 2 or workers < 1:
        return cold, []
    return cold, cold[::-1][: helper_share(cold, workers)]


def planned_jobs(spec: dict[str, Any]) -> list[CompileJob]:
    """The drivers an early helper (the first) will be given for the run ``spec`` describes (the
    suite and the command line's device, filter, threads and compile workers), planned here from
    the suite alone: its problems are built for their shapes only, without the f* solvers that the
    run's process is running meanwhile (:func:`gdbench.problems.base.shapes_only`), so this helper
    starts on its drivers seconds before the run's process could tell it which."""
    from ..problems.base import shapes_only
    from . import suite as suite_mod
    from .worker import _PROBLEMS

    try:
        with shapes_only():
            plan = suite_mod.load(spec["suite"], device=spec.get("device"), filter_=spec.get("filter"),
                                  threads=spec.get("threads"))
            jobs = unique_jobs(driver_jobs(plan.tasks))
    finally:
        _PROBLEMS.clear()  # built without their optimum: never to be run
    workers = int(spec.get("workers") or 1)
    return helper_split(jobs, workers)[1][0::workers]


def compile_cost(job: CompileJob) -> float:
    """A driver's compile time, in units of one problem's kernels: the step loop (about the same
    again) and each problem the driver holds (measured cold, 7 rules: one problem 3.4-5.8 CPU-s, the
    three data losses together 11-12, two 2-D problems together 9-10)."""
    return 1.0 + max(1, len(job.problems))


def helper_share(cold: list[CompileJob], workers: int) -> int:
    """How many of the cold drivers, taken from the end, the helpers compile: the split that
    finishes first, the run's process compiling the front ones while the helpers share the rest."""
    costs = [compile_cost(j) for j in cold]
    total = sum(costs)
    best, best_k, back = math.inf, 1, 0.0
    for k in range(1, len(cold)):
        back += costs[-k]
        span = max(total - back, back / workers)
        if span < best:
            best, best_k = span, k
    return best_k


def start_helper(prewarm: bool = False, plan: dict[str, Any] | None = None) -> subprocess.Popen:
    """A compile helper: one process (one numba thread) that compiles the jobs written to its stdin,
    one JSON line each, until it is closed. Before any job is known: with ``plan`` (the suite and
    the command line's device, filter, threads and workers), the drivers it will be given, planned
    from the suite itself (:func:`planned_jobs`); else, or if that fails, with ``prewarm``, the
    kernels every CPU driver shares (:mod:`gdbench.harness.prewarm`)."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    code = ("import sys; from gdbench.harness.runner import _compile_from_stdin; "
            f"_compile_from_stdin(prewarm={bool(prewarm)}, plan=sys.argv[1] if len(sys.argv) > 1 else None)")
    args = [json.dumps(plan)] if plan is not None else []
    return subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, text=True)


def stop_helper(p: subprocess.Popen) -> None:
    """Stop a helper (numba writes its cache files atomically: stopping one half-way is safe)."""
    with contextlib.suppress(OSError):
        if p.stdin is not None and not p.stdin.closed:
            p.stdin.close()
    if p.poll() is None:
        p.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        p.wait(timeout=10)


def cold_machine() -> bool:
    """No generated driver in the cache folder yet: a first run, where an early helper pays off."""
    import numba

    from ..kernels.codegen import cache_dir

    return not numba.config.DISABLE_JIT and not any(cache_dir().glob("gdbench_driver_*.py"))


class BackgroundCompiler:
    """Helper processes that compile the uncached drivers from the END of the run order while the
    runs proceed in-process from the front: the two meet in the middle, so on a cold cache two
    cores compile at once and nobody waits for a pool (at most one driver is compiled twice).
    numba writes its cache files atomically, so stopping a helper half-way is safe."""

    def __init__(self, jobs: list[CompileJob], workers: int = 1, early: subprocess.Popen | None = None) -> None:
        """``early``: a helper started before the plan was known (:func:`start_helper`), used as the
        first one (or, with nothing to compile, left to finish its prewarm and stopped with the rest)."""
        self.cold, back = helper_split(jobs, workers)  # the later ones, last first
        self.procs: list[subprocess.Popen] = []
        self._spare = [early] if early is not None else []
        self.early = False  # whether the early helper got jobs
        self.early_started = early is not None  # whether one ran (it may have compiled its share already)
        self.assigned: list[tuple] = [j.key for j in back]
        self._jobs: dict[tuple, CompileJob] = {j.key: j for j in back}
        if not back:
            for p in self._spare:
                with contextlib.suppress(OSError):
                    p.stdin.close()
            return
        for w in range(min(workers, len(back))):  # the early helper first: the share it planned
            self.early = self.early or bool(self._spare)
            p = self._spare.pop() if self._spare else start_helper()
            p.stdin.write("".join(j.to_json() + "\n" for j in back[w::workers]))
            p.stdin.close()
            self.procs.append(p)

    def order(self, tasks: list, keys: dict[str, tuple]) -> list:
        """Tasks on unassigned drivers first (in order), then the helpers' ones in the order they
        compile them (``keys``: group id -> its driver's key)."""
        pos = {k: i for i, k in enumerate(self.assigned)}
        mine = [t for t in tasks if keys[t.group_id] not in pos]
        theirs = sorted((t for t in tasks if keys[t.group_id] in pos), key=lambda t: pos[keys[t.group_id]])
        return mine + theirs

    def wait_for(self, key: tuple) -> None:
        """Wait while a helper is still compiling this driver (instead of compiling it twice)."""
        job = self._jobs.get(key)
        if job is None:
            return
        while any(p.poll() is None for p in self.procs) and not _pair_is_cached(job):
            time.sleep(0.05)

    def runner(self, keys: dict[str, tuple]) -> Callable:
        def run(task):
            self.wait_for(keys[task.group_id])
            return run_group(task)

        return run

    def info(self) -> dict[str, Any]:
        return {"mode": "background", "cold": len(self.cold), "workers": len(self.procs), "early": self.early,
                "early_started": self.early_started}

    def stop(self) -> None:
        for p in self.procs + self._spare:
            stop_helper(p)


# --------------------------------------------------------------------------------------------


def _preflight_plugins(plan: Plan) -> None:
    """Compile (or load) every pair that involves a plugin before the results folder is touched: a
    rule or loss that numba cannot compile is one line naming its file and line, exit 2, and the
    previous results stay. Built-in pairs are not compiled here."""
    from ..errors import UserError

    seen = set()
    for t in plan.tasks:
        if not t.plugins:
            continue
        job = compile_job(t)
        if job.key in seen:
            continue
        seen.add(job.key)
        try:
            compile_pair(job)
        except ValueError as e:
            raise UserError(str(e)) from None


def _clean_folder(out: Path) -> None:
    """Remove the outputs of a previous run (only files gdbench writes)."""
    shutil.rmtree(out / "parts", ignore_errors=True)
    shutil.rmtree(out / "figures", ignore_errors=True)
    for name in ("runs.parquet", "runs.csv", "traces.parquet", "traces.csv", "summary.md", "meta.json",
                 "report.html"):
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()


def problem_notes(plan: Plan) -> dict[str, dict[str, Any]]:
    """Per problem label, the notes of a degenerate optimum (``x_star_note``, ``f_star_note``:
    why distance-to-optimum is NaN, an infimum not attained); problems are memoised per process,
    so this builds nothing the plan did not already build."""
    from .worker import build_problem

    out: dict[str, dict[str, Any]] = {}
    for label, spec in plan.problems.items():
        try:
            p = build_problem(spec["problem"], {k: v for k, v in spec.items() if k != "problem"})
        except ValueError:  # pragma: no cover - the plan built it once already
            continue
        notes = {k: v for k, v in p.info.items() if k.endswith("_note") and isinstance(v, str)}
        if notes:
            out[label] = {"f_star": float(p.f_star), **notes}
    return out


def preflight(plan: Plan, executor: str, scheduler: str | None) -> None:
    """Refuse, before any run starts, what would fail on the first group: a CUDA suite where
    CUDA cannot run (checked here unless the groups go to a remote Dask scheduler, whose workers
    may have the GPUs this machine lacks)."""
    if any(t.device == "cuda" for t in plan.tasks) and not (executor == "dask" and scheduler):
        from ..cuda import CudaUnavailable, require_cuda
        from ..errors import UserError

        try:
            require_cuda()
        except CudaUnavailable as e:
            raise UserError(str(e)) from None


def run_plan(plan: Plan, out: str | os.PathLike, *, resume: bool = False, executor: str = "local",
             workers: int | None = None, scheduler: str | None = None, precompile_workers: int | None = 1,
             compile_mode: str = "background",
             progress: bool = True, figures: bool = True, log: Callable[[str], None] | None = None,
             max_groups: int | None = None, early_helper: subprocess.Popen | None = None) -> Path:
    """Run ``plan`` into ``out``; returns the folder. ``max_groups`` stops after that many
    groups (for tests of interruption). ``early_helper``: a compile helper started before the plan
    was loaded (:func:`start_helper`); it becomes the background compiler's first helper, and is
    stopped when the run ends in any case."""
    from .report import write_report

    out = Path(out)
    log = log or (lambda m: print(m, file=sys.stderr))
    store = ResultStore(out)
    preflight(plan, executor, scheduler)  # before the folder is touched
    store.check_writable()
    with store.lock(), contextlib.ExitStack() as stack:
        if early_helper is not None:
            stack.callback(stop_helper, early_helper)
        # the executor first: a bad --executor/--scheduler (or dask missing) fails before the folder is touched
        t_ex = time.perf_counter()
        ex = make_executor(executor, scheduler=scheduler, workers=workers)
        stack.callback(ex.close)  # also on an error before the loop below (close is idempotent)
        t_ex = time.perf_counter() - t_ex
        _preflight_plugins(plan)  # a plugin that does not compile fails here, before anything is deleted
        if not resume:
            _clean_folder(out)
        done = store.finished_run_ids(log) if resume else set()
        tasks = []
        for t in plan.tasks:
            missing = [r for r in t.run_ids if r not in done]
            if missing:
                tasks.append(t if len(missing) == t.n_runs else t.subset(missing))
        n_runs = sum(t.n_runs for t in tasks)
        if resume:
            log(f"resume: {plan.n_runs - n_runs} of {plan.n_runs} runs already finished in {out}")
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        t0 = time.perf_counter()
        pre: dict[str, Any] = {}
        helper = None
        keys: dict[str, tuple] = {}
        if tasks and executor == "local" and precompile_workers:
            by_group = driver_jobs(tasks)
            keys = {gid: job.key for gid, job in by_group.items()}
            jobs = unique_jobs(by_group)
            if compile_mode == "pool":
                pre = precompile(jobs, precompile_workers, log)
            else:
                helper = BackgroundCompiler(jobs, precompile_workers, early_helper)
                stack.callback(helper.stop)
                pre = helper.info()
                if helper.procs:
                    tasks = helper.order(tasks, keys)
        bar = Progress(n_runs, len(tasks), enabled=progress)
        hosts: set[str] = set()
        try:
            fn = helper.runner(keys) if helper is not None and helper.procs else run_group  # local executor only
            for i, res in enumerate(ex.map_unordered(fn, tasks)):
                store.write_part(res)
                hosts.add(res.host)
                bar.update(len(res.runs))
                if max_groups is not None and i + 1 >= max_groups:
                    raise KeyboardInterrupt
        finally:
            bar.finish()
            ex.close()
            if helper is not None:
                helper.stop()
        wall = time.perf_counter() - t0 + t_ex
        order = {rid: i for i, rid in enumerate(r for t in plan.tasks for r in t.run_ids)}
        store.consolidate(order)
        meta = {
            "format": 1,
            "suite": {"name": plan.name, "path": plan.path, "sha256": plan.sha256, "description": plan.description,
                      **plan.settings},
            "environment": environment(plan.settings.get("threads")),
            "executor": {"name": executor, "workers": workers, "scheduler": scheduler, "hosts": sorted(hosts)},
            "run": {"started": started, "wall_s": round(wall, 3), "runs_this_session": n_runs, "resumed": resume,
                    "precompile": pre},
            "skipped": plan.skipped,
            "plugins": [x.describe() for x in plan.plugins],
            "optima": plan.optima,
            "problems": problem_notes(plan),
        }
        atomic_write_text(out / "meta.json", json.dumps(meta, indent=2, sort_keys=False) + "\n")
        write_report(out, figures=figures)
    return out
