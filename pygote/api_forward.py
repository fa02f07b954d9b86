"""Forward mode's public functions: ``jvp``, ``pushforward``, ``jacfwd``, ``show_jvp``.

``pg.jvp(f, primals, tangents)`` runs ``f``'s tangent function (``pygote.transform.forward``)
once: the result and the directional derivative come out together, in one pass over
``f``, with no tape.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from pygote.errors import DifferentiationError
from pygote.runtime import tangents as _t

__all__ = ["jvp", "pushforward", "jacfwd", "show_jvp", "forwarddiff"]


def _run(f, primals, tangents, kwargs=None):
    if len(tangents) != len(primals):
        raise TypeError(f"pg.jvp: {len(primals)} primals but {len(tangents)} tangents; give "
                        "one tangent per primal (None or zeros for a constant).")
    _t.push_table()
    try:
        targs = tuple(_t.as_tangent(t, x) for t, x in zip(tangents, primals))
        for x, d in zip(primals, targs):
            _t.register(x, d)
        y, dy = _t.call(f, tuple(primals), targs, kwargs)
        return y, _t.output(dy, y)
    finally:
        _t.pop_table()


def jvp(f: Callable, primals, tangents) -> tuple:
    """``(f(*primals), J @ tangents)``: the Jacobian-vector product, in one forward pass.

    >>> jvp(lambda x: x ** 3, (2.0,), (1.0,))
    (8.0, 12.0)
    """
    return _run(f, tuple(primals), tuple(tangents))


def pushforward(f: Callable, *args: Any, **kwargs: Any):
    """``(f(*args), push)`` where ``push(*tangents)`` is the directional derivative."""
    y = f(*args, **kwargs)

    def push(*tangents):
        return _run(f, args, tangents, kwargs or None)[1]

    return y, push


def jacfwd(f: Callable, argnums=0) -> Callable:
    """``f`` -> its Jacobian, of shape ``out.shape + in.shape`` (forward mode: the better
    choice when inputs are fewer than outputs). Every column in one pass, the unit
    directions batched (``runtime/batched.py``); where an operation cannot keep them
    apart, one pass per column."""
    from pygote.runtime.batched import attempt, unit_batch, unit_directions

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        wanted = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        out = []
        for i in wanted:
            x = args[i]
            xa = np.asarray(x)
            dtype = xa.dtype if np.issubdtype(xa.dtype, np.inexact) else np.dtype(float)
            jac = None
            if type(x) is np.ndarray and x.size > 1:
                batch = [None] * len(args)
                batch[i] = unit_batch(x, dtype)
                done, ran = attempt(lambda a, t=batch: _run(f, a, t, kwargs or None), args)
                jac = _batched_columns(*ran, x) if done else None
            if jac is None:
                columns = []
                y = None
                for direction in unit_directions(x, dtype):
                    tangents = [None] * len(args)
                    tangents[i] = direction
                    y, dy = _run(f, args, tangents, kwargs or None)
                    columns.append(np.asarray(dy))
                jac = np.stack(columns, axis=-1).reshape(np.shape(y) + xa.shape)
            out.append(jac if jac.ndim else jac[()])
        return out[0] if isinstance(argnums, int) else tuple(out)

    return wrapped


def _batched_columns(y, dy, x):
    """The Jacobian from one forward pass with the unit directions batched (``dy``), or
    None when its tangent is not one batch of the output's shape."""
    from pygote.runtime.batched import Batched

    ya = np.asarray(y)
    if type(dy) is Batched and dy.shape == ya.shape:
        columns = dy.data
    elif isinstance(dy, (np.ndarray, np.generic, float)) and np.shape(dy) == ya.shape:
        columns = np.broadcast_to(dy, (x.size,) + ya.shape)  # (the same for every column)
    else:
        return None
    return np.moveaxis(np.asarray(columns), 0, -1).reshape(ya.shape + x.shape)


def show_jvp(f: Callable, *example_args: Any) -> str:
    """The generated tangent function of ``f``, with ``# line N:`` comments (also printed)."""
    from pygote.frontend.source import unwrap
    from pygote.transform.compile import _FORWARD_CACHE, tangent_of

    fn = unwrap(f)
    if not hasattr(fn, "__code__"):
        raise DifferentiationError(f"pg.show_jvp needs a Python function, not {f!r}.")
    tangent_of(fn, example_args)
    entry = next(e for e in reversed(list(_FORWARD_CACHE.values())) if e.code is fn.__code__)
    gen = entry.generated
    lines = entry.source.lines
    out, last = [], None
    for line, lineno in zip(gen.source.split("\n"), gen.lines):
        if (lineno != last and not line.startswith("def ") and 0 < lineno <= len(lines)
                and lineno != entry.source.firstlineno):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# line {lineno}: {lines[lineno - 1].strip()}")
        last = lineno
        out.append(line)
    text = "\n".join(out) + "\n"
    print(text)
    return text


# ---------------------------------------------------------------- mixed mode


def forwarddiff(f: Callable, *args: Any):
    """``f(*args)``; inside a reverse-mode program, ``f`` is differentiated in forward
    mode (its Jacobian, one forward pass per input entry) and the Jacobian is applied in
    the backward pass: the Zygote paper's mixed-mode lever for functions with few inputs
    and many intermediate operations (no tape for ``f``'s inside).

    >>> import pygote as pg, math
    >>> pg.gradient(lambda x: pg.forwarddiff(lambda t: math.sin(t) * t, x) * 2.0, 0.5)[0]
    ... # doctest: +ELLIPSIS
    1.836...
    """
    return f(*args)


def _forwarddiff_record(args, kwargs):
    from pygote.runtime.values import is_differentiable

    f, xs = args[0], tuple(args[1:])
    y = None
    jacobians = []
    for i, x in enumerate(xs):
        if not is_differentiable(x):
            jacobians.append(None)
            continue
        xa = np.asarray(x)
        columns = []
        for k in range(max(xa.size, 1)):
            e = np.zeros(xa.shape, dtype=xa.dtype)
            e.flat[k] = 1.0
            tangents = [None] * len(xs)
            tangents[i] = type(x)(e.reshape(()).item()) if isinstance(x, (float, complex)) else e
            y, dy = _run(f, xs, tangents, kwargs or None)
            columns.append(np.asarray(dy))
        jacobians.append(np.stack(columns, axis=-1))  # out.shape + (x.size,)
    if y is None:
        y = f(*xs, **kwargs)

    def pullback(g):
        if g is None:
            return (None,) * len(args), None
        g = np.asarray(g)
        cts = [None]
        for x, jac in zip(xs, jacobians):
            if jac is None:
                cts.append(None)
                continue
            ct = np.tensordot(g, np.conj(jac), axes=(list(range(g.ndim)), list(range(g.ndim))))
            cts.append(ct.reshape(np.shape(x)) if np.ndim(x) else ct.reshape(()).item())
        return tuple(cts), None

    return y, pullback


def _forwarddiff_forward(args, targs, kwargs, tkw):
    return _t.call(args[0], tuple(args[1:]), tuple(targs[1:]), kwargs or None, tkw)


def _register():
    from pygote.rules import registry

    registry.defrecord(forwarddiff, _forwarddiff_record)
    registry.defforward(forwarddiff, _forwarddiff_forward)


_register()
