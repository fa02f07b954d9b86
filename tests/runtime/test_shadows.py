"""Shadows and value adjoints: accumulation, taking, and undoing writes."""

import numpy as np
import pytest

from pygote.runtime import access, shadows
from pygote.runtime.structural import Structural
from pygote.runtime.values import fit, unbroadcast


@pytest.fixture(autouse=True)
def fresh_store():
    shadows.push_store()
    yield
    shadows.pop_store()


def test_float_adjoints_are_values():
    assert shadows.acc(1.0, None, 2.0) == 2.0
    assert shadows.acc(1.0, 2.0, 3.0) == 5.0
    assert shadows.acc(3, None, 2.0) is None  # ints carry no gradient


def test_array_adjoints_live_in_the_shadow_and_are_shared_by_aliases():
    a = np.ones(3)
    b = a  # another name for the same object
    assert shadows.acc(a, None, np.array([1.0, 2.0, 3.0])) is None
    shadows.acc(b, None, 1.0)  # broadcast scalar cotangent
    np.testing.assert_allclose(shadows.take(a, None), [2.0, 3.0, 4.0])
    assert shadows.take(a, None) is None  # taken once


def test_cotangents_are_fitted_to_shape_and_dtype():
    x = np.ones((2, 3), dtype=np.float32)
    g = fit(np.ones((4, 2, 3)), x)
    assert g.shape == (2, 3) and g.dtype == np.float32 and g[0, 0] == 4.0
    assert unbroadcast(np.ones((2, 3)), (1, 3)).tolist() == [[2.0, 2.0, 2.0]]
    assert fit(np.array(1.0 + 2.0j), 1.0) == 1.0


def test_list_and_tuple_items():
    xs = [1.0, 2.0]
    access.acc_getitem(xs, None, 1, 5.0)
    assert shadows.take(xs, None) == [None, 5.0]
    t = (1.0, 2.0, 3.0)
    assert access.acc_getitem(t, None, slice(0, 2), [1.0, 1.0]) == (1.0, 1.0, None)


def test_repeated_array_indices_accumulate():
    a = np.zeros(3)
    access.acc_getitem(a, None, np.array([0, 0, 2]), np.ones(3))
    np.testing.assert_allclose(shadows.take(a, None), [2.0, 0.0, 1.0])


def test_setitem_back_moves_the_slot_gradient_and_restores():
    a = np.array([1.0, 2.0, 3.0])
    old = access.setitem(a, slice(0, 2), 7.0)
    assert a.tolist() == [7.0, 7.0, 3.0]
    shadows.acc(a, None, np.array([1.0, 2.0, 3.0]))
    g = access.setitem_back(a, slice(0, 2), 7.0, old)
    assert a.tolist() == [1.0, 2.0, 3.0]
    assert fit(g, 7.0) == 3.0
    np.testing.assert_allclose(shadows.take(a, None), [0.0, 0.0, 3.0])


def test_inplace_multiply_undone():
    y = np.array([2.0, 3.0])
    v = np.array([5.0, 7.0])
    out, record = access.augassign("*", y, v)
    assert out is y and y.tolist() == [10.0, 21.0]
    shadows.acc(y, None, np.ones(2))
    dy, dv = access.augassign_back(record, y, v, None)
    assert y.tolist() == [2.0, 3.0]
    np.testing.assert_allclose(shadows.take(y, None), [5.0, 7.0])  # d(y*v)/dy
    np.testing.assert_allclose(dv, [2.0, 3.0])


def test_object_attributes_gather_into_structural():
    class Box:
        def __init__(self):
            self.w = 2.0
            self.n = 3

    box = Box()
    access.acc_attr(box, None, "w", 4.0)
    g = shadows.take(box, None)
    assert isinstance(g, Structural) and g.w == 4.0 and g["w"] == 4.0 and g.n is None


def test_array_cotangent_of_a_list_is_split_into_its_items():
    # np.sum([a, 2.0]) hands the list an array cotangent: each item gets its entry, the
    # broadcast is undone first, ints get none, nested lists and tuples stay nested
    a = 1.5
    xs = [a, 2.0]
    shadows.acc(xs, None, np.array([3.0, 4.0]))
    assert shadows.take(xs, None) == [3.0, 4.0]
    ys = [a, 2]
    shadows.acc(ys, None, np.ones((3, 2)))
    assert shadows.take(ys, None) == [3.0, None]
    assert shadows.acc((a, 2.0), None, np.array([1.0, 5.0])) == (1.0, 5.0)
    v = np.zeros(2)
    nested = [(a, 1.0), v]
    shadows.acc(nested, None, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert shadows.take(nested, None)[0] == (1.0, 2.0)
    np.testing.assert_array_equal(shadows.take(v, None), [3.0, 4.0])
    assert fit(np.array([1.0 + 1j, 2.0]), [1.0, 2.0 + 0j]) == [1.0, 2.0 + 0j]
    ragged = [np.ones(2), 1.0]
    g = np.ones(3)
    assert fit(g, ragged) is g  # not array-like: left alone
