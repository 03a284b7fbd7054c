"""Fuzzing data files: random CSV text and NPZ archives either load or raise one ValueError line.

Plus one named test per classic mistake (ragged CSV, text in a numeric column, an empty file,
one row, a constant column, a duplicated header, a header without rows). Profiles and budget:
``tests/fuzz_profiles.py``.
"""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from fuzz_profiles import DEADLINE_MS, apply_profile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gdbench

apply_profile()
_TMP = Path(tempfile.mkdtemp(prefix="gdbench-fuzz-data-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)  # (made at import: gone at exit)

cell = st.one_of(st.integers(-5, 5).map(str), st.floats(-10, 10).map(repr), st.sampled_from(
    ["", "nan", "inf", "-inf", "x", "1e400", " 3 ", "1,5", '"2"', "true", "1e-320", "-1", "+1"]), st.text(max_size=4))
header_name = st.one_of(st.sampled_from(["a", "b", "y", "y", "", " ", "ü", "a.1"]), st.text(max_size=5))


@st.composite
def csv_text(draw) -> str:
    header = draw(st.lists(header_name, min_size=0, max_size=4))
    if draw(st.booleans()):
        header = [*header, "y"]
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 1), max_size=6))
    sep = draw(st.sampled_from([",", ",", ";"]))
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


def _load(problem: str, path: Path, target: object = "y") -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate data warns (an infimum not attained): fine
        try:
            p = gdbench.problems.make(problem, data=str(path), target=target)
        except ValueError as e:
            msg = str(e)
            assert "\n" not in msg and msg, msg
            event(f"ValueError: {msg.split(': ', 1)[-1][:30]}")
            return
    assert np.isfinite(p.f_star) and np.isfinite(p.X).all() and p.X.shape[0] >= 1
    event(f"loaded {problem}")


@st.composite
def numeric_csv(draw) -> str:
    """Well-formed numeric CSVs (labels ±1 or any), sometimes with one bad cell."""
    d = draw(st.integers(1, 3))
    n = draw(st.integers(1, 8))
    labels = draw(st.booleans())
    num = st.floats(-1e3, 1e3, allow_nan=False)
    rows = [[repr(draw(num)) for _ in range(d)] + [draw(st.sampled_from(["1", "-1"])) if labels else repr(draw(num))]
            for _ in range(n)]
    if draw(st.booleans()):  # a constant or duplicated column
        j = draw(st.integers(0, d - 1))
        for r in rows:
            r[j] = r[0] if draw(st.booleans()) else "7"
    if draw(st.integers(0, 3)) == 0:
        rows[draw(st.integers(0, n - 1))][draw(st.integers(0, d))] = draw(cell)
    return "\n".join([",".join([*(f"x{j}" for j in range(d)), "y"])] + [",".join(r) for r in rows]) + "\n"


@settings(deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(csv_text(), numeric_csv(), numeric_csv()), st.sampled_from(["linreg", "logistic", "hinge"]),
       st.sampled_from(["y", "y", "a", 0, "zz"]))
def test_random_csv_loads_or_one_value_error(text, problem, target):
    path = _TMP / "fuzz.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load(problem, path, target)


arrays = st.one_of(
    st.lists(st.lists(st.floats(-5, 5), min_size=1, max_size=3), min_size=1, max_size=5).map(
        lambda r: np.array([x + [0.0] * (3 - len(x)) for x in r])),
    st.lists(st.floats(), max_size=5).map(np.array),
    st.sampled_from([np.zeros((0, 2)), np.ones((3, 0)), np.array(["a", "b"]), np.array([[1.0, np.nan]]),
                     np.ones((2, 2, 2)), np.array([1, -1, 1])]),
)


@settings(deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["X", "y", "labels", "w"]), arrays, max_size=3),
       st.sampled_from(["linreg", "logistic"]), st.booleans())
def test_random_npz_loads_or_one_value_error(content, problem, corrupt):
    path = _TMP / "fuzz.npz"
    buf = io.BytesIO()
    np.savez(buf, **content)
    data = buf.getvalue()
    path.write_bytes(data[: len(data) // 2] if corrupt else data)
    _load(problem, path, "labels")


# -- the classic mistakes, one by one -------------------------------------------------------------

CASES = {
    "ragged": ("a,b,y\n1,2,3\n4,5,6,7\n", "cannot parse as CSV"),
    "text_in_numeric_column": ("a,b,y\n1,x,3\n4,5,6\n", "column 'b' is not numeric"),
    "empty_file": ("", "empty"),
    "header_only": ("a,b,y\n", "no data rows"),
    "duplicate_header": ("a,a,y\n1,2,3\n2,5,4\n3,1,7\n", "column name 'a' appears more than once"),
    "missing_target": ("a,b\n1,2\n", "no target column 'y'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_csv_is_one_line(case, tmp_path):
    text, want = CASES[case]
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(ValueError) as e:
        gdbench.problems.make("linreg", data=str(tmp_path / "d.csv"), target="y")
    assert want in str(e.value) and "\n" not in str(e.value) and "d.csv" in str(e.value)


@pytest.mark.parametrize("case", ["one_row", "constant_column"])
def test_degenerate_csv_has_an_exact_optimum(case, tmp_path):
    text = {"one_row": "a,b,y\n1,2,3\n", "constant_column": "a,b,y\n1,5,3\n2,5,4\n3,5,7\n"}[case]
    (tmp_path / "d.csv").write_text(text)
    p = gdbench.problems.make("linreg", data=str(tmp_path / "d.csv"), target="y")
    A = np.c_[p.X, np.ones(p.n)]
    x_ls = np.linalg.lstsq(A, p.y, rcond=None)[0]
    assert p.x_star is None and p.f_star == pytest.approx(np.mean((A @ x_ls - p.y) ** 2), abs=1e-12)
