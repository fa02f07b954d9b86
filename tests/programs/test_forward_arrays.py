"""Forward mode's inline tangents for real arrays (``ForwardGenerator.array_fast``) and the
lean reverse path's matrix-vector products, against finite differences and closed forms.

The inline code runs when, at run time, the operands are real arrays or numbers; a tangent
may be missing (``None``: zero), an operand alone on one side of ``+`` may be smaller than
the result (its tangent grows to the result's shape), and every tangent it makes must be
an array of its own (a later in-place write to the result must not reach an operand's).
"""

import numpy as np
import pytest

import pygote as pg
from tests.programs.fd import assert_forward_matches, assert_gradient_matches, params

RNG = np.random.default_rng(7)
A = RNG.standard_normal((4, 3))
B = RNG.standard_normal((3, 4))
V3 = RNG.standard_normal(3)
V4 = RNG.standard_normal(4)
M = RNG.standard_normal((2, 3))


def chain(x, w):
    z = w @ x
    t = np.tanh(z)
    return np.sum(t ** 2) + np.sum(np.exp(-x) / (1.0 + x * x))


def grows(x, m):
    y = x + m  # x (3,) alone grows to m's (2, 3) when only x moves
    z = 2.0 - x
    return np.sum(np.sin(y) * np.cos(z[None, :] + m))


def grows_then_reduced(x):
    y = x + M  # (M is a constant: x's tangent alone grows to the result's shape)
    z = M - x
    return np.sum(np.sum(y, axis=0) * np.sum(z, axis=0) * x)


def power_and_quotient(x, y):
    u = x ** 3 / y
    v = np.sqrt(y) - x ** 2
    return np.sum(u * v) + np.sum(np.log(y) * -x)


def powers(x):  # the lean path's constant powers (reverse) and the inline tangents
    y = x ** 2 + x ** 3 - 2.0 * x ** 1 + np.abs(x) ** 0.5 + (x + 3.0) ** -1.5
    return np.sum(y * x ** 4)


def vector_times_matrix(x, b):
    return np.sum(np.tanh(x @ b))


def matrix_times_vector(a, x):
    y = a @ x
    return np.sum(y * y)


def written_after(x):
    y = x + 1.0
    y[0] = 5.0 * x[1]  # y's tangent is written in place: x's must not change
    return np.sum(y * x)


def float32_chain(x):
    return np.sum(np.tanh(x * 2.0) - x / 3.0)


CASES = [
    (chain, (V3, A)),
    (grows, (V3, M)),
    (grows_then_reduced, (V3,)),
    (power_and_quotient, (V3, np.abs(V3) + 0.5)),
    (powers, (V3,)),
    (vector_times_matrix, (V4, A)),
    (matrix_times_vector, (A, V3)),
    (written_after, (V3,)),
    (float32_chain, (V3.astype(np.float32),)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_programs(program, args):
    assert_gradient_matches(program, *args)


def test_inline_code_runs():
    text = pg.show_jvp(chain, V3, A)
    assert "_fcall(np.tanh" in text  # the general code stays beside it
    assert "(1.0 - " in text and "@ _dx" in text


@pytest.mark.parametrize("which", [0, 1])
def test_one_tangent_missing(which):
    """Only one argument moves: the other's tangent is None (zero)."""
    args = (V3, M)
    tangents = [None, None]
    direction = RNG.standard_normal(np.shape(args[which]))
    tangents[which] = direction
    _, dy = pg.jvp(grows, args, tuple(tangents))
    eps = 1e-6
    moved = [list(args), list(args)]
    moved[0][which] = args[which] + eps * direction
    moved[1][which] = args[which] - eps * direction
    fd = (grows(*moved[0]) - grows(*moved[1])) / (2 * eps)
    assert dy == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_tangent_grows_to_the_result():
    _, dy = pg.jvp(lambda x: x + M, (V3,), (np.ones(3),))
    assert dy.shape == (2, 3) and np.all(dy == 1.0)
    _, dy = pg.jvp(lambda x: M - x, (V3,), (np.ones(3),))
    assert dy.shape == (2, 3) and np.all(dy == -1.0)


def test_hessian_where_an_operand_grows():
    """``x``'s tangent grows to ``x + M``'s shape. With a = M's column sums, each term is
    (2x + a)(a - 2x)x, whose second derivative is -24x."""
    h = pg.hessian(grows_then_reduced)(V3)
    np.testing.assert_allclose(h, np.diag(-24.0 * V3), rtol=1e-10, atol=1e-12)


def test_tangents_are_not_shared():
    """``y = x + 1.0``: y's tangent is a new array, so writing into y leaves x's alone."""
    tx = np.ones(3)
    _, dy = pg.jvp(written_after, (V3.copy(),), (tx,))
    assert np.all(tx == 1.0)
    assert_forward_matches(written_after, V3)


def _hessian_closed_form(x, a):
    t = np.tanh(a @ x)
    s = 1.0 - t * t
    # d2/dx2 sum(tanh(a x)^2) = a.T diag(2 s (s - 2 t^2)) a; sum(x^4): diag(12 x^2)
    return a.T @ np.diag(2.0 * s * (s - 2.0 * t * t)) @ a + np.diag(12.0 * x * x)


def hessian_workload(x, a):
    return np.sum(np.tanh(a @ x) ** 2) + np.sum(x ** 4)


def test_hessian_against_closed_form():
    x = RNG.standard_normal(6)
    a = RNG.standard_normal((5, 6)) / 3
    h = pg.hessian(hessian_workload)(x, a)
    np.testing.assert_allclose(h, _hessian_closed_form(x, a), rtol=1e-10, atol=1e-12)


def test_matrix_vector_gradients_closed_form():
    """The lean backward of ``a @ x`` for a vector: ``a.T @ g`` and an outer product."""
    ga, gx = pg.grad(matrix_times_vector, argnums=(0, 1))(A, V3)
    y = A @ V3
    np.testing.assert_allclose(gx, 2.0 * A.T @ y)
    np.testing.assert_allclose(ga, 2.0 * np.outer(y, V3))
