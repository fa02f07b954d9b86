"""The evaluation-order engine shared by ``comprehensions``, ``expressions`` and ``anf``.

A ``Linearizer`` walks the statements of a function's own scope and, for each statement,
the expressions in Python's evaluation order (left to right; a call's function, then its
positional arguments, then keywords; a subscript's value, then its index; an assignment's
right-hand side, then the target's receiver and index). Some sub-expressions are
*lowered*: replaced by statements emitted before the statement, leaving a name in their
place. Which ones depends on the mode:

* partial mode (``want`` given): the nodes ``want`` selects are lowered, plus any
  conditional construct (``IfExp``, ``BoolOp``, chained ``Compare``) that contains one
  (what is evaluated conditionally must stay conditional);
* full mode (``anf``): every operation gets its own statement and temporary.

To keep Python's order, an operand evaluated *before* a lowered one is itself stored into
a temporary first, unless it is a constant or a stable name (see ``_util.Scope``). How
each construct is lowered is registered by the pass module that owns it (``register``).
"""

from __future__ import annotations

import ast
import copy
from typing import Callable

from ._util import (COMPREHENSIONS, Namer, Scope, Where, assign, const, internal, is_atom,
                    load, located, name, relocate_while_test, replace_body)

Lowering = Callable[["Linearizer", ast.expr], ast.expr]
LOWERINGS: dict[type, Lowering] = {}


def register(*types: type) -> Callable[[Lowering], Lowering]:
    def deco(f: Lowering) -> Lowering:
        for t in types:
            LOWERINGS[t] = f
        return f
    return deco


def is_chain(e: ast.AST) -> bool:
    return isinstance(e, ast.Compare) and len(e.ops) > 1


def is_conditional(e: ast.AST) -> bool:
    return isinstance(e, (ast.IfExp, ast.BoolOp)) or is_chain(e)


def expr_children(node: ast.AST):
    for c in ast.iter_child_nodes(node):
        if isinstance(c, ast.expr):
            yield c
        elif isinstance(c, (ast.keyword, ast.comprehension, ast.withitem)):
            yield from expr_children(c)


# --- evaluation-order slots of an expression -------------------------------------------------
# map_slots(e, f) rebuilds ``e`` with f(child, kind) applied to each operand, in evaluation
# order. kind is "atom" (a Name or Constant will do) or "name" (must be a Name: receivers
# of attributes/subscripts/method calls, called functions, if/while tests).

def _map_index(sl: ast.expr, f):
    if isinstance(sl, ast.Slice):
        return ast.Slice(lower=None if sl.lower is None else f(sl.lower, "atom"),
                         upper=None if sl.upper is None else f(sl.upper, "atom"),
                         step=None if sl.step is None else f(sl.step, "atom"))
    if isinstance(sl, ast.Tuple) and not any(isinstance(x, ast.Starred) for x in sl.elts):
        return ast.Tuple(elts=[_map_index(x, f) if isinstance(x, ast.Slice) else f(x, "atom")
                               for x in sl.elts], ctx=ast.Load())
    return f(sl, "atom")


def _map_elts(elts, f):
    return [ast.Starred(value=f(x.value, "atom"), ctx=ast.Load()) if isinstance(x, ast.Starred)
            else f(x, "atom") for x in elts]


def _map_joined(e: ast.JoinedStr, f) -> ast.JoinedStr:
    values = []
    for v in e.values:
        if isinstance(v, ast.FormattedValue):
            val = f(v.value, "atom")
            spec = None if v.format_spec is None else _map_joined(v.format_spec, f)
            values.append(ast.FormattedValue(value=val, conversion=v.conversion,
                                             format_spec=spec))
        else:
            values.append(v)
    return ast.JoinedStr(values=values)


def map_slots(e: ast.expr, f) -> ast.expr:
    if isinstance(e, ast.BinOp):
        return ast.BinOp(left=f(e.left, "atom"), op=e.op, right=f(e.right, "atom"))
    if isinstance(e, ast.UnaryOp):
        return ast.UnaryOp(op=e.op, operand=f(e.operand, "atom"))
    if isinstance(e, ast.Compare):
        left = f(e.left, "atom")
        return ast.Compare(left=left, ops=e.ops, comparators=[f(c, "atom") for c in e.comparators])
    if isinstance(e, ast.Call):
        fn = e.func
        if isinstance(fn, ast.Attribute):
            fn = ast.Attribute(value=f(fn.value, "name"), attr=fn.attr, ctx=ast.Load())
        else:
            fn = f(fn, "name")
        args = _map_elts(e.args, f)
        kws = [ast.keyword(arg=k.arg, value=f(k.value, "atom")) for k in e.keywords]
        return ast.Call(func=fn, args=args, keywords=kws)
    if isinstance(e, ast.Attribute):
        return ast.Attribute(value=f(e.value, "name"), attr=e.attr, ctx=e.ctx)
    if isinstance(e, ast.Subscript):
        value = f(e.value, "name")
        return ast.Subscript(value=value, slice=_map_index(e.slice, f), ctx=e.ctx)
    if isinstance(e, ast.Tuple):
        return ast.Tuple(elts=_map_elts(e.elts, f), ctx=ast.Load())
    if isinstance(e, ast.List):
        return ast.List(elts=_map_elts(e.elts, f), ctx=ast.Load())
    if isinstance(e, ast.Set):
        return ast.Set(elts=_map_elts(e.elts, f))
    if isinstance(e, ast.Dict):
        keys, values = [], []
        for k, v in zip(e.keys, e.values):
            keys.append(None if k is None else f(k, "atom"))
            values.append(f(v, "atom"))
        return ast.Dict(keys=keys, values=values)
    if isinstance(e, ast.JoinedStr):
        return _map_joined(e, f)
    if isinstance(e, ast.FormattedValue):
        return _map_joined(ast.JoinedStr(values=[e]), f).values[0]
    if isinstance(e, ast.NamedExpr):
        return ast.NamedExpr(target=copy.deepcopy(e.target), value=f(e.value, "atom"))
    if isinstance(e, ast.Lambda):
        args = copy.copy(e.args)
        args.defaults = [f(d, "atom") for d in e.args.defaults]
        args.kw_defaults = [None if d is None else f(d, "atom") for d in e.args.kw_defaults]
        return ast.Lambda(args=args, body=e.body)
    if isinstance(e, ast.Starred):
        return ast.Starred(value=f(e.value, "atom"), ctx=e.ctx)
    if isinstance(e, ast.Slice):
        return _map_index(e, f)
    if isinstance(e, (ast.Name, ast.Constant)):
        return e
    raise TypeError(f"no evaluation order known for {type(e).__name__}")


def list_slots(e: ast.expr) -> list[tuple[ast.expr, str]]:
    slots: list[tuple[ast.expr, str]] = []

    def rec(c, kind):
        slots.append((c, kind))
        return c
    map_slots(e, rec)
    return slots


def rebuild(e: ast.expr, new: list[ast.expr]) -> ast.expr:
    it = iter(new)
    out = map_slots(e, lambda c, k: next(it))
    return ast.copy_location(out, e) if hasattr(e, "lineno") else out


_BLOCKS = (ast.If, ast.While, ast.For, ast.Try, ast.FunctionDef, ast.With)


# --- the linearizer -----------------------------------------------------------------------

class Linearizer:
    """Lowers selected expressions of a function's own scope into statements."""

    def __init__(self, fn: ast.FunctionDef, filename: str | None,
                 want: Callable[[ast.expr], bool] | None = None):
        self.fn = fn
        self.namer = Namer(fn)
        self.scope = Scope(fn)
        self.where = Where(fn, filename)
        self.want = want
        self.full = want is None
        self.out: list[ast.stmt] = []
        self.src: ast.AST = fn
        self._memo: dict[int, tuple[ast.AST, bool]] = {}

    # -- plumbing -------------------------------------------------------------------------

    def fresh(self, prefix: str = "_t") -> str:
        return self.namer.fresh(prefix)

    def emit(self, s: ast.stmt) -> None:
        self.out.append(located(s, self.src))

    def capture(self, fn: Callable[[], object]) -> list[ast.stmt]:
        saved, self.out = self.out, []
        try:
            fn()
            return self.out
        finally:
            self.out = saved

    def run(self, fn: ast.FunctionDef) -> ast.FunctionDef:
        return replace_body(fn, self.block(fn.body))

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s: ast.stmt) -> list[ast.stmt]:
        saved = (self.out, self.src)
        self.out, self.src = [], s
        try:
            self._stmt(s)
            return self.out
        finally:
            self.out, self.src = saved

    def emit_raw(self, stmts: list[ast.stmt]) -> None:
        """Emit generated statements (they still contain compound expressions), processed."""
        for s in stmts:
            located(s, self.src)
        self.out.extend(self.block(stmts))

    # -- expressions ----------------------------------------------------------------------

    def needs(self, e: ast.expr | None) -> bool:
        if e is None:
            return False
        if self.full:
            return not is_atom(e)
        return self._pneeds(e)

    def _pneeds(self, e: ast.expr) -> bool:
        hit = self._memo.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        r = self._pneeds_uncached(e)
        self._memo[id(e)] = (e, r)  # the node is kept alive, so its id stays unique
        return r

    def _pneeds_uncached(self, e: ast.expr) -> bool:
        if isinstance(e, ast.Lambda):
            return any(self._pneeds(d) for d in e.args.defaults) or \
                any(self._pneeds(d) for d in e.args.kw_defaults if d is not None)
        if self.want(e):
            return True
        if isinstance(e, COMPREHENSIONS):
            return False
        return any(self._pneeds(c) for c in expr_children(e))

    def should_lower(self, e: ast.expr) -> bool:
        if self.full:
            return type(e) in LOWERINGS and (not isinstance(e, ast.Compare) or is_chain(e))
        return self.want(e) or is_conditional(e)

    def visit(self, e: ast.expr) -> ast.expr:
        """``e`` with its lowered parts replaced; in full mode a single operation on atoms."""
        if not self.needs(e):
            return e
        if self.should_lower(e):
            lower = LOWERINGS.get(type(e))
            if lower is None:
                raise internal(self.where, self.src, f"a {type(e).__name__} expression")
            return lower(self, e)
        if self.full and isinstance(e, ast.Set) and \
                any(isinstance(x, ast.Starred) for x in e.elts):
            e = ast.Call(func=name("set"), args=[ast.List(elts=e.elts, ctx=ast.Load())],
                         keywords=[])
        try:
            slots = list_slots(e)
        except TypeError:
            raise internal(self.where, self.src, f"a {type(e).__name__} expression") from None
        return rebuild(e, self.process(slots))

    def slot_needs(self, c: ast.expr, kind: str) -> bool:
        if self.full:
            return not (isinstance(c, ast.Name) or (isinstance(c, ast.Constant) and kind == "atom"))
        return self.needs(c)

    def process(self, slots: list[tuple[ast.expr, str]]) -> list[ast.expr]:
        """Operands in evaluation order; those before the last lowered one are protected."""
        flags = [self.slot_needs(c, k) for c, k in slots]
        last = max((i for i, n in enumerate(flags) if n), default=-1)
        res = []
        for i, (c, k) in enumerate(slots):
            if i > last:
                res.append(c)
                continue
            r = self.visit(c)
            if self.full:
                r = self.finish(r, k)
            if i < last:
                r = self.protect(r)
            res.append(r)
        return res

    def finish(self, r: ast.expr, kind: str = "atom") -> ast.expr:
        """``r`` as an atom (``kind`` "atom") or a name (``kind`` "name")."""
        if isinstance(r, ast.Name) or (isinstance(r, ast.Constant) and kind == "atom"):
            return r
        t = self.fresh()
        self.emit(assign(t, r))
        return name(t)

    def protect(self, r: ast.expr) -> ast.expr:
        """``r`` unless a later evaluation could change its value: then a temporary."""
        if self.scope.is_stable(r, self.namer.generated):
            return r
        t = self.fresh()
        self.emit(assign(t, r))
        return name(t)

    def atomic(self, e: ast.expr) -> ast.expr:
        """``e`` evaluated now into a stable atom."""
        return self.protect(self.finish(self.visit(e)))

    def value(self, e: ast.expr) -> ast.expr:
        """``e`` as an assignment's right-hand side (one operation in full mode)."""
        return self.visit(e)

    def test(self, e: ast.expr) -> ast.expr:
        """``e`` as an if/while test (a name in full mode)."""
        return self.process([(e, "name")])[0]

    # -- statements -----------------------------------------------------------------------

    def _stmt_needs(self, s: ast.stmt) -> bool:
        if self.full:
            return True
        return any(self._pneeds(c) for c in expr_children(s))

    def _fallback(self, s: ast.stmt) -> bool:
        """Use the assignments pass's lowering for statements it simplifies."""
        from .assignments import lower_statement

        if not self._stmt_needs(s):
            return False
        lowered = lower_statement(s, self.namer)
        if lowered is None:
            return False
        self.emit_raw(lowered)
        return True

    def _stmt(self, s: ast.stmt) -> None:  # noqa: C901 - one case per statement type
        if not self.full and not isinstance(s, _BLOCKS) and not self._stmt_needs(s):
            self.emit(s)
            return
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Assert, ast.Delete)) \
                and self._fallback(s):
            return
        if isinstance(s, ast.Expr):
            if self.full and isinstance(s.value, ast.Constant):
                return
            if self.full:
                self._fallback(s)
                return
            self.emit(self._copy(s, value=self.value(s.value)))
            return
        if isinstance(s, ast.Assign):
            target = s.targets[0]
            if isinstance(target, ast.Name):
                self.emit(self._copy(s, targets=[target], value=self.value(s.value)))
                return
            tl = load(target)
            res = self.process([(s.value, "atom")] + list_slots(tl))
            new_t = rebuild(tl, res[1:])
            new_t.ctx = ast.Store()
            self.emit(self._copy(s, targets=[new_t], value=res[0]))
            return
        if isinstance(s, ast.AugAssign):
            value = self.value(s.value)
            if self.full:
                value = self.finish(value)
            self.emit(self._copy(s, value=value))
            return
        if isinstance(s, ast.Delete):
            target = s.targets[0]
            if isinstance(target, ast.Name):
                self.emit(s)
                return
            tl = load(target)
            new_t = rebuild(tl, self.process(list_slots(tl)))
            new_t.ctx = ast.Del()
            self.emit(self._copy(s, targets=[new_t]))
            return
        if isinstance(s, ast.If):
            test = self.test(s.test)
            body = self.block(s.body) or [located(ast.Pass(), s)]
            self.emit(self._copy(s, test=test, body=body, orelse=self.block(s.orelse)))
            return
        if isinstance(s, ast.While):
            test_holder = []
            pre = self.capture(lambda: test_holder.append(self.test(s.test)))
            body = self.block(s.body) or [located(ast.Pass(), s)]
            loop = self._copy(s, body=body, orelse=self.block(s.orelse))
            for x in relocate_while_test(loop, pre, test_holder[0], self.where):
                self.emit(x)
            return
        if isinstance(s, ast.For):
            body = list(s.body)
            target = s.target
            if self.full and not isinstance(target, ast.Name):
                from .assignments import assign_to
                t = self.fresh()
                body = [located(x, s) for x in assign_to(target, name(t), self.namer)] + body
                target = name(t, store=True)
            it = self.process([(s.iter, "atom")])[0]
            body = self.block(body) or [located(ast.Pass(), s)]
            self.emit(self._copy(s, target=target, iter=it, body=body,
                                 orelse=self.block(s.orelse)))
            return
        if isinstance(s, ast.Return):
            value = s.value if s.value is not None or not self.full else const(None)
            if value is not None:
                value = self.process([(value, "atom")])[0]
            self.emit(self._copy(s, value=value))
            return
        if isinstance(s, ast.Raise):
            slots = [(x, "atom") for x in (s.exc, s.cause) if x is not None]
            res = iter(self.process(slots))
            exc = None if s.exc is None else next(res)
            cause = None if s.cause is None else next(res)
            self.emit(self._copy(s, exc=exc, cause=cause))
            return
        if isinstance(s, ast.Try):
            handlers = []
            for h in s.handlers:
                h = copy.copy(h)
                h.body = self.block(h.body) or [located(ast.Pass(), h)]
                handlers.append(h)
            self.emit(self._copy(s, body=self.block(s.body) or [located(ast.Pass(), s)],
                                 handlers=handlers, orelse=self.block(s.orelse),
                                 finalbody=self.block(s.finalbody)))
            return
        if isinstance(s, ast.FunctionDef):
            a = s.args
            slots = [(d, "atom") for d in s.decorator_list] + [(d, "atom") for d in a.defaults] \
                + [(d, "atom") for d in a.kw_defaults if d is not None]
            res = iter(self.process(slots))
            decorators = [next(res) for _ in s.decorator_list]
            args = copy.copy(a)
            args.defaults = [next(res) for _ in a.defaults]
            args.kw_defaults = [None if d is None else next(res) for d in a.kw_defaults]
            self.emit(self._copy(s, decorator_list=decorators, args=args))
            return
        if isinstance(s, (ast.ClassDef, ast.Global, ast.Nonlocal, ast.Pass, ast.Break,
                          ast.Continue, ast.Import, ast.ImportFrom)):
            self.emit(s)
            return
        if isinstance(s, ast.With):
            if self.full:
                from .with_ import lower_with_statement
                self.emit_raw(lower_with_statement(self.fn, s, self.namer))
                return
            if not any(self._pneeds(c) for c in expr_children(s)):
                self.emit(self._copy(s, body=self.block(s.body) or [located(ast.Pass(), s)]))
                return
        raise internal(self.where, s, f"a `{type(s).__name__}` statement here")

    @staticmethod
    def _copy(s: ast.stmt, **fields) -> ast.stmt:
        new = copy.copy(s)
        for k, v in fields.items():
            setattr(new, k, v)
        return new
