"""Pass 8 (last), ``lambdas``: every ``lambda`` -> a nested ``def _lambda_N``.

Guarantees afterwards: no ``Lambda`` node in the function's own scope (lambdas inside
nested def/class bodies and inside other lambdas' bodies are left alone -- those bodies
are transformed separately; so are lambdas inside comprehensions, which ``comprehensions``
has removed before this pass in the pipeline). Each lambda becomes, right before the statement that
contained it, ``def _lambda_N(<same parameters and defaults>): return <body>`` (a fresh
name) and is replaced by the name ``_lambda_N``; after ``anf`` a lambda only occurs as
``_tK = lambda ...`` with atom defaults, which becomes ``def _lambda_N ...`` followed by
``_tK = _lambda_N``. A lambda in another lambda's defaults is converted first (its def
comes first). The function's own default arguments are not touched (the function object
already holds them). A lambda in a ``while`` test is re-created at the end of the body
as well. Evaluation order is exact for ``anf`` output; on other input a lambda's defaults
are evaluated before the rest of its statement. The def's ``__name__`` is ``_lambda_N``
rather than ``<lambda>``. Generated statements carry the user statement's location.
"""

from __future__ import annotations

import ast
import copy

from ._util import (SCOPE_NODES, Namer, Where, located, make_function, name,
                    relocate_while_test, replace_body)


class _Hoist(ast.NodeTransformer):
    def __init__(self, owner: "_Lambdas"):
        self.owner = owner
        self.pre: list[ast.stmt] = []

    def visit_Lambda(self, node: ast.Lambda):
        args = copy.copy(node.args)
        args.defaults = [self.visit(d) for d in node.args.defaults]
        args.kw_defaults = [None if d is None else self.visit(d) for d in node.args.kw_defaults]
        fname = self.owner.namer.fresh("_lambda_")
        ret = ast.Return(value=node.body)
        ast.copy_location(ret, node)
        fdef = make_function(fname, args, [ret])
        ast.copy_location(fdef, node)
        self.pre.append(fdef)
        return ast.copy_location(name(fname), node)

    def _opaque(self, node):
        return node

    # A lambda inside a comprehension belongs to the comprehension's scope: left alone
    # (``comprehensions`` runs first in the pipeline, so none is left by then).
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _opaque

    def generic_visit(self, node):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return node
        return super().generic_visit(node)


class _Lambdas:
    def __init__(self, fn: ast.FunctionDef, filename: str | None):
        self.namer = Namer(fn)
        self.where = Where(fn, filename)

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def hoist(self, node: ast.AST, src: ast.stmt):
        h = _Hoist(self)
        new = h.visit(node)
        for s in h.pre:
            located(s, src)
            # the def statements take the user statement's line
            for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                if hasattr(src, a):
                    setattr(s, a, getattr(src, a))
        return new, h.pre

    def stmt(self, s: ast.stmt) -> list[ast.stmt]:
        if isinstance(s, ast.ClassDef):
            return [s]
        s = copy.copy(s)
        if isinstance(s, ast.FunctionDef):
            args = copy.copy(s.args)
            pre: list[ast.stmt] = []
            decorators = []
            for d in s.decorator_list:
                d, p = self.hoist(d, s)
                pre += p
                decorators.append(d)
            defaults = []
            for d in args.defaults:
                d, p = self.hoist(d, s)
                pre += p
                defaults.append(d)
            kw = []
            for d in args.kw_defaults:
                if d is not None:
                    d, p = self.hoist(d, s)
                    pre += p
                kw.append(d)
            args.defaults, args.kw_defaults = defaults, kw
            s.decorator_list, s.args = decorators, args
            return pre + [s]
        if isinstance(s, ast.If):
            s.test, pre = self.hoist(s.test, s)
            s.body = self.block(s.body)
            s.orelse = self.block(s.orelse)
            return pre + [s]
        if isinstance(s, ast.For):
            s.iter, pre = self.hoist(s.iter, s)
            s.body = self.block(s.body)
            s.orelse = self.block(s.orelse)
            return pre + [s]
        if isinstance(s, ast.While):
            test, pre = self.hoist(s.test, s)
            s.body = self.block(s.body)
            s.orelse = self.block(s.orelse)
            return relocate_while_test(s, pre, test, self.where)
        if isinstance(s, ast.Try):
            s.body = self.block(s.body)
            hs = []
            for h in s.handlers:
                h = copy.copy(h)
                h.body = self.block(h.body)
                hs.append(h)
            s.handlers = hs
            s.orelse = self.block(s.orelse)
            s.finalbody = self.block(s.finalbody)
            return [s]
        if isinstance(s, ast.With):
            items = []
            pre = []
            for it in s.items:
                it = copy.copy(it)
                it.context_expr, p = self.hoist(it.context_expr, s)
                pre += p
                items.append(it)
            s.items = items
            s.body = self.block(s.body)
            return pre + [s]
        if isinstance(s, SCOPE_NODES):
            return [s]
        new, pre = self.hoist(s, s)
        return pre + [new]


def lower_lambdas(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Replace every lambda in ``fn``'s own scope by a nested ``def _lambda_N``."""
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    return replace_body(fn, _Lambdas(fn, filename).block(fn.body))


run = lower_lambdas
