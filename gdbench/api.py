"""``gdbench.minimize``: one optimizer run on one problem, the everyday entry point."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .engine import sweep
from .problems import Problem

if TYPE_CHECKING:  # imported lazily (start-up time)
    import pandas as pd


@dataclass
class Result:
    """Outcome of :func:`minimize`."""

    params: np.ndarray  # final θ
    status: str  # converged | max_steps | diverged | stalled
    steps: int  # steps taken
    loss: float  # f(θ_final) over all rows (NaN when θ is not finite)
    wall_s: float  # run time, compilation excluded (includes recording)
    compile_s: float  # compile or cache-load time paid by this call
    _trace: Callable[[], pd.DataFrame] | pd.DataFrame | None = field(repr=False, default=None)

    @property
    def trace(self) -> pd.DataFrame:
        """The records: step, loss, grad_norm, dist_to_opt, suboptimality, rel_suboptimality (and
        θ for small problems), built on first access: pandas is imported then, not by the run
        (~0.25 s of a first call that never reads its trace)."""
        if callable(self._trace):
            self._trace = self._trace()
        return self._trace

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with its trace built (the builder is a closure over the sweep's arrays)."""
        state = dict(self.__dict__)
        state["_trace"] = self.trace
        return state

    @property
    def ns_per_step(self) -> float:
        return self.wall_s / max(self.steps, 1) * 1e9


def minimize(
    problem: Problem,
    optimizer: Any,
    steps: int = 1000,
    lr: float | None = None,
    x0: Any = None,
    batch_size: int | None = None,
    seed: int = 0,
    record_every: int = 1,
    schedule: Any = None,
    clip: Any = None,
    noise: float | None = None,
    stop_tol: float = 0.0,
    device: str = "cpu",
    init: Any = None,
    restart: Any = None,
    **hyper: float,
) -> Result:
    """Minimise ``problem`` with ``optimizer``: a name from ``gdbench.OPTIMIZERS``, a path to an
    update-rule file of yours, or its module.

    ``lr`` and ``**hyper`` override the optimizer's defaults; ``batch_size`` picks the gradient
    estimator (None: full batch, 1: SGD, b: mini-batch sampled per epoch without replacement
    from ``seed``); ``schedule`` is a name or ``{"name": ..., ...}``; ``clip`` is
    ``{"norm": c}`` or ``{"value": c}``; ``noise`` adds N(0, σ²) to every gradient coordinate.
    ``init`` draws the start at random from the seed's stream (``{"dist": "uniform", "low": l,
    "high": h}`` or ``{"dist": "normal", "scale": σ}``) and ``restart`` (``{"every": k}`` or
    ``{"on": "stall"}``) restarts from fresh random starts, returning the best iterate.
    ``device="cuda"`` runs on the GPU (:mod:`gdbench.cuda`).
    Bad arguments raise one ValueError naming the argument and what is allowed.
    """
    cfg = {"lr": lr, "seed": seed, "batch_size": batch_size, "schedule": schedule, "clip": clip, "noise": noise,
           "init": init, "restart": restart, **hyper}
    # threads=None: one configuration runs on one thread, unless the data is large enough for the
    # full-batch gradient to be spread over row blocks (engine.sweep's ``rows`` rule)
    res = sweep(problem, optimizer, [cfg], steps=steps, record_every=record_every, stop_tol=stop_tol, x0=x0,
                device=device)
    theta = res.theta[0].copy()
    loss = float(res.loss[0])  # the driver's own last full evaluation at θ: no extra pass over the data
    if math.isnan(loss) and np.isfinite(theta).all():  # a diverged run's last finite iterate
        loss = problem.loss(theta)
    return Result(
        params=theta,
        status=res.status[0],
        steps=int(res.steps_done[0]),
        loss=loss,
        wall_s=res.wall_s,
        compile_s=res.compile_s,
        _trace=lambda: res.trace_frame(0),
    )
