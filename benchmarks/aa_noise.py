"""Where do A/A differences of the wall-time perf gate come from, and what removes them?

Runs one perf-suite benchmark in P fresh processes, one after another (identical code: an
A/A experiment), each taking V values of about REGION seconds, and records per value three
clocks: the driver's own wall clock (what ``gdbench perf`` reports), the thread's CPU time and
the process's CPU time (time the OS gave us: a neighbour that takes the core away adds wall
time, not CPU time). Then it splits the processes into a "base" and a "head" group the two ways
CI can — back to back (first half vs second half) and interleaved (odd vs even) — and reports,
per clock, the new/base ratio of medians and of minima the gate would see, and the spread of the
per-process medians (code placement and slow phases of the machine show up there), as well as
the spread inside processes.

    python benchmarks/aa_noise.py driver_step_gd_rosenbrock2 --procs 8 --values 5
    python benchmarks/aa_noise.py driver_step_gd_rosenbrock2 --procs 8 --pin 1      # taskset -c 1
    python benchmarks/aa_noise.py fused_grad_linreg_200000x64 --region 0.5

Prints one JSON line per process (``--raw``) and a summary table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def child(name: str, values: int, region: float) -> None:
    from gdbench.perf.perf_suite import build

    fn = build(False, name)
    fn(1)
    t0 = time.perf_counter()
    fn(1)
    one = max(time.perf_counter() - t0, 1e-7)
    loops = max(1, round(region / one)) if not name.startswith("driver_step_") else max(1000, round(region / one))
    if name.startswith("driver_step_"):  # fn(loops) runs `loops` steps: calibrate on steps
        t0 = time.perf_counter()
        fn(100_000)
        loops = max(1000, round(region / max(time.perf_counter() - t0, 1e-7) * 100_000))
    fn(loops)  # warm-up value, discarded
    out = {"wall": [], "thread_cpu": [], "process_cpu": []}
    for _ in range(values):
        c0, p0 = time.thread_time(), time.process_time()
        w = fn(loops)
        out["thread_cpu"].append((time.thread_time() - c0) / loops)
        out["process_cpu"].append((time.process_time() - p0) / loops)
        out["wall"].append(w / loops)
    print(json.dumps(out))


def ratios(base: list[list[float]], new: list[list[float]]) -> tuple[float, float]:
    bv = [v for r in base for v in r]
    nv = [v for r in new for v in r]
    return statistics.median(nv) / statistics.median(bv), min(nv) / min(bv)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name")
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--values", type=int, default=5)
    ap.add_argument("--region", type=float, default=0.1, help="seconds per value (gdbench perf: >= 0.1)")
    ap.add_argument("--pin", default=None, help="taskset -c CPUS for every process")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.name, a.values, a.region)
        return
    cmd = [sys.executable, __file__, a.name, "--child", "--values", str(a.values), "--region", str(a.region)]
    if a.pin is not None:
        cmd = ["taskset", "-c", a.pin, *cmd]
    procs = []
    t0 = time.time()
    for _ in range(a.procs):
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
        procs.append(json.loads(r.stdout.strip().splitlines()[-1]))
        if a.raw:
            print(r.stdout.strip().splitlines()[-1])
    print(f"{a.name}: {a.procs} processes x {a.values} values of ~{a.region} s"
          f"{' pinned to CPU ' + a.pin if a.pin is not None else ''}; {time.time() - t0:.0f} s")
    print(f"{'clock':12} {'proc medians max/min':>21} {'in-proc max/min (median)':>25} "
          f"{'back-to-back med/min':>21} {'interleaved med/min':>20}")
    h = a.procs // 2
    for clock in ("wall", "thread_cpu", "process_cpu"):
        runs = [p[clock] for p in procs]
        meds = [statistics.median(r) for r in runs]
        inproc = statistics.median(max(r) / min(r) for r in runs)
        bb = ratios(runs[:h], runs[h:])
        il = ratios(runs[0::2], runs[1::2])
        print(f"{clock:12} {max(meds) / min(meds):21.3f} {inproc:25.3f} {bb[0]:10.3f}/{bb[1]:.3f} "
              f"{il[0]:11.3f}/{il[1]:.3f}")


if __name__ == "__main__":
    main()
