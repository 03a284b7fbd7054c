"""Each formula of the report on a case small enough to compute by hand: runtime ECDF (first hits,
F(B), AUC, budget for 50 %), tuning robustness (width, diverging lr, lr_max/lr_best, expected best
after k trials), paired statistics (ratios, win probability, bootstrap interval), the AlgoPerf
score and the geometric-mean speed-up, the textbook rates; two-class labels; the suite baseline."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from gdbench.harness import ecdf, paired, robustness, score, theory
from gdbench.harness.suite import SuiteError, load
from gdbench.problems.base import DataNote, two_class_labels

INF = math.inf


def test_first_hits_from_traces():
    runs = pd.DataFrame({"run_id": ["a", "b", "c"]})
    traces = pd.DataFrame({"run_id": ["a"] * 4 + ["b"] * 3,
                           "step": [0, 10, 20, 30, 0, 5, 10],
                           "rel_suboptimality": [1.0, 0.05, 0.2, 1e-3, 1.0, np.nan, np.inf]})
    h = ecdf.first_hits(runs, traces, [1e-1, 1e-2, 1e-3, 1e-4])
    # a: 0.05 at step 10 reaches 1e-1; 1e-3 at step 30 reaches 1e-2 and 1e-3; never 1e-4.
    # b diverged (NaN, inf): nothing; c has no trace: nothing (unsolved, not dropped)
    np.testing.assert_array_equal(h, [[10, 30, 30, INF], [INF] * 4, [INF] * 4])


def test_ecdf_auc_and_budget_for_half():
    costs = [10.0, 100.0, INF, np.nan]
    np.testing.assert_allclose(ecdf.ecdf(costs, [1, 10, 50, 100, 1e9]), [0, 0.25, 0.25, 0.5, 0.5])
    # on [1, 1000] in log: 10 solves for 2/3 of the range, 100 for 1/3, the failures for 0
    assert ecdf.auc(costs, 1.0, 1000.0) == pytest.approx((2 / 3 + 1 / 3) / 4)
    assert ecdf.auc([0.0, 5000.0], 1.0, 1000.0) == pytest.approx(0.5)  # at once = 1, beyond the range = 0
    assert ecdf.budget_for_share(costs, 0.5) == 100.0
    assert ecdf.budget_for_share([10.0, INF, INF], 0.5) == INF


def test_ecdf_summary_counts_failed_runs():
    tr = pd.DataFrame({"problem": ["p", "p", "q", "q"], "variant": ["A"] * 4, "seed": [0, 1, 0, 1],
                       "target": [0.1] * 4, "steps": [10.0, INF, 100.0, INF],
                       "grad_evals": [10.0, INF, 100.0, INF], "time_s": [np.nan] * 4,
                       "budget_steps": [1000.0] * 4, "budget_grad_evals": [1000.0] * 4,
                       "budget_time_s": [np.nan] * 4, "unit_grad_evals": [1.0] * 4, "unit_time_s": [np.nan] * 4})
    s = ecdf.summary(tr).iloc[0]
    assert (s["problems"], s["triples"], s["solved"]) == (2, 4, 0.5)
    assert s["auc_steps"] == pytest.approx((2 / 3 + 1 / 3) / 4)
    assert math.isnan(s["auc_time_s"])  # no timing pass: no time range


def test_expected_best_after_k_trials():
    v = [1.0, 2.0, 3.0]
    assert robustness.expected_best(v, 1) == pytest.approx(2.0)
    # min of 2 draws: P(1) = 1 − (2/3)², P(2) = (2/3)² − (1/3)², P(3) = (1/3)²
    assert robustness.expected_best(v, 2) == pytest.approx(1 * 5 / 9 + 2 * 3 / 9 + 3 * 1 / 9)
    assert robustness.expected_best(v, 1000) == pytest.approx(1.0)
    # a diverged trial counts as no progress (r = 1), r is floored at 1e-16 and capped at 1
    np.testing.assert_allclose(robustness.trial_values([1e-4, 1e-20, 5.0, np.nan], [False, False, False, True]),
                               [-4, -16, 0, 0])


def test_robustness_row_by_hand():
    cells = pd.DataFrame({"lr": [1e-3, 1e-2, 1e-1, 1.0], "ert": [INF, 300.0, 100.0, 150.0],
                          "diverged": [0, 0, 0, 2]})
    runs = pd.DataFrame({"final_rel_subopt": [1e-2, 1e-4], "status": ["max_steps", "converged"]})
    r = robustness.robustness_row(cells, 0.1, runs, ks=(1, 2))
    assert r["width_dec"] == pytest.approx(1.0)  # 0.1 and 1 are within 2 x 100; 0.01 (300) is not
    assert r["lr_div"] == 1.0 and r["lr_max"] == 0.1 and r["lr_max_ratio"] == 1.0 and not r["lr_max_is_top"]
    assert r["best_of_1"] == pytest.approx(1e-3)  # 10^mean(−2, −4)
    assert r["best_of_2"] == pytest.approx(10 ** (-4 * 3 / 4 - 2 / 4))
    none = robustness.robustness_row(cells.assign(ert=INF, diverged=0), 0.1, runs)
    assert math.isnan(none["width_dec"]) and math.isnan(none["lr_div"]) and none["lr_max_is_top"]


def test_lr_profile_is_pandas_groupby_min_and_sum():
    """``lr_profile`` (NumPy) agrees with the pandas group-by it replaced: per lr sorted, the min
    ERT over its cells with NaN skipped (NaN when all are), the diverged seeds summed."""
    rng = np.random.default_rng(3)
    lr = rng.choice([1e-3, 1e-2, 0.1, 1.0], size=40)
    ert = rng.choice([INF, np.nan, 5.0, 30.0, 7.5, 100.0], size=40)
    ert[lr == 1.0] = np.nan  # an lr with no ERT at all
    cells = pd.DataFrame({"lr": lr, "ert": ert, "diverged": rng.integers(0, 3, size=40)})
    ref = (cells.groupby("lr", as_index=False).agg(ert=("ert", "min"), diverged=("diverged", "sum"))
           .sort_values("lr", kind="mergesort").reset_index(drop=True))
    pd.testing.assert_frame_equal(robustness.lr_profile(cells), ref, check_exact=True)


def test_paired_ratios_win_probability_and_interval():
    a, b = [10.0, INF, INF, 5.0], [20.0, 10.0, INF, 5.0]
    np.testing.assert_array_equal(paired.pair_ratios(a, b), [0.5, INF, 1.0, 1.0])
    assert paired.win_probability(a, b) == 0.5  # one win, two ties, one loss
    assert paired.win_probability(b, a) == 0.5
    assert paired.bootstrap_median([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    med, lo, hi = paired.bootstrap_median(paired.pair_ratios(a, b))
    assert med == 1.0 and lo <= med <= hi  # the middle two of 0.5, 1, 1, inf
    assert paired.median_ratio(np.array([0.5, 2.0, 8.0, INF])) == pytest.approx(4.0)  # sqrt(2 · 8)
    assert paired.median_ratio(np.array([0.0, INF])) == 1.0 and paired.median_ratio(np.array([0.0, 3.0])) == 0.0
    r = paired.pair_ratios(a, b)
    m, lo, hi = paired.bootstrap_median(r, seed=3)
    assert paired.median_ratio(1 / r) == pytest.approx(1 / m)
    assert paired.bootstrap_median([1.0, 2.0, 3.0, 4.0]) == paired.bootstrap_median([1.0, 2.0, 3.0, 4.0])


def test_paired_table_says_when_seeds_are_too_few():
    br = pd.DataFrame({"problem": ["p"] * 4, "seed": [0, 1, 0, 1], "variant": ["A", "A", "B", "B"],
                       "steps_to_1e-04": [10.0, 20.0, 20.0, 20.0]})
    pr = paired.paired(br, "steps_to_1e-04", ["A", "B"])
    ab = pr[(pr["A"] == "A") & (pr["B"] == "B")].iloc[0]
    assert (ab["pairs"], ab["win"]) == (2, 0.75) and ab["median_ratio"] == pytest.approx(math.sqrt(0.5))
    ba = pr[(pr["A"] == "B") & (pr["B"] == "A")].iloc[0]
    assert ba["median_ratio"] == pytest.approx(1 / ab["median_ratio"]) and ba["win"] == 0.25
    assert paired.seeds_too_few(pr) and "Too few seeds" in paired.verdict(pr)
    assert "0.71 [" in paired.paired_matrix(pr, ["A", "B"]).md()


def test_algoperf_score_and_speedup_by_hand():
    costs = pd.DataFrame({"A": [10.0, INF, 10.0], "B": [20.0, 5.0, 10.0], "C": [50.0, 5.0, INF]},
                         index=["p1", "p2", "p3"])
    # ratios: A 1, ∞, 1; B 2, 1, 1; C 5, 1, ∞  → mean of max(0, 4 − r)/3
    s = score.profile_score(costs)
    assert s["A"] == pytest.approx((1 + 0 + 1) / 3)
    assert s["B"] == pytest.approx((2 / 3 + 1 + 1) / 3)
    assert s["C"] == pytest.approx((0 + 1 + 0) / 3)
    sp, n = score.geomean_speedup(costs, "A")
    assert sp["A"] == 1.0 and n["A"] == 2
    assert sp["B"] == pytest.approx(math.sqrt(10 / 20 * 10 / 10)) and n["B"] == 2
    assert sp["C"] == pytest.approx(10 / 50) and n["C"] == 1


def test_textbook_rates():
    lines = theory.rate_lines(np.array([100.0]), 1e-6)
    assert lines["O(κ log 1/ε)"][0] == pytest.approx(100 * math.log(1e6))
    assert lines["O(√κ log 1/ε)"][0] == pytest.approx(10 * math.log(1e6))


def test_two_class_labels():
    with pytest.warns(DataNote, match="1 became \\+1"):
        np.testing.assert_array_equal(two_class_labels("logistic", [0, 1, 1]), [-1, 1, 1])
    with pytest.warns(DataNote, match="'yes' became \\+1"):
        np.testing.assert_array_equal(two_class_labels("hinge", np.array(["no", "yes"])), [-1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(two_class_labels("logistic", [-1, 1]), [-1, 1])
    with pytest.raises(ValueError, match="exactly two values"):
        two_class_labels("logistic", [0, 1, 2])


def test_csv_with_named_classes_and_a_note_in_the_run(tmp_path):
    from gdbench.harness.worker import build_problem

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2))
    lab = np.where(x[:, 0] + 0.3 * rng.standard_normal(40) > 0, "spam", "ham")
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": lab}).to_csv(tmp_path / "mail.csv", index=False)
    p = build_problem("logistic", {"data": str(tmp_path / "mail.csv"), "target": "label"})
    assert p.info["note"] == "labels 'ham'/'spam' mapped to -1/+1: 'spam' became +1"
    with pytest.raises(ValueError, match="numeric"):
        build_problem("linreg", {"data": str(tmp_path / "mail.csv"), "target": "label"})


def test_suite_baseline_field(tmp_path):
    body = '[problems.quadratic]\nd = 2\n[optimizers.adam]\nlr = 0.1\n[optimizers.batch_gd]\nlr = 0.1\n'
    good = tmp_path / "good.toml"
    good.write_text('baseline = "batch_gd"\n' + body)
    assert load(good).settings["baseline"] == "batch_gd"
    bad = tmp_path / "bad.toml"
    bad.write_text('baseline = "sgd"\n' + body)
    with pytest.raises(SuiteError, match="bad.toml: baseline: unknown optimizer variant 'sgd'; allowed: adam, "
                                         "batch_gd"):
        load(bad)


def test_kappa_sweep_picks_the_tuned_grid_point_of_the_cond_family():
    def run(rid, prob, cond, variant, name, d=20):
        return {"run_id": rid, "problem": prob, "problem_name": "quadratic", "variant": variant, "rule": variant,
                "run_name": name, "seed": 0, "problem_params": f'{{"cond": {cond}, "d": {d}, "L": 2.0}}'}

    runs = pd.DataFrame([run("a", "k10", 10.0, "gd", "gd[lr=0.5]"), run("b", "k10", 10.0, "gd", "gd[lr=1]"),
                         run("c", "k100", 100.0, "gd", "gd[lr=1]"),
                         run("x", "other", 10.0, "gd", "gd[lr=1]", d=2)])  # another family: not in the sweep
    steps = {"a": [0, 40, 80], "b": [0, 20, 30], "c": [0, 100, 200], "x": [0, 1, 2]}
    rel = {"a": [1, 1e-3, 1e-7], "b": [1, 1e-7, 1e-9], "c": [1, 1e-2, 1e-5], "x": [1, 1e-9, 1e-9]}
    traces = pd.DataFrame([{"run_id": k, "step": s, "rel_suboptimality": r} for k in steps
                           for s, r in zip(steps[k], rel[k])])
    assert theory.kappa_problems(runs) == {"k10": 10.0, "k100": 100.0}
    sw = theory.kappa_sweep(runs, traces)
    assert list(zip(sw["problem"], sw["tuned"], sw["steps"])) == [("k10", "gd[lr=1]", 20.0), ("k100", "gd[lr=1]", INF)]
    assert theory.lr_regimes(runs, "k10") == (0.5, 1.0)  # 1/L, 2/L with L = 2


def test_tutorial_suite_has_the_kappa_sweep():
    plan = load("tutorial")
    conds = sorted(p["cond"] for p in plan.problems.values() if p["problem"] == "quadratic" and p.get("d") == 20)
    assert conds == [10.0, 100.0, 1000.0]
    assert {"batch_gd", "momentum", "nesterov"} <= set(plan.variants)
