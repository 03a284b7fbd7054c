"""Where the cold-start compile time of an (optimizer, problem) pair goes.

Each measurement is a fresh process with fresh ``GDBENCH_CACHE_DIR`` and ``NUMBA_CACHE_DIR``
(nothing compiled anywhere), which compiles one pair the way ``gdbench run``'s compile helper
does (``gdbench.harness.runner.compile_pair``: a one-step sweep on a tiny instance) and records
a timeline of numba's events (``numba.core.event``: every dispatcher compile and every compiler
pass) and of the LLVM stages numba runs (parse + per-function passes, module optimisation,
machine-code generation; wrapped around ``CPUCodeLibrary``'s methods) and of numba's cache
reads and writes. Times are CPU seconds of the compiling thread (``time.thread_time``: other
tenants of a loaded machine stretch the wall time, not these) and *exclusive* (a nested compile
or LLVM stage is charged to itself, not to the pass that triggered it), so the categories add up
to the compile.

    python benchmarks/cold_start.py pairs                 # the table of docs/cold_start.md
    python benchmarks/cold_start.py pair adam logistic     # one pair, JSON
    python benchmarks/cold_start.py pair adam linreg --rows --scenario shared
    python benchmarks/cold_start.py opt-levels             # NUMBA_OPT 0..3: compile time and speed
    python benchmarks/cold_start.py inline                 # run_config inlined or not (a driver copy)
    python benchmarks/cold_start.py startup                # import gdbench, first minimize, cold and warm
    python benchmarks/cold_start.py suite                  # cold `gdbench run` with 0 / 1 / 2 compile helpers

Scenarios (``--scenario``): ``cold``; ``shared`` — two other pairs sharing this pair's kernels
(another rule on the problem, the rule on another problem) compiled first by another process on
the same caches, the situation of most pairs in a suite; ``steady`` — as shared, and the process
compiled an unrelated pair first (numba's own overloads, e.g. ``np.empty``, are compiled once per
process and never cached): the marginal cost of one more pair in a long ``gdbench run``.
This is an experiment script: it patches numba internals to time them; gdbench never does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

PAIRS = [("gd", "rosenbrock", False), ("gd", "logistic", False), ("adam", "logistic", False), ("adam", "linreg", True),
         ("newton", "quadratic", False)]


# --------------------------------------------------------------------------- instrumented child


class Timeline:
    """A stack of open intervals; each closed one is recorded with its exclusive time."""

    def __init__(self) -> None:
        self.stack: list[list] = []
        self.records: list[dict] = []

    def start(self, kind: str, name: str) -> None:
        self.stack.append([kind, name, time.thread_time(), 0.0])

    def end(self) -> None:
        kind, name, t0, child = self.stack.pop()
        dur = time.thread_time() - t0
        if self.stack:
            self.stack[-1][3] += dur
        owner = next((s[1] for s in reversed(self.stack) if s[0] == "compile"), "")
        self.records.append(dict(kind=kind, name=name, incl=dur, excl=dur - child, depth=len(self.stack),
                                 owner=owner))


def instrument(tl: Timeline) -> None:
    import numba.core.event as ev
    from numba.core import caching, codegen

    class Listener(ev.Listener):
        def on_start(self, event):
            if event.kind == "numba:compile":
                d = event.data["dispatcher"]
                tl.start("compile", f"{d.py_func.__module__.split('.')[-1]}.{d.py_func.__qualname__}")
            else:
                tl.start("pass", event.data["name"].split(" [")[0])

        def on_end(self, event):
            tl.end()

    ev.register("numba:compile", Listener())
    ev.register("numba:run_pass", Listener())

    def wrap(cls, meth, kind):
        orig = getattr(cls, meth)

        def w(self, *a, **k):
            tl.start(kind, meth)
            try:
                return orig(self, *a, **k)
            finally:
                tl.end()

        setattr(cls, meth, w)

    wrap(codegen.CPUCodeLibrary, "add_ir_module", "llvm: IR parse + function passes")
    wrap(codegen.CPUCodeLibrary, "_optimize_final_module", "llvm: module optimisation")
    wrap(codegen.CPUCodeLibrary, "_finalize_final_module", "llvm: machine code")
    wrap(codegen.CPUCodeLibrary, "finalize", "llvm: link")
    wrap(caching.Cache, "save_overload", "cache: write")
    wrap(caching.Cache, "load_overload", "cache: read")


CATEGORY = {  # pass -> category; every other pass is "numba front end (IR, typing, rewrites)"
    "native_lowering": "numba lowering (numba IR -> LLVM IR)",
    "nopython_type_inference": "numba type inference",
}


def child_pair(rule: str, problem: str, rows: bool, before: list[str] = ()) -> dict:
    t0 = time.thread_time()
    import gdbench  # noqa: F401

    t_import = time.thread_time() - t0
    from gdbench.harness.runner import compile_pair
    from gdbench.problems import PROBLEMS, make

    for pq in before:  # compiled in this process first (the steady state of a long run)
        compile_pair(*pq.split(":"))
    tl = Timeline()
    instrument(tl)
    import gdbench.kernels.codegen as cg

    orig_driver = cg.driver

    def driver(*a, **k):
        tl.start("gdbench", "codegen: render, hash, write, import the driver")
        try:
            return orig_driver(*a, **k)
        finally:
            tl.end()

    import gdbench.engine as eng

    eng.driver = driver
    kind = PROBLEMS[problem].KIND
    t0, w0 = time.thread_time(), time.perf_counter()
    p = make(problem, **({"n": 8, "d": 2} if kind == "data" else {}))  # exact f*, x*: may compile kernels
    t_make = time.thread_time() - t0
    gdbench.sweep(p, rule, [{"lr": 1e-3}], steps=1, record_every=1, threads=1, rows=rows)
    total, wall = time.thread_time() - t0, time.perf_counter() - w0
    cats: dict[str, float] = defaultdict(float)
    per_fn: dict[str, float] = defaultdict(float)
    llvm_by_owner: dict[str, float] = defaultdict(float)
    n_compiled = 0
    passes: dict[str, float] = defaultdict(float)
    for r in tl.records:
        if r["kind"] == "pass":
            passes[r["name"]] += r["excl"]
            cats[CATEGORY.get(r["name"], "numba front end (IR, typing, rewrites)")] += r["excl"]
        elif r["kind"] == "compile":
            cats["numba dispatcher overhead"] += r["excl"]
            per_fn[r["name"]] += r["incl"]
            n_compiled += 1
        else:
            cats[r["kind"]] += r["excl"]
            if r["kind"].startswith("llvm"):
                llvm_by_owner[r["owner"]] += r["excl"]
    cats["python outside numba (sweep set-up, dispatch)"] = total - sum(cats.values())
    top = [r for r in tl.records if r["kind"] == "compile" and r["depth"] == 0]
    return dict(pair=f"{rule} x {problem}{' (rows)' if rows else ''}", import_s=t_import, total_s=total, wall_s=wall,
                make_s=t_make,
                categories=dict(sorted(cats.items(), key=lambda kv: -kv[1])), compiled_functions=n_compiled,
                per_function_inclusive=dict(sorted(per_fn.items(), key=lambda kv: -kv[1])),
                llvm_by_function=dict(sorted(llvm_by_owner.items(), key=lambda kv: -kv[1])),
                top_level_compiles=[(r["name"], r["incl"]) for r in top],
                passes=dict(sorted(passes.items(), key=lambda kv: -kv[1])[:12]))


# --------------------------------------------------------------------------- parent helpers


def fresh_env(tmp: str, **extra: str) -> dict[str, str]:
    return dict(os.environ, GDBENCH_CACHE_DIR=os.path.join(tmp, "gdbench"),
                NUMBA_CACHE_DIR=os.path.join(tmp, "numba"), NUMBA_NUM_THREADS="1", **extra)


def shared_pairs(rule: str, problem: str) -> list[str]:
    """Two other pairs that use this pair's kernels: another rule on this problem, this rule on
    another problem."""
    return [f"{'momentum' if rule == 'gd' else 'gd'}:{problem}",
            f"{rule}:{'quadratic' if problem == 'rosenbrock' else 'rosenbrock'}"]


def run_pair(rule: str, problem: str, rows: bool, scenario: str = "cold", **extra: str) -> dict:
    """scenario: cold (nothing cached), shared (the kernels it shares with two other pairs
    compiled and cached by another process), steady (as shared, and this process compiled another
    pair first: the marginal cost of one more pair in a long `gdbench run`)."""
    me = [sys.executable, __file__, "pair", rule, problem, "--json"] + (["--rows"] if rows else [])
    with tempfile.TemporaryDirectory() as tmp:
        env = fresh_env(tmp, **extra)
        if scenario in ("shared", "steady"):
            for pq in shared_pairs(rule, problem):
                subprocess.run([sys.executable, __file__, "pair", *pq.split(":"), "--json"], env=env, check=True,
                               capture_output=True)
        if scenario == "steady":
            me += ["--before", "nesterov:saddle"]
        out = subprocess.run(me, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


SCENARIOS = {"cold": "everything cold: fresh caches, fresh process",
             "shared": "the kernels shared with other pairs already cached on disk (fresh process)",
             "steady": "as shared, and this process compiled another pair first (one more pair in a long run)"}


def table_pairs(repeat: int, pairs=PAIRS) -> None:
    for scenario, title in SCENARIOS.items():
        results = {}
        for rule, problem, rows in pairs:
            rs = [run_pair(rule, problem, rows, scenario) for _ in range(repeat)]
            results[rs[0]["pair"]] = rs
        print(f"\n### {title} (CPU seconds, median of {repeat})\n")
        cats = sorted({c for rs in results.values() for r in rs for c in r["categories"]},
                      key=lambda c: -statistics.median(r["categories"].get(c, 0) for rs in results.values()
                                                       for r in rs))
        print("| | " + " | ".join(results) + " |")
        print("|---|" + "---:|" * len(results))
        print("| **compile, total** | " + " | ".join(f"**{statistics.median(r['total_s'] for r in rs):.2f}**"
                                                  for rs in results.values()) + " |")
        for c in cats:
            print(f"| {c} | " + " | ".join(f"{statistics.median(r['categories'].get(c, 0) for r in rs):.2f}"
                                           for rs in results.values()) + " |")
        print("| of which building the problem (exact f*) | " + " | ".join(
            f"{statistics.median(r['make_s'] for r in rs):.2f}" for rs in results.values()) + " |")
        print("| functions compiled | " + " | ".join(str(rs[0]["compiled_functions"]) for rs in results.values())
              + " |")
        print("| `import gdbench` | " + " | ".join(f"{statistics.median(r['import_s'] for r in rs):.2f}"
                                                  for rs in results.values()) + " |")
        for name, rs in results.items():
            r = rs[len(rs) // 2]
            fns = ", ".join(f"{k} {v:.2f}" for k, v in list(r["per_function_inclusive"].items())[:8])
            llvm = ", ".join(f"{k or '(top)'} {v:.2f}" for k, v in list(r["llvm_by_function"].items())[:6])
            print(f"\n{name}: compiles (inclusive s): {fns}\n  LLVM time by the function whose library it was: "
                  f"{llvm}")


def opt_levels(repeat: int) -> None:
    """Compile time (cold, per pair) and run time (CPU ns/step, warm) at NUMBA_OPT=0..3."""
    code = ("import gdbench, time, statistics as st; p = gdbench.problems.make({prob!r}{kw}); "
            "gdbench.minimize(p, {rule!r}, steps=10, record_every=0{bs})\n"
            "def f():\n c = time.process_time(); gdbench.minimize(p, {rule!r}, steps={steps}, record_every=0{bs}); "
            "return (time.process_time() - c) / {steps} * 1e9\n"
            "print(st.median(f() for _ in range(5)))")
    cases = [("gd", "rosenbrock", "", "", 2_000_000), ("adam", "rosenbrock", "", "", 1_000_000),
             ("adam", "linreg", ", n=20000, d=64", ", batch_size=64", 3000)]
    print("| NUMBA_OPT | " + " | ".join(f"{r} x {p}: compile s / ns per step" for r, p, *_ in cases) + " |")
    print("|---|" + "---:|" * len(cases))
    for lvl in ("0", "1", "2", "3"):
        cells = []
        for rule, prob, kw, bs, steps in cases:
            comp = statistics.median(run_pair(rule, prob, False, NUMBA_OPT=lvl)["total_s"] for _ in range(repeat))
            with tempfile.TemporaryDirectory() as tmp:
                env = fresh_env(tmp, NUMBA_OPT=lvl)
                src = code.format(prob=prob, kw=kw, rule=rule, bs=bs, steps=steps)
                ns = float(subprocess.run([sys.executable, "-c", src], env=env, check=True, capture_output=True,
                                          text=True).stdout.split()[-1])
            cells.append(f"{comp:.2f} / {ns:.1f}")
        print(f"| {lvl} | " + " | ".join(cells) + " |")


def child_inline(rule: str, problem: str, inline: bool) -> dict:
    """Compile a copy of the pair's driver with run_config inlined (as shipped) or not, in a
    temporary module (the shipped loop.py is not touched)."""
    import importlib.util

    from gdbench.kernels import codegen
    from gdbench.optimizers import get_optimizer
    from gdbench.problems import PROBLEMS, make

    src = codegen._render(get_optimizer(rule).module, PROBLEMS[problem])
    if not inline:
        src = src.replace('@njit(inline="always", **JIT)', "@njit(**JIT)")
    d = os.environ["GDBENCH_CACHE_DIR"]
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"variant_{rule}_{problem}_{int(inline)}.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(f"variant_{rule}_{problem}_{int(inline)}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    import gdbench.engine as eng

    eng.driver = lambda *a, **k: mod
    kind = PROBLEMS[problem].KIND
    p = make(problem, **({"n": 8, "d": 2} if kind == "data" else {}))
    t0 = time.thread_time()
    gdbench_sweep = eng.sweep
    gdbench_sweep(p, rule, [{"lr": 1e-3}], steps=1, record_every=1, threads=1)
    comp = time.thread_time() - t0
    ns = None
    if kind != "data":
        r = []
        for _ in range(5):
            c = time.process_time()
            gdbench_sweep(p, rule, [{"lr": 1e-4}], steps=1_000_000, record_every=0)
            r.append(time.process_time() - c)
        ns = statistics.median(r) / 1e6 * 1e9
    return {"compile_s": comp, "ns_per_step": ns}


def inline_study(repeat: int) -> None:
    print("| pair | run_config inline=\"always\" (shipped): compile s / ns per step | not inlined: compile s / "
          "ns per step |")
    print("|---|---:|---:|")
    for rule, problem in (("gd", "rosenbrock"), ("adam", "rosenbrock"), ("adam", "logistic")):
        cells = []
        for inline in (True, False):
            rs = []
            for _ in range(repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    out = subprocess.run([sys.executable, __file__, "inline-child", rule, problem, str(int(inline))],
                                         env=fresh_env(tmp), check=True, capture_output=True, text=True)
                    rs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            c = statistics.median(r["compile_s"] for r in rs)
            ns = [r["ns_per_step"] for r in rs if r["ns_per_step"] is not None]
            cells.append(f"{c:.2f} / {statistics.median(ns):.1f}" if ns else f"{c:.2f} / -")
        print(f"| {rule} x {problem} | " + " | ".join(cells) + " |")


def startup(repeat: int) -> None:
    """``import gdbench`` and the first ``minimize`` call (adam x rosenbrock), cold and warm:
    CPU seconds of the main thread (wall seconds in brackets: the machine is shared)."""
    code = ("import time; c0, w0 = time.thread_time(), time.perf_counter(); import gdbench; "
            "c1, w1 = time.thread_time(), time.perf_counter(); p = gdbench.problems.make('rosenbrock', d=2); "
            "c2, w2 = time.thread_time(), time.perf_counter(); gdbench.minimize(p, 'adam', steps=10, record_every=0); "
            "print(c1 - c0, w1 - w0, time.thread_time() - c2, time.perf_counter() - w2)")
    rows = defaultdict(list)
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            env = fresh_env(tmp)
            env.pop("NUMBA_NUM_THREADS")
            for label in ("cold", "warm"):
                t0 = time.perf_counter()
                out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                                     text=True).stdout.split()
                rows[label].append([float(x) for x in out] + [time.perf_counter() - t0])
    print("| caches | `import gdbench` CPU s [wall] | first `minimize` CPU s [wall] | whole process wall s |")
    print("|---|---:|---:|---:|")
    for label, rs in rows.items():
        m = [statistics.median(r[i] for r in rs) for i in range(5)]
        print(f"| {label} | {m[0]:.2f} [{m[1]:.2f}] | {m[2]:.2f} [{m[3]:.2f}] | {m[4]:.2f} |")


def suite(repeat: int) -> None:
    """Cold ``gdbench run quick --no-figures`` with 0, 1 (default), 2 background compile helpers
    and with the pool mode."""
    modes = [("in-process only", ["--compile-workers", "0"]), ("1 background helper (default)", []),
             ("2 background helpers", ["--compile-workers", "2"]),
             ("pool of 2 first", ["--compile-workers", "2", "--compile-mode", "pool"])]
    print("| compile | cold `gdbench run quick --no-figures` s (each run) | median |")
    print("|---|---|---:|")
    for label, extra in modes:
        ws = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                env = fresh_env(tmp)
                env.pop("NUMBA_NUM_THREADS")
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "gdbench", "run", "quick", "--quiet", "--no-figures", "--out",
                                os.path.join(tmp, "out"), *extra], env=env, check=True, capture_output=True)
                ws.append(time.perf_counter() - t0)
        print(f"| {label} | {', '.join(f'{w:.1f}' for w in ws)} | {statistics.median(ws):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["pairs", "pair", "opt-levels", "inline", "inline-child", "startup", "suite"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--rows", action="store_true")
    ap.add_argument("--scenario", choices=list(SCENARIOS), default="cold")
    ap.add_argument("--before", default="", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.what == "pair" and a.json:
        print(json.dumps(child_pair(a.args[0], a.args[1], a.rows, [b for b in a.before.split(",") if b])))
    elif a.what == "pair":
        print(json.dumps(run_pair(a.args[0], a.args[1], a.rows, a.scenario), indent=1))
    elif a.what == "inline-child":
        print(json.dumps(child_inline(a.args[0], a.args[1], a.args[2] == "1")))
    else:
        {"pairs": table_pairs, "opt-levels": opt_levels, "inline": inline_study, "startup": startup,
         "suite": suite}[a.what](a.repeat)


if __name__ == "__main__":
    main()
