"""Fixed-size arrays on the stack of a compiled function (CPU), for the tiny-problem drivers.

``numba.carray(stack_f64(N), shape)`` is an array of N float64 that lives in the calling
function's frame (an LLVM ``alloca``; N must be a compile-time constant). When every access to it
is inlined, LLVM keeps its elements in registers: θ, g and the optimizer state of a 2-D problem
then never touch memory, as in a loop written by hand with scalars.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def stack_f64(typingctx, n):
    """A pointer to ``n`` float64 on the caller's stack (``n`` a literal integer)."""
    if not isinstance(n, types.IntegerLiteral):
        return None
    count = max(int(n.literal_value), 1)

    def codegen(context, builder, sig, args):
        ty = context.get_value_type(types.float64)
        ptr = cgutils.alloca_once(builder, ir.ArrayType(ty, count))
        return builder.bitcast(ptr, ty.as_pointer())

    return types.CPointer(types.float64)(n), codegen
