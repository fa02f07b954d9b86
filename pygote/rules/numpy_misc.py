"""Reverse and forward rules for the rest of NumPy's numerical toolbox: polynomials,
convolution and correlation, interpolation, differences and gradients, the trapezoidal
rule, covariance, meshgrid, nan_to_num, and the scalar types called as constructors
(``np.float64(x)``).

Most of these are linear in the argument that carries the gradient, so their jvp is the
function itself applied to the tangent, and their vjp the adjoint operation: a
correlation for a convolution, a scatter of interpolation weights for ``interp``, the
reversed stencil for ``diff`` and ``gradient``.
"""

from __future__ import annotations

import numpy as np

import pygote.rules.numpy_shape  # noqa: F401  (copy's rule, checked below)
from pygote.rules.numpy_indexing import cotangent_like
from pygote.rules.registry import (
    add_tangents, bilinear_jvp, defjvp, defvjp, defvjp_all, rule_for, with_array_args,
)
from pygote.runtime.values import unbroadcast

conj = np.conj
_NoValue = np._NoValue  # numpy's "argument not given" marker (diff's prepend/append)

# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------


def _along(axis, ndim, index):
    """An index tuple that applies ``index`` along ``axis`` only."""
    out = [slice(None)] * ndim
    out[axis] = index
    return tuple(out)


def _pad_along(x, axis, before, after):
    widths = [(0, 0)] * np.ndim(x)
    widths[axis] = (before, after)
    return np.pad(x, widths)


def _tangents(tangents, n):
    """``tangents`` padded with ``None`` to ``n`` entries (defaults have no tangent), or cut
    to them (arguments past ``n``, passed positionally, have none either)."""
    return (tuple(tangents) + (None,) * n)[:n]


def _diff_adjoint(g, axis):
    """Adjoint of ``y = x[1:] - x[:-1]`` along ``axis``: ``x_k`` gets ``g_{k-1} - g_k``."""
    return _pad_along(g, axis, 1, 0) - _pad_along(g, axis, 0, 1)


# ---------------------------------------------------------------------------------------
# Polynomials
# ---------------------------------------------------------------------------------------


def _polyval_vjp_p(g, ans, p, x):
    # y = sum_k p_k x^(N-1-k): each coefficient collects g times its power of x
    coeffs = np.asarray(p)
    powers = np.asarray(x)[..., None] ** np.arange(len(coeffs) - 1, -1, -1)
    ct = np.sum(np.reshape(np.asarray(g)[..., None] * conj(powers), (-1, len(coeffs))), axis=0)
    return cotangent_like(ct, p) if isinstance(p, list) else ct


def _polyval_vjp_x(g, ans, p, x):
    coeffs = np.asarray(p)
    if len(coeffs) < 2:  # a constant
        return None
    slope = np.polyval(coeffs[:-1] * np.arange(len(coeffs) - 1, 0, -1), x)
    return g * conj(slope)


def _polyval_jvp(ans, tangents, p, x):
    # linear in p; in x the slope is the derivative polynomial
    tp, tx = _tangents(tangents, 2)
    coeffs = np.asarray(p)
    dy = None if tp is None else np.polyval(tp, x)
    if tx is not None and len(coeffs) > 1:
        dy = add_tangents(dy, np.polyval(coeffs[:-1] * np.arange(len(coeffs) - 1, 0, -1), x) * tx)
    return dy


defvjp(np.polyval, _polyval_vjp_p, _polyval_vjp_x)
defjvp(np.polyval, with_array_args(_polyval_jvp, (0, 1)))


# ---------------------------------------------------------------------------------------
# Convolution and correlation (1-d): g is first embedded in the 'full' output
# ---------------------------------------------------------------------------------------


def _full_cotangent(g, mode, n_a, n_v, same_offset):
    """The cotangent ``g`` of a 'same' or 'valid' output placed, with zeros around it, in
    the 'full' output (of length ``n_a + n_v - 1``) that it is a window of."""
    if mode == "full":
        return np.asarray(g)
    n = min(n_a, n_v)
    start = same_offset if mode == "same" else n - 1
    full = np.zeros(n_a + n_v - 1, dtype=np.result_type(g))
    full[start:start + np.size(g)] = g
    return full


def _mode(args, kwargs, default):
    """The mode by name ('valid', 'same', 'full'; numpy also takes 0, 1, 2)."""
    mode = args[0] if args else kwargs.get("mode", default)
    return {0: "valid", 1: "same", 2: "full"}.get(mode, mode)


def _convolve_full_g(g, a, v, args, kwargs):
    # convolve's 'same' window starts (min(len) - 1) // 2 into the full output
    n = min(len(a), len(v))
    return _full_cotangent(g, _mode(args, kwargs, "full"), len(a), len(v), (n - 1) // 2)


# y_j = sum_k a_{j-k} v_k: the adjoint in either factor is a correlation with the other
# (np.correlate conjugates its second argument, as the complex convention wants).
defvjp(
    np.convolve,
    lambda g, ans, a, v, *args, **kw: np.correlate(_convolve_full_g(g, a, v, args, kw), v),
    lambda g, ans, a, v, *args, **kw: np.correlate(_convolve_full_g(g, a, v, args, kw), a),
)


defjvp(np.convolve, bilinear_jvp(np.convolve))


def _correlate_full_g(g, a, v, args, kwargs):
    # correlate's 'same' window sits one further right when v is the longer (even) one
    n = min(len(a), len(v))
    offset = n // 2 if len(a) < len(v) else (n - 1) // 2
    return _full_cotangent(g, _mode(args, kwargs, "valid"), len(a), len(v), offset)


# c_k = sum_n a_{n+k-(M-1)} conj(v_n) (full indexing): linear in a, antilinear in v.
defvjp(
    np.correlate,
    lambda g, ans, a, v, *args, **kw: np.convolve(_correlate_full_g(g, a, v, args, kw), v,
                                                  "valid"),
    lambda g, ans, a, v, *args, **kw: conj(np.correlate(_correlate_full_g(g, a, v, args, kw),
                                                        a, "valid"))[::-1],
)
defjvp(np.correlate, bilinear_jvp(np.correlate))  # conj(v) is additive: real-bilinear


# ---------------------------------------------------------------------------------------
# interp: piecewise linear in fp; its slope in x (xp: the knots, no gradient here)
# ---------------------------------------------------------------------------------------


def _interp_setup(x, xp, period):
    """``(x, knots, index)``: the knots as interp uses them and, for each, the entry of
    ``fp`` it carries (a periodic interp sorts the knots and wraps one round each end)."""
    x, xp = np.asarray(x, dtype=float), np.asarray(xp, dtype=float)
    if period is None:
        return x, xp, np.arange(len(xp))
    period = abs(period)
    x, xp = x % period, xp % period
    order = np.argsort(xp)
    xp = xp[order]
    return (x, np.concatenate([xp[-1:] - period, xp, xp[:1] + period]),
            np.concatenate([order[-1:], order, order[:1]]))


def _interp_parts(x, xp, period):
    """Per x: the knot ``j`` starting its interval, the fraction ``t`` along it, and the
    masks of x left and right of all knots (where interp returns a constant)."""
    x, knots, index = _interp_setup(x, xp, period)
    j = np.clip(np.searchsorted(knots, x, "right") - 1, 0, len(knots) - 2)
    width = knots[j + 1] - knots[j]
    t = (x - knots[j]) / np.where(width == 0, 1, width)
    below, above = x < knots[0], x > knots[-1]
    if period is not None:  # wrapped x is never outside
        below, above = np.zeros_like(below), np.zeros_like(above)
    return index[j], index[j + 1], t, width, below, above


def _interp_vjp_x(g, ans, x, xp, fp, left=None, right=None, period=None):
    lo, hi, _, width, below, above = _interp_parts(x, xp, period)
    fp = np.asarray(fp)
    slope = (fp[hi] - fp[lo]) / np.where(width == 0, 1, width)
    return g * np.where(below | above, 0, conj(slope))


def _interp_vjp_fp(g, ans, x, xp, fp, left=None, right=None, period=None):
    lo, hi, t, _, below, above = _interp_parts(x, xp, period)
    g = np.broadcast_to(g, np.shape(t))
    inside = ~(below | above)
    out = np.zeros(len(fp), dtype=np.result_type(g, float))
    np.add.at(out, lo[inside], (g * (1 - t))[inside])
    np.add.at(out, hi[inside], (g * t)[inside])
    if left is None:  # left of the knots interp returns fp[0] (else left, see below)
        out[0] += np.sum(g[below])
    if right is None:
        out[-1] += np.sum(g[above])
    return cotangent_like(out, fp) if isinstance(fp, list) else out


def _interp_vjp_side(side):
    def vjp(g, ans, x, xp, fp, left=None, right=None, period=None):
        _, _, _, _, below, above = _interp_parts(x, xp, period)
        return np.sum(np.broadcast_to(g, np.shape(below))[below if side == "left" else above])

    return vjp


# xp gets no gradient: moving a knot moves the result, but knots are grid positions in
# practice, and the derivative jumps wherever a knot crosses an x.
defvjp(np.interp, _interp_vjp_x, None, _interp_vjp_fp, _interp_vjp_side("left"),
       _interp_vjp_side("right"))


def _interp_jvp(ans, tangents, x, xp, fp, left=None, right=None, period=None):
    tx, _, tfp, t_left, t_right = _tangents(tangents, 5)
    dy = None
    if tx is not None:  # the slope of the interval each x is in (0 outside the knots)
        lo, hi, _, width, below, above = _interp_parts(x, xp, period)
        fp_ = np.asarray(fp)
        slope = (fp_[hi] - fp_[lo]) / np.where(width == 0, 1, width)
        dy = np.where(below | above, 0, slope) * tx
    if tfp is not None or t_left is not None or t_right is not None:
        # jointly linear in (fp, left, right): interpolate their tangents; a side value
        # given without a tangent is a constant, one not given is fp's end
        def side(value, t):
            return None if value is None else 0.0 if t is None else t

        tfp = np.zeros(len(fp)) if tfp is None else tfp
        dy = add_tangents(dy, np.interp(x, xp, tfp, side(left, t_left),
                                        side(right, t_right), period))
    return dy


defjvp(np.interp, with_array_args(_interp_jvp, (0, 2)))


# ---------------------------------------------------------------------------------------
# Differences: diff, gradient
# ---------------------------------------------------------------------------------------


def _extent(extra, a, axis):
    """How many entries ``prepend`` / ``append`` add along ``axis`` (0-d ones add one)."""
    if extra is _NoValue:
        return 0
    return 1 if np.ndim(extra) == 0 else np.shape(extra)[axis]


def _diff_joined_ct(g, a, n, axis, prepend, append):
    """The cotangent of ``concatenate([prepend, a, append])``, and the size of each part."""
    for _ in range(n):
        g = _diff_adjoint(g, axis)
    return g, _extent(prepend, a, axis), np.shape(a)[axis]


def _diff_vjp(part):
    def vjp(g, ans, a, n=1, axis=-1, prepend=_NoValue, append=_NoValue):
        g, before, size = _diff_joined_ct(g, a, n, axis, prepend, append)
        piece = {"a": slice(before, before + size), "prepend": slice(0, before),
                 "append": slice(before + size, None)}[part]
        return g[_along(axis, np.ndim(g), piece)]

    return vjp


# prepend / append get gradients only when passed positionally (per-positional rules).
defvjp(np.diff, _diff_vjp("a"), None, None, _diff_vjp("prepend"), _diff_vjp("append"))


def _diff_jvp(ans, tangents, a, n=1, axis=-1, prepend=_NoValue, append=_NoValue):
    # linear in concatenate([prepend, a, append]): the differences of its tangent
    ta, _, _, t_pre, t_app = _tangents(tangents, 5)
    if ta is None and t_pre is None and t_app is None:
        return None
    ends = {}
    for name, value, t in (("prepend", prepend, t_pre), ("append", append, t_app)):
        if value is not _NoValue:
            ends[name] = np.zeros(np.shape(value)) if t is None else t
    return np.diff(np.zeros(np.shape(a)) if ta is None else ta, n, axis, **ends)


defjvp(np.diff, with_array_args(_diff_jvp, (0, 3, 4)))


def _stencil_adjoint(g, h, axis, edge_order):
    """Adjoint of np.gradient's stencil along ``axis`` with uniform spacing ``h``:
    central differences inside, one-sided ones of ``edge_order`` at the two ends."""
    g = np.moveaxis(g, axis, 0)
    out = np.zeros(g.shape, dtype=np.result_type(g, float))
    inner = g[1:-1] / (2 * h)
    out[2:] += inner
    out[:-2] -= inner
    first, last = g[0] / h, g[-1] / h
    if edge_order == 1:
        out[1] += first
        out[0] -= first
        out[-1] += last
        out[-2] -= last
    else:
        out[0] -= 1.5 * first
        out[1] += 2 * first
        out[2] -= 0.5 * first
        out[-1] += 1.5 * last
        out[-2] -= 2 * last
        out[-3] += 0.5 * last
    return np.moveaxis(out, 0, axis)


def _gradient_vjp(g, ans, f, *varargs, axis=None, edge_order=1):
    ndim = np.ndim(f)
    axes = list(range(ndim)) if axis is None else [
        a % ndim for a in np.atleast_1d(axis).tolist()]
    if any(np.ndim(h) != 0 for h in varargs):
        raise NotImplementedError(
            "pygote: np.gradient is differentiated for scalar spacings only, not "
            "coordinate arrays")
    spacings = [1.0] * len(axes) if not varargs else (
        list(varargs) * len(axes) if len(varargs) == 1 else list(varargs))
    outs, gs = (ans, g) if isinstance(ans, (tuple, list)) else ((ans,), (g,))
    ct_f, ct_h = 0, [0.0] * len(spacings)
    for k, (ax, h, gk, out) in enumerate(zip(axes, spacings, gs, outs)):
        if gk is None:
            continue
        ct_f = ct_f + _stencil_adjoint(gk, conj(h), ax, edge_order)
        # each output is (a difference of f) / h: its slope in h is -out / h
        ct_h[k] = -np.sum(gk * conj(out)) / conj(h)
    ct_f = None if np.ndim(ct_f) == 0 else ct_f
    if len(varargs) == 1:
        ct_h = [sum(ct_h)]
    return (ct_f, *(ct_h if varargs else ()))


defvjp_all(np.gradient, _gradient_vjp)


def _gradient_jvp(ans, tangents, f, *varargs, axis=None, edge_order=1):
    # linear in f (the same stencil on its tangent); each output is a difference over
    # its spacing h, so moves by -out / h dh with a scalar spacing
    tf, *t_h = _tangents(tangents, 1 + len(varargs))
    several = isinstance(ans, (tuple, list))
    outs = tuple(ans) if several else (ans,)
    if tf is None:
        dys = [None] * len(outs)
    else:
        dys = np.gradient(tf, *varargs, axis=axis, edge_order=edge_order)
        dys = list(dys) if several else [dys]
    if any(t is not None for t in t_h):
        if any(np.ndim(h) != 0 for h in varargs):
            raise NotImplementedError(
                "pygote: np.gradient is differentiated in its spacings for scalar spacings "
                "only, not coordinate arrays")
        pairs = zip(varargs * len(outs), t_h * len(outs)) if len(varargs) == 1 else zip(
            varargs, t_h)
        for k, ((h, th), out) in enumerate(zip(pairs, outs)):
            if th is not None:
                dys[k] = add_tangents(dys[k], -out / h * th)
    return tuple(dys) if several else dys[0]


defjvp(np.gradient, with_array_args(_gradient_jvp))


# ---------------------------------------------------------------------------------------
# Integration: the trapezoidal rule
# ---------------------------------------------------------------------------------------


def _trapezoid_d(y, x, dx, axis):
    """The interval widths as trapezoid uses them, broadcast against ``y[1:]``."""
    if x is None:
        return dx
    x = np.asarray(x)
    if x.ndim == 1:
        shape = [1] * np.ndim(y)
        shape[axis] = len(x) - 1
        return np.reshape(np.diff(x), shape)
    return np.diff(x, axis=axis)


def _pair_sum(y, axis):
    nd = np.ndim(y)
    return y[_along(axis, nd, slice(1, None))] + y[_along(axis, nd, slice(None, -1))]


def _trapezoid_vjp_y(g, ans, y, x=None, dx=1.0, axis=-1):
    # ans = sum_k d_k (y_k + y_{k+1}) / 2: each y_k collects half of its two widths
    y = np.asarray(y)
    half = np.expand_dims(g, axis) * conj(_trapezoid_d(y, x, dx, axis)) / 2
    half = np.broadcast_to(half, np.broadcast_shapes(np.shape(half), np.shape(
        _pair_sum(y, axis))))
    return _pad_along(half, axis, 0, 1) + _pad_along(half, axis, 1, 0)


def _widths_ct(g, y, axis):
    return np.expand_dims(g, axis) * conj(_pair_sum(np.asarray(y), axis)) / 2


def _trapezoid_vjp_x(g, ans, y, x=None, dx=1.0, axis=-1):
    if x is None:
        return None
    x = np.asarray(x)
    ct_d = _widths_ct(g, y, axis)
    if x.ndim == 1:  # 1-d x runs along axis: sum the rest away here (fit aligns right)
        ct_d = np.moveaxis(ct_d, axis, -1)
        ct_d = np.sum(np.reshape(ct_d, (-1, ct_d.shape[-1])), axis=0)
        return _diff_adjoint(ct_d, 0)
    d_shape = np.shape(np.diff(x, axis=axis))
    return _diff_adjoint(unbroadcast(ct_d, d_shape), axis)


def _trapezoid_vjp_dx(g, ans, y, x=None, dx=1.0, axis=-1):
    return None if x is not None else _widths_ct(g, y, axis)


def _trapezoid_jvp(ans, tangents, y, x=None, dx=1.0, axis=-1):
    # linear in y; bilinear in y and the widths, which are linear in x (or are dx)
    ty, tx, t_dx = _tangents(tangents, 3)
    dy = None if ty is None else np.trapezoid(ty, x, dx, axis)
    t_d = t_dx if x is None else None if tx is None else _trapezoid_d(y, tx, None, axis)
    if t_d is not None:
        dy = add_tangents(dy, np.sum(t_d * _pair_sum(np.asarray(y), axis) / 2, axis=axis))
    return dy


_TRAPEZOID = (_trapezoid_vjp_y, _trapezoid_vjp_x, _trapezoid_vjp_dx)
defvjp(np.trapezoid, *_TRAPEZOID)
defjvp(np.trapezoid, with_array_args(_trapezoid_jvp, (0, 1)))
if hasattr(np, "trapz"):  # removed in numpy 2.4; the same function before it
    defvjp(np.trapz, *_TRAPEZOID)
    defjvp(np.trapz, with_array_args(_trapezoid_jvp, (0, 1)))


# ---------------------------------------------------------------------------------------
# Covariance
# ---------------------------------------------------------------------------------------


def _cov_rows(m, y, rowvar):
    """The variables as rows, as np.cov stacks them: ``m`` (and ``y``) made 2-d."""
    rows = [np.atleast_2d(np.asarray(m))]
    if y is not None:
        rows.append(np.atleast_2d(np.asarray(y)))
    if not rowvar:
        rows = [r.T if r.shape[0] != 1 else r for r in rows]
    return rows


def _cov_vjp(part):
    def vjp(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
            aweights=None, **_):
        if fweights is not None or aweights is not None:
            raise NotImplementedError("pygote: no gradient for np.cov with weights")
        rows = _cov_rows(m, y, rowvar)
        xs = np.concatenate(rows, axis=0)
        n = xs.shape[1]
        ddof = (0 if bias else 1) if ddof is None else ddof
        centred = xs - np.mean(xs, axis=1, keepdims=True)
        # C = Xc Xc^H / (n - ddof): dC = (dXc Xc^H + Xc dXc^H) / (n - ddof), and rows of
        # (g + g^H) Xc have zero mean already, so centring adds nothing to the adjoint.
        g = np.reshape(g, (xs.shape[0], xs.shape[0]))
        ct = (g + conj(g.T)) @ centred / (n - ddof)
        k = rows[0].shape[0]
        ct = ct[:k] if part == "m" else ct[k:]
        src = m if part == "m" else y
        if not rowvar and np.atleast_2d(np.asarray(src)).shape[0] != 1:
            ct = ct.T
        return np.reshape(ct, np.shape(src))

    return vjp


def _cov_jvp(ans, tangents, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
             aweights=None, **_):
    # C = Xc Xc^H / (n - ddof): dC = (dXc Xc^H + Xc dXc^H) / (n - ddof)
    tm, ty = _tangents(tangents, 2)[:2]
    if tm is None and ty is None:
        return None
    if fweights is not None or aweights is not None:
        raise NotImplementedError("pygote: no derivative for np.cov with weights")
    xs = np.concatenate(_cov_rows(m, y, rowvar), axis=0)
    dxs = np.concatenate(_cov_rows(np.zeros(np.shape(m)) if tm is None else tm,
                                   None if y is None else
                                   np.zeros(np.shape(y)) if ty is None else ty, rowvar), axis=0)
    n = xs.shape[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    centred = xs - np.mean(xs, axis=1, keepdims=True)
    d_centred = dxs - np.mean(dxs, axis=1, keepdims=True)
    d_cov = (d_centred @ conj(centred.T) + centred @ conj(d_centred.T)) / (n - ddof)
    return np.reshape(d_cov, np.shape(ans))


defvjp(np.cov, _cov_vjp("m"), _cov_vjp("y"))
defjvp(np.cov, with_array_args(_cov_jvp, (0, 1)))


# ---------------------------------------------------------------------------------------
# meshgrid: output i repeats input i along every axis but its own
# ---------------------------------------------------------------------------------------


def _meshgrid_vjp(g, ans, *xi, indexing="xy", **_):
    n = len(xi)
    own = list(range(n))
    if indexing == "xy" and n > 1:  # the first two outputs vary along swapped axes
        own[0], own[1] = 1, 0
    return tuple(
        None if gi is None else np.reshape(
            np.sum(gi, axis=tuple(a for a in range(np.ndim(gi)) if a != ax)), np.shape(x))
        for gi, ax, x in zip(g, own, xi))


def _meshgrid_jvp(ans, tangents, *xi, **kwargs):
    # output i is input i repeated: the meshgrid of the tangents (zeros for constants)
    if all(t is None for t in tangents):
        return None
    grids = np.meshgrid(*(np.zeros(np.shape(x)) if t is None else t
                          for x, t in zip(xi, tangents)), **kwargs)
    return tuple(None if t is None else d for d, t in zip(grids, tangents))


defvjp_all(np.meshgrid, _meshgrid_vjp)
defjvp(np.meshgrid, _meshgrid_jvp)


# ---------------------------------------------------------------------------------------
# nan_to_num: finite entries pass through, replaced ones are constants
# ---------------------------------------------------------------------------------------


def _where_finite(g, x):
    """``g`` where ``x`` is finite, 0 elsewhere: the derivative of nan_to_num either way."""
    if np.iscomplexobj(x):  # real and imaginary parts are replaced separately
        x, g = np.asarray(x), np.asarray(g, dtype=complex)
        return (np.where(np.isfinite(x.real), g.real, 0)
                + 1j * np.where(np.isfinite(x.imag), g.imag, 0))
    return np.where(np.isfinite(x), g, 0)


defvjp(np.nan_to_num, lambda g, ans, x, *_, **__: _where_finite(g, x))
defjvp(np.nan_to_num, with_array_args(lambda ans, tangents, x, *_, **__: None
                                      if tangents[0] is None else _where_finite(tangents[0], x)))


# ---------------------------------------------------------------------------------------
# Scalar types as constructors: np.float64(x) is a cast (fit casts g back), and
# np.complex128(re, im) is re + 1j im
# ---------------------------------------------------------------------------------------


def _cast_jvp(ans, tangents, *_, **__):
    return tangents[0] if tangents else None


def _complex_jvp(ans, tangents, *_, **__):
    t_re, t_im = _tangents(tangents, 2)
    return add_tangents(t_re, None if t_im is None else 1j * t_im)


for _t in (np.float16, np.float32, np.float64, np.longdouble):
    defvjp(_t, lambda g, ans, x=0.0, *_, **__: g)
    defjvp(_t, with_array_args(_cast_jvp))
for _t in (np.complex64, np.complex128, np.clongdouble):
    defvjp(_t, lambda g, ans, x=0.0, *_, **__: g, lambda g, ans, re, im, *_, **__: -1j * g)
    defjvp(_t, with_array_args(_complex_jvp, (0, 1)))

if rule_for(np.copy) is None:  # numpy_shape registers it; keep a copy's rule if not
    defvjp(np.copy, lambda g, ans, x, *_, **__: g)
    defjvp(np.copy, _cast_jvp)
