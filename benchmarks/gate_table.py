"""Evaluate `gdbench perf-gate`'s rule on the files of benchmarks/time_gate_sensitivity.sh:
A/A (a1 vs a2) and injected (a1 vs inj) per clock, at several thresholds.

    python benchmarks/gate_table.py results/time_gate_sensitivity
"""

from __future__ import annotations

import sys
from pathlib import Path

from gdbench.perf.cmd_gate import gate, load

THRESHOLDS = (0.1, 0.15, 0.2, 0.35)


def main(folder: str) -> None:
    d = Path(folder)
    for clock in ("wall", "cpu"):
        (a1, mode), (a2, _), (inj, _) = (load(str(d / f"{n}-{clock}.json")) for n in ("a1", "a2", "inj"))
        print(f"\n{clock} clock ({mode}): new/base ratio of medians / of minima; verdict at thresholds "
              f"{', '.join(map(str, THRESHOLDS))} (F = fails the gate)")
        print(f"{'benchmark':38} {'A/A med/min':>15} {'A/A verdicts':>13} {'1.2x med/min':>15} {'1.2x verdicts':>14}")
        for name in a1:
            aa = [gate({name: a1[name]}, {name: a2[name]}, t, mode=mode)[0][0] for t in THRESHOLDS]
            ij = [gate({name: a1[name]}, {name: inj[name]}, t, mode=mode)[0][0] for t in THRESHOLDS]
            va = "".join("F" if v.slower else "." for v in aa)
            vi = "".join("F" if v.slower else "." for v in ij)
            print(f"{name:38} {aa[0].ratio_median:7.3f}/{aa[0].ratio_min:.3f} {va:>13} "
                  f"{ij[0].ratio_median:7.3f}/{ij[0].ratio_min:.3f} {vi:>14}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/time_gate_sensitivity")
