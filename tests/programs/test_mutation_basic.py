"""End-to-end programs: the common mutations, whose gradients must be exact.

Array item and slice assignment with active values, in-place arithmetic, list.append and
friends, list/dict item assignment, attribute assignment; values are read both before and
after each write. The finite-difference oracle evaluates every perturbation on a fresh
deep copy, so programs may freely mutate their inputs (overwritten input entries get a
zero gradient).

``VIEW_CASES`` are mutations through NumPy views and aliases (a write through ``b`` that
``a`` must see); they are kept in their own test function.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest

from .fd import assert_gradient_matches, params

_rng = np.random.default_rng(99)


@dataclass
class State:
    x: float
    v: float


class Body:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel
        self.steps = 0

    def step(self, dt, k):
        self.vel = self.vel - dt * k * self.pos
        self.pos = self.pos + dt * self.vel
        self.steps += 1


class Accumulator:
    def __init__(self):
        self.total = 0.0
        self.history = []

    def add(self, v):
        self.total += v
        self.history.append(v)


# --- array item / slice assignment --------------------------------------------------------

def setitem_fresh_array(x, y):
    a = np.zeros(3)
    a[0] = x
    a[1] = x * y
    a[2] = y
    return np.sum(a ** 2)


def setitem_on_input(a, v):
    a[1] = v
    return np.sum(a * a)


def read_before_and_after_write(a, v):
    before = a[1] * 2.0
    a[1] = v * v
    after = a[1]
    return before * after + np.sum(a)


def setitem_overwrite_twice(x):
    a = np.ones(2)
    a[0] = x
    first = a[0] * 3.0
    a[0] = x * x
    return first + a[0] + a[1]


def slice_assign_array(a, v):
    a[1:3] = v
    return np.sum(np.sin(a))


def slice_assign_scalar_broadcast(a, s):
    b = a.copy()
    b[:2] = s
    return np.sum(b * a)


def row_col_assign(A, r, c):
    A[0, :] = r
    A[:, 1] = c
    return np.sum(A ** 2) + A[0, 1]


def setitem_in_loop_prealloc(x):
    out = np.empty(5)
    for i in range(5):
        out[i] = x ** i / (i + 1)
    return np.sum(out * out)


def nested_loop_matrix_fill(x, y):
    M = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            M[i, j] = x * i + y * j + x * y
    return np.linalg.norm(M)


def zeros_like_accumulate(x):
    g = np.zeros_like(x)
    for i in range(len(x)):
        g[i] = x[i] ** 2 + x[(i + 1) % len(x)]
    return np.sum(g * x)


def setitem_fancy_index(a, v):
    a[np.array([0, 3])] = v
    return np.sum(a ** 3)


def setitem_boolean_mask(a):
    b = a.copy()
    b[b < 0.0] = 0.0
    return np.sum(b ** 2) + np.sum(a)


def setitem_mask_with_values(a, w):
    b = a * 1.0
    mask = b > 0.5
    b[mask] = w * b[mask]
    return np.sum(b)


def setitem_whole_array(a):
    a[:] = a * 2.0 + 1.0
    return np.sum(a ** 2)


def setitem_ellipsis(a, s):
    b = np.empty_like(a)
    b[...] = s * a
    return np.sum(b * a)


def swap_elements(a):
    a[0], a[1] = a[1], a[0]
    return a[0] * 3.0 + a[1] + a[0] * a[2]


def copy_then_mutate(a, v):
    b = np.copy(a)
    b[0] = v
    return np.sum(a * b)


# --- in-place arithmetic ------------------------------------------------------------------

def iadd_array(a, b):
    a += b
    return np.sum(a * a)


def iadd_scalar_on_array(a, s):
    c = a * 1.0
    c += s
    c *= s
    c -= a
    c /= 2.0
    return np.sum(c ** 2)


def iadd_in_loop(x, w):
    acc = np.zeros(3)
    for i in range(4):
        acc += w * x ** i
    return np.sum(acc ** 2)


def getitem_iadd(a, v):
    a[2] += v
    a[0] *= v
    return np.sum(a ** 2)


def matrix_iadd_outer(A, x):
    A += np.outer(x, x)
    return np.trace(A @ A)


def float_iadd_rebinds(x):
    s = 0.0
    for i in range(5):
        s += x * i
        s *= 1.1
    return s


# --- lists --------------------------------------------------------------------------------

def append_in_loop(x):
    out = []
    for i in range(5):
        out.append(x ** i)
    return sum(out)


def append_then_read_early_element(x, y):
    out = [x]
    out.append(y * out[0])
    first = out[0]
    out.append(first * out[1])
    out.append(out[-1] + out[0])
    return out[1] * out[3]


def extend_insert_pop(x, y):
    xs = [x]
    xs.extend([y, x * y])
    xs.insert(1, 2.0 * x)
    last = xs.pop()
    return last * xs[1] + sum(xs)


def list_setitem(xs, v):
    xs[1] = xs[0] * v
    return xs[1] * xs[2] + xs[0]


def list_setitem_on_copy(xs, v):
    ys = list(xs)
    ys[0] = v * 2.0
    return sum(ys) * xs[0]


def list_iadd(xs, x):
    xs += [x, x * x]
    return sum(v * v for v in xs)


def nested_list_setitem(M, v):
    M[0][1] = v
    M[1][0] = M[0][1] * M[1][1]
    return sum(sum(r) for r in M)


def list_of_arrays_setitem(arrs, x):
    arrs[0][1] = x
    arrs[1] = arrs[1] * x
    return np.sum(arrs[0] ** 2) + np.sum(arrs[1])


def del_list_item(xs):
    del xs[0]
    return xs[0] * xs[1]


def sort_reverse_in_place(xs):
    ys = list(xs)
    ys.sort()
    ys.reverse()
    return ys[0] * 3.0 + ys[1] * 2.0 + ys[2]


def list_append_arrays_then_stack(W, x):
    hs = []
    h = x
    for _ in range(3):
        h = np.tanh(W @ h)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


# --- dicts --------------------------------------------------------------------------------

def dict_setitem(d):
    before = d["a"] * 2.0
    d["c"] = d["a"] * d["b"]
    d["a"] = d["c"] + 1.0
    return before + d["a"] * d["c"]


def dict_built_in_loop(xs):
    d = {}
    for i, x in enumerate(xs):
        d[f"k{i}"] = x * x
    d["k0"] += 1.0
    return sum(d.values()) * d["k1"]


def dict_update(d, x):
    d.update({"b": x, "c": x * d["a"]})
    return d["a"] * d["b"] + d["c"]


def sgd_on_dict(params, x, y):
    def update(p, g, lr):
        p["w"] -= lr * g["w"]
        p["b"] -= lr * g["b"]

    for _ in range(5):
        r = params["w"] * x + params["b"] - y
        update(params, {"w": 2.0 * r * x, "b": 2.0 * r}, 0.05)
    return (params["w"] * x + params["b"] - y) ** 2


def dict_setdefault_pop(d, x):
    d.setdefault("z", x * 2.0)
    d.setdefault("a", 100.0)
    v = d.pop("a")
    return v * d["z"] + sum(d.values())


# --- attributes ---------------------------------------------------------------------------

def attribute_assign(b, dt):
    p0 = b.pos * 1.0
    b.pos = b.pos + dt * b.vel
    b.vel = b.vel * 0.5
    return b.pos * p0 + b.vel


def simulate_object(body, k):
    for _ in range(10):
        body.step(0.1, k)
    return body.pos ** 2 + body.vel ** 2


def setattr_builtin(s, x):
    setattr(s, "x", s.x * x)
    setattr(s, "v", getattr(s, "x") + s.v)
    return s.x * s.v


def dataclass_field_assign(s):
    s.v = s.v - 0.1 * s.x
    s.x = s.x + 0.1 * s.v
    return s.x * s.x + s.v


def method_mutates_self(x, y):
    acc = Accumulator()
    acc.add(x)
    acc.add(x * y)
    acc.add(math.sin(y))
    return acc.total * acc.history[1]


def attribute_iadd_array(b, x):
    b.pos = np.array([1.0, 2.0]) * b.pos
    b.pos += x
    return np.sum(b.pos ** 2)


# --- views and aliases --------------------------------------------------------------------

def alias_iadd(a, x):
    b = a
    b += x
    return np.sum(a * a)


def rebinding_does_not_alias(a, x):
    b = a
    a = a + x
    return np.sum(a * b)


def view_slice_imul(a):
    v = a[1:]
    v *= 2.0
    return np.sum(a ** 2)


def view_setitem_visible_in_base(A, x):
    row = A[1]
    row[0] = x
    return np.sum(A ** 2)


def list_alias_append(xs, x):
    ys = xs
    ys.append(x * 2.0)
    return sum(v * v for v in xs)


CASES = [
    (setitem_fresh_array, (1.5, -0.5)),
    (setitem_on_input, (np.array([1.0, 2.0, 3.0]), 0.7)),
    (read_before_and_after_write, (np.array([1.0, -2.0, 0.5]), 1.3)),
    (setitem_overwrite_twice, (1.7,)),
    (slice_assign_array, (_rng.standard_normal(5), np.array([0.4, -0.9]))),
    (slice_assign_scalar_broadcast, (np.array([1.0, -2.0, 0.5, 2.0]), 0.6)),
    (row_col_assign, (_rng.standard_normal((3, 3)), _rng.standard_normal(3),
                      _rng.standard_normal(3))),
    (setitem_in_loop_prealloc, (1.2,)),
    (nested_loop_matrix_fill, (0.7, -0.4)),
    (zeros_like_accumulate, (np.array([0.5, -1.0, 2.0, 1.5]),)),
    (setitem_fancy_index, (_rng.standard_normal(5), np.array([0.3, 1.2]))),
    (setitem_boolean_mask, (np.array([0.5, -1.0, 2.0, -0.3]),)),
    (setitem_mask_with_values, (np.array([0.1, 1.0, 2.0, -0.3]), 1.5)),
    (setitem_whole_array, (np.array([0.5, -1.0, 2.0]),)),
    (setitem_ellipsis, (_rng.standard_normal((2, 2)), 1.5)),
    (swap_elements, (np.array([1.0, 2.0, 3.0]),)),
    (copy_then_mutate, (np.array([1.0, 2.0, 3.0]), 0.5)),
    (iadd_array, (np.array([1.0, 2.0]), np.array([0.5, -0.5]))),
    (iadd_scalar_on_array, (np.array([1.0, 2.0, -1.0]), 1.5)),
    (iadd_in_loop, (1.1, np.array([0.5, -1.0, 2.0]))),
    (getitem_iadd, (np.array([1.0, 2.0, 3.0]), 0.7)),
    (matrix_iadd_outer, (_rng.standard_normal((3, 3)), np.array([0.5, -1.0, 0.3]))),
    (float_iadd_rebinds, (0.8,)),
    (append_in_loop, (1.3,)),
    (append_then_read_early_element, (1.5, -0.5)),
    (extend_insert_pop, (1.5, 0.4)),
    (list_setitem, ([1.0, 2.0, 3.0], 0.5)),
    (list_setitem_on_copy, ([1.0, 2.0, 3.0], 0.5)),
    (list_iadd, ([1.0, -2.0], 0.7)),
    (nested_list_setitem, ([[1.0, 2.0], [3.0, 4.0]], 0.5)),
    (list_of_arrays_setitem, ([np.array([1.0, 2.0]), np.array([0.5, -1.0])], 1.3)),
    (del_list_item, ([1.0, 2.0, 3.0],)),
    (sort_reverse_in_place, ([0.5, 2.0, -1.0, 1.5],)),
    (list_append_arrays_then_stack, (_rng.standard_normal((3, 3)) * 0.5,
                                     np.array([0.5, -1.0, 0.3]))),
    (dict_setitem, ({"a": 1.5, "b": -0.5},)),
    (dict_built_in_loop, ([1.0, 2.0, 0.5],)),
    (dict_update, ({"a": 1.5, "b": 2.0}, 0.3)),
    (sgd_on_dict, ({"w": 0.5, "b": 0.1}, 1.5, 2.0)),
    (dict_setdefault_pop, ({"a": 1.5, "b": 2.0}, 0.3)),
    (attribute_assign, (Body(1.0, 0.5), 0.1)),
    (simulate_object, (Body(1.0, 0.0), 2.0)),
    (setattr_builtin, (State(1.5, 0.5), 0.8)),
    (dataclass_field_assign, (State(1.5, 0.5),)),
    (method_mutates_self, (1.2, 0.4)),
    (attribute_iadd_array, (Body(np.array([1.0, -1.0]), 0.0), 0.5)),
]

VIEW_CASES = [
    (alias_iadd, (np.array([1.0, 2.0]), 0.5)),
    (rebinding_does_not_alias, (np.array([1.0, 2.0]), 0.5)),
    (view_slice_imul, (np.array([1.0, -2.0, 0.5]),)),
    (view_setitem_visible_in_base, (_rng.standard_normal((2, 3)), 0.7)),
    (list_alias_append, ([1.0, 2.0], 0.5)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_mutation(program, args):
    assert_gradient_matches(program, *args)


@pytest.mark.parametrize("program, args", params(VIEW_CASES))
def test_mutation_through_alias(program, args):
    assert_gradient_matches(program, *args)
