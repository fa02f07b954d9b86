"""Checkpointing: trade recomputation for memory in reverse mode.

- ``pg.checkpoint(f)``: calls of the wrapper run ``f`` plainly (nothing is kept but the
  arguments); the backward pass runs ``f`` again, recording, and pulls back through that.
- ``pg.checkpoint_loop(step, state, n_steps)``: ``for _ in range(n_steps): state =
  step(state)`` whose backward pass follows a binomial (revolve) schedule (Griewank and
  Walther, "Algorithm 799: revolve", 2000): with ``s`` snapshots of the state, at most
  ``s`` states are kept at any time and each step is recomputed about ``r`` times, where
  ``C(s + r, s) >= n_steps``. Memory grows with ``s``, not with ``n_steps``.

In forward mode both are plain calls (tangents need no memory of the past).
``f`` and ``step`` must not mutate their arguments (they run more than once).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from pygote.rules import registry

__all__ = ["checkpoint", "checkpoint_loop"]


class Checkpointed:
    """``f``, differentiated by recomputation."""

    def __init__(self, f: Callable) -> None:
        self.f = f
        self.__wrapped__ = f
        self.__name__ = getattr(f, "__name__", "checkpointed")
        self.__doc__ = getattr(f, "__doc__", None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.f(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<pygote.checkpoint {getattr(self.f, '__qualname__', self.f)!r}>"


def checkpoint(f: Callable) -> Checkpointed:
    """``f`` whose intermediates are not stored: recomputed in the backward pass.

    >>> import pygote as pg, numpy as np
    >>> layer = pg.checkpoint(lambda x: np.tanh(x) * 2.0)
    >>> float(pg.grad(lambda x: np.sum(layer(x)))(np.zeros(3))[0])
    2.0
    """
    return Checkpointed(f)


def _checkpoint_record(args, kwargs):
    from pygote.runtime import dispatch

    me, args = args[0], args[1:]
    ans = me.f(*args, **kwargs)  # plainly: nothing recorded, nothing kept

    def pullback(g):
        _, pb = dispatch.call(me.f, *args, **kwargs)  # again, recording
        if pb is None:
            return (None,) * (len(args) + 1), None
        cts, kw = pb(g)
        return (None,) + tuple(cts), kw

    return ans, pullback


def _checkpoint_forward(args, targs, kwargs, tkw):
    from pygote.runtime import tangents

    return tangents.call(args[0].f, tuple(args[1:]), tuple(targs[1:]), kwargs or None, tkw)


def checkpoint_loop(step: Callable, state: Any, n_steps: int, snapshots: int | None = None,
                    policy: str = "revolve"):
    """``for _ in range(n_steps): state = step(state)``, returning the final state; its
    reverse pass keeps at most ``snapshots`` states (default ``ceil(log2(n_steps))``) and
    recomputes steps by the binomial schedule instead of storing each step's intermediates.
    ``policy`` names the schedule: ``"revolve"`` (alias ``"binomial"``), the only one.

    >>> import pygote as pg
    >>> pg.gradient(lambda x: pg.checkpoint_loop(lambda s: s * 1.01, x, 100), 1.0)[0]
    ... # doctest: +ELLIPSIS
    2.704...
    """
    _check_policy(policy)
    for _ in range(n_steps):
        state = step(state)
    return state


def _check_policy(policy):
    if policy not in ("revolve", "binomial"):
        raise ValueError(f"pg.checkpoint_loop: unknown policy {policy!r}; the schedule is "
                         "'revolve' (binomial checkpointing)")


def _advance(step, state, k):
    for _ in range(k):
        state = step(state)
    return state


def _binomial_steps(s: int, n: int) -> int:
    """The fewest repetitions ``r`` with ``C(s + r, s) >= n``."""
    r = 0
    while math.comb(s + r, s) < n:
        r += 1
    return r


def _back_through(step, state, g):
    """The cotangent of ``state`` from one recorded step with output cotangent ``g``."""
    from pygote.runtime import dispatch, shadows

    _, pb = dispatch.call(step, state)
    if pb is None:
        return None
    ct = pb(g)[0][0]
    return shadows.take(state, ct)  # a mutable state's cotangent waits in its shadow


def _reverse(step, a, b, state_a, g, s):
    """Pull ``g`` (the cotangent of the state after step ``b``) back to step ``a``."""
    if g is None:
        return None
    n = b - a
    if n == 1:
        return _back_through(step, state_a, g)
    if s <= 0:  # no snapshot left: recompute each step from a, last first
        for i in range(b - 1, a - 1, -1):
            g = _back_through(step, _advance(step, state_a, i - a), g)
        return g
    r = _binomial_steps(s, n)
    # the first part must be reversible with s snapshots and one repetition fewer
    first = max(1, min(n - 1, math.comb(s + r - 1, s)))
    m = a + first
    state_m = _advance(step, state_a, first)
    g = _reverse(step, m, b, state_m, g, s - 1)
    del state_m
    return _reverse(step, a, m, state_a, g, s)


def _loop_record(args, kwargs):
    step, state, n_steps = args[:3]
    snapshots = args[3] if len(args) > 3 else kwargs.get("snapshots")
    _check_policy(args[4] if len(args) > 4 else kwargs.get("policy", "revolve"))
    if snapshots is None:
        snapshots = max(1, math.ceil(math.log2(max(n_steps, 2))))
    final = _advance(step, state, n_steps)

    def pullback(g):
        if n_steps == 0:
            return (None, g, None) + (None,) * (len(args) - 3), None
        ct = _reverse(step, 0, n_steps, state, g, snapshots)
        return (None, ct, None) + (None,) * (len(args) - 3), None

    return final, pullback


def _loop_forward(args, targs, kwargs, tkw):
    from pygote.runtime import tangents

    step, state, n_steps = args[:3]
    dstate = targs[1]
    for _ in range(n_steps):
        state, dstate = tangents.call(step, (state,), (dstate,))
    return state, dstate


registry.defrecord(Checkpointed.__call__, _checkpoint_record)
registry.defforward(Checkpointed.__call__, _checkpoint_forward)
registry.defrecord(checkpoint_loop, _loop_record)
registry.defforward(checkpoint_loop, _loop_forward)
