"""Realistic programs mixing features (memo dicts, dict comprehensions over parameters,
rows with enumerate, objects keeping history, in-place simulation steps, exceptions
raised in callees and inside loops in a try), against finite differences."""

import functools  # noqa: F401  (programs may use it)
import math

import numpy as np
import pytest

from .fd import assert_gradient_matches, params

W = np.array([[0.5, -0.2], [0.1, 0.3]])


def fib_memo(n, x, memo=None):
    if memo is None:
        memo = {}
    if n in memo:
        return memo[n]
    if n < 2:
        r = x * (n + 1.0)
    else:
        r = fib_memo(n - 1, x, memo) + 0.5 * fib_memo(n - 2, x, memo)
    memo[n] = r
    return r


def f_memo(x):
    return fib_memo(10, x)


def params_dict(p, X):
    scaled = {k: v * 2.0 for k, v in p.items()}
    h = np.tanh(X @ scaled["w"] + scaled["b"])
    return float(np.mean(h**2)) + max(abs(scaled["b"]))


def rows_loop(X, w):
    total = 0.0
    for i, row in enumerate(X):
        total += (i + 1) * math.exp(-(float(row @ w) ** 2))
    return total


class Model:
    def __init__(self, w):
        self.w = w
        self.history = []

    def loss(self, x):
        y = W @ (self.w * x)
        self.history.append(float(y.sum()))
        return np.sum(y**2) + sum(self.history)


def model_loss(w, x):
    m = Model(w)
    return m.loss(x) + m.loss(2.0 * x)


def string_and_checks(x):
    label = f"value={x:.3f}"
    if isinstance(x, float) and len(label) > 3:
        return x**2
    return x


def slice_aug(x):
    a = x.copy()
    a[1:3] += x[:2] * 2.0
    a[::2] *= 3.0
    return np.sum(a * a)


def write_view_in_callee(x):
    a = np.zeros(4)
    v = a[1:3]
    fill_it(v, x)
    return np.sum(a * np.arange(4.0))


def fill_it(v, x):
    v[:] = x[:2] * x[1:]


class Sim:
    def __init__(self, u):
        self.state = u.copy()

    def step(self, r):
        s = self.state
        s[1:-1] = s[1:-1] + r * (s[2:] - 2 * s[1:-1] + s[:-2])


def sim(u):
    m = Sim(u)
    for _ in range(5):
        m.step(0.1)
    return np.sum(m.state**2)


def try_callee(x):
    try:
        y = risky(x)
    except ValueError:
        y = x * 3.0
    return y * x


def risky(x):
    if x > 1.0:
        raise ValueError("big")
    return x * x


def try_in_loop(x):
    total = 0.0
    for i in range(4):
        try:
            total = total + risky(x * i)
        except ValueError:
            total = total - x
    return total


def heat(u0):
    u = u0.copy()
    r = 0.2
    for _ in range(50):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u**2)


def raise_mid_loop(x):
    total = 0.0
    try:
        for i in range(5):
            total = total + x * i
            if i == 3:
                raise ValueError("stop")
    except ValueError:
        total = total * 2.0
    return total * x


def class_inside(x):
    class P:
        def __init__(self, v):
            self.v = v

        def sq(self):
            return self.v * self.v

    return P(x).sq()


def dict_unpack(x):
    a = {"p": x, "q": 2.0}
    b = {**a, "r": x * 3.0}
    return b["p"] * b["r"] + b["q"]


def walrus(x):
    if (y := x * 2.0) > 1.0:
        return y * y
    return y


def set_comp(x):
    s = {round(v, 3) for v in [x, x * 2.0]}
    return x * len(s)


def star_expr(x, y, z):
    a, *rest = [x, y, z]
    return a * sum(rest)


def nested_default(x):
    def inner(v, k=x * 2.0):
        return v * k

    return inner(3.0)


def generator_in_call(xs):
    return max(v * v for v in xs) + min(v for v in xs)


def string_ops(x):
    parts = "a,b,c".split(",")
    return x * len(parts) + float(len("".join(parts)))


def assert_and_raise(x):
    assert x > 0, "positive"
    return math.log(x)


def chained(x):
    return x * 2.0 if 0.0 < x < 1.0 < 2.0 else -x


def slices_neg_step(x):
    return np.sum(x[::-1] * np.arange(len(x)))


def complex_mix(z):
    w = z * 1j + np.conj(z)
    return abs(w) ** 2


def two_level_closure(x):
    def mid(y):
        def inner(z):
            return x * y * z

        return inner(2.0) + inner(y)

    return mid(3.0 * x)


def closure_returned_and_called_later(x):
    def make(a):
        return lambda t: a * t * t

    fs = [make(x), make(2.0 * x)]
    return sum(f(1.5) for f in fs)


def recursive_closure(x):
    def go(n, acc):
        if n == 0:
            return acc
        return go(n - 1, acc * x + 1.0)

    return go(5, 0.0)


def while_true_break(x):
    i = 0
    y = x
    while True:
        y = math.sin(y) + x
        i += 1
        if i >= 4:
            break
    return y


def list_of_lists(m):
    total = 0.0
    for row in m:
        for v in row:
            total += v * v
    return total


def numpy_scalar_ops(x):
    s = np.float64(x) * 2.0
    t = np.sqrt(s) + np.exp(-s)
    return float(t)


def kwargs_only(x, *, scale=2.0, shift):
    return x * scale + shift


def call_kwargs_only(x, y):
    return kwargs_only(x, shift=y) + kwargs_only(y, scale=x, shift=1.0)


def matrix_power_iter(A, v):
    for _ in range(3):
        v = A @ v
        v = v / np.linalg.norm(v)
    return v @ A @ v


_rng = np.random.default_rng(1)
_A = _rng.standard_normal((3, 3))
CASES = [
    (f_memo, (0.7,)),
    (
        params_dict,
        (
            {"w": _rng.standard_normal((3, 2)), "b": np.array([0.1, -0.4])},
            _rng.standard_normal((5, 3)),
        ),
    ),
    (rows_loop, (_rng.standard_normal((4, 3)), _rng.standard_normal(3) * 0.3)),
    (model_loss, (np.array([0.3, -0.7]), np.array([1.0, 2.0]))),
    (string_and_checks, (1.3,)),
    (slice_aug, (np.array([1.0, 2.0, 3.0, 4.0]),)),
    (write_view_in_callee, (np.array([1.0, 2.0, 3.0]),)),
    (sim, (np.linspace(0.0, 1.0, 6),)),
    (try_callee, (0.5,)),
    (try_callee, (1.5,)),
    (try_in_loop, (0.6,)),
    (heat, (np.linspace(0.0, 1.0, 20) ** 2,)),
    (raise_mid_loop, (0.7,)),
    (class_inside, (1.3,)),
    (dict_unpack, (0.4,)),
    (walrus, (0.8,)),
    (set_comp, (0.3,)),
    (star_expr, (1.0, 2.0, 3.0)),
    (nested_default, (0.5,)),
    (generator_in_call, ([0.5, -1.5, 2.0],)),
    (string_ops, (1.1,)),
    (assert_and_raise, (2.0,)),
    (chained, (0.5,)),
    (slices_neg_step, (np.array([1.0, 2.0, 3.0]),)),
    (complex_mix, (1.0 + 2.0j,)),
    (two_level_closure, (0.7,)),
    (closure_returned_and_called_later, (0.9,)),
    (recursive_closure, (0.6,)),
    (while_true_break, (0.4,)),
    (list_of_lists, ([[1.0, 2.0], [3.0]],)),
    (numpy_scalar_ops, (0.8,)),
    (call_kwargs_only, (1.2, 0.3)),
    (matrix_power_iter, (_A + _A.T, np.ones(3))),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_realistic(program, args):
    assert_gradient_matches(program, *args)
