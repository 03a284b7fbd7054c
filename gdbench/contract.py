"""The shared vocabulary of plugin contracts (a leaf module): the error for a module that breaks
its contract, and the helpers that read a compiled function's parameters."""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any


class ContractError(ValueError):
    """A rule or problem module that does not follow the contract (one line: file and what is wrong)."""


def module_origin(mod: ModuleType) -> str:
    """The file a module was loaded from (for messages), or its name."""
    return str(getattr(mod, "__file__", None) or mod.__name__)


def params_of(fn: Any) -> list[str]:
    py = getattr(fn, "py_func", fn)
    sig = inspect.signature(py)
    for p in sig.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            raise ContractError(f"{inspect.getsourcefile(py) or py.__module__}: {py.__name__}{sig}: only plain "
                                "positional parameters are allowed (no *args, **kwargs or keyword-only)")
    return list(sig.parameters)


def is_jitted(fn: Any) -> bool:
    """An ``@njit`` function (under ``NUMBA_DISABLE_JIT=1`` every function passes: njit is a no-op there)."""
    if hasattr(fn, "py_func") or type(fn).__name__ in ("CPUDispatcher", "Dispatcher"):
        return True
    from numba.core import config

    return bool(config.DISABLE_JIT) and callable(fn)


def check_signature(where: str, fname: str, params: list[str], allowed: tuple[str, ...], hyper: list[str],
                    required: tuple[str, ...] = ()) -> None:
    for r in required:
        if r not in params:
            raise ContractError(f"{where}: {fname}({', '.join(params)}) must take '{r}'")
    for p in params:
        if p not in allowed and p not in hyper:
            raise ContractError(
                f"{where}: {fname}({', '.join(params)}): parameter {p!r} is neither one of "
                f"{', '.join(allowed)} nor a hyper-parameter of HYPER ({', '.join(hyper) or 'none'})")
    if len(set(params)) != len(params):
        raise ContractError(f"{where}: {fname}: a parameter name is repeated")


def source_sha256(mod: ModuleType) -> str | None:
    f = getattr(mod, "__file__", None)
    if not f:
        return None
    try:
        return hashlib.sha256(Path(f).read_bytes()).hexdigest()
    except OSError:
        return None
