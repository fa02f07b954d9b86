"""From a function object to its compiled adjoint, once per code object.

``adjoint_of(fn, args)`` runs the pipeline (source -> normalize -> analyse -> generate ->
compile) the first time it meets ``fn.__code__`` with a given set of scalar parameters
and caches the result; later calls cost a dictionary look-up (plus binding the closure,
for functions with free variables). Redefining a function makes a new code object, hence
a new transformation.

The generated functions are compiled with the user's file name and line numbers, and
their helpers (the runtime, rule vjps, constants) are bound as closure cells, so the
user's module globals are used as they are, live, and never polluted.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import os
import math
import types
import numpy as np

from pygote.analysis.activity import analyse
from pygote.errors import DifferentiationError, where
from pygote.frontend import get_source, normalize
from pygote.rules import numpy_reductions
from pygote.rules.registry import NONDIFFERENTIABLE, RULES
from pygote.runtime import access, dispatch, journal, shadows, values
from pygote.runtime.dispatch import StaleTransform
from pygote.transform.reverse import RESERVED, generate

__all__ = ["adjoint_of", "Adjoint", "StaleTransform", "clear_cache", "transform"]

CellType = types.CellType


def _stale():
    raise StaleTransform


def _cell_ct(func, name):
    """Take the cotangent that a closure's calls left on its cell for variable ``name``."""
    code = getattr(func, "__code__", None)
    if code is None or func.__closure__ is None or name not in code.co_freevars:
        return None
    cell = func.__closure__[code.co_freevars.index(name)]
    entry = shadows.current.shadows.pop(id(cell), None)
    return None if entry is None else entry[1]


def _default_ct(func, k):
    """Take the cotangent that calls left for ``func``'s ``k``-th default value."""
    entry = shadows.current.shadows.get(id(func))
    if entry is None or not isinstance(entry[1], dict):
        return None
    return entry[1].pop(k, None)


def _put_cell_ct(func, name, ct):
    """Hand a closure the cotangent of a variable it writes with ``nonlocal``."""
    code = getattr(func, "__code__", None)
    if ct is None or code is None or func.__closure__ is None or name not in code.co_freevars:
        return
    shadows.acc(func.__closure__[code.co_freevars.index(name)], None, ct)


# the key of a one-dimensional float64 array argument: its items (``p[0]``, ``a, b = p``)
# are real numbers, with inline adjoints
REAL_VECTOR = (np.ndarray, "float64", 1)
_F64 = np.dtype(np.float64)
ndarray = np.ndarray


HELPERS = {
    "_acc": shadows.acc, "_take": shadows.take,
    "_call": dispatch.call, "_call_method": dispatch.call_method,
    "_call_masked": dispatch.call_masked,
    "_binop": dispatch.binop, "_unop": dispatch.unop,
    "_getattr": access.getattr_, "_acc_attr": access.acc_attr,
    "_getitem": access.getitem, "_acc_getitem": access.acc_getitem,
    "_getitem_back": access.getitem_back, "_acc_item": access.acc_item,
    "_add_items": access.add_items, "_islice": itertools.islice, "_F64": _F64,
    "_rename_back": access.rename_back,
    "_ghost": shadows.ghost, "_ghost_written": shadows.ghost_written,
    "_ghost_made": shadows.ghost_made, "_acc_neg": shadows.acc_neg,
    "_acc_owned": shadows.acc_owned,
    "_shadow": shadows.writable_shadow, "_wrote": journal.wrote,
    "_is_real": values.is_real, "_ndarray": np.ndarray, "_matrices": values.matrices,
    "_np": np, "_acc_extremum": numpy_reductions.acc_extremum,
    "_setitem": access.setitem, "_setitem_back": access.setitem_back,
    "_setattr": access.setattr_, "_setattr_back": access.setattr_back,
    "_augassign": access.augassign, "_augassign_back": access.augassign_back,
    "_delitem": access.delitem, "_delitem_back": access.delitem_back,
    "_iterate": access.iterate, "_cell_ct": _cell_ct, "_put_cell_ct": _put_cell_ct, "_default_ct": _default_ct, "_stale": _stale,
    "_sin": math.sin, "_cos": math.cos, "_sinh": math.sinh, "_cosh": math.cosh,
    "_sqrt": math.sqrt, "_exp": math.exp, "_log": math.log, "_copysign": math.copysign,
    "_LN2": math.log(2.0), "_LN10": math.log(10.0), "_TWO_OVER_SQRTPI": 2.0 / math.sqrt(math.pi),
    "_DEG": 180.0 / math.pi, "_RAD": math.pi / 180.0,
}


assert set(HELPERS) <= RESERVED, set(HELPERS) - RESERVED


def _is_nondifferentiable(f) -> bool:
    return f in NONDIFFERENTIABLE


class Adjoint:
    """The compiled forward and backward functions of one Python function."""

    __slots__ = ("forward_code", "backward_code", "cells", "free", "name", "source",
                 "forward", "backward", "params", "n_positional", "varargs", "kwonly",
                 "varkw", "generated", "fn_free", "last_bound", "code_defaults", "written_free", "code",
                 "lean_ok", "lean", "lean_checked")

    def bind(self, fn):
        """Functions over ``fn``'s own closure cells and defaults (read live, per object)."""
        last = self.last_bound
        if last is not None and last[0] is fn:
            return last[1]
        bound = object.__new__(Adjoint)
        for slot in Adjoint.__slots__:
            setattr(bound, slot, getattr(self, slot))
        bound.forward, bound.backward = self._make(fn)
        bound.last_bound = None
        self.last_bound = (fn, bound)
        return bound

    def _make(self, fn):
        user_cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))

        def closure(code):
            return tuple(user_cells[n] if n in user_cells else self.cells[n] for n in code.co_freevars)

        forward = types.FunctionType(self.forward_code, fn.__globals__, self.forward_code.co_name,
                                     fn.__defaults__, closure(self.forward_code))
        forward.__kwdefaults__ = fn.__kwdefaults__
        backward = types.FunctionType(self.backward_code, fn.__globals__,
                                      self.backward_code.co_name, (None,),
                                      closure(self.backward_code))
        return forward, backward

    def to_call(self, cts, nargs, kwargs):
        """Parameter cotangents -> (positional cotangents of the call, keyword ones)."""
        n = self.n_positional
        if nargs <= n:
            positional = tuple(cts[:nargs])
        else:
            rest = cts[n] if self.varargs else None
            positional = tuple(cts[:n]) + (tuple(rest) if rest is not None else (None,) * (nargs - n))
        if not kwargs:
            return positional, None
        index = {p: i for i, p in enumerate(self.params)}
        kw = {}
        for k in kwargs:
            if k in index:
                kw[k] = cts[index[k]]
            elif self.varkw:
                extra = cts[index[self.varkw]]
                kw[k] = extra.get(k) if extra is not None else None
        return positional, kw


_CACHE: dict = {}


def clear_cache() -> None:
    dispatch._PLANS.clear()
    dispatch._MASKED_PLANS.clear()
    _CACHE.clear()
    _LAST.clear()
    _FORWARD_CACHE.clear()


_SCALAR_TYPES = (float, int, bool)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_RULES = os.path.join(_PACKAGE, "rules") + os.sep  # replacements are differentiated
# pygote's own files whose functions are differentiated (rules, replacements, and the
# helpers check_grads differentiates at order > 1)
_TRANSFORMABLE = (_RULES, os.path.join(_PACKAGE, "testing.py"))


def adjoint_of(fn, args=(), kwargs=None, constant=(), top=False):
    """The (cached) adjoint of Python function ``fn`` called with ``args`` and ``kwargs``.

    The cache key holds the code object, the types of the positional arguments (scalar
    parameters get inline adjoints), the keyword names (parameters left to their defaults
    are constants), the positions of arguments the caller knows to be constants, and
    whether this is the outermost function (its free variables then need no gradient).
    """
    types = raw = tuple(map(type, args))
    if top and not kwargs:  # pg.gradient(f, x): one look-up by function
        last = _LAST.get(id(fn))
        if (last is not None and last[0] is fn and last[1] == raw and last[3] == constant
                and fn.__defaults__ is last[2].code_defaults and last[2].code is fn.__code__):
            for i, k in last[4]:  # (float sequences: their items are checked again)
                if _sequence_key(args[i]) != k:
                    break
            else:  # (an array of another kind than the one specialized for: checked on entry)
                return last[2]
    code = fn.__code__
    # keyed by id: hashing a code object hashes its bytecode; the entry holds the code
    # object itself, so the id cannot be reused while the entry lives
    if list in types or tuple in types or ndarray in types:
        # sequences of floats and vectors of float64: their items are real numbers
        types = tuple(_sequence_key(a) if t is list or t is tuple else
                      _array_key(a) if t is ndarray else t for a, t in zip(args, types))
    key = (id(code), types, tuple(kwargs) if kwargs else (), constant, top)
    adjoint = _CACHE.get(key)
    if adjoint is None or adjoint.code is not code:
        adjoint = _CACHE[key] = transform(fn, key[1], key[2], len(args), constant, top)
    if adjoint.fn_free or fn.__defaults__ is not adjoint.code_defaults or fn.__kwdefaults__:
        return adjoint.bind(fn)
    if top and not kwargs:
        if len(_LAST) > 1024:  # functions made on the fly (lambdas) must not pile up
            _LAST.clear()
        sequences = tuple((i, k) for i, (k, t) in enumerate(zip(types, raw))
                          if t is list or t is tuple)
        _LAST[id(fn)] = (fn, raw, adjoint, constant, sequences)
    return adjoint


def lean_gradient(fn, args, position):
    """The gradient of ``fn`` with respect to argument ``position`` as a plain Python
    function of the same arguments, when ``fn`` is one array statement whose lean path
    runs for ``args`` (reverse.lean_gradient), else None. Its source is registered (it
    is differentiated again: forward over reverse, for pg.hessian)."""
    import linecache

    from pygote.rules import higher

    if type(fn) is not types.FunctionType or fn.__code__.co_freevars or fn.__kwdefaults__:
        return None
    constant = tuple(i for i in range(len(args)) if i != position)
    try:
        adjoint = adjoint_of(fn, args, {}, constant, True)
    except DifferentiationError:
        return None
    if adjoint.lean_ok is None:
        return None
    # (the lean path's condition looks at types, dtypes and shapes alone)
    signature = tuple((type(a), a.dtype, a.shape) if type(a) is np.ndarray else type(a)
                      for a in args)
    ok = adjoint.lean_checked.get(signature)
    if ok is None:
        if len(adjoint.lean_checked) > 64:
            adjoint.lean_checked.clear()
        ok = adjoint.lean_checked[signature] = bool(adjoint.lean_ok(*args))
    if not ok:
        return None
    if adjoint.lean is None:
        text = adjoint.generated.lean_gradient
        filename = f"<pygote: lean gradient of {fn.__qualname__} {id(adjoint):x}>"
        lines = [line + "\n" for line in text.split("\n")]
        linecache.cache[filename] = (len(text), None, lines, filename)
        namespace = dict(fn.__globals__)
        namespace["_np"] = np
        namespace["_sum_to"] = higher.sum_to
        exec(compile(text, filename, "exec"), namespace)
        adjoint.lean = namespace[text[4:text.index("(")]]
        LEAN_CODES.add(adjoint.lean.__code__)
    return adjoint.lean


# codes of lean gradients: their calls (NumPy functions, no ``out=``) write into no
# argument (analyse(pure_calls=)): a parameter without a tangent stays constant
LEAN_CODES: set = set()


# the adjoint of each recently differentiated outermost function, by identity: one
# dictionary look-up instead of building the full cache key (its float sequences are
# checked again; the kind of its arrays by the adjoint's forward, when it relies on it)
_LAST: dict = {}


def _array_key(a):
    return REAL_VECTOR if a.ndim == 1 and a.dtype is _F64 else ndarray


def _sequence_key(a):
    """``(list, float)`` for a list (or tuple) of real Python numbers (floats, maybe some
    ints), else its type. ``sum`` tells in one C loop: its result is a ``float`` only if
    every item is a float or an int (a NumPy scalar, a complex number or an array would
    make it something else); the first and last items are looked at first so that a list
    of arrays is never summed."""
    if not a or type(a[0]) is not float or type(a[-1]) is not float:
        return type(a)
    try:
        return (type(a), float) if type(sum(a)) is float else type(a)
    except TypeError:
        return type(a)


def invalidate(fn) -> None:
    """Forget every transformation of ``fn``'s code (a global it relied on changed)."""
    code = fn.__code__
    dispatch._PLANS.pop(fn, None)
    dispatch._MASKED_PLANS.pop(fn, None)
    for key in [k for k in _CACHE if k[0] == id(code)]:
        del _CACHE[key]
    _LAST.pop(id(fn), None)
    for key in [k for k in _FORWARD_CACHE if k[0] == id(code)]:
        del _FORWARD_CACHE[key]


def _normalize(node, filename):
    return normalize(node, filename)


def transform(fn, arg_types=(), kwarg_names=(), nargs=None, constant=(), top=False) -> Adjoint:
    """Run the whole pipeline on ``fn`` (no cache)."""
    filename = fn.__code__.co_filename  # not __module__: functools.wraps copies that
    if filename.startswith(_PACKAGE) and not filename.startswith(_TRANSFORMABLE):
        location = dispatch.user_location(2)
        reached = f", reached at {where(*location)}" if location[0] else ""
        raise DifferentiationError(
            f"pygote cannot differentiate its own internal function {fn.__qualname__}"
            f"{reached}: it has no derivative rule. This is a limit of pygote's higher-order "
            "support; please report it. Differentiate once, or give the inner derivative a "
            "rule with pg.custom_vjp."
        )
    src = get_source(fn)
    node = _normalize(src.node, src.filename)
    src = _WithNormalized(src, node)
    # a tangent function's cells of generator constants are known values, not captures
    known = GENERATED_CONSTANTS.get(fn.__code__, ())
    free = list(fn.__code__.co_freevars)
    params = _params(node.args)
    scalar_params, float_sequences, constant_params, resolve, real_vectors = _specialization(
        fn, node, arg_types, kwarg_names, nargs, constant)
    analysis = analyse(node, free, scalar_params, resolve, _is_nondifferentiable,
                       constant_params, free_active=not top, float_sequences=float_sequences,
                       self_function=fn, real_vectors=real_vectors,
                       known_free=frozenset(known) & set(free),
                       keeps=_keeps(params, arg_types) if known else None)
    gen = generate(node, analysis, resolve, src.filename, src.lines, RULES, _is_nondifferentiable,
                   _recursion(fn, node, arg_types, kwarg_names, nargs, constant_params))
    return _compile(fn, gen, src, params, analysis)


_NEVER_WRITE = (values.all_real, values.matrices)  # (they only look at their arguments)
_PLAIN_TYPES = frozenset([np.ndarray, float, int, bool, complex, np.float64, np.float32])


def _keeps(params, arg_types):
    """For a tangent function's transform (``analyse(keeps=)``): the forward runtime's
    operator helpers cannot write into a NumPy array or a number they are given (an
    operator's dunder method could, of a user class), nor its type tests into anything."""
    from pygote.runtime import tangents as forward_runtime

    plain = {p for p, t in zip(params, arg_types) if t in _PLAIN_TYPES}
    operators = (forward_runtime.binop, forward_runtime.unop)

    def keeps(func, name):
        return func in _NEVER_WRITE or (func in operators and name in plain)
    return keeps


def _recursion(fn, node, arg_types, kwarg_names, nargs, constant_params):
    """``(fn, argument types, constant positions)`` when the specialization being made
    can serve ``fn``'s recursive calls directly: every positional argument given (no
    defaults, keywords, ``*args``), no closure, plain types (a list's key holds the types of
    its items, not checked by one ``type(x) is T``)."""
    a = node.args
    positional = [p.arg for p in a.posonlyargs + a.args]
    if (fn.__code__.co_freevars or kwarg_names or nargs != len(positional) or a.vararg
            or a.kwonlyargs or a.kwarg or len(arg_types) != len(positional)
            or not all(type(t) is type and t not in (list, tuple) for t in arg_types)):
        return None
    constant = tuple(i for i, p in enumerate(positional) if p in constant_params)
    return fn, tuple(arg_types), constant


def _specialization(fn, node, arg_types, kwarg_names, nargs, constant):
    """What a call pattern fixes, for both transforms: the scalar parameters, the float
    sequences, the constant parameters (left to their defaults, or known constant by the
    caller) and how the function's globals and builtins resolve."""
    from pygote.frontend.source import KNOWN_SOURCES

    positional = [a.arg for a in node.args.posonlyargs + node.args.args]
    scalar_params = {p for p, t in zip(positional, arg_types) if t in _SCALAR_TYPES}
    float_sequences = {p for p, t in zip(positional, arg_types)
                       if type(t) is tuple and t[0] in (list, tuple)}
    real_vectors = {p for p, t in zip(positional, arg_types) if t == REAL_VECTOR}
    if nargs is None or fn.__code__ in KNOWN_SOURCES:
        # a def inside differentiated code may take defaults computed from active values
        constant_params = set()
    else:  # parameters left to their defaults are constants of this call pattern
        defaults = dict(zip(reversed(positional), reversed(fn.__defaults__ or ())))
        defaults.update(fn.__kwdefaults__ or {})
        constant_params = {p for p in positional[nargs:] + [k.arg for k in node.args.kwonlyargs]
                           if p not in kwarg_names and p in defaults}
        scalar_params |= {p for p in constant_params if type(defaults[p]) in _SCALAR_TYPES}
        float_sequences |= {p for p in constant_params
                            if type(defaults[p]) in (list, tuple)
                            and type(_sequence_key(defaults[p])) is tuple}
    # (positions, and the names of keyword-only parameters: a tangent function's tangents)
    constant_params |= {positional[i] if type(i) is int else i for i in constant
                        if type(i) is str or i < len(positional)}
    # an integer argument carries no gradient (counters, sizes, recursion depths)
    constant_params |= {p for p, t in zip(positional, arg_types) if t is int or t is bool}
    g = fn.__globals__
    builtin_ns = g.get("__builtins__", builtins)
    if isinstance(builtin_ns, types.ModuleType):
        builtin_ns = builtin_ns.__dict__

    known = GENERATED_CONSTANTS.get(fn.__code__)
    if known:
        known = {n: c.cell_contents for n, c in zip(fn.__code__.co_freevars, fn.__closure__)
                 if n in known}

    def resolve(name):
        if known and name in known:
            return known[name]
        if name in g:
            return g[name]
        return builtin_ns.get(name)

    return scalar_params, float_sequences, constant_params, resolve, real_vectors


def _factory(fn, closure_names, pieces, src, show):
    """Compile generated functions inside a factory whose locals are ``closure_names``
    (so they become closure cells), with the user's file name and line numbers.

    ``pieces`` are ``(text, user line of each line)``; returns the parsed tree and the code
    objects of the generated functions by name."""
    lines = ["def _pygote_factory():", "    " + " = ".join(closure_names + ["None"])]
    origin = [src.firstlineno, src.firstlineno]
    for text, where_from in pieces:
        for line, lineno in zip(text.split("\n"), where_from):
            lines.append("    " + line)
            origin.append(lineno)
    lines.append("    return " + ", ".join(closure_names))
    origin.append(src.firstlineno)
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError as exc:  # a generator bug: say so plainly
        raise DifferentiationError(
            f"internal error: pygote generated invalid code for {fn.__qualname__} ({exc}). "
            f"Please report it with {show}'s output."
        ) from None
    for node in ast.walk(tree):
        if hasattr(node, "lineno") and node.lineno is not None:
            node.lineno = origin[node.lineno - 1]
            end = getattr(node, "end_lineno", None)
            node.end_lineno = max(origin[end - 1] if end else node.lineno, node.lineno)
    code = compile(tree, src.filename, "exec")
    factory = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return tree, {c.co_name: c for c in factory.co_consts if isinstance(c, types.CodeType)}


class _WithNormalized:
    """A FunctionSource together with its normalized definition."""

    def __init__(self, src, normalized):
        self.__dict__.update(vars(src) if hasattr(src, "__dict__") else {})
        for field in ("node", "filename", "firstlineno", "lines"):
            setattr(self, field, getattr(src, field))
        self.normalized = normalized


def _params(args: ast.arguments) -> list:
    names = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        names.append(args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


def _compile(fn, gen, src, params, analysis) -> Adjoint:
    closure_names = list(HELPERS) + list(gen.constants) + list(fn.__code__.co_freevars)
    pieces = [(gen.forward, gen.forward_lines), (gen.backward, gen.backward_lines)]
    if gen.pullback:
        pieces.append((gen.pullback, gen.pullback_lines))
    if gen.lean_ok:
        pieces.append((gen.lean_ok, [fn.__code__.co_firstlineno] * (gen.lean_ok.count("\n") + 1)))
    tree, codes = _factory(fn, closure_names, pieces, src, "pg.show_adjoint")
    name = src.node.name
    adjoint = object.__new__(Adjoint)
    adjoint.forward_code = codes[f"{name}_forward"]
    adjoint.backward_code = codes[f"{name}_backward"]
    dispatch.GENERATED_CODES.add(adjoint.forward_code)
    _record_nested_sources(adjoint.forward_code, src)
    values = dict(HELPERS)
    values.update(gen.constants)
    adjoint.cells = {n: CellType(v) for n, v in values.items()}
    adjoint.free = list(fn.__code__.co_freevars)
    adjoint.fn_free = bool(fn.__code__.co_freevars)
    adjoint.name = fn.__qualname__
    adjoint.source = src
    adjoint.params = params
    a = src.node.args
    adjoint.n_positional = len(a.posonlyargs) + len(a.args)
    adjoint.varargs = a.vararg.arg if a.vararg else None
    adjoint.kwonly = [k.arg for k in a.kwonlyargs]
    adjoint.varkw = a.kwarg.arg if a.kwarg else None
    adjoint.generated = gen
    adjoint.forward, adjoint.backward = adjoint._make(fn)
    if gen.self_cells:  # recursive calls of this specialization call it directly (such a
        # function has no closure: see _recursion)
        own_forward, own_pullback = gen.self_cells
        adjoint.cells[own_forward].cell_contents = adjoint.forward
        code = codes[f"{name}_pullback"]
        adjoint.cells[own_pullback].cell_contents = types.FunctionType(
            code, fn.__globals__, code.co_name, None,
            tuple(adjoint.cells[n] for n in code.co_freevars))
    adjoint.lean_ok = None
    if gen.lean_ok:
        code = codes[f"{name}_lean_ok"]
        adjoint.lean_ok = types.FunctionType(code, fn.__globals__, code.co_name, None,
                                             tuple(adjoint.cells[n] for n in code.co_freevars))
    adjoint.lean = None  # made when asked for: lean_gradient()
    adjoint.lean_checked = {}  # argument signature -> whether the lean path runs
    adjoint.last_bound = None
    adjoint.code = fn.__code__
    adjoint.code_defaults = fn.__defaults__
    adjoint.written_free = "_dfree[" in gen.backward
    return adjoint


def _record_nested_sources(forward_code, src) -> None:
    """Remember the definitions of functions defined inside ``forward_code``."""
    from pygote.frontend.source import KNOWN_SOURCES, FunctionSource

    nodes = {}
    pending = list(src_nested_defs(src))
    for node in pending:
        nodes[(node.name, node.lineno)] = node
    for const in forward_code.co_consts:
        if isinstance(const, types.CodeType):
            node = nodes.get((const.co_name, const.co_firstlineno))
            if node is None and const.co_name == "<lambda>":
                continue
            if node is not None:
                KNOWN_SOURCES[const] = FunctionSource(node, src.filename, node.lineno, src.lines)


def src_nested_defs(src):
    """The nested ``def`` statements of the normalized function (not inside other defs)."""
    stack = list(src.normalized.body) if hasattr(src, "normalized") else []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef):
            yield node
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                stack.append(child)


dispatch.transform_hook = adjoint_of
dispatch.invalidate_hook = invalidate


# ---------------------------------------------------------------- forward mode

from pygote.runtime import tangents  # noqa: E402
from pygote.transform.forward import FORWARD_RESERVED, bind, generate_forward  # noqa: E402

FORWARD_HELPERS = {
    "_fcall": tangents.call, "_fcall_method": tangents.call_method,
    "_fbinop": tangents.binop, "_funop": tangents.unop,
    "_fgetattr": tangents.getattr_, "_fgetitem": tangents.getitem,
    "_fsetitem": tangents.setitem, "_fsetattr": tangents.setattr_,
    "_fdelitem": tangents.delitem, "_faug": tangents.augassign, "_fiter": tangents.iterate,
    "_fstar": tangents.starred, "_fstar_dict": tangents.star_dict, "_fzero": tangents.zero,
    "_fbind": bind, "_stale": _stale, "_fdefaults": tangents.defaults,
    "_sin": math.sin, "_cos": math.cos, "_sinh": math.sinh, "_cosh": math.cosh,
    "_sqrt": math.sqrt, "_exp": math.exp, "_log": math.log, "_copysign": math.copysign,
    "_LN2": math.log(2.0), "_LN10": math.log(10.0), "_TWO_OVER_SQRTPI": 2.0 / math.sqrt(math.pi),
    "_DEG": 180.0 / math.pi, "_RAD": math.pi / 180.0,
    "_all_real": values.all_real, "_np": np,
}
assert set(FORWARD_HELPERS) <= FORWARD_RESERVED, set(FORWARD_HELPERS) - FORWARD_RESERVED


class Tangent:
    """The compiled tangent function of one Python function."""

    __slots__ = ("code", "jvp_code", "cells", "source", "generated", "name", "last_bound")

    def bind(self, fn):
        last = self.last_bound
        if last is not None and last[0] is fn:
            return last[1]
        user_cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        closure = tuple(user_cells[n] if n in user_cells else self.cells[n]
                        for n in self.jvp_code.co_freevars)
        jvp = types.FunctionType(self.jvp_code, fn.__globals__, self.jvp_code.co_name,
                                 fn.__defaults__, closure)
        jvp.__kwdefaults__ = fn.__kwdefaults__
        self.last_bound = (fn, jvp)
        return jvp


_FORWARD_CACHE: dict = {}


def tangent_of(fn, args=(), kwargs=None, constant=()):
    """The (cached) tangent function ``jvp(targs, tkw, *args, **kwargs)`` of ``fn``."""
    code = fn.__code__
    types_ = tuple(map(type, args))
    if list in types_ or tuple in types_:
        types_ = tuple(_sequence_key(a) if t is list or t is tuple else t
                       for a, t in zip(args, types_))
    key = (id(code), types_, tuple(kwargs) if kwargs else (), constant)
    entry = _FORWARD_CACHE.get(key)
    if entry is None or entry.code is not code:
        entry = _FORWARD_CACHE[key] = transform_forward(fn, types_, key[2], len(args), constant)
    return entry.bind(fn)


def transform_forward(fn, arg_types=(), kwarg_names=(), nargs=None, constant=()) -> Tangent:
    """Run the forward-mode pipeline on ``fn`` (no cache)."""
    filename = fn.__code__.co_filename
    if filename.startswith(_PACKAGE) and not filename.startswith(_TRANSFORMABLE):
        raise DifferentiationError(
            f"pygote's forward mode cannot differentiate pygote's own {fn.__qualname__}.")
    src = get_source(fn)
    from pygote.transform.forward import live_names

    LIVE_NAMES[fn.__code__] = live_names(src.node)  # before normalizing (``if False:``)
    node = _normalize(src.node, src.filename)
    src = _WithNormalized(src, node)
    freevars = fn.__code__.co_freevars
    cell_of = tangent_cells(fn.__code__)
    cells = set(cell_of.values()) - {None}
    free = [v for v in freevars if v not in cells]
    scalar_params, float_sequences, constant_params, resolve, _ = _specialization(
        fn, node, arg_types, kwarg_names, nargs, constant)
    free_active = bool(cells)
    analysis = analyse(node, free, scalar_params, resolve, _is_nondifferentiable,
                       constant_params, free_active=free_active,
                       float_sequences=float_sequences,
                       self_function=fn,
                       pure_calls=fn.__code__ in LEAN_CODES)
    gen = generate_forward(node, analysis, resolve, src.filename, freevars, _is_nondifferentiable,
                           cell_of)
    return _compile_forward(fn, gen, src)


# code of a tangent function -> the code it is the tangent function of; code -> the names
# its source reads (``live_names``), for ``tangent_cells``
TANGENT_SOURCE: dict = {}
LIVE_NAMES: dict = {}
# code of a tangent function -> the names of its closure cells that hold the generator's
# constants (its helpers, guarded globals...), never rebound: a transform of the tangent
# function reads them as known values (a helper known nondifferentiable is called plainly)
GENERATED_CONSTANTS: dict = {}


def tangent_cells(code) -> dict:
    """Free variable of ``code`` -> the cell holding its tangent at the level a transform
    of ``code`` works at (None where the closure has none).

    ``code`` is the tangent function of the tangent function ... of a user function,
    ``depth`` times over; its free variable ``v`` was born at level ``b`` (0 for the user's
    variables, 1 for first-order tangents like ``_dw``, ...: the first function of the
    chain whose own code reads it). The generators of the levels after ``b`` named the
    tangents of ``v`` with successive candidates (``_dv``, ``_dv_``, ...), so the one this
    transform (level ``depth + 1``) must read is the ``depth - b``-th."""
    from pygote.transform.forward import tangent_cell

    chain = [code]
    while chain[-1] in TANGENT_SOURCE and len(chain) < 16:
        chain.append(TANGENT_SOURCE[chain[-1]])
    chain.reverse()  # the user's function first
    depth = len(chain) - 1
    out = {}
    for v in code.co_freevars:
        born = next((k for k, c in enumerate(chain) if v in LIVE_NAMES.get(c, ())), depth)
        out[v] = tangent_cell(v, code.co_freevars, depth - born)
    return out


def _compile_forward(fn, gen, src) -> Tangent:
    closure_names = list(FORWARD_HELPERS) + list(gen.constants) + list(fn.__code__.co_freevars)
    tree, codes = _factory(fn, closure_names, ((gen.source, gen.lines),), src, "pg.show_jvp")
    entry = object.__new__(Tangent)
    entry.jvp_code = codes[f"{src.node.name}_jvp"]
    TANGENT_SOURCE[entry.jvp_code] = fn.__code__
    _remember_generated(entry.jvp_code, tree, src)
    if gen.tangent_params is not None:
        from pygote.transform.forward import TANGENT_PARAMS

        TANGENT_PARAMS[entry.jvp_code] = gen.tangent_params
    dispatch.GENERATED_CODES.add(entry.jvp_code)
    _record_nested_sources(entry.jvp_code, src)
    values = dict(FORWARD_HELPERS)
    values.update(gen.constants)
    entry.cells = {n: CellType(v) for n, v in values.items()}
    GENERATED_CONSTANTS[entry.jvp_code] = frozenset(values)
    entry.code = fn.__code__
    entry.source = src
    entry.generated = gen
    entry.name = fn.__qualname__
    entry.last_bound = None
    return entry


def _remember_generated(code, tree, src) -> None:
    """Keep the source of generated code (with the user's line numbers), so that pygote
    can differentiate it again: higher derivatives transform the tangent functions."""
    from pygote.frontend.source import KNOWN_SOURCES, FunctionSource

    factory = tree.body[0]
    for node in factory.body:
        if isinstance(node, ast.FunctionDef) and node.name == code.co_name:
            KNOWN_SOURCES[code] = FunctionSource(node, src.filename, node.lineno, src.lines)


def _forward_hook(fn, args, kwargs, constant):
    return tangent_of(fn, args, kwargs, constant)


tangents.forward_hook = _forward_hook
tangents.invalidate_hook = invalidate
