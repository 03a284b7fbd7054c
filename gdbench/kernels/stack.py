"""Arrays numba does not reference-count: fixed-size arrays on the stack of a compiled function
(CPU, for the tiny-problem drivers) and borrowed views of heap arrays (for the calls of a step loop).

``numba.carray(stack_f64(N), shape)`` is an array of N float64 that lives in the calling
function's frame (an LLVM ``alloca``; N must be a compile-time constant). When every access to it
is inlined, LLVM keeps its elements in registers: θ, g and the optimizer state of a 2-D problem
then never touch memory, as in a loop written by hand with scalars.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
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


@intrinsic
def stack_u64(typingctx, n):
    """A pointer to ``n`` uint64 on the caller's stack (``n`` a literal integer): a random stream's state."""
    if not isinstance(n, types.IntegerLiteral):
        return None
    count = max(int(n.literal_value), 1)

    def codegen(context, builder, sig, args):
        ty = context.get_value_type(types.uint64)
        ptr = cgutils.alloca_once(builder, ir.ArrayType(ty, count))
        return builder.bitcast(ptr, ty.as_pointer())

    return types.CPointer(types.uint64)(n), codegen


@intrinsic
def borrowed(typingctx, a):
    """``a`` without its reference count: the same data, shape and strides, no ``meminfo``.

    numba increments and decrements an array's reference count around every call to a compiled
    function that is not inlined (an atomic instruction each, which also waits for the stores
    before it: 16 of them cost SGD ~40 ns a step). A borrowed view passed instead makes those
    no-ops. Only for a call's duration, while ``a`` itself is alive in the caller."""
    if not isinstance(a, types.Array):
        return None

    def codegen(context, builder, sig, args):
        src = context.make_array(a)(context, builder, value=args[0])
        dst = context.make_array(a)(context, builder)
        context.populate_array(dst, data=src.data, shape=src.shape, strides=src.strides, itemsize=src.itemsize,
                               meminfo=None)
        return dst._getvalue()

    return a(a), codegen


if config.DISABLE_JIT:  # pure Python (NUMBA_DISABLE_JIT=1): nothing is reference-counted
    def borrowed(a):  # noqa: F811
        return a
