"""What ``gdbench check`` verifies of an update rule or a problem before anyone trusts its numbers —
the same checks the test suite runs over every built-in.

Update rule: the compiled rule, through the real driver, against its NumPy ``reference`` on two
problems for 300 steps (≤ 1e-12 relative), and with a mini-batch estimator, a schedule, clipping
and gradient noise; the state rows ``init`` produces; hyper-parameter defaults inside ``BOUNDS`` and
values outside refused; the same seed giving the same bits and another seed other bits; a NaN-
producing learning rate recorded as diverged.
Problem: the gradient (and Hessian) against central differences at several points; a loss pair's
``dloss``/``d2loss`` against differences of ``loss``; ∇f(x*) ≈ 0 and f(x*) = f*; f* a lower bound
near the start and the optimum.

:func:`reference_run` is the plain-Python twin of the driver (same sampling stream, the rule's
NumPy reference) that these checks and ``tests/test_optimizers.py`` use.
"""

from __future__ import annotations

import math
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RTOL = 1e-12
STEPS = 300


@dataclass
class Check:
    """One verified property: its name, whether it holds, and the evidence."""

    name: str
    ok: bool
    detail: str = ""


def explain(e: BaseException, files: list[str]) -> str:
    """An exception (numba's typing errors included), boiled down to one line at the user's file."""
    text = str(e)
    for f in files:
        rp = str(Path(f).resolve())
        m = None
        for m in re.finditer(r'File "([^"]+)", line (\d+)', text):
            if Path(m.group(1)).resolve() == Path(rp):
                break
        else:
            m = None
        if m is None:
            for fr in reversed(traceback.extract_tb(e.__traceback__)):
                if Path(fr.filename).resolve() == Path(rp):
                    return f"{f}:{fr.lineno}: {type(e).__name__}: {_first_line(text)}"
            continue
        return f"{f}:{m.group(2)}: {type(e).__name__}: {_first_line(text)}"
    return f"{type(e).__name__}: {_first_line(text)}"


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if ln.strip()]
    # numba: "Failed in nopython mode pipeline (step: ...)" then the real reason, and for a missing
    # overload the signature it looked for (">>> add(float64, unicode_type)")
    sig = next((ln[4:] for ln in lines if ln.startswith(">>> ")), None)
    for ln in lines:
        if not ln.startswith(("Failed in ", "During: ", "File ")) and not ln.startswith("^"):
            return (ln + (f" ({sig})" if sig and sig not in ln else ""))[:400]
    return lines[0][:400] if lines else ""


# ------------------------------------------------------------------------------------------------ references

def reference_run(p: Any, opt: Any, steps: int, lr: float, hyper: dict[str, float] | None = None,
                  batch_size: int | None = None, seed: int = 0, schedule: Any = None, clip: Any = None,
                  noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Plain-Python twin of the driver: the same sampling stream and transforms, the rule's NumPy
    ``reference`` for the update. Returns (θ_final, losses at steps 0..steps)."""
    from .kernels.rng import rng_normal, rng_seed, shuffle
    from .kernels.transforms import clip_grad, scheduled_lr
    from .plugins import resolve_optimizer
    from .runspec import encode_clip, encode_schedule

    rec = resolve_optimizer(opt)
    res = rec.resolve(lr=lr, **(hyper or {}))
    theta = p.x0.copy()
    s = rec.init_state(p.dim, res, theta)
    skind, sp1, sp2 = encode_schedule(schedule, steps)
    ckind, cval = encode_clip(clip)
    st = np.empty(2, dtype=np.uint64)
    rng_seed(st, seed)
    n = p.n
    full = batch_size is None or batch_size >= n
    perm = np.arange(n)
    if not full:
        shuffle(perm, st)
    pos = 0
    losses = [p.loss(theta)]
    for t in range(1, steps + 1):
        if full:
            f, g = p.loss(theta), p.grad(theta)
            H = p.hess(theta) if rec.needs_hessian else None
        else:
            if pos >= n:
                shuffle(perm, st)
                pos = 0
            rows = perm[pos:pos + batch_size].copy()
            pos += len(rows)
            f, g = p.loss_grad_rows(theta, rows)
            H = p.hess(theta, rows) if rec.needs_hessian else None
        if noise > 0:
            g = g + np.array([noise * rng_normal(st) for _ in range(p.dim)])
        if ckind:
            clip_grad(g, ckind, cval)
        rec.reference_step(theta, g, H, s, res, scheduled_lr(res["lr"], skind, sp1, sp2, t), t, f, p.f_star)
        losses.append(p.loss(theta))
    return theta, np.array(losses)


def pick_lr(p: Any, opt: Any, steps: int = STEPS, **config: Any) -> float:
    """A learning rate at which the rule does not diverge on ``p`` within ``steps`` (with this
    configuration: estimator, schedule, …): its default, divided by 10 until it does not (the
    check needs a whole trajectory to compare)."""
    import gdbench

    from .plugins import resolve_optimizer

    rec = resolve_optimizer(opt)
    lr = rec.hyper["lr"]
    for _ in range(8):
        r = gdbench.sweep(p, rec, [{**config, "lr": lr}], steps=steps, record_every=0, threads=1)
        if r.status[0] != "diverged":
            return lr
        lr /= 10.0
    return lr


def compare_with_reference(p: Any, opt: Any, steps: int = STEPS, rtol: float = RTOL, **kw: Any) -> tuple[bool, str]:
    """The driver's trajectory against :func:`reference_run` (same configuration)."""
    import gdbench

    from .plugins import resolve_optimizer

    rec = resolve_optimizer(opt)
    lr = kw.pop("lr", None) or pick_lr(p, rec, steps, **kw)
    ref_keys = ("batch_size", "seed", "schedule", "clip", "noise")
    ref_kw = {k: v for k, v in kw.items() if k in ref_keys}
    hyper = {k: v for k, v in kw.items() if k not in ref_keys}
    r = gdbench.minimize(p, rec, steps=steps, record_every=1, lr=lr, **kw)
    if r.steps != steps:
        return False, f"the compiled run stopped after {r.steps} of {steps} steps ({r.status}) at lr={lr:g}"
    theta, losses = reference_run(p, rec, steps, lr, hyper, **ref_kw)
    got = r.trace["loss"].to_numpy()
    scale_t = np.maximum(np.abs(theta), 1e-14 / rtol)
    err_t = float(np.max(np.abs(r.params - theta) / scale_t))
    err_f = float(np.max(np.abs(got - losses) / np.maximum(np.abs(losses), 1e-14 / rtol)))
    ok = err_t <= rtol and err_f <= rtol and np.isfinite(theta).all()
    return ok, f"lr={lr:g}: max rel. difference θ {err_t:.1e}, loss {err_f:.1e} (limit {rtol:.0e})"


# ------------------------------------------------------------------------------------------------ update rules

def _small_problems() -> dict[str, Any]:
    from .problems import make

    return {"quadratic": make("quadratic", d=5, cond=10.0), "logistic": make("logistic", n=60, d=4)}


def _guard(name: str, fn: Callable[[], tuple[bool, str]], files: list[str]) -> Check:
    try:
        ok, detail = fn()
    except Exception as e:  # noqa: BLE001 - a failing check is reported, never raised
        return Check(name, False, explain(e, files))
    return Check(name, bool(ok), detail)


def check_optimizer(opt: Any) -> list[Check]:
    """Every check of an update rule (see the module docstring)."""
    import gdbench

    from .plugins import resolve_optimizer

    rec = resolve_optimizer(opt)
    files = [rec.path] if rec.path else []
    probs = _small_problems()
    out: list[Check] = []

    def compiles() -> tuple[bool, str]:
        r = gdbench.minimize(probs["quadratic"], rec, steps=2, lr=rec.hyper["lr"])
        return True, f"compiled (or loaded) in {r.compile_s:.2f} s"

    out.append(_guard("compiles", compiles, files))
    if not out[-1].ok:
        return out

    def state() -> tuple[bool, str]:
        s = rec.init_state(5, rec.resolve())
        ok = s.shape == (len(rec.state), 5) and bool(np.isfinite(s).all())
        return ok, f"init gives {s.shape} state rows {list(rec.state)}, finite: {bool(np.isfinite(s).all())}"

    out.append(_guard("state", state, files))

    def documented() -> tuple[bool, str]:
        missing = [h for h in rec.extra_names if h not in rec.doc]
        ok = not missing and "default" in rec.doc.lower()
        return ok, ("the docstring names every hyper-parameter and the defaults" if ok else
                    f"the docstring should state the update rule, its defaults and every hyper-parameter; missing: "
                    f"{', '.join(missing) or 'the word Default(s)'}")

    out.append(_guard("documented", documented, files))

    def bounds() -> tuple[bool, str]:
        rec.resolve()  # defaults inside their bounds
        refused = []
        for k, (lo, hi, _lo_in, _hi_in) in rec.bounds.items():
            bad = lo - 1.0 if math.isfinite(lo) else (hi + 1.0 if math.isfinite(hi) else None)
            if bad is None:
                continue
            try:
                rec.resolve(**{k: bad})
            except ValueError:
                refused.append(f"{k}={bad:g}")
            else:
                return False, f"{k}={bad:g} is outside BOUNDS but was accepted"
        return True, "defaults inside BOUNDS" + (f"; refused {', '.join(refused)}" if refused else "")

    out.append(_guard("hyper-parameter bounds", bounds, files))
    for pname, p in probs.items():
        if rec.needs_hessian and not p.has_hessian:
            continue
        out.append(_guard(f"matches its NumPy reference on {pname} ({STEPS} steps)",
                          lambda p=p: compare_with_reference(p, rec), files))
    lg = probs["logistic"]
    out.append(_guard("mini-batch, schedule, clipping, noise vs reference (logistic, 150 steps)",
                      lambda: compare_with_reference(
                          lg, rec, steps=150, batch_size=7, seed=3, noise=1e-3,
                          schedule={"name": "step", "step_size": 40, "gamma": 0.5}, clip={"norm": 0.5}), files))

    def same_bits() -> tuple[bool, str]:
        cfgs = [{"lr": pick_lr(lg, rec, 50), "batch_size": 5, "seed": s} for s in (11, 11, 12)]
        r = gdbench.sweep(lg, rec, cfgs, steps=50, record_every=5, threads=1)
        same = np.array_equal(r.trace[0], r.trace[1], equal_nan=True) and np.array_equal(r.theta[0], r.theta[1])
        differ = not np.array_equal(r.theta[0], r.theta[2])
        return same and differ, f"same seed identical: {same}; another seed differs: {differ}"

    out.append(_guard("same seed => same bits", same_bits, files))

    def nan_is_diverged() -> tuple[bool, str]:
        r = gdbench.minimize(probs["quadratic"], rec, steps=50, lr=1e300, record_every=5)
        return r.status == "diverged", f"lr=1e300 gives status {r.status!r}"

    out.append(_guard("NaN/overflow recorded as diverged", nan_is_diverged, files))
    return out


# ------------------------------------------------------------------------------------------------ problems

def _small_params(defn: Any) -> dict[str, Any]:
    if defn.form == "linear":
        return {"n": 60, "d": 4}
    return {}


def finite_difference_grad(p: Any, th: np.ndarray) -> np.ndarray:
    fd = np.empty(p.dim)
    for i in range(p.dim):
        h = 1e-6 * max(1.0, abs(th[i]))
        e = np.zeros(p.dim)
        e[i] = h
        fd[i] = (p.loss(th + e) - p.loss(th - e)) / (2 * h)
    return fd


def finite_difference_hess(p: Any, th: np.ndarray) -> np.ndarray:
    fd = np.empty((p.dim, p.dim))
    for i in range(p.dim):
        h = 1e-6 * max(1.0, abs(th[i]))
        e = np.zeros(p.dim)
        e[i] = h
        fd[:, i] = (p.grad(th + e) - p.grad(th - e)) / (2 * h)
    return fd


def check_points(p: Any, rng: np.random.Generator, k: int = 3) -> list[np.ndarray]:
    base = p.x_star if p.x_star is not None else p.x0
    return [base + 0.5 * rng.standard_normal(p.dim) for _ in range(k)] + [p.x0.copy()]


def check_problem(defn: Any) -> list[Check]:
    """Every check of a problem definition (see the module docstring)."""
    from .plugins import resolve_problem

    d = resolve_problem(defn)
    files = [d.path] if d.path else []
    out: list[Check] = []
    holder: dict[str, Any] = {}

    def builds() -> tuple[bool, str]:
        from .problems import make

        p = holder["p"] = make(d.name, **_small_params(d))
        return bool(np.isfinite(p.f_star)), f"{p!r}; f* {p.f_star_source}"

    out.append(_guard("builds (compiles its kernels)", builds, files))
    if not out[-1].ok:
        return out
    p = holder["p"]
    rng = np.random.default_rng(12345)
    pts = check_points(p, rng)

    def grad() -> tuple[bool, str]:
        worst = 0.0
        for th in pts:
            g, fd = p.grad(th), finite_difference_grad(p, th)
            worst = max(worst, float(np.max(np.abs(g - fd) / (1e-6 * np.abs(fd) + 1e-7))))
        return worst <= 1.0, f"{len(pts)} points, worst |g − fd| / (1e-6·|fd| + 1e-7) = {worst:.2g} (≤ 1)"

    out.append(_guard("gradient = central differences", grad, files))
    if p.has_hessian:
        def hess() -> tuple[bool, str]:
            worst, asym = 0.0, 0.0
            for th in pts:
                H, fd = p.hess(th), finite_difference_hess(p, th)
                asym = max(asym, float(np.max(np.abs(H - H.T))))
                worst = max(worst, float(np.max(np.abs(H - fd) / (1e-5 * np.abs(fd) + 1e-6))))
            return worst <= 1.0 and asym <= 1e-12, f"worst {worst:.2g} (≤ 1), asymmetry {asym:.1e}"

        out.append(_guard("Hessian = differences of the gradient", hess, files))
    if d.form == "linear":
        out.append(_guard("dloss/d2loss = differences of loss", lambda: _check_loss_pair(d, p), files))

    def optimum() -> tuple[bool, str]:
        notes = []
        ok = True
        if p.x_star is not None:
            gx = float(np.linalg.norm(p.grad(p.x_star)))
            fx = p.loss(p.x_star)
            ok &= gx <= 1e-7 * max(1.0, abs(p.f_star)) and abs(fx - p.f_star) <= 1e-12 * max(1.0, abs(p.f_star))
            notes.append(f"‖∇f(x*)‖ = {gx:.1e}, f(x*) − f* = {fx - p.f_star:.1e}")
        center = p.x_star if p.x_star is not None else p.x0
        low = min(p.loss(center + rng.standard_normal(p.dim) * s) for s in (1e-3, 1e-1, 1.0) for _ in range(30))
        ok &= low >= p.f_star - 1e-12 * max(1.0, abs(p.f_star))
        notes.append(f"no sampled point below f* (lowest {low - p.f_star:+.1e} from it)")
        notes.append(f"f* {p.f_star_source}")
        return ok, "; ".join(notes)

    out.append(_guard("optimum", optimum, files))
    return out


#: how far (relative) a loss's ``loss_dloss_vec`` may be from its ``loss`` and ``dloss``
VEC_RTOL = 1e-14
TINY = float(np.finfo(np.float64).tiny)


def _check_loss_pair(d: Any, p: Any) -> tuple[bool, str]:
    mod = d.module
    lp = [float(v) for v in p.prm[1:]]
    ys = np.unique(p.y)[:2] if d.task == "classification" else np.array([-1.3, 0.0, 2.0])
    zs = np.linspace(-3.0, 3.0, 61) + 0.0123  # off the usual kinks (margin 1, 0)
    worst1 = worst2 = 0.0
    for yv in ys:
        for z in zs:
            h = 1e-6 * max(1.0, abs(z))
            fd = (mod.loss(z + h, yv, *lp) - mod.loss(z - h, yv, *lp)) / (2 * h)
            worst1 = max(worst1, abs(mod.dloss(z, yv, *lp) - fd) / (1e-6 * abs(fd) + 1e-7))
            if hasattr(mod, "d2loss"):
                fd2 = (mod.dloss(z + h, yv, *lp) - mod.dloss(z - h, yv, *lp)) / (2 * h)
                worst2 = max(worst2, abs(mod.d2loss(z, yv, *lp) - fd2) / (1e-5 * abs(fd2) + 1e-6))
    ok = worst1 <= 1.0 and worst2 <= 1.0
    msg = (f"{len(zs) * len(ys)} (z, y) points: dloss worst {worst1:.2g}"
           + (f", d2loss worst {worst2:.2g}" if hasattr(mod, "d2loss") else "") + " (≤ 1)")
    if hasattr(mod, "loss_upper"):  # a bound the fused SGD step trusts: it must never be below the loss
        wide = np.concatenate([zs, np.geomspace(3.0, 1e8, 40), -np.geomspace(3.0, 1e8, 40), [0.0, 1.0, -1.0]])
        below = [(z, yv) for yv in ys for z in wide if not mod.loss_upper(z, yv, *lp) >= mod.loss(z, yv, *lp)]
        ok &= not below
        msg += (f"; loss_upper ≥ loss at {len(wide) * len(ys)} points" if not below
                else f"; loss_upper < loss at z={below[0][0]:.6g}, y={below[0][1]:g}")
    if hasattr(mod, "loss_dloss_vec"):  # the fused full-batch kernel's form: the same two functions
        wide = np.concatenate([zs, np.geomspace(3.0, 800.0, 60), -np.geomspace(3.0, 800.0, 60), [0.0, 1.0, -1.0]])
        worst = 0.0
        for yv in ys:
            for z in wide:
                lv, dv = mod.loss_dloss_vec(z, yv, *lp)
                for got, want in ((lv, mod.loss(z, yv, *lp)), (dv, mod.dloss(z, yv, *lp))):
                    if not (got == want or max(abs(got), abs(want)) < TINY):  # (subnormals: any)
                        worst = max(worst, abs(got - want) / abs(want) if want != 0.0 else np.inf)
        ok &= worst <= VEC_RTOL
        msg += (f"; loss_dloss_vec within {worst:.1e} of loss and dloss at {len(wide) * len(ys)} points "
                f"(≤ {VEC_RTOL:.0e} relative)")
    return ok, msg


def check_file(path: str) -> tuple[str, list[Check]]:
    """Load a plugin file and run its checks: (kind, checks). A file that does not load or breaks its
    contract gives one failed check with the reason."""
    from .plugins import kind_of, load_file, register

    try:
        mod = load_file(path)
        kind = kind_of(mod)
        rec = register(mod)
    except ValueError as e:
        return "plugin", [Check("loads and follows the contract", False, str(e))]
    checks = check_optimizer(rec) if kind == "optimizer" else check_problem(rec)
    return kind, [Check("loads and follows the contract", True, f"{kind} {rec.name!r}"), *checks]
