"""``gdbench export --format ioh``: the IOHprofiler files, read back with an independent parser
of the documented format, hold every run's evaluations and best-so-far values."""

import math
import re

import numpy as np
import pytest

from gdbench.cli import main
from gdbench.harness.store import load_results

SUITE = """
name = "iohtiny"
steps = 60
record_every = 3
seeds = [0, 1]
tolerances = [1e-2, 1e-4]
timing_steps = 20

[problems.linreg]
n = 30
d = 3

[problems.rosenbrock]
d = 2

[optimizers.batch_gd]
lr = [0.001, 0.01]

[optimizers.adam]
lr = [0.01, 0.1]
"""


def read_info(path):
    """[(meta dict, data file, [(instance, evaluations, best)])] from an IOHprofiler .info file."""
    lines = path.read_text().splitlines()
    out = []
    for i in range(0, len(lines), 3):
        meta = dict(re.findall(r"(\w+) = '?([^,']*)'?", lines[i]))
        assert lines[i + 1].startswith("%")
        parts = [p.strip() for p in lines[i + 2].split(",")]
        runs = [(int(p.split(":")[0]), int(p.split(":")[1].split("|")[0]), float(p.split("|")[1])) for p in parts[1:]]
        out.append((meta, parts[0], runs))
    return out


def read_dat(path):
    """Blocks of (evaluations, current, best) rows, one per run, split at the header lines."""
    blocks = []
    for line in path.read_text().splitlines():
        if line.startswith('"function evaluation"'):
            blocks.append([])
        else:
            e, cur, best = line.split()
            blocks[-1].append((int(e), float(cur), float(best)))
    return blocks


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("ioh")
    (d / "iohtiny.toml").write_text(SUITE)
    assert main(["run", str(d / "iohtiny.toml"), "--out", str(d / "res"), "--quiet", "--no-figures"]) == 0
    return d / "res"


def test_ioh_export_reads_back(results, tmp_path):
    out = tmp_path / "ioh"
    assert main(["export", "--format", "ioh", str(results), "--out", str(out)]) == 0
    runs, traces, _ = load_results(results)
    assert sorted(p.name for p in out.iterdir()) == ["adam", "batch_gd"]
    for alg in ("adam", "batch_gd"):
        infos = sorted((out / alg).glob("IOHprofiler_f*.info"))
        assert [p.name for p in infos] == ["IOHprofiler_f1_linreg.info", "IOHprofiler_f2_rosenbrock.info"]
        for info in infos:
            [(meta, rel, entries)] = read_info(info)
            assert meta["algId"] == alg and meta["maximization"] == "F" and meta["funcName"] in info.name
            blocks = read_dat(out / alg / rel)
            assert len(blocks) == len(entries) == 2 and [e[0] for e in entries] == [0, 1]  # seeds = instances
            for (seed, last_eval, best), block in zip(entries, blocks):
                ev = np.array([b[0] for b in block])
                assert block[0][0] == 1 and np.all(np.diff(ev) > 0)  # the start is evaluation 1
                assert block[-1][0] == last_eval and block[-1][2] == pytest.approx(best, rel=1e-9)
                bests = [b[2] for b in block]
                assert all(a >= b for a, b in zip(bests, bests[1:]))  # best-so-far never rises
                # the run: the variant at its best lr on this problem, this seed
                prob = meta["funcName"]
                cand = runs[(runs["problem"] == prob) & (runs["variant"] == alg) & (runs["seed"] == seed)]
                match = []
                for _, r in cand.iterrows():
                    t = traces[traces["run_id"] == r["run_id"]]
                    rel_ = t["rel_suboptimality"].to_numpy()
                    ev_last = 1 + t["step"].iloc[-1] * r["grad_evals_per_step"]
                    if ev_last == last_eval and math.isclose(np.nanmin(rel_), best, rel_tol=1e-9):
                        match.append(r["run_id"])
                assert match, (alg, prob, seed)
                if prob == "linreg":  # full batch: n = 30 per-sample gradients per step
                    assert (last_eval - 1) % 30 == 0


def test_export_all_grid_points_in_steps(results, tmp_path):
    out = tmp_path / "all"
    assert main(["export", str(results), "--out", str(out), "--runs", "all", "--unit", "steps"]) == 0
    algs = sorted(p.name for p in out.iterdir())
    assert algs == ["adam_lr=0.01", "adam_lr=0.1", "batch_gd_lr=0.001", "batch_gd_lr=0.01"]
    [(meta, rel, entries)] = read_info(out / "adam_lr=0.1" / "IOHprofiler_f2_rosenbrock.info")
    assert meta["algId"] == "adam[lr=0.1]" and meta["DIM"] == "2"
    assert all(e[1] <= 61 for e in entries)  # steps + 1
