"""End-to-end programs: scalar math (math module, operators, builtins, conversions),
including the Zygote paper's Taylor-series ``sin``."""

import cmath
import math

import numpy as np
import pytest

from .fd import assert_gradient_matches, params, pg


# --- the Zygote paper's Taylor-series sine ------------------------------------------------

def s(x):
    t, sign = 0.0, -1.0
    for i in range(1, 20):
        if i % 2 == 1:
            newterm = x**i / math.factorial(i)
            if abs(newterm) < 1e-8:
                return t
            print("i =", i)
            sign = -sign
            t += sign * newterm
    return t


def _ds_exact(x):
    """Derivative of ``s`` computed by hand: the same truncated series, differentiated."""
    t, sign = 0.0, -1.0
    for i in range(1, 20):
        if i % 2 == 1:
            if abs(x**i / math.factorial(i)) < 1e-8:
                return t
            sign = -sign
            t += sign * i * x**(i - 1) / math.factorial(i)
    return t


def test_taylor_sin_closed_form():
    (g,) = pg.gradient(s, 1.0)
    # The program's own derivative (the series truncated after x**11/11!, differentiated).
    assert abs(g - _ds_exact(1.0)) < 1e-14
    # Against cos(1.0): the first dropped term of the derivative series is 1/12! ~ 2.09e-9,
    # so the exact derivative of s differs from cos(1.0) by 2.076e-9; a bound of exactly
    # 2e-9 would reject a correct differentiator, hence 2.1e-9.
    assert abs(g - math.cos(1.0)) < 2.1e-9


@pytest.mark.parametrize("x", [0.5, 2.0, -1.3])
def test_taylor_sin_other_points(x):
    (g,) = pg.gradient(s, x)
    assert abs(g - _ds_exact(x)) < 1e-13


# --- math module --------------------------------------------------------------------------

def trig(x):
    return math.sin(x) * math.cos(x) + math.tan(x)


def inverse_trig(x):
    return math.asin(x) + math.acos(x) * x + math.atan(x)


def atan2_hypot(x, y):
    return math.atan2(y, x) * math.hypot(x, y)


def exp_log(x):
    return math.exp(x) * math.log(x) + math.log(x, 3.0) + math.log10(x) + math.log2(x)


def sqrt_expm1_log1p(x):
    return math.sqrt(x) + math.expm1(x) + math.log1p(x)


def hyperbolic(x):
    return math.sinh(x) + math.cosh(x) * math.tanh(x) + math.asinh(x)


def erf_normal_cdf(x, mu, sigma):
    return 0.5 * (1.0 + math.erf((x - mu) / (sigma * math.sqrt(2.0))))


def lgamma_stirling(x):
    return math.lgamma(x) + math.gamma(x) * 0.1


def math_pow_fabs(x, y):
    return math.pow(x, y) + math.fabs(x - y) * math.pow(y, 2)


def degrees_radians(x):
    return math.sin(math.radians(x)) + math.degrees(x) / 100.0


def fsum_prod(x, y, z):
    return math.fsum([x, y * z, x * x]) + math.prod([x, y, z])


def softplus_logistic(x):
    sp = math.log1p(math.exp(x))
    sig = 1.0 / (1.0 + math.exp(-x))
    return sp * sig


def copysign_floor_ceil(x):
    return math.copysign(x * x, -1.0) + x * math.floor(x) + math.ceil(x) * x


# --- operators ----------------------------------------------------------------------------

def power_float_exponent(x):
    return x ** 2.5 + x ** 0.5 + x ** -1.5


def power_int_exponent(x):
    return x ** 3 + x ** 2 - x ** -2 + x ** 0


def power_negative_base_int(x):
    return x ** 3 + x ** 4


def power_both_active(x, y):
    return x ** y + y ** x


def exponential_base(x):
    return 2.0 ** x + math.e ** (-x)


def division(x, y):
    return 1.0 / x + y / x - x / (y * y)


def floor_division(x, y):
    return x - (x // 1.0) + (x // y) * y + x * y


def modulo(x, y):
    return x % 1.0 + (x % y) * 2.0


def divmod_builtin(x, y):
    q, r = divmod(x, y)
    return q * x + r * r


def unary_ops(x):
    return -x * +x - (-x) ** 3


def mixed_int_float(x, n):
    return x * 3 + 2 + n * x + x / n


def bool_arithmetic(x, y):
    return (x > 0) * x + (y > x) * y * y + True * x


# --- builtins -----------------------------------------------------------------------------

def abs_builtin(x, y):
    return abs(x) * 2.0 + abs(y) ** 2


def min_max_two(x, y):
    return max(x, y) * 2.0 + min(x, y) ** 2


def min_max_list(xs):
    return max(xs) * min(xs) + max(xs[0], xs[1], 0.1)


def sum_builtin(xs):
    return sum(xs) + sum(xs, 10.0) * 0.5 + sum(x * x for x in xs)


def pow_builtin(x, y):
    return pow(x, 3) + pow(x, y) + pow(2.0, y)


def float_conversion(x, n):
    return float(n) * x + float(x) ** 2 + float(np.float64(x) * 2.0)


def int_conversion(x):
    n = int(x)
    return x * n + x ** 2


def round_builtin(x):
    return x - round(x) + round(x, 1) * x


def isclose_branch(x):
    if math.isclose(x, 1.0, abs_tol=1e-3):
        return 0.0
    return x * x


# --- algorithms on scalars ----------------------------------------------------------------

def newton_sqrt_fixed(a):
    x = 1.0
    for _ in range(8):
        x = 0.5 * (x + a / x)
    return x


def golden_continued_fraction(x):
    y = x
    for _ in range(10):
        y = 1.0 + 1.0 / y
    return y


def horner_poly(x):
    coeffs = [1.0, -3.0, 0.5, 2.0, -0.25]
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def forward_difference_inside(x):
    h = 1e-3
    f = lambda t: t ** 3  # noqa: E731
    return (f(x + h) - f(x - h)) / (2 * h)


def exp_series(x):
    t = 1.0
    term = 1.0
    for k in range(1, 25):
        term = term * x / k
        t += term
    return t


def numpy_scalar_in_math(x):
    return math.sin(x) * np.cos(x) + np.exp(x) * x


def unused_arguments(x, y, z):
    return x * x + 1.0


def complex_abs_squared(z):
    return abs(z) ** 2


def complex_ops(z, w):
    u = z * w + cmath.exp(z)
    return (u * u.conjugate()).real + abs(cmath.sqrt(w))


CASES = [
    (s, (1.0,)),
    (s, (0.5,)),
    (s, (2.0,)),
    (trig, (0.7,)),
    (inverse_trig, (0.3,)),
    (atan2_hypot, (-1.2, 0.5)),
    (exp_log, (1.7,)),
    (sqrt_expm1_log1p, (0.9,)),
    (hyperbolic, (0.6,)),
    (erf_normal_cdf, (0.5, 0.1, 1.3)),
    (lgamma_stirling, (2.7,)),
    (math_pow_fabs, (1.5, 0.7)),
    (degrees_radians, (30.0,)),
    (fsum_prod, (1.5, -0.5, 2.0)),
    (softplus_logistic, (0.4,)),
    (copysign_floor_ceil, (1.3,)),
    (power_float_exponent, (1.7,)),
    (power_int_exponent, (1.3,)),
    (power_negative_base_int, (-2.3,)),
    (power_both_active, (1.5, 0.8)),
    (exponential_base, (0.9,)),
    (division, (1.5, -0.7)),
    (floor_division, (2.3, 0.7)),
    (floor_division, (-1.6, 0.9)),
    (modulo, (2.3, 0.7)),
    (modulo, (-1.6, 0.9)),
    (divmod_builtin, (5.3, 1.7)),
    (unary_ops, (1.2,)),
    (mixed_int_float, (1.5, 3)),
    (bool_arithmetic, (1.5, 2.5)),
    (bool_arithmetic, (-1.5, -2.5)),
    (abs_builtin, (-1.5, 0.7)),
    (min_max_two, (1.5, -0.5)),
    (min_max_two, (-1.5, 0.5)),
    (min_max_list, ([1.0, -2.0, 3.5, 0.5],)),
    (sum_builtin, ([1.0, -2.0, 0.5],)),
    (pow_builtin, (1.3, 0.6)),
    (float_conversion, (1.3, 4)),
    (int_conversion, (2.7,)),
    (round_builtin, (2.32,)),
    (isclose_branch, (1.4,)),
    (newton_sqrt_fixed, (2.0,)),
    (golden_continued_fraction, (1.3,)),
    (horner_poly, (0.7,)),
    (forward_difference_inside, (1.1,)),
    (exp_series, (1.5,)),
    (numpy_scalar_in_math, (np.float64(0.8),)),
    (unused_arguments, (1.5, 0.3, np.array([1.0, 2.0]))),
    (complex_abs_squared, (1.0 + 2.0j,)),
    (complex_ops, (0.5 - 0.3j, 1.2 + 0.4j)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_scalar_math(program, args):
    assert_gradient_matches(program, *args)


def negative_constant_power(x):
    # regression: `-(-0.7) ** 2` is -((-0.7) ** 2); folding -0.7 must not turn it into +0.49
    return x * (-(-0.7) ** 2) + x ** (-(-0.7) ** 2) + (-2) ** 2 * x


def test_negative_constant_base_of_a_power():
    from .fd import assert_gradient_matches

    assert_gradient_matches(negative_constant_power, 2.0)


def _overflows(a):
    for _ in range(4):
        a = (a * a) ** 2
        a += a * a
    return a + a


def unused_overflowing_call(x):
    # regression (found by the random programs): the unused result overflows to inf; its
    # backward, run with no cotangent, made NaN of 0 * inf and added it to x's gradient
    v = _overflows(x)  # noqa: F841
    return x + x


def test_unused_result_of_a_call_on_numbers():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert pg.gradient(unused_overflowing_call, -2.0) == (2.0,)


def loop_that_only_restores(x, y):
    # regression (found by the random programs): the loop's backward only restores the
    # loop variable; with its pop moved to the loop header the body was left empty
    if x < 0.5:
        x += x
    v = x
    for _ in range(1):
        if x < y:
            continue
    return v + x


def test_loop_whose_backward_only_restores():
    assert pg.gradient(loop_that_only_restores, -2.0, -2.0) == (4.0, 0.0)
