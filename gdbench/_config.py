"""Numba compilation flags for every gdbench kernel, kept in one place.

``fastmath`` is deliberately *not* ``True``: the full flag set includes ``nnan``/``ninf`` and
lets LLVM assume that no value is NaN or infinite, which silently turns the divergence checks
(``np.isfinite``) into constants. Set ``GDBENCH_FASTMATH=1`` to opt into the subset that keeps
NaN/Inf semantics (reassociation, contraction, approximate functions); results then differ from
the strict float64 reference in the last bits.
"""

from __future__ import annotations

import os

SAFE_FASTMATH = frozenset({"reassoc", "nsz", "arcp", "contract", "afn"})

FASTMATH: bool | frozenset[str] = SAFE_FASTMATH if os.environ.get("GDBENCH_FASTMATH") == "1" else False

#: Options for serial kernels. ``error_model="numpy"`` makes 1/0 produce inf (no exception),
#: which the divergence check then records.
JIT: dict = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")

#: Options for kernels parallel over configurations or row blocks.
JIT_PAR: dict = dict(JIT, parallel=True)
