"""The workloads of ../shared/BENCHMARKS.md, each written ONCE in plain Python + NumPy.

This is the code a scientist writes: no wrapped NumPy, no decorators. pygote
differentiates these very functions (it reads their source, so they live here, at module
level). The peers in ``benchmarks/peers/`` re-express the same mathematics in their own
idiom, and every gradient is checked against central finite differences of THESE
functions before it is timed.

Each workload is described by a :class:`Workload`: the function, a maker of its inputs
(fixed seed, float64), the positions of the differentiated arguments (the others are
constants, like ``pg.grad(f, argnums=...)`` / ``jax.grad(f, argnums=...)``), and what is
measured ("gradient", "hessian", or the LSTM's "backward" study).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------- scalar Python


def sincos(x):
    return math.sin(math.cos(x))


# The Zygote paper's opening example: a loop, an `if`, an early return on convergence,
# `math.factorial` and a `print` (to a buffer, so the benchmark does not flood stdout).
TAYLOR_OUT = io.StringIO()


def taylor_sin(x):
    t, sign = 0.0, -1.0
    for i in range(1, 20):
        if i % 2 == 1:
            newterm = x**i / math.factorial(i)
            if abs(newterm) < 1e-8:
                return t
            print("i =", i, file=TAYLOR_OUT)
            sign = -sign
            t += sign * newterm
    return t


def loop(x):
    y = x
    for _ in range(1000):
        y = y * x * 0.999 + math.sin(y) * 0.001
    return y


def poly_horner(x, coeffs):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def _descend(x, n):
    if n == 0:
        return x
    return x * 0.01 + math.sin(_descend(x, n - 1))


def recursion(x):
    return _descend(x, 200)  # 200 levels of recursion (201 frames with this one)


# ---------------------------------------------------------------- NumPy


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def mlp(W1, b1, W2, b2, X, labels):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), labels])


def lotka_volterra(u, p):
    a, b, c, d = p
    x, y = u
    return np.array([a * x - b * x * y, -c * y + d * x * y])


def rk4_lotka(p, u0):
    dt = 0.01
    u = u0
    for _ in range(1000):
        k1 = lotka_volterra(u, p)
        k2 = lotka_volterra(u + 0.5 * dt * k1, p)
        k3 = lotka_volterra(u + 0.5 * dt * k2, p)
        k4 = lotka_volterra(u + dt * k3, p)
        u = u + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(u * u)


def heat_inplace(u0):
    r = 0.25
    u = u0.copy()
    for _ in range(500):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def hessian_100(x, A):
    return np.sum(np.tanh(A @ x) ** 2) + np.sum(x**4)


# ---------------------------------------------------------------- stacked LSTM
#
# Per-op overhead (the Zygote paper's measure): the backward pass is timed at batch sizes
# 1..64, a straight line is fitted to time vs batch size, and its intercept (the cost at
# batch 0: pure bookkeeping) is divided by the number of ADJOINT OPERATIONS, i.e. the
# operations on differentiated values that a reverse pass must pull back. Counted on the
# code below, one operator or NumPy call each (index arithmetic on the hidden size `H`
# such as `3 * H` works on plain ints and is not counted; nor are function calls):
#
#   z = x @ W + h @ U + b           2 matmuls, 2 additions              4
#   g = 1.0 / (1.0 + np.exp(-z[:, :3 * H]))
#                                   slice, negation, exp, add, divide   5
#   i, f, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
#                                   3 slices                            3
#   u = np.tanh(z[:, 3 * H:])       slice, tanh                         2
#   c = f * c + i * u               2 products, 1 addition              3
#   h = o * np.tanh(c)              tanh, product                       2
#                                                           per cell:  19
#
# plus the loss `np.sum(h * h)`: 2 operations. A network of L layers over T steps has
# LSTM_OPS_PER_CELL * L * T + 2 adjoint operations (T = 20: 382, 762, 1142 for L = 1, 2, 3).
# (Reading the constant input `xs[t]` is not an adjoint operation: xs is data.)

LSTM_OPS_PER_CELL = 19
LSTM_LOSS_OPS = 2
LSTM_STEPS = 20
LSTM_INPUT = 16
LSTM_HIDDEN = 16
LSTM_LAYERS = (1, 2, 3)
LSTM_BATCHES = (1, 4, 16, 32, 64)  # 1..64; five sizes keep `make bench` under 15 min


def lstm_ops(layers: int, steps: int = LSTM_STEPS) -> int:
    """The number of adjoint operations of :func:`lstm` (see the table above)."""
    return LSTM_OPS_PER_CELL * layers * steps + LSTM_LOSS_OPS


def lstm_cell(x, h, c, W, U, b):
    H = h.shape[1]
    z = x @ W + h @ U + b
    g = 1.0 / (1.0 + np.exp(-z[:, : 3 * H]))
    i, f, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H :]
    u = np.tanh(z[:, 3 * H :])
    c = f * c + i * u
    h = o * np.tanh(c)
    return h, c


def lstm(params, xs, h0):
    """A stacked LSTM unrolled over ``len(xs)`` steps; ``params`` is a list of (W, U, b)
    per layer, ``xs`` has shape (steps, batch, input), ``h0`` the zero state (batch, H)."""
    hs = [h0 for _ in params]
    cs = [h0 for _ in params]
    for t in range(xs.shape[0]):
        inp = xs[t]
        for layer in range(len(params)):
            W, U, b = params[layer]
            h, c = lstm_cell(inp, hs[layer], cs[layer], W, U, b)
            hs[layer] = h
            cs[layer] = c
            inp = h
    return np.sum(inp * inp)


def lstm_inputs(layers: int, batch: int, steps: int = LSTM_STEPS, seed: int = 0):
    rng = np.random.default_rng(seed)
    H, D = LSTM_HIDDEN, LSTM_INPUT
    params = []
    for layer in range(layers):
        n_in = D if layer == 0 else H
        W = rng.standard_normal((n_in, 4 * H)) / math.sqrt(n_in)
        U = rng.standard_normal((H, 4 * H)) / math.sqrt(H)
        b = rng.standard_normal(4 * H) * 0.1
        params.append((W, U, b))
    xs = rng.standard_normal((steps, batch, D))
    h0 = np.zeros((batch, H))
    return (params, xs, h0)


# ---------------------------------------------------------------- the registry


@dataclass
class Workload:
    name: str
    fn: Callable
    make_inputs: Callable[[], tuple]
    argnums: tuple  # positions of the differentiated arguments
    what: str
    wrt: str
    kind: str = "gradient"  # "gradient", "hessian" or "backward" (the LSTM study)
    small: bool = False  # small enough for --quick and the smoke test
    notes: dict = field(default_factory=dict)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _mlp_inputs():
    rng = _rng(0)
    X = rng.standard_normal((128, 784))
    labels = rng.integers(0, 10, 128)
    W1 = rng.standard_normal((784, 256)) * 0.05
    b1 = rng.standard_normal(256) * 0.01
    W2 = rng.standard_normal((256, 10)) * 0.05
    b2 = rng.standard_normal(10) * 0.01
    return (W1, b1, W2, b2, X, labels)


def _hessian_inputs():
    rng = _rng(0)
    return (rng.standard_normal(100) * 0.5, rng.standard_normal((100, 100)) / 10.0)


COEFFS = [1.0 / (k + 1) for k in range(201)]  # degree 200

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("sincos", sincos, lambda: (0.7,), (0,), "sin(cos(x)), x a float", "x",
                 small=True),
        Workload("taylor_sin", taylor_sin, lambda: (1.0,), (0,),
                 "Taylor series of sin: loop, if, early return, factorial, print", "x",
                 small=True),
        Workload("loop", loop, lambda: (1.0,), (0,),
                 "scalar recurrence, 1000 iterations", "x", small=True),
        Workload("poly_horner", poly_horner, lambda: (0.9, list(COEFFS)), (0,),
                 "Horner, degree 200, coefficients a list of floats", "x", small=True),
        Workload("recursion", recursion, lambda: (0.5,), (0,),
                 "recursive function, 200 levels", "x", small=True),
        Workload("logsumexp", logsumexp, lambda: (_rng(0).standard_normal(10_000),), (0,),
                 "logsumexp of 10 000 floats", "x", small=True),
        Workload("mlp", mlp, _mlp_inputs, (0, 1, 2, 3),
                 "MLP 128x784 -> 256 tanh -> 10, softmax cross-entropy",
                 "weights and biases"),
        Workload("rk4_lotka", rk4_lotka,
                 lambda: (np.array([1.5, 1.0, 3.0, 1.0]), np.array([1.0, 1.0])), (0,),
                 "RK4, Lotka-Volterra, 1000 steps, state a length-2 array", "4 parameters"),
        Workload("heat_inplace", heat_inplace,
                 lambda: (np.sin(np.linspace(0.0, np.pi, 1000)) + 0.1 * _rng(0).standard_normal(1000),),
                 (0,), "1-D heat equation, 1000 points, 500 in-place steps", "initial u"),
        Workload("hessian_100", hessian_100, _hessian_inputs, (0,),
                 "Hessian of sum(tanh(A@x)**2) + sum(x**4), x in R^100", "x",
                 kind="hessian"),
        Workload("lstm_overhead", lstm, lambda: lstm_inputs(2, 4), (0,),
                 "stacked LSTM (1-3 layers), 20 steps, batch 1..64: per-op overhead",
                 "all weights", kind="backward"),
    ]
}
