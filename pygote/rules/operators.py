"""Reverse rules for the ``operator`` functions behind Python's operators (``+ - * / ** @`` ...).

The same rule serves Python floats, ints and complex numbers, NumPy scalars and arrays:
every cotangent is returned at the output's (broadcast) shape and the runtime
(``pygote.runtime.values.fit``) sums it down to each argument, casts it and drops
imaginary parts for real arguments. Rules stay on the scalar hot path: for Python floats
they make no NumPy call. Complex convention: holomorphic ``f`` has vjp ``g * conj(f')``.

The in-place operators (``iadd`` ...) share the rules of their pure versions; the runtime
takes care of the mutation. ``getitem`` is the runtime's business and is not registered.
"""

from __future__ import annotations

import cmath
import math
import operator

import numpy as np

from pygote.rules.registry import defvjp, nondifferentiable
from pygote.runtime.values import add

__all__ = ["abs_vjp", "pow_base_vjp", "pow_exponent_vjp", "mod_vjps"]

_SEQUENCES = (list, tuple)


def _conj(v):
    """``conj(v)``, free for Python floats and ints and for real arrays."""
    t = type(v)
    if t is float or t is int:
        return v
    if t is complex:
        return v.conjugate()
    return np.conj(v) if np.iscomplexobj(v) else v


def _both(pure, inplace, *vjps):
    """Register ``vjps`` for an operator and its in-place form (the runtime handles mutation)."""
    defvjp(pure, *vjps)
    defvjp(inplace, *vjps)


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


# a % b = a - b * floor(a / b): d/da = 1, d/db = -floor(a / b)
mod_vjps = (lambda g, ans, a, b: g, lambda g, ans, a, b: -g * (a // b))

_both(operator.add, operator.iadd, _add_a, _add_b)
_both(operator.sub, operator.isub, lambda g, ans, a, b: g, lambda g, ans, a, b: -g)
_both(operator.mul, operator.imul, _mul_a, _mul_b)
_both(operator.truediv, operator.itruediv, lambda g, ans, a, b: g / _conj(b), _truediv_b)
_both(operator.floordiv, operator.ifloordiv, None, None)  # piecewise constant
_both(operator.mod, operator.imod, *mod_vjps)

# ---------------------------------------------------------------- power


def pow_base_vjp(g, ans, a, b):
    """d(a ** b)/da = b * a ** (b - 1); zero for ``b == 0`` (no ``0 * inf`` at ``a == 0``)."""
    if type(a) is int:
        return None
    tb = type(b)
    if tb is int or tb is float or tb is complex:
        if b == 0:
            return None
        try:
            return g * _conj(b * a ** (b - 1))
        except ZeroDivisionError:  # 0.0 ** negative: the derivative is infinite
            return g * b * math.inf
    return g * _conj(b * a ** np.where(b == 0, 1, b - 1))


def pow_exponent_vjp(g, ans, a, b):
    """d(a ** b)/db = a ** b * log(a), taken as zero at ``a == 0``.

    A negative real base uses the complex log: its real part ``log|a|`` is the derivative
    of a real power (integer ``b``), the whole of it that of a complex one.
    """
    if type(b) is int:
        return None
    ta = type(a)
    if ta is float or ta is int:
        if a > 0:
            return g * _conj(ans) * math.log(a)
        return None if a == 0 else g * _conj(ans * cmath.log(a))
    if ta is complex:
        return None if a == 0 else g * _conj(ans * cmath.log(a))
    safe = np.where(a == 0, 1, a if np.iscomplexobj(a) else np.abs(a))
    return g * _conj(ans * np.log(safe))


_both(operator.pow, operator.ipow, pow_base_vjp, pow_exponent_vjp)

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


_both(operator.matmul, operator.imatmul, _matmul_a, _matmul_b)

# ---------------------------------------------------------------- unary


def abs_vjp(g, ans, x):
    """|x|: ``g * x / |x|`` (the sign for reals, ``z / |z|`` for complex), zero at 0."""
    if type(ans) is float:
        return g * x / ans if ans else 0.0 * g
    return g * x / np.where(ans == 0, 1, ans)


defvjp(operator.neg, lambda g, ans, x: -g)
defvjp(operator.pos, lambda g, ans, x: g)
defvjp(operator.abs, abs_vjp)

# ---------------------------------------------------------------- no gradient
# Comparisons, truth tests and bitwise operators return bools or ints.

nondifferentiable(
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
    operator.not_, operator.truth, operator.is_, operator.is_not, operator.contains,
    operator.and_, operator.or_, operator.xor, operator.invert, operator.inv,
    operator.lshift, operator.rshift, operator.index,
    operator.iand, operator.ior, operator.ixor, operator.ilshift, operator.irshift,
)
