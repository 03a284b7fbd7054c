"""Hypothesis profiles of the fuzz tests (``tests/test_fuzz_*.py``).

- ``ci`` (default): deterministic (derandomised, no example database), ``GDBENCH_FUZZ_EXAMPLES``
  examples per test (default 150) — a few seconds per test on a shared 2-core machine;
- ``dev``: random, 2 000 examples per test (or ``GDBENCH_FUZZ_EXAMPLES``), with Hypothesis's
  example database, for hunting: ``GDBENCH_FUZZ_PROFILE=dev python -m pytest tests/test_fuzz_*.py``.

``DEADLINE_MS`` bounds every example: loading a suite, building a problem or refusing a size
must answer well inside it.
"""

from __future__ import annotations

import os

from hypothesis import settings

DEADLINE_MS = 3000

_N = os.environ.get("GDBENCH_FUZZ_EXAMPLES")
settings.register_profile("ci", max_examples=int(_N or 150), derandomize=True, database=None, deadline=DEADLINE_MS,
                          print_blob=True)
settings.register_profile("dev", max_examples=int(_N or 2000), deadline=DEADLINE_MS, print_blob=True)


def apply_profile() -> None:
    settings.load_profile(os.environ.get("GDBENCH_FUZZ_PROFILE", "ci"))


def mostly(good, bad, times: int = 6):
    """``good`` ``times`` times in ``times + 1``, else ``bad`` (``st.one_of`` would flatten a
    ``one_of`` of many branches into as many equal shares)."""
    from hypothesis import strategies as st

    return st.integers(0, times).flatmap(lambda i: bad if i == 0 else good)
