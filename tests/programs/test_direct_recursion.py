"""A function calling itself by its global name, with arguments of the types its own
specialization was made for, calls that specialization's forward and backward directly
(transform/reverse.py, ``direct_recursion``), and the result of such a call is a real
number when every ``return`` of the function gives one (analysis/activity.py). These
programs check that both shortcuts stay exact where they apply and step aside where they
must not: arguments of other types, other constant positions, a name rebound mid-call,
results that are arrays, NumPy scalars."""

import math

import numpy as np

import pygote as pg
from pygote.transform.compile import adjoint_of

from .fd import assert_gradient_matches


def descend(x, n):
    if n == 0:
        return x
    return x * 0.01 + math.sin(descend(x, n - 1))


def deep(x):
    return descend(x, 200)


def test_deep_scalar_recursion_matches_finite_differences():
    # (second order through 200 levels would pass the interpreter's recursion limit: the
    # forward-mode pass differentiated in reverse takes several frames per level)
    assert_gradient_matches(deep, 0.3, modes=("rev",))
    assert_gradient_matches(deep, -1.7, modes=("rev",))
    assert_gradient_matches(lambda x: descend(x, 40), 0.3)


def test_recursive_call_is_direct_and_its_result_a_real_number():
    text = adjoint_of(descend, (0.3, 5)).generated
    assert "_own_forward" in text.forward and "_own_pullback" in text.backward
    # the result's cotangent is inline: no _acc for the recursive result or for x
    assert "_acc(" not in text.backward.split("elif")[0]
    # recursive calls enter the pullback, which returns x's cotangent alone
    assert "_own_pullback" in text.pullback and text.pullback.endswith("return _dx")


def swap(x, y, n):
    if n == 0:
        return x * y
    return swap(y, x * 0.5, n - 1) + math.sin(x)  # two parameters with cotangents


def test_recursion_with_two_differentiated_parameters():
    assert_gradient_matches(lambda x, y: swap(x, y, 7), 0.6, -1.3)


def branching(x, n):
    if n == 0:
        return math.sin(x)
    total = 0.0
    for k in range(3):  # in a loop: each pass keeps its own call's saved data
        a = x * (k + 1) if k < 2 else 2  # the last pass: an int, through the dispatcher
        total = total + branching(a, n - 1) * x
    return total


def test_recursive_calls_in_a_loop_direct_and_dispatched():
    assert_gradient_matches(lambda x: branching(x, 3), 0.4)


def discards(x, n):
    if n == 0:
        return x * x
    discards(x, n - 1)  # a result nobody reads: its cotangent is zero
    return discards(x * 0.5, n - 1) * x + x


def test_recursive_call_whose_result_is_unused():
    assert_gradient_matches(lambda x: discards(x, 4), 0.9)


def test_forward_mode_through_recursion():
    y, dy = pg.jvp(deep, (0.3,), (1.0,))
    h = 1e-6
    assert math.isclose(dy, (deep(0.3 + h) - deep(0.3 - h)) / (2 * h), rel_tol=1e-6)


def test_second_order_through_recursion():
    d2 = pg.grad(pg.grad(lambda x: descend(x, 20)))(0.4)
    g = pg.grad(lambda x: descend(x, 20))
    h = 1e-5
    assert math.isclose(d2, (g(0.4 + h) - g(0.4 - h)) / (2 * h), rel_tol=1e-5)


W = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [-0.1, 0.2, 0.7]])


def layers(v, n):
    if n == 0:
        return v
    return np.tanh(W @ layers(v, n - 1)) + 0.1 * v


def array_recursion(v):
    return np.sum(layers(v, 30) ** 2)


def test_array_recursion():
    assert_gradient_matches(array_recursion, np.array([0.3, -0.5, 0.8]))


def base_is_array(x, n):
    if n == 0:
        return np.array([x, 2.0 * x])
    return base_is_array(x, n - 1) * 1.5 + x


def returns_array(x):
    return float(np.sum(base_is_array(x, 4) ** 2))


def test_recursion_returning_arrays_is_not_taken_for_scalars():
    assert_gradient_matches(returns_array, 0.7)


def switch_types(x, n):
    if n == 0:
        return x * x
    if n == 3:  # an int argument: another specialization, called through the dispatcher
        return switch_types(2, n - 1) * x
    return switch_types(x * 1.1, n - 1) + x


def test_argument_of_another_type_takes_the_dispatcher():
    assert_gradient_matches(lambda x: switch_types(x, 6), 0.9)


def mix(x, y, n):
    if n == 0:
        return x * y
    return mix(x, 2.0, n - 1) + y * x  # the literal makes another constant position


def test_other_constant_positions_take_the_dispatcher():
    assert_gradient_matches(lambda x, y: mix(x, y, 4), 0.6, 1.3)


def rebinding(x, n):
    if n == 0:
        return x
    if n == 2:
        _point_name_at(_replacement)  # the name now calls another function
        y = rebinding(x, n - 1) * 2.0
        _point_name_at(_original)
        return y
    return math.cos(rebinding(x, n - 1)) * x


@pg.nondifferentiable
def _point_name_at(function):
    global rebinding
    rebinding = function


def _replacement(x, n):
    return x ** 3


_original = rebinding


def test_name_rebound_before_the_recursive_call():
    def f(x):
        return rebinding(x, 5)

    assert_gradient_matches(f, 0.8)
    assert rebinding is _original


def test_numpy_scalar_arguments():
    x = np.float64(0.3)
    g = pg.grad(lambda x: descend(x, 50))(x)
    h = 1e-6
    fd = (descend(0.3 + h, 50) - descend(0.3 - h, 50)) / (2 * h)
    assert math.isclose(float(g), fd, rel_tol=1e-6)


def test_direct_recursion_uses_one_frame_per_level():
    # a dispatched call costs three frames per level (dispatcher, plan, forward); a direct
    # call one: a depth the interpreter's limit would refuse three times over works
    import sys

    depth = sys.getrecursionlimit() // 2
    g = pg.grad(lambda x: descend(x, depth))(0.2)
    h = 1e-6
    fd = (descend(0.2 + h, depth) - descend(0.2 - h, depth)) / (2 * h)
    assert math.isclose(g, fd, rel_tol=1e-6)
