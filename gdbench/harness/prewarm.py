"""Compile the kernels that every CPU driver calls, before a suite's plan is known.

`gdbench run`'s compile helper runs :func:`prewarm` while the run's process loads the suite and
builds its problems (their f* solvers compile then, on one core): the built-in rules' step and
init functions and the step loop's shared kernels (records, starts, random streams, schedules,
clipping) are then in numba's disk cache when the drivers are compiled, in either process, instead
of being compiled by both of them at once. Each is called once on small arrays of the types the
drivers pass (float64 C arrays, int64 counters and ids, float64 hyper-parameters), which compiles
the same specialisation a driver asks for; the values computed are thrown away.
"""

from __future__ import annotations

import numpy as np

#: the dimension of the throw-away arrays (any: the compiled code does not depend on it)
_D = 2


def _rule_args(opt, params: tuple[str, ...]) -> list:
    """Arguments of the types a CPU driver passes for these parameter names (codegen's vocabulary:
    arrays by name, the rule's other hyper-parameters as float64)."""
    nstate = max(len(opt.state), 1)
    vocab = {"theta": lambda: np.zeros(_D), "g": lambda: np.ones(_D), "H": lambda: np.eye(_D),
             "s": lambda: np.zeros((nstate, _D)), "hp": lambda: np.zeros(max(len(opt.extra_names), 1)),
             "lr": lambda: 1e-3, "t": lambda: 1, "f": lambda: 1.0, "f_star": lambda: 0.0}
    return [vocab[p]() if p in vocab else float(opt.hyper.get(p, 0.0)) for p in params]


def prewarm() -> list[str]:
    """Compile (or load from the disk cache) the shared kernels and every built-in rule; returns the
    names of those that failed (a rule whose numbers on throw-away arrays raise is still compiled)."""
    from ..kernels import rng, support, transforms
    from ..kernels.records import TRACE_FIXED
    from ..optimizers import OPTIMIZERS

    failed: list[str] = []
    st = np.zeros(2, dtype=np.uint64)
    theta, g = np.zeros(_D), np.ones(_D)
    rng.rng_seed(st, 1)
    support.draw_start(theta, np.zeros(_D), np.zeros(_D), np.ones(_D), 2, st)
    support.record(np.zeros((1, 1, len(TRACE_FIXED) + _D)), 0, 0, 0, 1.0, g, theta, np.zeros(_D), True, 0)
    support.rel_scale(1.0, 0.0)
    rng.shuffle(np.arange(4), st)
    rng.rng_normal(st)
    transforms.scheduled_lr(1e-3, 0, 0.0, 0.0, 1)
    transforms.clip_grad(g, 0, 1.0)
    for name, opt in OPTIMIZERS.items():
        if opt.is_plugin:
            continue
        try:
            if opt.init_params is not None:
                opt.module.init(*_rule_args(opt, opt.init_params))
            opt.module.step(*_rule_args(opt, opt.step_params))
        except Exception:  # noqa: BLE001 - compiled already; only its numbers on dummies failed
            failed.append(name)
    return failed
