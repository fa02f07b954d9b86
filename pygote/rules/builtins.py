"""Reverse and forward rules for Python's builtin functions, and plain-Python replacements
for its higher-order and iteration builtins (``map``, ``zip``, ``sorted``,
``functools.reduce`` ...).

Rules: ``abs``/``pow``/``divmod`` share the operator rules; ``sum``, ``min``, ``max``,
``list`` and ``tuple`` hand their iterable a cotangent of its own kind (a list for a list,
a tuple for a tuple, an array for an array; ``None`` for iterators, which are used up).
Going forward, the tangent of such an iterable arrives in the same kinds: a list or tuple
of element tangents (``None`` entries are zeros) or an array.
Functions whose result carries no gradient (``len``, ``round``, ``isinstance`` ...) are
registered as nondifferentiable.

Replacements (``defreplacement``) are differentiated through their source, so they are
written in the subset the differentiator supports: ``for`` loops over ranges and lists,
indexing, ``append``, tuple literals, ``len`` and calls; no comprehensions. They return
lists where the builtin returns an iterator.
"""

from __future__ import annotations

import builtins
import functools

import numpy as np

from pygote.rules.operators import (
    abs_jvp, abs_vjp, mod_jvp, mod_vjps, pow_base_vjp, pow_exponent_vjp, pow_jvp,
)
from pygote.rules.registry import (
    add_tangents, defjvp, defreplacement, defvjp, defvjp_all, nondifferentiable,
)
from pygote.runtime.values import fit, is_differentiable, unbroadcast, zeros_like

__all__ = [
    "map_impl", "filter_impl", "zip_impl", "enumerate_impl", "reversed_impl", "sorted_impl",
    "reduce_impl",
]

_builtin_sorted = builtins.sorted
_builtin_min = builtins.min
_builtin_max = builtins.max


# ---------------------------------------------------------------- arithmetic

defvjp(abs, abs_vjp)
defvjp(
    pow,  # pow(base, exp[, mod]): modular pow is integer-only
    lambda g, ans, a, b, *mod: None if mod else pow_base_vjp(g, ans, a, b),
    lambda g, ans, a, b, *mod: None if mod else pow_exponent_vjp(g, ans, a, b),
)
defvjp(  # divmod(a, b) = (a // b, a % b): only the remainder has a gradient
    divmod,
    lambda g, ans, a, b: None if g[1] is None else mod_vjps[0](g[1], ans[1], a, b),
    lambda g, ans, a, b: None if g[1] is None else mod_vjps[1](g[1], ans[1], a, b),
)


def _divmod_jvp(ans, ts, a, b):
    t = mod_jvp(ans[1], ts, a, b)
    return None if t is None else (None, t)


defjvp(abs, abs_jvp)
defjvp(pow, lambda ans, ts, a, b, *mod: None if mod else pow_jvp(ans, ts, a, b))
defjvp(divmod, _divmod_jvp)

# ---------------------------------------------------------------- conversions


def _complex_jvp(ans, ts, *args):  # complex(re, im) = re + 1j * im
    if len(ts) < 2 or ts[1] is None:
        return ts[0] if ts else None
    return 1j * ts[1] if ts[0] is None else ts[0] + 1j * ts[1]


defvjp(float, lambda g, ans, x: g)  # fit casts back to float32 / a 0-d array
defvjp(complex, lambda g, ans, re, im=0: g, lambda g, ans, re, im: -1j * g)  # re + 1j*im
defjvp(float, lambda ans, ts, x: ts[0])  # fit_tangent drops an imaginary part
defjvp(complex, _complex_jvp)


def _sequence_ct(g, ans, x):
    """Cotangent of ``x`` in ``list(x)`` / ``tuple(x)``: the cotangent list in ``x``'s kind.

    An array gets its rows stacked back (``None`` rows as zeros); ranges, iterators,
    strings, sets and dicts get nothing.
    """
    t = type(x)
    if t is list:
        return list(g)
    if t is tuple:
        return tuple(g)
    if isinstance(x, tuple) and hasattr(t, "_fields"):  # a namedtuple: its own kind
        return t(*g)
    if isinstance(x, np.ndarray):
        if not is_differentiable(x) or len(x) == 0:
            return None
        rows = []
        for gi, xi in zip(g, x):
            rows.append(zeros_like(xi) if gi is None else fit(gi, xi))
        return np.stack(rows)
    return None


def _sequence_tangent(ans, ts, x):
    """Tangent of ``list(x)`` / ``tuple(x)``: ``x``'s element tangents (an array's rows)."""
    t = ts[0]
    if t is None or not isinstance(x, (list, tuple, np.ndarray)):
        return None
    return type(ans)(t)


defvjp(list, _sequence_ct)
defvjp(tuple, _sequence_ct)
defjvp(list, _sequence_tangent)
defjvp(tuple, _sequence_tangent)

# ---------------------------------------------------------------- reductions


def _sum_iterable(g, ans, xs, start=0):
    """``sum(xs)``: every element receives ``g`` (an array's rows each get ``g``)."""
    t = type(xs)
    if t is list or t is tuple:
        return t(fit(g, x) for x in xs)
    if isinstance(xs, np.ndarray):
        if not is_differentiable(xs) or xs.ndim == 0:
            return None
        row = unbroadcast(np.asarray(g), xs.shape[1:])  # the rows of a sum with a wider start
        out = np.empty(xs.shape, np.result_type(row, xs.dtype))
        out[...] = row
        return out
    return None


def _sum_jvp(ans, ts, xs, start=0):
    """``sum(xs, start)``: the element tangents summed (an array's rows), plus ``start``'s."""
    t = ts[0]
    acc = ts[1] if len(ts) > 1 else None
    if t is None:
        return acc
    if isinstance(t, np.ndarray):
        return add_tangents(acc, t.sum(axis=0))
    if not isinstance(xs, (list, tuple)):  # an iterator: its tangent cannot be read
        return acc
    return add_tangents(acc, *t)


defvjp(sum, _sum_iterable, lambda g, ans, xs, start: g)
defjvp(sum, _sum_jvp)


def _winner(xs, ans, select, key):
    """Index of the element ``min``/``max`` returned (the first best one), or ``None``."""
    if type(xs) is list or type(xs) is tuple:
        for i in range(len(xs)):  # the builtin returns the element itself
            if xs[i] is ans:
                return i
    if not isinstance(xs, (list, tuple, np.ndarray)) or len(xs) == 0:
        return None
    if key is None:
        return select(range(len(xs)), key=xs.__getitem__)
    return select(range(len(xs)), key=lambda i: key(xs[i]))


def _minmax_vjp(select):
    """vjp of ``min``/``max``: the selected element gets ``g`` (``key`` only selects)."""

    def vjp(g, ans, *args, key=None, **_):
        if len(args) > 1:
            i = _winner(args, ans, select, key)
            return tuple(g if j == i else None for j in range(len(args)))
        xs = args[0]
        i = _winner(xs, ans, select, key)
        if i is None:
            return (None,)
        if isinstance(xs, np.ndarray):
            ct = np.zeros(xs.shape, np.result_type(g, xs.dtype))
            ct[i] = g
            return (ct,)
        cts = [None] * len(xs)
        cts[i] = g
        return (tuple(cts) if type(xs) is tuple else cts,)

    return vjp


def _minmax_jvp(select):
    """jvp of ``min``/``max``: the tangent of the selected element (``key`` only selects)."""

    def jvp(ans, ts, *args, key=None, **_):
        if len(args) > 1:
            i = _winner(args, ans, select, key)
            return None if i is None else ts[i]
        t = ts[0]
        if t is None:
            return None
        i = _winner(args[0], ans, select, key)
        return None if i is None else t[i]

    return jvp


defvjp_all(min, _minmax_vjp(_builtin_min))
defvjp_all(max, _minmax_vjp(_builtin_max))
defjvp(min, _minmax_jvp(_builtin_min))
defjvp(max, _minmax_jvp(_builtin_max))

# ---------------------------------------------------------------- no gradient

nondifferentiable(
    round, int, len, range, isinstance, issubclass, type, print, repr, str, format, hash,
    id, bool, callable, hasattr, any, all, ord, chr, bin, oct, hex, ascii, input, open,
)

# ---------------------------------------------------------------- replacements

_INDEXABLE = (list, tuple, range, np.ndarray, str)
_NO_INITIAL = object()


def _indexable(it):
    """``it`` itself if it can be indexed, else its elements as a list."""
    if isinstance(it, _INDEXABLE):
        return it
    return list(it)


def _permutation(keys, reverse):
    """The stable sorting permutation of ``keys`` (what ``sorted`` does to their positions)."""
    return _builtin_sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)


nondifferentiable(_permutation)


def map_impl(func, *iterables):
    if len(iterables) == 1:
        xs = _indexable(iterables[0])
        out = []
        for i in range(len(xs)):
            out.append(func(xs[i]))
        return out
    seqs = []
    n = -1
    for it in iterables:
        s = _indexable(it)
        seqs.append(s)
        if n < 0 or len(s) < n:
            n = len(s)
    out = []
    for i in range(n):
        args = []
        for s in seqs:
            args.append(s[i])
        out.append(func(*args))
    return out


def filter_impl(func, iterable):
    xs = _indexable(iterable)
    out = []
    for i in range(len(xs)):
        x = xs[i]
        if func is None:
            keep = x
        else:
            keep = func(x)
        if keep:
            out.append(x)
    return out


def _zip_mismatch(lengths):
    """The ``ValueError`` message of ``zip(..., strict=True)`` for these lengths, or None."""
    n = _builtin_min(lengths)
    first = lengths.index(n)
    if n == _builtin_max(lengths):
        return None
    if first == 0:
        j = next(i for i, m in enumerate(lengths) if m > n)
        return f"zip() argument {j + 1} is longer than argument{'s 1-%d' % j if j > 1 else ' 1'}"
    return (f"zip() argument {first + 1} is shorter than "
            f"argument{'s 1-%d' % first if first > 1 else ' 1'}")


nondifferentiable(_zip_mismatch)


def zip_impl(*iterables, strict=False):
    seqs = []
    lengths = []
    for it in iterables:
        s = _indexable(it)
        seqs.append(s)
        lengths.append(len(s))
    out = []
    if len(seqs) == 0:
        return out
    if strict:
        message = _zip_mismatch(lengths)
        if message is not None:
            raise ValueError(message)
    n = _builtin_min(lengths)
    if len(seqs) == 2:
        a = seqs[0]
        b = seqs[1]
        for i in range(n):
            out.append((a[i], b[i]))
        return out
    for i in range(n):
        row = []
        for s in seqs:
            row.append(s[i])
        out.append(tuple(row))
    return out


def enumerate_impl(iterable, start=0):
    xs = _indexable(iterable)
    out = []
    for i in range(len(xs)):
        out.append((start + i, xs[i]))
    return out


def reversed_impl(seq):
    xs = _indexable(seq)
    out = []
    for i in range(len(xs) - 1, -1, -1):
        out.append(xs[i])
    return out


def sorted_impl(iterable, key=None, reverse=False):
    xs = _indexable(iterable)
    keys = []
    for i in range(len(xs)):
        if key is None:
            keys.append(xs[i])
        else:
            keys.append(key(xs[i]))
    perm = _permutation(keys, reverse)
    out = []
    for i in perm:
        out.append(xs[i])
    return out


def reduce_impl(function, iterable, initial=_NO_INITIAL):
    xs = _indexable(iterable)
    n = len(xs)
    if initial is _NO_INITIAL:
        if n == 0:
            raise TypeError("reduce() of empty iterable with no initial value")
        acc = xs[0]
        first = 1
    else:
        acc = initial
        first = 0
    for i in range(first, n):
        acc = function(acc, xs[i])
    return acc


defreplacement(map, map_impl)
defreplacement(filter, filter_impl)
defreplacement(zip, zip_impl)
defreplacement(enumerate, enumerate_impl)
defreplacement(reversed, reversed_impl)
defreplacement(sorted, sorted_impl)
defreplacement(functools.reduce, reduce_impl)


# ---- iter: inside differentiated code a sequence stands for its own iterator
def iter_impl(x):
    if isinstance(x, (list, tuple, range, str)) or hasattr(x, "shape"):
        return x
    return x.__iter__()  # not iter(x): that would come back here


defreplacement(iter, iter_impl)
