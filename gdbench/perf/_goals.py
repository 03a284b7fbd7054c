"""The speed goals of issue 10 ("Performance, round two"), one place for their numbers.

A benchmark row that measures a goal names its key (:func:`apply`); ``gdbench bench`` then
shows the goal and met/MISSED on that row and lists every goal, measured or not, under the
table. Goals are met on the full sizes; ``--quick`` sizes make them indicative only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._table import Row


@dataclass(frozen=True)
class Goal:
    key: str
    what: str  # the row of the table
    text: str  # the goal as shown in the table
    limit: float
    on: str  # "ratio": row.ratio >= limit; "median": row.median <= limit; "flag": the row decides

    def met(self, row: Row) -> bool | None:
        if self.on == "ratio":
            return row.ratio is not None and row.ratio >= self.limit  # None: the equal-work check failed
        if self.on == "median":
            return row.median <= self.limit
        return row.met


GOALS: tuple[Goal, ...] = (
    Goal("roofline_d64", "fused linreg / hinge loss+grad, 1e6x64", ">= 0.85 of the read-X-once roofline", 0.85,
         "ratio"),
    Goal("roofline_d512", "fused linreg / hinge loss+grad, 2e5x512", ">= 0.85 of the read-X-once roofline", 0.85,
         "ratio"),
    Goal("roofline_logistic", "fused logistic, 1e6x64 / 2e5x512", ">= 0.65 of the read-X-once roofline", 0.65,
         "ratio"),
    Goal("numpy_d64", "fused linreg vs NumPy X.T @ (X @ w - y), d = 64", ">= 3x", 3.0, "ratio"),
    Goal("sgd_sklearn", "SGD, 5 epochs 1e5x64, vs scikit-learn SGD at equal objective (squared / log / hinge)",
         ">= 2.5x each", 2.5, "ratio"),
    Goal("minibatch_numpy", "mini-batch(64) Adam epoch vs NumPy", ">= 3x", 3.0, "ratio"),
    Goal("tiny_gd", "2-D Rosenbrock GD step vs a hand-written @njit loop holding theta in scalars",
         "<= 1.3x its time (ratio >= 0.77)", 1 / 1.3, "ratio"),
    Goal("tiny_adam", "same, Adam", "<= 1.3x with margin: <= 1.2x (ratio >= 0.83)", 1 / 1.2, "ratio"),
    Goal("cold_run", "first gdbench run, cold caches (quick suite)", "<= 20 s", 20.0, "median"),
    Goal("cold_minimize", "first minimize call, cold caches", "<= 2 s", 2.0, "median"),
    Goal("gate", "perf-gate sensitivity", "catches a 1.2x slowdown of any one benchmark; A/A passes", 1.2, "flag"),
)
BY_KEY = {g.key: g for g in GOALS}


def apply(row: Row, key: str) -> Row:
    """Mark ``row`` as measuring goal ``key``: its goal text and met/missed."""
    g = BY_KEY[key]
    row.goal_key, row.goal = key, g.text
    row.met = g.met(row)
    return row
