"""Registry of update rules: one module per rule, one line per module here."""

from __future__ import annotations

from . import adadelta, adagrad, adam, adamw, amsgrad, gd, momentum, nadam, nesterov, newton, rmsprop
from .base import Optimizer

OPTIMIZERS: dict[str, Optimizer] = {
    m.NAME: Optimizer.from_module(m)
    for m in (gd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, amsgrad, nadam, newton)
}


def get_optimizer(name: str) -> Optimizer:
    """The registry record for ``name``; a ValueError lists the allowed names otherwise."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}") from None


__all__ = ["OPTIMIZERS", "Optimizer", "get_optimizer"]
