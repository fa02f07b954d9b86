"""Pass ``expressions``: x if c else y, and/or, chained comparisons, walrus -> ifs."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pygote.frontend.passes import lower_expressions

from .harness import assert_same, compose, parse_function
from .passcheck import check_expressions, through
from .programs import PROGRAMS

ALONE = compose(lower_expressions)


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_expressions(name, src, inputs):
    check_expressions(assert_same(src, through(lower_expressions), inputs))


LOGGED = """
log = []
def t(v):
    log.append(v)
    return v
"""

CASES = {
    "nested_conditionals": ("""
def f(a, b):
    return (t("x") if t(a) else t("y") if t(b) else t("z")), log
""", [(1, 0), (0, 1), (0, 0)]),
    "or_and_values_and_laziness": ("""
def f(a, b, c):
    r = (t(a) or t(b) or t(c), t(a) and t(b) and t(c), t(a) and t(b) or t(c),
         not (t(a) or t(b)))
    return r, log
""", [(0, "", None), (1, 2, 3), ([], [0], 0), (0, 0, [])]),
    "truthiness_tested_once": ("""
class B:
    def __init__(self, v):
        self.v = v
    def __bool__(self):
        log.append(("bool", self.v))
        return bool(self.v)
    def __repr__(self):
        return f"B({self.v})"

def f(a, b):
    r = B(a) or B(b)
    s = B(a) and B(b)
    u = B(b) if B(a) else B(-1)
    return repr(r), repr(s), repr(u), log
""", [(0, 1), (1, 0)]),
    "chained_comparison_once_and_lazy": ("""
def f(a, b, c, d):
    return t(a) < t(b) <= t(c) != t(d), log
""", [(1, 2, 3, 4), (2, 1, 3, 4), (1, 2, 2, 2), (1, 2, 3, 3)]),
    "comparison_chain_with_in_and_is": ("""
def f(x, xs):
    return x in xs is not None, 0 <= x < len(xs) == 3, x is x is not None
""", [(1, [1, 2, 3]), (5, [])]),
    "walrus_value_and_binding": ("""
def f(xs):
    if (n := len(xs)) > 2 and (first := xs[0]) > 0:
        return n, first
    out = [n, (y := n + 1), y * 2]
    return out, y
""", [([1, 2, 3],), ([1],), ([-1, 2, 3],)]),
    "walrus_rebinding_in_one_expression": ("""
def f(x):
    a = (x, (x := x + 1), x, (x := x * 10), x)
    return a, x
""", [(1,)]),
    "conditional_in_call_arguments_order": ("""
def f(a):
    g = lambda *args: args
    return g(t(1), t(2) if a else t(3), t(4)), log
""", [(0,), (1,)]),
    "conditional_in_subscript_and_attribute_targets": ("""
class O:
    pass

def f(a):
    o, p = O(), O()
    xs = [0, 0]
    xs[t(0) if a else t(1)] = t("v")
    (o if a else p).val = t("w")
    return xs, getattr(o, "val", None), getattr(p, "val", None), log
""", [(0,), (1,)]),
    "while_test_with_and_or": ("""
def f(xs):
    i = 0
    while i < len(xs) and xs[i] != 0 or i == 0:
        i += 1
    return i
""", [([1, 2, 0, 3],), ([0],)]),
    "lambda_body_keeps_ifexp": ("""
def f(x):
    g = lambda v: v if v > 0 else -v
    return g(x), (lambda k=(x if x else 5): k)()
""", [(3,), (0,), (-2,)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_expressions_alone(case):
    src, inputs = CASES[case]
    check_expressions(assert_same(LOGGED + src, ALONE, inputs))


def _body(src: str) -> str:
    new = lower_expressions(parse_function(textwrap.dedent(src)))
    return "\n".join(ast.unparse(s) for s in new.body)


def test_shapes():
    assert _body("def f(a, b, c):\n    y = a if c else b\n") == textwrap.dedent("""\
        if c:
            _t1 = a
        else:
            _t1 = b
        y = _t1""")
    assert _body("def f(a, b):\n    y = a or b\n") == textwrap.dedent("""\
        _t1 = a
        if _t1:
            pass
        else:
            _t1 = b
        y = _t1""")
    assert _body("def f(a, b, c):\n    y = a < b() < c\n") == textwrap.dedent("""\
        _t2 = b()
        _t1 = a < _t2
        if _t1:
            _t1 = _t2 < c
        y = _t1""")
    assert _body("def f(v):\n    y = (x := v) + 1\n") == textwrap.dedent("""\
        _t1 = v
        x = _t1
        y = _t1 + 1""")
