"""``results/<suite>/`` on disk: atomic part files, consolidation, the folder lock.

Layout::

    results/<suite>/
      .lock                      pid + host of the run writing here (O_EXCL; a stale one is taken over)
      parts/<group>.<hash>.traces.npz    written first, atomically (temp file + rename)
      parts/<group>.<hash>.basins.npz    the group's basin map, when the suite asks for one
      parts/<group>.<hash>.runs.json     written second: its presence marks those runs finished
      runs.<ext>, traces.<ext>   consolidated tables (ext = parquet when pyarrow is present, else csv)
      basins.<ext>               consolidated basin maps (only when some group drew one)
      summary.md, meta.json, figures/*.png

Part files are internal and the same whatever the table format: the runs as JSON rows (floats
written by ``repr``, so they read back bit for bit; NaN and ±inf as JSON's ``NaN``/``Infinity``),
the traces and basin maps as NumPy ``.npz`` columns (no pickled objects). Parts of folders written
by older versions (``.runs.parquet``/``.runs.csv`` ...) are still read on ``--resume``.

A crash or Ctrl-C leaves only whole part files; ``--resume`` reads the finished run ids from
them and runs the rest. A part that cannot be read back (truncated by a full disk or a killed
copy, corrupt) is reported in one line and moved to ``parts/damaged/``; its runs count as not
finished, so ``--resume`` runs them again and nothing else is lost. Consolidation de-duplicates
by ``run_id``; the parts this process wrote are consolidated from memory (the same frames a read
of their files gives), the others are read from disk. The folder is probed for writing (and a
full disk reported in one line) before the first run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._sys import atomic_path
from .._sys import atomic_write_bytes as atomic_write_bytes
from .._sys import atomic_write_text as atomic_write_text
from ..errors import UserError
from .executors import GroupResult


def table_format() -> str:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "csv"
    return "parquet"


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` atomically as parquet or CSV (by the suffix of ``path``)."""
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, float_format="%.17g")


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    df = pd.read_csv(path, keep_default_na=False, na_values=["nan", "NaN", ""])
    for c in df.columns:  # strings that were empty come back as NaN: restore them
        if df[c].dtype == object or str(df[c].dtype).startswith("str"):
            df[c] = df[c].fillna("")
    return df


def find_table(out: Path, stem: str) -> Path | None:
    for ext in ("parquet", "csv"):
        p = out / f"{stem}.{ext}"
        if p.is_file():
            return p
    return None


class FolderLock:
    """``<out>/.lock`` created with O_EXCL holding pid + host; refuses a second concurrent run."""

    def __init__(self, out: Path) -> None:
        self.path = out / ".lock"
        self.token = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    held = json.loads(self.path.read_text(encoding="utf-8") or "{}")
                except (OSError, ValueError):
                    held = {}
                pid, host = held.get("pid"), held.get("host")
                if host == socket.gethostname() and isinstance(pid, int) and not self._alive(pid):
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()  # stale lock of a dead process on this host: take it over
                    continue
                raise UserError(
                    f"results folder {str(self.path.parent)!r} is in use by pid {pid} on {host} "
                    f"(since {held.get('started', '?')}); wait for that run to finish, use another --out, "
                    f"or delete {str(self.path)!r} if that process no longer exists"
                ) from None
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.token, f)
            return
        raise UserError(f"could not take the lock {str(self.path)!r}; retry")

    def release(self) -> None:
        try:
            if json.loads(self.path.read_text(encoding="utf-8")) == self.token:
                self.path.unlink()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class ResultStore:
    """Part files of one results folder."""

    def __init__(self, out: str | os.PathLike, fmt: str | None = None) -> None:
        self.out = Path(out)
        self.parts = self.out / "parts"
        self.fmt = fmt or table_format()
        #: parts written by this store: runs part name -> (rows, traces columns, basin map columns)
        self._mem: dict[str, tuple[list[dict[str, Any]], dict[str, np.ndarray], dict[str, np.ndarray] | None]] = {}

    def lock(self) -> FolderLock:
        return FolderLock(self.out)

    def _part_paths(self) -> Iterator[tuple[Path, Path | None]]:
        """(runs part, its traces part or None) of every finished part, sorted by name."""
        if not self.parts.is_dir():
            return
        for p in sorted(self.parts.glob("*.runs.*")):
            if p.name.startswith(".") or p.suffix[1:] not in PART_KINDS:
                continue
            t = _sibling(p, "traces")
            yield p, (t if t.is_file() else None)

    def finished_run_ids(self, log: Callable[[str], None] | None = None) -> set[str]:
        """Run ids of the readable part files. A damaged part (its runs or traces file cannot be
        read back, or they disagree) is reported through ``log`` and moved to ``parts/damaged/``:
        its runs are then simply not finished."""
        ids: set[str] = set()
        for rp, tp in self._part_paths():
            try:
                got = _read_part(rp, tp)
            except Exception as e:  # noqa: BLE001 - any unreadable part: set aside, re-run its runs
                moved = self._set_aside(rp, tp)
                if log is not None:
                    why = str(e).splitlines()[0] if str(e) else type(e).__name__
                    log(f"resume: damaged part file {rp.name} ({why[:160]}); moved to {moved}, its runs will be "
                        "run again")
                continue
            ids.update(got)
        return ids

    def _set_aside(self, *paths: Path | None) -> str:
        dest = self.parts / "damaged"
        dest.mkdir(exist_ok=True)
        for p in paths:
            if p is not None and p.exists():
                os.replace(p, dest / p.name)
        return str(dest)

    def check_writable(self) -> None:
        """Create the folder and write (then remove) a probe file: an unwritable place, a file in
        the way or a full disk fails here, before the first run, as one :class:`UserError`."""
        probe = self.out / f".write-probe-{os.getpid()}"
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(probe, b"\0" * PROBE_BYTES)
            probe.unlink()
        except OSError as e:
            raise UserError(f"cannot write results to {str(self.out)!r}: {os_reason(e)}; choose another --out"
                            + (" or free some space" if e.errno == errno.ENOSPC else "")) from None

    def write_part(self, res: GroupResult) -> None:
        """Write one finished group (or part of one) atomically: traces first, then runs. An OS
        error (a full disk) becomes one :class:`UserError`; the parts written before stay."""
        try:
            self._write_part(res)
        except OSError as e:
            raise UserError(f"cannot write results to {str(self.parts)!r}: {os_reason(e)}; the groups finished "
                            "before are saved: free some space and rerun with --resume") from None

    def _write_part(self, res: GroupResult) -> None:
        self.parts.mkdir(parents=True, exist_ok=True)
        ids = [str(r["run_id"]) for r in res.runs]
        stem = f"{res.group_id}.{hashlib.sha256(','.join(sorted(ids)).encode()).hexdigest()[:8]}"
        traces = _columns(res.traces)
        atomic_write_bytes(self.parts / f"{stem}.traces.npz", _npz_bytes(traces))
        maps = _columns(res.basins) if getattr(res, "basins", None) else None
        if maps:
            atomic_write_bytes(self.parts / f"{stem}.basins.npz", _npz_bytes(maps))
        data = encode_runs(res.runs)
        atomic_write_bytes(self.parts / f"{stem}.runs.json", data)
        # consolidate() takes this part from memory: exactly what reading its files gives back
        self._mem[f"{stem}.runs.json"] = (decode_runs(data), traces, maps)

    def _part_frames(self) -> Iterator[tuple[list[dict[str, Any]] | pd.DataFrame, pd.DataFrame | None,
                                             pd.DataFrame | None]]:
        """(runs rows, or an older part's frame; traces; basins) of every finished part, in name
        order; the parts this store wrote come from memory, the others are read from their files."""
        for rp, tp in self._part_paths():
            if rp.name in self._mem and tp is not None:
                rows, traces, maps = self._mem[rp.name]
                yield rows, _traces_frame(traces), pd.DataFrame(maps) if maps else None
                continue
            bp = _sibling(rp, "basins")
            yield (decode_runs(rp.read_bytes()) if rp.suffix == ".json" else read_part(rp),
                   read_part(tp) if tp is not None else None, read_part(bp) if bp.is_file() else None)

    def consolidate(self, order: dict[str, int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Merge every part into ``runs.<ext>`` and ``traces.<ext>`` (atomic rewrite), ordered by
        ``order`` (run_id -> position in the plan) and then by run_id; duplicates dropped."""
        runs_l, tr_l, maps = [], [], []
        for r, t, b in self._part_frames():
            runs_l.append(r)
            if t is not None:
                tr_l.append(t)
            if b is not None:
                maps.append(b)
        runs = _runs_frame(runs_l)
        traces = pd.concat(tr_l, ignore_index=True) if tr_l else pd.DataFrame()
        if not runs.empty:
            runs["run_id"] = runs["run_id"].astype(str)
            runs = runs.drop_duplicates("run_id", keep="first")
            order = order or {}
            big = len(order)
            runs["_o"] = [order.get(r, big) for r in runs["run_id"]]
            runs = runs.sort_values(["_o", "run_id"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
        if not traces.empty:
            traces["run_id"] = traces["run_id"].astype(str)
            # a restart writes a second record at the step it happens: records are (run, step, restarts)
            key = ["run_id", "step", *(["restarts"] if "restarts" in traces else [])]
            traces = traces.drop_duplicates(key, keep="first")
            at = pd.Index(runs["run_id"] if not runs.empty else []).get_indexer(traces["run_id"])
            traces["_o"] = np.where(at < 0, len(runs), at)  # position of the run; unknown runs last
            traces = traces.sort_values(["_o", "step"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
        self.out.mkdir(parents=True, exist_ok=True)
        self._consolidate_basins(maps)
        for stem, df in (("runs", runs), ("traces", traces)):
            for other in ("parquet", "csv"):
                if other != self.fmt:
                    with contextlib.suppress(FileNotFoundError):
                        (self.out / f"{stem}.{other}").unlink()
            write_table(df, self.out / f"{stem}.{self.fmt}")
        return runs, traces

    def _consolidate_basins(self, maps: list[pd.DataFrame]) -> None:
        """``basins.<ext>``: the basin maps of the finished groups (removed when there are none)."""
        for ext in ("parquet", "csv"):
            if not maps or ext != self.fmt:
                with contextlib.suppress(FileNotFoundError):
                    (self.out / f"basins.{ext}").unlink()
        if maps:
            df = pd.concat(maps, ignore_index=True).drop_duplicates(["group_id", "map_key", "ix", "iy"], keep="first")
            write_table(df.reset_index(drop=True), self.out / f"basins.{self.fmt}")


#: part files: ``<group>.<hash>.<kind>.<suffix>``; suffixes of older versions' parts are read too
PART_KINDS = {"json": ("runs",), "npz": ("traces", "basins"), "parquet": (), "csv": ()}


def _sibling(runs_part: Path, kind: str) -> Path:
    """The ``traces`` or ``basins`` part beside a runs part (same stem, its format's suffix)."""
    stem = runs_part.name[: -len(".runs" + runs_part.suffix)]
    suffix = ".npz" if runs_part.suffix == ".json" else runs_part.suffix
    return runs_part.with_name(f"{stem}.{kind}{suffix}")


def _plain(x: Any) -> Any:
    """JSON for the NumPy scalars a runs row may hold."""
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"a runs column holds a {type(x).__name__}, which a part file cannot store")


def encode_runs(rows: list[dict[str, Any]]) -> bytes:
    """A runs part: the rows as JSON (floats by ``repr``: they read back bit for bit)."""
    return json.dumps(rows, default=_plain, separators=(",", ":")).encode("utf-8")


def decode_runs(data: bytes) -> list[dict[str, Any]]:
    rows = json.loads(data)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("not a list of runs")
    return rows


def _runs_frame(parts: list[list[dict[str, Any]] | pd.DataFrame]) -> pd.DataFrame:
    """The parts' runs as one frame, as ``pd.concat`` of one frame per part makes it. When every
    row has the same columns and each column one JSON type (int, float, str or bool: what a part
    frame infers the same dtype from whatever its rows), the rows make one frame at once (15x
    faster on the quick suite's 42 parts)."""
    if not parts:
        return pd.DataFrame()
    if all(isinstance(p, list) for p in parts):
        rows = [r for p in parts for r in p]
        if rows and _uniform(rows):
            return pd.DataFrame(rows)
    return pd.concat([p if isinstance(p, pd.DataFrame) else pd.DataFrame(p) for p in parts], ignore_index=True)


def _uniform(rows: list[dict[str, Any]]) -> bool:
    keys = list(rows[0])
    first = [type(rows[0][k]) for k in keys]
    if any(t not in (int, float, str, bool) for t in first):
        return False
    for r in rows:
        if list(r) != keys or any(type(v) is not t for v, t in zip(r.values(), first, strict=True)):
            return False
    return True


def _columns(cols: dict[str, Any]) -> dict[str, np.ndarray]:
    """Columns as NumPy arrays that ``.npz`` stores without pickling (text as unicode arrays)."""
    out = {}
    for k, v in cols.items():
        a = np.asarray(v)
        out[k] = a.astype(str) if a.dtype == object else a
    return out


def _npz_bytes(cols: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **cols)
    return buf.getvalue()


def _traces_frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    df = pd.DataFrame(cols)
    if "run_id" in df:
        df["run_id"] = df["run_id"].astype(str)
    return df


def read_part(path: Path) -> pd.DataFrame:
    """One part file as a frame: runs (``.json``), traces or a basin map (``.npz``), or an older
    version's table (``.parquet``/``.csv``). Raises on a damaged file."""
    if path.suffix == ".json":
        return pd.DataFrame(decode_runs(path.read_bytes()))
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            cols = {k: z[k] for k in z.files}
        return _traces_frame(cols) if ".traces." in path.name else pd.DataFrame(cols)
    return read_table(path)


#: bytes of the probe file written by :meth:`ResultStore.check_writable`
PROBE_BYTES = 64 << 10


def os_reason(e: OSError) -> str:
    """``No space left on device``-style text of an OS error."""
    return e.strerror or str(e) or type(e).__name__


def _read_part(runs_path: Path, traces_path: Path | None) -> set[str]:
    """The run ids of one part; raises when either file is unreadable or they do not match."""
    if traces_path is None:
        raise ValueError("its traces file is missing")
    ids = set(read_part(runs_path)["run_id"].astype(str))
    if not ids:
        raise ValueError("no runs in it")
    traced = set(read_part(traces_path)["run_id"].astype(str))
    if not traced <= ids:
        raise ValueError("its traces name runs that are not in its runs file")
    return ids


def load_results(out: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(runs, traces, meta) of a results folder; ValueError when it holds none."""
    out = Path(out)
    rp = find_table(out, "runs")
    if rp is None:
        raise ValueError(f"{str(out)!r} holds no runs table (runs.parquet or runs.csv); run `gdbench run` first")
    tp = find_table(out, "traces")
    try:
        runs = read_table(rp)
        traces = read_table(tp) if tp is not None else pd.DataFrame()
    except Exception as e:  # noqa: BLE001 - a damaged table: one line naming it
        raise ValueError(f"cannot read the results in {str(out)!r} ({str(e).splitlines()[0][:160]}); "
                         "rerun the suite (or `gdbench run --resume` to consolidate its part files again)") from None
    meta_p = out / "meta.json"
    try:
        meta = json.loads(meta_p.read_text(encoding="utf-8")) if meta_p.is_file() else {}
    except (OSError, ValueError) as e:
        raise ValueError(f"{str(meta_p)!r} is not valid JSON ({e})") from None
    return runs, traces, meta
