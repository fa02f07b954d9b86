"""Gather rules (x[index], take, take_along_axis, sort, np.array of nested lists) and the
constructor rules of numpy_nondiff (full, arange, linspace, item, tolist), reverse and
forward, checked against finite differences."""

import numpy as np
import pytest

import pygote.rules.numpy_indexing  # noqa: F401  (registers the rules)
import pygote.rules.numpy_nondiff  # noqa: F401
from pygote.rules.numpy_indexing import getitem_vjp
from pygote.rules.registry import defjvp, defvjp, is_nondifferentiable, rule_for
from pygote.testing import check_rule
from tests.rules.test_numpy_shape import check_structured

DTYPES = [np.float64, np.float32, np.complex128]


def maker(dtype, seed=0):
    """``A(*shape)``: a random array of ``dtype``; ``A.S()``: a random Python scalar."""
    rng = np.random.default_rng(seed)
    c = np.dtype(dtype).kind == "c"

    def A(*shape):
        x = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if c else 0)
        return np.asarray(x).astype(dtype)

    A.S = lambda: (complex if c else float)(A().item())
    return A


def _name(func):
    return getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))


# ---------------------------------------------------------------------------------------
# x[index], through a wrapper whose rules are getitem_vjp and, as forward mode's runtime
# reads it, the tangent indexed alike
# ---------------------------------------------------------------------------------------


def getitem(x, index):
    return x[index]


defvjp(getitem, lambda g, ans, x, index: getitem_vjp(g, x, index))
defjvp(getitem, lambda ans, tangents, x, index: tangents[0][index])

MASK = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])

# (shape, index)
INDICES = [
    ((5,), 1),
    ((5,), -1),
    ((5,), slice(None, None, 2)),
    ((5,), slice(3, 0, -1)),
    ((5,), [0, 0, 3, -5]),  # repeats accumulate
    ((5,), np.array([[1, 1], [4, 1]])),
    ((3, 4), (Ellipsis, 0)),
    ((3, 4), (None, slice(None), np.newaxis)),
    ((3, 4), MASK),
    ((4, 3), MASK[0]),  # a mask over the first axis only
    ((3, 4), (slice(None), MASK[0])),
    ((3, 4), (np.array([0, 1, 1]), np.array([2, 0, 0]))),
    ((3, 4), (slice(None), [1, 1, 0])),
    ((2, 3, 4), (0, Ellipsis, None)),
    ((2, 3, 4), ([0, 1, 1], Ellipsis, 1)),
    ((2, 3, 4), (slice(None), [2, 2], [0, 0])),
    ((2, 3, 4), ([1, 0], slice(None), [3, 3])),  # advanced indices split by a slice
    ((2, 3, 4), (1, -1, slice(None, None, -2))),
    ((), ()),
    ((3,), True),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape, index", INDICES, ids=[str(i) for i in range(len(INDICES))])
def test_getitem(shape, index, dtype):
    check_rule(getitem, maker(dtype)(*shape), index)


def test_getitem_accumulates_repeats():
    ct = getitem_vjp(np.ones(3), np.zeros(4), [2, 2, 0])
    np.testing.assert_array_equal(ct, [1.0, 0.0, 2.0, 0.0])


# ---------------------------------------------------------------------------------------
# take, take_along_axis, sort, item, tolist, full, arange
# ---------------------------------------------------------------------------------------

CASES = [
    (np.take, lambda A: (A(5), [0, 0, 3]), {}),
    (np.take, lambda A: (A(3, 4), [[0, 1], [1, 1]]), {"axis": 1}),
    (np.take, lambda A: (A(3, 4), 2, 0), {}),
    (np.take, lambda A: (A(3, 4), [-1, 0, -1]), {"axis": -2}),
    (np.take, lambda A: (A(2, 3), [[1], [5]]), {}),
    (np.take, lambda A: (A(5), [-1, 6, 11]), {"mode": "wrap"}),
    (np.take, lambda A: (A(5), [-2, 0, 10]), {"mode": "clip"}),
    (np.ndarray.take, lambda A: (A(3, 4), [1, 1], 0), {}),
    (np.take_along_axis, lambda A: (A(3, 4), np.array([[0, 0], [3, 1], [2, 2]]), 1), {}),
    (np.take_along_axis, lambda A: (A(3, 4), np.array([[2, 0, 0, 1]]), 0), {}),
    (np.take_along_axis, lambda A: (A(3, 4), np.array([[1], [0]])), {"axis": 0}),
    (np.take_along_axis, lambda A: (A(2, 3), np.array([[2, 2, 0], [1, 0, 0]])), {}),
    (np.take_along_axis, lambda A: (A(2, 3), np.array([5, 5, 0]), None), {}),
    (np.sort, lambda A: (A(5),), {}),
    (np.sort, lambda A: (A(3, 4),), {}),
    (np.sort, lambda A: (A(3, 4), 0), {}),
    (np.sort, lambda A: (A(3, 4),), {"axis": None}),
    (np.sort, lambda A: (A(2, 3, 4), -2), {"kind": "stable"}),
    (np.ndarray.item, lambda A: (A(2, 3), 4), {}),
    (np.ndarray.item, lambda A: (A(2, 3), 1, 2), {}),
    (np.ndarray.item, lambda A: (A(2, 3), (-1, 0)), {}),
    (np.ndarray.item, lambda A: (A(1, 1),), {}),
    (np.ndarray.item, lambda A: (A(5), -1), {}),
    (np.ndarray.tolist, lambda A: (A(2, 3),), {}),
    (np.ndarray.tolist, lambda A: (A(),), {}),
    (np.full, lambda A: ((2, 3), A.S()), {}),
    (np.full, lambda A: ((2, 3), A(3)), {}),
    (np.full_like, lambda A: (A(2, 3), A.S()), {}),
    (np.array, lambda A: (A(2, 3),), {}),
    (np.array, lambda A: (A(3),), {"ndmin": 3}),
    (np.asarray, lambda A: (A(3),), {"dtype": np.complex128}),
    (np.ascontiguousarray, lambda A: (A(),), {}),
    (np.asfortranarray, lambda A: (A(2, 3),), {}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "func, make, kwargs",
    [pytest.param(f, m, k, id=f"{_name(f)}-{i}") for i, (f, m, k) in enumerate(CASES)],
)
def test_rule(func, make, kwargs, dtype):
    check_rule(func, *make(maker(dtype)), **kwargs)


@pytest.mark.parametrize("args", [(4.5,), (0.3, 5.0), (0.3, 5.0, 0.5), (5.2, 0.1, -0.75)])
def test_arange(args):
    # start/stop/step chosen away from the points where the count jumps
    check_rule(np.arange, *args)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("make, kwargs", [
    (lambda A: (A.S(), A.S()), {}),
    (lambda A: (A.S(), A.S(), 5), {"endpoint": False}),
    (lambda A: (A(3), A.S(), 4), {}),
    (lambda A: (A(2, 3), A(3), 4), {"axis": -1}),
    (lambda A: (A(3), A(2, 1), 4), {"axis": 1}),
    (lambda A: (A.S(), A.S(), 1), {}),
])
def test_linspace(make, kwargs, dtype):
    check_rule(np.linspace, *make(maker(dtype)), **kwargs)


def test_linspace_complex():
    A = maker(np.complex128)
    check_rule(np.linspace, A.S(), A.S(), 5)
    check_rule(np.linspace, A(3), A.S(), 4, endpoint=False)


@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace_retstep(endpoint):
    A = maker(np.float64)
    check_structured(np.linspace, lambda s, t: (s, t, 5), A(2), A.S(),
                     retstep=True, endpoint=endpoint)
    check_structured(np.linspace, lambda s, t: (s, t, 5), A(2), A.S(), none_out=(0,),
                     retstep=True, endpoint=endpoint)


def test_tolist_fills_missing_cotangents():
    x = np.arange(6.0).reshape(2, 3)
    (ct,) = rule_for(np.ndarray.tolist).vjp([None, [1.0, None, 2.0]], x.tolist(), x)
    np.testing.assert_array_equal(ct, [[0.0, 0.0, 0.0], [1.0, 0.0, 2.0]])


# ---------------------------------------------------------------------------------------
# np.array of nested lists: the cotangent mirrors the list
# ---------------------------------------------------------------------------------------

# (function, leaves made from A, build(*leaves) -> args, kwargs)
NESTED = [
    (np.array, lambda A: (A.S(), A.S()), lambda s, t: ([s, t, 3.0],), {}),
    (np.array, lambda A: (A.S(), A.S(), A.S()), lambda a, b, c: ([[a, b], [c, 1.0]],), {}),
    (np.array, lambda A: (A(3), A(3)), lambda a, b: ([a, b],), {}),
    (np.array, lambda A: (A(2), A.S()), lambda a, s: ((a, [s, 1.0]),), {}),
    (np.array, lambda A: (A(2), A(2)), lambda a, b: ([[a, b], [b, a]],), {}),  # reused
    (np.array, lambda A: (A.S(),), lambda s: ([1, s, 2],), {}),
    (np.array, lambda A: (A.S(),), lambda s: ([s],), {"ndmin": 3}),
    (np.array, lambda A: (A(2, 2), A(2, 2)), lambda a, b: ([a, b],), {"dtype": np.complex128}),
    (np.asarray, lambda A: (A.S(), A.S()), lambda s, t: ([s, t],), {}),
    (np.asanyarray, lambda A: (A(2), A(2)), lambda a, b: ((a, b),), {}),
    (np.ascontiguousarray, lambda A: (A.S(),), lambda s: (s,), {}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "func, make, build, kwargs",
    [pytest.param(*case, id=f"{_name(case[0])}-{i}") for i, case in enumerate(NESTED)],
)
def test_nested(func, make, build, kwargs, dtype):
    check_structured(func, build, *make(maker(dtype)), **kwargs)


def test_nested_cotangent_structure():
    x = np.ones(2)
    (ct,) = rule_for(np.array).vjp(np.arange(6.0).reshape(3, 2), None, [x, (1.5, 2), [3, 4.0]])
    assert type(ct) is list and type(ct[1]) is tuple and type(ct[2]) is list
    np.testing.assert_array_equal(ct[0], [0.0, 1.0])
    assert ct[1] == (2.0, None) and ct[2] == [None, 5.0] and type(ct[1][0]) is float


def test_nested_tangent_with_missing_entries():
    # constants and integers have None tangents (or none at all: a None list), each a zero
    x, tx = np.ones(2), np.array([1.0, -1.0])
    value = [x, (1.5, 2), [3, 4.0]]
    ans = np.array(value)
    dy = rule_for(np.array).jvp(ans, ([tx, (0.5, None), None],), value)
    np.testing.assert_array_equal(dy, [[1.0, -1.0], [0.5, 0.0], [0.0, 0.0]])
    dy = rule_for(np.array).jvp(ans, ([None, None, [None, 2.0]],), value)
    np.testing.assert_array_equal(dy, [[0.0, 0.0], [0.0, 0.0], [0.0, 2.0]])


def test_array_tangent_copies_where_the_value_is_copied():
    # forward mode writes a copy's tangent in place: it must not be its source's tangent
    x, t = np.ones(3), np.arange(3.0)
    assert rule_for(np.array).jvp(np.array(x), (t,), x) is not t
    assert rule_for(np.asarray).jvp(np.asarray(x), (t,), x) is t


# ---------------------------------------------------------------------------------------
# Non-differentiable functions
# ---------------------------------------------------------------------------------------


def test_nondifferentiable_registrations():
    rng = np.random.default_rng()
    for f in (np.zeros, np.ones_like, np.argmax, np.ndarray.argsort, np.isclose, np.shape,
              np.random.normal, np.random.rand, np.random.Generator.normal,
              np.random.Generator.integers, np.random.default_rng, np.any):
        assert is_nondifferentiable(f), f
    assert type(rng).normal is np.random.Generator.normal
    for f in (np.full, np.linspace, np.arange, np.ndarray.item, np.ndarray.tolist):
        assert not is_nondifferentiable(f) and rule_for(f) is not None
