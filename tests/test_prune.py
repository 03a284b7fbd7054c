"""The source pruner of the generated CPU drivers (gdbench.kernels.prune): it must keep what a
function computes while dropping the parts its module's switches disable."""

import itertools

from gdbench.kernels.prune import prune_function, truth

SRC = '''# a comment the pruner keeps
RESTARTS = True
STARTS = False


def other():
    if STARTS:  # another function: left as it is
        return 1
    return 2


def ident(f):
    return f


@ident
def sweep(x, y):
    """doc"""
    u = RESTARTS and x
    v = STARTS or y
    w = STARTS and x
    z = x and STARTS
    n = not STARTS
    q = 1 if STARTS else 2
    dead = int(y)
    dead2 = dead + 1
    c = 0
    c += 1
    m = 0  # read by its augmented assignment alone: kept
    m += 1
    if STARTS and x:
        x = 5
    if not STARTS:
        y = y + 7
    if RESTARTS or x:
        t = 1
    else:
        t = 2
    if x and not RESTARTS:
        t = 3
    while x > 100:
        if STARTS:
            x = 0
        x -= 1
    return u, v, w, z, n, q, y, t, c, x
# the module's tail
TAIL = 1
'''


def _load(src: str) -> dict:
    ns: dict = {}
    exec(compile(src, "<driver>", "exec"), ns)
    return ns


def test_pruned_function_computes_the_same_and_drops_disabled_and_dead_code():
    out = prune_function(SRC, "sweep")
    a, b = _load(SRC), _load(out)
    for x, y in itertools.product([0, 1, 2, 150, 0.0, -3], [0, 4, 2.5]):
        assert a["sweep"](x, y) == b["sweep"](x, y), (x, y)
        assert type(a["sweep"](x, y)[0]) is type(b["sweep"](x, y)[0])
    body = out[out.index("def sweep"):out.index("# the module's tail")]
    assert "STARTS" not in body and "RESTARTS" not in body  # every switch folded
    assert "dead" not in body and "x = 5" not in body and "t = 2" not in body
    assert "c += 1" in body and "x -= 1" in body and "m = 0" in body
    # the rest of the module is kept verbatim, comments included
    assert out.startswith("# a comment the pruner keeps\n") and out.endswith("# the module's tail\nTAIL = 1\n")
    assert "    if STARTS:  # another function: left as it is" in out
    assert "@ident" in out
    assert prune_function(SRC, "absent") == SRC


def test_truth_follows_pythons_left_to_right_evaluation():
    import ast

    c = {"T": True, "F": False}

    def t(s):
        return truth(ast.parse(s, mode="eval").body, c)

    assert t("T and not F") is True and t("F and x") is False and t("T or x") is True
    assert t("x and F") is None  # x is evaluated first: unknown
    assert t("F or x") is None and t("T and x") is None and t("not (F or F)") is True


def test_a_featureless_tiny_driver_has_one_evaluation_site_and_no_disabled_part():
    """adam x 2-D Rosenbrock without optional parts (the first minimize of a fresh install): the
    loop evaluates f and ∇f at one call site and records at one, and nothing of the random starts,
    schedules, noise or restarts is left in its source, nor any heap allocation."""
    from gdbench.kernels.codegen import driver_source
    from gdbench.optimizers import get_optimizer
    from gdbench.problems import get_problem

    src = driver_source(get_optimizer("adam"), get_problem("rosenbrock"), dim=2)
    sweep = src[src.index("def sweep("):]
    assert sweep.count("prob_loss_grad(") == 1 and sweep.count("prob_loss(") == 0
    assert sweep.count("record(") == 1 and sweep.count("rel_scale(") == 1
    for gone in ("skind", "sigma", "draw_start(", "rng_seed(", "rng_normal(", "scheduled_lr(", "np.empty", "nres += 1"):
        assert gone not in sweep, gone
    # with restarts and random starts compiled in, those parts are there
    full = driver_source(get_optimizer("adam"), get_problem("rosenbrock"), dim=2, features=("restarts", "starts"))
    sweep = full[full.index("def sweep("):]
    assert "draw_start(" in sweep and "nres += 1" in sweep and sweep.count("prob_loss_grad(") == 1
