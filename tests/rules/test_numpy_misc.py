"""Rules of numpy_misc (polyval, convolve, correlate, interp, diff, gradient, trapezoid,
cov, meshgrid, nan_to_num, scalar-type constructors), vjps and jvps, checked against
finite differences in float64, float32 and complex128."""

import numpy as np
import pytest

import pygote
import pygote.rules.numpy_misc  # noqa: F401  (registers the rules)
from pygote.rules.registry import rule_for
from pygote.testing import check_rule
from tests.rules.test_numpy_linalg import check  # the checker for tuple outputs

DTYPES = [np.float64, np.float32, np.complex128]


def _ids(d):
    return np.dtype(d).name


def maker(dtype, seed=0):
    """``A(*shape)``: random of ``dtype``; ``R(*shape)``: random real (float64)."""
    rng = np.random.default_rng(seed)

    def A(*shape):
        x = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        return np.asarray(x).astype(dtype)

    return A, rng


def _real(dtype):
    return np.float64 if np.dtype(dtype).kind == "c" else dtype


# (function, args made from (A, rng, dtype), kwargs, complex allowed)
CASES = [
    (np.polyval, lambda A, r, d: (A(4), A(5)), {}, True),
    (np.polyval, lambda A, r, d: (A(1), A(3)), {}, True),
    (np.polyval, lambda A, r, d: (A(3), 1.5), {}, True),
    (np.polyval, lambda A, r, d: (A(3), A(2, 3)), {}, True),
    (np.diff, lambda A, r, d: (A(5),), {}, True),
    (np.diff, lambda A, r, d: (A(6), 2), {}, True),
    (np.diff, lambda A, r, d: (A(3, 4), 1, 0), {}, True),
    (np.diff, lambda A, r, d: (A(3, 5), 3, -1), {}, True),
    (np.diff, lambda A, r, d: (A(3, 4),), {"n": 0}, True),
    (np.diff, lambda A, r, d: (A(3, 4), 1, 1, A(3, 1), A(3, 2)), {}, True),
    (np.diff, lambda A, r, d: (A(4), 2, -1, 1.5), {}, False),
    (np.diff, lambda A, r, d: (A(4),), {"prepend": 0.0, "append": np.ones(2)}, True),
    (np.trapezoid, lambda A, r, d: (A(5),), {}, True),
    (np.trapezoid, lambda A, r, d: (A(5), np.sort(r.uniform(0, 3, 5)).astype(_real(d))), {},
     True),
    (np.trapezoid, lambda A, r, d: (A(3, 5), np.sort(r.uniform(0, 3, 5)).astype(_real(d))),
     {}, True),
    (np.trapezoid, lambda A, r, d: (A(5, 3), np.sort(r.uniform(0, 3, 5)).astype(_real(d))),
     {"axis": 0}, True),
    (np.trapezoid, lambda A, r, d: (A(3, 5), A(3, 5)), {}, True),
    (np.trapezoid, lambda A, r, d: (A(5, 2), A(5, 1)), {"axis": 0}, True),
    (np.trapezoid, lambda A, r, d: (A(2, 5), np.sort(r.uniform(0, 3, (2, 5)), -1)), {}, True),
    (np.trapezoid, lambda A, r, d: (A(5), None, 0.3), {}, True),
    (np.trapezoid, lambda A, r, d: (A(4, 3),), {"dx": 0.5, "axis": 0}, True),
    (np.cov, lambda A, r, d: (A(3, 6),), {}, True),
    (np.cov, lambda A, r, d: (A(6),), {}, True),
    (np.cov, lambda A, r, d: (A(6, 3),), {"rowvar": False}, True),
    (np.cov, lambda A, r, d: (A(2, 5), A(5)), {}, True),
    (np.cov, lambda A, r, d: (A(5, 2), A(5, 1)), {"rowvar": False, "bias": True}, True),
    (np.cov, lambda A, r, d: (A(3, 6),), {"ddof": 2}, True),
    (np.nan_to_num, lambda A, r, d: (A(5),), {}, True),
    (np.nan_to_num, lambda A, r, d: (np.array([1.0, np.nan, np.inf, -np.inf, 2.0], d),), {},
     True),
    (np.nan_to_num, lambda A, r, d: (np.array([1 + 1j * np.nan, np.inf + 1j, 2 - 1j]),),
     {"nan": 1.0}, True),
    (np.float64, lambda A, r, d: (1.5,), {}, False),
    (np.float64, lambda A, r, d: (np.asarray(A()),), {}, False),
    (np.float64, lambda A, r, d: (A(3),), {}, False),
    (np.complex128, lambda A, r, d: (1.5, -0.5), {}, False),
    (np.complex128, lambda A, r, d: (A(),), {}, True),
]


@pytest.mark.parametrize(
    "func, make, kwargs, cplx, dtype",
    [pytest.param(*c, d, id=f"{c[0].__name__}-{i}-{_ids(d)}")
     for i, c in enumerate(CASES) for d in DTYPES
     if c[3] or np.dtype(d).kind != "c"],  # complex inputs only where numpy takes them
)
def test_rule(func, make, kwargs, cplx, dtype):
    A, rng = maker(dtype)
    check_rule(func, *make(A, rng, dtype), **kwargs)


# ---------------------------------------------------------------------------------------
# Convolution and correlation: every mode, either argument the longer
# ---------------------------------------------------------------------------------------

LENGTHS = [(5, 3), (3, 5), (4, 4), (4, 2), (2, 4), (6, 4), (1, 3), (6, 1)]


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
@pytest.mark.parametrize("func", [np.convolve, np.correlate], ids=["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_correlate(func, mode, dtype):
    A, _ = maker(dtype)
    for n, m in LENGTHS:
        check_rule(func, A(n), A(m), mode)
        check_rule(func, A(n), A(m), mode=mode)


def test_convolve_default_modes_and_spellings():
    A, _ = maker(np.float64)
    check_rule(np.convolve, A(4), A(2))  # full
    check_rule(np.correlate, A(4), A(2))  # valid
    check_rule(np.correlate, A(2), A(4), 0)  # 0 is 'valid'
    check_rule(np.convolve, A(2), A(4), 1)  # 1 is 'same'


# ---------------------------------------------------------------------------------------
# interp
# ---------------------------------------------------------------------------------------


def _knots(rng, n=6):
    return np.sort(rng.uniform(0, 5, n)) + np.arange(n) * 0.1


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
def test_interp(dtype):
    A, rng = maker(dtype)
    xp = _knots(rng)
    x = rng.uniform(-1, 6.5, 9).astype(_real(dtype))  # some left and right of the knots
    fp = A(6)
    check_rule(np.interp, x, xp, fp, argnums=[0, 2])
    check_rule(np.interp, x, xp, fp, -1.0, 2.0, argnums=[0, 2, 3, 4])
    check_rule(np.interp, 2.5, xp, fp, argnums=[0, 2])
    check_rule(np.interp, x.reshape(3, 3), xp, fp, argnums=[0, 2])
    check_rule(np.interp, x, xp, fp, argnums=[0, 2], period=4.0)
    check_rule(np.interp, x, rng.permutation(xp), fp, argnums=[0, 2], period=7.0)


def test_interp_slope_and_weights():
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    x = np.array([0.5, 2.0, -1.0, 4.0])
    vjp = rule_for(np.interp).vjp
    gx, _, gfp = vjp(np.ones(4), np.interp(x, xp, fp), x, xp, fp)
    np.testing.assert_allclose(gx, [2.0, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(gfp, [0.5 + 1, 0.5 + 0.5, 0.5 + 1])
    jvp, ans = rule_for(np.interp).jvp, np.interp(x, xp, fp)
    np.testing.assert_allclose(jvp(ans, (np.ones(4),), x, xp, fp), [2.0, 0.5, 0.0, 0.0])
    # fp's tangent is interpolated; a list fp takes a list of tangents, None a constant
    dy = jvp(ans, (None, None, [1.0, None, 2.0]), x, xp, list(fp))
    np.testing.assert_allclose(dy, [0.5, 1.0, 1.0, 2.0])
    dy = jvp(ans, (None, None, None, 1.0, None), x, xp, fp, -5.0, 7.0)
    np.testing.assert_allclose(dy, [0.0, 0.0, 1.0, 0.0])


# ---------------------------------------------------------------------------------------
# gradient (tuple output for several axes) and meshgrid (tuple output)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
def test_gradient(dtype):
    A, _ = maker(dtype)
    check_rule(np.gradient, A(5))
    check_rule(np.gradient, A(5), 0.5)
    check_rule(np.gradient, A(6), edge_order=2)
    check_rule(np.gradient, A(3, 4), axis=1)
    check_rule(np.gradient, A(3, 4), 0.7, axis=-2, edge_order=2)
    check(np.gradient, A(3, 4))
    check(np.gradient, A(3, 4), 0.5, 2.0, argnums=(0, 1, 2))
    check(np.gradient, A(3, 4, 5), 0.5, argnums=(0, 1), axis=(0, 2), edge_order=2)
    check(np.gradient, A(3, 4), skip=(0,))


def test_gradient_with_coordinates_is_not_implemented():
    f, coords = np.ones(3), np.array([0.0, 1.0, 3.0])
    with pytest.raises(NotImplementedError):
        rule_for(np.gradient).vjp(np.ones(3), np.gradient(f, coords), f, coords)
    with pytest.raises(NotImplementedError):  # forward: the coordinates' tangent
        rule_for(np.gradient).jvp(np.gradient(f, coords), (None, np.ones(3)), f, coords)


def test_gradient_forward_with_coordinates():
    # forward mode in f alone needs no derivative in the coordinates
    A, rng = maker(np.float64)
    f, coords = A(5), np.sort(rng.uniform(0, 3, 5))
    check_rule(np.gradient, f, coords, argnums=[0], modes=("fwd",))
    check_rule(np.gradient, f, coords, argnums=[0], edge_order=2, modes=("fwd",))


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
def test_meshgrid(dtype):
    A, _ = maker(dtype)
    check(np.meshgrid, A(3), A(4), argnums=(0, 1))
    check(np.meshgrid, A(3), A(4), argnums=(0, 1), indexing="ij")
    check(np.meshgrid, A(3), A(4), A(2), argnums=(0, 1, 2))
    check(np.meshgrid, A(3), A(2, 2), A(2), argnums=(0, 1, 2), indexing="ij", sparse=True)
    check(np.meshgrid, A(3), A(4), argnums=(0, 1), skip=(1,))
    check(np.meshgrid, A(3), argnums=(0,))


# ---------------------------------------------------------------------------------------
# Constructors and registration details, and a few rules through pygote itself
# ---------------------------------------------------------------------------------------


def test_scalar_types_pass_the_cotangent_through():
    for t in (np.float16, np.float32, np.float64, np.longdouble, np.complex64,
              np.complex128):
        (ct,) = rule_for(t).vjp(np.float32(2.0), t(1.5), 1.5)
        assert ct == 2.0
        assert rule_for(t).jvp(t(1.5), (2.0,), 1.5) == 2.0
        assert rule_for(t).jvp(t(1.5), (None,), 1.5) is None
        assert rule_for(t).jvp(t(), ()) is None
    assert rule_for(np.complex128).vjp(1 + 2j, 1.5 - 0.5j, 1.5, -0.5) == (1 + 2j, 2 - 1j)
    assert rule_for(np.complex128).jvp(1.5 - 0.5j, (1.0, 2.0), 1.5, -0.5) == 1 + 2j
    assert rule_for(np.complex128).jvp(1.5 - 0.5j, (None, 2.0), 1.5, -0.5) == 2j


@pytest.mark.parametrize("t", [np.float32, np.longdouble, np.complex64, np.clongdouble])
def test_scalar_types_against_finite_differences(t):
    # (float16 rounds a finite-difference step away: checked by value above)
    A, _ = maker(np.float64)
    check_rule(t, A(3), rtol=1e-2, atol=1e-2)
    if np.dtype(t).kind == "c":
        check_rule(t, 1.5 - 0.5j, rtol=1e-2, atol=1e-2)
    if t is np.complex64:  # (clongdouble takes one argument)
        check_rule(t, 1.5, -0.5, rtol=1e-2, atol=1e-2)


def test_list_coefficients_take_list_tangents():
    jvp = rule_for(np.polyval).jvp
    dy = jvp(np.polyval([1.0, 2.0, 3.0], 2.0), ([1.0, None, 0.5], 0.1), [1.0, 2.0, 3.0], 2.0)
    np.testing.assert_allclose(dy, 4.0 + 0.5 + (2 * 2.0 + 2.0) * 0.1)
    assert jvp(1.0, (None, None), [1.0], 2.0) is None


def test_no_tangents_and_weights():
    A, _ = maker(np.float64)
    m = A(2, 4)
    assert rule_for(np.cov).jvp(np.cov(m), (None,), m) is None
    assert rule_for(np.meshgrid).jvp(np.meshgrid(m[0], m[1]), (None, None), m[0], m[1]) is None
    with pytest.raises(NotImplementedError):
        rule_for(np.cov).jvp(np.cov(m), (m,), m, aweights=np.ones(4))


def test_copy_keeps_its_existing_rule():
    import pygote.rules.numpy_shape as shape

    assert rule_for(np.copy).per_arg[0] is shape._identity


def test_through_pygote():
    x = np.array([1.0, 2.0, 3.0])

    def f(x):
        return np.float32(x[0]) * 2.0 + np.trapezoid(x) + np.polyval(x, 2.0)

    (gx,) = pygote.gradient(f, x)
    np.testing.assert_allclose(gx, [2.0, 0, 0] + np.array([0.5, 1, 0.5]) + [4.0, 2.0, 1.0])


def test_tuple_output_through_pygote():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0])

    def f(x, y):
        X, Y = np.meshgrid(x, y)
        return np.sum(X * Y)

    gx, gy = pygote.gradient(f, x, y)
    np.testing.assert_allclose(gx, np.sum(y) * np.ones(3))
    np.testing.assert_allclose(gy, np.sum(x) * np.ones(2))
