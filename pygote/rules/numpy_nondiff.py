"""Marks the NumPy functions whose outputs carry no gradient (shapes, constructors,
indices, comparisons, random draws), and gives the few constructors that do depend
smoothly on an argument (``full``, ``arange``, ``linspace``, ``item``, ``tolist``) a rule.
"""

from __future__ import annotations

import numpy as np

from pygote.rules.registry import defvjp, nondifferentiable

# ---------------------------------------------------------------------------------------
# Shapes, dtypes and predicates about them
# ---------------------------------------------------------------------------------------

nondifferentiable(
    np.shape, np.ndim, np.size, np.result_type, np.dtype, np.iscomplexobj, np.isrealobj,
    np.isscalar, np.iscomplex, np.isreal, np.broadcast_shapes, np.can_cast,
    np.promote_types, np.issubdtype, np.finfo, np.iinfo, np.may_share_memory,
    np.shares_memory,
)

# ---------------------------------------------------------------------------------------
# Constant constructors (the values depend on shapes only)
# ---------------------------------------------------------------------------------------

nondifferentiable(
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like, np.eye,
    np.identity, np.tri, np.indices, np.diag_indices, np.tril_indices, np.triu_indices,
)

# ---------------------------------------------------------------------------------------
# Indices, counts and comparisons: integer or boolean valued
# ---------------------------------------------------------------------------------------

nondifferentiable(
    np.argmax, np.argmin, np.argsort, np.argpartition, np.lexsort, np.argwhere,
    np.nonzero, np.flatnonzero, np.searchsorted, np.digitize, np.count_nonzero,
    np.unravel_index, np.ravel_multi_index, np.isclose, np.allclose, np.array_equal,
    np.array_equiv, np.any, np.all,
    np.ndarray.argmax, np.ndarray.argmin, np.ndarray.argsort, np.ndarray.nonzero,
    np.ndarray.searchsorted, np.ndarray.any, np.ndarray.all,
)

# ---------------------------------------------------------------------------------------
# Random draws: treated as constants (no reparameterisation through loc/scale)
# ---------------------------------------------------------------------------------------

nondifferentiable(*(getattr(np.random, name) for name in np.random.__all__))
for _cls in (np.random.Generator, np.random.RandomState):
    nondifferentiable(*(f for name, f in vars(_cls).items()
                        if not name.startswith("_") and callable(f)))

# ---------------------------------------------------------------------------------------
# Constructors that are differentiable in a value argument
# ---------------------------------------------------------------------------------------

# full(shape, fill): every entry is fill, so its cotangent is sum(g) (fit does the sum).
defvjp(np.full, None, lambda g, *_, **__: g)
defvjp(np.full_like, None, lambda g, *_, **__: g)

# arange(start, stop, step) = start + i * step; the count, the only use of stop (and of
# the sole argument of arange(stop)), is a step function of it.
defvjp(
    np.arange,
    lambda g, ans, *args, **_: None if len(args) == 1 else g,
    None,
    lambda g, ans, *args, **_: g * np.arange(np.size(ans)),
)


def _linspace_vjp(weight):
    """The vjp for start (``weight = 1 - t``) or stop (``weight = t``) of
    ``linspace = start + t * (stop - start)``; ``retstep`` adds ``step = (stop - start) / div``."""
    def vjp(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
            **_):
        shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
        t = np.linspace(np.zeros(shape), np.ones(shape), num, endpoint=endpoint, axis=axis)
        g, g_step = g if retstep else (g, None)
        ct = 0.0 if g is None else np.sum(g * weight(t), axis=axis)
        div = num - 1 if endpoint else num
        if g_step is not None and div > 0:
            ct = ct + g_step * (weight(1.0) - weight(0.0)) / div
        return ct
    return vjp


defvjp(np.linspace, _linspace_vjp(lambda t: 1 - t), _linspace_vjp(lambda t: t))

# ---------------------------------------------------------------------------------------
# Leaving ndarray: item and tolist
# ---------------------------------------------------------------------------------------


def _item_vjp(g, ans, x, *index):
    """x.item(), x.item(flat), x.item(i, j) or x.item((i, j)): g lands on that one entry."""
    out = np.zeros_like(x, dtype=np.result_type(x, g))
    if len(index) == 1 and isinstance(index[0], tuple):
        index = index[0]
    if len(index) <= 1:
        out.flat[index[0] if index else 0] = g
    else:
        out[index] = g
    return out


def _dense(g, ans):
    """The nested-list cotangent ``g`` of ``ans`` with its ``None`` (zero) entries filled."""
    if isinstance(ans, list):
        return [_dense(gi, ai) for gi, ai in zip([None] * len(ans) if g is None else g, ans)]
    return 0.0 if g is None else g


defvjp(np.ndarray.item, _item_vjp)
defvjp(np.ndarray.tolist, lambda g, ans, x: np.reshape(np.array(_dense(g, ans)), np.shape(x)))
