"""The pyperf suite behind ``gdbench perf`` (run as ``python -m gdbench.perf.perf_suite``).

Every benchmark is a ``bench_time_func`` whose function owns its loop and returns the seconds
of compiled work only: the driver's own clock (``wall_s``, compilation and Python set-up
excluded) or ``perf_counter`` around direct kernel calls. Everything is compiled (or loaded from
the disk cache) and warmed up once per worker before pyperf takes any value.

Benchmarks (``--small``: the sizes of ``gdbench perf --fast``):
  driver_step_gd_rosenbrock2      seconds per step through gdbench.minimize (record_every=0)
  driver_step_adam_rosenbrock2    the same for adam
  fused_grad_{linreg,logistic}    one full-batch loss+gradient, rows kernel (parallel)
  sgd_epoch_linreg                one per-sample SGD epoch inside the driver
  minibatch_adam_epoch_linreg     one mini-batch(64) Adam epoch
  sweep_adam_8cfg                 8 configurations on all threads
"""

from __future__ import annotations

import time

import numpy as np
import pyperf

SIZES = {
    False: dict(rows=(200_000, 64), sgd=(20_000, 64), mb=(50_000, 64), sweep_steps=5_000),
    True: dict(rows=(20_000, 32), sgd=(2_000, 16), mb=(4_000, 16), sweep_steps=500),
}


def names(small: bool) -> list[str]:  # noqa: D401
    """Benchmark names in registration order (master and workers must agree)."""
    sz = SIZES[small]
    n, d = sz["rows"]
    return ["driver_step_gd_rosenbrock2", "driver_step_adam_rosenbrock2", f"fused_grad_linreg_{n}x{d}",
            f"fused_grad_logistic_{n}x{d}", "sgd_epoch_linreg_{}x{}".format(*sz["sgd"]),
            "minibatch_adam_epoch_linreg_{}x{}".format(*sz["mb"]), "sweep_adam_8cfg"]


def build(small: bool, name: str):
    """time_func(loops) -> seconds for benchmark ``name``, its kernels compiled and warmed up."""
    import gdbench

    from .bench import bare_problem, make_data

    sz = SIZES[small]
    if name.startswith("driver_step_"):
        ros = gdbench.problems.make("rosenbrock", d=2)
        opt, lr = ("gd", 1e-4) if "_gd_" in name else ("adam", 1e-3)
        gdbench.minimize(ros, opt, steps=100, lr=lr, record_every=0)
        return lambda loops: gdbench.minimize(ros, opt, steps=loops, lr=lr, record_every=0).wall_s
    if name.startswith("fused_grad_"):
        n, d = sz["rows"]
        X, y = make_data("regression" if "linreg" in name else "classification", n, d, seed=1)
        theta = np.random.default_rng(2).standard_normal(d + 1) * 0.1
        idx = np.zeros(0, dtype=np.int64)
        prm = np.array([1e-3])
        g = np.empty(d + 1)
        mod = gdbench.problems.PROBLEMS[name.split("_")[2]].kernels
        mod.loss_grad_rows(theta, X, y, prm, idx, 0, -1, g)

        def fused(loops):
            t0 = time.perf_counter()
            for _ in range(loops):
                mod.loss_grad_rows(theta, X, y, prm, idx, 0, -1, g)
            return time.perf_counter() - t0

        return fused
    if name.startswith("sgd_epoch_"):
        n, d = sz["sgd"]
        Xs, ys = make_data("regression", n, d, seed=3)
        ps = bare_problem("linreg", Xs, ys, 2e-4)
        gdbench.minimize(ps, "gd", steps=10, lr=1e-3, batch_size=1, record_every=0)
        return lambda loops: sum(gdbench.minimize(ps, "gd", steps=n, lr=1e-3, batch_size=1, record_every=0).wall_s
                                 for _ in range(loops))
    if name.startswith("minibatch_adam_"):
        n, d = sz["mb"]
        Xm, ym = make_data("regression", n, d, seed=4)
        pm = bare_problem("linreg", Xm, ym, 1e-4)
        steps = -(-n // 64)
        gdbench.minimize(pm, "adam", steps=10, lr=1e-3, batch_size=64, record_every=0)
        return lambda loops: sum(
            gdbench.minimize(pm, "adam", steps=steps, lr=1e-3, batch_size=64, record_every=0).wall_s
            for _ in range(loops))
    if name == "sweep_adam_8cfg":
        pl = gdbench.problems.make("linreg", n=2000, d=16, seed=0)
        cfgs = [{"lr": lr} for lr in np.geomspace(1e-3, 1e-1, 8)]
        gdbench.sweep(pl, "adam", cfgs[:1], steps=5, record_every=0)
        ss = sz["sweep_steps"]
        return lambda loops: sum(gdbench.sweep(pl, "adam", cfgs, steps=ss, record_every=0, rows=False).wall_s
                                 for _ in range(loops))
    raise ValueError(f"unknown benchmark {name!r}")


def _add_cmdline_args(cmd: list[str], args) -> None:
    if args.small:
        cmd.append("--small")


def main() -> None:
    runner = pyperf.Runner(add_cmdline_args=_add_cmdline_args, program_args=("-m", "gdbench.perf.perf_suite"))
    runner.argparser.add_argument("--small", action="store_true", help="small sizes (gdbench perf --fast)")
    args = runner.parse_args()
    runner.metadata["gdbench_size"] = "small" if args.small else "default"
    # the master only spawns workers and needs the names; worker task i builds (and compiles and
    # warms up) only benchmark i, the one it runs
    for i, name in enumerate(names(args.small)):
        fn = build(args.small, name) if args.worker and args.worker_task == i else _never
        runner.bench_time_func(name, fn)


def _never(loops: int) -> float:  # pragma: no cover - the master never times anything
    raise RuntimeError("only pyperf workers time benchmarks")


if __name__ == "__main__":
    main()
