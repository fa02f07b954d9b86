"""What the backward pass keeps: a loop updating an array in place keeps no more than the
values it overwrote, and the shortcuts that make that so (array temporaries replaced by
ghosts once read, item reads accumulating straight into their container's shadow, writes
into arrays journaled as one final copy) stay exact where they must not apply: user
operators that keep or return their operands, containers rebound between an item read
and its use, operators that read their operands' values. Gradients against finite
differences of the plain programs."""

import tracemalloc

import numpy as np
import pytest

import pygote as pg

from .fd import assert_gradient_matches, params


def heat(u0, steps):
    r = 0.25
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def relax_with_buffer(u0, steps):
    """A loop writing a fresh array into a preallocated buffer each step."""
    buf = np.zeros_like(u0)
    u = u0 * 1.0
    for _ in range(steps):
        buf[:] = 0.5 * u + 0.25 * np.roll(u, 1)
        u[:] = np.tanh(buf)
    return np.sum(u ** 2)


def _saved_bytes(f, *args):
    """(bytes the pullback keeps after the forward pass, peak bytes while ``back`` runs)."""
    pg.pullback(f, *args)[1](1.0)  # transform outside the measurement
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        y, back = pg.pullback(f, *args)
        kept = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        back(1.0)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    return kept, peak


def test_in_place_loop_keeps_no_more_than_it_overwrote():
    n, steps = 20_000, 100
    u0 = np.linspace(0.0, 1.0, n) ** 2
    overwritten = steps * (n - 2) * 8
    kept, peak = _saved_bytes(heat, u0, steps)
    # the overwritten values, plus a per-step constant (a few array headers) and three
    # arrays: u itself, its final contents (to leave it as a plain call does), u * u
    assert kept <= overwritten + steps * 1_000 + 3 * u0.nbytes, (kept, overwritten)
    assert peak <= 8 * u0.nbytes  # the backward pass: gradients of a few arrays at a time


def test_written_buffer_loop_keeps_what_the_backward_reads():
    n, steps = 20_000, 50
    u0 = np.linspace(-1.0, 1.0, n)
    kept, _ = _saved_bytes(relax_with_buffer, u0, steps)
    # per step: buf's and u's old contents and tanh's result (its vjp reads it); not the
    # sums and products (constant factors: ghosts), nor np.roll's result (a linear rule:
    # its vjp reads shapes only)
    assert kept <= steps * (3 * u0.nbytes + 2_000) + 6 * u0.nbytes, kept


def test_heat_gradient_is_exact():
    u0 = np.linspace(0.0, 1.0, 12) ** 2
    assert_gradient_matches(heat, u0, 30)


# ---------------------------------------------------------------- where the shortcuts stop


class Keeper:
    """Keeps the array it is added to: that array's identity matters afterwards."""

    __array_ufunc__ = None  # NumPy defers to __radd__ (instead of adding item by item)

    def __init__(self):
        self.kept = None

    def __radd__(self, other):
        self.kept = other
        return other * 2.0


def temporary_kept_by_user_operator(x):
    k = Keeper()
    y = (x * 3.0) + k
    return np.sum(y * y) + np.sum(k.kept ** 3)


class Scaler:
    """Makes an array with a user __mul__ and keeps it too."""

    def __init__(self, s):
        self.s = s
        self.last = None

    def __mul__(self, other):
        out = other * self.s
        self.last = out
        return out


def temporary_made_by_user_operator(x):
    sc = Scaler(3.0)
    y = (sc * x) + x
    return np.sum(y * y) + np.sum(sc.last ** 2)


def container_rebound_in_expression(x):
    u = x * 1.0
    y = u[1:] + (u := u * 3.0)[:-1] * u[1:]
    return np.sum(y * u[1:])


def operands_read_by_their_operators(x, w):
    a = (x * 2.0) * (x + 1.0)       # both factors active: * reads both
    b = (x - 0.5) / (w * w + 1.0)   # / reads its divisor and its result
    c = (x * x) ** 1.5              # ** reads its base and its result
    d = (w * 2.0) @ (x + 1.0)       # @ reads both
    return np.sum(a * b) + np.sum(c) + d


def written_into_a_list(x):
    items = [None, None]
    items[0] = x * 2.0              # a list keeps the array itself
    items[1] = x + 1.0
    items[0][1] = 5.0               # ... which is written afterwards, through the list
    return np.sum(items[0] * items[1])


def view_of_a_view(x):
    u = x * 1.0
    v = u[1:]
    w = v[::2] * 2.0 + v[1::2]      # items of a view (not of an array owning memory)
    v[0] = np.sum(w)
    return np.sum(u * u)


def item_read_then_container_written(x):
    u = x * 1.0
    y = u[1:4] * 2.0 + u[0]         # u[1:4] is a view: written below before the backward
    u[1:4] = y * u[2:5]
    return np.sum(u * y[0])


CASES = [
    (temporary_kept_by_user_operator, (np.array([0.3, -0.7, 1.1]),)),
    (temporary_made_by_user_operator, (np.array([0.3, -0.7, 1.1]),)),
    (container_rebound_in_expression, (np.array([0.3, -0.7, 1.1, 0.4]),)),
    (operands_read_by_their_operators, (np.array([0.3, 0.7, 1.1]), np.array([0.2, -0.4, 0.9]))),
    (written_into_a_list, (np.array([0.3, -0.7, 1.1]),)),
    (view_of_a_view, (np.linspace(0.1, 1.3, 11),)),
    (item_read_then_container_written, (np.linspace(0.1, 1.3, 6),)),
    (relax_with_buffer, (np.linspace(-1.0, 1.0, 10), 4)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_shortcuts_stay_exact(program, args):
    assert_gradient_matches(program, *args)


def test_caller_array_after_gradient_is_as_a_plain_call_leaves_it():
    def scale_in_place(u, steps):
        for _ in range(steps):
            u[1:] = u[1:] * 0.5 + u[:-1]
        return np.sum(u)

    u = np.linspace(0.0, 1.0, 6)
    expected = u.copy()
    scale_in_place(expected, 3)
    pg.gradient(scale_in_place, u, 3)
    np.testing.assert_array_equal(u, expected)
    y, back = pg.pullback(scale_in_place, np.linspace(0.0, 1.0, 6), 3)
    first, second = back(1.0), back(1.0)  # back runs twice: the state is put back each time
    np.testing.assert_allclose(first[0], second[0])


def test_nothing_outlives_the_backward_pass():
    from pygote.runtime import shadows

    def through_views(x):
        u = x * 1.0
        v = u[1:]
        w = v[::2]
        return np.sum(w * w) + np.sum(v)

    pg.gradient(through_views, np.linspace(0.0, 1.0, 30))
    assert not shadows.current.shadows and not shadows.current.views
