"""Pass ``with_``: with statements -> explicit __enter__/__exit__ (reference semantics)."""

from __future__ import annotations

import ast

import pytest

from pygote.frontend.passes import lower_with

from .harness import assert_same, compose, parse_function
from .passcheck import check_with, through
from .programs import PROGRAMS
from .structure import own_nodes

ALONE = compose(lower_with)

CM = """
class CM:
    def __init__(self, name, log, suppress=False, fail_enter=False, fail_exit=False):
        self.name, self.log = name, log
        self.suppress, self.fail_enter, self.fail_exit = suppress, fail_enter, fail_exit
    def __enter__(self):
        self.log.append(("enter", self.name))
        if self.fail_enter:
            raise RuntimeError("enter failed")
        return self.name
    def __exit__(self, typ, exc, tb):
        self.log.append(("exit", self.name, typ and typ.__name__, exc and str(exc),
                         tb is not None))
        if self.fail_exit:
            raise KeyError("exit failed")
        return self.suppress
"""


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_with(name, src, inputs):
    check_with(assert_same(src, through(lower_with), inputs))


CASES = {
    "suppress_and_continue": ("""
def f(x):
    log = []
    with CM("a", log, suppress=True) as name:
        log.append(name)
        if x:
            raise ValueError("boom")
        log.append("no error")
    log.append("after")
    return log
""", [(0,), (1,)]),
    "enter_fails_no_exit": ("""
def f(x):
    log = []
    try:
        with CM("a", log, fail_enter=True):
            log.append("body")
    except RuntimeError as e:
        log.append(str(e))
    return log
""", [(0,)]),
    "exit_raises": ("""
def f(x):
    log = []
    with CM("a", log, fail_exit=True):
        if x:
            raise ValueError("body")
    return log
""", [(0,), (1,)]),
    "items_order": ("""
def f(x):
    log = []
    with CM("a", log) as a, CM(a + "b", log) as b, CM("c", log):
        log.append((a, b))
    return log
""", [(0,)]),
    "return_break_continue_inside": ("""
def f(n):
    log = []
    for i in range(4):
        with CM(str(i), log):
            if i == 1:
                continue
            if i == n:
                break
            if i == 3:
                return log
            log.append(i)
    return ("end", log)
""", [(2,), (9,)]),
    "exception_propagates_through_nested": ("""
def f(x):
    log = []
    try:
        with CM("outer", log):
            with CM("inner", log, suppress=x > 1):
                raise IndexError("deep")
            log.append("after inner")
    except IndexError:
        log.append("caught")
    return log
""", [(0,), (2,)]),
    "enter_looked_up_on_type": ("""
def f(x):
    log = []
    c = CM("t", log)
    c.__enter__ = lambda: "instance attribute"
    with c as v:
        log.append(v)
    return log
""", [(0,)]),
    "user_shadows_type": ("""
def f(type):
    log = []
    with CM(type, log) as v:
        log.append(v)
    return log
""", [("x",)]),
    "target_attribute_and_subscript": ("""
class Box:
    pass

def f(x):
    log = []
    b = Box()
    d = {}
    with CM("a", log) as b.attr, CM("b", log) as d["k"]:
        pass
    return b.attr, d
""", [(0,)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_with_alone(case):
    body, inputs = CASES[case]
    new = assert_same(CM + body, ALONE, inputs)
    check_with(new)


def test_shape_follows_the_reference():
    fdef = parse_function("""
def f(m):
    with m as v:
        y = v
    return y
""")
    new = lower_with(fdef)
    tries = [n for n in own_nodes(new) if isinstance(n, ast.Try)]
    assert len(tries) == 1
    t = tries[0]
    assert len(t.handlers) == 1 and ast.unparse(t.handlers[0].type) == "BaseException"
    assert t.finalbody and not t.orelse
    text = ast.unparse(new)
    assert "type(_t1)" in text and "__enter__" in text and "__exit__" in text
    assert "__traceback__" in text and "raise\n" in text
    assert all(s.lineno == 3 for s in new.body[:-1])


def test_shadowed_type_uses_class_attribute():
    new = lower_with(parse_function("def f(type):\n    with type:\n        pass\n"))
    assert "__class__" in ast.unparse(new)
    assert "type(" not in ast.unparse(new)
