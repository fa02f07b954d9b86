"""Tests for pygote.rules.operators: every operator rule against finite differences."""

import math
import operator

import numpy as np
import pytest

import pygote.rules.operators  # noqa: F401  (registers the rules)
from pygote.rules.registry import RULES, is_nondifferentiable, rule_for
from pygote.testing import check_rule

rng = np.random.default_rng(42)
A34 = rng.standard_normal((3, 4))
A31 = rng.standard_normal((3, 1))
A4 = rng.standard_normal(4)
POS34 = rng.uniform(0.5, 2.0, (3, 4))
POS4 = rng.uniform(0.5, 2.0, 4)
C34 = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
F32 = rng.standard_normal((3, 4)).astype(np.float32)
F32B = rng.uniform(0.5, 2.0, 4).astype(np.float32)

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv]


# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "a, b",
    [
        (1.3, -0.7),                      # Python floats
        (1.5 + 0.5j, -0.3 + 2j),          # Python complex
        (2.0, 1.5 - 0.5j),                # mixed
        (A34, POS4),                      # broadcasting (3, 4) with (4,)
        (A31, POS4),                      # (3, 1) with (4,)
        (1.7, POS34),                     # float with array
        (np.float64(0.8), A4),            # numpy scalar with array
        (C34, POS4),                      # complex array with real array
        (F32, F32B),                      # float32
        (3, 1.25),                        # int held fixed
    ],
)
def test_arithmetic(op, a, b):
    check_rule(op, a, b)


@pytest.mark.parametrize("a, b", [(7.3, 2.1), (-7.3, 2.1), (7.3, -2.1), (A34 * 5, POS4)])
def test_mod(a, b):
    check_rule(operator.mod, a, b)


@pytest.mark.parametrize("a, b", [(7.3, 2.1), (A34 * 5, POS4)])
def test_floordiv_is_zero(a, b):
    check_rule(operator.floordiv, a, b)
    assert rule_for(operator.floordiv).vjp(1.0, a // b, a, b) == (None, None)
    assert rule_for(operator.floordiv).jvp(a // b, (1.0, 1.0), a, b) is None


def test_mod_float_fast_path():
    cts = rule_for(operator.mod).vjp(1.0, 7.3 % 2.0, 7.3, 2.0)
    assert cts == (1.0, -3.0) and all(type(c) is float for c in cts)
    dy = rule_for(operator.mod).jvp(7.3 % 2.0, (1.0, 0.5), 7.3, 2.0)
    assert dy == 1.0 - 0.5 * 3.0 and type(dy) is float


def test_mod_string_formatting_has_no_tangent():
    jvp = rule_for(operator.mod).jvp
    assert jvp("%.1f" % 1.5, (None, 1.0), "%.1f", 1.5) is None
    assert jvp("%f %f" % (1.0, 2.0), (None, (1.0, 2.0)), "%f %f", (1.0, 2.0)) is None


# ---------------------------------------------------------------- power


@pytest.mark.parametrize(
    "a, b",
    [
        (1.7, 2.3),
        (1.7, 3),            # integer exponent
        (-1.7, 3),
        (-1.7, 3.0),         # negative base, integral float exponent
        (0.5, -1.5),
        (1.5 + 0.5j, 2.0 - 1j),
        (1.5 + 0.5j, 3),
        (2.0, -0.5 + 1j),
        (-2.0, 0.5),         # Python gives a complex result
        (POS34, 2),
        (A34, 3),
        (POS34, POS4),
        (1.3, A4),
        (POS34, 1.5),
        (C34, 2.5),
        (F32B, 2),
        (np.float64(1.4), 2.2),
    ],
)
def test_pow(a, b):
    check_rule(operator.pow, a, b)


def test_pow_edges():
    vjp = rule_for(operator.pow).vjp
    assert vjp(1.0, 1.0, 0.0, 0.0) == (None, None)       # 0 ** 0: no 0 * inf
    assert vjp(1.0, 0.0, 0.0, 2.0) == (0.0, None)        # exponent gradient guarded at 0
    assert vjp(1.0, 0.0, 0.0, 0.5)[0] == math.inf        # infinite slope, no exception
    assert vjp(1.0, 1.0, 2, 0.0)[0] is None              # int base: no gradient
    assert vjp(1.0, 8.0, 2.0, 3)[1] is None              # int exponent: no gradient
    a = np.array([0.0, 1.0, 2.0])
    ga, gb = vjp(np.ones(3), a ** 0, a, np.zeros(3))
    assert np.array_equal(ga, np.zeros(3))
    ga, gb = vjp(np.ones(3), a ** 2.0, a, 2.0)
    assert np.all(np.isfinite(gb)) and gb[0] == 0.0


def test_pow_edges_forward():
    jvp = rule_for(operator.pow).jvp
    assert jvp(1.0, (1.0, 1.0), 0.0, 0.0) is None          # 0 ** 0: no 0 * inf
    assert jvp(0.0, (1.0, 1.0), 0.0, 2.0) == 0.0           # exponent slope guarded at 0
    assert jvp(0.0, (1.0, None), 0.0, 0.5) == math.inf     # infinite slope, no exception
    assert jvp(1.0, (None, 1.0), 2, 0.0) == math.log(2)    # int base: exponent slope only
    assert jvp(8.0, (1.0, None), 2.0, 3) == 12.0
    a = np.array([0.0, 1.0, 2.0])
    assert np.array_equal(jvp(a ** 0, (np.ones(3), None), a, np.zeros(3)), np.zeros(3))
    db = jvp(a ** 2.0, (None, 1.0), a, 2.0)
    assert np.all(np.isfinite(db)) and db[0] == 0.0
    # a negative base with an integral float exponent: the real part of log is the slope
    assert jvp((-2.0) ** 3.0, (None, 1.0), -2.0, 3.0).real == pytest.approx(-8 * math.log(2))


# ---------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    "sa, sb",
    [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
     ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((3, 4), (2, 4, 5))],
)
def test_matmul(sa, sb):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check_rule(operator.matmul, a, b)
    check_rule(operator.matmul, a + 1j * rng.standard_normal(sa), b)
    check_rule(operator.matmul, a.astype(np.float32), b.astype(np.float32))


# ---------------------------------------------------------------- unary


@pytest.mark.parametrize("x", [1.3, -0.4, 1.5 - 2j, A34, C34, F32, np.float64(-2.5)])
@pytest.mark.parametrize("op", [operator.neg, operator.pos, operator.abs], ids=str)
def test_unary(op, x):
    check_rule(op, x)


def test_abs_at_zero():
    vjp = rule_for(operator.abs).vjp
    assert vjp(1.0, 0.0, 0.0) == (0.0,)
    assert vjp(1.0, 0.0, 0j) == (0.0,)
    z = np.array([0.0, -2.0, 3.0])
    assert np.array_equal(vjp(np.ones(3), abs(z), z)[0], [0.0, -1.0, 1.0])
    jvp = rule_for(operator.abs).jvp
    assert jvp(0.0, (1.0,), 0.0) == 0.0
    assert jvp(0.0, (1.0 + 1j,), 0j) == 0.0
    assert np.array_equal(jvp(abs(z), (np.ones(3),), z), [0.0, -1.0, 1.0])
    w = np.array([0j, 3 + 4j])
    assert np.allclose(jvp(abs(w), (np.array([1j, 1j]),), w), [0.0, 0.8])  # Re(conj(w) i)/|w|


# ---------------------------------------------------------------- in-place, sequences, floats


@pytest.mark.parametrize(
    "pure, inplace",
    [(operator.add, operator.iadd), (operator.sub, operator.isub),
     (operator.mul, operator.imul), (operator.truediv, operator.itruediv),
     (operator.pow, operator.ipow), (operator.matmul, operator.imatmul),
     (operator.mod, operator.imod), (operator.floordiv, operator.ifloordiv)],
)
def test_inplace_share_rules(pure, inplace):
    assert rule_for(inplace).per_arg == rule_for(pure).per_arg
    assert rule_for(inplace).jvp is rule_for(pure).jvp
    if pure is not operator.matmul:
        check_rule(inplace, 1.7, 0.6)   # floats: rebinding, nothing mutated


def test_list_concatenation_and_repetition():
    add = rule_for(operator.add).vjp
    assert add([1, 2, 3], [5.0, 6.0, 7.0], [5.0], (6.0, 7.0)) == ([1], (2, 3))
    assert add((1, None), (5.0, 6.0), (5.0,), (6.0,)) == ((1,), (None,))
    # xs += [v]: xs already holds the result when the vjp runs
    xs = [1.0, 2.0]
    xs += [3.0]
    assert rule_for(operator.iadd).vjp([1, 2, 3], xs, xs, [3.0]) == ([1, 2], [3])
    mul = rule_for(operator.mul).vjp
    assert mul([1.0, 2.0, 3.0, 4.0], [5.0, 6.0] * 2, [5.0, 6.0], 2) == ([4.0, 6.0], None)
    assert mul([1.0, None, 3.0], 3 * (5.0,), 3, (5.0,)) == (None, (4.0,))
    assert mul([], [], [5.0, 6.0], 0) == ([None, None], None)


def test_list_concatenation_and_repetition_forward():
    add = rule_for(operator.add).jvp
    assert add([5.0, 6.0, 7.0], ([1.0], (2.0, 3.0)), [5.0], [6.0, 7.0]) == [1.0, 2.0, 3.0]
    assert add((5.0, 6.0), (None, (2.0,)), (5.0,), (6.0,)) == (None, 2.0)
    assert add((5.0, 6.0), ((1.0,), None), (5.0,), (6.0,)) == (1.0, None)
    assert add([5.0], (None, None), [5.0], []) is None
    # xs += ys: xs already is the result; its tangent still has the old length
    xs = [1.0, 2.0]
    xs += [3.0]
    assert rule_for(operator.iadd).jvp(xs, ([1.0, 2.0], None), xs, [3.0]) == [1.0, 2.0, None]
    mul = rule_for(operator.mul).jvp
    assert mul([5.0, 6.0] * 2, ([1.0, None], None), [5.0, 6.0], 2) == [1.0, None, 1.0, None]
    assert mul(3 * (5.0,), (None, (4.0,)), 3, (5.0,)) == (4.0, 4.0, 4.0)
    assert mul([], ([1.0, 2.0], None), [5.0, 6.0], 0) == []
    assert mul([5.0, 5.0], (None, None), [5.0], 2) is None
    assert rule_for(operator.add).jvp("ab", (None, None), "a", "b") is None


def test_float_fast_path_stays_python_float():
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
               operator.neg, operator.abs):
        args = (1.5,) if op in (operator.neg, operator.abs) else (1.5, 0.5)
        cts = rule_for(op).vjp(1.0, op(*args), *args)
        assert all(type(c) is float for c in cts), (op, cts)
        dy = rule_for(op).jvp(op(*args), (1.0,) * len(args), *args)
        assert type(dy) is float, (op, dy)


def test_every_rule_has_a_jvp():
    mine = [r for f, r in RULES.items() if getattr(f, "__module__", None) == "_operator"]
    assert len(mine) == 19
    assert all(r.jvp is not None for r in mine), [r for r in mine if r.jvp is None]


def test_comparisons_nondifferentiable():
    for op in (operator.lt, operator.eq, operator.not_, operator.truth, operator.and_):
        assert is_nondifferentiable(op)
    assert rule_for(operator.getitem) is None
