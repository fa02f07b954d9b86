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
from pygote.rules.registry import DERIVATIVES, NONDIFFERENTIABLE, ON_CHANGE, REPLACEMENTS, RULES
from pygote.runtime import inplace, journal
from pygote.runtime.batched import Batched
from pygote.runtime.shadows import acc, peek, stand_in, take
from pygote.runtime.values import contains_differentiable

__all__ = ["call", "call_method", "GENERATED_CODES", "transform_hook"]

FunctionType = types.FunctionType
MethodType = types.MethodType
ModuleType = types.ModuleType
BuiltinMethod = types.BuiltinMethodType

class StaleTransform(Exception):
    """A global that generated code relied on was rebound: transform again."""


# code objects of generated forward functions, to find the user's line on errors
GENERATED_CODES: set = set()
# set by pygote.transform.compile: (fn, args, kwargs) -> Adjoint, and fn -> None
transform_hook = None
invalidate_hook = None


ignoring = 0  # depth of `with pg.ignore():` blocks being run


# plain Python functions called before with the same argument types, no closure, no
# defaults left out: function -> (code, argument types, constant positions, adjoint).
# Forgotten when a rule is registered (registry.ON_CHANGE) or the function is transformed
# again.
_PLANS: dict = {}
_MASKED_PLANS: dict = {}  # the same for calls with constant positions (call_masked)
ON_CHANGE.append(_PLANS.clear)
ON_CHANGE.append(_MASKED_PLANS.clear)


def call(f, *args, **kwargs):
    """Call ``f`` recording what its backward pass needs: ``(ans, pullback or None)``."""
    if ignoring:
        return f(*args, **kwargs), None
    if type(f) is FunctionType and not kwargs:
        plan = _PLANS.get(f)
        if plan is not None and plan[0] is f.__code__ and plan[1] == tuple(map(type, args)):
            return _planned(f, plan[3], args)
    try:
        rule = RULES.get(f)
    except TypeError:
        rule = None
    if rule is not None and rule.record is not None:  # the user's own rule
        return rule.record(args, kwargs)
    if rule is not None and rule.vjp is not None:
        if f in _PROTOCOL_BUILTINS and args and _is_user_object(args[0]):
            return _PROTOCOL_BUILTINS[f](*args, **kwargs)
        if f is sum and args and type(args[0]) in (list, tuple) and args[0] and \
                _is_user_object(args[0][0]):
            return _sum_protocol(*args, **kwargs)
        if kwargs and kwargs.get("out") is not None:
            if type(f) is np.ufunc:
                return inplace.with_out(f, rule, args, kwargs)
            _refuse_out(f)
        ans = f(*args, **kwargs)
        return ans, _rule_pullback(rule, ans, args, kwargs)
    t = type(f)
    if t is not FunctionType:  # Python functions (the common case) skip these look-ups
        try:
            special = _SPECIAL_CALLS.get(f)
            replacement = REPLACEMENTS.get(f)
        except TypeError:  # unhashable callables
            special = replacement = None
        if special is not None:
            return special(*args, **kwargs)
        if replacement is not None:
            f, t = replacement, FunctionType
    if t is FunctionType:
        if f in NONDIFFERENTIABLE:  # marked by the user: called as it is
            return f(*args, **kwargs), None
        if f.__code__ in DERIVATIVES:  # a function pg.grad made: its own derivative
            return DERIVATIVES[f.__code__][0](f, args, kwargs)
        replacement = REPLACEMENTS.get(f)
        if replacement is not None:
            f = replacement
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
        if pb is None:
            return ans, None
        n, bound_keywords = len(f.args), f.keywords

        def partial_pullback(g):
            cts, kw = pb(g)
            kw = kw or {}
            _acc_partial(f, cts[:n], {k: kw.get(k) for k in bound_keywords})
            return cts[n:], {k: v for k, v in kw.items() if k not in bound_keywords} or None

        return ans, partial_pullback
    if isinstance(f, type):
        return _construct(f, args, kwargs)
    if isinstance(f, (staticmethod, classmethod)):
        return call(f.__func__, *args, **kwargs)
    method = getattr(t, "__call__", None)  # noqa: B004 (the method itself is wanted)
    if type(method) is FunctionType:
        return _shifted(call(method, f, *args, **kwargs), f)
    wrapped = getattr(f, "__wrapped__", None)
    if wrapped is not None:  # a wrapper without source (functools.lru_cache, ...)
        return call(wrapped, *args, **kwargs)
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


def _rule_pullback(rule, ans, args, kwargs):
    if rule.linear:  # its vjp reads shapes only: keep stand-ins, not the arrays
        ans = stand_in(ans)
        args = tuple(stand_in(a) if type(a) is np.ndarray else a for a in args)
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


def _planned(f, adjoint, args):
    """A planned call: the adjoint's forward, and a pullback straight to its backward."""
    try:
        ans, saved = adjoint.forward(*args)
    except StaleTransform:
        _PLANS.pop(f, None)
        _MASKED_PLANS.pop(f, None)
        return call(f, *args)
    backward = adjoint.backward
    return ans, lambda g: (backward(saved, g)[0], None)


def call_masked(constant, f, *args, **kwargs):
    """``call``, where the caller knows the positional arguments at ``constant`` carry no
    gradient (the callee is then specialized with those parameters inactive)."""
    if type(f) is FunctionType and not kwargs and not ignoring:
        plan = _MASKED_PLANS.get(f)
        if plan is not None and plan[0] is f.__code__ and plan[2] == constant \
                and plan[1] == tuple(map(type, args)):
            return _planned(f, plan[3], args)
    if (type(f) is FunctionType and f not in RULES and f not in NONDIFFERENTIABLE
            and f.__code__ not in DERIVATIVES and f not in REPLACEMENTS):
        return _call_python(f, args, kwargs, constant)
    return call(f, *args, **kwargs)


def _call_python(f, args, kwargs, constant=()):
    adjoint = transform_hook(f, args, kwargs, constant)
    try:
        ans, saved = adjoint.forward(*args, **kwargs)
    except StaleTransform:
        invalidate_hook(f)
        adjoint = transform_hook(f, args, kwargs, constant)
        ans, saved = adjoint.forward(*args, **kwargs)
    cells = f.__closure__
    if (cells is None and not kwargs and not adjoint.written_free
            and len(args) == adjoint.n_positional == len(adjoint.params)
            and f.__defaults__ is adjoint.code_defaults and not f.__kwdefaults__):
        types_ = tuple(map(type, args))
        if list not in types_ and tuple not in types_:  # (their items' types matter too)
            plans = _MASKED_PLANS if constant else _PLANS
            if len(plans) > 4096:
                plans.clear()
            plans[f] = (f.__code__, types_, constant, adjoint)

    def pullback(g):
        if adjoint.written_free and cells is not None:  # cotangents of nonlocal variables
            from pygote.runtime import shadows

            incoming = tuple(shadows.take(cell, None) for cell in cells)
            cts, free_cts = adjoint.backward(saved, g, incoming)
        else:
            cts, free_cts = adjoint.backward(saved, g)
        if free_cts is not None and cells is not None:
            for cell, ct in zip(cells, free_cts):
                if ct is not None and cell is not None:
                    acc(cell, None, ct)
        if f.__defaults__ and len(args) < adjoint.n_positional:
            _defaults_cotangents(f, adjoint, cts, len(args), kwargs)
        return adjoint.to_call(cts, len(args), kwargs)

    return ans, pullback


def _defaults_cotangents(f, adjoint, cts, nargs, kwargs):
    """Parameters left to their defaults: their cotangents wait on the function object,
    for the statement that defined it (``def inner(v, k=x * 2.0)``) to take."""
    from pygote.runtime import shadows

    first_default = adjoint.n_positional - len(f.__defaults__)
    for i in range(max(nargs, first_default), adjoint.n_positional):
        ct = cts[i]
        if ct is None or adjoint.params[i] in (kwargs or ()):
            continue
        entry = shadows._entry(f, None)
        if entry[1] is None:
            entry[1] = {}
        k = i - first_default
        entry[1][k] = ct if entry[1].get(k) is None else entry[1][k] + ct


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
    if t is np.ufunc and name == "at":
        ans, pb = inplace.ufunc_at(obj, *args, **kwargs)
        return ans, lambda g: ((None,) + pb(g)[0], None)
    if t is not type and isinstance(obj, tuple) and name == "_replace" and hasattr(obj, "_fields"):
        return _namedtuple_replace(obj, **kwargs)
    descriptor = getattr(t, name, None)
    d = getattr(obj, "__dict__", None) if not isinstance(obj, type) else None
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
        return ans, _with_receiver(pb)
    if not contains_differentiable(obj):
        ans, pb = _no_rule(bound, args, kwargs)
        return ans, None
    return _no_rule(descriptor or bound, (obj,) + args, kwargs)


def _with_receiver(pb):
    def pullback(g):
        cts, kw = pb(g)
        return (None,) + tuple(cts), kw

    return pullback


# Methods of builtin containers, including the mutating ones: each returns (ans, pullback)
# and its pullback undoes the mutation (restoring the container) as it routes cotangents.


def _record(function, *args):
    if journal.current is not None:
        journal.current.append((function, args))


def _list_append(lst, x):
    lst.append(x)
    _record(list.append, lst, x)

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
    _record(list.extend, lst, lst[n:])

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
    _record(list.insert, lst, i, x)

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
    _record(list.pop, lst, index)

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


def _list_sort(lst, key=None, reverse=False):
    n = len(lst)
    perm = sorted(range(n), key=(lambda i: key(lst[i])) if key is not None else lst.__getitem__,
                  reverse=reverse)
    old = list(lst)
    lst[:] = [old[i] for i in perm]
    _record(lst.__setitem__, slice(None), list(lst))

    def pullback(g):
        shadow = peek(lst)
        if shadow is not None and len(shadow) == n:
            restored = [None] * n
            for j, i in enumerate(perm):
                restored[i] = shadow[j]
            shadow[:] = restored
        lst[:] = old
        return (None,), None

    return None, pullback


def _list_reverse(lst):
    lst.reverse()
    _record(list.reverse, lst)

    def pullback(g):
        shadow = peek(lst)
        if shadow is not None:
            shadow.reverse()
        lst.reverse()
        return (None,), None

    return None, pullback


_MISSING = object()


def _dict_restore_pullback(d, saved, extra_cts=None):
    """Undo writes to ``d`` (key -> old value or _MISSING); cotangents of the written values."""

    def pullback(g):
        shadow = peek(d)
        written = {}
        for k, old in saved.items():
            written[k] = shadow.pop(k, None) if isinstance(shadow, dict) else None
            if old is _MISSING:
                d.pop(k, None)
            else:
                d[k] = old
        return extra_cts(written, g)

    return pullback


def _dict_update(d, other=(), **kw):
    items = list(other.items()) if isinstance(other, dict) else list(other)
    items += list(kw.items())
    saved = {}
    for k, _ in items:
        if k not in saved:
            saved[k] = d.get(k, _MISSING)
    d.update(other, **kw)
    _record(dict.update, d, {k: d[k] for k in saved})

    def cts(written, g):
        if isinstance(other, dict):
            other_ct = {k: written.get(k) for k in other}
        else:
            other_ct = [(None, written.get(k)) for k, _ in items[: len(items) - len(kw)]]
        return (None, other_ct), {k: written.get(k) for k in kw} or None

    return None, _dict_restore_pullback(d, saved, cts)


def _dict_setdefault(d, key, default=None):
    if key in d:
        return _dict_get(d, key, default)
    d[key] = default
    _record(dict.__setitem__, d, key, default)

    def cts(written, g):
        from pygote.runtime.values import add

        return (None, None, add(written.get(key), g)), None

    return default, _dict_restore_pullback(d, {key: _MISSING}, cts)


def _dict_pop(d, key, *default):
    if key not in d:
        return d.pop(key, *default), (lambda g: ((None, None, g), None))
    ans = d.pop(key)
    _record(dict.pop, d, key)

    def pullback(g):
        d[key] = ans
        if g is not None:
            from pygote.runtime.access import acc_getitem

            acc_getitem(d, None, key, g)
        return (None, None, None), None

    return ans, pullback


def _dict_copy(d):
    ans = d.copy()

    def pullback(g):
        return (take(ans, g),), None

    return ans, pullback


def _conjugate(z):
    ans = z.conjugate()
    return ans, lambda g: ((None if g is None else g.conjugate(),), None)


def _namedtuple_replace(obj, **changes):
    ans = obj._replace(**changes)
    fields = obj._fields

    def pullback(g):
        if g is None:
            return (None,), None
        g = tuple(g)
        kept = tuple(None if f in changes else gi for f, gi in zip(fields, g))
        return (type(obj)(*kept),), {k: g[fields.index(k)] for k in changes}

    return ans, pullback




def _plain(method):
    return lambda obj, *a, **k: (method(obj, *a, **k), None)


_METHODS = {
    (list, "append"): _list_append,
    (list, "extend"): _list_extend,
    (list, "insert"): _list_insert,
    (list, "pop"): _list_pop,
    (list, "copy"): _list_copy,
    (list, "sort"): _list_sort,
    (list, "reverse"): _list_reverse,
    (dict, "update"): _dict_update,
    (dict, "setdefault"): _dict_setdefault,
    (dict, "pop"): _dict_pop,
    (dict, "copy"): _dict_copy,
    (complex, "conjugate"): _conjugate,
    (float, "conjugate"): _conjugate,
    (np.ndarray, "fill"): inplace.fill,
    (np.ndarray, "sort"): inplace.sort,
    (list, "index"): _plain(list.index),
    (list, "count"): _plain(list.count),
    (dict, "get"): _dict_get,
    (dict, "values"): _dict_values,
    (dict, "items"): _dict_items,
    (dict, "keys"): _plain(dict.keys),
}


# ---------------------------------------------------------------- classes


def _getattr_builtin(obj, name, *default):
    from pygote.runtime.access import acc_attr, getattr_

    try:
        ans, record = getattr_(obj, name)
    except AttributeError:
        if not default:
            raise
        return default[0], (lambda g: ((None, None, g), None))
    return ans, lambda g: ((acc_attr(obj, None, name, g, record), None), None)


def _setattr_builtin(obj, name, value):
    from pygote.runtime.access import setattr_, setattr_back

    old = setattr_(obj, name, value)
    return None, lambda g: ((None, None, setattr_back(obj, name, old)), None)


def _dict_builtin(*args, **kwargs):
    ans = dict(*args, **kwargs)

    def pullback(g):
        g = take(ans, g) or {}
        cts = ()
        if args:
            source = args[0]
            if isinstance(source, dict):
                cts = ({k: g.get(k) for k in source},)
            else:
                cts = ([(None, g.get(k)) for k, _ in source],)
        return cts, {k: g.get(k) for k in kwargs} or None

    return ans, pullback


def _partial_builtin(func, *args, **keywords):
    """A partial object: the cotangents of its bound arguments gather on its shadow."""
    ans = functools.partial(func, *args, **keywords)

    def pullback(g):
        g = take(ans, g)
        bound = getattr(g, "fields", g) if g is not None else {}
        return (None,) + tuple(bound.get(i) for i in range(len(args))), {
            k: bound.get(k) for k in keywords} or None

    return ans, pullback


def _acc_partial(p, cts, kw):
    """Cotangents of a partial's bound arguments (positions and keywords) onto its shadow."""
    from pygote.runtime import shadows
    from pygote.runtime.values import add

    entry = shadows._entry(p, None)
    if entry[1] is None:
        entry[1] = {}
    for i, ct in enumerate(cts):
        if ct is not None:
            entry[1][i] = add(entry[1].get(i), ct)
    for k, ct in (kw or {}).items():
        if ct is not None:
            entry[1][k] = add(entry[1].get(k), ct)


# callables with a recording of their own: builtins that read or write attributes and
# containers, and NumPy functions that write into an existing array
_SPECIAL_CALLS = {getattr: _getattr_builtin, setattr: _setattr_builtin, dict: _dict_builtin,
                  functools.partial: _partial_builtin, np.copyto: inplace.copyto,
                  np.put: inplace.put, np.fill_diagonal: inplace.fill_diagonal}


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


def _refuse_out(f):
    filename, lineno, function = user_location(3)
    raise DifferentiationError(
        f"pygote cannot yet differentiate {_describe(f)}(..., out=...), called at "
        f"{where(filename, lineno, function)}: writing into an existing array through "
        "`out=` is not tracked yet. Write `y = f(...)` (or `y[...] = f(...)`) instead."
    )


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


# ---------------------------------------------------------------- operators of user classes

_NUMERIC = frozenset([float, int, bool, complex, np.ndarray, np.float64, np.float32,
                      np.complex128, np.complex64, np.int64, np.bool_, list, tuple, str,
                      Batched])

_BINARY_DUNDERS = {
    "+": ("__add__", "__radd__"), "-": ("__sub__", "__rsub__"), "*": ("__mul__", "__rmul__"),
    "/": ("__truediv__", "__rtruediv__"), "//": ("__floordiv__", "__rfloordiv__"),
    "%": ("__mod__", "__rmod__"), "**": ("__pow__", "__rpow__"), "@": ("__matmul__", "__rmatmul__"),
    "&": ("__and__", "__rand__"), "|": ("__or__", "__ror__"), "^": ("__xor__", "__rxor__"),
    "<<": ("__lshift__", "__rlshift__"), ">>": ("__rshift__", "__rrshift__"),
}


def binop(symbol, op, a, b):
    """``a <symbol> b``: plain for numbers and arrays, Python's protocol for user classes.

    Returns ``(ans, pullback)``; ``pullback`` is None when the operator's own rule applies
    (the generated code then uses it directly).
    """
    ta, tb = type(a), type(b)
    if (ta in _NUMERIC or isinstance(a, np.generic)) and (tb in _NUMERIC or isinstance(b, np.generic)):
        return op(a, b), None
    forward, reflected = _BINARY_DUNDERS[symbol]
    left = getattr(ta, forward, None)
    right = getattr(tb, reflected, None)
    # the reflected method of a subclass of the left type goes first (language reference)
    if right is not None and tb is not ta and issubclass(tb, ta) and type(right) is FunctionType:
        ans, pb = call(right, b, a)
        if ans is not NotImplemented:
            return ans, _swap(pb)
    if type(left) is FunctionType:
        ans, pb = call(left, a, b)
        if ans is not NotImplemented:
            return ans, pb
    elif left is not None:
        ans = left(a, b)
        if ans is not NotImplemented:
            return ans, None
    if type(right) is FunctionType and tb is not ta:
        ans, pb = call(right, b, a)
        if ans is not NotImplemented:
            return ans, _swap(pb)
    return op(a, b), None


def _swap(pb):
    if pb is None:
        return None

    def pullback(g):
        cts, kw = pb(g)
        return (cts[1], cts[0]), kw

    return pullback


_UNARY_DUNDERS = {"-": "__neg__", "+": "__pos__", "~": "__invert__", "abs": "__abs__",
                  "float": "__float__", "complex": "__complex__"}


def unop(symbol, op, a):
    """A unary operator or ``abs``/``float``: plain for numbers, the dunder for user classes."""
    t = type(a)
    if t in _NUMERIC or isinstance(a, np.generic):
        return op(a), None
    method = getattr(t, _UNARY_DUNDERS[symbol], None)
    if type(method) is FunctionType:
        return call(method, a)
    return op(a), None


def _is_user_object(x) -> bool:
    return type(x) not in _NUMERIC and not isinstance(x, (np.generic, np.ndarray))


def _sum_protocol(iterable, start=0):
    """``sum`` over user objects: their ``__add__`` differentiated through its source."""
    import operator

    total, records = start, []
    for item in iterable:
        total, pb = binop("+", operator.add, total, item)
        records.append(pb)
    return total, None if not any(records) else _fold_pullback(records, iterable, start)


def _fold_pullback(records, items, start):
    items = list(items)

    def pullback(g):
        cts = [None] * len(items)
        for k in range(len(items) - 1, -1, -1):
            pb = records[k]
            if pb is None:
                cts[k] = g
                continue
            (g, cts[k]), _ = pb(g)
        return (type(items)(cts) if isinstance(items, (list, tuple)) else cts, g), None

    return pullback


_PROTOCOL_BUILTINS = {
    abs: lambda a: unop("abs", abs, a),
    float: lambda a: unop("float", float, a),
    complex: lambda *a: unop("complex", complex, a[0]) if len(a) == 1 else (complex(*a), None),
}
