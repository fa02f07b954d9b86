"""Forward-mode code generation: a normalized function -> its tangent function.

Input: a core-Python ``FunctionDef`` (docs/core-python.md) and its ``Analysis``, exactly
as for reverse mode. Output: the source of one function,

    def f_jvp(<f's parameters>, *, _targs, _tkw):   returns (result, its tangent)

which runs f's statements in their own order with, beside each active one, the statement
computing its tangent. Control flow is kept as written (a tangent needs no tape), so
loops, branches, ``try`` and recursion cost no bookkeeping.

Tangent of variable ``x`` is ``_dx``. Real scalar variables get inline tangent code
(``_dy = _da * b + a * _db``) with a float tangent that is never ``None``; everything
else goes through ``pygote.runtime.tangents`` (``_fcall``, ``_fgetitem``, ...), whose
helpers return the result and its tangent, ``None`` for zero.

Closures: a ``def`` inside forward code is emitted with a never-run reference to the
tangents of the variables it captures, so Python gives it cells for them; the closure's
own forward transform reads (and with ``nonlocal``, writes) its captured variables'
tangents through those cells, with Python's late binding.
"""

from __future__ import annotations

import ast
import operator

import numpy as np

from pygote.analysis.activity import Analysis
from pygote.errors import DifferentiationError, where
from pygote.transform.arrays import UFUNC_DERIVATIVES
from pygote.transform.reverse import (
    _OP_SYMBOLS,
    CodeWriter,
    SCALAR_TEMPLATES,
    _atom,
    _index_expr,
    _is_template_function,
    _Lines,
    _names_in,
    _safe,
)

__all__ = ["generate_forward", "ForwardGenerated", "FORWARD_RESERVED", "tangent_cell"]

FORWARD_RESERVED = frozenset("""
    _targs _tkw _fcall _fcall_method _fbinop _funop _fgetattr _fgetitem _fsetitem
    _fsetattr _fdelitem _faug _fiter _fstar _fstar_dict _fzero _fbind _stale _ _tmp
    _sin _cos _sinh _cosh _sqrt _exp _log _copysign _LN2 _LN10 _TWO_OVER_SQRTPI _DEG _RAD
    _fpow _fdefaults _all_real _np
""".split())

_OPERATOR_FUNCTIONS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
    "&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift,
    ">>": operator.rshift,
}
_UNARY_FUNCTIONS = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


TANGENT_PARAMS_DEFAULT = ("_targs", "_tkw")
# code object of a tangent function -> its tangent parameters, where not the default
TANGENT_PARAMS: dict = {}


def tangent_candidates(name: str):
    """The names a generator may give the tangent of ``name``: ``_dname``, then with ``_``
    appended while taken (by the function's own names, or by a lower level's tangent)."""
    candidate = f"_d{name}"
    for _ in range(4):
        yield candidate
        candidate += "_"


def tangent_cell(name: str, freevars, index: int = 0) -> str | None:
    """The cell holding the tangent of captured variable ``name``, if the closure has one.

    A closure that transforms of transforms made captures the tangents of several levels,
    each level's name the next candidate (``_dw`` of the first, ``_dw_`` of the second);
    ``index`` picks the level's among the candidates the closure has (see
    ``pygote.transform.compile.tangent_cells``)."""
    present = [c for c in tangent_candidates(name) if c in freevars]
    return present[index] if index < len(present) else None


def live_names(fn) -> set:
    """Names ``fn``'s code reads or writes, leaving out the never-run ``if False:``
    references that only give a closure its tangents' cells."""
    out = set()
    stack = [fn]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Constant) and \
                node.test.value is False:
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Name):
            out.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return out


class ForwardGenerated:
    def __init__(self, source, lines, constants, guards):
        self.source = source
        self.lines = lines
        self.constants = constants
        self.guards = guards


class ForwardGenerator(CodeWriter):
    def __init__(self, fn: ast.FunctionDef, analysis: Analysis, resolve, filename,
                 freevars, is_nondiff, cell_of=None):
        self.fn = fn
        self.a = analysis
        self.resolve = resolve
        self.filename = filename
        self.is_nondiff = is_nondiff
        self.counter = 0
        self.constants: dict = {}
        self.const_ids: dict = {}
        self.guards: dict = {}
        self.used_names = (set(_names_in(fn)) | set(analysis.params) | set(analysis.free)
                           | FORWARD_RESERVED | set(freevars))
        self.local = set(analysis.params) | analysis.assigned
        self.tangent_names: dict = {}
        self.cells = {}  # free variable -> its tangent's cell
        for v in analysis.free:
            cell = cell_of.get(v) if cell_of is not None else tangent_cell(v, freevars)
            if cell is not None:
                self.cells[v] = cell
                self.tangent_names[v] = cell

    # ------------------------------------------------------------ naming

    def fresh(self, stem: str) -> str:
        while True:
            self.counter += 1
            name = f"_{stem}{self.counter}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def tan(self, name: str) -> str:
        d = self.tangent_names.get(name)
        if d is None:
            d = self.tangent_names[name] = self.unused(f"_d{name}")
        return d

    def t(self, node) -> str:
        """The tangent of an atom as an expression (``None`` for constants)."""
        if self.is_active(node):
            return self.tan(node.id)
        return "None"

    # ------------------------------------------------------------ blocks

    def block(self, stmts) -> _Lines:
        out = _Lines()
        for s in stmts:
            method = getattr(self, "s_" + type(s).__name__, None)
            if method is None:
                raise DifferentiationError(
                    f"pygote's forward mode cannot differentiate a {type(s).__name__} "
                    f"statement ({where(self.filename, s.lineno, self.fn.name)}); use "
                    "reverse mode (pg.grad) for this function.")
            out.extend(method(s), 0)
        return out

    def plain(self, s) -> _Lines:
        out = _Lines()
        for line in ast.unparse(s).splitlines():
            out.add(line, s.lineno)
        return out

    def zero_init(self, out, y, lineno):
        """``y`` is active but its value came from inactive code."""
        if y in self.a.active:
            d = self.tan(y)
            out.add(f"{d} = 0.0" if y in self.a.scalar else f"{d} = _fzero({y})", lineno)

    def coerce(self, out, y, lineno):
        if y in self.a.scalar:
            d = self.tan(y)
            out.add(f"if {d} is None:", lineno)
            out.add(f"{d} = 0.0", lineno, 1)

    # ------------------------------------------------------------ assignments

    def s_Assign(self, s):
        target = s.targets[0]
        if isinstance(target, ast.Name):
            y = target.id
            value = s.value
            method = getattr(self, "a_" + type(value).__name__, None)
            if method is None:
                out = self.plain(s)
                self.zero_init(out, y, s.lineno)
                return out
            return method(s, y, value)
        if isinstance(target, ast.Subscript):
            a, v = target.value, s.value
            if not self.is_active(a) and not self.is_active(v):
                return self.plain(s)
            out = _Lines()
            idx = _index_expr(target.slice)
            call = f"_fsetitem({_atom(a)}, {self.t(a)}, {idx}, {_atom(v)}, {self.t(v)})"
            out.add(f"{self.tan(a.id)} = {call}" if self.is_active(a) else call, s.lineno)
            return out
        if isinstance(target, ast.Attribute):
            a, v = target.value, s.value
            if not self.is_active(a) and not self.is_active(v):
                return self.plain(s)
            out = _Lines()
            call = f"_fsetattr({_atom(a)}, {self.t(a)}, {target.attr!r}, {_atom(v)}, {self.t(v)})"
            out.add(f"{self.tan(a.id)} = {call}" if self.is_active(a) else call, s.lineno)
            return out
        return self.plain(s)

    def a_Name(self, s, y, value):
        out = self.plain(s)
        if y in self.a.active:
            if self.is_active(value):
                out.add(f"{self.tan(y)} = {self.tan(value.id)}", s.lineno)
            else:
                self.zero_init(out, y, s.lineno)
        return out

    a_Constant = a_Name

    def _inactive(self, s, y, value) -> bool:
        return y not in self.a.active or not any(
            n in self.a.active for n in _names_in(value))

    def scalar_assign(self, s, y, primal: str, tangent: str, uses_ans=False, operands=()):
        """``y = primal`` with the tangent expression (which may read ``{ans}``)."""
        out = _Lines()
        d = self.tan(y)
        if uses_ans or y in operands:
            tmp = self.fresh("tmp")
            out.add(f"{tmp} = {primal}", s.lineno)
            out.add(f"{d} = {tangent.format(ans=tmp)}", s.lineno)
            out.add(f"{y} = {tmp}", s.lineno)
        else:
            out.add(f"{d} = {tangent}", s.lineno)
            out.add(f"{y} = {primal}", s.lineno)
        return out

    def a_BinOp(self, s, y, value):
        if self._inactive(s, y, value):
            out = self.plain(s)
            self.zero_init(out, y, s.lineno)
            return out
        sym = _OP_SYMBOLS[type(value.op)]
        left, right = value.left, value.right
        a, b = _atom(left), _atom(right)
        operands = {n.id for n in (left, right) if isinstance(n, ast.Name)}
        if (y in self.a.scalar and self.is_scalar(left) and self.is_scalar(right)
                and sym in ("+", "-", "*", "/", "**")):
            tangent = self.binop_tangent(sym, left, right, arrays=False)
            if tangent is None:
                return self.dispatch_binop(s, y, sym, left, right)
            return self.scalar_assign(s, y, f"{a} {sym} {b}", tangent, operands=operands)
        general = self.dispatch_binop(s, y, sym, left, right)
        tangent = self.binop_tangent(sym, left, right, arrays=True)
        if tangent is None:
            return general
        return self.array_fast(s, y, f"{a} {sym} {b}", tangent, (left, right), general)

    def binop_tangent(self, sym, left, right, arrays: bool):
        """The tangent of ``left sym right`` as code, or None where a helper must serve:
        for real numbers, or (``arrays``) for real arrays and numbers, where it may read
        ``{ans}`` (the result) and every tangent made is a new array of the result's
        shape, as the forward runtime's are (an operand alone on one side of ``+``/``-``
        may be smaller than the result: its tangent grows)."""
        a, b = _atom(left), _atom(right)
        da = self.tan(left.id) if self.is_active(left) else None
        db = self.tan(right.id) if self.is_active(right) else None
        if sym in ("+", "-"):
            if da and db:
                return f"{da} {sym} {db}"
            x, dx, sign = (a, da, "") if da else (b, db, "-" if sym == "-" else "")
            if not arrays:
                return f"{sign}{dx}"
            sign = sign or "+"
            return (f"{sign}{dx} if _np.shape({x}) == _np.shape({{ans}}) else "
                    f"{sign}_np.broadcast_to({dx}, _np.shape({{ans}}))")
        if sym == "*" and da and a == b:  # x * x (as in tanh's 1 - t * t): one product
            return f"2.0 * {a} * {da}"
        if sym == "*" or sym == "@" and arrays:
            return " + ".join(([f"{da} {sym} {b}"] if da else [])
                              + ([f"{a} {sym} {db}"] if db else []))
        if sym == "/":
            if da and db:
                return f"({da} * {b} - {a} * {db}) / ({b} * {b})"
            return f"{da} / {b}" if da else f"-{a} * {db} / ({b} * {b})"
        if sym == "**" and db is None:
            if not isinstance(right, ast.Constant):  # (a real number: see a_BinOp)
                return None if arrays else f"{da} * {b} * {a} ** ({b} - 1)"
            c = right.value
            if type(c) not in (int, float) or c == 0 and arrays:
                return None
            # (the exponent folded: the lean reverse path takes constant powers)
            return f"2.0 * {a} * {da}" if c == 2 else f"{c!r} * {a} ** {c - 1!r} * {da}"
        return None

    def array_fast(self, s, y, primal, tangent, operands, general):
        """``y = primal`` with its tangent inline when, at run time, every operand is a
        real array or number and every active operand's tangent is there; else the
        ``general`` code (an array's tangent may be ``None``: zero, or kept by identity in
        the forward runtime's table, where the general helper looks it up)."""
        # (one call: a transform of this code then meets one plain call, not a chain of
        # conditions; a tangent that is None is not real)
        values = [n.id for n in operands if isinstance(n, ast.Name)]
        values += [self.tan(n.id) for n in operands
                   if self.is_active(n) and n.id not in self.a.scalar]
        out = _Lines()
        out.add(f"if _all_real({', '.join(values)}):", s.lineno)
        names = {n.id for n in operands if isinstance(n, ast.Name)}
        out.extend(self.scalar_assign(s, y, primal, tangent, uses_ans="{ans}" in tangent,
                                      operands=names), 1)
        out.add("else:", s.lineno)
        out.extend(general, 1)
        return out

    def dispatch_binop(self, s, y, sym, left, right):
        out = _Lines()
        op = self.const(_OPERATOR_FUNCTIONS[sym], "_op")
        d = self.tan(y) if y in self.a.active else "_"
        out.add(f"{y}, {d} = _fbinop({op}, {_atom(left)}, {self.t(left)}, {_atom(right)}, "
                f"{self.t(right)})", s.lineno)
        if y in self.a.active:
            self.coerce(out, y, s.lineno)
        return out

    def a_UnaryOp(self, s, y, value):
        if self._inactive(s, y, value) or isinstance(value.op, ast.Not):
            out = self.plain(s)
            self.zero_init(out, y, s.lineno)
            return out
        x = value.operand
        if y in self.a.scalar and self.is_scalar(x) and isinstance(value.op, (ast.USub, ast.UAdd)):
            sign = "-" if isinstance(value.op, ast.USub) else ""
            return self.scalar_assign(s, y, f"{sign}{_atom(x)}", f"{sign}{self.t(x)}",
                                      operands={x.id})
        out = _Lines()
        op = self.const(_UNARY_FUNCTIONS[type(value.op)], "_op")
        out.add(f"{y}, {self.tan(y)} = _funop({op}, {_atom(x)}, {self.t(x)})", s.lineno)
        self.coerce(out, y, s.lineno)
        if isinstance(value.op, ast.USub) and self.is_active(x):
            return self.array_fast(s, y, f"-{_atom(x)}", f"-{self.tan(x.id)}", (x,), out)
        return out

    def a_Compare(self, s, y, value):
        out = self.plain(s)
        self.zero_init(out, y, s.lineno)
        return out

    a_Set = a_JoinedStr = a_Compare

    def a_Attribute(self, s, y, value):
        if not self.is_active(value.value):
            out = self.plain(s)
            self.zero_init(out, y, s.lineno)
            return out
        out = _Lines()
        d = self.tan(y) if y in self.a.active else "_"
        out.add(f"{y}, {d} = _fgetattr({_atom(value.value)}, {self.t(value.value)}, "
                f"{value.attr!r})", s.lineno)
        if y in self.a.active:
            self.coerce(out, y, s.lineno)
        return out

    def a_Subscript(self, s, y, value):
        if not self.is_active(value.value):
            out = self.plain(s)
            self.zero_init(out, y, s.lineno)
            return out
        out = _Lines()
        d = self.tan(y) if y in self.a.active else "_"
        out.add(f"{y}, {d} = _fgetitem({_atom(value.value)}, {self.t(value.value)}, "
                f"{_index_expr(value.slice)})", s.lineno)
        if y in self.a.active:
            self.coerce(out, y, s.lineno)
        return out

    def _items(self, elts) -> str:
        parts = []
        for e in elts:
            if isinstance(e, ast.Starred):
                parts.append(f"*_fstar({_atom(e.value)}, {self.t(e.value)})")
            else:
                parts.append(self.t(e))
        return ", ".join(parts)

    def a_Tuple(self, s, y, value):
        out = self.plain(s)
        if y in self.a.active:
            if any(self.is_active(e.value if isinstance(e, ast.Starred) else e) for e in value.elts):
                items = self._items(value.elts)
                text = f"({items},)" if isinstance(value, ast.Tuple) else f"[{items}]"
                out.add(f"{self.tan(y)} = {text}", s.lineno)
            else:
                self.zero_init(out, y, s.lineno)
        return out

    a_List = a_Tuple

    def a_Dict(self, s, y, value):
        out = self.plain(s)
        if y in self.a.active:
            if any(self.is_active(v) for v in value.values):
                parts = []
                for k, v in zip(value.keys, value.values):
                    if k is None:
                        parts.append(f"**_fstar_dict({_atom(v)}, {self.t(v)})")
                    else:
                        parts.append(f"{_atom(k)}: {self.t(v)}")
                out.add(f"{self.tan(y)} = {{{', '.join(parts)}}}", s.lineno)
            else:
                self.zero_init(out, y, s.lineno)
        return out

    def a_Call(self, s, y, call):
        func = call.func
        resolved = self.callee(func)
        names = _names_in(call)
        if resolved is not None and _safe(self.is_nondiff, resolved):
            out = self.plain(s)
            self.zero_init(out, y, s.lineno)
            return out
        if not any(n in self.a.active for n in names):
            out = self.plain(s)
            self.zero_init(out, y, s.lineno)
            return out
        name = getattr(resolved, "__name__", None)
        if (resolved is not None and name in SCALAR_TEMPLATES and y in self.a.scalar
                and len(call.args) == 1 and not call.keywords
                and self.is_scalar(call.args[0]) and _is_template_function(resolved, name)):
            self.guard(func)
            x = call.args[0]
            template = SCALAR_TEMPLATES[name]
            tangent = f"{self.t(x)} * {template.format(x=_atom(x), ans='{ans}')}"
            return self.scalar_assign(s, y, _atom(call), tangent, uses_ans="{ans}" in template,
                                      operands={x.id} if isinstance(x, ast.Name) else ())
        out = _Lines()
        args = ", ".join(
            _atom(a) if not isinstance(a, ast.Starred) else f"*{_atom(a.value)}"
            for a in call.args)
        targs = self._items(call.args)
        args_t = f"({args},)" if call.args else "()"
        targs_t = f"({targs},)" if call.args else "()"
        rest = ""
        if call.keywords:
            kws = ", ".join(f"{k.arg!r}: {_atom(k.value)}" if k.arg else f"**{_atom(k.value)}"
                            for k in call.keywords)
            tkws = ", ".join(f"{k.arg!r}: {self.t(k.value)}" if k.arg else
                             f"**_fstar_dict({_atom(k.value)}, {self.t(k.value)})"
                             for k in call.keywords)
            rest = f", {{{kws}}}, {{{tkws}}}"
        d = self.tan(y) if y in self.a.active else "_"
        if isinstance(func, ast.Attribute) and not self._is_module(func.value):
            obj = func.value
            out.add(f"{y}, {d} = _fcall_method({_atom(obj)}, {self.t(obj)}, {func.attr!r}, "
                    f"{args_t}, {targs_t}{rest})", s.lineno)
        else:
            if self.is_active(func):
                if not rest:
                    rest = ", None, None"
                rest += f", {self.t(func)}"
            out.add(f"{y}, {d} = _fcall({_atom(func)}, {args_t}, {targs_t}{rest})", s.lineno)
        if y in self.a.active:
            self.coerce(out, y, s.lineno)
            fast = self.array_call(s, y, call, resolved, name, out)
            if fast is not None:
                return fast
        return out

    def array_call(self, s, y, call, resolved, name, general):
        """A NumPy function of one real array (``np.tanh(x)``, ``np.sum(x)``) with its
        tangent inline (see array_fast), or None."""
        if (resolved is None or call.keywords or len(call.args) != 1
                or not self.is_active(call.args[0]) or getattr(np, name or "", None) is not resolved):
            return None
        x = call.args[0]
        dx = self.tan(x.id)
        if name == "sum":
            code = f"_np.sum({dx})"
        elif name in UFUNC_DERIVATIVES:
            derivative = UFUNC_DERIVATIVES[name][0]
            code = f"{dx} * " + derivative.format(x=_atom(x), ans="{ans}")
        else:
            return None
        self.guard(call.func)
        return self.array_fast(s, y, _atom(call), code, (x,), general)

    def s_AugAssign(self, s):
        target = s.target
        y = target.id
        v = s.value
        if y not in self.a.active and not self.is_active(v):
            return self.plain(s)
        sym = _OP_SYMBOLS[type(s.op)]
        if (y in self.a.scalar and self.is_scalar(v) and sym in ("+", "-", "*", "/")):
            d = self.tan(y)
            dv = self.tan(v.id) if self.is_active(v) else None
            b = _atom(v)
            out = _Lines()
            if sym in ("+", "-"):
                if dv:
                    out.add(f"{d} {sym}= {dv}", s.lineno)
            elif sym == "*":
                out.add(f"{d} = {d} * {b}" + (f" + {y} * {dv}" if dv else ""), s.lineno)
            else:
                out.add(f"{d} = ({d} * {b} - {y} * {dv}) / ({b} * {b})" if dv else
                        f"{d} = {d} / {b}", s.lineno)
            out.extend(self.plain(s), 0)
            return out
        out = _Lines()
        d = self.tan(y) if y in self.a.active else "_"
        out.add(f"{y}, {d} = _faug({sym!r}, {y}, {self.t(target)}, {_atom(v)}, {self.t(v)})",
                s.lineno)
        if y in self.a.active:
            self.coerce(out, y, s.lineno)
        return out

    # ------------------------------------------------------------ control flow

    def s_If(self, s):
        out = _Lines()
        out.add(f"if {_atom(s.test)}:", s.lineno)
        out.extend(self.block(s.body), 1)
        if s.orelse:
            out.add("else:", s.lineno)
            out.extend(self.block(s.orelse), 1)
        return out

    def s_While(self, s):
        out = _Lines()
        out.add(f"while {_atom(s.test)}:", s.lineno)
        out.extend(self.block(s.body), 1)
        return out

    def s_For(self, s):
        out = _Lines()
        x = s.target.id
        it = s.iter
        if x in self.a.active and self.is_active(it):
            d = self.tan(x)
            out.add(f"for {x}, {d} in _fiter({_atom(it)}, {self.t(it)}):", s.lineno)
            if x in self.a.scalar:
                out.add(f"if {d} is None:", s.lineno, 1)
                out.add(f"{d} = 0.0", s.lineno, 2)
        else:
            out.add(f"for {x} in {_atom(it)}:", s.lineno)
            init = _Lines()
            self.zero_init(init, x, s.lineno)
            out.extend(init, 1)
        out.extend(self.block(s.body), 1)
        return out

    def s_Try(self, s):
        out = _Lines()
        out.add("try:", s.lineno)
        out.extend(self.block(s.body), 1)
        for h in s.handlers:
            head = "except"
            if h.type is not None:
                head += " " + ast.unparse(h.type)
            if h.name:
                head += f" as {h.name}"
            out.add(head + ":", h.lineno)
            out.extend(self.block(h.body), 1)
        if s.orelse:
            out.add("else:", s.lineno)
            out.extend(self.block(s.orelse), 1)
        if s.finalbody:
            out.add("finally:", s.lineno)
            out.extend(self.block(s.finalbody), 1)
        return out

    s_TryStar = s_Try

    def s_Delete(self, s):
        out = _Lines()
        for target in s.targets:
            if isinstance(target, ast.Subscript) and self.is_active(target.value):
                a = target.value.id
                out.add(f"{self.tan(a)} = _fdelitem({a}, {self.tan(a)}, "
                        f"{_index_expr(target.slice)})", s.lineno)
            else:
                out.add(f"del {ast.unparse(target)}", s.lineno)
        return out

    def s_Nonlocal(self, s):
        out = self.plain(s)
        cells = [self.cells[n] for n in s.names if n in self.cells]
        if cells:
            out.add(f"nonlocal {', '.join(cells)}", s.lineno)
        return out

    def s_FunctionDef(self, s):
        captured = sorted({n.id for n in ast.walk(s) if isinstance(n, ast.Name)
                           and n.id in self.a.active and (n.id in self.local
                                                          or n.id in self.a.free)}
                          - {s.name})
        out = _Lines()
        lines = ast.unparse(s).splitlines()
        for line in lines:
            out.add(line, s.lineno)
        if captured:  # cells for the captured variables' tangents (never run)
            indent = len(lines[-1]) - len(lines[-1].lstrip())
            body_indent = " " * (len(lines[0]) - len(lines[0].lstrip()) + 4)
            del indent
            refs = ", ".join(self.tan(n) for n in captured)
            out.add(f"{body_indent}if False:", s.lineno)
            out.add(f"{body_indent}    ({refs},)", s.lineno)
        if any(self.is_active(d) for d in s.args.defaults):
            refs = ", ".join(self.t(d) for d in s.args.defaults)
            out.add(f"_fdefaults({s.name}, ({refs},))", s.lineno)
        if s.name in self.a.active:
            out.add(f"{self.tan(s.name)} = None", s.lineno)
        return out

    def s_Pass(self, s):
        return self.plain(s)

    s_Break = s_Continue = s_Raise = s_Global = s_Import = s_ImportFrom = s_ClassDef = s_Pass
    s_Expr = s_Pass
    s_Assert = s_Pass


def generate_forward(fn: ast.FunctionDef, analysis: Analysis, resolve, filename: str,
                     freevars, is_nondiff, cell_of=None) -> ForwardGenerated:
    """The tangent function of normalized ``fn`` (see the module docstring); ``cell_of``:
    free variable -> the cell of its tangent (by default the first candidate present)."""
    gen = ForwardGenerator(fn, analysis, resolve, filename, freevars, is_nondiff, cell_of)
    body = list(fn.body)
    ret = body.pop() if body and isinstance(body[-1], ast.Return) else None
    lines = gen.block(body)
    ret_value = _atom(ret.value) if ret is not None and ret.value is not None else "None"
    ret_line = ret.lineno if ret is not None else fn.lineno
    if ret is not None and isinstance(ret.value, ast.Name) and ret.value.id in analysis.active:
        ret_tangent = gen.tan(ret.value.id)
    else:
        ret_tangent = "None"

    # the tangents come keyword-only, last: a zero-argument super() reads the frame's
    # first argument, which must stay f's own. A tangent function of a tangent function
    # (higher derivatives) names them afresh: TANGENT_PARAMS tells callers which.
    args = ast.unparse(fn.args)
    names = TANGENT_PARAMS_DEFAULT
    if set(analysis.params) & set(names):
        while set(analysis.params) & set(names):
            names = (names[0] + "_", names[1] + "_")
        args_of = {names[0]: "_targs", names[1]: "_tkw"}
    else:
        args_of = None
    tnames = ", ".join(names)
    if fn.args.kwarg is not None:
        cut = args.rindex("**")
        head_args = args[:cut] + ("" if fn.args.vararg or fn.args.kwonlyargs else "*, ") + \
            tnames + ", " + args[cut:]
    elif fn.args.vararg or fn.args.kwonlyargs:
        head_args = args + ", " + tnames
    else:
        head_args = (args + ", " if args else "") + "*, " + tnames
    head = f"def {fn.name}_jvp({head_args}):"
    prologue = _Lines()
    for g, k in gen.guards.items():
        prologue.add(f"if {g} is not {k}:", fn.lineno)
        prologue.add("_stale()", fn.lineno, 1)
    params = analysis.params
    tangent_names = [gen.tan(p) if p in analysis.active else "_" for p in params]
    if params:
        sig = gen.const(_signature(fn.args), "_sig")
        prologue.add(f"{', '.join(tangent_names)}, = _fbind({sig}, {tnames})", fn.lineno)
        for p in params:
            if p in analysis.active and p in analysis.scalar:
                prologue.add(f"if {gen.tan(p)} is None:", fn.lineno)
                prologue.add(f"{gen.tan(p)} = 0.0", fn.lineno, 1)
    # active variables assigned only on some paths: their tangent must exist when read
    for v in sorted(analysis.active - set(params) - set(gen.cells)):
        if v in gen.tangent_names and v not in analysis.free:
            prologue.add(f"{gen.tan(v)} = {'0.0' if v in analysis.scalar else 'None'}",
                         fn.lineno)
    for v in analysis.free:
        if v in analysis.active and v not in gen.cells and v in gen.tangent_names:
            prologue.add(f"{gen.tan(v)} = None", fn.lineno)
    all_lines = _Lines()
    all_lines.extend(prologue, 0)
    all_lines.extend(lines, 0)
    if freevars:
        # never run: keeps every cell of the closure (the tangents' of higher levels too)
        # among the tangent function's own, for a transform of it to find (higher
        # derivatives); after the body, so after any ``nonlocal`` declaration
        all_lines.add("if False:", ret_line)
        all_lines.add(f"({', '.join(freevars)},)", ret_line, 1)
    all_lines.add(f"return {ret_value}, {ret_tangent}", ret_line)
    text, origin = all_lines.render(set())
    out = ForwardGenerated("\n".join([head] + text), [fn.lineno] + origin, gen.constants,
                           list(gen.guards.items()))
    out.tangent_params = names if args_of else None
    return out


def _signature(args: ast.arguments):
    positional = [a.arg for a in args.posonlyargs + args.args]
    return (tuple(positional), args.vararg.arg if args.vararg else None,
            tuple(a.arg for a in args.kwonlyargs), args.kwarg.arg if args.kwarg else None)


def bind(sig, targs, tkw):
    """Tangents of the parameters, in parameter order, from a call's tangents."""
    positional, vararg, kwonly, varkw = sig
    n = len(positional)
    if not tkw and vararg is None and varkw is None and not kwonly:
        if len(targs) == n:
            return targs
        return tuple(targs) + (None,) * (n - len(targs))
    tkw = dict(tkw or {})
    out = list(targs[:n]) + [None] * max(0, n - len(targs))
    for i, p in enumerate(positional):
        if i >= len(targs) and p in tkw:
            out[i] = tkw.pop(p)
    if vararg is not None:
        out.append(tuple(targs[n:]))
    for k in kwonly:
        out.append(tkw.pop(k, None))
    if varkw is not None:
        out.append(tkw)
    return tuple(out)
