"""Per-task overhead that the Dask executor adds: N no-op tasks through ``DaskExecutor`` vs direct calls.

    python benchmarks/dask_overhead.py [--tasks 400] [--workers 2] [--payload-kb 64]

Reports the cluster start and close times, the throughput overhead (wall time of N tasks over
N, all submitted at once, as ``gdbench run`` does) and the round-trip latency of one task at a
time. The payload stands in for a GroupResult's traces (bytes shipped back per task).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def noop(task):
    i, nbytes = task
    return i, np.zeros(nbytes // 8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--payload-kb", type=int, default=64)
    ap.add_argument("--latency-tasks", type=int, default=50)
    a = ap.parse_args()
    from gdbench.harness.dask_executor import DaskExecutor

    nbytes = a.payload_kb * 1024
    tasks = [(i, nbytes) for i in range(a.tasks)]
    t = time.perf_counter()
    direct = [noop(x) for x in tasks]
    t_direct = time.perf_counter() - t
    assert len(direct) == a.tasks

    t = time.perf_counter()
    ex = DaskExecutor(workers=a.workers)
    t_start = time.perf_counter() - t
    list(ex.map_unordered(noop, tasks[:20]))  # warm: workers import numpy, first connections
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        got = list(ex.map_unordered(noop, tasks))
        walls.append(time.perf_counter() - t)
        assert len(got) == a.tasks
    lat = []
    for x in tasks[: a.latency_tasks]:
        t = time.perf_counter()
        list(ex.map_unordered(noop, [x]))
        lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    ex.close()
    t_close = time.perf_counter() - t
    best = min(walls)
    print(f"LocalCluster start {t_start:.2f} s, close {t_close:.2f} s, {a.workers} workers")
    print(f"{a.tasks} no-op tasks, payload {a.payload_kb} KiB: direct {t_direct * 1e3:.1f} ms, "
          f"dask best of 3 {best * 1e3:.0f} ms (all {', '.join(f'{w * 1e3:.0f}' for w in walls)})")
    print(f"throughput overhead per task: {(best - t_direct) / a.tasks * 1e3:.2f} ms")
    print(f"one-task round trip: median {statistics.median(lat) * 1e3:.1f} ms, "
          f"min {min(lat) * 1e3:.1f} ms over {len(lat)}")


if __name__ == "__main__":
    main()
