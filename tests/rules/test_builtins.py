"""Tests for pygote.rules.builtins: builtin rules against finite differences, and each
Python replacement against the builtin it replaces."""

import ast
import functools
import inspect
import operator
import textwrap

import numpy as np
import pytest

from pygote.rules import builtins as rules
from pygote.rules.registry import RULES, REPLACEMENTS, is_nondifferentiable, rule_for
from pygote.testing import check_rule

rng = np.random.default_rng(7)
A34 = rng.standard_normal((3, 4))
POS4 = rng.uniform(0.5, 2.0, 4)
C34 = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))


def check_sequences(func, *args, h=1e-6, tol=1e-6, **kwargs):
    """Finite-difference check of a rule at list/tuple-of-floats arguments (``check_rule``
    takes arrays), element by element, with a cotangent of 1 (floats) or a random one."""
    ans = func(*args, **kwargs)
    u = 1.0 if isinstance(ans, float) else rng.standard_normal(len(ans))
    cts = rule_for(func).vjp(u, ans, *args, **kwargs)

    def loss(a):
        out = func(*a, **kwargs)
        return out if isinstance(out, float) else float(np.dot(u, np.asarray(out, float)))

    for i, arg in enumerate(args):
        if not isinstance(arg, (list, tuple)):
            continue
        assert type(cts[i]) is type(arg), (type(cts[i]), type(arg))
        for j in range(len(arg)):
            def moved(d, i=i, j=j, arg=arg):
                s = list(arg)
                s[j] += d
                return loss(args[:i] + (type(arg)(s),) + args[i + 1:])
            fd = (moved(h) - moved(-h)) / (2 * h)
            ct = 0.0 if cts[i][j] is None else cts[i][j]
            assert abs(ct - fd) <= tol * max(1.0, abs(fd)), (func, i, j, ct, fd)
    check_forward(func, *args, h=h, tol=tol, **kwargs)


def check_forward(func, *args, h=1e-6, tol=1e-6, **kwargs):
    """Finite-difference check of a jvp at list/tuple-of-floats and float arguments: random
    element tangents, the last element of each sequence given ``None`` (a zero)."""
    ans = func(*args, **kwargs)
    tangents, directions = [], []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            d = [float(v) for v in rng.standard_normal(len(arg))]
            if d:
                d[-1] = 0.0
            tangents.append(type(arg)(d[:-1] + [None] if d else d))
            directions.append(d)
        elif isinstance(arg, float):
            d = float(rng.standard_normal())
            tangents.append(d)
            directions.append(d)
        else:
            tangents.append(None)
            directions.append(None)
    dy = rule_for(func).jvp(ans, tuple(tangents), *args, **kwargs)

    def moved(step):
        out = []
        for arg, d in zip(args, directions):
            if d is None:
                out.append(arg)
            elif isinstance(arg, float):
                out.append(arg + step * d)
            else:
                out.append(type(arg)(x + step * e for x, e in zip(arg, d)))
        return np.asarray(func(*out, **kwargs), float)

    fd = (moved(h) - moved(-h)) / (2 * h)
    if isinstance(ans, (list, tuple)) and dy is not None:
        assert type(dy) is type(ans), (type(dy), type(ans))
        dy = [0.0 if t is None else t for t in dy]
    got = np.asarray(0.0 if dy is None else dy, float)
    assert np.allclose(got, fd, rtol=tol, atol=tol), (func, got, fd)


# ---------------------------------------------------------------- arithmetic and conversions


@pytest.mark.parametrize("x", [1.3, -0.4, 0.6 - 0.8j, A34, C34, A34.astype(np.float32)])
def test_abs(x):
    check_rule(abs, x)


@pytest.mark.parametrize("a, b", [(1.7, 2.3), (-1.7, 3), (1.5 + 0.5j, 0.5 - 1j),
                                  (np.abs(A34) + 0.5, POS4), (1.3, A34)])
def test_pow(a, b):
    check_rule(pow, a, b)


def test_modular_pow_has_no_gradient():
    assert rule_for(pow).vjp(1, pow(3, 4, 5), 3, 4, 5) == (None, None, None)
    assert rule_for(pow).jvp(pow(3, 4, 5), (None, None, None), 3, 4, 5) is None


@pytest.mark.parametrize("a, b", [(7.5, 2.1), (-7.5, 2.1), (7.5, -2.1)])
def test_divmod(a, b):
    # forward: the quotient's tangent is None, which check_rule's inner product cannot
    # take inside a tuple, so the tangent pair is checked by check_forward
    check_rule(divmod, a, b, modes=("rev",))
    check_forward(divmod, a, b)
    ta, tb = rng.standard_normal(2)
    assert rule_for(divmod).jvp(divmod(a, b), (ta, tb), a, b)[0] is None
    assert rule_for(divmod).jvp(divmod(7, 2), (None, None), 7, 2) is None
    assert rule_for(divmod).vjp((1.0, None), divmod(a, b), a, b) == (None, None)


@pytest.mark.parametrize("x", [1.5, np.float32(1.5), np.array(2.25), np.float64(-3.0)])
def test_float(x):
    check_rule(float, x)


@pytest.mark.parametrize("args", [(1.5,), (1.5, -2.5), (1.5 + 1j, 0.5 - 2j), (2.0, 1j)])
def test_complex(args):
    check_rule(complex, *args)


# ---------------------------------------------------------------- list, tuple


def test_list_tuple():
    check_sequences(list, (1.5, -2.0, 0.5))
    assert rule_for(list).jvp([0], (None,), range(1)) is None
    assert rule_for(tuple).jvp((1.0,), ([2.0],), iter([1.0])) is None
    check_sequences(tuple, [1.5, -2.0, 0.5])
    check_rule(list, A34)
    check_rule(list, C34)
    check_rule(tuple, rng.standard_normal(5))
    g = [1.0, None, 3.0]
    assert rule_for(list).vjp(g, None, (1.0, 2.0, 3.0)) == ((1.0, None, 3.0),)
    assert rule_for(tuple).vjp(tuple(g), None, [1.0, 2.0, 3.0]) == ([1.0, None, 3.0],)
    ct = rule_for(list).vjp([np.ones(4), None, None], list(A34), A34)[0]
    assert np.array_equal(ct, np.vstack([np.ones(4), np.zeros((2, 4))]))
    assert rule_for(list).vjp([1.0], [0], range(1)) == (None,)


# ---------------------------------------------------------------- sum, min, max


@pytest.mark.parametrize("xs", [[1.5, -2.0, 0.5], (1.5, -2.0), [3.0]])
def test_sum_sequences(xs):
    check_sequences(sum, xs)
    check_sequences(sum, xs, 2.5)
    check_rule(sum, np.array(xs))
    check_rule(sum, np.array(xs), 2.5)


def test_sum_arrays():
    check_rule(sum, A34)                                   # rows each get g
    check_rule(sum, A34, rng.standard_normal((2, 1, 4)))   # a start wider than a row
    check_rule(sum, C34.astype(np.complex64))
    parts = [A34, POS4, 2.0]                               # broadcasting list elements
    cts = rule_for(sum).vjp(np.ones((3, 4)), sum(parts), parts)[0]
    assert [np.shape(c) for c in cts] == [(3, 4), (4,), ()]
    assert np.array_equal(cts[1], np.full(4, 3.0)) and cts[2] == 12.0
    # forward: the element tangents summed (broadcasting), None entries zeros
    tangents = [np.ones((3, 4)), None, 2.0]
    assert np.array_equal(rule_for(sum).jvp(sum(parts), (tangents,), parts), np.full((3, 4), 3.0))
    assert rule_for(sum).jvp(sum(parts), (None, 1.5), parts, 0.0) == 1.5
    assert rule_for(sum).jvp(0.0, ([1.0],), iter([1.0])) is None  # used up: not readable


@pytest.mark.parametrize("select", [min, max])
def test_min_max(select):
    xs = [1.5, -2.0, 3.5, 0.5]
    check_sequences(select, xs)
    check_sequences(select, tuple(xs))
    check_sequences(select, xs, key=abs)
    check_sequences(select, xs, key=lambda x: (x - 0.9) ** 2)
    check_rule(select, np.array(xs))
    check_rule(select, np.array(xs), key=abs)
    check_rule(select, 1.5, -2.0, 3.5)
    check_rule(select, 1.5, -2.0, 3.5, key=abs)
    check_rule(select, 1.5, np.float64(-2.0))
    check_rule(select, C34[0], key=abs)
    check_rule(select, 1.5 + 1j, -2.0j, key=abs)


def test_min_max_winner():
    vjp = rule_for(min).vjp
    a, b = 1.0, float("1.0")  # equal values, distinct objects: the first one wins
    assert a is not b
    assert vjp(5.0, min([a, b]), [a, b]) == ([5.0, None],)
    assert vjp(5.0, min(a, b), a, b) == (5.0, None)
    assert vjp(5.0, 0.0, [], default=0.0) == (None,)  # the default won
    assert rule_for(max).vjp(5.0, 3.0, iter([1.0, 3.0])) == (None,)
    m = np.array([[1.0, 5.0], [0.0, 2.0]])
    ct = rule_for(max).vjp(np.array([1.0, 1.0]), max(m, key=lambda r: r[1]), m,
                           key=lambda r: r[1])[0]
    assert np.array_equal(ct, [[1.0, 1.0], [0.0, 0.0]])


def test_min_max_winner_forward():
    jvp = rule_for(min).jvp
    a, b = 1.0, float("1.0")
    assert jvp(min([a, b]), ([5.0, 6.0],), [a, b]) == 5.0
    assert jvp(min(a, b), (5.0, 6.0), a, b) == 5.0
    assert jvp(min(a, b), (None, 6.0), a, b) is None
    assert jvp(0.0, ([],), [], default=0.0) is None  # the default won
    assert rule_for(max).jvp(3.0, ([1.0, 2.0],), iter([1.0, 3.0])) is None
    m = np.array([[1.0, 5.0], [0.0, 2.0]])
    dm = np.array([[3.0, 4.0], [5.0, 6.0]])
    assert np.array_equal(rule_for(max).jvp(m[0], (dm,), m, key=lambda r: r[1]), [3.0, 4.0])


def test_every_rule_has_a_jvp():
    mine = [r for f, r in RULES.items() if getattr(f, "__module__", None) == "builtins"]
    assert len(mine) >= 10
    assert all(r.jvp is not None for r in mine), [r for r in mine if r.jvp is None]


def test_nondifferentiable():
    for f in (round, int, len, range, isinstance, issubclass, type, print, repr, str, format,
              hash, id, bool, callable, hasattr, any, all, ord, chr, input, open):
        assert is_nondifferentiable(f), f
    for f in (getattr, iter, next, vars, dict):
        assert not is_nondifferentiable(f) and rule_for(f) is None, f


# ---------------------------------------------------------------- replacements

GEN = lambda xs: (x for x in xs)  # noqa: E731


def same(builtin, *args, **kwargs):
    """The replacement returns what the builtin returns (as a list for iterators)."""
    impl = REPLACEMENTS[builtin]
    fresh = lambda: [GEN(a) if isinstance(a, Gen) else a for a in args]  # noqa: E731
    expected = builtin(*fresh(), **kwargs)
    got = impl(*fresh(), **kwargs)
    if not isinstance(expected, (float, int, str, tuple, list)):
        expected = list(expected)
    assert type(got) is type(expected) and got == expected, (builtin, got, expected)


class Gen(list):
    """An argument passed as a fresh generator over these elements."""


def test_map():
    same(map, lambda x: 2 * x, [1.0, 2.0, 3.0])
    same(map, lambda x, y: x - y, [1.0, 2.0, 3.0], (5.0, 6.0))
    same(map, lambda x, y, z: x * y + z, range(4), [1, 2, 3, 4, 5], Gen([7, 8, 9]))
    same(map, str, Gen([1, 2]))
    same(map, abs, {"a": -1, "b": 2}.values())
    same(map, float, [])
    same(map, operator.neg, np.array([1.0, 2.0]))


def test_filter():
    same(filter, None, [0.0, 1.5, 0, -2.0, None, ""])
    same(filter, lambda x: x > 0, (1.0, -2.0, 3.0))
    same(filter, lambda x: x % 2, Gen(range(7)))
    same(filter, None, [])


def test_zip():
    same(zip)
    same(zip, [1.0, 2.0])
    same(zip, [1.0, 2.0, 3.0], (4.0, 5.0))
    same(zip, [1, 2], "abc", Gen([True, False, True]))
    same(zip, [1, 2], [3, 4], strict=True)
    same(zip, {"a": 1, "b": 2}, {"a": 1, "b": 2}.items(), strict=False)
    for lengths in ([2, 3], [3, 2], [2, 2, 1], [1, 2, 2], [2, 2, 3], [3, 1, 2], [3, 3, 3, 2]):
        seqs = [list(range(n)) for n in lengths]
        with pytest.raises(ValueError) as want:
            list(zip(*seqs, strict=True))
        with pytest.raises(ValueError) as got:
            rules.zip_impl(*seqs, strict=True)
        assert str(got.value) == str(want.value)


def test_enumerate():
    same(enumerate, [1.5, 2.5])
    same(enumerate, "ab", 3)
    same(enumerate, Gen([1.0, 2.0]), start=-1)
    same(enumerate, [])


def test_reversed():
    same(reversed, [1.0, 2.0, 3.0])
    same(reversed, (1, 2))
    same(reversed, range(5))
    same(reversed, "abc")
    same(reversed, [])
    assert rules.reversed_impl(Gen([1, 2, 3])) == [3, 2, 1]  # generators too


def test_sorted():
    xs = [3.0, -1.0, 2.0, -3.0, 1.0, 2.0]
    same(sorted, xs)
    same(sorted, tuple(xs), reverse=True)
    same(sorted, xs, key=abs)                    # ties keep their order (stable)
    same(sorted, xs, key=abs, reverse=True)      # ... also reversed
    same(sorted, Gen(xs), key=lambda x: -x)
    same(sorted, ["b", "A", "c"], key=str.lower)
    same(sorted, [(1, "b"), (0, "z"), (1, "a")], key=lambda p: p[0])
    same(sorted, [])
    a = np.array([0.3, -2.0, 1.0])
    assert rules.sorted_impl(a) == sorted(a)
    # the result is built by indexing: the very same element objects
    objs = [1.5, 0.5, 2.5]
    assert all(r is objs[i] for r, i in zip(rules.sorted_impl(objs), [1, 0, 2]))


def test_reduce():
    same(functools.reduce, operator.add, [1.0, 2.0, 3.0])
    same(functools.reduce, operator.sub, (10.0, 2.0, 3.0), 100.0)
    same(functools.reduce, lambda acc, x: acc + [x], Gen([1, 2]), [])
    same(functools.reduce, operator.mul, [], 1.0)
    same(functools.reduce, operator.mul, [4.0])
    with pytest.raises(TypeError, match="empty iterable"):
        rules.reduce_impl(operator.add, [])


def test_replacements_registered_and_plain():
    impls = {map: rules.map_impl, filter: rules.filter_impl, zip: rules.zip_impl,
             enumerate: rules.enumerate_impl, reversed: rules.reversed_impl,
             sorted: rules.sorted_impl, functools.reduce: rules.reduce_impl}
    for builtin, impl in impls.items():
        assert REPLACEMENTS[builtin] is impl
        tree = ast.parse(textwrap.dedent(inspect.getsource(impl)))
        banned = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda,
                  ast.While, ast.Yield)
        assert not any(isinstance(n, banned) for n in ast.walk(tree)), impl.__name__
