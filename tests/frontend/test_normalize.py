"""The whole pipeline: behaviour kept on the corpus, output is core Python, errors."""

from __future__ import annotations

import ast
import sys
import copy
import textwrap

import pytest

from pygote.errors import DifferentiationError
from pygote.frontend.passes import PASSES, normalize

from .core_checker import CoreViolation, assert_core
from .harness import assert_same, parse_function
from .programs import PROGRAMS
from .structure import own_nodes, own_statements


def _normalize(fdef):
    return normalize(fdef, "<test>")


@pytest.mark.parametrize("name, src, inputs", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_program_behaviour_and_core(name, src, inputs):
    new = assert_same(src, _normalize, inputs)
    assert_core(new)


def test_corpus_is_large_enough():
    assert len(PROGRAMS) >= 60


def test_pass_order():
    assert [p.__module__.rsplit(".", 1)[1] for p in PASSES] == [
        "prepare", "with_", "control_flow", "assignments", "comprehensions", "expressions",
        "anf", "lambdas"]


def test_input_not_modified_and_signature_kept():
    src = """
    def f(x, y=3, *args, k=lambda: 1, **kw) -> int:
        return [v for v in (x if y else args)] or k()
    """
    fdef = parse_function(textwrap.dedent(src))
    fdef.decorator_list = [ast.Name(id="deco", ctx=ast.Load())]
    before = ast.dump(fdef, include_attributes=True)
    out = normalize(fdef, "<test>")
    assert ast.dump(fdef, include_attributes=True) == before
    assert out is not fdef
    assert ast.dump(out.args) == ast.dump(fdef.args)
    assert ast.dump(out.decorator_list[0]) == ast.dump(fdef.decorator_list[0])
    assert ast.dump(out.returns) == ast.dump(fdef.returns)
    assert out.name == "f"


def test_every_statement_keeps_its_user_line():
    src = textwrap.dedent("""
    def f(xs, d):
        total = sum(x * x for x in xs if x > 0) + (1 if d else 2)
        for i, (a, b) in enumerate(zip(xs, xs)):
            if a > 2 and b < 10:
                continue
            total += a
        d["k"] += total
        return total
    """)
    fdef = parse_function(src)
    out = normalize(fdef, "<test>")
    lines = {n.lineno for n in own_statements(out)}
    assert lines <= {3, 4, 5, 6, 7, 8, 9}
    # everything computing line 3's expression is on line 3
    assign_total = [n for n in own_statements(out)
                    if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "total"]
    assert assign_total and assign_total[0].lineno == 3
    for n in own_statements(out):
        if isinstance(n, (ast.For,)) and isinstance(n.iter, ast.Name) and n.lineno == 3:
            assert all(s.lineno == 3 for s in n.body)
    # the getitem / iadd / setitem of `d["k"] += total` come from line 8
    subs = [n for n in own_statements(out) if isinstance(n, ast.Assign)
            and isinstance(n.targets[0], ast.Subscript)]
    assert [s.lineno for s in subs] == [8]


def test_temporaries_never_collide_with_user_names():
    src = """
    def f(_t1, xs):
        _t2 = 5
        _return_value = "user"
        _return_flag = "flag"
        _break_1 = _continue_1 = 0
        _lambda_1 = "lam"
        _x_1 = "comp"
        def inner():
            return _t3 + _t4
        _t3 = 1
        _t4 = 2
        for x in xs:
            if x > 2:
                break
            if x == 0:
                continue
            if x < 0:
                return [x for x in xs], _t1
            _t1 += x
        g = lambda v: v + _t2
        return (_t1, _t2, _return_value, _return_flag, _break_1, _continue_1, _lambda_1,
                _x_1, inner(), g(1), [x * 2 for x in xs])
    """
    new = assert_same(src, _normalize, [(1, [1, 0, 2, 3]), (0, [5]), (2, [1, -1])])
    assert_core(new)


def test_generated_names_are_unique_and_fresh():
    src = textwrap.dedent(PROGRAMS[0][1])
    for name, src, _ in PROGRAMS:
        fdef = parse_function(textwrap.dedent(src))
        user = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)}
        out = normalize(fdef, "<test>")
        defs = [n.name for n in own_nodes(out) if isinstance(n, ast.FunctionDef)]
        assert len(defs) == len(set(defs)), name
        for n in own_nodes(out):
            if isinstance(n, ast.Name) and n.id.startswith("_t") and n.id[2:].isdigit():
                assert n.id not in user, (name, n.id)


def test_checker_rejects_non_core():
    for src in ["def f(x):\n    return x + 1\n",
                "def f(x):\n    y = x + 1 + 2\n    return y\n",
                "def f(x):\n    print(x)\n    return x\n",
                "def f(x):\n    for i in x:\n        break\n    return x\n",
                "def f(x):\n    if x:\n        return x\n    return None\n",
                "def f(x):\n    y = lambda: 1\n    return y\n"]:
        with pytest.raises(CoreViolation):
            assert_core(ast.parse(src).body[0])
    assert_core(ast.parse("def f(x):\n    y = x + 1\n    return y\n").body[0])


# --- errors ------------------------------------------------------------------------------

ERRORS = [
    ("def f(x):\n    yield x\n", "`yield`", 2),
    ("def f(x):\n    y = 1\n    yield from x\n", "`yield from`", 3),
    ("async def f(x):\n    return x\n", "async def", 1),
    ("def f(x):\n    await x\n", "await", 2),
    ("def f(x):\n    async def g():\n        pass\n    return g\n", "async def", 2),
    ("def f(x):\n    async for a in x:\n        pass\n", "async for", 2),
    ("def f(x):\n    async with x:\n        pass\n", "async with", 2),
    ("def f(x):\n    return [a async for a in x]\n", "async", 2),
    ("def f(x):\n    match x:\n        case 1:\n            return 1\n", "match", 2),
    pytest.param("def f(x):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
                 "except*", 2, marks=pytest.mark.skipif(sys.version_info < (3, 11),
                                                        reason="except* is Python 3.11+")),
]


@pytest.mark.parametrize("src, construct, line", ERRORS)
def test_unsupported_constructs_raise_differentiation_error(src, construct, line):
    fdef = ast.parse(src).body[0]
    with pytest.raises(DifferentiationError) as info:
        normalize(fdef, "prog.py")
    msg = str(info.value)
    assert construct in msg
    assert f"line {line}" in msg and '"prog.py"' in msg and "in f" in msg


def test_match_error_suggests_if_elif():
    fdef = ast.parse("def f(x):\n    match x:\n        case _:\n            pass\n").body[0]
    with pytest.raises(DifferentiationError, match="if/elif"):
        normalize(fdef)


def test_nested_generators_and_globals_are_fine():
    src = """
    counter = 0
    def f(xs):
        global counter
        def gen():
            yield from xs
        counter += 1
        return list(gen()), counter
    """
    assert_core(assert_same(src, _normalize, [([1, 2],)]))


def test_only_differentiation_errors_escape():
    """Normalize every function of a few stdlib modules: either core Python that
    compiles, or a DifferentiationError -- never another exception."""
    import inspect
    import json.decoder
    import textwrap as tw
    import difflib
    import fractions
    for mod in (tw, difflib, json.decoder, fractions):
        tree = ast.parse(inspect.getsource(mod))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                try:
                    out = normalize(copy.deepcopy(node), mod.__name__)
                except DifferentiationError:
                    continue
                assert_core(out)
                compile(ast.Module(body=[out], type_ignores=[]), "<stdlib>", "exec")
