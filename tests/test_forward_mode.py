"""Forward mode's API: jvp, pushforward, jacfwd, show_jvp, forwarddiff (mixed mode);
each against finite differences or closed forms. (Every end-to-end program of
tests/programs is also checked in forward mode by its oracle.)"""

import math

import numpy as np
import pytest

import pygote as pg

H = 1e-6


def fd_jvp(f, x, v, h=H):
    return (f(x + h * v) - f(x - h * v)) / (2 * h)


def horner(coeffs, x):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def test_jvp_of_scalar_code_is_inline_and_exact():
    x = 0.7
    y, dy = pg.jvp(lambda t: horner([1.0, -2.0, 0.5, 3.0], t) * math.sin(t), (x,), (1.0,))
    f = lambda t: horner([1.0, -2.0, 0.5, 3.0], t) * math.sin(t)  # noqa: E731
    assert y == pytest.approx(f(x))
    assert dy == pytest.approx(fd_jvp(f, x, 1.0), rel=1e-7)
    assert "_fcall" not in pg.show_jvp(horner, [1.0, 2.0], 0.5)  # no runtime calls


def test_pushforward_and_jacfwd():
    def f(x):
        return np.array([x[0] * x[1], np.sin(x[2]), x[0] ** 2 + x[2]])

    x = np.array([0.3, -1.2, 0.8])
    y, push = pg.pushforward(f, x)
    np.testing.assert_allclose(y, f(x))
    v = np.array([1.0, 0.5, -2.0])
    np.testing.assert_allclose(push(v), fd_jvp(f, x, v), rtol=1e-7)
    want = np.array([[x[1], x[0], 0.0], [0.0, 0.0, math.cos(x[2])], [2 * x[0], 0.0, 1.0]])
    np.testing.assert_allclose(pg.jacfwd(f)(x), want, atol=1e-12)
    np.testing.assert_allclose(pg.jacobian(f)(x), want, atol=1e-12)


def test_jvp_returns_zeros_for_unused_inputs_and_structures():
    y, dy = pg.jvp(lambda p: {"a": p["w"] * 2.0, "b": 1.0}, ({"w": np.ones(2)},),
                   ({"w": np.array([1.0, 3.0])},))
    np.testing.assert_allclose(dy["a"], [2.0, 6.0])
    assert dy["b"] == 0.0


def test_forward_mode_through_mutation_views_and_objects():
    class State:
        def __init__(self, x):
            self.x = x

        def step(self, dt):
            self.x[1:] += dt * self.x[:-1] ** 2

    def f(x):
        s = State(x.copy())
        for _ in range(3):
            s.step(0.1)
        view = s.x[::2]
        view *= 2.0
        return np.sum(s.x ** 2)

    x = np.array([0.5, -0.3, 0.8, 1.1])
    v = np.array([1.0, -1.0, 0.5, 2.0])
    assert pg.jvp(f, (x,), (v,))[1] == pytest.approx(fd_jvp(f, x, v), rel=1e-6)


def test_forwarddiff_inside_reverse_mode_equals_pure_reverse():
    # the Zygote paper's neural-SDE pattern: a small drift differentiated in forward mode
    # inside a long reverse-mode simulation
    def drift(u, p):
        return np.array([p[0] * u[0] - p[1] * u[0] * u[1], -p[2] * u[1] + p[1] * u[0] * u[1]])

    def simulate(p, mixed):
        u = np.array([1.0, 1.0])
        total = 0.0
        for _ in range(20):
            du = pg.forwarddiff(drift, u, p) if mixed else drift(u, p)
            u = u + 0.05 * du
            total = total + np.sum(u ** 2)
        return total

    p = np.array([1.5, 1.0, 3.0])
    g_mixed = pg.grad(simulate)(p, True)
    g_reverse = pg.grad(simulate)(p, False)
    fd = np.array([fd_jvp(lambda q: simulate(q, False), p, e) for e in np.eye(3)])
    np.testing.assert_allclose(g_mixed, fd, rtol=1e-6)
    np.testing.assert_allclose(g_mixed, g_reverse, rtol=1e-10)


def test_forwarddiff_in_forward_mode_and_plain_calls():
    f = lambda t: math.exp(t) * t  # noqa: E731
    assert pg.forwarddiff(f, 0.4) == f(0.4)
    assert pg.jvp(lambda t: pg.forwarddiff(f, t), (0.4,), (1.0,))[1] == pytest.approx(
        math.exp(0.4) * 1.4)
