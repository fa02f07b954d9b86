"""Activity and scalar types of normalized functions."""

import builtins
import math

import numpy as np

from pygote.analysis.activity import analyse
from pygote.frontend import get_source, normalize
from pygote.rules.registry import NONDIFFERENTIABLE


def _analyse(fn, scalar_params=(), constant=()):
    src = get_source(fn)
    node = normalize(src.node, src.filename)

    def resolve(name):
        return fn.__globals__.get(name, getattr(builtins, name, None))

    return analyse(node, list(fn.__code__.co_freevars), set(scalar_params), resolve,
                   lambda f: f in NONDIFFERENTIABLE, set(constant))


def counts(x, n):
    total = 0.0
    for i in range(n):
        total = total + x * i
    label = f"{n} terms"
    size = len(label)
    return total + size


def test_loop_counters_and_strings_are_inactive():
    a = _analyse(counts, scalar_params={"x", "n"})
    assert {"x", "total"} <= a.active
    assert "i" not in a.active and "label" not in a.active and "size" not in a.active
    assert {"x", "total", "i"} <= a.scalar  # range gives ints, ints and floats give floats


def fill(x):
    buf = np.zeros(3)
    view = buf[1:]
    view[0] = x
    return np.sum(buf)


def test_writes_through_a_view_make_its_base_active():
    a = _analyse(fill)
    assert {"buf", "view"} <= a.active


def comparison_only(x, y):
    big = math.fabs(x) > 1.0
    if big:
        return y * 2.0
    return y


def test_values_used_only_in_comparisons_need_no_adjoint():
    a = _analyse(comparison_only, scalar_params={"x", "y"})
    assert "y" in a.active
    assert "x" not in a.active  # x only decides a branch: no gradient flows through it


def data_and_weights(w, X):
    shape = X.shape
    return np.sum(X @ w) + shape[0]


def test_constant_parameters_stay_inactive():
    a = _analyse(data_and_weights, constant={"X"})
    assert "w" in a.active and "X" not in a.active and "shape" not in a.active
