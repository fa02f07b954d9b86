"""Higher derivatives: differentiating pygote's own transforms.

pygote differentiates Python source, and a transform's output is Python source too: the
tangent function of forward mode (``pygote.transform.forward``) is kept with its source,
so reverse mode can differentiate it again. What it calls, forward mode's runtime
(``pygote.runtime.tangents``), is replaced here by plain Python that the transformers can
follow (``defreplacement``): reverse mode over forward mode is the Hessian-vector product

    H v = gradient of  x -> <grad f(x), v> = jvp(f, x, v)[1],

which costs one forward-mode pass differentiated in reverse: a small multiple of ``f``.

The functions ``pg.grad`` returns are recognised by both dispatchers (``DERIVATIVES``):
- reverse mode meeting ``g = grad(f)`` called at ``x`` with output cotangent ``u`` needs
  ``d/dx <grad f(x), u>``, the Hessian-vector product above (exact for any ``f``, with the
  cotangents of variables ``f`` captures going to their cells as for any call);
- forward mode meeting it with input tangent ``t`` needs ``H t``, the same product.
So ``grad(grad(f))``, ``jacfwd(grad(f))``, ``grad(grad(grad(f)))`` and a ``pg.grad`` called
inside a differentiated function all reduce to transforming source once more.

The replacements are written in the subset both transformers support and read only
values through nondifferentiable helpers (``_kind``...), so that everything that
carries a derivative is visible to the transformer that reads them. They mirror
``tangents`` case by case, with three rules of their own:
- no identity table (``tangents.table``): while tangent code is differentiated in forward
  mode, that table holds the *outer* level's tangents, and a first-order tangent
  registered there would be found as the outer tangent of the same object. A tangent made
  for a mutable object lives where the code sees it instead: the zero tangent of an
  inactive object (``fwd_zero``), the tangent of a container it was read out of
  (``fwd_getitem``, ``fwd_getattr``, ``fwd_iter``), a fresh one for each mutable input
  (``own_tangent``);
- directions are copied (``own_tangent``) before the tangent code writes into them in
  place, and the arguments of a ``pg.grad`` function that writes into them are kept as
  they were (``pristine_args``) for the Hessian product taken after the call;
- each dispatcher (``fwd_call``, ``fwd_call_method``, ``own_tangent``) is a table of small
  handlers: a transform of it is specialized per pattern of argument types, and only the
  handlers a call meets are transformed.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types

import numpy as np

from pygote.errors import DifferentiationError
from pygote.rules.registry import (
    REPLACEMENTS,
    DERIVATIVES,
    NONDIFFERENTIABLE,
    RULES,
    defreplacement,
    defvjp,
    defjvp,
    nondifferentiable,
)
from pygote.runtime import tangents as _t
from pygote.runtime import values as _values
from pygote.runtime.values import fit, fit_tangent, zeros_like

__all__ = ["hvp", "hessian", "directional_gradient"]


# ---------------------------------------------------------------- what a value is (plain)


# The replacements below mirror ``pygote.runtime.tangents`` piece by piece (the function of
# the same job is named in each docstring). Two differences, both forced by being
# differentiated again:
# - no identity table: a tangent made for a mutable object (a fresh array, a list read out
#   of an object...) is kept where the code can see it (a local, or the tangent of the
#   container it was read from), never in ``tangents.table``, which holds the tangents of
#   the *outer* level while this code runs under forward mode (a first-order tangent
#   registered there would be found as the outer tangent of the same object);
# - every value is read through a ``nondifferentiable`` helper (``_kind``...), and every
#   computation that carries a derivative stays in plain sight.

_SEQUENCE_TYPES = (list, tuple)


def _kind(f, args, kwargs):
    """How forward mode calls ``f`` (``tangents.call``'s order of cases)."""
    from pygote.rules.registry import REPLACEMENTS

    try:
        rule = RULES.get(f)
    except TypeError:
        rule = None
    if rule is not None and (rule.vjp is not None or rule.jvp is not None):
        if f in _t._PROTOCOL and args and _t._user(args[0]):
            return "protocol"
        if kwargs and kwargs.get("out") is not None:
            return "rule_out" if rule.jvp is not None else "no_jvp"
        return "rule" if rule.jvp is not None else "no_jvp"
    code = getattr(f, "__code__", None)
    if code is not None and code in DERIVATIVES:
        return "derivative"
    try:
        if f in NONDIFFERENTIABLE:
            return "plain"
    except TypeError:
        pass
    try:
        special = _SPECIAL.get(f)
    except TypeError:
        special = None
    if special is not None:
        return special
    try:
        if f in REPLACEMENTS:
            return "replaced"
    except TypeError:
        pass
    t = type(f)
    if t.__name__ == "function":
        return "python"
    if t.__name__ == "method":
        return "method"
    if t.__name__ in ("builtin_function_or_method", "method-wrapper") and \
            getattr(f, "__self__", None) is not None and \
            type(f.__self__).__name__ != "module":
        return "bound_builtin"
    if isinstance(f, functools.partial):
        return "partial"
    if isinstance(f, type):
        return "class"
    if isinstance(f, (staticmethod, classmethod)):
        return "static"
    if type(getattr(t, "__call__", None)).__name__ == "function":  # noqa: B004 (the method itself)
        return "callable"
    if getattr(f, "__wrapped__", None) is not None:
        return "wrapped"
    return "other"


def _no_tangent(targs) -> bool:
    for t in targs:
        if t is not None:
            return False
    return True


def _no_keyword_tangent(tkw) -> bool:
    if not tkw:
        return True
    for k in tkw:
        if tkw[k] is not None:
            return False
    return True


def _replacement(f):
    from pygote.rules.registry import REPLACEMENTS

    return REPLACEMENTS[f]


def _tangent_function(f, args, kwargs, targs):
    # as ``tangents.call``: a closure reading tangents from its cells is never a constant
    constant = tuple(i for i, d in enumerate(targs) if d is None and not _t.is_mutable(args[i])
                     and not (type(args[i]).__name__ == "function"
                              and _t._captures_tangents(args[i])))
    return _t.forward_hook(f, args, kwargs, constant)


def _tangent_params(jvp):
    from pygote.transform.forward import TANGENT_PARAMS, TANGENT_PARAMS_DEFAULT

    return TANGENT_PARAMS.get(jvp.__code__, TANGENT_PARAMS_DEFAULT)


def _rule_jvp(f):
    return RULES[f].jvp


def _method_self(m):
    return m.__self__


def _method_func(m):
    return m.__func__


def _static_func(f):
    return f.__func__


def _call_method_of(f):
    return type(f).__call__


def _wrapped(f):
    return getattr(f, "__wrapped__", None)


def _bound_parts(f):
    """A bound builtin method: its receiver and name."""
    return f.__self__, f.__name__


def _partial_parts(p):
    return p.func, tuple(p.args), dict(p.keywords)


def _without_out(kwargs):
    out = {}
    for k in kwargs:
        if k != "out":
            out[k] = kwargs[k]
    return out


def _out_target(out):
    return out[0] if isinstance(out, tuple) else out


def _refuse_where(f, kwargs):
    if "where" in kwargs:
        from pygote.runtime.dispatch import _refuse_out

        _refuse_out(f)


def _unsupported(f):
    raise DifferentiationError(
        f"pygote cannot take a higher derivative through {getattr(f, '__qualname__', f)!r} "
        "yet (forward mode over it is a runtime call, not source). Differentiate once, or give "
        "it a rule with pg.custom_jvp.")


def _no_jvp(f):
    raise DifferentiationError(
        f"pygote has no forward-mode rule for {RULES[f].name} (only a reverse one), so it "
        "cannot take a higher derivative through it in forward mode: use reverse mode, or "
        "register one with pg.register_jvp.")


nondifferentiable(_kind, _no_tangent, _no_keyword_tangent, _replacement, _tangent_function,
                  _rule_jvp, _tangent_params, _method_self, _method_func, _static_func,
                  _call_method_of, _wrapped, _bound_parts, _partial_parts, _without_out,
                  _out_target, _refuse_where, _unsupported, _no_jvp)


def _call_plain(f, args, kwargs):
    if kwargs:
        return f(*args, **kwargs)
    return f(*args)


def fwd_call(f, args, targs, kwargs=None, tkw=None, tf=None):
    """``tangents.call``: ``(f(*args, **kwargs), its tangent)``; ``tf`` is the tangent of
    ``f`` itself (a callable object's, a bound method's object's, a partial's).

    One handler per kind of callable (``_CALL_HANDLERS``), all with this signature: the
    function transformed for each pattern of argument types stays small."""
    handler = _call_handler(f, args, kwargs)
    return handler(f, args, targs, kwargs, tkw, tf)


def _call_handler(f, args, kwargs):
    return _CALL_HANDLERS[_kind(f, args, kwargs)]


nondifferentiable(_call_handler)


def fwd_rule(f, args, targs, kwargs, tkw, tf):
    """A primitive with a forward rule."""
    if kwargs:
        ans = f(*args, **kwargs)
    else:
        ans = f(*args)
    if _no_tangent(targs) and _no_keyword_tangent(tkw):
        return ans, None
    jvp = _rule_jvp(f)
    if kwargs:
        t = jvp(ans, targs, *args, **kwargs)
    else:
        t = jvp(ans, targs, *args)
    return ans, fit_tangent(t, ans)


def fwd_python(f, args, targs, kwargs, tkw, tf):
    """A Python function: its tangent function (transformed source)."""
    jvp = _tangent_function(f, args, kwargs, targs)
    names = _tangent_params(jvp)
    tangents = {names[0]: targs, names[1]: tkw}
    if kwargs:
        return jvp(*args, **kwargs, **tangents)
    return jvp(*args, **tangents)


def fwd_plain(f, args, targs, kwargs, tkw, tf):
    if kwargs:
        return f(*args, **kwargs), None
    return f(*args), None


def fwd_no_jvp(f, args, targs, kwargs, tkw, tf):
    if _no_tangent(targs) and _no_keyword_tangent(tkw):
        return _call_plain(f, args, kwargs), None
    return _no_jvp(f)


def fwd_other(f, args, targs, kwargs, tkw, tf):
    """Anything else: plain when nothing varies, else its ``__wrapped__`` function."""
    if _no_tangent(targs) and _no_keyword_tangent(tkw):
        return _call_plain(f, args, kwargs), None
    if _wrapped(f) is not None:
        return fwd_call(_wrapped(f), args, targs, kwargs, tkw)
    return _unsupported(f)


def fwd_derivative(f, args, targs, kwargs, tkw, tf):
    return derivative_forward(f, args, targs, kwargs)


def fwd_replaced(f, args, targs, kwargs, tkw, tf):
    return fwd_call(_replacement(f), args, targs, kwargs, tkw, tf)


def fwd_method(f, args, targs, kwargs, tkw, tf):
    """A bound method: its function with the object first (``tf`` is the object's tangent)."""
    return fwd_call(_method_func(f), (_method_self(f),) + tuple(args), (tf,) + tuple(targs),
                    kwargs, tkw)


def fwd_bound_builtin(f, args, targs, kwargs, tkw, tf):
    receiver, name = _bound_parts(f)
    return fwd_call_method(receiver, tf, name, args, targs, kwargs, tkw)


def fwd_static(f, args, targs, kwargs, tkw, tf):
    return fwd_call(_static_func(f), args, targs, kwargs, tkw)


def fwd_callable(f, args, targs, kwargs, tkw, tf):
    """An object with a Python ``__call__`` (``tf``: the object's tangent)."""
    return fwd_call(_call_method_of(f), (f,) + tuple(args), (tf,) + tuple(targs), kwargs, tkw)


def fwd_setattr_builtin(f, args, targs, kwargs, tkw, tf):
    fwd_setattr(args[0], targs[0], args[1], args[2], targs[2])
    return None, None


def fwd_with_out(f, args, targs, kwargs, tkw, tf=None):
    """``tangents._with_out``: a ufunc writing into ``out=``; the output's tangent is
    written into out's."""
    _refuse_where(f, kwargs)
    target = _out_target(kwargs["out"])
    tout = None
    if tkw:
        tout = tkw.get("out")
        if tout is not None:
            tout = _out_target(tout)
    plain = _without_out(kwargs)
    ans = _call_plain(f, args, plain)
    dans = None
    if not _no_tangent(targs):
        jvp = _rule_jvp(f)
        if plain:
            dans = fit_tangent(jvp(ans, targs, *args, **plain), ans)
        else:
            dans = fit_tangent(jvp(ans, targs, *args), ans)
    target[...] = ans
    if tout is None:
        if dans is None:
            return target, None
        tout = _fresh_tangent(target)
    if dans is None:
        tout[...] = 0.0
    else:
        tout[...] = _fit_into(dans, tout)
    return target, tout


def _fit_kind(dv, slot):
    return "real" if np.iscomplexobj(dv) and not np.iscomplexobj(slot) else "same"


nondifferentiable(_fit_kind)


def _fit_into(dv, slot):
    """``tangents._fit_into``: a tangent written into a real array drops its imaginary part."""
    if _fit_kind(dv, slot) == "real":
        return np.real(dv)
    return dv


def _user_kind(a, b, name):
    """The dunder method of a user object that ``tangents.binop`` would call."""
    for side, x in (("left", a), ("right", b)):
        if not _t._user(x):
            continue
        dunder = name if side == "left" else "__r" + name[2:]
        method = getattr(type(x), dunder, None)
        if type(method).__name__ == "function":
            return side
    return None


def _dunder(x, name):
    return getattr(type(x), name)


def _binop_dunder(op):
    return _t._DUNDER[_t._BY_FUNCTION[op]]


def _reflected(name):
    return "__r" + name[2:]


def _is_not_implemented(y):
    return y is NotImplemented


def _has_function(x, name):
    return _t._user(x) and type(getattr(type(x), name, None)).__name__ == "function"


_UNARY_DUNDERS = {operator.neg: "__neg__", operator.pos: "__pos__", abs: "__abs__"}


def _unary_dunder(op):
    return _UNARY_DUNDERS.get(op)


nondifferentiable(_user_kind, _dunder, _binop_dunder, _reflected, _is_not_implemented,
                  _has_function, _unary_dunder)


def fwd_binop(op, a, da, b, db):
    """``tangents.binop``: user objects' dunder methods first, then the operator."""
    if _t._user(a) or _t._user(b):
        name = _binop_dunder(op)
        if _has_function(a, name):
            y, dy = fwd_call(_dunder(a, name), (a, b), (da, db))
            if not _is_not_implemented(y):
                return y, dy
        reflected = _reflected(name)
        if _has_function(b, reflected):
            y, dy = fwd_call(_dunder(b, reflected), (b, a), (db, da))
            if not _is_not_implemented(y):
                return y, dy
    return fwd_call(op, (a, b), (da, db))


def fwd_unop(op, a, da):
    """``tangents.unop``."""
    name = _unary_dunder(op)
    if name is not None and _has_function(a, name):
        return fwd_call(_dunder(a, name), (a,), (da,))
    return fwd_call(op, (a,), (da,))


def _protocol_dunder(f):
    return _t._PROTOCOL_DUNDERS.get(f)


def _is_sum(f):
    return f is sum


nondifferentiable(_protocol_dunder, _is_sum)


def fwd_protocol(f, args, targs, kwargs, tkw=None, tf=None):
    """``tangents._protocol``: a builtin applied to a user object: its dunder method."""
    if _is_sum(f):
        items = list(args[0])
        ditems = targs[0]
        if ditems is None:
            ditems = [None] * len(items)
        total = 0
        dtotal = None
        if len(args) > 1:
            total = args[1]
            dtotal = targs[1]
        elif kwargs and "start" in kwargs:
            total = kwargs["start"]
        for i in range(len(items)):
            total, dtotal = fwd_binop(operator.add, total, dtotal, items[i], ditems[i])
        return total, dtotal
    name = _protocol_dunder(f)
    if _has_function(args[0], name):
        return fwd_call(_dunder(args[0], name), args, targs)
    return _unsupported(f)


def fwd_dict(f, args, targs, kwargs, tkw, tf=None):
    """``tangents._dict_builtin``: ``dict(mapping or pairs, **kw)`` with its values'
    tangents."""
    if kwargs:
        y = dict(*args, **kwargs)
    else:
        y = dict(*args)
    d = {}
    if args and targs[0] is not None:
        if isinstance(args[0], dict):
            for k in args[0]:
                d[k] = targs[0].get(k)
        else:  # pairs
            pairs = list(args[0])
            for i in range(len(pairs)):
                pair = targs[0][i]
                if pair is not None:
                    d[pairs[i][0]] = pair[1]
    if tkw:
        for k in tkw:
            d[k] = tkw[k]
    if _no_keyword_tangent(d):
        return y, None
    out = {}
    for k in y:
        out[k] = d.get(k)
    return y, out


def fwd_getattr_builtin(f, args, targs, kwargs=None, tkw=None, tf=None):
    """``getattr(obj, name[, default])``."""
    if len(args) > 2 and not _has_attribute(args[0], args[1]):
        return args[2], targs[2]
    return fwd_getattr(args[0], targs[0], args[1])


def _has_attribute(x, name):
    return hasattr(x, name)


nondifferentiable(_has_attribute)


def fwd_partial_new(f, args, targs, kwargs, tkw, tf=None):
    """``functools.partial(func, *bound, **kw)``. Its tangent is ``(tangents of the bound
    arguments, of the bound keywords, the bound arguments, the bound keywords)``: the
    values ride along with their tangents, so that a call of the partial reads them where
    the transformer sees where they came from (``tangents._partial_builtin`` keeps the
    first two only, in its identity table)."""
    if kwargs:
        p = functools.partial(*args, **kwargs)
    else:
        p = functools.partial(*args)
    if _no_tangent(targs[1:]) and _no_keyword_tangent(tkw):
        return p, None
    bound_kw = {}
    if tkw:
        for k in tkw:
            bound_kw[k] = tkw[k]
    values_kw = {}
    if kwargs:
        for k in kwargs:
            values_kw[k] = kwargs[k]
    return p, (tuple(targs[1:]), bound_kw, tuple(args[1:]), values_kw)


def fwd_partial_call(p, args, targs, kwargs, tkw, tf):
    """A call of a ``functools.partial`` (``tangents.call``'s partial case)."""
    func, bound, bound_keywords = _partial_parts(p)
    if tf is None:
        bound_t = (None,) * len(bound)
        bound_tkw = {}
    else:
        bound_t = tf[0]
        bound_tkw = tf[1]
        bound = tf[2]
        bound_keywords = tf[3]
    all_kwargs = {}
    for k in bound_keywords:
        all_kwargs[k] = bound_keywords[k]
    if kwargs:
        for k in kwargs:
            all_kwargs[k] = kwargs[k]
    all_tkw = {}
    for k in bound_tkw:
        all_tkw[k] = bound_tkw[k]
    if tkw:
        for k in tkw:
            all_tkw[k] = tkw[k]
    return fwd_call(func, tuple(bound) + tuple(args), tuple(bound_t) + tuple(targs),
                    all_kwargs, all_tkw)


def _construct_kind(cls):
    init = getattr(cls, "__init__", None)
    if dataclasses.is_dataclass(cls) and getattr(init, "__code__", None) is not None and \
            init.__code__.co_filename.startswith("<"):  # a generated __init__: fields
        return "dataclass"
    if type(init).__name__ == "function" and getattr(cls, "__new__", None) is object.__new__:
        return "init"
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return "namedtuple"
    return "plain"


def _init_fields(cls):
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def _new_instance(cls):
    return cls.__new__(cls)


def _init_of(cls):
    return cls.__init__


def _new_object_tangent():
    return _t.ObjectTangent()


def _fields_of(cls):
    return cls._fields


nondifferentiable(_construct_kind, _init_fields, _new_instance, _init_of, _new_object_tangent,
                  _fields_of)


def fwd_construct(cls, args, targs, kwargs, tkw, tf=None):
    """``tangents._construct``: a class called. Dataclasses with a generated ``__init__``
    get their fields' tangents; classes with a Python ``__init__`` run its tangent function
    on a fresh object with a fresh ``ObjectTangent``; namedtuples get a tuple of tangents."""
    kind = _construct_kind(cls)
    if kind == "dataclass":
        obj = _call_plain(cls, args, kwargs)
        names = _init_fields(cls)
        dobj = _new_object_tangent()
        attrs = dobj.attrs
        for i in range(len(targs)):
            if targs[i] is not None:
                attrs[names[i]] = targs[i]
        if tkw:
            for k in tkw:
                if tkw[k] is not None:
                    attrs[k] = tkw[k]
        return obj, dobj
    if kind == "init":
        obj = _new_instance(cls)
        dobj = _new_object_tangent()
        fwd_call(_init_of(cls), (obj,) + tuple(args), (dobj,) + tuple(targs), kwargs, tkw)
        return obj, dobj
    if _no_tangent(targs) and _no_keyword_tangent(tkw):
        return _call_plain(cls, args, kwargs), None
    if kind == "namedtuple":
        obj = _call_plain(cls, args, kwargs)
        fields = _fields_of(cls)
        t = list(targs) + [None] * (len(fields) - len(targs))
        if tkw:
            for k in tkw:
                t[fields.index(k)] = tkw[k]
        return obj, tuple(t)
    return _unsupported(cls)


def fwd_tuple_new(f, args, targs, kwargs=None, tkw=None, tf=None):
    """``tuple.__new__(cls, iterable)`` (namedtuple's ``_make``)."""
    y = tuple.__new__(*args)
    if len(args) < 2 or targs[1] is None:
        return y, None
    return y, tuple(targs[1])


def fwd_copyto(f, args, targs, kwargs, tkw=None, tf=None):
    """``np.copyto(dst, src, ...)``: the source's tangent is copied into the destination's."""
    dst = args[0]
    if kwargs:
        np.copyto(dst, args[1], **kwargs)
    else:
        np.copyto(dst, args[1])
    dd = targs[0]
    ds = targs[1]
    if dd is None:
        if ds is None:
            return None, None
        return _unsupported(np.copyto)
    if ds is None:
        ds = 0.0
    else:
        ds = _fit_into(ds, dd)
    if kwargs:
        np.copyto(dd, ds, **kwargs)
    else:
        np.copyto(dd, ds)
    return None, None


def fwd_put(f, args, targs, kwargs, tkw=None, tf=None):
    """``np.put(a, ind, v)``."""
    a = args[0]
    ind = args[1]
    if kwargs:
        np.put(a, ind, args[2], **kwargs)
    else:
        np.put(a, ind, args[2])
    da = targs[0]
    dv = targs[2]
    if da is None:
        if dv is None:
            return None, None
        return _unsupported(np.put)
    if dv is None:
        dv = 0.0
    else:
        dv = _fit_into(dv, da)
    if kwargs:
        np.put(da, ind, dv, **kwargs)
    else:
        np.put(da, ind, dv)
    return None, None


def fwd_fill_diagonal(f, args, targs, kwargs, tkw=None, tf=None):
    """``np.fill_diagonal(a, val, wrap=False)``."""
    a = args[0]
    rest = tuple(args[2:])
    np.fill_diagonal(a, args[1], *rest, **(kwargs or {}))
    da = targs[0]
    dv = targs[1]
    if da is None:
        if dv is None:
            return None, None
        return _unsupported(np.fill_diagonal)
    if dv is None:
        dv = 0.0
    else:
        dv = _fit_into(dv, da)
    np.fill_diagonal(da, dv, *rest, **(kwargs or {}))
    return None, None


def _at_positions(a, idx, b):
    """The flat positions ``np.multiply.at(a, idx, b)`` visits, in order, and for each
    the index of its factor in ``b`` broadcast to them."""
    positions = np.arange(a.size).reshape(a.shape)[idx]
    flat = positions.ravel()
    factor = np.broadcast_to(np.arange(np.size(b)).reshape(np.shape(b)), positions.shape).ravel()
    out = []
    for k in range(flat.size):
        out.append((np.unravel_index(int(flat[k]), a.shape), int(factor[k])))
    return out


nondifferentiable(_at_positions)


def fwd_add_at(f, args, targs, kwargs=None, tkw=None, tf=None):
    """``np.add.at`` / ``np.subtract.at``: linear, the tangents accumulate the same way."""
    at = f
    a = args[0]
    idx = args[1]
    at(a, *args[1:])
    da = targs[0]
    db = None
    if len(targs) > 2:
        db = targs[2]
    if db is None:
        return None, None
    if da is None:
        return _unsupported(at)
    at(da, idx, _fit_into(db, da))
    return None, None


def fwd_multiply_at(f, args, targs, kwargs=None, tkw=None, tf=None):
    """``np.multiply.at(a, idx, b)``: each (possibly repeated) entry in turn,
    ``d(a * b) = da * b + a * db`` (as ``tangents._ufunc_at``)."""
    a = args[0]
    idx = args[1]
    b = args[2]
    db = None
    if len(targs) > 2:
        db = targs[2]
    da = targs[0]
    if da is None and db is None:
        np.multiply.at(a, idx, b)
        return None, None
    if da is None:
        return _unsupported(np.multiply.at)
    bs = np.reshape(np.asarray(b), (-1,))
    dbs = None
    if db is not None:
        dbs = np.reshape(np.asarray(db), (-1,))
    for at, k in _at_positions(a, idx, b):
        if dbs is None:
            da[at] = da[at] * bs[k]
        else:
            da[at] = da[at] * bs[k] + a[at] * dbs[k]
        a[at] = a[at] * bs[k]
    return None, None


_SPECIAL = {
    functools.partial: "partial_new", tuple.__new__: "tuple_new", getattr: "getattr",
    setattr: "setattr", dict: "dict", np.copyto: "copyto", np.put: "put",
    np.fill_diagonal: "fill_diagonal", np.add.at: "add_at", np.subtract.at: "subtract_at",
    np.multiply.at: "multiply_at",
}

_CALL_HANDLERS = {
    "rule": fwd_rule, "rule_out": fwd_with_out, "no_jvp": fwd_no_jvp,
    "protocol": fwd_protocol, "derivative": fwd_derivative, "plain": fwd_plain,
    "dict": fwd_dict, "partial_new": fwd_partial_new, "getattr": fwd_getattr_builtin,
    "setattr": fwd_setattr_builtin, "copyto": fwd_copyto, "put": fwd_put,
    "fill_diagonal": fwd_fill_diagonal, "add_at": fwd_add_at, "subtract_at": fwd_add_at,
    "multiply_at": fwd_multiply_at, "tuple_new": fwd_tuple_new, "replaced": fwd_replaced,
    "python": fwd_python, "method": fwd_method, "bound_builtin": fwd_bound_builtin,
    "partial": fwd_partial_call, "class": fwd_construct, "static": fwd_static,
    "callable": fwd_callable, "wrapped": fwd_other, "other": fwd_other,
}


# ---------------------------------------------------------------- methods


def _method_kind(obj, name):
    """``tangents.call_method``'s order of cases."""
    t = type(obj)
    if name == "_replace" and isinstance(obj, tuple) and hasattr(t, "_fields"):
        return "replace"
    if (t, name) in _METHODS or (isinstance(obj, list) and (list, name) in _METHODS) or \
            (isinstance(obj, dict) and (dict, name) in _METHODS):
        return "special"
    if isinstance(obj, (np.ndarray, np.generic)):
        func = getattr(np.generic if isinstance(obj, np.generic) else np.ndarray, name, None)
        rule = RULES.get(func) if func is not None else None
        if rule is not None:
            return "array_rule"
    if type(obj).__name__ == "module" or isinstance(obj, type):
        return "attribute"
    attr = getattr(t, name, None)
    if type(attr).__name__ == "function":
        return "function"
    if isinstance(attr, staticmethod):
        return "static"
    if isinstance(attr, classmethod):
        return "class"
    return "bound"


def _special_method(obj, name):
    key = (type(obj), name)
    if key in _METHODS:
        return _METHODS[key]
    return _METHODS[(list if isinstance(obj, list) else dict, name)]


def _ndarray_method(name):
    return getattr(np.ndarray, name)


def _type_attribute(obj, name):
    return getattr(type(obj), name)


def _attribute(obj, name):
    return getattr(obj, name)


def _class_of(obj):
    return type(obj)


def _replace_index(obj, name):
    return type(obj)._fields.index(name)


nondifferentiable(_method_kind, _special_method, _ndarray_method, _type_attribute, _attribute,
                  _class_of, _replace_index)


def fwd_call_method(obj, dobj, name, args, targs, kwargs=None, tkw=None):
    """``tangents.call_method``: ``obj.name(*args, **kwargs)`` with tangents (one handler
    per case, as ``fwd_call``)."""
    handler = _METHOD_HANDLERS[_method_kind(obj, name)]
    return handler(obj, dobj, name, args, targs, kwargs, tkw)


def fwd_method_replace(obj, dobj, name, args, targs, kwargs, tkw):
    """A namedtuple's ``_replace``."""
    y = obj._replace(**(kwargs or {}))
    if dobj is None:
        d = [None] * len(obj)
    else:
        d = list(dobj)
    if tkw:
        for k in tkw:
            d[_replace_index(obj, k)] = tkw[k]
    return y, tuple(d)


def fwd_method_special(obj, dobj, name, args, targs, kwargs, tkw):
    """Container methods (``_METHODS``)."""
    method = _special_method(obj, name)
    if kwargs:
        return method(obj, dobj, args, targs, kwargs, tkw)
    return method(obj, dobj, args, targs, {}, tkw)


def fwd_method_function(obj, dobj, name, args, targs, kwargs, tkw):
    """A Python method, or an array method with a rule: called with the object first."""
    return fwd_call(_method_target(obj, name), (obj,) + tuple(args), (dobj,) + tuple(targs),
                    kwargs, tkw)


def fwd_method_attribute(obj, dobj, name, args, targs, kwargs, tkw):
    """A module's function or a class's attribute."""
    return fwd_call(_attribute(obj, name), args, targs, kwargs, tkw)


def fwd_method_static(obj, dobj, name, args, targs, kwargs, tkw):
    return fwd_call(_static_func(_type_attribute(obj, name)), args, targs, kwargs, tkw)


def fwd_method_class(obj, dobj, name, args, targs, kwargs, tkw):
    return fwd_call(_static_func(_type_attribute(obj, name)), (_class_of(obj),) + tuple(args),
                    (None,) + tuple(targs), kwargs, tkw)


def fwd_method_bound(obj, dobj, name, args, targs, kwargs, tkw):
    """Any other bound method: plain when nothing varies, else through ``fwd_call``."""
    method = _attribute(obj, name)
    if dobj is None and _no_tangent(targs) and _no_keyword_tangent(tkw):
        return _call_plain(method, args, kwargs), None
    if _callable_kind(method) == "call":
        return fwd_call(method, args, targs, kwargs, tkw, dobj)
    if _no_tangent(targs) and _no_keyword_tangent(tkw):
        return _call_plain(method, args, kwargs), None  # reads its object: no tangent
    return _unsupported(method)


def _method_target(obj, name):
    if isinstance(obj, np.generic):
        return getattr(np.generic, name)
    if isinstance(obj, np.ndarray):
        return getattr(np.ndarray, name)
    return getattr(type(obj), name)


nondifferentiable(_method_target)


def _callable_kind(method):
    """A bound method ``tangents.call_method`` hands to ``call``: Python code, a rule, a
    nondifferentiable function or a special one."""
    if type(method).__name__ in ("function", "method"):
        return "call"
    try:
        if method in NONDIFFERENTIABLE or RULES.get(method) is not None or method in _SPECIAL:
            return "call"
    except TypeError:
        pass
    return "other"


nondifferentiable(_callable_kind)


def fwd_list_append(lst, d, args, targs, kw, tkw=None):
    lst.append(args[0])
    if d is not None:
        d.append(targs[0])
    elif targs[0] is not None:
        return _unsupported(list.append)
    return None, None


def fwd_list_extend(lst, d, args, targs, kw, tkw=None):
    items = list(args[0])
    lst.extend(items)
    if d is not None:
        dt = targs[0]
        for i in range(len(items)):
            if dt is None:
                d.append(None)
            else:
                d.append(dt[i])
    elif targs[0] is not None:
        return _unsupported(list.extend)
    return None, None


def fwd_list_insert(lst, d, args, targs, kw, tkw=None):
    lst.insert(args[0], args[1])
    if d is not None:
        d.insert(args[0], targs[1])
    elif targs[1] is not None:
        return _unsupported(list.insert)
    return None, None


def fwd_list_pop(lst, d, args, targs, kw, tkw=None):
    y = lst.pop(*args)
    if d is None:
        return y, None
    return y, d.pop(*args)


def fwd_list_remove(lst, d, args, targs, kw, tkw=None):
    i = lst.index(args[0])
    del lst[i]
    if d is not None:
        del d[i]
    return None, None


def fwd_list_reverse(lst, d, args, targs, kw, tkw=None):
    lst.reverse()
    if d is not None:
        d.reverse()
    return None, None


def _sort_order(lst, kw):
    key = kw.get("key")
    if key is None:
        return sorted(range(len(lst)), key=lst.__getitem__, reverse=kw.get("reverse", False))
    return sorted(range(len(lst)), key=lambda i: key(lst[i]), reverse=kw.get("reverse", False))


nondifferentiable(_sort_order)


def fwd_list_sort(lst, d, args, targs, kw, tkw=None):
    order = _sort_order(lst, kw)
    items = []
    for i in order:
        items.append(lst[i])
    lst[:] = items
    if d is not None:
        ds = []
        for i in order:
            ds.append(d[i])
        d[:] = ds
    return None, None


def fwd_copy(obj, d, args, targs, kw, tkw=None):
    y = obj.copy()
    if d is None:
        return y, None
    return y, d.copy()


def fwd_dict_get(d, dd, args, targs, kw, tkw=None):
    key = args[0]
    if key in d:
        if dd is None:
            return d[key], None
        return d[key], dd.get(key)
    if len(args) > 1:
        return args[1], targs[1]
    return None, None


def fwd_dict_values(d, dd, args, targs, kw, tkw=None):
    y = []
    dy = []
    for k in d:
        y.append(d[k])
        if dd is not None:
            dy.append(dd.get(k))
    if dd is None:
        return y, None
    return y, dy


def fwd_dict_items(d, dd, args, targs, kw, tkw=None):
    y = []
    dy = []
    for k in d:
        y.append((k, d[k]))
        if dd is not None:
            dy.append((None, dd.get(k)))
    if dd is None:
        return y, None
    return y, dy


def fwd_dict_keys(d, dd, args, targs, kw, tkw=None):
    return list(d.keys()), None


def fwd_dict_update(d, dd, args, targs, kw, tkw=None):
    other = {}
    dother = {}
    if args:
        src = args[0]
        t = targs[0]
        if isinstance(src, dict):
            for k in src:
                other[k] = src[k]
                if t is not None:
                    dother[k] = t.get(k)
        else:
            pairs = list(src)
            for i in range(len(pairs)):
                other[pairs[i][0]] = pairs[i][1]
                if t is not None and t[i] is not None:
                    dother[pairs[i][0]] = t[i][1]
    for k in kw:
        other[k] = kw[k]
        if tkw:
            dother[k] = tkw.get(k)
    d.update(other)
    if dd is None:
        if _no_keyword_tangent(dother):
            return None, None
        return _unsupported(dict.update)
    for k in other:
        dd[k] = dother.get(k)
    return None, None


def fwd_dict_setdefault(d, dd, args, targs, kw, tkw=None):
    key = args[0]
    if key in d:
        if dd is None:
            return d[key], None
        return d[key], dd.get(key)
    value = None
    dv = None
    if len(args) > 1:
        value = args[1]
        dv = targs[1]
    d[key] = value
    if dd is not None:
        dd[key] = dv
    elif dv is not None:
        return _unsupported(dict.setdefault)
    return value, dv


def fwd_dict_pop(d, dd, args, targs, kw, tkw=None):
    key = args[0]
    if key in d:
        y = d.pop(key)
        if dd is None:
            return y, None
        return y, dd.pop(key, None)
    y = d.pop(*args)
    if len(targs) > 1:
        return y, targs[1]
    return y, None


def fwd_array_fill(x, dx, args, targs, kw, tkw=None):
    x.fill(args[0])
    if dx is None:
        if targs[0] is None:
            return None, None
        return _unsupported(np.ndarray.fill)
    if targs[0] is None:
        dx[...] = 0.0
    else:
        dx[...] = _fit_into(targs[0], dx)
    return None, None


def _sort_permutation(x, args, kw):
    axis = args[0] if args else kw.get("axis", -1)
    order = np.argsort(x, axis=axis, kind=kw.get("kind"))
    return axis, order


nondifferentiable(_sort_permutation)


def fwd_array_sort(x, dx, args, targs, kw, tkw=None):
    if dx is None:
        x.sort(*args, **kw)
        return None, None
    axis, order = _sort_permutation(x, args, kw)
    x[...] = np.take_along_axis(x, order, axis=axis)
    dx[...] = np.take_along_axis(dx, order, axis=axis)
    return None, None


def fwd_conjugate(z, dz, args, targs, kw, tkw=None):
    if dz is None:
        return z.conjugate(), None
    return z.conjugate(), np.conj(dz)


_METHODS = {
    (list, "append"): fwd_list_append, (list, "extend"): fwd_list_extend,
    (list, "insert"): fwd_list_insert, (list, "pop"): fwd_list_pop,
    (list, "remove"): fwd_list_remove, (list, "reverse"): fwd_list_reverse,
    (list, "sort"): fwd_list_sort, (list, "copy"): fwd_copy,
    (dict, "get"): fwd_dict_get, (dict, "values"): fwd_dict_values,
    (dict, "items"): fwd_dict_items, (dict, "keys"): fwd_dict_keys,
    (dict, "update"): fwd_dict_update, (dict, "setdefault"): fwd_dict_setdefault,
    (dict, "pop"): fwd_dict_pop, (dict, "copy"): fwd_copy,
    (np.ndarray, "fill"): fwd_array_fill, (np.ndarray, "sort"): fwd_array_sort,
    (complex, "conjugate"): fwd_conjugate, (float, "conjugate"): fwd_conjugate,
}

_METHOD_HANDLERS = {
    "replace": fwd_method_replace, "special": fwd_method_special,
    "array_rule": fwd_method_function, "function": fwd_method_function,
    "attribute": fwd_method_attribute, "static": fwd_method_static,
    "class": fwd_method_class, "bound": fwd_method_bound,
}


# ---------------------------------------------------------------- reads and writes


def _item_kind(x):
    if isinstance(x, dict):
        return "dict"
    if isinstance(x, (np.ndarray, list, tuple)):
        return "sequence"
    if isinstance(x, (str, bytes, range)):
        return "none"
    if type(getattr(type(x), "__getitem__", None)).__name__ == "function":
        return "python"
    return "sequence"


def _holds_tangents(dx):
    """A container tangent that can keep the tangent of a mutable item read out of it."""
    return isinstance(dx, (list, dict))


def _getitem_method(x):
    return type(x).__getitem__


nondifferentiable(_item_kind, _holds_tangents, _getitem_method)


def fwd_getitem(x, dx, idx):
    """``tangents.getitem``. A mutable item read with no tangent yet out of a container that
    has one gets a fresh (zero) tangent, kept in the container's: every later read of that
    item meets the same tangent (what ``tangents.table`` does at first order)."""
    kind = _item_kind(x)
    if kind == "python":
        return fwd_call(_getitem_method(x), (x, idx), (dx, None))
    y = x[idx]
    if dx is None or kind == "none":
        return y, None
    if kind == "dict":
        dy = dx.get(idx)
    else:
        dy = dx[idx]
    if dy is None and _t.is_mutable(y) and _holds_tangents(dx):
        dy = _zero_tangent(y)
        if dy is not None:
            dx[idx] = dy
    return y, dy


def _attribute_function(x, name):
    if isinstance(x, (np.ndarray, np.generic)):
        from pygote.rules.numpy_shape import ATTRIBUTE_RULES

        return ATTRIBUTE_RULES.get((np.ndarray, name))
    return None


def _attribute_kind(x, dx, name):
    if isinstance(x, (np.ndarray, np.generic)):
        return "array"
    if isinstance(x, (float, complex)):
        return name if name in ("real", "imag") else "method"
    if type(x).__name__ == "module" or isinstance(x, type):
        return "none"
    prop = getattr(type(x), name, None)
    if isinstance(prop, property) and type(prop.fget).__name__ == "function":
        return "property"
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        return "field" if name in type(x)._fields else "method"
    if isinstance(dx, _t.ObjectTangent):
        return "attrs"
    if callable(getattr(x, name)):
        return "method"
    return "none"


def _field_index(x, name):
    return type(x)._fields.index(name)


def _is_callable(y):
    return callable(y)


def _property_getter(x, name):
    return getattr(type(x), name).fget


def _property_setter(x, name):
    prop = getattr(type(x), name, None)
    if isinstance(prop, property) and type(prop.fset).__name__ == "function":
        return prop.fset
    return None


nondifferentiable(_attribute_function, _attribute_kind, _field_index, _is_callable,
                  _property_getter, _property_setter)


def fwd_getattr(x, dx, name):
    """``tangents.getattr_``: ``(x.name, its tangent)``; a bound method's tangent is its
    object's."""
    kind = _attribute_kind(x, dx, name)
    if kind == "property":
        return fwd_call(_property_getter(x, name), (x,), (dx,))
    if kind == "array":
        func = _attribute_function(x, name)
        if func is not None:
            return fwd_call(func, (x,), (dx,))
        y = getattr(x, name)
        if _is_callable(y):
            return y, dx  # a bound method's tangent: its array's
        return y, None
    y = getattr(x, name)
    if dx is None:
        return y, None
    if kind == "attrs":
        attrs = dx.attrs
        dy = attrs.get(name)
        if dy is None and _t.is_mutable(y) and not _is_callable(y):
            dy = _zero_tangent(y)
            if dy is not None:
                attrs[name] = dy
        return y, dy
    if kind == "field":
        return y, dx[_field_index(x, name)]
    if kind == "method":
        return y, dx
    if kind == "real":
        return y, np.real(dx)
    if kind == "imag":
        return y, np.imag(dx)
    return y, None


def _fresh_tangent(x):
    """A fresh zero tangent for mutable ``x`` (``tangents.lookup(x, create=True)``)."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, x.dtype)
    if isinstance(x, list):
        return [None] * len(x)
    if isinstance(x, dict):
        return {}
    return _t.ObjectTangent()


def _setitem_kind(x, idx):
    if isinstance(x, np.ndarray):
        return "array"
    if isinstance(x, list):
        return "list_slice" if type(idx) is slice else "list"
    if isinstance(x, dict):
        return "dict"
    if type(getattr(type(x), "__setitem__", None)).__name__ == "function":
        return "python"
    return "other"


def _slice_length_of(n, idx):
    return len(range(*idx.indices(n)))


def _setitem_method(x):
    return type(x).__setitem__


nondifferentiable(_fresh_tangent, _setitem_kind, _slice_length_of, _setitem_method)


def fwd_setitem(x, dx, idx, v, dv):
    """``tangents.setitem``: run ``x[idx] = v`` and write ``dv`` into ``x``'s tangent;
    returns that tangent."""
    kind = _setitem_kind(x, idx)
    if kind == "python":
        fwd_call(_setitem_method(x), (x, idx, v), (dx, None, dv))
        return dx
    if kind == "list_slice":
        before = len(x)
        x[idx] = v
        if dx is None and dv is None:
            return None
        if dx is None:
            dx = [None] * before
        if dv is None:
            dx[idx] = [None] * (len(x) - before + _slice_length_of(before, idx))
        else:
            dx[idx] = list(dv)
        return dx
    x[idx] = v
    if kind == "other":
        return dx
    if dx is None:
        if dv is None:
            return None
        dx = _fresh_tangent(x)
    if kind == "array":
        if dv is None:
            dx[idx] = 0.0
        else:
            dx[idx] = _fit_into(dv, dx)
    else:
        dx[idx] = dv
    return dx


def fwd_setattr(x, dx, name, v, dv):
    """``tangents.setattr_``."""
    setter = _property_setter(x, name)
    if setter is not None:
        fwd_call(setter, (x, v), (dx, dv))
        return dx
    setattr(x, name, v)
    if dx is None:
        if dv is None:
            return None
        dx = _fresh_tangent(x)
    attrs = dx.attrs
    attrs[name] = dv
    return dx


def fwd_delitem(x, dx, idx):
    """``tangents.delitem``."""
    del x[idx]
    if dx is not None:
        if isinstance(x, dict):
            dx.pop(idx, None)
        else:
            del dx[idx]
    return dx


_PLAIN = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
}


def _plain_op(sym):
    return _PLAIN[sym]


def _aug_kind(x, sym):
    if isinstance(x, np.ndarray):
        return "array"
    if isinstance(x, list) and sym in ("+", "*"):
        return "list"
    method = getattr(type(x), "__i" + _t._DUNDER[sym][2:], None)
    if type(method).__name__ == "function":
        return "python"
    return "plain"


def _inplace_method(x, sym):
    return getattr(type(x), "__i" + _t._DUNDER[sym][2:])


nondifferentiable(_plain_op, _aug_kind, _inplace_method)


def fwd_aug(sym, x, dx, v, dv):
    """``tangents.augassign``: ``x OP= v``, in place for arrays and lists."""
    kind = _aug_kind(x, sym)
    if kind == "python":
        return fwd_call(_inplace_method(x, sym), (x, v), (dx, dv))
    if kind == "list":
        n = len(x)
        if sym == "+":
            x += v
        else:
            x *= v
        if dx is None and dv is None:
            return x, None
        if dx is None:
            dx = [None] * n
        if sym == "+":
            if dv is None:
                dx += [None] * len(v)
            else:
                dx += list(dv)
        else:
            dx *= v
        return x, dx
    y, dy = fwd_binop(_plain_op(sym), x, dx, v, dv)
    if kind == "array":
        x[...] = y
        if dy is None:
            if dx is not None:
                dx[...] = 0.0
            return x, dx
        if dx is None:
            dx = _fresh_tangent(x)
        dx[...] = _fit_into(dy, dx)
        return x, dx
    return y, dy


def _iter_kind(it, dit):
    if dit is None:
        return "none"
    if isinstance(it, dict):
        return "dict"
    if _t._user(it) and type(getattr(type(it), "__iter__", None)).__name__ == "function":
        return "python"
    return "items"


nondifferentiable(_iter_kind)


def fwd_iter(it, dit):
    """``tangents.iterate``: pairs ``(item, tangent)``."""
    kind = _iter_kind(it, dit)
    if kind == "python":
        y, dy = fwd_call_method(it, dit, "__iter__", (), ())
        return fwd_iter(y, dy)
    items = list(it)
    out = []
    n = len(items)
    if kind == "none" or kind == "dict":
        for i in range(n):
            out.append((items[i], None))
        return out
    holds = _holds_tangents(dit)
    for i in range(n):
        d = dit[i]
        if d is None and holds and _t.is_mutable(items[i]):
            d = _zero_tangent(items[i])  # kept in the list's tangent, as ``fwd_getitem``
            dit[i] = d
        out.append((items[i], d))
    return out


def fwd_star(x, dx):
    if dx is None:
        return (None,) * len(x)
    return tuple(dx)


def fwd_star_dict(x, dx):
    if dx is None:
        return {}
    return dict(dx)


def fwd_bind(sig, targs, tkw):
    positional = sig[0]
    n = len(positional)
    out = []
    for i in range(n):
        if i < len(targs):
            out.append(targs[i])
        elif tkw:
            out.append(tkw.get(positional[i]))
        else:
            out.append(None)
    if sig[1] is not None:
        rest = []
        for i in range(n, len(targs)):
            rest.append(targs[i])
        out.append(tuple(rest))
    for k in sig[2]:
        out.append(tkw.get(k) if tkw else None)
    if sig[3] is not None:
        out.append(tkw)
    return tuple(out)


def _zero_tangent(x):
    """The zero tangent of ``x`` made by inactive code, *not* registered in the runtime's
    identity table: a transform of tangent code runs under forward mode's runtime, whose
    table holds the tangents of the outer level; a first-order zero registered there
    would be found as the outer tangent of the same object (perturbation confusion)."""
    if type(x) is float:
        return 0.0
    if isinstance(x, np.ndarray):
        return np.zeros_like(x) if np.issubdtype(x.dtype, np.inexact) else None
    if isinstance(x, list):
        return [None] * len(x)
    if isinstance(x, dict):
        return {}
    if _t.is_mutable(x):
        return _t.ObjectTangent()
    return None


nondifferentiable(_zero_tangent)


def fwd_zero(x):
    return _zero_tangent(x)


# runtime helpers the rules' forward functions call: they read types and make zeros
for _plain_helper in (_t.defaults, _t.push_table, _t.pop_table, _t.is_mutable, _t._user,
                      _values.is_differentiable, _values.contains_differentiable, _values.all_real,
                      _values.zeros_like):
    nondifferentiable(_plain_helper)

defreplacement(_t.zero, fwd_zero)

defreplacement(_t.call, fwd_call)
defreplacement(_t.call_method, fwd_call_method)
defreplacement(_t.binop, fwd_binop)
defreplacement(_t.unop, fwd_unop)
defreplacement(_t.getitem, fwd_getitem)
defreplacement(_t.getattr_, fwd_getattr)
defreplacement(_t.setitem, fwd_setitem)
defreplacement(_t.setattr_, fwd_setattr)
defreplacement(_t.augassign, fwd_aug)
defreplacement(_t.iterate, fwd_iter)
defreplacement(_t.starred, fwd_star)
defreplacement(_t.star_dict, fwd_star_dict)
defreplacement(_t.delitem, fwd_delitem)


# fit_tangent is linear in its tangent: broadcasting and dtype undone by ``fit``
defvjp(fit_tangent, lambda g, ans, t, y: fit(g, t) if not isinstance(t, (tuple, list)) else g,
       None)
defjvp(fit_tangent, lambda ans, tangents, t, y: fit_tangent(tangents[0], y))


# ---------------------------------------------------------------- derivatives of derivatives


def _output_tangent(dy, y):
    if dy is None:
        return zeros_like(y) if not isinstance(y, (tuple, list, dict)) else _t.output(None, y)
    return dy


def _real_part(dy):
    return dy


def _copy_kind(t, x):
    if t is None:
        return "zero" if _t.is_mutable(x) else "none"
    if isinstance(t, _t.ObjectTangent):
        return "object"
    if isinstance(x, np.ndarray):
        return "array" if np.issubdtype(x.dtype, np.inexact) else "none"
    if isinstance(x, (float, complex, np.generic)):
        return "fit"
    if isinstance(x, list) and isinstance(t, (list, tuple)):
        return "list"
    if isinstance(x, tuple) and isinstance(t, (list, tuple)):
        return "tuple"
    if isinstance(x, dict) and isinstance(t, dict):
        return "dict"
    return "other"


nondifferentiable(_copy_kind)


def own_tangent(t, x):
    """``t`` made the tangent of input ``x`` (``as_tangent``'s plain twin): arrays copied,
    so that the in-place writes of the tangent code never reach the caller's direction
    (``hvp(f, x, v)`` and ``pg.jvp`` inside differentiated code must leave ``v`` alone,
    and a direction used twice must be the same both times). One small function per kind:
    only those a call meets get transformed (third and higher derivatives)."""
    return _OWN[_copy_kind(t, x)](t, x)


def _own_none(t, x):
    return None


def _own_zero(t, x):  # a mutable input gets a tangent for the writes into it to reach
    return _zero_tangent(x)


def _own_object(t, x):
    d = _new_object_tangent()
    attrs = d.attrs
    values = t.attrs
    for k in values:
        attrs[k] = values[k]
    return d


def _own_array(t, x):
    return np.copy(fit_tangent(t, x))


def _own_fit(t, x):
    return fit_tangent(t, x)


def _own_list(t, x):
    out = []
    for i in range(len(x)):
        out.append(own_tangent(t[i], x[i]))
    return out


def _own_tuple(t, x):
    out = []
    for i in range(len(x)):
        out.append(own_tangent(t[i], x[i]))
    return tuple(out)


def _own_dict(t, x):
    d = {}
    for k in x:
        d[k] = own_tangent(t.get(k), x[k])
    return d


def _own_other(t, x):
    return t


_OWN = {"none": _own_none, "zero": _own_zero, "object": _own_object, "array": _own_array,
        "fit": _own_fit, "list": _own_list, "tuple": _own_tuple, "dict": _own_dict,
        "other": _own_other}


def own_tangents(targs, args):
    out = []
    for i in range(len(targs)):
        out.append(own_tangent(targs[i], args[i]))
    return tuple(out)


def jvp_impl(f, primals, tangents):
    """``pg.jvp`` as plain Python, for calls of ``pg.jvp`` inside differentiated code."""
    primals = tuple(primals)
    y, dy = fwd_call(f, primals, own_tangents(tuple(tangents), primals))
    if dy is None:
        return y, _output_tangent(None, y)
    return y, dy


def _directional(f, targs, kwargs):
    """``a -> jvp(f, a, targs)[1]``: its gradient at ``x`` is ``H(x) @ targs``."""
    def directional(*a):
        y, dy = fwd_call(f, a, own_tangents(targs, a), kwargs)
        if dy is None:
            return 0.0
        return dy
    return directional


def directional_gradient(f, args, targs, kwargs=None, wanted=None):
    """Gradient, with respect to the positional arguments ``wanted`` (all by default), of
    ``a -> <grad f(a), targs>``: the Hessian of ``f`` applied to the direction ``targs``.

    Written as a call of a ``pg.grad`` function, so that differentiating it once more is
    the same rule again (third and higher derivatives)."""
    argnums = _differentiable_positions(args, wanted)
    out = [None] * len(args)
    if not argnums:
        return tuple(out)
    g = _grad_function(_directional(f, tuple(targs), kwargs), argnums)
    grads = g(*args)
    for k in range(len(argnums)):
        out[argnums[k]] = grads[k]
    return tuple(out)


def _differentiable_positions(args, wanted):
    from pygote.runtime.values import contains_differentiable

    return tuple(i for i in range(len(args)) if (wanted is None or i in wanted)
                 and contains_differentiable(args[i]))


def _grad_function(h, argnums):
    from pygote.api import grad

    return grad(h, argnums=argnums)


nondifferentiable(_differentiable_positions, _grad_function)


def hvp(f, x, v):
    """The Hessian-vector product ``H(x) @ v`` of scalar-valued ``f`` (reverse mode over
    forward mode: one forward-mode pass differentiated in reverse)."""
    return directional_gradient(f, (x,), (v,))[0]


def hessian(f, argnums=0):
    """``f`` -> its Hessian with respect to argument ``argnums``, of shape
    ``x.shape + x.shape``: the Hessian-vector products of every unit direction, taken in
    one pass with the directions batched (``runtime/batched.py``); where an operation
    cannot keep the directions apart, one product per entry of ``x``."""
    from pygote.runtime.batched import attempt, unit_batch, unit_directions

    def wrapped(*args, **kwargs):
        from pygote.runtime.batched import Batched
        from pygote.transform.compile import lean_gradient

        x = args[argnums]
        xa = np.asarray(x)
        dtype = xa.dtype if np.issubdtype(xa.dtype, np.inexact) else np.dtype(float)
        if type(x) is np.ndarray and not np.issubdtype(x.dtype, np.inexact):
            raise DifferentiationError(
                f"pg.hessian cannot differentiate {getattr(f, '__qualname__', f)!s} with "
                f"respect to argument {argnums}, an array of {x.dtype}: its entries cannot "
                "vary. Pass a float array (x.astype(float)).")
        if type(x) is np.ndarray and x.size > 1:
            batch = unit_batch(x, dtype)
            lean = None if kwargs else lean_gradient(f, args, argnums)
            if lean is not None:
                # forward over reverse: the Jacobian of the gradient written out as NumPy
                # code, which writes into no argument (the others are constants); the rows
                # of the Hessian are the tangents of the gradient, one per direction
                targs = tuple(batch if i == argnums else None for i in range(len(args)))
                constant = tuple(i for i in range(len(args)) if i != argnums)
                _t.push_table()  # (no tangent of an outer pass is found by identity)
                try:
                    _, dg = _t.forward_hook(lean, args, None, constant)(
                        *args, _targs=targs, _tkw=None)
                except Exception:  # (as in batched.attempt: the general path says why)
                    dg = False
                finally:
                    _t.pop_table()
                if type(dg) is Batched and dg.shape == x.shape:
                    return _batched_rows(dg, x, dtype)
            done, g = attempt(lambda a: _pinned_gradient(f, a, kwargs, argnums, batch), args)
            if done:
                return _batched_rows(g, x, dtype)
        rows = []
        for direction in unit_directions(x, dtype):
            targs = [None] * len(args)
            targs[argnums] = direction
            g = directional_gradient(f, args, targs, kwargs or None, (argnums,))[argnums]
            rows.append(np.asarray(g))
        h = np.stack(rows).reshape(xa.shape + xa.shape)
        return h if h.ndim else h[()]
    wrapped.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return wrapped


def sum_to(g, shape):
    """``g`` summed over the axes it was broadcast along from ``shape`` (a cotangent of a
    broadcast operand, in a lean gradient: transform/reverse.lean_gradient). Works on
    batches too (runtime/batched.py): its forward rule below is itself."""
    if np.shape(g) == shape:
        return g
    while np.ndim(g) > len(shape):
        g = np.sum(g, axis=0)
    for axis in range(len(shape)):
        if shape[axis] == 1 and np.shape(g)[axis] != 1:
            g = np.sum(g, axis=axis, keepdims=True)
    return g


# linear in g: its rules are itself and a broadcast (no transform of its source at the
# first Hessian: forward mode would otherwise differentiate its loop)
defvjp(sum_to, lambda ct, ans, g, shape: np.broadcast_to(ct, np.shape(g)))
defjvp(sum_to, lambda ans, targs, g, shape: None if targs[0] is None else sum_to(targs[0], shape))


def _batched_rows(g, x, dtype):
    """The Hessian from the batched gradient ``g`` of the unit directions' products."""
    from pygote.runtime.batched import Batched

    n = x.size
    if type(g) is Batched:
        rows = g.data
    elif g is None:
        rows = np.zeros((n,) + x.shape, dtype)
    else:  # the same for every direction (a Hessian of zeros, in effect)
        rows = np.broadcast_to(np.asarray(g), (n,) + x.shape)
    return np.array(rows, dtype=dtype).reshape(x.shape + x.shape)


def _pinned_gradient(f, args, kwargs, position, v):
    """``directional_gradient`` with respect to argument ``position`` alone: the gradient
    of the tangent output of ``f``'s tangent function, the other arguments constants of
    its transform (no cotangent is made for them: a matrix beside the vector
    differentiated costs nothing, and in a batch nothing of B times its size). The plain
    path (``directional_gradient``) serves other callables."""
    from pygote.api import _value_and_gradients
    from pygote.transform.forward import TANGENT_PARAMS, TANGENT_PARAMS_DEFAULT

    if type(f) is not types.FunctionType or kwargs or f.__code__ in DERIVATIVES \
            or f in RULES or f in REPLACEMENTS or f in NONDIFFERENTIABLE:
        targs = [None] * len(args)
        targs[position] = v
        return directional_gradient(f, args, targs, kwargs or None, (position,))[position]
    constant = tuple(i for i in range(len(args)) if i != position)
    jvp = _t.forward_hook(f, args, None, constant)
    names = TANGENT_PARAMS.get(jvp.__code__, TANGENT_PARAMS_DEFAULT)
    targs = tuple(own_tangent(v, args[i]) if i == position else None for i in range(len(args)))
    # (the directions are constants too: no cotangent is made for them)
    _, grads = _value_and_gradients(jvp, args, {names[0]: targs, names[1]: None},
                                    constant + names, part=1)
    return grads[position]


def _meta(g):
    return g._pygote_derivative


nondifferentiable(_meta, _output_tangent)


def _pristine_kind(x):
    if isinstance(x, np.ndarray):
        return "array"
    if isinstance(x, list):
        return "list"
    if isinstance(x, tuple) and not hasattr(type(x), "_fields"):
        return "tuple"
    if isinstance(x, dict):
        return "dict"
    if _t.is_mutable(x) and not callable(x):
        return "object"
    return "plain"


def _copy_object(x):
    import copy

    return copy.deepcopy(x)


def _any_mutable(args):
    for a in args:
        if _t.is_mutable(a) or (isinstance(a, tuple) and _any_mutable(a)):
            return True
    return False


nondifferentiable(_pristine_kind, _copy_object, _any_mutable)


def pristine(x):
    """A copy of argument ``x`` that later in-place writes to ``x`` leave alone (arrays by
    ``np.copy``, so that derivatives still flow through it; containers rebuilt; other
    mutable objects deep-copied)."""
    kind = _pristine_kind(x)
    if kind == "array":
        return np.copy(x)
    if kind == "list" or kind == "tuple":
        out = []
        for item in x:
            out.append(pristine(item))
        if kind == "tuple":
            return tuple(out)
        return out
    if kind == "dict":
        d = {}
        for k in x:
            d[k] = pristine(x[k])
        return d
    if kind == "object":
        return _copy_object(x)
    return x


def pristine_args(args):
    """``args`` as they are now, kept from what a call that mutates them will do."""
    if not _any_mutable(args):
        return tuple(args)
    out = []
    for a in args:
        out.append(pristine(a))
    return tuple(out)


def derivative_forward(g, args, targs, kwargs=None):
    """Forward mode through ``g = pg.grad(f, argnums)``: ``H t`` restricted to argnums.

    ``g`` runs ``f``, which may write into its arguments: the Hessian product is taken at
    a copy of the arguments made before, so that both see the point the caller passed."""
    kind, f, argnums, has_aux = _meta(g)
    if has_aux:
        _unsupported(g)
    if _no_tangent(targs):
        if kwargs:
            return g(*args, **kwargs), None
        return g(*args), None
    before = pristine_args(args)
    if kwargs:
        ans = g(*args, **kwargs)
    else:
        ans = g(*args)
    single = isinstance(argnums, int)
    wanted = (argnums,) if single else tuple(argnums)
    grads = directional_gradient(f, before, targs, kwargs, wanted)
    if single:
        dgrad = grads[argnums]
    else:
        dgrad = tuple(grads[i] for i in wanted)
    if kind == "value_and_grad":
        y, dy = fwd_call(f, pristine_args(before), tuple(targs), kwargs)
        return ans, (dy, dgrad)
    return ans, dgrad


def derivative_record(g, args, kwargs):
    """Reverse mode through ``g = pg.grad(f, argnums)`` called at ``args``: the cotangent
    ``u`` of the gradient pulls back to ``H u`` (through every argument, and through the
    variables ``f`` captures, whose cotangents reach their cells)."""
    from pygote.runtime import dispatch

    kind, f, argnums, has_aux = _meta(g)
    if has_aux:
        _unsupported(g)
    before = pristine_args(args)  # f may write into its arguments
    state = _snapshot(args)
    ans = g(*args, **kwargs)
    single = isinstance(argnums, int)
    wanted = (argnums,) if single else tuple(argnums)

    def pullback(u):
        u = _gather(ans, u)
        if u is None:
            return (None,) * len(args), None
        if kind == "value_and_grad":
            u_value, u = u
        else:
            u_value = None
        targs = [None] * len(args)
        if single:
            targs[argnums] = u
        else:
            for i, ui in zip(wanted, u):
                targs[i] = ui
        # undone here as reverse mode undoes every write: the arguments are as the call
        # found them, for their cotangents (by identity) to fit them
        _restore(state)
        h = _directional(f, tuple(targs), kwargs or None)
        point = pristine_args(before)
        _, pb = dispatch.call(h, *point)
        cts, _ = pb(1.0) if pb is not None else ((None,) * len(args), None)
        cts = tuple(_transfer(p, a, c) for p, a, c in zip(point, args, cts))
        if u_value is not None:
            point = pristine_args(before)
            _, pb_value = dispatch.call(f, *point, **kwargs)
            if pb_value is not None:
                first, _ = pb_value(u_value)
                first = tuple(_transfer(p, a, c) for p, a, c in zip(point, args, first))
                cts = tuple(_plus(a, b) for a, b in zip(cts, first))
        return tuple(cts), None

    return ans, pullback


def _snapshot(x, out=None, seen=None):
    """The state of every mutable object reachable in ``x`` (containers' items by
    identity, arrays' values), for ``_restore``."""
    from pygote.runtime import shadows

    out = [] if out is None else out
    seen = set() if seen is None else seen
    if id(x) in seen:
        return out
    if isinstance(x, np.ndarray):
        seen.add(id(x))
        out.append((x, "array", np.array(x, copy=True)))
    elif isinstance(x, list):
        seen.add(id(x))
        out.append((x, "list", list(x)))
        for item in x:
            _snapshot(item, out, seen)
    elif isinstance(x, dict):
        seen.add(id(x))
        out.append((x, "dict", dict(x)))
        for item in x.values():
            _snapshot(item, out, seen)
    elif isinstance(x, tuple):
        for item in x:
            _snapshot(item, out, seen)
    elif shadows.is_mutable(x) and hasattr(x, "__dict__") and not callable(x):
        seen.add(id(x))
        out.append((x, "object", dict(vars(x))))
        for item in vars(x).values():
            _snapshot(item, out, seen)
    return out


def _restore(state):
    for obj, kind, saved in state:
        if kind == "array":
            if obj.shape == saved.shape:
                obj[...] = saved
        elif kind == "list":
            obj[:] = saved
        elif kind == "dict":
            obj.clear()
            obj.update(saved)
        else:
            vars(obj).clear()
            vars(obj).update(saved)


def _gather(y, dy):
    """The whole cotangent of output ``y`` (a gradient: lists, dicts, tuples of arrays and
    floats): reverse mode hands a pullback ``dy`` with the items of mutable containers
    ``None``, their cotangents being in the items' own shadows; take those too."""
    from pygote.runtime import shadows

    if isinstance(y, list):
        base = shadows.take(y, dy)
        out = list(base) if base is not None else [None] * len(y)
        for i in range(min(len(y), len(out))):
            out[i] = _gather(y[i], out[i])
        return None if all(o is None for o in out) else out
    if isinstance(y, dict):
        base = shadows.take(y, dy)
        out = dict(base) if base is not None else {}
        for k in y:
            out[k] = _gather(y[k], out.get(k))
        return None if all(o is None for o in out.values()) else out
    if isinstance(y, tuple) and not hasattr(type(y), "_fields"):
        out = list(dy) if isinstance(dy, (tuple, list)) else [None] * len(y)
        for i in range(min(len(y), len(out))):
            out[i] = _gather(y[i], out[i])
        return None if all(o is None for o in out) else tuple(out)
    if isinstance(y, np.ndarray):
        return shadows.take(y, dy)
    return dy


def _transfer(copy, orig, ct):
    """Move the cotangents reverse mode left in the shadows of ``copy`` (a pristine copy of
    argument ``orig``, and of everything mutable inside it) to ``orig``'s; returns ``ct``
    (the cotangent of the immutable part, which the call hands back as a value)."""
    from pygote.runtime import shadows

    if copy is orig:
        return ct
    if shadows.is_mutable(copy):
        g = shadows.take(copy, None)
        if g is not None:
            shadows.acc(orig, None, g)
        if isinstance(copy, list) and isinstance(orig, list):
            for c, o in zip(copy, orig):
                _transfer(c, o, None)
        elif isinstance(copy, dict) and isinstance(orig, dict):
            for k in copy:
                if k in orig:
                    _transfer(copy[k], orig[k], None)
        elif not isinstance(copy, np.ndarray):
            mine, theirs = shadows.attributes(copy), shadows.attributes(orig)
            for k in mine:
                if k in theirs:
                    _transfer(mine[k], theirs[k], None)
        return ct
    if isinstance(copy, tuple) and isinstance(orig, tuple):
        for c, o in zip(copy, orig):
            _transfer(c, o, None)
    return ct


def _plus(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _make(kind, f, argnums, has_aux):
    from pygote import api

    return getattr(api, kind)(f, argnums=argnums, has_aux=has_aux)


nondifferentiable(_make)


def grad_maker(f, argnums=0, has_aux=False):
    """``pg.grad(f)`` inside differentiated code: the gradient function is made as usual
    (its dependence on what ``f`` captures flows through ``f``'s cells when it is called)."""
    return _make("grad", f, argnums, has_aux)


def value_and_grad_maker(f, argnums=0, has_aux=False):
    return _make("value_and_grad", f, argnums, has_aux)


def gradient_impl(f, *args, **kwargs):
    """``pg.gradient`` inside differentiated code: the gradient function at ``args``
    (``None`` for the arguments that hold nothing differentiable, as ``pg.gradient``)."""
    argnums = _differentiable_positions(args, None)
    out = [None] * len(args)
    if not argnums:
        f(*args, **kwargs)
        return tuple(out)
    grads = grad_maker(f, argnums)(*args, **kwargs)
    for k in range(len(argnums)):
        out[argnums[k]] = grads[k]
    return tuple(out)


def _install():
    from pygote import api, api_forward
    from pygote.transform.forward import bind

    defreplacement(bind, fwd_bind)
    for maker in (api.grad, api.value_and_grad):
        DERIVATIVES[maker(lambda x: x).__code__] = (derivative_record, derivative_forward)
    defreplacement(api.grad, grad_maker)
    defreplacement(api.value_and_grad, value_and_grad_maker)
    defreplacement(api.gradient, gradient_impl)
    defreplacement(api_forward.jvp, jvp_impl)
