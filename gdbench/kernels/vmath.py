"""Elementary functions without a library call, so that LLVM can vectorise a loop over them.

numba lowers ``np.exp`` and ``np.log1p`` to calls into the C library; a loop that calls them runs
one row at a time (numba's SVML path, which would vectorise them, needs an LLVM that llvmlite's
wheels do not ship). These versions are straight-line float64 arithmetic — a Cody–Waite range
reduction, polynomials in Horner form and a select or two — so that a loop over a block of rows
compiles to vector code (4 rows per instruction with AVX2). NaN in gives NaN out, as from the
library.

Accuracy, measured against x87 extended precision (``np.longdouble``) on 10⁶–3·10⁶ points each
(``tests/test_vmath.py`` keeps the check, compiled with the row kernels' flags): ``exp_neg``
within 0.6 ulp on [0, 708] (the library: 0.6); ``log1p_unit`` within 1.2 ulp on [1e-300, 1] (the
library: 0.55).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import config
from numba.extending import intrinsic

from gdbench._config import JIT

LOG2E = 1.4426950408889634
#: ln 2 split in two (fdlibm's): k·LN2_HI is exact for the k used here
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
#: e^−a is a normal float64 up to here; beyond, ``exp_neg`` returns 0 (the library: a subnormal
#: below 2.3e-308, or 0 beyond 745)
EXP_MAX = 708.0

if config.DISABLE_JIT:  # plain Python (NUMBA_DISABLE_JIT=1): the same bits through NumPy's view

    def _f64_from_bits(k):
        return float(np.array([k], dtype=np.int64).view(np.float64)[0])

else:

    @intrinsic
    def _f64_from_bits(typingctx, k):
        """The float64 whose bit pattern is the int64 ``k`` (an LLVM bitcast: vectorises)."""
        if not isinstance(k, types.Integer):
            return None

        def codegen(context, builder, sig, args):
            v = context.cast(builder, args[0], sig.args[0], types.int64)
            return builder.bitcast(v, ir.DoubleType())

        return types.float64(k), codegen


@njit(inline="always", **JIT)
def exp_neg(a):
    """e^−a for a ≥ 0 (0 when a > 708, NaN for NaN): a = k·ln 2 − r with |r| ≤ ln 2 / 2, e^r by
    its Taylor polynomial to degree 13 (truncation < 4e-18 relative), times 2^−k built from its
    exponent bits."""
    t = a if a <= EXP_MAX else EXP_MAX  # (also for NaN: the integer conversion below stays defined)
    kf = np.floor(t * LOG2E + 0.5)
    r = (kf * LN2_HI - t) + kf * LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    e = p * _f64_from_bits((1023 - np.int64(kf)) << 52)
    if a <= EXP_MAX:
        return e
    return 0.0 if a > EXP_MAX else a


@njit(inline="always", **JIT)
def log1p_unit(e):
    """log(1 + e) for 0 ≤ e ≤ 1 (NaN for NaN): 2·atanh(t), t = e/(2 + e) ≤ 1/3, by the odd series
    of atanh to t³⁵ (truncation < 2e-18 relative)."""
    t = e / (2.0 + e)
    s = t * t
    p = 1.0 / 35.0
    p = p * s + 1.0 / 33.0
    p = p * s + 1.0 / 31.0
    p = p * s + 1.0 / 29.0
    p = p * s + 1.0 / 27.0
    p = p * s + 1.0 / 25.0
    p = p * s + 1.0 / 23.0
    p = p * s + 1.0 / 21.0
    p = p * s + 1.0 / 19.0
    p = p * s + 1.0 / 17.0
    p = p * s + 1.0 / 15.0
    p = p * s + 1.0 / 13.0
    p = p * s + 1.0 / 11.0
    p = p * s + 1.0 / 9.0
    p = p * s + 1.0 / 7.0
    p = p * s + 1.0 / 5.0
    p = p * s + 1.0 / 3.0
    return 2.0 * t + 2.0 * t * (s * p)
