"""``gdbench perf-gate BASE.json NEW.json [--threshold 0.35]``: a regression gate over pyperf files.

pyperf's own ``compare_to`` always exits 0; this gate exits **1** when at least one benchmark is
slower in NEW than in BASE by more than ``threshold`` *and* the difference is significant, and
0 otherwise (2 on unusable input). It prints pyperf's comparison table, then its verdict per
benchmark.

A benchmark counts as slower only when all of these hold:

1. ``median(NEW) / median(BASE) > 1 + threshold``;
2. ``min(NEW) / min(BASE) > 1 + threshold`` — other tenants of a shared machine only ever *add*
   time, so the fastest value is the most stable estimate of the code's own cost; a slowdown
   that the minimum does not show is noise, not a regression;
3. pyperf's two-sample t-test (95 %) calls the difference significant;
4. both files hold values from at least ``--min-runs`` (3) worker processes: a tiny jitted loop's
   speed depends on where the JIT placed its code, which changes per process (2-D Rosenbrock gd
   measured 24 and 68 ns/step in two processes of the same build), so one or two processes
   cannot tell a regression from a placement.

Defaults that do not cry wolf: identical code on these shared 2-core machines has shown 1.3×
"significant" differences between runs minutes apart, so the default threshold is 0.35 (a
35 % slowdown), above that noise, and both the median and the minimum must move. Use it like
this — same job, same machine, base and head back to back (interleave them if you can), never
against a file from another machine or another day::

    git worktree add ../base "$BASE_SHA"
    (cd ../base && gdbench perf -o /tmp/base.json)
    gdbench perf -o /tmp/head.json
    gdbench perf-gate /tmp/base.json /tmp/head.json

On a quiet dedicated runner, ``--threshold 0.1`` is reasonable. ``--fast`` files (1 process) are
for smoke tests only: do not gate on them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.35
#: fewer worker processes than this per benchmark (e.g. ``gdbench perf --fast`` files): never fail
MIN_RUNS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("base", metavar="BASE.json", help="pyperf JSON of the base commit")
    parser.add_argument("new", metavar="NEW.json", help="pyperf JSON of the new commit")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"relative slowdown tolerated (default {DEFAULT_THRESHOLD}: 35%%)")
    parser.add_argument("--min-runs", type=int, default=MIN_RUNS,
                        help=f"worker processes each file needs before a benchmark can fail (default {MIN_RUNS})")
    parser.add_argument("--no-table", action="store_true", help="do not print pyperf's comparison table")


@dataclass(frozen=True)
class Verdict:
    name: str
    ratio_median: float  # new / base
    ratio_min: float
    significant: bool
    slower: bool  # fails the gate
    faster: bool


def compare_values(name: str, base: list[float], new: list[float], threshold: float) -> Verdict:
    """The gate's decision for one benchmark (values: seconds, any number ≥ 1 each)."""
    from pyperf._utils import is_significant

    rmed = statistics.median(new) / statistics.median(base)
    rmin = min(new) / min(base)
    if len(base) >= 2 and len(new) >= 2:
        try:
            sig = bool(is_significant(base, new)[0])
        except ZeroDivisionError:  # identical constant samples: no variance
            sig = rmed != 1.0
    else:
        sig = False  # one value each: nothing can be significant
    limit = 1.0 + threshold
    slower = sig and rmed > limit and rmin > limit
    faster = sig and rmed < 1.0 / limit and rmin < 1.0 / limit
    return Verdict(name, rmed, rmin, sig, slower, faster)


def load(path: str) -> Samples:
    import pyperf

    try:
        suite = pyperf.BenchmarkSuite.load(path)
    except Exception as e:  # noqa: BLE001 - any unreadable file is one clear error
        raise ValueError(f"cannot read pyperf JSON {path!r}: {e}") from None
    out = {}
    for b in suite.get_benchmarks():
        runs = sum(1 for r in b.get_runs() if r.values)
        out[b.get_name()] = (list(b.get_values()), runs)
    return out


Samples = dict[str, tuple[list[float], int]]  # name -> (values, worker processes that produced them)


def gate(base: Samples, new: Samples, threshold: float, min_runs: int = MIN_RUNS) -> tuple[list[Verdict], list[str]]:
    """Verdicts for the benchmarks in both files; names found in only one of them."""
    out = []
    for n in (n for n in base if n in new):
        v = compare_values(n, base[n][0], new[n][0], threshold)
        if min(base[n][1], new[n][1]) < min_runs and (v.slower or v.faster):
            # too few processes: per-process effects (JIT code placement, a noisy neighbour for the
            # whole life of one worker) cannot be told from the code's own speed
            v = Verdict(v.name, v.ratio_median, v.ratio_min, False, False, False)
        out.append(v)
    return out, sorted(set(base) ^ set(new))


def format_verdicts(verdicts: list[Verdict], missing: list[str], threshold: float) -> str:
    w = max([len(v.name) for v in verdicts] + [9])
    lines = [f"perf-gate: slower = median AND min ratio > {1 + threshold:.2f} AND significant (t-test 95%)",
             f"{'benchmark':{w}}  new/base median  new/base min  significant  verdict"]
    for v in verdicts:
        verdict = "SLOWER (fail)" if v.slower else ("faster" if v.faster else "ok")
        lines.append(f"{v.name:{w}}  {v.ratio_median:15.3f}  {v.ratio_min:12.3f}  {'yes' if v.significant else 'no':11}"
                     f"  {verdict}")
    for m in missing:
        lines.append(f"{m:{w}}  (only in one file: not compared)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not (args.threshold >= 0):
        raise ValueError(f"--threshold must be >= 0, got {args.threshold}")
    base, new = load(args.base), load(args.new)
    if not args.no_table:
        subprocess.call([sys.executable, "-m", "pyperf", "compare_to", args.base, args.new, "--table"])
    verdicts, missing = gate(base, new, args.threshold, args.min_runs)
    print(format_verdicts(verdicts, missing, args.threshold))
    if not verdicts:
        print("perf-gate: no benchmark in common", file=sys.stderr)
        return 2
    bad = [v.name for v in verdicts if v.slower]
    print(f"perf-gate: {'FAIL: ' + ', '.join(bad) if bad else 'pass'}")
    return 1 if bad else 0
