"""Shape rules (reshape, transpose, join, split, tile, pad, diagonals...), reverse and
forward, checked against finite differences, as functions and as ndarray methods, in
float64, float32 and complex128."""

import numpy as np
import pytest

import pygote.rules.numpy_shape  # noqa: F401  (registers the rules)
from pygote.rules.numpy_shape import ATTRIBUTE_RULES
from pygote.rules.registry import RULES, defjvp, defvjp_all, rule_for
from pygote.runtime.values import add, fit, fit_tangent
from pygote.testing import check_rule

DTYPES = [np.float64, np.float32, np.complex128]


def maker(dtype, seed=0):
    """``A(*shape)``: a random array of ``dtype`` (complex entries for complex dtypes);
    ``F(...)`` the same in Fortran order; ``S()`` a random Python float or complex."""
    rng = np.random.default_rng(seed)
    c = np.dtype(dtype).kind == "c"

    def A(*shape):
        x = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if c else 0)
        return np.asarray(x).astype(dtype)

    A.F = lambda *shape: np.asfortranarray(A(*shape))
    A.S = lambda: (complex if c else float)(A().item())
    return A


# ---------------------------------------------------------------------------------------
# Structured arguments and outputs (lists in, lists out), through a flat wrapper
# ---------------------------------------------------------------------------------------


def _flatten(out, none_out):
    """One vector of the output's pieces, leaving out the unused ones (``none_out``)."""
    if isinstance(out, (list, tuple)):
        return np.concatenate([np.ravel(o) for i, o in enumerate(out) if i not in none_out])
    return np.ravel(out)


def _unflatten(g, out, none_out):
    """The cotangent of ``out`` from that of ``_flatten(out)``: unused pieces ``None``."""
    if not isinstance(out, (list, tuple)):
        return np.reshape(g, np.shape(out))
    used = [i for i in range(len(out)) if i not in none_out]
    pieces = dict(zip(used, np.split(g, np.cumsum([np.size(out[i]) for i in used])[:-1])))
    return type(out)(None if i in none_out else np.reshape(pieces[i], np.shape(o))
                     for i, o in enumerate(out))


def _flatten_tangent(t, out, none_out):
    """``_flatten`` of a tangent of ``out`` (``None`` pieces zeros)."""
    if not isinstance(out, (list, tuple)):
        return None if t is None else np.ravel(t)
    t = [None] * len(out) if t is None else t
    return np.concatenate([np.ravel(np.zeros_like(o) if ti is None else ti)
                           for i, (ti, o) in enumerate(zip(t, out)) if i not in none_out])


def _tangent_of(arg, leaves, tangents):
    """The tangent of argument ``arg`` built from the leaves' ``tangents`` (leaves found by
    identity): nested like ``arg``, ``None`` for everything else."""
    for leaf, t in zip(leaves, tangents):
        if arg is leaf:
            return t
    if isinstance(arg, (list, tuple)):
        return type(arg)(_tangent_of(a, leaves, tangents) for a in arg)
    return None


def _collect(arg, ct, leaves, cts):
    """Walk argument ``arg`` and its cotangent ``ct`` in step, adding each leaf's share
    (leaves found by identity) into ``cts``; the structure of ``ct`` must mirror ``arg``."""
    for k, leaf in enumerate(leaves):
        if arg is leaf:
            cts[k] = add(cts[k], fit(ct, leaf))
            return
    if isinstance(arg, (list, tuple)):
        assert ct is None or (type(ct) is type(arg) and len(ct) == len(arg)), (arg, ct)
        for i, a in enumerate(arg):
            _collect(a, None if ct is None else ct[i], leaves, cts)


def check_structured(func, build, *leaves, none_out=(), **kwargs):
    """check_rule for ``func(*build(*leaves), **kwargs)`` whose arguments are lists or
    tuples holding the arrays/floats ``leaves``, and whose output may be a list: a wrapper
    takes the leaves and returns the flattened output; its vjp calls ``func``'s rule with
    the output cotangent cut back into pieces (``none_out`` of them ``None``) and reads the
    leaves' cotangents out of the structured argument cotangents; its jvp calls the rule's
    jvp with the leaves' tangents nested like the arguments. Checked with every leaf
    varying, then with the first one alone (the others' tangents ``None``)."""

    def wrapper(*xs):
        return _flatten(func(*build(*xs), **kwargs), none_out)

    def vjp(g, ans, *xs):
        args = build(*xs)
        out = func(*args, **kwargs)
        cts_args = rule_for(func).vjp(_unflatten(g, out, none_out), out, *args, **kwargs)
        cts = [None] * len(xs)
        for a, c in zip(args, cts_args):
            _collect(a, c, xs, cts)
        return tuple(cts)

    def jvp(ans, tangents, *xs):
        args = build(*xs)
        out = func(*args, **kwargs)
        targs = tuple(_tangent_of(a, xs, tangents) for a in args)
        dy = fit_tangent(rule_for(func).jvp(out, targs, *args, **kwargs), out)
        return _flatten_tangent(dy, out, none_out)

    defvjp_all(wrapper, vjp)
    defjvp(wrapper, jvp)
    try:
        check_rule(wrapper, *leaves)
        if len(leaves) > 1:
            check_rule(wrapper, *leaves, argnums=[0])
    finally:
        del RULES[wrapper]


# ---------------------------------------------------------------------------------------
# Rules called with plain array arguments
# ---------------------------------------------------------------------------------------

# (function, args made from A, kwargs)
CASES = [
    (np.reshape, lambda A: (A(3, 4), (4, 3)), {}),
    (np.reshape, lambda A: (A(3, 4), (2, -1)), {"order": "F"}),
    (np.reshape, lambda A: (A(2, 3, 4), 24), {}),
    (np.reshape, lambda A: (A(), (1, 1)), {}),
    (np.ndarray.reshape, lambda A: (A(3, 4), 4, 3), {}),
    (np.ndarray.reshape, lambda A: (A(3, 4), (4, 3)), {}),
    (np.ndarray.reshape, lambda A: (A(3, 4), (2, 6)), {"order": "F"}),
    (np.ndarray.reshape, lambda A: (A(12), -1), {}),
    (np.ravel, lambda A: (A(3, 4),), {}),
    (np.ravel, lambda A: (A(2, 3), "F"), {}),
    (np.ndarray.ravel, lambda A: (A(3, 4),), {}),
    (np.ndarray.ravel, lambda A: (A(3, 4), "F"), {}),
    (np.ndarray.flatten, lambda A: (A(2, 3, 2),), {}),
    (np.ndarray.flatten, lambda A: (A(2, 3, 2),), {"order": "F"}),
    (np.squeeze, lambda A: (A(1, 3, 1),), {}),
    (np.squeeze, lambda A: (A(1, 3, 1), 0), {}),
    (np.ndarray.squeeze, lambda A: (A(1, 3),), {}),
    (np.expand_dims, lambda A: (A(3), 0), {}),
    (np.expand_dims, lambda A: (A(2, 3), (0, 2)), {}),
    (np.atleast_1d, lambda A: (A(),), {}),
    (np.atleast_1d, lambda A: (A(3),), {}),
    (np.atleast_2d, lambda A: (A(3),), {}),
    (np.atleast_2d, lambda A: (A(2, 3),), {}),
    (np.atleast_3d, lambda A: (A(3),), {}),
    (np.atleast_3d, lambda A: (A(2, 3),), {}),
    (np.transpose, lambda A: (A(3, 4),), {}),
    (np.transpose, lambda A: (A(2, 3, 4), (2, 0, 1)), {}),
    (np.transpose, lambda A: (A(2, 3, 4),), {"axes": (-1, 0, 1)}),
    (np.ndarray.transpose, lambda A: (A(3, 4),), {}),
    (np.ndarray.transpose, lambda A: (A(2, 3, 4), 1, 2, 0), {}),
    (np.ndarray.transpose, lambda A: (A(2, 3, 4), (1, 2, 0)), {}),
    (np.ndarray.transpose, lambda A: (A(2, 3), None), {}),
    (np.swapaxes, lambda A: (A(2, 3, 4), 0, 2), {}),
    (np.ndarray.swapaxes, lambda A: (A(2, 3), 0, -1), {}),
    (np.moveaxis, lambda A: (A(2, 3, 4), 0, -1), {}),
    (np.moveaxis, lambda A: (A(2, 3, 4), (0, 1), (2, 0)), {}),
    (np.matrix_transpose, lambda A: (A(2, 3, 4),), {}),
    (np.concatenate, lambda A: (A(3, 2, 2),), {}),  # an array of entries
    (np.concatenate, lambda A: (A(3, 2, 2),), {"axis": 1}),
    (np.stack, lambda A: (A(3, 2),), {"axis": 1}),
    (np.tile, lambda A: (A(3), 2), {}),
    (np.tile, lambda A: (A(2, 3), (2, 1, 2)), {}),
    (np.tile, lambda A: (A(2, 3), (3,)), {}),
    (np.tile, lambda A: (A(), 3), {}),
    (np.repeat, lambda A: (A(3), 2), {}),
    (np.repeat, lambda A: (A(2, 3), [1, 0, 2]), {"axis": 1}),
    (np.repeat, lambda A: (A(2, 2), 3), {}),
    (np.ndarray.repeat, lambda A: (A(2, 3), 2, 0), {}),
    (np.broadcast_to, lambda A: (A(3), (2, 3)), {}),
    (np.broadcast_to, lambda A: (A(1, 3), (4, 2, 3)), {}),
    (np.copy, lambda A: (A(2, 3),), {}),
    (np.ndarray.copy, lambda A: (A(2, 3),), {}),
    (np.ndarray.astype, lambda A: (A(2, 3), np.float64), {}),
    (np.ndarray.astype, lambda A: (A(3), np.complex128), {}),
    (np.flip, lambda A: (A(2, 3),), {}),
    (np.flip, lambda A: (A(2, 3), 1), {}),
    (np.flip, lambda A: (A(2, 3, 2),), {"axis": (0, 2)}),
    (np.fliplr, lambda A: (A(2, 3),), {}),
    (np.flipud, lambda A: (A(3, 2),), {}),
    (np.roll, lambda A: (A(5), 2), {}),
    (np.roll, lambda A: (A(2, 3), 1), {}),
    (np.roll, lambda A: (A(2, 3), (1, -1), (0, 1)), {}),
    (np.roll, lambda A: (A(3, 4), -1), {"axis": 1}),
    (np.rot90, lambda A: (A(2, 3),), {}),
    (np.rot90, lambda A: (A(2, 3), 3), {}),
    (np.rot90, lambda A: (A(2, 3, 4), 1, (1, 2)), {}),
    (np.pad, lambda A: (A(3), 2), {}),
    (np.pad, lambda A: (A(2, 3), ((1, 0), (2, 1))), {"constant_values": 1.5}),
    (np.pad, lambda A: (A(2, 3), (1, 2)), {}),
    (np.pad, lambda A: (A(2, 3), 1, "edge"), {}),
    (np.pad, lambda A: (A(4), (2, 3)), {"mode": "reflect"}),
    (np.pad, lambda A: (A(2, 3), ((1, 2), (3, 1))), {"mode": "symmetric"}),
    (np.pad, lambda A: (A(3, 2), 2), {"mode": "wrap"}),
    (np.diag, lambda A: (A(3),), {}),
    (np.diag, lambda A: (A(3), 1), {}),
    (np.diag, lambda A: (A(3), -2), {}),
    (np.diag, lambda A: (A(3, 3),), {}),
    (np.diag, lambda A: (A(3, 4), 1), {}),
    (np.diag, lambda A: (A(4, 3), -1), {}),
    (np.diagonal, lambda A: (A(3, 3),), {}),
    (np.diagonal, lambda A: (A(3, 4), 1), {}),
    (np.diagonal, lambda A: (A(2, 3, 4), -1, 1, 2), {}),
    (np.diagonal, lambda A: (A(2, 3, 4),), {"axis1": 2, "axis2": 0}),
    (np.ndarray.diagonal, lambda A: (A(3, 3), 1), {}),
    (np.tril, lambda A: (A(3, 3),), {}),
    (np.tril, lambda A: (A(3, 4), -1), {}),
    (np.triu, lambda A: (A(2, 3, 3), 1), {}),
    (np.triu, lambda A: (A(4, 3),), {}),
]


def _name(func):
    return getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))


@pytest.mark.filterwarnings("ignore:Casting complex values to real")  # astype(float64)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "func, make, kwargs",
    [pytest.param(f, m, k, id=f"{_name(f)}-{i}") for i, (f, m, k) in enumerate(CASES)],
)
def test_rule(func, make, kwargs, dtype):
    check_rule(func, *make(maker(dtype)), **kwargs)


# ---------------------------------------------------------------------------------------
# Lists in, lists out
# ---------------------------------------------------------------------------------------

# (function, leaves made from A, build(*leaves) -> args, kwargs, output pieces given None)
STRUCTURED = [
    (np.concatenate, lambda A: (A(2, 3), A(1, 3)), lambda a, b: ([a, b],), {}, ()),
    (np.concatenate, lambda A: (A(2, 3), A(2, 1)), lambda a, b: ((a, b),), {"axis": 1}, ()),
    (np.concatenate, lambda A: (A(2, 2), A(3)), lambda a, b: ([a, b],), {"axis": None}, ()),
    (np.concatenate, lambda A: (A(1, 2), A.S()), lambda a, s: ([a, [[s, 2.0]]],), {}, ()),
    (np.concatenate, lambda A: (A(3), A(2)), lambda a, b: ([a, np.arange(2), b],), {}, ()),
    (np.stack, lambda A: (A(3), A(3)), lambda a, b: ([a, b],), {}, ()),
    (np.stack, lambda A: (A(2, 3), A(2, 3)), lambda a, b: ((a, b),), {"axis": -1}, ()),
    (np.stack, lambda A: (A.S(), A.S()), lambda s, t: ([s, t, 1.0],), {}, ()),
    (np.hstack, lambda A: (A(2), A(3)), lambda a, b: ([a, b],), {}, ()),
    (np.hstack, lambda A: (A(2, 1), A(2, 3)), lambda a, b: ([a, b],), {}, ()),
    (np.hstack, lambda A: (A.S(), A(2)), lambda s, a: ([s, a],), {}, ()),
    (np.vstack, lambda A: (A(3), A(2, 3)), lambda a, b: ([a, b],), {}, ()),
    (np.dstack, lambda A: (A(2, 3), A(2, 3, 2)), lambda a, b: ([a, b],), {}, ()),
    (np.column_stack, lambda A: (A(3), A(3, 2)), lambda a, b: ([a, b],), {}, ()),
    (np.split, lambda A: (A(6),), lambda x: (x, 3), {}, (1,)),
    (np.split, lambda A: (A(4, 6),), lambda x: (x, [1, 4]), {"axis": 1}, ()),
    (np.array_split, lambda A: (A(7),), lambda x: (x, 3), {}, (0, 2)),
    (np.array_split, lambda A: (A(3, 5),), lambda x: (x, 2, 1), {}, ()),
    (np.hsplit, lambda A: (A(2, 4),), lambda x: (x, 2), {}, ()),
    (np.hsplit, lambda A: (A(4),), lambda x: (x, [1]), {}, (0,)),
    (np.vsplit, lambda A: (A(4, 2),), lambda x: (x, 2), {}, ()),
    (np.dsplit, lambda A: (A(2, 2, 4),), lambda x: (x, 2), {}, (1,)),
    (np.atleast_1d, lambda A: (A(), A(2, 3)), lambda a, b: (a, b), {}, ()),
    (np.atleast_2d, lambda A: (A(3), A(2, 3)), lambda a, b: (a, b), {}, (1,)),
    (np.atleast_3d, lambda A: (A(3), A(2, 3)), lambda a, b: (a, b), {}, ()),
    (np.broadcast_arrays, lambda A: (A(3), A(2, 1)), lambda a, b: (a, b), {}, ()),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "func, make, build, kwargs, none_out",
    [pytest.param(*case, id=f"{_name(case[0])}-{i}") for i, case in enumerate(STRUCTURED)],
)
def test_structured_rule(func, make, build, kwargs, none_out, dtype):
    check_structured(func, build, *make(maker(dtype)), none_out=none_out, **kwargs)


def test_concatenate_cotangent_mirrors_the_list():
    a, b = np.ones(2), np.ones(3)
    cts = rule_for(np.concatenate).vjp(np.arange(7.0), None, [a, (1, 2), b])
    ct = cts[0]
    assert type(ct) is list and ct[1] == (None, None)
    np.testing.assert_array_equal(ct[0], [0.0, 1.0])
    np.testing.assert_array_equal(ct[2], [4.0, 5.0, 6.0])


# ---------------------------------------------------------------------------------------
# Memory-order-dependent reshapes: ravel(order='K'/'A') of non-C-contiguous arrays
# ---------------------------------------------------------------------------------------
# The finite differences in check_rule perturb fresh C-ordered arrays, so these orders are
# checked against the equivalent explicit order instead.


@pytest.mark.parametrize("func, order", [
    (np.ravel, "K"), (np.ravel, "A"), (np.ndarray.ravel, "K"), (np.ndarray.flatten, "A"),
])
def test_layout_orders(func, order):
    x = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    ans = func(x, order)
    g = np.random.default_rng(1).standard_normal(ans.shape)
    (ct, _) = rule_for(func).vjp(g, ans, x, order)
    np.testing.assert_array_equal(ct, np.reshape(g, x.shape, order="F"))
    # Strided y whose entries are their memory positions: 'K' reads them in that order, so
    # g = arange sends each entry of y its own value back; 'A' of a non-contiguous array
    # reads in C order.
    y = np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)
    ct = rule_for(func).vjp(np.arange(24.0), None, y, order)[0]
    np.testing.assert_array_equal(ct, y if order == "K" else np.arange(24.0).reshape(y.shape))


def _laid_out_like(t, x):
    """``t`` with ``x``'s memory layout: what a layout-dependent order should read."""
    out = np.empty_like(x, dtype=t.dtype)
    out[...] = t
    return out


@pytest.mark.parametrize("func, order", [
    (np.ravel, "K"), (np.ravel, "A"), (np.ndarray.ravel, "K"), (np.ndarray.flatten, "A"),
    (np.ndarray.flatten, "K"),
])
def test_layout_orders_forward(func, order):
    # A C-ordered tangent of an array laid out otherwise must be read in x's order; one
    # laid out like x is read directly (a view where the value is one).
    rng = np.random.default_rng(2)
    for x in (np.asfortranarray(np.arange(12.0).reshape(3, 4)),
              np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)):
        t = rng.standard_normal(x.shape)
        dy = rule_for(func).jvp(func(x, order), (t, None), x, order)
        np.testing.assert_array_equal(dy, func(_laid_out_like(t, x), order))
        t = _laid_out_like(t, x)
        dy = rule_for(func).jvp(func(x, order), (t, None), x, order)
        np.testing.assert_array_equal(dy, func(t, order))
        assert np.shares_memory(dy, t) == np.shares_memory(func(x, order), x)


def test_reshape_order_A_forward():
    x = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    t = np.arange(12.0).reshape(3, 4) + 1
    ans = np.reshape(x, (2, 6), order="A")
    dy = rule_for(np.reshape).jvp(ans, (t, None, None), x, (2, 6), "A")
    np.testing.assert_array_equal(dy, np.reshape(t, (2, 6), order="F"))
    dy = rule_for(np.ndarray.reshape).jvp(ans, (t, None), x, (2, 6), order="A")
    np.testing.assert_array_equal(dy, np.reshape(t, (2, 6), order="F"))


def test_reshape_order_A():
    x = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    g = np.arange(12.0).reshape(2, 6) + 1
    ct = rule_for(np.reshape).vjp(g, np.reshape(x, (2, 6), order="A"), x, (2, 6), "A")[0]
    np.testing.assert_array_equal(ct, np.reshape(g, (3, 4), order="F"))


def test_pad_modes_without_rule_raise():
    x = np.ones(3)
    with pytest.raises(NotImplementedError):
        rule_for(np.pad).vjp(np.ones(5), None, x, 1, mode="linear_ramp")
    with pytest.raises(NotImplementedError):
        rule_for(np.pad).vjp(np.ones(5), None, x, 1, mode="reflect", reflect_type="odd")
    with pytest.raises(NotImplementedError):
        rule_for(np.pad).jvp(np.ones(5), (np.ones(3), None), x, 1, mode="maximum")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("make, kwargs", [
    (lambda A: (A(4), 2), {"mode": "linear_ramp", "end_values": (1.0, -2.0)}),
    (lambda A: (A(2, 3), (1, 2), "linear_ramp"), {}),
    (lambda A: (A(4), (2, 3)), {"mode": "reflect", "reflect_type": "odd"}),
    (lambda A: (A(3, 2), 2), {"mode": "symmetric", "reflect_type": "odd"}),
    (lambda A: (A(5), 2, "mean"), {}),
    (lambda A: (A(2, 4), 1, "mean"), {"stat_length": 2}),
])
def test_pad_forward_only_modes(make, kwargs, dtype):
    # affine modes the vjp does not take: forward mode differentiates them
    check_rule(np.pad, *make(maker(dtype)), modes=("fwd",), **kwargs)


def test_attribute_rules():
    x = np.arange(24.0).reshape(2, 3, 4) * (1 + 2j)
    for (cls, attr), func in ATTRIBUTE_RULES.items():
        assert cls is np.ndarray
        np.testing.assert_array_equal(func(x), getattr(x, attr))
    assert rule_for(ATTRIBUTE_RULES[np.ndarray, "T"]) is not None
    assert rule_for(ATTRIBUTE_RULES[np.ndarray, "mT"]) is not None
    # forward mode reads attributes through the rule's jvp with the one tangent
    t = np.random.default_rng(3).standard_normal(x.shape) * 1j
    for attr in ("T", "mT"):
        func = ATTRIBUTE_RULES[np.ndarray, attr]
        dy = rule_for(func).jvp(getattr(x, attr), (t,), x)
        np.testing.assert_array_equal(dy, getattr(t, attr))
