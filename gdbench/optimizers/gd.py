"""Plain gradient descent (torch.optim.SGD with momentum=0).

Update, with g = ∇f(θ_{t-1}) from the run's gradient estimator (full batch, one sample or a
mini-batch)::

    θ_t = θ_{t-1} − lr · g

Defaults: lr=1e-3 (torch's default). The suite names ``batch_gd``, ``sgd`` and ``minibatch`` are
this rule with the full-batch, single-sample and mini-batch estimators.
"""

from numba import njit

from .._config import JIT

NAME = "gd"
SUMMARY = "gradient descent: θ ← θ − lr·g"
HYPER = {"lr": 1e-3}
STATE: tuple[str, ...] = ()


@njit(**JIT)
def step(theta, g, lr):
    for i in range(theta.shape[0]):
        theta[i] -= lr * g[i]


def reference(theta, g, lr):
    theta -= lr * g
