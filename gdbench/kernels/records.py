"""The named records a compiled sweep takes: configurations, problem, budget, outputs, scratch.

numba passes a namedtuple of arrays and scalars as one argument (on the CPU, on the GPU and to
cached functions alike), so the step loop takes five records instead of a 25-argument positional
list; the Python side builds them by field name (:func:`gdbench.engine.sweep`). Field order is the
only thing the two sides share, and it lives here.
"""

from collections import namedtuple

#: per configuration k (arrays indexed by k first)
Configs = namedtuple("Configs", [
    "theta0",      # (K, D) the start, or the centre/default of the start distribution
    "hp",          # (K, H) hyper-parameters after lr, in HYPER order
    "lrs",         # (K,) base learning rate
    "sched",       # (K, 3) schedule kind, p1, p2 (gdbench.kernels.transforms)
    "clip",        # (K, 2) clip kind, c
    "batch",       # (K,) 0 = full batch, b = mini-batch rows (1 = SGD)
    "noise",       # (K,) σ of Gaussian noise added to every gradient coordinate
    "seeds",       # (K,) seed of the configuration's xoroshiro128+ stream
    "init_kind",   # (K,) start: 0 fixed theta0, 1 uniform in [init_a, init_b], 2 normal(init_a, init_b)
    "init_a",      # (K, D)
    "init_b",      # (K, D)
    "restart",     # (K, 3) restart kind (0 none, 1 every p steps, 2 on stall over p steps), p, tol
    "rule",        # (K,) which of the driver's update rules (0 for a one-rule driver)
])

#: the problem's arrays and reference optimum; ``kid``: which of the driver's problems (several
#: problems of one family may share a CPU driver; 0 for a one-problem driver)
ProblemArrays = namedtuple("ProblemArrays", ["X", "y", "prm", "f_star", "x_star", "has_xstar", "kid"],
                           defaults=(0,))

#: the run budget and stopping rules, the same for every configuration of a sweep
Budget = namedtuple("Budget", ["steps", "record_every", "stop_tol", "div_factor"])

#: outputs, written at index k
Outputs = namedtuple("Outputs", [
    "theta",        # (K, D) the final iterate (the best one when restarts are on)
    "trace",        # (K, R, C) records: step, loss, grad_norm, dist_to_opt, restarts [, θ]
    "nrec",         # (K,) records written
    "status",       # (K,) 0 max_steps, 1 converged, 2 diverged
    "steps_done",   # (K,) steps taken, over all restarts
    "theta_start",  # (K, D) the start actually used
    "restarts",     # (K,) restarts made
    "loss",         # (K,) f over all rows at the returned iterate (driver's last full evaluation; NaN: diverged)
])

#: device scratch memory (GPU data kernels: one row permutation per stochastic configuration)
Scratch = namedtuple("Scratch", ["perm_all", "perm_row"])

TRACE_FIXED = ("step", "loss", "grad_norm", "dist_to_opt", "restarts")
