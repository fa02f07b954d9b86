"""Tests for pygote.rules.math_: math and cmath rules against finite differences, digamma."""

import cmath
import math

import numpy as np
import pytest

from pygote.rules.math_ import digamma
from pygote.rules.registry import RULES, is_nondifferentiable, rule_for
from pygote.testing import check_rule

# ---------------------------------------------------------------- math, one line per rule

CASES = [
    (math.sqrt, (2.3,)),
    (math.cbrt, (-2.3,)),
    (math.exp, (0.7,)),
    (math.exp2, (1.3,)),
    (math.expm1, (-0.4,)),
    (math.log, (2.3,)),
    (math.log, (2.3, 3.5)),
    (math.log, (2.3, 10)),
    (math.log2, (2.3,)),
    (math.log10, (2.3,)),
    (math.log1p, (0.4,)),
    (math.pow, (1.7, 2.3)),
    (math.pow, (-1.7, 3)),
    (math.pow, (1.7, 3)),
    (math.sin, (0.9,)),
    (math.cos, (0.9,)),
    (math.tan, (0.9,)),
    (math.asin, (0.3,)),
    (math.acos, (0.3,)),
    (math.atan, (1.3,)),
    (math.atan2, (0.7, -1.2)),
    (math.atan2, (-0.7, 1.2)),
    (math.sinh, (0.8,)),
    (math.cosh, (0.8,)),
    (math.tanh, (0.8,)),
    (math.asinh, (-1.8,)),
    (math.acosh, (1.8,)),
    (math.atanh, (0.6,)),
    (math.hypot, (3.0, 4.0)),
    (math.hypot, (3.0, -4.0, 12.0)),
    (math.erf, (0.6,)),
    (math.erfc, (0.6,)),
    (math.gamma, (2.7,)),
    (math.gamma, (-1.3,)),
    (math.lgamma, (0.3,)),
    (math.lgamma, (7.5,)),
    (math.lgamma, (-2.4,)),
    (math.fabs, (-1.3,)),
    (math.fabs, (1.3,)),
    (math.copysign, (1.5, -2.0)),
    (math.copysign, (-1.5, -2.0)),
    (math.degrees, (0.5,)),
    (math.radians, (30.0,)),
    (math.fmod, (7.5, 2.1)),
    (math.fmod, (-7.5, 2.1)),
    (math.remainder, (7.5, 2.1)),
    (math.remainder, (-6.6, 2.5)),
    (math.ldexp, (1.3, 3)),
    (math.modf, (2.7,)),
]


@pytest.mark.parametrize("func, args", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_math(func, args):
    if func is math.modf:
        # the integral part's tangent is None, which check_rule's inner product cannot take
        # inside a tuple: the forward rule is checked by hand
        check_rule(func, *args, modes=("rev",))
        h = 1e-6
        frac_slope = (math.modf(args[0] + h)[0] - math.modf(args[0] - h)[0]) / (2 * h)
        dy = rule_for(func).jvp(func(*args), (0.5,), *args)
        assert dy[1] is None and abs(dy[0] - 0.5 * frac_slope) < 1e-6
        return
    check_rule(func, *args)


def check_sequences(func, *seqs, h=1e-6, tol=1e-6, **kwargs):
    """Finite-difference check of a rule whose arguments are lists/tuples of floats
    (``check_rule`` takes arrays): element by element, cotangents of the argument's kind."""
    ans = func(*seqs, **kwargs)
    cts = rule_for(func).vjp(1.0, ans, *seqs, **kwargs)
    for i, seq in enumerate(seqs):
        assert type(cts[i]) is type(seq), (type(cts[i]), type(seq))
        for j in range(len(seq)):
            def moved(d, i=i, j=j, seq=seq):
                s = list(seq)
                s[j] += d
                return func(*seqs[:i], type(seq)(s), *seqs[i + 1:], **kwargs)
            fd = (moved(h) - moved(-h)) / (2 * h)
            assert abs(cts[i][j] - fd) <= tol * max(1.0, abs(fd)), (func, i, j, cts[i][j], fd)
    check_forward(func, *seqs, h=h, tol=tol, **kwargs)


def check_forward(func, *seqs, h=1e-6, tol=1e-6, **kwargs):
    """Finite-difference check of a jvp at list/tuple-of-floats arguments: random element
    tangents, the last element of each sequence given ``None`` (a zero)."""
    rng = np.random.default_rng(len(seqs[0]))
    directions = []
    tangents = []
    for seq in seqs:
        d = [float(v) for v in rng.standard_normal(len(seq))]
        if d:
            d[-1] = 0.0
        directions.append(d)
        tangents.append(type(seq)(d[:-1] + [None] if d else d))
    dy = rule_for(func).jvp(func(*seqs, **kwargs), tuple(tangents), *seqs, **kwargs)

    def moved(step):
        return func(*(type(seq)(x + step * e for x, e in zip(seq, d))
                      for seq, d in zip(seqs, directions)), **kwargs)

    fd = (moved(h) - moved(-h)) / (2 * h)
    got = 0.0 if dy is None else dy
    assert abs(got - fd) <= tol * max(1.0, abs(fd)), (func, got, fd)
    assert dy is None or type(dy) is float, (func, dy)


@pytest.mark.parametrize("xs", [[1.5, -2.0, 0.5], (1.5, -2.0, 0.5, 3.0), [0.0, 2.0, 3.0], []])
def test_fsum_prod(xs):
    check_sequences(math.fsum, xs)
    check_sequences(math.prod, xs)
    check_sequences(math.prod, xs, start=2.5)
    check_rule(math.fsum, np.array(xs))
    check_rule(math.prod, np.array(xs))


def test_sequence_cotangents_keep_kind():
    assert rule_for(math.fsum).vjp(2.0, 3.0, (1.0, 2.0)) == ((2.0, 2.0),)
    assert rule_for(math.fsum).vjp(2.0, 3.0, [1.0, 2.0]) == ([2.0, 2.0],)
    # prod with a zero element: the others still get their gradient
    assert rule_for(math.prod).vjp(1.0, 0.0, [2.0, 0.0, 3.0]) == ([0.0, 6.0, 0.0],)
    ct = rule_for(math.prod).vjp(1.0, 6.0, np.array([2.0, 3.0]))[0]
    assert isinstance(ct, np.ndarray) and np.allclose(ct, [3.0, 2.0])


def test_sequence_tangents():
    assert rule_for(math.fsum).jvp(3.0, ((1.0, None, 2.5),), (1.0, 2.0, 0.0)) == 3.5
    assert rule_for(math.fsum).jvp(3.0, (None,), [1.0, 2.0]) is None
    assert rule_for(math.fsum).jvp(3.0, ([1.0, 1.0],), iter([1.0, 2.0])) is None
    # prod with zero elements: d(x0 x1 x2) = dx1 * x0 x2 at x1 = 0
    assert rule_for(math.prod).jvp(0.0, ([1.0, 2.0, 1.0],), [2.0, 0.0, 3.0]) == 12.0
    assert rule_for(math.prod).jvp(0.0, ([1.0, 1.0],), [0.0, 0.0]) == 0.0
    assert rule_for(math.prod).jvp(7.5, ([None, 1.0],), (2.0, 3.0), start=1.25) == 2.5
    dy = rule_for(math.prod).jvp(6.0, (np.array([1.0, 2.0]),), np.array([2.0, 3.0]))
    assert dy == 3.0 + 4.0


def test_prod_of_rows():
    a = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 4.0]])
    check_rule(math.prod, a)
    check_rule(math.prod, a + 1j * a[::-1])


def test_dist():
    check_sequences(math.dist, [1.0, 2.0, -0.5], (0.3, -1.0, 2.0))
    check_rule(math.dist, np.array([1.0, 2.0, -0.5]), np.array([0.3, -1.0, 2.0]))
    cp, cq = rule_for(math.dist).vjp(1.0, 5.0, (3.0, 4.0), [0.0, 0.0])
    assert cp == (0.6, 0.8) and cq == [-0.6, -0.8]
    assert rule_for(math.dist).vjp(1.0, 0.0, (1.0,), (1.0,)) == ((0.0,), (0.0,))
    jvp = rule_for(math.dist).jvp
    assert jvp(5.0, ((1.0, None), [0.0, 1.0]), (3.0, 4.0), [0.0, 0.0]) == pytest.approx(0.6 - 0.8)
    assert jvp(5.0, (None, [1.0, 0.0]), (3.0, 4.0), [0.0, 0.0]) == -0.6
    assert jvp(5.0, (None, None), (3.0, 4.0), [0.0, 0.0]) is None
    assert jvp(0.0, ((1.0,), None), (1.0,), (1.0,)) == 0.0


def test_python_float_fast_path():
    for func, args in CASES:
        if func is math.modf:  # a tuple output: its cotangent is a pair
            continue
        cts = rule_for(func).vjp(1.0, func(*args), *args)
        assert all(c is None or type(c) is float for c in cts), (func, cts)
        tangents = tuple(1.0 if type(a) is float else None for a in args)
        dy = rule_for(func).jvp(func(*args), tangents, *args)
        assert type(dy) is float, (func, dy)


def test_infinite_slopes_do_not_raise():
    assert rule_for(math.sqrt).vjp(1.0, 0.0, 0.0) == (math.inf,)
    assert rule_for(math.cbrt).vjp(-1.0, 0.0, 0.0) == (-math.inf,)
    assert rule_for(math.asin).vjp(1.0, math.pi / 2, 1.0) == (math.inf,)
    assert rule_for(math.pow).vjp(1.0, 0.0, 0.0, 0.5)[0] == math.inf
    assert rule_for(math.pow).vjp(1.0, 0.0, 0.0, 2.0) == (0.0, None)
    assert rule_for(math.hypot).vjp(1.0, 0.0, 0.0, 0.0) == (0.0, 0.0)


def test_infinite_slopes_forward():
    assert rule_for(math.sqrt).jvp(0.0, (1.0,), 0.0) == math.inf
    assert rule_for(math.cbrt).jvp(0.0, (-1.0,), 0.0) == -math.inf
    assert rule_for(math.asin).jvp(math.pi / 2, (1.0,), 1.0) == math.inf
    assert rule_for(math.log).jvp(-math.inf, (1.0,), 0.0) == math.inf
    assert rule_for(math.pow).jvp(0.0, (1.0, None), 0.0, 0.5) == math.inf
    assert rule_for(math.pow).jvp(0.0, (1.0, 1.0), 0.0, 2.0) == 0.0  # log 0 not taken
    assert rule_for(math.hypot).jvp(0.0, (1.0, 1.0), 0.0, 0.0) == 0.0
    assert rule_for(math.sin).jvp(math.sin(1), (None,), 1) is None  # an int: no tangent


def test_every_rule_has_a_jvp():
    mine = [r for f, r in RULES.items()
            if getattr(f, "__module__", None) in ("math", "cmath")]
    assert len(mine) == 58  # 39 math, 19 cmath
    assert all(r.jvp is not None for r in mine), [r for r in mine if r.jvp is None]


def test_nondifferentiable():
    for f in (math.floor, math.ceil, math.trunc, math.factorial, math.comb, math.perm,
              math.gcd, math.isnan, math.isinf, math.isfinite, math.isclose):
        assert is_nondifferentiable(f)


# ---------------------------------------------------------------- digamma


def test_digamma_known_values():
    assert abs(digamma(1.0) - -0.5772156649015329) < 1e-13
    assert abs(digamma(0.5) - -1.9635100260214235) < 1e-13
    assert abs(digamma(2) - (1 - 0.5772156649015329)) < 1e-13
    assert abs(digamma(-0.5) - 0.03648997397857652) < 1e-12


@pytest.mark.parametrize("x", [10.3, 0.1, 1.4616321449683623, 3.7, 150.0, -3.3])
def test_digamma_is_lgamma_slope(x):
    h = 1e-5
    fd = (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)
    assert abs(digamma(x) - fd) < 1e-8 * max(1.0, abs(fd))


def test_digamma_poles():
    assert math.isnan(digamma(0.0)) and math.isnan(digamma(-3.0))


# ---------------------------------------------------------------- cmath

CMATH = [cmath.exp, cmath.sqrt, cmath.log, cmath.log10, cmath.sin, cmath.cos, cmath.tan,
         cmath.asin, cmath.acos, cmath.atan, cmath.sinh, cmath.cosh, cmath.tanh,
         cmath.asinh, cmath.acosh, cmath.atanh]


@pytest.mark.parametrize("func", CMATH, ids=lambda f: f.__name__)
@pytest.mark.parametrize("z", [0.6 + 0.8j, -1.3 + 0.4j, 0.45, 2.5])
def test_cmath_holomorphic(func, z):
    check_rule(func, z)


@pytest.mark.parametrize("z, base", [(1.5 + 2j, 3.0), (1.5 + 2j, 2.0 - 1j), (4.0, 1.5 + 0.5j)])
def test_cmath_log_base(z, base):
    check_rule(cmath.log, z, base)


@pytest.mark.parametrize("z", [1.5 + 2j, -0.3 - 1.1j, 2.0, -2.0])
def test_cmath_phase_polar(z):
    check_rule(cmath.phase, z)
    check_rule(cmath.polar, z)


def test_cmath_rect():
    check_rule(cmath.rect, 1.7, 0.6)
    check_rule(cmath.rect, 0.5, -2.6)
