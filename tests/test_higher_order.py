"""Higher derivatives: Hessians, gradients of gradients, pg.grad inside differentiated
code, perturbation confusion; every value against a closed form or finite differences."""

import math

import numpy as np
import pytest

import pygote as pg

H = 1e-5


def fd_gradient(f, x, h=H):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        g.flat[k] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fd_hessian(f, x, h=1e-4):
    """Second differences of f (float64), entry by entry."""
    x = np.asarray(x, dtype=float)
    n = x.size
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = h
            ej[j] = h
            out[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h * h)
    return out.reshape(x.shape + x.shape)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def loopy(x):
    total = 0.0
    for i in range(len(x)):
        if x[i] > 0:
            total = total + math.sin(x[i]) * x[i]
        else:
            total = total + x[i] ** 3
    return total * x[0]


def mutating(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[1:] = np.exp(x[1:]) * x[0]
    return np.sum(y * y)


@pytest.mark.parametrize("f, x", [
    (rosenbrock, np.array([0.3, -0.2, 0.8, 1.1])),
    (lambda x: np.sum(np.sin(x) * np.cos(x[::-1])) + np.prod(x), np.array([0.4, 0.7, -0.3])),
    (loopy, np.array([0.5, -0.7, 1.2])),
    (mutating, np.array([0.3, 0.2, -0.4])),
    (lambda x: np.log(np.sum(np.exp(x))), np.array([0.1, -0.5, 0.9])),
    (lambda x: x @ np.array([[2.0, 0.5], [0.5, 1.0]]) @ x + np.tanh(x[0]) * x[1], np.array([0.3, -1.2])),
], ids=["rosenbrock", "trig", "loop_branch", "mutation", "logsumexp", "quadratic"])
def test_hessian_against_second_differences(f, x):
    got = pg.hessian(f)(x)
    np.testing.assert_allclose(got, fd_hessian(f, x), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got, got.T, atol=1e-10)  # a Hessian is symmetric


def test_hvp_is_the_hessian_times_v():
    x = np.array([0.3, -0.2, 0.8, 1.1])
    v = np.array([1.0, 0.5, -2.0, 0.25])
    np.testing.assert_allclose(pg.hvp(rosenbrock, x, v), fd_hessian(rosenbrock, x) @ v,
                               rtol=1e-4, atol=1e-5)
    # and equals the directional derivative of the gradient
    g = pg.grad(rosenbrock)
    fd = (g(x + H * v) - g(x - H * v)) / (2 * H)
    np.testing.assert_allclose(pg.hvp(rosenbrock, x, v), fd, rtol=1e-5, atol=1e-6)


def test_scalar_hvp_closed_form():
    x = 0.7
    want = 6 * x * math.sin(x) + 6 * x ** 2 * math.cos(x) - x ** 3 * math.sin(x)
    assert pg.hvp(lambda x: x ** 3 * math.sin(x), x, 1.0) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("x", [0.3, -1.2, 2.5])
def test_third_derivative_of_sin_is_minus_cos(x):
    assert pg.grad(pg.grad(math.sin))(x) == pytest.approx(-math.sin(x), rel=1e-12)
    assert pg.grad(pg.grad(pg.grad(math.sin)))(x) == pytest.approx(-math.cos(x), rel=1e-12)
    assert pg.grad(pg.grad(pg.grad(np.sin)))(x) == pytest.approx(-math.cos(x), rel=1e-12)


def test_fourth_derivative_of_a_polynomial():
    f = lambda x: x ** 5 - 2.0 * x ** 3  # noqa: E731
    d4 = pg.grad(pg.grad(pg.grad(pg.grad(f))))
    assert d4(1.3) == pytest.approx(120 * 1.3, rel=1e-10)


def test_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] at x = 1 is 1; d/dx [x * d/dy (x * y)] at x = 4 is 8
    assert pg.grad(lambda x: x * pg.grad(lambda y: x + y)(1.0))(1.0) == pytest.approx(1.0)
    assert pg.grad(lambda x: x * pg.grad(lambda y: x * y)(1.0))(4.0) == pytest.approx(8.0)


def test_grad_called_inside_a_differentiated_function():
    def inner_energy(w, x):
        return np.sum(np.tanh(w * x) ** 2)

    def outer(w):
        g = pg.grad(inner_energy, argnums=1)(w, np.array([0.5, -0.3]))
        return np.sum(g * g) + w[0] * np.sum(g)

    w = np.array([0.8, 1.3])
    np.testing.assert_allclose(pg.grad(outer)(w), fd_gradient(outer, w), rtol=1e-5, atol=1e-7)


def test_gradient_called_inside_a_differentiated_function():
    def f(a):
        (da, db) = pg.gradient(lambda u, v: u * u * v + math.sin(v), a, 2.0 * a)
        return da * db

    a = 0.9
    fd = (f(a + H) - f(a - H)) / (2 * H)
    assert pg.grad(f)(a) == pytest.approx(fd, rel=1e-6)


def test_jacobians_of_a_gradient_are_the_hessian():
    x = np.array([0.3, -0.2, 0.8])
    want = fd_hessian(rosenbrock, x)
    np.testing.assert_allclose(pg.jacfwd(pg.grad(rosenbrock))(x), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(pg.jacobian(pg.grad(rosenbrock))(x), want, rtol=1e-4, atol=1e-5)


def test_value_and_grad_inside_a_differentiated_function():
    def f(x):
        v, g = pg.value_and_grad(lambda t: t ** 3)(x)
        return v * g

    x = 1.1
    assert pg.grad(f)(x) == pytest.approx(15 * x ** 4)  # d/dx (x^3 * 3x^2)


def test_jvp_inside_a_differentiated_function():
    def f(x):
        _, dy = pg.jvp(lambda t: np.sin(t) * t, (x,), (1.0,))
        return dy * x

    x = 0.6
    fd = (f(x + H) - f(x - H)) / (2 * H)
    assert pg.grad(f)(x) == pytest.approx(fd, rel=1e-6)


def test_forward_over_gradient_of_a_closure():
    scale = 1.5

    def f(x):
        return scale * np.sum(x ** 3)

    x = np.array([0.2, -0.4])
    np.testing.assert_allclose(pg.jacfwd(pg.grad(f))(x), np.diag(6 * scale * x), atol=1e-12)
