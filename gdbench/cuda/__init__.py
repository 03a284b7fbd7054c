"""GPU sweeps with numba-cuda: a whole configuration sweep of one (optimizer, problem) pair as one
kernel launch, with the same outputs as the CPU sweep (:func:`gdbench.sweep`).

Optional: install with ``pip install -e ".[cuda]"``. Nothing here imports ``numba.cuda`` until a
GPU sweep is asked for, so ``import gdbench`` and every CPU feature work without numba-cuda and
without a GPU. ``NUMBA_ENABLE_CUDASIM=1`` (set before the process imports numba) runs the kernels
on the CPU simulator, which is how the tests check them without a GPU.

Run a sweep on the GPU with ``gdbench.sweep(..., device="cuda")`` (or ``gdbench.minimize``). The
GPU step loop is generated from the CPU's template (:mod:`gdbench.cuda.codegen`). Layouts:

- analytic problems (rosenbrock, saddle, quadratic): one thread per configuration, the state in
  registers/local memory;
- data problems (linreg, logistic, hinge): one block per configuration; X and y live in device
  memory once and every block reads them; the block's threads split the rows of the (mini-)batch
  and reduce in a fixed order, so GPU traces are bit-reproducible.
"""

from __future__ import annotations

import importlib

__all__ = ["CudaUnavailable", "cuda_available", "require_cuda", "simulator_enabled", "unavailable_reason"]

INSTALL_HINT = 'pip install -e ".[cuda]"'


class CudaUnavailable(RuntimeError):
    """device='cuda' was asked for but numba-cuda, or a GPU (or the simulator), is missing."""


def _cuda_module():
    """``numba.cuda``, or None when numba-cuda is not installed."""
    try:
        return importlib.import_module("numba.cuda")
    except ImportError:
        return None


def unavailable_reason() -> str | None:
    """None when CUDA sweeps can run here; otherwise why not, in one sentence."""
    cuda = _cuda_module()
    if cuda is None:
        return f"numba-cuda is not installed ({INSTALL_HINT})"
    try:
        ok = bool(cuda.is_available())
    except Exception as e:  # pragma: no cover - broken driver installs
        return f"the CUDA driver could not be initialised ({type(e).__name__}: {e})"
    if not ok:
        return "numba-cuda found no usable NVIDIA GPU (no driver or no device)"
    return None


def cuda_available() -> bool:
    """Whether ``device="cuda"`` can run here (a GPU, or ``NUMBA_ENABLE_CUDASIM=1``)."""
    return unavailable_reason() is None


def require_cuda() -> None:
    """Raise :class:`CudaUnavailable` with one clear message unless CUDA sweeps can run."""
    why = unavailable_reason()
    if why is not None:
        raise CudaUnavailable(
            f"device='cuda' is not available: {why}. Use device='cpu', or set NUMBA_ENABLE_CUDASIM=1 "
            "before starting Python to run the CUDA kernels on the (slow) CPU simulator."
        )


def simulator_enabled() -> bool:
    """Whether numba.cuda runs on the CPU simulator in this process (False without numba-cuda)."""
    cuda = _cuda_module()
    if cuda is None:
        return False
    from numba.cuda import config

    return bool(getattr(config, "ENABLE_CUDASIM", False))
