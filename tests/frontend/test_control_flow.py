"""Pass ``control_flow``: break/continue/early return/loop else -> flags and ifs."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pygote.frontend.passes import lower_control_flow

from .harness import assert_same, compose, parse_function
from .passcheck import check_control_flow, through
from .programs import PROGRAMS
from .structure import own_nodes

ALONE = compose(lower_control_flow)


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_control_flow(name, src, inputs):
    check_control_flow(assert_same(src, through(lower_control_flow), inputs))


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_control_flow_alone(name, src, inputs):
    check_control_flow(assert_same(src, ALONE, inputs))


CASES = {
    "triple_nested_return": ("""
def f(n):
    for i in range(n):
        j = 0
        while j < n:
            for k in range(n):
                if i + j + k == 4:
                    return (i, j, k)
                if k > j:
                    break
            else:
                j += 100
            j += 1
        else:
            print("while else", i)
    else:
        return "no hit"
    return "unreachable?"
""", [(2,), (3,), (5,)]),
    "continue_and_break_same_loop": ("""
def f(xs):
    out = []
    for x in xs:
        if x < 0:
            continue
        if x > 100:
            break
        out.append(x)
        if x == 7:
            continue
        out.append(-x)
    else:
        out.append("complete")
    return out
""", [([1, -2, 7, 3],), ([5, 200, 1],), ([],)]),
    "break_in_else_of_inner_targets_outer": ("""
def f(rows):
    found = []
    for row in rows:
        for x in row:
            if x == 0:
                break
        else:
            found.append(row)
            break
        found.append("had zero")
    return found
""", [([[0, 1], [2, 3], [4]],), ([[0], [0]],)]),
    "return_in_try_except_else_finally": ("""
def f(x):
    log = []
    for i in range(3):
        try:
            if i == x:
                return (i, log)
            log.append(i)
        except ZeroDivisionError:
            return "never"
        else:
            log.append("else")
        finally:
            log.append("fin")
    return log
""", [(1,), (5,)]),
    "while_test_side_effects_with_break": ("""
def f(n):
    log = []
    def cond(i):
        log.append(("test", i))
        return i < n
    i = 0
    while cond(i):
        i += 1
        if i == 2:
            continue
        if i == 4:
            break
        log.append(i)
    else:
        log.append("else")
    return log
""", [(3,), (6,)]),
    "while_constant_test": ("""
def f(n):
    while 1:
        n -= 1
        if n < 0:
            break
    return n
""", [(3,)]),
    "statements_after_jump_dropped": ("""
def f(xs):
    for x in xs:
        continue
        print("dead")
    return len(xs)
    print("dead too")
""", [([1, 2],)]),
    "no_return_at_all": ("""
def f(xs):
    for x in xs:
        if x:
            xs.append(0)
            break
""", [([0, 1],), ([],)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_control_flow_alone(case):
    src, inputs = CASES[case]
    check_control_flow(assert_same(src, ALONE, inputs))


def _unparse(src):
    return ast.unparse(lower_control_flow(parse_function(textwrap.dedent(src))))


def test_shape_of_break():
    assert _unparse("""
    def f(xs):
        for x in xs:
            if x:
                break
            g(x)
        return 1
    """) == textwrap.dedent("""\
    def f(xs):
        _break_1 = False
        for x in xs:
            if x:
                _break_1 = True
            if not _break_1:
                g(x)
            if _break_1:
                break
        return 1""")


def test_shape_of_continue_and_while_test():
    assert _unparse("""
    def f(n):
        while n > 0:
            n -= 1
            if n == 3:
                continue
            g(n)
        return n
    """) == textwrap.dedent("""\
    def f(n):
        _t1 = n > 0
        while _t1:
            _continue_1 = False
            n -= 1
            if n == 3:
                _continue_1 = True
            if not _continue_1:
                g(n)
            _t1 = n > 0
        return n""")


def test_shape_of_early_return():
    assert _unparse("""
    def f(x):
        if x:
            return 1
        y = 2
        return y
    """) == textwrap.dedent("""\
    def f(x):
        _return_value = 0.0
        if x:
            _return_value = 1
        else:
            y = 2
            _return_value = y
        return _return_value""")


def test_shape_of_early_return_after_a_loop_that_may_return():
    # a return inside a loop still needs the flag for what follows the loop
    assert _unparse("""
    def f(x):
        for i in x:
            if i:
                return i
        return 0
    """) == textwrap.dedent("""\
    def f(x):
        _return_value = 0.0
        _return_flag = False
        _break_1 = False
        for i in x:
            if i:
                _return_value = i
                _return_flag = True
                _break_1 = True
            if _break_1:
                break
        if not _return_flag:
            _return_value = 0
        return _return_value""")


def test_first_return_value_is_none_only_when_a_path_may_fall_through():
    # (a body ending in `return` returns on every path: its first value is never seen)
    falls = _unparse("""
    def f(x):
        if x:
            return 1
        if x > 1:
            return 2
    """)
    assert "_return_value = None" in falls


def test_tail_returns_need_no_flag():
    text = _unparse("""
    def f(x):
        if x:
            return 1
        else:
            return 2
    """)
    assert "_return_flag" not in text and text.endswith("return _return_value")


def test_single_final_return_kept_and_missing_return_added():
    assert _unparse("def f(x):\n    y = x\n    return y\n").endswith("    return y")
    assert _unparse("def f(x):\n    y = x\n").endswith("    return None")
    assert _unparse("def f(x):\n    return\n").endswith("    return None")


def test_break_while_test_not_reevaluated_after_break():
    new = lower_control_flow(parse_function(textwrap.dedent("""
    def f(n):
        while g(n):
            if n:
                break
        return n
    """)))
    loop = [n for n in own_nodes(new) if isinstance(n, ast.While)][0]
    assert ast.unparse(loop.body[-1]) == "if _break_1:\n    break"
    assert ast.unparse(loop.body[-2]) == "if _break_1:\n    pass\nelse:\n    _t1 = g(n)"


def test_nested_defs_untouched():
    new = lower_control_flow(parse_function(textwrap.dedent("""
    def f(xs):
        def g(ys):
            for y in ys:
                if y:
                    return y
                continue
        return g(xs)
    """)))
    inner = new.body[0]
    assert any(isinstance(n, ast.Continue) for n in ast.walk(inner))
    assert sum(isinstance(n, ast.Return) for n in ast.walk(inner)) == 1
