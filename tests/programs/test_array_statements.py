"""Statements of NumPy arithmetic take a lean path when their values are real arrays and
numbers that do not broadcast (pygote/transform/arrays.py), and the general path
otherwise; both against finite differences of the plain programs, including programs
whose iterations switch between the two paths."""

import numpy as np
import pytest

import pygote as pg

from .fd import assert_gradient_matches, params


def stencil_with_active_factor(u0, k):
    u = u0.copy()
    for _ in range(6):
        u[1:-1] = u[1:-1] + k * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def products_and_quotients(x):
    z = x[1:] * x[:-1] - x[1:] / (x[:-1] + 2.0)
    w = z * z / x[1:]
    return np.sum(w) + np.sum(z)


def quotient_in_a_loop(u0):
    u = u0 * 1.0
    for _ in range(4):
        u[1:] = u[1:] / (1.0 + u[:-1] * u[:-1])
    return np.sum(u ** 2)


def broadcasting_operands(x, b):
    y = (x * 2.0) + b             # b (3,) against x (4, 3): b's gradient is summed
    z = x[:, :1] * b + y          # (4, 1) * (3,): broadcasts, the general path
    return np.sum(z * y)


def indexed_by_loop_variable(x, k):
    u = x * 1.0
    for i in range(1, len(x)):
        u[i] = u[i] * k + x[i] * u[i]
    return np.sum(u)


def numpy_scalars(x):
    y = x[0] * x[1] + x[2] / x[0]
    return y * y


def complex_arrays(z):
    u = z * 1.0
    u[1:] = u[1:] * (0.5 + 0.25j) + u[:-1]
    return np.sum(np.abs(u) ** 2)


def single_precision(x):
    u = x.astype(np.float32)
    u[1:] = u[1:] * 0.5 + u[:-1] * 2.0
    return float(np.sum(u.astype(np.float64) ** 2))


class Offset:
    __array_ufunc__ = None

    def __init__(self, c):
        self.c = c

    def __radd__(self, other):
        return other + self.c


def user_object_operand(x):
    y = x * 2.0 + Offset(1.5)
    return np.sum(y * y)


def switching_paths(x, cs):
    u = x * 1.0
    for c in cs:  # floats take the lean path; the (1, n-1) array broadcasts
        u[1:] = u[1:] * c + u[:-1]
    return np.sum(u * u)


def view_written(x):
    u = x * 1.0
    v = u[1:]
    v[1:] = v[1:] * 0.5 - v[:-1] * u[:-2]  # v is a view: the write lands in u
    return np.sum(u ** 3)


def functions_of_one_array(x, w):
    y = np.sin(x * w) * np.cos(x) + np.sqrt(x * x + 1.0) - np.log(w * w + 0.5)
    z = np.exp(-y) + np.tanh(y * 0.5)
    u = x * 1.0
    u[1:] = np.sqrt(u[1:] * u[1:] + w[:-1] * w[:-1]) + np.sum(u) * 0.1
    return np.sum(z * y) + np.sum(u)


def index_arithmetic_in_statement(x, idx):
    u = x * 1.0
    n = 1
    u[n + 1:] = u[n + 1:] * 2.0 + u[:-(n + 1)]
    u[1:] = u[1:] * 2.0 + u[idx + 1] * u[:-1]  # an integer-array index, computed in place
    return np.sum(u * u)


def result_used_twice(x, y):
    t = x * y - y * 0.5
    return np.sum(t * t) + np.sum(t * x)


CASES = [
    (stencil_with_active_factor, (np.linspace(0.0, 1.0, 9) ** 2, 0.2)),
    (products_and_quotients, (np.array([0.5, 1.3, -0.7, 2.1]),)),
    (quotient_in_a_loop, (np.array([0.5, 1.3, -0.7, 2.1]),)),
    (broadcasting_operands, (np.arange(12.0).reshape(4, 3) / 7.0, np.array([0.3, -0.2, 0.9]))),
    (indexed_by_loop_variable, (np.array([0.5, 1.3, -0.7, 2.1]), 0.7)),
    (numpy_scalars, (np.array([0.5, 1.3, -0.7]),)),
    (complex_arrays, (np.array([0.5 + 0.1j, 1.3 - 0.2j, -0.7 + 0.4j]),)),
    (user_object_operand, (np.array([0.5, 1.3, -0.7]),)),
    (switching_paths, (np.array([0.5, 1.3, -0.7, 2.1]),
                       [0.5, np.array([[0.3, -0.6, 0.9]]), 1.5, 0.25])),
    (view_written, (np.linspace(0.2, 1.4, 7),)),
    (functions_of_one_array, (np.array([0.5, 1.3, -0.7, 2.1]), np.array([1.1, -0.4, 0.6, 0.9]))),
    (index_arithmetic_in_statement, (np.linspace(0.1, 1.0, 6), np.array([0, 1, 2, 3, 4]))),
    (result_used_twice, (np.array([0.5, 1.3, -0.7]), np.array([1.1, -0.4, 0.6]))),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_array_statements(program, args):
    assert_gradient_matches(program, *args)


def test_single_precision_against_closed_form():
    # finite differences of float32 arithmetic are too coarse: the closed form of
    # f = x0^2 + sum_i (x_i / 2 + 2 x_{i-1})^2
    x = np.array([0.5, 1.3, -0.7, 2.1])
    u = np.concatenate([[x[0]], 0.5 * x[1:] + 2.0 * x[:-1]])
    expected = np.zeros(4)
    expected[0] = 2 * x[0]
    expected[1:] += u[1:]
    expected[:-1] += 4 * u[1:]
    (g,) = pg.gradient(single_precision, x)
    np.testing.assert_allclose(g, expected, rtol=1e-6)


def test_lean_path_is_taken_for_a_stencil(capsys):
    text = pg.show_adjoint(stencil_with_active_factor, np.ones(5), 0.1)
    assert "_fast" in text and "_shadow(u)" in text and "_binop" in text  # both paths


def test_caller_array_after_gradient_lean_path():
    def update(u, k):
        for _ in range(3):
            u[1:] = u[1:] * k + u[:-1]
        return np.sum(u * u)

    u = np.linspace(0.0, 1.0, 5)
    expected = u.copy()
    update(expected, 0.5)
    g = pg.gradient(update, u, 0.5)
    np.testing.assert_array_equal(u, expected)  # as a plain call leaves it
    fresh = np.linspace(0.0, 1.0, 5)
    assert_gradient_matches(update, fresh, 0.5)
    assert np.isfinite(g[0]).all()


def output_read_by_its_own_statement(x):
    a = x.copy()
    a = (x + a) + x             # the new a is made from the old one
    b = x / (1.0 + a * a)
    b = x + (x / (1.0 + b * b))
    return np.sum(a * x) + np.sum(b)


def test_output_read_by_its_own_statement():
    # found by the random program generator: the lean backward read the new value
    assert_gradient_matches(output_read_by_its_own_statement, np.array([-2.0, 0.5, 1.5]))


# ---- shadows keeping the lean backward's fresh arrays (shadows.acc_owned) -------------


def shifted_softmax_sum(x, w):
    m = np.max(x)
    e = np.exp(x - m) * w  # x's cotangent: a fresh product, handed to x's shadow ...
    return np.sum(e) + np.sum(x * x)  # ... which later contributions add into in place


def same_operand_twice(a, b):
    y = a * b - a + a / b  # a: a product, the output's cotangent itself, a quotient
    return np.sum(y * y)


@pytest.mark.parametrize("program", [shifted_softmax_sum, same_operand_twice])
def test_fresh_cotangents_kept_by_shadows(program):
    rng = np.random.default_rng(3)
    assert_gradient_matches(program, rng.normal(size=7), rng.uniform(0.5, 2.0, size=7))


def test_callers_cotangent_is_never_kept_for_writing():
    # the output's cotangent is the caller's own array: handed on, never written into
    def f(a):
        y = a * 2.0 + a
        return y

    a = np.array([1.0, 2.0, 3.0])
    dy = np.array([1.0, -1.0, 0.5])
    _, back = pg.vjp(f, a)
    (da,) = back(dy)
    np.testing.assert_allclose(da, 3.0 * dy)
    np.testing.assert_array_equal(dy, [1.0, -1.0, 0.5])
    (da2,) = back(dy)
    np.testing.assert_allclose(da2, 3.0 * dy)
    np.testing.assert_array_equal(dy, [1.0, -1.0, 0.5])


# ---- `u[idx] = u[idx] + ...`: the written region keeps its cotangent -----------------


def _update(kind):
    def program(u0, v):
        u = u0.copy()
        for _ in range(3):
            if kind == "plain":
                u[1:-1] = u[1:-1] + 0.25 * (u[2:] - 2 * u[1:-1] + u[:-2])
            elif kind == "scaled":
                u[1:-1] = u[1:-1] * 0.5 + u[2:]
            elif kind == "twice":
                u[1:-1] = u[1:-1] + u[1:-1]
            elif kind == "neighbour":
                u[1:-1] = u[1:-1] + u[2:]
            elif kind == "outer":
                u[1:-1] = u[1:-1] - v[1:-1] * 0.5
            elif kind == "negated":
                u[1:-1] = u[1:-1] - (u[2:] - u[:-2])
        return np.sum(u * u * v)

    program.__name__ = f"update_{kind}"
    return program


UPDATES = ["plain", "scaled", "twice", "neighbour", "outer", "negated"]


@pytest.mark.parametrize("kind", UPDATES)
def test_updated_region_keeps_its_cotangent(kind):
    rng = np.random.default_rng(5)
    program = _update(kind)
    assert_gradient_matches(program, rng.normal(size=9), rng.normal(size=9))


def alias_and_twice_sent(x):
    v1 = x  # another name for x
    v2 = x * 2.0
    # the cotangent of (v2 + v1) ** 2 goes bare to both v2 and v1: v2's shadow keeps it,
    # so x's must not add into it (it did: found by random programs through pg.hessian)
    return np.sum(v1 - (v2 + v1) ** 2)


def test_a_cotangent_sent_bare_to_two_arrays():
    x = np.array([0.5, -0.3, 1.2])
    np.testing.assert_allclose(pg.grad(alias_and_twice_sent)(x), 1 - 18 * x, rtol=1e-12)
    assert_gradient_matches(alias_and_twice_sent, x)
