"""``gdbench`` command line: a thin dispatcher.

Each sub-command lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; only the chosen one is imported, so ``gdbench list`` does not pay for
matplotlib or the benchmark peers. Errors in user input are printed as one line (exit 2);
set ``GDBENCH_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

from .errors import UserError

#: name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("gdbench.harness.cmd_run", "run a suite (default: quick) and write results/<suite>/"),
    "list": ("gdbench.harness.cmd_list", "list optimizers, problems and suites with their parameters"),
    "check": ("gdbench.harness.cmd_check", "validate plugin files (update rules, problems) before using them"),
    "report": ("gdbench.harness.cmd_report", "redraw tables and figures from saved results"),
    "export": ("gdbench.harness.cmd_export", "export a results folder (IOHprofiler format for IOHanalyzer)"),
    "compare": ("gdbench.harness.cmd_compare", "compare two result folders; exit 1 on convergence changes"),
    "bench": ("gdbench.perf.cmd_bench", "time gdbench against NumPy, torch, scikit-learn and the roofline"),
    "perf": ("gdbench.perf.cmd_perf", "pyperf suite of the hot kernels (JSON output)"),
    "perf-gate": ("gdbench.perf.cmd_gate", "exit 1 when NEW.json is significantly slower than BASE.json"),
}


def _top_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gdbench", description="Benchmark gradient-descent optimizers.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    return p


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings (an estimated f*, a label mapping, degenerate data) as one line, not a source excerpt."""
    return f"gdbench: {category.__name__}: {message}\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not os.environ.get("GDBENCH_DEBUG"):
        import warnings

        warnings.formatwarning = _one_line_warning
    if not argv or argv[0] not in COMMANDS:
        args = _top_parser().parse_args(argv)
        if args.version:
            from . import __version__

            print(__version__)
            return 0
        _top_parser().print_help()
        return 0 if not argv else 2
    name, rest = argv[0], argv[1:]
    modname, help_ = COMMANDS[name]
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name and modname.startswith(e.name):
            print(f"gdbench {name}: not available in this build", file=sys.stderr)
            return 2
        raise
    parser = argparse.ArgumentParser(prog=f"gdbench {name}", description=help_)
    mod.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        return int(mod.run(args) or 0)
    except (UserError, ValueError) as e:
        if os.environ.get("GDBENCH_DEBUG"):
            raise
        print(f"gdbench {name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gdbench {name}: interrupted; finished runs are saved (use --resume to continue)", file=sys.stderr)
        return 130


def entry() -> None:
    """The ``gdbench`` console script and ``python -m gdbench``: :func:`main`, then exit.

    Before exiting, every object still alive is moved out of the garbage collector's reach
    (``gc.freeze``): the interpreter's shutdown otherwise runs full collections over all of them,
    and numba's compiler leaves many behind (0.3-0.4 s after a warm ``gdbench run``,
    0.5-0.7 s after a cold one, measured). Exit handlers still run and modules are still torn down
    (files close, buffers flush); only cycles left at exit go uncollected, as the OS reclaims them."""
    rc = main()
    gc.freeze()
    sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    entry()
