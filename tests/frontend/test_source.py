"""Source retrieval: every way a user can define a function yields its definition."""

import ast
import functools
import linecache

import pytest

from pygote.errors import DifferentiationError
from pygote.frontend.source import get_source, unwrap


def module_function(x):
    return x * 2.0


def make_closure(w):
    def inner(x):
        return x * w

    return inner


class Model:
    def method(self, x):
        return x + 1.0

    @staticmethod
    def static(x):
        return x - 1.0

    @classmethod
    def klass(cls, x):
        return x / 2.0

    @property
    def prop(self):
        return 3.0


def decorator(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)

    return wrapper


@decorator
def decorated(x):
    return x**3


square = lambda x: x * x  # noqa: E731


def _name_and_body(fn):
    src = get_source(unwrap(fn))
    return src.node.name, ast.unparse(src.node.body[-1])


@pytest.mark.parametrize(
    "fn, name, last",
    [
        (module_function, "module_function", "return x * 2.0"),
        (make_closure(3.0), "inner", "return x * w"),
        (Model().method, "method", "return x + 1.0"),
        (Model.static, "static", "return x - 1.0"),
        (Model.klass, "klass", "return x / 2.0"),
        (Model.prop, "prop", "return 3.0"),
        (decorated, "decorated", "return x ** 3"),
        (square, "_lambda", "return x * x"),
    ],
    ids=["module", "closure", "bound", "static", "class", "property", "decorated", "lambda"],
)
def test_definitions_are_found(fn, name, last):
    assert _name_and_body(fn) == (name, last)


def test_line_numbers_are_the_files():
    src = get_source(module_function)
    assert src.node.lineno == module_function.__code__.co_firstlineno
    assert src.lines[src.node.lineno - 1].startswith("def module_function")


def test_exec_with_linecache_source():
    text = "def f(x):\n    return x + 41.0\n"
    filename = "<pygote-test-cell-1>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    ns = {}
    exec(compile(text, filename, "exec"), ns)
    assert ast.unparse(get_source(ns["f"]).node.body[0]) == "return x + 41.0"


def test_no_source_is_a_differentiation_error():
    ns = {}
    exec(compile("def g(x):\n    return x\n", "<nowhere>", "exec"), ns)
    with pytest.raises(DifferentiationError, match="cannot read the source of g"):
        get_source(ns["g"])
