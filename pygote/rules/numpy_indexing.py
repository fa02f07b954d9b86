"""Rules for NumPy's gathers: indexing (``x[index]``), take, sort, and building arrays
from nested lists (``np.array([x, y * 2, 3.0])``).

A gather copies entries of its input, so its vjp scatters the cotangent back; where an
entry can be read more than once (integer-array indices, ``take``) the scatter must
accumulate, which is what ``np.add.at`` does and plain assignment does not. Its jvp is
the same gather of the tangent (``x[index]`` itself is the runtime's: ``dx[index]``).
"""

from __future__ import annotations

import numpy as np

from pygote.rules.registry import defjvp, defvjp, dense_tangent, with_array_args
from pygote.runtime.values import fit

__all__ = ["getitem_vjp", "cotangent_like"]


def _zeros(x, g):
    """Zeros shaped like ``x`` in a dtype that can hold ``g`` (``fit`` casts back later)."""
    return np.zeros(np.shape(x), dtype=np.result_type(np.asarray(x).dtype, np.asarray(g).dtype))


# ---------------------------------------------------------------------------------------
# x[index]
# ---------------------------------------------------------------------------------------

_UNIQUE_INDEX_TYPES = (int, np.integer, slice, type(None), type(Ellipsis))


def _reads_each_once(index) -> bool:
    """True when ``index`` reads no entry twice (basic indices, boolean masks), so the
    scatter can be a plain assignment instead of the slower accumulating ``np.add.at``."""
    parts = index if type(index) is tuple else (index,)
    return all(
        isinstance(p, _UNIQUE_INDEX_TYPES)
        or (isinstance(p, np.ndarray) and p.dtype == np.bool_)
        for p in parts
    )


def getitem_vjp(g, x, index):
    """The cotangent of ndarray ``x`` for ``y = x[index]``: ``g`` scattered back to where it
    was read, summed over repeated integer indices."""
    out = _zeros(x, g)
    if _reads_each_once(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


# ---------------------------------------------------------------------------------------
# take, take_along_axis, sort
# ---------------------------------------------------------------------------------------


def _take_vjp(g, ans, a, indices, axis=None, out=None, mode="raise"):
    n = np.size(a) if axis is None else np.shape(a)[axis]
    if mode == "wrap":
        indices = np.mod(indices, n)
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    ct = _zeros(a, g)
    if axis is None:  # take reads the flattened array
        np.add.at(ct.reshape(-1), indices, g)
    else:
        np.add.at(ct, (slice(None),) * (axis % ct.ndim) + (indices,), g)
    return ct


def _take_jvp(ans, tangents, a, indices, axis=None, out=None, mode="raise"):
    t = tangents[0]
    return None if t is None else np.take(t, indices, axis, mode=mode)


defvjp(np.take, _take_vjp)
defvjp(np.ndarray.take, _take_vjp)
defjvp(np.take, with_array_args(_take_jvp))
defjvp(np.ndarray.take, _take_jvp)


def _along_axis(shape, indices, axis):
    """The full fancy index that ``take_along_axis(arr, indices, axis)`` reads."""
    index = list(np.ix_(*[np.arange(n) for n in shape]))
    index[axis] = indices
    return tuple(index)


def _take_along_axis_vjp(g, ans, arr, indices, axis=-1):
    ct = _zeros(arr, g)
    if axis is None:  # reads the flattened array
        np.add.at(ct.reshape(-1), indices, g)
    else:
        np.add.at(ct, _along_axis(ct.shape, indices, axis), g)
    return ct


defvjp(np.take_along_axis, _take_along_axis_vjp)
defjvp(np.take_along_axis, with_array_args(lambda ans, tangents, arr, indices, axis=-1: None
       if tangents[0] is None else np.take_along_axis(np.asarray(tangents[0]), indices, axis)))


def _sort_vjp(g, ans, a, axis=-1, kind=None, order=None, **_):
    # sort is a permutation: send each cotangent entry back to where its value came from.
    # Ties may be ordered differently from the forward sort; equal values make that harmless.
    perm = np.argsort(a, axis=axis, kind="stable")
    ct = _zeros(a, g)
    if axis is None:
        ct.reshape(-1)[perm] = g
    else:
        np.put_along_axis(ct, perm, g, axis)
    return ct


def _sort_jvp(ans, tangents, a, axis=-1, kind=None, order=None, **_):
    # the tangent follows its value through the permutation (ties: see _sort_vjp)
    t = tangents[0]
    if t is None:
        return None
    if axis is None:
        return np.ravel(t)[np.argsort(a, axis=None, kind="stable")]
    return np.take_along_axis(np.asarray(t), np.argsort(a, axis=axis, kind="stable"), axis)


defvjp(np.sort, _sort_vjp)
defjvp(np.sort, with_array_args(_sort_jvp))


# ---------------------------------------------------------------------------------------
# Building arrays: np.array([x, y, 3.0]) and friends
# ---------------------------------------------------------------------------------------


def cotangent_like(g, x):
    """Give array cotangent ``g`` the structure of ``x``: nested lists and tuples stay
    nested, floats get floats, ints and bools ``None``, arrays an array of their shape."""
    if isinstance(x, (list, tuple)):
        out = [cotangent_like(gi, xi) for gi, xi in zip(g, x)]
        return tuple(out) if isinstance(x, tuple) else out
    return fit(g, x)


def _array_vjp(g, ans, x, *_, **__):
    # The reshape undoes ``ndmin`` and ``ascontiguousarray``'s promotion of 0-d to 1-d.
    return cotangent_like(np.reshape(g, np.shape(x)), x)


def _array_jvp(func):
    """``func(x, dtype, ...)`` builds an array from ``x``: of a nested list, stack the
    entries' tangents; of an array, call ``func`` on the tangent, so that the tangent is a
    copy exactly where the array is (the dtype is ``fit_tangent``'s to set)."""
    def jvp(ans, tangents, x, *args, **kwargs):
        t = tangents[0]
        if t is None or not np.issubdtype(np.result_type(ans), np.inexact):
            return None
        if isinstance(x, (list, tuple)):
            t = dense_tangent(t, x, ans.dtype)
            return None if t is None else np.reshape(t, np.shape(ans))  # ndmin
        kwargs.pop("dtype", None)
        kwargs.pop("like", None)
        return func(t, *args[1:], **kwargs)
    return jvp


for _f in (np.array, np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray):
    defvjp(_f, _array_vjp)
    defjvp(_f, _array_jvp(_f))
