"""Pass ``assignments``: unpacking, augmented/chained/annotated assignment, assert, del,
for targets, expression statements."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pygote.frontend.passes import lower_assignments

from .harness import assert_same, compose, parse_function
from .passcheck import check_assignments, through
from .programs import PROGRAMS

ALONE = compose(lower_assignments)


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_assignments(name, src, inputs):
    check_assignments(assert_same(src, through(lower_assignments), inputs))


def _body(src: str) -> str:
    new = lower_assignments(parse_function(textwrap.dedent(src)))
    return "\n".join(ast.unparse(s) for s in new.body)


def test_contract_unpacking_example():
    assert _body("""
    def f(t):
        a, (b, *c) = t
    """) == textwrap.dedent("""\
    a = t[0]
    _t1 = t[1]
    b = _t1[0]
    c = list(_t1[1:])""")


def test_contract_augmented_subscript_example():
    assert _body("""
    def f(a, i, v):
        a[i] += v
        a.x *= v
    """) == textwrap.dedent("""\
    _t1 = a[i]
    _t1 += v
    a[i] = _t1
    _t2 = a.x
    _t2 *= v
    a.x = _t2""")


def test_augmented_with_computed_receiver_and_index_evaluates_them_once():
    assert _body("""
    def f(a, i, v):
        a.b[i + 1][1:n()] -= v
    """) == textwrap.dedent("""\
    _t1 = a.b[i + 1]
    _t2 = n()
    _t3 = _t1[1:_t2]
    _t3 -= v
    _t1[1:_t2] = _t3""")


def test_chained_assignment():
    assert _body("def f(v):\n    a = b = v\n") == "a = v\nb = v"
    assert _body("def f(v):\n    a = b = g(v)\n") == "_t1 = g(v)\na = _t1\nb = _t1"
    assert _body("def f(v):\n    v = b = v\n") == "_t1 = v\nv = _t1\nb = _t1"


def test_swap_and_starred_middle():
    assert _body("def f(a, b):\n    a, b = b, a\n") == "_t1 = b\n_t2 = a\na = _t1\nb = _t2"
    assert _body("def f(t):\n    a, *b, c = t\n") == \
        "a = t[0]\nb = list(t[1:-1])\nc = t[-1]"


def test_annotations_assert_del_expr_docstring():
    assert _body('''
    def f(x, d, o):
        """doc"""
        y: int = x
        z: float
        assert y, "msg"
        del d["k"], o.a, (p, q)
        print(y)
        ...
    ''') == textwrap.dedent("""\
    y = x
    if not y:
        raise AssertionError('msg')
    del d['k']
    del o.a
    del p
    del q
    _t1 = print(y)""")


def test_for_target_unpacked_at_start_of_body():
    assert _body("""
    def f(xs):
        for i, (a, b) in xs:
            pass
    """) == textwrap.dedent("""\
    for _t1 in xs:
        i = _t1[0]
        _t2 = _t1[1]
        a = _t2[0]
        b = _t2[1]
        pass""")


CASES = {
    "unpack_iterators": ("""
def f(pairs, d):
    xs, ys = zip(*pairs)
    a, b = map(str, [1, 2])
    (k1, v1), (k2, v2) = d.items()
    first, *rest = reversed(xs)
    for i, (p, q) in enumerate(zip(xs, ys)):
        a += str(i * p * q)
    return xs, ys, a, b, k1, v1, k2, v2, first, rest
""", [([(1, 2), (3, 4)], {"x": 1, "y": 2})]),
    "targets_mutate_the_value": ("""
def f(xs):
    xs[0], xs[1] = xs[1], xs[0]
    ys = [1, 2]
    ys[0], ys[1] = ys
    i = 0
    i, xs[i] = 1, 100
    m = [[0, 0], [0, 0]]
    m[0][1], m[1] = 5, [7, 8]
    return xs, ys, i, m
""", [([10, 20, 30],)]),
    "unpack_strings_and_ranges": ("""
def f(s):
    a, b, c = s
    *init, last = range(4)
    x, (y, z) = 1, s[:2]
    return a, b, c, init, last, x, y, z
""", [("abc",)]),
    "augassign_list_slice_identity": ("""
def f(a):
    b = a
    a[1:] += [5]
    a += [6]
    s = a[:]
    s[::2] *= 1
    return a is b, a, s
""", [([1, 2],)]),
    "assert_message_only_on_failure": ("""
def f(x):
    log = []
    def msg():
        log.append("msg")
        return "bad"
    try:
        assert x, msg()
    except AssertionError as e:
        return str(e), log
    return log
""", [(0,), (1,)]),
    "expression_statements_evaluated": ("""
def f(xs):
    xs.append(1)
    xs
    len(xs)
    "constant"
    return xs
""", [([],)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_assignments_alone(case):
    src, inputs = CASES[case]
    check_assignments(assert_same(src, ALONE, inputs))
