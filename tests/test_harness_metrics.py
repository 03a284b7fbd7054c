"""Metrics on hand-computed traces: steps-to-tolerance, ERT, quantile band, performance profile,
saddle escape, best-lr rule; and one worker group checked against a direct sweep."""

import math

import numpy as np
import pandas as pd
import pytest

import gdbench
from gdbench.harness import metrics as M
from gdbench.harness.executors import GroupTask, make_executor
from gdbench.harness.worker import run_group

INF = math.inf


def test_steps_to_tol_first_recorded_step_at_or_below():
    steps = np.array([0, 10, 20, 30])
    rel = np.array([1.0, 0.1, 0.009, 1e-5])
    assert M.steps_to_tol(steps, rel, 1e-1) == 10  # "at or below"
    assert M.steps_to_tol(steps, rel, 1e-2) == 20
    assert M.steps_to_tol(steps, rel, 1e-4) == 30
    assert M.steps_to_tol(steps, rel, 1e-6) == INF
    assert M.steps_to_tol(steps, np.array([1.0, np.nan, 1e-3, np.nan]), 1e-2) == 20  # NaN never counts


def test_rel_suboptimality_scale():
    np.testing.assert_allclose(M.rel_suboptimality([5.0, 3.0, 1.0], 5.0, 1.0), [1.0, 0.5, 0.0])
    assert M.rel_scale(1.0, 1.0) == 2.0  # f0 == f*: |f0| + 1


def test_ert_and_success_rate():
    assert M.ert([10, 20, INF], 100) == pytest.approx((10 + 20 + 100) / 2)
    assert M.ert([10, INF, INF, 40], [100, 200, 300, 400]) == pytest.approx((10 + 40 + 200 + 300) / 2)
    assert M.ert([INF, INF], 50) == INF
    assert M.ert([7.0], 50) == 7.0
    assert M.success_rate([10, INF, 5, INF]) == 0.5


def test_quantile_band_with_unreached_runs():
    v = list(range(1, 12))  # 1..11
    assert M.band(v) == (6.0, 2.0, 10.0)
    med, lo, hi = M.band([10, 20, INF])
    assert med == 20 and lo == pytest.approx(12.0) and hi == INF
    assert M.quantile([10, INF, INF], 0.5) == INF
    assert M.quantile([3.0, np.nan, 1.0], 0.5) == 2.0
    assert math.isnan(M.quantile([], 0.5))
    # agrees with numpy where everything is finite
    x = np.random.default_rng(0).random(17)
    for q in (0.1, 0.5, 0.9):
        assert M.quantile(x, q) == pytest.approx(np.quantile(x, q))


def test_performance_profile_hand_computed():
    costs = pd.DataFrame({"A": [1.0, 10.0, INF], "B": [2.0, 5.0, 3.0]}, index=["p1", "p2", "p3"])
    prof = M.performance_profile(costs, [1.0, 2.0, 4.0])
    # ratios: A = [1, 2, inf], B = [2, 1, 1]
    assert list(prof["A"]) == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert list(prof["B"]) == pytest.approx([2 / 3, 1.0, 1.0])
    nobody = pd.DataFrame({"A": [INF], "B": [INF]})
    assert list(M.performance_profile(nobody, [1.0, 100.0])["A"]) == [0.0, 0.0]
    zero = pd.DataFrame({"A": [0.0], "B": [3.0]})
    assert list(M.performance_profile(zero, [1.0, 1e9])["B"]) == [0.0, 0.0]
    assert list(M.performance_profile(zero, [1.0])["A"]) == [1.0]


def test_escape_step():
    steps = np.array([0, 5, 10, 15])
    loss = np.array([1.0, -0.01, -0.03, -0.2])
    # f_saddle = 0, f* = -0.25: threshold -0.025
    assert M.escape_step(steps, loss, 0.0, -0.25, 0.1) == 10
    assert M.escape_step(steps, loss, 0.0, -0.25, 0.9) == INF


def _runs(rows):
    base = {"problem": "p", "variant": "v", "batch_size": 0, "steps_budget": 100, "status": "converged",
            "ns_per_step": 1.0, "grad_evals_per_step": 1.0, "compile_s": 0.0, "escape_step": np.nan}
    out = []
    for r in rows:
        d = {**base, **r}
        d["run_name"] = f"v[lr={d['lr']}]"
        d["time_to_1e-04"] = d["steps_to_1e-04"] * 1e-9
        out.append(d)
    return pd.DataFrame(out)


def test_best_lr_rule_smallest_ert_then_final_then_lr():
    runs = _runs([
        {"lr": 0.1, "seed": 0, "steps_to_1e-04": 30.0, "final_rel_subopt": 1e-9},
        {"lr": 0.1, "seed": 1, "steps_to_1e-04": INF, "final_rel_subopt": 1e-2, "status": "max_steps"},
        {"lr": 0.01, "seed": 0, "steps_to_1e-04": 60.0, "final_rel_subopt": 1e-9},
        {"lr": 0.01, "seed": 1, "steps_to_1e-04": 60.0, "final_rel_subopt": 1e-9},
        {"lr": 1.0, "seed": 0, "steps_to_1e-04": INF, "final_rel_subopt": np.inf, "status": "diverged"},
        {"lr": 1.0, "seed": 1, "steps_to_1e-04": INF, "final_rel_subopt": np.inf, "status": "diverged"},
    ])
    cells = M.aggregate_cells(runs, [1e-4], 1e-4)
    ert = dict(zip(cells["lr"], cells["ert"]))
    assert ert[0.1] == pytest.approx(130.0) and ert[0.01] == 60.0 and ert[1.0] == INF
    best = M.best_cells(cells)
    assert list(best["lr"]) == [0.01]
    assert cells.set_index("lr").loc[1.0, "diverged"] == 2
    # nobody succeeds: the smallest median final suboptimality of non-diverged seeds wins
    fail = runs.assign(**{"steps_to_1e-04": INF})
    fail.loc[fail["lr"] == 0.1, "final_rel_subopt"] = 1e-3
    fail.loc[fail["lr"] == 0.01, "final_rel_subopt"] = 1e-2
    assert list(M.best_cells(M.aggregate_cells(fail, [1e-4], 1e-4))["lr"]) == [0.1]


def _task(**over):
    cfgs = tuple({"lr": lr, "seed": s} for lr in (0.1, 0.5) for s in (0, 1))
    kw = dict(group_id="g", suite="t", problem="quad", problem_name="quadratic", problem_params={"d": 3, "cond": 5.0},
              rule="gd", run_ids=tuple(f"r{i}" for i in range(len(cfgs))), configs=cfgs,
              labels=tuple({"problem": "quad", "variant": "gd", "run_name": f"gd[lr={c['lr']}]"} for c in cfgs),
              steps=300, record_every=5, stop_tol=1e-8, timing_steps=100)
    kw.update(over)
    return GroupTask(**kw)


def test_worker_group_matches_a_direct_sweep():
    task = _task()
    res = run_group(task)
    assert res.host and len(res.runs) == 4
    p = gdbench.problems.make("quadratic", d=3, cond=5.0)
    direct = gdbench.sweep(p, "gd", list(task.configs), steps=300, record_every=5, stop_tol=1e-8)
    traces = pd.DataFrame(res.traces)
    for k, row in enumerate(res.runs):
        assert row["run_id"] == f"r{k}" and row["host"] == res.host
        tr = direct.trace_frame(k)
        assert row["status"] == direct.status[k] and row["steps_done"] == direct.steps_done[k]
        for tol in task.tolerances:
            assert row[M.steps_col(tol)] == M.steps_to_tol(tr["step"].to_numpy(), tr["rel_suboptimality"].to_numpy(),
                                                           tol)
        assert row["final_loss"] == tr["loss"].iloc[-1]
        t = traces[traces["run_id"] == f"r{k}"]
        np.testing.assert_array_equal(t["loss"].to_numpy(), tr["loss"].to_numpy())
        np.testing.assert_array_equal(t["rel_suboptimality"].to_numpy(), tr["rel_suboptimality"].to_numpy())
        assert row["ns_per_step"] > 0 and row["grad_evals_per_step"] == 1.0
    # the same task again gives identical convergence columns (pure function)
    again = run_group(task)
    timing = ("ns_", "time_", "compile", "wall", "grad_evals_per_s")
    for a, b in zip(res.runs, again.runs):
        assert {k: v for k, v in a.items() if not k.startswith(timing)} == {
            k: v for k, v in b.items() if not k.startswith(timing)}


def test_worker_data_problem_counts_gradient_evaluations_and_time_budget():
    cfgs = ({"lr": 0.05, "seed": 0}, {"lr": 0.05, "seed": 0, "batch_size": 8})
    task = _task(problem="lin", problem_name="linreg", problem_params={"n": 40, "d": 2}, configs=cfgs,
                 run_ids=("a", "b"), labels=({"variant": "x"}, {"variant": "y"}), time_budget_s=1e-7)
    res = run_group(task)
    full, mini = res.runs
    assert full["grad_evals_per_step"] == 40 and mini["grad_evals_per_step"] == 8
    for tol in task.tolerances:
        s = full[M.steps_col(tol)]
        assert full[f"epochs_to_{M.tol_label(tol)}"] == (s if math.isfinite(s) else INF)
    assert 1 <= full["steps_budget"] < 300  # a 100 ns budget caps the steps by the measured ns/step
    assert full["steps_done"] <= full["steps_budget"]


def test_group_task_subset_and_executor_registry():
    t = _task()
    s = t.subset({"r1", "r3"})
    assert s.run_ids == ("r1", "r3") and s.configs == (t.configs[1], t.configs[3]) and s.group_id == t.group_id
    ex = make_executor("local")
    assert [r.group_id for r in ex.map_unordered(run_group, [s])] == ["g"]
    ex.close()
    with pytest.raises(ValueError, match="unknown executor 'nope'; allowed: local, processes, dask"):
        make_executor("nope")
