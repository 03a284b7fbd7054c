"""Independent oracles: expected values that share no code with the kernels under test.

``tests/test_optimizers.py`` checks every rule against its NumPy ``reference`` through the same
compiled ``scheduled_lr``, ``clip_grad``, ``rng_*`` and ``init`` the driver uses, so a wrong
schedule, clipping formula or sampling stream cannot fail it. Here the expected values come
from elsewhere:

- learning-rate schedules: closed forms written out below, and the values of
  ``torch.optim.lr_scheduler`` (StepLR, ExponentialLR, CosineAnnealingLR) pasted as plain
  numbers (printed once with torch 2.13.0, float64; torch is not needed to run this file);
- trajectories of every torch.optim counterpart on a fixed quadratic, pasted the same way;
- clipping against hand-computed vectors (torch's ``clip_grad_norm_`` divides by ‖g‖ + 1e-6,
  gdbench by ‖g‖ exactly: see ``gdbench/kernels/transforms.py``);
- the estimator's sampling against an explicit permutation from a pure-Python xoroshiro128+
  (Blackman & Vigna, 2016 constants 55/14/36, as numba.cuda.random) seeded by splitmix64
  (checked against its published reference outputs), shuffled by Fisher–Yates, and a plain
  NumPy SGD loop on those batches;
- Adam and momentum against hand-written NumPy loops with NumPy gradients.

The script that printed the torch numbers::

    torch.set_default_dtype(torch.float64)
    A, b = torch.diag(torch.tensor([1.0, 10.0])), torch.tensor([1.0, -2.0]); θ₀ = [0.5, 0.5]
    loss = 0.5 * θ @ A @ θ - b @ θ; loss.backward(); opt.step(); (scheduler.step())
    SGD(lr=0.05) | SGD(lr=0.02, momentum=0.9[, nesterov=True]) | Adagrad(lr=0.1) | RMSprop(lr=0.01)
    | Adadelta(lr=1.0) | Adam(lr=0.02[, amsgrad=True]) | AdamW(lr=0.02) | NAdam(lr=0.02)
    | Adam(lr=0.05) + clip_grad_value_(0.5) + StepLR(step_size=2, gamma=0.5)
    schedules: SGD(lr=0.1) + StepLR(3, 0.5) | ExponentialLR(0.9) | CosineAnnealingLR(T_max=8, eta_min=0.01)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdbench
from gdbench.kernels.transforms import CLIPS, clip_grad, scheduled_lr
from gdbench.runspec import encode_schedule

# --- torch.optim.lr_scheduler values, lr of epochs 0, 1, 2, ... (= gdbench steps t = 1, 2, 3, ...) ---
TORCH_STEP_LR = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125]
TORCH_EXPONENTIAL_LR = [0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002,
                        0.05904900000000002, 0.05314410000000002, 0.04782969000000002, 0.043046721000000024,
                        0.03874204890000002, 0.03486784401000002, 0.03138105960900001]
TORCH_COSINE_LR = [0.1, 0.0965745789630079, 0.08681980515339463, 0.07222075445642905, 0.055, 0.03777924554357096,
                   0.023180194846605363, 0.013425421036992097, 0.01]
TORCH_SCHEDULES = {
    "step": ({"name": "step", "step_size": 3, "gamma": 0.5}, TORCH_STEP_LR),
    "exponential": ({"name": "exponential", "gamma": 0.9}, TORCH_EXPONENTIAL_LR),
    "cosine": ({"name": "cosine", "T_max": 8, "eta_min": 0.01}, TORCH_COSINE_LR),
}
# torch.nn.utils.clip_grad_norm_([3, 4], max_norm=1) and clip_grad_value_([3, -0.2, -7], 0.5)
TORCH_CLIP_NORM = [0.599999880000024, 0.799999840000032]
TORCH_CLIP_VALUE = [0.5, -0.2, -0.5]

# --- θ after steps 1..6 of torch.optim on ½θᵀAθ − bᵀθ, A = diag(1, 10), b = (1, −2), θ₀ = (0.5, 0.5) ---
TORCH_TRAJECTORIES = {
    'gd': [
        [0.525, 0.14999999999999997],
        [0.5487500000000001, -0.025000000000000043],
        [0.5713125000000001, -0.11250000000000003],
        [0.5927468750000001, -0.15625000000000003],
        [0.6131095312500001, -0.17812500000000003],
        [0.6324540546875002, -0.18906250000000002],
    ],
    'momentum': [
        [0.51, 0.36],
        [0.5288, 0.12200000000000001],
        [0.5551440000000001, -0.1566],
        [0.5877507200000001, -0.41602],
        [0.6253417536000001, -0.606294],
        [0.6666668487680001, -0.6962818000000001],
    ],
    'nesterov': [
        [0.519, 0.23399999999999999],
        [0.545378, -0.044320000000000026],
        [0.577735836, -0.2758464],
        [0.6147207306320001, -0.427376128],
        [0.6550469930847841, -0.49100230656],
        [0.6975138167064439, -0.47861269381120003],
    ],
    'adagrad': [
        [0.59999999998, 0.40000000000142855],
        [0.6624695047275909, 0.33492086265644827],
        [0.7091008231877527, 0.28473590659728115],
        [0.7463910183524731, 0.2433388785016856],
        [0.7773082156989048, 0.20793017093493033],
        [0.803508005000748, 0.1769521931368653],
    ],
    'rmsprop': [
        [0.599999980000004, 0.40000000142857145],
        [0.662660808085981, 0.3347324687328616],
        [0.7095667576158871, 0.28426327240670335],
        [0.7471744534956756, 0.24252067089611024],
        [0.7784289820609198, 0.20672438513637303],
        [0.8049704482463463, 0.17532978690121512],
    ],
    'adadelta': [
        [0.5031622144165124, 0.49683772266251297],
        [0.5063968079206123, 0.4936002621116528],
        [0.5096741329351463, 0.49031615289448816],
        [0.5129794091690122, 0.48699955932365274],
        [0.5163037809268154, 0.4836589413836834],
        [0.5196413531262404, 0.4802999178649003],
    ],
    'adam': [
        [0.5199999996, 0.48000000002857146],
        [0.5399745615975712, 0.4600172092086347],
        [0.5599052121291863, 0.44006378897236664],
        [0.5797723166503395, 0.42015240395023384],
        [0.5995550682884827, 0.4002962080071804],
        [0.6192314841051367, 0.38050882737724695],
    ],
    'adamw': [
        [0.5198999996, 0.47990000002857147],
        [0.5397707324446037, 0.45982132719633717],
        [0.5595938576393082, 0.4397762066770239],
        [0.5793498998113065, 0.41977736614385097],
        [0.5990182398452715, 0.3998380214518712],
        [0.6185771135318399, 0.3799718593848744],
    ],
    'amsgrad': [
        [0.5199999996, 0.48000000002857146],
        [0.5399745615975712, 0.4600172092086347],
        [0.5599052121291863, 0.44006378897236664],
        [0.5797723166503395, 0.42015240395023384],
        [0.5995550682884827, 0.4002962080071804],
        [0.6192314841051367, 0.38050882737724695],
    ],
    'nadam': [
        [0.521129035144527, 0.47887096446307653],
        [0.5364994858383214, 0.4634118194919849],
        [0.550695454269257, 0.449083825156273],
        [0.5647189279805463, 0.43488308185036423],
        [0.5788721415218834, 0.4205006612787713],
        [0.5932351010087785, 0.40584908230928196],
    ],
    'adam_step_clip': [
        [0.549999999, 0.450000001],
        [0.5997938841232857, 0.4000000020000003],
        [0.6245003726563468, 0.3750000025000003],
        [0.6490331197020147, 0.35000000300000045],
        [0.6612020338969585, 0.33750000325000046],
        [0.6732862405050914, 0.32500000350000047],
    ],
}

TORCH_RUNS = {  # gdbench rule -> (lr, hyper-parameters, schedule, clip) of the torch run above
    "gd": (0.05, {}, None, None),
    "momentum": (0.02, {}, None, None),
    "nesterov": (0.02, {}, None, None),
    "adagrad": (0.1, {}, None, None),
    "rmsprop": (0.01, {}, None, None),
    "adadelta": (1.0, {}, None, None),
    "adam": (0.02, {}, None, None),
    "adamw": (0.02, {}, None, None),
    "amsgrad": (0.02, {}, None, None),
    "nadam": (0.02, {}, None, None),
}


def _quadratic():
    return gdbench.problems.quadratic(eigenvalues=[1.0, 10.0], rotate=False, b=[1.0, -2.0], x0=[0.5, 0.5])


def _thetas(r) -> np.ndarray:
    return r.trace[["theta_0", "theta_1"]].to_numpy()[1:]


# -- schedules ---------------------------------------------------------------------------------


def _closed_form(name: str, lr: float, t: int, p: dict) -> float:
    """lr of step t (from 1), written from the formulas alone."""
    e = t - 1  # torch's epoch
    if name == "constant":
        return lr
    if name == "step":
        return lr * p["gamma"] ** (e // p["step_size"])
    if name == "exponential":
        return lr * p["gamma"] ** e
    if name == "inverse_time":
        return lr / (1.0 + p["decay"] * e)
    T, lo = p["T_max"], p["eta_min"]
    return lo + (lr - lo) * (1.0 + math.cos(math.pi * min(e, T) / T)) / 2.0


CLOSED = {
    "constant": {},
    "step": {"step_size": 7, "gamma": 0.3},
    "exponential": {"gamma": 0.97},
    "inverse_time": {"decay": 0.05},
    "cosine": {"T_max": 40, "eta_min": 0.002},
}


@pytest.mark.parametrize("name", list(CLOSED))
def test_schedule_matches_its_closed_form(name):
    kind, p1, p2 = encode_schedule({"name": name, **CLOSED[name]}, 50)
    for t in range(1, 61):  # past T_max: cosine stays at eta_min
        want = _closed_form(name, 0.1, t, CLOSED[name])
        assert scheduled_lr(0.1, kind, p1, p2, t) == pytest.approx(want, rel=1e-14, abs=0), (name, t)


@pytest.mark.parametrize("name", list(TORCH_SCHEDULES))
def test_schedule_matches_torch_lr_scheduler(name):
    spec, torch_lrs = TORCH_SCHEDULES[name]
    kind, p1, p2 = encode_schedule(spec, 100)
    got = [scheduled_lr(0.1, kind, p1, p2, t) for t in range(1, len(torch_lrs) + 1)]
    np.testing.assert_allclose(got, torch_lrs, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", list(TORCH_SCHEDULES))
def test_driver_applies_the_torch_schedule(name):
    """The lr each step of the compiled driver really used, read back from the trajectory of
    gradient descent on f(θ) = ½θ² (θₜ = θₜ₋₁·(1 − lrₜ))."""
    spec, torch_lrs = TORCH_SCHEDULES[name]
    p = gdbench.problems.quadratic(eigenvalues=[1.0], rotate=False, b=[0.0], x0=[1.0])
    r = gdbench.minimize(p, "gd", steps=len(torch_lrs), lr=0.1, schedule=spec, record_every=1)
    th = r.trace["theta_0"].to_numpy()
    np.testing.assert_allclose(1.0 - th[1:] / th[:-1], torch_lrs, rtol=1e-12)


# -- clipping ------------------------------------------------------------------------------------


def test_clip_by_norm_and_value_hand_computed():
    g = np.array([3.0, 4.0])
    clip_grad(g, CLIPS["norm"], 1.0)
    np.testing.assert_allclose(g, [0.6, 0.8], rtol=2e-16)  # 3·(1/5), 4·(1/5): no 1e-6 (torch: 1/(5 + 1e-6))
    np.testing.assert_allclose(g, TORCH_CLIP_NORM, rtol=3e-7)  # torch's differs only by its 1e-6 ...
    assert np.all(np.abs(g - TORCH_CLIP_NORM) > 1e-8)  # ... which gdbench deliberately leaves out
    g = np.array([3.0, 4.0])
    clip_grad(g, CLIPS["norm"], 10.0)  # below the threshold: untouched
    np.testing.assert_array_equal(g, [3.0, 4.0])
    g = np.array([3.0, -0.2, -7.0])
    clip_grad(g, CLIPS["value"], 0.5)
    np.testing.assert_array_equal(g, TORCH_CLIP_VALUE)


def test_driver_clips_the_gradient_it_steps_with():
    p = _quadratic()  # g₀ = Aθ₀ − b = (−0.5, 7)
    r = gdbench.minimize(p, "gd", steps=1, lr=0.1, clip={"norm": 1.0}, record_every=1)
    g0 = np.array([-0.5, 7.0])
    np.testing.assert_allclose(r.params, [0.5, 0.5] - 0.1 * g0 / math.hypot(-0.5, 7.0), rtol=1e-15)
    r = gdbench.minimize(p, "gd", steps=1, lr=0.1, clip={"value": 0.5}, record_every=1)
    np.testing.assert_allclose(r.params, [0.55, 0.45], rtol=1e-15)


# -- trajectories ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", list(TORCH_RUNS))
def test_trajectory_matches_torch_optim(rule):
    lr, hyper, schedule, clip = TORCH_RUNS[rule]
    r = gdbench.minimize(_quadratic(), rule, steps=6, lr=lr, record_every=1, schedule=schedule, clip=clip, **hyper)
    np.testing.assert_allclose(_thetas(r), TORCH_TRAJECTORIES[rule], rtol=1e-12, atol=1e-15)


def test_adam_with_step_schedule_and_value_clipping_matches_torch():
    r = gdbench.minimize(_quadratic(), "adam", steps=6, lr=0.05, record_every=1,
                         schedule={"name": "step", "step_size": 2, "gamma": 0.5}, clip={"value": 0.5})
    np.testing.assert_allclose(_thetas(r), TORCH_TRAJECTORIES["adam_step_clip"], rtol=1e-12, atol=1e-15)


def _logistic_grad(theta, X, y, l2):
    z = X @ theta[:-1] + theta[-1]
    c = -y / (1.0 + np.exp(y * z)) / len(y)
    return np.r_[X.T @ c + l2 * theta[:-1], c.sum()]


def test_adam_and_momentum_match_hand_written_numpy_loops():
    p = gdbench.problems.logistic(n=80, d=3, seed=5, l2=1e-2)
    X, y, l2 = p.X, p.y, 1e-2
    steps = 150
    # Adam, as Kingma & Ba write it (with torch's placement of eps)
    th, m, v = np.zeros(4), np.zeros(4), np.zeros(4)
    for t in range(1, steps + 1):
        g = _logistic_grad(th, X, y, l2)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        th = th - 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(gdbench.minimize(p, "adam", steps=steps, lr=0.05).params, th, rtol=1e-10)
    # heavy-ball momentum, torch's form (b₁ = g)
    th, buf = np.zeros(4), None
    for _ in range(steps):
        g = _logistic_grad(th, X, y, l2)
        buf = g.copy() if buf is None else 0.8 * buf + g
        th = th - 0.1 * buf
    np.testing.assert_allclose(gdbench.minimize(p, "momentum", steps=steps, lr=0.1, momentum=0.8).params, th,
                               rtol=1e-10)


# -- the estimator's sampling --------------------------------------------------------------------

MASK = (1 << 64) - 1


def splitmix64(x: int) -> int:
    """The first output of Vigna's SplitMix64 seeded with x."""
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class Xoroshiro128Plus:
    """xoroshiro128+ (55, 14, 36), state seeded s0 = splitmix64(seed), s1 = splitmix64(s0)."""

    def __init__(self, seed: int) -> None:
        self.s0 = splitmix64(seed)
        self.s1 = splitmix64(self.s0)

    def next(self) -> int:
        s0, s1 = self.s0, self.s1
        out = (s0 + s1) & MASK
        s1 ^= s0
        self.s0 = (((s0 << 55) | (s0 >> 9)) & MASK) ^ s1 ^ ((s1 << 14) & MASK)
        self.s1 = ((s1 << 36) | (s1 >> 28)) & MASK
        return out

    def below(self, m: int) -> int:
        """An integer in [0, m): the top 53 bits as a double in [0, 1), scaled."""
        return min(int((self.next() >> 11) * 2.0**-53 * m), m - 1)

    def shuffle(self, perm: list[int]) -> None:
        for i in range(len(perm) - 1, 0, -1):  # Fisher–Yates, from the end
            j = self.below(i + 1)
            perm[i], perm[j] = perm[j], perm[i]


def test_splitmix64_reference_outputs():
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert splitmix64(1234567) == 6457827717110365317  # the published reference sequence's first value
    assert splitmix64(1234567 + 0x9E3779B97F4A7C15) == 3203168211198807973  # ... and its second


@pytest.mark.parametrize("batch", [1, 3])
def test_sgd_batches_follow_an_explicit_permutation(batch):
    """Mini-batch SGD through the compiled driver = a NumPy loop over the batches of an explicit
    permutation stream: shuffled with the run's seed, walked in order, reshuffled every epoch (the
    last batch of an epoch is short when b does not divide n)."""
    n, seed, lr, steps = 10, 7, 0.05, 25
    p = gdbench.problems.linreg(n=n, d=1, seed=2)  # dimension 2: the trace records θ
    X, y = p.X[:, 0], p.y
    rng = Xoroshiro128Plus(seed)
    perm = list(range(n))
    rng.shuffle(perm)
    pos, th, want = 0, np.zeros(2), []
    for _ in range(steps):
        if pos >= n:
            rng.shuffle(perm)
            pos = 0
        rows = np.array(perm[pos:pos + batch])
        pos += len(rows)
        r = th[0] * X[rows] + th[1] - y[rows]
        th = th - lr * (2.0 / len(rows)) * np.array([r @ X[rows], r.sum()])
        want.append(th)
    res = gdbench.minimize(p, "gd", steps=steps, lr=lr, batch_size=batch, seed=seed, record_every=1)
    np.testing.assert_allclose(_thetas(res), want, rtol=1e-12, atol=1e-14)
    other = gdbench.minimize(p, "gd", steps=steps, lr=lr, batch_size=batch, seed=seed + 1, record_every=1)
    assert not np.allclose(_thetas(other), want)  # the stream really depends on the seed
