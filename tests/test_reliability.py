"""Bad sizes and damaged or foreign results: one line, exit 2, before anything large happens.

Each case of issue 13 ("Why") runs through the real command line (``gdbench.cli.main``): a size
that cannot fit is refused from the suite alone (no problem built, no grid expanded, no trace
allocated), an unwritable ``--out`` or a CUDA suite without a GPU before the first run, a
damaged part file found by ``--resume`` is set aside and only its group re-run, and
``gdbench compare`` of two different suites says so first.
"""

from __future__ import annotations

import errno
import json
import time
from pathlib import Path

import pandas as pd
import pytest

import gdbench
from gdbench import resources
from gdbench.cli import main
from gdbench.harness import store as store_mod
from gdbench.harness import suite as suite_mod
from gdbench.harness.suite_resources import Limits

#: generous: the answers take ~0.1 s of work; an eager 10⁸-point grid takes minutes
ANSWER_S = 5.0

SIZE_CASES = {
    "n": ("[problems.linreg]\nn = 1000000000000\n", "problems.linreg.n"),
    "steps": ("steps = 10000000000000\nrecord_every = 1\n[problems.rosenbrock]\n", "steps"),
    "d": ("[problems.quadratic]\nd = 100000\n", "problems.quadratic.d"),
    "grid": ("[problems.rosenbrock]\n", "optimizers.gd.lr"),
}
GRID = "lr = { logspace = [1e-4, 1e-1, 100000000] }"


def _suite(tmp_path: Path, text: str, name: str = "s") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("case", list(SIZE_CASES))
def test_size_refused_in_one_line_before_allocation(case, tmp_path, capsys, monkeypatch):
    head, field = SIZE_CASES[case]
    text = head + "[optimizers.gd]\n" + (GRID if case == "grid" else "lr = 0.001") + "\n"
    expanded = []
    real_expand = suite_mod._expand
    monkeypatch.setattr(suite_mod, "_expand", lambda *a: expanded.append(a) or real_expand(*a))
    t0 = time.perf_counter()
    rc, _, err = _cli(capsys, "run", str(_suite(tmp_path, text)), "--out", str(tmp_path / "out"), "--no-figures",
                      "--quiet")
    elapsed = time.perf_counter() - t0
    line = _one_line_error(err)
    assert rc == 2 and f": {field}: " in line and "would need about" in line and "the limit is" in line, line
    assert not expanded and not (tmp_path / "out").exists()
    assert elapsed < ANSWER_S, elapsed


def test_max_memory_and_max_runs_flags(tmp_path, capsys):
    text = "steps = 100\n[problems.rosenbrock]\n[optimizers.gd]\nlr = { logspace = [1e-4, 1e-1, 50] }\n"
    p = str(_suite(tmp_path, text))
    rc, _, err = _cli(capsys, "run", p, "--max-runs", "10", "--out", str(tmp_path / "o"))
    line = _one_line_error(err)
    assert rc == 2 and "optimizers.gd.lr" in line and "50 runs" in line and "--max-runs 10" in line
    rc, _, err = _cli(capsys, "run", p, "--max-memory", "100K", "--out", str(tmp_path / "o"))
    line = _one_line_error(err)
    assert rc == 2 and "the limit is 100 KiB (--max-memory)" in line
    rc, _, err = _cli(capsys, "run", p, "--max-memory", "lots", "--out", str(tmp_path / "o"))
    assert rc == 2 and "--max-memory" in _one_line_error(err)
    assert not (tmp_path / "o").exists()


def test_shipped_suites_fit_and_estimates_scale():
    plan = suite_mod.load("ci", limits=Limits(max_memory=1 << 30))
    assert plan.n_runs == 56
    with pytest.raises(suite_mod.SuiteError, match="executor.workers"):
        suite_mod.load("ci", limits=Limits(workers=10**6))
    assert resources.parse_size("4G") == 4 << 30 and resources.parse_size("1.5MiB") == 3 << 19
    assert resources.trace_bytes(3, 100, 10, 2) == 3 * 12 * 6 * 8
    assert resources.grid_length({"logspace": [1e-4, 1e-1, 10**8]}) == 10**8


def test_api_refuses_with_value_error_never_memory_error():
    with pytest.raises(ValueError, match="problem 'linreg': n=1000000000000"):
        gdbench.problems.linreg(n=10**12)
    with pytest.raises(ValueError, match="d×d|100000×100000"):
        gdbench.problems.quadratic(d=100_000)
    p = gdbench.problems.rosenbrock()
    with pytest.raises(ValueError, match="sweep would need"):
        gdbench.minimize(p, "gd", steps=10**13, record_every=1)
    with pytest.raises(ValueError, match="10000000 configurations"):
        gdbench.sweep(p, "gd", [{"lr": 1e-3}] * 10**7, steps=10**5, record_every=1)


def test_env_limit_guards_the_api(monkeypatch):
    monkeypatch.setenv(resources.ENV_MAX_MEMORY, "1M")
    with pytest.raises(ValueError, match=r"the limit is 1 MiB \(\$GDBENCH_MAX_MEMORY\)"):
        gdbench.problems.linreg(n=100_000, d=10)


# -- damaged or foreign results ------------------------------------------------------------

SMALL = """
name = "{name}"
steps = 50
record_every = 10
seeds = 2
timing_steps = 0
[problems.quad]
problem = "quadratic"
d = 3
[problems.rosen]
problem = "rosenbrock"
[optimizers.gd]
lr = [0.01, 0.02]
[optimizers.adam]
lr = 0.01
"""


def test_unwritable_out_fails_before_the_first_run(tmp_path, capsys):
    rc, _, err = _cli(capsys, "run", str(_suite(tmp_path, SMALL.format(name="a"), "a")), "--out", "/proc/foo",
                      "--quiet")
    assert rc == 2 and "cannot write results to '/proc/foo'" in _one_line_error(err)
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the folder should be
    rc, _, err = _cli(capsys, "run", str(tmp_path / "a.toml"), "--out", str(blocker / "sub"), "--quiet")
    assert rc == 2 and "cannot write results" in _one_line_error(err)


def test_full_disk_while_writing_is_one_line_and_keeps_what_was_saved(tmp_path, capsys, monkeypatch):
    real = store_mod.atomic_write_bytes
    calls = []

    def write_bytes(path, data, **kw):
        if "parts" in Path(path).parts:
            calls.append(path)
            if len(calls) > 2:  # the first group (traces + runs) fits, then the disk is full
                raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data, **kw)

    monkeypatch.setattr(store_mod, "atomic_write_bytes", write_bytes)
    out = tmp_path / "out"
    rc, _, err = _cli(capsys, "run", str(_suite(tmp_path, SMALL.format(name="a"))), "--out", str(out), "--quiet",
                      "--no-figures", "--compile-workers", "0")
    line = _one_line_error(err)
    assert rc == 2 and "No space left on device" in line and "--resume" in line
    assert len(list((out / "parts").glob("*.runs.*"))) == 1


def test_full_disk_at_the_probe(tmp_path, capsys, monkeypatch):
    def full(path, data, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_mod, "atomic_write_bytes", full)
    rc, _, err = _cli(capsys, "run", str(_suite(tmp_path, SMALL.format(name="a"))), "--out", str(tmp_path / "o"),
                      "--quiet")
    line = _one_line_error(err)
    assert rc == 2 and "No space left on device" in line and "free some space" in line


def test_cuda_without_gpu_fails_before_any_run(tmp_path, capsys):
    from gdbench.cuda import unavailable_reason

    if unavailable_reason() is None:
        pytest.skip("CUDA is available here")
    rc, _, err = _cli(capsys, "run", "ci", "--device", "cuda", "--out", str(tmp_path / "o"), "--quiet")
    line = _one_line_error(err)
    assert rc == 2 and "device='cuda' is not available" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("damage", ["truncate_runs", "garbage_traces", "delete_traces"])
def test_resume_sets_a_damaged_part_aside_and_reruns_only_its_group(damage, tmp_path, capsys):
    suite = str(_suite(tmp_path, SMALL.format(name="a")))
    out = tmp_path / "out"
    args = ["run", suite, "--out", str(out), "--quiet", "--no-figures", "--compile-workers", "0"]
    assert _cli(capsys, *args)[0] == 0
    full = pd.read_parquet(out / "runs.parquet") if (out / "runs.parquet").exists() else pd.read_csv(out / "runs.csv")
    parts = sorted((out / "parts").glob("*.runs.*"))
    assert len(parts) == 4
    victim = parts[1]
    assert victim.suffix == ".json"  # parts: runs as JSON beside their traces as .npz
    traces = victim.with_name(victim.name.replace(".runs.json", ".traces.npz"))
    if damage == "truncate_runs":
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    elif damage == "garbage_traces":
        traces.write_bytes(b"PAR1 this is not a table")
    else:
        traces.unlink()
    untouched = {p.name: p.stat().st_mtime_ns for p in parts if p != victim}
    rc, _, err = _cli(capsys, *args, "--resume")
    assert rc == 0, err
    damaged = [ln for ln in err.splitlines() if "damaged part file" in ln]
    assert len(damaged) == 1 and victim.name in damaged[0], err
    assert f"{full.shape[0] - 2 * 2} of {full.shape[0]} runs already finished" in err  # the victim: 2 runs × 2 seeds
    again = pd.read_parquet(out / "runs.parquet") if (out / "runs.parquet").exists() else pd.read_csv(out / "runs.csv")
    assert sorted(again["run_id"]) == sorted(full["run_id"])
    pd.testing.assert_series_equal(again.set_index("run_id")["final_loss"].sort_index(),
                                   full.set_index("run_id")["final_loss"].sort_index())
    assert all((out / "parts" / n).stat().st_mtime_ns == m for n, m in untouched.items())
    assert (out / "parts" / "damaged").is_dir()


def test_compare_says_first_that_the_suites_differ(tmp_path, capsys):
    outs = []
    for name in ("a", "b"):
        text = SMALL.format(name=name) + ("" if name == "a" else "[optimizers.momentum]\nlr = 0.01\n")
        out = tmp_path / name
        assert _cli(capsys, "run", str(_suite(tmp_path, text, name)), "--out", str(out), "--quiet", "--no-figures",
                    "--compile-workers", "0")[0] == 0
        outs.append(str(out))
    rc, out, _ = _cli(capsys, "compare", *outs)
    first = out.splitlines()[0]
    assert rc == 1 and "different suites" in first and "'a'" in first and "'b'" in first, out
    # the same suite name with another file: said first too
    meta = json.loads((Path(outs[1]) / "meta.json").read_text())
    meta["suite"]["name"] = "a"
    (Path(outs[1]) / "meta.json").write_text(json.dumps(meta))
    rc, out, _ = _cli(capsys, "compare", *outs)
    assert rc == 1 and "suite file differs" in out.splitlines()[0], out


def test_damaged_results_table_is_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert _cli(capsys, "run", str(_suite(tmp_path, SMALL.format(name="a"))), "--out", str(out), "--quiet",
                "--no-figures", "--compile-workers", "0")[0] == 0
    table = next(p for p in out.iterdir() if p.name.startswith("runs."))
    table.write_bytes(table.read_bytes()[:100])
    rc, _, err = _cli(capsys, "compare", str(out), str(out))
    assert rc == 2 and "cannot read the results" in _one_line_error(err)
