"""xoroshiro128+ random numbers in plain uint64 arithmetic.

The same generator as ``numba.cuda.random`` (xoroshiro128+, seeded through splitmix64), written
so the functions compile for the CPU (``@njit``) and, through their ``py_func``, as CUDA device
functions: a run's batches and noise are then the same stream on both devices.
The state is a length-2 uint64 array.
"""

import warnings

import numpy as np
from numba import njit
from numba.core import config

from .._config import JIT

if config.DISABLE_JIT:  # pure Python (NUMBA_DISABLE_JIT=1): NumPy's uint64 scalars wrap as numba's do, but warn
    warnings.filterwarnings("ignore", message="overflow encountered in scalar", category=RuntimeWarning,
                            module=__name__)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO53 = 1.0 / 9007199254740992.0


@njit(**JIT)
def _splitmix64(x):
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(**JIT)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(**JIT)
def rng_seed(st, seed):
    """Initialise state ``st`` (uint64[2]) from an integer seed."""
    a = _splitmix64(np.uint64(seed))
    b = _splitmix64(a)
    if a == 0 and b == 0:
        b = np.uint64(1)
    st[0] = a
    st[1] = b


@njit(**JIT)
def rng_next(st):
    s0 = st[0]
    s1 = st[1]
    result = s0 + s1
    s1 ^= s0
    st[0] = _rotl(s0, 55) ^ s1 ^ (s1 << np.uint64(14))
    st[1] = _rotl(s1, 36)
    return result


@njit(**JIT)
def rng_uniform(st):
    """Uniform double in [0, 1) from the top 53 bits."""
    return np.float64(rng_next(st) >> np.uint64(11)) * _TWO53


@njit(**JIT)
def rng_normal(st):
    """Standard normal by Box–Muller (one draw per call)."""
    u1 = rng_uniform(st)
    u2 = rng_uniform(st)
    if u1 < 1e-300:
        u1 = 1e-300
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(**JIT)
def rng_below(st, m):
    """Integer in [0, m) (m ≥ 1), by scaling a 53-bit uniform."""
    return min(int(rng_uniform(st) * m), m - 1)


@njit(**JIT)
def shuffle(perm, st):
    """Fisher–Yates shuffle of ``perm`` in place."""
    for i in range(perm.shape[0] - 1, 0, -1):
        j = rng_below(st, i + 1)
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp
