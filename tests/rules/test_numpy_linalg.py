"""numpy.linalg rules (vjps and jvps) checked against finite differences in float64,
float32 and (where the rule supports it) complex128, at well-conditioned points: matrices
with singular values / eigenvalues spread in [1, 3], SPD matrices for cholesky and eigh."""

import numpy as np
import pytest

import pygote.rules.numpy_linalg  # noqa: F401  (registers the rules)
from pygote.rules.registry import is_nondifferentiable, rule_for
from pygote.runtime.values import fit, fit_tangent
from pygote.testing import check_rule, inner, random_like

la = np.linalg
REAL = [np.float64, np.float32]
DTYPES = REAL + [np.complex128]


def _ids(d):
    return np.dtype(d).name


class Maker:
    """Random inputs of one dtype: plain arrays, well-conditioned and SPD matrices."""

    def __init__(self, dtype, seed=0):
        self.dtype, self.rng = dtype, np.random.default_rng(seed)
        self.complex = np.dtype(dtype).kind == "c"

    def _normal(self, shape):
        x = self.rng.standard_normal(shape)
        if self.complex:
            x = x + 1j * self.rng.standard_normal(shape)
        return x

    def A(self, *shape):
        return np.asarray(self._normal(shape)).astype(self.dtype)

    def _unitary(self, *batch, n):
        q, _ = np.linalg.qr(self._normal(batch + (n, n)))
        return q

    def well(self, *shape):
        """``U diag(s) V^H`` with distinct s spread in [1, 3]: far from singular."""
        *batch, m, n = shape
        k = min(m, n)
        s = np.linspace(1, 3, k) + 0.1 * self.rng.uniform(size=tuple(batch) + (k,))
        u = self._unitary(*batch, n=m)[..., :, :k]
        v = self._unitary(*batch, n=n)[..., :, :k]
        return ((u * s[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))).astype(self.dtype)

    def spd(self, *shape):
        """``Q D Q^H`` with distinct eigenvalues spread in [1, 3]."""
        *batch, n = shape[:-1]
        d = np.linspace(1, 3, n) + 0.1 * self.rng.uniform(size=tuple(batch) + (n,))
        q = self._unitary(*batch, n=n)
        return ((q * d[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))).astype(self.dtype)


# ---------------------------------------------------------------------------------------
# A checker for structured outputs and arguments (tuples of outputs, lists of inputs)
# ---------------------------------------------------------------------------------------


def _random_ct(ans, rng, skip=()):
    if isinstance(ans, (tuple, list)):
        return tuple(None if i in skip else random_like(a, rng) for i, a in enumerate(ans))
    return random_like(ans, rng)


def _f64(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_f64(v) for v in x)
    return np.asarray(x, dtype=np.result_type(x, np.float64))


def _step(x, v, h):
    if isinstance(x, (list, tuple)):
        return type(x)(_step(a, b, h) for a, b in zip(x, v))
    return x + h * v


def _fitted(ct, x):
    if isinstance(x, (list, tuple)):
        return [None if ct is None else fit(c, a) for c, a in zip(ct, x)]
    return fit(ct, x)


def _as_complex(out):
    if isinstance(out, (tuple, list)):
        return [_as_complex(o) for o in out]
    return np.asarray(out, dtype=complex)


def check(func, *args, argnums=(0,), skip=(), loss=None, rtol=None, atol=None, trials=2,
          seed=1, modes=("rev", "fwd"), **kwargs):
    """Compare ``<vjp(u), v>`` (mode "rev") and ``<u, jvp(v)>`` (mode "fwd") with the
    directional finite difference ``<u, J v>``.

    ``u`` is random per output part (``None`` for the parts in ``skip``); arguments may be
    lists of arrays. ``loss = (value(out), cotangent(out))`` replaces ``<u, out>`` by a
    real loss, for outputs only defined up to a phase (complex eigen/singular vectors).
    """
    rule = rule_for(func)
    assert rule is not None
    assert "rev" not in modes or rule.vjp is not None
    assert "fwd" not in modes or rule.jvp is not None
    rng = np.random.default_rng(seed)
    low = any(np.asarray(a).dtype in (np.float32, np.complex64)
              for i in argnums for a in (args[i] if isinstance(args[i], list) else [args[i]]))
    rtol = rtol if rtol is not None else (2e-2 if low else 1e-5)
    atol = atol if atol is not None else (2e-2 if low else 1e-6)
    ans = func(*args, **kwargs)
    for _ in range(trials):
        if loss is None:
            u = _random_ct(ans, rng, skip)
            value = lambda out, u=u: inner(u, _as_complex(out))  # noqa: E731
        else:
            value, u = loss[0], loss[1](ans)
        vs = {}
        for i in argnums:
            a = _f64(args[i])
            vs[i] = [random_like(x, rng) for x in a] if isinstance(a, list) else \
                random_like(a, rng)
        h = 1e-6
        shifted = [[_step(_f64(a), vs[i], s * h) if i in vs else a for i, a in enumerate(args)]
                   for s in (1, -1)]
        rhs = (value(func(*shifted[0], **kwargs)) - value(func(*shifted[1], **kwargs))) / (2 * h)
        if "rev" in modes:
            cts = rule.vjp(u, ans, *args, **kwargs)
            lhs = sum(inner(_fitted(cts[i], args[i]), vs[i]) for i in argnums)
            assert abs(lhs - rhs) <= atol + rtol * max(1.0, abs(rhs)), (
                f"{rule.name}: <vjp(u), v> = {lhs!r}, finite differences {rhs!r} ({kwargs})")
        if "fwd" in modes:
            tangents = tuple(vs.get(i) for i in range(len(args)))
            dy = fit_tangent(rule.jvp(ans, tangents, *args, **kwargs), ans)
            lhs = inner(u, dy)
            assert abs(lhs - rhs) <= atol + rtol * max(1.0, abs(rhs)), (
                f"{rule.name}: <u, jvp(v)> = {lhs!r}, finite differences {rhs!r} ({kwargs})")


# ---------------------------------------------------------------------------------------
# Single-output rules through check_rule
# ---------------------------------------------------------------------------------------

# (function, args from a Maker, kwargs, complex supported)
CASES = [
    (la.norm, lambda M: (M.A(5),), {}, True),
    (la.norm, lambda M: (M.A(3, 4),), {}, True),
    (la.norm, lambda M: (M.A(2, 3, 4),), {}, True),
    (la.norm, lambda M: (M.A(5), 1), {}, True),
    (la.norm, lambda M: (M.A(5), 2), {}, True),
    (la.norm, lambda M: (M.A(5), 3), {}, True),
    (la.norm, lambda M: (M.A(5), np.inf), {}, True),
    (la.norm, lambda M: (M.A(5), -np.inf), {}, True),
    (la.norm, lambda M: (M.A(5), 0), {}, True),
    (la.norm, lambda M: (M.A(3, 4), None, 1), {}, True),
    (la.norm, lambda M: (M.A(3, 4),), {"ord": 1, "axis": 0, "keepdims": True}, True),
    (la.norm, lambda M: (M.A(3, 4),), {"ord": np.inf, "axis": -1}, True),
    (la.norm, lambda M: (M.A(3, 4),), {"axis": (0, 1), "keepdims": True}, True),
    (la.norm, lambda M: (M.A(3, 4), "fro"), {}, True),
    (la.norm, lambda M: (M.A(3, 4), "nuc"), {}, True),
    (la.norm, lambda M: (M.A(3, 4), 2), {}, True),
    (la.norm, lambda M: (M.A(4, 3), -2), {}, True),
    (la.norm, lambda M: (M.A(3, 4), 1), {}, True),
    (la.norm, lambda M: (M.A(3, 4), -1), {}, True),
    (la.norm, lambda M: (M.A(3, 4), np.inf), {}, True),
    (la.norm, lambda M: (M.A(3, 4), -np.inf), {}, True),
    (la.norm, lambda M: (M.A(2, 3, 4),), {"ord": "nuc", "axis": (2, 0)}, True),
    (la.norm, lambda M: (M.A(2, 3, 4),), {"ord": 1, "axis": (0, 2), "keepdims": True}, True),
    (la.vector_norm, lambda M: (M.A(2, 3),), {}, True),
    (la.vector_norm, lambda M: (M.A(2, 3, 4),), {"axis": (0, 2), "ord": 3}, True),
    (la.vector_norm, lambda M: (M.A(2, 3),), {"axis": 1, "ord": np.inf, "keepdims": True},
     True),
    (la.matrix_norm, lambda M: (M.A(2, 3, 4),), {}, True),
    (la.matrix_norm, lambda M: (M.A(2, 3, 4),), {"ord": 2, "keepdims": True}, True),
    (la.matrix_norm, lambda M: (M.A(2, 3, 3),), {"ord": -np.inf}, True),
    (la.cond, lambda M: (M.well(3, 3),), {}, True),
    (la.cond, lambda M: (M.well(2, 3, 4), -2), {}, True),
    (la.cond, lambda M: (M.well(3, 3), "fro"), {}, True),
    (la.cond, lambda M: (M.well(2, 3, 3), 1), {}, True),
    (la.cond, lambda M: (M.well(3, 3), "nuc"), {}, True),
    (la.det, lambda M: (M.well(1, 1),), {}, True),
    (la.det, lambda M: (M.well(3, 3),), {}, True),
    (la.det, lambda M: (M.well(2, 4, 4),), {}, True),
    (la.inv, lambda M: (M.well(3, 3),), {}, True),
    (la.inv, lambda M: (M.well(2, 3, 3),), {}, True),
    (la.solve, lambda M: (M.well(3, 3), M.A(3)), {}, True),
    (la.solve, lambda M: (M.well(3, 3), M.A(3, 2)), {}, True),
    (la.solve, lambda M: (M.well(2, 3, 3), M.A(3)), {}, True),
    (la.solve, lambda M: (M.well(2, 3, 3), M.A(2, 3, 4)), {}, True),
    (la.solve, lambda M: (M.well(2, 3, 3), M.A(3, 1)), {}, True),
    (la.solve, lambda M: (M.well(3, 3), M.A(2, 3, 2)), {}, True),
    (la.pinv, lambda M: (M.well(3, 3),), {}, True),
    (la.pinv, lambda M: (M.well(4, 2),), {}, True),
    (la.pinv, lambda M: (M.well(2, 2, 4),), {}, True),
    (la.cholesky, lambda M: (M.spd(1, 1),), {}, True),
    (la.cholesky, lambda M: (M.spd(3, 3),), {}, True),
    (la.cholesky, lambda M: (M.spd(2, 4, 4),), {}, True),
    (la.cholesky, lambda M: (M.spd(3, 3),), {"upper": True}, True),
    (la.eigvalsh, lambda M: (M.spd(3, 3),), {}, True),
    (la.eigvalsh, lambda M: (M.spd(2, 4, 4),), {}, True),
    (la.eigvalsh, lambda M: (M.spd(3, 3), "U"), {}, True),
    (la.svd, lambda M: (M.well(3, 3),), {"compute_uv": False}, True),
    (la.svd, lambda M: (M.well(2, 4, 3),), {"compute_uv": False}, True),
    (la.svdvals, lambda M: (M.well(3, 5),), {}, True),
    (la.qr, lambda M: (M.well(4, 3), "r"), {}, True),
    (la.matrix_power, lambda M: (M.well(3, 3), 0), {}, True),
    (la.matrix_power, lambda M: (M.well(3, 3), 1), {}, True),
    (la.matrix_power, lambda M: (M.well(3, 3), 2), {}, True),
    (la.matrix_power, lambda M: (M.well(2, 3, 3), 5), {}, True),
    (la.matrix_power, lambda M: (M.well(3, 3), -1), {}, True),
    (la.matrix_power, lambda M: (M.well(3, 3), -3), {}, True),
    (la.matmul, lambda M: (M.A(2, 3), M.A(3, 4)), {}, True),
    (la.matmul, lambda M: (M.A(5, 2, 3), M.A(3)), {}, True),
    (la.outer, lambda M: (M.A(3), M.A(4)), {}, True),
    (la.vecdot, lambda M: (M.A(2, 3), M.A(3)), {}, True),
    (la.vecdot, lambda M: (M.A(3, 2), M.A(3, 2)), {"axis": 0}, True),
    (la.tensordot, lambda M: (M.A(2, 3, 4), M.A(3, 4, 5)), {}, True),
    (la.tensordot, lambda M: (M.A(2, 3), M.A(3, 2)), {"axes": 1}, True),
    (la.cross, lambda M: (M.A(4, 3), M.A(3)), {}, True),
    (la.matrix_transpose, lambda M: (M.A(2, 3, 4),), {}, True),
    (la.diagonal, lambda M: (M.A(2, 3, 4),), {}, True),
    (la.diagonal, lambda M: (M.A(3, 4),), {"offset": -1}, True),
    (la.trace, lambda M: (M.A(2, 3, 3),), {}, True),
    (la.trace, lambda M: (M.A(3, 4),), {"offset": 1}, True),
]


@pytest.mark.parametrize(
    "func, make, kwargs, cplx, dtype",
    [pytest.param(*c, d, id=f"{c[0].__name__}-{i}-{_ids(d)}")
     for i, c in enumerate(CASES) for d in DTYPES
     if c[3] or np.dtype(d).kind != "c"],  # complex inputs only where numpy takes them
)
def test_rule(func, make, kwargs, cplx, dtype):
    check_rule(func, *make(Maker(dtype)), **kwargs)


# ---------------------------------------------------------------------------------------
# Tuple outputs and list arguments
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_slogdet(shape, dtype):
    M = Maker(dtype)
    a = M.well(*shape) * np.asarray(-1.0).astype(dtype)  # odd sizes: a negative det
    real = np.dtype(dtype).kind != "c"
    check(la.slogdet, a, skip=(0,) if real else ())
    if not real:  # the complex sign alone
        check(la.slogdet, a, skip=(1,))


@pytest.mark.parametrize("dtype", REAL, ids=_ids)
@pytest.mark.parametrize("shape, uplo", [((1, 1), "L"), ((3, 3), "L"), ((2, 4, 4), "L"),
                                         ((3, 3), "U")])
def test_eigh(shape, uplo, dtype):
    # The sign of each eigenvector is whatever LAPACK picks, but it does not flip under a
    # small perturbation, so a random cotangent of V is fine for real matrices.
    a = Maker(dtype).spd(*shape)
    check(la.eigh, a, UPLO=uplo)
    check(la.eigh, a, skip=(1,), UPLO=uplo)
    check(la.eigh, a, skip=(0,), UPLO=uplo)


def test_eigh_complex_phase_invariant():
    M = Maker(np.complex128)
    a = M.spd(4, 4)
    rng = np.random.default_rng(3)
    c, d, dw = M.A(4, 4), rng.standard_normal(4), rng.standard_normal(4)

    def value(out):
        w, v = out
        return float(np.real(np.sum(np.conj(c) * ((v * d) @ np.conj(v.T))))) + float(w @ dw)

    def cotangent(out):
        w, v = out  # Y = V D V^H: dY = dV D V^H + V D dV^H
        return dw, c @ v * d + np.conj(c.T) @ v * d

    check(la.eigh, a, loss=(value, cotangent))
    check(la.eigh, a, loss=(value, cotangent), UPLO="U")


@pytest.mark.parametrize("dtype", REAL, ids=_ids)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5), (2, 4, 3), (1, 1)])
def test_svd(shape, dtype):
    a = Maker(dtype).well(*shape)
    check(la.svd, a, full_matrices=False)
    check(la.svd, a, skip=(0, 2), full_matrices=False)
    check(la.svd, a, skip=(1, 2), full_matrices=False)
    check(la.svd, a, skip=(0, 1), full_matrices=False)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5)])
def test_svd_complex_phase_invariant(shape):
    M = Maker(np.complex128)
    a = M.well(*shape)
    k = min(shape)
    rng = np.random.default_rng(4)
    c, d, ds = M.A(*shape), rng.standard_normal(k), rng.standard_normal(k)

    def value(out):
        u, s, vh = out
        return float(np.real(np.sum(np.conj(c) * ((u * d) @ vh)))) + float(s @ ds)

    def cotangent(out):
        u, s, vh = out  # Y = U D V^H
        return c @ np.conj(vh.T) * d, ds, d[:, None] * (np.conj(u.T) @ c)

    check(la.svd, a, loss=(value, cotangent), full_matrices=False)


def test_svd_full_matrices():
    M = Maker(np.float64)
    check(la.svd, M.well(3, 3))  # square: full == reduced
    a = M.well(4, 2)
    check(la.svd, a, skip=(0, 2))  # only s: fine
    u, s, vh = la.svd(a)
    with pytest.raises(NotImplementedError):
        rule_for(la.svd).vjp((np.ones_like(u), None, None), (u, s, vh), a)
    with pytest.raises(NotImplementedError):
        rule_for(la.svd).vjp((None, s, None), (u, s, vh), a, hermitian=True)
    with pytest.raises(NotImplementedError):
        rule_for(la.svd).jvp((u, s, vh), (np.ones_like(a),), a, hermitian=True)


def _projector_cotangent(c, basis):
    """The cotangent of ``basis`` for the loss ``Re <c, basis basis^H>``."""
    return (c + np.conj(c.T)) @ basis


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=_ids)
@pytest.mark.parametrize("shape", [(4, 2), (2, 5), (5, 3)])
def test_svd_full_matrices_forward(shape, dtype):
    # The extra columns of U (rows of V^H) are some basis of a complement: forward mode
    # moves them consistently, so a loss through the projector onto them is right.
    M = Maker(dtype)
    a = M.well(*shape)
    m, n = shape
    k = min(shape)
    rng = np.random.default_rng(5)
    cu, cv, c, d = M.A(m, m), M.A(n, n), M.A(m, n), rng.standard_normal(k)

    def value(out):
        u, s, vh = out
        u2, v2 = u[:, k:], np.conj(vh[k:].T)
        return float(np.real(np.sum(np.conj(cu) * (u2 @ np.conj(u2.T)))
                             + np.sum(np.conj(cv) * (v2 @ np.conj(v2.T)))
                             + np.sum(np.conj(c) * ((u[:, :k] * d) @ vh[:k])) + s @ d))

    def cotangent(out):
        u, s, vh = out
        gu, gvh = np.zeros_like(u), np.zeros_like(vh)
        gu[:, k:] = _projector_cotangent(cu, u[:, k:])
        gvh[k:] = np.conj(_projector_cotangent(cv, np.conj(vh[k:].T)).T)
        gu[:, :k] = c @ np.conj(vh[:k].T) * d
        gvh[:k] = d[:, None] * (np.conj(u[:, :k].T) @ c)
        return gu, d, gvh

    check(la.svd, a, loss=(value, cotangent), modes=("fwd",))


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4, 3), (2, 4), (1, 1)])
def test_qr(shape, dtype):
    # Householder QR fixes diag(R) real, so Q and R are smooth in A, complex A too.
    a = Maker(dtype).well(*shape)
    check(la.qr, a)
    check(la.qr, a, skip=(0,))
    check(la.qr, a, skip=(1,))


def test_qr_unsupported_modes():
    a = np.ones((4, 2))
    with pytest.raises(NotImplementedError):
        rule_for(la.qr).vjp(np.ones(1), la.qr(a, "raw"), a, "raw")
    with pytest.raises(NotImplementedError):
        rule_for(la.qr).vjp((None, None), la.qr(a, "complete"), a, "complete")
    with pytest.raises(NotImplementedError):
        rule_for(la.qr).jvp(la.qr(a, "raw"), (np.ones_like(a),), a, "raw")


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (2, 3, 3), (2, 3, 5)])
def test_qr_complete(shape, dtype):
    # complete is reduced unless the matrix is tall (below)
    a = Maker(dtype).well(*shape)
    check(la.qr, a, "complete")


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=_ids)
def test_qr_complete_tall_forward(dtype):
    # Q's extra columns are some basis of the complement: see test_svd_full_matrices_forward
    M = Maker(dtype)
    a = M.well(5, 2)
    cq, c1, cr = M.A(5, 5), M.A(5, 2), M.A(5, 2)

    def value(out):
        q, r = out
        q2 = q[:, 2:]
        return float(np.real(np.sum(np.conj(cq) * (q2 @ np.conj(q2.T)))
                             + np.sum(np.conj(c1) * q[:, :2]) + np.sum(np.conj(cr) * r)))

    def cotangent(out):
        q, r = out
        return np.concatenate([c1, _projector_cotangent(cq, q[:, 2:])], axis=1), cr

    check(la.qr, a, "complete", loss=(value, cotangent), modes=("fwd",))


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
@pytest.mark.parametrize("shapes", [[(3, 4), (4, 2)], [(3,), (3, 4), (4, 2)],
                                    [(2, 3), (3, 4), (4,)], [(3,), (3, 4), (4, 2), (2,)],
                                    [(2, 3), (3, 3), (3, 4), (4, 2)]])
def test_multi_dot(shapes, dtype):
    M = Maker(dtype)
    check(la.multi_dot, [M.A(*s) for s in shapes])


def test_multi_dot_cotangent_is_a_list_of_fitted_arrays():
    arrays = [np.ones((2, 3), np.float32), np.ones(3, np.float32)]
    (ct,) = rule_for(la.multi_dot).vjp(np.ones(2), la.multi_dot(arrays), arrays)
    assert isinstance(ct, list) and [c.shape for c in ct] == [(2, 3), (3,)]
    assert all(c.dtype == np.float32 for c in ct)


def test_multi_dot_forward_with_constant_factors():
    M = Maker(np.float64)
    arrays = [M.A(3), M.A(3, 4), M.A(4, 2)]
    t = [None, M.A(3, 4), None]
    dy = rule_for(la.multi_dot).jvp(la.multi_dot(arrays), (t,), arrays)
    np.testing.assert_allclose(dy, arrays[0] @ t[1] @ arrays[2], rtol=1e-12)
    assert rule_for(la.multi_dot).jvp(la.multi_dot(arrays), (None,), arrays) is None


def test_constant_inputs_have_no_tangent():
    a = Maker(np.float64).well(3, 3)
    for func, args in [(la.det, (a,)), (la.inv, (a,)), (la.solve, (a, a[0])),
                       (la.eigh, (a @ a.T,)), (la.svd, (a,)), (la.qr, (a,)),
                       (la.norm, (a,)), (la.matrix_power, (a, 3)), (la.matmul, (a, a))]:
        assert rule_for(func).jvp(func(*args), (None,) * len(args), *args) is None


def test_matrix_rank_is_nondifferentiable():
    assert is_nondifferentiable(la.matrix_rank)


def test_det_through_pygote():
    import pygote

    a = Maker(np.float64).well(3, 3)
    (ga,) = pygote.gradient(lambda x: np.linalg.slogdet(x)[1] + np.linalg.det(x), a)
    expected = np.linalg.inv(a).T * (1 + np.linalg.det(a))
    np.testing.assert_allclose(ga, expected, rtol=1e-10)
