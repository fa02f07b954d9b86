"""pg.hessian takes every direction in one batched pass (runtime/batched.py) and, where an
operation cannot keep the directions apart, one Hessian-vector product per entry. Both
ways against closed forms and second differences; which way ran is checked too, so a
change that silently loses the batch shows here."""

import numpy as np
import pytest

import pygote as pg
from pygote.rules import higher
from tests.test_higher_order import fd_hessian, loopy, rosenbrock

RNG = np.random.default_rng(11)
A = RNG.standard_normal((5, 4)) / 2
S = RNG.standard_normal((4, 4))


def tanh_squares(x, a):
    return np.sum(np.tanh(a @ x) ** 2) + np.sum(x ** 4)


def quadratic_form(x, s):
    return x @ s @ x + np.exp(x[0]) * x[-1]


def gathered(x):  # an index array, a reduction along an axis, a matrix argument
    m = x.reshape(2, 3)
    picked = m[:, np.array([0, 2, 2])]
    return np.sum(np.log(1.0 + np.sum(picked * picked, axis=1))) + np.prod(x[:3])


def writes_into_a_new_array(x):  # a tangent written in place: the batch cannot be kept
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[1:] = np.exp(x[1:]) * x[0]
    return np.sum(y * y)


def writes_into_a_constant(x, m):  # an argument not differentiated, written with x
    m[0] = x[0] * x[1]
    return np.sum(m @ x)


def _closed_tanh_squares(x, a):
    t = np.tanh(a @ x)
    s = 1.0 - t * t
    return a.T @ np.diag(2.0 * s * (s - 2.0 * t * t)) @ a + np.diag(12.0 * x * x)


@pytest.fixture
def loop_calls(monkeypatch):
    """How many Hessian-vector products were taken one by one."""
    calls = []
    plain = higher.directional_gradient

    def counted(*args, **kwargs):
        calls.append(1)
        return plain(*args, **kwargs)
    monkeypatch.setattr(higher, "directional_gradient", counted)
    return calls


@pytest.mark.parametrize("lean", [True, False], ids=["forward_over_reverse",
                                                   "reverse_over_forward"])
def test_closed_form_in_one_pass(lean, loop_calls, monkeypatch):
    # array statements alone: forward mode over their gradient written out as NumPy
    # (tests/test_lean_hessian.py); without it, the batched reverse-over-forward pass
    from pygote.transform import compile as compile_

    if not lean:
        monkeypatch.setattr(compile_, "lean_gradient", lambda f, args, position: None)
    x = RNG.standard_normal(4)
    h = pg.hessian(tanh_squares)(x, A)
    np.testing.assert_allclose(h, _closed_tanh_squares(x, A), rtol=1e-10, atol=1e-12)
    assert loop_calls == []


def test_quadratic_form_in_one_pass(loop_calls):
    x = RNG.standard_normal(4)
    h = pg.hessian(quadratic_form)(x, S)
    want = S + S.T
    want[0, 0] += np.exp(x[0]) * x[-1]
    want[0, -1] += np.exp(x[0])
    want[-1, 0] += np.exp(x[0])
    np.testing.assert_allclose(h, want, rtol=1e-12, atol=1e-12)
    assert loop_calls == []


@pytest.mark.parametrize("f, x", [
    (rosenbrock, np.array([0.3, -0.2, 0.8, 1.1])),  # views of x, read through slices
    (loopy, np.array([0.5, -0.7, 1.2])),  # numbers read out of x, math functions, a branch
    (gathered, np.array([0.3, -0.4, 0.9, 0.2, 0.6, -1.1])),
], ids=["views", "items_in_a_loop", "gathered"])
def test_programs_in_one_pass(f, x, loop_calls):
    h = pg.hessian(f)(x)
    np.testing.assert_allclose(h, fd_hessian(f, x), rtol=1e-4, atol=1e-5)
    assert loop_calls == []


def test_matrix_argument(loop_calls):
    x = RNG.standard_normal((2, 3))

    def f(m):
        return np.sum(np.sin(m) * m.T.reshape(2, 3)) + np.sum(m @ m.T)
    h = pg.hessian(f)(x)
    assert h.shape == (2, 3, 2, 3)
    flat = fd_hessian(lambda z: f(z.reshape(2, 3)), x.ravel())
    np.testing.assert_allclose(h, flat.reshape(2, 3, 2, 3), rtol=1e-4, atol=1e-5)
    assert loop_calls == []


def test_one_by_one_where_the_batch_cannot_be_kept(loop_calls):
    x = np.array([0.3, 0.2, -0.4])
    h = pg.hessian(writes_into_a_new_array)(x)
    np.testing.assert_allclose(h, fd_hessian(writes_into_a_new_array, x), rtol=1e-4, atol=1e-5)
    assert len(loop_calls) == 3


def test_constant_argument_written_with_the_variable():
    # f = x0 x1 (x0 + x1) + 3 x0 + 4 x1 with m = [[., .], [3, 4]]: H = [[2 x1, 2 x0 + 2 x1],
    # [2 x0 + 2 x1, 2 x0]]
    x = np.array([1.0, 2.0])
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    h = pg.hessian(writes_into_a_constant)(x, m.copy())
    np.testing.assert_allclose(h, [[4.0, 6.0], [6.0, 2.0]], rtol=1e-12)


def test_arguments_left_as_they_were():
    x = RNG.standard_normal(4)
    a = A.copy()
    pg.hessian(tanh_squares)(x, a)
    assert np.array_equal(a, A)
