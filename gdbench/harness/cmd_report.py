"""``gdbench report DIR``: redraw summary.md, the figures and report.html from a results folder's saved
tables (never re-running anything)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="a results folder written by `gdbench run` (e.g. results/quick)")
    p.add_argument("--no-figures", action="store_true",
                   help="rewrite summary.md and report.html without drawing the PNG figures")


def run(args: argparse.Namespace) -> int:
    from .report import write_report

    written = write_report(args.dir, figures=not args.no_figures)
    for p in written:
        print(p, file=sys.stderr)
    return 0
