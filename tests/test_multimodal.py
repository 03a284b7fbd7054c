"""Multimodal problems: every listed minimum is a minimum with the stated value, nothing in the box
is below f*, and the encodings of random starts and restarts (gdbench.runspec)."""

import math
import re

import numpy as np
import pytest

import gdbench
from gdbench.problems import PROBLEMS
from gdbench.runspec import check_restart_init, encode_init, encode_restart

#: (registry name, parameters, number of minima, number of global minima)
CASES = [
    ("double_well", {"d": 1}, 2, 1),
    ("double_well", {"d": 2}, 2, 1),
    ("double_well", {"d": 3, "tilt": 0.6, "couple": 0.0}, 2, 1),
    ("himmelblau", {}, 4, 4),
    ("six_hump_camel", {}, 6, 2),
    ("styblinski_tang", {"d": 1}, 2, 1),
    ("styblinski_tang", {"d": 2}, 4, 1),
    ("styblinski_tang", {"d": 4}, 16, 1),
    ("rastrigin", {"d": 1}, 63, 1),
    ("rastrigin", {"d": 2}, 63 ** 2, 1),
]
MULTIMODAL = sorted({c[0] for c in CASES})
# the modules (gdbench.problems.<name> is the factory function)
double_well, rastrigin, styblinski_tang = (PROBLEMS[n].module for n in ("double_well", "rastrigin", "styblinski_tang"))


def _case_id(c):
    return f"{c[0]}{c[1] or ''}"


def test_the_registry_and_its_registry_driven_tests_include_them():
    # tests/test_problems.py checks gradients/Hessians by central differences over PROBLEMS
    assert set(MULTIMODAL) <= set(PROBLEMS)
    for name in MULTIMODAL:
        mod = PROBLEMS[name].module
        assert mod.KIND == "analytic" and mod.HAS_HESSIAN and callable(mod.minima)
        p = gdbench.problems.make(name)
        assert len(p.info["box"][0]) == p.dim and np.isfinite(p.loss(p.x0))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_every_listed_minimum_is_a_minimum_with_its_stated_value(case):
    name, params, count, n_global = case
    p = gdbench.problems.make(name, **params)
    m = p.info["minima"]
    assert len(m) == count and m.n_global() == n_global
    box = None if count <= 64 else (np.full(p.dim, -5.5), np.full(p.dim, 5.5))  # rastrigin: |z| <= 5
    listed = m.listed(box=box)
    assert sum(k == "global" for _, _, k in listed) == n_global
    for x, f, kind in listed:
        H = p.hess(x)
        g = p.grad(x)
        assert np.linalg.norm(g) <= 1e-8 * np.linalg.norm(H, 2) * max(1.0, np.linalg.norm(x)), (x, g)
        assert p.loss(x) == pytest.approx(f, rel=1e-14, abs=1e-14)
        assert np.linalg.eigvalsh(H).min() > 0, (x, np.linalg.eigvalsh(H))
        assert (kind == "global") == (f <= p.f_star + 1e-12 * (1 + abs(p.f_star)))
        label, k2, v2, dist, rad = m.nearest(x[None, :])
        assert k2 == [kind] and v2[0] == pytest.approx(f, rel=1e-14, abs=1e-14) and dist[0] == 0.0 and rad[0] > 0
    if p.x_star is not None:
        assert p.loss(p.x_star) == p.f_star and listed[0][2] == "global"
        np.testing.assert_array_equal(listed[0][0], p.x_star)
    else:
        assert n_global > 1


@pytest.mark.parametrize("case", [c for c in CASES if c[1].get("d", 2) <= 2], ids=_case_id)
def test_no_point_of_a_dense_grid_is_below_f_star(case):
    name, params, _, _ = case
    p = gdbench.problems.make(name, **params)
    lo, hi = (np.asarray(b, dtype=float) for b in p.info["box"])
    axes = [np.linspace(lo[i], hi[i], 801 if p.dim == 1 else 301) for i in range(p.dim)]
    pts = np.stack([a.ravel() for a in np.meshgrid(*axes)], axis=1)
    # include every listed minimum's neighbourhood at a finer scale
    for x, _, _ in p.info["minima"].listed(box=(lo, hi)):
        pts = np.vstack([pts, x + 1e-3 * np.random.default_rng(0).standard_normal((20, p.dim))])
    f = np.array([p.loss(t) for t in pts])
    assert f.min() >= p.f_star - 1e-12 * (1 + abs(p.f_star))
    assert f.min() <= p.f_star + 1e-4 * (1 + abs(p.f_star))  # and f* is (nearly) attained on the grid


def test_stated_values_closed_forms_and_docstrings():
    camel = gdbench.problems.six_hump_camel()
    assert camel.f_star == -1.0316284534898774
    glob = [x for x, _, k in camel.info["minima"].listed() if k == "global"]
    assert min(np.abs(x - np.array([0.08984201368301331, -0.7126564032704135])).max() for x in glob) < 1e-8
    st = styblinski_tang.build(d=5)
    assert st.f_star / 5 == pytest.approx(-39.16617, abs=5e-6)
    lo, mid, hi = styblinski_tang.roots()
    for r in (lo, mid, hi):
        assert abs(4 * r ** 3 - 32 * r + 5) < 1e-12
    # the closed form is right (not only rescued by Newton's method)
    a = math.acos(-(15 / 64) * math.sqrt(3 / 8)) / 3
    closed = sorted(2 * math.sqrt(8 / 3) * math.cos(a - 2 * math.pi * k / 3) for k in range(3))
    np.testing.assert_allclose(closed, [lo, mid, hi], rtol=0, atol=1e-13)
    dl, db, dh = double_well.well_roots(0.25)
    assert dl < db < dh and all(abs(4 * r ** 3 - 4 * r + 0.25) < 1e-13 for r in (dl, db, dh))
    # the module docstrings state every minimum (the shortest repr of |x| and |f|, to 11 digits)
    def digits(v: float) -> str:
        return repr(abs(float(v)))[:12]

    docs = {n: PROBLEMS[n].module.__doc__.replace("−", "-") for n in MULTIMODAL}
    for name, params in (("himmelblau", {}), ("six_hump_camel", {}), ("double_well", {"d": 1})):
        for x, f, _ in PROBLEMS[name].module.minima(**params):
            for v in [*x, f]:
                if abs(v) > 1e-20 and v != round(v):
                    assert digits(v) in docs[name], (name, v)
    for x, f in zip(*[[v for v in t] for t in (styblinski_tang.build(d=1).info["minima"].factors[0].xs,
                                                 styblinski_tang.build(d=1).info["minima"].factors[0].fs)]):
        assert digits(x) in docs["styblinski_tang"] and digits(f) in docs["styblinski_tang"]
    fac = rastrigin.factor(10.0, radius=5)
    for x, f in zip(fac.xs, fac.fs):
        if x > 0:
            assert digits(x) in docs["rastrigin"] and digits(f) in docs["rastrigin"]
    assert len(rastrigin.minima(d=2)) == 121 and len(fac.xs) == 11


def test_nearest_minimum_and_its_radius():
    p = gdbench.problems.rastrigin(d=2)
    m = p.info["minima"]
    labels, kinds, vals, dist, rad = m.nearest(np.array([[0.05, -0.02], [1.02, -2.0], [1.5, 0.0], [np.nan, 0.0]]))
    assert labels[:2] == ["(0, 0)", "(1, −2)"] and kinds[:2] == ["global", "local"]
    assert dist[0] < rad[0] and dist[1] < rad[1] and dist[2] > rad[2]  # halfway between two minima
    assert labels[3] == "" and math.isnan(dist[3])
    assert rad[0] == pytest.approx(0.25 * 0.9949586376523348)
    h = gdbench.problems.himmelblau().info["minima"]
    labels, kinds, *_ = h.nearest(np.array([[3.1, 1.9], [-2.7, 3.0]]))
    assert labels == ["(3, 2)", "(−2.81, 3.13)"] and kinds == ["global", "global"]


def test_bad_parameters_are_one_line_errors():
    for name, kw, msg in [("double_well", {"tilt": 0.0}, "tilt must be in"), ("double_well", {"d": 0}, "d must be"),
                          ("rastrigin", {"A": -1.0}, "A must be > 0"), ("styblinski_tang", {"d": 1.5}, "d must be"),
                          ("himmelblau", {"x0": [1, 2, 3]}, "x0 must be 2 finite numbers")]:
        with pytest.raises(ValueError, match=msg):
            gdbench.problems.make(name, **kw)


def test_plain_gd_from_the_default_start_ends_in_a_local_minimum():
    """The default starts are chosen so that plain GD does not trivially find the global minimum
    (GD written out here: no driver to compile)."""
    for name, params, lr in [("double_well", {"d": 1}, 0.01), ("double_well", {"d": 2}, 0.01),
                             ("six_hump_camel", {}, 0.01), ("styblinski_tang", {"d": 2}, 0.01),
                             ("rastrigin", {"d": 2}, 0.001)]:
        p = gdbench.problems.make(name, **params)
        x = p.x0.copy()
        for _ in range(3000):
            x -= lr * p.grad(x)
        _, kinds, _, dist, rad = p.info["minima"].nearest(x[None, :])
        assert kinds == ["local"] and dist[0] < 1e-6 < rad[0], name


# --- random starts and restarts: the encodings the step loop reads ------------------------------


def test_encode_init():
    x0 = np.array([1.0, 2.0])
    k, a, b = encode_init(None, 2, x0)
    assert k == 0 and np.array_equal(a, x0) and not b.any()
    assert encode_init("fixed", 2, x0)[0] == 0 and encode_init({"dist": "fixed"}, 2, x0)[0] == 0
    k, a, b = encode_init({"dist": "uniform", "low": -5, "high": [5, 6]}, 2, x0)
    assert k == 1 and a.tolist() == [-5, -5] and b.tolist() == [5, 6]
    k, a, b = encode_init({"dist": "normal", "scale": 0.5}, 2, x0)
    assert k == 2 and a.tolist() == [1, 2] and b.tolist() == [0.5, 0.5]
    k, a, b = encode_init({"dist": "normal", "scale": [1, 2], "center": [0, 0]}, 2, x0)
    assert a.tolist() == [0, 0] and b.tolist() == [1, 2]


@pytest.mark.parametrize("spec,msg", [
    ({"dist": "uniform", "low": 5, "high": 5}, r"low must be < high .* coordinate 0"),
    ({"dist": "uniform", "low": [0, 1], "high": [1, 0.5]}, r"low must be < high .* coordinate 1"),
    ({"dist": "uniform", "low": [1, 2, 3], "high": 5}, r"low must be a number or a list of 2"),
    ({"dist": "uniform", "low": 0}, r"high is required"),
    ({"dist": "uniform", "low": float("nan"), "high": 1}, r"low must be finite"),
    ({"dist": "normal", "scale": 0}, r"scale must be > 0"),
    ({"dist": "normal", "scale": -1.0}, r"scale must be > 0"),
    ({"dist": "normal", "scale": float("inf")}, r"scale must be finite"),
    ({"dist": "normal", "scale": 1, "center": [0]}, r"center must be a number or a list of 2"),
    ({"dist": "normal", "scale": 1, "low": 0}, r"unknown field 'low'"),
    ({"dist": "cauchy"}, r"dist = one of fixed, uniform, normal"),
    ({"dist": "uniform", "low": True, "high": 2}, r"low must be a number"),
])
def test_encode_init_errors_name_the_field(spec, msg):
    with pytest.raises(ValueError, match=msg) as e:
        encode_init(spec, 2, np.zeros(2))
    assert "\n" not in str(e.value) and str(e.value).startswith("init")


def test_encode_restart_and_errors():
    assert encode_restart(None) == (0, 0, 0.0)
    assert encode_restart({"every": 50}) == (1, 50, 0.0)
    assert encode_restart({"on": "stall"}) == (2, 100, 1e-4) == encode_restart("stall")
    assert encode_restart({"on": "stall", "window": 20, "tol": 1e-3}) == (2, 20, 1e-3)
    for spec, msg in [({"every": 0}, "every .* integer >= 1"), ({"every": 2.5}, "every .* integer >= 1"),
                      ({"on": "stall", "window": 0}, "window .* integer >= 1"), ({"on": "stall", "tol": 0}, "tol"),
                      ({"on": "stall", "tol": float("nan")}, "tol"),
                      ({"every": 5, "on": "stall"}, "unknown field 'on'"),
                      ({"on": "plateau"}, "must be {every = k}"), (3, "must be {every = k}")]:
        with pytest.raises(ValueError, match=msg) as e:
            encode_restart(spec)
        assert str(e.value).startswith("restart") and "\n" not in str(e.value)
    check_restart_init(0, 0)
    check_restart_init(1, 1)
    with pytest.raises(ValueError, match=r"restart: restarts need a random start .* fixed x0 only"):
        check_restart_init(2, 0)


def test_label_format_is_the_rounded_location():
    labels = [lab for lab, *_ in [gdbench.problems.six_hump_camel().info["minima"].nearest(np.array([[0.09, -0.71]]))]]
    assert re.fullmatch(r"\(0\.09, −0\.71\)", labels[0][0])
