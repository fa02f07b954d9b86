"""Pass 5, ``comprehensions``: list/set/dict comprehensions and generator expressions -> loops.

Guarantees afterwards, for the function's own scope (lambda bodies, nested def/class
bodies are not entered): no ``ListComp``, ``SetComp``, ``DictComp`` or ``GeneratorExp``.
``[elt for x in it1 if c for y in it2]`` becomes, before the statement that used it::

    _t1 = []                      # set() for a set comprehension, {} for a dict one
    for _x_1 in it1:              # it1 evaluated once, in the function's scope
        if c':
            for _y_1 in it2':
                _t2 = _t1.append(elt')    # set: _t2 = _t1.add(elt')
                                          # dict: _t1[key'] = value' (key' first
                                          # stored in a temporary unless a stable atom)

and the comprehension is replaced by ``_t1``. A generator expression becomes a list (it is
consumed eagerly: all elements are computed even if the consumer stops early).
Comprehension variables are renamed to fresh names (``x`` -> ``_x_1``; the primes above)
in every expression of the comprehension, scope-aware (a lambda parameter or an inner
comprehension's variable of the same name shadows them), so they never leak into or
clobber a user variable; a tuple target is unpacked from a fresh loop variable with subscripts as
in ``assignments``; names bound by ``:=`` inside still bind in the function. Nested
comprehensions are lowered recursively (inner ones inside the outer loop body).

A comprehension that is evaluated conditionally (inside ``x if c else y``, ``and``/``or``
or a chained comparison) has that enclosing construct lowered to ``if`` statements too
(as in ``expressions``), so it is still evaluated only when Python would. Operands
evaluated before a comprehension are stored into temporaries first (evaluation order is
kept). Generated statements carry the user statement's location.
"""

from __future__ import annotations

import ast
import copy

from . import expressions  # noqa: F401  (registers the conditional lowerings)
from ._engine import Linearizer, register
from ._util import COMPREHENSIONS, assign, name, rename, target_names
from .assignments import assign_to


@register(*COMPREHENSIONS)
def lower_comprehension(lz: Linearizer, e: ast.expr) -> ast.expr:
    res = lz.fresh()
    if isinstance(e, ast.SetComp):
        init: ast.expr = ast.Call(func=name("set"), args=[], keywords=[])
    elif isinstance(e, ast.DictComp):
        init = ast.Dict(keys=[], values=[])
    else:
        init = ast.List(elts=[], ctx=ast.Load())
    lz.emit(assign(res, init))

    def final(m: dict[str, str]) -> list[ast.stmt]:
        if isinstance(e, ast.DictComp):
            key = rename(e.key, m)
            pre = []
            if not lz.scope.is_stable(key, lz.namer.generated):
                k = lz.fresh()
                pre, key = [assign(k, key)], name(k)
            target = ast.Subscript(value=name(res), slice=key, ctx=ast.Store())
            return pre + [assign(target, rename(e.value, m))]
        method = "add" if isinstance(e, ast.SetComp) else "append"
        call = ast.Call(func=ast.Attribute(value=name(res), attr=method, ctx=ast.Load()),
                        args=[rename(e.elt, m)], keywords=[])
        return [assign(lz.fresh(), call)]

    def build(i: int, m: dict[str, str]) -> ast.stmt:
        gen = e.generators[i]
        it = rename(gen.iter, m)
        m2 = dict(m)
        for n in sorted(target_names(gen.target)):
            m2[n] = lz.fresh(f"_{n}_")
        target = rename(gen.target, m2)
        body: list[ast.stmt] = []
        if isinstance(target, ast.Name):
            loop_target = target
        else:
            t = lz.fresh()
            loop_target = name(t, store=True)
            body.extend(assign_to(target, name(t), lz.namer))
        rest = [build(i + 1, m2)] if i + 1 < len(e.generators) else final(m2)
        for cond in reversed(gen.ifs):
            rest = [ast.If(test=rename(cond, m2), body=rest, orelse=[])]
        body.extend(rest)
        return ast.For(target=loop_target, iter=it, body=body, orelse=[], type_comment=None)

    lz.emit_raw([build(0, {})])
    return name(res)


def _want(e: ast.expr) -> bool:
    return isinstance(e, COMPREHENSIONS)


def lower_comprehensions(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Replace every comprehension/generator expression in ``fn``'s own scope by loops."""
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    return Linearizer(fn, filename, want=_want).run(fn)


run = lower_comprehensions
