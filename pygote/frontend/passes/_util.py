"""Shared helpers of the normalization passes: fresh names, scopes, locations, errors.

Nothing here transforms a function by itself. The passes use:

* ``Namer``: fresh names (``_t1``, ``_t2``, ``_break_1``, ...) that collide neither with a
  name used anywhere in the function (nested defs, lambdas and classes included) nor with
  a name it handed out before.
* ``own_nodes`` / ``walk_own``: the nodes of the function's own scope (the bodies of nested
  ``def``/``lambda``/``class`` are not entered).
* ``Scope``: which names are *unstable* (may be rebound while one statement is evaluated:
  walrus targets, names declared ``global``/``nonlocal`` here, names declared ``nonlocal``
  in a nested function); a read of an unstable name is spilled to a temporary before a
  later operand is evaluated, so the evaluation order of reads stays Python's.
* ``located``: copy the location of the user's statement onto generated statements.
"""

from __future__ import annotations

import ast
import copy
from typing import Iterable, Iterator

from pygote.errors import DifferentiationError, unsupported

SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
LOC_ATTRS = ("lineno", "col_offset", "end_lineno", "end_col_offset")


# --- names ------------------------------------------------------------------------------

def all_names(node: ast.AST) -> set[str]:
    """Every identifier that names a variable anywhere under ``node`` (all scopes)."""
    names: set[str] = set()
    add = names.add
    for n in ast.walk(node):
        t = type(n)
        if t is ast.Name:
            add(n.id)
        elif t is ast.arg:
            add(n.arg)
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            add(n.name)
        elif t in (ast.Global, ast.Nonlocal):
            names.update(n.names)
        elif t is ast.alias:
            add((n.asname or n.name).split(".")[0])
        elif t is ast.ExceptHandler and n.name:
            add(n.name)
    return names


class Namer:
    """Hands out names that are unused in the function and unique among themselves."""

    def __init__(self, fn: ast.AST):
        self._fn = fn
        self._used: set[str] | None = None  # computed on first use
        self.generated: set[str] = set()
        self._next: dict[str, int] = {}

    @property
    def used(self) -> set[str]:
        if self._used is None:
            self._used = all_names(self._fn) | self.generated
        return self._used

    def _take(self, name: str) -> str:
        self.used.add(name)
        self.generated.add(name)
        return name

    def fresh(self, prefix: str = "_t") -> str:
        """``prefix`` + the smallest number that gives an unused name (``_t1``, ``_t2``)."""
        n = self._next.get(prefix, 1)
        while f"{prefix}{n}" in self.used:
            n += 1
        self._next[prefix] = n + 1
        return self._take(f"{prefix}{n}")

    def exact(self, name: str) -> str:
        """``name`` itself if unused, else ``name_2``, ``name_3``, ..."""
        if name not in self.used:
            return self._take(name)
        n = 2
        while f"{name}_{n}" in self.used:
            n += 1
        return self._take(f"{name}_{n}")

    def numbered_group(self, prefixes: Iterable[str]) -> list[str]:
        """Names ``p1_N, p2_N, ...`` sharing the smallest N for which all are unused."""
        prefixes = list(prefixes)
        key = "|".join(prefixes)
        n = self._next.get(key, 1)
        while any(f"{p}{n}" in self.used for p in prefixes):
            n += 1
        self._next[key] = n + 1
        return [self._take(f"{p}{n}") for p in prefixes]


# --- scopes -----------------------------------------------------------------------------

def iter_own(node: ast.AST) -> Iterator[ast.AST]:
    """Children of ``node`` that are evaluated in the same scope as ``node``.

    For a nested def/lambda/class only what the enclosing scope evaluates is yielded
    (decorators, defaults, bases); never its body.
    """
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield from node.decorator_list
        yield from node.args.defaults
        yield from (d for d in node.args.kw_defaults if d is not None)
        return
    if isinstance(node, ast.Lambda):
        yield from node.args.defaults
        yield from (d for d in node.args.kw_defaults if d is not None)
        return
    if isinstance(node, ast.ClassDef):
        yield from node.decorator_list
        yield from node.bases
        yield from (k.value for k in node.keywords)
        return
    yield from ast.iter_child_nodes(node)


def walk_own(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` restricted to the scope of ``node`` (nested scopes' bodies skipped).

    Comprehensions are entered (their expressions run in the function after lowering).
    """
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        todo.extend(iter_own(n))


def body_nodes(fn: ast.FunctionDef) -> Iterator[ast.AST]:
    """Every node of the function body's own scope."""
    for s in fn.body:
        yield from walk_own(s)


class Scope:
    """Binding facts about one function that the passes need."""

    def __init__(self, fn: ast.FunctionDef):
        self._fn = fn
        self._unstable: set[str] | None = None  # computed on first use

    @property
    def unstable(self) -> set[str]:
        if self._unstable is None:
            self._compute(self._fn)
        return self._unstable

    def _compute(self, fn: ast.FunctionDef) -> None:
        self.declared: set[str] = set()  # global / nonlocal here
        self.walrus: set[str] = set()
        self.cells_written: set[str] = set()  # nonlocal in a nested function
        for n in body_nodes(fn):
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                self.declared.update(n.names)
            elif isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
                self.walrus.add(n.target.id)
        for n in ast.walk(fn):
            if type(n) is ast.Nonlocal and n is not fn:
                self.cells_written.update(n.names)
        self._unstable = self.declared | self.walrus | self.cells_written

    def is_stable(self, e: ast.expr, generated: set[str]) -> bool:
        """Reading ``e`` now or a little later in the same statement gives the same value."""
        if isinstance(e, ast.Constant):
            return True
        if isinstance(e, ast.Name):
            return e.id in generated or e.id not in self.unstable
        return False


# --- small AST builders -------------------------------------------------------------------

def name(id_: str, store: bool = False) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def load(e: ast.expr) -> ast.expr:
    """A copy of a target expression usable as a value (contexts set to Load)."""
    e = copy.deepcopy(e)
    for n in ast.walk(e):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    return e


def store(e: ast.expr) -> ast.expr:
    """``e`` (a Name, Attribute, Subscript, Tuple, List or Starred) as an assignment target."""
    e = copy.deepcopy(e)
    _set_store(e)
    return e


def _set_store(e: ast.expr) -> None:
    if isinstance(e, (ast.Name, ast.Attribute, ast.Subscript)):
        e.ctx = ast.Store()
    elif isinstance(e, (ast.Tuple, ast.List)):
        e.ctx = ast.Store()
        for x in e.elts:
            _set_store(x)
    elif isinstance(e, ast.Starred):
        e.ctx = ast.Store()
        _set_store(e.value)


def assign(target: str | ast.expr, value: ast.expr) -> ast.Assign:
    t = name(target, store=True) if isinstance(target, str) else store(target)
    return ast.Assign(targets=[t], value=value, type_comment=None)


def const(v) -> ast.Constant:
    return ast.Constant(value=v)


def not_(e: ast.expr) -> ast.UnaryOp:
    return ast.UnaryOp(op=ast.Not(), operand=e)


def is_atom(e: ast.AST | None) -> bool:
    return isinstance(e, (ast.Name, ast.Constant))


def make_function(name_: str, args: ast.arguments, body: list[ast.stmt],
                  decorators: list[ast.expr] | None = None,
                  returns: ast.expr | None = None) -> ast.FunctionDef:
    fields = dict(name=name_, args=args, body=body, decorator_list=decorators or [],
                  returns=returns, type_comment=None)
    if "type_params" in ast.FunctionDef._fields:  # Python 3.12+
        fields["type_params"] = []
    return ast.FunctionDef(**fields)


def replace_body(fn: ast.FunctionDef, body: list[ast.stmt]) -> ast.FunctionDef:
    """A copy of ``fn`` (args, defaults, decorators kept) with a new body."""
    new = copy.copy(fn)
    new.body = body or [ast.Pass()]
    if not fn.body or new.body is not fn.body:
        for s in new.body:
            if not hasattr(s, "lineno"):
                located(s, fn)
    return new


# --- locations ----------------------------------------------------------------------------

def located(node: ast.AST, src: ast.AST) -> ast.AST:
    """Give ``node`` and the nodes under it that lack one the location of ``src``.

    A node that already has a location is not entered (its parts were located when they
    were made), which keeps this linear over a pass."""
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.stmt, ast.expr, ast.excepthandler)):
            if getattr(n, "lineno", None) is not None:
                continue
            for a in LOC_ATTRS:
                if hasattr(src, a):
                    setattr(n, a, getattr(src, a))
        todo.extend(ast.iter_child_nodes(n))
    return node


def located_all(nodes: list[ast.stmt], src: ast.AST) -> list[ast.stmt]:
    for n in nodes:
        located(n, src)
    return nodes


# --- errors -------------------------------------------------------------------------------

class Where:
    """File and function, for error messages."""

    def __init__(self, fn: ast.FunctionDef, filename: str | None):
        self.filename = filename
        self.function = getattr(fn, "name", None)

    def error(self, construct: str, node: ast.AST | None, remedy: str) -> DifferentiationError:
        return unsupported(construct, self.filename, getattr(node, "lineno", None),
                           self.function, remedy)


def internal(where: Where, node: ast.AST | None, what: str) -> DifferentiationError:
    return where.error(what, node, "This is a limitation of pygote's normalization; "
                                   "rewrite the construct in a simpler form.")


# --- blocks -------------------------------------------------------------------------------

BLOCK_FIELDS = ("body", "orelse", "finalbody")


def is_flag_break(s: ast.stmt) -> bool:
    """``if flag: break`` (the only break normalization leaves, as a loop body's end)."""
    return (isinstance(s, ast.If) and isinstance(s.test, ast.Name) and len(s.body) == 1
            and isinstance(s.body[0], ast.Break) and not s.orelse)


def has_loop_jump(stmts: list[ast.stmt]) -> bool:
    """Whether a ``break``/``continue`` targets the loop whose body is ``stmts``,
    other than a final ``if flag: break``."""
    def scan(block: list[ast.stmt]) -> bool:
        for s in block:
            if isinstance(s, (ast.Break, ast.Continue)):
                return True
            if isinstance(s, (ast.For, ast.While, ast.AsyncFor)):
                if scan(s.orelse):
                    return True
                continue
            if isinstance(s, SCOPE_NODES):
                continue
            for f in BLOCK_FIELDS:
                if scan(getattr(s, f, None) or []):
                    return True
            if isinstance(s, ast.Try) or (hasattr(ast, "TryStar") and isinstance(s, ast.TryStar)):
                for h in s.handlers:
                    if scan(h.body):
                        return True
        return False
    body = stmts[:-1] if stmts and is_flag_break(stmts[-1]) else stmts
    return scan(body)


def relocate_while_test(loop: ast.While, pre: list[ast.stmt], test: ast.expr,
                        where: Where) -> list[ast.stmt]:
    """``pre; while test: body; pre`` for a while loop whose test needed statements.

    The statements computing the test run before the loop and again as the last ones of
    the body; if the body ends with ``if flag: break`` they run (under ``if flag: pass
    else:``) just before it, so a broken loop does not evaluate its test again.
    A body with other ``break``/``continue`` must first go through ``control_flow``.
    """
    if not pre:
        new = copy.copy(loop)
        new.test = test
        return [new]
    if has_loop_jump(loop.body):
        raise internal(where, loop, "a `while` test that needs statements in a loop with "
                                    "break/continue (run control_flow first)")
    body = list(loop.body)
    again = copy.deepcopy(pre)
    if body and is_flag_break(body[-1]):
        flag = body[-1].test.id
        guard = located(ast.If(test=name(flag), body=[ast.Pass()], orelse=again), body[-1])
        body = body[:-1] + [guard, body[-1]]
    else:
        body = body + again
    new = copy.copy(loop)
    new.test = test
    new.body = body
    return pre + [new]


# --- scope-aware renaming -------------------------------------------------------------------

def _arg_names(a: ast.arguments) -> set[str]:
    out = {x.arg for x in getattr(a, "posonlyargs", []) + a.args + a.kwonlyargs}
    if a.vararg:
        out.add(a.vararg.arg)
    if a.kwarg:
        out.add(a.kwarg.arg)
    return out


def target_names(target: ast.AST) -> set[str]:
    """Names bound by an assignment/for/comprehension target."""
    return {n.id for n in ast.walk(target)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.m = mapping

    def _with(self, mapping, node):
        saved, self.m = self.m, mapping
        try:
            return self.visit(node)
        finally:
            self.m = saved

    def visit_Name(self, node: ast.Name):
        if node.id in self.m:
            return ast.copy_location(ast.Name(id=self.m[node.id], ctx=node.ctx), node)
        return node

    def visit_Lambda(self, node: ast.Lambda):
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [None if d is None else self.visit(d)
                                 for d in node.args.kw_defaults]
        inner = {k: v for k, v in self.m.items() if k not in _arg_names(node.args)}
        node.body = self._with(inner, node.body)
        return node

    def _comp(self, node):
        gens = node.generators
        gens[0].iter = self.visit(gens[0].iter)
        bound = set().union(*(target_names(g.target) for g in gens))
        inner = {k: v for k, v in self.m.items() if k not in bound}
        for i, g in enumerate(gens):
            g.target = self._with(inner, g.target)
            if i:
                g.iter = self._with(inner, g.iter)
            g.ifs = [self._with(inner, c) for c in g.ifs]
        for f in ("elt", "key", "value"):
            if hasattr(node, f):
                setattr(node, f, self._with(inner, getattr(node, f)))
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comp


def rename(e: ast.AST, mapping: dict[str, str]) -> ast.AST:
    """A copy of ``e`` with the free occurrences of ``mapping``'s names renamed
    (lambda parameters and inner comprehension variables shadow them)."""
    e = copy.deepcopy(e)
    if not mapping:
        return e
    return _Renamer(mapping).visit(e)
