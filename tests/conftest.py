from pathlib import Path

import numpy as np
import pytest

import gdbench
from gdbench.problems import PROBLEMS

#: the example plugins join the registries here, so every registry-driven test covers them too
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
for _f in EXAMPLES:
    gdbench.register(_f)

#: small instances for every registered problem (registry-driven: new problems get these sizes)
SMALL = {"n": 60, "d": 4}


def small_problem(name: str, **over):
    defn = PROBLEMS[name]
    params = {k: v for k, v in SMALL.items() if k in defn.allowed_params()}
    if name == "quadratic":
        params = {"d": 5, "cond": 10.0}
    if name == "rosenbrock":
        params = {"d": 3}
    params.update(over)
    return gdbench.problems.make(name, **params)


@pytest.fixture(scope="session")
def problems_small():
    return {name: small_problem(name) for name in PROBLEMS}


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
