"""Fuzzing the Python API: ``gdbench.problems.make``, ``gdbench.minimize`` and ``gdbench.sweep``
with random arguments either return a result or raise one ``ValueError`` line (or, for
``device="cuda"`` where CUDA cannot run, ``gdbench.cuda.CudaUnavailable``) — never a
TypeError, IndexError, MemoryError or a hang. Sizes are bounded by ``GDBENCH_MAX_MEMORY``
(64 MiB here), so a huge ``n``, ``d`` or trace is refused at once. Profiles and budget:
``tests/fuzz_profiles.py``.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from fuzz_profiles import DEADLINE_MS, apply_profile, mostly
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gdbench
from gdbench.cuda import CudaUnavailable
from gdbench.problems import PROBLEMS

apply_profile()

weird = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.booleans(), st.none(),
                  st.text(max_size=5), st.lists(st.floats(-3, 3), max_size=3), st.just({"a": 1}),
                  st.just(10**12), st.just(-1), st.just(0))


def maybe(good):
    """Mostly well formed (6 in 7), sometimes anything."""
    return mostly(good, weird)


@pytest.fixture(scope="module", autouse=True)
def _small_memory_limit():
    before = os.environ.get("GDBENCH_MAX_MEMORY")
    os.environ["GDBENCH_MAX_MEMORY"] = "64M"
    # compile the pairs the fuzz uses before it starts (compilation is not what is fuzzed)
    for name in ("quadratic", "linreg"):
        p = gdbench.problems.make(name, **({"d": 2} if name == "quadratic" else {"n": 8, "d": 2}))
        for rule in ("gd", "adam", "newton"):
            # one driver per set of optional loop parts used (codegen.FEATURES): none, a schedule,
            # noise or clipping, both
            for extra in ({}, {"schedule": "cosine"}, {"clip": {"norm": 1.0}},
                          {"schedule": "cosine", "clip": {"norm": 1.0}}):
                gdbench.minimize(p, rule, steps=1, **extra)
    yield
    if before is None:
        os.environ.pop("GDBENCH_MAX_MEMORY", None)
    else:
        os.environ["GDBENCH_MAX_MEMORY"] = before


def _expect_value_error(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(*a, **kw)
        except CudaUnavailable:
            assert kw.get("device") == "cuda"
            event("CudaUnavailable")
            return None
        except ValueError as e:
            assert str(e) and "\n" not in str(e), str(e)
            event(f"ValueError: {str(e)[:28]}")
            return None
    event("ok")
    return out


def _param_strategy(name: str):
    mod = PROBLEMS.get(name)
    fields = {"x0": maybe(st.lists(st.floats(-2, 2), min_size=2, max_size=4))}
    if mod is not None:
        for k, v in mod.PARAMS.items():
            good = (st.sampled_from(["synthetic", "five_point", "tutorial_two_feature", "sklearn:iris", "x.csv"])
                    if k == "data" else st.booleans() if isinstance(v, bool)
                    else st.integers(1, 12) if isinstance(v, int) else st.floats(0.0, 20.0))
            fields[k] = maybe(good)
        if mod.KIND == "data":
            fields.update({"X": maybe(st.lists(st.lists(st.floats(-3, 3), min_size=2, max_size=2), min_size=1,
                                               max_size=6)),
                           "y": maybe(st.lists(st.sampled_from([-1.0, 1.0, 0.5]), min_size=1, max_size=6)),
                           "target": weird, "standardize": weird})
        if name == "quadratic":
            fields.update({"eigenvalues": maybe(st.lists(st.floats(0.1, 10), min_size=1, max_size=3)),
                           "b": maybe(st.lists(st.floats(-1, 1), min_size=1, max_size=3))})
    # data problems: a small n always (the exact solvers' time grows with n; hinge's as l2 → 0)
    required = {}
    if mod is not None and mod.KIND == "data":
        required = {"n": st.integers(1, 40)}
        fields.pop("n")
    clean = st.fixed_dictionaries(required, optional=fields)
    return mostly(clean, st.fixed_dictionaries({**required, "junk": weird}, optional=fields), 3)


@settings(deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([*PROBLEMS, "nope"]).flatmap(lambda n: st.tuples(st.just(n), _param_strategy(n))))
def test_make_returns_a_problem_or_value_error(args):
    name, params = args
    p = _expect_value_error(gdbench.problems.make, name, **params)
    if p is not None:
        assert np.isfinite(p.x0).all() and (np.isfinite(p.f_star) or p.f_star == -np.inf)


_PROBLEMS_CACHE: dict[str, object] = {}


def _problem(name: str):
    if name not in _PROBLEMS_CACHE:
        _PROBLEMS_CACHE[name] = gdbench.problems.make(name, **({"d": 2} if name == "quadratic" else {"n": 8, "d": 2}))
    return _PROBLEMS_CACHE[name]


schedules = st.one_of(st.none(), st.sampled_from(["constant", "cosine", "step", "bogus"]),
                      st.fixed_dictionaries({"name": st.sampled_from(["step", "exponential", "cosine", "x"])},
                                            optional={"step_size": maybe(st.integers(1, 5)),
                                                      "gamma": maybe(st.floats(0.1, 0.99)),
                                                      "T_max": maybe(st.integers(1, 9)), "junk": weird}), weird)
clips = st.one_of(st.none(), st.fixed_dictionaries({}, optional={"norm": maybe(st.floats(0.1, 5)),
                                                                 "value": maybe(st.floats(0.1, 5))}),
                  st.tuples(st.sampled_from(["norm", "value", "x"]), weird), weird)
# huge step counts only together with a dense trace (refused by the memory limit): never a hang
good_steps = st.tuples(st.integers(0, 50), st.integers(0, 10))
bad_steps = st.one_of(st.tuples(st.sampled_from([10**9, 10**13]), st.just(1)), st.tuples(weird, st.integers(1, 5)),
                      st.tuples(st.integers(1, 20), weird))
steps_and_record = mostly(good_steps, bad_steps, 3)
run_args = st.fixed_dictionaries({}, optional={
    "lr": maybe(st.floats(1e-4, 1.0)), "x0": maybe(st.lists(st.floats(-2, 2), min_size=2, max_size=3)),
    "batch_size": maybe(st.integers(1, 10)), "seed": maybe(st.integers(0, 10)), "schedule": schedules,
    "clip": clips, "noise": maybe(st.floats(0, 0.1)), "stop_tol": maybe(st.floats(0, 0.5)),
    "device": st.sampled_from(["cpu"] * 6 + ["cuda", "tpu"]), "beta1": maybe(st.floats(0, 0.99)),
    "momentum": maybe(st.floats(0, 0.99)), "junk": weird})


@settings(deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["quadratic", "linreg"]), st.sampled_from(["gd", "adam", "newton"] * 3 + ["bogus", 3]),
       steps_and_record, run_args)
def test_minimize_returns_a_result_or_value_error(problem, rule, sr, kw):
    steps, record_every = sr
    r = _expect_value_error(gdbench.minimize, _problem(problem), rule, steps=steps, record_every=record_every, **kw)
    if r is not None:
        assert r.status in ("converged", "max_steps", "diverged", "stalled") and 0 <= r.steps <= steps


@settings(deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["quadratic", "linreg"]), st.sampled_from(["gd", "adam"]),
       mostly(st.lists(run_args.map(lambda d: {k: v for k, v in d.items() if k != "device"}), max_size=4), weird),
       steps_and_record,
       st.fixed_dictionaries({}, optional={"threads": maybe(st.integers(1, 3)), "div_factor": maybe(st.floats(1, 1e9)),
                                           "x0": maybe(st.lists(st.floats(-2, 2), min_size=2, max_size=3)),
                                           "rows": st.sampled_from([None, False])}))
def test_sweep_returns_a_result_or_value_error(problem, rule, configs, sr, kw):
    steps, record_every = sr
    r = _expect_value_error(gdbench.sweep, _problem(problem), rule, configs, steps=steps, record_every=record_every,
                            **kw)
    if r is not None:
        assert len(r.status) == len(configs) and r.theta.shape == (len(configs), _problem(problem).dim)
