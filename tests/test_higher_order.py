"""Higher derivatives: Hessians, gradients of gradients, pg.grad inside differentiated
code, perturbation confusion; every value against a closed form or finite differences."""

import collections
import dataclasses
import functools
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


# ---------------------------------------------------------------------------------------
# Second derivatives through the constructs of the program corpus. Each program is taken
# in every pairing of modes: H v by reverse over forward (pg.hvp), forward over reverse
# (jvp of pg.grad) and reverse over reverse (grad of <grad f, v>), and v'Hv by forward
# over forward (jvp of jvp); all against second differences of f itself.
# ---------------------------------------------------------------------------------------

def second_differences_hv(f, x, v, h=1e-4):
    """(H v, v'H v) of f at array x, from second differences of f (float64, copies)."""
    hess = fd_hessian(lambda z: f(np.array(z, dtype=float)), x, h)
    n = np.size(x)
    hv = (hess.reshape(n, n) @ np.ravel(v)).reshape(np.shape(x))
    return hv, float(np.ravel(v) @ np.ravel(hv))


def assert_all_second_orders(f, x, v, rtol=1e-4, atol=1e-5):
    """``f``: array -> scalar, called on fresh copies (it may write into its argument)."""
    want_hv, want_vhv = second_differences_hv(f, x, v)
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    v_before = v.copy()
    rev_fwd = pg.hvp(f, x.copy(), v)
    fwd_rev = pg.jvp(pg.grad(f), (x.copy(),), (v,))[1]
    rev_rev = pg.grad(lambda z: np.sum(pg.grad(f)(z) * v))(x.copy())
    fwd_fwd = pg.jvp(lambda z: pg.jvp(f, (z,), (v,))[1], (x.copy(),), (v,))[1]
    np.testing.assert_array_equal(v, v_before)  # directions are never written
    for name, got in (("rev over fwd", rev_fwd), ("fwd over rev", fwd_rev),
                      ("rev over rev", rev_rev)):
        np.testing.assert_allclose(got, want_hv, rtol=rtol, atol=atol, err_msg=name)
    assert float(fwd_fwd) == pytest.approx(want_vhv, rel=rtol, abs=atol), "fwd over fwd"


def _writes_in_place(x):
    a = x * 1.0
    a[:] = a * 2.0 + 1.0
    a += x * x
    return np.sum(a ** 2)


def _writes_its_argument(x):
    x[:] = x * 2.0 + 1.0  # the tangent code writes the direction's copy, never v itself
    x += np.sin(x)
    return np.sum(x ** 2)


def _fresh_array_filled(x):
    a = np.zeros(3)
    a[0] = x[0]
    a[1] = x[0] * x[1]
    a[2] = x[1] ** 2
    return np.sum(a ** 2)


def _fill_view(v, x):
    v[:] = x[:2] * x[1:]


def _view_written_in_callee(x):
    a = np.zeros(4)
    _fill_view(a[1:3], x)
    return np.sum(a * np.arange(4.0)) + np.sum(a * a)


def _nested_def(x):
    w = x[0] * x[1]

    def inner(z):
        return z * w + w * w

    return inner(3.0) + inner(x[1])


def _two_level_closure(x):
    def mid(y):
        def inner(z):
            return x[0] * y * z

        return inner(2.0) + inner(y)

    return mid(3.0 * x[1])


def _late_binding(x):
    y = x[0]
    g = lambda: y * y * x[1]  # noqa: E731
    y = 2.0 * x[0]
    return _apply(g)


def _apply(g):
    return g()


def _nonlocal_accumulator(x):
    total = 0.0

    def add(v):
        nonlocal total
        total += v * x[0]

    add(1.0)
    add(x[1])
    add(x[0])
    return total


def _closure_to_a_function(x):
    k = x[0]
    return _trapezoid(lambda t: math.exp(-k * t * t) * x[1], 0.0, 2.0, 8)


def _trapezoid(fn, a, b, n):
    h = (b - a) / n
    s = 0.5 * (fn(a) + fn(b))
    for i in range(1, n):
        s += fn(a + i * h)
    return s * h


def _risky(t):
    if t > 1.0:
        raise ValueError("too big")
    return t * t


def _try_in_loop(x):
    total = 0.0
    for i in range(4):
        try:
            total = total + _risky(x[0] * i) * x[1]
        except ValueError:
            total = total - x[0] * x[1]
    return total


def _row_max_shares(x):
    m = x.reshape(2, 2)
    return np.sum(np.max(m, axis=1) ** 2) + np.sum(np.exp(m - np.max(m, axis=1, keepdims=True)))


def _builtins_replaced(x):
    xs = [x[0], x[1], x[0] * x[1]]
    total = 0.0
    for i, v in enumerate(reversed(xs)):
        total = total + i * v * v
    for a, b in zip(xs, sorted(xs)):
        total = total + a * b
    total = total + sum(map(lambda t: t ** 3, filter(lambda t: t > 0.0, xs)))
    return total + functools.reduce(lambda a, b: a * b, xs, 1.0)


def test_second_order_of_in_place_writes_leaves_directions_alone():
    x, v = np.array([0.3, -0.7, 0.4]), np.array([1.0, 0.5, -0.25])
    assert_all_second_orders(_writes_in_place, x, v)
    assert_all_second_orders(_writes_its_argument, x, v)
    # closed form: (2x + 1 + sin(2x + 1))^2 has second derivative 2 (u'^2 + u u'')
    u = 2 * x + 1 + np.sin(2 * x + 1)
    du, ddu = 2 + 2 * np.cos(2 * x + 1), -4 * np.sin(2 * x + 1)
    np.testing.assert_allclose(pg.hvp(_writes_its_argument, x.copy(), v),
                               2 * (du ** 2 + u * ddu) * v, rtol=1e-10)


@pytest.mark.parametrize("f", [_fresh_array_filled, _view_written_in_callee],
                         ids=["fresh_array", "view_in_callee"])
def test_second_order_of_arrays_made_inside(f):
    assert_all_second_orders(f, np.array([0.3, -0.7, 0.4]), np.array([1.0, 0.5, -0.25]))


@pytest.mark.parametrize("f", [_nested_def, _two_level_closure, _late_binding,
                               _nonlocal_accumulator, _closure_to_a_function],
                         ids=["nested_def", "two_levels", "late_binding", "nonlocal",
                              "closure_argument"])
def test_second_order_of_closures(f):
    assert_all_second_orders(f, np.array([0.7, -0.4]), np.array([1.0, 0.5]))


@pytest.mark.parametrize("f", [_try_in_loop, _row_max_shares, _builtins_replaced],
                         ids=["try_in_loop", "row_max", "builtins"])
def test_second_order_of_control_and_builtins(f):
    assert_all_second_orders(f, np.array([0.4, -0.9, 0.3, 0.8])[: 4 if f is _row_max_shares
                                                              else 2],
                             np.array([1.0, 0.5, -0.3, 0.2])[: 4 if f is _row_max_shares
                                                            else 2])


class _Accumulator:
    def __init__(self, scale):
        self.scale = scale
        self.total = 0.0
        self.history = []

    def add(self, v):
        self.total += self.scale * v
        self.history.append(v)

    @property
    def last(self):
        return self.history[-1]

    def __call__(self, t):
        return self.total * t


@dataclasses.dataclass
class _Params:
    w: float
    b: float


_Pair = collections.namedtuple("_Pair", "a b")


def _objects(x):
    acc = _Accumulator(x[1])
    acc.add(x[0])
    acc.add(x[0] * x[1])
    p = _Params(x[0] * 2.0, x[1])
    q = _Pair(*[2.0 * t for t in (p.w, p.b)])
    q = q._replace(b=q.b * x[0])
    setattr(p, "w", getattr(p, "w") * x[1])
    return acc(x[0]) * acc.last + p.w * q.b + sum(list(q)) * acc.history[0]


def _partials_and_methods(x):
    f = functools.partial(_scaled, x[0], power=3.0)
    d = {"a": x[0], "b": x[1]}
    d.update(c=x[0] * x[1])
    d.setdefault("d", 2.0 * x[1])
    total = d.pop("a") * f(x[1])
    for k, v in d.items():
        total = total + v * v
    xs = list(d.values())
    xs.extend([x[0], x[1] ** 2])
    xs.insert(1, x[0] * 3.0)
    last = xs.pop()
    xs.reverse()
    del xs[0]
    return total + last * xs[0] + sum(d.values()) * f(2.0)


def _scaled(w, t, power=1.0):
    return w * t ** power


def _numpy_writers(x):
    a = x * 1.0
    np.add.at(a, [0, 0, 1], np.array([x[1], x[0], x[2]]))
    np.subtract.at(a, [2], x[0] * x[1])
    np.multiply.at(a, [1, 1], np.array([x[2], 2.0]))
    b = np.ones(3)
    np.multiply(x, a, out=b)
    c = np.zeros(3)
    np.copyto(c, b * x)
    np.put(c, [0], x[1] ** 2)
    m = np.zeros((2, 2))
    np.fill_diagonal(m, x[2])
    return np.sum(c * a) + np.linalg.norm(b) * np.sum(m) + np.linalg.norm(a, 1)


@pytest.mark.parametrize("f, n", [(_objects, 2), (_partials_and_methods, 2),
                                  (_numpy_writers, 3)],
                         ids=["objects", "partials_and_methods", "numpy_writers"])
def test_second_order_of_calls_forward_mode_dispatches(f, n):
    assert_all_second_orders(f, np.array([0.7, -0.4, 0.9])[:n], np.array([1.0, 0.5, -0.3])[:n])


def test_gradient_with_constant_arguments_inside_differentiated_code():
    def f(x, n, flag):
        return x ** n if flag is None else x

    def outer(x):
        gx, gn, gflag = pg.gradient(f, x, 3, None)
        assert gn is None and gflag is None
        return gx * x

    x = 1.3
    assert pg.grad(outer)(x) == pytest.approx(9 * x ** 2, rel=1e-12)  # d/dx 3x^3


def test_second_order_of_a_program_that_mutates_its_list_argument():
    def drop_first(xs):
        del xs[0]
        return xs[0] * xs[1] * xs[1]

    def weighted_gradient(xs):  # <grad drop_first(xs), (1, 1, 1)>
        g = pg.gradient(drop_first, xs)[0]
        return g[0] + g[1] + g[2]

    xs = [1.0, 2.0, 3.0]
    assert pg.grad(weighted_gradient)(list(xs)) == pytest.approx([0.0, 2 * 3.0, 2 * 2.0 + 2 * 3.0])


def test_reverse_over_reverse_of_nested_lists():
    def f(m):
        total = 0.0
        for row in m:
            for t in row:
                total += t * t * t
        return total

    m = [[1.0, 2.0], [3.0]]
    v = [[1.0, 0.5], [2.0]]

    def directional(m):
        g = pg.grad(f)(m)
        return g[0][0] * v[0][0] + g[0][1] * v[0][1] + g[1][0] * v[1][0]

    g = pg.grad(directional)(m)  # 6 x v
    assert g[0] == pytest.approx([6.0, 6.0]) and g[1] == pytest.approx([36.0])


# ---- first-order bugs found by the second-order checks --------------------------------

def test_lambda_continued_on_the_next_line_is_read_whole():
    f = _identity(  # the lambda's first line starts inside an open bracket
        lambda x: x if x is None
        else x * x * 3.0)
    assert pg.grad(f)(2.0) == pytest.approx(12.0)


def _identity(g):
    return g


def test_two_lambdas_on_one_line_with_the_same_parameters():
    f, g = (lambda a, x: x * x), (lambda a, x: a * x)
    assert pg.grad(f, argnums=1)(2.0, 3.0) == pytest.approx(6.0)
    assert pg.grad(g, argnums=1)(2.0, 3.0) == pytest.approx(2.0)


def test_closure_rebound_after_its_definition_then_handed_to_a_function():
    x = 0.9
    assert pg.grad(lambda x: _late_bound(x))(x) == pytest.approx(8 * x)  # (2x)^2


def _late_bound(x):
    y = x
    g = lambda: y * y  # noqa: E731
    y = 2.0 * x
    return _apply(g)


def test_container_literal_handed_to_a_writer_aliases_its_items():
    def fill(pair):
        pair[0][:] = pair[1] * 2.0

    def f(x):
        a = np.zeros(2)
        pair = (a, x)
        fill(pair)
        return np.sum(a * a)

    x = np.array([0.3, 0.5])
    np.testing.assert_allclose(pg.grad(f)(x), 8 * x)
    assert pg.jvp(f, (x,), (np.ones(2),))[1] == pytest.approx(8 * np.sum(x))


def test_list_of_a_namedtuple():
    def f(a, b):
        p = _Pair(a * b, a + b)
        items = list(p)
        return items[0] * items[1]

    a, b = 0.3, 0.7  # f = a^2 b + a b^2
    assert pg.grad(f, argnums=(0, 1))(a, b) == pytest.approx((2 * a * b + b * b,
                                                               a * a + 2 * a * b))


def test_forward_mode_keeps_the_tangents_of_dict_update_keywords():
    def f(x):
        d = {"a": x[0]}
        d.update(c=x[0] * x[1])
        return d["c"] * d["a"]

    x = np.array([0.7, -0.4])  # f = x0^2 x1
    assert pg.jvp(f, (x,), (np.array([1.0, 0.0]),))[1] == pytest.approx(2 * x[0] * x[1])
    assert pg.jvp(f, (x,), (np.array([0.0, 1.0]),))[1] == pytest.approx(x[0] ** 2)
