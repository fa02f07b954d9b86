"""Reverse and forward rules for Python's ``math`` and ``cmath`` modules, and ``digamma``
for ``lgamma``.

``math`` functions take and return real floats, so their rules are plain float arithmetic
(no NumPy on this scalar hot path). A derivative that is infinite at a point (``sqrt`` at
0) gives ``inf`` instead of Python's ``ZeroDivisionError``. Sequence arguments
(``fsum``, ``prod``, ``dist``) get a cotangent of the same kind: a list for a list, a tuple
for a tuple, an array for an array; their tangents arrive in those kinds too (``None``
entries are zeros). ``cmath`` rules follow the complex convention: a holomorphic ``f`` has
vjp ``g * conj(f')`` and jvp ``f' * t``.
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from pygote.rules.registry import add_tangents, defjvp, defvjp, defvjp_all, nondifferentiable

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


def _log_jvp(ans, ts, x, base=None):
    tx = ts[0]
    if base is None:
        return None if tx is None else _div(tx, x)
    log_base = math.log(base)
    t = None if tx is None else tx / (x * log_base)
    return t if ts[1] is None else add_tangents(t, -ts[1] * ans / (base * log_base))


def _pow_jvp(ans, ts, x, y):  # the slopes of _pow_x and _pow_y
    tx, ty = ts
    t = None
    if tx is not None and y != 0:
        try:
            t = tx * y * math.pow(x, y - 1)
        except (ValueError, ZeroDivisionError):  # 0 ** negative: infinite slope
            t = tx * y * math.inf
    if ty is not None and x != 0:
        t = add_tangents(t, ty * ans * math.log(abs(x)))
    return t


defjvp(math.sqrt, lambda ans, ts, x: None if ts[0] is None else _div(ts[0], ans + ans))
defjvp(math.cbrt, lambda ans, ts, x: None if ts[0] is None else _div(ts[0], 3.0 * ans * ans))
defjvp(math.exp, lambda ans, ts, x: None if ts[0] is None else ts[0] * ans)
defjvp(math.exp2, lambda ans, ts, x: None if ts[0] is None else ts[0] * ans * _LN2)
defjvp(math.expm1, lambda ans, ts, x: None if ts[0] is None else ts[0] * (ans + 1.0))
defjvp(math.log, _log_jvp)
defjvp(math.log2, lambda ans, ts, x: None if ts[0] is None else _div(ts[0], x * _LN2))
defjvp(math.log10, lambda ans, ts, x: None if ts[0] is None else _div(ts[0], x * _LN10))
defjvp(math.log1p, lambda ans, ts, x: None if ts[0] is None else _div(ts[0], 1.0 + x))
defjvp(math.pow, _pow_jvp)
defjvp(math.ldexp, lambda ans, ts, x, i: None if ts[0] is None else math.ldexp(ts[0], i))

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


def _atan2_jvp(ans, ts, y, x):  # d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)
    ty, tx = ts
    if ty is None:
        return None if tx is None else _div(-tx * y, x * x + y * y)
    return _div(ty * x if tx is None else ty * x - tx * y, x * x + y * y)


defjvp(math.sin, lambda ans, ts, x: None if ts[0] is None else ts[0] * math.cos(x))
defjvp(math.cos, lambda ans, ts, x: None if ts[0] is None else -ts[0] * math.sin(x))
defjvp(math.tan, lambda ans, ts, x: None if ts[0] is None else ts[0] * (1.0 + ans * ans))
defjvp(math.asin,
       lambda ans, ts, x: None if ts[0] is None else _div(ts[0], math.sqrt(1.0 - x * x)))
defjvp(math.acos,
       lambda ans, ts, x: None if ts[0] is None else _div(-ts[0], math.sqrt(1.0 - x * x)))
defjvp(math.atan, lambda ans, ts, x: None if ts[0] is None else ts[0] / (1.0 + x * x))
defjvp(math.atan2, _atan2_jvp)
defjvp(math.sinh, lambda ans, ts, x: None if ts[0] is None else ts[0] * math.cosh(x))
defjvp(math.cosh, lambda ans, ts, x: None if ts[0] is None else ts[0] * math.sinh(x))
defjvp(math.tanh, lambda ans, ts, x: None if ts[0] is None else ts[0] * (1.0 - ans * ans))
defjvp(math.asinh,
       lambda ans, ts, x: None if ts[0] is None else ts[0] / math.sqrt(x * x + 1.0))
defjvp(math.acosh,
       lambda ans, ts, x: None if ts[0] is None else _div(ts[0], math.sqrt(x * x - 1.0)))
defjvp(math.atanh, lambda ans, ts, x: None if ts[0] is None else _div(ts[0], 1.0 - x * x))
defjvp(math.degrees, lambda ans, ts, x: None if ts[0] is None else ts[0] * (180.0 / math.pi))
defjvp(math.radians, lambda ans, ts, x: None if ts[0] is None else ts[0] * (math.pi / 180.0))

# ---------------------------------------------------------------- special functions

defvjp(math.erf, lambda g, ans, x: g * _TWO_OVER_SQRT_PI * math.exp(-x * x))
defvjp(math.erfc, lambda g, ans, x: -g * _TWO_OVER_SQRT_PI * math.exp(-x * x))
defvjp(math.gamma, lambda g, ans, x: g * ans * digamma(x))
defvjp(math.lgamma, lambda g, ans, x: g * digamma(x))
defjvp(math.erf,
       lambda ans, ts, x: None if ts[0] is None else ts[0] * _TWO_OVER_SQRT_PI * math.exp(-x * x))
defjvp(math.erfc,
       lambda ans, ts, x: None if ts[0] is None else -ts[0] * _TWO_OVER_SQRT_PI * math.exp(-x * x))
defjvp(math.gamma, lambda ans, ts, x: None if ts[0] is None else ts[0] * ans * digamma(x))
defjvp(math.lgamma, lambda ans, ts, x: None if ts[0] is None else ts[0] * digamma(x))

# ---------------------------------------------------------------- sign, remainders


def _quotient(g, ans, x, y):  # fmod/remainder: ans = x - n * y, n an integer: d/dy = -n
    return -g * round((x - ans) / y)


defvjp(math.fabs, lambda g, ans, x: g * _sign(x))
defvjp(math.copysign, lambda g, ans, x, y: g * math.copysign(1.0, x) * math.copysign(1.0, y))
defvjp(math.fmod, lambda g, ans, x, y: g, _quotient)
defvjp(math.remainder, lambda g, ans, x, y: g, _quotient)
defvjp_all(math.modf, lambda g, ans, x: (g[0],))  # (fractional part, integral part)


def _quotient_jvp(ans, ts, x, y):
    tx, ty = ts
    if ty is None:
        return tx
    return add_tangents(tx, -ty * round((x - ans) / y))


defjvp(math.fabs, lambda ans, ts, x: None if ts[0] is None else ts[0] * _sign(x))
defjvp(math.copysign,  # the sign of y is piecewise constant
       lambda ans, ts, x, y: None if ts[0] is None
       else ts[0] * math.copysign(1.0, x) * math.copysign(1.0, y))
defjvp(math.fmod, _quotient_jvp)
defjvp(math.remainder, _quotient_jvp)
defjvp(math.modf, lambda ans, ts, x: None if ts[0] is None else (ts[0], None))

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


def _dot(ts, xs):
    """``sum(t * x)`` over the elements of a sequence with tangents ``ts`` (``None``: zeros)."""
    acc = None
    for t, x in zip(ts, xs):
        if t is not None:
            acc = t * x if acc is None else acc + t * x
    return acc


def _hypot_jvp(ans, ts, *coords):  # d|x| = <x, dx> / |x|
    t = _dot(ts, coords)
    if t is None:
        return None
    return t / ans if ans else 0.0 * t


def _dist_jvp(ans, ts, p, q):  # d|p - q| = <p - q, dp - dq> / |p - q|
    tp, tq = ts
    if tp is None and tq is None:
        return None
    if not ans:
        return 0.0
    diff = [a - b for a, b in zip(p, q)]
    t = None if tp is None else _dot(tp, diff)
    if tq is not None:
        dq = _dot(tq, diff)
        t = t if dq is None else (-dq if t is None else t - dq)
    return None if t is None else t / ans


def _fsum_jvp(ans, ts, xs):
    t = ts[0]
    if t is None or not _sized(xs):
        return None
    return math.fsum(ti for ti in t if ti is not None)


def _prod_jvp(ans, ts, xs, start=1):
    """The running product carried with its tangent: ``d(p x) = dp x + p dx`` (zeros safe)."""
    t = ts[0]
    if t is None or not _sized(xs):
        return None
    p, dp = start, None
    for x, tx in zip(xs, t):
        if dp is not None:
            dp = dp * x
        if tx is not None:
            dp = p * tx if dp is None else dp + p * tx
        p = p * x
    return dp


defvjp_all(math.hypot, _hypot)
defvjp_all(math.dist, _dist)
defvjp_all(math.fsum, _fsum)
defvjp_all(math.prod, _prod)
defjvp(math.hypot, _hypot_jvp)
defjvp(math.dist, _dist_jvp)
defjvp(math.fsum, _fsum_jvp)
defjvp(math.prod, _prod_jvp)

# ---------------------------------------------------------------- integer-valued and predicates

nondifferentiable(
    math.floor, math.ceil, math.trunc, math.factorial, math.comb, math.perm, math.gcd,
    math.lcm, math.isqrt, math.isnan, math.isinf, math.isfinite, math.isclose,
    math.nextafter, math.ulp,
)

# ---------------------------------------------------------------- cmath (holomorphic)


def _holomorphic(func, deriv):
    """Register ``func(z)`` with complex derivative ``deriv(ans, z)``: vjp ``g * conj(f')``,
    jvp ``f' * t``."""
    defvjp(func, lambda g, ans, z: g * deriv(ans, z).conjugate())
    defjvp(func, lambda ans, ts, z: None if ts[0] is None else deriv(ans, z) * ts[0])


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


def _clog_jvp(ans, ts, z, base=None):  # log(z) / log(b)
    tz = ts[0]
    if base is None:
        return None if tz is None else tz / z
    log_base = cmath.log(base)
    t = None if tz is None else tz / (z * log_base)
    return t if ts[1] is None else add_tangents(t, -ts[1] * ans / (base * log_base))


def _phase_jvp(ans, ts, z):  # d angle(z) = Im(dz / z)
    t = ts[0]
    return None if t is None or not z else (t / z).imag


def _polar_jvp(ans, ts, z):  # (|z|, phase z): (Re(conj(z) dz) / |z|, Im(dz / z))
    t, r = ts[0], ans[0]
    if t is None or not r:
        return None
    return ((_conj(z) * t).real / r, (t / z).imag)


def _rect_jvp(ans, ts, r, phi):  # d(r e^{i phi}) = dr e^{i phi} + i r e^{i phi} dphi
    tr, tphi = ts
    t = None if tr is None else tr * cmath.rect(1.0, phi)
    return t if tphi is None else add_tangents(t, 1j * ans * tphi)


defjvp(cmath.log, _clog_jvp)
defjvp(cmath.phase, _phase_jvp)
defjvp(cmath.polar, _polar_jvp)
defjvp(cmath.rect, _rect_jvp)
nondifferentiable(cmath.isnan, cmath.isinf, cmath.isfinite, cmath.isclose)
