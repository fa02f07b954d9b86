"""pg.jacfwd takes every column in one forward pass with the unit directions batched
(runtime/batched.py) and, where an operation cannot keep them apart, one pass per column.
Both ways against finite differences; which way ran is checked too."""

import math

import numpy as np
import pytest

import pygote as pg
from pygote import api_forward

RNG = np.random.default_rng(5)
A = RNG.standard_normal((3, 5))


def layer(x, a):
    z = np.tanh(a @ x)
    return z * np.sum(x[:3]) + np.exp(x[1:4])


def views_and_items(x):
    y = x[1:] * x[:-1]
    return np.concatenate([y, x[:1] * x[-1:]]) / (1.0 + x @ x)


def matrix_in(m):
    return np.sum(np.sin(m) * m.T.reshape(m.shape), axis=0)


def writes_into_a_new_array(x):  # a tangent of zeros written in place: one by one
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[1:] = np.exp(x[1:3]) * x[0]
    return y * 2.0


def item_then_written(x):  # an item read out, then the array written: the item keeps
    a = x.copy()             # its value (a number, not a view: found by random programs)
    v = a[0]
    for _ in range(2):
        a[0] += v
    return a * x


def _doubled(a):
    a += a  # (a number: rebound, the caller's tangent untouched)
    return a + a


def number_given_away(x):  # found by random programs: the callee's += reached v's tangent
    v = math.sin(x[0])
    _doubled(v)
    return x * x + v


def scalar_out(x):
    return np.sum(np.log1p(x * x)) * x[0]


def fd_jacobian(f, x, eps=1e-6):
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


@pytest.fixture
def passes(monkeypatch):
    """How many forward passes pg.jacfwd ran."""
    count = []
    plain = api_forward._run

    def counted(*args, **kwargs):
        count.append(1)
        return plain(*args, **kwargs)
    monkeypatch.setattr(api_forward, "_run", counted)
    return count


@pytest.mark.parametrize("f, x", [
    (lambda x: layer(x, A), RNG.standard_normal(5)),
    (views_and_items, RNG.standard_normal(4)),
    (matrix_in, RNG.standard_normal((3, 3))),
    (scalar_out, RNG.standard_normal(4)),
    (item_then_written, RNG.standard_normal(3)),
    (number_given_away, RNG.standard_normal(3)),
], ids=["layer", "views_and_items", "matrix_in", "scalar_out", "item_then_written",
        "number_given_away"])
def test_one_pass(f, x, passes):
    jac = pg.jacfwd(f)(x)
    np.testing.assert_allclose(jac, fd_jacobian(f, x), rtol=1e-6, atol=1e-8)
    assert len(passes) == 1


def test_one_by_one_where_the_batch_cannot_be_kept(passes):
    x = RNG.standard_normal(4)
    jac = pg.jacfwd(writes_into_a_new_array)(x)
    np.testing.assert_allclose(jac, fd_jacobian(writes_into_a_new_array, x), rtol=1e-6,
                               atol=1e-8)
    assert len(passes) == 1 + x.size  # the batched attempt, then one per column


def test_argument_left_alone_and_constant_argument():
    x = RNG.standard_normal(5)
    a = A.copy()
    jac = pg.jacfwd(layer, argnums=1)(x, a)  # the Jacobian with respect to the matrix
    assert jac.shape == (3, 3, 5)
    np.testing.assert_allclose(jac, fd_jacobian(lambda m: layer(x, m), a), rtol=1e-6,
                               atol=1e-8)
    assert np.array_equal(a, A)
