"""Registry of update rules: one module per rule, one line per module here.

Rules of your own (a file, or an installed package's entry point in the group
``gdbench.optimizers``) join the registry through :func:`gdbench.plugins.register`.
"""

from __future__ import annotations

from . import adadelta, adagrad, adam, adamw, amsgrad, gd, momentum, nadam, nesterov, newton, rmsprop
from .base import Optimizer

OPTIMIZERS: dict[str, Optimizer] = {
    o.name: o for o in map(Optimizer.from_module, (
        gd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, amsgrad, nadam, newton))
}


def get_optimizer(name: str) -> Optimizer:
    """The registry record for ``name`` (installed plugins included); ValueError lists the allowed names."""
    if isinstance(name, str) and name not in OPTIMIZERS:
        from ..plugins import load_entry_points

        load_entry_points()
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}") from None


__all__ = ["OPTIMIZERS", "Optimizer", "get_optimizer"]
