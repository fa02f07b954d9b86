"""Activity and scalar types of the variables of a normalized (core Python) function.

Guarantees to the generator:
- ``active``: the names that may carry a gradient. A name is active if it is a parameter,
  a free variable (closures carry gradients to what they capture), or is assigned from an
  expression that reads an active name. Mutation makes activity flow backwards too: an
  object written with an active value (``a[i] = v``, ``a.x = v``, a method call or any
  call receiving it together with an active argument) is active, and so is every name it
  may alias (the names it was read from by assignment, subscript, attribute or method).
  Globals and builtins are constants: inactive.
- ``scalar``: the names that hold a real Python number (``int``, ``float``, ``bool``)
  whenever they are read, given which parameters are scalars. The generator writes
  adjoints of scalar operations inline, without helper calls.

Both are flow-insensitive fixpoints over the function's assignments: sound, fast, and
simple enough to state here in full.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Analysis", "analyse", "SCALAR_FUNCTIONS"]

# attributes of arrays that describe them and never hold a real number of a user's class
# either (``shape`` and ``size`` may: a distribution's shape parameter, a square's size)
_ARRAY_METADATA = frozenset(["ndim", "dtype", "itemsize", "nbytes", "strides"])

# functions returning a real Python number when all their arguments are real numbers
SCALAR_FUNCTIONS = {
    getattr(math, n)
    for n in (
        "sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp expm1 log "
        "log2 log10 log1p sqrt pow hypot erf erfc gamma lgamma fabs copysign degrees "
        "radians fmod floor ceil trunc factorial comb perm gcd exp2 cbrt ldexp"
    ).split()
    if hasattr(math, n)
} | {abs, float, int, round, len, min, max, pow, bool}

# functions of math that return a float for any real argument (an int, a NumPy scalar)
_FLOAT_RESULTS = {
    getattr(math, n)
    for n in ("sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp expm1 log "
              "log2 log10 log1p sqrt erf erfc fabs degrees radians").split()
}


@dataclass
class Analysis:
    params: list
    free: list
    assigned: set
    active: set
    scalar: set
    loop_assigned: set = field(default_factory=set)  # names assigned inside a loop
    assign_count: dict = field(default_factory=dict)
    globals_read: set = field(default_factory=set)
    float_sequences: set = field(default_factory=set)  # lists/tuples of floats, unchanged
    real_vectors: set = field(default_factory=set)  # float64 vectors read item by item
    known_free: frozenset = frozenset()  # free variables holding known constants


def _names(node) -> list:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _param_names(args: ast.arguments) -> list:
    names = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        names.append(args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


class _Collector(ast.NodeVisitor):
    """Assignments as (targets, reads, kind, value) and loop membership."""

    def __init__(self):
        self.edges = []  # (target, [read names], aliasing: bool, value node)
        self.mutations = []  # (object name, [read names])
        self.loop_depth = 0
        self.loop_assigned = set()
        self.count = {}
        self.for_targets = []  # (target, iter node)
        self.direct_writes = set()  # names written by item/attribute assignment or methods
        self.returned = []
        self.call_arguments = []  # (argument name, [read names], call): callees may write

    def visit_Return(self, node):
        if isinstance(node.value, ast.Name):
            self.returned.append(node.value.id)

    def _assign(self, name, reads, alias, value):
        self.edges.append((name, reads, alias, value))
        self.count[name] = self.count.get(name, 0) + 1
        if self.loop_depth:
            self.loop_assigned.add(name)

    def visit_Assign(self, node):
        target = node.targets[0]
        value = node.value
        reads = _names(value)
        if isinstance(target, ast.Name):
            # a container literal holds its items themselves: a callee writing into
            # ``pair[0]`` of ``pair = (a, x)`` writes ``a``
            alias = isinstance(value, (ast.Name, ast.Subscript, ast.Attribute, ast.Call,
                                       ast.Tuple, ast.List, ast.Dict))
            self._assign(target.id, reads, alias, value)
            if isinstance(value, ast.Call):
                self._call_mutation(value)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            obj = target.value.id if isinstance(target.value, ast.Name) else None
            if obj is not None:
                self.mutations.append((obj, reads + _names(target)))
                self.direct_writes.add(obj)

    def _call_mutation(self, call):
        reads = _names(call)
        args = [a.value if isinstance(a, ast.Starred) else a for a in call.args]
        args += [k.value for k in call.keywords]
        for a in args:
            if isinstance(a, ast.Name):
                self.call_arguments.append((a.id, reads, call))
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            self.mutations.append((call.func.value.id, reads))
            self.direct_writes.add(call.func.value.id)  # a method may mutate its receiver

    def visit_AugAssign(self, node):
        if isinstance(node.target, ast.Name):
            name = node.target.id
            self._assign(name, [name] + _names(node.value), True, node)
            self.mutations.append((name, _names(node.value)))

    def visit_For(self, node):
        self.loop_depth += 1
        if isinstance(node.target, ast.Name):
            self._assign(node.target.id, _names(node.iter), True, ("for", node.iter))
            self.for_targets.append((node.target.id, node.iter))
        for s in node.body:
            self.visit(s)
        self.loop_depth -= 1

    def visit_While(self, node):
        self.loop_depth += 1
        for s in node.body:
            self.visit(s)
        self.loop_depth -= 1

    def visit_FunctionDef(self, node):
        self._assign(node.name, _names(node), False, node)
        # variables the nested def writes with `nonlocal` are assigned by its calls
        for st in ast.walk(node):
            if isinstance(st, ast.Nonlocal):
                for name in st.names:
                    self._assign(name, _names(node), False, node)

    def visit_ClassDef(self, node):
        self._assign(node.name, [], False, node)

    def visit_Import(self, node):
        for a in node.names:
            self._assign((a.asname or a.name).split(".")[0], [], False, node)

    visit_ImportFrom = visit_Import

    def visit_Try(self, node):
        for h in node.handlers:
            if h.name:
                self._assign(h.name, [], False, h)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef


def analyse(fn: ast.FunctionDef, free: list, scalar_params: set, resolve,
            nondifferentiable=lambda f: False, constant_params=frozenset(),
            free_active: bool = True, float_sequences=frozenset(),
            self_function=None, real_vectors=frozenset(),
            known_free=frozenset(), keeps=None, pure_calls=False) -> Analysis:
    """Activity and scalar types for normalized ``fn``.

    ``free`` are its free variables, ``scalar_params`` the parameters known to be real
    Python numbers, ``resolve(name)`` the transform-time value of a global name, and
    ``nondifferentiable(f)`` tells whether a resolved callee's result carries no gradient.
    ``constant_params`` are parameters known to be constants (left to their defaults, or
    marked by the caller): not active. ``free_active=False`` makes free variables constants
    too (for the outermost function, whose captured variables nobody asks gradients of).
    ``float_sequences`` are parameters holding lists or tuples of floats: a ``for`` loop
    over one (never reassigned nor written) yields scalars.
    ``self_function`` is the function being analysed, when its own name (a global) calls
    it: a recursive call given real numbers where the function has real parameters returns
    a real number if every ``return`` does, assuming so of the recursive calls (induction
    on the depth of recursion; ``return`` is the function's only way out with a value).
    ``real_vectors`` are parameters holding one-dimensional float64 arrays: an item read
    with a constant integer index from one that is never rebound is a real number (a NumPy
    float64). The generated code checks them on entry (``Analysis.real_vectors``: those
    that items were read from).
    ``known_free`` are free variables whose cells hold constants that ``resolve`` knows
    (a tangent function's helpers): read as globals, never active.
    ``keeps(func, name)`` tells that a call of ``func`` cannot write into the value of
    parameter ``name`` (never rebound) given to it (its specialized type is known).
    ``pure_calls``: no call in ``fn`` writes into what it is given (generated code that
    calls NumPy functions alone, without ``out=``: a lean gradient).
    """
    params = _param_names(fn.args)
    c = _Collector()
    for s in fn.body:
        c.visit(s)
    assigned = {e[0] for e in c.edges}
    local = set(params) | assigned | (set(free) - set(known_free))
    globals_read = {n for n in _names(fn) if n not in local}

    def resolve_global(name):
        return None if name in local else resolve(name)

    written = c.direct_writes | assigned
    float_seqs = {p for p in float_sequences if p not in written}
    vectors = {p for p in real_vectors if p not in written}
    ranges = {
        t for t, _, _, v in c.edges
        if isinstance(v, ast.Call) and resolve_callee(v.func, resolve_global) is range
    }
    ranges -= {t for t, _, _, v in c.edges
               if not (isinstance(v, ast.Call) and resolve_callee(v.func, resolve_global) is range)}

    # results of non-differentiable callees and of comparisons depend on nothing
    def blocks(value):
        if isinstance(value, ast.Attribute) and value.attr in _ARRAY_METADATA:
            return True  # x.ndim, x.dtype ...: integers and dtypes, whatever x is
        if isinstance(value, ast.Compare) or (
            isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)
        ):
            return True
        if isinstance(value, ast.Call):
            func = resolve_callee(value.func, resolve_global)
            return func is not None and _safe(nondifferentiable, func)
        return isinstance(value, ast.JoinedStr)

    c.edges = [(t, [] if blocks(v) else r, a and not blocks(v), v) for t, r, a, v in c.edges]
    # a call may write into the objects it is given, except a math function or a builtin
    # that computes a number
    def kept(name, call):  # (nor does its result alias it)
        func = resolve_callee(call.func, resolve_global)
        return (keeps is not None and func is not None and name in params
                and name not in c.count and _safe(lambda f: keeps(f, name), func))

    def may_write(name, call):
        if pure_calls or resolve_callee(call.func, resolve_global) in SCALAR_FUNCTIONS:
            return False
        return not kept(name, call)

    c.mutations.extend((name, reads) for name, reads, call in c.call_arguments
                       if may_write(name, call))

    # an operator on an instance of a user class runs its dunder method, which may keep
    # or write into its operands (``self.last = other``) or return one of them: for
    # locals made by user callables, an operator is a call
    def user_made(name):
        for t, _, _, v in c.edges:
            if t == name and isinstance(v, ast.Call):
                func = resolve_callee(v.func, resolve_global)
                module = getattr(func, "__module__", None) or ""
                if func is None or not (module.split(".")[0] in ("numpy", "scipy", "math",
                                                                 "cmath", "builtins")
                                        or isinstance(func, np.ufunc)):
                    return True
        return False

    objects = {n for n in assigned if user_made(n)}
    if objects:
        for i, (t, r, _a, v) in enumerate(c.edges):
            if isinstance(v, (ast.BinOp, ast.UnaryOp)) and objects & set(r):
                c.mutations.extend((n, r) for n in r if n in objects)
                c.edges[i] = (t, r, True, v)

    # ---- scalar types: greatest fixpoint from "everything scalar"
    # free variables come from an enclosing frame: their types are unknown here
    scalar = (assigned | set(params)) - (set(params) - set(scalar_params)) - set(free)
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    recursive = None
    if self_function is not None and c.returned and not (
            fn.args.vararg or fn.args.kwonlyargs or fn.args.kwarg):
        def recursive(call, scalar):
            return (resolve_callee(call.func, resolve_global) is self_function
                    and not call.keywords and len(call.args) == len(positional)
                    and not any(isinstance(a, ast.Starred) for a in call.args)
                    and all(_atom_scalar(a, scalar) for a, p in zip(call.args, positional)
                            if p in scalar_params)
                    and all(n in scalar for n in c.returned))
    changed = True
    while changed:
        changed = False
        for target, _reads, _alias, value in c.edges:
            if target in scalar and not _is_scalar(value, scalar, resolve_global, target,
                                                   ranges, float_seqs, vectors) and not (
                    recursive is not None and isinstance(value, ast.Call)
                    and recursive(value, scalar)):
                scalar.discard(target)
                changed = True
    scalar -= ranges
    scalar -= float_seqs
    vectors_read = {v.value.id for t, _, _, v in c.edges
                    if t in scalar and _vector_item(v, vectors)}

    # ---- activity: forward over assignments, backward over mutation and aliasing
    active = (set(params) - set(constant_params)) | (set(free) - set(known_free) if free_active else set())
    mutated: set = set()
    changed = True
    while changed:
        changed = False
        for target, reads, _alias, _ in c.edges:
            if target not in active and any(r in active for r in reads):
                active.add(target)
                changed = True
        for obj, reads in c.mutations:
            # (a real number handed to a callee cannot be written by it)
            if obj in local and obj not in mutated and obj not in scalar and \
                    any(r in active for r in reads):
                mutated.add(obj)
                active.add(obj)
                changed = True
        # an object written with active values makes every name it may alias active
        for target, reads, alias, value in c.edges:
            if alias and target in mutated:
                for r in _alias_sources(value, reads):
                    if r not in mutated and r in local and not (
                            isinstance(value, ast.Call) and kept(r, value)):
                        mutated.add(r)
                        active.add(r)
                        changed = True
    # ---- usefulness: what the result (or a mutated object) depends on differentiably
    # (real numbers cannot be mutated: passing one to a call is not a write)
    useful = set(c.returned) | {obj for obj, _ in c.mutations if obj in active
                                and obj not in scalar}
    changed = True
    while changed:
        changed = False
        for target, reads, _, _ in c.edges:
            if target in useful:
                for r in reads:
                    if r in active and r not in useful:
                        useful.add(r)
                        changed = True
        for obj, reads in c.mutations:
            if obj in useful:
                for r in reads:
                    if r in active and r not in useful:
                        useful.add(r)
                        changed = True
    return Analysis(
        params=params, free=list(free), assigned=assigned, active=active & useful,
        scalar=scalar, loop_assigned=c.loop_assigned, assign_count=c.count,
        globals_read=globals_read, float_sequences=float_seqs,
        real_vectors=vectors_read, known_free=frozenset(known_free),
    )


def _safe(predicate, value) -> bool:
    try:
        return bool(predicate(value))
    except TypeError:
        return False


def _alias_sources(value, reads) -> list:
    """The names whose object the value of an assignment may share memory with."""
    if isinstance(value, ast.Subscript) or isinstance(value, ast.Attribute):
        return [value.value.id] if isinstance(value.value, ast.Name) else []
    return reads  # names, calls (np.asarray(x), x.T, views), augmented assignments


def _atom_scalar(node, scalar) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float, bool)
    if isinstance(node, ast.Name):
        return node.id in scalar
    return False


def _vector_item(value, vectors) -> bool:
    """``v[k]``: a constant integer item of a float64 vector (a NumPy float64)."""
    return (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
            and value.value.id in vectors and isinstance(value.slice, ast.Constant)
            and type(value.slice.value) is int)


def _is_scalar(value, scalar, resolve, target, ranges, float_seqs=frozenset(),
               vectors=frozenset()) -> bool:
    if isinstance(value, tuple):  # ("for", iterable): range loops give ints
        return isinstance(value[1], ast.Name) and (value[1].id in ranges
                                                    or value[1].id in float_seqs)
    if isinstance(value, (ast.Constant, ast.Name)):
        return _atom_scalar(value, scalar)
    if isinstance(value, ast.Subscript):
        return _vector_item(value, vectors)
    if isinstance(value, ast.BinOp):
        return not isinstance(value.op, ast.MatMult) and _atom_scalar(value.left, scalar) and \
            _atom_scalar(value.right, scalar)
    if isinstance(value, ast.UnaryOp):
        return _atom_scalar(value.operand, scalar)
    if isinstance(value, ast.Compare):
        # ``is`` and ``in`` give a bool; ``x == m`` of arrays an array of them
        if all(isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for op in value.ops):
            return True
        return all(_atom_scalar(a, scalar) for a in [value.left] + value.comparators)
    if isinstance(value, ast.AugAssign):
        return target in scalar and _atom_scalar(value.value, scalar) and \
            not isinstance(value.op, ast.MatMult)
    if isinstance(value, ast.Call):
        func = resolve_callee(value.func, resolve)
        if func is None or func not in SCALAR_FUNCTIONS or value.keywords:
            return False
        if func in _FLOAT_RESULTS and len(value.args) == 1 and \
                not isinstance(value.args[0], ast.Starred):
            return True  # a float, whatever real number it was given
        if func in (min, max) and len(value.args) < 2:
            return False
        return all(_atom_scalar(a, scalar) for a in value.args)
    return False


def resolve_callee(func, resolve):
    """The transform-time value of a callee that is a global name or a module attribute."""
    if isinstance(func, ast.Name):
        return resolve(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        base = resolve(func.value.id)
        if base is not None and type(base).__name__ == "module":
            return getattr(base, func.attr, None)
    return None

