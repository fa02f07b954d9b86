"""Users' own rules take precedence; gradients can be stopped."""

import math

import numpy as np
import pytest

import pygote as pg


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
