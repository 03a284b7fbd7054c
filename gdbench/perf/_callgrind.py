"""Valgrind/callgrind client requests from Python, without a C compiler.

A client request is a magic instruction sequence that is a no-op on a real CPU and a call into
valgrind under it (``valgrind.h``: four ``rol`` of ``%rdi`` summing to 128 bits, then
``xchg %rbx,%rbx``; ``%rax`` points at the request and its arguments, ``%rdx`` carries the
default in and the answer out). Here those 33 bytes of x86-64 machine code live in an anonymous
executable page and are called through ctypes, so ``gdbench perf --instructions`` can switch
callgrind's counting on and off exactly around a measured call: numba's JIT code has no symbol
that ``--toggle-collect`` could name.

Only x86-64 Linux; elsewhere :func:`available` is False and every request returns its default.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import sys

# amd64: mov rax,rdi; mov rdx,rsi; rol rdi,3; rol rdi,13; rol rdi,61; rol rdi,51; xchg rbx,rbx;
# mov rax,rdx; ret
_CODE = bytes.fromhex("4889f8" "4889f2" "48c1c703" "48c1c70d" "48c1c73d" "48c1c733" "4887db" "4889d0" "c3")

RUNNING_ON_VALGRIND = 0x1001
_CT = (ord("C") << 24) | (ord("T") << 16)  # VG_USERREQ_TOOL_BASE('C', 'T'): callgrind.h
DUMP_STATS, ZERO_STATS, TOGGLE_COLLECT, DUMP_STATS_AT, START_INSTRUMENTATION, STOP_INSTRUMENTATION = (
    _CT + i for i in range(6))

_fn = None
_page = None  # keeps the executable page alive


def available() -> bool:
    """True where client requests can be issued (x86-64 Linux)."""
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


def _request_fn():
    global _fn, _page
    if _fn is None:
        _page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        _page.write(_CODE)
        addr = ctypes.addressof(ctypes.c_char.from_buffer(_page))
        _fn = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64)(addr)
    return _fn


def request(code: int, arg1: int = 0, default: int = 0) -> int:
    """Issue client request ``code`` with one argument; ``default`` when not under valgrind."""
    if not available():
        return default
    args = (ctypes.c_uint64 * 6)(code, arg1, 0, 0, 0, 0)
    return int(_request_fn()(ctypes.addressof(args), default))


def running_on_valgrind() -> bool:
    return request(RUNNING_ON_VALGRIND) > 0


def start_instrumentation() -> None:
    request(START_INSTRUMENTATION)


def toggle_collect() -> None:
    request(TOGGLE_COLLECT)


def zero_stats() -> None:
    request(ZERO_STATS)


def dump_stats_at(label: str) -> None:
    """Write the counts collected since the last zero/dump to a new ``callgrind.out`` part,
    labelled ``label``."""
    buf = ctypes.create_string_buffer(label.encode())
    request(DUMP_STATS_AT, ctypes.addressof(buf))
