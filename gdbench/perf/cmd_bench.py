"""``gdbench bench [--quick] [--device cpu|cuda] [--out results/bench]``: see :mod:`gdbench.perf.bench`
(one module per benchmark there; the goals in :mod:`gdbench.perf._goals`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="smaller sizes (seconds per benchmark; goals indicative)")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # code paths only (tests)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--out", default="results/bench", help="folder for bench.json and bench.md")
    parser.add_argument("--only", action="append", default=None, metavar="NAME",
                        help="run only this benchmark (repeatable): fused, sgd, minibatch, tiny, sweep, startup, cold, "
                             "gate (full mode)")


def run(args: argparse.Namespace) -> int:
    if args.device == "cuda":
        try:
            from gdbench.cuda.bench import main as cuda_main
        except ImportError as e:
            print(f"gdbench bench: --device cuda needs gdbench.cuda (not importable: {e})")
            return 2
        return int(cuda_main(args) or 0)
    from . import bench

    if args.only:
        bad = sorted(set(args.only) - set(bench.BENCHES))
        if bad:
            raise ValueError(f"--only {bad[0]!r}: allowed: {', '.join(bench.BENCHES)}")
    mode = "tiny" if args.tiny else ("quick" if args.quick else "full")
    res = bench.run_all(mode, args.only, log=lambda s: print(s, file=sys.stderr, flush=True))
    text = bench.table(res)
    print(text)
    pj, pm = bench.save(res, Path(args.out), text)
    print(f"\nresults: {pj}, {pm}")
    return 0
