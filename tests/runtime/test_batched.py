"""Batched values (pygote/runtime/batched.py): every operation on a ``Batched`` has each
member's meaning, checked against the same operation run member by member; and nothing
turns a batch into one plain value silently."""

import numpy as np
import pytest

from pygote.runtime.batched import Batched, BatchingError, fit_batched

RNG = np.random.default_rng(3)
B = 4


def _check(f, *specs):
    """``f`` on batched and plain operands (``specs``: (member shape, batched?)) agrees
    with ``f`` applied to each member in turn."""
    values = [RNG.standard_normal(((B,) if batched else ()) + shape) for shape, batched in specs]
    args = [Batched(v) if batched else v for v, (_, batched) in zip(values, specs)]
    got = f(*args)
    want = np.stack([np.asarray(f(*[v[k] if batched else v
                                    for v, (_, batched) in zip(values, specs)]))
                     for k in range(B)])
    assert type(got) is Batched
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


SHAPES = [(3,), (2, 3), (5, 2, 3)]
RIGHT = [(3,), (3, 4), (5, 3, 4)]


@pytest.mark.parametrize("left", SHAPES)
@pytest.mark.parametrize("right", RIGHT)
@pytest.mark.parametrize("which", ["left", "right", "both"])
def test_matmul(left, right, which):
    _check(lambda a, b: a @ b, (left, which != "right"), (right, which != "left"))


ELEMENTWISE = [
    (lambda a, b: a * b + np.tanh(a), ((3,), True), ((2, 3), False)),
    (lambda a, b: a * b - b / (1.0 + a * a), ((2, 3), False), ((3,), True)),
    (lambda a, b: np.where(a > 0, a, b), ((3,), True), ((2, 3), True)),
    (lambda a: np.exp(-a) ** 2 + abs(a), ((2, 3), True)),
]

REDUCTIONS_AND_SHAPES = [
    lambda a: np.sum(a),
    lambda a: np.sum(a, axis=0),
    lambda a: a.sum(axis=-1, keepdims=True),
    lambda a: np.mean(a, axis=(0, 1)),
    lambda a: np.max(a, axis=1),
    lambda a: np.add.reduce(a, axis=1),
    lambda a: np.broadcast_to(a, (4, 2, 3)),
    lambda a: a.T,
    lambda a: np.transpose(a, (1, 0)),
    lambda a: a.reshape(3, 2),
    lambda a: np.reshape(a, -1),
    lambda a: np.expand_dims(a, -1),
    lambda a: a[1:, ::-1],
    lambda a: a[None, 0],
    lambda a: a[..., np.array([2, 0, 2])],
    lambda a: np.outer(a[0], a[1]),
    lambda a: np.stack([a, 2 * a], axis=-1),
    lambda a: np.concatenate([a, np.ones((1, 3))]),
    lambda a: np.linalg.norm(a),  # no rule: member by member
    lambda a: np.zeros_like(a) + a,
    lambda a: np.dot(a, a.T),
]


@pytest.mark.parametrize("case", range(len(ELEMENTWISE)))
def test_elementwise(case):
    f, *specs = ELEMENTWISE[case]
    _check(f, *specs)


@pytest.mark.parametrize("case", range(len(REDUCTIONS_AND_SHAPES)))
def test_reductions_and_shapes(case):
    _check(REDUCTIONS_AND_SHAPES[case], ((2, 3), True))


def test_writes_into_a_batch():
    def write(a):
        a = a.copy()
        a[1] = 5.0
        a[0, 1:] += a[1, :2]
        return a
    _check(write, ((2, 3), True))


def test_an_item_is_a_number_not_a_view():
    b = Batched(np.arange(6.0).reshape(2, 3))
    item = b[0]
    b[0] += 10.0
    assert np.array_equal(item.data, [0.0, 3.0])
    matrices = Batched(np.zeros((2, 2, 3)))
    assert np.shares_memory(matrices[0].data, matrices.data)  # (a row is a view, as NumPy's)


@pytest.mark.parametrize("convert", [float, bool, np.asarray, lambda b: b.item(),
                                     lambda b: np.array(b, copy=True),
                                     lambda b: bool(b == 0.0), lambda b: bool(b != 1.0)])
def test_never_one_plain_value(convert):
    with pytest.raises(BatchingError):
        convert(Batched(np.ones((2, 1))[:, 0]))


def test_never_written_into_a_plain_array():
    plain = np.zeros(3)
    with pytest.raises(BatchingError):
        plain += Batched(np.ones((2, 3)))
    assert np.all(plain == 0.0)


@pytest.mark.parametrize("shape", [(3,), (1, 3), (2, 1), ()])
def test_fit_a_cotangent_undoes_broadcasting_per_member(shape):
    data = RNG.standard_normal((B, 2, 3))
    got = fit_batched(Batched(data), shape, np.dtype(np.float64), True, True)
    for k in range(B):  # each member as NumPy's broadcasting would have summed it
        extra = tuple(range(2 - len(shape)))
        want = data[k].sum(axis=extra) if extra else data[k]
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and want.shape[i] != 1)
        want = want.sum(axis=axes, keepdims=True) if axes else want
        np.testing.assert_allclose(got.data[k], np.reshape(want, shape))


def test_fit_a_tangent_grows_it_into_memory_of_its_own():
    data = RNG.standard_normal((B, 3))
    got = fit_batched(Batched(data), (2, 3), np.dtype(np.float32), True, False)
    assert got.data.shape == (B, 2, 3) and got.data.dtype == np.float32
    assert not np.shares_memory(got.data, data)
    np.testing.assert_allclose(got.data, np.broadcast_to(data[:, None, :], (B, 2, 3)),
                               rtol=1e-6)
