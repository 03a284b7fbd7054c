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


#: ``llvm.prefetch`` locality: 3 is x86 ``prefetcht0`` (all levels). 2 (``prefetcht1``, L2 only)
#: measured the same within this machine's noise on SGD 1e5x64 (AMD Zen 3: 88-108 ns a step both;
#: Zen 4, hinge, 8 / 16 rows ahead: locality 3 101.9 / 108.5 ns, 2 102.7 / 105.9, 1 126.7 / 119.4,
#: 0 127.4 / 127.2, medians of 7 epochs x 5)
LOCALITY = 3


@intrinsic
def prefetch_row(typingctx, X, i):
    """Ask for every cache line of row ``i`` of the 2-D array ``X``, or the line of element ``i``
    of a 1-D array (read, kept in all levels)."""
    if not (isinstance(X, types.Array) and X.ndim in (1, 2) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        aty = sig.args[0]
        arr = context.make_array(aty)(context, builder, value=args[0])
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        row = context.cast(builder, args[1], sig.args[1], types.int64)
        stride0 = builder.extract_value(arr.strides, 0)
        base = builder.ptrtoint(arr.data, i64)
        start = builder.add(base, builder.mul(row, stride0))
        if aty.ndim == 2:  # a C-contiguous row: its bytes are adjacent
            nbytes = builder.mul(builder.extract_value(arr.shape, 1), builder.extract_value(arr.strides, 1))
        else:
            nbytes = ir.Constant(i64, 1)
        # from the line of the row's first byte to the line of its last (NumPy's large arrays start
        # 16 bytes into a line: a 512-byte row then spans 9 lines)
        first = builder.and_(start, ir.Constant(i64, -_LINE))
        span = builder.sub(builder.add(start, nbytes), first)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        zero, line = ir.Constant(i64, 0), ir.Constant(i64, _LINE)
        with cgutils.for_range_slice(builder, zero, span, line) as (off, _):
            p = builder.inttoptr(builder.add(first, off), i8p)
            builder.call(fn, [p, ir.Constant(i32, 0), ir.Constant(i32, LOCALITY), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.none(X, i), codegen


if config.DISABLE_JIT:  # pure Python (NUMBA_DISABLE_JIT=1): a hint has nothing to do
    def prefetch_row(X, i):  # noqa: F811
        return None
