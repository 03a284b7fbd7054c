"""Part files (JSON runs, .npz traces and basin maps) and their consolidation: from memory in the
process that wrote them, from disk on ``--resume``, and from older versions' parquet/CSV parts —
the consolidated tables are the same bytes every way."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from gdbench.harness import store as store_mod
from gdbench.harness.executors import GroupResult
from gdbench.harness.store import ResultStore, _runs_frame, read_part, table_format, write_table

FORMATS = ["csv"] + (["parquet"] if table_format() == "parquet" else [])


def _row(i: int, group: str, **over):
    row = {"run_id": f"{group}-{i:03d}", "group_id": group, "lr": 10.0 ** -i, "seed": i, "status": "converged",
           "final_loss": 1.0 / (i + 3), "time_to_1e-02": math.inf if i % 2 else 0.5, "noise": math.nan,
           "ok": bool(i % 2)}
    row.update(over)
    return row


def _result(group: str, n: int, *, theta: bool = False, basins: bool = False, **over) -> GroupResult:
    runs = [_row(i, group, **over) for i in range(n)]
    ids = np.repeat(np.array([r["run_id"] for r in runs]), 3)
    traces = {"run_id": ids, "step": np.tile(np.arange(3) * 10, n), "loss": np.linspace(1.0, 0.1, 3 * n)}
    if theta:
        traces["theta_0"] = np.arange(3 * n, dtype=float) / 7
    maps = {}
    if basins:
        maps = {"group_id": [group] * 4, "map_key": ["k"] * 4, "ix": np.array([0, 0, 1, 1]),
                "iy": np.array([0, 1, 0, 1]), "basin": ["a", "b", "a", "global"],
                "final_loss": np.array([0.25, math.nan, 1e300, -0.0])}
    return GroupResult(group, runs, traces, basins=maps)


def _results() -> list[GroupResult]:
    return [
        _result("g1", 4, theta=True, basins=True),
        _result("g2", 3, seed=np.int64(7), lr=np.float64(0.1), ok=np.bool_(True)),  # NumPy scalars in the rows
        _result("g3", 2),
    ]


def _files(out) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name.split(".")[0] in
            ("runs", "traces", "basins")}


def _old_write_part(store: ResultStore, res: GroupResult) -> None:
    """What gdbench wrote before parts were JSON/npz: one table per part in the folder's format."""
    import hashlib

    store.parts.mkdir(parents=True, exist_ok=True)
    ids = [str(r["run_id"]) for r in res.runs]
    h = hashlib.sha256(",".join(sorted(ids)).encode()).hexdigest()[:8]
    traces = pd.DataFrame({k: np.asarray(v) for k, v in res.traces.items()})
    traces["run_id"] = traces["run_id"].astype(str)
    write_table(traces, store.parts / f"{res.group_id}.{h}.traces.{store.fmt}")
    if res.basins:
        write_table(pd.DataFrame(res.basins), store.parts / f"{res.group_id}.{h}.basins.{store.fmt}")
    write_table(pd.DataFrame(res.runs), store.parts / f"{res.group_id}.{h}.runs.{store.fmt}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_memory_disk_and_older_parts_consolidate_to_the_same_bytes(fmt, tmp_path):
    order = {f"g{g}-{i:03d}": k for k, (g, i) in enumerate((g, i) for g in (3, 1, 2) for i in range(4))}
    mem = ResultStore(tmp_path / "mem", fmt=fmt)
    for r in _results():
        mem.write_part(r)
    runs, traces = mem.consolidate(order)
    names = sorted(p.name for p in mem.parts.iterdir())
    assert [n.split(".", 2)[2] for n in names] == ["basins.npz", "runs.json", "traces.npz", "runs.json", "traces.npz",
                                                   "runs.json", "traces.npz"]
    # a second process (--resume) reads the same parts from disk
    disk = ResultStore(tmp_path / "disk", fmt=fmt)
    shutil.copytree(mem.parts, disk.parts)
    assert disk.finished_run_ids() == set(runs["run_id"])
    disk.consolidate(order)
    # a folder written by an older version (one table per part)
    old = ResultStore(tmp_path / "old", fmt=fmt)
    for r in _results():
        _old_write_part(old, r)
    assert old.finished_run_ids() == set(runs["run_id"])
    old.consolidate(order)
    want = _files(mem.out)
    assert set(want) == {f"runs.{fmt}", f"traces.{fmt}", f"basins.{fmt}"}
    assert _files(disk.out) == want
    assert _files(old.out) == want
    # what the rows hold came back: ordered by the plan, NumPy scalars as their values, inf/NaN kept
    assert list(runs["run_id"][:3]) == ["g3-000", "g3-001", "g1-000"]
    g2 = runs[runs["group_id"] == "g2"]
    assert (g2["seed"] == 7).all() and (g2["lr"] == 0.1).all() and g2["ok"].all()
    assert np.isinf(runs["time_to_1e-02"]).sum() == 4 and runs["noise"].isna().all()
    assert list(traces["run_id"].unique()) == list(runs["run_id"])
    assert traces["theta_0"].notna().sum() == 12


def test_a_mixed_runs_column_keeps_the_per_part_dtypes():
    """One frame from every row is only made when it equals the concatenation of one frame per
    part: a column that is None in one part and a float in another stays as concat makes it."""
    a = [_row(i, "a", note=None) for i in range(2)]
    b = [_row(i, "b", note=1.5) for i in range(2)]
    c = [_row(i, "c", seed=float(i)) for i in range(2)]  # int in one part, float in another
    for parts in ([a, b], [b, c], [a, c], [b]):
        want = pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(_runs_frame(parts), want, check_exact=True)
    assert _runs_frame([a, b])["note"].dtype == object  # as pd.concat makes it, not float64


@pytest.mark.parametrize("damage", [b"", b"[1, 2]", b'[{"run_id": "x"}', b"PK\x03\x04 not a zip"])
def test_a_damaged_part_is_set_aside(damage, tmp_path):
    st = ResultStore(tmp_path / "o", fmt="csv")
    for r in _results():
        st.write_part(r)
    victim = sorted(st.parts.glob("g2.*.runs.json"))[0]
    target = victim if not damage.startswith(b"PK") else victim.with_name(victim.name.replace(".runs.json",
                                                                                               ".traces.npz"))
    target.write_bytes(damage)
    logged = []
    ids = ResultStore(st.out, fmt="csv").finished_run_ids(logged.append)
    assert ids == {f"g1-{i:03d}" for i in range(4)} | {f"g3-{i:03d}" for i in range(2)}
    assert len(logged) == 1 and victim.name in logged[0]
    assert (st.parts / "damaged" / target.name).is_file()


def test_a_part_is_not_pickled(tmp_path):
    """Text columns are stored as unicode arrays: loading never unpickles (allow_pickle=False)."""
    st = ResultStore(tmp_path / "o", fmt="csv")
    res = _result("g", 2, basins=True)
    res.basins["basin"] = np.array(["a", None, "b", "c"], dtype=object)  # an object column
    st.write_part(res)
    back = read_part(next(st.parts.glob("*.basins.npz")))
    assert list(back["basin"]) == ["a", "None", "b", "c"]
    assert store_mod.PART_KINDS["npz"] == ("traces", "basins")
