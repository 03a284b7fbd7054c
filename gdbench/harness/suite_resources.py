"""The resource plan of a suite, from its document alone: runs, data, traces, per-worker copies.

Called by :func:`gdbench.harness.suite.load` before any problem is built or any grid expanded:
grids are *counted* (:func:`gdbench.resources.grid_length`), never listed, so a
``logspace = [1e-4, 1e-1, 100000000]`` is refused in microseconds. Every refusal is one
:class:`~gdbench.harness.suite.SuiteError` naming the field responsible, the estimate and the
limit. The estimates are upper bounds (every run recording its whole budget) of what the
harness holds at once:

- the plan and the runs table: ``PLAN_BYTES_PER_RUN`` per run;
- per group in flight (one per worker): the problem's data as it is built, the sweep's trace
  array, per-thread Hessians, and the group's long trace table;
- at the end, the consolidated traces table of the whole suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import resources as rs

#: memory of one worker process (Python, numpy, numba, pandas imported) for processes / dask
WORKER_BASE_BYTES = 256 << 20
#: the analytic problems whose constructor builds a dense d×d matrix
DENSE_PROBLEMS = ("quadratic",)


@dataclass
class Limits:
    """What a suite may use: ``max_memory`` bytes (None: ``$GDBENCH_MAX_MEMORY`` or the available
    memory), ``max_runs`` (None: no count limit besides memory), ``workers`` holding a group each."""

    max_memory: int | None = None
    max_runs: int | None = None
    workers: int | None = None  # None: from the suite's executor
    threads: int = 1


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else None


def problem_size(mod: Any, params: dict[str, Any]) -> tuple[int, int | None, str]:
    """(bytes to build, dimension D or None where unknown before loading, the field to name)."""
    defaults = getattr(mod, "PARAMS", {})
    if mod.KIND == "data":
        data = params.get("data", "synthetic")
        n = _int(params.get("n", defaults.get("n", 1000)))
        d = _int(params.get("d", defaults.get("d", 10)))
        if data == "tutorial_two_feature":
            d = 2
        elif data != "synthetic":
            return 0, (2 if data == "five_point" else None), "data"
        if n is None or d is None:
            return 0, None, "n"  # malformed: the constructor names it
        return rs.data_bytes(n, d), d + 1, ("n" if n * 8 >= d or "d" not in params else "d")
    ev = params.get("eigenvalues")
    d = len(ev) if isinstance(ev, list) else _int(params.get("d", defaults.get("d", 2)))
    if d is None:
        return 0, None, "d"
    nbytes = rs.dense_bytes(d) if mod.NAME in DENSE_PROBLEMS else rs.vector_bytes(d)
    return nbytes, d, "d"


@dataclass
class _Group:
    label: str
    rule: str
    runs: int = 0
    biggest: tuple[int, str] = (0, "")  # (grid length, field) of the largest grid feeding this group


def check(fail: Callable[[str, str], Exception], *, problems: dict[str, tuple[Any, dict[str, Any]]],
          problem_steps: dict[str, tuple[int, int, str]], problem_lr: dict[str, Any], variants: dict[str, Any],
          rule_of: Callable[[str, dict], str | None], needs_hessian: Callable[[str], bool], n_seeds: int,
          limits: Limits) -> int:
    """Refuse (``raise fail(field, message)``) a suite that cannot fit; return its run count.

    ``problems``: label -> (module, parameters); ``problem_steps``: label -> (steps,
    record_every, field naming them); ``problem_lr``: label -> the raw ``lr`` override;
    ``variants``: name -> raw table; ``rule_of``: the variant's rule (None when unknown: its own
    validation reports it).
    """
    mem = limits.max_memory

    def over(nbytes: int) -> bool:
        lim, _ = rs.memory_limit(mem)
        return lim is not None and nbytes > lim

    def refuse(fld: str, what: str, nbytes: int, detail: str, hint: str) -> Exception:
        try:
            rs.check_memory(what, nbytes, detail, limit=mem, hint=hint)
        except rs.ResourceError as e:
            return fail(fld, str(e))
        raise AssertionError("refuse() called on a size that fits")  # pragma: no cover

    # --- count the runs (grids counted, never expanded) --------------------------------------
    groups: dict[tuple[str, str], _Group] = {}
    for vname, spec in variants.items():
        if not isinstance(spec, dict):
            continue
        rule = rule_of(vname, spec)
        if rule is None:
            continue
        only = spec.get("problems")
        lens = {k: rs.grid_length(v) for k, v in spec.items() if k not in ("rule", "problems")}
        for label in problems:
            if isinstance(only, list) and label not in only:
                continue
            ln = dict(lens)
            where = {k: f"optimizers.{vname}.{k}" for k in ln}
            if label in problem_lr:
                ln["lr"] = rs.grid_length(problem_lr[label])
                where["lr"] = f"problems.{label}.lr"
            ln["seeds"] = n_seeds
            where["seeds"] = "seeds"
            g = groups.setdefault((label, rule), _Group(label, rule))
            g.runs += rs.count(list(ln.values()))
            k = max(ln, key=lambda f: ln[f])
            g.biggest = max(g.biggest, (ln[k], where[k]))
    for label, v in problem_lr.items():  # expanded even before any variant uses it: bound it alone
        n_lr = rs.grid_length(v) * n_seeds
        if limits.max_runs is not None and n_lr > limits.max_runs:
            raise fail(f"problems.{label}.lr", f"this grid alone makes {n_lr} runs per variant, more than --max-runs "
                                               f"{limits.max_runs}")
        if over(n_lr * rs.PLAN_BYTES_PER_RUN):
            raise refuse(f"problems.{label}.lr", f"this grid's {n_lr} runs per variant", n_lr * rs.PLAN_BYTES_PER_RUN,
                         f"{fmt_int(rs.PLAN_BYTES_PER_RUN)} B per run", "use a coarser grid")
    total = sum(g.runs for g in groups.values())
    if not groups:
        return 0
    worst = max(groups.values(), key=lambda g: g.runs)
    if limits.max_runs is not None and total > limits.max_runs:
        raise fail(worst.biggest[1], f"the suite makes {total} runs (this grid: {worst.biggest[0]} values), more "
                                     f"than --max-runs {limits.max_runs}")
    plan_bytes = total * rs.PLAN_BYTES_PER_RUN
    if over(plan_bytes):
        raise refuse(worst.biggest[1], f"the suite's {total} runs", plan_bytes,
                     f"{fmt_int(rs.PLAN_BYTES_PER_RUN)} B per run for its spec and row of the runs table",
                     "use a coarser grid or fewer seeds")

    # --- data of each problem ----------------------------------------------------------------
    sizes: dict[str, tuple[int, int | None]] = {}
    for label, (mod, params) in problems.items():
        nbytes, dim, fld = problem_size(mod, params)
        sizes[label] = (nbytes, dim)
        if over(nbytes):
            raise refuse(f"problems.{label}.{fld}", f"problem {label!r}", nbytes,
                         "its data or matrix while it is built", "make it smaller")

    # --- each group in flight, one per worker; then the consolidated traces table --------------
    workers = max(1, limits.workers or 1)
    base = WORKER_BASE_BYTES if workers > 1 else 0
    if over(workers * base):
        raise refuse("executor.workers", f"{workers} worker processes", workers * base,
                     f"about {fmt_size(base)} each before any data", "use fewer workers")
    peak_group, table = 0, 0
    for g in groups.values():
        st, rec, sfield = problem_steps[g.label]
        nbytes, dim = sizes[g.label]
        R = rs.trace_records(st, rec)
        threads = min(limits.threads, g.runs)
        hess = needs_hessian(g.rule)
        sweep = rs.sweep_bytes(g.runs, st, rec, dim or 1, threads, hess and dim is not None)
        rows = g.runs * R * rs.TRACE_ROW_BYTES
        one = rs.sweep_bytes(1, st, rec, dim or 1, 1, False) + R * rs.TRACE_ROW_BYTES
        group_bytes = nbytes + sweep + rows
        if over(one + nbytes):
            raise refuse(sfield, f"one run of {g.label} × {g.rule}", one + nbytes,
                         f"{R} trace records of {st} steps recorded every {rec}",
                         "record less often (record_every) or run fewer steps")
        if over(group_bytes + base):
            raise refuse(g.biggest[1], f"group {g.label} × {g.rule}", group_bytes + base,
                         f"{g.runs} runs × {R} trace records", "use a coarser grid, fewer seeds or fewer records")
        peak_group = max(peak_group, group_bytes + base)
        table += rows
    need = plan_bytes + max(workers * peak_group, table)
    if over(need):
        fld = "executor.workers" if workers * peak_group >= table and workers > 1 else worst.biggest[1]
        raise refuse(fld, f"the suite ({total} runs, {workers} worker(s))", need,
                     f"{workers} group(s) in flight at once, or the traces table of {fmt_size(table)}",
                     "use fewer workers, fewer runs or fewer records")
    return total


def fmt_int(v: int) -> str:
    return f"{v:,}".replace(",", " ")


def fmt_size(v: int) -> str:
    return rs.fmt_size(v)
