"""NumPy operations that write into an existing array: ``out=``, ``np.copyto``,
``ndarray.fill``, ``np.put``, ``np.fill_diagonal``, ``np.add.at``/``subtract.at``/``multiply.at``,
in-place ``ndarray.sort``.

Each is seen as ``target = F(target_before, inputs)``. The forward saves the target's
contents, writes, and journals the write; the pullback reads the target's gradient ``G``
(a snapshot of its shadow), sets the shadow to the gradient of the contents before,
restores them, and returns the inputs' cotangents. Every function here returns
``(ans, pullback)`` like the dispatcher, with ``pullback(g) -> (cotangents, None)``.
"""

from __future__ import annotations

import numpy as np

from pygote.runtime import journal
from pygote.runtime.shadows import peek, set_shadow

__all__ = ["with_out", "copyto", "fill", "put", "fill_diagonal", "ufunc_at", "sort"]


def _write(target, function, *args, **kwargs):
    """Save ``target``, run the write, journal it; returns the saved contents."""
    old = target.copy()
    function(*args, **kwargs)
    journal.wrote(target)
    return old


def _gradient(target):
    """A snapshot of the target's gradient (zeros if it has none)."""
    shadow = peek(target)
    return np.zeros_like(target) if shadow is None else shadow.copy()


def _undo(target, old, before):
    """The target's gradient becomes ``before`` (the contents' before the write); restore."""
    set_shadow(target, before)
    target[...] = old


def with_out(ufunc, rule, args, kwargs):
    """``ufunc(*args, out=target)``: the target is overwritten by the ufunc's result."""
    out = kwargs["out"]
    target = out[0] if isinstance(out, tuple) else out
    pure_kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    if "where" in pure_kwargs:
        raise NotImplementedError("out= together with where=")
    old = target.copy()
    ans = ufunc(*args, **kwargs)
    for written in out if isinstance(out, tuple) else (out,):
        journal.wrote(written)
    value = ufunc(*[old if a is target else a for a in args], **pure_kwargs)

    def pullback(g):
        # the call's result is the target itself: its gradient arrives as g (taken from
        # the shadow by the statement that made it), or is still in the shadow
        G = _gradient(target) if g is None else g + _gradient(target)
        _undo(target, old, None)  # fully overwritten: no gradient to its old contents
        inputs = [old if a is target else a for a in args]
        cts = rule.vjp(G, value, *inputs, **pure_kwargs)
        return cts, None

    return ans, pullback


def copyto(dst, src, casting="same_kind", where=True):
    old = _write(dst, np.copyto, dst, src, casting=casting, where=where)

    def pullback(g):
        G = _gradient(dst)
        keep = np.broadcast_to(~np.asarray(where, dtype=bool), dst.shape)
        _undo(dst, old, np.where(keep, G, 0))
        return (None, np.where(keep, 0, G)), None

    return None, pullback


def fill(a, value):
    old = _write(a, a.fill, value)

    def pullback(g):
        G = _gradient(a)
        _undo(a, old, None)
        return (None, G.sum()), None

    return None, pullback


def put(a, ind, v, mode="raise"):
    if mode == "clip":
        raise NotImplementedError("np.put(..., mode='clip')")
    old = _write(a, np.put, a, ind, v, mode=mode)
    flat = np.asarray(ind) % a.size  # negative indices and mode="wrap" alike

    def pullback(g):
        G = _gradient(a)
        ct_v = G.reshape(-1)[flat]
        before = G.copy()
        before.reshape(-1)[flat] = 0
        _undo(a, old, before)
        return (None, None, ct_v), None

    return None, pullback


def fill_diagonal(a, val, wrap=False):
    old = _write(a, np.fill_diagonal, a, val, wrap=wrap)
    mask = np.zeros(a.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)

    def pullback(g):
        G = _gradient(a)
        _undo(a, old, np.where(mask, 0, G))
        on_diagonal = G[mask]
        ct = on_diagonal.sum() if np.ndim(val) == 0 else on_diagonal[: np.size(val)]
        return (None, ct), None

    return None, pullback


def ufunc_at(ufunc, a, indices, b=None):
    """``np.add.at(a, indices, b)`` and ``np.subtract.at``: unbuffered scatter."""
    if ufunc is np.multiply:
        return _multiply_at(a, indices, b)
    if ufunc not in (np.add, np.subtract):
        raise NotImplementedError(f"{ufunc.__name__}.at")
    old = _write(a, ufunc.at, a, indices, b)
    sign = 1.0 if ufunc is np.add else -1.0

    def pullback(g):
        G = _gradient(a)
        _undo(a, old, G)  # a + scatter(b): the old contents keep the whole gradient
        ct_b = None if b is None else sign * G[indices]
        return (None, None, ct_b), None

    return None, pullback


def _multiply_at(a, indices, b):
    """``np.multiply.at(a, indices, b)``: entry ``p`` of ``a`` is multiplied by every
    ``b_k`` whose index is ``p``, in order (repeated indices compound)."""
    positions = np.arange(a.size).reshape(a.shape)[indices].ravel()
    factors = np.broadcast_to(b, a[indices].shape).ravel()
    old = _write(a, np.multiply.at, a, indices, b)

    def pullback(g):
        G = _gradient(a)
        total = np.ones(a.size, dtype=np.result_type(a, factors))
        np.multiply.at(total, positions, factors)
        before = G * np.conj(total.reshape(a.shape))
        # d b_k = G[p] * old[p] * (product of the other factors landing on p)
        groups: dict = {}
        for k, p in enumerate(positions.tolist()):
            groups.setdefault(p, []).append(k)
        others = np.ones(factors.shape, dtype=total.dtype)
        for ks in groups.values():
            for k in ks:
                for j in ks:
                    if j != k:
                        others[k] *= factors[j]
        flat_old, flat_G = old.reshape(-1), G.reshape(-1)
        ct_b = flat_G[positions] * np.conj(flat_old[positions] * others)
        _undo(a, old, before)
        return (None, None, ct_b.reshape(a[indices].shape)), None

    return None, pullback


def sort(a, axis=-1, kind=None, order=None):
    order_index = np.argsort(a, axis=axis, kind=kind or "stable")
    old = _write(a, a.sort, axis=axis, kind=kind, order=order)

    def pullback(g):
        G = _gradient(a)
        before = np.zeros_like(G)
        np.put_along_axis(before, order_index, G, axis=axis)
        _undo(a, old, before)
        return (None,), None

    return None, pullback

