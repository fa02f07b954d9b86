"""Structural helpers for the pass tests: walk a function's own scope, list its nodes."""

from __future__ import annotations

import ast

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def own_nodes(fn: ast.FunctionDef):
    """Every node of ``fn``'s body outside nested def/lambda/class bodies (their
    decorators and defaults are included)."""
    todo = list(fn.body)
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(getattr(n, "decorator_list", []))
            todo.extend(n.args.defaults)
            todo.extend(d for d in n.args.kw_defaults if d is not None)
        elif isinstance(n, ast.ClassDef):
            continue
        else:
            todo.extend(ast.iter_child_nodes(n))


def own_types(fn: ast.FunctionDef) -> set[type]:
    return {type(n) for n in own_nodes(fn)}


def own_statements(fn: ast.FunctionDef):
    return [n for n in own_nodes(fn) if isinstance(n, ast.stmt)]


def loop_bodies(fn: ast.FunctionDef):
    return [n.body for n in own_nodes(fn) if isinstance(n, (ast.For, ast.While))]
