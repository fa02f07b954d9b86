"""Pass ``prepare``: unsupported constructs raise DifferentiationError; declarations hoisted."""

from __future__ import annotations

import ast
import sys

import pytest

from pygote.errors import DifferentiationError
from pygote.frontend.passes import prepare

from .harness import assert_same, compose, parse_function
from .passcheck import check_prepare, through
from .programs import PROGRAMS


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_through_prepare(name, src, inputs):
    check_prepare(assert_same(src, through(prepare), inputs))


ERRORS = [
    ("def f(x):\n    yield x\n", "generator function (`yield`)", 2),
    ("def f(x):\n    y = 1\n    z = yield from x\n", "generator function (`yield from`)", 3),
    ("def f(x):\n    return [(yield) for _ in x]\n", "yield", 2),
    ("async def f(x):\n    return x\n", "`async def`", 1),
    ("def f(x):\n    y = await x\n", "`await`", 2),
    ("def f(x):\n    async def g():\n        pass\n    return g\n", "nested `async def`", 2),
    ("def f(x):\n    for i in x:\n        async for a in x:\n            pass\n", "`async for`", 3),
    ("def f(x):\n    async with x:\n        pass\n", "`async with`", 2),
    ("def f(x):\n    return [a async for a in x]\n", "async comprehension", 2),
    ("def f(x):\n    if x:\n        match x:\n            case 1:\n                return 1\n",
     "`match` statement", 3),
    pytest.param("def f(x):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
                 "except*", 2, marks=pytest.mark.skipif(sys.version_info < (3, 11),
                                                        reason="except* is Python 3.11+")),
]


@pytest.mark.parametrize("src, construct, line", ERRORS)
def test_unsupported_construct_errors(src, construct, line):
    fdef = ast.parse(src).body[0]
    with pytest.raises(DifferentiationError) as info:
        prepare(fdef, "prog.py")
    msg = str(info.value)
    assert construct in msg, msg
    assert f'"prog.py", line {line}' in msg and "in f" in msg
    assert msg.rstrip().endswith(".")  # a remedy sentence follows


def test_match_says_rewrite_with_if_elif():
    fdef = ast.parse("def f(x):\n    match x:\n        case _:\n            pass\n").body[0]
    with pytest.raises(DifferentiationError, match="Rewrite it with if/elif"):
        prepare(fdef)


def test_nested_scopes_are_not_checked():
    src = """
    def f(xs):
        def gen():
            yield from xs
        class C:
            def it(self):
                yield 1
        h = lambda: (yield)
        return list(gen()) + list(C().it())
    """
    assert_same(src, compose(prepare), [([1, 2],)])


def test_global_declarations_hoisted():
    src = """
    counter = 0
    total = 0

    def f(x):
        "doc"
        if x > 0:
            global counter
            counter += x
        for _ in range(2):
            global total
            total += 1
        return counter, total
    """
    new = assert_same(src, compose(prepare), [(1,), (-1,), (3,)])
    check_prepare(new)
    assert isinstance(new.body[1], ast.Global) and new.body[1].names == ["counter", "total"]
    assert isinstance(new.body[0], ast.Expr)  # docstring stays first


def test_declaration_only_block_becomes_pass():
    fdef = parse_function("""
def f(x):
    if x:
        global g
    return x
""")
    new = prepare(fdef)
    assert isinstance(new.body[0], ast.Global)
    assert isinstance(new.body[1].body[0], ast.Pass)


def test_input_is_not_modified():
    fdef = parse_function("def f(x):\n    global g\n    return x\n")
    before = ast.dump(fdef)
    prepare(fdef)
    assert ast.dump(fdef) == before
