"""Reverse rules for Python's ``math`` and ``cmath`` modules, and ``digamma`` for ``lgamma``.

``math`` functions take and return real floats, so their rules are plain float arithmetic
(no NumPy on this scalar hot path). A derivative that is infinite at a point (``sqrt`` at
0) gives ``inf`` instead of Python's ``ZeroDivisionError``. Sequence arguments
(``fsum``, ``prod``, ``dist``) get a cotangent of the same kind: a list for a list, a tuple
for a tuple, an array for an array. ``cmath`` rules follow the complex convention: a
holomorphic ``f`` has vjp ``g * conj(f')``.
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from pygote.rules.registry import defvjp, defvjp_all, nondifferentiable

__all__ = ["digamma"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _div(a, b):
    """``a / b`` with IEEE semantics where Python raises: ``±inf`` (``nan`` for ``0 / 0``)."""
    try:
        return a / b
    except ZeroDivisionError:
        if type(a) is complex or type(b) is complex:
            return complex(math.inf, math.inf) if a else complex(math.nan, math.nan)
        return math.copysign(math.inf, a) * math.copysign(1.0, b) if a else math.nan


def _conj(v):
    """``conj(v)``, free for Python floats and ints."""
    t = type(v)
    return v if t is float or t is int else v.conjugate()


def _sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _like(cts, x):
    """Cotangents of the elements of sequence ``x``, as a sequence of ``x``'s kind."""
    if type(x) is tuple:
        return tuple(cts)
    if isinstance(x, np.ndarray):
        return np.array(cts)
    return list(cts)


def _sized(x):
    """True for arguments whose elements can be given cotangents (not generators)."""
    return isinstance(x, (list, tuple, np.ndarray))


# ---------------------------------------------------------------- digamma


def digamma(x):
    """The digamma function ``psi(x) = d lgamma(x) / dx`` for real ``x`` (to about 1e-15).

    Recurrence ``psi(x) = psi(x + 1) - 1/x`` up to ``x >= 10``, then the asymptotic series
    through ``x**-14``; reflection ``psi(x) = psi(1 - x) - pi / tan(pi x)`` for ``x < 0``.
    Poles (0, -1, -2, ...) give ``nan``.
    """
    x = float(x)
    if x <= 0.0:
        if x == math.floor(x):
            return math.nan
        return digamma(1.0 - x) - math.pi / math.tan(math.pi * x)
    acc = 0.0
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    t = 1.0 / (x * x)
    series = t * (1 / 12 - t * (1 / 120 - t * (1 / 252 - t * (1 / 240 - t * (
        1 / 132 - t * (691 / 32760 - t / 12))))))
    return acc + math.log(x) - 0.5 / x - series


# ---------------------------------------------------------------- powers, exponentials, logs


def _log_x(g, ans, x, base=None):
    return _div(g, x) if base is None else g / (x * math.log(base))


def _log_base(g, ans, x, base):  # log(x) / log(b): d/db = -ans / (b log b)
    return None if type(base) is int else -g * ans / (base * math.log(base))


def _pow_x(g, ans, x, y):
    if y == 0:
        return 0.0 * g
    try:
        return g * y * math.pow(x, y - 1)
    except (ValueError, ZeroDivisionError):  # 0 ** negative: infinite slope
        return g * y * math.inf


def _pow_y(g, ans, x, y):  # d/dy = ans * log(x); log|x| for a negative base (integer y)
    return None if type(y) is int or x == 0 else g * ans * math.log(abs(x))


defvjp(math.sqrt, lambda g, ans, x: _div(g, ans + ans))
defvjp(math.cbrt, lambda g, ans, x: _div(g, 3.0 * ans * ans))
defvjp(math.exp, lambda g, ans, x: g * ans)
defvjp(math.exp2, lambda g, ans, x: g * ans * _LN2)
defvjp(math.expm1, lambda g, ans, x: g * (ans + 1.0))
defvjp(math.log, _log_x, _log_base)
defvjp(math.log2, lambda g, ans, x: _div(g, x * _LN2))
defvjp(math.log10, lambda g, ans, x: _div(g, x * _LN10))
defvjp(math.log1p, lambda g, ans, x: _div(g, 1.0 + x))
defvjp(math.pow, _pow_x, _pow_y)
defvjp(math.ldexp, lambda g, ans, x, i: math.ldexp(g, i))

# ---------------------------------------------------------------- trigonometric, hyperbolic

defvjp(math.sin, lambda g, ans, x: g * math.cos(x))
defvjp(math.cos, lambda g, ans, x: -g * math.sin(x))
defvjp(math.tan, lambda g, ans, x: g * (1.0 + ans * ans))
defvjp(math.asin, lambda g, ans, x: _div(g, math.sqrt(1.0 - x * x)))
defvjp(math.acos, lambda g, ans, x: _div(-g, math.sqrt(1.0 - x * x)))
defvjp(math.atan, lambda g, ans, x: g / (1.0 + x * x))
defvjp(
    math.atan2,
    lambda g, ans, y, x: _div(g * x, x * x + y * y),
    lambda g, ans, y, x: _div(-g * y, x * x + y * y),
)
defvjp(math.sinh, lambda g, ans, x: g * math.cosh(x))
defvjp(math.cosh, lambda g, ans, x: g * math.sinh(x))
defvjp(math.tanh, lambda g, ans, x: g * (1.0 - ans * ans))
defvjp(math.asinh, lambda g, ans, x: g / math.sqrt(x * x + 1.0))
defvjp(math.acosh, lambda g, ans, x: _div(g, math.sqrt(x * x - 1.0)))
defvjp(math.atanh, lambda g, ans, x: _div(g, 1.0 - x * x))
defvjp(math.degrees, lambda g, ans, x: g * (180.0 / math.pi))
defvjp(math.radians, lambda g, ans, x: g * (math.pi / 180.0))

# ---------------------------------------------------------------- special functions

defvjp(math.erf, lambda g, ans, x: g * _TWO_OVER_SQRT_PI * math.exp(-x * x))
defvjp(math.erfc, lambda g, ans, x: -g * _TWO_OVER_SQRT_PI * math.exp(-x * x))
defvjp(math.gamma, lambda g, ans, x: g * ans * digamma(x))
defvjp(math.lgamma, lambda g, ans, x: g * digamma(x))

# ---------------------------------------------------------------- sign, remainders


def _quotient(g, ans, x, y):  # fmod/remainder: ans = x - n * y, n an integer: d/dy = -n
    return -g * round((x - ans) / y)


defvjp(math.fabs, lambda g, ans, x: g * _sign(x))
defvjp(math.copysign, lambda g, ans, x, y: g * math.copysign(1.0, x) * math.copysign(1.0, y))
defvjp(math.fmod, lambda g, ans, x, y: g, _quotient)
defvjp(math.remainder, lambda g, ans, x, y: g, _quotient)
defvjp_all(math.modf, lambda g, ans, x: (g[0],))  # (fractional part, integral part)

# ---------------------------------------------------------------- norms and sums of sequences


def _hypot(g, ans, *coords):
    return tuple(g * x / ans if ans else 0.0 * g for x in coords)


def _dist(g, ans, p, q):
    if not ans:
        return (_like([0.0] * len(p), p), _like([0.0] * len(q), q))
    cts = [g * (a - b) / ans for a, b in zip(p, q)]
    return (_like(cts, p), _like([-c for c in cts], q))


def _fsum(g, ans, xs):
    return (_like([g] * len(xs), xs) if _sized(xs) else None,)


def _prod(g, ans, xs, start=1):
    """Each element's cotangent is ``g`` times the product of all the others (zeros safe)."""
    if not _sized(xs):
        return (None,)
    n = len(xs)
    others = [None] * n
    left = start
    for i in range(n):
        others[i] = left
        left = left * xs[i]
    right = 1
    for i in range(n - 1, -1, -1):
        others[i] = g * _conj(others[i] * right)
        right = right * xs[i]
    return (_like(others, xs),)


defvjp_all(math.hypot, _hypot)
defvjp_all(math.dist, _dist)
defvjp_all(math.fsum, _fsum)
defvjp_all(math.prod, _prod)

# ---------------------------------------------------------------- integer-valued and predicates

nondifferentiable(
    math.floor, math.ceil, math.trunc, math.factorial, math.comb, math.perm, math.gcd,
    math.lcm, math.isqrt, math.isnan, math.isinf, math.isfinite, math.isclose,
    math.nextafter, math.ulp,
)

# ---------------------------------------------------------------- cmath (holomorphic)


def _holomorphic(func, deriv):
    """Register ``func(z)`` with complex derivative ``deriv(ans, z)``: vjp ``g * conj(f')``."""
    defvjp(func, lambda g, ans, z: g * deriv(ans, z).conjugate())


def _clog_z(g, ans, z, base=None):
    d = 1.0 / z if base is None else 1.0 / (z * cmath.log(base))
    return g * d.conjugate()


def _clog_base(g, ans, z, base):
    return g * (-ans / (base * cmath.log(base))).conjugate()


def _polar(g, ans, z):  # (|z|, phase z): d|z| -> z / |z|, d phase -> i z / |z|^2
    r = ans[0]
    if not r:
        return (None,)
    gr, gphi = g[0], g[1]
    ct = 0j
    if gr is not None:
        ct = ct + gr * z / r
    if gphi is not None:
        ct = ct + gphi * 1j * z / (r * r)
    return (ct,)


_holomorphic(cmath.exp, lambda ans, z: ans)
_holomorphic(cmath.sqrt, lambda ans, z: _div(0.5, ans))
_holomorphic(cmath.log10, lambda ans, z: 1.0 / (z * _LN10))
_holomorphic(cmath.sin, lambda ans, z: cmath.cos(z))
_holomorphic(cmath.cos, lambda ans, z: -cmath.sin(z))
_holomorphic(cmath.tan, lambda ans, z: 1.0 + ans * ans)
# The inverse functions' square roots (asin' = 1 / sqrt(1 - z^2) = 1 / cos(asin z)) are
# written through ``ans``, which lies on the side of a branch cut the primitive chose.
_holomorphic(cmath.asin, lambda ans, z: 1.0 / cmath.cos(ans))
_holomorphic(cmath.acos, lambda ans, z: -1.0 / cmath.sin(ans))
_holomorphic(cmath.atan, lambda ans, z: 1.0 / (1.0 + z * z))
_holomorphic(cmath.sinh, lambda ans, z: cmath.cosh(z))
_holomorphic(cmath.cosh, lambda ans, z: cmath.sinh(z))
_holomorphic(cmath.tanh, lambda ans, z: 1.0 - ans * ans)
_holomorphic(cmath.asinh, lambda ans, z: 1.0 / cmath.cosh(ans))
_holomorphic(cmath.acosh, lambda ans, z: 1.0 / cmath.sinh(ans))
_holomorphic(cmath.atanh, lambda ans, z: 1.0 / (1.0 - z * z))
defvjp(cmath.log, _clog_z, _clog_base)
defvjp(cmath.phase, lambda g, ans, z: g * 1j * z / (abs(z) ** 2) if z else None)
defvjp_all(cmath.polar, _polar)
defvjp(
    cmath.rect,  # r * e^{i phi}
    lambda g, ans, r, phi: g * cmath.exp(-1j * phi),
    lambda g, ans, r, phi: -1j * g * ans.conjugate(),
)
nondifferentiable(cmath.isnan, cmath.isinf, cmath.isfinite, cmath.isclose)
