"""``gdbench run [SUITE]``: run a suite and write ``results/<suite>/``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from .executors import EXECUTORS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", nargs="?", default="quick", help="suite name (see `gdbench list`) or path to a .toml file")
    p.add_argument("--out", help="results folder (default: results/<suite name>)")
    p.add_argument("--filter", metavar="PATTERN",
                   help="run only runs whose '<problem>/<run name>' contains PATTERN or matches it as a glob")
    p.add_argument("--resume", action="store_true", help="keep finished runs in --out and run only the rest")
    p.add_argument("--jobs", type=int, metavar="N", help="threads per sweep (default: all cores)")
    p.add_argument("--executor", choices=list(EXECUTORS),
                   help="where groups run (default: the suite's `executor`, else local)")
    p.add_argument("--scheduler", metavar="ADDR", help="dask scheduler address (default: a LocalCluster)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes for processes / dask")
    p.add_argument("--device", choices=["cpu", "cuda"], help="override the suite's device")
    p.add_argument("--compile-workers", type=int, default=1, metavar="N",
                   help="helper processes that compile uncached (rule, problem) drivers while a local run "
                        "proceeds (default 1; 0 = compile in-process only)")
    p.add_argument("--compile-mode", choices=["background", "pool"], default="background",
                   help="background: helpers compile from the end of the run order while runs start at once "
                        "(default); pool: compile every uncached pair in a pool first")
    p.add_argument("--max-memory", metavar="SIZE",
                   help="refuse a suite whose estimated memory exceeds SIZE (e.g. 4G, 512M; default: the memory "
                        "available now); also applies to each sweep")
    p.add_argument("--max-runs", type=int, metavar="N", help="refuse a suite of more than N runs (default: no limit "
                                                              "besides memory)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures (tables only)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


@contextlib.contextmanager
def _max_memory_env(size: str | None) -> Iterator[None]:
    """``$GDBENCH_MAX_MEMORY`` = ``--max-memory`` while the suite runs: every sweep (in this
    process and in spawned or Dask workers, which inherit ``GDBENCH_*``) checks the same limit."""
    from ..resources import ENV_MAX_MEMORY

    if size is None:
        yield
        return
    before = os.environ.get(ENV_MAX_MEMORY)
    os.environ[ENV_MAX_MEMORY] = size
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_MAX_MEMORY, None)
        else:
            os.environ[ENV_MAX_MEMORY] = before


def run(args: argparse.Namespace) -> int:
    from .._sys import usable_cores
    from ..errors import UserError
    from ..resources import parse_size
    from . import suite as suite_mod
    from .runner import cold_machine, run_plan, start_helper, stop_helper
    from .store import load_results
    from .suite_resources import Limits
    from .tables import convergence_table, summarize

    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs must be >= 1, got {args.jobs}")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    if args.max_runs is not None and args.max_runs < 1:
        raise UserError(f"--max-runs must be >= 1, got {args.max_runs}")
    max_memory = None
    if args.max_memory is not None:
        try:
            max_memory = parse_size(args.max_memory)
        except ValueError as e:
            raise UserError(f"--max-memory: {e}") from None
    workers = 1 if args.executor == "local" else args.workers
    if workers is None and args.executor:
        workers = usable_cores()
    limits = Limits(max_memory=max_memory, max_runs=args.max_runs, workers=workers)
    # on a machine that has compiled nothing yet, the compile helper starts now: while this process
    # loads the suite and solves its problems' f* (one core), it plans from the suite file alone the
    # drivers it will be given, and compiles them
    plan_spec = {"suite": args.suite, "device": args.device, "filter": args.filter, "threads": args.jobs,
                 "workers": args.compile_workers}
    early = (start_helper(prewarm=True, plan=plan_spec)
             if args.compile_workers >= 1 and args.compile_mode == "background"
             and args.executor in (None, "local") and cold_machine() else None)
    try:
        plan = suite_mod.load(args.suite, device=args.device, filter_=args.filter, threads=args.jobs, limits=limits)
        out = Path(args.out) if args.out else Path("results") / plan.name
        print(f"gdbench run: suite {plan.name!r} ({plan.path}): {plan.n_runs} runs in {len(plan.tasks)} groups, "
              f"{len(plan.pairs())} compiled pairs -> {out}", file=sys.stderr)
        ex = plan.settings.get("executor") or {}  # the suite's choice; the command line wins
        if args.executor and args.executor != ex.get("name", "local"):
            ex = {}  # another executor than the suite's: its scheduler/workers do not apply
        with _max_memory_env(args.max_memory if max_memory is not None else None):  # the sweeps' own guard
            run_plan(plan, out, resume=args.resume, executor=args.executor or ex.get("name", "local"),
                     workers=args.workers or ex.get("workers"), scheduler=args.scheduler or ex.get("scheduler"),
                     progress=not args.quiet, figures=not args.no_figures, precompile_workers=args.compile_workers,
                     compile_mode=args.compile_mode, early_helper=early)
    finally:
        if early is not None:
            stop_helper(early)
    runs, _, meta = load_results(out)
    s = meta["suite"]
    _, best = summarize(runs, s["tolerances"], s["target_tol"])
    print(convergence_table(best, s["tolerances"], s["target_tol"]))
    print(f"\nwrote {out}/summary.md, runs and traces tables, figures/ "
          f"({meta['run']['wall_s']:.1f} s)", file=sys.stderr)
    return 0
