"""Elementwise NumPy rules checked against finite differences, one table row per rule.

``check_rule`` checks both modes (vjp and jvp); the tests that call a rule directly, at
points finite differences cannot reach (ties, zeros, NaNs), check each mode by hand.
"""

import warnings

import numpy as np
import pytest

import pygote.rules.numpy_ufuncs  # noqa: F401  (registers the rules)
from pygote.rules.registry import is_nondifferentiable, rule_for
from pygote.testing import check_rule

SEED = 20240611

# Input domains, kept away from singularities, branch cuts and kinks of the functions
# that use them. Each maps (rng, shape, complex?) to float64/complex128 values.
DOMAINS = {
    "any": lambda r, s, c: r.standard_normal(s) + (0.5j * r.standard_normal(s) if c else 0),
    "pos": lambda r, s, c: r.uniform(0.5, 2, s) + (1j * r.uniform(-0.5, 0.5, s) if c else 0),
    "unit": lambda r, s, c: r.uniform(-0.8, 0.8, s) + (1j * r.uniform(-0.3, 0.3, s) if c else 0),
    "gt1": lambda r, s, c: r.uniform(1.5, 3, s) + (1j * r.uniform(-0.5, 0.5, s) if c else 0),
    "nz": lambda r, s, c: r.uniform(0.5, 2, s)
    * (np.exp(1j * r.uniform(-3, 3, s)) if c else r.choice([-1.0, 1.0], s)),
}
DTYPES = [np.float64, np.float32, np.complex128]


def sample(rng, domain, shape, dtype):
    """Inputs of ``shape`` and ``dtype``; shape () gives a numpy scalar, not a 0-d array."""
    x = np.asarray(DOMAINS[domain](rng, shape, np.dtype(dtype).kind == "c")).astype(dtype)
    return x[()] if shape == () else x


def cases(table, shapes):
    """Cross a rule table with shapes and dtypes, leaving out complex where numpy refuses it."""
    out = []
    for name, func, domains, complex_ok in table:
        for shape in shapes:
            for dtype in DTYPES:
                if dtype is np.complex128 and not complex_ok:
                    continue
                sid = "x".join(",".join(map(str, s)) or "scalar" for s in shape)
                out.append(pytest.param(func, domains, shape, dtype,
                                        id=f"{name}-{sid}-{np.dtype(dtype).name}"))
    return out


# ---------------------------------------------------------------- unary

UNARY = [
    ("negative", np.negative, "any", True),
    ("positive", np.positive, "any", True),
    ("reciprocal", np.reciprocal, "nz", True),
    ("square", np.square, "any", True),
    ("sqrt", np.sqrt, "pos", True),
    ("cbrt", np.cbrt, "nz", False),
    ("exp", np.exp, "any", True),
    ("exp2", np.exp2, "any", True),
    ("expm1", np.expm1, "any", True),
    ("log", np.log, "pos", True),
    ("log2", np.log2, "pos", True),
    ("log10", np.log10, "pos", True),
    ("log1p", np.log1p, "pos", True),
    ("sin", np.sin, "any", True),
    ("cos", np.cos, "any", True),
    ("tan", np.tan, "unit", True),
    ("arcsin", np.arcsin, "unit", True),
    ("arccos", np.arccos, "unit", True),
    ("arctan", np.arctan, "unit", True),
    ("sinh", np.sinh, "any", True),
    ("cosh", np.cosh, "any", True),
    ("tanh", np.tanh, "any", True),
    ("arcsinh", np.arcsinh, "unit", True),
    ("arccosh", np.arccosh, "gt1", True),
    ("arctanh", np.arctanh, "unit", True),
    ("abs", np.abs, "nz", True),
    ("fabs", np.fabs, "nz", False),
    ("sign", np.sign, "nz", True),
    ("deg2rad", np.deg2rad, "any", False),
    ("rad2deg", np.rad2deg, "any", False),
    ("degrees", np.degrees, "any", False),
    ("radians", np.radians, "any", False),
    ("sinc", np.sinc, "any", True),
    ("conj", np.conj, "any", True),
    ("real", np.real, "any", True),
    ("imag", np.imag, "any", True),
    ("angle", np.angle, "nz", True),
    ("floor", np.floor, "any", False),
    ("ceil", np.ceil, "any", False),
    ("rint", np.rint, "any", True),
    ("trunc", np.trunc, "any", False),
    ("round", np.round, "any", True),
    ("around", np.around, "any", True),
    ("fix", np.fix, "any", False),
]


@pytest.mark.parametrize("func, domain, shape, dtype", cases(UNARY, [((),), ((5,),), ((2, 3),)]))
def test_unary(func, domain, shape, dtype):
    rng = np.random.default_rng(SEED)
    check_rule(func, sample(rng, domain, shape[0], dtype))


@pytest.mark.parametrize("method", [np.ndarray.conj, np.ndarray.conjugate])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_conj_methods(method, dtype, shape):
    x = np.asarray(sample(np.random.default_rng(SEED), "any", shape, dtype))
    check_rule(method, x)


@pytest.mark.parametrize("method", [np.ndarray.conj, np.ndarray.conjugate])
def test_conj_methods_0d(method):
    # check_rule cannot drive a method at 0-d: its perturbed 0-d array becomes a numpy
    # scalar, which the ndarray descriptor rejects. Compare with the function's rule.
    x, g = np.asarray(1.0 + 2.0j), np.asarray(0.5 - 1.5j)
    assert rule_for(method).vjp(g, x.conj(), x) == rule_for(np.conj).vjp(g, x.conj(), x)
    assert rule_for(method).jvp(x.conj(), (g,), x) == np.conj(g)


def test_angle_deg_positional():
    x = sample(np.random.default_rng(SEED), "nz", (4,), np.complex128)
    check_rule(np.angle, x, True)
    check_rule(np.angle, x, deg=True)


def test_round_decimals_positional():
    check_rule(np.round, np.array([0.123, 1.456, -2.789]), 1)


# ---------------------------------------------------------------- binary

BINARY = [
    ("add", np.add, ("any", "any"), True),
    ("subtract", np.subtract, ("any", "any"), True),
    ("multiply", np.multiply, ("any", "any"), True),
    ("divide", np.divide, ("any", "nz"), True),
    ("power", np.power, ("pos", "unit"), True),
    ("float_power", np.float_power, ("pos", "unit"), True),
    ("arctan2", np.arctan2, ("nz", "nz"), False),
    ("hypot", np.hypot, ("nz", "nz"), False),
    ("maximum", np.maximum, ("any", "any"), True),
    ("minimum", np.minimum, ("any", "any"), True),
    ("fmax", np.fmax, ("any", "any"), True),
    ("fmin", np.fmin, ("any", "any"), True),
    ("logaddexp", np.logaddexp, ("any", "any"), False),
    ("logaddexp2", np.logaddexp2, ("any", "any"), False),
    ("mod", np.mod, ("any", "pos"), False),
    ("fmod", np.fmod, ("any", "pos"), False),
    ("floor_divide", np.floor_divide, ("any", "pos"), False),
    ("copysign", np.copysign, ("nz", "nz"), False),
    ("heaviside", np.heaviside, ("nz", "any"), False),
]
BINARY_SHAPES = [((), ()), ((4,), (4,)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((), (2, 3))]


@pytest.mark.parametrize("func, domains, shapes, dtype", cases(BINARY, BINARY_SHAPES))
def test_binary(func, domains, shapes, dtype):
    rng = np.random.default_rng(SEED)
    x = sample(rng, domains[0], shapes[0], dtype)
    y = sample(rng, domains[1], shapes[1], dtype)
    check_rule(func, x, y)


def test_true_divide_is_divide():
    assert rule_for(np.true_divide) is rule_for(np.divide)


def test_mixed_real_complex_multiply():
    rng = np.random.default_rng(SEED)
    check_rule(np.multiply, sample(rng, "any", (3,), np.float64),
               sample(rng, "any", (2, 3), np.complex128))


# ---------------------------------------------------------------- powers at the edges


def test_power_integer_exponent_negative_base_no_warning():
    x = np.array([-1.5, -0.5, 0.7, 2.0])
    check_rule(np.power, x, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rule_for(np.power).vjp(np.ones(4), x**3, x, 3)
        dy = rule_for(np.power).jvp(x**3, (np.ones(4), None), x, 3)
    np.testing.assert_allclose(dy, 3 * x**2)


def test_power_exponent_gradient_at_zero_base():
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.5, 2.5, 3.0])
    check_rule(np.power, x, y, argnums=[1])  # the base cannot move off 0 (x**1.5, x<0)
    gx, gy = rule_for(np.power).vjp(np.ones(3), x**y, x, y)
    assert gy[0] == 0 and gx[0] == 0 and np.all(np.isfinite(gx))
    jvp = rule_for(np.power).jvp
    np.testing.assert_allclose(jvp(x**y, (None, np.ones(3)), x, y), [0, 0, 8 * np.log(2)])
    np.testing.assert_allclose(jvp(x**y, (np.ones(3), None), x, y), y * x ** (y - 1))


def test_power_zero_exponent_at_zero_base():
    gx, _ = rule_for(np.power).vjp(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2))
    np.testing.assert_array_equal(gx, 0.0)
    dy = rule_for(np.power).jvp(np.ones(2), (np.ones(2), None), np.zeros(2), np.zeros(2))
    np.testing.assert_array_equal(dy, 0.0)


def test_abs_and_sinc_at_zero_are_finite():
    for dtype in (np.float64, np.complex128):
        (g,) = rule_for(np.abs).vjp(np.ones(2), np.zeros(2), np.zeros(2, dtype))
        np.testing.assert_array_equal(g, 0.0)
        dy = rule_for(np.abs).jvp(np.zeros(2), (np.ones(2, dtype),), np.zeros(2, dtype))
        np.testing.assert_array_equal(dy, 0.0)
    (g,) = rule_for(np.sinc).vjp(np.ones(1), np.ones(1), np.zeros(1))
    np.testing.assert_array_equal(g, 0.0)
    np.testing.assert_array_equal(rule_for(np.sinc).jvp(np.ones(1), (np.ones(1),), np.zeros(1)),
                                  0.0)


def test_complex_sign_at_zero_is_zero():
    # sign jumps at 0; like abs, the rule takes 0 there in both modes.
    x = np.array([0.0, 1.0 + 1.0j])
    (g,) = rule_for(np.sign).vjp(np.ones(2, complex), np.sign(x), x)
    dy = rule_for(np.sign).jvp(np.sign(x), (np.ones(2, complex),), x)
    assert g[0] == dy[0] == 0
    # d(z/|z|) along dz = 1 at 1+1j: (1 - ans Re(conj(ans))) / |z| with ans = (1+1j)/sqrt2
    np.testing.assert_allclose(dy[1], (1 - (1 + 1j) / 2) / np.sqrt(2))
    check_rule(np.sign, x[1:])


# ---------------------------------------------------------------- selection


@pytest.mark.parametrize("func", [np.maximum, np.minimum, np.fmax, np.fmin])
def test_ties_split_half(func):
    x, y = np.array([1.0, 2.0, 5.0]), np.array([1.0, 3.0, 0.0])
    gx, gy = rule_for(func).vjp(np.ones(3), func(x, y), x, y)
    assert gx[0] == gy[0] == 0.5
    np.testing.assert_array_equal(gx[1:] + gy[1:], 1.0)
    # forward mode splits the same way: the tie moves with the mean of the two tangents
    jvp = rule_for(func).jvp
    np.testing.assert_array_equal(jvp(func(x, y), (np.ones(3), None), x, y), gx)
    np.testing.assert_array_equal(jvp(func(x, y), (None, np.ones(3)), x, y), gy)
    np.testing.assert_array_equal(jvp(func(x, y), (np.ones(3), np.ones(3)), x, y), 1.0)


@pytest.mark.parametrize("func", [np.fmax, np.fmin])
def test_fmax_nan_gives_other_argument(func):
    x, y = np.array([np.nan, 1.0]), np.array([2.0, np.nan])
    gx, gy = rule_for(func).vjp(np.ones(2), func(x, y), x, y)
    np.testing.assert_array_equal(gx, [0.0, 1.0])
    np.testing.assert_array_equal(gy, [1.0, 0.0])
    dy = rule_for(func).jvp(func(x, y), (np.array([3.0, 5.0]), np.array([7.0, 11.0])), x, y)
    np.testing.assert_array_equal(dy, [7.0, 5.0])


CLIP_CASES = [
    pytest.param(lambda r: ((r.standard_normal((3, 4)), -0.5, 0.5), {}), id="scalar-bounds"),
    pytest.param(lambda r: ((r.standard_normal((3, 4)), r.uniform(-1, -0.2, (4,)),
                             r.uniform(0.2, 1, (3, 1))), {}), id="array-bounds"),
    pytest.param(lambda r: ((r.standard_normal(5), None, 0.3), {}), id="no-lower"),
    pytest.param(lambda r: ((r.standard_normal(5), -0.3, None), {}), id="no-upper"),
    pytest.param(lambda r: ((r.standard_normal(5),), {"a_min": -0.3, "a_max": 0.4}), id="a_min-kw"),
    pytest.param(lambda r: ((r.standard_normal(5),), {"min": -0.3, "max": 0.4}), id="min-kw"),
    pytest.param(lambda r: ((r.standard_normal(6), 0.5, -0.5), {}), id="lo-above-hi"),
    pytest.param(lambda r: ((r.standard_normal(6).astype(np.float32), np.float32(-0.4),
                             np.float32(0.4)), {}), id="float32"),
    pytest.param(lambda r: ((r.standard_normal(()), -0.5, 0.5), {}), id="scalar"),
]


@pytest.mark.parametrize("make", CLIP_CASES)
def test_clip(make):
    args, kwargs = make(np.random.default_rng(SEED))
    check_rule(np.clip, *args, **kwargs)


def test_clip_on_boundary_goes_to_x():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    gx, glo, ghi = rule_for(np.clip).vjp(np.ones(5), np.clip(x, -0.5, 0.5), x, -0.5, 0.5)
    np.testing.assert_array_equal(gx, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(glo, [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(ghi, [0, 0, 0, 0, 1])
    jvp, ans, t = rule_for(np.clip).jvp, np.clip(x, -0.5, 0.5), np.arange(1.0, 6.0)
    np.testing.assert_array_equal(jvp(ans, (t, None, None), x, -0.5, 0.5), [0, 2, 3, 4, 0])
    np.testing.assert_array_equal(jvp(ans, (None, 7.0, None), x, -0.5, 0.5), [7, 0, 0, 0, 0])
    np.testing.assert_array_equal(jvp(ans, (t, 7.0, 9.0), x, -0.5, 0.5), [7, 2, 3, 4, 9])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((), (), ()), ((4,), (4,), (4,)), ((3, 4), (4,), (3, 1)),
                                    ((3, 1), (), (3, 4))], ids=str)
def test_where(shapes, dtype):
    rng = np.random.default_rng(SEED)
    cond = rng.standard_normal(shapes[0]) > 0
    check_rule(np.where, cond, sample(rng, "any", shapes[1], dtype),
               sample(rng, "any", shapes[2], dtype))


# ---------------------------------------------------------------- keywords and registration


def test_ufunc_keywords_are_accepted():
    x, y = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    out = np.empty(2)
    for func in (np.add, np.multiply, np.power, np.maximum, np.arctan2, np.floor_divide):
        ans = func(x, y, out=out)
        assert len(rule_for(func).vjp(np.ones(2), ans, x, y, out=out)) == 2
        rule_for(func).jvp(ans, (np.ones(2), np.ones(2)), x, y, out=out)
    check_rule(np.exp, x.astype(np.float32), dtype=np.float64)


def test_rounding_rules_give_no_gradient():
    for func in (np.floor, np.ceil, np.rint, np.trunc, np.round, np.around, np.fix):
        assert not is_nondifferentiable(func)
        assert rule_for(func).vjp(np.ones(2), np.ones(2), np.ones(2)) == (None,)
        assert rule_for(func).jvp(np.ones(2), (np.ones(2),), np.ones(2)) is None


NONDIFF = [np.isnan, np.isinf, np.isfinite, np.signbit, np.equal, np.not_equal, np.less,
           np.less_equal, np.greater, np.greater_equal, np.logical_and, np.logical_or,
           np.logical_not, np.logical_xor, np.bitwise_and, np.bitwise_or, np.bitwise_xor,
           np.invert, np.left_shift, np.right_shift]


@pytest.mark.parametrize("func", NONDIFF, ids=lambda f: f.__name__)
def test_nondifferentiable(func):
    assert is_nondifferentiable(func)


def test_complex_branches_off_the_real_axis():
    # Points where sqrt(z*z - 1) and sqrt(z - 1)*sqrt(z + 1) differ in sign: the arccosh
    # rule must follow numpy's branch, not just the formula's square.
    z = np.array([-2.0 + 0.5j, -0.5 + 1.5j, 0.3 - 2.0j, -1.5 - 0.7j])
    for func in (np.arccosh, np.arcsinh, np.arcsin, np.arccos, np.arctanh, np.sqrt, np.log):
        check_rule(func, z)


# ---------------------------------------------------------------- list and tuple operands


def test_list_operands_forward():
    # Forward mode hands a list its tangents item by item, None for constant items.
    a, ta = 0.7, 2.0
    dy = rule_for(np.exp).jvp(np.exp([a, 2.0]), ([ta, None],), [a, 2.0])
    np.testing.assert_allclose(dy, [np.exp(a) * ta, 0.0])
    y = np.array([2.0, 4.0])
    dy = rule_for(np.divide).jvp(np.divide(y, (a, 2.0)), (None, (ta, None)), y, (a, 2.0))
    np.testing.assert_allclose(dy, [-2.0 / a**2 * ta, 0.0])
    assert rule_for(np.exp).jvp(np.exp([a, 2.0]), ([None, None],), [a, 2.0]) is None
    cond = [True, False]
    dy = rule_for(np.where).jvp(None, (None, [ta, None], None), cond, [a, 1.0], 3.0)
    np.testing.assert_allclose(dy, [ta, 0.0])
