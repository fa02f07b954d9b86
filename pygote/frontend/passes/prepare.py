"""Pass 1, ``prepare``: reject what cannot be normalized; hoist scope declarations.

Guarantees afterwards:

* The function's own scope (nested ``def``/``lambda``/``class`` bodies excluded) contains
  no ``yield``/``yield from`` (generator functions), ``await``, ``async for``,
  ``async with``, nested ``async def``, async comprehensions, ``match`` statements or
  ``try``/``except*``: each of these raises ``DifferentiationError`` naming the construct,
  the file and line, and a remedy.
* All ``global``/``nonlocal`` declarations of the function are merged into statements at
  the very top of the body (they are function-wide in Python; hoisting them lets later
  passes move code freely without "name used prior to global declaration" errors).
  They are otherwise kept (the differentiator decides what to do with them).
"""

from __future__ import annotations

import ast
import copy

from ._util import SCOPE_NODES, Where, located, replace_body, walk_own

_TRY_STAR = getattr(ast, "TryStar", None)
_MATCH = getattr(ast, "Match", None)


def _check(fn: ast.FunctionDef, where: Where) -> None:
    if not isinstance(fn, ast.FunctionDef):
        if isinstance(fn, ast.AsyncFunctionDef):
            raise where.error("an `async def` function", fn,
                              "Differentiate a plain (non-async) function.")
        raise where.error(f"a {type(fn).__name__} (not a function definition)", fn,
                          "Pass a function defined with `def`.")
    for s in fn.body:
        for n in walk_own(s):
            _check_node(n, where)


def _check_node(n: ast.AST, where: Where) -> None:
    if isinstance(n, ast.Yield):
        raise where.error("a generator function (`yield`)", n,
                          "Return a list (or other container) of the values instead.")
    if isinstance(n, ast.YieldFrom):
        raise where.error("a generator function (`yield from`)", n,
                          "Return a list (or other container) of the values instead.")
    if isinstance(n, ast.Await):
        raise where.error("`await`", n, "Differentiate synchronous code only.")
    if isinstance(n, ast.AsyncFunctionDef):
        raise where.error("a nested `async def`", n, "Use a plain `def`.")
    if isinstance(n, ast.AsyncFor):
        raise where.error("`async for`", n, "Use a plain `for` loop.")
    if isinstance(n, ast.AsyncWith):
        raise where.error("`async with`", n, "Use a plain `with` statement.")
    if isinstance(n, ast.comprehension) and n.is_async:
        raise where.error("an async comprehension (`async for`)", getattr(n, "target", None),
                          "Use a plain comprehension.")
    if _MATCH is not None and isinstance(n, _MATCH):
        raise where.error("a `match` statement", n, "Rewrite it with if/elif.")
    if _TRY_STAR is not None and isinstance(n, _TRY_STAR):
        raise where.error("`try`/`except*`", n, "Use a plain `except` clause.")


def _strip_declarations(stmts: list[ast.stmt], found: dict[type, list[str]]) -> list[ast.stmt]:
    out = []
    for s in stmts:
        if isinstance(s, (ast.Global, ast.Nonlocal)):
            lst = found.setdefault(type(s), [])
            lst.extend(x for x in s.names if x not in lst)
            found.setdefault("_first", s)
            continue
        if not isinstance(s, SCOPE_NODES):
            s = copy.copy(s)
            for f in ("body", "orelse", "finalbody"):
                blk = getattr(s, f, None)
                if isinstance(blk, list) and blk:
                    setattr(s, f, _strip_declarations(blk, found) or [located(ast.Pass(), s)])
            if isinstance(s, ast.Try):
                handlers = []
                for h in s.handlers:
                    h = copy.copy(h)
                    h.body = _strip_declarations(h.body, found) or [located(ast.Pass(), h)]
                    handlers.append(h)
                s.handlers = handlers
        out.append(s)
    return out


class _SignedConstants(ast.NodeTransformer):
    """``-1`` is ``UnaryOp(USub, Constant(1))`` in the AST: make it the constant it is, so
    that later passes keep it as an atom (``u[1:-1]`` stays a slice of constants)."""

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        value = getattr(node.operand, "value", None)
        if (isinstance(node.operand, ast.Constant) and type(value) in (int, float, complex)
                and isinstance(node.op, (ast.USub, ast.UAdd))):
            folded = -value if isinstance(node.op, ast.USub) else value
            return ast.copy_location(ast.Constant(folded), node)
        return node

    def visit_BinOp(self, node):
        # `(-0.7) ** 2`: a negative constant as the base of a power stays `-(0.7)`, because
        # ast.unparse would write the folded form as `-0.7 ** 2`, which is -(0.7 ** 2)
        self.generic_visit(node)
        left = node.left
        if (isinstance(node.op, ast.Pow) and isinstance(left, ast.Constant)
                and type(left.value) in (int, float) and left.value < 0):
            node.left = ast.copy_location(
                ast.UnaryOp(ast.USub(), ast.copy_location(ast.Constant(-left.value), left)), left)
        return node


def _fold_signed_constants(fn: ast.FunctionDef) -> None:
    for i, statement in enumerate(fn.body):
        fn.body[i] = _SignedConstants().visit(statement)


def prepare(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Validate ``fn`` (raising ``DifferentiationError``), fold signed numeric constants
    and hoist global/nonlocal."""
    where = Where(fn, filename)
    _check(fn, where)
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    _fold_signed_constants(fn)
    found: dict = {}
    body = _strip_declarations(fn.body, found)
    decls = []
    for kind in (ast.Global, ast.Nonlocal):
        if found.get(kind):
            decls.append(located(kind(names=found[kind]), found["_first"]))
    if decls:
        # A docstring stays first so that later passes still recognise it.
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[:1] + decls + body[1:]
        else:
            body = decls + body
    return replace_body(fn, body)


run = prepare
