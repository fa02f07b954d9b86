"""Exceptions inside differentiated code, raised partway through a try body: at its top
level, in the middle of a loop iteration (for and while, nested), and in a callee; each
against finite differences of the plain program, in both modes."""

import numpy as np
import pytest

from .fd import assert_gradient_matches, params


def raise_mid_while(x):
    total = 0.0
    i = 0
    try:
        while True:
            total = total + x * i
            i = i + 1
            if i > 3:
                raise StopIteration
            total = total * x
    except StopIteration:
        total = total + x
    return total


def raise_in_nested_loop(x):
    total = 0.0
    for k in range(4):
        try:
            for j in range(3):
                total = total + x * (j + 1)
                if k == 2 and j == 1:
                    raise KeyError("stop")
                total = total * 0.5 + x
        except KeyError:
            total = total + 3.0 * x
    return total


def _checked(v):
    w = v * 2.0
    if v > 1.0:
        raise ValueError("too large")
    return w * v


def raise_in_callee(xs):
    total = 0.0
    for v in xs:
        try:
            total = total + _checked(v) + v
        except ValueError:
            total = total - v * v
    return total


def raise_mid_iteration_with_arrays(x):
    a = np.zeros(4)
    out = 0.0
    try:
        for k in range(4):
            a[k] = np.sin(x[k]) * x[0]
            if a[k] < 0:
                raise ArithmeticError(k)
            a[k] = a[k] + x[k] ** 2
    except ArithmeticError:
        out = np.sum(a) * 2.0
    else:
        out = np.sum(a)
    finally:
        out = out + x[1]
    return out




CASES = [
    (raise_mid_while, (0.7,)),
    (raise_in_nested_loop, (0.7,)),
    (raise_in_callee, ([0.5, 1.5, 0.8],)),
    (raise_mid_iteration_with_arrays, (np.array([0.5, 1.2, -0.9, 0.3]),)),
    (raise_mid_iteration_with_arrays, (np.array([0.5, 1.2, 0.9, 0.3]),)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_exceptions(program, args):
    assert_gradient_matches(program, *args)
