"""Pass 4, ``assignments``: simple assignment targets, no assert, no bare expressions.

Guarantees afterwards, for the function's own scope (nested def/lambda/class bodies are
not entered); right-hand sides and other expressions may still be compound (``anf``
splits them later):

* Every ``Assign`` has exactly one target, a ``Name``, ``Attribute`` or ``Subscript``.
  Chained ``a = b = v`` becomes ``a = v; b = v`` (``v`` first stored in a temporary unless
  it is a constant or a name none of the targets rebinds).
* Tuple/list unpacking (nested, starred) becomes subscripts of the value, which is first
  stored in a temporary unless it is a name the targets do not rebind:
  ``a, (b, *c) = t`` -> ``a = t[0]; _t1 = t[1]; b = _t1[0]; c = list(_t1[1:])``.
  Unpacking a literal tuple/list (``a, b = b, a``) evaluates every element first (into
  temporaries where a target could change it) and then assigns element-wise. When any
  target is an attribute or subscript, all items are extracted before any is assigned.
  A value that is syntactically a call of ``zip``/``map``/``filter``/``reversed``/
  ``iter``/``enumerate`` or ``.items()``/``.keys()``/``.values()`` is first turned into a
  ``list(...)`` (those have no subscripts). Limitations: Python checks the length of the
  value, the subscripts do not; unpacking another non-subscriptable iterable (a generator
  held in a variable, a set, a dict's keys) is not supported.
* ``AugAssign`` targets are names: ``a[i] += v`` -> ``_t1 = a[i]; _t1 += v; a[i] = _t1``
  and ``a.x += v`` likewise, with the receiver and each index part (slice bounds
  included) evaluated once, into temporaries unless they are atoms.
* No ``AnnAssign`` (``x: T = v`` -> ``x = v``; a bare ``x: T`` is dropped).
* No ``assert``: ``assert c, m`` -> ``if not c: raise AssertionError(m)``.
* ``del`` has one target per statement: a name, ``a.attr`` or ``a[i]`` (tuples flattened).
* ``for`` targets are names: ``for (i, (a, b)) in it: body`` ->
  ``for _t1 in it: i = _t1[0]; ...; body``.
* No expression statements: bare constants (docstrings, ``...``) are dropped, every other
  expression statement ``e`` becomes ``_tN = e``.

Every generated statement carries the location of the user statement it came from.
"""

from __future__ import annotations

import ast
import copy

from ._util import (SCOPE_NODES, Namer, assign, const, is_atom, load, located, name, not_,
                    replace_body)

SIMPLE_TARGETS = (ast.Name, ast.Attribute, ast.Subscript)


def _bound_names(target: ast.expr) -> set[str]:
    out = set()
    for n in ast.walk(target):
        if isinstance(n, ast.Name):
            out.add(n.id)
    return out


def _flat_targets(target: ast.expr):
    if isinstance(target, (ast.Tuple, ast.List)):
        for e in target.elts:
            yield from _flat_targets(e)
    elif isinstance(target, ast.Starred):
        yield from _flat_targets(target.value)
    else:
        yield target


_ITERATOR_BUILTINS = {"zip", "map", "filter", "reversed", "iter", "enumerate"}
_VIEW_METHODS = {"items", "keys", "values"}


def _is_iterator_call(e: ast.expr) -> bool:
    """A call that (by its name) returns an iterator or a view, which has no subscripts."""
    if not isinstance(e, ast.Call):
        return False
    if isinstance(e.func, ast.Name):
        return e.func.id in _ITERATOR_BUILTINS
    return isinstance(e.func, ast.Attribute) and e.func.attr in _VIEW_METHODS and not e.args


def assign_to(target: ast.expr, value: ast.expr, namer: Namer) -> list[ast.stmt]:
    """Statements assigning ``value`` (evaluated once) to ``target`` with simple targets."""
    if isinstance(target, SIMPLE_TARGETS):
        return [assign(target, value)]
    if isinstance(target, (ast.Tuple, ast.List)):
        return _unpack(list(target.elts), value, namer)
    raise TypeError(f"cannot assign to {type(target).__name__}")


def _unpack(elts: list[ast.expr], value: ast.expr, namer: Namer) -> list[ast.stmt]:
    stars = [i for i, e in enumerate(elts) if isinstance(e, ast.Starred)]
    bound = set().union(*(_bound_names(e) for e in elts)) if elts else set()
    out: list[ast.stmt] = []
    if (isinstance(value, (ast.Tuple, ast.List)) and not stars
            and not any(isinstance(v, ast.Starred) for v in value.elts)
            and len(value.elts) == len(elts)):
        vals = []
        for v in value.elts:
            if isinstance(v, ast.Constant) or (isinstance(v, ast.Name) and v.id not in bound):
                vals.append(v)
            else:
                t = namer.fresh()
                out.append(assign(t, v))
                vals.append(name(t))
        for tgt, v in zip(elts, vals):
            out.extend(assign_to(tgt, v, namer))
        return out
    if _is_iterator_call(value):
        value = ast.Call(func=name("list"), args=[value], keywords=[])
    if isinstance(value, ast.Name) and value.id not in bound:
        src = value.id
    else:
        src = namer.fresh()
        out.append(assign(src, value))
    n = len(elts)
    k = stars[0] if stars else n
    after = n - k - 1
    items: list[tuple[ast.expr, ast.expr]] = []
    for i, e in enumerate(elts):
        if isinstance(e, ast.Starred):
            sl = ast.Slice(lower=const(k) if k else None, upper=const(-after) if after else None,
                           step=None)
            item = ast.Call(func=name("list"), args=[
                ast.Subscript(value=name(src), slice=sl, ctx=ast.Load())], keywords=[])
            items.append((e.value, item))
        else:
            idx = const(i - n) if stars and i > k else const(i)
            items.append((e, ast.Subscript(value=name(src), slice=idx, ctx=ast.Load())))
    only_names = all(isinstance(t, ast.Name) for t in _flat_targets(ast.Tuple(elts=elts)))
    if only_names:
        for tgt, item in items:
            if isinstance(tgt, ast.Name):
                out.append(assign(tgt, item))
            else:
                t = namer.fresh()
                out.append(assign(t, item))
                out.extend(assign_to(tgt, name(t), namer))
        return out
    temps = []
    for _, item in items:
        t = namer.fresh()
        out.append(assign(t, item))
        temps.append(t)
    for (tgt, _), t in zip(items, temps):
        out.extend(assign_to(tgt, name(t), namer))
    return out


def _once(e: ast.expr, out: list[ast.stmt], namer: Namer) -> ast.expr:
    """``e`` if it is an atom, else a temporary holding it (appended to ``out``)."""
    if is_atom(e):
        return e
    t = namer.fresh()
    out.append(assign(t, e))
    return name(t)


def _receiver(e: ast.expr, out: list[ast.stmt], namer: Namer) -> ast.Name:
    if isinstance(e, ast.Name):
        return name(e.id)
    t = namer.fresh()
    out.append(assign(t, load(e)))
    return name(t)


def _index_once(sl: ast.expr, out: list[ast.stmt], namer: Namer) -> ast.expr:
    def part(p):
        return None if p is None else _once(load(p), out, namer)

    if isinstance(sl, ast.Slice):
        return ast.Slice(lower=part(sl.lower), upper=part(sl.upper), step=part(sl.step))
    if isinstance(sl, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in sl.elts):
        elts = []
        for e in sl.elts:
            if isinstance(e, ast.Slice):
                elts.append(ast.Slice(lower=part(e.lower), upper=part(e.upper), step=part(e.step)))
            else:
                elts.append(_once(load(e), out, namer))
        return ast.Tuple(elts=elts, ctx=ast.Load())
    return _once(load(sl), out, namer)


def expand_augassign(s: ast.AugAssign, namer: Namer) -> list[ast.stmt]:
    """``a[i] op= v`` / ``a.x op= v`` -> get into a temporary, AugAssign it, set back."""
    out: list[ast.stmt] = []
    tgt = s.target
    recv = _receiver(tgt.value, out, namer)
    if isinstance(tgt, ast.Attribute):
        read = ast.Attribute(value=recv, attr=tgt.attr, ctx=ast.Load())
        write = ast.Attribute(value=copy.deepcopy(recv), attr=tgt.attr, ctx=ast.Store())
    else:
        idx = _index_once(tgt.slice, out, namer)
        read = ast.Subscript(value=recv, slice=idx, ctx=ast.Load())
        write = ast.Subscript(value=copy.deepcopy(recv), slice=copy.deepcopy(idx),
                              ctx=ast.Store())
    t = namer.fresh()
    out.append(assign(t, read))
    out.append(ast.AugAssign(target=name(t, store=True), op=s.op, value=s.value))
    out.append(ast.Assign(targets=[write], value=name(t), type_comment=None))
    return out


def _delete_targets(targets: list[ast.expr]):
    for t in targets:
        if isinstance(t, (ast.Tuple, ast.List)):
            yield from _delete_targets(t.elts)
        else:
            yield t


def lower_statement(s: ast.stmt, namer: Namer) -> list[ast.stmt] | None:
    """The simple-statement lowering of this pass for one statement (no recursion into
    blocks), or None when ``s`` is not affected. Used by other passes as a fallback."""
    if isinstance(s, ast.Expr):
        if isinstance(s.value, ast.Constant):
            return []
        return [assign(namer.fresh(), s.value)]
    if isinstance(s, ast.Assign):
        if len(s.targets) == 1 and isinstance(s.targets[0], SIMPLE_TARGETS):
            return None
        if len(s.targets) == 1:
            return assign_to(s.targets[0], s.value, namer)
        value = s.value
        bound = set().union(*(_bound_names(t) for t in s.targets))
        out: list[ast.stmt] = []
        if not (isinstance(value, ast.Constant) or
                (isinstance(value, ast.Name) and value.id not in bound)):
            t = namer.fresh()
            out.append(assign(t, value))
            value = name(t)
        for tgt in s.targets:
            out.extend(assign_to(tgt, copy.deepcopy(value), namer))
        return out
    if isinstance(s, ast.AugAssign):
        if isinstance(s.target, ast.Name):
            return None
        return expand_augassign(s, namer)
    if isinstance(s, ast.AnnAssign):
        if s.value is None:
            return []
        return lower_statement(assign(s.target, s.value), namer) or [assign(s.target, s.value)]
    if isinstance(s, ast.Assert):
        args = [s.msg] if s.msg is not None else []
        exc = ast.Call(func=name("AssertionError"), args=args, keywords=[])
        return [ast.If(test=not_(s.test), body=[ast.Raise(exc=exc, cause=None)], orelse=[])]
    if isinstance(s, ast.Delete):
        targets = list(_delete_targets(s.targets))
        if len(targets) == 1 and len(s.targets) == 1:
            return None
        return [ast.Delete(targets=[t]) for t in targets]
    return None


class _Assignments:
    def __init__(self, fn: ast.FunctionDef):
        self.namer = Namer(fn)

    def block(self, stmts: list[ast.stmt], src: ast.AST) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out or [located(ast.Pass(), src)]

    def stmt(self, s: ast.stmt) -> list[ast.stmt]:
        if isinstance(s, SCOPE_NODES):
            return [s]
        lowered = lower_statement(s, self.namer)
        if lowered is not None:
            out = []
            for x in lowered:
                located(x, s)
                # an assert's `if` has no blocks to lower; others are simple statements
                out.append(x)
            return out
        s = copy.copy(s)
        if isinstance(s, ast.For) and not isinstance(s.target, ast.Name):
            t = self.namer.fresh()
            unpack = [located(x, s) for x in assign_to(s.target, name(t), self.namer)]
            s.target = name(t, store=True)
            s.body = unpack + list(s.body)
        for f in ("body", "orelse", "finalbody"):
            blk = getattr(s, f, None)
            if isinstance(blk, list) and (blk or f == "body"):
                setattr(s, f, self.block(blk, s))
        if isinstance(s, ast.Try):
            hs = []
            for h in s.handlers:
                h = copy.copy(h)
                h.body = self.block(h.body, h)
                hs.append(h)
            s.handlers = hs
        return [s]


def lower_assignments(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Simplify assignments, asserts, deletes, for targets and expression statements."""
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    return replace_body(fn, _Assignments(fn).block(fn.body, fn))


run = lower_assignments
