"""Rules for NumPy's products: dot, matmul, tensordot, einsum, outer, inner, vdot, vecdot,
trace, kron and cross.

Each is linear in each argument, so each vjp is the adjoint map applied to ``g``: the same
contraction of ``g`` with the complex conjugate of the other factor. Arguments that take
part in a product only through broadcasting get their sums from ``fit``. Each jvp is the
product rule: the product itself with one factor at a time replaced by its tangent.
(``vdot`` and ``vecdot`` conjugate their first factor, so that term conjugates its
tangent, which is the differential of ``conj(a)``.)
"""

from __future__ import annotations

import string

import numpy as np

from pygote.rules.numpy_shape import undiagonal
from pygote.rules.registry import (
    add_tangents, bilinear_jvp, defjvp, defvjp, defvjp_all, dense_tangent, with_array_args,
)

conj = np.conj  # short, as the formulas below are written


def _scalar(a, b):
    return np.ndim(a) == 0 or np.ndim(b) == 0


def _axes_order(first, then):
    """The transpose that puts axes listed as ``first + then`` back into order 0, 1, ..."""
    return np.argsort(list(first) + list(then))


# ---------------------------------------------------------------------------------------
# dot and inner: contract the last axis of a with one axis of b
# ---------------------------------------------------------------------------------------


def _dot_axis(b):
    """The axis of ``b`` that ``np.dot`` contracts: the second-to-last, or the only one."""
    return max(np.ndim(b) - 2, 0)


def _dot_vjp_a(g, ans, a, b, out=None):
    if _scalar(a, b):
        return g * conj(b)
    rest_b = [i for i in range(np.ndim(b)) if i != _dot_axis(b)]
    return np.tensordot(g, conj(b), (list(range(np.ndim(a) - 1, np.ndim(g))), rest_b))


def _dot_vjp_b(g, ans, a, b, out=None):
    if _scalar(a, b):
        return g * conj(a)
    lead = list(range(np.ndim(a) - 1))
    return np.moveaxis(np.tensordot(conj(a), g, (lead, lead)), 0, _dot_axis(b))


defvjp(np.dot, _dot_vjp_a, _dot_vjp_b)
defvjp(np.ndarray.dot, _dot_vjp_a, _dot_vjp_b)
defjvp(np.dot, bilinear_jvp(np.dot, 0))
defjvp(np.ndarray.dot, bilinear_jvp(np.dot, 0))  # np.dot: a's tangent may be a 0-d non-array


def _inner_vjp_a(g, ans, a, b):
    if _scalar(a, b):
        return g * conj(b)
    return np.tensordot(g, conj(b), (list(range(np.ndim(a) - 1, np.ndim(g))),
                                     list(range(np.ndim(b) - 1))))


def _inner_vjp_b(g, ans, a, b):
    if _scalar(a, b):
        return g * conj(a)
    lead = list(range(np.ndim(a) - 1))
    return np.tensordot(g, conj(a), (lead, lead))


defvjp(np.inner, _inner_vjp_a, _inner_vjp_b)
defjvp(np.inner, bilinear_jvp(np.inner, 0))


# ---------------------------------------------------------------------------------------
# matmul: batched matrix products, 1-d arguments promoted to a row / a column
# ---------------------------------------------------------------------------------------


def _matmul_promoted(g, a, b):
    """``g``, ``a``, ``b`` with 1-d ``a`` as a row and 1-d ``b`` as a column, as matmul
    computes them, so both vjps are plain matrix products."""
    if np.ndim(b) == 1:  # first, so that a 0-d g has an axis for a's expand_dims
        b, g = b[:, None], np.expand_dims(g, -1)
    if np.ndim(a) == 1:
        a, g = a[None, :], np.expand_dims(g, -2)
    return g, a, b


def _matmul_vjp_a(g, ans, a, b, *_, **__):
    g2, _a, b2 = _matmul_promoted(g, np.asarray(a), np.asarray(b))
    ct = g2 @ conj(np.swapaxes(b2, -1, -2))
    return ct[..., 0, :] if np.ndim(a) == 1 else ct


def _matmul_vjp_b(g, ans, a, b, *_, **__):
    g2, a2, _b = _matmul_promoted(g, np.asarray(a), np.asarray(b))
    ct = conj(np.swapaxes(a2, -1, -2)) @ g2
    return ct[..., 0] if np.ndim(b) == 1 else ct


defvjp(np.matmul, _matmul_vjp_a, _matmul_vjp_b)
defjvp(np.matmul, bilinear_jvp(np.matmul, 0))


# ---------------------------------------------------------------------------------------
# tensordot
# ---------------------------------------------------------------------------------------


def _tensordot_axes(a, b, axes):
    """``axes`` as two lists of non-negative axes: contracted in ``a``, contracted in ``b``."""
    if np.ndim(axes) == 0:
        return list(range(np.ndim(a) - axes, np.ndim(a))), list(range(axes))
    axes_a, axes_b = (np.atleast_1d(ax).tolist() for ax in axes)
    return [i % np.ndim(a) for i in axes_a], [i % np.ndim(b) for i in axes_b]


def _tensordot_vjp_a(g, ans, a, b, axes=2):
    axes_a, axes_b = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(np.ndim(a)) if i not in axes_a]
    free_b = [i for i in range(np.ndim(b)) if i not in axes_b]
    ct = np.tensordot(g, conj(b), (list(range(len(free_a), np.ndim(g))), free_b))
    # ct's trailing axes are b's contracted axes in b's order; name a's partner of each.
    return np.transpose(ct, _axes_order(free_a, [axes_a[k] for k in np.argsort(axes_b)]))


def _tensordot_vjp_b(g, ans, a, b, axes=2):
    axes_a, axes_b = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(np.ndim(a)) if i not in axes_a]
    ct = np.tensordot(conj(a), g, (free_a, list(range(len(free_a)))))
    free_b = [i for i in range(np.ndim(b)) if i not in axes_b]
    return np.transpose(ct, _axes_order([axes_b[k] for k in np.argsort(axes_a)], free_b))


defvjp(np.tensordot, _tensordot_vjp_a, _tensordot_vjp_b)
defjvp(np.tensordot, bilinear_jvp(np.tensordot, 1))


# ---------------------------------------------------------------------------------------
# einsum: the vjp of each operand is another einsum
# ---------------------------------------------------------------------------------------


def _spell(sublist):
    """An interleaved-form sublist ([0, 1], [Ellipsis, 2]) as subscript letters."""
    return "".join("..." if s is Ellipsis else string.ascii_letters[s] for s in sublist)


def _einsum_spec(args):
    """``(operands, input subscripts, output subscript)`` of an einsum call, with '...'
    spelled out as letters and the implicit output made explicit."""
    if not isinstance(args[0], str):  # interleaved form: einsum(a, [0, 1], b, [1], [0])
        n = len(args) // 2
        spec = ",".join(_spell(sub) for sub in args[1:2 * n:2])
        if len(args) % 2:
            spec += "->" + _spell(args[-1])
        return _einsum_spec((spec, *args[0:2 * n:2]))
    spec, ops = args[0].replace(" ", ""), list(args[1:])
    lhs, arrow, out = spec.partition("->")
    ins = lhs.split(",")
    # '...' stands for the same trailing broadcast axes in every operand: name them.
    unused = (c for c in string.ascii_letters if c not in spec)
    n_ell = max((np.ndim(op) - len(s) + 3 for s, op in zip(ins, ops) if "..." in s), default=0)
    ell = "".join(next(unused) for _ in range(n_ell))
    ins = [s.replace("...", ell[n_ell - (np.ndim(op) - len(s) + 3):]) if "..." in s else s
           for s, op in zip(ins, ops)]
    if arrow:
        out = out.replace("...", ell)
    else:  # implicit output: broadcast axes, then the letters used once, alphabetically
        joined = "".join(ins)
        out = ell + "".join(sorted(c for c in set(joined) - set(ell) if joined.count(c) == 1))
    return ops, ins, out


def _einsum_vjp(g, ans, *args, optimize=False, **_):
    ops, ins, out = _einsum_spec(args)
    sizes = {}
    for s, op in zip(ins, ops):
        for c, n in zip(s, np.shape(op)):
            sizes[c] = max(n, sizes.get(c, 1))
    cts = []
    for i, (target, op) in enumerate(zip(ins, ops)):
        others = [(s, conj(o)) for j, (s, o) in enumerate(zip(ins, ops)) if j != i]
        unique = "".join(dict.fromkeys(target))
        # Letters only this operand carries were summed over: g is constant along them.
        seen = set(out).union(*[s for s, _ in others])
        alone = "".join(c for c in unique if c not in seen)
        if alone:
            others.append((alone, np.ones([sizes[c] for c in alone])))
        subs = ",".join([out] + [s for s, _ in others]) + "->" + unique
        ct = np.einsum(subs, g, *[o for _, o in others], optimize=optimize)
        if unique != target:  # a repeated letter ('ii'): only the diagonal was read
            full = np.zeros(np.shape(op), dtype=ct.dtype)
            np.einsum(f"{target}->{unique}", full)[...] = ct  # einsum's diagonal is a view
            ct = full
        cts.append(ct)
    if isinstance(args[0], str):
        return (None, *cts)
    # interleaved form: (operand, sublist) pairs, perhaps an output sublist
    return tuple(x for ct in cts for x in (ct, None)) + (None,) * (len(args) % 2)


def _einsum_jvp(ans, tangents, *args, out=None, dtype=None, casting=None, **kwargs):
    # one term per operand with a tangent: the operands sit after the subscripts, or at
    # the even places of the interleaved form (the sublists' "tangents" are ignored)
    if isinstance(args[0], str):
        places = range(1, len(args))
    else:
        places = range(0, len(args) - len(args) % 2, 2)
    ts = {i: dense_tangent(tangents[i], args[i]) for i in places}  # list operands: stacked
    return add_tangents(*(np.einsum(*args[:i], ts[i], *args[i + 1:], **kwargs)
                          for i in places if ts[i] is not None))


defvjp_all(np.einsum, _einsum_vjp)
defjvp(np.einsum, _einsum_jvp)


# ---------------------------------------------------------------------------------------
# outer, vdot, vecdot, kron, cross
# ---------------------------------------------------------------------------------------

defvjp(
    np.outer,
    lambda g, ans, a, b, out=None: np.reshape(g @ conj(np.ravel(b)), np.shape(a)),
    lambda g, ans, a, b, out=None: np.reshape(conj(np.ravel(a)) @ g, np.shape(b)),
)
defjvp(np.outer, bilinear_jvp(np.outer, 0))

# vdot(a, b) = sum(conj(a) * b) is antilinear in a: its vjp conjugates g, not b.
defvjp(
    np.vdot,
    lambda g, ans, a, b: np.reshape(conj(g) * np.ravel(b), np.shape(a)),
    lambda g, ans, a, b: np.reshape(g * np.ravel(a), np.shape(b)),
)
defjvp(np.vdot, bilinear_jvp(np.vdot, 0))  # vdot(da, b) = sum(conj(da) * b): d conj(a) = conj(da)


def _vecdot_g(g, axis):
    return np.expand_dims(g, axis if axis < 0 else axis - np.ndim(g) - 1)


# vecdot(a, b) = sum(conj(a) * b, axis), antilinear in a like vdot.
defvjp(
    np.vecdot,
    lambda g, ans, a, b, axis=-1, **_: conj(_vecdot_g(g, axis)) * b,
    lambda g, ans, a, b, axis=-1, **_: _vecdot_g(g, axis) * a,
)
defjvp(np.vecdot, bilinear_jvp(np.vecdot, 0))


def _kron_parts(g, a, b):
    """``g``, ``a``, ``b`` as kron sees them: a and b with equally many axes, and g split
    into interleaved axes (a_0, b_0, a_1, b_1, ...)."""
    n = max(np.ndim(a), np.ndim(b))
    a = np.reshape(a, (1,) * (n - np.ndim(a)) + np.shape(a))
    b = np.reshape(b, (1,) * (n - np.ndim(b)) + np.shape(b))
    return np.reshape(g, [d for pair in zip(a.shape, b.shape) for d in pair]), a, b, n


def _kron_vjp_a(g, ans, a, b):
    g, _a, b2, n = _kron_parts(g, a, b)
    return np.reshape(np.tensordot(g, conj(b2), (list(range(1, 2 * n, 2)), list(range(n)))),
                      np.shape(a))


def _kron_vjp_b(g, ans, a, b):
    g, a2, _b, n = _kron_parts(g, a, b)
    return np.reshape(np.tensordot(conj(a2), g, (list(range(n)), list(range(0, 2 * n, 2)))),
                      np.shape(b))


defvjp(np.kron, _kron_vjp_a, _kron_vjp_b)
defjvp(np.kron, bilinear_jvp(np.kron, 0))


def _cross_axis(a, b, kwargs):
    if set(kwargs) - {"axis"} or np.shape(a)[kwargs.get("axis", -1)] != 3 \
            or np.shape(b)[kwargs.get("axis", -1)] != 3:
        raise NotImplementedError(
            "pygote: np.cross is differentiated for 3-vectors with at most `axis=` only")
    return kwargs.get("axis", -1)


# a x b = -[b]x a and [b]x is skew: the adjoints are conj(b) x g and g x conj(a).
defvjp(
    np.cross,
    lambda g, ans, a, b, **kw: np.cross(conj(b), g, axis=_cross_axis(a, b, kw)),
    lambda g, ans, a, b, **kw: np.cross(g, conj(a), axis=_cross_axis(a, b, kw)),
)
defjvp(np.cross, bilinear_jvp(np.cross, 4))  # any vectors: the vjp's 3-vector limit is its own


# ---------------------------------------------------------------------------------------
# trace: the sum of a diagonal, so g spreads evenly along it
# ---------------------------------------------------------------------------------------


def _trace_vjp(g, ans, x, offset=0, axis1=0, axis2=1, *_, **__):
    n = np.diagonal(x, offset, axis1, axis2).shape[-1]
    g = np.broadcast_to(np.expand_dims(g, -1), np.shape(g) + (n,))
    return undiagonal(g, np.shape(x), offset, axis1, axis2)


def _trace_jvp(ans, tangents, x, offset=0, axis1=0, axis2=1, *_, **__):
    t = tangents[0]
    return None if t is None else np.trace(t, offset, axis1, axis2)


defvjp(np.trace, _trace_vjp)
defvjp(np.ndarray.trace, _trace_vjp)
defjvp(np.trace, with_array_args(_trace_jvp))
defjvp(np.ndarray.trace, _trace_jvp)
