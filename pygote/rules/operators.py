"""Reverse and forward rules for the ``operator`` functions behind Python's operators
(``+ - * / ** @`` ...).

The same rule serves Python floats, ints and complex numbers, NumPy scalars and arrays:
every cotangent is returned at the output's (broadcast) shape and the runtime
(``pygote.runtime.values.fit``) sums it down to each argument, casts it and drops
imaginary parts for real arguments; tangents likewise need only broadcast to the output
(``fit_tangent``). Rules stay on the scalar hot path: for Python floats they make no NumPy
call. Complex convention: holomorphic ``f`` has vjp ``g * conj(f')`` and jvp ``f' * t``.

The in-place operators (``iadd`` ...) share the rules of their pure versions; the runtime
takes care of the mutation. ``getitem`` is the runtime's business and is not registered.
"""

from __future__ import annotations

import cmath
import math
import operator

import numpy as np

from pygote.rules.registry import add_tangents, defjvp, defvjp, nondifferentiable
from pygote.runtime.values import add

__all__ = [
    "abs_vjp", "abs_jvp", "pow_base_vjp", "pow_exponent_vjp", "pow_jvp", "mod_vjps", "mod_jvp",
]

_SEQUENCES = (list, tuple)


def _conj(v):
    """``conj(v)``, free for Python floats and ints and for real arrays."""
    t = type(v)
    if t is float or t is int or t is np.float64:
        return v
    if t is complex:
        return v.conjugate()
    return np.conj(v) if np.iscomplexobj(v) else v


def _both(pure, inplace, jvp, *vjps):
    """Register ``jvp`` and ``vjps`` for an operator and its in-place form (the runtime
    handles mutation)."""
    defvjp(pure, *vjps)
    defvjp(inplace, *vjps)
    defjvp(pure, jvp)
    defjvp(inplace, jvp)


def _as_kind(cts, x):
    """A list of cotangents shaped as the sequence ``x``: a tuple for a tuple, else a list."""
    return tuple(cts) if type(x) is tuple else list(cts)


# ---------------------------------------------------------------- sequences (+ and * on lists)


def _concat_part(g, ans, x, first, other):
    """The slice of a concatenation's cotangent ``g`` that belongs to ``x``.

    Lengths are read from ``ans`` and ``other`` so that ``xs += ys`` (``x`` mutated into
    ``ans``) splits correctly too.
    """
    n = len(ans) - len(other)
    return _as_kind(g[:n] if first else g[n:], x)


def _repeat_part(g, seq):
    """Cotangent of ``seq`` in ``seq * n``: the cotangents of its ``n`` copies summed."""
    k = len(seq)
    out = [None] * k
    for i in range(len(g)):
        out[i % k] = add(out[i % k], g[i])
    return _as_kind(out, seq)


def _concat_tangent(ans, ta, tb):
    """Tangent of a concatenation: the two tangent lists joined (``None``: all zero).

    A missing side's length is read from ``ans`` and the other side's tangents, never
    from the arguments: after ``xs += ys`` the argument ``xs`` already is ``ans``.
    """
    if ta is None:
        if tb is None:
            return None
        ta = [None] * (len(ans) - len(tb))
    elif tb is None:
        tb = [None] * (len(ans) - len(ta))
    return type(ans)(list(ta) + list(tb))


# ---------------------------------------------------------------- arithmetic


def _add_a(g, ans, a, b):
    if type(ans) in _SEQUENCES:
        return _concat_part(g, ans, a, True, b)
    return g


def _add_b(g, ans, a, b):
    if type(ans) in _SEQUENCES:
        return _concat_part(g, ans, b, False, b)
    return g


def _mul_a(g, ans, a, b):
    if type(ans) in _SEQUENCES:
        return _repeat_part(g, a) if type(a) in _SEQUENCES else None
    return g * _conj(b)


def _mul_b(g, ans, a, b):
    if type(ans) in _SEQUENCES:
        return _repeat_part(g, b) if type(b) in _SEQUENCES else None
    return g * _conj(a)


def _truediv_b(g, ans, a, b):
    if type(b) is int:
        return None
    return -g * _conj(ans / b)


def _add_jvp(ans, ts, a, b):
    if type(ans) in _SEQUENCES:
        return _concat_tangent(ans, ts[0], ts[1])
    return add_tangents(ts[0], ts[1])


def _sub_jvp(ans, ts, a, b):
    ta, tb = ts
    if tb is None:
        return ta
    return -tb if ta is None else ta - tb


def _mul_jvp(ans, ts, a, b):
    ta, tb = ts
    if type(ans) in _SEQUENCES:  # seq * n: the tangents repeated alike
        t, n = (ta, b) if type(a) in _SEQUENCES else (tb, a)
        return None if t is None else type(ans)(list(t) * n)
    if ta is None:
        return None if tb is None else a * tb
    return ta * b if tb is None else ta * b + a * tb


def _truediv_jvp(ans, ts, a, b):  # d(a / b) = (da - db * a / b) / b
    ta, tb = ts
    if tb is None:
        return None if ta is None else ta / b
    return (-tb * ans if ta is None else ta - tb * ans) / b


# a % b = a - b * floor(a / b): d/da = 1, d/db = -floor(a / b)
mod_vjps = (lambda g, ans, a, b: g, lambda g, ans, a, b: -g * (a // b))


def mod_jvp(ans, ts, a, b):
    """d(a % b) = da - db * floor(a / b); none for string formatting (``"%f" % x``)."""
    ta, tb = ts[0], ts[1]
    if tb is None or isinstance(ans, (str, bytes)):
        return ta
    dq = -tb * (a // b)
    return dq if ta is None else ta + dq


_both(operator.add, operator.iadd, _add_jvp, _add_a, _add_b)
_both(operator.sub, operator.isub, _sub_jvp, lambda g, ans, a, b: g, lambda g, ans, a, b: -g)
_both(operator.mul, operator.imul, _mul_jvp, _mul_a, _mul_b)
_both(operator.truediv, operator.itruediv, _truediv_jvp,
      lambda g, ans, a, b: g / _conj(b), _truediv_b)
_both(operator.floordiv, operator.ifloordiv, lambda ans, ts, a, b: None,  # piecewise constant
      None, None)
_both(operator.mod, operator.imod, mod_jvp, *mod_vjps)

# ---------------------------------------------------------------- power


def _pow_base_slope(a, b):
    """d(a ** b)/da = b * a ** (b - 1); ``None`` (zero) for ``b == 0``, so that there is no
    ``0 * inf`` at ``a == 0``, and for an integer base."""
    if type(a) is int:
        return None
    tb = type(b)
    if tb is int or tb is float or tb is complex:
        if b == 0:
            return None
        try:
            return b * a ** (b - 1)
        except ZeroDivisionError:  # 0.0 ** negative: the derivative is infinite
            return b * math.inf
    return b * a ** np.where(b == 0, 1, b - 1)


def _pow_exponent_slope(ans, a, b):
    """d(a ** b)/db = a ** b * log(a), taken as zero (``None``) at ``a == 0``.

    A negative real base uses the complex log: its real part ``log|a|`` is the derivative
    of a real power (integer ``b``), the whole of it that of a complex one.
    """
    if type(b) is int:
        return None
    ta = type(a)
    if ta is float or ta is int:
        if a > 0:
            return ans * math.log(a)
        return None if a == 0 else ans * cmath.log(a)
    if ta is complex:
        return None if a == 0 else ans * cmath.log(a)
    safe = np.where(a == 0, 1, a if np.iscomplexobj(a) else np.abs(a))
    return ans * np.log(safe)


def pow_base_vjp(g, ans, a, b):
    d = _pow_base_slope(a, b)
    return None if d is None else g * _conj(d)


def pow_exponent_vjp(g, ans, a, b):
    d = _pow_exponent_slope(ans, a, b)
    return None if d is None else g * _conj(d)


def pow_jvp(ans, ts, a, b):
    ta, tb = ts[0], ts[1]
    t = None
    if ta is not None:
        d = _pow_base_slope(a, b)
        t = None if d is None else ta * d
    if tb is not None:
        d = _pow_exponent_slope(ans, a, b)
        if d is not None:
            t = tb * d if t is None else t + tb * d
    return t


_both(operator.pow, operator.ipow, pow_jvp, pow_base_vjp, pow_exponent_vjp)

# ---------------------------------------------------------------- matmul (as np.matmul)


def _matmul_a(g, ans, a, b):
    b = _conj(b)
    if np.ndim(b) == 1:  # (..., m, k) @ (k,) -> (..., m), or (k,) @ (k,) -> ()
        return np.expand_dims(g, -1) * b
    if np.ndim(a) == 1:  # (k,) @ (..., k, n) -> (..., n)
        return (b @ np.expand_dims(g, -1))[..., 0]
    return g @ np.swapaxes(b, -1, -2)


def _matmul_b(g, ans, a, b):
    a = _conj(a)
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return g * a
        return np.expand_dims(a, -1) * np.expand_dims(g, -2)
    if np.ndim(b) == 1:
        return (np.swapaxes(a, -1, -2) @ np.expand_dims(g, -1))[..., 0]
    return np.swapaxes(a, -1, -2) @ g


def _matmul_jvp(ans, ts, a, b):
    ta, tb = ts
    return add_tangents(None if ta is None else ta @ b, None if tb is None else a @ tb)


_both(operator.matmul, operator.imatmul, _matmul_jvp, _matmul_a, _matmul_b)

# ---------------------------------------------------------------- unary


def abs_vjp(g, ans, x):
    """|x|: ``g * x / |x|`` (the sign for reals, ``z / |z|`` for complex), zero at 0."""
    if type(ans) is float:
        return g * x / ans if ans else 0.0 * g
    return g * x / np.where(ans == 0, 1, ans)


def abs_jvp(ans, ts, x):
    """d|x| = Re(conj(x) dx) / |x| (the sign times ``dx`` for reals), zero at 0."""
    t = ts[0]
    if t is None:
        return None
    if type(ans) is float:
        return (_conj(x) * t).real / ans if ans else 0.0 * t
    return np.real(_conj(x) * t) / np.where(ans == 0, 1, ans)


defvjp(operator.neg, lambda g, ans, x: -g)
defvjp(operator.pos, lambda g, ans, x: g)
defvjp(operator.abs, abs_vjp)
defjvp(operator.neg, lambda ans, ts, x: None if ts[0] is None else -ts[0])
defjvp(operator.pos, lambda ans, ts, x: ts[0])
defjvp(operator.abs, abs_jvp)

# ---------------------------------------------------------------- no gradient
# Comparisons, truth tests and bitwise operators return bools or ints.

nondifferentiable(
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
    operator.not_, operator.truth, operator.is_, operator.is_not, operator.contains,
    operator.and_, operator.or_, operator.xor, operator.invert, operator.inv,
    operator.lshift, operator.rshift, operator.index,
    operator.iand, operator.ior, operator.ixor, operator.ilshift, operator.irshift,
)
