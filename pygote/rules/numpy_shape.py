"""Rules for NumPy's shape functions: reshaping, transposing, joining, splitting, tiling,
flipping, padding and diagonals, as functions and as ``ndarray`` methods.

Each of these moves entries without arithmetic, so each vjp moves the cotangent back:
the inverse permutation, or a scatter(-add) where entries were dropped or copied.
Undoing broadcasting (``broadcast_to``, ``broadcast_arrays``) is left to ``fit``. Each is
linear, so each jvp is the function itself applied to the tangent: a view of the tangent
where the function returns a view, so that a view's tangent stays a view of its base's.

``ATTRIBUTE_RULES`` maps attribute reads (``x.T``, ``x.real``) to the function whose rule
differentiates them.
"""

from __future__ import annotations

import numpy as np

from pygote.runtime.batched import Batched, BatchingError
from pygote.rules.numpy_indexing import cotangent_like
from pygote.rules.registry import (
    batched_call, deflinear, defjvp, defvjp, defvjp_all, dense_tangent, linear_jvp,
    with_array_args,
)

__all__ = ["ATTRIBUTE_RULES", "undiagonal"]


def _arg(args, kwargs, i, name, default):
    """Argument ``i`` of a call whether passed positionally or as ``name=``."""
    return args[i] if len(args) > i else kwargs.get(name, default)


def _positions(x):
    """The flat (C-order) positions of ``x``'s entries, laid out in memory like ``x``, so
    that layout-dependent orders (``order='A'``/``'K'``) gather from them the entries they
    gather from ``x``."""
    x = np.asarray(x)
    positions = np.empty_like(x, dtype=np.intp)
    positions[...] = np.arange(x.size).reshape(x.shape)
    return positions


def _via_indices(g, x, forward):
    """Adjoint of a pure gather ``forward`` (every output entry a copy of one entry of
    ``x``): run it on the entries' flat positions and scatter-add ``g`` back there."""
    out = np.zeros(np.size(x), dtype=np.result_type(g))
    np.add.at(out, np.ravel(forward(_positions(x))), np.ravel(g))
    return out.reshape(np.shape(x))


def _same_layout(t, x) -> bool:
    """True when arrays ``t`` and ``x`` have the same memory layout (strides in items)."""
    x = np.asarray(x)
    return [s // t.itemsize for s in t.strides] == [s // x.itemsize for s in x.strides]


def _by_layout(func, order_of):
    """The jvp of a reshape-like ``func`` whose ``order`` (read by ``order_of(args,
    kwargs)``) may be 'A'/'K': those read ``x`` in memory order. A tangent laid out like
    ``x`` (as the runtime's tangents of arrays and their views are) is read alike, so
    views stay views; any other is gathered through ``x``'s positions."""
    def jvp(ans, tangents, x, *args, **kwargs):
        t = dense_tangent(tangents[0], x)
        if t is None:
            return None
        if type(t) is Batched:  # (a batch of tangents: runtime/batched.py)
            if order_of(args, kwargs) not in ("C", "F", "c", "f", None):
                raise BatchingError(f"{func.__name__} in memory order")
            return batched_call(func, t, args, kwargs)
        t = np.asarray(t)
        if order_of(args, kwargs) in ("C", "F", "c", "f", None) or _same_layout(t, x):
            return func(t, *args, **kwargs)
        return np.ravel(t)[func(_positions(x), *args, **kwargs)]
    return jvp


# ---------------------------------------------------------------------------------------
# Reshaping: reshape, ravel, flatten, squeeze, expand_dims, atleast_nd
# ---------------------------------------------------------------------------------------


def _reshape_back(g, x, forward, order="C"):
    """Undo a reshape-like call; 'A'/'K' depend on memory layout, so go through indices."""
    if order in ("C", "F", "c", "f", None):
        return np.reshape(g, np.shape(x), order=order or "C")
    return _via_indices(g, x, forward)


def _reshape_vjp(g, ans, x, *args, **kwargs):
    order = _arg(args, kwargs, 1, "order", "C")
    return _reshape_back(g, x, lambda p: np.reshape(p, ans.shape, order=order), order)


defvjp(np.reshape, _reshape_vjp)
defvjp(np.ndarray.reshape, lambda g, ans, x, *shape, order="C", **_: _reshape_back(
    g, x, lambda p: p.reshape(ans.shape, order=order), order))
defvjp(np.ravel, lambda g, ans, x, order="C": _reshape_back(
    g, x, lambda p: np.ravel(p, order), order))
defvjp(np.ndarray.ravel, lambda g, ans, x, order="C": _reshape_back(
    g, x, lambda p: p.ravel(order), order))
defvjp(np.ndarray.flatten, lambda g, ans, x, order="C": _reshape_back(
    g, x, lambda p: p.flatten(order), order))
defjvp(np.reshape, _by_layout(np.reshape, lambda args, kw: _arg(args, kw, 1, "order", "C")))
defjvp(np.ndarray.reshape, _by_layout(np.ndarray.reshape, lambda args, kw: kw.get("order")))
for _f in (np.ravel, np.ndarray.ravel, np.ndarray.flatten):
    defjvp(_f, _by_layout(_f, lambda args, kw: _arg(args, kw, 0, "order", "C")))

for _f in (np.squeeze, np.ndarray.squeeze, np.expand_dims):
    defvjp(_f, lambda g, ans, x, *_, **__: np.reshape(g, np.shape(x)))
    defjvp(_f, linear_jvp(_f))


def _atleast_vjp(g, ans, *arys):
    # One argument returns an array, several a tuple (whose entries may be None).
    if len(arys) == 1:
        return (np.reshape(g, np.shape(arys[0])),)
    return tuple(None if gi is None else np.reshape(gi, np.shape(x)) for gi, x in zip(g, arys))


def _atleast_jvp(func):
    def jvp(ans, tangents, *arys):
        out = tuple(None if t is None else func(dense_tangent(t, x))
                    for t, x in zip(tangents, arys))
        return out[0] if len(arys) == 1 else out
    return jvp


for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    defvjp_all(_f, _atleast_vjp)
    defjvp(_f, _atleast_jvp(_f))


# ---------------------------------------------------------------------------------------
# Permuting axes: transpose, swapaxes, moveaxis, matrix_transpose
# ---------------------------------------------------------------------------------------


def _transpose_back(g, x, axes):
    if axes is None or len(axes) == 0:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % np.ndim(x) for a in axes]))


def _method_axes(axes):
    """``x.transpose()``, ``x.transpose(1, 0)`` and ``x.transpose((1, 0))`` all at once."""
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return axes[0]
    return axes


defvjp(np.transpose, lambda g, ans, x, axes=None: _transpose_back(g, x, axes))
defvjp(np.ndarray.transpose, lambda g, ans, x, *axes: _transpose_back(g, x, _method_axes(axes)))
defvjp(np.swapaxes, lambda g, ans, x, a, b: np.swapaxes(g, a, b))
defvjp(np.ndarray.swapaxes, lambda g, ans, x, a, b: np.swapaxes(g, a, b))
defvjp(np.moveaxis, lambda g, ans, x, source, destination: np.moveaxis(g, destination, source))
defvjp(np.matrix_transpose, lambda g, ans, x: np.matrix_transpose(g))
for _f in (np.transpose, np.ndarray.transpose, np.swapaxes, np.ndarray.swapaxes, np.moveaxis,
           np.matrix_transpose):
    defjvp(_f, linear_jvp(_f))

ATTRIBUTE_RULES = {
    (np.ndarray, "T"): np.transpose,
    (np.ndarray, "mT"): np.matrix_transpose,  # swaps the last two axes
    (np.ndarray, "real"): np.real,  # rules in numpy_ufuncs
    (np.ndarray, "imag"): np.imag,
}


# ---------------------------------------------------------------------------------------
# Joining: concatenate, stack, hstack, vstack, dstack, column_stack
# ---------------------------------------------------------------------------------------


def _unjoin(g, seq, promote, axis):
    """Cut the cotangent of ``join([promote(x) for x in seq], axis)`` into one piece per
    entry of ``seq``, each shaped (and nested, for list entries) like its entry."""
    sizes = [np.shape(promote(x))[axis] for x in seq]
    pieces = [np.reshape(p, np.shape(x))
              for p, x in zip(np.split(g, np.cumsum(sizes)[:-1], axis=axis), seq)]
    if isinstance(seq, np.ndarray):
        return np.stack(pieces)
    return cotangent_like(pieces, seq)


def _concatenate_vjp(g, ans, seq, axis=0, *_, **__):
    if axis is None:  # joins the flattened entries
        return _unjoin(np.ravel(g), seq, np.ravel, 0)
    return _unjoin(g, seq, np.asarray, axis)


def _stack_vjp(g, ans, seq, axis=0, *_, **__):
    pieces = list(np.moveaxis(g, axis, 0))
    return np.stack(pieces) if isinstance(seq, np.ndarray) else cotangent_like(pieces, seq)


defvjp(np.concatenate, _concatenate_vjp)
defvjp(np.stack, _stack_vjp)
# hstack joins 1-d entries end to end and everything else along axis 1.
defvjp(np.hstack, lambda g, ans, seq, **_: _unjoin(
    g, seq, np.atleast_1d, 0 if np.ndim(ans) == 1 else 1))
defvjp(np.vstack, lambda g, ans, seq, **_: _unjoin(g, seq, np.atleast_2d, 0))
defvjp(np.dstack, lambda g, ans, seq, **_: _unjoin(g, seq, np.atleast_3d, 2))
# column_stack makes columns of entries below 2-d.
defvjp(np.column_stack, lambda g, ans, seq: _unjoin(
    g, seq, lambda x: np.atleast_2d(x).T if np.ndim(x) < 2 else x, 1))


def _join_jvp(func, n_args):
    """The jvp of ``func(seq, *args)`` joining the entries of ``seq``: join their tangents
    (zeros for constant entries). Of the positional arguments after ``seq`` the first
    ``n_args`` are kept (``axis``; not ``out``), and the dtype is ``fit_tangent``'s."""
    def jvp(ans, tangents, seq, *args, **kwargs):
        t = tangents[0]
        if t is None or not np.issubdtype(np.result_type(ans), np.inexact):
            return None
        if not isinstance(seq, np.ndarray):
            t = [dense_tangent(ti, x, ans.dtype) for ti, x in zip(t, seq)]
            t = [np.zeros(np.shape(x), ans.dtype) if ti is None else ti for ti, x in zip(t, seq)]
        for name in ("out", "dtype", "casting"):
            kwargs.pop(name, None)
        return func(t, *args[:n_args], **kwargs)
    return jvp


for _f, _n in ((np.concatenate, 1), (np.stack, 1), (np.hstack, 0), (np.vstack, 0),
               (np.dstack, 0), (np.column_stack, 0)):
    defjvp(_f, _join_jvp(_f, _n))


# ---------------------------------------------------------------------------------------
# Splitting: the output is a list, its cotangent a list with None for unused pieces
# ---------------------------------------------------------------------------------------


def _split_vjp(axis_of):
    def vjp(g, ans, x, *args, **kwargs):
        pieces = [np.zeros_like(a) if gi is None else gi for gi, a in zip(g, ans)]
        return np.concatenate(pieces, axis=axis_of(x, args, kwargs))
    return vjp


_given_axis = _split_vjp(lambda x, args, kwargs: _arg(args, kwargs, 1, "axis", 0))
defvjp(np.split, _given_axis)
defvjp(np.array_split, _given_axis)
defvjp(np.vsplit, _split_vjp(lambda x, args, kwargs: 0))
defvjp(np.hsplit, _split_vjp(lambda x, args, kwargs: 0 if np.ndim(x) == 1 else 1))
defvjp(np.dsplit, _split_vjp(lambda x, args, kwargs: 2))
for _f in (np.split, np.array_split, np.vsplit, np.hsplit, np.dsplit):
    defjvp(_f, linear_jvp(_f))  # a list of views of the tangent


# ---------------------------------------------------------------------------------------
# Copying entries: tile, repeat, broadcast_to, copy, astype
# ---------------------------------------------------------------------------------------


def _tile_vjp(g, ans, x, reps):
    # View the output as (reps_0, n_0, reps_1, n_1, ...) and sum over the repetitions.
    n = np.ndim(g)
    shape = (1,) * (n - np.ndim(x)) + np.shape(x)
    reps = (1,) * (n - np.size(reps)) + tuple(np.ravel(reps))
    g = np.reshape(g, [d for pair in zip(reps, shape) for d in pair])
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * n, 2))), np.shape(x))


def _repeat_vjp(g, ans, x, repeats, axis=None):
    return _via_indices(g, x, lambda p: np.repeat(p, repeats, axis))


def _identity(g, ans, x, *_, **__):
    """Copies, casts and broadcasts pass g through: casting back and summing is fit's job."""
    return g


defvjp(np.tile, _tile_vjp)
defvjp(np.repeat, _repeat_vjp)
defvjp(np.ndarray.repeat, _repeat_vjp)
for _f in (np.broadcast_to, np.copy, np.ndarray.copy, np.ndarray.astype):
    defvjp(_f, _identity)
defvjp_all(np.broadcast_arrays, lambda g, ans, *xs, **_: tuple(g))
for _f in (np.tile, np.repeat, np.ndarray.repeat, np.broadcast_to, np.copy, np.ndarray.copy):
    defjvp(_f, linear_jvp(_f))
defjvp(np.broadcast_arrays, lambda ans, tangents, *xs, **_: tuple(
    None if t is None else np.broadcast_to(dense_tangent(t, x), np.shape(y))
    for t, x, y in zip(tangents, xs, ans)))


def _astype_jvp(ans, tangents, x, dtype, order="K", casting="unsafe", subok=True, copy=True):
    # astype to the output's dtype (a real one takes the real part), copying where the
    # value is copied; not with x's casting, which a float64 tangent of float32 x may fail
    t = tangents[0]
    if t is None or not np.issubdtype(ans.dtype, np.inexact):
        return None
    t = np.asarray(t)
    if np.iscomplexobj(t) and not np.iscomplexobj(ans):
        t = t.real
    return t.astype(ans.dtype, order, copy=copy)


defjvp(np.ndarray.astype, _astype_jvp)


# ---------------------------------------------------------------------------------------
# Reordering: flip, roll, rot90
# ---------------------------------------------------------------------------------------

defvjp(np.flip, lambda g, ans, x, axis=None: np.flip(g, axis))
defvjp(np.fliplr, lambda g, ans, x: np.fliplr(g))
defvjp(np.flipud, lambda g, ans, x: np.flipud(g))
defvjp(np.roll, lambda g, ans, x, shift, axis=None: np.roll(g, np.negative(shift), axis))
defvjp(np.rot90, lambda g, ans, x, k=1, axes=(0, 1): np.rot90(g, -k, axes))
for _f in (np.flip, np.fliplr, np.flipud, np.roll, np.rot90):
    defjvp(_f, linear_jvp(_f))
deflinear(np.flip, np.fliplr, np.flipud, np.roll, np.rot90, np.swapaxes, np.moveaxis,
          np.transpose, np.squeeze, np.expand_dims)


# ---------------------------------------------------------------------------------------
# pad
# ---------------------------------------------------------------------------------------


def _pad_vjp(g, ans, x, pad_width, mode="constant", **kwargs):
    if mode in ("constant", "empty"):  # the padding is new values: keep the middle
        widths = np.broadcast_to(pad_width, (np.ndim(x), 2))
        return g[tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, np.shape(x)))]
    gather = mode in ("edge", "wrap") or (
        mode in ("reflect", "symmetric") and kwargs.get("reflect_type", "even") == "even")
    if gather:  # the padding copies entries ('odd' reflection computes new ones)
        return _via_indices(g, x, lambda p: np.pad(p, pad_width, mode, **kwargs))
    raise NotImplementedError(f"pygote: no gradient for np.pad(mode={mode!r})")


def _pad_jvp(ans, tangents, x, pad_width, mode="constant", **kwargs):
    # Every mode but the order statistics is affine in x: pad the tangent alike, with the
    # constants (padding values, ramps' end values) zero.
    t = tangents[0]
    if t is None:
        return None
    if mode in ("constant", "empty"):
        return np.pad(t, pad_width)
    if mode == "linear_ramp":
        return np.pad(t, pad_width, mode, end_values=0)
    if mode in ("edge", "wrap", "reflect", "symmetric", "mean"):
        return np.pad(t, pad_width, mode, **kwargs)
    raise NotImplementedError(f"pygote: no forward-mode derivative for np.pad(mode={mode!r})")


defvjp(np.pad, _pad_vjp)
defjvp(np.pad, with_array_args(_pad_jvp))


# ---------------------------------------------------------------------------------------
# Diagonals and triangles: diag, diagonal, tril, triu
# ---------------------------------------------------------------------------------------


def undiagonal(g, shape, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.diagonal``: zeros of ``shape`` with ``g`` (diagonal axis last) written
    onto the ``offset`` diagonal of axes ``axis1``, ``axis2``."""
    out = np.zeros(shape, dtype=np.result_type(g))
    moved = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes land in out
    i = np.arange(np.shape(g)[-1])
    moved[..., i + max(-offset, 0), i + max(offset, 0)] = g
    return out


def _diag_vjp(g, ans, v, k=0):
    if np.ndim(v) == 1:  # built a matrix: read its diagonal back
        return np.diagonal(g, k)
    return undiagonal(g, np.shape(v), k)


defvjp(np.diag, _diag_vjp)
for _f in (np.diagonal, np.ndarray.diagonal):
    defvjp(_f, lambda g, ans, x, offset=0, axis1=0, axis2=1: undiagonal(
        g, np.shape(x), offset, axis1, axis2))
defvjp(np.tril, lambda g, ans, x, k=0: np.tril(g, k))
defvjp(np.triu, lambda g, ans, x, k=0: np.triu(g, k))
for _f in (np.diag, np.diagonal, np.ndarray.diagonal, np.tril, np.triu):
    defjvp(_f, linear_jvp(_f))
