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


#: test files, costliest first: cold-cache seconds of one core in a serial run (2-core Xeon VM,
#: 2026-12-03): driver 442, cuda 281 (its simulator child compiles the CPU drivers that
#: test_optimizers then loads from the disk cache), perf 199, optimizers 150, fuzz_api 108,
#: plugins 84, dask 71, harness_e2e 58, oracles 47, kill_resume 43, basins 40, reliability 31;
#: every other file under 20. Under ``pytest -n N`` (pyproject's addopts: ``--dist loadfile
#: --no-loadscope-reorder``) xdist hands whole files to its workers in this order, so that no long
#: file starts last and leaves the other workers idle.
COSTLIEST_FIRST = ("test_driver", "test_cuda", "test_perf", "test_optimizers", "test_fuzz_api", "test_plugins",
                   "test_dask", "test_harness_e2e", "test_oracles", "test_kill_resume", "test_basins",
                   "test_reliability")


def pytest_collection_modifyitems(config, items):
    rank = {stem: i for i, stem in enumerate(COSTLIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def problems_small():
    return {name: small_problem(name) for name in PROBLEMS}


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
