"""``gdbench perf --instructions``: the perf suite's benchmarks counted in instructions, not timed.

Wall time on a shared machine moves by up to 1.8× between identical runs (neighbours, frequency,
where the JIT placed the code); the number of instructions a compiled call executes does not.
Each benchmark runs in its own process under callgrind (valgrind) with counting switched off
(``--collect-atstart=no``, ``--instr-atstart=no``: start-up, imports, data and warm-up run
uncounted at near-native speed) and switched on by client requests exactly around every
compiled call (:mod:`gdbench.perf._callgrind`): the numba driver or row kernel, its argument
unboxing and nothing of the Python around it. The value of a benchmark is instructions per
loop (per step, per call, per epoch, per sweep), ``REPS`` times in one process.

valgrind executes no AVX-512 and (3.19) not every AVX encoding LLVM emits, so the kernels are
compiled for a fixed, older target (``NUMBA_CPU_NAME``, default ``x86-64-v2``: SSE4.2) in both
the native warm-up and the counted run — the same code on every machine, and numba's cache
keeps these entries beside the native ones. The counts describe that code, not the AVX-512
code a modern CPU runs: a gate on them sees added work, never a change in memory traffic,
cache misses, vector width or thread scaling.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: the numba target counted (valgrind must be able to execute it)
COUNT_CPU = "x86-64-v2"
REPS = 3
#: loops per counted value: steps for the per-step benchmarks, else one call/epoch/sweep. The
#: counted region also holds the call's fixed work (argument unboxing: a NRT meminfo malloc'd per
#: array, glibc's path length depending on the heap's state), which moved 20 000 steps' count by
#: up to 0.2 % between repetitions (~2 000 instructions); 200 000 steps make that 2e-4
LOOPS = {"driver_step_": 200_000}
VALGRIND = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--instr-atstart=no", "--dump-line=no",
            "--dump-instr=no", "--compress-strings=no"]


def loops_of(name: str) -> int:
    return next((v for k, v in LOOPS.items() if name.startswith(k)), 1)


def count_environ(base: dict[str, str] | None = None, cpu: str = COUNT_CPU) -> dict[str, str]:
    """The environment of the warm-up and the counted processes: one thread, a fixed target,
    a fixed hash seed (Python's dict order does not move the counted region, but be sure)."""
    env = dict(os.environ if base is None else base)
    env.update(NUMBA_CPU_NAME=cpu, NUMBA_CPU_FEATURES="", NUMBA_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE",
               PYTHONHASHSEED="0")
    return env


def check_available() -> None:
    """Raise ValueError (one line) when instruction counting cannot run here."""
    from ._callgrind import available

    if not available():
        raise ValueError("--instructions needs x86-64 Linux (callgrind client requests)")
    if shutil.which("valgrind") is None:
        raise ValueError("--instructions needs valgrind on PATH (e.g. apt-get install valgrind)")


def parse_dumps(folder: Path) -> dict[str, list[int]]:
    """``{benchmark: [instructions of rep 0, rep 1, ...]}`` from callgrind's dump files, each
    labelled ``NAME#rep`` by :func:`child`."""
    out: dict[str, dict[int, int]] = {}
    for f in folder.glob("cg.*"):
        text = f.read_text(encoding="utf-8", errors="replace")
        m = re.search(r"^desc: Trigger: Client Request: (\S+)#(\d+)\s*$", text, re.M)
        t = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
        if m and t:
            out.setdefault(m.group(1), {})[int(m.group(2))] = int(t.group(1))
    return {k: [v[i] for i in sorted(v)] for k, v in out.items()}


def run_counts(small: bool, names: list[str], jobs: int = 1, reps: int = REPS, cpu: str = COUNT_CPU,
               log: Callable[[str], None] = print, inject: float = 1.0) -> dict[str, list[float]]:
    """Instructions per loop of each benchmark in ``names``, ``reps`` values each.

    ``inject > 1``: every benchmark does that factor of its work (``GDBENCH_PERF_INJECT``, set
    per benchmark process), to check that a gate catches it."""
    check_available()
    env = count_environ(cpu=cpu)
    size = ["--small"] if small else []
    me = [sys.executable, "-m", "gdbench.perf._count"]
    log(f"instructions: compiling for {cpu} (native, cached after the first time) ...")
    subprocess.run([*me, "--warm", *size, *names], env=env, check=True)
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:

        def one(name: str) -> None:
            d = Path(tmp) / name
            d.mkdir()
            cmd = [*VALGRIND, f"--callgrind-out-file={d}/cg.%p", *me, *size, "--reps", str(reps), name]
            env1 = dict(env, GDBENCH_PERF_INJECT=f"{name}={inject}") if inject != 1.0 else env
            r = subprocess.run(cmd, env=env1, capture_output=True, text=True)
            counts = parse_dumps(d).get(name, [])
            if r.returncode != 0 or len(counts) != reps:
                tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])
                raise RuntimeError(f"counting {name} failed (exit {r.returncode}):\n{tail}")
            results[name] = [c / loops_of(name) for c in counts]
            log(f"instructions: {name}: {results[name][-1]:.6g} per loop")

        with ThreadPoolExecutor(max(1, jobs)) as ex:
            list(ex.map(one, names))
    return {n: results[n] for n in names}


def write_pyperf(results: dict[str, list[float]], path: str | os.PathLike, small: bool, cpu: str = COUNT_CPU) -> None:
    """Save counts as pyperf JSON (unit ``integer``; one pyperf run per counted repetition), with
    ``gdbench_mode = "instructions"`` so that ``gdbench perf-gate`` applies the counting rule."""
    import pyperf

    from .perf_suite import INJECT_ENV

    meta = {"unit": "integer", "loops": 1, "gdbench_mode": "instructions", "gdbench_count_cpu": cpu,
            "gdbench_size": "small" if small else "default"}
    if os.environ.get(INJECT_ENV):
        meta["gdbench_inject"] = os.environ[INJECT_ENV]
    benches = [pyperf.Benchmark([pyperf.Run([v], metadata=dict(meta, name=name), collect_metadata=False)
                                 for v in values]) for name, values in results.items()]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pyperf.BenchmarkSuite(benches).dump(str(path), replace=True)


def child(small: bool, name: str, reps: int) -> None:
    """In the process under callgrind: build (uncounted), then ``reps`` counted regions."""
    from . import _callgrind
    from .perf_suite import build

    fn = build(small, name, count=True)
    loops = loops_of(name)
    # Python's cyclic garbage collector runs at whichever allocation crosses its threshold, now and
    # then inside a counted region (the driver call's argument unboxing allocates): thousands of
    # instructions that made two counts of one benchmark differ by 0.19 % once. Off while counting.
    gc.collect()
    gc.disable()
    _callgrind.start_instrumentation()
    fn(loops)  # one instrumented, uncounted call: first-call paths out of the way
    for rep in range(reps):
        _callgrind.zero_stats()
        fn(loops)
        _callgrind.dump_stats_at(f"{name}#{rep}")


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="python -m gdbench.perf._count")
    p.add_argument("names", nargs="+")
    p.add_argument("--small", action="store_true")
    p.add_argument("--reps", type=int, default=REPS)
    p.add_argument("--warm", action="store_true", help="only compile and warm up (natively)")
    a = p.parse_args(argv)
    if a.warm:
        from .perf_suite import build

        for n in a.names:
            build(a.small, n, count=False)
        return
    (name,) = a.names
    child(a.small, name, a.reps)


if __name__ == "__main__":
    main()
