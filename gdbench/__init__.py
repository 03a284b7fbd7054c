"""gdbench: a numba-accelerated benchmarking harness for gradient-descent optimizers."""

from __future__ import annotations

from . import problems
from .api import Result, minimize
from .engine import SweepResult, sweep
from .optimizers import OPTIMIZERS
from .plugins import register, register_optimizer, register_problem
from .problems import PROBLEMS

__version__ = "0.1.0"

__all__ = ["OPTIMIZERS", "PROBLEMS", "Result", "SweepResult", "minimize", "problems", "register", "register_optimizer",
           "register_problem", "sweep", "__version__"]
