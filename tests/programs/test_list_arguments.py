"""NumPy functions called on lists and tuples of differentiable values (``np.sum([a,
2.0])``, ``np.log((a, b))``, ``np.linalg.det([[a, 1.0], [2.0, 3.0]])``): NumPy reads the
list as an array, so a rule's cotangent for it is an array that must be split into the
items' cotangents, and a rule's tangent for it is the items' tangents stacked. Both modes
against finite differences."""

import numpy as np
import pytest

from .fd import assert_gradient_matches, params


def sum_list(a):
    return np.sum([a, 2.0])


def max_list(a):
    return np.max([a, 2.0]) + np.min((a, -1.0, 3.0 * a))


def exp_list(a):
    return np.exp([a, 2.0]).sum()


def maximum_list(a):
    return np.maximum([a, 2.0], 1.0).sum()


def log_tuple(a):
    return np.log((a, 2.0)).sum() + np.sum(np.sqrt([a, 2.0 * a]))


def binary_lists(a):
    return np.sum(np.power([a, 2.0], [2.0, a])) + np.sum(np.arctan2([a, 1.0], (2.0, a)))


def broadcast_list(a):
    return np.sum(np.add([a, 1.0], np.ones((3, 2))) ** 2)


def clip_where_lists(a):
    return np.sum(np.clip([a, 2.0 * a, -a], -1.0, 1.5)) \
        + np.sum(np.where([True, False], [a, 2.0], [3.0, a * a]))


def reductions_of_lists(a):
    return np.mean([a, a * a]) + np.var([a, 2.0 * a, 1.0]) + np.std((a, 0.5)) \
        + np.prod([a, 2.0, a * a]) + np.nanmean([a, 2.0]) \
        + np.average([a, 2.0, 3.0], 0, [1.0, a, 2.0])


def scans_of_lists(a):
    return np.sum(np.cumsum([a, 2.0, a * a]) ** 2) + np.sum(np.cumprod((a, 2.0, a)))


def nested_list(a):
    return np.sum([[a, 2.0], [a * a, 1.0]]) + np.sum(np.mean(((a, 1.0), (2.0, a)), axis=0) ** 2)


def list_variable(a):
    xs = [a, 2.0]
    return np.sum(xs) + xs[0] * np.max(xs)


def list_parameter(xs):
    return np.sum(np.sin(xs)) + np.prod(xs)


def arrays_in_a_list(x, y):
    return np.sum(np.tanh([x, y]) * np.array([[1.0, 2.0], [3.0, 4.0]]))


def products_of_lists(a):
    return np.dot([a, 2.0], [3.0, a]) + np.sum(np.outer([a, 2.0], (a, 1.0)) ** 2) \
        + np.sum(np.matmul([[a, 1.0], [0.0, 2.0]], [a, 3.0])) \
        + np.einsum("i,i->", [a, 2.0], [3.0, a]) + np.sum(np.kron([a, 1.0], [2.0, a])) \
        + np.trace([[a, 1.0], [2.0, a * a]])


def linalg_of_lists(a):
    m = [[a, 0.5], [0.3, 2.0]]
    return np.linalg.det(m) + np.sum(np.linalg.inv(m)) \
        + np.sum(np.linalg.solve(m, [1.0, a])) + np.linalg.norm([a, 2.0, 1.0]) \
        + np.sum(np.linalg.svd(m, compute_uv=False)) + np.linalg.slogdet(m)[1] \
        + np.sum(np.linalg.matrix_power(m, 3)) \
        + np.sum(np.linalg.multi_dot([np.array([[a, 1.0]]), [[1.0], [a]]]))


def shapes_of_lists(a):
    return np.sum(np.reshape([a, 1.0, 2.0, a], (2, 2)) @ np.array([1.0, 2.0])) \
        + np.sum(np.transpose([[a, 1.0], [2.0, 3.0]]) * np.array([[1.0, 2.0], [3.0, 4.0]])) \
        + np.sum(np.flip([a, 1.0, 2.0]) * np.arange(3.0)) \
        + np.sum(np.tile([a, 1.0], 3) * np.arange(6.0)) + np.sum(np.atleast_2d([a, 2.0]) ** 2)


def gathers_of_lists(a):
    return np.sum(np.sort([a, 1.0, -a]) * np.array([1.0, 2.0, 3.0])) \
        + np.sum(np.take([a, 1.0, 2.0 * a], [0, 2, 2]))


def misc_of_lists(a):
    return np.sum(np.diff([a, a * a, 1.0]) ** 2) + np.sum(np.convolve([a, 1.0], [2.0, a])) \
        + np.polyval([a, 2.0, 1.0], a) + np.interp(0.5, [0.0, 1.0], [a, 2.0 * a]) \
        + np.trapezoid([a, a * a, 1.0])


CASES = [(f, (1.3,)) for f in (
    sum_list, max_list, exp_list, maximum_list, log_tuple, binary_lists, broadcast_list,
    clip_where_lists, reductions_of_lists, scans_of_lists, nested_list, list_variable,
    products_of_lists, linalg_of_lists, shapes_of_lists, gathers_of_lists, misc_of_lists)]
CASES += [
    (max_list, (3.0,)),  # the other branch of max and min
    (list_parameter, ([0.3, 1.2, -0.5],)),
    (list_parameter, ((0.3, 1.2, -0.5),)),
    (arrays_in_a_list, (np.array([0.1, 0.2]), np.array([0.3, -0.4]))),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_list_argument_program(program, args):
    assert_gradient_matches(program, *args)


def test_closed_forms():
    import pygote as pg

    assert pg.grad(sum_list)(1.5) == 1.0
    assert pg.grad(lambda a: np.max([a, 2.0]))(3.0) == 1.0
    assert pg.grad(lambda a: np.max([a, 2.0]))(1.5) == 0.0
    assert np.isclose(pg.grad(exp_list)(1.5), np.exp(1.5))
    assert pg.grad(maximum_list)(1.5) == 1.0
    assert np.isclose(pg.grad(lambda a: np.log((a, 2.0)).sum())(1.5), 1 / 1.5)
