"""Product rules (dot, matmul, tensordot, einsum, outer, inner, vdot, vecdot, trace, kron,
cross), reverse and forward, checked against finite differences in float64, float32 and
complex128."""

import numpy as np
import pytest

import pygote.rules.numpy_products  # noqa: F401  (registers the rules)
from pygote.rules.registry import rule_for
from pygote.testing import check_rule

DTYPES = [np.float64, np.float32, np.complex128]


def maker(dtype, seed=0):
    """``A(*shape)``: a random array of ``dtype`` (complex entries for complex dtypes)."""
    rng = np.random.default_rng(seed)

    def A(*shape):
        x = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        return np.asarray(x).astype(dtype)

    return A


def _name(func):
    return getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))


# (function, args made from A, kwargs)
CASES = [
    (np.dot, lambda A: (A(), A(3)), {}),
    (np.dot, lambda A: (A(2, 3), A()), {}),
    (np.dot, lambda A: (2.5, A(3)), {}),
    (np.dot, lambda A: (A(3), A(3)), {}),
    (np.dot, lambda A: (A(2, 3), A(3)), {}),
    (np.dot, lambda A: (A(3), A(3, 2)), {}),
    (np.dot, lambda A: (A(2, 3), A(3, 4)), {}),
    (np.dot, lambda A: (A(2, 2, 3), A(4, 3, 2)), {}),
    (np.dot, lambda A: (A(3), A(2, 3, 4)), {}),
    (np.dot, lambda A: (A(2, 3, 4), A(4)), {}),
    (np.ndarray.dot, lambda A: (A(2, 3), A(3, 4)), {}),
    (np.ndarray.dot, lambda A: (A(3), A(3)), {}),
    (np.matmul, lambda A: (A(2, 3), A(3, 4)), {}),
    (np.matmul, lambda A: (A(3), A(3)), {}),
    (np.matmul, lambda A: (A(3), A(3, 4)), {}),
    (np.matmul, lambda A: (A(2, 3), A(3)), {}),
    (np.matmul, lambda A: (A(5, 2, 3), A(3, 4)), {}),
    (np.matmul, lambda A: (A(2, 1, 2, 3), A(3, 3, 2)), {}),
    (np.matmul, lambda A: (A(3), A(5, 3, 2)), {}),
    (np.matmul, lambda A: (A(5, 2, 3), A(3)), {}),
    (np.tensordot, lambda A: (A(2, 3, 4), A(3, 4, 5)), {}),
    (np.tensordot, lambda A: (A(2, 3), A(3, 2), 1), {}),
    (np.tensordot, lambda A: (A(2), A(3), 0), {}),
    (np.tensordot, lambda A: (A(2, 3, 4), A(4, 2, 3), ([0, 1], [1, 2])), {}),
    (np.tensordot, lambda A: (A(2, 3, 4), A(3, 2)), {"axes": ([1, 0], [0, 1])}),
    (np.tensordot, lambda A: (A(3, 4), A(4, 3), ([0, 1], [1, 0])), {}),
    (np.tensordot, lambda A: (A(2, 3, 4), A(4, 3, 5), ([2, 1], [0, 1])), {}),
    (np.tensordot, lambda A: (A(2, 3, 4), A(4, 3), (-1, 0)), {}),
    (np.inner, lambda A: (A(3), A(3)), {}),
    (np.inner, lambda A: (A(2, 3), A(3)), {}),
    (np.inner, lambda A: (A(3), A(4, 3)), {}),
    (np.inner, lambda A: (A(2, 3), A(4, 3)), {}),
    (np.inner, lambda A: (A(), A(3)), {}),
    (np.inner, lambda A: (A(2, 2, 3), A(2, 3)), {}),
    (np.outer, lambda A: (A(3), A(4)), {}),
    (np.outer, lambda A: (A(2, 2), A(3)), {}),
    (np.outer, lambda A: (1.5, A(3)), {}),
    (np.vdot, lambda A: (A(3), A(3)), {}),
    (np.vdot, lambda A: (A(2, 3), A(3, 2)), {}),
    (np.vecdot, lambda A: (A(3), A(3)), {}),
    (np.vecdot, lambda A: (A(2, 3), A(3)), {}),
    (np.vecdot, lambda A: (A(2, 3), A(4, 1, 3)), {}),
    (np.vecdot, lambda A: (A(3, 2), A(3, 2)), {"axis": 0}),
    (np.trace, lambda A: (A(3, 3),), {}),
    (np.trace, lambda A: (A(3, 4), 1), {}),
    (np.trace, lambda A: (A(4, 3), -2), {}),
    (np.trace, lambda A: (A(2, 3, 3), 0, 1, 2), {}),
    (np.trace, lambda A: (A(3, 4, 2),), {"offset": -1, "axis1": 2, "axis2": 0}),
    (np.ndarray.trace, lambda A: (A(3, 3), 1), {}),
    (np.kron, lambda A: (A(2), A(3)), {}),
    (np.kron, lambda A: (A(2, 2), A(3, 2)), {}),
    (np.kron, lambda A: (A(2), A(2, 3)), {}),
    (np.kron, lambda A: (A(2, 3, 2), A(2)), {}),
    (np.kron, lambda A: (A(), A(3)), {}),
    (np.cross, lambda A: (A(3), A(3)), {}),
    (np.cross, lambda A: (A(4, 3), A(3)), {}),
    (np.cross, lambda A: (A(3, 2), A(3, 2)), {"axis": 0}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "func, make, kwargs",
    [pytest.param(f, m, k, id=f"{_name(f)}-{i}") for i, (f, m, k) in enumerate(CASES)],
)
def test_rule(func, make, kwargs, dtype):
    check_rule(func, *make(maker(dtype)), **kwargs)


# ---------------------------------------------------------------------------------------
# einsum: a table of subscripts with operand shapes
# ---------------------------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("ij,jk", (2, 3), (3, 4)),  # implicit output
    ("i,i->", (3,), (3,)),
    ("i,i", (3,), (3,)),
    ("i,j->ij", (2,), (3,)),
    ("ij->ji", (2, 3)),
    ("ji", (2, 3)),  # implicit output 'ij': a transpose
    ("ij->", (2, 3)),
    ("ij->i", (2, 3)),  # j summed over one operand only
    ("ij,j->", (2, 3), (3,)),
    ("ii->i", (3, 3)),
    ("ii", (3, 3)),  # trace
    ("ii->", (3, 3)),
    ("iij->ij", (3, 3, 2)),
    ("iji->j", (2, 3, 2)),
    ("i,ii->i", (3,), (3, 3)),
    ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    ("ijk,k->ij", (2, 3, 4), (4,)),
    ("ij,ij->ij", (2, 3), (2, 3)),
    ("i,i,i->i", (3,), (3,), (3,)),
    ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    ("ab,bc->ca", (2, 3), (3, 4)),
    ("Ab,bc->Ac", (2, 3), (3, 4)),
    ("Ba,aB", (2, 3), (3, 2)),  # implicit, uppercase sorts first: scalar
    ("...ij,...jk->...ik", (2, 3, 4), (4, 5)),
    ("...i,...i", (2, 3), (3,)),  # implicit output '...'
    ("i...->...", (3, 2, 2)),
    ("...i,...i->...", (1, 3), (2, 3)),  # size-1 broadcast axis
    (" ij , jk -> ik ", (2, 3), (3, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("subscripts, shapes", [(e[0], e[1:]) for e in EINSUMS],
                         ids=[e[0] for e in EINSUMS])
def test_einsum(subscripts, shapes, dtype):
    A = maker(dtype)
    check_rule(np.einsum, subscripts, *[A(*s) for s in shapes])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_einsum_optimize_and_interleaved(dtype):
    A = maker(dtype)
    a, b, c = A(2, 3), A(3, 4), A(4, 2)
    check_rule(np.einsum, "ij,jk,kl->il", a, b, c, optimize=True)
    check_rule(np.einsum, a, [0, 1], b, [1, 2], [0, 2])
    check_rule(np.einsum, a, [0, 1], b, [1, 2])
    check_rule(np.einsum, A(2, 3, 4), [Ellipsis, 1, 2], A(4,), [2], [Ellipsis, 1])
    check_rule(np.einsum, A(3, 3), [0, 0])


def test_einsum_cotangent_count():
    a, b = np.ones((2, 3)), np.ones((3,))
    assert len(rule_for(np.einsum).vjp(np.ones(2), None, "ij,j->i", a, b)) == 3
    assert len(rule_for(np.einsum).vjp(np.ones(2), None, a, [0, 1], b, [1], [0])) == 5


@pytest.mark.parametrize("interleaved", [False, True])
def test_einsum_tangents_of_some_operands(interleaved):
    # a constant operand's tangent is None; sublists' tangents, whatever they are, are
    # not operands' (forward code may give a list a tangent of Nones)
    A = maker(np.complex128)
    a, b, c, ta, tc = A(2, 3), A(3, 4), A(4,), A(2, 3), A(4,)
    if interleaved:
        args = (a, [0, 1], b, [1, 2], c, [2], [0])
        tangents = (ta, [None, None], None, [None, None], tc, [None], [None])
    else:
        args, tangents = ("ij,jk,k->i", a, b, c), (None, ta, None, tc)
    dy = rule_for(np.einsum).jvp(np.einsum(*args), tangents, *args)
    np.testing.assert_allclose(dy, ta @ b @ c + a @ b @ tc)
    assert rule_for(np.einsum).jvp(None, (None,) * len(args), *args) is None


def test_vdot_conjugates_its_first_argument():
    a, b = np.array([1 + 2j]), np.array([3 - 1j])
    ga, gb = rule_for(np.vdot).vjp(1.0 + 0j, np.vdot(a, b), a, b)
    np.testing.assert_allclose(ga, b)  # d/d conj(a) of conj(a) b
    np.testing.assert_allclose(gb, a)
    ta, tb = np.array([0.5 - 1j]), np.array([2 + 1j])
    dy = rule_for(np.vdot).jvp(np.vdot(a, b), (ta, tb), a, b)
    np.testing.assert_allclose(dy, np.conj(ta[0]) * b[0] + np.conj(a[0]) * tb[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("func", [np.dot, np.matmul, np.vdot, np.kron])
def test_products_with_one_constant_factor(func, dtype):
    A = maker(dtype)
    check_rule(func, A(3), A(3), argnums=[0])
    check_rule(func, A(3), A(3), argnums=[1])


def test_cross_of_2_vectors_is_not_implemented():
    with pytest.raises(NotImplementedError):
        rule_for(np.cross).vjp(np.ones(2), None, np.ones((2, 3)), np.ones((2, 3)), axisa=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cross_forward_with_separate_axes(dtype):
    # the product rule holds whatever the axes, so forward mode takes what the vjp does not
    A = maker(dtype)
    check_rule(np.cross, A(3, 4), A(4, 3), modes=("fwd",), axisa=0)
    check_rule(np.cross, A(3, 2), A(2, 3), 0, -1, 0, modes=("fwd",))
