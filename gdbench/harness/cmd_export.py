"""``gdbench export --format ioh DIR``: write a results folder in another tool's data format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("ioh",)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="a results folder written by `gdbench run` (e.g. results/quick)")
    p.add_argument("--format", choices=FORMATS, default="ioh",
                   help="ioh: the IOHprofiler format read by IOHanalyzer (.info + .dat files)")
    p.add_argument("--out", help="output folder (default: DIR/ioh)")
    p.add_argument("--runs", choices=["best", "all"], default="best",
                   help="best: each optimizer at its best lr per problem (default); all: every grid point")
    p.add_argument("--unit", choices=["grad_evals", "steps"], default="grad_evals",
                   help="the evaluation count: per-sample gradient evaluations (default) or steps")


def run(args: argparse.Namespace) -> int:
    from .ioh import export_ioh

    out = Path(args.out) if args.out else Path(args.dir) / "ioh"
    written = export_ioh(args.dir, out, runs_kind=args.runs, unit=args.unit)
    print(f"wrote {len(written)} files under {out}", file=sys.stderr)
    return 0
