"""Users' own rules take precedence; gradients can be stopped."""

import math

import numpy as np
import pytest

import pygote as pg
from pygote.rules.registry import RULES


@pg.custom_vjp
def clipped_sin(x):
    return math.sin(x)


# deliberately NOT the true derivative: proves the rule wins over the source
clipped_sin.defvjp(lambda x: (math.sin(x), x), lambda x, g: (g * 10.0 * x,))


def uses_clipped(x):
    return clipped_sin(x) * 2.0


def test_custom_vjp_rule_takes_precedence_over_the_source():
    assert pg.gradient(clipped_sin, 0.5) == (5.0,)  # 10 * x, not cos(x)
    assert pg.gradient(uses_clipped, 0.5) == (10.0,)
    assert clipped_sin(0.5) == math.sin(0.5)


@pg.custom_vjp
def scaled(x, scale):
    return x * scale


scaled.defvjp(lambda x, scale: (x * scale, scale), lambda scale, g: (g * scale, None))


def test_custom_vjp_with_keyword_arguments():
    def f(x):
        return scaled(x, scale=3.0) + scaled(x, 2.0)

    assert pg.gradient(f, 1.5) == (5.0,)


def power(n, x):
    return x**n


fixed_power = pg.custom_vjp(power, nondiff_argnums=(0,))
fixed_power.defvjp(lambda n, x: (x**n, x), lambda n, x, g: (g * n * x ** (n - 1),))


def test_nondiff_argnums_come_first_in_bwd():
    assert pg.gradient(lambda x: fixed_power(3, x), 2.0) == (12.0,)


def frexp_mantissa_sum(x):
    mantissa, _ = np.frexp(x)
    return np.sum(mantissa * mantissa)


def test_register_vjp_for_a_c_function():
    with pytest.raises(pg.DifferentiationError):
        pg.gradient(frexp_mantissa_sum, np.array([3.0, 5.0]))

    def fwd(x):
        m, e = np.frexp(x)
        return (m, e), e

    def bwd(e, g):
        gm, _ = g
        return (gm * np.exp2(-e.astype(float)),)  # m = x / 2**e, e locally constant

    pg.register_vjp(np.frexp, fwd, bwd)
    try:
        x = np.array([3.0, 5.0])
        m, e = np.frexp(x)
        (g,) = pg.gradient(frexp_mantissa_sum, x)
        np.testing.assert_allclose(g, 2 * m / 2.0**e)
    finally:
        from pygote.rules.registry import RULES

        del RULES[np.frexp]


def cube(x):
    return x * x * x


@pg.rrule(cube)
def _cube_rule(x):
    return cube(x), lambda dy: (dy * 3.0 * x * x + 1.0,)  # +1: not the true derivative


def test_rrule_takes_precedence_over_the_source():
    assert pg.gradient(cube, 2.0) == (13.0,)
    assert pg.gradient(lambda x: cube(x) + x, 2.0) == (14.0,)


def test_stop_gradient():
    def f(x):
        return x * pg.stop_gradient(x)

    assert pg.gradient(f, 3.0) == (3.0,)  # d/dx (x * c) with c = x held fixed


@pg.nondifferentiable
def label_of(x):
    return float(round(x))


def test_nondifferentiable_python_function():
    def f(x):
        return x * label_of(x)

    assert pg.gradient(f, 2.2) == (2.0,)


# ---------------------------------------------------------------- forward rules


def test_custom_jvp_gives_both_modes():
    @pg.custom_jvp
    def f(x, y):
        return math.sin(x) * y

    @f.defjvp
    def f_jvp(primals, tangents):
        x, y = primals
        dx, dy = tangents
        return f(x, y), math.cos(x) * y * dx + math.sin(x) * dy

    x, y = 0.3, 2.0
    assert pg.jvp(f, (x, y), (1.0, 0.5))[1] == pytest.approx(
        math.cos(x) * y + 0.5 * math.sin(x))
    gx, gy = pg.gradient(lambda a, b: f(a, b) * a, x, y)  # the transpose of the jvp rule
    assert gx == pytest.approx(math.cos(x) * y * x + math.sin(x) * y)
    assert gy == pytest.approx(math.sin(x) * x)


def test_custom_jvp_wins_over_the_source_in_both_modes():
    @pg.custom_jvp
    def f(x):
        return x ** 2

    f.defjvp(lambda primals, tangents: (primals[0] ** 2, 10.0 * tangents[0]))  # not 2x
    assert pg.jvp(f, (3.0,), (1.0,))[1] == pytest.approx(10.0)
    assert pg.gradient(f, 3.0)[0] == pytest.approx(10.0)


def test_custom_jvp_with_nondiff_argnums_and_arrays():
    def power(n, x):
        return x ** n

    p = pg.custom_jvp(power, nondiff_argnums=(0,))
    p.defjvp(lambda n, primals, tangents: (primals[0] ** n, n * primals[0] ** (n - 1)
                                           * tangents[0]))
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(pg.jvp(lambda v: p(3, v), (x,), (np.ones(2),))[1], 3 * x ** 2)
    np.testing.assert_allclose(pg.grad(lambda v: np.sum(p(3, v)))(x), 3 * x ** 2)


def test_custom_vjp_in_forward_mode_is_the_transpose():
    @pg.custom_vjp
    def g(x):
        return np.tanh(x)

    g.defvjp(lambda x: (np.tanh(x), np.tanh(x)), lambda t, u: (u * (1 - t ** 2),))
    x = np.array([0.2, -0.5])
    v = np.array([1.0, 2.0])
    np.testing.assert_allclose(pg.jvp(g, (x,), (v,))[1], (1 - np.tanh(x) ** 2) * v)


def test_register_jvp_for_a_c_function():
    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        return np.cbrt(x), 7.0 * t  # deliberately not the derivative: proves precedence

    saved = RULES.get(np.cbrt)
    try:
        pg.register_jvp(np.cbrt, rule)
        assert pg.jvp(lambda x: np.cbrt(x), (8.0,), (1.0,))[1] == pytest.approx(7.0)
        assert pg.gradient(lambda x: np.cbrt(x) * 1.0, 8.0)[0] == pytest.approx(7.0)
    finally:
        RULES[np.cbrt].forward = None
        RULES[np.cbrt].record = None
        if saved is None:
            del RULES[np.cbrt]


def test_rrule_serves_forward_mode_too():
    def cube(x):
        return x * x * x

    @pg.rrule(cube)
    def cube_rule(x):
        return x ** 3, lambda g: (3 * x ** 2 * g,)

    try:
        assert pg.jvp(lambda t: cube(t) + t, (2.0,), (1.0,))[1] == pytest.approx(13.0)
    finally:
        del RULES[cube]


def test_ignore_blocks_record_nothing():
    def h(x):
        with pg.ignore():
            s = x * 2.0
            t = np.sin(x)
        return s * x + t

    assert pg.gradient(h, 3.0)[0] == pytest.approx(6.0)  # s and t are constants
    assert pg.jvp(h, (3.0,), (1.0,))[1] == pytest.approx(6.0)
    assert h(3.0) == pytest.approx(18.0 + math.sin(3.0))  # and the values are unchanged
