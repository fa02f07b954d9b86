"""NumPy operations that write into existing arrays, against finite differences."""

import numpy as np
import pytest

from .fd import assert_gradient_matches, params


def ufunc_out(x, y):
    buf = np.ones(3)
    np.multiply(x, y, out=buf)
    np.add(buf, x, out=buf)
    return np.sum(buf * buf)


def ufunc_out_into_slice(x):
    y = np.zeros(4)
    np.multiply(x, 2.0, out=y[1:])
    return np.sum(np.sin(y) * np.arange(4.0))


def copyto_then_read(x, y):
    a = x * 2.0
    first = np.sum(a * a)
    np.copyto(a, y)
    return first + np.sum(a * x)


def fill_then_read(x, v):
    a = np.sin(x)
    before = np.sum(a * x)
    a.fill(v)
    return before + np.sum(a * x)


def put_values(x, v):
    a = x.copy()
    np.put(a, [0, 2], v)
    return np.sum(a * a * x)


def fill_diagonal_value(m, v):
    a = m.copy()
    np.fill_diagonal(a, v)
    return np.sum(a * m)


def add_at_repeated(x, b):
    a = x.copy()
    np.add.at(a, [0, 0, 2], b)
    return np.sum(a * a)


def subtract_at(x, b):
    a = x * 1.0
    np.subtract.at(a, [1, 1], b)
    return np.sum(np.cos(a))


def sort_in_place(x):
    a = x * 2.0
    a.sort()
    return np.sum(a * np.array([1.0, 2.0, 3.0, 4.0]))


def multiply_at_repeated(x, b):
    a = x * 1.5
    np.multiply.at(a, [0, 0, 2, 0], np.array([b[0], b[1], b[2], x[1]]))
    return np.sum(a * a) + a[0]


def setitem_repeated_last_wins(x, y):
    a = np.zeros(4)
    a[[0, 2, 0, 1]] = np.array([x[0], y[0], x[1] * y[1], x[2]])  # a[0] = x[1] * y[1]
    b = np.ones((3, 3))
    b[[1, 1], [2, 2]] = y[:2] * 2.0  # b[1, 2] = 2 * y[1]
    return np.sum(a * np.array([1.0, 2.0, 3.0, 4.0])) + np.sum(b * b)


def setitem_boolean_and_repeats_in_loop(x):
    a = np.zeros(3)
    for k in range(3):
        a[[k, k]] = np.array([x[k] * 5.0, x[k] * x[k]])
    return np.sum(np.sin(a))


_x = np.array([0.3, -1.2, 0.8])
CASES = [
    (multiply_at_repeated, (_x, np.array([0.5, -2.0, 1.5]))),
    (setitem_repeated_last_wins, (_x, np.array([0.7, -0.4, 0.2]))),
    (setitem_boolean_and_repeats_in_loop, (_x,)),
    (ufunc_out, (_x, np.array([1.5, 0.5, -0.7]))),
    (ufunc_out_into_slice, (_x,)),
    (copyto_then_read, (_x, np.array([1.0, 2.0, 3.0]))),
    (fill_then_read, (_x, 0.7)),
    (put_values, (_x, np.array([2.0, -1.0]))),
    (fill_diagonal_value, (np.arange(9.0).reshape(3, 3) / 7.0, 1.3)),
    (add_at_repeated, (_x, np.array([0.5, 0.25, -1.0]))),
    (subtract_at, (_x, np.array([0.4, 0.1]))),
    (sort_in_place, (np.array([0.9, -0.3, 0.5, 0.1]),)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_inplace_numpy(program, args):
    assert_gradient_matches(program, *args)
