"""End-to-end programs: control flow (branches, loops, early exits, comprehensions).

Every case is an ordinary Python function plus the inputs it is differentiated at; the
test compares ``pygote.gradient`` with central finite differences. Inputs stay well away
from branch boundaries, so each program is smooth around them.
"""

import math

import numpy as np
import pytest

from .fd import assert_gradient_matches, params

_rng = np.random.default_rng(1234)


# --- if / elif / else ---------------------------------------------------------------------

def if_else_square_or_cube(x):
    if x > 0:
        y = x * x
    else:
        y = -x ** 3
    return y


def piecewise_elif(x):
    if x < -1.0:
        y = -2.0 * x - 1.0
    elif x < 0.5:
        y = x * x
    elif x < 2.0:
        y = math.sin(x) + x
    else:
        y = math.log(x) * 3.0
    return y


def branch_on_int(x, n):
    if n == 2:
        return x * x
    else:
        return x * 3.0


def branch_uses_other_input(x, y, w):
    if x > 0:
        return x * x
    return y * x + np.sum(w)


def branch_on_array_sum(a, b):
    if np.sum(a) > 0:
        out = np.sum(a * b)
    else:
        out = np.sum(a - b) ** 2
    return out


def nested_ifs(x, y):
    if x > y:
        if x > 0:
            z = x * y
        else:
            z = x + y
    else:
        if y > 1.0:
            z = y ** 2 - x
        else:
            z = math.exp(x) * y
    return z


def ternary(x, y):
    scale = x if x > 0 else 2.0 * y
    return scale * y + x


def chained_comparison(x):
    if 0.0 < x < 1.0:
        return x * (1.0 - x)
    return x * x


def and_or_values(x, w):
    b = w or 0.5
    c = x > 0 and x
    return x * b + c * w


def walrus_branch(x):
    if (y := x * x) > 1.0:
        return y * x
    return -y


def is_none_check(x, bias):
    out = 2.0 * x
    if bias is not None:
        out = out + bias * x
    return out * out


def isinstance_dispatch(x, y):
    total = 0.0
    for v in (x, y):
        if isinstance(v, np.ndarray):
            total = total + np.sum(v ** 2)
        else:
            total = total + v * 3.0
    return total


def assert_positive(x):
    assert x > 0, "x must be positive"
    return math.sqrt(x) * x


def try_except_log(x):
    try:
        y = math.log(x)
    except ValueError:
        y = -x * x
    return y * 2.0


def errstate_context(x):
    with np.errstate(over="ignore"):
        y = np.exp(x)
    return np.sum(y) / 3.0


# --- while loops --------------------------------------------------------------------------

def while_grow(x):
    n = 0
    while x < 10.0:
        x = x * 1.5
        n += 1
    return x + n


def while_newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-13 * a:
        x = 0.5 * (x + a / x)
    return x


def while_true_break(x):
    total = 0.0
    k = 1
    while True:
        total = total + x ** k / k
        k += 1
        if k > 6:
            break
    return total


def while_else(x):
    i = 0
    y = x
    while i < 4:
        y = math.sin(y) + x
        i += 1
    else:
        y = y * 2.0
    return y


def while_data_exit_accumulate(x, rate):
    t = 0.0
    s = 0.0
    while s < 5.0:
        s = s + rate * (1.0 + x * t)
        t = t + 1.0
    return s * x


# --- for loops ----------------------------------------------------------------------------

def for_range_poly(x):
    s = 0.0
    for i in range(5):
        s = s + x ** i
    return s


def for_range_start_stop_step(xs):
    s = 0.0
    for i in range(1, len(xs), 2):
        s = s + xs[i] * xs[i - 1]
    return s


def for_over_list(xs):
    total = 0.0
    for x in xs:
        total += x * x
    return total


def for_over_tuple(w):
    acc = 1.0
    for wi in w:
        acc = acc * wi + 1.0
    return acc


def for_zip_dot(xs, ys):
    s = 0.0
    for x, y in zip(xs, ys):
        s = s + x * y
    return s


def for_enumerate(xs):
    s = 0.0
    for i, x in enumerate(xs):
        s = s + (i + 1) * x ** 2
    return s


def horner_reversed(coeffs, x):
    y = 0.0
    for c in reversed(coeffs):
        y = y * x + c
    return y


def dict_items_weighted(params, x):
    s = 0.0
    for name, w in params.items():
        if name.startswith("q"):
            s = s + w * x * x
        else:
            s = s + w * x
    return s


def dict_values_sum(params):
    total = 0.0
    for v in params.values():
        total = total + np.sum(v ** 2)
    return total


def dict_keys_loop(d):
    s = 0.0
    for k in d:
        s = s + d[k] * len(k)
    return s


def array_rows(A, w):
    s = 0.0
    for row in A:
        s = s + np.tanh(np.dot(row, w))
    return s


def array_elements(a):
    s = 0.0
    for v in a:
        s = s + v * v * v
    return s


def nested_loops_lists(M, v):
    out = 0.0
    for i in range(len(M)):
        row_sum = 0.0
        for j in range(len(v)):
            row_sum = row_sum + M[i][j] * v[j]
        out = out + row_sum ** 2
    return out


def nested_loops_triangle(x):
    s = 0.0
    for i in range(4):
        for j in range(i):
            s = s + x ** (i - j) / (i + j)
    return s


def loop_tuple_state(a, b):
    for _ in range(6):
        a, b = b, 0.5 * a + b
    return b


def loop_with_inner_branch(xs):
    s = 0.0
    for x in xs:
        if x > 0:
            s = s + math.sqrt(x)
        else:
            s = s - x * x
    return s


def running_max(xs):
    best = xs[0]
    for x in xs[1:]:
        if x > best:
            best = x
    return best * 2.0


def break_on_threshold(xs):
    s = 0.0
    for x in xs:
        s = s + x
        if s > 2.0:
            break
    return s * s


def continue_negative(xs):
    s = 0.0
    for x in xs:
        if x < 0:
            continue
        s = s + x ** 1.5
    return s


def early_return_in_loop(x):
    y = x
    for i in range(10):
        y = y * 1.3
        if y > 4.0:
            return y + i
    return -y


def for_else_search(xs, target):
    for x in xs:
        if x > target:
            found = x * 2.0
            break
    else:
        found = target * 3.0
    return found + target


def nested_break(M):
    total = 0.0
    for row in M:
        for v in row:
            if v > 1.0:
                break
            total = total + v * v
    return total


def gradient_descent_inner(w0, lr):
    w = w0
    for _ in range(10):
        grad = 2.0 * (w - 3.0)
        w = w - lr * grad
    return (w - 3.0) ** 2 + w


def loop_over_array_columns(A):
    s = 0.0
    for col in A.T:
        s = s + np.max(col) * np.min(col)
    return s


# --- comprehensions -----------------------------------------------------------------------

def list_comprehension_sum(x):
    return sum([x ** i for i in range(4)])


def generator_expression(w, xs):
    return sum(w * x for x in xs)


def comprehension_with_condition(xs):
    return sum([x * x for x in xs if x > 0.0])


def nested_comprehension(M):
    sq = [[v * v for v in row] for row in M]
    return sum(sum(r) for r in sq)


def dict_comprehension(a, b):
    d = {k: v * 2.0 for k, v in (("a", a), ("b", b))}
    return d["a"] * d["b"]


def comprehension_over_array(a):
    vals = [math.cos(v) for v in a]
    return sum(vals)


CASES = [
    (if_else_square_or_cube, (1.5,)),
    (if_else_square_or_cube, (-0.7,)),
    (piecewise_elif, (-2.3,)),
    (piecewise_elif, (0.2,)),
    (piecewise_elif, (1.1,)),
    (piecewise_elif, (3.7,)),
    (branch_on_int, (1.7, 2)),
    (branch_on_int, (1.7, 5)),
    (branch_uses_other_input, (1.5, 0.3, np.array([1.0, 2.0]))),
    (branch_uses_other_input, (-1.5, 0.3, np.array([1.0, 2.0]))),
    (branch_on_array_sum, (np.array([0.5, 1.2, -0.3]), np.array([2.0, -1.0, 0.7]))),
    (branch_on_array_sum, (np.array([-0.5, -1.2, 0.3]), np.array([2.0, -1.0, 0.7]))),
    (nested_ifs, (2.0, 1.0)),
    (nested_ifs, (-0.5, -1.5)),
    (nested_ifs, (0.3, 2.5)),
    (nested_ifs, (0.3, 0.6)),
    (ternary, (1.2, 0.4)),
    (ternary, (-1.2, 0.4)),
    (chained_comparison, (0.3,)),
    (chained_comparison, (1.8,)),
    (and_or_values, (1.3, 0.7)),
    (walrus_branch, (1.4,)),
    (walrus_branch, (0.6,)),
    (is_none_check, (1.3, 0.5)),
    (is_none_check, (1.3, None)),
    (isinstance_dispatch, (np.array([1.0, -2.0]), 0.7)),
    (assert_positive, (2.5,)),
    (try_except_log, (2.0,)),
    (try_except_log, (-3.0,)),
    (errstate_context, (np.array([0.1, 0.5, -1.0]),)),
    (while_grow, (1.3,)),
    (while_newton_sqrt, (2.0,)),
    (while_true_break, (0.8,)),
    (while_else, (0.4,)),
    (while_data_exit_accumulate, (0.3, 0.9)),
    (for_range_poly, (1.1,)),
    (for_range_start_stop_step, ([0.5, 1.5, -2.0, 0.25, 3.0],)),
    (for_over_list, ([1.0, -2.0, 0.5],)),
    (for_over_tuple, ((0.5, 1.5, -0.3),)),
    (for_zip_dot, ([1.0, 2.0, 3.0], [0.5, -0.5, 0.25])),
    (for_enumerate, ([0.3, -1.2, 2.0, 0.7],)),
    (horner_reversed, ([1.0, -2.0, 0.5, 0.25], 1.3)),
    (dict_items_weighted, ({"q1": 0.5, "lin": 2.0, "q2": -0.3}, 1.7)),
    (dict_values_sum, ({"w": np.array([1.0, 2.0]), "b": np.array(0.5)},)),
    (dict_keys_loop, ({"ab": 1.5, "c": -0.5, "def": 2.0},)),
    (array_rows, (_rng.standard_normal((4, 3)), _rng.standard_normal(3))),
    (array_elements, (np.array([0.5, -1.5, 2.0]),)),
    (nested_loops_lists, ([[1.0, 2.0], [0.5, -1.0], [3.0, 0.1]], [0.3, -0.7])),
    (nested_loops_triangle, (1.4,)),
    (loop_tuple_state, (0.3, 1.1)),
    (loop_with_inner_branch, ([0.5, -1.2, 2.0, -0.1],)),
    (running_max, ([0.5, 2.0, 1.5, 3.1, -1.0],)),
    (break_on_threshold, ([0.5, 0.9, 1.3, 4.0],)),
    (continue_negative, ([1.5, -0.4, 0.8, -2.0, 2.2],)),
    (early_return_in_loop, (1.1,)),
    (early_return_in_loop, (-0.5,)),
    (for_else_search, ([0.1, 0.7, 2.5, 1.0], 1.2)),
    (for_else_search, ([0.1, 0.7, 0.5, 1.0], 1.2)),
    (nested_break, ([[0.5, 0.9, 1.5, 0.2], [0.3, 2.0], [-0.4, 0.6]],)),
    (gradient_descent_inner, (0.5, 0.1)),
    (loop_over_array_columns, (_rng.standard_normal((3, 4)),)),
    (list_comprehension_sum, (0.9,)),
    (generator_expression, (0.7, [1.0, 2.0, -3.0])),
    (comprehension_with_condition, ([1.0, -2.0, 0.5, 1.5],)),
    (nested_comprehension, ([[1.0, 2.0], [-0.5, 0.25]],)),
    (dict_comprehension, (1.5, -0.4)),
    (comprehension_over_array, (np.array([0.1, 0.9, -2.0]),)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_control_flow(program, args):
    assert_gradient_matches(program, *args)
