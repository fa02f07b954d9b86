"""The public API of API.md, each entry point against closed forms."""

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pytest

import pygote as pg


def f(x, y):
    return x * math.sin(y)


def test_gradient_and_withgradient():
    assert pg.gradient(f, 2.0, 0.5) == pytest.approx((math.sin(0.5), 2.0 * math.cos(0.5)))
    value, grads = pg.withgradient(f, 2.0, 0.5)
    assert value == f(2.0, 0.5) and grads == pg.gradient(f, 2.0, 0.5)


def test_pullback_back_can_be_called_twice():
    y, back = pg.pullback(lambda x: x * x * 3.0, 2.0)
    assert y == 12.0
    assert back(1.0) == (12.0,)
    assert back(2.0) == (24.0,)


def test_pullback_with_mutation_can_be_called_twice():
    def g(x):
        a = np.zeros(2)
        a[0] = x
        a[1] = x * x
        return a

    y, back = pg.pullback(g, 3.0)
    np.testing.assert_allclose(y, [3.0, 9.0])
    assert back(np.array([1.0, 1.0]))[0] == pytest.approx(7.0)
    assert back(np.array([0.0, 1.0]))[0] == pytest.approx(6.0)


def test_grad_argnums_and_aux():
    assert pg.grad(f)(2.0, 0.5) == pytest.approx(math.sin(0.5))
    assert pg.grad(f, argnums=(0, 1))(2.0, 0.5) == pytest.approx((math.sin(0.5), 2 * math.cos(0.5)))
    g, aux = pg.grad(lambda x: (x**2, "note"), has_aux=True)(3.0)
    assert g == 6.0 and aux == "note"
    (value, aux), g = pg.value_and_grad(lambda x: (x**2, 1), has_aux=True)(3.0)
    assert (value, aux, g) == (9.0, 1, 6.0)


def test_jacobian_shape_and_values():
    A = np.arange(6.0).reshape(2, 3)
    J = pg.jacobian(lambda x: A @ x)(np.ones(3))
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J, A)
    J2 = pg.jacrev(lambda x: np.sin(x))(np.array([0.1, 0.2]))
    np.testing.assert_allclose(J2, np.diag(np.cos([0.1, 0.2])))


def test_elementwise_grad():
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(pg.elementwise_grad(np.tanh)(x), 1 - np.tanh(x) ** 2)


def test_unused_input_gets_zeros_of_its_shape_and_dtype():
    gx, gy = pg.gradient(lambda x, y: np.sum(x * 2.0), np.ones(3, np.float32), np.ones((2, 2)))
    assert gx.dtype == np.float32 and gx.tolist() == [2.0, 2.0, 2.0]
    assert gy.shape == (2, 2) and not gy.any()
    assert pg.gradient(lambda x, n: x * 2.0, 1.5, 3) == (2.0, None)


Point = namedtuple("Point", "x y")


@dataclass
class Params:
    a: float
    b: np.ndarray


class Linear:
    def __init__(self, weight, bias):
        self.weight = weight
        self.bias = bias

    def __call__(self, x):
        return self.weight @ x + self.bias


def test_structural_gradients_keep_the_container_type():
    (g,) = pg.gradient(lambda p: p.x * p.y, Point(2.0, 3.0))
    assert g == Point(3.0, 2.0)
    (g,) = pg.gradient(lambda p: p.a * np.sum(p.b), Params(2.0, np.ones(2)))
    assert isinstance(g, Params) and g.a == 2.0 and g.b.tolist() == [2.0, 2.0]
    (g,) = pg.gradient(lambda d: d["u"] * d["v"], {"u": 2.0, "v": 5.0})
    assert g == {"u": 5.0, "v": 2.0}
    layer = Linear(np.ones((2, 3)), np.zeros(2))
    (g,) = pg.gradient(lambda m: np.sum(m(np.array([1.0, 2.0, 3.0]))), layer)
    np.testing.assert_allclose(g.weight, [[1.0, 2.0, 3.0]] * 2)
    np.testing.assert_allclose(g["bias"], [1.0, 1.0])


def test_show_adjoint_is_readable():
    text = pg.show_adjoint(f, 1.0, 2.0)
    assert "def f_forward(x, y):" in text and "def f_backward(_saved, _dret" in text
    assert "# line" in text and "math.sin(y)" in text
    assert "_dx" in text and "_dy" in text


def test_caching_and_redefinition():
    from pygote.transform import compile as compiled

    namespace = {}
    source = "def h(x):\n    return x * {k}\n"
    import linecache

    for k in (2.0, 3.0):
        text = source.format(k=k)
        filename = f"<pygote-redefine-{k}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        exec(compile(text, filename, "exec"), namespace)
        assert pg.gradient(namespace["h"], 1.0) == (k,)
    before = len(compiled._CACHE)
    pg.gradient(namespace["h"], 5.0)
    assert len(compiled._CACHE) == before  # same code object: no new transformation


def test_complex_input_convention():
    (g,) = pg.gradient(lambda z: abs(z) ** 2, 1.0 + 2.0j)
    assert g == pytest.approx(2.0 + 4.0j)


def appends_and_scales(xs, a):
    xs.append(a * 2.0)
    a[0] = a[0] * 3.0
    return xs[-1][0] * a[0] + sum(v[1] for v in xs)


def test_callers_objects_end_as_a_plain_call_leaves_them():
    xs, a = [np.array([1.0, 2.0])], np.array([0.5, 4.0])
    plain_xs, plain_a = [np.array([1.0, 2.0])], np.array([0.5, 4.0])
    expected = appends_and_scales(plain_xs, plain_a)
    value, (gxs, ga) = pg.withgradient(appends_and_scales, xs, a)
    assert value == expected
    np.testing.assert_allclose(a, plain_a)
    assert len(xs) == 2 and np.allclose(xs[1], plain_xs[1])
    # d/da of (2 a0)(3 a0) + 2 + 2 a1 at the pre-call a: (12 a0, 2)
    np.testing.assert_allclose(ga, [12 * 0.5, 2.0])


def test_back_runs_again_after_mutation_of_a_local_that_is_read_later():
    def f(x):
        a = np.zeros(2)
        a[0] = x
        return np.sum(a * a)

    y, back = pg.pullback(f, 3.0)
    assert back(1.0) == (6.0,) and back(1.0) == (6.0,)


def test_rebinding_a_global_that_inline_code_relied_on_retransforms():
    import linecache

    text = "from math import sin\n\ndef wave(x):\n    return sin(x) * 2.0\n"
    filename = "<pygote-rebind>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {}
    exec(compile(text, filename, "exec"), namespace)
    assert pg.gradient(namespace["wave"], 0.5) == pytest.approx((2 * math.cos(0.5),))
    namespace["sin"] = math.cos  # the user rebinds the global the adjoint was written for
    assert pg.gradient(namespace["wave"], 0.5) == pytest.approx((-2 * math.sin(0.5),))


def test_check_grads_accepts_right_and_rejects_wrong_rules():
    pg.check_grads(lambda x, p: np.sum(np.tanh(x * p["w"]) ** 2), (np.ones(3), {"w": 0.3}))

    @pg.custom_vjp
    def wrong(x):
        return x * x

    wrong.defvjp(lambda x: (x * x, x), lambda x, g: (g * 3.0 * x,))  # true: 2x
    with pytest.raises(AssertionError, match="disagrees with finite differences"):
        pg.check_grads(wrong, (1.5,))
    with pytest.raises(AssertionError, match="forward mode disagrees"):
        pg.check_grads(wrong, (1.5,), modes=("fwd",))  # the transpose of the wrong rule
    pg.check_grads(lambda x: np.sin(x) * x, (np.array([0.3, 1.2]),), order=2,
                   modes=("fwd", "rev"))
    with pytest.raises(ValueError, match="unknown modes"):
        pg.check_grads(lambda x: x, (1.0,), modes=("sideways",))
