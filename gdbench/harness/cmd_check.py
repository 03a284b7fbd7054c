"""``gdbench check FILE...``: validate plugin files before anyone trusts their numbers.

Each file is loaded, checked against its contract and then exercised (:mod:`gdbench.checks`):
an update rule against its NumPy reference on two problems (≤ 1e-12 relative over 300 steps),
with every estimator, schedule, clipping and noise, bounds, state, same seed ⇒ same bits; a
problem's gradient and Hessian against finite differences and its optimum. Exit 0 only when every
check of every file holds, 2 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="plugin files (.py): update rules or problems")
    p.add_argument("--quiet", action="store_true", help="print failures and the verdict only")


def run(args: argparse.Namespace) -> int:
    from ..checks import check_file

    failed = total = 0
    for f in args.files:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an estimated f* is reported by the checks themselves
            kind, checks = check_file(f)
        bad = [c for c in checks if not c.ok]
        failed += len(bad)
        total += len(checks)
        verdict = "ok" if not bad else f"{len(bad)} FAILED"
        print(f"{f}: {kind}, {len(checks)} checks, {verdict} ({time.perf_counter() - t0:.1f} s)")
        for c in checks:
            if c.ok and args.quiet:
                continue
            print(f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}" + (f": {c.detail}" if c.detail else ""))
    print(f"gdbench check: {total - failed} of {total} checks passed in {len(args.files)} file(s)",
          file=sys.stderr)
    return 0 if failed == 0 else 2
