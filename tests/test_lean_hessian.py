"""pg.hessian by forward over reverse: a function that is one array statement whose result
it returns has its gradient written out as plain NumPy code (transform/reverse.py,
``lean_gradient``), and the Hessian is that code's Jacobian, every direction in one
batched forward pass. Checked against closed forms and against central differences of
hand-written gradients; where the lean path does not run (broadcasting, integer
arguments), the general path gives the same Hessian."""

import numpy as np
import pytest

import pygote as pg
from pygote.transform.compile import lean_gradient

rng = np.random.default_rng(7)


def fd_jacobian(grad, x, h=1e-6):
    """Central differences of a hand-written gradient, column by column."""
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        cols.append(((grad(x + e) - grad(x - e)) / (2 * h)).ravel())
    return np.array(cols).T.reshape(x.shape + x.shape)


def tanh_quartic(x, A):
    return np.sum(np.tanh(A @ x) ** 2) + np.sum(x ** 4)


def test_tanh_quartic_matches_its_closed_form_and_runs_lean():
    x, A = rng.standard_normal(6), rng.standard_normal((6, 6))
    assert lean_gradient(tanh_quartic, (x, A), 0) is not None
    t = np.tanh(A @ x)
    s = 1.0 - t * t
    closed = A.T @ np.diag(2 * s * s - 4 * t * t * s) @ A + np.diag(12 * x * x)
    np.testing.assert_allclose(pg.hessian(tanh_quartic)(x, A), closed, rtol=1e-10, atol=1e-12)


def exp_of_product(W, v):
    return np.sum(np.exp(W @ v))


def test_second_argument():
    W, v = rng.standard_normal((5, 3)), rng.standard_normal(3) * 0.3
    assert lean_gradient(exp_of_product, (W, v), 1) is not None
    closed = W.T @ np.diag(np.exp(W @ v)) @ W
    np.testing.assert_allclose(pg.hessian(exp_of_product, argnums=1)(W, v), closed,
                               rtol=1e-10)


def mixed_ufuncs(x):
    return np.sum(np.log(2.0 + np.sin(x)) / np.sqrt(1.5 + np.cos(x)) - x * x * 0.5)


def mixed_ufuncs_grad(x):
    u, w = np.log(2.0 + np.sin(x)), np.sqrt(1.5 + np.cos(x))
    du, dw = np.cos(x) / (2.0 + np.sin(x)), -np.sin(x) / (2.0 * w)
    return (du * w - u * dw) / (w * w) - x


def test_quotients_and_ufuncs_against_differences_of_the_gradient():
    x = rng.standard_normal(5)
    assert lean_gradient(mixed_ufuncs, (x,), 0) is not None
    np.testing.assert_allclose(pg.hessian(mixed_ufuncs)(x), fd_jacobian(mixed_ufuncs_grad, x),
                               rtol=1e-6, atol=1e-8)


def matrix_layer(X, B):
    return np.sum(np.tanh(X @ B) ** 2)


def test_matrix_argument_has_a_four_axis_hessian():
    X, B = rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 2))

    def grad(X):
        t = np.tanh(X @ B)
        return (2 * t * (1 - t * t)) @ B.T

    assert lean_gradient(matrix_layer, (X, B), 0) is not None
    H = pg.hessian(matrix_layer)(X, B)
    assert H.shape == (3, 4, 3, 4)
    np.testing.assert_allclose(H, fd_jacobian(grad, X), rtol=1e-6, atol=1e-8)


def broadcast_square(x, M):
    return np.sum((x + 1.0) ** 2 * M)  # (5,) against (5, 5): the lean path refuses


def test_broadcasting_takes_the_general_path():
    x, M = rng.standard_normal(5), rng.standard_normal((5, 5))
    assert lean_gradient(broadcast_square, (x, M), 0) is None
    closed = np.diag(2.0 * M.sum(axis=0))
    np.testing.assert_allclose(pg.hessian(broadcast_square)(x, M), closed, rtol=1e-10)


def test_other_shapes_are_checked_again():
    # the lean path's condition is remembered per argument signature, not once
    for n in (3, 8):
        x, A = rng.standard_normal(n), rng.standard_normal((n, n))
        t = np.tanh(A @ x)
        s = 1.0 - t * t
        closed = A.T @ np.diag(2 * s * s - 4 * t * t * s) @ A + np.diag(12 * x * x)
        np.testing.assert_allclose(pg.hessian(tanh_quartic)(x, A), closed, rtol=1e-10,
                                   atol=1e-12)
    x, A = rng.standard_normal(4), rng.standard_normal((3, 4))  # A @ x now shorter than x
    t = np.tanh(A @ x)
    s = 1.0 - t * t
    closed = A.T @ np.diag(2 * s * s - 4 * t * t * s) @ A + np.diag(12 * x * x)
    np.testing.assert_allclose(pg.hessian(tanh_quartic)(x, A), closed, rtol=1e-10, atol=1e-12)


def test_integer_array_is_refused_with_advice():
    with pytest.raises(pg.DifferentiationError, match="Pass a float array"):
        pg.hessian(tanh_quartic)(np.array([1, -2, 3]), np.eye(3))


def test_float32():
    x = np.array([1, -2, 3], dtype=np.float32)
    A = np.eye(3)
    H = pg.hessian(tanh_quartic)(x, A)
    assert H.dtype == np.float32
    xf = x.astype(float)
    t = np.tanh(xf)
    s = 1.0 - t * t
    closed = np.diag(2 * s * s - 4 * t * t * s + 12 * xf * xf)
    np.testing.assert_allclose(H, closed, rtol=1e-5)


def test_the_lean_gradient_is_the_gradient():
    x, A = rng.standard_normal(4), rng.standard_normal((4, 4))
    g = lean_gradient(tanh_quartic, (x, A), 0)(x, A)
    t = np.tanh(A @ x)
    np.testing.assert_allclose(g, A.T @ (2 * t * (1 - t * t)) + 4 * x ** 3, rtol=1e-12)


def ridge(x, A, b):
    r = A @ x - b
    return np.sum(r * r) + 0.1 * np.sum(x * x)


def test_several_statements():
    x, A, b = rng.standard_normal(4), rng.standard_normal((6, 4)), rng.standard_normal(6)
    assert lean_gradient(ridge, (x, A, b), 0) is not None
    np.testing.assert_allclose(pg.hessian(ridge)(x, A, b), 2 * A.T @ A + 0.2 * np.eye(4),
                               rtol=1e-10, atol=1e-12)


def centered(x, W):
    s = np.sum(x * x)
    u = W @ x - s  # a number broadcast against a vector: its cotangent is summed back
    return np.sum(np.exp(u * 0.1))


def centered_grad(x, W):
    u = W @ x - np.sum(x * x)
    e = 0.1 * np.exp(u * 0.1)
    return W.T @ e - 2 * x * np.sum(e)


def test_statements_whose_results_broadcast():
    x, W = rng.standard_normal(3), rng.standard_normal((5, 3))
    assert lean_gradient(centered, (x, W), 0) is not None
    np.testing.assert_allclose(pg.hessian(centered)(x, W),
                               fd_jacobian(lambda v: centered_grad(v, W), x), rtol=1e-6,
                               atol=1e-8)


def with_bias(b, X):
    h = np.tanh(X + b)  # b (3,) broadcast over the rows of X (4, 3)
    return np.sum(h * h)


def test_broadcast_parameter():
    b, X = rng.standard_normal(3), rng.standard_normal((4, 3))

    def grad(b):
        t = np.tanh(X + b)
        return np.sum(2 * t * (1 - t * t), axis=0)

    np.testing.assert_allclose(pg.hessian(with_bias)(b, X), fd_jacobian(grad, b), rtol=1e-6,
                               atol=1e-8)


def test_sum_to_rules():
    from pygote.rules.higher import sum_to

    g = rng.standard_normal((2, 3))
    t = rng.standard_normal((2, 3))
    y, dy = pg.jvp(lambda a: sum_to(a, (1, 3)), (g,), (t,))
    np.testing.assert_allclose(dy, t.sum(axis=0, keepdims=True))
    w = rng.standard_normal(3)
    np.testing.assert_allclose(pg.grad(lambda a: np.sum(sum_to(a, (3,)) * w))(g),
                               np.broadcast_to(w, (2, 3)))
