"""Fuzzing the suite loader: random documents from the real field grammar.

Documents are built from ``suite.TOP_FIELDS``, every problem's ``PARAMS``, every optimizer's
hyper-parameters, the schedules and clipping forms — each value drawn either well formed or
broken (wrong types, extreme and non-finite numbers, unknown keys, deep nesting, unicode
labels, huge grids) — written as TOML and loaded. Each must either load into a valid plan or
raise one :class:`SuiteError` line that starts with the file, within a bounded time; any other
exception is a bug.

Budget: the ``ci`` Hypothesis profile (default; deterministic, ``GDBENCH_FUZZ_EXAMPLES``
examples per test, 150 unless set) or ``GDBENCH_FUZZ_PROFILE=dev`` (random, 2 000 examples).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fuzz_profiles import DEADLINE_MS, apply_profile, mostly
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gdbench.harness import suite as suite_mod
from gdbench.harness.suite_resources import Limits
from gdbench.optimizers import OPTIMIZERS
from gdbench.problems import PROBLEMS
from gdbench.runspec import SCHEDULE_PARAMS

apply_profile()

#: the fuzz runs plan only: anything larger than this is refused by the resource plan, quickly
LIMITS = Limits(max_memory=64 << 20, max_runs=5_000)
_TMP = Path(tempfile.mkdtemp(prefix="gdbench-fuzz-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)  # (made at import: gone at exit)
#: GDBENCH_FUZZ_VERBOSE=1 (with --hypothesis-show-statistics): every error message as an event
VERBOSE = bool(os.environ.get("GDBENCH_FUZZ_VERBOSE"))


# -- a small TOML writer (inline tables everywhere; keys always quoted) -------------------------


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_str(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, the rest verbatim."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_doc(doc: dict[str, Any]) -> str:
    return "".join(f"{toml_str(k)} = {toml_value(v)}\n" for k, v in doc.items())


# -- value strategies ------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
weird_number = st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(), st.just(0),
                         st.just(-1), st.just(10**18), st.just(1e308), st.just(5e-324))
scalar = st.one_of(weird_number, st.booleans(), st.text(max_size=12))
nested = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=12)
label = st.one_of(st.sampled_from(["a", "lin", "q", "x y", "ü-∂", "/", ""]), st.text(min_size=1, max_size=10))


def small_int(lo: int = 1, hi: int = 20):
    return st.integers(min_value=lo, max_value=hi)


def maybe_bad(good):
    """Mostly well formed, sometimes anything."""
    return mostly(good, st.one_of(weird_number, nested), 3)


def grid(values):
    rng = st.tuples(st.one_of(finite, weird_number), st.one_of(finite, weird_number),
                    st.one_of(small_int(1, 6), st.just(10**8), st.just(0), st.integers(), weird_number))
    return st.one_of(values, st.lists(values, max_size=4),
                     rng.map(lambda t: {"logspace": list(t)}), rng.map(lambda t: {"linspace": list(t)}),
                     st.fixed_dictionaries({"logspace": st.lists(weird_number, max_size=4)}))


def schedule(noisy: bool = True):
    bad = maybe_bad if noisy else (lambda good: good)
    named = st.sampled_from([*SCHEDULE_PARAMS, *(["bogus"] if noisy else [])])
    table = named.flatmap(lambda n: st.fixed_dictionaries(
        {"name": st.just(n)}, optional={k: bad(small_int(1, 50) if k in ("step_size", "T_max") else
                                               st.floats(0.01, 0.99))
                                        for k in [*SCHEDULE_PARAMS.get(n, {}), *(["junk"] if noisy else [])]}))
    return st.one_of(named, table, *([nested] if noisy else []))


def clip(noisy: bool = True):
    bad = maybe_bad if noisy else (lambda good: good)
    one = st.sampled_from(["norm", "value"]).flatmap(lambda k: st.fixed_dictionaries({k: bad(st.floats(0.01, 10))}))
    return st.one_of(one, *([st.fixed_dictionaries({}, optional={"norm": st.just(1.0), "value": st.just(1.0)}),
                             nested] if noisy else []))


def problem_table(name: str, noisy: bool):
    """A problem table: well-formed values (``noisy`` False) or anything, plus an unknown key."""
    bad = maybe_bad if noisy else (lambda good: good)
    mod = PROBLEMS.get(name)
    params: dict[str, Any] = {}
    if mod is not None:
        for k, v in mod.PARAMS.items():
            if k == "data":
                good = st.sampled_from(["synthetic", "five_point", "tutorial_two_feature", "sklearn:iris"]
                                       + (["missing.csv", "nope"] if noisy else []))
            elif isinstance(v, bool):
                good = st.booleans()
            elif isinstance(v, int):
                good = small_int(1, 12) if k != "seed" else small_int(0, 5)
            else:
                good = st.floats(0.0, 10.0) if v == 0 else st.floats(1.0, 50.0)
            params[k] = bad(good)
    params["steps"] = bad(small_int(1, 30))
    params["record_every"] = bad(small_int(1, 10))
    params["lr"] = grid(bad(st.floats(1e-4, 1.0)))
    if noisy:
        params["junk"] = nested
    return st.fixed_dictionaries({"problem": st.just(name)} if mod is not None else {}, optional=params)


def variant_table(rule: str, noisy: bool):
    """A variant table of ``rule``: well-formed values (``noisy`` False) or anything."""
    bad = maybe_bad if noisy else (lambda good: good)
    opt = OPTIMIZERS.get(rule)
    fields: dict[str, Any] = {
        "lr": grid(bad(st.floats(1e-4, 1.0))),
        "batch_size": grid(st.one_of(st.just("full"), small_int(1, 8), *([weird_number] if noisy else []))),
        "schedule": st.one_of(schedule(noisy), st.lists(schedule(noisy), min_size=1, max_size=2)),
        "clip": clip(noisy), "noise": grid(bad(st.floats(0.0, 0.1))),
    }
    if noisy:
        fields.update({"problems": st.one_of(st.lists(label, max_size=2), nested), "junk": nested})
    if opt is not None:
        for h in opt.extra_names:
            lo, hi, _, _ = opt.bounds.get(h, (0.0, 1.0, True, True))
            fields[h] = grid(bad(st.floats(max(lo, 0.0), min(hi, 1.0), exclude_min=True, exclude_max=True)))
    return st.fixed_dictionaries({}, optional=fields)


problem_names = st.sampled_from([*PROBLEMS, "nonesuch"])
rule_names = st.sampled_from([*OPTIMIZERS, "sgd", "batch_gd", "minibatch", "bogus"])

noisy = st.sampled_from([False, False, True])
problems_section = st.dictionaries(label, st.tuples(problem_names, noisy).flatmap(lambda a: problem_table(*a)),
                                   min_size=1, max_size=3)
variants_section = st.dictionaries(st.one_of(rule_names, rule_names, label),
                                   st.tuples(rule_names, noisy).flatmap(lambda a: variant_table(*a)),
                                   min_size=1, max_size=3)

GOOD_TOP = {
    "name": st.sampled_from(["ok", "fuzz-1", "ünï"]),
    "description": st.text(max_size=20),
    "steps": small_int(1, 40),
    "record_every": small_int(1, 10),
    "seeds": st.one_of(small_int(1, 3), st.lists(small_int(0, 5), min_size=1, max_size=3, unique=True)),
    "tolerances": st.lists(st.sampled_from([1e-2, 1e-4, 1e-6]), min_size=1, max_size=3),
    "stop_tol": st.sampled_from([0, 1e-8, 1e-4]),
    "time_budget_s": st.floats(0.001, 1.0),
    "timing_steps": small_int(0, 10),
    "div_factor": st.floats(1.0, 1e9),
    "escape_frac": st.floats(0.01, 1.0),
    "device": st.sampled_from(["cpu", "cuda"]),
    "threads": small_int(1, 4),
    "executor": st.sampled_from(["local", "processes"]),
}
BAD_TOP = {
    **{k: maybe_bad(v) for k, v in GOOD_TOP.items()},
    "name": maybe_bad(st.text(max_size=10)),
    "seeds": st.one_of(small_int(1, 3), st.lists(small_int(0, 5), max_size=3), weird_number, nested),
    "tolerances": st.one_of(st.lists(st.floats(1e-9, 0.5), min_size=1, max_size=3), st.lists(weird_number), nested),
    "target_tol": maybe_bad(st.sampled_from([1e-2, 1e-4])),
    "device": st.one_of(st.sampled_from(["cpu", "cuda", "tpu"]), nested),
    "executor": st.one_of(st.sampled_from(["local", "processes", "dask", "mpi"]),
                          st.fixed_dictionaries({}, optional={"name": st.sampled_from(["local", "dask", "x"]),
                                                              "scheduler": maybe_bad(st.text(max_size=8)),
                                                              "workers": maybe_bad(small_int(1, 4))}), nested),
    "unknown_field": nested,
}
_sections = {"problems": problems_section, "optimizers": variants_section}
documents = st.one_of(*[st.fixed_dictionaries(_sections, optional=GOOD_TOP)] * 3,
                      st.fixed_dictionaries(_sections, optional=BAD_TOP))


def _check(text: str) -> None:
    path = _TMP / "fuzz.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        plan = suite_mod.load(path, limits=LIMITS)
    except suite_mod.SuiteError as e:
        msg = str(e)
        assert msg.startswith(f"{path}: ") and "\n" not in msg, msg
        event(f"SuiteError at {msg[len(str(path)) + 2:].split(':')[0].split('.')[0][:20]}")
        if VERBOSE:
            event(msg[len(str(path)) + 2:][:70])
        return
    event("loaded")
    assert plan.n_runs == sum(len(t.run_ids) for t in plan.tasks) and plan.n_runs <= LIMITS.max_runs
    for t in plan.tasks:
        assert len(set(t.run_ids)) == len(t.run_ids) and all(isinstance(c, dict) for c in t.configs)
    json.dumps(plan.settings)  # meta.json-ready


@pytest.mark.filterwarnings("ignore::gdbench.problems._degenerate.DegenerateProblemWarning")
@settings(deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents)
def test_random_suite_documents_load_or_name_a_field(doc):
    _check(toml_doc(doc))


@settings(deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_is_malformed_toml_or_a_field_error(text):
    _check(text)
