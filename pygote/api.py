"""The transforms users call: gradient, pullback, grad, jacobian, show_adjoint, ...

Each runs the user's function through the dispatcher (so rules, methods, callable
objects and ``functools.partial`` work at the top level as they do inside), then runs the
recorded backward pass in a fresh shadow store and gathers the gradient of every argument
into the shape API.md promises.
"""

from __future__ import annotations

import dataclasses
import functools
from types import FunctionType
from typing import Any, Callable

import numpy as np

from pygote.errors import DifferentiationError
from pygote.rules.registry import DERIVATIVES, NONDIFFERENTIABLE, REPLACEMENTS, RULES
from pygote.transform.compile import _array_key, _sequence_key, adjoint_of as _adjoint_of
from pygote.runtime import dispatch, journal, shadows
from pygote.runtime.batched import Batched
from pygote.runtime.shadows import attributes
from pygote.runtime.structural import Structural
from pygote.runtime.values import _OPAQUE, contains_differentiable, fit, zeros_like

__all__ = [
    "gradient", "withgradient", "pullback", "vjp", "grad", "value_and_grad", "jacobian",
    "jacrev", "elementwise_grad", "show_adjoint",
]


def _name(f) -> str:
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


def _forward(f, args, kwargs):
    if not callable(f):
        raise DifferentiationError(f"pygote can only differentiate callables, not {type(f).__name__}.")
    return dispatch.call(f, *args, **kwargs)


def _backward(pb, args, dy):
    """Run a pullback in a fresh store; gradients of every positional argument."""
    store = shadows.current
    nested = bool(store.shadows)  # inside another backward pass: a store of our own
    if nested:
        store = shadows.push_store()
    try:
        if pb is None:
            cts = (None,) * len(args)
        else:
            cts, _ = pb(dy)
        memo: dict = {}
        return tuple(_gather(a, c, memo) for a, c in zip(args, cts))
    finally:
        if store.shadows or store.views:
            store.clear()
        if nested:
            shadows.pop_store()


_FLOAT_ONLY = {float}


def _gather(x, ct, memo):
    """The gradient of argument ``x``: its value cotangent plus its shadows, structurally."""
    if type(x) is float and type(ct) is float:
        return ct
    key = id(x)
    if key in memo:
        return memo[key]
    t = type(x)
    if t is float or t is complex or isinstance(x, np.generic):
        out = fit(ct, x)
        return zeros_like(x) if out is None else out
    if t is np.ndarray or isinstance(x, np.ndarray):
        if not issubclass(x.dtype.type, np.inexact):
            return None
        total = shadows.take(x, fit(ct, x))
        out = np.zeros_like(x) if total is None else fit(total, x)
        if type(out) is Batched:  # (one gradient per member: runtime/batched.py)
            memo[key] = out
            return out
        if out.base is not None or not out.flags.writeable:
            # a broadcast or a view of something else: hand the user an array of their own
            out = np.array(out, copy=True)
        memo[key] = out
        return out
    if t in (int, bool, str, bytes, type(None)):
        return None
    if isinstance(x, tuple):
        parts = tuple(_gather(xi, None if ct is None else ct[i], memo) for i, xi in enumerate(x))
        return type(x)(*parts) if hasattr(x, "_fields") else parts
    if isinstance(x, list):
        memo[key] = None
        ct = shadows.take(x, ct)
        if set(map(type, x)) == _FLOAT_ONLY:  # a list of floats: no recursion needed
            out = [0.0] * len(x) if ct is None else \
                [c if type(c) is float else 0.0 if c is None else fit(c, 0.0) for c in ct]
            memo[key] = out
            return out
        out = [_gather(xi, None if ct is None else ct[i], memo) for i, xi in enumerate(x)]
        memo[key] = out
        return out
    if isinstance(x, dict):
        memo[key] = None
        ct = shadows.take(x, ct)
        out = {k: _gather(v, None if ct is None else ct.get(k), memo) for k, v in x.items()}
        memo[key] = out
        return out
    if (hasattr(x, "__dict__") or hasattr(t, "__slots__")) and not isinstance(x, _OPAQUE):
        memo[key] = None
        ct = shadows.take(x, ct)
        fields = ct.fields if isinstance(ct, Structural) else (ct or {})
        grads = {k: _gather(v, fields.get(k), memo) for k, v in attributes(x).items()}
        if dataclasses.is_dataclass(x):
            out = object.__new__(type(x))
            for k, v in grads.items():
                object.__setattr__(out, k, v)
        else:
            out = Structural(grads, type(x))
        memo[key] = out
        return out
    return None


def _check_inputs(f, args):
    if args and not any(contains_differentiable(a) for a in args):
        kinds = ", ".join(type(a).__name__ for a in args)
        raise DifferentiationError(
            f"pygote cannot differentiate {_name(f)} with respect to arguments of type ({kinds}): "
            "none of them holds a float, a complex number or a float array. Pass floats "
            "(1.0, not 1), float arrays, or containers of them."
        )


def _seed_of(f, y, part):
    """The seed of the whole output, or of its item ``part`` (None for the others)."""
    if part is None:
        return _seed(f, y)
    return tuple(_seed(f, y[k]) if k == part else None for k in range(len(y)))


def _seed(f, y):
    """The cotangent 1 for a scalar real output, or an error that says what to use."""
    if type(y) is float or isinstance(y, (float, int)) and not isinstance(y, bool):
        return 1.0
    if isinstance(y, (np.ndarray, np.generic)) and np.ndim(y) == 0 and issubclass(
        np.asarray(y).dtype.type, np.floating
    ):
        return np.ones_like(y)
    if type(y) is Batched and y.shape == () and y.dtype.kind == "f":
        return 1.0  # (each member's: a batch of scalar outputs, runtime/batched.py)
    if isinstance(y, complex) or np.iscomplexobj(y):
        raise DifferentiationError(
            f"pg.gradient needs a real scalar output, but {_name(f)} returned a complex value. "
            "Differentiate a real function of it (abs(y)**2, y.real), or use "
            "pg.holomorphic_grad for a holomorphic function, or pg.pullback with a cotangent."
        )
    shape = getattr(y, "shape", None)
    raise DifferentiationError(
        f"pg.gradient needs a scalar output, but {_name(f)} returned a "
        f"{type(y).__name__}{f' of shape {shape}' if shape is not None else ''}. For a "
        "vector output use pg.jacobian(f)(x), or pg.pullback(f, x) and call back(dy) with a "
        "cotangent of the output's shape."
    )


# ---------------------------------------------------------------- Zygote style


def pullback(f: Callable, *args: Any, **kwargs: Any):
    """``(y, back)`` with ``back(dy)`` the cotangents of every positional argument.

    >>> y, back = pullback(lambda x: x * x, 3.0)
    >>> back(1.0)
    (6.0,)
    """
    entries = journal.start()
    try:
        y, pb = _forward(f, args, kwargs)
    finally:
        journal.stop()
    journal.seal(entries)

    def back(dy):
        grads = _backward(pb, args, dy)
        journal.replay(entries)  # the backward undid the writes: redo them
        return grads

    return y, back


vjp = pullback


def withgradient(f: Callable, *args: Any, **kwargs: Any):
    """``(f(*args), gradient(f, *args))`` in one pass."""
    return _value_and_gradients(f, args, kwargs)


def _value_and_gradients(f, args, kwargs, constant=(), has_aux=False, part=None):
    """Run ``f`` forward and backward from the seed 1; ``constant`` are argument positions
    whose gradients are not wanted (they are specialized away). With ``has_aux`` the
    output is ``(value, aux)``; ``part=k`` differentiates item ``k`` of a tuple output
    (a tangent function's ``(y, dy)``: ``part=1``)."""
    if has_aux:
        part = 0
    if (type(f) is not FunctionType or f in RULES or f in NONDIFFERENTIABLE
            or f.__code__ in DERIVATIVES or f in REPLACEMENTS):
        # callable objects, partials, functions with rules: through the dispatcher
        if not constant:
            _check_inputs(f, args)
        y, back = pullback(f, *args, **kwargs)
        return y, back(_seed_of(f, y, part))
    adjoint = _adjoint_of(f, args, kwargs, constant, True)
    outer_journal = journal.current
    journal.current = entries = []
    try:
        y, saved = adjoint.forward(*args, **kwargs)
    except dispatch.StaleTransform:
        journal.current = outer_journal
        y, back = pullback(f, *args, **kwargs)
        return y, back(_seed_of(f, y, part))
    finally:
        journal.current = outer_journal
    if entries:
        journal.seal(entries)
    dy = 1.0 if type(y) is float and part is None else _seed_of(f, y, part)
    store = shadows.current
    nested = bool(store.shadows)  # inside another backward pass: a store of our own
    if nested:
        store = shadows.push_store()
    try:
        cts, _ = adjoint.backward(saved, dy)
        if kwargs or len(args) != adjoint.n_positional:
            cts, _ = adjoint.to_call(cts, len(args), kwargs)
        if len(args) == 1 and type(cts[0]) is float and type(args[0]) is float:
            grads = (cts[0],)  # the scalar function of one scalar: nothing to gather
        else:
            memo: dict = {}
            grads = tuple([ct if type(ct) is float and type(a) is float else
                           None if i in constant else _gather(a, ct, memo)
                           for i, (a, ct) in enumerate(zip(args, cts))])
    finally:
        if store.shadows or store.views:
            store.clear()
        if nested:
            shadows.pop_store()
    if entries:
        journal.replay(entries)  # leave the caller's objects as a plain call leaves them
    if not constant and grads and grads[0] is None and all(g is None for g in grads):
        _check_inputs(f, args)
    return y, grads


# plain Python functions differentiated with respect to one positional argument, by
# identity: (code, defaults, adjoint, position, the kinds of the arguments: see _kind)
_ONE_ARGUMENT_PLANS: dict = {}
_ONE_FLOAT = (float,)


def _kind(a):
    """What the adjoint and the argument checks depend on, for the kinds of argument the
    short path takes: a float, an array (the key it was specialized by, its dtype), a
    list or tuple of floats, an int; else None."""
    t = type(a)
    if t is float or t is int:
        return t
    if t is np.ndarray:
        return _array_key(a), a.dtype
    if t is list or t is tuple:
        k = _sequence_key(a)
        return k if type(k) is tuple else None
    return None


def _one_argument_gradient(f, args, position, general):
    """``grad(f, argnums=position)(*args)``: the common case, where the fixed cost (cache
    key, argument checks, gathering every argument's gradient) would weigh on a gradient
    that costs microseconds (a scalar function's: a few hundred nanoseconds). Anything
    unusual takes the general path, ``general(*args)``: ``(value, gradient)``, which the
    first call of each kind of arguments takes too."""
    kinds = _ONE_FLOAT if len(args) == 1 and type(args[0]) is float else \
        tuple(map(_kind, args))
    plan = _ONE_ARGUMENT_PLANS.get(f)
    if plan is None or plan[0] is not f.__code__ or plan[1] is not f.__defaults__ \
            or plan[3] != position or plan[4] != kinds or shadows.current.shadows:
        y, g = general(*args)
        if (type(f) is FunctionType and not f.__code__.co_freevars and isinstance(y, float)
                and None not in kinds and kinds[position] is not int
                and f not in RULES and f not in NONDIFFERENTIABLE
                and f.__code__ not in DERIVATIVES and f not in REPLACEMENTS):
            if len(_ONE_ARGUMENT_PLANS) > 1024:
                _ONE_ARGUMENT_PLANS.clear()
            constant = tuple(i for i in range(len(args)) if i != position)
            _ONE_ARGUMENT_PLANS[f] = (f.__code__, f.__defaults__,
                                      _adjoint_of(f, args, {}, constant, True), position, kinds)
        return g
    adjoint = plan[2]
    outer_journal = journal.current
    journal.current = entries = []
    try:
        y, saved = adjoint.forward(*args)
    except dispatch.StaleTransform:
        journal.current = outer_journal
        del _ONE_ARGUMENT_PLANS[f]
        return general(*args)[1]
    finally:
        journal.current = outer_journal
    if entries:
        journal.seal(entries)
    if not isinstance(y, float):  # (a float, or a NumPy float64: its seed is 1.0)
        del _ONE_ARGUMENT_PLANS[f]
        return general(*args)[1]
    store = shadows.current
    x = args[position]
    try:
        ct = adjoint.backward(saved, 1.0)[0][position]
        if type(x) is float:
            g = ct if type(ct) is float else 0.0 if ct is None else float(ct)
        else:
            g = _gather(x, ct, {})
    finally:
        if store.shadows or store.views:
            store.clear()
    if entries:
        journal.replay(entries)
    return g


def _scalar_gradient(f, x):
    """``grad(f)(x)`` for a float ``x``: _one_argument_gradient's case where every
    nanosecond shows (a scalar function's gradient costs a few hundred), on its plans."""
    plan = _ONE_ARGUMENT_PLANS.get(f)
    if plan is None or plan[4] is not _ONE_FLOAT or plan[0] is not f.__code__ \
            or plan[1] is not f.__defaults__ or shadows.current.shadows:
        return _one_argument_gradient(f, (x,), 0, _general_of_one(f))
    adjoint = plan[2]
    outer_journal = journal.current
    journal.current = entries = []
    try:
        y, saved = adjoint.forward(x)
    except dispatch.StaleTransform:
        journal.current = outer_journal
        del _ONE_ARGUMENT_PLANS[f]
        return _scalar_gradient(f, x)
    finally:
        journal.current = outer_journal
    if entries:
        journal.seal(entries)
    if type(y) is not float:
        return _one_argument_gradient(f, (x,), 0, _general_of_one(f))
    g = adjoint.backward(saved, 1.0)[0][0]
    store = shadows.current
    if store.shadows or store.views:
        store.clear()
    if entries:
        journal.replay(entries)
    return g if type(g) is float else 0.0 if g is None else float(g)


def _general_of_one(f):
    """``pg.gradient``'s general path for one argument, in _one_argument_gradient's form."""
    def general(x):
        y, grads = _value_and_gradients(f, (x,), {})
        return y, grads[0]
    return general


def gradient(f: Callable, *args: Any, **kwargs: Any) -> tuple:
    """Gradient of scalar-valued ``f`` with respect to each positional argument.

    >>> import math
    >>> gradient(lambda x, y: x * math.sin(y), 2.0, 0.0)
    (0.0, 2.0)
    """
    if not kwargs and len(args) == 1:
        if type(args[0]) is float:
            return (_scalar_gradient(f, args[0]),)
        return (_one_argument_gradient(f, args, 0, _general_of_one(f)),)
    return _value_and_gradients(f, args, kwargs)[1]


# ---------------------------------------------------------------- JAX style


def _select(grads, argnums):
    if isinstance(argnums, int):
        return grads[argnums]
    return tuple(grads[i] for i in argnums)


def value_and_grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """``f`` -> a function returning ``(value, grad)`` (``((value, aux), grad)`` with aux)."""

    wanted = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    constants: dict = {}  # number of arguments -> the positions not wanted

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        for i in wanted:
            if i >= len(args):
                raise DifferentiationError(
                    f"argnums asks for argument {i} of {_name(f)}, but it was called with "
                    f"{len(args)} positional arguments.")
            a = args[i]
            if type(a) is not float and not contains_differentiable(a):
                raise DifferentiationError(
                    f"pygote cannot differentiate {_name(f)} with respect to argument {i}, a "
                    f"{type(a).__name__}: it holds no float, complex number or float "
                    "array. Pass a float (1.0, not 1) or a float array.")
        constant = constants.get(len(args))
        if constant is None:
            constant = constants[len(args)] = tuple(i for i in range(len(args))
                                                    if i not in wanted)
        y, grads = _value_and_gradients(f, args, kwargs, constant, has_aux)
        return y, _select(grads, argnums)

    wrapped._pygote_derivative = ("value_and_grad", f, argnums, has_aux)
    return wrapped


def _aux_pullback(pb):
    if pb is None:
        return None
    return lambda g: pb((g, None))


def grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """``f`` -> its gradient function (JAX / autograd style).

    >>> grad(lambda x: x ** 3)(2.0)
    12.0
    """
    vg = value_and_grad(f, argnums, has_aux)
    single = type(argnums) is int and argnums >= 0 and not has_aux
    simple = single and argnums == 0

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if simple and not kwargs and len(args) == 1 and type(args[0]) is float:
            return _scalar_gradient(f, args[0])
        if single and not kwargs and argnums < len(args):
            return _one_argument_gradient(f, args, argnums, vg)
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    wrapped._pygote_derivative = ("grad", f, argnums, has_aux)
    return wrapped


def jacobian(f: Callable, argnums=0, holomorphic: bool = False) -> Callable:
    """``f`` -> its Jacobian, of shape ``out.shape + in.shape`` (reverse mode, row by row).

    Row ``k`` is the pullback of the ``k``-th unit cotangent. For complex values that is,
    by pygote's convention, the gradient ``d/dx + 1j*d/dy`` of ``Re(y_k)``, which is
    ``conj(dy_k/dz)`` when ``f`` is holomorphic. With ``holomorphic=True`` the rows are
    conjugated, so the result is the complex Jacobian ``J[k, j] = dy_k/dz_j`` of a
    holomorphic ``f`` (real float arguments are promoted to complex first):

    >>> jacobian(lambda z: z ** 2, holomorphic=True)(np.array([1 + 1j, 2j]))
    array([[2.+2.j, 0.+0.j],
           [0.+0.j, 0.+4.j]])
    """

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if holomorphic:
            from pygote.rules.complex_ import as_complex

            wanted = (argnums,) if isinstance(argnums, int) else tuple(argnums)
            args = tuple(as_complex(a) if i in wanted else a for i, a in enumerate(args))
        y, back = pullback(f, *args, **kwargs)
        y_arr = np.asarray(y)
        wanted = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        rows = {i: [] for i in wanted}
        for k in range(max(y_arr.size, 1)):
            dy = np.zeros(y_arr.shape, dtype=y_arr.dtype if np.issubdtype(y_arr.dtype, np.inexact) else float)
            dy.flat[k] = 1.0
            seed = dy if isinstance(y, np.ndarray) else type(y)(dy.reshape(()).item()) \
                if isinstance(y, (float, complex)) else dy
            grads = back(seed)
            for i in wanted:
                row = np.asarray(grads[i])
                rows[i].append(np.conj(row) + 0 if holomorphic else row)  # + 0: no -0j
        out = tuple(np.stack(rows[i]).reshape(y_arr.shape + np.shape(args[i])) for i in wanted)
        return out[0] if isinstance(argnums, int) else out

    return wrapped


jacrev = jacobian


def elementwise_grad(f: Callable, argnums=0) -> Callable:
    """Gradient of ``sum(f(x))``: the derivative of an elementwise ``f``."""

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        y, back = pullback(f, *args, **kwargs)
        grads = back(np.ones_like(y) if isinstance(y, np.ndarray) else 1.0)
        return _select(grads, argnums)

    return wrapped


# ---------------------------------------------------------------- inspecting


def show_adjoint(f: Callable, *example_args: Any) -> str:
    """The generated forward and backward source of ``f``, with ``# line N:`` comments
    (and, for a function that calls itself, the pullback its recursive calls enter).

    Give example arguments to see the version specialized for them (scalar parameters get
    inline adjoints). The text is also printed.
    """
    from pygote.frontend.source import unwrap
    from pygote.transform.compile import adjoint_of

    fn = unwrap(f)
    if not hasattr(fn, "__code__"):
        raise DifferentiationError(f"pg.show_adjoint needs a Python function, not {_name(f)}.")
    adjoint = adjoint_of(fn, example_args)
    gen = adjoint.generated
    lines = adjoint.source.lines
    out = []
    pieces = [(gen.forward, gen.forward_lines), (gen.backward, gen.backward_lines)]
    if gen.pullback:  # a recursive function's backward as its own recursive calls enter it
        pieces.append((gen.pullback, gen.pullback_lines))
    for text, origin in pieces:
        last = None
        for line, lineno in zip(text.split("\n"), origin):
            if (lineno != last and not line.startswith("def ") and 0 < lineno <= len(lines)
                    and lineno != adjoint.source.firstlineno):  # prologue and epilogue
                indent = line[: len(line) - len(line.lstrip())]
                out.append(f"{indent}# line {lineno}: {lines[lineno - 1].strip()}")
            last = lineno
            out.append(line)
        out.append("")
    text = "\n".join(out)
    print(text)
    return text

