"""What each pass guarantees, as checks on its output; the pipeline prefix up to a pass."""

from __future__ import annotations

import ast

from pygote.frontend.passes import PASSES

from .core_checker import assert_core
from .harness import compose
from .structure import own_nodes, own_statements

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def through(pass_fn):
    """The pipeline up to and including ``pass_fn``."""
    return compose(*PASSES[: PASSES.index(pass_fn) + 1])


def check_prepare(fn: ast.FunctionDef) -> None:
    body = fn.body
    k = 1 if body and isinstance(body[0], ast.Expr) else 0
    while k < len(body) and isinstance(body[k], (ast.Global, ast.Nonlocal)):
        k += 1
    top = {id(s) for s in body[:k]}
    for n in own_nodes(fn):
        if isinstance(n, (ast.Global, ast.Nonlocal)):
            assert id(n) in top, "global/nonlocal not hoisted to the top"


def check_with(fn: ast.FunctionDef) -> None:
    assert not any(isinstance(n, ast.With) for n in own_nodes(fn))


def check_control_flow(fn: ast.FunctionDef) -> None:
    nodes = list(own_nodes(fn))
    assert not any(isinstance(n, ast.Continue) for n in nodes), "continue left"
    for n in nodes:
        if isinstance(n, (ast.For, ast.While)):
            assert not n.orelse, "loop else left"
            for s in n.body[:-1]:
                assert not _is_flag_break(s)
        if isinstance(n, ast.While):
            assert isinstance(n.test, ast.Name), "while test not a name"
    breaks = [n for n in nodes if isinstance(n, ast.Break)]
    flag_breaks = [n.body[-1] for n in nodes if isinstance(n, (ast.For, ast.While))
                   and n.body and _is_flag_break(n.body[-1])]
    assert sorted(map(id, breaks)) == sorted(id(b.body[0]) for b in flag_breaks)
    returns = [n for n in nodes if isinstance(n, ast.Return)]
    assert len(returns) == 1 and fn.body[-1] is returns[0], "not one final return"


def _is_flag_break(s) -> bool:
    return (isinstance(s, ast.If) and isinstance(s.test, ast.Name) and len(s.body) == 1
            and isinstance(s.body[0], ast.Break) and not s.orelse)


def check_assignments(fn: ast.FunctionDef) -> None:
    for s in own_statements(fn):
        assert not isinstance(s, (ast.AnnAssign, ast.Assert, ast.Expr)), ast.unparse(s)
        if isinstance(s, ast.Assign):
            assert len(s.targets) == 1
            assert isinstance(s.targets[0], (ast.Name, ast.Attribute, ast.Subscript))
        if isinstance(s, ast.AugAssign):
            assert isinstance(s.target, ast.Name)
        if isinstance(s, ast.Delete):
            assert len(s.targets) == 1 and \
                isinstance(s.targets[0], (ast.Name, ast.Attribute, ast.Subscript))
        if isinstance(s, ast.For):
            assert isinstance(s.target, ast.Name)


def check_comprehensions(fn: ast.FunctionDef) -> None:
    assert not any(isinstance(n, COMPREHENSIONS) for n in own_nodes(fn))


def check_expressions(fn: ast.FunctionDef) -> None:
    for n in own_nodes(fn):
        assert not isinstance(n, (ast.IfExp, ast.BoolOp, ast.NamedExpr)), ast.dump(n)
        if isinstance(n, ast.Compare):
            assert len(n.ops) == 1


def check_anf(fn: ast.FunctionDef) -> None:
    assert_core(fn, allow_lambda=True)


def check_lambdas(fn: ast.FunctionDef) -> None:
    assert not any(isinstance(n, ast.Lambda) for n in own_nodes(fn))
    assert_core(fn)
