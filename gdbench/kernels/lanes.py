"""A row's dot product with θ and θ's squared norm in eight fixed lanes, as explicit vector code.

The fused SGD step (:func:`gdbench.problems.linear_kernels.sgd_step`) sums xᵢᵀw and ‖w‖² in 8
partial sums each, lane l taking the elements j ≡ l (mod 8) with one fused multiply-add per
element, and adds the lanes in a fixed order: the same bits however the function is compiled or
inlined, which reassociation cannot promise (see ``_config.JIT_SGD``). Written as 16 scalar
chains, LLVM left them scalar and spilled two accumulators to the stack, whose store-to-load
round trip then sat on the loop's critical path (the hottest instructions of an SGD step on a
2000x64 problem). This intrinsic emits the same arithmetic as four ``<4 x double>`` accumulators
and ``llvm.fma.v4f64``: lane for lane the same operations in the same order, so the same bits,
in a quarter of the instructions.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

LANES = 8


@intrinsic
def dot_sq_lanes(typingctx, X, i, theta, n8):
    """``(z₀, …, z₇, q₀, …, q₇)`` with z_l = Σ X[i, j]·θ[j] and q_l = Σ θ[j]² over j < n8,
    j ≡ l (mod 8), each a chain of fused multiply-adds from 0 in increasing j (``n8`` a multiple
    of 8, at most the row's length). X must be C-contiguous and θ contiguous."""
    if not (isinstance(X, types.Array) and X.ndim == 2 and X.layout == "C" and X.dtype == types.float64
            and isinstance(theta, types.Array) and theta.ndim == 1 and theta.layout in ("C", "F")
            and theta.dtype == types.float64 and isinstance(i, types.Integer) and isinstance(n8, types.Integer)):
        return None
    ret = types.UniTuple(types.float64, 2 * LANES)

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        f64 = ir.DoubleType()
        v4 = ir.VectorType(f64, 4)
        v4p = v4.as_pointer()
        xa = context.make_array(sig.args[0])(context, builder, value=args[0])
        ta = context.make_array(sig.args[2])(context, builder, value=args[2])
        row = context.cast(builder, args[1], sig.args[1], types.int64)
        n = context.cast(builder, args[3], sig.args[3], types.int64)
        stride0 = builder.extract_value(xa.strides, 0)
        base = builder.bitcast(xa.data, ir.IntType(8).as_pointer())
        xrow = builder.bitcast(builder.gep(base, [builder.mul(row, stride0)]), f64.as_pointer())
        tptr = ta.data
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(v4, [v4, v4, v4]), "llvm.fma.v4f64")
        zero = ir.Constant(v4, [0.0] * 4)

        pre = builder.basic_block
        head = builder.append_basic_block("lanes.head")
        body = builder.append_basic_block("lanes.body")
        done = builder.append_basic_block("lanes.done")
        builder.branch(head)
        builder.position_at_end(head)
        j = builder.phi(i64)
        acc = [builder.phi(v4) for _ in range(4)]  # z lanes 0-3, z lanes 4-7, q lanes 0-3, q lanes 4-7
        j.add_incoming(ir.Constant(i64, 0), pre)
        for a in acc:
            a.add_incoming(zero, pre)
        builder.cbranch(builder.icmp_signed("<", j, n), body, done)

        builder.position_at_end(body)
        j4 = builder.add(j, ir.Constant(i64, 4))
        x0 = builder.load(builder.bitcast(builder.gep(xrow, [j]), v4p), align=8)
        x1 = builder.load(builder.bitcast(builder.gep(xrow, [j4]), v4p), align=8)
        t0 = builder.load(builder.bitcast(builder.gep(tptr, [j]), v4p), align=8)
        t1 = builder.load(builder.bitcast(builder.gep(tptr, [j4]), v4p), align=8)
        new = [builder.call(fma, [x0, t0, acc[0]]), builder.call(fma, [x1, t1, acc[1]]),
               builder.call(fma, [t0, t0, acc[2]]), builder.call(fma, [t1, t1, acc[3]])]
        j.add_incoming(builder.add(j, ir.Constant(i64, LANES)), body)
        for a, v in zip(acc, new):
            a.add_incoming(v, body)
        builder.branch(head)

        builder.position_at_end(done)
        out = [builder.extract_element(a, ir.Constant(ir.IntType(32), k)) for a in acc for k in range(4)]
        return context.make_tuple(builder, sig.return_type, out)

    return ret(X, i, theta, n8), codegen


if config.DISABLE_JIT:  # pure Python (NUMBA_DISABLE_JIT=1): the same lanes, without fused rounding
    def dot_sq_lanes(X, i, theta, n8):  # noqa: F811
        z = [0.0] * LANES
        q = [0.0] * LANES
        for j in range(n8):
            z[j % LANES] += X[i, j] * theta[j]
            q[j % LANES] += theta[j] * theta[j]
        return (*z, *q)
