"""Degenerate but legal data has exact answers: rank-deficient designs and infima not attained.

Checked against numpy's ``lstsq`` and scikit-learn, which share no code with gdbench's solvers.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import gdbench
from gdbench.cli import main
from gdbench.problems import _degenerate
from gdbench.problems._degenerate import DegenerateProblemWarning, distance_to_set


def _A(X):
    X = np.asarray(X, dtype=float)
    return np.c_[X, np.ones(len(X))]


def _rng_data(n=200, d=3, seed=0, flip=0.8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X[:, 0] + flip * rng.standard_normal(n) > 0, 1.0, -1.0)  # overlapping classes
    return X, y


RANK_DEFICIENT = {
    "tutorial_collinear": ([[1, 1], [2, 2], [3, 3]], [2, 4, 5]),
    "duplicated_column": (np.c_[_rng_data()[0], _rng_data()[0][:, 1]], _rng_data()[0] @ [1.0, -2.0, 0.5] + 0.3),
    "constant_column": (np.c_[_rng_data()[0], np.full(200, 7.0)], _rng_data()[0][:, 0] + 1.0),
    "one_row": ([[1.0, 2.0]], [3.0]),
    "fewer_rows_than_columns": (np.random.default_rng(3).standard_normal((4, 9)), np.arange(4.0)),
}


@pytest.mark.parametrize("case", list(RANK_DEFICIENT))
def test_linreg_rank_deficient_matches_lstsq_and_sklearn(case):
    from sklearn.linear_model import LinearRegression

    X, y = (np.asarray(v, dtype=float) for v in RANK_DEFICIENT[case])
    p = gdbench.problems.linreg(X=X, y=y)  # no LinAlgError
    A = _A(X)
    x_ls, *_ = np.linalg.lstsq(A, y, rcond=None)  # numpy's minimum-norm least-squares solution
    f_ls = np.mean((A @ x_ls - y) ** 2)
    assert p.x_star is None and "not unique" in p.info["x_star_note"]
    assert p.info["x_star_rank"] == np.linalg.matrix_rank(A) < A.shape[1]
    np.testing.assert_allclose(p.info["x_min_norm"], x_ls, rtol=1e-9, atol=1e-12)
    assert abs(p.f_star - f_ls) <= 1e-12 * max(1.0, abs(f_ls))
    sk = LinearRegression().fit(X, y)
    f_sk = np.mean((sk.predict(X) - y) ** 2)
    assert abs(p.f_star - f_sk) <= 1e-9 * max(1.0, np.mean(y**2))
    assert p.f_star <= f_sk + 1e-12 * max(1.0, np.mean(y**2))


def test_distance_to_the_set_of_minimisers():
    X, y = (np.asarray(v, dtype=float) for v in RANK_DEFICIENT["duplicated_column"])
    p = gdbench.problems.linreg(X=X, y=y)
    x_mn, V = p.info["x_min_norm"], p.info["x_star_row_basis"]
    null = np.linalg.svd(_A(X))[2][-1]  # the one null direction of [X, 1]
    for c in (0.0, 3.0, -1e3):
        other = x_mn + c * null
        assert abs(p.loss(other) - p.f_star) <= 1e-9 * (1 + abs(c))  # every point of the set attains f*
        assert distance_to_set(other, x_mn, V) < 1e-9 * (1 + abs(c))
    theta = np.random.default_rng(1).standard_normal(p.dim)
    # the distance from θ to the line x_mn + t·null, minimised over t by hand
    t = null @ (theta - x_mn)
    assert distance_to_set(theta, x_mn, V) == pytest.approx(np.linalg.norm(theta - x_mn - t * null), rel=1e-12)


def test_linreg_full_rank_is_the_normal_equations_bit_for_bit():
    X, y = gdbench.problems.datasets.make_regression(300, 6, cond=100.0, seed=4)
    p = gdbench.problems.linreg(X=X, y=y, l2=1e-3)
    A = _A(X)
    M = (2.0 / 300) * (A.T @ A)
    M[np.arange(6), np.arange(6)] += 1e-3
    np.testing.assert_array_equal(p.x_star, np.linalg.solve(M, (2.0 / 300) * (A.T @ y)))


def test_linreg_ridge_on_collinear_data_is_unique_and_matches_sklearn():
    from sklearn.linear_model import Ridge

    X, y = (np.asarray(v, dtype=float) for v in RANK_DEFICIENT["tutorial_collinear"])
    for l2 in (1e-3, 1e-12):
        p = gdbench.problems.linreg(X=X, y=y, l2=l2)
        assert p.x_star is not None
        sk = Ridge(alpha=len(y) * l2 / 2, solver="svd").fit(X, y)
        np.testing.assert_allclose(p.x_star, [*sk.coef_, sk.intercept_], rtol=1e-6, atol=1e-9)
        f_sk = p.loss(np.r_[sk.coef_, sk.intercept_])
        assert p.f_star <= f_sk + 1e-12 and p.f_star == pytest.approx(f_sk, rel=1e-9)


def test_logistic_duplicated_column_without_l2():
    from sklearn.linear_model import LogisticRegression

    X, y = _rng_data()
    Xd = np.c_[X, X[:, 1]]
    p = gdbench.problems.logistic(X=Xd, y=y, l2=0.0)  # no LinAlgError
    q = gdbench.problems.logistic(X=X, y=y, l2=0.0)  # the same model without the duplicate
    assert p.x_star is None and q.x_star is not None
    assert p.f_star == pytest.approx(q.f_star, rel=1e-12)
    x_mn = p.info["x_min_norm"]
    assert x_mn[1] == pytest.approx(x_mn[3], rel=1e-9)  # min norm splits the weight evenly
    np.testing.assert_allclose([x_mn[0], 2 * x_mn[1], x_mn[2], x_mn[4]], q.x_star, rtol=1e-8, atol=1e-10)
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000, solver="newton-cg").fit(Xd, y)
    f_sk = np.mean(np.logaddexp(0.0, -y * (Xd @ sk.coef_[0] + sk.intercept_[0])))
    assert p.f_star <= f_sk + 1e-12 and p.f_star == pytest.approx(f_sk, rel=1e-8)


def test_logistic_separable_without_l2_reports_an_infimum_and_warns_once(monkeypatch):
    monkeypatch.setattr(_degenerate, "_warned", set())
    X, _ = _rng_data()
    y = np.where(X[:, 0] > 0, 1.0, -1.0)  # separated by the first feature
    with pytest.warns(DegenerateProblemWarning, match="infimum"):
        p = gdbench.problems.logistic(X=X, y=y, l2=0.0)
    assert p.f_star == 0.0 and p.x_star is None and "separates" in p.info["f_star_note"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdbench.problems.logistic(X=X, y=y, l2=0.0)  # once per process
    r = gdbench.minimize(p, "gd", steps=200, lr=1.0, record_every=50)
    assert np.isnan(r.trace["dist_to_opt"]).all() and (np.diff(r.trace["loss"]) < 0).all()
    # one class only: even with L2 on w, the unregularised bias has no finite optimum
    with pytest.warns(DegenerateProblemWarning, match="every label is \\+1"):
        q = gdbench.problems.logistic(X=X, y=np.ones(len(X)), l2=1e-3)
    assert q.f_star == 0.0 and q.x_star is None


def test_suite_on_degenerate_data_runs_and_notes_go_to_meta(tmp_path, capsys):
    (tmp_path / "col.csv").write_text("a,b,y\n" + "".join(f"{i},{2 * i},{3 * i + (i % 3)}\n" for i in range(20)))
    (tmp_path / "s.toml").write_text(
        'name = "deg"\nsteps = 200\nrecord_every = 20\ntiming_steps = 0\n'
        '[problems.col]\nproblem = "linreg"\ndata = "col.csv"\ntarget = "y"\nstandardize = true\n'
        "[optimizers.gd]\nlr = 0.05\n")
    out = tmp_path / "out"
    rc = main(["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet", "--no-figures",
               "--compile-workers", "0"])
    assert rc == 0, capsys.readouterr().err
    meta = json.loads((out / "meta.json").read_text())
    assert "not unique" in meta["problems"]["col"]["x_star_note"]
    from gdbench.harness.store import load_results

    runs, traces, _ = load_results(out)
    assert np.isnan(traces["dist_to_opt"]).all() and (runs["final_subopt"] >= -1e-12).all()
