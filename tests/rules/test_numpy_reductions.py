"""Reduction and scan rules checked against finite differences, as functions and methods.

``check_rule`` checks both modes (vjp and jvp); the tests that call a rule directly, at
points finite differences cannot reach (ties, zeros, NaNs), check each mode by hand.
"""

import numpy as np
import pytest

import pygote.rules.numpy_reductions  # noqa: F401  (registers the rules)
from pygote.rules.registry import rule_for
from pygote.testing import check_rule

SEED = 20240611
DTYPES = [np.float64, np.float32, np.complex128]


def sample(rng, domain, shape, dtype):
    """``any``: normal; ``nz``: magnitudes in [0.5, 1.5] with random signs/phases (no
    zeros, products stay O(1)). Complex values for complex dtypes."""
    c = np.dtype(dtype).kind == "c"
    if domain == "any":
        x = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if c else 0)
    else:
        x = rng.uniform(0.5, 1.5, shape) * (
            np.exp(1j * rng.uniform(-3, 3, shape)) if c else rng.choice([-1.0, 1.0], shape)
        )
    return np.asarray(x).astype(dtype)


# (shape, axis) pairs covering None, ints, negatives and tuples; each runs with keepdims
# False and True.
AXES = [((), None), ((5,), None), ((5,), 0), ((5,), -1), ((3, 4), None), ((3, 4), 0),
        ((3, 4), -1), ((3, 4), (0, 1)), ((2, 3, 4), 1), ((2, 3, 4), (0, -1))]

# name, function, method, domain, complex allowed
REDUCTIONS = [
    ("sum", np.sum, np.ndarray.sum, "any", True),
    ("mean", np.mean, np.ndarray.mean, "any", True),
    ("prod", np.prod, np.ndarray.prod, "nz", True),
    ("max", np.max, np.ndarray.max, "any", False),
    ("min", np.min, np.ndarray.min, "any", False),
    ("amax", np.amax, None, "any", False),
    ("amin", np.amin, None, "any", False),
    ("var", np.var, np.ndarray.var, "any", True),
    ("std", np.std, np.ndarray.std, "any", True),
    ("nansum", np.nansum, None, "any", True),
    ("nanmean", np.nanmean, None, "any", True),
    ("nanmax", np.nanmax, None, "any", False),
    ("nanmin", np.nanmin, None, "any", False),
    ("average", np.average, None, "any", True),
]


def reduction_cases():
    out = []
    for name, func, method, domain, complex_ok in REDUCTIONS:
        for shape, axis in AXES:
            for keepdims in (False, True):
                for dtype in DTYPES:
                    if dtype is np.complex128 and not complex_ok:
                        continue
                    tag = f"{name}-{shape}-axis{axis}-kd{int(keepdims)}-{np.dtype(dtype).name}"
                    out.append(pytest.param(func, method, domain, shape, axis, keepdims,
                                            dtype, id=tag.replace(" ", "")))
    return out


@pytest.mark.parametrize("func, method, domain, shape, axis, keepdims, dtype",
                         reduction_cases())
def test_reduction(func, method, domain, shape, axis, keepdims, dtype):
    x = sample(np.random.default_rng(SEED), domain, shape, dtype)
    check_rule(func, x, axis=axis, keepdims=keepdims)
    if method is not None and shape != ():
        # Method form with the axis positional: x.sum(0). (0-d is left out: check_rule's
        # perturbed 0-d array becomes a numpy scalar, which ndarray descriptors reject.)
        check_rule(method, x, axis, keepdims=keepdims)


@pytest.mark.parametrize("func", [np.var, np.std, np.ndarray.var, np.ndarray.std],
                         ids=["var", "std", "ndarray.var", "ndarray.std"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_ddof(func, dtype):
    x = sample(np.random.default_rng(SEED), "any", (3, 4), dtype)
    check_rule(func, x, axis=1, ddof=1)
    check_rule(func, x, axis=0, ddof=2, keepdims=True)
    if func in (np.var, np.std):
        check_rule(func, x, None, None, None, 1)  # ddof positional
        check_rule(func, x, correction=1)


# ---------------------------------------------------------------- products with zeros


@pytest.mark.parametrize("x, axis", [
    (np.array([2.0, 0.0, 3.0, -1.5]), None),
    (np.array([[2.0, 0.0, 3.0], [1.0, 0.5, 2.0]]), 1),
    (np.array([[2.0, 0.0, 0.0], [0.0, 0.5, 2.0]]), 1),
    (np.array([[0.0, 0.0], [0.0, 0.5]]), None),
], ids=["one-zero", "one-zero-one-row", "two-zeros-one-row", "three-zeros"])
def test_prod_with_zeros(x, axis):
    # prod is multilinear, so central differences are exact even at zeros.
    check_rule(np.prod, x, axis=axis)
    check_rule(np.ndarray.prod, x, axis)


def test_prod_single_zero_value():
    (g,) = rule_for(np.prod).vjp(1.0, 0.0, np.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])
    dy = rule_for(np.prod).jvp(0.0, (np.array([5.0, 1.0, 7.0]),), np.array([2.0, 0.0, 3.0]))
    assert dy == 6.0


def test_prod_initial():
    check_rule(np.prod, np.array([[2.0, 0.5], [1.5, -1.0]]), axis=0, initial=3.0)


# ---------------------------------------------------------------- extrema and NaNs


@pytest.mark.parametrize("func", [np.max, np.amax, np.ndarray.max, np.nanmax])
def test_max_ties_split_equally(func):
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]])
    g, _ = rule_for(func).vjp(np.array([1.0, 3.0]), func(x, 1), x, 1)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5, 0], [1, 1, 1, 0]])
    # forward mode splits ties the same way: the mean of the tied tangents
    t = np.array([[1.0, 2.0, 4.0, 8.0], [1.0, 2.0, 6.0, 8.0]])
    np.testing.assert_allclose(rule_for(func).jvp(func(x, 1), (t, None), x, 1), [3.0, 3.0])


def test_std_of_constant_slice_has_zero_gradient():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    (g,) = rule_for(np.std).vjp(np.ones(2), np.std(x, axis=1), x, axis=1)
    np.testing.assert_array_equal(g[0], 0.0)
    assert np.all(np.isfinite(g))
    t = np.random.default_rng(SEED).standard_normal((2, 3))
    dy = rule_for(np.std).jvp(np.std(x, axis=1), (t,), x, axis=1)
    assert dy[0] == 0 and np.all(np.isfinite(dy))
    dy = rule_for(np.std).jvp(np.std(x, axis=1), (np.ones((2, 3)),), x, axis=1)
    np.testing.assert_allclose(dy, 0.0, atol=1e-12)  # a shift moves no std
    dy = rule_for(np.std).jvp(np.std(x, axis=1), (x,), x, axis=1)
    np.testing.assert_allclose(dy, np.std(x, axis=1))  # std is 1-homogeneous


def test_max_initial_wins_gives_no_gradient():
    x = np.array([1.0, 2.0])
    (g,) = rule_for(np.max).vjp(1.0, np.max(x, initial=5.0), x, initial=5.0)
    np.testing.assert_array_equal(g, 0.0)
    assert rule_for(np.max).jvp(5.0, (np.ones(2),), x, initial=5.0) == 0.0


def test_nan_reductions_skip_nans():
    x = sample(np.random.default_rng(SEED), "any", (3, 4), np.float64)
    x[0, 1] = x[2, 3] = np.nan
    for func in (np.nansum, np.nanmean, np.nanmax, np.nanmin):
        check_rule(func, x, axis=1)
        (g,) = rule_for(func).vjp(np.ones(3), func(x, axis=1), x, axis=1)
        assert g[0, 1] == g[2, 3] == 0 and np.all(np.isfinite(g))
        # a NaN tangent at a skipped NaN stays out of the result
        t = np.where(np.isnan(x), np.nan, 1.0)
        dy = rule_for(func).jvp(func(x, axis=1), (t,), x, axis=1)
        np.testing.assert_allclose(dy, func(np.where(np.isnan(x), np.nan, 1.0), axis=1))


def test_max_of_nan_goes_to_the_nan():
    x = np.array([1.0, np.nan, 2.0])
    (g,) = rule_for(np.max).vjp(1.0, np.max(x), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])
    assert rule_for(np.max).jvp(np.max(x), (np.array([2.0, 3.0, 5.0]),), x) == 3.0


# ---------------------------------------------------------------- average with weights


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axis, wshape", [
    ((5,), None, (5,)), ((3, 4), None, (3, 4)), ((3, 4), 1, (3, 4)),
    ((3, 4), 1, (4,)), ((3, 4), 0, (3,)), ((2, 3, 4), -2, (3,)),
], ids=str)
def test_average_weights(shape, axis, wshape, dtype):
    rng = np.random.default_rng(SEED)
    a = sample(rng, "any", shape, dtype)
    w = rng.uniform(0.5, 2.0, wshape).astype(dtype)
    check_rule(np.average, a, axis, w)            # gradients for a and the weights
    check_rule(np.average, a, axis=axis, weights=w, keepdims=True)  # a only


def test_where_kwarg_refused():
    x = np.ones(3)
    mask = np.array([True, False, True])
    for func in (np.sum, np.mean, np.prod, np.max, np.var, np.std, np.nansum, np.nanmean):
        with pytest.raises(NotImplementedError):
            rule_for(func).vjp(1.0, 2.0, x, where=mask)
        with pytest.raises(NotImplementedError):
            rule_for(func).jvp(2.0, (np.ones(3),), x, where=mask)


def test_average_returned_refused():
    a, w = np.ones(3), np.ones(3)
    with pytest.raises(NotImplementedError):
        rule_for(np.average).vjp(1.0, (1.0, 3.0), a, None, w, True)
    with pytest.raises(NotImplementedError):
        rule_for(np.average).jvp((1.0, 3.0), (np.ones(3), None, None, None), a, None, w, True)


# ---------------------------------------------------------------- scans


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axis", [((), None), ((5,), None), ((5,), 0), ((3, 4), None),
                                         ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1)], ids=str)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scan(name, shape, axis, dtype):
    # cumprod is exact only without zeros: "nz" inputs.
    x = sample(np.random.default_rng(SEED), "nz", shape, dtype)
    check_rule(getattr(np, name), x, axis=axis)
    if shape != ():
        check_rule(getattr(np.ndarray, name), x, axis)


# ---------------------------------------------------------------- list and tuple inputs


@pytest.mark.parametrize("container", [list, tuple])
def test_list_inputs(container):
    # Forward mode hands a list its tangents item by item, None for constant items.
    a, ta = 0.7, 2.0
    x, t = container([a, 2.0, 3.0]), container([ta, None, None])
    cases = [(np.sum, ta), (np.mean, ta / 3), (np.prod, 6.0 * ta), (np.max, 0.0),
             (np.min, ta), (np.var, 2 * (a - np.mean(x)) * ta / 3)]
    for func, expected in cases:
        np.testing.assert_allclose(rule_for(func).jvp(func(x), (t,), x), expected)
    np.testing.assert_allclose(rule_for(np.cumsum).jvp(np.cumsum(x), (t,), x), [ta] * 3)
    np.testing.assert_allclose(rule_for(np.cumprod).jvp(np.cumprod(x), (t,), x),
                               [ta, 2 * ta, 6 * ta])
    dy = rule_for(np.average).jvp(np.average(np.ones(3), None, x), (None, None, t),
                                  np.ones(3), None, x)
    assert dy == 0.0  # every entry 1: the weights do not matter
    # the reverse rule of prod reads a tuple or list as an array too (x != 0 elementwise)
    (g,) = rule_for(np.prod).vjp(1.0, np.prod(x), x)
    np.testing.assert_allclose(g, [6.0, 2.1, 1.4])
