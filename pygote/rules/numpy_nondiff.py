"""Marks the NumPy functions whose outputs carry no gradient (shapes, constructors,
indices, comparisons, random draws), and gives the few constructors that do depend
smoothly on an argument (``full``, ``arange``, ``linspace``, ``item``, ``tolist``) a rule.
All of those are linear in their differentiable arguments, so each jvp is the function
applied to the tangents. Last, the methods of NumPy scalars (``np.float64``,
``np.complex128``: ``x[0].conj()``, ``np.sum(x).item()``) get the rules of the ``ndarray``
methods of the same name.
"""

from __future__ import annotations

import numpy as np

# their ndarray methods' rules are given to NumPy scalars' methods at the end
import pygote.rules.numpy_reductions  # noqa: F401
import pygote.rules.numpy_shape  # noqa: F401
import pygote.rules.numpy_ufuncs  # noqa: F401
from pygote.rules.registry import (
    NONDIFFERENTIABLE, RULES, add_tangents, defjvp, defvjp, defvjp_all, dense_tangent,
    linear_jvp, nondifferentiable,
)

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
# ... and its tangent is fill's, broadcast by fit_tangent
defjvp(np.full, lambda ans, tangents, *_, **__: tangents[1])
defjvp(np.full_like, lambda ans, tangents, *_, **__: tangents[1])

# arange(start, stop, step) = start + i * step; the count, the only use of stop (and of
# the sole argument of arange(stop)), is a step function of it.
defvjp(
    np.arange,
    lambda g, ans, *args, **_: None if len(args) == 1 else g,
    None,
    lambda g, ans, *args, **_: g * np.arange(np.size(ans)),
)


def _arange_jvp(ans, tangents, *args, **_):
    if len(args) == 1:
        return None
    t_step = tangents[2] if len(args) > 2 else None
    return add_tangents(tangents[0], None if t_step is None else t_step * np.arange(np.size(ans)))


defjvp(np.arange, _arange_jvp)


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


def _linspace_jvp(ans, tangents, start, stop, num=50, endpoint=True, retstep=False,
                  dtype=None, axis=0, **_):
    """linspace is linear in (start, stop): the samples' tangent is the linspace of the
    tangents; the step's is ``(dstop - dstart) / div`` (none where the step is NaN)."""
    t_start, t_stop = tangents[0], tangents[1]
    if t_start is None and t_stop is None:
        return (None, None) if retstep else None
    t_start = 0.0 if t_start is None else t_start
    t_stop = 0.0 if t_stop is None else t_stop
    samples = np.linspace(t_start, t_stop, num, endpoint=endpoint, axis=axis)
    if not retstep:
        return samples
    div = num - 1 if endpoint else num
    return samples, (np.subtract(t_stop, t_start) / div if div > 0 else None)


defjvp(np.linspace, _linspace_jvp)

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


def _tolist_vjp(g, ans, x):
    # g is nested like the list ans, None for zero entries (dense_tangent fills them)
    g = dense_tangent(g, ans)
    return None if g is None else np.reshape(g, np.shape(x))


defvjp(np.ndarray.item, _item_vjp)
defvjp(np.ndarray.tolist, _tolist_vjp)
# the same entry (or nested list) of the tangent
defjvp(np.ndarray.item, linear_jvp(np.ndarray.item))
defjvp(np.ndarray.tolist, linear_jvp(np.ndarray.tolist))


# ---------------------------------------------------------------------------------------
# NumPy scalars' methods
# ---------------------------------------------------------------------------------------
# ``x[0]`` of a float or complex array is a NumPy scalar (``np.float64``, ``np.complex128``),
# whose methods are ``np.generic``'s descriptors, not ``np.ndarray``'s: ``x[0].conj()`` or
# ``np.sum(x).item()`` found no rule. A NumPy scalar behaves as a 0-d array under every
# ``ndarray`` method that both have, so each rule runs the ``ndarray`` rule of the same
# name with the scalar (and its tangent) as a 0-d array; ``fit`` casts the cotangent back.


def _as_array(x):
    return np.asarray(x) if isinstance(x, np.generic) else x


def _scalar_vjp(array_vjp):
    def vjp(g, ans, x, *args, **kwargs):
        return array_vjp(g, ans, _as_array(x), *args, **kwargs)

    return vjp


def _scalar_jvp(array_jvp):
    def jvp(ans, tangents, x, *args, **kwargs):
        tangents = (_as_array(tangents[0]),) + tuple(tangents[1:]) if tangents else tangents
        return array_jvp(ans, tangents, _as_array(x), *args, **kwargs)

    return jvp


def _mirror_scalar_methods():
    for name in dir(np.generic):
        scalar_method = getattr(np.generic, name)
        array_method = getattr(np.ndarray, name, None)
        if name.startswith("_") or array_method is None or not callable(scalar_method):
            continue
        if array_method in NONDIFFERENTIABLE:
            nondifferentiable(scalar_method)
        rule = RULES.get(array_method)
        if rule is None or scalar_method in RULES:
            continue
        if rule.vjp is not None:
            defvjp_all(scalar_method, _scalar_vjp(rule.vjp))
        if rule.jvp is not None:
            defjvp(scalar_method, _scalar_jvp(rule.jvp))


_mirror_scalar_methods()
