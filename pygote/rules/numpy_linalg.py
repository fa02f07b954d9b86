"""Reverse and forward rules for ``numpy.linalg``: norms, determinants, inverses and
solves, factorisations (cholesky, eigh, svd, qr), matrix powers and products, and the
numpy 2 array-API aliases (``np.linalg.matmul``, ``outer``, ``vecdot``, ...).

Matrices are the last two axes and every rule works on stacks of them, written with
``@`` and ``_H`` (conjugate transpose) so that one formula serves real and complex
inputs. The formulas are the standard matrix-calculus results (Giles, "An extended
collection of matrix derivative results for forward and reverse mode algorithmic
differentiation", 2008): each jvp is the forward derivative (the plain differential,
no conjugates), each vjp its adjoint applied to ``g``.

Factorisations assume what makes their outputs differentiable functions of the input:
distinct eigenvalues (``eigh``), distinct non-zero singular values (``svd``), full rank
(``qr``, ``pinv``). For complex eigenvectors and singular vectors, only losses that do not
depend on their arbitrary phases have a gradient. Forward mode fixes how those phases
move (``diag(V^H dV) = 0`` for eigh's V and svd's V, svd's U turning to match), and for
the extra columns of ``svd(full_matrices=True)`` and ``qr(mode="complete")`` of a
non-square matrix (any basis of a complement) it moves the basis as little as keeps it
orthonormal: right for losses that do not depend on the choice of basis, the same caveat
as the phases.

``eigh``, ``eigvalsh`` and ``cholesky`` read one triangle of their input (numpy ignores
the other), so their cotangents are the true derivative of that: the symmetric gradient
folded onto the triangle that was read, zero on the other; their tangents likewise see
only the Hermitian matrix that the triangle of the input tangent stands for.
"""

from __future__ import annotations

import numpy as np
try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # NumPy 1.x
    from numpy.core.numeric import normalize_axis_tuple

# The aliases below copy the rules of their numpy counterparts: make sure they exist.
import pygote.rules.numpy_products  # noqa: F401
import pygote.rules.numpy_shape  # noqa: F401
from pygote.rules.numpy_indexing import cotangent_like
from pygote.rules.numpy_shape import undiagonal
from pygote.rules.registry import (
    bilinear_jvp, defjvp, defvjp, defvjp_all, dense_tangent, linear_jvp, nondifferentiable,
    rule_for, with_array_args,
)

linalg = np.linalg
conj = np.conj

# ---------------------------------------------------------------------------------------
# Shared helpers: transposes, identities, triangles
# ---------------------------------------------------------------------------------------


def _H(x):
    """The conjugate transpose of (a stack of) matrices."""
    return conj(np.swapaxes(x, -1, -2))


def _eye(n, dtype=float):
    return np.eye(n, dtype=dtype)


def _mat(g):
    """A per-matrix scalar ``g`` (shape ``(...)``) as ``(..., 1, 1)``, to scale matrices."""
    return np.asarray(g)[..., None, None]


def _off_diagonal_inverse(d):
    """``F`` with ``F_ij = 1 / (d_j - d_i)`` off the diagonal and 0 on it, for the
    eigen- and singular-vector rules (distinct ``d`` assumed: equal ones divide by 0)."""
    diff = d[..., None, :] - d[..., :, None]
    eye = _eye(d.shape[-1], bool)
    return np.where(eye, 0, 1 / np.where(eye, 1, diff))


def _fold(s, uplo="L"):
    """The cotangent of a routine that reads only the ``uplo`` triangle of its input as
    the Hermitian matrix it stands for, given ``s``, the cotangent of that matrix.

    An entry below the diagonal stands for itself and its mirror, so it collects both
    (the mirror conjugated); the diagonal is read as real; the other triangle is unread.
    """
    n = s.shape[-1]
    both = s + _H(s)
    strict = np.tril(both, -1) if uplo.upper() == "L" else np.triu(both, 1)
    return strict + _eye(n) * np.real(s)


def _hermitian_tangent(t, uplo="L"):
    """The tangent of the Hermitian matrix that a routine reading only the ``uplo``
    triangle sees when its input moves by ``t``: that triangle mirrored, the diagonal real
    (the forward counterpart of ``_fold``)."""
    strict = np.tril(t, -1) if uplo.upper() == "L" else np.triu(t, 1)
    return strict + _H(strict) + _eye(np.shape(t)[-1]) * np.real(t)


def _trace(x):
    return np.trace(x, axis1=-2, axis2=-1)


def _sv_tangent(u, vh, t):
    """``Re diag(U^H T V)``: how the singular values of ``U diag(s) V^H`` move along ``T``."""
    return np.real(np.einsum("...ik,...ij,...kj->...k", conj(u), t, conj(vh)))


def _solve_vec(a, b):
    """``a^{-1} b`` for a stack of vectors ``b`` (numpy 2's solve takes ``b`` of more than
    one axis as matrices)."""
    return linalg.solve(a, b[..., None])[..., 0]


def _defjvp(func, jvp, positions=(0,)):
    """Register ``jvp`` seeing nested-list matrices (``det([[a, 1.0], [2.0, 3.0]])``) at
    ``positions`` as arrays, their tangents stacked."""
    defjvp(func, with_array_args(jvp, positions))


def _alias(new, old, jvp):
    """Register ``new`` with the vjp of ``old`` (the same maths under another name) and
    forward rule ``jvp``."""
    rule = rule_for(old)
    if rule.per_arg is not None:
        defvjp(new, *rule.per_arg)
    else:
        defvjp_all(new, rule.vjp)
    defjvp(new, jvp)


# ---------------------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------------------


def _unit(x):
    """``x / |x|`` elementwise (the sign, complex too), 0 where ``x`` is 0: the derivative
    of ``|x|`` as a cotangent, taking the subgradient 0 at 0."""
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a))


def _share(winners, axis):
    """Spread a subgradient evenly over tied winners, as the max/min reductions do."""
    return winners / np.maximum(np.sum(winners, axis=axis, keepdims=True), 1)


def _vector_norm_grad(x, n, p, axes):
    """d norm / d x of the ``p``-norm over ``axes``, with ``n`` the norm (axes kept)."""
    if p == 0:  # a count of the non-zeros: piecewise constant
        return np.zeros(np.shape(x))
    if np.isinf(p):  # the largest (smallest) |x_i|: the subgradient at the winners
        return _unit(x) * _share(np.abs(x) == n, axes)
    safe = np.where(n == 0, 1, n)
    if p == 2:
        return x / safe
    return _unit(x) * (np.abs(x) / safe) ** (p - 1)


def _matrix_norm_grad(x, n, p, axes):
    """d norm / d x of the matrix norm ``p`` of the matrices in ``axes`` (kept in ``n``)."""
    r, c = axes
    if p == "fro":
        return _vector_norm_grad(x, n, 2, axes)
    if p in ("nuc", 2, -2):
        # Sums / extremes of singular values: d s_k = Re(u_k^H dA v_k).
        u, _, vh = linalg.svd(np.moveaxis(x, (r, c), (-2, -1)), full_matrices=False)
        if p == "nuc":
            grad = u @ vh
        else:
            k = slice(0, 1) if p == 2 else slice(-1, None)
            grad = u[..., :, k] @ vh[..., k, :]
        return np.moveaxis(grad, (-2, -1), (r, c))
    if p in (1, -1, np.inf, -np.inf):
        # max/min over one axis of absolute sums over the other: the winning line(s)
        summed, over = (r, c) if p in (1, -1) else (c, r)
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        return _unit(x) * _share(sums == n, over)
    raise ValueError(f"pygote: invalid norm order {p!r} for matrices")


def _norm_grad(ans, x, p, axes, keepdims, matrix):
    """d norm / d x as a cotangent ``G`` (the norm moves by ``Re sum(conj(G) dx)``)."""
    if not keepdims:
        ans = np.expand_dims(ans, axes)
    if matrix:
        return _matrix_norm_grad(x, ans, p, axes)
    return _vector_norm_grad(x, ans, p, axes)


def _norm_parts(x, ord, axis):
    """``(p, axes, matrix)``: the order, the reduced axes and whether it is a matrix norm."""
    if axis is None:
        # ord=None: the 2-norm of x flattened (Frobenius for a matrix); else x is 1-d or 2-d
        axes = tuple(range(x.ndim))
    else:
        axes = normalize_axis_tuple(axis, x.ndim)
    matrix = len(axes) == 2 and ord not in (None, "fro")
    if len(axes) == 2 and not matrix:
        ord = 2  # Frobenius: the 2-norm of the entries
    return 2 if ord is None else ord, axes, matrix


def _norm_pullback(g, ans, x, p, axes, keepdims, matrix):
    if not keepdims:
        g = np.expand_dims(g, axes)
    return g * _norm_grad(ans, x, p, axes, keepdims, matrix)


def _norm_pushforward(t, ans, x, p, axes, keepdims, matrix):
    if t is None or (p == 0 and not matrix):  # a count of non-zeros: piecewise constant
        return None
    d = np.real(conj(_norm_grad(ans, x, p, axes, keepdims, matrix)) * t)
    return np.sum(d, axis=axes, keepdims=keepdims)


def _norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    x = np.asarray(x)
    p, axes, matrix = _norm_parts(x, ord, axis)
    return _norm_pullback(g, ans, x, p, axes, keepdims, matrix)


def _norm_jvp(ans, tangents, x, ord=None, axis=None, keepdims=False):
    x = np.asarray(x)
    p, axes, matrix = _norm_parts(x, ord, axis)
    return _norm_pushforward(tangents[0], ans, x, p, axes, keepdims, matrix)


def _vector_norm_vjp(g, ans, x, axis=None, keepdims=False, ord=2):
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim)
    return _norm_pullback(g, ans, x, ord, axes, keepdims, False)


def _vector_norm_jvp(ans, tangents, x, axis=None, keepdims=False, ord=2):
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim)
    return _norm_pushforward(tangents[0], ans, x, ord, axes, keepdims, False)


def _matrix_norm_vjp(g, ans, x, keepdims=False, ord="fro"):
    x = np.asarray(x)
    return _norm_pullback(g, ans, x, ord, normalize_axis_tuple((-2, -1), x.ndim), keepdims,
                          True)


def _matrix_norm_jvp(ans, tangents, x, keepdims=False, ord="fro"):
    x = np.asarray(x)
    return _norm_pushforward(tangents[0], ans, x, ord, normalize_axis_tuple((-2, -1), x.ndim),
                             keepdims, True)


defvjp(linalg.norm, _norm_vjp)
defvjp(linalg.vector_norm, _vector_norm_vjp)
defvjp(linalg.matrix_norm, _matrix_norm_vjp)
_defjvp(linalg.norm, _norm_jvp)
_defjvp(linalg.vector_norm, _vector_norm_jvp)
_defjvp(linalg.matrix_norm, _matrix_norm_jvp)


def _cond_vjp(g, ans, x, p=None):
    if p in (None, 2, -2):
        # s_max / s_min (or its inverse for -2): only the two extreme singular values move.
        u, s, vh = linalg.svd(x, full_matrices=False)
        hi, lo = (0, -1) if p != -2 else (-1, 0)
        s_bar = np.zeros_like(s)
        s_bar[..., hi] += 1 / s[..., lo]
        s_bar[..., lo] -= s[..., hi] / s[..., lo] ** 2
        return (u * (np.asarray(g)[..., None] * s_bar)[..., None, :]) @ vh
    # norm(x) * norm(inv(x)): the product rule through the norm and inverse rules
    axes = (x.ndim - 2, x.ndim - 1)
    xi = linalg.inv(x)
    nx = linalg.matrix_norm(x, ord=p, keepdims=True)
    ni = linalg.matrix_norm(xi, ord=p, keepdims=True)
    g = _mat(g)
    d_inv = g * nx * _matrix_norm_grad(xi, ni, p, axes)
    return g * ni * _matrix_norm_grad(x, nx, p, axes) - _H(xi) @ d_inv @ _H(xi)


def _cond_jvp(ans, tangents, x, p=None):
    t = tangents[0]
    if t is None:
        return None
    if p in (None, 2, -2):  # s_hi / s_lo: the quotient rule on the two that move
        u, s, vh = linalg.svd(x, full_matrices=False)
        ds = _sv_tangent(u, vh, t)
        hi, lo = (0, -1) if p != -2 else (-1, 0)
        return (ds[..., hi] * s[..., lo] - s[..., hi] * ds[..., lo]) / s[..., lo] ** 2
    # norm(x) * norm(inv(x)), with d inv(x) = -inv(x) dx inv(x)
    axes = (x.ndim - 2, x.ndim - 1)
    xi = linalg.inv(x)
    nx = linalg.matrix_norm(x, ord=p)
    ni = linalg.matrix_norm(xi, ord=p)
    d_nx = _norm_pushforward(t, nx, x, p, axes, False, True)
    d_ni = _norm_pushforward(-xi @ t @ xi, ni, xi, p, axes, False, True)
    return d_nx * ni + nx * d_ni


defvjp(linalg.cond, _cond_vjp)
_defjvp(linalg.cond, _cond_jvp)
nondifferentiable(linalg.matrix_rank)  # integer valued


# ---------------------------------------------------------------------------------------
# Determinants, inverses, solves
# ---------------------------------------------------------------------------------------

# d det = det tr(A^{-1} dA): the cotangent is g conj(det) A^{-H} (inv rather than a
# cofactor formula, so singular matrices get no gradient).
defvjp(linalg.det, lambda g, ans, a: _mat(g * conj(ans)) * _H(linalg.inv(a)))


def _log_det_tangent(a, t):
    """``tr(A^{-1} dA)``, the tangent of ``log det A`` (complex for complex A)."""
    return None if t is None else _trace(linalg.solve(a, t))


def _det_jvp(ans, tangents, a):
    c = _log_det_tangent(a, tangents[0])
    return None if c is None else ans * c


_defjvp(linalg.det, _det_jvp)


def _slogdet_vjp(g, ans, a):
    # logabsdet = Re log det and sign = exp(i Im log det), with d log det = tr(A^{-1} dA).
    # A real sign is piecewise constant; a complex sign turns with Im log det.
    g_sign, g_log = g
    coef = np.zeros(np.shape(ans[1])) if g_log is None else np.asarray(g_log)
    if g_sign is not None and np.iscomplexobj(ans[0]):
        coef = coef - 1j * np.imag(conj(g_sign) * ans[0])
    return _mat(coef) * _H(linalg.inv(a))


def _slogdet_jvp(ans, tangents, a):
    c = _log_det_tangent(a, tangents[0])
    if c is None:
        return None
    sign = ans[0]
    d_sign = sign * 1j * np.imag(c) if np.iscomplexobj(sign) else None
    return d_sign, np.real(c)


defvjp(linalg.slogdet, _slogdet_vjp)
_defjvp(linalg.slogdet, _slogdet_jvp)

# d(A^{-1}) = -A^{-1} dA A^{-1}
defvjp(linalg.inv, lambda g, ans, a: -_H(ans) @ g @ _H(ans))
_defjvp(linalg.inv, lambda ans, tangents, a: None if tangents[0] is None
        else -ans @ tangents[0] @ ans)


def _solve_vjp_b(g, ans, a, b):
    ah = _H(a)
    return _solve_vec(ah, g) if np.ndim(b) == 1 else linalg.solve(ah, g)


def _solve_vjp_a(g, ans, a, b):
    # x = A^{-1} b: dx = -A^{-1} dA x, so the cotangent of A is -(A^{-H} g) x^H.
    gb = _solve_vjp_b(g, ans, a, b)
    if np.ndim(b) == 1:
        return -gb[..., :, None] * conj(ans)[..., None, :]
    return -gb @ _H(ans)


def _solve_jvp(ans, tangents, a, b):
    # dx = A^{-1} (db - dA x)
    ta, tb = tangents
    vector = np.ndim(b) == 1
    rhs = tb
    if ta is not None:
        ta_x = (ta @ ans[..., None])[..., 0] if vector else ta @ ans
        rhs = -ta_x if rhs is None else rhs - ta_x
    if rhs is None:
        return None
    return _solve_vec(a, rhs) if vector else linalg.solve(a, rhs)


defvjp(linalg.solve, _solve_vjp_a, _solve_vjp_b)
_defjvp(linalg.solve, _solve_jvp, (0, 1))


def _pinv_vjp(g, ans, a, *_, **__):
    # Golub & Pereyra's derivative of the pseudo-inverse P of a constant-rank A:
    # dP = -P dA P + (I - P A) dA^H P^H P + P P^H dA^H (I - A P), transposed term by term.
    p, ph, gh = ans, _H(ans), _H(g)
    m, n = np.shape(a)[-2:]
    return (-ph @ g @ ph + (ph @ p) @ gh @ (_eye(n) - p @ a)
            + (_eye(m) - a @ p) @ gh @ (p @ ph))


def _pinv_jvp(ans, tangents, a, *_, **__):
    t = tangents[0]
    if t is None:
        return None
    p, th = ans, _H(t)
    m, n = np.shape(a)[-2:]
    return (-p @ t @ p + (_eye(n) - p @ a) @ th @ (_H(p) @ p)
            + (p @ _H(p)) @ th @ (_eye(m) - a @ p))


defvjp(linalg.pinv, _pinv_vjp)
_defjvp(linalg.pinv, _pinv_jvp)


# ---------------------------------------------------------------------------------------
# Cholesky
# ---------------------------------------------------------------------------------------


def _cholesky_vjp(g, ans, a, upper=False):
    # A = L L^H with L lower: from dL = L Phi(L^{-1} dA L^{-H}), Phi taking the lower
    # triangle with the diagonal halved, the cotangent of A (as a Hermitian matrix) is
    # L^{-H} Phi(L^H g) L^{-1}; numpy reads one triangle, so fold it there.
    low, g = (_H(ans), _H(g)) if upper else (ans, g)
    n = low.shape[-1]
    phi = np.tril(_H(low) @ g) * (1 - 0.5 * _eye(n))
    s = linalg.solve(_H(low), _H(linalg.solve(_H(low), _H(phi))))  # L^{-H} phi L^{-1}
    # s is right on Hermitian directions only; _fold reads it so (s + s^H, Re diag).
    return _fold(s, "U" if upper else "L")


def _cholesky_jvp(ans, tangents, a, upper=False):
    # dL = L Phi(L^{-1} dA L^{-H}) for the Hermitian dA the read triangle stands for
    t = tangents[0]
    if t is None:
        return None
    low = _H(ans) if upper else ans
    s = _hermitian_tangent(t, "U" if upper else "L")
    x = linalg.solve(low, _H(linalg.solve(low, s)))  # L^{-1} (L^{-1} S)^H, S = S^H
    dl = low @ (np.tril(x) * (1 - 0.5 * _eye(low.shape[-1])))
    return _H(dl) if upper else dl


defvjp(linalg.cholesky, _cholesky_vjp)
_defjvp(linalg.cholesky, _cholesky_jvp)


# ---------------------------------------------------------------------------------------
# Symmetric eigendecomposition (distinct eigenvalues assumed)
# ---------------------------------------------------------------------------------------


def _eigh_cotangent(w, v, gw, gv):
    """The cotangent of the Hermitian matrix ``V diag(w) V^H`` given those of ``w`` and
    ``V``: ``V (diag(gw) + F o (V^H gv)) V^H`` with ``F_ij = 1 / (w_j - w_i)``."""
    core = np.zeros(np.shape(w) + np.shape(w)[-1:], dtype=np.result_type(v, w))
    if gw is not None:
        core = core + _eye(np.shape(w)[-1]) * np.asarray(gw)[..., None, :]
    if gv is not None:
        core = core + _off_diagonal_inverse(w) * (_H(v) @ gv)
    return v @ core @ _H(v)


def _eigh_vjp(g, ans, a, UPLO="L"):
    w, v = ans
    gw, gv = g
    return _fold(_eigh_cotangent(w, v, gw, gv), UPLO)


def _eigvalsh_vjp(g, ans, a, UPLO="L"):
    w, v = linalg.eigh(a, UPLO)  # the eigenvectors were not returned: recompute them
    return _fold(_eigh_cotangent(w, v, g, None), UPLO)


def _eigh_jvp(ans, tangents, a, UPLO="L"):
    # With P = V^H dA V: dw = diag(P), dV = V (F o P), F_ij = 1 / (w_j - w_i)
    t = tangents[0]
    if t is None:
        return None
    w, v = ans
    p = _H(v) @ _hermitian_tangent(t, UPLO) @ v
    return np.real(np.diagonal(p, 0, -2, -1)), v @ (_off_diagonal_inverse(w) * p)


def _eigvalsh_jvp(ans, tangents, a, UPLO="L"):
    t = tangents[0]
    if t is None:
        return None
    _, v = linalg.eigh(a, UPLO)  # dw_i = v_i^H dA v_i needs the eigenvectors
    return np.real(np.einsum("...ji,...jk,...ki->...i", conj(v), _hermitian_tangent(t, UPLO), v))


defvjp(linalg.eigh, _eigh_vjp)
defvjp(linalg.eigvalsh, _eigvalsh_vjp)
_defjvp(linalg.eigh, _eigh_jvp)
_defjvp(linalg.eigvalsh, _eigvalsh_jvp)


# ---------------------------------------------------------------------------------------
# Singular value decomposition (distinct, non-zero singular values assumed)
# ---------------------------------------------------------------------------------------


def _svd_cotangent(a, u, s, vh, gu, gs, gvh):
    """The cotangent of ``A = U diag(s) V^H`` (the reduced SVD) from those of its parts.

    With ``P = U^H dA V`` the forward derivatives are ``ds = Re diag(P)``,
    ``dU = U (F o (P S + S P^H)) + (I - U U^H) dA V S^{-1}`` and the mirror image for
    ``V``, ``F_ij = 1 / (s_j^2 - s_i^2)``. The cotangent of ``P``, mapped back by
    ``U . V^H``, collects the terms inside the span of ``U`` and ``V``.
    """
    m, n = np.shape(a)[-2:]
    k = s.shape[-1]
    v = _H(vh)
    gv = None if gvh is None else _H(gvh)
    core = np.zeros(np.shape(s) + (k,), dtype=np.result_type(u, s))
    if gs is not None:
        core = core + _eye(k) * np.asarray(gs)[..., None, :]
    f = _off_diagonal_inverse(s**2)
    inv_s = 1 / s
    extra = 0
    if gu is not None:
        ug = _H(u) @ gu
        core = core + (f * (ug - _H(ug))) * s[..., None, :]
        if np.iscomplexobj(ug):  # the phase of U's columns moves with Im diag(P) / s
            core = core + _eye(k) * (1j * np.imag(np.diagonal(ug, 0, -2, -1)) * inv_s)[
                ..., None, :]
        if m > k:  # the part of gu outside the span of U
            extra = extra + (gu - u @ ug) * inv_s[..., None, :] @ vh
    if gv is not None:
        vg = _H(v) @ gv
        core = core + s[..., :, None] * (f * (vg - _H(vg)))
        if n > k:
            extra = extra + (u * inv_s[..., None, :]) @ _H(gv - v @ vg)
    return u @ core @ vh + extra


def _svd_tangents(u, s, vh, t):
    """``(dU, ds, dV^H)`` of the reduced SVD ``A = U diag(s) V^H`` along ``dA = t``.

    With ``P = U^H dA V``: ``ds = Re diag(P)``; off the diagonal ``U^H dU = F o (P S +
    S P^H)`` and ``V^H dV = F o (S P + P^H S)``; on it U's columns take the phase
    ``i Im diag(P) / s`` (and V's none); outside the spans of U and V the columns move by
    ``(I - U U^H) dA V S^{-1}`` and ``(I - V V^H) dA^H U S^{-1}``.
    """
    m, k, n = u.shape[-2], s.shape[-1], vh.shape[-1]
    v = _H(vh)
    tv = t @ v
    p, ph = _H(u) @ tv, _H(tv) @ u
    f = _off_diagonal_inverse(s**2)
    row, col = s[..., :, None], s[..., None, :]
    om_u = f * (p * col + row * ph)
    om_v = f * (row * p + ph * col)
    if np.iscomplexobj(p):
        om_u = om_u + _eye(k) * (1j * np.imag(np.diagonal(p, 0, -2, -1)) / s)[..., None, :]
    du, dv = u @ om_u, v @ om_v
    if m > k:
        du = du + (tv - u @ p) / col
    if n > k:
        dv = dv + (_H(t) @ u - v @ ph) / col
    return du, np.real(np.diagonal(p, 0, -2, -1)), _H(dv)


def _complement_tangent(q, dq, k):
    """The tangent of the columns ``q[..., k:]``, any orthonormal basis of the complement
    of the first ``k`` (moving by ``dq``): the least motion keeping them orthonormal and
    orthogonal to those, ``-Q_k (dQ_k^H Q_rest)``."""
    return -q[..., :, :k] @ (_H(dq) @ q[..., :, k:])


def _no_hermitian_svd():
    raise NotImplementedError(
        "pygote: no derivative for np.linalg.svd(..., hermitian=True); use hermitian=False "
        "(same values for a Hermitian input) or eigh")


def _svd_jvp(ans, tangents, a, full_matrices=True, compute_uv=True, hermitian=False):
    t = tangents[0]
    if hermitian:
        _no_hermitian_svd()
    if t is None:
        return None
    if not compute_uv:
        u, _, vh = linalg.svd(a, full_matrices=False)
        return _sv_tangent(u, vh, t)
    u, s, vh = ans
    k = s.shape[-1]
    du, ds, dvh = _svd_tangents(u[..., :, :k], s, vh[..., :k, :], t)
    if u.shape[-1] > k:  # full_matrices: the extra columns of U
        du = np.concatenate([du, _complement_tangent(u, du, k)], axis=-1)
    if vh.shape[-2] > k:
        dv = _complement_tangent(_H(vh), _H(dvh), k)
        dvh = np.concatenate([dvh, _H(dv)], axis=-2)
    return du, ds, dvh


def _svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        _no_hermitian_svd()
    if not compute_uv:  # g is the cotangent of s: A's is U diag(g) V^H
        u, _, vh = linalg.svd(a, full_matrices=False)
        return (u * np.asarray(g)[..., None, :]) @ vh
    u, s, vh = ans
    gu, gs, gvh = g
    k = s.shape[-1]
    if full_matrices and (u.shape[-1] > k or vh.shape[-2] > k):
        # The extra columns of U (rows of V^H) are any basis of a complement: not a
        # function of A. Accept them only if the loss ignores them.
        for extra in (None if gu is None else gu[..., :, k:],
                      None if gvh is None else gvh[..., k:, :]):
            if extra is not None and np.any(extra):
                raise NotImplementedError(
                    "pygote: the gradient of np.linalg.svd(full_matrices=True) through the "
                    "extra singular vectors of a non-square matrix is undefined; use "
                    "full_matrices=False")
        u, vh = u[..., :, :k], vh[..., :k, :]
        gu = None if gu is None else gu[..., :, :k]
        gvh = None if gvh is None else gvh[..., :k, :]
    return _svd_cotangent(a, u, s, vh, gu, gs, gvh)


defvjp(linalg.svd, _svd_vjp)
defvjp(linalg.svdvals, lambda g, ans, x: _svd_vjp(g, ans, x, compute_uv=False))
_defjvp(linalg.svd, _svd_jvp)
_defjvp(linalg.svdvals, lambda ans, tangents, x: _svd_jvp(ans, tangents, x, compute_uv=False))


# ---------------------------------------------------------------------------------------
# QR (reduced; full rank assumed)
# ---------------------------------------------------------------------------------------


def _qr_square_cotangent(q, r, gq, gr):
    """Cotangent of ``A`` for ``A = QR`` with ``R`` square (``m >= n``).

    Forward: with ``X = dA R^{-1}`` and ``C = Q^H X``, ``dQ = Q (Om - C) + X`` and
    ``dR = (C - Om) R`` where ``Om`` is the skew part of ``C`` (its strict lower triangle
    minus that mirrored, plus ``i Im diag C``, which keeps diag R real). Transposed:
    ``M = Q^H gQ - gR R^H``, ``gC = Om*(M) - M``, ``gA = (gQ + Q gC) R^{-H}``.
    """
    n = r.shape[-1]
    gq = np.zeros_like(q) if gq is None else gq
    m_ = _H(q) @ gq
    if gr is not None:
        m_ = m_ - gr @ _H(r)
    om_t = np.tril(m_, -1) - np.tril(_H(m_), -1)
    if np.iscomplexobj(m_):
        om_t = om_t + 1j * _eye(n) * np.imag(m_)
    gx = gq + q @ (om_t - m_)
    return _H(linalg.solve(r, _H(gx)))  # gx R^{-H}


def _qr_square_tangents(q, r, t):
    """``(dQ, dR)`` for ``A = QR`` with ``R`` square along ``dA = t``: the forward
    formulas above."""
    x = _H(linalg.solve(_H(r), _H(t)))  # dA R^{-1}
    c = _H(q) @ x
    om = np.tril(c, -1) - _H(np.tril(c, -1))
    if np.iscomplexobj(c):
        om = om + 1j * _eye(c.shape[-1]) * np.imag(c)
    return q @ (om - c) + x, (c - om) @ r


def _qr_jvp(ans, tangents, a, mode="reduced"):
    t = tangents[0]
    if mode not in ("reduced", "complete", "r"):
        raise NotImplementedError(f"pygote: no derivative for np.linalg.qr(mode={mode!r})")
    if t is None:
        return None
    q, r = linalg.qr(a) if mode == "r" else ans
    m, n = np.shape(a)[-2:]
    if m > n and q.shape[-1] > n:
        # complete, tall: R's extra rows stay 0; Q's extra columns span the complement
        dq, dr = _qr_square_tangents(q[..., :, :n], r[..., :n, :], t)
        dq = np.concatenate([dq, _complement_tangent(q, dq, n)], axis=-1)
        dr = np.concatenate([dr, np.zeros(np.shape(r[..., n:, :]), dr.dtype)], axis=-2)
    elif m >= n:
        dq, dr = _qr_square_tangents(q, r, t)
    else:  # wide: A = [X | Y] with X = Q R_x square and R_y = Q^H Y
        dq, dr_x = _qr_square_tangents(q, r[..., :, :m], t[..., :, :m])
        dr_y = _H(dq) @ a[..., :, m:] + _H(q) @ t[..., :, m:]
        dr = np.concatenate([dr_x, dr_y], axis=-1)
    return dr if mode == "r" else (dq, dr)


def _qr_vjp(g, ans, a, mode="reduced"):
    if mode == "r":
        q, r = linalg.qr(a)
        gq, gr = None, g
    elif mode in ("reduced", "complete"):
        q, r = ans
        gq, gr = g
    else:
        raise NotImplementedError(f"pygote: no gradient for np.linalg.qr(mode={mode!r})")
    m, n = np.shape(a)[-2:]
    if mode == "complete" and m > n:
        raise NotImplementedError(
            "pygote: the gradient of np.linalg.qr(mode='complete') of a tall matrix is "
            "undefined (its extra columns of Q are arbitrary); use mode='reduced'")
    if m >= n:
        return _qr_square_cotangent(q, r, gq, gr)
    # Wide: A = [X | Y] with X = Q R_x square and R_y = Q^H Y; R_y adds to Q's cotangent.
    gr = np.zeros_like(r) if gr is None else gr
    y, gry = a[..., :, m:], gr[..., :, m:]
    gq = (0 if gq is None else gq) + y @ _H(gry)
    gx = _qr_square_cotangent(q, r[..., :, :m], gq, gr[..., :, :m])
    return np.concatenate([gx, q @ gry], axis=-1)


defvjp(linalg.qr, _qr_vjp)
_defjvp(linalg.qr, _qr_jvp)


# ---------------------------------------------------------------------------------------
# Matrix powers and chained products
# ---------------------------------------------------------------------------------------


def _power_cotangent(b, g, n):
    """Cotangent of ``B`` for ``B^n`` (n >= 1): ``sum_k (B^H)^k g (B^H)^(n-1-k)``."""
    bh = _H(b)
    powers = [None]  # powers[k] = (B^H)^k, None standing for I
    for _ in range(n - 1):
        powers.append(bh if powers[-1] is None else powers[-1] @ bh)
    total = 0
    for k in range(n):
        left, right = powers[k], powers[n - 1 - k]
        term = g if left is None else left @ g
        total = total + (term if right is None else term @ right)
    return total


def _matrix_power_vjp(g, ans, a, n):
    n = int(n)
    if n == 0:
        return None  # the identity
    if n > 0:
        return _power_cotangent(a, g, n)
    ai = linalg.inv(a)  # A^n = (A^{-1})^|n|, then through the inverse
    return -_H(ai) @ _power_cotangent(ai, g, -n) @ _H(ai)


def _matrix_power_jvp(ans, tangents, a, n):
    t, n = tangents[0], int(n)
    if t is None or n == 0:
        return None
    if n < 0:  # A^n = (A^{-1})^|n|, d(A^{-1}) = -A^{-1} dA A^{-1}
        a = linalg.inv(a)
        t, n = -a @ t @ a, -n
    # square and multiply, as numpy does, carrying the tangent by the product rule
    z, dz, out, d_out = a, t, None, None
    while True:
        if n & 1:
            out, d_out = (z, dz) if out is None else (out @ z, d_out @ z + out @ dz)
        n >>= 1
        if not n:
            return d_out
        z, dz = z @ z, dz @ z + z @ dz


defvjp(linalg.matrix_power, _matrix_power_vjp)
_defjvp(linalg.matrix_power, _matrix_power_jvp)


def _multi_dot_vjp(g, ans, arrays, *_, **__):
    # The product A_0 ... A_{k-1} (first and last may be vectors: a row, a column). Each
    # factor's cotangent is (left product)^H g (right product)^H.
    mats = [np.asarray(x) for x in arrays]
    if mats[0].ndim == 1:
        mats[0] = mats[0][None, :]
    if mats[-1].ndim == 1:
        mats[-1] = mats[-1][:, None]
    g = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    lefts, acc = [None], None
    for x in mats[:-1]:
        acc = x if acc is None else acc @ x
        lefts.append(acc)
    rights, acc = [None], None
    for x in mats[:0:-1]:
        acc = x if acc is None else x @ acc
        rights.append(acc)
    rights.reverse()
    cts = []
    for left, right, x in zip(lefts, rights, arrays):
        ct = g if right is None else g @ _H(right)
        ct = ct if left is None else _H(left) @ ct
        cts.append(np.reshape(ct, np.shape(x)))
    return cotangent_like(cts, arrays)


def _multi_dot_jvp(ans, tangents, arrays, *_, **__):
    # the product left to right (1-d ends are a row and a column, as for @), with the
    # product rule; tangents[0] has one entry per factor (None: a constant)
    if tangents[0] is None:
        return None
    prod = d_prod = None
    for k, (x, t) in enumerate(zip(arrays, tangents[0])):
        x, t = np.asarray(x), dense_tangent(t, x)
        if k == 0:
            prod, d_prod = x, t
            continue
        d_x = None if t is None else prod @ t
        d_prod = d_x if d_prod is None else d_prod @ x if d_x is None else d_prod @ x + d_x
        prod = prod @ x
    return d_prod


defvjp(linalg.multi_dot, _multi_dot_vjp)
defjvp(linalg.multi_dot, _multi_dot_jvp)


# ---------------------------------------------------------------------------------------
# numpy 2's array-API aliases: the same maths as their numpy namesakes, matrices last
# ---------------------------------------------------------------------------------------

_alias(linalg.matmul, np.matmul, bilinear_jvp(linalg.matmul))
_alias(linalg.outer, np.outer, bilinear_jvp(linalg.outer))
_alias(linalg.vecdot, np.vecdot, bilinear_jvp(linalg.vecdot))  # conj(x1): real-bilinear
_alias(linalg.tensordot, np.tensordot, bilinear_jvp(linalg.tensordot))
_alias(linalg.cross, np.cross, bilinear_jvp(linalg.cross))
_alias(linalg.matrix_transpose, np.matrix_transpose, linear_jvp(linalg.matrix_transpose))
defvjp(linalg.diagonal, lambda g, ans, x, offset=0: undiagonal(g, np.shape(x), offset, -2, -1))
defjvp(linalg.diagonal, linear_jvp(linalg.diagonal))


def _linalg_trace_vjp(g, ans, x, offset=0, dtype=None):
    n = np.diagonal(x, offset, -2, -1).shape[-1]
    g = np.broadcast_to(np.expand_dims(g, -1), np.shape(g) + (n,))
    return undiagonal(g, np.shape(x), offset, -2, -1)


defvjp(linalg.trace, _linalg_trace_vjp)
defjvp(linalg.trace, linear_jvp(linalg.trace))
