"""Basins: the classification rule, the suite grammar of random starts / restarts / basin maps, the
basin map and its tables end to end, and (once the step loop draws starts) random starts and
restarts through the harness."""

import json
import math
import textwrap

import numpy as np
import pandas as pd
import pytest

import gdbench
import gdbench.engine
from gdbench.cli import main
from gdbench.harness import basins, suite
from gdbench.harness.store import ResultStore, load_results, read_table, write_table
from gdbench.harness.suite import SuiteError
from gdbench.harness.tables import render_summary

RANDOM_STARTS = hasattr(gdbench.engine, "SUPPORTS_RANDOM_STARTS")
needs_random_starts = pytest.mark.skipif(not RANDOM_STARTS, reason="the step loop does not draw random starts yet "
                                         "(gdbench.engine.SUPPORTS_RANDOM_STARTS)")


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


# --- the rule -----------------------------------------------------------------------------------


def test_classify_by_nearest_minimum_within_its_radius():
    p = gdbench.problems.six_hump_camel()
    theta = np.array([[0.0898, -0.7127],     # at a global minimum
                      [-1.70, 0.79],         # at a local one
                      [0.0, 0.0],            # the saddle between the two global minima: unresolved
                      [0.5, -0.4],           # in the global basin but 0.52 away (radius 0.36): travelling
                      [np.nan, 1.0],         # non-finite
                      [0.09, -0.71]])        # finite but the run diverged
    st = ["converged", "stalled", "max_steps", "max_steps", "diverged", "diverged"]
    c = basins.classify(p, theta, st)
    assert c["basin"] == ["(0.09, −0.71)", "(−1.70, 0.80)", "unresolved", "unresolved", "diverged", "diverged"]
    assert c["basin_kind"] == ["global", "local", "unresolved", "unresolved", "diverged", "diverged"]
    assert c["basin_f"][0] == p.f_star and c["basin_f"][1] == pytest.approx(-0.2154638243837170)
    assert all(math.isnan(v) for v in c["basin_f"][2:])
    # the radius: a quarter of the distance to the nearest other minimum
    m = p.info["minima"]
    pts = np.array([x for x, _, _ in m.listed()])
    dmin = np.min([np.linalg.norm(pts[0] - q) for q in pts[1:]])
    edge = pts[0] + np.array([0.249 * dmin, 0.0])
    assert basins.classify(p, np.array([edge]), ["max_steps"])["basin_kind"] == ["global"]
    assert basins.classify(p, np.array([pts[0] + [0.251 * dmin, 0.0]]), ["max_steps"])["basin_kind"] == ["unresolved"]
    # problems without a list of minima: empty columns
    q = gdbench.problems.rosenbrock()
    assert basins.classify(q, np.ones((2, 2)), ["converged"] * 2)["basin"] == ["", ""]


def test_restart_text_and_map_key():
    assert basins.restart_text("") == "none" and basins.restart_text('{"every":200}') == "every 200"
    assert basins.restart_text('{"on":"stall"}') == "on stall (100, 0.0001)"
    assert basins.map_key({"lr": 0.1, "seed": 3, "init": {"dist": "normal", "scale": 1}, "restart": None}) == \
        basins.map_key({"seed": 0, "lr": 0.1}) == '{"lr":0.1}'


# --- the suite grammar --------------------------------------------------------------------------

GRAMMAR = """
steps = 50
seeds = 2
basin_map = 5
[problems.himmelblau]
init = {dist = "uniform", low = -5, high = 5}
[problems.camel]
problem = "six_hump_camel"
basin_map = 7
[problems.rosen]
problem = "rosenbrock"
[optimizers.gd]
lr = [0.01]
[optimizers.gd_restart]
rule = "gd"
lr = 0.01
restart = {every = 20}
problems = ["himmelblau"]
[optimizers.adam]
init = {dist = "normal", scale = 0.5}
"""


def _configs(plan):
    return {(t.problem, lab["run_name"], c["seed"]): c for t in plan.tasks for lab, c in zip(t.labels, t.configs)}


def test_init_restart_and_basin_map_fields_reach_the_sweep_configs(tmp_path):
    plan = suite.load(write(tmp_path, GRAMMAR))
    cfg = _configs(plan)
    box = {"dist": "uniform", "low": -5, "high": 5}
    assert cfg[("himmelblau", "gd[lr=0.01]", 0)] == {"lr": 0.01, "init": box, "seed": 0}
    assert cfg[("himmelblau", "gd_restart[lr=0.01]", 1)] == {"lr": 0.01, "restart": {"every": 20}, "init": box,
                                                              "seed": 1}
    assert cfg[("himmelblau", "adam[lr=0.001]", 0)]["init"] == {"dist": "normal", "scale": 0.5}  # the variant's wins
    assert cfg[("camel", "gd[lr=0.01]", 0)] == {"lr": 0.01, "seed": 0}  # no init: no key (ids unchanged)
    assert cfg[("rosen", "adam[lr=0.001]", 0)]["init"] == {"dist": "normal", "scale": 0.5}
    maps = {(t.problem, t.rule): (t.basin_map, t.basin_box) for t in plan.tasks}
    assert maps[("himmelblau", "gd")] == (5, ((-5.0, -5.0), (5.0, 5.0)))  # the init box
    assert maps[("camel", "gd")] == (7, ((-3.0, -2.0), (3.0, 2.0)))  # the problem's box, its own grid
    assert maps[("rosen", "gd")] == (0, None)  # no list of minima: no map
    assert plan.settings["basin_map"] == 5
    # init and restart are part of the run id
    text = GRAMMAR.replace('init = {dist = "uniform", low = -5, high = 5}\n', "")
    text = text.replace("restart = {every = 20}\n", "")
    plain = suite.load(write(tmp_path, text, "plain.toml"))
    ids = {(t.problem, lab["run_name"]): r for t in plan.tasks for lab, r in zip(t.labels, t.run_ids)}
    ids_plain = {(t.problem, lab["run_name"]): r for t in plain.tasks for lab, r in zip(t.labels, t.run_ids)}
    assert ids[("himmelblau", "gd[lr=0.01]")] != ids_plain[("himmelblau", "gd[lr=0.01]")]
    assert ids[("camel", "gd[lr=0.01]")] == ids_plain[("camel", "gd[lr=0.01]")]


def test_a_grid_of_inits_is_named_in_the_run_names(tmp_path):
    plan = suite.load(write(tmp_path, """
        steps = 10
        [problems.himmelblau]
        [optimizers.gd]
        lr = 0.01
        init = [{dist = "normal", scale = 0.1}, {dist = "normal", scale = 1.0}]
        """))
    names = sorted({lab["run_name"] for t in plan.tasks for lab in t.labels})
    assert names == ["gd[lr=0.01,init=dist=normal,scale=0.1]", "gd[lr=0.01,init=dist=normal,scale=1]"]


BAD = [
    ("low >= high", GRAMMAR.replace("low = -5, high = 5", "low = 5, high = 5"),
     "problems.himmelblau.init: init (uniform): low must be < high"),
    ("wrong length", GRAMMAR.replace("low = -5, high = 5", "low = [-5, -5, -5], high = 5"),
     "problems.himmelblau.init: init (uniform): low must be a number or a list of 2"),
    ("non-finite scale", GRAMMAR.replace("scale = 0.5", "scale = inf"),
     "optimizers.adam.init: on problem 'himmelblau' (dimension 2): init (normal): scale must be finite"),
    ("zero scale", GRAMMAR.replace("scale = 0.5", "scale = 0.0"), "optimizers.adam.init: on problem"),
    ("unknown init key", GRAMMAR.replace("scale = 0.5", "scale = 0.5, mean = 1"), "unknown field 'mean'"),
    ("restart with a fixed x0", GRAMMAR.replace('problems = ["himmelblau"]', 'problems = ["camel"]'),
     "optimizers.gd_restart.restart: on problem 'camel': restart: restarts need a random start"),
    ("restart period < 1", GRAMMAR.replace("every = 20", "every = 0"),
     "optimizers.gd_restart.restart: restart: every (the restart period in steps) must be an integer >= 1"),
    ("stall window < 1", GRAMMAR.replace("{every = 20}", '{on = "stall", window = 0}'), "window (steps) must be"),
    ("basin_map on rosenbrock", GRAMMAR.replace('problem = "rosenbrock"', 'problem = "rosenbrock"\nbasin_map = 9'),
     "problems.rosen.basin_map: basin maps are drawn for 2-D problems whose minima are all known"),
    ("basin_map = 1", GRAMMAR.replace("basin_map = 5", "basin_map = 1"), "basin_map: must be 0 (no map) or"),
]


@pytest.mark.parametrize("case,text,message", BAD, ids=[b[0] for b in BAD])
def test_bad_starts_and_restarts_are_one_line_naming_file_and_field(tmp_path, case, text, message):
    p = write(tmp_path, text)
    with pytest.raises(SuiteError) as ei:
        suite.load(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}: ") and message in msg and "\n" not in msg, msg


def test_cli_exit_2_on_a_bad_init(tmp_path, capsys):
    p = write(tmp_path, GRAMMAR.replace("low = -5, high = 5", "low = 1, high = 0"))
    assert main(["run", str(p), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "problems.himmelblau.init" in err and str(p) in err
    assert not (tmp_path / "out").exists()


def test_the_multimodal_suite_loads():
    plan = suite.load("multimodal")
    assert plan.settings["basin_map"] == 41 and len(plan.settings["seeds"]) >= 20
    names = {p["problem"] for p in plan.problems.values()}
    assert {"double_well", "six_hump_camel", "himmelblau", "styblinski_tang", "rastrigin"} <= names
    rules = {t.rule for t in plan.tasks}
    assert {"gd", "momentum", "nesterov", "adam"} <= rules
    assert all("init" in c for t in plan.tasks for c in t.configs)  # every run starts at random
    assert any("restart" in c for t in plan.tasks for c in t.configs)
    assert {t.problem for t in plan.tasks if t.basin_map} == {
        lab for lab, p in plan.problems.items() if p.get("d", 2) == 2}


def test_gdbench_list_shows_init_and_restart(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "init, restart too" in out and 'init = {dist = "uniform", low, high}' in out
    assert "restart = {every = k}" in out


# --- basin map end to end (fixed starts: runs today) --------------------------------------------

MAP_SUITE = """
name = "maps"
steps = 300
record_every = 10
seeds = [0, 1]
timing_steps = 20
basin_map = 6
[problems.camel]
problem = "six_hump_camel"
[problems.dw]
problem = "double_well"
d = 1
[optimizers.gd]
lr = [0.003, 0.01]
[optimizers.momentum]
lr = [0.01]
problems = ["camel"]
"""


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    d = tmp_path_factory.mktemp("maps")
    path = d / "maps.toml"
    path.write_text(MAP_SUITE)
    out = d / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    return path, out


def test_basin_map_table_runs_columns_summary_and_figure(mapped):
    path, out = mapped
    runs = read_table(out / "runs.parquet") if (out / "runs.parquet").exists() else read_table(out / "runs.csv")
    maps = basins.load_basins(out)
    # one map per rule and distinct configuration of the 2-D problem (gd and momentum share lr 0.01)
    assert len(maps) == 3 * 36 and set(maps["map_key"]) == {'{"lr":0.003}', '{"lr":0.01}'}
    assert set(maps["problem"]) == {"camel"} and sorted(set(maps["ix"])) == list(range(6))
    assert maps["x0_0"].min() == -3.0 and maps["x0_1"].max() == 2.0
    cam = runs[runs["problem"] == "camel"]
    for _, r in cam.iterrows():
        m = basins.map_of(maps, r)
        assert len(m) == 36 and r["map_global_share"] == pytest.approx((m["basin_kind"] == "global").mean())
    assert runs.loc[runs["problem"] == "dw", "map_key"].eq("").all()
    assert runs.loc[runs["problem"] == "dw", "map_global_share"].isna().all()
    # x_start / x_final and the basin columns
    r0 = cam.iloc[0]
    assert json.loads(r0["x_start"]) == [-1.5, 1.0] and len(json.loads(r0["x_final"])) == 2
    assert r0["basin"] == "(−1.70, 0.80)" and r0["basin_kind"] == "local" and r0["restarts"] == 0
    assert set(runs["basin_kind"]) <= set(basins.KINDS)
    text = (out / "summary.md").read_text()
    assert "## Basins" in text and "[map " in text and "ERT to global (steps)" in text
    assert (out / "figures" / "basin_maps.png").stat().st_size > 10_000


def test_basin_map_equals_runs_from_those_starts(mapped):
    """Each map entry is the run of that configuration from that grid start (bit for bit)."""
    _, out = mapped
    maps = basins.load_basins(out)
    p = gdbench.problems.six_hump_camel()
    m = maps[maps["map_key"] == '{"lr":0.01}'].iloc[[0, 7, 20, 35]]
    r = gdbench.sweep(p, "gd", [{"lr": 0.01, "x0": [a, b]} for a, b in zip(m["x0_0"], m["x0_1"])], steps=300,
                      record_every=30, stop_tol=1e-8, threads=1)
    np.testing.assert_array_equal(r.theta, m[["x_final_0", "x_final_1"]].to_numpy())
    assert list(m["status"]) == r.status


def test_report_is_a_pure_function_of_the_saved_tables(mapped, tmp_path):
    _, out = mapped
    before = (out / "summary.md").read_bytes()
    assert main(["report", str(out), "--no-figures"]) == 0
    assert (out / "summary.md").read_bytes() == before
    runs, _, meta = load_results(out)
    write_table(runs, tmp_path / "runs.csv")  # the CSV format gives the same summary
    assert render_summary(read_table(tmp_path / "runs.csv"), meta) == render_summary(runs, meta)


def test_consolidation_keeps_one_copy_and_drops_a_stale_table(mapped, tmp_path):
    _, out = mapped
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(out, copy)
    store = ResultStore(copy)
    parts = sorted((copy / "parts").glob("*.basins.*"))
    assert parts
    dup = parts[0].with_name(parts[0].name.replace(".basins.", ".dup.basins."))
    shutil.copy(parts[0], dup)  # not next to a runs part: ignored
    store.consolidate()
    assert len(basins.load_basins(copy)) == 3 * 36
    for p in (copy / "parts").glob("*.basins.*"):
        p.unlink()
    store.consolidate()
    assert basins.load_basins(copy).empty  # no map parts left: no basins table


def test_x_columns_are_empty_above_16_dimensions():
    from gdbench.harness.worker import _xjson

    assert _xjson(np.arange(16.0)) == json.dumps([float(v) for v in range(16)]) and _xjson(np.zeros(17)) == ""


# --- random starts and restarts through the harness (switch on with the step loop's support) -----

RANDOM = """
name = "random"
steps = 400
record_every = 20
seeds = [0, 1, 2, 3]
timing_steps = 20
[problems.camel]
problem = "six_hump_camel"
init = {dist = "uniform", low = [-3, -2], high = [3, 2]}
[optimizers.gd]
lr = [0.01]
[optimizers.gd_restart]
rule = "gd"
lr = [0.01]
restart = {every = 50}
"""


@needs_random_starts
def test_same_seed_same_start_and_restarts_bit_for_bit(tmp_path):
    outs = []
    for name in ("a", "b"):
        p = write(tmp_path, RANDOM, f"{name}.toml")
        assert main(["run", str(p), "--out", str(tmp_path / name), "--quiet", "--no-figures"]) == 0
        outs.append(read_table(next((tmp_path / name).glob("runs.*"))))
    a, b = outs
    cols = ["run_id", "x_start", "x_final", "restarts", "basin", "final_loss", "steps_done", "status"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    plain = a[a["variant"] == "gd"]
    starts = [tuple(json.loads(s)) for s in plain["x_start"]]
    assert len(set(starts)) == len(starts)  # different seeds, different starts
    lo, hi = np.array([-3, -2]), np.array([3, 2])
    assert all(((np.array(s) >= lo) & (np.array(s) < hi)).all() for s in starts)
    rs = a[a["variant"] == "gd_restart"]
    assert (rs["restarts"] > 0).all() and (plain["restarts"] == 0).all()
    assert (rs["steps_budget"] == 400).all()  # the budget counts every restart's steps
    traces = read_table(next((tmp_path / "a").glob("traces.*")))
    assert "restarts" in traces
    tr = traces[traces["run_id"] == rs["run_id"].iloc[0]]
    assert tr["restarts"].is_monotonic_increasing and tr["restarts"].iloc[-1] == rs["restarts"].iloc[0]


@needs_random_starts
def test_restarts_keep_the_best_iterate():
    p = gdbench.problems.six_hump_camel()
    r = gdbench.sweep(p, "gd", [{"lr": 0.01, "seed": s, "init": {"dist": "uniform", "low": [-3, -2], "high": [3, 2]},
                                 "restart": {"every": 50}} for s in range(8)], steps=400, record_every=10)
    for k in range(8):
        best = np.nanmin(r.trace[k, : r.nrec[k], 1])
        assert p.loss(r.theta[k]) <= best + 1e-12
        assert r.restarts[k] >= 1 and r.theta_start.shape == (8, 2)
