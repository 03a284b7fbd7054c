"""The generic driver: determinism, divergence, stopping, caching, validation, tutorial example."""

import numpy as np
import pytest
from conftest import small_problem

import gdbench
from gdbench.kernels.codegen import driver
from gdbench.optimizers import OPTIMIZERS


def test_same_seed_bit_identical_and_seeds_differ(problems_small):
    p = problems_small["linreg"]
    a = gdbench.minimize(p, "adam", steps=300, lr=0.01, batch_size=8, seed=1)
    b = gdbench.minimize(p, "adam", steps=300, lr=0.01, batch_size=8, seed=1)
    c = gdbench.minimize(p, "adam", steps=300, lr=0.01, batch_size=8, seed=2)
    assert a.trace.equals(b.trace) and np.array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    q = problems_small["saddle"]
    n1 = gdbench.minimize(q, "gd", steps=100, lr=0.1, noise=0.1, seed=5)
    n2 = gdbench.minimize(q, "gd", steps=100, lr=0.1, noise=0.1, seed=5)
    n3 = gdbench.minimize(q, "gd", steps=100, lr=0.1, noise=0.1, seed=6)
    assert n1.trace.equals(n2.trace) and not n1.trace.equals(n3.trace)


def test_sweep_in_threads_equals_one_by_one(problems_small):
    p = problems_small["logistic"]
    cfgs = [{"lr": lr, "seed": s, "batch_size": b} for lr in (0.01, 0.1, 1.0) for s in (0, 1) for b in (None, 5)]
    par = gdbench.sweep(p, "adam", cfgs, steps=150, record_every=10, threads=2)
    assert par.threads == 2
    for k, c in enumerate(cfgs):
        one = gdbench.sweep(p, "adam", [c], steps=150, record_every=10, threads=1)
        np.testing.assert_array_equal(par.theta[k], one.theta[0])
        np.testing.assert_array_equal(par.trace[k], one.trace[0])


def test_minibatch_epochs_visit_every_row_once():
    # with lr tiny the iterate barely moves, so per-row gradients are identifiable:
    # a linreg with one-hot rows makes g_w = 2/m·Σ r_i e_i, revealing the rows of each batch.
    n = 12
    X = np.eye(n)
    y = np.arange(1.0, n + 1)
    p = gdbench.problems.linreg(X, y)
    seen = []
    for steps in range(1, 7):  # batch 4 → 3 batches per epoch, 2 epochs
        r = gdbench.minimize(p, "gd", steps=steps, lr=1e-9, batch_size=4, seed=11, record_every=steps)
        moved = np.flatnonzero(r.params[:n] != 0)
        seen.append(set(moved.tolist()))
    batches = [seen[0]] + [seen[i] - seen[i - 1] for i in range(1, 3)]
    assert sorted(set().union(*batches)) == list(range(n)) and all(len(b) == 4 for b in batches)


def test_gd_on_quadratic_converges_below_2_over_L_and_diverges_above():
    p = gdbench.problems.quadratic(d=8, cond=20.0, L=4.0, seed=1)
    ok = gdbench.minimize(p, "gd", steps=3000, lr=1.9 / 4.0, stop_tol=1e-10)
    assert ok.status == "converged" and ok.trace["rel_suboptimality"].iloc[-1] <= 1e-10
    bad = gdbench.minimize(p, "gd", steps=3000, lr=2.1 / 4.0)
    assert bad.status == "diverged" and bad.steps < 3000
    nan = gdbench.minimize(p, "gd", steps=50, lr=1e300)
    assert nan.status == "diverged"


def test_five_point_tutorial_matches_its_numpy_loop():
    x = np.array([1.0, 2, 3, 4, 5])
    y = np.array([2.0, 4, 5, 4, 5])
    m = c = 0.0
    for _ in range(1000):  # the tutorial's loop, verbatim in spirit
        y_pred = m * x + c
        D_m = (-2 / len(x)) * np.sum(x * (y - y_pred))
        D_c = (-2 / len(x)) * np.sum(y - y_pred)
        m -= 0.01 * D_m
        c -= 0.01 * D_c
    p = gdbench.problems.linreg(data="five_point")
    r = gdbench.minimize(p, "gd", steps=1000, lr=0.01)
    np.testing.assert_allclose(r.params, [m, c], rtol=1e-12)


def test_second_call_does_not_recompile(problems_small):
    p = problems_small["rosenbrock"]
    gdbench.minimize(p, "rmsprop", steps=10)
    drv = driver(OPTIMIZERS["rmsprop"], p.definition, dim=p.dim)
    n_sigs = len(drv.sweep.signatures)
    r = gdbench.minimize(p, "rmsprop", steps=10, lr=0.5)
    assert r.compile_s == 0.0 and len(drv.sweep.signatures) == n_sigs == 1


def test_stalled_and_max_steps_status():
    p = gdbench.problems.saddle(offset=0.0)  # exactly on the stable manifold: GD never escapes
    r = gdbench.minimize(p, "gd", steps=400, lr=0.1, record_every=10)
    assert r.status == "stalled"
    q = gdbench.problems.rosenbrock()
    assert gdbench.minimize(q, "gd", steps=100, lr=1e-4).status == "max_steps"


def test_record_every_zero_still_detects_divergence():
    p = gdbench.problems.quadratic(d=3, L=1.0)
    r = gdbench.sweep(p, "gd", [{"lr": 2.5}, {"lr": 0.5}], steps=2000, record_every=0)
    assert r.status[0] == "diverged" and r.status[1] == "max_steps" and r.nrec.tolist() == [0, 0]


@pytest.mark.parametrize("name, kw", [
    ("linreg", dict(batch_size=1, record_every=0)),          # fused SGD, the loss-only end-of-run pass
    ("logistic", dict(batch_size=4, record_every=0)),
    ("hinge", dict(batch_size=None, record_every=7)),        # the last record (at the last step)
    ("logistic", dict(batch_size=1, record_every=0, stop_tol=0.0)),
    ("six_hump_camel", dict(record_every=0, init={"dist": "uniform", "low": -2.0, "high": 2.0},
                            restart={"every": 40})),         # restarts: the best iterate's loss
    ("rosenbrock", dict(record_every=10, init={"dist": "uniform", "low": -2.0, "high": 2.0},
                        restart={"on": "stall", "window": 20})),
])
def test_result_loss_is_the_loss_of_the_returned_params(name, kw):
    """Result.loss comes from the driver's own last full evaluation (no pass of its own): it is
    f(params) over all rows, for records or none, mini-batches, the fused SGD step and restarts."""
    p = small_problem(name)
    lr = 1e-4 if name == "rosenbrock" else 0.01
    r = gdbench.minimize(p, "gd" if name != "six_hump_camel" else "adam", steps=333, lr=lr, seed=4, **kw)
    assert r.status in ("max_steps", "stalled", "converged")
    assert r.loss == pytest.approx(p.loss(r.params), rel=1e-13, abs=1e-15)
    if kw.get("record_every"):
        assert r.trace["loss"].iloc[-1] == r.loss or "restart" in kw


#: one configuration using each optional part of the step loop (codegen.FEATURES)
FEATURE_CONFIGS = {
    "transforms": [{"clip": {"norm": 0.5}}, {"noise": 0.01}],
    "starts": [{"init": {"dist": "uniform", "low": -1.0, "high": 1.0}}],
    "schedules": [{"schedule": "cosine"}],
    "restarts": [{"init": {"dist": "normal", "scale": 0.5}, "restart": {"every": 60}}],
}


@pytest.mark.parametrize("name, batch", [("rosenbrock", None), ("quadratic", None), ("logistic", 1), ("linreg", 8)])
def test_drivers_without_an_optional_part_give_the_same_bits(name, batch):
    """Runs that use no gradient noise or clipping, random start, schedule or restart policy get a
    driver without that code (smaller, faster to compile; a tiny problem's θ stays in registers);
    next to configurations that use them, or with ``features=`` asking for them all, they run on
    a driver with it: same bits either way. Every feature's driver is the one named for it."""
    import sys

    from gdbench.kernels.codegen import FEATURES, driver_name

    p = small_problem(name)
    kw = dict(steps=400, record_every=50)
    cfg = {"lr": 1e-3, "batch_size": batch, "seed": 2}
    plain = gdbench.sweep(p, "adam", [cfg], **kw)
    opt = gdbench.OPTIMIZERS["adam"]
    dim = p.dim if name in ("rosenbrock", "quadratic") else None
    assert driver_name(opt, p.definition, dim=dim) in sys.modules
    for feature, extra in FEATURE_CONFIGS.items():
        feats = ("starts", "restarts") if feature == "restarts" else (feature,)
        both = gdbench.sweep(p, "adam", [cfg, *({**cfg, **e} for e in extra)], **kw)
        R = plain.trace.shape[1]  # (restarts leave room for more records: unused, NaN)
        np.testing.assert_array_equal(plain.theta[0], both.theta[0])
        np.testing.assert_array_equal(plain.trace[0], both.trace[0, :R])
        assert np.isnan(both.trace[0, R:]).all()
        for k in range(1, len(extra) + 1):  # the feature is compiled in and changes those runs
            assert not np.array_equal(both.theta[0], both.theta[k]), (feature, k)
        assert driver_name(opt, p.definition, dim=dim, features=feats) in sys.modules, feature
    every = gdbench.sweep(p, "adam", [cfg], features=FEATURES, **kw)
    np.testing.assert_array_equal(plain.theta[0], every.theta[0])
    np.testing.assert_array_equal(plain.trace[0], every.trace[0])
    assert driver_name(opt, p.definition, dim=dim, features=FEATURES) in sys.modules
    with pytest.raises(ValueError, match="unknown driver feature 'warp'; allowed: restarts, transforms"):
        gdbench.sweep(p, "adam", [cfg], features=("warp",), **kw)


def test_the_planner_and_the_engine_agree_on_a_group_s_optional_parts():
    """``runspec.config_features`` (from the specs: what the compile helper builds) and
    ``engine.loop_features`` (from the encoded records: what a sweep asks for) name the same parts,
    so a precompiled driver is the one the group runs on."""
    from gdbench.engine import loop_features, prepare
    from gdbench.runspec import config_features

    p = small_problem("rosenbrock")
    opt = gdbench.OPTIMIZERS["adam"]
    plain = [{"lr": 1e-3}, {"lr": 1e-2, "schedule": "constant", "init": "fixed", "noise": 0.0, "clip": None},
             {"init": {"dist": "fixed"}, "restart": "none", "schedule": {"name": "constant"}}]
    used = [*(e for extra in FEATURE_CONFIGS.values() for e in extra), {"schedule": {"name": "step", "step_size": 5}},
            {"restart": "stall", "init": {"dist": "normal", "scale": 1.0}}, {"clip": ("value", 1.0)}]
    for group in [plain, *([*plain, u] for u in used), used]:
        cfg = prepare(p, opt, group, steps=100, record_every=10, stop_tol=0.0, div_factor=1e6, x0=None)[0]
        assert config_features(group, 100) == loop_features(cfg), group
    assert config_features(plain, 100) == frozenset()


def test_result_loss_of_a_diverged_run():
    """A diverged run's loss is f at its returned iterate when that is finite, else NaN."""
    p = gdbench.problems.quadratic(d=3, L=1.0)
    r = gdbench.minimize(p, "gd", steps=2000, lr=2.5, record_every=0)
    assert r.status == "diverged"
    assert (np.isnan(r.loss) and not np.isfinite(r.params).all()) or r.loss == p.loss(r.params)
    q = small_problem("linreg")
    s = gdbench.minimize(q, "gd", steps=300, lr=1e6, batch_size=1, record_every=0)
    assert s.status == "diverged" and np.isfinite(s.params).all() and s.loss == q.loss(s.params)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"optimizer": "adamm"}, "unknown optimizer 'adamm'; allowed: gd, momentum"),
        ({"lr": -1.0}, "lr must be > 0"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"betaa": 0.9}, "unknown hyper-parameter 'betaa'"),
        ({"beta1": 1.5}, "beta1 must be in \\[0.0, 1.0\\)"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"schedule": "warp"}, "unknown schedule 'warp'; allowed: constant"),
        ({"schedule": {"name": "step", "step_size": 0}}, "step_size must be an integer >= 1"),
        ({"clip": {"max": 1}}, "clip must be"),
        ({"steps": -5}, "steps must be an integer >= 0"),
        ({"x0": [1.0, 2.0]}, "x0 must be"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_bad_arguments_raise_clear_value_errors(kw, match, problems_small):
    args = {"optimizer": "adam", "steps": 10}
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        gdbench.minimize(problems_small["logistic"], **args)


def test_batch_size_on_analytic_problem_is_refused():
    with pytest.raises(ValueError, match="has no data rows"):
        gdbench.minimize(small_problem("rosenbrock"), "gd", steps=5, batch_size=4)


def test_registries_describe_themselves():
    for rec in gdbench.OPTIMIZERS.values():
        assert rec.summary and list(rec.hyper)[0] == "lr"
    for name, mod in gdbench.PROBLEMS.items():
        assert mod.NAME == name and mod.SUMMARY and mod.KIND in ("data", "analytic")


@pytest.mark.parametrize("prob", ["linreg", "logistic", "hinge"])
def test_fused_sgd_path_equals_the_general_one(prob):
    """Plain SGD (gd, one row) on a loss of the linear-model family takes the fused row step; a
    no-op clip sends the same configuration through loss_grad + the gd rule: the same run to
    rounding (the fused update is contracted to FMAs)."""
    p = gdbench.problems.make(prob, n=300, d=8, seed=1)
    cfgs = [{"lr": 0.01, "batch_size": 1, "seed": 3}, {"lr": 0.01, "batch_size": 1, "seed": 3, "clip": {"norm": 1e300}}]
    r = gdbench.sweep(p, "gd", cfgs, steps=3000, record_every=100)
    assert r.status[0] == r.status[1] and r.nrec[0] == r.nrec[1]
    np.testing.assert_allclose(r.theta[0], r.theta[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(r.trace[0, : r.nrec[0], 1], r.trace[1, : r.nrec[1], 1], rtol=1e-12)
    big = gdbench.sweep(p, "gd", [{"lr": 1e6, "batch_size": 1}], steps=50, record_every=5)
    assert big.status == ["diverged"]  # the fused step refuses to update past the divergence threshold


@pytest.mark.parametrize("prob", ["linreg", "logistic", "hinge"])
def test_sgd_steps_is_its_steps_one_by_one_and_stops_where_a_step_diverges(prob):
    """``sgd_steps`` (the driver's SGD chunks) equals ``sgd_step`` called once per row, bit for
    bit; at a step whose row loss is not ≤ thresh it stops, θ as before that step, and returns its
    index and loss; and a diverging SGD run reports the steps done before the diverging one."""
    p = gdbench.problems.make(prob, n=120, d=11, seed=2)
    K, prm = p.kernels, p.prm
    perm = np.random.default_rng(0).permutation(120)
    a = np.linspace(-0.5, 0.5, 12)
    b = a.copy()
    fs = [K.sgd_step(a, p.X, p.y, prm, perm[10 + k], 0.05, 1e300) for k in range(50)]
    m, f = K.sgd_steps(b, p.X, p.y, prm, perm, 10, 50, 0.05, 1e300, 8)
    assert (m, f) == (50, fs[-1]) and a.tobytes() == b.tobytes()

    def one_by_one(thresh):  # sgd_step until a step's value is not <= thresh: (its index, value, θ)
        c = np.linspace(-0.5, 0.5, 12)
        for j in range(50):
            fj = K.sgd_step(c, p.X, p.y, prm, perm[10 + j], 0.05, thresh)
            if not fj <= thresh:
                return j, fj, c
        return 50, fj, c

    # a threshold some later step exceeds (the value a step returns may be a bound on its row loss
    # where that is <= thresh, so the one-by-one run decides where a finite threshold stops it)
    thresh = next(float(t) for t in np.sort(fs)[::-1] if 0 < one_by_one(float(t))[0] < 50)
    k, fk, c = one_by_one(thresh)
    d = np.linspace(-0.5, 0.5, 12)
    assert K.sgd_steps(d, p.X, p.y, prm, perm, 10, 50, 0.05, thresh, 8) == (k, fk)
    assert d.tobytes() == c.tobytes() and not fk <= thresh
    r = gdbench.minimize(p, "gd", steps=500, lr=1e6, batch_size=1, record_every=0)
    general = gdbench.sweep(p, "gd", [{"lr": 1e6, "batch_size": 1, "clip": {"norm": 1e300}}], steps=500,
                            record_every=0)
    assert r.status == "diverged" and general.status == ["diverged"] and r.steps == general.steps_done[0]


_SAME_BITS_SCRIPT = r"""
import hashlib, sys
import numpy as np
import gdbench
from gdbench.perf._data import bare_problem

rng = np.random.default_rng(5)
X = rng.standard_normal((3000, 24))
y = X @ rng.standard_normal(24) + 0.1 * rng.standard_normal(3000)
yc = np.where(y > np.median(y), 1.0, -1.0)
out = []
for name, yy in (("linreg", y), ("logistic", yc)):
    p = bare_problem(name, X, yy, 1e-3)
    for rule, b, steps in (("gd", 1, 9000), ("adam", 4, 3000), ("gd", None, 200)):
        r = gdbench.minimize(p, rule, steps=steps, lr=1e-2, batch_size=b, seed=3, record_every=0)
        out.append(f"{name} {rule} {b} " + hashlib.sha1(r.params.tobytes()).hexdigest())
    s = gdbench.sweep(p, "gd", [{"lr": 1e-2}], steps=50, record_every=0, rows=True)
    out.append(f"{name} rows " + hashlib.sha1(s.theta.tobytes()).hexdigest())
print("\n".join(out))
"""


def test_row_parallel_driver_loads_from_the_disk_cache_and_compiled_or_loaded_gives_the_same_bits(tmp_path):
    """Three processes on one fresh numba disk cache (in-process tests never load from disk):

    1. compiles the ``_SAME_BITS_SCRIPT`` kernels (the row kernels and gd's row-parallel driver
       among them) and prints their results' hashes;
    2. loads those kernels from the cache, prints the same hashes — same seed => same bits also
       between a process that compiles and one that loads (the fused SGD step once failed this:
       with reassociation allowed, LLVM's code for it differed between the two) — and compiles
       adam's row-parallel driver while the row kernels come from the cache;
    3. loads that driver: an earlier layout segfaulted at its first parallel pass there, until the
       driver started numba's threading layer itself.
    """
    import os
    import subprocess
    import sys

    rows = ("for prob in ('linreg', 'logistic'):\n"
            "    p = gdbench.problems.make(prob, n=64, d=3)\n"
            "    r = gdbench.sweep(p, 'adam', [{'lr': 0.01}], steps=20, record_every=5, rows=True)\n"
            "    print(prob, r.status[0], r.compile_s > 0)\n")  # (compiled, or loaded from the cache)
    env = dict(os.environ, GDBENCH_CACHE_DIR=str(tmp_path / "gd"), NUMBA_CACHE_DIR=str(tmp_path / "nb"))
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
            for code in (_SAME_BITS_SCRIPT, _SAME_BITS_SCRIPT + rows, "import gdbench\n" + rows)]
    for r in runs:
        assert r.returncode == 0, r.stderr[-3000:]
    first, second, third = (r.stdout.strip().split("\n") for r in runs)
    assert len(first) == 8 and second[:8] == first
    rows_out = ["linreg max_steps True", "logistic max_steps True"]
    assert second[8:] == rows_out and third == rows_out


@pytest.mark.parametrize("prob, kw", [("logistic", {"n": 60, "d": 3}), ("rosenbrock", {}), ("quadratic", {"d": 10})])
def test_a_driver_shared_by_several_rules_gives_each_rule_its_own_results(prob, kw):
    """A suite's rules on one problem share one compiled driver (``rules=``): bit for bit the runs of
    each rule's own driver, Hessian rules and stochastic estimators included."""
    p = gdbench.problems.make(prob, **kw)
    rules = ["gd", "momentum", "adam", "adagrad", "newton"]
    for opt in rules:
        cfgs = [{"lr": 1e-2, "seed": 1}, {"lr": 3e-3, "schedule": "cosine", "clip": {"value": 1.0}}]
        if prob == "logistic":
            cfgs.append({"lr": 1e-2, "batch_size": 7, "seed": 2})
        a = gdbench.sweep(p, opt, cfgs, steps=200, record_every=10, rules=rules)
        b = gdbench.sweep(p, opt, cfgs, steps=200, record_every=10)
        np.testing.assert_array_equal(a.trace, b.trace)
        np.testing.assert_array_equal(a.theta, b.theta)
        assert a.status == b.status
    with pytest.raises(ValueError, match="rules must include the optimizer 'rmsprop'"):
        gdbench.sweep(p, "rmsprop", [{}], steps=2, rules=rules)


@pytest.mark.parametrize("family", [
    (("linreg", {"n": 60, "d": 3}), ("hinge", {"n": 50, "d": 3})),
    (("rosenbrock", {}), ("saddle", {})),  # the tiny-problem driver (D = 2 fixed) holds both
])
def test_a_driver_shared_by_several_problems_gives_each_problem_its_own_results(family):
    """A suite's problems of one family share one compiled driver (``problems=``): bit for bit the
    runs of each problem's own driver, for every estimator, schedules, clipping and restarts."""
    from gdbench.kernels import codegen

    names = [n for n, _ in family]
    rules = ["gd", "adam", "newton"] if family[0][0] == "rosenbrock" else ["gd", "adam"]
    for name, kw in family:
        p = gdbench.problems.make(name, **kw)
        cfgs = [{"lr": 1e-2, "seed": 1}, {"lr": 3e-3, "schedule": "cosine", "clip": {"value": 1.0}},
                {"lr": 1e-3, "init": {"dist": "normal", "scale": 0.5}, "restart": {"every": 40}, "seed": 3}]
        if p.kind == "data":
            cfgs += [{"lr": 1e-2, "batch_size": 1, "seed": 2}, {"lr": 1e-2, "batch_size": 7, "seed": 2}]
        for opt in rules[:2]:
            a = gdbench.sweep(p, opt, cfgs, steps=200, record_every=10, rules=rules, problems=names)
            b = gdbench.sweep(p, opt, cfgs, steps=200, record_every=10, rules=rules)
            np.testing.assert_array_equal(a.trace, b.trace)
            np.testing.assert_array_equal(a.theta, b.theta)
            np.testing.assert_array_equal(a.loss, b.loss)
            assert a.status == b.status
    # one module for the whole family: its name hashes the problems, its source binds each one's kernels
    from gdbench.optimizers import get_optimizer
    from gdbench.problems import get_problem

    opts, defs = tuple(map(get_optimizer, rules)), tuple(map(get_problem, names))
    src = codegen.driver_source(opts, defs, dim=p.dim)
    assert f"{len(names)}problems_" in codegen.driver_name(opts, defs, dim=p.dim)
    assert all(f"_prob_loss_grad_{j}(" in src for j in range(len(names)))
    assert all(f"ws == {j}:" in src for j in range(len(names) - 1))
    with pytest.raises(ValueError, match="problems must include the problem"):
        gdbench.sweep(p, "gd", [{}], steps=2, problems=[n for n in names if n != p.name])
    with pytest.raises(ValueError, match="problems must all be of the problem's kind"):
        gdbench.sweep(p, "gd", [{}], steps=2, problems=[*names, "quadratic" if p.kind == "data" else "linreg"])


def test_stack_arrays_have_their_shape_c_strides_and_hold_what_is_written():
    """The tiny driver's θ, g, state and random state live in stack arrays made by an intrinsic
    (no numba.carray): C-order strides of the element size, independent elements."""
    from numba import njit

    from gdbench.kernels.stack import stack_matrix, stack_u64, stack_vector

    @njit
    def fill():
        a = stack_vector(3)
        m = stack_matrix(2, 3)
        u = stack_u64(2)
        for i in range(3):
            a[i] = i + 0.5
        for i in range(2):
            for j in range(3):
                m[i, j] = 10.0 * i + j
        u[0] = 7
        u[1] = 2**63 + 1
        out = np.empty(6)
        for i in range(2):
            for j in range(3):
                out[3 * i + j] = m[i, j]
        return a.copy(), out, m.shape, m.strides, a.strides, u[0], u[1]

    a, m, shape, strides, astrides, u0, u1 = fill()
    np.testing.assert_array_equal(a, [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(m, [0, 1, 2, 10, 11, 12])
    assert shape == (2, 3) and strides == (24, 8) and astrides == (8,)
    assert (u0, u1) == (7, 2**63 + 1)


def test_borrowed_views_alias_their_array_and_the_cpu_drivers_pass_them():
    """The step loop hands its arrays to the kernels it calls as borrowed views (no reference
    counting per step): a view must alias its array's data, shape and strides, and every CPU
    binding must go through one (a plain argument costs atomic instructions at every step)."""
    from numba import njit

    from gdbench.kernels.codegen import driver_source
    from gdbench.kernels.stack import borrowed

    @njit
    def write_through(a, i, j, v):
        b = borrowed(a)
        b[i, j] = v
        return b.shape[0], b.shape[1], b.strides[0], b.strides[1], b.sum()

    base = np.arange(24.0).reshape(4, 6)
    view = base[::2, 1::2]  # not contiguous: strides must survive
    got = write_through(view, 1, 2, 100.0)
    assert base[2, 5] == 100.0
    assert got[:4] == (view.shape[0], view.shape[1], view.strides[0], view.strides[1])
    assert got[4] == view.sum()

    prob = gdbench.problems.make("logistic", n=20, d=3)
    src = driver_source((OPTIMIZERS["adam"], OPTIMIZERS["gd"]), prob.definition)
    # (the row range as int64: one compiled copy of the kernel, not one per literal 0 / -1)
    assert "_prob_loss_grad(_b(theta), _b(X), _b(y), _b(prm), _b(idx), np.int64(i0), np.int64(nb), _b(g))" in src
    assert "_opt_step_0(_b(theta), _b(g), _b(s), lr, hpv[0], hpv[1], hpv[2])" in src
    assert "_opt_step_1(_b(theta), _b(g), lr)" in src


def test_minimize_builds_its_trace_on_first_access_and_pickles_with_it():
    """``Result.trace`` is built when first read (a run that never reads it does not import
    pandas); a pickled or copied Result carries the built frame."""
    import copy
    import pickle
    import subprocess
    import sys

    code = ("import sys, gdbench; p = gdbench.problems.make('rosenbrock', d=2); "
            "r = gdbench.minimize(p, 'gd', steps=5, lr=1e-3, record_every=1); "
            "print('pandas' in sys.modules); t = r.trace; print('pandas' in sys.modules, len(t))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert out == ["False", "True", "6"]
    p = gdbench.problems.make("rosenbrock", d=2)
    r = gdbench.minimize(p, "adam", steps=20, lr=1e-3, record_every=5)
    for r2 in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        np.testing.assert_array_equal(r2.trace.to_numpy(), r.trace.to_numpy())
        assert list(r2.trace.columns) == list(r.trace.columns) and r2.loss == r.loss
