"""Run groups on a ``dask.distributed`` cluster: ``gdbench run SUITE --executor dask``.

One task per group (one (problem, optimizer) pair with its whole grid), so each worker compiles
a pair once and the problem's data is built on the worker from its spec, never shipped through
the scheduler. Results are yielded in completion order (:func:`distributed.as_completed`) and
written by the harness as they arrive.

Robustness:

- a task that *raises* is retried ``retries`` times (``client.submit(..., retries=2)``);
- a task whose *worker dies* (OOM, SIGKILL, lost node) is rescheduled by the scheduler on another
  worker, up to ``distributed.scheduler.allowed-failures`` times (default 3) before it is
  reported as ``KilledWorker``;
- a client that dies loses nothing already written: ``gdbench run --resume`` submits only the
  groups whose runs are not on disk.

Workers run with one numba thread each (``numba_threads``): a task whose ``threads`` is None is
sent with ``threads=numba_threads`` (the sweep then runs in the task's own thread), and the task
calls ``numba.set_num_threads`` in that thread (numba's setting is per thread), so the result is
the same on a cluster started by someone else. ``NUMBA_NUM_THREADS`` itself is never changed in a
worker: once numba is imported and its thread pool started, a changed value makes numba's next
compilation raise ("Cannot set NUMBA_NUM_THREADS to a different value once the threads have been
launched"), and a worker may well have imported numba before the first task arrives. The on-disk kernel cache
(``GDBENCH_CACHE_DIR``: the generated drivers and numba's compiled code next to them; and
``NUMBA_CACHE_DIR`` when the client sets it) is the client's folder on every worker that can
write to it (a LocalCluster always; a cluster on a shared file system), so a pair compiled once
is loaded by every worker; a worker that cannot write there keeps its own cache.

Same code everywhere: a task names ``gdbench.harness.worker.run_group`` by reference, so a
worker must run the client's gdbench. The executor asks every worker for its
:func:`fingerprint` (version + a hash of the package's source files, computed once per process)
when it connects, and every task checks it again on its worker (workers may join later); a
mismatch is refused with one line naming both versions.

Dask is an optional extra (``pip install 'gdbench[dask]'``); this module imports it lazily.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

INSTALL_HINT = "the dask executor needs dask.distributed; install it with: pip install 'gdbench[dask]'"



def _import_distributed():
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - exercised without the extra installed
        raise ValueError(f"{INSTALL_HINT} ({e})") from None
    return distributed


#: BLAS thread variables dask sets to 1 in every worker (and in this process) by default.
_BLAS_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _pre_spawn_environ() -> dict[str, Any]:
    """dask's ``distributed.nanny.pre-spawn-environ`` without its BLAS thread settings, so a
    LocalCluster's workers run BLAS as this process and the other executors do: some problems'
    reference optima are LAPACK solves whose last bits depend on the BLAS thread count, and the
    runs table must be identical to a local run's. (dask also writes these variables into the
    client's own environment, which later spawned processes would inherit.)"""
    import dask

    pre = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    for k in _BLAS_VARS:
        pre.pop(k, None)
        if k in os.environ:
            pre[k] = os.environ[k]
    return pre


def _default_cache_dir() -> str:
    from ..kernels.codegen import cache_dir

    return str(cache_dir().parent)


#: Environment variables naming cache folders: applied on a worker only where it can write them.
_CACHE_VARS = ("GDBENCH_CACHE_DIR", "NUMBA_CACHE_DIR")
_writable_seen: dict[str, bool] = {}


def _writable(path: str) -> bool:
    """Can this process create files in ``path``? (probed once per process and path)"""
    ok = _writable_seen.get(path)
    if ok is None:
        ok = _writable_seen[path] = _probe_writable(path)
    return ok


def _probe_writable(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".probe-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
        return True
    except OSError:
        return False


@functools.cache
def fingerprint() -> tuple[str, str]:
    """(gdbench version, first 12 hex digits of a SHA-256 over the package's ``.py`` files) of
    this process; computed once per process."""
    from pathlib import Path

    import gdbench

    root = Path(gdbench.__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return gdbench.__version__, h.hexdigest()[:12]


def worker_fingerprint() -> tuple[str, str]:
    """What a worker reports (run there by ``client.run`` and by every task)."""
    return fingerprint()


class VersionMismatch(ValueError):
    """A Dask worker runs another gdbench (version or sources) than the client."""


def _mismatch(worker: str, theirs: Any, mine: tuple[str, str]) -> VersionMismatch:
    def show(fp: Any) -> str:
        return f"gdbench {fp[0]} (sources {fp[1]})" if isinstance(fp, (tuple, list)) and len(fp) == 2 else repr(fp)

    return VersionMismatch(f"Dask worker {worker} runs {show(theirs)} but this client runs {show(mine)}; install the "
                           "same gdbench on every worker (same version and source files)")


def run_on_worker(fn: Callable[[Any], Any], task: Any, env: dict[str, str], numba_threads: int | None,
                  expected: tuple[str, str] | None = None) -> Any:
    """The function every Dask task runs: set up the worker, then ``fn(task)``.

    Module-level (pickled by reference). ``expected`` is the client's :func:`fingerprint`: a
    worker with another one refuses the task. ``env`` is applied to ``os.environ`` (cache
    folders, gdbench settings; never ``NUMBA_NUM_THREADS``, see the module docstring); numba's
    thread count is set in this thread, where the task runs.
    """
    if expected is not None and tuple(worker_fingerprint()) != tuple(expected):
        import socket

        raise _mismatch(socket.gethostname(), worker_fingerprint(), tuple(expected))
    for k, v in env.items():
        if os.environ.get(k) == v:
            continue
        if k == "NUMBA_NUM_THREADS":
            continue
        if k in _CACHE_VARS and not _writable(v):
            continue  # not on a file system this worker can write: it keeps its own cache
        os.environ[k] = v
    if numba_threads is not None:
        import numba

        numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
    return fn(task)


class DaskExecutor:
    """Executor on a ``dask.distributed`` cluster.

    ``scheduler``: address of a running scheduler (``tcp://host:8786``), or None to start a
    ``LocalCluster`` of ``workers`` worker processes (default: the cores this process may use)
    with ``threads_per_worker`` threads each. ``numba_threads`` (default 1) is each task's numba
    thread count; None leaves the workers' setting alone. ``cache_dir`` is the kernel cache
    shared with the workers (default: this process's ``GDBENCH_CACHE_DIR`` or
    ``~/.cache/gdbench``; ``False`` never shares). ``retries`` re-runs a task that raised.
    ``key_prefix`` names the tasks on the dashboard: ``<prefix><group id>-<session>``.

    ``map_unordered(fn, tasks)`` submits one task per item and yields ``fn(task)`` as each
    completes; ``close()`` shuts down what this executor started (the LocalCluster and its
    client; a client connected to an external scheduler is only disconnected).
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        threads_per_worker: int = 1,
        numba_threads: int | None = 1,
        cache_dir: str | os.PathLike | bool | None = None,
        retries: int = 2,
        key_prefix: str = "gdbench-",
        timeout: float = 30.0,
        **cluster_kwargs: Any,
    ) -> None:
        distributed = _import_distributed()
        import dask

        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
        if not isinstance(threads_per_worker, int) or threads_per_worker < 1:
            raise ValueError(f"threads_per_worker must be an integer >= 1, got {threads_per_worker!r}")
        if numba_threads is not None and (not isinstance(numba_threads, int) or numba_threads < 1):
            raise ValueError(f"numba_threads must be an integer >= 1 or None, got {numba_threads!r}")
        self.scheduler = scheduler
        self.retries = int(retries)
        self.numba_threads = numba_threads
        self.key_prefix = key_prefix
        self._session = uuid.uuid4().hex[:8]
        self._calls = 0
        self._cluster = None
        self._client = None

        env: dict[str, str] = {}  # applied by every task (run_on_worker)
        if cache_dir is not False:
            cdir = _default_cache_dir() if cache_dir in (None, True) else os.fspath(cache_dir)
            env["GDBENCH_CACHE_DIR"] = os.path.abspath(cdir)
            if os.environ.get("NUMBA_CACHE_DIR"):  # numba's own cache, when the client moved it
                env["NUMBA_CACHE_DIR"] = os.path.abspath(os.environ["NUMBA_CACHE_DIR"])
        for k, v in os.environ.items():  # gdbench settings (e.g. GDBENCH_FASTMATH) must match the client's
            if k.startswith("GDBENCH_") and k not in env and k != "GDBENCH_CACHE_DIR":
                env[k] = v

        try:
            if scheduler is None:
                n = workers if workers is not None else _usable_cores()
                cluster_kwargs.setdefault("dashboard_address", None)
                cluster_kwargs.setdefault("silence_logs", logging.ERROR)
                with dask.config.set({"distributed.nanny.pre-spawn-environ": _pre_spawn_environ()}):
                    self._cluster = distributed.LocalCluster(
                        n_workers=n, threads_per_worker=threads_per_worker, processes=True, env=env,
                        **cluster_kwargs,
                    )
                self._client = distributed.Client(self._cluster, timeout=timeout, set_as_default=False)
            else:
                try:
                    self._client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
                except OSError as e:
                    raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r}: {e}") from None
                if workers is not None:
                    try:
                        self._client.wait_for_workers(workers, timeout=timeout)
                    except TimeoutError:
                        raise ValueError(f"--workers {workers}: only {self.worker_count()} worker(s) joined the "
                                         f"scheduler at {scheduler!r} within {timeout:g} s") from None
            self._check_versions()
        except BaseException:
            self.close()
            raise
        self.env = env

    def _check_versions(self) -> None:
        """Refuse a cluster with a worker whose :func:`fingerprint` differs from this process's."""
        from ..errors import UserError

        mine = fingerprint()
        self.fingerprint = mine
        try:
            theirs = self._client.run(worker_fingerprint)
        except Exception as e:  # noqa: BLE001 - e.g. a worker whose gdbench lacks worker_fingerprint
            raise UserError(f"could not ask the Dask workers for their gdbench version ({type(e).__name__}: "
                            f"{str(e)[:160]}); install gdbench {mine[0]} (sources {mine[1]}) on every worker") from None
        for addr, fp in sorted(theirs.items()):
            if tuple(fp) != mine:
                raise UserError(str(_mismatch(addr, fp, mine))) from None

    # -- introspection -------------------------------------------------------------------
    @property
    def client(self):
        return self._client

    def worker_count(self) -> int:
        return len(self._client.scheduler_info(n_workers=-1)["workers"]) if self._client else 0

    def __repr__(self) -> str:
        where = self.scheduler or "LocalCluster"
        return f"DaskExecutor({where}, workers={self.worker_count()})"

    # -- executor interface --------------------------------------------------------------
    def task_key(self, task: Any, index: int, batch: str = "") -> str:
        """A readable, unique task key: the group's stable id (``task.group_id`` / ``task.key``
        when the task has one), then this executor's session and the ``map_unordered`` call,
        so two runs on one scheduler, or a resubmission after a cancel, never share a key."""
        gid = None
        for attr in ("group_id", "key", "id"):
            gid = getattr(task, attr, None)
            if gid is not None:
                break
        gid = str(index) if gid is None else str(gid)
        return f"{self.key_prefix}{gid}-{self._session}{batch}"

    def _with_threads(self, task: Any) -> Any:
        """``task`` with ``threads=numba_threads`` when it is a dataclass whose ``threads`` is None
        (a suite's explicit ``threads`` wins)."""
        if self.numba_threads is None or getattr(task, "threads", 0) is not None:
            return task
        if dataclasses.is_dataclass(task) and not isinstance(task, type):
            return dataclasses.replace(task, threads=self.numba_threads)
        return task

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in completion order.

        A task that still fails after its retries (or whose workers keep dying) raises here,
        after the results completed before it were yielded; closing the generator early (the
        consumer stops, Ctrl-C) cancels the tasks not yet finished.
        """
        distributed = _import_distributed()
        if self._client is None:
            raise RuntimeError("DaskExecutor is closed")
        futures = []
        seen: set[str] = set()
        self._calls += 1
        batch = f".{self._calls}"
        for i, task in enumerate(tasks):
            task = self._with_threads(task)
            key = self.task_key(task, i, batch)
            if key in seen:
                key = f"{key}-{i}"
            seen.add(key)
            futures.append(
                self._client.submit(
                    run_on_worker, fn, task, self.env, self.numba_threads, self.fingerprint, key=key, pure=False,
                    retries=self.retries,
                )
            )
        if not futures:
            return
        pending = set(futures)
        try:
            # with_results: results are fetched on the client's event loop as tasks finish, not
            # one blocking round trip per task here
            done = distributed.as_completed(futures, loop=self._client.loop, with_results=True)
            del futures
            for fut, result in _explain_killed_worker(done):
                pending.discard(fut)
                status = fut.status
                fut.release()
                if status == "cancelled":
                    raise RuntimeError(f"Dask task {fut.key} was cancelled on the cluster") from result
                yield result
        finally:
            if pending:
                self._client.cancel(list(pending))

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            try:
                client.close()
            except Exception:  # pragma: no cover - best effort on shutdown
                pass
        if cluster is not None:
            try:
                cluster.close()
            except Exception:  # pragma: no cover
                pass

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _explain_killed_worker(it: Iterator[Any]) -> Iterator[Any]:
    """Re-raise dask's ``KilledWorker`` (a task whose workers kept dying: out of memory, a crash
    in compiled code) as one readable line; the groups finished before it are already saved."""
    from distributed.scheduler import KilledWorker

    try:
        yield from it
    except KilledWorker as e:
        from ..errors import UserError

        task = e.args[0] if e.args else "?"
        tries = e.args[2] + 1 if len(e.args) > 2 and isinstance(e.args[2], int) else "several"
        raise UserError(
            f"Dask task {task!r} was started on {tries} workers and each died while running it (out of memory, "
            "or a crash in compiled code?); the finished runs are saved: fix the cause and rerun with --resume"
        ) from None


def _usable_cores() -> int:
    from .._sys import usable_cores

    return usable_cores()
