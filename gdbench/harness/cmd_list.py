"""``gdbench list``: optimizers, problems and suites, each with one line and its parameters."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", nargs="?", choices=["optimizers", "problems", "suites", "executors"],
                   help="list only this kind")


def _params(d: dict) -> str:
    return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in d.items())


def run(args: argparse.Namespace) -> int:
    from ..optimizers import OPTIMIZERS
    from ..problems import PROBLEMS
    from . import suite as suite_mod
    from .executors import EXECUTORS

    out: list[str] = []
    if args.what in (None, "optimizers"):
        out.append("Optimizers (update rules; every one takes batch_size, schedule, clip, noise, init, restart too):")
        w = max(map(len, OPTIMIZERS)) + 2
        for name, o in OPTIMIZERS.items():
            out.append(f"  {name:<{w}}{o.summary}")
            out.append(f"  {'':<{w}}defaults: {_params(o.hyper)}")
        for name, b in suite_mod.ESTIMATOR_VARIANTS.items():
            out.append(f"  {name:<{w}}suite name: gd with batch_size={b!r}")
        out.append("")
    if args.what in (None, "problems"):
        out.append("Problems:")
        w = max(map(len, PROBLEMS)) + 2
        for name, m in PROBLEMS.items():
            out.append(f"  {name:<{w}}{m.SUMMARY}")
            out.append(f"  {'':<{w}}{m.KIND}; parameters: {_params(m.PARAMS) or 'none'}")
        out.append("  Random starts (suite: init in [problems.X] or a variant): init = {dist = \"uniform\", low, high} "
                   "or {dist = \"normal\", scale, center}")
        out.append("  Restarts (suite: a variant's restart, needs a random init): restart = {every = k} or "
                   "{on = \"stall\", window = 100, tol = 1e-4}")
        out.append("")
    if args.what in (None, "suites"):
        out.append("Suites (gdbench run NAME):")
        names = suite_mod.list_suites()
        w = max(map(len, names), default=4) + 2
        import tomllib

        for name in names:
            path = suite_mod.find_suite(name)
            try:
                doc = tomllib.loads(path.read_text(encoding="utf-8"))
                desc = doc.get("description", "")
                extra = (f"{len(doc.get('problems', {}))} problems × {len(doc.get('optimizers', {}))} variants, "
                         f"steps={doc.get('steps', '?')}, seeds={doc.get('seeds', 1)}")
            except (tomllib.TOMLDecodeError, OSError) as e:
                desc, extra = f"(unreadable: {e})", ""
            out.append(f"  {name:<{w}}{desc}")
            if extra:
                out.append(f"  {'':<{w}}{extra}  [{path}]")
        out.append("")
    if args.what in (None, "executors"):
        out.append("Executors (gdbench run --executor NAME): " + ", ".join(EXECUTORS))
    print("\n".join(out).rstrip())
    return 0
