"""Pass 6, ``expressions``: conditional expressions, and/or, chained comparisons, walrus.

Guarantees afterwards, for the function's own scope (nested def/lambda/class bodies and
comprehensions -- gone by now in the pipeline -- are not entered): no ``IfExp``,
``BoolOp``, ``NamedExpr``, and every ``Compare`` has exactly one operator. Each became
statements before the statement that used it, leaving a fresh temporary in its place:

* ``a if c else b`` -> ``if c: _t1 = a  else: _t1 = b``
* ``a or b or c``   -> ``_t1 = a; if _t1: pass else: (_t1 = b; if _t1: pass else: _t1 = c)``
  and ``a and b`` -> ``_t1 = a; if _t1: _t1 = b`` (Python's value semantics: the result is
  the first operand deciding the outcome, truthiness tested once per operand; later
  operands are evaluated only when needed).
* ``a < b < c``     -> ``_t2 = b; _t1 = a < _t2; if _t1: _t1 = _t2 < c`` (``b`` once,
  ``c`` only when needed).
* ``(y := v)``      -> ``_t1 = v; y = _t1`` (the expression's value is ``_t1``).

Evaluation order is Python's: operands evaluated before a lowered construct are stored
into temporaries first (constants and stable names excepted, see ``_engine``). A
``while`` test needing statements gets them before the loop and at the end of the body
(``_util.relocate_while_test``). Generated statements carry the user statement's location.
"""

from __future__ import annotations

import ast
import copy

from ._engine import Linearizer, is_chain, register
from ._util import assign, name


@register(ast.IfExp)
def lower_ifexp(lz: Linearizer, e: ast.IfExp) -> ast.expr:
    test = lz.test(e.test)
    r = lz.fresh()
    body = lz.capture(lambda: lz.emit(assign(r, lz.value(e.body))))
    orelse = lz.capture(lambda: lz.emit(assign(r, lz.value(e.orelse))))
    lz.emit(ast.If(test=test, body=body, orelse=orelse))
    return name(r)


@register(ast.BoolOp)
def lower_boolop(lz: Linearizer, e: ast.BoolOp) -> ast.expr:
    r = lz.fresh()
    lz.emit(assign(r, lz.value(e.values[0])))
    is_and = isinstance(e.op, ast.And)

    def rest(i: int) -> None:
        def inner():
            lz.emit(assign(r, lz.value(e.values[i])))
            if i + 1 < len(e.values):
                rest(i + 1)
        stmts = lz.capture(inner)
        if is_and:
            lz.emit(ast.If(test=name(r), body=stmts, orelse=[]))
        else:
            lz.emit(ast.If(test=name(r), body=[ast.Pass()], orelse=stmts))

    rest(1)
    return name(r)


@register(ast.Compare)
def lower_compare(lz: Linearizer, e: ast.Compare) -> ast.expr:
    if not is_chain(e):  # a single comparison only gets here in partial mode's generic path
        return lz.value(e)
    r = lz.fresh()
    left = lz.atomic(e.left)

    def step(i: int, left: ast.expr) -> None:
        op, comp = e.ops[i], e.comparators[i]
        if i == len(e.ops) - 1:
            lz.emit(assign(r, lz.value(ast.Compare(left=left, ops=[op], comparators=[comp]))))
            return
        right = lz.atomic(comp)
        lz.emit(assign(r, ast.Compare(left=copy.deepcopy(left), ops=[op], comparators=[right])))
        inner = lz.capture(lambda: step(i + 1, right))
        lz.emit(ast.If(test=name(r), body=inner, orelse=[]))

    step(0, left)
    return name(r)


@register(ast.NamedExpr)
def lower_namedexpr(lz: Linearizer, e: ast.NamedExpr) -> ast.expr:
    t = lz.fresh()
    lz.emit(assign(t, lz.value(e.value)))
    lz.emit(assign(e.target.id, name(t)))
    return name(t)


def _want(e: ast.expr) -> bool:
    return isinstance(e, (ast.IfExp, ast.BoolOp, ast.NamedExpr)) or is_chain(e)


def lower_expressions(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Turn conditional expressions, and/or, chained comparisons and walrus into ifs."""
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    return Linearizer(fn, filename, want=_want).run(fn)


run = lower_expressions
