"""Scalar NumPy ufuncs on the CUDA target.

The CPU kernels (optimizers, problems, rng, transforms) call ``np.sqrt``, ``np.exp``,
``np.log1p``, ``np.sign`` … on scalars. numba-cuda types these calls but (as of 0.30) its CUDA ufunc table has no
loops for them, so lowering fails with ``KeyError: <ufunc 'sqrt'>``. Rather than keep a second copy
of every update rule, this module adds the missing float loops, each lowered to the same libdevice
function that ``math.<name>`` uses on the device (``sqrt`` is IEEE correctly rounded on both
devices). Entries numba-cuda already has are left alone, so a later numba-cuda that supports them
wins.
"""

from __future__ import annotations

import math

import numpy as np

_MISSING = {
    np.sqrt: math.sqrt,
    np.exp: math.exp,
    np.expm1: math.expm1,
    np.log: math.log,
    np.log1p: math.log1p,
    np.log2: math.log2,
    np.log10: math.log10,
    np.fabs: math.fabs,
    np.floor: math.floor,
    np.ceil: math.ceil,
    np.sin: math.sin,
    np.cos: math.cos,
    np.tanh: math.tanh,
    np.arctan: math.atan,
}


def _sign_scalar(x):
    """np.sign of a float: 1, -1, x itself for ±0 and NaN."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x


def _sign(context, builder, sig, args):
    return context.compile_internal(builder, _sign_scalar, sig, args)
_done = False


def _unary(fn):
    def impl(context, builder, sig, args):
        from numba.cuda.mathimpl import get_unary_impl_for_fn_and_ty

        return get_unary_impl_for_fn_and_ty(fn, sig.args[0])(context, builder, sig, args)

    return impl


def ensure_scalar_ufuncs() -> None:
    """Register the missing float32/float64 loops once per process (no-op in the simulator)."""
    global _done
    if _done:
        return
    try:
        from numba.cuda import ufuncs

        db = ufuncs.ufunc_db()
    except (ImportError, AttributeError):  # pragma: no cover - another numba-cuda layout: nothing to patch
        _done = True
        return
    for uf, fn in _MISSING.items():
        if uf not in db:
            db[uf] = {"f->f": _unary(fn), "d->d": _unary(fn)}
    if np.sign not in db:
        db[np.sign] = {"f->f": _sign, "d->d": _sign}
    _done = True
