"""Reverse rules for NumPy's shape functions: reshaping, transposing, joining, splitting,
tiling, flipping, padding and diagonals, as functions and as ``ndarray`` methods.

Each of these moves entries without arithmetic, so each vjp moves the cotangent back:
the inverse permutation, or a scatter(-add) where entries were dropped or copied.
Undoing broadcasting (``broadcast_to``, ``broadcast_arrays``) is left to ``fit``.

``ATTRIBUTE_RULES`` maps attribute reads (``x.T``, ``x.real``) to the function whose rule
differentiates them.
"""

from __future__ import annotations

import numpy as np

from pygote.rules.numpy_indexing import cotangent_like
from pygote.rules.registry import defvjp, defvjp_all

__all__ = ["ATTRIBUTE_RULES", "undiagonal"]


def _arg(args, kwargs, i, name, default):
    """Argument ``i`` of a call whether passed positionally or as ``name=``."""
    return args[i] if len(args) > i else kwargs.get(name, default)


def _via_indices(g, x, forward):
    """Adjoint of a pure gather ``forward`` (every output entry a copy of one entry of
    ``x``): run it on the entries' flat positions and scatter-add ``g`` back there.

    The position array copies ``x``'s memory layout, so layout-dependent orders
    (``order='A'``/``'K'``) gather the same entries as they did from ``x``.
    """
    x = np.asarray(x)
    positions = np.empty_like(x, dtype=np.intp)
    positions[...] = np.arange(x.size).reshape(x.shape)
    out = np.zeros(x.size, dtype=np.result_type(g))
    np.add.at(out, np.ravel(forward(positions)), np.ravel(g))
    return out.reshape(x.shape)


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

for _f in (np.squeeze, np.ndarray.squeeze, np.expand_dims):
    defvjp(_f, lambda g, ans, x, *_, **__: np.reshape(g, np.shape(x)))


def _atleast_vjp(g, ans, *arys):
    # One argument returns an array, several a tuple (whose entries may be None).
    if len(arys) == 1:
        return (np.reshape(g, np.shape(arys[0])),)
    return tuple(None if gi is None else np.reshape(gi, np.shape(x)) for gi, x in zip(g, arys))


for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    defvjp_all(_f, _atleast_vjp)


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


# ---------------------------------------------------------------------------------------
# Reordering: flip, roll, rot90
# ---------------------------------------------------------------------------------------

defvjp(np.flip, lambda g, ans, x, axis=None: np.flip(g, axis))
defvjp(np.fliplr, lambda g, ans, x: np.fliplr(g))
defvjp(np.flipud, lambda g, ans, x: np.flipud(g))
defvjp(np.roll, lambda g, ans, x, shift, axis=None: np.roll(g, np.negative(shift), axis))
defvjp(np.rot90, lambda g, ans, x, k=1, axes=(0, 1): np.rot90(g, -k, axes))


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


defvjp(np.pad, _pad_vjp)


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
