"""The call-free elementary functions (:mod:`gdbench.kernels.vmath`) and logistic's vectorised
terms: accuracy against x87 extended precision, compiled with the fused row kernels' flags (so
that reassociation there cannot undo the range reduction), and the special values."""

from __future__ import annotations

import importlib

import numpy as np
from numba import njit

from gdbench._config import JIT_ROWS
from gdbench.kernels.vmath import EXP_MAX, exp_neg, log1p_unit

logistic = importlib.import_module("gdbench.problems.logistic")  # (the package's ``logistic`` is a factory)

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
JIT_LOOP = dict(JIT_ROWS, cache=False)


@njit(**JIT_LOOP)
def _exp_loop(a, out):
    for i in range(a.shape[0]):
        out[i] = exp_neg(a[i])


@njit(**JIT_LOOP)
def _log1p_loop(e, out):
    for i in range(e.shape[0]):
        out[i] = log1p_unit(e[i])


_vec = njit(inline="always", **JIT_LOOP)(logistic.loss_dloss_vec.py_func)


@njit(**JIT_LOOP)
def _terms_loop(z, y, lo, do):
    for i in range(z.shape[0]):
        lo[i], do[i] = _vec(z[i], y[i])


def _rel(got, ref):
    ref = np.asarray(ref)
    return float(np.max(np.abs((got - ref) / ref).astype(np.float64)))


def test_exp_neg_within_one_ulp_and_its_special_values():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0, 1, 200_000), rng.uniform(0, 40, 200_000),
                        10 ** rng.uniform(-20, np.log10(EXP_MAX), 200_000), [0.0, 5e-324, 1e-300, EXP_MAX]])
    out = np.empty_like(a)
    _exp_loop(a, out)
    assert _rel(out, np.exp(-a.astype(np.longdouble))) <= 1.0 * EPS  # measured: 0.6 ulp
    special = np.array([np.nan, np.inf, EXP_MAX + 1e-9, 745.2, 1e308])
    _exp_loop(special, out[:5])
    assert np.isnan(out[0]) and (out[1:5] == 0.0).all()


def test_log1p_unit_within_two_ulp_on_the_unit_interval():
    rng = np.random.default_rng(1)
    e = np.concatenate([rng.uniform(0, 1, 200_000), 10 ** rng.uniform(-300, 0, 200_000), [TINY, 0.5, 1.0]])
    out = np.empty_like(e)
    _log1p_loop(e, out)
    assert _rel(out, np.log1p(e.astype(np.longdouble))) <= 2.0 * EPS  # measured: 1.2 ulp
    _log1p_loop(np.array([0.0, np.nan]), out[:2])
    assert out[0] == 0.0 and np.isnan(out[1])


def test_logistic_vectorised_terms_match_the_library_form():
    """ℓ and ∂ℓ/∂z of the fused kernel within 2 ε of the exact values (the library form within
    1.1 ε); NaN and ±inf margins give what the library form gives."""
    rng = np.random.default_rng(2)
    z = np.concatenate([rng.uniform(-40, 40, 200_000), rng.standard_normal(200_000),
                        10 ** rng.uniform(-18, 2.8, 200_000) * rng.choice([-1.0, 1.0], 200_000)])
    y = rng.choice([-1.0, 1.0], z.shape[0])
    lo, do = np.empty_like(z), np.empty_like(z)
    _terms_loop(z, y, lo, do)
    u = -(y * z).astype(np.longdouble)
    e = np.exp(-np.abs(u))
    exact_l = np.maximum(u, 0) + np.log1p(e)
    exact_d = -y * np.where(u <= 0, e, 1.0) / (1.0 + e)
    assert _rel(lo, exact_l) <= 2.0 * EPS
    keep = np.abs(exact_d) > TINY
    assert _rel(do[keep], exact_d[keep]) <= 2.0 * EPS
    special = np.array([np.nan, np.inf, -np.inf, 800.0, -800.0])
    ys = np.ones(5)
    _terms_loop(special, ys, lo[:5], do[:5])
    ref = [(logistic.loss(v, 1.0), logistic.dloss(v, 1.0)) for v in special]
    np.testing.assert_array_equal(lo[:5], [r[0] for r in ref])
    np.testing.assert_array_equal(do[:5], [r[1] for r in ref])
