"""The dispatcher: every call in generated code that is not written inline comes here.

``call(f, *args, **kwargs) -> (ans, pullback or None)`` tries, in order (DESIGN.md):
1. a rule registered for ``f`` (a vjp in ``pygote.rules``);
2. a Python function with source: transformed (once per code object) and run;
3. a known non-differentiable function: called plainly, nothing recorded;
4. otherwise, if an argument carries a gradient, ``DifferentiationError`` naming the
   function, the user's file and line, and the ways out.
``pullback(g) -> (cotangents of the positional arguments, cotangents of the keyword
arguments as a dict or None)``. Gradients of mutable arguments go to their shadows
(``pygote.runtime.shadows``), so their entries in the tuple may be ``None``.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import types

import numpy as np

from pygote.errors import DifferentiationError, where
from pygote.rules.registry import NONDIFFERENTIABLE, REPLACEMENTS, RULES
from pygote.runtime.shadows import acc, peek, take
from pygote.runtime.values import contains_differentiable, is_differentiable

__all__ = ["call", "call_method", "GENERATED_CODES", "transform_hook"]

FunctionType = types.FunctionType
MethodType = types.MethodType
ModuleType = types.ModuleType
BuiltinMethod = types.BuiltinMethodType

# code objects of generated forward functions, to find the user's line on errors
GENERATED_CODES: set = set()
# set by pygote.transform.compile: fn, args -> Adjoint
transform_hook = None


def call(f, *args, **kwargs):
    """Call ``f`` recording what its backward pass needs: ``(ans, pullback or None)``."""
    try:
        rule = RULES.get(f)
    except TypeError:
        rule = None
    if rule is not None and rule.vjp is not None:
        ans = f(*args, **kwargs)
        return ans, _rule_pullback(rule, ans, args, kwargs)
    t = type(f)
    if t is FunctionType:
        replacement = None
    else:
        try:
            replacement = REPLACEMENTS.get(f)
        except TypeError:
            replacement = None
    if replacement is not None:
        f, t = replacement, FunctionType
    if t is FunctionType:
        return _call_python(f, args, kwargs)
    if t is MethodType:
        return _shifted(call(f.__func__, f.__self__, *args, **kwargs), f.__self__)
    try:
        if f in NONDIFFERENTIABLE:
            return f(*args, **kwargs), None
    except TypeError:
        pass
    if t is BuiltinMethod and not isinstance(f.__self__, ModuleType) and f.__self__ is not None:
        return _shifted(call_method(f.__self__, f.__name__, *args, **kwargs), f.__self__)
    if t is functools.partial:
        ans, pb = call(f.func, *f.args, *args, **{**f.keywords, **kwargs})
        return ans, None if pb is None else _drop_leading(pb, len(f.args))
    if isinstance(f, type):
        return _construct(f, args, kwargs)
    if isinstance(f, (staticmethod, classmethod)):
        return call(f.__func__, *args, **kwargs)
    method = getattr(t, "__call__", None)
    if type(method) is FunctionType:
        return _shifted(call(method, f, *args, **kwargs), f)
    return _no_rule(f, args, kwargs)


def _shifted(result, receiver):
    """A call made with an extra leading argument: its cotangent goes to ``receiver``."""
    ans, pb = result
    if pb is None:
        return ans, None

    def pullback(g):
        cts, kw = pb(g)
        acc(receiver, None, cts[0])
        return cts[1:], kw

    return ans, pullback


def _drop_leading(pb, n):
    def pullback(g):
        cts, kw = pb(g)
        return cts[n:], kw

    return pullback


def _rule_pullback(rule, ans, args, kwargs):
    vjps = rule.per_arg
    if vjps is None:
        vjp = rule.vjp
        return lambda g: (vjp(g, ans, *args, **kwargs) if g is not None else
                          (None,) * len(args), None)

    def pullback(g):
        if g is None:
            return (None,) * len(args), None
        return tuple(
            vjps[i](g, ans, *args, **kwargs)
            if i < len(vjps) and vjps[i] is not None and _may_carry(a) else None
            for i, a in enumerate(args)
        ), None

    return pullback


def _may_carry(x) -> bool:
    t = type(x)
    if t is float or t is complex:
        return True
    if t is int or t is bool or t is str or x is None:
        return False
    if isinstance(x, (np.ndarray, np.generic)):
        return issubclass(x.dtype.type, np.inexact)
    return True


def _call_python(f, args, kwargs):
    adjoint = transform_hook(f, args)
    ans, saved = adjoint.forward(*args, **kwargs)
    cells = f.__closure__

    def pullback(g):
        cts, free_cts = adjoint.backward(saved, g)
        if free_cts is not None and cells is not None:
            for cell, ct in zip(adjoint.free_cells(cells), free_cts):
                if ct is not None and cell is not None:
                    acc(cell, None, ct)
        return adjoint.to_call(cts, len(args), kwargs)

    return ans, pullback


# ---------------------------------------------------------------- methods


def call_method(obj, name, *args, **kwargs):
    """``obj.name(*args, **kwargs)`` recorded; the receiver's cotangent is ``cts[0]``."""
    t = type(obj)
    if t is ModuleType:
        f = getattr(obj, name)
        ans, pb = call(f, *args, **kwargs)
        return ans, None if pb is None else _with_receiver(pb)
    mutator = _METHODS.get((t, name))
    if mutator is not None:
        return mutator(obj, *args, **kwargs)
    descriptor = getattr(t, name, None)
    d = getattr(obj, "__dict__", None)
    if d is not None and name in d:  # a callable stored on the instance
        ans, pb = call(d[name], *args, **kwargs)
        return ans, None if pb is None else _with_receiver(pb)
    if type(descriptor) is FunctionType:
        return call(descriptor, obj, *args, **kwargs)
    if descriptor is not None and not isinstance(descriptor, (staticmethod, classmethod)):
        try:
            rule = RULES.get(descriptor)
        except TypeError:
            rule = None
        if rule is not None and rule.vjp is not None:
            return call(descriptor, obj, *args, **kwargs)
        try:
            if descriptor in NONDIFFERENTIABLE:
                return descriptor(obj, *args, **kwargs), None
        except TypeError:
            pass
    bound = getattr(obj, name)
    if isinstance(obj, type) or type(bound) is not BuiltinMethod:
        ans, pb = call(bound, *args, **kwargs)
        if pb is None:
            return ans, None
        if type(bound) is MethodType and bound.__self__ is obj:
            return ans, _receiver_via_self(pb)
        return ans, _with_receiver(pb)
    return _no_rule(bound, (obj,) + args, kwargs)


def _with_receiver(pb):
    def pullback(g):
        cts, kw = pb(g)
        return (None,) + tuple(cts), kw

    return pullback


def _receiver_via_self(pb):
    # call() already routed the bound method's self cotangent into the receiver
    return _with_receiver(pb)


# Methods of builtin containers, including the mutating ones: each returns (ans, pullback)
# and its pullback undoes the mutation (restoring the container) as it routes cotangents.


def _list_append(lst, x):
    lst.append(x)

    def pullback(g):
        shadow = peek(lst)
        ct = None
        if shadow is not None and len(shadow) == len(lst):
            ct = shadow.pop()
        lst.pop()
        return (None, ct), None

    return None, pullback


def _list_extend(lst, xs):
    n = len(lst)
    lst.extend(xs)

    def pullback(g):
        shadow = peek(lst)
        ct = None
        if shadow is not None and len(shadow) == len(lst):
            ct = shadow[n:]
            del shadow[n:]
            if isinstance(xs, tuple):
                ct = tuple(ct)
        del lst[n:]
        return (None, ct), None

    return None, pullback


def _list_insert(lst, i, x):
    index = range(len(lst) + 1)[i] if -len(lst) - 1 <= i <= len(lst) else (
        0 if i < 0 else len(lst))
    lst.insert(i, x)

    def pullback(g):
        shadow = peek(lst)
        ct = None
        if shadow is not None and len(shadow) == len(lst):
            ct = shadow.pop(index)
        lst.pop(index)
        return (None, None, ct), None

    return None, pullback


def _list_pop(lst, i=-1):
    index = range(len(lst))[i]
    ans = lst.pop(i)

    def pullback(g):
        lst.insert(index, ans)
        shadow = peek(lst)
        if shadow is not None:
            shadow.insert(index, None)
        if g is not None:
            from pygote.runtime.access import acc_getitem

            acc_getitem(lst, None, index, g)
        return (None, None), None

    return ans, pullback


def _dict_get(d, key, default=None):
    present = key in d
    ans = d[key] if present else default

    def pullback(g):
        if present:
            from pygote.runtime.access import acc_getitem

            acc_getitem(d, None, key, g)
            return (None, None, None), None
        return (None, None, g), None

    return ans, pullback


def _dict_values(d):
    keys = list(d)
    ans = [d[k] for k in keys]

    def pullback(g):
        if g is not None:
            acc(d, None, dict(zip(keys, g)))
        return (None,), None

    return ans, pullback


def _dict_items(d):
    keys = list(d)
    ans = [(k, d[k]) for k in keys]

    def pullback(g):
        if g is not None:
            acc(d, None, {k: (None if gi is None else gi[1]) for k, gi in zip(keys, g)})
        return (None,), None

    return ans, pullback


def _list_copy(lst):
    ans = lst.copy()

    def pullback(g):
        g = take(ans, g)
        return (g,), None

    return ans, pullback


def _plain(method):
    return lambda obj, *a, **k: (method(obj, *a, **k), None)


_METHODS = {
    (list, "append"): _list_append,
    (list, "extend"): _list_extend,
    (list, "insert"): _list_insert,
    (list, "pop"): _list_pop,
    (list, "copy"): _list_copy,
    (list, "index"): _plain(list.index),
    (list, "count"): _plain(list.count),
    (dict, "get"): _dict_get,
    (dict, "values"): _dict_values,
    (dict, "items"): _dict_items,
    (dict, "keys"): _plain(dict.keys),
}


# ---------------------------------------------------------------- classes


def _construct(cls, args, kwargs):
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):  # namedtuple
        ans = cls(*args, **kwargs)

        def pullback(g):
            if g is None:
                return (None,) * len(args), None
            g = tuple(g)
            fields = cls._fields
            return g[: len(args)], {k: g[fields.index(k)] for k in kwargs}

        return ans, pullback
    init = cls.__init__
    if dataclasses.is_dataclass(cls) and _generated(init):
        ans = cls(*args, **kwargs)
        names = [f.name for f in dataclasses.fields(cls) if f.init]

        def pullback(g):
            g = take(ans, g)
            if g is None:
                return (None,) * len(args), None
            get = g.get if hasattr(g, "get") else (lambda k: getattr(g, k, None))
            return tuple(get(n) for n in names[: len(args)]), {k: get(k) for k in kwargs}

        return ans, pullback
    if type(init) is FunctionType and cls.__new__ is object.__new__:
        obj = cls.__new__(cls)
        _, pb = call(init, obj, *args, **kwargs)

        def pullback(g):
            if g is not None:
                acc(obj, None, g)
            cts, kw = pb(None)
            return cts[1:], kw

        return obj, pullback
    if not any(contains_differentiable(a) for a in args) and not any(
        contains_differentiable(v) for v in kwargs.values()
    ):
        return cls(*args, **kwargs), None
    return _no_rule(cls, args, kwargs)


def _generated(fn) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_filename.startswith("<")


# ---------------------------------------------------------------- errors


def user_location(depth: int = 2):
    """File, line and function name of the innermost generated frame (the user's line)."""
    frame = sys._getframe(depth)
    while frame is not None:
        if frame.f_code in GENERATED_CODES:
            name = frame.f_code.co_name.removesuffix("_forward")
            return frame.f_code.co_filename, frame.f_lineno, name
        frame = frame.f_back
    return None, None, None


def _describe(f) -> str:
    if isinstance(f, np.ufunc):
        return f"numpy.{f.__name__}"
    module = getattr(f, "__module__", None)
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)
    if module in (None, "builtins"):
        return name
    return f"{module}.{name}"


def _no_rule(f, args, kwargs):
    active = [i for i, a in enumerate(args) if contains_differentiable(a)]
    active_kw = [k for k, v in kwargs.items() if contains_differentiable(v)]
    if not active and not active_kw:
        return f(*args, **kwargs), None
    filename, lineno, function = user_location(3)
    name = _describe(f)
    which = ", ".join([f"argument {i + 1}" for i in active] + [f"keyword {k!r}" for k in active_kw])
    kind = "a C function or builtin" if not hasattr(f, "__code__") else "a function whose source is unavailable"
    raise DifferentiationError(
        f"pygote cannot differentiate {name}, called at {where(filename, lineno, function)}: "
        f"it is {kind} with no derivative rule, and {which} carries a gradient. "
        f"Ways out: register a rule with pg.register_vjp({name}, fwd, bwd) or pg.rrule; "
        f"mark it with pg.nondifferentiable({name}) if its result carries no gradient; or "
        f"pass pg.stop_gradient(x) for the argument."
    )


def is_active_value(x) -> bool:
    return is_differentiable(x)
