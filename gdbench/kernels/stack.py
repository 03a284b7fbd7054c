"""Arrays numba does not reference-count: fixed-size arrays on the stack of a compiled function
(CPU, for the tiny-problem drivers) and borrowed views of heap arrays (for the calls of a step loop).

``stack_vector(N)`` is an array of N float64 that lives in the calling function's frame (an
LLVM ``alloca``; N a compile-time constant; ``stack_matrix(N0, N1)`` likewise, 2-D). When every
access to it is inlined, LLVM keeps its elements in registers: θ, g and the optimizer state of a
2-D problem then never touch memory, as in a loop written by hand with scalars. (Built by an
intrinsic rather than ``numba.carray`` on a pointer: one overload fewer to compile per process.)
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic


def _on_stack(context, builder, arrty, shape):
    """An array of ``arrty`` (C order) of this constant shape in an ``alloca`` of the caller."""
    ty = context.get_value_type(arrty.dtype)
    count = 1
    for n in shape:
        count *= n
    ptr = cgutils.alloca_once(builder, ir.ArrayType(ty, max(count, 1)))
    intp = context.get_value_type(types.intp)
    itemsize = context.get_abi_sizeof(ty)
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.insert(0, intp(step))
        step *= n
    ary = context.make_array(arrty)(context, builder)
    context.populate_array(ary, data=builder.bitcast(ptr, ty.as_pointer()), shape=[intp(n) for n in shape],
                           strides=strides, itemsize=intp(itemsize), meminfo=None)
    return ary._getvalue()


def _stack(dtype, *ns):
    """The signature and code of an array of ``dtype`` on the caller's stack, of the literal shape
    ``ns`` (None, so numba reports a typing error, when a size is not a literal integer)."""
    if not all(isinstance(n, types.IntegerLiteral) for n in ns):
        return None
    arrty = types.Array(dtype, len(ns), "C")
    shape = tuple(int(n.literal_value) for n in ns)
    return arrty(*ns), lambda context, builder, sig, args: _on_stack(context, builder, arrty, shape)


@intrinsic
def stack_vector(typingctx, n):
    """``n`` float64 on the caller's stack, as a 1-D array (``n`` a literal integer)."""
    return _stack(types.float64, n)


@intrinsic
def stack_matrix(typingctx, n0, n1):
    """An ``n0`` × ``n1`` float64 array on the caller's stack (literal integers)."""
    return _stack(types.float64, n0, n1)


@intrinsic
def stack_u64(typingctx, n):
    """``n`` uint64 on the caller's stack, as a 1-D array (a random stream's state)."""
    return _stack(types.uint64, n)


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
