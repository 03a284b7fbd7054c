"""Every registered update rule against its plain NumPy reference, through the real driver."""

import numpy as np
import pytest
from conftest import small_problem

import gdbench
from gdbench.kernels.rng import rng_normal, rng_seed, shuffle
from gdbench.kernels.transforms import clip_grad, scheduled_lr
from gdbench.optimizers import OPTIMIZERS
from gdbench.runspec import encode_clip, encode_schedule

LR = {"gd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.1, "rmsprop": 0.01, "adadelta": 1.0,
      "adam": 0.02, "adamw": 0.02, "amsgrad": 0.02, "nadam": 0.02, "newton": 0.5}


def reference_run(p, opt, steps, lr, hyper=None, batch_size=None, seed=0, schedule=None, clip=None, noise=0.0):
    """Plain-Python twin of the driver: same sampling stream, NumPy update rule."""
    rec = OPTIMIZERS[opt]
    res = rec.resolve(lr=lr, **(hyper or {}))
    hp = rec.hp_vector(res)
    theta = p.x0.copy()
    s = np.zeros((len(rec.state), p.dim))
    rec.init(s, hp)
    skind, sp1, sp2 = encode_schedule(schedule, steps)
    ckind, cval = encode_clip(clip)
    st = np.empty(2, dtype=np.uint64)
    rng_seed(st, seed)
    n = p.n
    full = batch_size is None or batch_size >= n
    perm = np.arange(n)
    if not full:
        shuffle(perm, st)
    pos = 0
    losses = [p.loss(theta)]
    for t in range(1, steps + 1):
        if full:
            rows = None
        else:
            if pos >= n:
                shuffle(perm, st)
                pos = 0
            rows = perm[pos:pos + batch_size]
            pos += len(rows)
        if rows is None:
            g = p.grad(theta)
            H = p.hess(theta) if rec.needs_hessian else None
        else:
            sub = gdbench.problems.make(p.name, X=p.X[rows], y=p.y[rows], l2=float(p.prm[0]))
            g = sub.grad(theta)
            H = sub.hess(theta) if rec.needs_hessian else None
        if noise > 0:
            g = g + np.array([noise * rng_normal(st) for _ in range(p.dim)])
        if ckind:
            clip_grad(g, ckind, cval)
        rec.reference(theta, g, H, s, hp, scheduled_lr(res["lr"], skind, sp1, sp2, t), t)
        losses.append(p.loss(theta))
    return theta, np.array(losses)


def _check(p, opt, steps=300, **kw):
    r = gdbench.minimize(p, opt, steps=steps, record_every=1, **{**{"lr": LR[opt]}, **kw})
    ref_kw = {k: v for k, v in kw.items() if k in ("batch_size", "seed", "schedule", "clip", "noise")}
    hyper = {k: v for k, v in kw.items() if k not in ref_kw and k != "lr"}
    theta, losses = reference_run(p, opt, steps, kw.get("lr", LR[opt]), hyper, **ref_kw)
    assert r.steps == steps and r.status != "diverged"
    np.testing.assert_allclose(r.params, theta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(r.trace["loss"].to_numpy(), losses, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("prob", ["quadratic", "logistic"])
def test_rule_matches_numpy_reference(opt, prob, problems_small):
    _check(problems_small[prob], opt)


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
