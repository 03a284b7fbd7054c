"""``gdbench bench --device cuda``: optimizer steps per second and full-batch gradient bandwidth.

Two measurements, each the best of a few timed launches after an untimed compile launch:

1. **sweep throughput** — Adam on 2-D Rosenbrock, K configurations (a log-spaced learning-rate
   grid) × T steps, no trace recording, one thread per configuration. Reported as optimizer
   steps per second summed over configurations (default 10 000 × 10 000; goal on an H100:
   ≥ 1e10 steps/s).
2. **full-batch gradient bandwidth** — GD on linreg with a large X (n × d), one block per
   configuration, four configurations per SM, every step a full-batch gradient, i.e. one
   read of X and y per configuration and step. Reported as bytes of X and y read per second
   against the device's peak memory bandwidth (2 × memory clock × bus width, from the device
   attributes; ``GDBENCH_PEAK_GBS`` overrides it). Blocks that read the same rows at nearly the
   same time can hit in L2, so this is an *effective* bandwidth; above 100 % of peak means reuse.
   (Goal on an H100: ≥ 70 % of peak.)

Times are kernel-only (the host↔device copies are left out). Under ``NUMBA_ENABLE_CUDASIM=1``
both run at toy sizes and the numbers mean nothing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._sys import atomic_write_text
from . import CudaUnavailable, require_cuda, simulator_enabled

SIZES = {  # (K, steps) for throughput; (n, d, steps) for bandwidth
    "full": {"K": 10_000, "steps": 10_000, "n": 1 << 21, "d": 31, "bw_steps": 20},
    "quick": {"K": 2_048, "steps": 1_000, "n": 1 << 16, "d": 31, "bw_steps": 10},
    "sim": {"K": 4, "steps": 10, "n": 64, "d": 3, "bw_steps": 2},
}


def _device_info() -> dict[str, Any]:
    from numba import cuda

    if simulator_enabled():
        return {"name": "CUDA simulator (CPU)", "sms": 1, "peak_gbs": None, "cc": None}
    dev = cuda.get_current_device()
    info: dict[str, Any] = {"name": dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name),
                            "cc": ".".join(map(str, dev.compute_capability))}
    try:
        info["sms"] = int(dev.MULTIPROCESSOR_COUNT)
    except Exception:  # pragma: no cover - attribute names differ across drivers
        info["sms"] = 1
    peak = None
    try:
        clock_khz = float(dev.MEMORY_CLOCK_RATE)
        bus_bits = float(dev.GLOBAL_MEMORY_BUS_WIDTH)
        peak = 2.0 * clock_khz * 1e3 * bus_bits / 8.0 / 1e9
    except Exception:  # pragma: no cover - CUDA may drop the attribute
        pass
    env = os.environ.get("GDBENCH_PEAK_GBS")
    if env:
        peak = float(env)
    info["peak_gbs"] = peak
    return info


def _best_kernel_time(fn, repeats: int) -> tuple[float, Any]:
    """Best kernel-only time (host<->device copies excluded) over ``repeats`` sweeps."""
    from .sweep import last_timing

    best, res = float("inf"), None
    for _ in range(repeats):
        res = fn()
        best = min(best, last_timing["kernel_s"])
    return best, res


def throughput(K: int, steps: int, repeats: int = 3) -> dict[str, Any]:
    """Adam on 2-D Rosenbrock: K configurations × ``steps``; aggregate steps/s."""
    from .. import problems
    from ..engine import sweep

    p = problems.rosenbrock(d=2)
    cfgs = [{"lr": float(lr)} for lr in np.logspace(-4, -1, K)]
    sweep(p, "adam", cfgs[: min(K, 32)], steps=1, record_every=0, device="cuda")  # compile, untimed
    wall, res = _best_kernel_time(lambda: sweep(p, "adam", cfgs, steps=steps, record_every=0, device="cuda"), repeats)
    done = int(res.steps_done.sum())
    return {"measure": "adam x rosenbrock-2d sweep", "K": K, "steps": steps, "kernel_s": wall, "steps_done": done,
            "steps_per_s": done / wall, "diverged": int((res.status_code == 2).sum())}


def bandwidth(n: int, d: int, steps: int, K: int, peak_gbs: float | None, repeats: int = 3) -> dict[str, Any]:
    """GD on linreg (n × d), K configurations, full batch: effective bytes of X, y read per second."""
    from .. import problems
    from ..engine import sweep

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    p = problems.linreg(X, y)
    cfgs = [{"lr": 1e-3} for _ in range(K)]
    sweep(p, "gd", cfgs[:1], steps=1, record_every=0, device="cuda")  # compile, untimed
    wall, res = _best_kernel_time(lambda: sweep(p, "gd", cfgs, steps=steps, record_every=0, device="cuda"), repeats)
    # per configuration: 1 gradient at θ0 + one per step + 1 final loss check (record_every=0)
    grads = int((res.steps_done + 2).sum())
    nbytes = grads * (X.nbytes + y.nbytes)
    gbs = nbytes / wall / 1e9
    return {"measure": "full-batch gradient, linreg", "n": n, "d": d, "K": K, "steps": steps, "kernel_s": wall,
            "gradients": grads, "GB_per_s": gbs, "peak_GB_per_s": peak_gbs,
            "fraction_of_peak": (gbs / peak_gbs) if peak_gbs else None}


def _table(dev: dict[str, Any], rows: list[dict[str, Any]], sim: bool) -> str:
    lines = [f"device: {dev['name']}" + (f" (cc {dev['cc']}, {dev['sms']} SMs)" if dev.get("cc") else ""), ""]
    lines.append("| measure | size | kernel s | result | goal |")
    lines.append("|---|---|---:|---:|---|")
    t, b = rows
    lines.append(f"| {t['measure']} | {t['K']} configs x {t['steps']} steps | {t['kernel_s']:.4g} | "
                 f"{t['steps_per_s']:.3g} steps/s | >= 1e10 steps/s (H100) |")
    frac = f" = {100 * b['fraction_of_peak']:.1f} % of {b['peak_GB_per_s']:.0f} GB/s" if b["fraction_of_peak"] else \
        " (peak unknown: set GDBENCH_PEAK_GBS)"
    lines.append(f"| {b['measure']} | n={b['n']} d={b['d']}, {b['K']} configs x {b['steps']} steps | "
                 f"{b['kernel_s']:.4g} | {b['GB_per_s']:.4g} GB/s{frac} | >= 70 % of peak (H100) |")
    if sim:
        lines += ["", "NOTE: CUDA simulator (NUMBA_ENABLE_CUDASIM=1): toy sizes on the CPU - these numbers are "
                  "meaningless as GPU performance."]
    return "\n".join(lines)


def main(args: Any) -> int:
    """Entry point for ``gdbench bench --device cuda``. ``args.quick``: small sizes (``args.tiny``:
    toy sizes, to exercise the code); ``args.out``: a
    ``.json`` file, or a folder that receives ``cuda_bench.json``. Returns an exit code."""
    try:
        require_cuda()
    except CudaUnavailable as e:
        print(f"gdbench bench: {e}")
        return 2
    sim = simulator_enabled()
    tiny = sim or getattr(args, "tiny", False)  # --tiny: code paths only
    size = SIZES["sim" if tiny else ("quick" if getattr(args, "quick", False) else "full")]
    dev = _device_info()
    t0 = time.perf_counter()
    rows = [throughput(size["K"], size["steps"], repeats=1 if sim else 3),
            bandwidth(size["n"], size["d"], size["bw_steps"], 4 * dev["sms"] if not sim else 2,
                      dev["peak_gbs"], repeats=1 if sim else 3)]
    print(_table(dev, rows, sim))
    out = getattr(args, "out", None)
    if out:
        path = Path(out)
        if path.suffix != ".json":
            path.mkdir(parents=True, exist_ok=True)
            path = path / "cuda_bench.json"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"version": 1, "device": dev, "simulator": sim, "results": rows,
               "total_s": time.perf_counter() - t0}
        atomic_write_text(path, json.dumps(doc, indent=2))
        print(f"wrote {path}")
    return 0
