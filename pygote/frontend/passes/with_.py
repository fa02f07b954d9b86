"""Pass 2, ``with_``: ``with`` statements -> explicit ``__enter__``/``__exit__`` calls.

Guarantees afterwards: the function's own scope contains no ``with`` statement. Each
``with A as t, B: body`` is treated as the nested ``with A as t: with B: body`` and every
item becomes (following the language reference, "The with statement")::

    _t1 = A                      # the context manager, evaluated once
    _t2 = type(_t1)              # `_t1.__class__` if the function binds `type` itself
    _t3 = _t2.__enter__          # both looked up on the type, before entering
    _t4 = _t2.__exit__
    _t5 = _t3(_t1)
    _t6 = False                  # "an exception reached __exit__"
    try:
        t = _t5                  # target bound inside the try (unpacked later)
        body
    except BaseException as _t7:
        _t6 = True
        _t8 = _t4(_t1, _t7.__class__, _t7, _t7.__traceback__)
        if not _t8:              # __exit__ returned false: re-raise
            raise
    finally:
        if not _t6:
            _t9 = _t4(_t1, None, None, None)

``return``/``break``/``continue`` inside the body still pass through the ``finally`` (they
are turned into flags by ``control_flow`` later). Every generated statement carries the
location of the ``with`` statement. Nested def/lambda/class bodies are not entered.
Deviation: a context manager without ``__enter__`` raises AttributeError, not TypeError.
"""

from __future__ import annotations

import ast
import copy

from ._util import (SCOPE_NODES, Namer, assign, const, located, name, not_, replace_body,
                    walk_own)


class _With:
    def __init__(self, fn: ast.FunctionDef, namer: Namer | None = None):
        self.namer = namer or Namer(fn)
        bound_type = False
        for s in fn.body:
            for n in walk_own(s):
                if isinstance(n, ast.Name) and n.id == "type" and \
                        not isinstance(n.ctx, ast.Load):
                    bound_type = True
                if isinstance(n, (ast.Global, ast.Nonlocal)) and "type" in n.names:
                    bound_type = True
        if any(a.arg == "type" for a in _all_args(fn.args)):
            bound_type = True
        self.use_type_builtin = not bound_type

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s: ast.stmt) -> list[ast.stmt]:
        if isinstance(s, ast.With):
            return self.lower(s, list(s.items), s.body)
        if isinstance(s, SCOPE_NODES):
            return [s]
        s = copy.copy(s)
        for f in ("body", "orelse", "finalbody"):
            if isinstance(getattr(s, f, None), list):
                setattr(s, f, self.block(getattr(s, f)))
        if isinstance(s, ast.Try):
            hs = []
            for h in s.handlers:
                h = copy.copy(h)
                h.body = self.block(h.body)
                hs.append(h)
            s.handlers = hs
        return [s]

    def lower(self, w: ast.With, items: list[ast.withitem], body: list[ast.stmt]):
        item, rest = items[0], items[1:]
        inner = self.lower(w, rest, body) if rest else self.block(body)
        fresh = self.namer.fresh
        mgr, typ, enter, exit_, val, hit, exc, ok, done = (fresh() for _ in range(9))
        if self.use_type_builtin:
            typ_value = ast.Call(func=name("type"), args=[name(mgr)], keywords=[])
        else:
            typ_value = ast.Attribute(value=name(mgr), attr="__class__", ctx=ast.Load())
        pre = [
            assign(mgr, item.context_expr),
            assign(typ, typ_value),
            assign(enter, ast.Attribute(value=name(typ), attr="__enter__", ctx=ast.Load())),
            assign(exit_, ast.Attribute(value=name(typ), attr="__exit__", ctx=ast.Load())),
            assign(val, ast.Call(func=name(enter), args=[name(mgr)], keywords=[])),
            assign(hit, const(False)),
        ]
        try_body = []
        if item.optional_vars is not None:
            try_body.append(assign(item.optional_vars, name(val)))
        try_body.extend(inner)
        exc_info = [
            ast.Attribute(value=name(exc), attr="__class__", ctx=ast.Load()),
            name(exc),
            ast.Attribute(value=name(exc), attr="__traceback__", ctx=ast.Load()),
        ]
        handler = ast.ExceptHandler(
            type=name("BaseException"), name=exc,
            body=[
                assign(hit, const(True)),
                assign(ok, ast.Call(func=name(exit_), args=[name(mgr)] + exc_info,
                                    keywords=[])),
                ast.If(test=not_(name(ok)), body=[ast.Raise(exc=None, cause=None)], orelse=[]),
            ])
        final = [ast.If(test=not_(name(hit)), body=[
            assign(done, ast.Call(func=name(exit_),
                                  args=[name(mgr), const(None), const(None), const(None)],
                                  keywords=[]))], orelse=[])]
        tr = ast.Try(body=try_body or [ast.Pass()], handlers=[handler], orelse=[],
                     finalbody=final)
        out = pre + [tr]
        if _is_ignore(item.context_expr):
            # `with pg.ignore():` values made inside carry no gradient out of the block
            for target in sorted(_assigned_names(body)):
                out.append(assign(target, ast.Call(
                    func=ast.Attribute(value=name(mgr), attr="stop", ctx=ast.Load()),
                    args=[name(target)], keywords=[])))
        for s in out:
            located(s, w)
        return out


def _is_ignore(expr) -> bool:
    """``pg.ignore()``, ``pygote.ignore()`` or ``ignore()``: pygote's no-gradient block."""
    if not isinstance(expr, ast.Call) or expr.args or expr.keywords:
        return False
    f = expr.func
    return (isinstance(f, ast.Name) and f.id == "ignore") or (
        isinstance(f, ast.Attribute) and f.attr == "ignore" and isinstance(f.value, ast.Name)
        and f.value.id in ("pg", "pygote"))


def _assigned_names(body) -> set:
    out = set()
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.add(n.id)
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                out.add(n.name)
    return out


def _all_args(a: ast.arguments):
    yield from getattr(a, "posonlyargs", [])
    yield from a.args
    yield from a.kwonlyargs
    if a.vararg:
        yield a.vararg
    if a.kwarg:
        yield a.kwarg


def lower_with_statement(fn: ast.FunctionDef, s: ast.With, namer: Namer) -> list[ast.stmt]:
    """The lowering of one ``with`` statement of ``fn`` (used by ``anf`` as a fallback)."""
    return _With(fn, namer).stmt(s)


def lower_with(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Replace every ``with`` statement of ``fn``'s own scope by explicit enter/exit."""
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    return replace_body(fn, _With(fn).block(fn.body))


run = lower_with
