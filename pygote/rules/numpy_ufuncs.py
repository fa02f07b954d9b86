"""Reverse and forward rules for NumPy's elementwise ufuncs and elementwise functions.

Every vjp returns the cotangent at the broadcast output shape: the runtime
(``pygote.runtime.values.fit``) sums it down to each argument's shape, casts the dtype and
drops imaginary parts for real arguments, so no rule here unbroadcasts. Every jvp returns
a tangent that merely broadcasts to the output (``fit_tangent`` does the rest).

Complex convention (registry): a holomorphic ``f`` with derivative ``f'`` has the vjp
``g * conj(f')`` and the jvp ``f' * t``; ``_unary``/``_binary`` apply the ``conj`` once, so
each derivative below is written exactly as in a table of derivatives. Real-valued
functions of a complex argument (``abs``, ``angle``, ``real``, ``imag``) are written out
by hand, their jvps as real differentials (``d|z| = Re(conj(z) dz) / |z|``).
"""

from __future__ import annotations

import numpy as np

from pygote.rules.registry import (
    add_tangents, defjvp, defvjp, first_tangent_jvp, nondifferentiable, vjp_with_array_args,
    with_array_args,
)
from pygote.runtime.values import is_differentiable

_LN2 = np.log(2.0)
_LN10 = np.log(10.0)


def _defvjp(func, *vjps):
    """Register ``vjps`` seeing list or tuple operands (``np.log([a, b])``) as arrays, as
    ``_defjvp`` does for the jvp (their array cotangents are split up by ``fit``)."""
    defvjp(func, *(None if v is None else vjp_with_array_args(v, (0, 1, 2)) for v in vjps))


def _defjvp(func, jvp):
    """Register ``jvp`` seeing list or tuple operands (``np.exp([a, b])``) as arrays: the
    first three positionals are the operands of every function here."""
    defjvp(func, with_array_args(jvp, (0, 1, 2)))


def _unary(func, deriv):
    """Register ``func(x)`` whose derivative is ``deriv(ans, x)``.

    Extra positionals (a positional ``out``) and ufunc keywords are accepted and ignored.
    """
    _defvjp(func, lambda g, ans, x, *_, **__: g * np.conj(deriv(ans, x)))
    _defjvp(func, lambda ans, ts, x, *_, **__: None if ts[0] is None else ts[0] * deriv(ans, x))


def _binary(func, dx, dy):
    """Register ``func(x, y)`` with partial derivatives ``dx(ans, x, y)``, ``dy(ans, x, y)``.

    The jvp evaluates a partial only for an argument that moves: ``x ** 2`` with a constant
    exponent never reaches ``log(x)``.
    """
    _defvjp(
        func,
        lambda g, ans, x, y, *_, **__: g * np.conj(dx(ans, x, y)),
        lambda g, ans, x, y, *_, **__: g * np.conj(dy(ans, x, y)),
    )

    def jvp(ans, ts, x, y, *_, **__):
        tx, ty = ts[0], ts[1]
        return add_tangents(None if tx is None else tx * dx(ans, x, y),
                            None if ty is None else ty * dy(ans, x, y))

    _defjvp(func, jvp)


def _linear(func, jvp):
    """Register ``jvp(t, ans, x, *rest, **kw)`` for a ``func`` linear in ``x`` alone."""
    _defjvp(func, first_tangent_jvp(jvp))


def _nonzero(x):
    """``x`` with zeros replaced by one: a safe divisor / log argument where the result is
    masked (or multiplied by zero) at those points anyway."""
    return np.where(x == 0, 1, x)


def _share(x, y, ans):
    """The fraction of ``ans`` owed to ``x`` in a max/min: 1 if ``x`` won, 0 if ``y`` won.

    Ties split half/half (autograd's ``balanced_eq``), the same symmetric choice as the
    max/min reductions, so ``maximum(x, x)`` has gradient 1 and neither argument is favoured.
    """
    return (x == ans) / (1.0 + (x == y))


def _clip_bounds(args, kwargs):
    """``(lo, hi)`` of a clip call, whether passed positionally, as ``a_min``/``a_max`` or as
    the array-API ``min``/``max`` keywords; ``None`` (or absent) means unbounded."""
    lo = args[0] if len(args) > 0 else kwargs.get("a_min", kwargs.get("min"))
    hi = args[1] if len(args) > 1 else kwargs.get("a_max", kwargs.get("max"))
    return lo, hi


def _clip_masks(x, *args, **kwargs):
    """Which input each clip output came from, reading clip as ``minimum(maximum(x, lo), hi)``
    with ties going to the first argument: ``x`` on the boundary keeps its gradient, and
    ``hi`` wins when ``lo > hi`` (as numpy does)."""
    lo, hi = _clip_bounds(args, kwargs)
    low = np.zeros(np.shape(x), bool) if lo is None else x < lo
    m = x if lo is None else np.where(low, lo, x)
    high = np.zeros(np.shape(m), bool) if hi is None else m > hi
    return ~low & ~high, low & ~high, high


# ---------------------------------------------------------------- arithmetic

_defvjp(np.add, lambda g, *_, **__: g, lambda g, *_, **__: g)
_defjvp(np.add, lambda ans, ts, *_, **__: add_tangents(ts[0], ts[1]))
_defvjp(np.subtract, lambda g, *_, **__: g, lambda g, *_, **__: -g)
_defjvp(np.subtract,
        lambda ans, ts, *_, **__: add_tangents(ts[0], None if ts[1] is None else -ts[1]))
_binary(np.multiply, lambda ans, x, y: y, lambda ans, x, y: x)
_binary(np.divide, lambda ans, x, y: 1 / y, lambda ans, x, y: -ans / y)  # true_divide alias
_defvjp(np.negative, lambda g, *_, **__: -g)
_linear(np.negative, lambda t, *_, **__: -t)
_defvjp(np.positive, lambda g, *_, **__: g)
_linear(np.positive, lambda t, *_, **__: t)
_unary(np.reciprocal, lambda ans, x: -(ans * ans))
_unary(np.square, lambda ans, x: 2 * x)

# mod/fmod are piecewise x - k*y with k constant between jumps; floor_divide is that k.
_binary(np.remainder, lambda ans, x, y: 1, lambda ans, x, y: -np.floor(x / y))  # np.mod
_binary(np.fmod, lambda ans, x, y: 1, lambda ans, x, y: -np.trunc(x / y))
_defvjp(np.floor_divide, None, None)
defjvp(np.floor_divide, lambda *_, **__: None)


# ---------------------------------------------------------------- powers and roots


def _power_dx(ans, x, y, power=np.power):
    # y == 0 would give 0 * x**-1 = nan at x == 0; the derivative there is 0.
    return y * power(x, np.where(y == 0, 1, y - 1))


def _power_dy(ans, x, y):
    # An integer exponent (x ** 2) has no gradient: skip log(x), which warns for x < 0.
    # At x == 0 the derivative of 0**y in y is 0 (y > 0): log(1) stands in for log(0).
    return ans * np.log(_nonzero(x)) if is_differentiable(y) else 0


_binary(np.power, _power_dx, _power_dy)
_binary(np.float_power, lambda ans, x, y: _power_dx(ans, x, y, np.float_power), _power_dy)
_unary(np.sqrt, lambda ans, x: 0.5 / ans)
_unary(np.cbrt, lambda ans, x: 1 / (3 * ans * ans))


# ---------------------------------------------------------------- exponentials and logarithms

_unary(np.exp, lambda ans, x: ans)
_unary(np.exp2, lambda ans, x: ans * _LN2)
_unary(np.expm1, lambda ans, x: ans + 1)
_unary(np.log, lambda ans, x: 1 / x)
_unary(np.log2, lambda ans, x: 1 / (x * _LN2))
_unary(np.log10, lambda ans, x: 1 / (x * _LN10))
_unary(np.log1p, lambda ans, x: 1 / (1 + x))
# exp(x - ans) is the softmax weight of x: stable where exp(x) alone would overflow.
_binary(np.logaddexp, lambda ans, x, y: np.exp(x - ans), lambda ans, x, y: np.exp(y - ans))
_binary(np.logaddexp2, lambda ans, x, y: np.exp2(x - ans), lambda ans, x, y: np.exp2(y - ans))


# ---------------------------------------------------------------- trigonometric and hyperbolic

_unary(np.sin, lambda ans, x: np.cos(x))
_unary(np.cos, lambda ans, x: -np.sin(x))
_unary(np.tan, lambda ans, x: 1 + ans * ans)
_unary(np.arcsin, lambda ans, x: 1 / np.sqrt(1 - x * x))
_unary(np.arccos, lambda ans, x: -1 / np.sqrt(1 - x * x))
_unary(np.arctan, lambda ans, x: 1 / (1 + x * x))
_unary(np.sinh, lambda ans, x: np.cosh(x))
_unary(np.cosh, lambda ans, x: np.sinh(x))
_unary(np.tanh, lambda ans, x: 1 - ans * ans)
_unary(np.arcsinh, lambda ans, x: 1 / np.sqrt(x * x + 1))
# sqrt(x-1)*sqrt(x+1), not sqrt(x*x-1): the same branch numpy's complex arccosh uses.
_unary(np.arccosh, lambda ans, x: 1 / (np.sqrt(x - 1) * np.sqrt(x + 1)))
_unary(np.arctanh, lambda ans, x: 1 / (1 - x * x))
_binary(np.arctan2, lambda ans, y, x: x / (x * x + y * y), lambda ans, y, x: -y / (x * x + y * y))
_binary(np.hypot, lambda ans, x, y: x / ans, lambda ans, x, y: y / ans)
_unary(np.deg2rad, lambda ans, x: np.pi / 180)
_unary(np.radians, lambda ans, x: np.pi / 180)
_unary(np.rad2deg, lambda ans, x: 180 / np.pi)
_unary(np.degrees, lambda ans, x: 180 / np.pi)
# sinc'(x) = (cos(pi x) - sinc(x)) / x, which tends to 0 at x = 0.
_unary(np.sinc, lambda ans, x: np.where(x == 0, 0, (np.cos(np.pi * x) - ans) / _nonzero(x)))


# ---------------------------------------------------------------- magnitude and sign

# d|x| is Re(conj(x) dx)/|x|, so the cotangent is g * x/|x| (sign(x) when real); the
# subgradient 0 is taken at x == 0.
_defvjp(np.absolute, lambda g, ans, x, *_, **__: g * x / _nonzero(ans))  # np.abs alias
_linear(np.absolute, lambda t, ans, x, *_, **__: np.real(np.conj(x) * t) / _nonzero(ans))
_defvjp(np.fabs, lambda g, ans, x, *_, **__: g * np.sign(x))
_linear(np.fabs, lambda t, ans, x, *_, **__: t * np.sign(x))


def _sign_vjp(g, ans, x, *_, **__):
    # Real sign is piecewise constant; complex sign is x/|x|, whose vjp projects g onto the
    # tangent of the unit circle at ans (0 at x == 0, like abs: ans is 0 there, but g / 1
    # is not, hence the where).
    if not np.iscomplexobj(x):
        return None
    return np.where(x == 0, 0, (g - ans * np.real(np.conj(g) * ans)) / _nonzero(np.abs(x)))


def _sign_jvp(ans, ts, x, *_, **__):
    # d(z/|z|) = (dz - ans Re(conj(ans) dz)) / |z|: the same projection, self-adjoint.
    t = ts[0]
    if t is None or not np.iscomplexobj(x):
        return None
    return np.where(x == 0, 0, (t - ans * np.real(np.conj(ans) * t)) / _nonzero(np.abs(x)))


_defvjp(np.sign, _sign_vjp)
_defjvp(np.sign, _sign_jvp)
# |x| * sign(y): the slope in x is +1 where the signs agree, -1 where copying flips it.
_defvjp(
    np.copysign,
    lambda g, ans, x, y, *_, **__: np.where(np.signbit(ans) == np.signbit(x), g, -g),
    None,
)
_linear(np.copysign, lambda t, ans, x, *_, **__: np.where(np.signbit(ans) == np.signbit(x), t, -t))
_defvjp(np.heaviside, None, None)
defjvp(np.heaviside, lambda *_, **__: None)


# ---------------------------------------------------------------- comparisons that select

for _f in (np.maximum, np.minimum, np.fmax, np.fmin):
    # fmax/fmin ignore a NaN: then the other argument equals ans and takes all of g.
    _defvjp(
        _f,
        lambda g, ans, x, y, *_, **__: g * _share(x, y, ans),
        lambda g, ans, x, y, *_, **__: g * _share(y, x, ans),
    )
    _defjvp(
        _f,
        lambda ans, ts, x, y, *_, **__: add_tangents(
            None if ts[0] is None else ts[0] * _share(x, y, ans),
            None if ts[1] is None else ts[1] * _share(y, x, ans),
        ),
    )

_defvjp(
    np.clip,
    lambda g, ans, x, *a, **kw: np.where(_clip_masks(x, *a, **kw)[0], g, 0),
    lambda g, ans, x, *a, **kw: np.where(_clip_masks(x, *a, **kw)[1], g, 0),
    lambda g, ans, x, *a, **kw: np.where(_clip_masks(x, *a, **kw)[2], g, 0),
)


def _clip_jvp(ans, ts, x, *args, **kwargs):
    # Only positional bounds have tangents; keyword bounds are constants.
    if all(t is None for t in ts):
        return None
    masks = _clip_masks(x, *args, **kwargs)
    return add_tangents(*(None if t is None else np.where(m, t, 0) for t, m in zip(ts, masks)))


_defjvp(np.clip, _clip_jvp)
_defvjp(
    np.where,
    None,
    lambda g, ans, cond, x, y: np.where(cond, g, 0),
    lambda g, ans, cond, x, y: np.where(cond, 0, g),
)


def _where_jvp(ans, ts, cond, *xy):
    if len(ts) < 3 or (ts[1] is None and ts[2] is None):
        return None  # np.where(cond) alone gives indices
    return np.where(cond, 0 if ts[1] is None else ts[1], 0 if ts[2] is None else ts[2])


_defjvp(np.where, _where_jvp)


# ---------------------------------------------------------------- complex parts

for _f in (np.conjugate, np.ndarray.conj, np.ndarray.conjugate):  # np.conj: conjugate
    _defvjp(_f, lambda g, *_, **__: np.conj(g))
    _linear(_f, lambda t, *_, **__: np.conj(t))
_defvjp(np.real, lambda g, ans, x: np.real(g))
_linear(np.real, lambda t, ans, x: np.real(t))
# Im(x) = Re(-1j * x), so its cotangent is 1j * g (and vanishes for real x after fit).
_defvjp(np.imag, lambda g, ans, x: 1j * np.real(g))
_linear(np.imag, lambda t, ans, x: np.imag(t))


def _angle_vjp(g, ans, z, deg=False):
    # d angle = Im(dz / z), so the cotangent is 1j * g / conj(z) = 1j * g * z / |z|**2; for
    # real z it is imaginary and fit drops it (the angle is piecewise constant on the line).
    scale = 180 / np.pi if deg else 1.0
    return scale * 1j * g * z / _nonzero(np.abs(z) ** 2)


def _angle_jvp(ans, ts, z, deg=False):
    # Im(dz / z) = Im(dz conj(z)) / |z|**2: 0 at z == 0 and for real z with a real tangent.
    if ts[0] is None:
        return None
    scale = 180 / np.pi if deg else 1.0
    return scale * np.imag(ts[0] * np.conj(z)) / _nonzero(np.abs(z) ** 2)


_defvjp(np.angle, _angle_vjp)
_defjvp(np.angle, _angle_jvp)


# ---------------------------------------------------------------- rounding (zero gradient)

# Piecewise constant: a zero gradient, but still recorded (their outputs are floats that
# may flow on), so they are rules rather than nondifferentiable.
for _f in (np.floor, np.ceil, np.rint, np.trunc, np.round, np.around, np.fix):
    _defvjp(_f, None)
    defjvp(_f, lambda *_, **__: None)


# ---------------------------------------------------------------- boolean and integer ufuncs

nondifferentiable(
    np.isnan, np.isinf, np.isfinite, np.signbit, np.isnat,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift,
    getattr(np, "bitwise_count", None), np.gcd, np.lcm,
)
