"""Source retrieval: a Python function object -> the ``ast.FunctionDef`` it was written as.

Handles module functions, nested functions and closures, lambdas (as a ``def`` named
after the lambda), methods (bound, static, class), properties' getters, decorated
functions (``__wrapped__`` is followed by the caller, decorators are dropped here),
functions typed in IPython/Jupyter cells and functions made by ``exec`` whose source is in
``linecache``. Guarantees to the next stage: a ``FunctionDef`` whose line numbers are the
user's file's line numbers, with no decorators, plus the file name.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass

from pygote.errors import DifferentiationError, where

__all__ = ["FunctionSource", "get_source", "unwrap"]


@dataclass(frozen=True)
class FunctionSource:
    """A function's parsed definition and where it came from."""

    node: ast.FunctionDef
    filename: str
    firstlineno: int
    lines: tuple  # the file's lines, for "# line N: <source>" comments


def unwrap(fn):
    """The plain Python function behind bound methods, decorators and partial-less wrappers."""
    while True:
        if isinstance(fn, (types.MethodType,)):
            fn = fn.__func__
        elif isinstance(fn, (staticmethod, classmethod)):
            fn = fn.__func__
        elif isinstance(fn, property):
            fn = fn.fget
        elif getattr(fn, "__wrapped__", None) is not None and isinstance(fn, types.FunctionType):
            fn = fn.__wrapped__
        else:
            return fn


def _no_source(fn, reason: str) -> DifferentiationError:
    code = getattr(fn, "__code__", None)
    loc = where(code.co_filename, code.co_firstlineno) if code else "an unknown location"
    name = getattr(fn, "__qualname__", repr(fn))
    return DifferentiationError(
        f"pygote cannot read the source of {name} (defined at {loc}): {reason}. "
        "pygote differentiates Python functions through their source. Define the function "
        "in a file or a notebook cell, or give it a rule with pg.custom_vjp / "
        "pg.register_vjp, or mark it pg.nondifferentiable if it carries no gradient."
    )


# Functions defined inside transformed code (nested defs, lambdas turned into defs) are
# compiled from generated text: their definitions are recorded here by code object.
KNOWN_SOURCES: dict = {}


def get_source(fn: types.FunctionType) -> FunctionSource:
    """Parse ``fn``'s definition. Raises ``DifferentiationError`` when there is no source."""
    code = fn.__code__
    known = KNOWN_SOURCES.get(code)
    if known is not None:
        return known
    filename = code.co_filename
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        try:
            lines = inspect.getsourcelines(fn)[0]
            # getsourcelines gives only the function; re-base on its first line
            offset = code.co_firstlineno - 1
            lines = [""] * offset + list(lines)
        except (OSError, TypeError) as exc:
            raise _no_source(fn, f"no source is available ({exc})") from None
    try:
        block = inspect.getblock(lines[code.co_firstlineno - 1 :])
    except (IndexError, SyntaxError, TokenError):
        block = None
    if not block:
        raise _no_source(fn, "its source lines could not be found")
    source = textwrap.dedent("".join(block))
    first = code.co_firstlineno
    enclosing = _enclosing_statement(lines, code, source) if code.co_name == "<lambda>" else None
    if enclosing is not None:
        tree, first, source = enclosing
    else:
        tree = _parse(source, fn)
    where_ = _lambda_position(code, lines, source, first) if code.co_name == "<lambda>" else None
    node = _find_definition(tree, fn, code.co_firstlineno - first + 1, where_)
    if node is None:
        raise _no_source(fn, "its definition could not be located in its source lines")
    ast.increment_lineno(node, first - 1)
    return FunctionSource(node, filename, code.co_firstlineno, tuple(lines))


def _enclosing_statement(lines, code, source):
    """A lambda whose line starts inside an open bracket (``f(\n  lambda x: a if c\n
    else b)``): its own lines do not parse, and a prefix that does may cut the lambda
    short (``lambda x: a``). Parse the whole statement around it instead: the nearest
    line above from which a complete block parses and holds a lambda on the lambda's line.
    Returns ``(tree, first line of the parsed text)``, or None when the lambda's own lines
    parse (the common case) or no enclosing statement is found."""
    try:
        ast.parse(source)
        return None
    except SyntaxError:
        pass
    line = code.co_firstlineno
    for start in range(line - 1, max(0, line - 40), -1):
        try:
            block = inspect.getblock(lines[start - 1:])
        except (IndexError, SyntaxError, TokenError):
            continue
        if start + len(block) <= line:
            continue
        text = textwrap.dedent("".join(block))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        if any(isinstance(n, ast.Lambda) and n.lineno == line - start + 1 for n in ast.walk(tree)):
            return tree, start, text
    return None


def _lambda_position(code, lines, source, first):
    """Where the lambda's body starts, as (line, column) of the parsed text, from the
    positions of its instructions: tells apart lambdas on one line with the same
    parameters (``_binary(f, lambda a, x, y: y, lambda a, x, y: x)``)."""
    positions = getattr(code, "co_positions", None)
    if positions is None:
        return None
    text_lines = source.splitlines()
    for line, _end, col, end_col in positions():
        if line is None or col is None or end_col is None or end_col <= col:
            continue
        k = line - first
        if not 0 <= k < len(text_lines) or line - 1 >= len(lines):
            return None
        shift = len(lines[line - 1].rstrip("\r\n")) - len(text_lines[k].rstrip("\r\n"))
        return k + 1, col - shift
    return None


try:
    from tokenize import TokenError
except ImportError:  # pragma: no cover
    TokenError = SyntaxError


def _parse(source: str, fn) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError:
        # a lambda inside a larger expression: parse the statement it starts
        for cut in range(len(source), 0, -1):
            try:
                return ast.parse(source[:cut])
            except SyntaxError:
                continue
    raise _no_source(fn, "its source could not be parsed")


def _find_definition(tree: ast.Module, fn, line: int = 1, position=None) -> ast.FunctionDef | None:
    code = fn.__code__
    name = code.co_name  # not __name__: functools.wraps renames wrappers
    if name == "<lambda>":
        lambdas = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
        params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        match = [lam for lam in lambdas if _lambda_params(lam) == params]
        if not match:
            return None
        on_line = [lam for lam in match if lam.lineno == line]  # ``line``: the lambda's
        if len(on_line) > 1 and position is not None:
            inside = [lam for lam in on_line if (lam.body.lineno, lam.body.col_offset)
                      <= position <= (lam.body.end_lineno, lam.body.end_col_offset)]
            on_line = sorted(inside, key=lambda lam: (lam.body.lineno, lam.body.col_offset),
                             reverse=True) or on_line
        lam = on_line[0] if on_line else match[0]
        node = ast.FunctionDef(
            name="_lambda", args=lam.args, body=[ast.Return(lam.body)], decorator_list=[],
            returns=None, type_comment=None,
        )
        ast.copy_location(node, lam)
        ast.copy_location(node.body[0], lam.body)
        ast.fix_missing_locations(node)
        return node
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            node.decorator_list = []
            return node
        if isinstance(node, ast.AsyncFunctionDef) and node.name == name:
            raise DifferentiationError(
                f"pygote cannot differentiate the async function {name} "
                f"({where(code.co_filename, node.lineno)}): differentiate a plain def instead."
            )
    return None


def _lambda_params(lam: ast.Lambda) -> tuple:
    a = lam.args
    return tuple(x.arg for x in a.posonlyargs + a.args + a.kwonlyargs)
