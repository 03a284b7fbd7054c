"""Suite files (TOML) → a validated plan of :class:`~gdbench.harness.executors.GroupTask`.

The format is documented in README.md ("Suites and the harness"). Every error is one
:class:`SuiteError` (a ``ValueError``) naming the file, the field and what is allowed; the CLI
prints it as one line with exit code 2.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field, replace
from itertools import product
from pathlib import Path
from typing import Any

from .._sys import usable_cores
from ..optimizers import OPTIMIZERS
from ..problems import PROBLEMS
from ..runspec import (
    check_batch_value,
    check_noise,
    check_restart_init,
    encode_clip,
    encode_init,
    encode_restart,
    encode_schedule,
)
from .executors import GroupTask
from .metrics import DEFAULT_TOLERANCES
from .suite_resources import Limits
from .suite_resources import check as check_resources

#: the shipped suites: ``gdbench/suites`` in an installed wheel (copied there from the top-level
#: ``suites/`` folder at build time by ``setup.py``), else ``suites/`` of the source checkout
_PACKAGE_SUITES = Path(__file__).resolve().parents[1] / "suites"
SUITES_DIR = _PACKAGE_SUITES if _PACKAGE_SUITES.is_dir() else Path(__file__).resolve().parents[2] / "suites"

#: suite names of gradient estimators: the plain ``gd`` rule with that estimator
ESTIMATOR_VARIANTS = {"batch_gd": "full", "sgd": 1, "minibatch": 32}

TOP_FIELDS = {
    "name": "suite name (default: file stem)",
    "description": "one line shown by `gdbench list`",
    "steps": "step budget per run (integer >= 1)",
    "record_every": "trace interval in steps (integer >= 1)",
    "seeds": "an integer n (seeds 0..n-1) or a list of integers >= 0",
    "tolerances": "relative-suboptimality tolerances, numbers in (0, 1)",
    "target_tol": "the tolerance for success rate, ERT and best-lr selection (one of tolerances)",
    "stop_tol": "stop a run at this relative suboptimality (default: smallest tolerance; 0 = never)",
    "time_budget_s": "optional wall-time budget per run in seconds (> 0)",
    "timing_steps": "steps per run in the untimed-recording timing pass (integer >= 0)",
    "div_factor": "divergence threshold factor (> 0)",
    "escape_frac": "saddle escape threshold as a fraction of f_saddle - f* (in (0, 1])",
    "device": "cpu or cuda",
    "threads": "threads per sweep (integer >= 1; default: all cores)",
    "basin_map": "grid points per axis of the basin maps of 2-D multimodal problems (integer >= 2; 0 = none)",
    "executor": "where groups run: a name (local, processes, dask) or a table {name, scheduler, workers}; "
                "the command line overrides it",
    "plugins": "plugin files of yours (update rules, problems, losses), paths relative to the suite file",
    "baseline": "the optimizer variant (a key of [optimizers]) that the score's speed-up is measured against",
    "problems": "table of problems",
    "optimizers": "table of optimizer variants",
}
PROBLEM_META = {"problem": "registry name (default: the table key)", "steps": "override", "record_every": "override",
                "lr": "lr grid overriding every variant's lr on this problem",
                "init": "random starts: {dist = \"uniform\", low, high} or {dist = \"normal\", scale, center} "
                        "(default: the fixed x0; a variant's init wins)",
                "basin_map": "override of the top-level basin_map for this problem"}
VARIANT_META = {"rule": "update rule (default: the table key)", "problems": "list of problem keys to run on"}
CONFIG_FIELDS = ("lr", "batch_size", "schedule", "clip", "noise", "init", "restart")
#: problems a basin map is drawn for: 2-D, with every minimum known (problem.info["minima"])
BASIN_MAP_DIM = 2
DEVICES = ("cpu", "cuda")


class SuiteError(ValueError):
    """A bad suite file: one line naming the file, the field and what is allowed."""


@dataclass
class Plan:
    """A validated, expanded suite."""

    name: str
    path: str
    sha256: str
    settings: dict[str, Any]
    tasks: list[GroupTask]
    problems: dict[str, dict[str, Any]]  # label -> {"problem": name, **params}
    variants: dict[str, str]  # variant -> rule
    skipped: list[str] = field(default_factory=list)
    description: str = ""
    plugins: list[Any] = field(default_factory=list)  # gdbench.plugins.PluginSource of every plugin used
    optima: dict[str, dict[str, Any]] = field(default_factory=dict)  # problem label -> f*, its source

    @property
    def n_runs(self) -> int:
        return sum(t.n_runs for t in self.tasks)

    def pairs(self) -> list[tuple[str, str]]:
        """Distinct (rule, problem registry name) pairs: what must be compiled."""
        return sorted({(t.rule, t.problem_name) for t in self.tasks})


def find_suite(name_or_path: str) -> Path:
    """A suite file from a path, or a name looked up in ./suites and the package's suites/."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise SuiteError(f"suite file {str(p)!r} does not exist")
        return p
    for d in (Path.cwd() / "suites", SUITES_DIR):
        q = d / f"{name_or_path}.toml"
        if q.is_file():
            return q
    raise SuiteError(f"unknown suite {name_or_path!r}; allowed: {', '.join(list_suites()) or 'none found'} "
                     "or a path to a .toml file")


def list_suites() -> list[str]:
    names: set[str] = set()
    for d in (Path.cwd() / "suites", SUITES_DIR):
        if d.is_dir():
            names.update(q.stem for q in d.glob("*.toml"))
    return sorted(names)


def _fmt(v: Any) -> str:
    """Compact, stable text for run names."""
    if v is None:
        return "full"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict):
        if "name" in v:
            rest = ",".join(f"{k}={_fmt(x)}" for k, x in v.items() if k != "name")
            return f"{v['name']}({rest})" if rest else str(v["name"])
        return ",".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)


class _Ctx:
    def __init__(self, path: Path):
        self.file = str(path)

    def err(self, fld: str, msg: str) -> SuiteError:
        return SuiteError(one_line(f"{self.file}: {fld}: {msg}"))


def one_line(text: str) -> str:
    """``text`` with control characters (a newline in a label, ...) escaped: an error stays one line."""
    return "".join(c.encode("unicode_escape").decode("ascii") if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c
                   for c in text)


def _expand(ctx: _Ctx, fld: str, v: Any) -> list[Any]:
    """A field value → its grid (list of values). Lists are grids; ``{logspace=[lo, hi, num]}``
    (or ``{linspace=...}``) is the short form; anything else is one value."""
    if isinstance(v, dict) and set(v) & {"logspace", "linspace"}:
        if len(v) != 1:
            raise ctx.err(fld, "a range table has exactly one key: logspace = [lo, hi, num] or linspace = [...]")
        kind, spec = next(iter(v.items()))
        ok = (isinstance(spec, list) and len(spec) == 3 and all(isinstance(x, (int, float)) and not isinstance(
            x, bool) for x in spec) and isinstance(spec[2], int) and spec[2] >= 1)
        if not ok:
            raise ctx.err(fld, f"{kind} must be [lo, hi, num]: numbers lo, hi and an integer num >= 1, got {spec!r}")
        lo, hi, num = float(spec[0]), float(spec[1]), int(spec[2])
        if kind == "logspace":
            if lo <= 0 or hi <= 0:
                raise ctx.err(fld, f"logspace bounds must be > 0, got {spec!r}")
            vals = [lo] if num == 1 else [math.exp(math.log(lo) + i * (math.log(hi) - math.log(lo)) / (num - 1))
                                         for i in range(num)]
        else:
            vals = [lo] if num == 1 else [lo + i * (hi - lo) / (num - 1) for i in range(num)]
        return _distinct(ctx, fld, [float(f"{x:.12g}") for x in vals])
    if isinstance(v, list):
        if not v:
            raise ctx.err(fld, "empty grid; give at least one value")
        return _distinct(ctx, fld, list(v))
    return [v]


def _distinct(ctx: _Ctx, fld: str, vals: list[Any]) -> list[Any]:
    """``vals`` when no value repeats (a repeated one would give two runs with one id)."""
    seen: set[str] = set()
    for x in vals:
        key = _canon(x)
        if key in seen:
            raise ctx.err(fld, f"the grid holds {x!r} more than once; give each value once")
        seen.add(key)
    return vals


def _int_field(ctx: _Ctx, fld: str, v: Any, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ctx.err(fld, f"must be an integer >= {lo}, got {v!r}")
    return v


def _num_field(ctx: _Ctx, fld: str, v: Any, *, lo: float, hi: float = math.inf, lo_open: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ctx.err(fld, f"must be a number, got {v!r}")
    if (v <= lo if lo_open else v < lo) or v > hi:
        raise ctx.err(fld, f"must be in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {v!r}")
    return float(v)


def _check_keys(ctx: _Ctx, where: str, got: dict, allowed: list[str] | dict) -> None:
    for k in got:
        if k not in allowed:
            raise ctx.err(f"{where}{k}", f"unknown field; allowed: {', '.join(allowed)}")


EXECUTOR_FIELDS = {"name": "local, processes or dask", "scheduler": "dask scheduler address",
                   "workers": "worker processes (integer >= 1)"}


def _executor_field(ctx: _Ctx, v: Any) -> dict[str, Any]:
    """``executor = "dask"`` or ``[executor] name = "dask", scheduler = "tcp://...", workers = 4``."""
    from .executors import EXECUTORS

    if v is None:
        return {}
    if isinstance(v, str):
        v = {"name": v}
    if not isinstance(v, dict):
        raise ctx.err("executor", f"must be a name ({', '.join(EXECUTORS)}) or a table {{name, scheduler, workers}}, "
                      f"got {v!r}")
    _check_keys(ctx, "executor.", v, EXECUTOR_FIELDS)
    out: dict[str, Any] = {}
    if "name" in v:
        if not isinstance(v["name"], str) or v["name"] not in EXECUTORS:
            raise ctx.err("executor.name", f"unknown executor {v['name']!r}; allowed: {', '.join(EXECUTORS)}")
        out["name"] = v["name"]
    if "scheduler" in v:
        if not isinstance(v["scheduler"], str) or not v["scheduler"]:
            raise ctx.err("executor.scheduler", f"must be an address such as 'tcp://host:8786', got {v['scheduler']!r}")
        out["scheduler"] = v["scheduler"]
    if "workers" in v:
        out["workers"] = _int_field(ctx, "executor.workers", v["workers"], 1)
    return out


def _plugin_path(ctx: _Ctx, suite_dir: Path, fld: str, value: str) -> Path:
    p = Path(value).expanduser()
    if not p.is_absolute():
        p = suite_dir / p if (suite_dir / p).exists() else Path.cwd() / p
    if not p.is_file():
        raise ctx.err(fld, f"plugin file {value!r} does not exist (relative paths are looked up next to the suite "
                      "file, then in the current folder)")
    return p


def _register(ctx: _Ctx, suite_dir: Path, fld: str, value: str, kind: str) -> str:
    """A plugin file named in a suite field: registered, and its registry name returned."""
    from ..plugins import register

    try:
        rec = register(_plugin_path(ctx, suite_dir, fld, value))
    except ValueError as e:
        raise ctx.err(fld, str(e)) from None
    got = "optimizer" if hasattr(rec, "step_params") else "problem"
    if got != kind:
        raise ctx.err(fld, f"{value!r} is a {got} plugin, not a{'n' if kind == 'optimizer' else ''} {kind}")
    return rec.name


def _is_plugin_path(v: Any) -> bool:
    return isinstance(v, str) and v.endswith(".py")


def _problem_params_allowed(name: str) -> list[str]:
    return [p for p in PROBLEMS[name].allowed_params() if p not in ("X", "y")]


def load(path_or_name: str | Path, *, device: str | None = None, filter_: str | None = None,
         threads: int | None = None, limits: Limits | None = None) -> Plan:
    """Parse, validate and expand a suite file. ``device``/``threads`` override the file.

    ``limits`` (memory, run count, workers): the suite is refused before any problem is built
    or any grid expanded when its resource plan does not fit (default: the available memory).
    """
    path = find_suite(str(path_or_name))
    ctx = _Ctx(path)
    raw = path.read_bytes()
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SuiteError(f"{ctx.file}: malformed TOML ({e})") from None
    _check_keys(ctx, "", doc, TOP_FIELDS)

    name = doc.get("name", path.stem)
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ "):
        raise ctx.err("name", f"must be a non-empty string without '/', '\\' or spaces, got {name!r}")
    steps = _int_field(ctx, "steps", doc.get("steps", 1000), 1)
    record_every = _int_field(ctx, "record_every", doc.get("record_every", max(1, steps // 200)), 1)
    seeds_raw = doc.get("seeds", 1)
    seeds: range | list[int]
    if isinstance(seeds_raw, int) and not isinstance(seeds_raw, bool):
        seeds = range(_int_field(ctx, "seeds", seeds_raw, 1))  # a list only once the resource plan fits
    elif isinstance(seeds_raw, list) and seeds_raw:
        seeds = [_int_field(ctx, "seeds", s, 0) for s in seeds_raw]
        if len(set(seeds)) != len(seeds):
            raise ctx.err("seeds", f"seeds must be distinct, got {seeds_raw!r}")
    else:
        raise ctx.err("seeds", f"must be an integer >= 1 or a non-empty list of integers >= 0, got {seeds_raw!r}")
    tols_raw = doc.get("tolerances", list(DEFAULT_TOLERANCES))
    if not isinstance(tols_raw, list) or not tols_raw:
        raise ctx.err("tolerances", f"must be a non-empty list of numbers in (0, 1), got {tols_raw!r}")
    tolerances = tuple(sorted({_num_field(ctx, "tolerances", t, lo=0.0, hi=1.0) for t in tols_raw}, reverse=True))
    target_tol = _num_field(ctx, "target_tol", doc.get("target_tol", 1e-4 if 1e-4 in tolerances else tolerances[0]),
                            lo=0.0, hi=1.0)
    if target_tol not in tolerances:
        raise ctx.err("target_tol", f"must be one of tolerances ({', '.join(f'{t:g}' for t in tolerances)}), "
                      f"got {target_tol!r}")
    stop_tol = doc.get("stop_tol", min(tolerances))
    stop_tol = 0.0 if stop_tol == 0 else _num_field(ctx, "stop_tol", stop_tol, lo=0.0, hi=1.0)
    tb = doc.get("time_budget_s")
    time_budget = None if tb is None else _num_field(ctx, "time_budget_s", tb, lo=0.0)
    timing_steps = _int_field(ctx, "timing_steps", doc.get("timing_steps", min(steps, 2000)), 0)
    div_factor = _num_field(ctx, "div_factor", doc.get("div_factor", 1e6), lo=0.0)
    escape_frac = _num_field(ctx, "escape_frac", doc.get("escape_frac", 0.1), lo=0.0, hi=1.0)
    dev = doc.get("device", "cpu") if device is None else device
    if dev not in DEVICES:
        raise ctx.err("device", f"unknown device {dev!r}; allowed: {', '.join(DEVICES)}")
    thr = doc.get("threads") if threads is None else threads
    if thr is not None:
        thr = _int_field(ctx, "threads", thr, 1)
    executor = _executor_field(ctx, doc.get("executor"))
    basin_map = _basin_map_field(ctx, "basin_map", doc.get("basin_map", 0))

    # --- plugins: files named here, and installed packages' entry points ----------------------
    from ..plugins import load_entry_points, source_of

    load_entry_points()
    plug = doc.get("plugins", [])
    if not isinstance(plug, list) or not all(isinstance(x, str) for x in plug):
        raise ctx.err("plugins", f"must be a list of paths to .py files, got {plug!r}")
    for x in plug:
        from ..plugins import register

        try:
            register(_plugin_path(ctx, path.parent, "plugins", x))
        except ValueError as e:
            raise ctx.err("plugins", str(e)) from None
    # a problem or rule given as a file: registered, and named by its registry name from here on
    for section, fld, kind in (("problems", "problem", "problem"), ("optimizers", "rule", "optimizer")):
        table = doc.get(section)
        for label, spec in (table.items() if isinstance(table, dict) else ()):
            if isinstance(spec, dict) and _is_plugin_path(spec.get(fld)):
                spec[fld] = _register(ctx, path.parent, f"{section}.{label}.{fld}", spec[fld], kind)

    # --- problems ---------------------------------------------------------------------------
    probs = doc.get("problems")
    if not isinstance(probs, dict) or not probs:
        raise ctx.err("problems", "must be a non-empty table of problems, e.g. [problems.rosenbrock]")
    problems: dict[str, dict[str, Any]] = {}
    overrides: dict[str, dict[str, Any]] = {}
    for label, spec in probs.items():
        where = f"problems.{label}"
        if not isinstance(spec, dict):
            raise ctx.err(where, "must be a table of parameters")
        pname = spec.get("problem", label)
        if not isinstance(pname, str) or pname not in PROBLEMS:
            raise ctx.err(f"{where}.problem" if "problem" in spec else where,
                          f"unknown problem {pname!r}; allowed: {', '.join(PROBLEMS)}")
        allowed = _problem_params_allowed(pname)
        params = {k: v for k, v in spec.items() if k not in PROBLEM_META}
        for k in params:
            if k not in allowed:
                raise ctx.err(f"{where}.{k}", f"unknown parameter for problem {pname!r}; allowed: "
                              f"{', '.join([*allowed, *PROBLEM_META])}")
        ov: dict[str, Any] = {}
        if "steps" in spec:
            ov["steps"] = _int_field(ctx, f"{where}.steps", spec["steps"], 1)
        if "record_every" in spec:
            ov["record_every"] = _int_field(ctx, f"{where}.record_every", spec["record_every"], 1)
        if "init" in spec:
            ov["init"] = spec["init"]
        if "basin_map" in spec:
            ov["basin_map"] = _basin_map_field(ctx, f"{where}.basin_map", spec["basin_map"])
        overrides[label] = ov
        problems[label] = {"problem": pname, **params}

    # --- the resource plan (issue 13): counted from the document, before anything is built ---
    lim = limits or Limits()
    if lim.workers is None:
        ex_name = executor.get("name", "local")
        lim = replace(lim, workers=1 if ex_name == "local" else executor.get("workers") or usable_cores())
    lim = replace(lim, threads=thr or usable_cores())
    check_resources(
        ctx.err, problems={lb: (PROBLEMS[pp["problem"]], pp) for lb, pp in problems.items()},
        problem_steps={lb: (overrides[lb].get("steps", steps), overrides[lb].get("record_every", record_every),
                            f"problems.{lb}.steps" if "steps" in overrides[lb] else "steps") for lb in problems},
        problem_lr={lb: probs[lb]["lr"] for lb in problems if "lr" in probs[lb]}, variants=doc.get("optimizers")
        if isinstance(doc.get("optimizers"), dict) else {}, rule_of=_rule_of,
        needs_hessian=lambda r: OPTIMIZERS[r].needs_hessian, n_seeds=len(seeds), limits=lim)
    seeds = list(seeds)
    for label in problems:
        if "lr" in probs[label]:
            overrides[label]["lr"] = _expand(ctx, f"problems.{label}.lr", probs[label]["lr"])

    # build (and so validate) every problem once; data files are resolved against the suite folder
    built: dict[str, Any] = {}
    from .worker import build_problem

    for label, spec in problems.items():
        params = {k: v for k, v in spec.items() if k != "problem"}
        data = params.get("data")
        if isinstance(data, str) and data.lower().endswith((".csv", ".npz", ".txt")):
            p = Path(data)
            if not p.is_absolute() and (path.parent / p).exists():
                params["data"] = str((path.parent / p).resolve())
            if not Path(params["data"]).is_file():
                raise ctx.err(f"problems.{label}.data", f"data file {data!r} does not exist (relative paths are "
                              f"looked up next to the suite file, then in the current folder)")
        try:
            built[label] = build_problem(spec["problem"], params)
        except ValueError as e:
            raise ctx.err(f"problems.{label}", str(e)) from None
        problems[label] = {"problem": spec["problem"], **params}
        _check_problem_init(ctx, label, built[label], overrides[label])

    # --- optimizer variants -----------------------------------------------------------------
    opts = doc.get("optimizers")
    if not isinstance(opts, dict) or not opts:
        raise ctx.err("optimizers", "must be a non-empty table of variants, e.g. [optimizers.adam]")
    variants: dict[str, str] = {}
    groups: dict[tuple[str, str], list[tuple[str, dict, dict]]] = {}
    skipped: list[str] = []
    for vname, spec in opts.items():
        where = f"optimizers.{vname}"
        if not isinstance(spec, dict):
            raise ctx.err(where, "must be a table of hyper-parameters")
        rule = spec.get("rule", _default_rule(vname))
        if not isinstance(rule, str) or rule not in OPTIMIZERS:
            raise ctx.err(f"{where}.rule" if "rule" in spec else where,
                          f"unknown optimizer {rule!r}; allowed: {', '.join(OPTIMIZERS)} "
                          f"(or {', '.join(ESTIMATOR_VARIANTS)}, which are gd with that estimator)")
        opt = OPTIMIZERS[rule]
        allowed = [*VARIANT_META, *opt.hyper, *CONFIG_FIELDS[1:]]
        _check_keys(ctx, f"{where}.", spec, allowed)
        only = spec.get("problems")
        if only is not None:
            if not isinstance(only, list) or not only or any(not isinstance(p, str) or p not in problems for p in only):
                raise ctx.err(f"{where}.problems", f"must be a non-empty list of problem keys; allowed: "
                              f"{', '.join(problems)}")
        variants[vname] = rule
        grid_fields: dict[str, list[Any]] = {}
        for k, v in spec.items():
            if k in VARIANT_META:
                continue
            grid_fields[k] = _expand(ctx, f"{where}.{k}", v)
        # fields shown in run names (besides lr); a single init or restart policy is not
        named = [k for k in grid_fields if k != "lr" and not (k in ("init", "restart") and len(grid_fields[k]) == 1)]
        if "batch_size" not in grid_fields and vname in ESTIMATOR_VARIANTS:
            grid_fields["batch_size"] = [ESTIMATOR_VARIANTS[vname]]
        # validate every value of every field once, independent of the problem
        for k, vals in grid_fields.items():
            for v in vals:
                f = f"{where}.{k}"
                try:
                    if k == "schedule":
                        encode_schedule(v, steps)
                    elif k == "clip":
                        encode_clip(v)
                    elif k == "noise":
                        check_noise(v)
                    elif k == "restart":
                        encode_restart(v)
                    elif k == "init":
                        pass  # depends on the problem's dimension: checked per problem below
                    elif k == "batch_size":
                        check_batch_value(v)
                    else:
                        opt.resolve(**{k: v})
                except ValueError as e:
                    raise ctx.err(f, str(e)) from None
        for label in problems:
            if only is not None and label not in only:
                continue
            prob = built[label]
            if opt.needs_hessian and not prob.has_hessian:
                skipped.append(f"{label} × {vname}: {rule!r} needs a Hessian; problem {prob.name!r} has none")
                continue
            fields = dict(grid_fields)
            if "lr" in overrides[label]:
                fields["lr"] = overrides[label]["lr"]
                for v in fields["lr"]:
                    try:
                        opt.resolve(lr=v)
                    except ValueError as e:
                        raise ctx.err(f"problems.{label}.lr", str(e)) from None
            if "lr" not in fields:
                fields["lr"] = [opt.hyper["lr"]]
            if "init" not in fields and "init" in overrides[label]:
                fields["init"] = [overrides[label]["init"]]
            _check_variant_starts(ctx, where, label, prob, fields, "init" in grid_fields)
            keys = ["lr", *[k for k in fields if k != "lr"]]
            kept = 0
            for combo in product(*(fields[k] for k in keys)):
                cfg = dict(zip(keys, combo))
                b = cfg.get("batch_size")
                if b is not None and b != "full" and prob.kind != "data":
                    continue
                rname = f"{vname}[{','.join(f'{k}={_fmt(cfg[k])}' for k in keys if k == 'lr' or k in named)}]"
                sweep_cfg = {k: (None if (k == "batch_size" and v == "full") else v) for k, v in cfg.items()}
                groups.setdefault((label, rule), []).append((vname, rname, sweep_cfg))
                kept += 1
            if kept == 0:
                skipped.append(f"{label} × {vname}: problem {prob.name!r} has no data rows to sample "
                               f"(batch_size applies to data problems only)")

    baseline = doc.get("baseline")
    if baseline is not None and baseline not in variants:
        raise ctx.err("baseline", f"unknown optimizer variant {baseline!r}; allowed: {', '.join(variants)}")

    # --- tasks ----------------------------------------------------------------------------
    # one compiled driver per problem family (data losses; analytic problems, those of one small
    # dimension apart): it holds the built-in rules the suite runs on the family's built-in
    # problems, so the step loop is compiled once for all of them
    family = {label: _family(problems[label]["problem"], built[label].dim) for label in problems}
    fam_rules: dict[Any, set[str]] = {}
    fam_problems: dict[Any, set[str]] = {}
    for label, rule in groups:
        fam = family[label]
        if not OPTIMIZERS[rule].is_plugin:
            fam_rules.setdefault(fam, set()).add(rule)
        fam_problems.setdefault(fam, set()).add(problems[label]["problem"])
    driver_rules = {fam: tuple(r for r in OPTIMIZERS if r in rs) for fam, rs in fam_rules.items()}
    driver_problems = {fam: tuple(n for n in PROBLEMS if n in ns) for fam, ns in fam_problems.items()}
    tasks: list[GroupTask] = []
    for (label, rule), entries in groups.items():
        ov = overrides[label]
        st = ov.get("steps", steps)
        rec = ov.get("record_every", record_every)
        pspec = problems[label]
        params = {k: v for k, v in pspec.items() if k != "problem"}
        written = {k: v for k, v in probs[label].items() if k not in PROBLEM_META or k == "problem"}
        common = {"problem": label, "spec": written, "rule": rule, "steps": st, "record_every": rec,
                  "stop_tol": stop_tol, "div_factor": div_factor, "time_budget_s": time_budget, "device": dev}
        sources = tuple(x for x in (source_of(OPTIMIZERS[rule]), source_of(PROBLEMS[pspec["problem"]])) if x)
        if sources:  # a plugin's content is part of its runs' identity: an edited file reruns them
            common["plugins"] = {x.name: x.sha256 for x in sources}
        gid = f"{label}__{rule}__{hashlib.sha256(_canon(common).encode()).hexdigest()[:10]}"
        run_ids, configs, labels = [], [], []
        for vname, rname, cfg in entries:
            for seed in seeds:
                c = {**cfg, "seed": seed}
                rid = hashlib.sha256(_canon({**common, "variant": vname, "config": c}).encode()).hexdigest()[:16]
                if filter_ and not _matches(filter_, label, rname):
                    continue
                run_ids.append(rid)
                configs.append(c)
                labels.append({"problem": label, "variant": vname, "run_name": rname})
        if not run_ids:
            continue
        bm = overrides[label].get("basin_map", basin_map if _mappable(built[label]) else 0)
        tasks.append(GroupTask(
            group_id=gid, suite=name, problem=label, problem_name=pspec["problem"], problem_params=params, rule=rule,
            run_ids=tuple(run_ids), configs=tuple(configs), labels=tuple(labels), steps=st, record_every=rec,
            tolerances=tolerances, stop_tol=stop_tol, div_factor=div_factor, time_budget_s=time_budget,
            timing_steps=min(timing_steps, st), escape_frac=escape_frac, device=dev, threads=thr, plugins=sources,
            driver_rules=driver_rules.get(family[label], ()) if not OPTIMIZERS[rule].is_plugin else (),
            driver_problems=driver_problems.get(family[label], ()),
            basin_map=bm, basin_box=_basin_box(built[label], overrides[label].get("init")) if bm else None))
    if filter_ and not tasks:
        raise SuiteError(f"{ctx.file}: --filter {filter_!r} matches no run; runs are named like "
                         f"'<problem>/<variant>[lr=...]'")
    settings = {"steps": steps, "record_every": record_every, "seeds": seeds, "tolerances": list(tolerances),
                "target_tol": target_tol, "stop_tol": stop_tol, "time_budget_s": time_budget,
                "timing_steps": timing_steps, "div_factor": div_factor, "escape_frac": escape_frac, "device": dev,
                "threads": thr, "executor": executor, "basin_map": basin_map, "baseline": baseline}
    try:
        shown = str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    used = {x.module: x for t in tasks for x in t.plugins}
    optima = {label: {"problem": problems[label]["problem"], "f_star": float(b.f_star),
                      "f_star_source": b.f_star_source} for label, b in built.items()}
    return Plan(name=name, path=shown, sha256=hashlib.sha256(raw).hexdigest(), settings=settings, tasks=tasks,
                plugins=sorted(used.values(), key=lambda x: (x.kind, x.name)), optima=optima,
                problems=problems, variants=variants, skipped=skipped, description=str(doc.get("description", "")))


def _family(name: str, dim: int) -> tuple[Any, ...]:
    """The compiled driver a problem shares with the suite's other problems: its registry name for a
    plugin problem or a built-in one of its own; else its kind, and its dimension when it gets the
    tiny-problem driver (compiled for one dimension)."""
    from ..kernels.codegen import tiny
    from ..problems import get_problem

    defn = get_problem(name)
    if defn.is_plugin:
        return ("own", name, dim)
    return (defn.kind, dim if tiny(defn, dim) else 0)


# --- random starts, restarts and basin maps ---------------------------------------------------


def _check_problem_init(ctx: _Ctx, label: str, prob: Any, ov: dict[str, Any]) -> None:
    """``[problems.<label>] init`` and ``basin_map``, against the built problem."""
    if "init" in ov:
        try:
            encode_init(ov["init"], prob.dim, prob.x0)
        except ValueError as e:
            raise ctx.err(f"problems.{label}.init", str(e)) from None
    if ov.get("basin_map") and not _mappable(prob):
        raise ctx.err(f"problems.{label}.basin_map", f"basin maps are drawn for 2-D problems whose minima are all "
                      f"known ({', '.join(n for n, m in PROBLEMS.items() if getattr(m, 'minima', None))}); "
                      f"problem {prob.name!r} has dimension {prob.dim}" + ("" if "minima" in prob.info
                                                                            else " and no list of minima"))


def _check_variant_starts(ctx: _Ctx, where: str, label: str, prob: Any, fields: dict[str, list[Any]],
                          own_init: bool) -> None:
    """Every init of a (problem, variant) fits the problem; restarts need a random init."""
    kinds = []
    for v in fields.get("init", [None]):
        try:
            kinds.append(encode_init(v, prob.dim, prob.x0)[0])
        except ValueError as e:
            fld = f"{where}.init" if own_init else f"problems.{label}.init"
            raise ctx.err(fld, f"on problem {label!r} (dimension {prob.dim}): {e}") from None
    for r in fields.get("restart", [None]):
        for k in kinds:
            try:
                check_restart_init(encode_restart(r)[0], k)
            except ValueError as e:
                raise ctx.err(f"{where}.restart", f"on problem {label!r}: {e}") from None


def _basin_map_field(ctx: _Ctx, fld: str, v: Any) -> int:
    v = _int_field(ctx, fld, v, 0)
    if v == 1:
        raise ctx.err(fld, "must be 0 (no map) or an integer >= 2 (grid points per axis), got 1")
    return v


def _mappable(prob: Any) -> bool:
    return prob.dim == BASIN_MAP_DIM and "minima" in prob.info


def _basin_box(prob: Any, init: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The box a basin map covers: the problem's uniform init box, else the problem's own box."""
    kind, a, b = encode_init(init, prob.dim, prob.x0)
    if kind == 1:
        return tuple(map(float, a)), tuple(map(float, b))
    lo, hi = prob.info["box"]
    return tuple(map(float, lo)), tuple(map(float, hi))


def _default_rule(variant: str) -> str:
    return "gd" if variant in ESTIMATOR_VARIANTS else variant


def _rule_of(variant: str, spec: dict) -> str | None:
    """The variant's update rule, or None when unknown (its own validation reports it)."""
    rule = spec.get("rule", _default_rule(variant))
    return rule if isinstance(rule, str) and rule in OPTIMIZERS else None


def _matches(pattern: str, problem: str, run_name: str) -> bool:
    full = f"{problem}/{run_name}"
    return pattern in full or fnmatch.fnmatchcase(full, pattern) or fnmatch.fnmatchcase(run_name, pattern)
