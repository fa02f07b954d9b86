"""Run a program before and after a transformation and compare everything observable.

A program is Python source defining a function ``f`` (plus any module-level helpers).
``assert_same(src, transform, inputs)`` parses it, replaces ``f``'s ``FunctionDef`` by
``transform(fdef)``, compiles both modules with the filename ``<test>``, executes each in
a fresh namespace and, for every argument tuple of ``inputs`` (deep-copied per call),
compares the return value (or the exception type and message), the printed output, the
arguments after the call (mutations) and the module globals that hold plain data.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import textwrap
from typing import Callable, Iterable

_PLAIN = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)


def parse_function(src: str, name: str = "f") -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(src), "<test>")
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise LookupError(f"no function {name!r} in program")


def load(src: str, transform: Callable[[ast.FunctionDef], ast.FunctionDef] | None = None,
         name: str = "f") -> tuple[dict, ast.FunctionDef | None]:
    """Namespace of the program, with ``name`` transformed (and the new FunctionDef)."""
    tree = ast.parse(textwrap.dedent(src), "<test>")
    new_def = None
    if transform is not None:
        for i, node in enumerate(tree.body):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                new_def = transform(node)
                tree.body[i] = new_def
        assert new_def is not None, f"no function {name!r} in program"
    ast.fix_missing_locations(tree)
    code = compile(tree, "<test>", "exec")
    ns: dict = {"__name__": "frontend_test_program"}
    exec(code, ns)
    return ns, new_def


def _plain(v) -> bool:
    return isinstance(v, _PLAIN)


def outcome(ns: dict, name: str, args: tuple):
    args = copy.deepcopy(args)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            result = ("return", ns[name](*args))
        except Exception as e:  # noqa: BLE001 - the exception is part of the outcome
            result = ("raise", type(e).__name__, str(e))
    glob = {k: copy.deepcopy(v) for k, v in ns.items()
            if not k.startswith("__") and _plain(v)}
    return {"result": result, "stdout": buf.getvalue(), "args": args, "globals": glob}


def assert_same(src: str, transform: Callable[[ast.FunctionDef], ast.FunctionDef],
                inputs: Iterable[tuple], name: str = "f") -> ast.FunctionDef:
    """Assert that ``transform`` keeps the behaviour of ``name`` on every input."""
    before, _ = load(src, None, name)
    after, new_def = load(src, transform, name)
    for args in inputs:
        a = outcome(before, name, args)
        b = outcome(after, name, args)
        if a != b:
            raise AssertionError(
                f"behaviour changed for args {args!r}:\n  before: {a}\n  after:  {b}\n"
                f"transformed function:\n{ast.unparse(new_def)}")
    return new_def


def compose(*passes):
    """The transformation running ``passes`` in order (each gets filename '<test>')."""
    def run(fdef):
        for p in passes:
            fdef = p(fdef, "<test>")
        return fdef
    return run
