"""Every use of gdbench's compiled internals by the benchmarks, in one place.

The benchmarks time gdbench through its public API (``gdbench.minimize``/``sweep``) wherever
they can; what they need beyond it — the row kernels called directly, the exact batches the
driver draws, the driver of a pair — is reached only through these functions, so a change of
the kernels' entry points is adapted here once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType

import numpy as np

_NO_ROWS = np.zeros(0, dtype=np.int64)


def problem_module(name: str) -> ModuleType:
    """The module of data problem ``name`` (linreg, logistic, hinge: its loss pair)."""
    return importlib.import_module(f"gdbench.problems.{name}")


def kernels_of(name: str) -> ModuleType:
    """The compiled kernels of data problem ``name`` (generated from its loss pair)."""
    from ..problems import PROBLEMS

    return PROBLEMS[name].kernels


def fused_kernel(name: str, theta: np.ndarray, X: np.ndarray, y: np.ndarray, l2: float,
                 g: np.ndarray) -> Callable[[], float]:
    """``f()``: one full-batch loss+gradient of ``name`` at ``theta`` through the parallel row
    kernel (the fused path ``gdbench.sweep`` takes on large data), gradient into ``g``."""
    mod, prm = kernels_of(name), np.array([l2])
    return lambda: mod.loss_grad_rows(theta, X, y, prm, _NO_ROWS, 0, -1, g)


def serial_kernel(name: str, theta: np.ndarray, X: np.ndarray, y: np.ndarray, l2: float,
                  g: np.ndarray) -> Callable[[], float]:
    """``f()``: the same through the serial kernel (what one configuration of a sweep runs)."""
    mod, prm = kernels_of(name), np.array([l2])
    return lambda: mod.loss_grad(theta, X, y, prm, _NO_ROWS, 0, -1, g)


def row_loss_grad(problem, theta: np.ndarray, rows: np.ndarray, g: np.ndarray) -> float:
    """Loss and gradient of ``problem`` over ``rows`` (one mini-batch) with gdbench's kernel."""
    return problem.kernels.loss_grad(theta, problem.X, problem.y, problem.prm, rows, 0, len(rows), g)


def _epoch_orders(n: int, seed: int) -> Iterator[np.ndarray]:
    """The driver's row order of each epoch in turn (its xoroshiro stream from ``seed``, one
    shuffle of the previous order per epoch); each yield is the same array, reshuffled."""
    from ..kernels.rng import rng_seed, shuffle

    st = np.empty(2, dtype=np.uint64)
    rng_seed(st, seed)
    perm = np.arange(n)
    while True:
        shuffle(perm, st)
        yield perm


def driver_batches(n: int, bs: int, seed: int, steps: int) -> list[np.ndarray]:
    """The exact row batches gdbench's driver draws (same xoroshiro stream and shuffles)."""
    orders = _epoch_orders(n, seed)
    perm = next(orders)
    pos, out = 0, []
    for _ in range(steps):
        if pos >= n:
            perm = next(orders)
            pos = 0
        nb = min(bs, n - pos)
        out.append(perm[pos:pos + nb].copy())
        pos += nb
    return out


def driver_perms(n: int, seed: int, epochs: int) -> np.ndarray:
    """The row order of each of the first ``epochs`` epochs of a one-row-per-step run, as the
    driver draws it (as :func:`driver_batches` with one row a batch)."""
    orders = _epoch_orders(n, seed)
    return np.array([next(orders).copy() for _ in range(epochs)], dtype=np.int64).reshape(epochs, n)


def prefetch_rows_ahead() -> int:
    """How many rows ahead gdbench's SGD asks for the row it will read."""
    from ..kernels.loop import PREFETCH_ROWS

    return PREFETCH_ROWS


def driver_module(optimizer: str, problem: str, rows: bool = False, dim: int | None = None) -> ModuleType:
    """The generated driver module of an (optimizer, problem) pair, as ``gdbench.sweep`` uses it
    (``dim``: the problem's dimension, which picks the tiny-problem driver where it applies)."""
    from ..kernels.codegen import driver
    from ..optimizers import get_optimizer
    from ..problems import PROBLEMS

    return driver(get_optimizer(optimizer), PROBLEMS[problem], rows, dim)


class _Bracketed:
    """A compiled entry point whose every call runs between ``before()`` and ``after()``."""

    def __init__(self, fn, before: Callable[[], None], after: Callable[[], None]) -> None:
        self.fn, self.before, self.after = fn, before, after

    def __getattr__(self, name: str):  # signatures, py_func, ... of the dispatcher
        return getattr(self.fn, name)

    def __call__(self, *args):
        self.before()
        try:
            return self.fn(*args)
        finally:
            self.after()


def bracket_driver(optimizer: str, problem: str, before: Callable[[], None], after: Callable[[], None],
                   rows: bool = False, dim: int | None = None) -> None:
    """Make every compiled call of the pair's driver (``sweep``'s loop over configurations, the
    only compiled code ``gdbench.minimize``/``sweep`` run) happen between ``before()`` and
    ``after()``: ``gdbench perf --instructions`` counts exactly that region."""
    mod = driver_module(optimizer, problem, rows, dim)
    if not isinstance(mod.sweep, _Bracketed):
        mod.sweep = _Bracketed(mod.sweep, before, after)
