"""What a value's gradient looks like: differentiability, zeros, sums, and fitting a
cotangent to the value it belongs to (broadcasting undone, dtype kept, real stays real).

Cotangents use ``None`` for "zero" everywhere, so nothing is allocated for values that
receive no gradient.
"""

from __future__ import annotations

import types

import numpy as np

from pygote.runtime.batched import Batched, fit_batched

ndarray = np.ndarray
_F64 = np.dtype(np.float64)
_inexact = np.inexact
_NUMBER_TYPES = (float, complex)
_OPAQUE = (type, types.FunctionType, types.ModuleType, types.MethodType,
           types.BuiltinFunctionType)
_NONDIFF_SCALARS = (bool, int, str, bytes, type(None))


def is_differentiable(x) -> bool:
    """True for values that carry a gradient themselves (floats, complex, float arrays)."""
    t = type(x)
    if t is float or t is complex:
        return True
    if t is ndarray or isinstance(x, (np.ndarray, np.generic)):
        return issubclass(x.dtype.type, _inexact)
    return False


def contains_differentiable(x, _depth: int = 0) -> bool:
    """True if ``x`` or anything reachable in it (containers, attributes) is differentiable."""
    if is_differentiable(x):
        return True
    if _depth > 6:
        return False
    t = type(x)
    if t in (int, bool, str, bytes, type(None)):
        return False
    if t in (tuple, list) or isinstance(x, (tuple, list)):
        return any(contains_differentiable(v, _depth + 1) for v in x)
    if isinstance(x, dict):
        return any(contains_differentiable(v, _depth + 1) for v in x.values())
    d = getattr(x, "__dict__", None)
    if d is not None and not isinstance(x, _OPAQUE):
        return any(contains_differentiable(v, _depth + 1) for v in d.values())
    return False


def unbroadcast(g, shape: tuple):
    """Sum ``g`` down to ``shape``: the one place where broadcasting is undone."""
    gshape = np.shape(g)
    if gshape == shape:
        return g
    if len(gshape) < len(shape) or any(a < b for a, b in zip(gshape[::-1], shape[::-1])):
        # a cotangent smaller than its value: the value was reduced or is a broadcast scalar
        g = np.broadcast_to(g, np.broadcast_shapes(gshape, shape))
        gshape = g.shape
        if gshape == shape:
            return g
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if np.shape(g) != shape:
        g = np.reshape(g, shape)
    return g


def fit(g, x):
    """Make cotangent ``g`` fit value ``x``: its shape, its dtype, real if ``x`` is real.

    Returns ``None`` when ``x`` cannot carry a gradient. An array cotangent of a list or
    tuple (one a NumPy function read as an array) is split into its items' cotangents.
    """
    if g is None:
        return None
    t = type(x)
    if t is float:
        tg = type(g)
        if tg is float:
            return g
        if tg is complex:
            return g.real
        if tg is int or tg is bool or tg is np.float64 or tg is np.float32:
            return float(g)
        if tg is ndarray:  # (the method: np.sum's dispatch costs more than a small sum)
            return float((g.real if g.dtype.kind == "c" else g).sum())
        if tg is Batched:
            return fit_batched(g, (), _F64, True, True)
        g = np.real(g) if np.iscomplexobj(g) else g
        return float(np.sum(g))
    if t is ndarray:
        dtype = x.dtype
        if not issubclass(dtype.type, _inexact):
            return None
        if type(g) is not ndarray or g.shape != x.shape:
            if type(g) is Batched:
                return fit_batched(g, x.shape, dtype, dtype.kind != "c", True)
            g = unbroadcast(np.asarray(g), x.shape)
        if g.dtype != dtype:
            if np.iscomplexobj(g) and not np.iscomplexobj(x):
                g = g.real
            g = g.astype(dtype, copy=False)
        return g
    if t is complex:
        return complex(np.sum(g))
    if isinstance(x, np.generic):
        tg = type(g)
        if tg is t:  # a NumPy scalar's cotangent of its own type
            return g
        if tg is Batched:
            inexact = issubclass(x.dtype.type, _inexact)
            return fit_batched(g, (), x.dtype, x.dtype.kind != "c", True) if inexact else None
        if (tg is float or tg is np.float64) and t is not np.float32:
            # a real cotangent: as x's type (complex x: its real direction)
            return t(g) if issubclass(t, _inexact) else None
        if not issubclass(x.dtype.type, _inexact):
            return None
        if tg is ndarray:
            if g.dtype.kind == "c" and x.dtype.kind != "c":
                g = g.real
            return x.dtype.type(g.sum())
        if np.iscomplexobj(g) and not np.iscomplexobj(x):
            g = np.real(g)
        return x.dtype.type(np.sum(g))
    if isinstance(x, ndarray):  # subclasses
        return fit(g, np.asarray(x))
    if t in _NONDIFF_SCALARS:
        return None
    if isinstance(x, (list, tuple)) and isinstance(g, _ARRAY_COTANGENTS):
        return _split(g, x)
    return g


_ARRAY_COTANGENTS = (ndarray, np.generic, float, complex)


def _split(g, x):
    """The array cotangent ``g`` of array-like ``x`` (a list or tuple that a NumPy function
    read as an array: ``np.sum([a, 2.0])``) as a list or tuple of its items' cotangents,
    nested alike. Left as it is where ``x`` is not array-like (ragged)."""
    try:
        shape = np.shape(x)
    except ValueError:
        return g
    g = unbroadcast(np.asarray(g), shape)
    items = [fit(gi, xi) for gi, xi in zip(g, x)]
    if type(x) is list or type(x) is tuple:
        return type(x)(items)
    if hasattr(x, "_fields"):  # a namedtuple
        return type(x)(*items)
    return tuple(items) if isinstance(x, tuple) else items


def add(a, b):
    """Sum of two cotangents, ``None`` being zero; structural for tuples, lists, dicts."""
    if a is None:
        return b
    if b is None:
        return a
    ta = type(a)
    if ta is float or ta is ndarray or ta is complex:
        return a + b
    if ta is tuple or ta is list:
        return ta(add(x, y) for x, y in zip(a, b))
    if ta is dict:
        out = dict(a)
        for k, v in b.items():
            out[k] = add(out.get(k), v)
        return out
    if isinstance(a, tuple) and hasattr(a, "_fields"):  # namedtuple cotangent
        return ta(*(add(x, y) for x, y in zip(a, b)))
    from pygote.runtime.structural import Structural

    if ta is Structural:
        return a.merged(b)
    return a + b


def zeros_like(x):
    """The zero gradient of value ``x`` with its own shape and dtype (API.md)."""
    t = type(x)
    if t is float:
        return 0.0
    if t is complex:
        return 0j
    if t is ndarray or isinstance(x, np.ndarray):
        if issubclass(x.dtype.type, _inexact):
            return np.zeros_like(x)
        return None
    if isinstance(x, np.generic):
        return x.dtype.type(0) if issubclass(x.dtype.type, _inexact) else None
    return None


def fit_tangent(t, y):
    """Make tangent ``t`` fit value ``y``: ``y``'s shape (broadcast, owning its memory so it
    can be written in place), ``y``'s dtype, real if ``y`` is real.

    Forward rules return tangents that merely broadcast to their output (``dx`` for
    ``x + 1.0`` with ``x`` a scalar and the output an array); this is the one place that
    fixes them up, the forward counterpart of ``fit``. ``None`` (zero) stays ``None``.
    Tuples and lists of outputs (``divmod``, ``np.linalg.eigh``) are fitted item by item.
    """
    if t is None:
        return None
    ty = type(y)
    if ty is float:
        tt = type(t)
        if tt is float:
            return t
        if tt is complex:
            return t.real
        if tt is Batched:
            return fit_batched(t, (), _F64, True, True)
        return float(np.real(t)) if np.ndim(t) == 0 else float(np.real(np.sum(t)))
    if ty is ndarray:
        dtype = y.dtype
        if not issubclass(dtype.type, _inexact):
            return None
        if type(t) is not ndarray or t.shape != y.shape:
            if type(t) is Batched:
                return fit_batched(t, y.shape, dtype, dtype.kind != "c", False)
            t = np.asarray(t)
            if t.shape != y.shape:
                t = np.array(np.broadcast_to(t, y.shape))
        if t.dtype != dtype:
            if np.iscomplexobj(t) and not np.iscomplexobj(y):
                t = t.real
            t = t.astype(dtype)
        return t
    if ty is complex:
        return complex(t)
    if isinstance(y, np.generic):
        if not issubclass(y.dtype.type, _inexact):
            return None
        if type(t) is Batched:
            return fit_batched(t, (), y.dtype, y.dtype.kind != "c", True)
        if np.iscomplexobj(t) and not np.iscomplexobj(y):
            t = np.real(t)
        return y.dtype.type(t)
    if isinstance(y, (tuple, list)) and isinstance(t, (tuple, list)):
        items = [fit_tangent(a, b) for a, b in zip(t, y)]
        if isinstance(y, tuple) and hasattr(y, "_fields"):
            return type(y)(*items)
        return type(y)(items) if ty in (tuple, list) else tuple(items)
    if isinstance(y, ndarray):
        return fit_tangent(t, np.asarray(y))
    if ty in _NONDIFF_SCALARS:
        return None
    return t


# ---------------------------------------------------------------- the lean path of array
# statements (pygote/transform/arrays.py) asks these


_REAL_SCALARS = (float, int, np.floating, np.integer)


def is_real(x) -> bool:
    """A real number or an array of real floats (nothing else may enter the lean path)."""
    t = type(x)
    if t is float or t is int:
        return True
    if t is ndarray or t is Batched:  # (a batch of real arrays: runtime/batched.py)
        return x.dtype.kind == "f"
    return t is not bool and isinstance(x, _REAL_SCALARS)


def all_real(*xs) -> bool:
    """Whether every value is a real number or an array of real floats (``None`` is not):
    forward mode's inline tangents run then (``ForwardGenerator.array_fast``)."""
    for x in xs:
        if not is_real(x):
            return False
    return True


def matrices(*xs) -> bool:
    """Whether the values, taken in pairs, are the operands of plain matrix products: both
    arrays, a matrix times a matrix, a matrix times a vector or a vector times a matrix
    (the lean path's backward of ``a @ c`` is then ``g @ c.T`` or an outer product)."""
    for k in range(0, len(xs), 2):
        a, c = xs[k], xs[k + 1]
        if (type(a) is not ndarray and type(a) is not Batched or
                type(c) is not ndarray and type(c) is not Batched):  # (batched.py)
            return False
        n, m = a.ndim, c.ndim
        if not (n == 2 and m in (1, 2) or n == 1 and m == 2):
            return False
    return True
