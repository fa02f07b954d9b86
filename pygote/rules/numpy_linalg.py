"""Reverse rules for ``numpy.linalg``: norms, determinants, inverses and solves,
factorisations (cholesky, eigh, svd, qr), matrix powers and products, and the numpy 2
array-API aliases (``np.linalg.matmul``, ``outer``, ``vecdot``, ...).

Matrices are the last two axes and every rule works on stacks of them, written with
``@`` and ``_H`` (conjugate transpose) so that one formula serves real and complex
inputs. The formulas are the standard matrix-calculus results (Giles, "An extended
collection of matrix derivative results for forward and reverse mode algorithmic
differentiation", 2008), in the registry's convention: a cotangent is the adjoint of the
forward derivative applied to ``g``.

Factorisations assume what makes their outputs differentiable functions of the input:
distinct eigenvalues (``eigh``), distinct non-zero singular values (``svd``), full rank
(``qr``, ``pinv``). For complex eigenvectors and singular vectors, only losses that do not
depend on their arbitrary phases have a gradient.

``eigh``, ``eigvalsh`` and ``cholesky`` read one triangle of their input (numpy ignores
the other), so their cotangents are the true derivative of that: the symmetric gradient
folded onto the triangle that was read, zero on the other.
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
from pygote.rules.registry import defvjp, defvjp_all, nondifferentiable, rule_for

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


def _solve_vec(a, b):
    """``a^{-1} b`` for a stack of vectors ``b`` (numpy 2's solve takes ``b`` of more than
    one axis as matrices)."""
    return linalg.solve(a, b[..., None])[..., 0]


def _alias(new, old):
    """Register ``new`` with the rule of ``old`` (the same maths under another name)."""
    rule = rule_for(old)
    if rule.per_arg is not None:
        defvjp(new, *rule.per_arg)
    else:
        defvjp_all(new, rule.vjp)


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


def _norm_grad(g, ans, x, p, axes, keepdims, matrix):
    if not keepdims:
        g, ans = np.expand_dims(g, axes), np.expand_dims(ans, axes)
    if matrix:
        return g * _matrix_norm_grad(x, ans, p, axes)
    return g * _vector_norm_grad(x, ans, p, axes)


def _norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    x = np.asarray(x)
    if axis is None:
        # ord=None: the 2-norm of x flattened (Frobenius for a matrix); else x is 1-d or 2-d
        axes = tuple(range(x.ndim))
    else:
        axes = normalize_axis_tuple(axis, x.ndim)
    matrix = len(axes) == 2 and ord not in (None, "fro")
    if len(axes) == 2 and not matrix:
        ord = 2  # Frobenius: the 2-norm of the entries
    return _norm_grad(g, ans, x, 2 if ord is None else ord, axes, keepdims, matrix)


def _vector_norm_vjp(g, ans, x, axis=None, keepdims=False, ord=2):
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim)
    return _norm_grad(g, ans, x, ord, axes, keepdims, False)


def _matrix_norm_vjp(g, ans, x, keepdims=False, ord="fro"):
    x = np.asarray(x)
    return _norm_grad(g, ans, x, ord, normalize_axis_tuple((-2, -1), x.ndim), keepdims,
                      True)


defvjp(linalg.norm, _norm_vjp)
defvjp(linalg.vector_norm, _vector_norm_vjp)
defvjp(linalg.matrix_norm, _matrix_norm_vjp)


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


defvjp(linalg.cond, _cond_vjp)
nondifferentiable(linalg.matrix_rank)  # integer valued


# ---------------------------------------------------------------------------------------
# Determinants, inverses, solves
# ---------------------------------------------------------------------------------------

# d det = det tr(A^{-1} dA): the cotangent is g conj(det) A^{-H} (inv rather than a
# cofactor formula, so singular matrices get no gradient).
defvjp(linalg.det, lambda g, ans, a: _mat(g * conj(ans)) * _H(linalg.inv(a)))


def _slogdet_vjp(g, ans, a):
    # logabsdet = Re log det and sign = exp(i Im log det), with d log det = tr(A^{-1} dA).
    # A real sign is piecewise constant; a complex sign turns with Im log det.
    g_sign, g_log = g
    coef = np.zeros(np.shape(ans[1])) if g_log is None else np.asarray(g_log)
    if g_sign is not None and np.iscomplexobj(ans[0]):
        coef = coef - 1j * np.imag(conj(g_sign) * ans[0])
    return _mat(coef) * _H(linalg.inv(a))


defvjp(linalg.slogdet, _slogdet_vjp)

# d(A^{-1}) = -A^{-1} dA A^{-1}
defvjp(linalg.inv, lambda g, ans, a: -_H(ans) @ g @ _H(ans))


def _solve_vjp_b(g, ans, a, b):
    ah = _H(a)
    return _solve_vec(ah, g) if np.ndim(b) == 1 else linalg.solve(ah, g)


def _solve_vjp_a(g, ans, a, b):
    # x = A^{-1} b: dx = -A^{-1} dA x, so the cotangent of A is -(A^{-H} g) x^H.
    gb = _solve_vjp_b(g, ans, a, b)
    if np.ndim(b) == 1:
        return -gb[..., :, None] * conj(ans)[..., None, :]
    return -gb @ _H(ans)


defvjp(linalg.solve, _solve_vjp_a, _solve_vjp_b)


def _pinv_vjp(g, ans, a, *_, **__):
    # Golub & Pereyra's derivative of the pseudo-inverse P of a constant-rank A:
    # dP = -P dA P + (I - P A) dA^H P^H P + P P^H dA^H (I - A P), transposed term by term.
    p, ph, gh = ans, _H(ans), _H(g)
    m, n = np.shape(a)[-2:]
    return (-ph @ g @ ph + (ph @ p) @ gh @ (_eye(n) - p @ a)
            + (_eye(m) - a @ p) @ gh @ (p @ ph))


defvjp(linalg.pinv, _pinv_vjp)


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


defvjp(linalg.cholesky, _cholesky_vjp)


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


defvjp(linalg.eigh, _eigh_vjp)
defvjp(linalg.eigvalsh, _eigvalsh_vjp)


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


def _svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        raise NotImplementedError(
            "pygote: no gradient for np.linalg.svd(..., hermitian=True); use hermitian=False "
            "(same values for a Hermitian input) or eigh")
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


defvjp(linalg.matrix_power, _matrix_power_vjp)


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


defvjp(linalg.multi_dot, _multi_dot_vjp)


# ---------------------------------------------------------------------------------------
# numpy 2's array-API aliases: the same maths as their numpy namesakes, matrices last
# ---------------------------------------------------------------------------------------

_alias(linalg.matmul, np.matmul)
_alias(linalg.outer, np.outer)
_alias(linalg.vecdot, np.vecdot)
_alias(linalg.tensordot, np.tensordot)
_alias(linalg.cross, np.cross)
_alias(linalg.matrix_transpose, np.matrix_transpose)
defvjp(linalg.diagonal, lambda g, ans, x, offset=0: undiagonal(g, np.shape(x), offset, -2, -1))


def _linalg_trace_vjp(g, ans, x, offset=0, dtype=None):
    n = np.diagonal(x, offset, -2, -1).shape[-1]
    g = np.broadcast_to(np.expand_dims(g, -1), np.shape(g) + (n,))
    return undiagonal(g, np.shape(x), offset, -2, -1)


defvjp(linalg.trace, _linalg_trace_vjp)
