"""Pass ``comprehensions``: comprehensions and generator expressions -> loops."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pygote.frontend.passes import lower_comprehensions

from .harness import assert_same, compose, parse_function
from .passcheck import check_comprehensions, through
from .programs import PROGRAMS
from .structure import own_nodes

ALONE = compose(lower_comprehensions)


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_comprehensions(name, src, inputs):
    check_comprehensions(assert_same(src, through(lower_comprehensions), inputs))


CASES = {
    "no_leak_no_clobber": ("""
def f(xs):
    x = "user"
    a = [x for x in xs]
    b = {x: x for x in xs}
    c = sum(x for x in xs)
    return x, a, b, c
""", [([1, 2],), ([],)]),
    "inner_shadows_outer": ("""
def f(grid):
    return [[x * 2 for x in x] for x in grid], [[y for x in row for y in (x, -x)] for row in grid]
""", [([[1, 2], [3]],)]),
    "first_iterable_in_enclosing_scope": ("""
def f(n):
    x = [10, 20]
    return [x for x in x], [[x + k for k in range(n)] for x in x]
""", [(2,)]),
    "key_before_value_order": ("""
def f(xs):
    log = []
    def t(v):
        log.append(v)
        return v
    d = {t(("k", x)): t(("v", x)) for x in xs if t(("c", x))}
    return d, log
""", [([1, 0, 2],)]),
    "operands_before_are_evaluated_first": ("""
def f(xs):
    log = []
    def t(v):
        log.append(v)
        return v
    r = t("a") + len([t(x) for x in xs]) + t(1)
    s = [t("b"), *[t(x * 2) for x in xs]]
    return r if isinstance(r, int) else None, s, log
""", [([1, 2],)]),
    "generator_as_argument": ("""
def f(xs):
    return (sum(x * x for x in xs), max((x for x in xs if x < 3), default=-1),
            sorted((x for x in xs), key=lambda v: -v), "".join(str(x) for x in xs))
""", [([3, 1, 2],), ([],)]),
    "set_comprehension_and_nested_conditions": ("""
def f(n):
    a = sorted({i % 3 for i in range(n) if i > 1 if i != 4})
    return a, [j for i in range(n) if i for j in range(i) if j]
""", [(7,)]),
    "late_binding_closures": ("""
def f(n):
    fs = [lambda: i * 10 for i in range(n)]
    gs = [lambda i=i: i for i in range(n)]
    return [g() for g in fs], [g() for g in gs]
""", [(3,)]),
    "lambda_body_keeps_its_comprehension": ("""
def f(xs):
    g = lambda ys: [y + 1 for y in ys]
    return g(xs), (lambda k=[x for x in xs]: k)()
""", [([1, 2],)]),
    "while_test_comprehension": ("""
def f(xs):
    n = 0
    while sum(x for x in xs) > 0:
        xs = xs[1:]
        n += 1
    return n
""", [([1, 2, 3],)]),
    "walrus_binds_in_function": ("""
def f(xs):
    total = 0
    vals = [(total := total + x) for x in xs]
    return vals, total
""", [([1, 2, 3],)]),
    "attribute_target_is_not_renamed": ("""
class B:
    pass

def f(xs):
    b = B()
    out = [b.v * 2 for b.v in xs]
    return out, b.v
""", [([4, 5],)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_comprehensions_alone(case):
    src, inputs = CASES[case]
    check_comprehensions(assert_same(src, ALONE, inputs))


def test_shape_and_fresh_names():
    new = lower_comprehensions(parse_function(textwrap.dedent("""
    def f(xs, x):
        y = [x * 2 for x in xs if x]
        return y
    """)))
    assert "\n".join(ast.unparse(s) for s in new.body) == textwrap.dedent("""\
        _t1 = []
        for _x_1 in xs:
            if _x_1:
                _t2 = _t1.append(_x_1 * 2)
        y = _t1
        return y""")
    text = ast.unparse(new)
    assert "for _x_1 in xs:" in text and "_t1.append(_x_1 * 2)" in text and "y = _t1" in text


def test_generator_becomes_list_and_lambda_bodies_untouched():
    new = lower_comprehensions(parse_function(textwrap.dedent("""
    def f(xs):
        g = lambda: [v for v in xs]
        return sum(x for x in xs), g
    """)))
    assert not any(isinstance(n, ast.GeneratorExp) for n in own_nodes(new))
    lam = [n for n in ast.walk(new) if isinstance(n, ast.Lambda)][0]
    assert isinstance(lam.body, ast.ListComp)
