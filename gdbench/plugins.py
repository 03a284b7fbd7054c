"""Plugins: update rules and problems of your own, equal to the built-ins.

A plugin is one Python module following the contract of :mod:`gdbench.optimizers.base` (an
update rule) or :mod:`gdbench.problems.base` (a problem, or a loss of the linear-model family).
It joins the registries (``gdbench.OPTIMIZERS``, ``gdbench.PROBLEMS``) from

- a file: ``gdbench.register("lion.py")``, a path given to ``gdbench.minimize``/``gdbench.sweep``,
  a suite file's ``plugins = [...]`` or ``rule = "lion.py"``, or ``gdbench check|list FILE``;
- an installed package: an entry point in the group ``gdbench.optimizers`` or ``gdbench.problems``
  whose value is the module (``lion = "mypkg.lion"``), found without any path, the way pytest and
  flake8 find theirs.

A file is imported under a name derived from its content (``gdbench_plugin_lion_3fa2b1c0d9e8``),
so its compiled kernels are cached per version, and its source travels with every task of a run
(:class:`PluginSource`): workers of ``--executor processes`` or ``dask`` load the same bytes and
need no shared folder. Names must be unique: a plugin may not shadow a built-in or another plugin.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .contract import ContractError
from .optimizers import OPTIMIZERS
from .optimizers.base import Optimizer
from .problems import PROBLEMS, ProblemDef
from .problems import add as _add_problem

GROUPS = {"optimizer": "gdbench.optimizers", "problem": "gdbench.problems"}
#: suite names that mean "gd with an estimator": a rule may not take them either
RESERVED_RULE_NAMES = ("batch_gd", "sgd", "minibatch")
_lock = threading.RLock()
_BUILTIN_OPTIMIZERS = frozenset(OPTIMIZERS)
_BUILTIN_PROBLEMS = frozenset(PROBLEMS)


@dataclass(frozen=True)
class PluginSource:
    """Everything a worker needs to load a plugin: where it came from, its bytes and its hash."""

    kind: str  # "optimizer" or "problem"
    name: str
    module: str  # the module name it is imported under
    path: str  # the file it was loaded from
    sha256: str
    source: str  # the file's text (empty for an installed package's module: workers import it by name)
    origin: str  # "file" or "entry point <distribution>"

    def describe(self) -> dict[str, str]:
        """What ``meta.json`` records of it: every result traces to the exact code."""
        return {"kind": self.kind, "name": self.name, "path": self.path, "sha256": self.sha256,
                "origin": self.origin}


_SOURCES: dict[str, PluginSource] = {}  # module name -> source
_entry_points_loaded = False


def _safe(stem: str) -> str:
    s = re.sub(r"\W", "_", stem).strip("_").lower() or "plugin"
    return s if not s[0].isdigit() else f"p_{s}"


def module_name_for(path: Path, sha: str) -> str:
    return f"gdbench_plugin_{_safe(path.stem)}_{sha[:12]}"


def _import_error(path: Path, e: BaseException) -> ContractError:
    """numba's or Python's error while importing a plugin, boiled down to the line of the file."""
    if isinstance(e, SyntaxError):
        return ContractError(f"{path}:{e.lineno}: syntax error: {e.msg}")
    line = None
    for fr in traceback.extract_tb(e.__traceback__):
        if Path(fr.filename).resolve() == path.resolve():
            line = fr.lineno
    where = f"{path}:{line}" if line else str(path)
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return ContractError(f"{where}: {type(e).__name__} while importing the plugin: {msg}")


def _exec_file(path: Path, modname: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise ContractError(f"{path}: not a Python file that can be imported")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException as e:  # noqa: BLE001 - any import failure becomes one line naming the file
        sys.modules.pop(modname, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise _import_error(path, e) from None
    return mod


def load_file(path: str | Path) -> ModuleType:
    """Import a plugin file under its content-addressed name (once per process and content)."""
    p = Path(path).expanduser()
    if p.suffix != ".py":
        raise ContractError(f"{p}: a plugin is a Python file ending in .py")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ContractError(f"{p}: plugin file does not exist") from None
    except OSError as e:
        raise ContractError(f"{p}: cannot read the plugin file ({e.strerror})") from None
    sha = hashlib.sha256(data).hexdigest()
    modname = module_name_for(p, sha)
    with _lock:
        mod = sys.modules.get(modname)
        if mod is None:
            mod = _exec_file(p, modname)
        src = PluginSource(kind_of(mod), str(getattr(mod, "NAME", p.stem)), modname, str(p.resolve()), sha,
                           data.decode("utf-8", errors="replace"), "file")
        _SOURCES[modname] = src
    return mod


def kind_of(mod: ModuleType) -> str:
    """``"optimizer"`` (it has a ``step`` or ``HYPER``) or ``"problem"`` (a ``loss_grad`` or a loss pair)."""
    if hasattr(mod, "step") or hasattr(mod, "HYPER"):
        return "optimizer"
    if hasattr(mod, "loss_grad") or getattr(mod, "KIND", None) == "linear" or hasattr(mod, "dloss"):
        return "problem"
    raise ContractError(f"{getattr(mod, '__file__', mod.__name__)}: neither an update rule (no step) nor a problem "
                        "(no loss_grad, no loss/dloss pair)")


def _check_name(rec: Any, kind: str) -> None:
    registry = OPTIMIZERS if kind == "optimizer" else PROBLEMS
    builtins = _BUILTIN_OPTIMIZERS if kind == "optimizer" else _BUILTIN_PROBLEMS
    where = rec.path or rec.module.__name__
    if rec.name in builtins:
        raise ContractError(f"{where}: NAME {rec.name!r} would shadow the built-in {kind} {rec.name!r}; rename it")
    if kind == "optimizer" and rec.name in RESERVED_RULE_NAMES:
        raise ContractError(f"{where}: NAME {rec.name!r} is reserved (a suite name for gd with an estimator); "
                            "rename it")
    other = registry.get(rec.name)
    if other is not None and other.module is not rec.module:
        same_file = other.path is not None and rec.path is not None and Path(other.path).resolve() == Path(
            rec.path).resolve()
        if not same_file:  # the same file, edited since: the new version replaces the old one
            raise ContractError(f"two {kind} plugins are named {rec.name!r}: {other.path or other.module.__name__} "
                                f"and {where}; rename one")


def register(obj: Any, *, origin: str | None = None) -> Optimizer | ProblemDef:
    """Add a plugin (a file path, a module, or a registry record) to its registry and return its record.

    ContractError (a ValueError, one line naming the file) when it breaks its contract or clashes
    with a built-in or another plugin's name. Registering the same module again is a no-op.
    """
    if isinstance(obj, (Optimizer, ProblemDef)):
        return obj
    if isinstance(obj, (str, Path)):
        mod = load_file(obj)
        origin = origin or "file"
    elif isinstance(obj, ModuleType):
        mod = obj
        origin = origin or ("file" if mod.__name__.startswith("gdbench_plugin_") else "module")
    else:
        raise ValueError(f"a plugin is a path to a .py file or a module, got {type(obj).__name__}")
    kind = kind_of(mod)
    with _lock:
        if kind == "optimizer":
            existing = OPTIMIZERS.get(getattr(mod, "NAME", None))
            if existing is not None and existing.module is mod:
                return existing
            rec: Any = Optimizer.from_module(mod, origin=origin)
            _check_name(rec, kind)
            OPTIMIZERS[rec.name] = rec
        else:
            existing = PROBLEMS.get(getattr(mod, "NAME", None))
            if existing is not None and existing.module is mod:
                return existing
            rec = ProblemDef.from_module(mod, origin=origin)
            _check_name(rec, kind)
            _add_problem(rec)
            import gdbench.problems as gp

            from .problems import _factory

            setattr(gp, rec.name, _factory(rec.name))
        if mod.__name__ not in _SOURCES and getattr(mod, "__file__", None):
            data = Path(mod.__file__).read_bytes()
            _SOURCES[mod.__name__] = PluginSource(kind, rec.name, mod.__name__, str(Path(mod.__file__).resolve()),
                                                  hashlib.sha256(data).hexdigest(),
                                                  "" if origin.startswith("entry point") else data.decode(
                                                      "utf-8", errors="replace"), origin)
    return rec


def register_optimizer(obj: Any) -> Optimizer:
    rec = register(obj)
    if not isinstance(rec, Optimizer):
        raise ContractError(f"{getattr(rec, 'path', None) or rec.name}: not an update rule (no step)")
    return rec


def register_problem(obj: Any) -> ProblemDef:
    rec = register(obj)
    if not isinstance(rec, ProblemDef):
        raise ContractError(f"{getattr(rec, 'path', None) or rec.name}: not a problem")
    return rec


def _is_path(x: Any) -> bool:
    return isinstance(x, Path) or (isinstance(x, str) and (x.endswith(".py") or "/" in x or "\\" in x))


def resolve_optimizer(x: Any) -> Optimizer:
    """A registry name, a path to a plugin file, a module, or a record → the Optimizer record."""
    from .optimizers import get_optimizer

    if isinstance(x, Optimizer):
        return x
    if isinstance(x, ModuleType) or _is_path(x):
        return register_optimizer(x)
    return get_optimizer(x)


def resolve_problem(x: Any) -> ProblemDef:
    """A registry name, a path to a plugin file, a module, or a record → the ProblemDef record."""
    from .problems import get_problem

    if isinstance(x, ProblemDef):
        return x
    if isinstance(x, ModuleType) or _is_path(x):
        return register_problem(x)
    return get_problem(x)


def load_entry_points() -> list[Optimizer | ProblemDef]:
    """Register every installed package's plugins (entry point groups ``gdbench.optimizers`` and
    ``gdbench.problems``), once per process. A broken one is skipped with a warning naming it."""
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return []
        _entry_points_loaded = True
        out = []
        for kind, group in GROUPS.items():
            for ep in importlib.metadata.entry_points(group=group):
                dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
                try:
                    mod = ep.load()
                    if not isinstance(mod, ModuleType):
                        raise ContractError(f"entry point {ep.name} = {ep.value!r}: the value must be a module")
                    rec = register(mod, origin=f"entry point {dist}")
                    if kind_of(mod) != kind:
                        raise ContractError(f"entry point {ep.name} = {ep.value!r} in group {group}: it is a "
                                            f"{kind_of(mod)}")
                    out.append(rec)
                except Exception as e:  # noqa: BLE001 - one broken package must not break gdbench
                    import warnings

                    warnings.warn(f"gdbench: plugin entry point {ep.name!r} of {dist} skipped: {e}", stacklevel=2)
        return out


def source_of(rec: Any) -> PluginSource | None:
    """The shippable source of a plugin record (None for built-ins)."""
    if not getattr(rec, "is_plugin", False):
        return None
    return _SOURCES.get(rec.module.__name__)


def loaded_sources() -> list[PluginSource]:
    return sorted(_SOURCES.values(), key=lambda s: (s.kind, s.name))


def ensure(sources: Iterable[PluginSource]) -> None:
    """Worker side: make each plugin importable under its module name and registered — from its
    file when this machine has it with the same content, else from the shipped text (written to the
    gdbench cache folder), or for an installed package by importing it."""
    from .kernels.codegen import cache_root

    for src in sources:
        with _lock:
            mod = sys.modules.get(src.module)
            if mod is None:
                if src.origin.startswith("entry point") or not src.source:
                    mod = importlib.import_module(src.module)
                else:
                    p = Path(src.path)
                    ok = False
                    try:
                        ok = hashlib.sha256(p.read_bytes()).hexdigest() == src.sha256
                    except OSError:
                        pass
                    if not ok:
                        d = cache_root() / "plugins" / src.sha256[:16]
                        d.mkdir(parents=True, exist_ok=True)
                        p = d / Path(src.path).name
                        if not p.is_file() or hashlib.sha256(p.read_bytes()).hexdigest() != src.sha256:
                            from ._sys import atomic_write_bytes

                            atomic_write_bytes(p, src.source.encode("utf-8"), fsync=False)
                    mod = _exec_file(p, src.module)
                    _SOURCES[src.module] = src
            register(mod, origin=src.origin)


__all__ = ["GROUPS", "PluginSource", "ensure", "kind_of", "load_entry_points", "load_file", "loaded_sources",
           "register", "register_optimizer", "register_problem", "resolve_optimizer", "resolve_problem", "source_of"]
