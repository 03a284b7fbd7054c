"""Software prefetch of data rows: a hint to the CPU, no load, no effect on any value.

SGD and small mini-batches read rows of X in a shuffled order, so each step's row is a cache miss
(~100 ns from DRAM) on the critical path unless it was asked for a few steps earlier. A plain load
of the row ahead (what ``touch_rows`` did) cannot retire before its data arrives and so stalls the
step that issued it; LLVM's ``llvm.prefetch`` (x86 ``prefetcht0``) retires at once.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

_LINE = 64  # bytes per cache line


@intrinsic
def prefetch_row(typingctx, X, i):
    """Ask for every cache line of row ``i`` of the 2-D array ``X`` (read, keep in all levels)."""
    if not (isinstance(X, types.Array) and X.ndim == 2 and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        aty = sig.args[0]
        arr = context.make_array(aty)(context, builder, value=args[0])
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        row = context.cast(builder, args[1], sig.args[1], types.int64)
        stride0 = builder.extract_value(arr.strides, 0)
        stride1 = builder.extract_value(arr.strides, 1)
        ncol = builder.extract_value(arr.shape, 1)
        base = builder.ptrtoint(arr.data, i64)
        start = builder.add(base, builder.mul(row, stride0))
        nbytes = builder.mul(ncol, stride1)  # a C-contiguous row: its bytes are adjacent
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        zero, line = ir.Constant(i64, 0), ir.Constant(i64, _LINE)
        with cgutils.for_range_slice(builder, zero, nbytes, line) as (off, _):
            p = builder.inttoptr(builder.add(start, off), i8p)
            builder.call(fn, [p, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.none(X, i), codegen


if config.DISABLE_JIT:  # pure Python (NUMBA_DISABLE_JIT=1): a hint has nothing to do
    def prefetch_row(X, i):  # noqa: F811
        return None
