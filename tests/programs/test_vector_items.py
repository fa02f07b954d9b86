"""Items of a one-dimensional float64 array read with constant indices (``a, b = p``,
``p[-1]``) are real numbers: the function is specialized for such arrays (the cache key
of a 1-D float64 argument says so) and their adjoints are inline, added into the array's
shadow item by item; ``np.array([s1, s2])`` of real numbers gives its items' cotangents
back the same way. These programs check the specialization against finite differences,
and that it steps aside where it must: other kinds of arrays called through the same
plan, a vector rebound or written in the function, a callee writing into it."""

import numpy as np

import pygote as pg
from pygote.transform.compile import adjoint_of

from .fd import assert_gradient_matches


def lotka(u, p):
    a, b, c, d = p
    x, y = u
    return np.array([a * x - b * x * y, -c * y + d * x * y])


def steps(p, u0):
    u = u0
    for _ in range(20):
        u = u + 0.05 * lotka(u, p)
    return np.sum(u * u)


P = np.array([1.5, 1.0, 3.0, 1.0])
U0 = np.array([1.0, 1.0])


def test_unpacked_vectors_match_finite_differences():
    assert_gradient_matches(steps, P, U0)


def test_unpacked_items_are_inline_real_numbers():
    text = adjoint_of(lotka, (U0, P)).generated
    assert "_add_items(p, (3, 2, 1, 0,)" in text.backward  # one shadow look-up
    assert "_getitem(" not in text.forward and "_call(" not in text.forward


def pair_product(p):
    a, b = p
    return np.sum(a * b)


def test_other_kinds_of_arrays_through_the_same_plan():
    # a 1-D float64 array, then rows (items are arrays), then float32, then 1-D again:
    # the specialization for vectors is checked on entry and another one serves
    def f(p):
        return pair_product(p) * 2.0

    for p in (np.array([0.5, -2.0]), np.array([[0.5, 1.0], [2.0, -1.0]]),
              np.array([0.5, -2.0], dtype=np.float32), np.array([1.5, 3.0])):
        g = pg.grad(f)(p)
        expected = 2.0 * p[::-1]  # d sum(a * b) / da = b (items, or rows of p)
        assert g.dtype == p.dtype
        np.testing.assert_allclose(g, expected, rtol=1e-6)
    for p in (np.array([0.5, -2.0]), np.array([[0.5, 1.0], [2.0, -1.0]])):
        np.testing.assert_allclose(pg.grad(pair_product)(p), p[::-1], rtol=1e-12)


def last_item(p):
    return p[-1] * p[0] ** 2


def test_negative_index():
    assert_gradient_matches(last_item, np.array([0.3, 2.0, -1.5]))


def rebound(p):
    a = p[0]
    p = p * 2.0
    return a * p[1]


def written(p):
    p = p.copy()
    a = p[0]
    p[0] = 5.0 * a
    return a * p[0] + p[1]


def _double_first(v):
    v[0] *= 2.0


def written_by_callee(p):
    p = p + 0.0
    a = p[0]
    _double_first(p)
    return a * p[0] + p[1]


def test_vectors_rebound_or_written():
    for f in (rebound, written, written_by_callee):
        assert_gradient_matches(f, np.array([0.7, -1.2]))


def packed(x):
    a, b = x
    v = np.array([a * b, a + b, 1.0])
    return np.sum(v * np.array([2.0, -1.0, 3.0])) + v[0] * v[1]


def test_packing_numbers_into_an_array():
    assert_gradient_matches(packed, np.array([0.4, 1.7]))
