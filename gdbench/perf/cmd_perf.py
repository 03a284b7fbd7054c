"""``gdbench perf [--fast] [-o FILE.json]``: the pyperf suite of the hot kernels.

Runs :mod:`gdbench.perf.perf_suite` under pyperf (separate worker processes, warm-ups
discarded, compilation before any timing) and writes pyperf JSON. Workers inherit every
``NUMBA_*``, ``GDBENCH_*`` and ``OMP_*`` variable (pyperf drops the environment otherwise), so
e.g. ``NUMBA_NUM_THREADS=1 gdbench perf`` means what it says.

``--fast``: small sizes, 1 process × 3 values (a smoke run, ~30 s; not for
gating). Default: 6 processes × 5 values. Compare two files with ``gdbench perf-gate BASE.json NEW.json``.
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


def run(args: argparse.Namespace) -> int:
    # set OMP_WAIT_POLICY here too so that it is inherited (see gdbench._config)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return subprocess.call(command(args))
