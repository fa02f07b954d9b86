"""Pass ``lambdas``: lambda -> nested def _lambda_N (the last pass)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pygote.frontend.passes import lower_lambdas

from .harness import assert_same, compose, parse_function
from .passcheck import check_lambdas, through
from .programs import PROGRAMS
from .structure import own_nodes

ALONE = compose(lower_lambdas)


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_lambdas(name, src, inputs):
    check_lambdas(assert_same(src, through(lower_lambdas), inputs))


def test_shape_after_anf():
    fdef = parse_function(textwrap.dedent("""
    def f(x):
        _t1 = lambda v, p=x: v ** p
        return _t1
    """))
    new = lower_lambdas(fdef)
    assert "\n".join(ast.unparse(s) for s in new.body) == textwrap.dedent("""\
        def _lambda_1(v, p=x):
            return v ** p
        _t1 = _lambda_1
        return _t1""")
    assert new.body[0].lineno == 3 and new.body[1].lineno == 3


def test_fresh_names_and_nesting():
    fdef = parse_function(textwrap.dedent("""
    def f(_lambda_1):
        g = lambda k=lambda: 1: k() + 1
        return g
    """))
    new = lower_lambdas(fdef)
    names = [n.name for n in new.body if isinstance(n, ast.FunctionDef)]
    assert names == ["_lambda_2", "_lambda_3"]  # the default's lambda is created first
    assert ast.unparse(new.body[1].args.defaults[0]) == "_lambda_2"
    assert not any(isinstance(n, ast.Lambda) for n in own_nodes(new))


CASES = {
    "lambdas_everywhere": ("""
def f(x):
    g = lambda v, *a, p=2, **k: (v ** p, a, sorted(k))
    h = sorted([3, 1, 2], key=lambda v: -v)
    def inner(cb=lambda: x * 3):
        return cb()
    if (lambda: x > 0)():
        r = "pos"
    else:
        r = "neg"
    for y in (lambda: [1, 2])():
        r += str(y)
    return g(x), g(x, 1, p=3, z=1), h, inner(), r
""", [(2,), (-1,)]),
    "closures_see_later_bindings": ("""
def f(x):
    g = lambda: y * 2
    y = x + 1
    return g()
""", [(4,)]),
    "lambda_in_class_and_nested_def_untouched": ("""
def f(x):
    class C:
        k = staticmethod(lambda: 7)
    def g():
        return (lambda: x)()
    return C.k(), g()
""", [(3,)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lambdas_alone(case):
    src, inputs = CASES[case]
    new = assert_same(src, ALONE, inputs)
    assert not any(isinstance(n, ast.Lambda) for n in own_nodes(new))
