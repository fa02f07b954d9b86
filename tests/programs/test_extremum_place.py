"""``m = np.max(x)`` (or min) of a whole real array: its cotangent goes to the maximum's
place in x's shadow (rules/numpy_reductions.acc_extremum), without a one-hot array the
size of x. These programs check the places it must get right: a shadow that exists
already (the usual logsumexp order) or not yet, ties shared, NaN, minima, views,
matrices, loops, and the kinds of x the shortcut leaves to the rule (lists, integers).
Every gradient against finite differences or a closed form."""

import numpy as np

import pygote as pg

from .fd import assert_gradient_matches

rng = np.random.default_rng(3)


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def test_logsumexp_is_the_softmax():
    x = rng.standard_normal(50)
    g = pg.grad(logsumexp)(x)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-12)
    assert_gradient_matches(logsumexp, rng.standard_normal(7))


def only_the_max(x):
    return np.max(x) * 3.0  # no shadow of x before the maximum's cotangent comes


def test_maximum_alone():
    x = rng.standard_normal(6)
    g = pg.grad(only_the_max)(x)
    expected = np.zeros(6)
    expected[np.argmax(x)] = 3.0
    np.testing.assert_array_equal(g, expected)


def test_ties_share_the_cotangent():
    x = np.array([1.0, 4.0, -2.0, 4.0])
    np.testing.assert_allclose(pg.grad(only_the_max)(x), [0.0, 1.5, 0.0, 1.5])
    np.testing.assert_allclose(pg.grad(logsumexp)(x), np.exp(x - 4.0) / np.exp(x - 4.0).sum())


def test_nan_takes_the_rule():
    x = np.array([1.0, np.nan, 2.0])
    g = pg.grad(only_the_max)(x)
    np.testing.assert_array_equal(g, [0.0, 3.0, 0.0])  # as the rule: the NaN won


def spread(x):
    return np.max(x) - np.min(x) + np.sum(x * x) * 0.1


def test_maximum_and_minimum_of_a_matrix():
    assert_gradient_matches(spread, rng.standard_normal((3, 4)))


def of_a_view(a):
    v = a[::2]
    return np.max(v) + np.sum(a) * 0.5


def test_maximum_of_a_view():
    assert_gradient_matches(of_a_view, rng.standard_normal(9))


def in_a_loop(x):
    total = 0.0
    for k in range(3):
        total = total + np.max(x * (k + 1.0) - x * x)
    return total


def test_maximum_in_a_loop():
    assert_gradient_matches(in_a_loop, rng.standard_normal(5))


def of_a_list(xs):
    return np.max(xs) * 2.0


def test_list_and_integer_arrays_take_the_rule():
    g = pg.grad(of_a_list)([1.0, 3.0, 2.0])
    assert list(g) == [0.0, 2.0, 0.0]

    def f(x, k):
        return np.max(k) * np.sum(x) + np.max(x * k)

    assert_gradient_matches(lambda x: f(x, np.array([1, 5, 2])), rng.standard_normal(3))


def test_second_order_through_the_maximum():
    # the Hessian of logsumexp: diag(p) - p p^T
    x = rng.standard_normal(5)
    p = np.exp(x - x.max())
    p /= p.sum()
    np.testing.assert_allclose(pg.hessian(logsumexp)(x), np.diag(p) - np.outer(p, p),
                               rtol=1e-10, atol=1e-12)
