"""``gdbench perf [--fast] [--instructions] [-o FILE.json]``: the perf suite of the hot kernels.

Default (wall time): runs :mod:`gdbench.perf.perf_suite` under pyperf (separate worker
processes, warm-ups discarded, compilation before any timing) and writes pyperf JSON. Workers
inherit every ``NUMBA_*``, ``GDBENCH_*`` and ``OMP_*`` variable (pyperf drops the environment
otherwise), so e.g. ``NUMBA_NUM_THREADS=1 gdbench perf`` means what it says.

``--instructions``: the same benchmarks counted in instructions under callgrind
(:mod:`gdbench.perf._count`; needs valgrind): deterministic to ~1e-4, so ``gdbench perf-gate``
can use a threshold of a few percent on a noisy machine. ~3-4 minutes on 2 cores.

``--clock cpu``: the process's CPU seconds instead of wall seconds (A/A spread here 1.05-1.4×
instead of 1.2-2.8×; a lost parallel speed-up does not show).

``--fast``: small sizes, 1 process × 3 values (a smoke run, ~30 s; not for gating). Default:
6 processes × 5 values. ``GDBENCH_PERF_INJECT=NAME=1.2`` makes one benchmark do 20 % more work
(to see a gate catch it). Compare two files with ``gdbench perf-gate BASE.json NEW.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ENV_PREFIXES = ("NUMBA_", "GDBENCH_", "OMP_")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fast", action="store_true",
                        help="small sizes, 1 process x 3 values (a smoke run: do not gate on it)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE.json", help="write pyperf JSON here")
    parser.add_argument("--processes", type=int, default=None, help="pyperf worker processes (default 6; fast 1)")
    parser.add_argument("--values", type=int, default=None, help="values per process (default 5; fast 3)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time mode: wall seconds (default) or the process's CPU seconds (immune to neighbours "
                             "taking the core; blind to lost parallel speed-up)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under callgrind instead of timing (deterministic; needs valgrind)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="--instructions: benchmarks counted at once (default: usable cores)")
    parser.add_argument("--only", action="append", default=None, metavar="PREFIX",
                        help="--instructions: only the benchmarks whose name starts with PREFIX (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="less output")


def inherited_environ(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return sorted(k for k in env if k.startswith(ENV_PREFIXES))


def command(args: argparse.Namespace) -> list[str]:
    procs = args.processes or (1 if args.fast else 6)
    values = args.values or (3 if args.fast else 5)
    cmd = [sys.executable, "-m", "gdbench.perf.perf_suite", "-p", str(procs), "-n", str(values), "-w", "1",
           "--min-time", "0.02" if args.fast else "0.1"]
    if args.fast:
        cmd.append("--small")
    if getattr(args, "clock", "wall") != "wall":
        cmd += ["--clock", args.clock]
    env_names = inherited_environ()
    if env_names:
        cmd += ["--inherit-environ", ",".join(env_names)]
    if args.output:
        out = Path(args.output)
        if out.exists():
            out.unlink()  # pyperf refuses to overwrite
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd += ["-o", str(out)]
    if args.quiet:
        cmd.append("-q")
    return cmd


def run_instructions(args: argparse.Namespace) -> int:
    from .._sys import usable_cores
    from . import _count
    from .perf_suite import inject_factor, names

    _count.check_available()
    inject_factor("")  # a malformed GDBENCH_PERF_INJECT is one line, before minutes of work
    sel = [n for n in names(args.fast) if not args.only or any(n.startswith(p) for p in args.only)]
    if not sel:
        raise ValueError(f"--only {args.only}: no benchmark matches; names: {', '.join(names(args.fast))}")
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    res = _count.run_counts(args.fast, sel, jobs=args.jobs or usable_cores(), log=log)
    w = max(len(n) for n in res)
    for n, v in res.items():
        spread = (max(v) - min(v)) / min(v) if min(v) > 0 else 0.0
        print(f"{n:{w}}  {v[-1]:14.6g} instructions/loop  (spread over {len(v)} reps: {spread:.1e})")
    if args.output:
        _count.write_pyperf(res, args.output, args.fast)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.instructions:
        return run_instructions(args)
    from .perf_suite import inject_factor

    inject_factor("")  # a malformed GDBENCH_PERF_INJECT is one line, not a crash in every worker
    # set OMP_WAIT_POLICY here too so that it is inherited (see gdbench._config)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return subprocess.call(command(args))
