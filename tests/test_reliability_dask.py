"""A Dask worker running another gdbench (version or kernel sources) is refused in one line.

The worker side is faked on a real LocalCluster: ``client.run`` replaces the workers'
:func:`~gdbench.harness.dask_executor.fingerprint`, as if another gdbench were installed there.
"""

from __future__ import annotations

import sys

import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (installed with distributed)

from gdbench.errors import UserError  # noqa: E402
from gdbench.harness import dask_executor  # noqa: E402
from gdbench.harness.dask_executor import DaskExecutor, VersionMismatch, fingerprint  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])
FAKE = ("0.0.1-other", "0123456789ab")


def _pretend_other_gdbench():
    from gdbench.harness import dask_executor as de

    de.fingerprint = lambda: FAKE


def _square(x):
    return x * x


def test_fingerprint_is_version_and_source_hash():
    import gdbench

    v, h = fingerprint()
    assert v == gdbench.__version__ and len(h) == 12 and fingerprint() == (v, h)


def test_worker_with_another_gdbench_is_refused():
    ex = DaskExecutor(workers=1, retries=0)
    try:
        assert list(ex.map_unordered(_square, [3])) == [9]  # same gdbench: runs
        addr = ex.client.scheduler.address
        ex.client.run(_pretend_other_gdbench)
        # a new client on that cluster: refused when it connects, both versions named
        with pytest.raises(UserError) as e:
            DaskExecutor(scheduler=addr)
        msg = str(e.value)
        assert "\n" not in msg and "gdbench 0.0.1-other (sources 0123456789ab)" in msg
        assert f"gdbench {fingerprint()[0]} (sources {fingerprint()[1]})" in msg
        # a worker that changed after the client connected: refused by the task itself
        with pytest.raises(VersionMismatch, match="0.0.1-other"):
            list(ex.map_unordered(_square, [4]))
    finally:
        ex.close()
    assert dask_executor.fingerprint() != FAKE  # the client process was never touched
