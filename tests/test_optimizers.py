"""Every registered update rule (built-ins and the example plugins) against its plain NumPy
reference, through the real driver (:mod:`gdbench.checks`, the code behind `gdbench check`)."""

import numpy as np
import pytest
from conftest import small_problem

import gdbench
from gdbench.checks import check_optimizer, compare_with_reference
from gdbench.optimizers import OPTIMIZERS


def _check(p, opt, steps=300, **kw):
    ok, detail = compare_with_reference(p, opt, steps=steps, **kw)
    assert ok, f"{opt}: {detail}"


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_rule_passes_every_check(opt):
    """`gdbench check`'s battery: its NumPy reference on two problems for 300 steps (≤ 1e-12), with a
    mini-batch estimator, schedule, clipping and noise; state rows; bounds; same seed ⇒ same bits;
    NaN ⇒ diverged."""
    failed = [f"{c.name}: {c.detail}" for c in check_optimizer(opt) if not c.ok]
    assert not failed, failed


@pytest.mark.parametrize("opt", ["adam", "momentum"])
def test_minibatch_sgd_schedule_clip_match_reference(opt, problems_small):
    p = problems_small["logistic"]
    _check(p, opt, steps=200, batch_size=7, seed=3, schedule={"name": "step", "step_size": 40, "gamma": 0.5},
           clip={"norm": 0.5})
    _check(p, opt, steps=150, batch_size=1, seed=4, schedule="cosine", clip={"value": 0.1})
    _check(p, opt, steps=100, schedule={"name": "inverse_time", "decay": 0.01})
    _check(p, opt, steps=100, schedule={"name": "exponential", "gamma": 0.99})


def test_gradient_noise_matches_reference(problems_small):
    _check(problems_small["saddle"], "gd", steps=200, lr=0.1, noise=0.01, seed=9)


def test_every_optimizer_has_documented_rule_and_defaults():
    for name, rec in OPTIMIZERS.items():
        assert "Default" in rec.doc and ("θ" in rec.doc), name
        for h, _v in rec.hyper.items():
            assert h in rec.doc or h == "lr", (name, h)


def test_special_cases_agree():
    p = small_problem("quadratic")
    base = gdbench.minimize(p, "gd", steps=200, lr=0.1).params
    for opt, kw in [("momentum", {"momentum": 0.0}), ("nesterov", {"momentum": 0.0})]:
        np.testing.assert_allclose(gdbench.minimize(p, opt, steps=200, lr=0.1, **kw).params, base, rtol=1e-14)
    a = gdbench.minimize(p, "adam", steps=200, lr=0.01).params
    np.testing.assert_array_equal(gdbench.minimize(p, "adamw", steps=200, lr=0.01, weight_decay=0.0).params, a)
    r = gdbench.minimize(p, "newton", steps=1, lr=1.0)
    np.testing.assert_allclose(r.params, p.x_star, rtol=1e-10)


def test_newton_needs_a_hessian(problems_small):
    with pytest.raises(ValueError, match="needs a Hessian"):
        gdbench.minimize(problems_small["hinge"], "newton", steps=5)
