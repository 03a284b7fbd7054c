"""Gradients, Hessians and reference optima of every registered problem."""

import numpy as np
import pytest
from conftest import small_problem

import gdbench
from gdbench.checks import check_points, finite_difference_grad, finite_difference_hess
from gdbench.problems import PROBLEMS


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_gradient_matches_central_differences(name, problems_small, rng):
    p = problems_small[name]
    for th in check_points(p, rng):
        np.testing.assert_allclose(p.grad(th), finite_difference_grad(p, th), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", [n for n, m in PROBLEMS.items() if m.HAS_HESSIAN])
def test_hessian_matches_differences_of_gradient(name, problems_small, rng):
    p = problems_small[name]
    for th in check_points(p, rng):
        H = p.hess(th)
        np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12)
        np.testing.assert_allclose(H, finite_difference_hess(p, th), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_f_star_is_a_lower_bound_and_attained(name, problems_small, rng):
    p = problems_small[name]
    assert np.isfinite(p.f_star)
    if p.x_star is not None:
        assert p.loss(p.x_star) == pytest.approx(p.f_star, rel=1e-12, abs=1e-14)
        assert np.linalg.norm(p.grad(p.x_star)) < 1e-7
    center = p.x_star if p.x_star is not None else p.x0
    for _ in range(200):
        th = center + rng.standard_normal(p.dim) * rng.choice([1e-3, 1e-1, 1.0])
        assert p.loss(th) >= p.f_star - 1e-12


def test_linreg_f_star_matches_numpy_lstsq(rng):
    X = rng.standard_normal((80, 3))
    y = rng.standard_normal(80)
    for l2 in (0.0, 0.3):
        p = gdbench.problems.linreg(X, y, l2=l2)
        n = X.shape[0]
        A = np.hstack([X, np.ones((n, 1))])
        # (1/n)‖Aθ−y‖² + (λ/2)‖w‖² = (1/n)‖[A; √(nλ/2)·[I 0]]θ − [y; 0]‖²
        reg = np.hstack([np.sqrt(n * l2 / 2) * np.eye(3), np.zeros((3, 1))])
        theta, *_ = np.linalg.lstsq(np.vstack([A, reg]), np.concatenate([y, np.zeros(3)]), rcond=None)
        np.testing.assert_allclose(p.x_star, theta, rtol=1e-10, atol=1e-12)
        assert p.f_star == pytest.approx(p.loss(theta), rel=1e-13)


def test_logistic_f_star_matches_scipy():
    scipy_opt = pytest.importorskip("scipy.optimize")
    p = small_problem("logistic", n=120, d=3, l2=1e-2)
    r = scipy_opt.minimize(p.loss, np.zeros(p.dim), jac=p.grad, method="BFGS", options={"gtol": 1e-12})
    assert p.f_star <= r.fun + 1e-14
    assert p.f_star == pytest.approx(r.fun, rel=1e-10)
    np.testing.assert_allclose(p.x_star, r.x, atol=1e-5)


def test_hinge_f_star_is_certified_by_an_independent_dual_bound():
    p = small_problem("hinge", n=150, d=3, l2=0.05)
    X, y, lam = p.X, p.y, 0.05
    a = p.info["dual_alpha"]
    n = len(y)
    assert np.all(a >= 0) and np.all(a <= 1.0 / n + 1e-15)
    assert abs(a @ y) < 1e-12
    v = (a * y) @ X
    dual = a.sum() - 0.5 / lam * (v @ v)  # any feasible α bounds f* from below
    assert dual <= p.f_star + 1e-14
    assert p.f_star - dual <= 1e-10


def test_hinge_f_star_matches_a_generic_qp_solver():
    scipy_opt = pytest.importorskip("scipy.optimize")
    p = small_problem("hinge", n=30, d=2, l2=0.1)
    X, y, lam = p.X, p.y, 0.1
    n, d = X.shape
    # primal QP in (w, b, ξ): min (1/n)Σξ + λ/2‖w‖²  s.t. ξ ≥ 1 − y(Xw + b), ξ ≥ 0
    def obj(z):
        return z[d + 1:].mean() + 0.5 * lam * z[:d] @ z[:d]

    cons = [{"type": "ineq", "fun": lambda z: z[d + 1:] - 1 + y * (X @ z[:d] + z[d])},
            {"type": "ineq", "fun": lambda z: z[d + 1:]}]
    r = scipy_opt.minimize(obj, np.concatenate([np.zeros(d + 1), np.ones(n)]), constraints=cons, method="SLSQP",
                           options={"ftol": 1e-14, "maxiter": 1000})
    assert p.f_star == pytest.approx(r.fun, abs=1e-7)
    assert p.f_star <= r.fun + 1e-10


def test_quadratic_spectrum_and_optimum():
    p = gdbench.problems.quadratic(d=6, cond=50.0, L=2.0, seed=3)
    ev = np.linalg.eigvalsh(p.X)
    np.testing.assert_allclose([ev.min(), ev.max()], [2.0 / 50, 2.0], rtol=1e-10)
    xs, *_ = np.linalg.lstsq(p.X, p.y, rcond=None)
    np.testing.assert_allclose(p.x_star, xs, rtol=1e-9)
    assert p.info["L"] == pytest.approx(2.0)


def test_saddle_minima_and_saddle_value():
    p = gdbench.problems.saddle()
    assert p.loss([0.0, 0.0]) == 0.0
    assert p.loss([0.0, 1.0]) == pytest.approx(-0.25) and p.loss([0.0, -1.0]) == pytest.approx(-0.25)
    grid = np.linspace(-2, 2, 401)
    assert min(p.loss([a, b]) for a in grid[::10] for b in grid) >= p.f_star - 1e-15
    q = gdbench.problems.saddle(d=5, k=2)
    assert q.f_star == -0.5 and q.loss([0, 0, 0, 1, -1]) == pytest.approx(-0.5)


def test_rosenbrock_any_dimension():
    for d in (2, 3, 7):
        p = gdbench.problems.rosenbrock(d=d)
        assert p.loss(np.ones(d)) == 0.0 and np.all(p.grad(np.ones(d)) == 0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gdbench.problems.logistic(np.ones((3, 2)), [1, -1]), "rows"),
        (lambda: gdbench.problems.logistic([[1, 2], [np.nan, 1]], [1, -1]), "NaN"),
        (lambda: gdbench.problems.logistic([[1, 2], [3, 1], [0, 1]], [1, 0, 2]), "exactly two values"),
        (lambda: gdbench.problems.hinge(n=10, d=2, l2=0.0), "l2 must be > 0"),
        (lambda: gdbench.problems.linreg(np.ones(3), [1, 2, 3]), "2-D"),
        (lambda: gdbench.problems.rosenbrock(d=1), "d must be"),
        (lambda: gdbench.problems.make("nope"), "allowed: linreg"),
        (lambda: gdbench.problems.make("linreg", bogus=1), "unknown parameter 'bogus'"),
        (lambda: gdbench.problems.linreg(data="sklearn:nope"), "unknown scikit-learn"),
        (lambda: gdbench.problems.linreg(data="/no/such.csv"), "does not exist"),
    ],
)
def test_bad_problem_input_raises_one_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_data_files_load(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [0.5, 0.1, 0.2, 0.9], "t": [1.0, 3, 2, 5]})
    df.to_csv(tmp_path / "d.csv", index=False)
    p = gdbench.problems.linreg(data=str(tmp_path / "d.csv"), target="t")
    assert p.X.shape == (4, 2) and p.y.tolist() == [1, 3, 2, 5]
    df.assign(b=["x", "y", "z", "w"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="column 'b' is not numeric"):
        gdbench.problems.linreg(data=str(tmp_path / "bad.csv"), target="t")
    df.assign(b=[0.1, None, 0.2, 0.3]).to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(ValueError, match="NaN"):
        gdbench.problems.linreg(data=str(tmp_path / "nan.csv"), target="t")
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.array([1.0, -1, 1]))
    assert gdbench.problems.hinge(data=str(tmp_path / "d.npz")).n == 3


def test_reference_optimum_does_not_depend_on_blas_threads():
    from threadpoolctl import threadpool_limits

    vals = []
    for k in (1, 2, 4):
        with threadpool_limits(limits=k):
            p = gdbench.problems.quadratic(d=120, cond=1e3, seed=1)
            q = gdbench.problems.linreg(n=3000, d=60, cond=100.0)
            vals.append((p.f_star, q.f_star, q.x_star.tobytes()))
    assert vals[0] == vals[1] == vals[2]
