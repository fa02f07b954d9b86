"""Reverse and forward rules for NumPy's reductions and scans, as functions and as
``ndarray`` methods.

Each rule's signature mirrors numpy's own (``axis`` second, positional or keyword), so the
same function serves ``np.sum(x, 0)`` and ``x.sum(0)``: the method descriptors receive the
array as their first positional argument. Reduced axes are put back by ``_unreduce`` so
the output cotangent broadcasts against the input; unlike elementwise rules, a reduction
must return the input's full shape itself, since the runtime only sums broadcasting away.
A jvp reduces the tangent the way the function reduces its input (``np.sum`` of a
weighted tangent, with the reduction's own ``axis`` and ``keepdims``), so both modes use
the same weights: the same tie-splitting, the same zero handling in ``prod``.
"""

from __future__ import annotations

import math

import numpy as np
try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # NumPy 1.x
    from numpy.core.numeric import normalize_axis_tuple

from pygote.runtime import shadows
from pygote.rules.registry import (
    deflinear, defjvp, defvjp, first_tangent_jvp, vjp_with_array_args, with_array_args,
)

# ---------------------------------------------------------------- shared helpers


def _axes(x, axis):
    return tuple(range(np.ndim(x))) if axis is None else normalize_axis_tuple(axis, np.ndim(x))


def _refuse_where(kwargs):
    if kwargs and "where" in kwargs:
        # A masked reduction needs masked counts and masked winners in every rule below;
        # refusing is better than a silently wrong gradient.
        raise NotImplementedError("pygote: gradients of reductions with where= are not supported")


def _unreduce(g, x, axis, keepdims, kwargs=None):
    """Re-insert the axes a reduction of ``x`` removed, so ``g`` (or ``ans``) broadcasts
    against ``x``."""
    _refuse_where(kwargs)
    return g if keepdims else np.expand_dims(g, _axes(x, axis))


def _reduce(t, axis, keepdims):
    """The tangent (or weighted tangent) ``t`` summed as the reduction summed its input."""
    return np.sum(t, axis=axis, keepdims=keepdims)


def _spread(g, x, axis, keepdims, kwargs=None):
    """``g`` copied to every element of ``x`` it was reduced from (writable, full shape)."""
    return np.broadcast_to(_unreduce(g, x, axis, keepdims, kwargs), np.shape(x)).copy()


def _count(x, axis):
    return math.prod(np.shape(x)[a] for a in _axes(x, axis))


def _rev_cumsum(g, axis):
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def _scan(rule):
    """Run a scan rule along one axis; ``axis=None`` scans ``x`` flattened, as numpy does."""

    def vjp(g, ans, x, axis=None, *_, **__):
        if axis is None:
            return np.reshape(rule(g, np.ravel(ans), np.ravel(x), 0), np.shape(x))
        return rule(g, ans, x, axis)

    return vjp


def _scan_jvp(rule):
    """The forward ``rule(t, ans, x, axis)`` of a scan; ``axis=None`` flattens, as numpy does
    (``ans`` is then already flat)."""

    def jvp(ans, ts, x, axis=None, *_, **__):
        if ts[0] is None:
            return None
        if axis is None:
            return rule(np.ravel(ts[0]), ans, np.ravel(x), 0)
        return rule(ts[0], ans, x, axis)

    return jvp


def _register(funcs, vjp, jvp):
    for func in funcs:
        defvjp(func, vjp_with_array_args(vjp))
        defjvp(func, with_array_args(first_tangent_jvp(jvp)))


# ---------------------------------------------------------------- sums and means


def _sum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    kw.pop("initial", None)  # a constant offset: no effect on the gradient
    return _spread(g, x, axis, keepdims, kw)


def _mean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return _spread(g, x, axis, keepdims, kw) / _count(x, axis)


def _nansum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    kw.pop("initial", None)
    return np.where(np.isnan(x), 0, _spread(g, x, axis, keepdims, kw))


def _nanmean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    kept = ~np.isnan(x)
    count = np.maximum(np.sum(kept, axis=axis, keepdims=True), 1)  # all-NaN slices get 0
    return np.where(kept, _spread(g, x, axis, keepdims, kw), 0) / count


def _sum_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    kw.pop("initial", None)
    _refuse_where(kw)
    return _reduce(t, axis, keepdims)


def _mean_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _refuse_where(kw)
    return _reduce(t, axis, keepdims) / _count(x, axis)


def _nansum_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    kw.pop("initial", None)
    _refuse_where(kw)
    return _reduce(np.where(np.isnan(x), 0, t), axis, keepdims)


def _nanmean_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _refuse_where(kw)
    kept = ~np.isnan(x)
    count = np.maximum(np.sum(kept, axis=axis, keepdims=keepdims), 1)
    return _reduce(np.where(kept, t, 0), axis, keepdims) / count


_register((np.sum, np.ndarray.sum), _sum_vjp, _sum_jvp)
_register((np.mean, np.ndarray.mean), _mean_vjp, _mean_jvp)
deflinear(np.sum, np.ndarray.sum, np.mean, np.ndarray.mean)
_register((np.nansum,), _nansum_vjp, _nansum_jvp)
_register((np.nanmean,), _nanmean_vjp, _nanmean_jvp)


# ---------------------------------------------------------------- weighted averages


def _aligned_weights(a, weights, axis):
    """Weights shaped to broadcast against ``a`` (numpy allows 1-d weights along ``axis``)."""
    if np.ndim(weights) == np.ndim(a):
        return weights
    shape = [1] * np.ndim(a)
    shape[_axes(a, axis)[0]] = np.size(weights)
    return np.reshape(weights, shape)


def _average_vjp_a(g, ans, a, axis=None, weights=None, returned=False, **kw):
    if weights is None:
        return _mean_vjp(g, ans, a, axis, **kw)
    w = _aligned_weights(a, weights, axis)
    keepdims = kw.get("keepdims", False)
    return _unreduce(g, a, axis, keepdims) * np.conj(
        w / np.sum(w, axis=axis, keepdims=True)
    )


def _average_vjp_w(g, ans, a, axis=None, weights=None, returned=False, **kw):
    if weights is None:
        return None
    w = _aligned_weights(a, weights, axis)
    keepdims = kw.get("keepdims", False)
    avg = _unreduce(ans, a, axis, keepdims)
    gw = _unreduce(g, a, axis, keepdims) * np.conj(
        (a - avg) / np.sum(w, axis=axis, keepdims=True)
    )
    if np.ndim(weights) == np.ndim(a):
        return gw
    # 1-d weights run along ``axis`` rather than broadcasting from the right, so they are
    # summed back to their own shape here: fit's right-aligned unbroadcast would misplace them.
    return np.sum(gw, axis=tuple(i for i in range(np.ndim(a)) if i != _axes(a, axis)[0]))


def _check_average(rule):
    def vjp(g, ans, a, axis=None, weights=None, returned=False, **kw):
        if returned:
            raise NotImplementedError("pygote: np.average(..., returned=True) has no vjp yet")
        return rule(g, ans, a, axis, weights, **kw)

    return vjp


def _average_jvp(ans, ts, a, axis=None, weights=None, returned=False, **kw):
    # d(sum(w a) / sum(w)) = (sum(w da) + sum(dw (a - avg))) / sum(w); only positional
    # weights have a tangent, as only they get a cotangent.
    if returned:
        raise NotImplementedError("pygote: np.average(..., returned=True) has no jvp yet")
    ta, tw = ts[0], (ts[2] if len(ts) > 2 else None)
    keepdims = kw.get("keepdims", False)
    if weights is None:
        return None if ta is None else _reduce(ta, axis, keepdims) / _count(a, axis)
    if ta is None and tw is None:
        return None
    w = _aligned_weights(a, weights, axis)
    out = 0
    if ta is not None:
        out = out + _reduce(w * ta, axis, keepdims)
    if tw is not None:
        avg = _unreduce(ans, a, axis, keepdims)
        out = out + _reduce(_aligned_weights(a, tw, axis) * (a - avg), axis, keepdims)
    return out / np.sum(w, axis=axis, keepdims=keepdims)


# weights get a gradient only when passed positionally (one vjp per positional argument).
defvjp(np.average, vjp_with_array_args(_check_average(_average_vjp_a), (0, 2)), None,
       vjp_with_array_args(_check_average(_average_vjp_w), (0, 2)))
defjvp(np.average, with_array_args(_average_jvp, (0, 2)))


# ---------------------------------------------------------------- products


def _prod_deriv(x, axis, kw):
    # The derivative in x_i is the product of the others. ans / x_i says that only without
    # zeros, so count zeros per slice: with none it is prod/x_i; with exactly one, the zero
    # gets the product of the non-zeros and everyone else 0; with two or more, all 0.
    _refuse_where(kw)
    x = np.asarray(x)  # a tuple's ``x != 0`` would be one bool
    nonzero = x != 0
    safe = np.where(nonzero, x, 1)
    zeros = np.sum(~nonzero, axis=axis, keepdims=True)
    others = np.prod(safe, axis=axis, keepdims=True, **kw)  # of the non-zeros, with initial
    return np.where(nonzero, (zeros == 0) * others / safe, (zeros == 1) * others)


def _prod_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return _unreduce(g, x, axis, keepdims, kw) * np.conj(_prod_deriv(x, axis, kw))


def _prod_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return _reduce(t * _prod_deriv(x, axis, kw), axis, keepdims)


_register((np.prod, np.ndarray.prod), _prod_vjp, _prod_jvp)


# ---------------------------------------------------------------- extrema


def _extremum_share(ans, x, axis, keepdims, kw):
    # The gradient goes to the positions equal to the extremum; ties share it equally (as
    # JAX does), which keeps max(x) == max(x[::-1]) symmetric in its gradient. A NaN result
    # goes to the NaNs. If ``initial`` wins, no element matches and x gets nothing. The jvp
    # is the same share-weighted mean of the winners' tangents.
    kw.pop("initial", None)
    x = np.asarray(x)
    whole = axis is None and not keepdims and not kw  # ans is a number: x == ans as it is
    m = ans if whole else _unreduce(ans, x, axis, keepdims, kw)
    if (ans != ans) if whole else np.isnan(ans).any():
        winners = (x == m) | ((m != m) & (x != x))
    else:  # (the common case: no NaN won, two full-size operations fewer)
        winners = x == m
    if axis is None:
        count = np.count_nonzero(winners)
        return winners if count == 1 else winners / max(count, 1)
    counts = np.sum(winners, axis=axis, keepdims=True)
    if np.all(counts == 1):  # one winner per slice: the mask itself is the share
        return winners
    return winners / np.maximum(counts, 1)


def _extremum_vjp(g, ans, x, axis=None, out=None, keepdims=False, **kw):
    share = _extremum_share(ans, x, axis, keepdims, kw)
    if axis is None and share.dtype == bool and (
            type(g) is float or isinstance(g, np.generic) or np.ndim(g) == 0):
        # one winner: g at its place (cheaper than the product of a mask and g)
        dtype = np.asarray(x).dtype
        if not (type(g) is float and dtype == np.float64):
            dtype = np.result_type(g, dtype)
        out = np.zeros(share.shape, dtype)
        out.flat[share.argmax()] = g
        return out
    return _unreduce(g, x, axis, keepdims) * share


def _extremum_jvp(t, ans, x, axis=None, out=None, keepdims=False, **kw):
    share = _extremum_share(ans, x, axis, keepdims, kw)
    # where, not a bare t * share: the tangent of a NaN that nanmax skipped must not leak
    # in as 0 * nan.
    return _reduce(np.where(share != 0, t * share, 0), axis, keepdims)


def acc_extremum(x, dx, m, g):
    """Add cotangent ``g`` of ``m = np.max(x)`` (or ``np.min``: the whole of a real array
    ``x``) to x's adjoint (``shadows.acc``'s contract): at the one place equal to ``m``
    without a one-hot array of x's size when x's shadow is its own; ties share it, as
    in ``_extremum_vjp``, which serves every other case (a batch of cotangents...)."""
    if g is None:
        return dx
    if (type(g) is float or type(g) is np.float64) and m == m:  # (NaN: the rule)
        winners = x == m
        if np.count_nonzero(winners) == 1:
            return shadows.acc_at(x, dx, int(winners.argmax()), g)
    return shadows.acc(x, dx, _extremum_vjp(g, m, x))


# (the callees whose whole-array form generated code may take on its own: acc_extremum)
WHOLE_EXTREMA = frozenset([np.max, np.min, np.amax, np.amin])


_register(
    (np.max, np.min, np.amax, np.amin, np.ndarray.max, np.ndarray.min, np.nanmax, np.nanmin),
    _extremum_vjp,
    _extremum_jvp,
)


# ---------------------------------------------------------------- spread


def _var_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    # d|x - mean|^2 is 2 Re(conj(x - mean) dx) (the mean's own variation sums to zero), so
    # the cotangent is 2 g (x - mean) / (N - ddof), complex x included.
    ddof = kw.pop("correction", ddof)
    kw.pop("mean", None)
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return 2 * _unreduce(g, x, axis, keepdims, kw) * centred / (_count(x, axis) - ddof)


def _std_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    # std = sqrt(var). Where std == 0 every centred value is 0 too: like abs at 0, take the
    # subgradient 0 there (a 1-element std is constant) rather than 0/0.
    safe = np.where(ans == 0, 1, ans)
    return _var_vjp(g / (2 * safe), ans**2, x, axis, dtype, out, ddof, keepdims, **kw)


def _var_jvp(t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    # d var = 2 Re(sum(conj(x - mean) dx)) / (N - ddof); the mean's own tangent drops out
    # because the centred values sum to zero.
    ddof = kw.pop("correction", ddof)
    kw.pop("mean", None)
    _refuse_where(kw)
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return 2 * _reduce(np.real(np.conj(centred) * t), axis, keepdims) / (_count(x, axis) - ddof)


def _std_jvp(t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    # d std = d var / (2 std); a constant slice has d var == 0 and gets 0, as in the vjp.
    safe = np.where(ans == 0, 1, ans)
    return _var_jvp(t, ans**2, x, axis, dtype, out, ddof, keepdims, **kw) / (2 * safe)


_register((np.var, np.ndarray.var), _var_vjp, _var_jvp)
_register((np.std, np.ndarray.std), _std_vjp, _std_jvp)


# ---------------------------------------------------------------- scans

# cumsum is linear (its jvp is cumsum of the tangent); its transpose is the reversed
# cumulative sum of g.
for _f in (np.cumsum, np.ndarray.cumsum):
    defvjp(_f, vjp_with_array_args(_scan(lambda g, ans, x, axis: _rev_cumsum(g, axis))))
    defjvp(_f, with_array_args(_scan_jvp(lambda t, ans, x, axis: np.cumsum(t, axis))))
# d ans_j / d x_i = ans_j / x_i for i <= j: exact without zeros; a zero in x gives inf/nan
# (a zero-safe scan needs exclusive products on both sides, not worth it here). Forward,
# d ans_j = ans_j * cumsum(dx / x)_j, with the same caveat.
for _f in (np.cumprod, np.ndarray.cumprod):
    defvjp(_f, vjp_with_array_args(
        _scan(lambda g, ans, x, axis: _rev_cumsum(g * np.conj(ans), axis) / np.conj(x))))
    defjvp(_f, with_array_args(_scan_jvp(lambda t, ans, x, axis: ans * np.cumsum(t / x, axis))))
