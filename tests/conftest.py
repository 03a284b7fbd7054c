import numpy as np
import pytest

import gdbench
from gdbench.problems import PROBLEMS

#: small instances for every registered problem (registry-driven: new problems get defaults)
SMALL = {"n": 60, "d": 4}


def small_problem(name: str, **over):
    mod = PROBLEMS[name]
    params = {k: v for k, v in SMALL.items() if k in mod.PARAMS}
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
