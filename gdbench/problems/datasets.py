"""Seeded synthetic data, the classic tutorial data sets, and loaders for real data.

Every generator is deterministic in its ``seed``. Real data comes from CSV/NPZ files or from
the small data sets scikit-learn ships (no download at run time).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..resources import check_data_size


def _scales(d: int, cond: float) -> np.ndarray:
    """Column scales so that the feature covariance has condition number ``cond``."""
    if cond < 1:
        raise ValueError(f"cond must be >= 1, got {cond!r}")
    return np.logspace(0.0, -0.5 * np.log10(cond), d) if d > 1 else np.ones(1)


def make_regression(n: int = 1000, d: int = 10, *, cond: float = 1.0, noise: float = 0.1, seed: int = 0):
    """Linear-model data y = X·w + b + noise·ε with feature covariance of condition ``cond``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * _scales(d, cond)
    w = rng.standard_normal(d)
    b = rng.standard_normal()
    y = X @ w + b + noise * rng.standard_normal(n)
    return X, y


def make_classification(
    n: int = 1000, d: int = 10, *, cond: float = 1.0, separation: float = 1.0, flip: float = 0.05, seed: int = 0
):
    """Labels ±1 from a random hyperplane; ``separation`` scales the margin, ``flip`` is label noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * _scales(d, cond)
    w = rng.standard_normal(d)
    w *= separation / np.linalg.norm(w)
    z = X @ w + 0.1 * rng.standard_normal()
    y = np.where(z + 0.3 * rng.standard_normal(n) >= 0, 1.0, -1.0)
    flip_mask = rng.random(n) < flip
    y[flip_mask] = -y[flip_mask]
    if np.all(y == y[0]):
        y[0] = -y[0]
    return X, y


def tutorial_two_feature(n: int = 1000, *, seed: int = 0):
    """The classic two-feature regression: true weights (1.3, −1), bias −3.5, unit noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = X @ np.array([1.3, -1.0]) - 3.5 + rng.standard_normal(n)
    return X, y


def five_point():
    """The five-point tutorial data set: x = 1..5, y = (2, 4, 5, 4, 5)."""
    return np.arange(1.0, 6.0).reshape(5, 1), np.array([2.0, 4.0, 5.0, 4.0, 5.0])


SKLEARN_SETS = {
    "diabetes": "regression",
    "breast_cancer": "classification",
    "iris": "classification",
    "wine": "classification",
    "digits": "classification",
}


def load_sklearn(name: str, *, standardize: bool = True):
    """A data set scikit-learn ships; classification labels become ±1 (class 0 vs the rest)."""
    if name not in SKLEARN_SETS:
        raise ValueError(f"unknown scikit-learn data set {name!r}; allowed: {', '.join(SKLEARN_SETS)}")
    try:
        from sklearn import datasets as skd
    except ImportError:
        raise ValueError(
            f"data set 'sklearn:{name}' needs scikit-learn; install it (pip install scikit-learn)"
        ) from None
    X, y = getattr(skd, f"load_{name}")(return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if SKLEARN_SETS[name] == "classification":
        y = np.where(y == 0, 1.0, -1.0)
    if standardize:
        X = standardize_columns(X)
    return X, y


def standardize_columns(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    return (X - X.mean(axis=0)) / sd


def load_file(path: str | os.PathLike, target: str | int, *, standardize: bool = False):
    """Read X, y from a CSV (header row; ``target`` names a column) or NPZ (arrays ``X`` and ``y``,
    or ``target`` names the y array). ValueError names the file and what is wrong."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data file {str(p)!r} does not exist")
    if p.suffix.lower() == ".npz":
        try:
            with np.load(p) as z:
                ykey = target if isinstance(target, str) and target in z else "y"
                if "X" not in z or ykey not in z:
                    raise ValueError(f"needs arrays 'X' and {ykey!r}; found {', '.join(z.files) or 'none'}")
                X, y = np.asarray(z["X"]), np.asarray(z[ykey])
        except Exception as e:  # noqa: BLE001 - not a zip, a pickled object array, ...: one readable line
            raise ValueError(f"data file {str(p)!r}: cannot read as NPZ ({_one_line(e)})") from None
    elif p.suffix.lower() in (".csv", ".txt"):
        X, y = _read_csv(p, target)
    else:
        raise ValueError(f"data file {str(p)!r}: unsupported type {p.suffix!r}; allowed: .csv, .npz")
    try:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).reshape(-1)
        if y.dtype.kind in "biuf":
            y = y.astype(np.float64)
        elif y.dtype.kind != "O":  # class names (text) stay as they are: labels are mapped later
            y = y.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"data file {str(p)!r}: arrays must be numeric ({_one_line(e)})") from None
    if not np.isfinite(X).all() or (y.dtype.kind == "f" and not np.isfinite(y).all()):
        raise ValueError(f"data file {str(p)!r}: contains NaN or Inf values")
    if standardize:
        X = standardize_columns(X)
    return X, y


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _read_csv(p: Path, target: str | int) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a CSV with a header row; ValueError (one line) names the file and what is wrong:
    an empty file, a repeated column name, a ragged row, a non-numeric column, no data rows."""
    import csv

    import pandas as pd

    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"data file {str(p)!r}: cannot read as CSV text ({_one_line(e)})") from None
    if not header or not any(h.strip() for h in header):
        raise ValueError(f"data file {str(p)!r}: empty; a CSV needs a header row and data rows")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise ValueError(f"data file {str(p)!r}: column name {dup[0]!r} appears more than once in the header")
    try:
        df = pd.read_csv(p, encoding="utf-8-sig")
    except Exception as e:  # noqa: BLE001 - any parse error becomes one readable line
        raise ValueError(f"data file {str(p)!r}: cannot parse as CSV ({_one_line(e)})") from None
    if len(df) == 0:
        raise ValueError(f"data file {str(p)!r}: no data rows after the header")
    if target not in df.columns:
        cols = ", ".join(map(repr, df.columns))
        raise ValueError(f"data file {str(p)!r}: no target column {target!r}; columns: {cols}")
    for c in df.columns:
        if c != target and (not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            raise ValueError(f"data file {str(p)!r}: column {c!r} is not numeric")
    # a non-numeric target stays as text: classification maps two class names to -1/+1
    numeric_y = pd.api.types.is_numeric_dtype(df[target]) and not pd.api.types.is_bool_dtype(df[target])
    y = df[target].to_numpy(dtype=np.float64 if numeric_y else object, copy=True)
    X = df.drop(columns=[target]).to_numpy(dtype=np.float64, copy=True)
    return X, y


def resolve_data(
    problem: str,
    task: str,
    *,
    X=None,
    y=None,
    data: str = "synthetic",
    n: int = 1000,
    d: int = 10,
    cond: float = 1.0,
    noise: float = 0.1,
    separation: float = 1.0,
    flip: float = 0.05,
    seed: int = 0,
    target: str | int = "y",
    standardize: bool | None = None,
):
    """(X, y) for a data problem from explicit arrays, a generator, scikit-learn or a file.

    ``data`` is ``"synthetic"`` (default; ``task`` picks regression or ±1 classification),
    ``"tutorial_two_feature"``, ``"five_point"``, ``"sklearn:NAME"``, or a ``.csv``/``.npz`` path.
    """
    if X is not None or y is not None:
        if X is None or y is None:
            raise ValueError(f"problem {problem!r}: give both X and y, or neither")
        return X, y
    if not isinstance(data, str):
        raise ValueError(f"problem {problem!r}: data must be a string, got {data!r}")
    if data == "synthetic":
        for name, v in (("n", n), ("d", d)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"problem {problem!r}: {name} must be an integer >= 1, got {v!r}")
        check_data_size(problem, int(n), int(d))  # issue 13: size limit before the data is generated
        if task == "regression":
            return make_regression(int(n), int(d), cond=cond, noise=noise, seed=seed)
        return make_classification(int(n), int(d), cond=cond, separation=separation, flip=flip, seed=seed)
    if data == "tutorial_two_feature":
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"problem {problem!r}: n must be an integer >= 1, got {n!r}")
        check_data_size(problem, int(n), 2)
        return tutorial_two_feature(int(n), seed=seed)
    if data == "five_point":
        return five_point()
    if data.startswith("sklearn:"):
        return load_sklearn(data.split(":", 1)[1], standardize=True if standardize is None else standardize)
    if data.lower().endswith((".csv", ".npz", ".txt")):
        return load_file(data, target, standardize=bool(standardize))
    raise ValueError(
        f"problem {problem!r}: unknown data {data!r}; allowed: synthetic, tutorial_two_feature, five_point, "
        f"sklearn:<{'|'.join(SKLEARN_SETS)}>, or a .csv/.npz path"
    )
