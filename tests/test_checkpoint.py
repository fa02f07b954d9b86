"""Checkpointing: recomputation instead of storage, with unchanged gradients; a
binomial schedule keeps the peak memory of a long loop's gradient small."""

import tracemalloc

import numpy as np
import pytest

import pygote as pg

H = 1e-6


def test_checkpoint_recomputes_and_keeps_the_gradient():
    calls = []

    @pg.nondifferentiable  # a side effect the differentiator leaves alone
    def count():
        calls.append(1)

    def block(x, w):
        count()
        h = np.tanh(x * w)
        return np.sin(h) * x

    cblock = pg.checkpoint(block)

    def loss(x, w, f):
        return np.sum(f(f(x, w), w) ** 2)

    x = np.array([0.3, -0.8, 1.2])
    w = np.array([0.5, 1.5, -0.7])
    plain = pg.gradient(loss, x, w, block)
    calls.clear()
    checked = pg.gradient(loss, x, w, cblock)
    assert len(calls) == 4  # two blocks forward, then each again in the backward pass
    for a, b in zip(plain[:2], checked[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    v = np.array([1.0, -0.5, 0.25])
    fd = (loss(x + H * v, w, block) - loss(x - H * v, w, block)) / (2 * H)
    assert np.dot(checked[0], v) == pytest.approx(fd, rel=1e-6)


def test_checkpoint_of_a_closure_and_in_forward_mode():
    scale = np.array([2.0, 3.0])
    f = pg.checkpoint(lambda x: np.exp(x) * scale)
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(pg.grad(lambda t: np.sum(f(t)))(x), np.exp(x) * scale)
    np.testing.assert_allclose(pg.jvp(f, (x,), (np.ones(2),))[1], np.exp(x) * scale)


def heat_step(u):
    out = u.copy()
    out[1:-1] = u[1:-1] + 0.1 * (u[2:] - 2 * u[1:-1] + u[:-2]) + 0.001 * np.sin(u[1:-1])
    return out


def plain_loop(u0, n):
    u = u0
    for _ in range(n):
        u = heat_step(u)
    return np.sum(u ** 2)


def scheduled_loop(u0, n, snapshots=None):
    return np.sum(pg.checkpoint_loop(heat_step, u0, n, snapshots) ** 2)


@pytest.mark.parametrize("n, snapshots", [(1, 1), (7, 1), (13, 2), (40, 3), (64, None)])
def test_checkpoint_loop_gradient_equals_the_plain_loop(n, snapshots):
    u0 = np.sin(np.linspace(0, 3, 12))
    g_plain = pg.grad(plain_loop)(u0, n)
    g_sched = pg.grad(scheduled_loop)(u0, n, snapshots)
    np.testing.assert_allclose(g_sched, g_plain, rtol=1e-12, atol=1e-14)
    v = np.cos(np.arange(12.0))
    fd = (plain_loop(u0 + H * v, n) - plain_loop(u0 - H * v, n)) / (2 * H)
    assert np.dot(g_sched, v) == pytest.approx(fd, rel=1e-6)


def test_checkpoint_loop_in_forward_mode():
    u0 = np.sin(np.linspace(0, 3, 12))
    v = np.cos(np.arange(12.0))
    fd = (scheduled_loop(u0 + H * v, 20) - scheduled_loop(u0 - H * v, 20)) / (2 * H)
    assert pg.jvp(lambda u: scheduled_loop(u, 20), (u0,), (v,))[1] == pytest.approx(fd, rel=1e-6)


def _peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_binomial_schedule_cuts_peak_memory_tenfold():
    # 2 000 steps on a 10 000-element state: the plain gradient keeps every step's
    # intermediates; the schedule keeps ceil(log2(2000)) = 11 snapshots
    n, size = 2000, 10_000
    u0 = np.sin(np.linspace(0, 3, size))
    g_plain, peak_plain = _peak(lambda: pg.grad(plain_loop)(u0, n))
    g_sched, peak_sched = _peak(lambda: pg.grad(scheduled_loop)(u0, n))
    np.testing.assert_allclose(g_sched, g_plain, rtol=1e-10, atol=1e-12)
    assert peak_sched <= peak_plain / 10, (peak_sched, peak_plain)


def test_checkpoint_loop_policy_keyword():
    u0 = np.sin(np.linspace(0, 3, 12))
    g = pg.grad(lambda u: np.sum(pg.checkpoint_loop(heat_step, u, 9, 2, policy="binomial") ** 2))
    np.testing.assert_allclose(g(u0), pg.grad(plain_loop)(u0, 9), rtol=1e-12)
    with pytest.raises(ValueError, match="policy"):
        pg.checkpoint_loop(heat_step, u0, 3, policy="sqrt")
