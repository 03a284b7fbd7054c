"""The benchmarks behind ``gdbench perf`` (run as ``python -m gdbench.perf.perf_suite`` under pyperf,
or counted under callgrind by :mod:`gdbench.perf._count`).

Every benchmark is a ``time_func(loops) -> seconds`` whose function owns its loop and returns
the seconds of compiled work only: the driver's own clock (``wall_s``, compilation and Python
set-up excluded) or ``perf_counter`` around direct kernel calls. Everything is compiled (or
loaded from the disk cache) and warmed up once per worker before pyperf takes any value.
``--clock cpu`` returns the CPU seconds of the process instead (``time.process_time`` around the
same calls, all threads summed): a neighbour that takes the core away adds wall time but no CPU
time (see ``benchmarks/aa_noise.py``); a loss of parallel speed-up is then invisible. In
instruction-count mode (``count=True``) the same functions run with callgrind's counting
switched on exactly around each compiled call.

Benchmarks (``--small``: the sizes of ``gdbench perf --fast``):
  driver_step_gd_rosenbrock2      seconds per step through gdbench.minimize (record_every=0)
  driver_step_adam_rosenbrock2    the same for adam
  fused_grad_{linreg,logistic}    one full-batch loss+gradient, rows kernel (parallel)
  sgd_epoch_linreg                one per-sample SGD epoch inside the driver
  minibatch_adam_epoch_linreg     one mini-batch(64) Adam epoch
  sweep_adam_8cfg                 8 configurations on all threads

Injected slowdown (to check that a gate catches one): ``GDBENCH_PERF_INJECT="NAME=1.2"``
(comma-separated for several; NAME is a benchmark name or a prefix of one) makes that benchmark
do 1.2× the work per loop — 1.2× the steps (driver steps, sweep), 1.2× the rows (fused
gradient; the epochs, whose steps follow the rows, so that their full-data loss evaluations at
start and end grow too) — while it is still reported per nominal loop: a 20 % slowdown, no
kernel touched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import pyperf

SIZES = {
    False: dict(rows=(200_000, 64), sgd=(20_000, 64), mb=(50_000, 64), sweep_steps=5_000),
    True: dict(rows=(20_000, 32), sgd=(2_000, 16), mb=(4_000, 16), sweep_steps=500),
}
#: instruction-count mode: the same sizes except a shorter sweep (counts are exact, and callgrind
#: runs ~50x slower than the CPU)
COUNT_SWEEP_STEPS = {False: 100, True: 50}
INJECT_ENV = "GDBENCH_PERF_INJECT"

Identity = Callable[[Callable], Callable]


def names(small: bool) -> list[str]:
    """Benchmark names in registration order (master and workers must agree)."""
    sz = SIZES[small]
    n, d = sz["rows"]
    return ["driver_step_gd_rosenbrock2", "driver_step_adam_rosenbrock2", f"fused_grad_linreg_{n}x{d}",
            f"fused_grad_logistic_{n}x{d}", "sgd_epoch_linreg_{}x{}".format(*sz["sgd"]),
            "minibatch_adam_epoch_linreg_{}x{}".format(*sz["mb"]), "sweep_adam_8cfg"]


def inject_factor(name: str, environ: dict[str, str] | None = None) -> float:
    """The work factor ``GDBENCH_PERF_INJECT`` asks of benchmark ``name`` (1.0: none)."""
    spec = (os.environ if environ is None else environ).get(INJECT_ENV, "").strip()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, val = part.partition("=")
        try:
            f = float(val)
        except ValueError:
            f = 0.0
        if not sep or not key or not (f >= 1.0):
            raise ValueError(f"{INJECT_ENV}={spec!r}: want NAME=FACTOR[,NAME=FACTOR...] with FACTOR >= 1 "
                             f"(e.g. {names(False)[0]}=1.2)")
        if name.startswith(key.strip()):
            return f
    return 1.0


def _scaled(n: int, f: float) -> int:
    return max(1, round(n * f))


def build(small: bool, name: str, count: bool = False, clock: str = "wall") -> Callable[[int], float]:
    """time_func(loops) -> seconds for benchmark ``name``, its kernels compiled and warmed up.

    ``count``: instruction-count mode — callgrind's collection is toggled on around every
    compiled call the benchmark makes (see :mod:`gdbench.perf._count`). ``clock="cpu"``: the
    process's CPU seconds around the same work instead of its wall time."""
    fn = _build(small, name, count)
    if clock == "wall":
        return fn
    if clock != "cpu":
        raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")

    def cpu(loops: int) -> float:
        t0 = time.process_time()
        fn(loops)
        return time.process_time() - t0

    return cpu


def _build(small: bool, name: str, count: bool) -> Callable[[int], float]:
    import gdbench

    from ._data import bare_problem, make_data
    from ._kernels import bracket_driver, fused_kernel

    sz = SIZES[small]
    f = inject_factor(name)
    wrap: Identity = _toggled if count else (lambda fn: fn)

    def counted_driver(opt: str, prob: str, dim: int | None = None) -> None:
        if count:
            from . import _callgrind

            bracket_driver(opt, prob, _callgrind.toggle_collect, _callgrind.toggle_collect, dim=dim)

    if name.startswith("driver_step_"):
        ros = gdbench.problems.make("rosenbrock", d=2)
        opt, lr = ("gd", 1e-4) if "_gd_" in name else ("adam", 1e-3)
        counted_driver(opt, "rosenbrock", ros.dim)
        gdbench.minimize(ros, opt, steps=100, lr=lr, record_every=0)
        return lambda loops: gdbench.minimize(ros, opt, steps=_scaled(loops, f), lr=lr, record_every=0).wall_s
    if name.startswith("fused_grad_"):
        n, d = sz["rows"]
        X, y = make_data("regression" if "linreg" in name else "classification", _scaled(n, f), d, seed=1)
        theta = np.random.default_rng(2).standard_normal(d + 1) * 0.1
        kernel = wrap(fused_kernel(name.split("_")[2], theta, X, y, 1e-3, np.empty(d + 1)))
        kernel()

        def fused(loops):
            t0 = time.perf_counter()
            for _ in range(loops):
                kernel()
            return time.perf_counter() - t0

        return fused
    if name.startswith("sgd_epoch_"):
        n, d = sz["sgd"]
        Xs, ys = make_data("regression", _scaled(n, f), d, seed=3)
        ps = bare_problem("linreg", Xs, ys, 2e-4)
        counted_driver("gd", "linreg")
        gdbench.minimize(ps, "gd", steps=10, lr=1e-3, batch_size=1, record_every=0)
        steps = Xs.shape[0]
        return lambda loops: sum(gdbench.minimize(ps, "gd", steps=steps, lr=1e-3, batch_size=1, record_every=0).wall_s
                                 for _ in range(loops))
    if name.startswith("minibatch_adam_"):
        n, d = sz["mb"]
        Xm, ym = make_data("regression", _scaled(n, f), d, seed=4)
        pm = bare_problem("linreg", Xm, ym, 1e-4)
        steps = -(-Xm.shape[0] // 64)
        counted_driver("adam", "linreg")
        gdbench.minimize(pm, "adam", steps=10, lr=1e-3, batch_size=64, record_every=0)
        return lambda loops: sum(
            gdbench.minimize(pm, "adam", steps=steps, lr=1e-3, batch_size=64, record_every=0).wall_s
            for _ in range(loops))
    if name == "sweep_adam_8cfg":
        pl = gdbench.problems.make("linreg", n=2000, d=16, seed=0)
        cfgs = [{"lr": lr} for lr in np.geomspace(1e-3, 1e-1, 8)]
        counted_driver("adam", "linreg")
        gdbench.sweep(pl, "adam", cfgs[:1], steps=5, record_every=0)
        ss = _scaled(COUNT_SWEEP_STEPS[small] if count else sz["sweep_steps"], f)
        return lambda loops: sum(gdbench.sweep(pl, "adam", cfgs, steps=ss, record_every=0, rows=False).wall_s
                                 for _ in range(loops))
    raise ValueError(f"unknown benchmark {name!r}")


def _toggled(fn: Callable) -> Callable:
    from ._callgrind import toggle_collect

    def call():
        toggle_collect()
        try:
            return fn()
        finally:
            toggle_collect()

    return call


def _add_cmdline_args(cmd: list[str], args) -> None:
    if args.small:
        cmd.append("--small")
    cmd += ["--clock", args.clock]


def main() -> None:
    runner = pyperf.Runner(add_cmdline_args=_add_cmdline_args, program_args=("-m", "gdbench.perf.perf_suite"))
    runner.argparser.add_argument("--small", action="store_true", help="small sizes (gdbench perf --fast)")
    runner.argparser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                                  help="wall seconds of the compiled calls (default) or the process's CPU seconds")
    args = runner.parse_args()
    runner.metadata["gdbench_size"] = "small" if args.small else "default"
    runner.metadata["gdbench_mode"] = "time" if args.clock == "wall" else "cpu_time"
    if os.environ.get(INJECT_ENV):
        runner.metadata["gdbench_inject"] = os.environ[INJECT_ENV]
    # the master only spawns workers and needs the names; worker task i builds (and compiles and
    # warms up) only benchmark i, the one it runs
    for i, name in enumerate(names(args.small)):
        fn = build(args.small, name, clock=args.clock) if args.worker and args.worker_task == i else _never
        runner.bench_time_func(name, fn)


def _never(loops: int) -> float:  # pragma: no cover - the master never times anything
    raise RuntimeError("only pyperf workers time benchmarks")


if __name__ == "__main__":
    main()
