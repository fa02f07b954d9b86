"""The dispatcher remembers, per plain Python function, the adjoint of its last call pattern
(runtime/dispatch._PLANS). Whatever changes how a function is differentiated must win
over that memory: a rule registered later, a function marked non-differentiable later, a
different argument type, a global the generated code relied on being rebound."""

import math

import numpy as np
import pytest

import pygote as pg


def _square(x):
    return x * x


def _uses_square(x):
    return _square(x) + 1.0


def _cube(x):
    return x * x * x


def _uses_cube(x):
    return _cube(x) + 1.0


def _halve(x):
    return x * 0.5


def _uses_halve(x):
    return _halve(x) * 3.0


def _scaled_sin(x):
    return math.sin(x) * 2.0


def _uses_scaled_sin(x):
    return _scaled_sin(x) + x


def test_rule_registered_after_calls_wins():
    assert pg.gradient(_uses_square, 3.0)[0] == pytest.approx(6.0)
    assert pg.gradient(_uses_square, 3.0)[0] == pytest.approx(6.0)  # planned by now
    pg.register_vjp(_square, lambda x: (x * x, x), lambda x, g: (g * 100.0,))
    assert pg.gradient(_uses_square, 3.0)[0] == pytest.approx(100.0)


def test_marked_nondifferentiable_after_calls():
    assert pg.gradient(_uses_halve, 2.0)[0] == pytest.approx(1.5)
    assert pg.gradient(_uses_halve, 2.0)[0] == pytest.approx(1.5)
    pg.nondifferentiable(_halve)
    assert pg.gradient(_uses_halve, 2.0)[0] == pytest.approx(0.0)


def test_other_argument_types_take_their_own_adjoint():
    x = np.array([0.5, 1.5])
    assert pg.gradient(_uses_cube, 2.0)[0] == pytest.approx(12.0)
    np.testing.assert_allclose(pg.gradient(lambda v: np.sum(_uses_cube(v)), x)[0], 3 * x**2)
    assert pg.gradient(_uses_cube, 2.0)[0] == pytest.approx(12.0)


def test_rebound_global_is_seen(monkeypatch):
    assert pg.gradient(_uses_scaled_sin, 0.3)[0] == pytest.approx(2 * math.cos(0.3) + 1)
    assert pg.gradient(_uses_scaled_sin, 0.3)[0] == pytest.approx(2 * math.cos(0.3) + 1)

    class FakeMath:
        sin = staticmethod(math.cos)

    expected = -2 * math.sin(0.3) + 1  # (before `math` is rebound in this module)
    monkeypatch.setitem(_scaled_sin.__globals__, "math", FakeMath)
    assert pg.gradient(_uses_scaled_sin, 0.3)[0] == pytest.approx(expected)


def _horner(x, coeffs):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return np.sum(y)


def test_outermost_function_remembered_per_constant_positions_and_item_kinds():
    # pg.grad(f, argnums=0) remembers f's adjoint for its constant positions; a list of
    # floats is specialized (its items are numbers): a list of arrays must not reuse that
    g = pg.grad(_horner, argnums=0)
    floats = [1.0, 2.0, 3.0]
    arrays = [np.array([1.0, 0.5]), np.array([2.0, 1.0]), np.array([3.0, -1.0])]
    for _ in range(2):
        assert g(0.5, floats) == pytest.approx(2 * 0.5 + 2.0)
        assert g(0.5, arrays) == pytest.approx((2 * 0.5 + 2.0) + (2 * 0.5 * 0.5 + 1.0))
    both = pg.grad(_horner, argnums=(0, 1))(0.5, floats)
    assert both[0] == pytest.approx(3.0) and both[1] == pytest.approx([0.25, 0.5, 1.0])
