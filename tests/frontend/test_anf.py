"""Pass ``anf``: one operation per statement, atoms everywhere, Python's evaluation order."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pygote.frontend.passes import to_anf

from .harness import assert_same, compose, parse_function
from .passcheck import check_anf, through
from .core_checker import ok_rhs
from .programs import PROGRAMS
from .structure import own_statements

ALONE = compose(to_anf)


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_anf(name, src, inputs):
    check_anf(assert_same(src, through(to_anf), inputs))


def _body(src: str) -> str:
    new = to_anf(parse_function(textwrap.dedent(src)))
    return "\n".join(ast.unparse(s) for s in new.body)


def test_method_call_receiver_made_a_name():
    assert _body("def f(a, x):\n    y = a.b.m(x)\n    return y\n") == \
        "_t1 = a.b\ny = _t1.m(x)\nreturn y"


def test_subscript_assignment_rhs_first():
    assert _body("def f(a, i, x):\n    a[g(i)] = f(x)\n    return a\n") == \
        "_t1 = f(x)\n_t2 = g(i)\na[_t2] = _t1\nreturn a"


def test_attribute_of_subscript_and_nested_calls():
    assert _body("def f(x, i):\n    return x[i].attr + h(g(x), -i)\n") == textwrap.dedent("""\
        _t1 = x[i]
        _t2 = _t1.attr
        _t3 = g(x)
        _t4 = -i
        _t5 = h(_t3, _t4)
        _t6 = _t2 + _t5
        return _t6""")


def test_fstring_keeps_atoms_and_constant_receiver():
    assert _body("def f(x, w):\n    return f'{x + 1:>{w * 2}}' + ''.join(x)\n") == \
        textwrap.dedent("""\
        _t1 = x + 1
        _t2 = w * 2
        _t3 = f'{_t1:>{_t2}}'
        _t4 = ''
        _t5 = _t4.join(x)
        _t6 = _t3 + _t5
        return _t6""")


def test_tests_and_iterables_become_names_and_atoms():
    text = _body("""
    def f(xs):
        if len(xs) > 1:
            pass
        for x in range(len(xs)):
            pass
        if True:
            pass
        return xs
    """)
    assert text.startswith("_t1 = len(xs)\n_t2 = _t1 > 1\nif _t2:")
    assert "_t3 = len(xs)\n_t4 = range(_t3)\nfor x in _t4:" in text
    assert "_t5 = True\nif _t5:" in text


def test_slices_and_tuple_indices():
    text = _body("def f(a, i):\n    return a[i + 1:, ::2, None, f(i)]\n")
    assert text == textwrap.dedent("""\
        _t1 = i + 1
        _t2 = f(i)
        _t3 = a[_t1:, ::2, None, _t2]
        return _t3""")


CASES = {
    "order_of_operands": ("""
def f(x):
    log = []
    def t(v):
        log.append(v)
        return v
    d = {"k": [0, 0]}
    r = t(1) - t(2) ** t(3) / t(4)
    s = [t(5)][t(0)] + (t(6), t(7))[t(1)]
    d[t("k")][t(1)] = t(8)
    u = t(d)[t("k")][t(0)]
    return r, s, u, d, log
""", [(0,)]),
    "unstable_names_read_in_order": ("""
g = 1

def bump():
    global g
    g += 1
    return g

def f(x):
    global g
    a = g + bump() + g
    b = [g, bump(), g]
    return a, b
""", [(0,)]),
    "call_shapes": ("""
def f(xs):
    fs = [len, sum]
    kw = {"key": abs}
    return (fs[0](xs), (lambda v: v * 2)(3), sorted(xs, **kw), max(*xs),
            "{}-{}".format(*xs[:2]), dict(**{"a": 1}))
""", [([3, -5, 1],)]),
    "nested_def_defaults_and_decorators_in_order": ("""
log = []
def t(v):
    log.append(v)
    return v

def deco(tag):
    log.append(("deco", tag))
    def wrap(fn):
        return fn
    return wrap

def f(x):
    @deco(t("d1"))
    @deco(t("d2"))
    def g(a=t(x + 1), *, b=t(x + 2)):
        return a + b
    return g(), log
""", [(1,)]),
    "anf_alone_handles_sugar_and_with": ("""
class CM:
    def __enter__(self):
        return 5
    def __exit__(self, *a):
        return False

def f(xs, d):
    a, *b = xs
    d["k"] += 1
    assert a is not None
    with CM() as c:
        r = [x if x else -1 for x in xs] or None
    return a, b, d, c, r, 0 < a < 10, (n := len(xs))
""", [([1, 0, 2], {"k": 1})]),
    "constant_receivers_and_literals": ("""
def f(n):
    return "abc"[n], (1, 2)[n], [1, 2, 3][n:], {"a": 1}.get("a"), b"xy".hex(), {*[n], 9}
""", [(1,)]),
    "raise_and_return": ("""
def f(x):
    try:
        raise ValueError(str(x)) from KeyError(x + 1)
    except ValueError as e:
        return repr(e.__cause__), str(e)
""", [(1,)]),
    "delete_computed": ("""
class O:
    pass

def f(xs):
    o = O()
    o.inner = O()
    o.inner.v = 1
    del o.inner.v
    del xs[len(xs) - 1]
    return xs, hasattr(o.inner, "v")
""", [([1, 2, 3],)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_anf_alone(case):
    src, inputs = CASES[case]
    new = assert_same(src, ALONE, inputs)
    for s in own_statements(new):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            assert ok_rhs(s.value, allow_lambda=True), ast.unparse(s)
