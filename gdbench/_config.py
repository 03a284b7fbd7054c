"""Numba compilation flags for every gdbench kernel, kept in one place.

``fastmath`` is deliberately *not* ``True``: the full flag set includes ``nnan``/``ninf`` and
lets LLVM assume that no value is NaN or infinite, which silently turns the divergence checks
(``np.isfinite``) into constants. Set ``GDBENCH_FASTMATH=1`` to opt into the subset that keeps
NaN/Inf semantics (reassociation, contraction, approximate functions); results then differ from
the strict float64 reference in the last bits.
"""

from __future__ import annotations

import os

# numba's OpenMP threading layer with the default (active) wait policy spins idle workers; on a
# shared or oversubscribed machine they steal the cores from the threads doing the work and a
# parallel call of ~50 µs took 3–25 ms here. Passive waiting costs ~50 µs per launch at most.
# Set before numba starts its thread pool; an explicit OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SAFE_FASTMATH = frozenset({"reassoc", "nsz", "arcp", "contract", "afn"})

#: numba accepts a bool, dict or *set* here (a frozenset raises), so the subset is passed as a set.
FASTMATH: bool | set[str] = set(SAFE_FASTMATH) if os.environ.get("GDBENCH_FASTMATH") == "1" else False

#: Options for serial kernels. ``error_model="numpy"`` makes 1/0 produce inf (no exception),
#: which the divergence check then records.
JIT: dict = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")

#: Options for kernels parallel over configurations or row blocks.
JIT_PAR: dict = dict(JIT, parallel=True)

#: Flags for the row kernels of the linear-model problems (linreg, logistic, hinge): the row dot
#: product xᵢᵀw and the gradient accumulation Σ cᵢ·xᵢ may be reassociated and contracted to FMAs
#: so that they vectorise (a strict left-to-right dot product is latency-bound, ~4× slower at
#: d = 64). No ``nnan``/``ninf``: NaN and Inf propagate and the divergence checks stay real.
#: Results differ from strict summation only in the last bits (well inside the 1e-12 tests).
ROWS_FASTMATH: set[str] = {"reassoc", "contract", "nsz"} | (set(FASTMATH) if FASTMATH else set())
JIT_ROWS: dict = dict(JIT, fastmath=ROWS_FASTMATH)

#: The fused single-row SGD step: FMA contraction only. With reassociation as well, LLVM's choices
#: for this small function differed between a compiling process and one loading numba's disk
#: cache, and so did the bits of every SGD run (see problems/linear_kernels.sgd_step).
JIT_SGD: dict = dict(JIT, fastmath={"contract"} | (set(FASTMATH) if FASTMATH else set()))

#: The fused full-batch kernels: JIT_ROWS, parallel over row blocks.
JIT_ROWS_PAR: dict = dict(JIT_ROWS, parallel=True)

#: Row blocks of the fused kernels. Fixed (not the thread count) so that the reduction order and
#: therefore the result are the same for any number of threads.
ROW_BLOCKS = 64
