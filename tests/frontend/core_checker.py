"""``assert_core(fn_def)``: does a normalized function obey docs/core-python.md?

Walks the body statement by statement and fails (``CoreViolation``, an AssertionError)
on anything not in the contract's list, naming the offending statement. Besides the
contract's forms it accepts ``del r[index]`` / ``del r.attr`` (with ``r`` a name and the
index as for reads) and ``raise atom from atom``. It additionally checks what
normalization promises on top: every statement has a line number, a nested ``def``'s
decorators and defaults are atoms, and no lambda/comprehension/conditional expression is
left anywhere in the function's own scope.
"""

from __future__ import annotations

import ast


class CoreViolation(AssertionError):
    pass


def _is_atom(e) -> bool:
    return isinstance(e, (ast.Name, ast.Constant))


def _is_name(e) -> bool:
    return isinstance(e, ast.Name)


def _ok_slice_part(e) -> bool:
    return e is None or _is_atom(e)


def _ok_index(e) -> bool:
    if isinstance(e, ast.Slice):
        return all(_ok_slice_part(p) for p in (e.lower, e.upper, e.step))
    if isinstance(e, ast.Tuple):
        return all(_is_atom(x) or (isinstance(x, ast.Slice) and _ok_index(x)) for x in e.elts)
    return _is_atom(e)


def _ok_arg(e) -> bool:
    return _is_atom(e) or (isinstance(e, ast.Starred) and _is_atom(e.value))


def _ok_joined(e: ast.JoinedStr) -> bool:
    for v in e.values:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            continue
        if isinstance(v, ast.FormattedValue) and _is_atom(v.value) and \
                (v.format_spec is None or _ok_joined(v.format_spec)):
            continue
        return False
    return True


def ok_rhs(e: ast.expr, allow_lambda: bool = False) -> bool:
    """The right-hand side forms of ``y = ...`` in the contract."""
    if _is_atom(e):
        return True
    if allow_lambda and isinstance(e, ast.Lambda):
        a = e.args
        return all(_is_atom(d) for d in a.defaults + [d for d in a.kw_defaults if d is not None])
    if isinstance(e, ast.BinOp):
        return _is_atom(e.left) and _is_atom(e.right)
    if isinstance(e, ast.UnaryOp):
        return _is_atom(e.operand)
    if isinstance(e, ast.Compare):
        return len(e.ops) == 1 and _is_atom(e.left) and _is_atom(e.comparators[0])
    if isinstance(e, ast.Call):
        f = e.func
        if not (_is_name(f) or (isinstance(f, ast.Attribute) and _is_name(f.value))):
            return False
        return all(_ok_arg(a) for a in e.args) and all(_is_atom(k.value) for k in e.keywords)
    if isinstance(e, ast.Attribute):
        return _is_name(e.value)
    if isinstance(e, ast.Subscript):
        return _is_name(e.value) and _ok_index(e.slice)
    if isinstance(e, (ast.Tuple, ast.List)):
        return all(_ok_arg(x) for x in e.elts)
    if isinstance(e, ast.Set):
        return all(_is_atom(x) for x in e.elts)
    if isinstance(e, ast.Dict):
        return all(k is None or _is_atom(k) for k in e.keys) and all(_is_atom(v) for v in e.values)
    if isinstance(e, ast.JoinedStr):
        return _ok_joined(e)
    return False


def _ok_store_target(t) -> bool:
    if isinstance(t, ast.Attribute):
        return _is_name(t.value)
    if isinstance(t, ast.Subscript):
        return _is_name(t.value) and _ok_index(t.slice)
    return False


def _ok_handler_type(t) -> bool:
    if t is None or _is_name(t):
        return True
    if isinstance(t, ast.Attribute):
        return _ok_handler_type(t.value)
    if isinstance(t, ast.Tuple):
        return all(_ok_handler_type(x) for x in t.elts)
    return False


def _is_flag_break(s) -> bool:
    return (isinstance(s, ast.If) and _is_name(s.test) and len(s.body) == 1
            and isinstance(s.body[0], ast.Break) and not s.orelse)


class _Checker:
    def __init__(self, fn: ast.FunctionDef, allow_lambda: bool = False):
        self.fn = fn
        self.allow_lambda = allow_lambda
        self.returns = 0

    def fail(self, s: ast.AST, why: str):
        try:
            text = ast.unparse(s)
        except Exception:  # noqa: BLE001
            text = ast.dump(s)
        first = text.splitlines()[0] if text else ""
        raise CoreViolation(f"line {getattr(s, 'lineno', '?')}: {why}: {first}\n"
                            f"in function:\n{ast.unparse(self.fn)}")

    def block(self, stmts, in_loop: bool, loop_body: bool = False, top: bool = False):
        if not stmts:
            raise CoreViolation("empty block")
        for i, s in enumerate(stmts):
            if not isinstance(getattr(s, "lineno", None), int):
                self.fail(s, "statement without a line number")
            last = i == len(stmts) - 1
            if _is_flag_break(s):
                if not (loop_body and last):
                    self.fail(s, "`if flag: break` not the last statement of a loop body")
                continue
            if isinstance(s, ast.Return):
                if not (top and last):
                    self.fail(s, "return that is not the last statement of the function")
                if not _is_atom(s.value):
                    self.fail(s, "return of a non-atom")
                self.returns += 1
                continue
            self.stmt(s, in_loop)
        if top and not isinstance(stmts[-1], ast.Return):
            self.fail(stmts[-1], "function body does not end with a return")

    def stmt(self, s, in_loop):  # noqa: C901
        if isinstance(s, ast.Assign):
            if len(s.targets) != 1:
                self.fail(s, "assignment with several targets")
            t = s.targets[0]
            if _is_name(t):
                if not ok_rhs(s.value, self.allow_lambda):
                    self.fail(s, "right-hand side not in core form")
            elif _ok_store_target(t):
                if not _is_atom(s.value):
                    self.fail(s, "attribute/subscript assignment of a non-atom")
            else:
                self.fail(s, "assignment target not a name/attribute/subscript of a name")
        elif isinstance(s, ast.AugAssign):
            if not (_is_name(s.target) and _is_atom(s.value)):
                self.fail(s, "augmented assignment not `name OP= atom`")
        elif isinstance(s, ast.FunctionDef):
            a = s.args
            if not all(_is_atom(d) for d in s.decorator_list + a.defaults +
                       [d for d in a.kw_defaults if d is not None]):
                self.fail(s, "nested def with non-atom decorators/defaults")
        elif isinstance(s, ast.ClassDef):
            pass
        elif isinstance(s, ast.If):
            if not _is_name(s.test):
                self.fail(s, "if test not a name")
            self.block(s.body, in_loop)
            if s.orelse:
                self.block(s.orelse, in_loop)
        elif isinstance(s, ast.While):
            if not _is_name(s.test):
                self.fail(s, "while test not a name")
            if s.orelse:
                self.fail(s, "while ... else")
            self.block(s.body, True, loop_body=True)
        elif isinstance(s, ast.For):
            if not _is_name(s.target):
                self.fail(s, "for target not a name")
            if not _is_atom(s.iter):
                self.fail(s, "for iterable not an atom")
            if s.orelse:
                self.fail(s, "for ... else")
            self.block(s.body, True, loop_body=True)
        elif isinstance(s, ast.Try):
            self.block(s.body, in_loop)
            for h in s.handlers:
                if not _ok_handler_type(h.type):
                    self.fail(h, "except clause with a computed exception type")
                self.block(h.body, in_loop)
            if s.orelse:
                self.block(s.orelse, in_loop)
            if s.finalbody:
                self.block(s.finalbody, in_loop)
        elif isinstance(s, ast.Raise):
            if not (s.exc is None or _is_atom(s.exc)) or not (s.cause is None or _is_atom(s.cause)):
                self.fail(s, "raise of a non-atom")
        elif isinstance(s, (ast.Pass, ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom)):
            pass
        elif isinstance(s, ast.Delete):
            if len(s.targets) != 1:
                self.fail(s, "del with several targets")
            t = s.targets[0]
            if not (_is_name(t) or _ok_store_target(t)):
                self.fail(s, "del target not a name, name[index] or name.attr")
        elif isinstance(s, ast.Break):
            self.fail(s, "break outside `if flag: break`")
        else:
            self.fail(s, f"{type(s).__name__} statement is not core Python")


def assert_core(fn_def: ast.FunctionDef, *, allow_lambda: bool = False) -> None:
    """Fail unless ``fn_def``'s body is in core Python (docs/core-python.md).

    ``allow_lambda`` also accepts ``y = lambda ...`` with atom defaults (the output of
    ``anf``, before ``lambdas``)."""
    if not isinstance(fn_def, ast.FunctionDef):
        raise CoreViolation(f"not a FunctionDef: {type(fn_def).__name__}")
    c = _Checker(fn_def, allow_lambda)
    c.block(fn_def.body, in_loop=False, top=True)
    if c.returns != 1:
        raise CoreViolation(f"{c.returns} return statements (exactly one expected)")
