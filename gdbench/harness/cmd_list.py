"""``gdbench list``: optimizers, problems and suites, each with one line and its parameters."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", nargs="?", choices=["optimizers", "problems", "suites", "executors", "plugins"],
                   help="list only this kind")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE",
                   help="also load this plugin file (repeatable); installed plugins are always listed")
    p.add_argument("--suite", metavar="SUITE", help="also load the plugins this suite file uses")


def _params(d: dict) -> str:
    return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in d.items())


def run(args: argparse.Namespace) -> int:
    from ..optimizers import OPTIMIZERS
    from ..plugins import load_entry_points, register
    from ..problems import PROBLEMS
    from . import suite as suite_mod
    from .executors import EXECUTORS

    load_entry_points()
    for f in args.plugin:
        register(f)
    if args.suite:
        suite_mod.load(args.suite)  # registers the plugins the suite names
    out: list[str] = []

    def origin(rec) -> str:
        return f"  [{rec.origin}: {rec.path or rec.module.__name__}]" if rec.is_plugin else ""

    if args.what == "plugins":
        plugs = [*(o for o in OPTIMIZERS.values() if o.is_plugin), *(p for p in PROBLEMS.values() if p.is_plugin)]
        out.append("Plugins (gdbench list --plugin FILE, a suite's `plugins`, or installed entry points):")
        for rec in plugs:
            kind = "optimizer" if hasattr(rec, "hyper") else "problem"
            params = _params(rec.hyper) if kind == "optimizer" else _params(rec.params)
            out.append(f"  {rec.name} ({kind}) {rec.summary}")
            out.append(f"    {params}{origin(rec)}")
        if not plugs:
            out.append("  none loaded")
    if args.what in (None, "optimizers"):
        out.append("Optimizers (update rules; every one takes batch_size, schedule, clip, noise, init, restart too):")
        w = max(map(len, OPTIMIZERS)) + 2
        for name, o in OPTIMIZERS.items():
            out.append(f"  {name:<{w}}{o.summary}")
            out.append(f"  {'':<{w}}defaults: {_params(o.hyper)}{origin(o)}")
        for name, b in suite_mod.ESTIMATOR_VARIANTS.items():
            out.append(f"  {name:<{w}}suite name: gd with batch_size={b!r}")
        out.append("")
    if args.what in (None, "problems"):
        out.append("Problems:")
        w = max(map(len, PROBLEMS)) + 2
        for name, m in PROBLEMS.items():
            out.append(f"  {name:<{w}}{m.summary}")
            kind = "data (a loss of the linear-model family)" if m.form == "linear" else m.kind
            out.append(f"  {'':<{w}}{kind}; parameters: {_params(m.params)}{origin(m)}")
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
