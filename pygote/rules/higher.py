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
values through nondifferentiable helpers (``_rule_kind``...), so that everything that
carries a derivative is visible to the transformer that reads them.
"""

from __future__ import annotations

import operator

import numpy as np

from pygote.errors import DifferentiationError
from pygote.rules.registry import (
    DERIVATIVES,
    NONDIFFERENTIABLE,
    RULES,
    defreplacement,
    defvjp,
    defjvp,
    nondifferentiable,
)
from pygote.runtime import tangents as _t
from pygote.runtime.values import fit, fit_tangent, zeros_like

__all__ = ["hvp", "hessian", "directional_gradient"]


# ---------------------------------------------------------------- what a value is (plain)


def _kind(f):
    """How forward mode calls ``f``: 'rule', 'python', 'method', 'derivative', 'plain'."""
    try:
        rule = RULES.get(f)
    except TypeError:
        rule = None
    if rule is not None and rule.jvp is not None:
        return "rule"
    code = getattr(f, "__code__", None)
    if code is not None and code in DERIVATIVES:
        return "derivative"
    try:
        if f in NONDIFFERENTIABLE:
            return "plain"
    except TypeError:
        pass
    if f is dict:
        return "dict"
    if type(f).__name__ == "function":
        from pygote.rules.registry import REPLACEMENTS

        if f in REPLACEMENTS:
            return "replaced"
        return "python"
    if type(f).__name__ == "method":
        return "method"
    return "other"


def _no_tangent(targs) -> bool:
    for t in targs:
        if t is not None:
            return False
    return True


def _replacement(f):
    from pygote.rules.registry import REPLACEMENTS

    return REPLACEMENTS[f]


def _tangent_function(f, args, kwargs, targs):
    constant = tuple(i for i, d in enumerate(targs) if d is None and not _t.is_mutable(args[i]))
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


def _unsupported(f):
    raise DifferentiationError(
        f"pygote cannot take a higher derivative through {getattr(f, '__qualname__', f)!r} "
        "yet (forward mode over it is a runtime call, not source). Differentiate once, or give "
        "it a rule with pg.custom_jvp.")


nondifferentiable(_kind, _no_tangent, _replacement, _tangent_function, _rule_jvp, _tangent_params,
                  _method_self, _method_func, _unsupported)


# ---------------------------------------------------------------- forward mode's runtime


def fwd_call(f, args, targs, kwargs=None, tkw=None, tf=None):
    kind = _kind(f)
    if kind == "rule":
        if kwargs:
            ans = f(*args, **kwargs)
        else:
            ans = f(*args)
        if _no_tangent(targs):
            return ans, None
        jvp = _rule_jvp(f)
        if kwargs:
            t = jvp(ans, targs, *args, **kwargs)
        else:
            t = jvp(ans, targs, *args)
        return ans, fit_tangent(t, ans)
    if kind == "derivative":
        return derivative_forward(f, args, targs, kwargs)
    if kind == "dict":
        return fwd_dict(args, targs, kwargs, tkw)
    if kind == "replaced":
        return fwd_call(_replacement(f), args, targs, kwargs, tkw, tf)
    if kind == "method":
        return fwd_call(_method_func(f), (_method_self(f),) + tuple(args), (tf,) + tuple(targs),
                        kwargs, tkw)
    if kind == "python":
        jvp = _tangent_function(f, args, kwargs, targs)
        names = _tangent_params(jvp)
        tangents = {names[0]: targs, names[1]: tkw}
        if kwargs:
            return jvp(*args, **kwargs, **tangents)
        return jvp(*args, **tangents)
    if kind == "plain" or (_no_tangent(targs) and not tkw):
        if kwargs:
            return f(*args, **kwargs), None
        return f(*args), None
    return _unsupported(f)


def fwd_dict(args, targs, kwargs, tkw):
    """``dict(mapping, **kw)`` with the tangents of its values."""
    if kwargs:
        y = dict(*args, **kwargs)
    else:
        y = dict(*args)
    d = {}
    if args and targs[0] is not None:
        d = dict(targs[0])
    if tkw:
        for k in tkw:
            d[k] = tkw[k]
    return y, d


def fwd_call_method(obj, dobj, name, args, targs, kwargs=None, tkw=None):
    func = _method_function(obj, name)
    if func is not None:
        return fwd_call(func, (obj,) + tuple(args), (dobj,) + tuple(targs), kwargs, tkw)
    if name == "get" and isinstance(obj, dict):
        if args[0] in obj:
            if dobj is None:
                return obj[args[0]], None
            return obj[args[0]], dobj.get(args[0])
        if len(args) > 1:
            return args[1], targs[1]
        return None, None
    if name == "append":
        obj.append(args[0])
        if dobj is not None:
            dobj.append(targs[0])
        return None, None
    method = getattr(obj, name)
    if dobj is None and _no_tangent(targs):
        if kwargs:
            return method(*args, **kwargs), None
        return method(*args), None
    return _unsupported(method)


def _method_function(obj, name):
    """The function behind ``obj.name`` when it has a rule or source, else None."""
    if isinstance(obj, (np.ndarray, np.generic)):
        func = getattr(np.ndarray, name, None)
        rule = RULES.get(func) if func is not None else None
        return func if rule is not None and rule.jvp is not None else None
    attr = getattr(type(obj), name, None)
    return attr if type(attr).__name__ == "function" else None


def fwd_binop(op, a, da, b, db):
    return fwd_call(op, (a, b), (da, db))


def fwd_unop(op, a, da):
    return fwd_call(op, (a,), (da,))


def fwd_getitem(x, dx, idx):
    y = x[idx]
    if dx is None:
        return y, None
    if isinstance(x, dict):
        return y, dx.get(idx)
    return y, dx[idx]


def _attribute_function(x, name):
    if isinstance(x, (np.ndarray, np.generic)):
        from pygote.rules.numpy_shape import ATTRIBUTE_RULES

        return ATTRIBUTE_RULES.get((np.ndarray, name))
    return None


def _attribute_kind(x, dx, name):
    if isinstance(x, (float, complex)) and name in ("real", "imag"):
        return name
    if isinstance(dx, _t.ObjectTangent):
        return "attrs"
    if isinstance(x, tuple) and hasattr(type(x), "_fields") and name in type(x)._fields:
        return "field"
    if callable(getattr(x, name)):
        return "method"
    return "none"


def _field_index(x, name):
    return type(x)._fields.index(name)


nondifferentiable(_method_function, _attribute_function, _attribute_kind, _field_index)


def fwd_getattr(x, dx, name):
    func = _attribute_function(x, name)
    if func is not None:
        return fwd_call(func, (x,), (dx,))
    y = getattr(x, name)
    if dx is None:
        return y, None
    kind = _attribute_kind(x, dx, name)
    if kind == "attrs":
        return y, dx.attrs.get(name)
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
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, x.dtype)
    if isinstance(x, list):
        return [None] * len(x)
    if isinstance(x, dict):
        return {}
    return _t.ObjectTangent()


def _zero_item(dx):
    return 0.0 if isinstance(dx, np.ndarray) else None


nondifferentiable(_fresh_tangent, _zero_item)


def fwd_setitem(x, dx, idx, v, dv):
    x[idx] = v
    if dx is None:
        if dv is None:
            return None
        dx = _fresh_tangent(x)
    if dv is None:
        dx[idx] = _zero_item(dx)
    else:
        dx[idx] = dv
    return dx


def fwd_setattr(x, dx, name, v, dv):
    setattr(x, name, v)
    if dx is None:
        if dv is None:
            return None
        dx = _fresh_tangent(x)
    dx.attrs[name] = dv
    return dx


_PLAIN = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
}


def _plain_op(sym):
    return _PLAIN[sym]


def _in_place(x) -> bool:
    return isinstance(x, np.ndarray)


nondifferentiable(_plain_op, _in_place)


def fwd_aug(sym, x, dx, v, dv):
    y, dy = fwd_binop(_plain_op(sym), x, dx, v, dv)
    if _in_place(x):
        x[...] = y
        if dy is None:
            return x, dx
        if dx is None:
            dx = _fresh_tangent(x)
        dx[...] = dy
        return x, dx
    return y, dy


def fwd_iter(it, dit):
    items = list(it)
    out = []
    n = len(items)
    if dit is None:
        for i in range(n):
            out.append((items[i], None))
        return out
    for i in range(n):
        out.append((items[i], dit[i]))
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


for _plain_helper in (_t.defaults, _t.push_table, _t.pop_table, _t.is_mutable):
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
        return "none"
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
    and a direction used twice must be the same both times)."""
    kind = _copy_kind(t, x)
    if kind == "none":
        return None
    if kind == "array":
        return np.copy(fit_tangent(t, x))
    if kind == "fit":
        return fit_tangent(t, x)
    if kind == "list" or kind == "tuple":
        out = []
        for i in range(len(x)):
            out.append(own_tangent(t[i], x[i]))
        if kind == "tuple":
            return tuple(out)
        return out
    if kind == "dict":
        d = {}
        for k in x:
            d[k] = own_tangent(t.get(k), x[k])
        return d
    return t


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
    ``x.shape + x.shape``: one Hessian-vector product per entry of ``x``."""
    def wrapped(*args, **kwargs):
        x = args[argnums]
        xa = np.asarray(x)
        rows = []
        for k in range(max(xa.size, 1)):
            e = np.zeros(xa.shape, dtype=xa.dtype if np.issubdtype(xa.dtype, np.inexact)
                         else float)
            e.flat[k] = 1.0
            direction = type(x)(e.reshape(()).item()) if isinstance(x, (float, complex)) else e
            targs = [None] * len(args)
            targs[argnums] = direction
            g = directional_gradient(f, args, targs, kwargs or None, (argnums,))[argnums]
            rows.append(np.asarray(g))
        h = np.stack(rows).reshape(xa.shape + xa.shape)
        return h if h.ndim else h[()]
    wrapped.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return wrapped


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
    ans = g(*args, **kwargs)
    single = isinstance(argnums, int)
    wanted = (argnums,) if single else tuple(argnums)

    def pullback(u):
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
