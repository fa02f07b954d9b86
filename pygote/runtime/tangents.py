"""Forward mode's runtime: tangents of values, of reads and writes, and the forward
dispatcher (the forward image of ``access``, ``shadows`` and ``dispatch``).

Tangent model:
- immutable values have value tangents held in locals ``_dx`` of the generated code: a
  float for a float, an array for an array, a tuple of tangents for a tuple; ``None`` is
  zero everywhere, except for real scalar variables, whose tangent is always a float;
- a mutable object has *one* tangent object beside it, shared by every name bound to it:
  an array of its shape for an ndarray (a view's tangent is the same view into its
  root's tangent), a list of tangents for a list, a dict of tangents for a dict, and an
  ``ObjectTangent`` (attribute -> tangent) for a user object. Tangents made when the
  generated code meets a mutable object without one (made by inactive code, then written
  with active values; reached through an alias) are registered by identity in the current
  ``table``, so that every later meeting finds the same tangent.

The generated code talks to this module through ``_f*`` helpers (see
``pygote.transform.forward``); each returns the result and its tangent.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from types import BuiltinFunctionType, BuiltinMethodType, FunctionType, MethodType, ModuleType

import numpy as np

from pygote.errors import DifferentiationError
from pygote.rules.registry import DERIVATIVES, NONDIFFERENTIABLE, REPLACEMENTS, RULES
from pygote.runtime.dispatch import StaleTransform
from pygote.runtime.batched import Batched
from pygote.runtime.shadows import _own_root, _root, attributes, is_mutable
from pygote.runtime.values import fit_tangent, is_differentiable
from pygote.transform.forward import TANGENT_PARAMS

ndarray = np.ndarray
_inexact = np.inexact

# the transformer, installed by pygote.transform.compile: forward_hook(fn, args, kwargs,
# constant) -> a function jvp(*args, **kwargs, _targs=, _tkw=) -> (ans, tangent)
forward_hook = None
invalidate_hook = None


class ObjectTangent:
    """The tangent of a user object: its attributes' tangents by name."""

    __slots__ = ("attrs",)

    def __init__(self, attrs=None) -> None:
        self.attrs = {} if attrs is None else attrs

    def __repr__(self) -> str:
        return f"ObjectTangent({self.attrs!r})"


# ---------------------------------------------------------------- tangents by identity

_tables: list = [{}]
table: dict = _tables[-1]  # id(obj) -> (obj, tangent)


def push_table() -> None:
    global table
    table = {}
    _tables.append(table)


def pop_table() -> None:
    global table
    _tables.pop()
    table = _tables[-1]


def _array_tangent(x, create: bool):
    """The tangent of array ``x``: a view into its root's registered tangent."""
    if not issubclass(x.dtype.type, _inexact):
        return None
    root = _root(x) if x.base is not None else x
    if root is not x and (not isinstance(root, ndarray) or _own_root(x)
                          or not (root.flags.c_contiguous or root.flags.f_contiguous)
                          or root.dtype != x.dtype):
        root = x
    entry = table.get(id(root))
    if entry is None:
        if not create:
            return None
        entry = table[id(root)] = (root, np.zeros_like(root))
    if root is x:
        return entry[1]
    offset = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(x.shape, x.dtype, buffer=entry[1], offset=offset, strides=x.strides)


def lookup(x, create: bool = False):
    """The registered tangent of mutable ``x`` (made, zero, when ``create``)."""
    t = type(x)
    if t is ndarray or isinstance(x, ndarray):
        return _array_tangent(x, create)
    if not is_mutable(x):
        return None
    entry = table.get(id(x))
    if entry is not None:
        return entry[1]
    if not create:
        return None
    if t is list or isinstance(x, list):
        tangent = [None] * len(x)
    elif t is dict or isinstance(x, dict):
        tangent = {}
    else:
        tangent = ObjectTangent()
    table[id(x)] = (x, tangent)
    return tangent


def zero(x):
    """The tangent of ``x`` produced by inactive code: shared for mutable objects."""
    if type(x) is float:
        return 0.0
    return lookup(x, True) if is_mutable(x) else None


def tangent_of(x, dx):
    """``dx``, or the registered tangent of ``x`` when ``dx`` is unknown (None)."""
    if dx is not None or not table:
        return dx
    return lookup(x) if is_mutable(x) else None


def register(x, dx) -> None:
    """Make ``dx`` the tangent every later meeting of mutable ``x`` finds."""
    if dx is not None and is_mutable(x) and type(x) is not ndarray:
        table[id(x)] = (x, dx)
    elif type(x) is ndarray and x.base is None and dx is not None:
        table[id(x)] = (x, dx)


def as_tangent(t, x):
    """A user's tangent for input ``x`` in the internal form (arrays owning their memory,
    dtypes matching, Structural -> ObjectTangent)."""
    if t is None:
        return None
    if type(t) is Batched:  # (a batch of directions: runtime/batched.py)
        return fit_tangent(t, x).copy() if isinstance(x, (ndarray, float, np.generic)) else \
            fit_tangent(t, x)
    if type(x) is float:
        return float(np.real(t))
    if isinstance(x, ndarray):
        return np.array(fit_tangent(t, x), dtype=x.dtype, copy=True) if \
            issubclass(x.dtype.type, _inexact) else None
    if isinstance(x, (complex, np.generic)):
        return fit_tangent(t, x)
    if isinstance(x, tuple):
        return tuple(as_tangent(a, b) for a, b in zip(t, x))
    if isinstance(x, list):
        return [as_tangent(a, b) for a, b in zip(t, x)]
    if isinstance(x, dict):
        return {k: as_tangent(t.get(k) if isinstance(t, dict) else t[k], v) for k, v in x.items()}
    if isinstance(t, ObjectTangent):
        return t
    from pygote.runtime.structural import Structural

    if isinstance(t, Structural) or hasattr(t, "__dict__") or isinstance(t, dict):
        values = t if isinstance(t, dict) else (t._fields if isinstance(t, Structural)
                                               else vars(t))
        attrs = attributes(x)
        return ObjectTangent({k: as_tangent(v, attrs.get(k)) for k, v in dict(values).items()})
    return t


def output(dy, y):
    """The tangent handed to the user: zeros instead of None, Structural for objects."""
    if dy is None:
        from pygote.runtime.values import zeros_like

        if isinstance(y, (tuple, list)):
            items = [output(None, v) for v in y]
            return type(y)(*items) if hasattr(y, "_fields") else type(y)(items)
        if isinstance(y, dict):
            return {k: output(None, v) for k, v in y.items()}
        return zeros_like(y)
    if isinstance(dy, ObjectTangent):
        from pygote.runtime.structural import Structural

        attrs = attributes(y)
        return Structural({k: output(v, attrs.get(k)) for k, v in dy.attrs.items()})
    if isinstance(y, tuple) and isinstance(dy, tuple):
        items = [output(a, b) for a, b in zip(dy, y)]
        return type(y)(*items) if hasattr(y, "_fields") else tuple(items)
    if isinstance(y, list) and isinstance(dy, list):
        return [output(a, b) for a, b in zip(dy, y)]
    if isinstance(y, dict) and isinstance(dy, dict):
        return {k: output(dy.get(k), v) for k, v in y.items()}
    return fit_tangent(dy, y) if is_differentiable(y) else dy


# ---------------------------------------------------------------- reads


def getitem(x, dx, idx):
    """``(x[idx], its tangent)``."""
    t = type(x)
    if t is ndarray or t is list or t is tuple or t is dict or t is str or \
            isinstance(x, (ndarray, list, tuple, dict)):
        y = x[idx]
        if dx is None:
            dx = tangent_of(x, None)
            if dx is None:
                return y, None
        if t is dict or isinstance(x, dict):
            dy = dx.get(idx)
        else:
            dy = dx[idx]
        if dy is None and table and is_mutable(y):
            dy = lookup(y)
        return y, dy
    method = getattr(t, "__getitem__", None)
    if type(method) is FunctionType:
        return call(method, (x, idx), (dx, None))
    return call(operator.getitem, (x, idx), (dx, None))


def getattr_(x, dx, name):
    """``(x.name, its tangent)``; the tangent of a bound method is its object's."""
    y = getattr(x, name)
    t = type(x)
    if t is ndarray or isinstance(x, (ndarray, np.generic)):
        from pygote.rules.numpy_shape import ATTRIBUTE_RULES

        func = ATTRIBUTE_RULES.get((ndarray, name))
        if func is None or dx is None:
            return y, (dx if callable(y) else None)  # a bound method's tangent: its array's
        rule = RULES[func]
        return y, fit_tangent(rule.jvp(y, (dx,), x), y)
    if t is complex or t is float:
        if dx is None:
            return y, None
        if name == "real":
            return y, float(np.real(dx))
        if name == "imag":
            return y, float(np.imag(dx))
        return y, dx  # bound methods (conjugate)
    if isinstance(x, ModuleType) or isinstance(x, type):
        return y, None
    if isinstance(x, tuple) and hasattr(t, "_fields"):
        if dx is None or name not in t._fields:
            return y, (dx if callable(y) else None)
        return y, dx[t._fields.index(name)]
    prop = getattr(t, name, None)
    if isinstance(prop, property) and type(prop.fget) is FunctionType:
        return call(prop.fget, (x,), (dx,))
    if type(y) is MethodType:
        return y, tangent_of(x, dx)
    if dx is None:
        dx = tangent_of(x, None)
    if isinstance(dx, ObjectTangent):
        dy = dx.attrs.get(name)
        if dy is None and table and is_mutable(y):
            dy = lookup(y)
        return y, dy
    return y, None


# ---------------------------------------------------------------- writes


def _fit_into(dv, slot_dtype):
    if dv is None:
        return 0
    if np.iscomplexobj(dv) and not issubclass(slot_dtype.type, np.complexfloating):
        return np.real(dv)
    return dv


def setitem(x, dx, idx, v, dv):
    """Run ``x[idx] = v`` and write ``dv`` into ``x``'s tangent; returns that tangent."""
    t = type(x)
    if t is ndarray or isinstance(x, ndarray):
        x[idx] = v
        if dx is None:
            dx = _array_tangent(x, dv is not None)
            if dx is None:
                return None
        dx[idx] = _fit_into(dv, dx.dtype)
        return dx
    if t is list or isinstance(x, list):
        old_len = len(x)
        x[idx] = v
        if dx is None:
            dx = lookup(x) if table else None
            if dx is None:
                if dv is None:
                    return None
                dx = lookup(x, True)
                dx[:] = [None] * len(x)
        if type(idx) is slice:
            n = len(x) - old_len + len(range(*idx.indices(old_len)))
            dx[idx] = list(dv) if dv is not None else [None] * n
        else:
            dx[idx] = dv
        return dx
    if t is dict or isinstance(x, dict):
        x[idx] = v
        if dx is None:
            dx = lookup(x, dv is not None)
            if dx is None:
                return None
        dx[idx] = dv
        return dx
    method = getattr(t, "__setitem__", None)
    if type(method) is FunctionType:
        call(method, (x, idx, v), (dx, None, dv))
        return tangent_of(x, dx)
    x[idx] = v
    return dx


def setattr_(x, dx, name, v, dv):
    """Run ``x.name = v`` and record ``dv`` in ``x``'s tangent; returns that tangent."""
    prop = getattr(type(x), name, None)
    if isinstance(prop, property) and type(prop.fset) is FunctionType:
        call(prop.fset, (x, v), (dx, dv))
        return tangent_of(x, dx)
    setattr(x, name, v)
    if dx is None:
        dx = lookup(x, dv is not None)
        if dx is None:
            return None
    if isinstance(dx, ObjectTangent):
        dx.attrs[name] = dv
    return dx


def delitem(x, dx, idx):
    del x[idx]
    if dx is None:
        dx = tangent_of(x, None)
    if dx is not None:
        if isinstance(x, dict):
            dx.pop(idx, None)
        else:
            del dx[idx]
    return dx


_INPLACE = {
    "+": (operator.iadd, operator.add), "-": (operator.isub, operator.sub),
    "*": (operator.imul, operator.mul), "/": (operator.itruediv, operator.truediv),
    "//": (operator.ifloordiv, operator.floordiv), "%": (operator.imod, operator.mod),
    "**": (operator.ipow, operator.pow), "@": (operator.imatmul, operator.matmul),
    "&": (operator.iand, operator.and_), "|": (operator.ior, operator.or_),
    "^": (operator.ixor, operator.xor), "<<": (operator.ilshift, operator.lshift),
    ">>": (operator.irshift, operator.rshift),
}


def augassign(symbol, x, dx, v, dv):
    """``x OP= v``: ``(new x, its tangent)``, in place for arrays and lists."""
    inplace, plain = _INPLACE[symbol]
    t = type(x)
    if t is ndarray or isinstance(x, ndarray):
        if dx is None:
            dx = _array_tangent(x, False) if table else None
        if dx is None and dv is None:
            return inplace(x, v), None
        _, dnew = binop(plain, x, dx, v, dv)
        y = inplace(x, v)
        if y is x:
            if dx is None:
                dx = _array_tangent(x, True)
            dx[...] = _fit_into(dnew, dx.dtype) if dnew is not None else 0
            return y, dx
        return y, fit_tangent(dnew, y)
    if t is list or isinstance(x, list):
        if dx is None:
            dx = tangent_of(x, None)
        if dx is None and dv is None:
            return inplace(x, v), None
        if dx is None:
            dx = lookup(x, True)
            dx[:] = [None] * len(x)
        n = len(v)
        y = inplace(x, v)
        if symbol == "+":
            dx += list(dv) if dv is not None else [None] * n
        elif symbol == "*":
            dx *= v
        return y, dx
    method = getattr(t, "__i" + _DUNDER[symbol][2:], None)
    if type(method) is FunctionType:
        return call(method, (x, v), (dx, dv))
    return binop(plain, x, dx, v, dv)


# ---------------------------------------------------------------- iteration


def iterate(it, dit):
    """Pairs ``(item, tangent)`` of iterating ``it``."""
    if dit is None:
        dit = tangent_of(it, None)
    if dit is None:
        return ((x, None) for x in it)
    if _user(it) and type(getattr(type(it), "__iter__", None)) is FunctionType:
        return iterate(*call_method(it, dit, "__iter__", (), ()))
    if isinstance(it, dict):
        return ((k, None) for k in it)
    return zip(it, dit)


def defaults(f, tangents) -> None:
    """Remember the tangents of nested def ``f``'s default values (computed from active
    values): calls that leave those parameters out use them."""
    if any(t is not None for t in tangents):
        table[id(f)] = (f, tuple(tangents))


def starred(x, dx):
    """Tangents of the items of ``*x`` in a call or literal."""
    if dx is None:
        return (None,) * len(x)
    return tuple(dx)


def star_dict(x, dx):
    if dx is None:
        return {}
    return dict(dx)


# ---------------------------------------------------------------- operators

_DUNDER = {
    "+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__", "//": "__floordiv__",
    "%": "__mod__", "**": "__pow__", "@": "__matmul__", "&": "__and__", "|": "__or__",
    "^": "__xor__", "<<": "__lshift__", ">>": "__rshift__",
}
_BY_FUNCTION = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.matmul: "@",
    operator.and_: "&", operator.or_: "|", operator.xor: "^", operator.lshift: "<<",
    operator.rshift: ">>",
}
_NUMERIC = frozenset([float, int, bool, complex, ndarray, np.float64, np.float32,
                      np.complex128, np.complex64, np.int64, np.bool_, list, tuple, str,
                      Batched])


def _user(x) -> bool:
    t = type(x)
    return t not in _NUMERIC and not isinstance(x, (ndarray, np.generic))


def binop(op, a, da, b, db):
    """``(op(a, b), tangent)`` for an operator function ``op`` (operator.add, ...)."""
    if _user(a) or _user(b):
        symbol = _BY_FUNCTION[op]
        name = _DUNDER[symbol]
        method = getattr(type(a), name, None)
        if type(method) is FunctionType:
            y, dy = call(method, (a, b), (da, db))
            if y is not NotImplemented:
                return y, dy
        reflected = getattr(type(b), "__r" + name[2:], None)
        if type(reflected) is FunctionType:
            y, dy = call(reflected, (b, a), (db, da))
            if y is not NotImplemented:
                return y, dy
    return call(op, (a, b), (da, db))


def unop(op, a, da):
    if _user(a):
        name = {operator.neg: "__neg__", operator.pos: "__pos__", abs: "__abs__"}.get(op)
        method = getattr(type(a), name, None) if name else None
        if type(method) is FunctionType:
            return call(method, (a,), (da,))
    return call(op, (a,), (da,))


# ---------------------------------------------------------------- calls


def _zero_tangents(targs) -> bool:
    for t in targs:
        if t is not None:
            return False
    return True


def call(f, args, targs, kwargs=None, tkw=None, tf=None):
    """Call ``f(*args, **kwargs)`` with tangents: ``(ans, tangent of ans)``; ``tf`` is the
    tangent of ``f`` itself (a callable object's, a bound method's object's)."""
    if table:
        targs = tuple(tangent_of(a, t) if t is None else t for a, t in zip(args, targs))
    try:
        rule = RULES.get(f)
    except TypeError:
        rule = None
    if rule is not None:
        user = rule.forward
        if user is not None:  # the user's own rule
            if _zero_tangents(targs) and not tkw:
                return (f(*args, **kwargs) if kwargs else f(*args)), None
            ans, dans = user(args, targs, kwargs or {}, tkw)
            return ans, fit_tangent(dans, ans)
        if (rule.vjp is not None or rule.jvp is not None) and not (
                f in _PROTOCOL and args and _user(args[0])):
            if _zero_tangents(targs) and not tkw:
                return (f(*args, **kwargs) if kwargs else f(*args)), None
            if kwargs and kwargs.get("out") is not None:
                return _with_out(f, rule, args, targs, kwargs, tkw)
            if rule.jvp is None:
                raise DifferentiationError(
                    f"pygote has no forward-mode rule for {rule.name} (only a reverse one): "
                    "use reverse mode (pg.grad, pg.pullback) for this function, or register "
                    "one with pg.register_jvp.")
            ans = f(*args, **kwargs) if kwargs else f(*args)
            dans = fit_tangent(rule.jvp(ans, targs, *args, **(kwargs or {})), ans)
            if type(dans) is ndarray:
                dans = _owned(dans, ans, args, targs)
            elif type(dans) is Batched:
                dans = _owned_batch(dans, ans, args, targs)
            return ans, dans
        if f in _PROTOCOL and args and _user(args[0]):
            return _protocol(f, args, targs, kwargs)
    t = type(f)
    if t is not FunctionType:
        try:
            special = _SPECIAL.get(f)
            replacement = REPLACEMENTS.get(f)
        except TypeError:
            special = replacement = None
        if special is not None:
            return special(args, targs, kwargs or {}, tkw)
        if replacement is not None:
            f, t = replacement, FunctionType
    if t is FunctionType:
        if f in NONDIFFERENTIABLE:
            return (f(*args, **kwargs) if kwargs else f(*args)), None
        if f.__code__ in DERIVATIVES:  # a function pg.grad made: its own derivative
            return DERIVATIVES[f.__code__][1](f, args, targs, kwargs)
        replacement = REPLACEMENTS.get(f)
        if replacement is not None:
            f = replacement
        if (_zero_tangents(targs) and not tkw and not _captures_tangents(f)
                and not _closure_among(args)):
            # nothing varies: the call is plain (its own writes carry no tangent)
            return (f(*args, **kwargs) if kwargs else f(*args)), None
        if table and id(f) in table:  # a nested def whose defaults carry tangents
            defaults = table[id(f)][1]
            code = f.__code__
            n = code.co_argcount
            if len(targs) < n:
                first = n - len(defaults)
                targs = tuple(targs) + tuple(
                    defaults[i - first] if i >= first and (not kwargs or
                                                           code.co_varnames[i] not in kwargs)
                    else None for i in range(len(targs), n))
                args = tuple(args) + tuple(f.__defaults__[i - first] for i in
                                           range(len(args), n))
                if kwargs:  # passed by keyword after all: keep them keywords
                    named = {code.co_varnames[i] for i in range(len(args)) if i >= n}
                    del named
        constant = tuple(i for i, d in enumerate(targs) if d is None and not is_mutable(args[i])
                         and not (type(args[i]) is FunctionType
                                  and _captures_tangents(args[i])))
        jvp = forward_hook(f, args, kwargs, constant)
        if jvp.__code__ in TANGENT_PARAMS:  # a tangent function's own tangent function
            names = TANGENT_PARAMS[jvp.__code__]
            return jvp(*args, **(kwargs or {}), **{names[0]: targs, names[1]: tkw})
        try:
            return jvp(*args, **kwargs, _targs=targs, _tkw=tkw) if kwargs else \
                jvp(*args, _targs=targs, _tkw=tkw)
        except StaleTransform:  # a global that inline code relied on was rebound
            invalidate_hook(f)
            jvp = forward_hook(f, args, kwargs, constant)
            return jvp(*args, **(kwargs or {}), _targs=targs, _tkw=tkw)
    if t is MethodType:
        return call(f.__func__, (f.__self__,) + tuple(args),
                    (tangent_of(f.__self__, tf),) + tuple(targs), kwargs, tkw)
    try:
        if f in NONDIFFERENTIABLE:
            return (f(*args, **kwargs) if kwargs else f(*args)), None
    except TypeError:
        pass
    if (t is BuiltinMethodType or t is BuiltinFunctionType) and not isinstance(
            getattr(f, "__self__", None), ModuleType) and getattr(f, "__self__", None) is not None:
        receiver = f.__self__
        return call_method(receiver, tangent_of(receiver, None), f.__name__, args, targs,
                           kwargs, tkw)
    if t is functools.partial:
        bound = tangent_of(f, tf)
        bound_t, bound_kw = bound if isinstance(bound, tuple) else ((None,) * len(f.args), {})
        return call(f.func, tuple(f.args) + tuple(args), tuple(bound_t) + tuple(targs),
                    {**f.keywords, **(kwargs or {})}, {**bound_kw, **(tkw or {})} or None)
    if isinstance(f, type):
        return _construct(f, args, targs, kwargs, tkw)
    if isinstance(f, (staticmethod, classmethod)):
        return call(f.__func__, args, targs, kwargs, tkw)
    method = getattr(t, "__call__", None)  # noqa: B004
    if type(method) is FunctionType:
        return call(method, (f,) + tuple(args), (tangent_of(f, tf),) + tuple(targs),
                    kwargs, tkw)
    if _zero_tangents(targs) and not tkw:
        return (f(*args, **kwargs) if kwargs else f(*args)), None
    wrapped = getattr(f, "__wrapped__", None)
    if wrapped is not None:
        return call(wrapped, args, targs, kwargs, tkw)
    from pygote.runtime.dispatch import _no_rule

    return _no_rule(f, args, kwargs or {})


def _owned(dans, ans, args, targs):
    """``dans``, copied if it is (a view of) an argument's tangent while ``ans`` is not a
    view of that argument: distinct objects must have distinct tangents, or a later
    in-place write to one would change the other's."""
    troot = dans if dans.base is None else _root(dans)
    for a, t in zip(args, targs):
        if type(t) is ndarray and (t is troot or t.base is not None and _root(t) is troot):
            if type(ans) is ndarray and type(a) is ndarray and ans.base is not None and \
                    _root(ans) is (a if a.base is None else _root(a)):
                return dans  # a view of the argument: its tangent is the same view
            return dans.copy()
    return dans


def _owned_batch(dans, ans, args, targs):
    """``_owned`` for a batch of tangents (runtime/batched.py): copied if it may share
    memory with an argument's batch while ``ans`` is not a view of that argument."""
    for a, t in zip(args, targs):
        if type(t) is Batched and np.may_share_memory(dans.data, t.data):
            if type(ans) is ndarray and type(a) is ndarray and ans.base is not None and \
                    np.may_share_memory(ans, a):
                return dans  # a view of the argument: its tangent is the same view
            return dans.copy()
    return dans


def _closure_among(args) -> bool:
    for a in args:
        if type(a) is FunctionType and _captures_tangents(a):
            return True
    return False


def _captures_tangents(f) -> bool:
    """A closure made by forward code reads its free variables' tangents from cells."""
    code = f.__code__
    return bool(code.co_freevars) and any(n.startswith("_d") for n in code.co_freevars)


_PROTOCOL = {abs, float, complex, sum, operator.neg, operator.pos}
_PROTOCOL_DUNDERS = {abs: "__abs__", float: "__float__", complex: "__complex__",
                     operator.neg: "__neg__", operator.pos: "__pos__"}


def _protocol(f, args, targs, kwargs):
    """A builtin applied to a user object: its dunder method, differentiated."""
    if f is sum:
        items = list(args[0])
        ditems = targs[0] if targs[0] is not None else [None] * len(items)
        total = args[1] if len(args) > 1 else kwargs.get("start", 0) if kwargs else 0
        dtotal = targs[1] if len(targs) > 1 else None
        for x, dx in zip(items, ditems):
            total, dtotal = binop(operator.add, total, dtotal, x, dx)
        return total, dtotal
    method = getattr(type(args[0]), _PROTOCOL_DUNDERS[f], None)
    if type(method) is FunctionType:
        return call(method, args, targs)
    from pygote.runtime.dispatch import _no_rule

    return _no_rule(f, args, kwargs or {})


def _construct(cls, args, targs, kwargs, tkw):
    init = getattr(cls, "__init__", None)
    if dataclasses.is_dataclass(cls) and getattr(init, "__code__", None) is not None and \
            init.__code__.co_filename.startswith("<"):  # a generated __init__: fields
        obj = cls(*args, **(kwargs or {}))
        names = [f.name for f in dataclasses.fields(cls) if f.init]
        attrs = {n: d for n, d in zip(names, targs) if d is not None}
        attrs.update({k: v for k, v in (tkw or {}).items() if v is not None})
        dobj = ObjectTangent(attrs)
        table[id(obj)] = (obj, dobj)
        return obj, dobj
    new = getattr(cls, "__new__", None)
    if type(init) is not FunctionType or new is not object.__new__:
        if _zero_tangents(targs) and not tkw:
            return cls(*args, **(kwargs or {})), None
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):  # namedtuple
            fields = cls._fields
            obj = cls(*args, **(kwargs or {}))
            t = list(targs) + [None] * (len(fields) - len(targs))
            for k, v in (tkw or {}).items():
                t[fields.index(k)] = v
            return obj, tuple(t)
        from pygote.runtime.dispatch import _no_rule

        return _no_rule(cls, args, kwargs or {})
    obj = cls.__new__(cls)
    dobj = ObjectTangent()
    table[id(obj)] = (obj, dobj)
    call(init, (obj,) + tuple(args), (dobj,) + tuple(targs), kwargs, tkw)
    return obj, dobj


def call_method(obj, dobj, name, args, targs, kwargs=None, tkw=None):
    """``obj.name(*args, **kwargs)`` with tangents."""
    t = type(obj)
    if dobj is None and table:
        dobj = tangent_of(obj, None)
    if name == "_replace" and isinstance(obj, tuple) and hasattr(t, "_fields"):
        y = obj._replace(**(kwargs or {}))
        d = list(dobj) if dobj is not None else [None] * len(obj)
        for k, v in (tkw or {}).items():
            d[t._fields.index(k)] = v
        return y, tuple(d)
    special = _METHODS.get((t, name))
    if special is not None:
        if special is _dict_update:
            return special(obj, dobj, args, targs, kwargs or {}, tkw)
        return special(obj, dobj, args, targs, kwargs or {})
    if t is ndarray or isinstance(obj, (ndarray, np.generic)):
        # a NumPy scalar's methods are np.generic's descriptors, with rules of their own
        func = getattr(np.generic if isinstance(obj, np.generic) else ndarray, name, None)
        rule = RULES.get(func) if func is not None else None
        if rule is not None:
            return call(func, (obj,) + tuple(args), (dobj,) + tuple(targs), kwargs, tkw)
    attr = getattr(t, name, None)
    if type(attr) is FunctionType:
        return call(attr, (obj,) + tuple(args), (dobj,) + tuple(targs), kwargs, tkw)
    if isinstance(attr, staticmethod):
        return call(attr.__func__, args, targs, kwargs, tkw)
    if isinstance(attr, classmethod):
        return call(attr.__func__, (t,) + tuple(args), (None,) + tuple(targs), kwargs, tkw)
    bound = getattr(obj, name)
    try:
        if bound in _SPECIAL:
            return call(bound, args, targs, kwargs, tkw)
    except TypeError:
        pass
    if dobj is None and _zero_tangents(targs) and not tkw:
        return (bound(*args, **kwargs) if kwargs else bound(*args)), None
    if type(bound) is MethodType or type(bound) is FunctionType:
        return call(bound, args, targs, kwargs, tkw)
    if isinstance(obj, ModuleType):
        return call(bound, args, targs, kwargs, tkw)
    try:
        if bound in NONDIFFERENTIABLE or RULES.get(bound) is not None:
            return call(bound, args, targs, kwargs, tkw)
    except TypeError:
        pass
    if _zero_tangents(targs) and not tkw and not _may_vary(obj, dobj):
        return (bound(*args, **kwargs) if kwargs else bound(*args)), None
    from pygote.runtime.dispatch import _no_rule

    return _no_rule(bound, args, kwargs or {})


def _may_vary(obj, dobj) -> bool:
    return dobj is not None


# ---------------------------------------------------------------- container methods


def _list_tangent(lst, dlst):
    if dlst is None:
        dlst = lookup(lst, True)
        dlst[:] = [None] * len(lst)
    return dlst


def _append(lst, d, args, targs, kw):
    lst.append(args[0])
    if d is not None or targs[0] is not None:
        d = _list_tangent(lst[:-1] and lst, d) if d is not None else _list_tangent(lst, None)
        if len(d) < len(lst):
            d.append(targs[0])
        else:
            d[-1] = targs[0]
    return None, None


def _extend(lst, d, args, targs, kw):
    items = list(args[0])
    n = len(items)
    lst.extend(items)
    dt = targs[0] if targs[0] is not None else tangent_of(args[0], None)
    if d is not None or dt is not None:
        if d is None:
            d = _list_tangent(lst, None)
            d[len(lst) - n:] = list(dt) if dt is not None else [None] * n
        else:
            d.extend(list(dt) if dt is not None else [None] * n)
    return None, None


def _insert(lst, d, args, targs, kw):
    lst.insert(args[0], args[1])
    if d is not None or targs[1] is not None:
        if d is None:
            d = _list_tangent(lst, None)
            d[args[0] if args[0] < len(lst) else -1] = targs[1]
        else:
            d.insert(args[0], targs[1])
    return None, None


def _pop(lst, d, args, targs, kw):
    y = lst.pop(*args)
    return y, (d.pop(*args) if d is not None else None)


def _remove(lst, d, args, targs, kw):
    i = lst.index(args[0])
    del lst[i]
    if d is not None:
        del d[i]
    return None, None


def _reverse(lst, d, args, targs, kw):
    lst.reverse()
    if d is not None:
        d.reverse()
    return None, None


def _sort(lst, d, args, targs, kw):
    key = kw.get("key")
    order = sorted(range(len(lst)), key=(lambda i: key(lst[i])) if key else lst.__getitem__,
                   reverse=kw.get("reverse", False))
    lst[:] = [lst[i] for i in order]
    if d is not None:
        d[:] = [d[i] for i in order]
    return None, None


def _copy(obj, d, args, targs, kw):
    y = obj.copy()
    if d is None:
        return y, None
    dy = d.copy()
    table[id(y)] = (y, dy)
    return y, dy


def _dict_get(d, dd, args, targs, kw):
    y = d.get(*args)
    if args[0] in d:
        return y, (dd.get(args[0]) if dd is not None else None)
    return y, (targs[1] if len(targs) > 1 else None)


def _dict_values(d, dd, args, targs, kw):
    y = list(d.values())
    return y, ([dd.get(k) for k in d] if dd is not None else None)


def _dict_items(d, dd, args, targs, kw):
    y = list(d.items())
    return y, ([(None, dd.get(k)) for k in d] if dd is not None else None)


def _dict_keys(d, dd, args, targs, kw):
    return list(d.keys()), None


def _dict_update(d, dd, args, targs, kw, tkw=None):
    other = dict(args[0]) if args else {}
    other.update(kw)
    dother = {}
    if args:
        t = targs[0] if targs[0] is not None else tangent_of(args[0], None)
        if t is not None:
            dother.update(t if isinstance(t, dict) else dict(zip(dict(args[0]), t)))
    for k, v in (tkw or {}).items():  # d.update(c=v): the keywords' tangents
        if v is not None:
            dother[k] = v
    d.update(other)
    if dd is None and dother:
        dd = lookup(d, True)
    if dd is not None:
        for k in other:
            dd[k] = dother.get(k)
    return None, None


def _dict_setdefault(d, dd, args, targs, kw):
    key = args[0]
    if key in d:
        return d[key], (dd.get(key) if dd is not None else None)
    value = args[1] if len(args) > 1 else None
    d[key] = value
    dv = targs[1] if len(targs) > 1 else None
    if dv is not None or dd is not None:
        dd = dd if dd is not None else lookup(d, True)
        dd[key] = dv
    return value, dv


def _dict_pop(d, dd, args, targs, kw):
    key = args[0]
    if key in d:
        y = d.pop(key)
        return y, (dd.pop(key, None) if dd is not None else None)
    y = d.pop(*args)
    return y, (targs[1] if len(targs) > 1 else None)


def _array_fill(x, dx, args, targs, kw):
    x.fill(args[0])
    if dx is None and targs[0] is not None:
        dx = _array_tangent(x, True)
    if dx is not None:
        dx.fill(np.real(targs[0]) if targs[0] is not None and not np.iscomplexobj(dx)
                else (targs[0] if targs[0] is not None else 0))
    return None, None


def _array_sort(x, dx, args, targs, kw):
    axis = args[0] if args else kw.get("axis", -1)
    if dx is None:
        x.sort(*args, **kw)
        return None, None
    order = np.argsort(x, axis=axis, kind=kw.get("kind"))
    x.sort(*args, **kw)
    dx[...] = np.take_along_axis(dx, order, axis=axis) if axis is not None else dx.ravel()[order]
    return None, None


def _conjugate(z, dz, args, targs, kw):
    return z.conjugate(), (None if dz is None else np.conj(dz) if not isinstance(dz, complex)
                           else dz.conjugate())


def _namedtuple_replace(obj, d, args, targs, kw):
    y = obj._replace(**kw)
    return y, d


_METHODS = {
    (list, "append"): _append, (list, "extend"): _extend, (list, "insert"): _insert,
    (list, "pop"): _pop, (list, "remove"): _remove, (list, "reverse"): _reverse,
    (list, "sort"): _sort, (list, "copy"): _copy,
    (dict, "get"): _dict_get, (dict, "values"): _dict_values, (dict, "items"): _dict_items,
    (dict, "keys"): _dict_keys, (dict, "update"): _dict_update,
    (dict, "setdefault"): _dict_setdefault, (dict, "pop"): _dict_pop, (dict, "copy"): _copy,
    (ndarray, "fill"): _array_fill, (ndarray, "sort"): _array_sort,
    (complex, "conjugate"): _conjugate, (float, "conjugate"): _conjugate,
}


# ---------------------------------------------------------------- special callables


def _with_out(f, rule, args, targs, kwargs, tkw=None):
    """A ufunc writing into ``out=``: the output's tangent is written into out's."""
    out = kwargs["out"]
    target = out[0] if isinstance(out, tuple) else out
    tout = (tkw or {}).get("out")
    tout = tout[0] if isinstance(tout, tuple) else tout
    plain_kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    if "where" in plain_kwargs:
        from pygote.runtime.dispatch import _refuse_out

        _refuse_out(f)
    ans = f(*args, **plain_kwargs)
    dans = fit_tangent(rule.jvp(ans, targs, *args, **plain_kwargs), ans) \
        if rule.jvp is not None else None
    target[...] = ans
    dt = tout if tout is not None else _array_tangent(target, dans is not None)
    if dt is not None:
        dt[...] = _fit_into(dans, dt.dtype) if dans is not None else 0
    return target, dt


def _getattr_builtin(args, targs, kwargs, tkw):
    obj, name = args[0], args[1]
    if not hasattr(obj, name) and len(args) > 2:
        return args[2], targs[2]
    return getattr_(obj, targs[0], name)


def _setattr_builtin(args, targs, kwargs, tkw):
    setattr_(args[0], targs[0], args[1], args[2], targs[2])
    return None, None


def _dict_builtin(args, targs, kwargs, tkw):
    y = dict(*args, **kwargs)
    parts = {}
    if args:
        t = targs[0] if targs[0] is not None else tangent_of(args[0], None)
        if t is not None:
            if isinstance(args[0], dict):
                parts.update(t)
            else:  # pairs
                for (k, _), pair in zip(args[0], t):
                    parts[k] = None if pair is None else pair[1]
    for k, v in (tkw or {}).items():
        parts[k] = v
    if not any(v is not None for v in parts.values()):
        return y, None
    dy = {k: parts.get(k) for k in y}
    table[id(y)] = (y, dy)
    return y, dy


def _copyto(args, targs, kwargs, tkw):
    dst, src = args[0], args[1]
    np.copyto(dst, src, **kwargs)
    ds = targs[1]
    dd = targs[0] if targs[0] is not None else _array_tangent(dst, ds is not None)
    if dd is not None:
        if "where" in kwargs:
            np.copyto(dd, _fit_into(ds, dd.dtype) if ds is not None else 0, where=kwargs["where"])
        else:
            dd[...] = _fit_into(ds, dd.dtype) if ds is not None else 0
    return None, None


def _put(args, targs, kwargs, tkw):
    a, ind, v = args[:3]
    np.put(a, ind, v, **kwargs)
    dv = targs[2]
    da = targs[0] if targs[0] is not None else _array_tangent(a, dv is not None)
    if da is not None:
        np.put(da, ind, _fit_into(dv, da.dtype) if dv is not None else 0, **kwargs)
    return None, None


def _fill_diagonal(args, targs, kwargs, tkw):
    a, val = args[0], args[1]
    np.fill_diagonal(a, val, *args[2:], **kwargs)
    dv = targs[1]
    da = targs[0] if targs[0] is not None else _array_tangent(a, dv is not None)
    if da is not None:
        np.fill_diagonal(da, _fit_into(dv, da.dtype) if dv is not None else 0, *args[2:],
                         **kwargs)
    return None, None


def _ufunc_at(ufunc):
    def at(args, targs, kwargs, tkw):
        a, idx = args[0], args[1]
        b = args[2] if len(args) > 2 else None
        db = targs[2] if len(targs) > 2 else None
        da = targs[0] if targs[0] is not None else _array_tangent(a, db is not None)
        if ufunc is np.multiply and da is not None:
            # each (possibly repeated) entry in turn: d(a * b) = da * b + a * db
            positions = np.arange(a.size).reshape(a.shape)[idx]
            bs = np.broadcast_to(b, positions.shape).ravel()
            dbs = np.broadcast_to(db if db is not None else 0, positions.shape).ravel()
            for p, bk, dbk in zip(positions.ravel(), bs, dbs):
                at = np.unravel_index(p, a.shape)
                da[at] = da[at] * bk + _fit_into(a[at] * dbk, da.dtype)
                a[at] = a[at] * bk
            return None, None
        ufunc.at(a, *args[1:])
        if da is not None and db is not None:
            sign = -1 if ufunc is np.subtract else 1
            np.add.at(da, idx, sign * _fit_into(db, da.dtype))
        return None, None

    return at


def _partial_builtin(args, targs, kwargs, tkw):
    p = functools.partial(*args, **kwargs)
    if _zero_tangents(targs[1:]) and not any(v is not None for v in (tkw or {}).values()):
        return p, None
    bound = (tuple(targs[1:]), {k: v for k, v in (tkw or {}).items() if v is not None})
    table[id(p)] = (p, bound)
    return p, bound


def _tuple_new(args, targs, kwargs, tkw):
    y = tuple.__new__(*args)
    if len(args) < 2 or (targs[1] is None and tangent_of(args[1], None) is None):
        return y, None
    d = targs[1] if targs[1] is not None else tangent_of(args[1], None)
    return y, tuple(d)


_SPECIAL = {
    functools.partial: _partial_builtin, tuple.__new__: _tuple_new,
    getattr: _getattr_builtin, setattr: _setattr_builtin, dict: _dict_builtin,
    np.copyto: _copyto, np.put: _put, np.fill_diagonal: _fill_diagonal,
    np.add.at: _ufunc_at(np.add), np.subtract.at: _ufunc_at(np.subtract),
    np.multiply.at: _ufunc_at(np.multiply),
}
