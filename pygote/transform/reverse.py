"""Reverse-mode code generation: a normalized function -> forward and backward source.

Input: a core-Python ``FunctionDef`` (docs/core-python.md) and its ``Analysis``.
Output: ``Generated``, the source of two functions,

    def f_forward(<f's parameters>):   runs f, returns (result, saved)
    def f_backward(_saved, _dret):      returns (parameter cotangents, free-variable ones)

with a map from each generated line to the user's line, so the compiled code's line
numbers are the user's.

The backward pass uses *restore semantics* (as Tangent does): before a statement
overwrites a variable that the backward pass reads, the forward pushes the old value on
``_stack``; the backward pops it right after that statement's adjoint. So when the
backward reaches a statement, every variable holds the value it held when the forward
ran that statement. Variables the backward reads and that are assigned once are simply
returned in ``saved``.

Adjoint of variable ``x`` is ``_dx``. Scalar variables (real Python numbers, see
``pygote.analysis``) get inline adjoints (``_dx += _g * y``); everything else goes through
``pygote.runtime`` helpers (``_acc``, ``_take``, the dispatcher's pullbacks).
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field

import numpy as np

from pygote.analysis.activity import Analysis, resolve_callee
from pygote.transform.arrays import ArrayStatements
from pygote.transform.peephole import peephole
from pygote.errors import DifferentiationError, where

__all__ = ["generate", "Generated", "SCALAR_TEMPLATES"]

# Adjoint templates of real scalar functions: contribution to _dx is _g * <template>,
# with {x} the argument and {ans} the result. Used when every argument is a scalar.
SCALAR_TEMPLATES = {
    "sin": "_cos({x})", "cos": "-_sin({x})", "tan": "(1.0 + {ans} * {ans})",
    "exp": "{ans}", "expm1": "({ans} + 1.0)", "log": "1.0 / {x}", "log1p": "1.0 / (1.0 + {x})",
    "log2": "1.0 / ({x} * _LN2)", "log10": "1.0 / ({x} * _LN10)", "sqrt": "0.5 / {ans}",
    "sinh": "_cosh({x})", "cosh": "_sinh({x})", "tanh": "(1.0 - {ans} * {ans})",
    "asin": "1.0 / _sqrt(1.0 - {x} * {x})", "acos": "-1.0 / _sqrt(1.0 - {x} * {x})",
    "atan": "1.0 / (1.0 + {x} * {x})", "asinh": "1.0 / _sqrt({x} * {x} + 1.0)",
    "acosh": "1.0 / _sqrt({x} * {x} - 1.0)", "atanh": "1.0 / (1.0 - {x} * {x})",
    "erf": "_TWO_OVER_SQRTPI * _exp(-{x} * {x})", "erfc": "-_TWO_OVER_SQRTPI * _exp(-{x} * {x})",
    "fabs": "_copysign(1.0, {x})", "abs": "(1.0 if {x} > 0 else -1.0 if {x} < 0 else 0.0)",
    "float": "1.0", "degrees": "_DEG", "radians": "_RAD",
}

_OP_SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
}
_OP_FUNCTIONS = {
    "+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod",
    "**": "pow", "@": "matmul", "&": "and_", "|": "or_", "^": "xor", "<<": "lshift",
    ">>": "rshift",
}
_UNARY = {ast.USub: ("-", "neg"), ast.UAdd: ("+", "pos"), ast.Invert: ("~", "invert")}


class _OwnForward:
    """Placeholder value of the cell that will hold an adjoint's own forward."""


class _OwnPullback:
    """Placeholder value of the cell that will hold an adjoint's own pullback."""


@dataclass
class Generated:
    forward: str
    backward: str
    forward_lines: list  # user line of each generated forward line (1-based index - 1)
    backward_lines: list
    constants: dict  # name -> value, bound in the functions' closure
    needed: list
    guards: list = field(default_factory=list)  # (global name, constant name)
    # names of the cells that hold this very adjoint's forward and pullback (direct
    # recursive calls), filled in once compiled
    self_cells: tuple = ()
    # the backward body once more, entered by direct recursive calls: it returns only the
    # parameters' cotangents (the one active parameter's alone), see Generator.own_single
    pullback: str = ""
    pullback_lines: list = field(default_factory=list)
    # a function that is a run of array statements ending in its return: their lean paths'
    # condition and its gradient written out as plain NumPy code (see lean_gradient)
    lean_ok: str = ""
    lean_gradient: str = ""


class _Lines:
    """Indented source lines, each tagged with the user's line it came from."""

    def __init__(self):
        self.items: list = []  # (indent, text, lineno) or ("PUSH"/"POP", name, lineno)

    def add(self, text, lineno, indent=0):
        self.items.append((indent, text, lineno))

    def extend(self, other, indent=1):
        for item in other.items:
            if item[0] in ("PUSH", "POP"):
                self.items.append((item[0], item[1], item[2], item[3] + indent))
            else:
                self.items.append((item[0] + indent, item[1], item[2]))

    def push(self, name, lineno, indent=0):
        self.items.append(("PUSH", name, lineno, indent))

    def pop(self, name, lineno, indent=0):
        self.items.append(("POP", name, lineno, indent))

    def render(self, pushed, base_indent=1):
        text, origin = [], []
        for item in self.items:
            if item[0] == "PUSH":
                if item[1] not in pushed:
                    continue
                indent, line = item[3], f"_push({item[1]})"
            elif item[0] == "POP":
                if item[1] not in pushed:
                    continue
                indent, line = item[3], f"{item[1]} = _pop()"
            else:
                indent, line = item[0], item[1]
            text.append("    " * (indent + base_indent) + line)
            origin.append(item[2])
        return _fill_empty_blocks(text, origin)


# names the generated code uses for its own machinery (the runtime helpers are bound
# under these names by pygote.transform.compile)
RESERVED = frozenset("""
    _saved _dret _stack _push _pop _ _acc _take _call _call_masked _call_method _binop _unop _getattr
    _acc_attr _getitem _acc_getitem _getitem_back _acc_item _rename_back _setitem _setitem_back
    _setattr _setattr_back _ghost _ghost_written _ghost_made _acc_neg
    _shadow _wrote _is_real _ndarray _gout _matrices _np _add_items _F64 _rev _islice _acc_owned _acc_extremum
    _augassign _augassign_back _iterate _cell_ct _put_cell_ct _default_ct _dfree _stale _sin _cos _sinh _cosh _sqrt
    _exp _log _copysign _LN2 _LN10 _TWO_OVER_SQRTPI _DEG _RAD _delitem _delitem_back
""".split())
# ``Generator.made_by`` of a temporary a linear NumPy rule made (no pullback to consult)
MADE_BY_RULE = "<a linear rule>"
_FORWARD_STEMS = {"pb", "rec", "old", "aug", "n", "seq", "try", "exc", "item", "branch",
                  "fast", "f", "fv", "fold", "fs", "own"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _drop_unused_adjoints(text, origin, declared):
    """Remove the initializations of adjoints that nothing else reads or writes."""
    counts: dict = {}
    for line in text:
        for name in _IDENTIFIER.findall(line):
            counts[name] = counts.get(name, 0) + 1
    unused = {f"{d} = 0.0" for d in declared if counts.get(d) == 1} | \
        {f"{d} = None" for d in declared if counts.get(d) == 1}
    kept = [(t, o) for t, o in zip(text, origin) if t.strip() not in unused]
    return [t for t, _ in kept], [o for _, o in kept]


def _fill_empty_blocks(text, origin):
    """Give ``pass`` to every block header whose body rendered to nothing."""
    out, out_origin = [], []
    for k, line in enumerate(text):
        out.append(line)
        out_origin.append(origin[k])
        if line.endswith(":"):
            indent = len(line) - len(line.lstrip())
            following = text[k + 1] if k + 1 < len(text) else ""
            if len(following) - len(following.lstrip()) <= indent or not following.strip():
                out.append(" " * (indent + 4) + "pass")
                out_origin.append(origin[k])
    return out, out_origin


def _atom(node) -> str:
    return ast.unparse(node)


def _index_expr(node) -> str:
    """Source of an index usable as a value (``a[1:2, i]`` -> ``(slice(1, 2, None), i)``)."""
    if isinstance(node, ast.Slice):
        parts = [_atom(p) if p is not None else "None" for p in (node.lower, node.upper, node.step)]
        return f"slice({', '.join(parts)})"
    if isinstance(node, ast.Tuple):
        inner = ", ".join(_index_expr(e) for e in node.elts)
        return f"({inner},)" if inner else "()"  # (h[()]: the item of a 0-d array)
    return _atom(node)


def _names_in(node) -> list:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


class CodeWriter:
    """What both code generators share: constants bound as closure cells, global guards,
    and questions about atoms (active? a real scalar? a module?).

    Subclasses set ``a`` (the Analysis), ``resolve``, ``local``, ``used_names``,
    ``constants``, ``const_ids`` and ``guards``."""

    def unused(self, name: str) -> str:
        """``name``, or ``name_``, ``name__`` ... if taken; reserved from now on."""
        while name in self.used_names:
            name += "_"
        self.used_names.add(name)
        return name

    def const(self, value, stem="_K") -> str:
        key = id(value)
        name = self.const_ids.get(key)
        if name is None:
            name = self.unused(f"{stem}{len(self.constants)}")
            self.constants[name] = value
            self.const_ids[key] = name
        return name

    def is_active(self, node) -> bool:
        return isinstance(node, ast.Name) and node.id in self.a.active

    def is_scalar(self, node) -> bool:
        if isinstance(node, ast.Constant):
            return type(node.value) in (int, float, bool)
        return isinstance(node, ast.Name) and node.id in self.a.scalar

    def resolve_global(self, name):
        return None if name in self.local else self.resolve(name)

    def callee(self, func):
        return resolve_callee(func, self.resolve_global)

    def guard(self, func_node) -> None:
        """Inline code relies on a global's transform-time value: check it at entry."""
        base = func_node.id if isinstance(func_node, ast.Name) else func_node.value.id
        if base not in self.guards:
            self.guards[base] = self.const(self.resolve_global(base), "_G")

    def _is_module(self, node) -> bool:
        if not isinstance(node, ast.Name):
            return False
        value = self.resolve_global(node.id)
        return value is not None and type(value).__name__ == "module"


class Generator(ArrayStatements, CodeWriter):
    def __init__(self, fn: ast.FunctionDef, analysis: Analysis, resolve, filename, source_lines,
                 rules, nondifferentiable, recursion=None):
        self.fn = fn
        self.a = analysis
        self.resolve = resolve
        self.filename = filename
        self.source_lines = source_lines
        self.rules = rules
        self.is_nondiff = nondifferentiable
        self.needed: set = set()
        self.counter = 0
        self.constants: dict = {}
        self.const_ids: dict = {}
        self.guards: dict = {}  # global name -> constant name
        self.used_names = set(_names_in(fn)) | set(analysis.params) | set(analysis.free) | RESERVED
        self.local = (set(analysis.params) | analysis.assigned
                      | (set(analysis.free) - analysis.known_free))
        self.loop_depth = 0
        self.extra_loop_assigned: set = set()
        self.adjoint_names: dict = {}
        self.nonlocals: set = set()  # free variables this function writes
        # scalar temporaries of normalization, assigned once and read once, right after:
        # their adjoint is written once and read once, with no accumulation
        loads: dict = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                loads[node.id] = loads.get(node.id, 0) + 1
        self.loads = loads
        candidates = {
            n for n in analysis.scalar & analysis.active
            if n.startswith("_t") and analysis.assign_count.get(n) == 1 and loads.get(n) == 1
        }
        # array temporaries, assigned once and read once: the ones an operator made and an
        # operator reads become ghosts after that read (runtime/shadows.py, "ghosts")
        self.temporaries = {
            n for n in analysis.active - analysis.scalar
            if n.startswith("_t") and analysis.assign_count.get(n) == 1 and loads.get(n) == 1
        }
        self.made_by: dict = {}  # temporary -> pullback name of the operator that made it
        # `t = [s1, s2]; y = np.array(t)`: a list of real numbers packed into an array; the
        # items' cotangents are the array cotangent's items (temporary t -> its items)
        literals = {
            node.targets[0].id: node.value for node in ast.walk(fn)
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in self.temporaries
            and isinstance(node.value, (ast.List, ast.Tuple)) and node.value.elts
            and all(self.is_scalar(e) for e in node.value.elts)}
        self.packed = {}
        for node in ast.walk(fn):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and len(node.value.args) == 1 and not node.value.keywords
                    and isinstance(node.value.args[0], ast.Name)
                    and node.value.args[0].id in literals
                    and self.callee(node.value.func) in (np.array, np.asarray)):
                self.packed[node.value.args[0].id] = literals[node.value.args[0].id].elts
        self.general_only: set = set()  # temporaries of array statements (transform/arrays.py)
        self.lean_records: list = []  # their lean paths (arrays.LeanRecord)
        # temporary -> (container, index, their names) of the item read that made it, while
        # neither is rebound: cotangents of the item go to the container's shadow directly
        self.item_of: dict = {}
        # ... and only where that read's adjoint is written unconditionally (inline)
        self.single_use = set()
        for node in ast.walk(fn):
            if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in analysis.active):
                reads = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                if reads & candidates and self._inline_scalar(node.targets[0].id, node.value):
                    self.single_use |= reads & candidates
        defs = [n for n in ast.walk(fn) if isinstance(n, ast.FunctionDef) and n is not fn]
        assigned_otherwise = {t for t, c in analysis.assign_count.items()
                              if c > sum(1 for d in defs if d.name == t)}
        self.local_closures = {d.name: self.captured(d) for d in defs
                               if d.name not in assigned_otherwise}
        self.closure_writes = {
            d.name: sorted({n for st in ast.walk(d) if isinstance(st, ast.Nonlocal)
                            for n in st.names if n in self.a.active})
            for d in defs if d.name in self.local_closures}
        from pygote.transform.forward import tangent_candidates

        for d in defs:  # tangent code: a closure writing `total` writes its tangent `_dtotal`
            writes = set(self.closure_writes.get(d.name, ()))
            caps = set(self.captured(d))
            grown = True
            while writes and grown:  # (and `_dtotal_`, `_d_dtotal`... at higher levels)
                more = {c for n in writes for c in tangent_candidates(n) if c in caps}
                grown = not more <= writes
                writes |= more
            if writes:
                self.closure_writes[d.name] = sorted(writes)
        # captured variable -> a local def capturing it (every def of this frame that
        # captures a variable shares its one cell)
        self.cell_holder = {}
        for d in defs:
            if d.name in self.local_closures:
                for name in self.local_closures[d.name]:
                    self.cell_holder.setdefault(name, d.name)
        for node in ast.walk(fn):  # `g = _lambda_1`: the lambda under its user's name
            if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in self.local_closures
                    and analysis.assign_count.get(node.targets[0].id) == 1):
                self.local_closures[node.targets[0].id] = self.local_closures[node.value.id]
                self.closure_writes[node.targets[0].id] = self.closure_writes[node.value.id]
        # names read by the backward pass; `del` of them is skipped (approximated by all
        # names the function reads, since the backward is generated in the same sweep)
        self.needed_later = set(_names_in(fn))
        self.declared_adjoints: dict = {}  # adjoint name -> "scalar"|"value"
        self.try_depth = 0  # inside a try body, loops track how far their last pass got
        self.recursion = recursion  # see generate()
        self.self_cells = ()

    # ------------------------------------------------------------ naming

    def fresh(self, stem: str) -> str:
        while True:
            self.counter += 1
            name = f"_{stem}{self.counter}"
            if name not in self.used_names:
                self.used_names.add(name)
                if stem in _FORWARD_STEMS:  # forward variables the backward may read
                    self.local.add(name)
                return name

    def adj(self, name: str) -> str:
        d = self.adjoint_names.get(name)
        if d is None:
            d = self.adjoint_names[name] = self.unused(f"_d{name}")
            self.declared_adjoints[d] = "scalar" if name in self.a.scalar else "value"
        return d

    def _inline_scalar(self, y, value) -> bool:
        """Whether ``y = value`` gets inline scalar adjoints (see a_BinOp and friends)."""
        if y not in self.a.scalar:
            return False
        if isinstance(value, ast.Name):
            return True
        if isinstance(value, ast.BinOp):
            return _OP_SYMBOLS[type(value.op)] in ("+", "-", "*", "/", "**") and \
                self.is_scalar(value.left) and self.is_scalar(value.right)
        if isinstance(value, ast.UnaryOp):
            return isinstance(value.op, (ast.USub, ast.UAdd)) and self.is_scalar(value.operand)
        if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords:
            func = self.callee(value.func)
            name = getattr(func, "__name__", None)
            return (name in SCALAR_TEMPLATES and _is_template_function(func, name)
                    and self.is_scalar(value.args[0]))
        return False

    def need(self, *names):
        for n in names:
            if n in self.local:
                self.needed.add(n)

    def need_atoms(self, node):
        self.need(*_names_in(node))

    def mark_loop_assigned(self, name):
        if self.loop_depth:
            self.extra_loop_assigned.add(name)

    # ------------------------------------------------------------ blocks

    def block(self, stmts) -> tuple[_Lines, _Lines]:
        fwd, parts = _Lines(), []
        i = 0
        while i < len(stmts):
            end = self.array_statement_end(stmts, i)
            if end is not None:  # NumPy arithmetic: a lean path beside the general one
                f, b = self.array_statement(stmts[i:end])
                i = end
            else:
                f, b = self.statement(stmts[i])
                i += 1
            fwd.extend(f, 0)
            parts.append(b)
        bwd = _Lines()
        for b in reversed(parts):
            bwd.extend(b, 0)
        return fwd, bwd

    def statement(self, s) -> tuple[_Lines, _Lines]:
        method = getattr(self, "s_" + type(s).__name__, None)
        if method is None:
            raise DifferentiationError(
                f"pygote cannot differentiate a {type(s).__name__} statement "
                f"({where(self.filename, s.lineno, self.fn.name)}): this construct is not "
                "supported yet; move it into a function marked pg.nondifferentiable if it "
                "carries no gradient."
            )
        f, b = method(s)
        if self.item_of:  # item reads whose container or index this statement rebinds
            rebound = {n.id for n in ast.walk(s) if isinstance(n, ast.Name)
                       and isinstance(n.ctx, ast.Store)}
            for t in [t for t, (_, _, names) in self.item_of.items() if rebound & names]:
                del self.item_of[t]
        target = s.targets[0] if isinstance(s, ast.Assign) else \
            s.target if isinstance(s, ast.AugAssign) else None
        if isinstance(target, ast.Name) and target.id in self.cell_holder and \
                target.id in self.a.active:
            # a variable closures capture, rebound: cotangents that calls made after this
            # assignment (through a closure handed to another function, which reads the
            # cell late) left on the cell belong to the value assigned here
            y, holder = target.id, self.cell_holder[target.id]
            self.need(y, holder)
            d = self.adj(y)
            take = _Lines()
            take.add(f"{d} += _cell_ct({holder}, {y!r}) or 0.0" if y in self.a.scalar else
                     f"{d} = _acc({y}, {d}, _cell_ct({holder}, {y!r}))", s.lineno)
            b.items = take.items + b.items
        return f, b

    def plain(self, s, assigned=()) -> tuple[_Lines, _Lines]:
        """A statement that carries no gradient: run as written, restore what it overwrote."""
        f, b = _Lines(), _Lines()
        for name in assigned:
            f.push(name, s.lineno)
            self.mark_loop_assigned(name)
        for line in ast.unparse(s).splitlines():
            f.add(line, s.lineno)
        for name in assigned:
            if name in self.a.active:
                d = self.adj(name)
                b.add(f"{d} = {self.zero(name)}", s.lineno)
        for name in reversed(assigned):
            b.pop(name, s.lineno)
        return f, b

    def zero(self, name) -> str:
        return "0.0" if name in self.a.scalar else "None"

    # ------------------------------------------------------------ assignments

    def s_Assign(self, s):
        target = s.targets[0]
        if isinstance(target, ast.Subscript):
            return self.setitem(s, target)
        if isinstance(target, ast.Attribute):
            return self.setattr(s, target)
        y = target.id
        value = s.value
        if y not in self.a.active or not any(r in self.a.active for r in _names_in(value)):
            if (isinstance(value, ast.Call) and y not in self.a.active
                    and self.call_is_active(value) and not self.pure_callee(value)):
                pass  # an active call whose result is unused still runs its pullback
            else:
                return self.plain(s, [y])
        kind = type(value).__name__
        return getattr(self, "a_" + kind)(s, y, value)

    def pure_callee(self, call) -> bool:
        """A callee known to write nothing: a primitive with a rule (its result unused, its
        call needs no adjoint)."""
        func = self.callee(call.func)
        if any(k.arg in ("out", None) for k in call.keywords):  # out= writes (or may)
            return False
        try:
            return func is not None and func in self.rules
        except TypeError:
            return False

    def numbers_only(self, call) -> bool:
        """A call of a global function (or a module's) whose active arguments are all real
        numbers."""
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in self.local or self.resolve_global(func.id) is None:
                return False
        elif not (isinstance(func, ast.Attribute) and self._is_module(func.value)):
            return False
        values = [a.value if isinstance(a, ast.Starred) else a for a in call.args]
        values += [k.value for k in call.keywords]
        return all(self.is_scalar(a) or not self.is_active(a) for a in values) and \
            not any(isinstance(a, ast.Starred) for a in call.args) and \
            all(k.arg is not None for k in call.keywords)

    def call_is_active(self, call) -> bool:
        reads = _names_in(call)
        return any(r in self.a.active for r in reads)

    def output(self, s, y, b: _Lines, needs_ans=False) -> tuple[str, str]:
        """Consume the adjoint of ``y`` and restore ``y``: returns (g expression, ans name)."""
        d = self.adj(y)
        if y in self.single_use:  # its one use wrote the adjoint afresh: read it as is
            g = d
        elif y in self.a.scalar:
            g = self.fresh("g")
            b.add(f"{g} = {d}", s.lineno)
            b.add(f"{d} = 0.0", s.lineno)
        else:
            g = self.fresh("g")
            self.need(y)
            b.add(f"{g} = _take({y}, {d})", s.lineno)
            b.add(f"{d} = None", s.lineno)
        ans = y
        if needs_ans:
            ans = self.fresh("ans")
            self.need(y)
            b.add(f"{ans} = {y}", s.lineno)
        b.pop(y, s.lineno)
        return g, ans

    def contribute(self, b, s, x_node, expr, scalar_ok=True, indent=0):
        """Add cotangent ``expr`` to the adjoint of atom ``x_node`` (if it is active)."""
        if not self.is_active(x_node):
            return
        x = x_node.id
        d = self.adj(x)
        self.need(*_IDENTIFIER.findall(expr))
        if x in self.single_use and scalar_ok:
            b.add(f"{d} = {expr}", s.lineno, indent)
        elif x in self.a.scalar and scalar_ok:
            b.add(f"{d} += {expr}", s.lineno, indent)
        elif x in self.item_of:  # an item read: straight into the container's shadow
            obj, index, names = self.item_of[x]
            self.need(x, *names)
            b.add(f"{d} = _acc_item({x}, {d}, {expr}, {obj}, {index})", s.lineno, indent)
        else:
            self.need(x)
            b.add(f"{d} = _acc({x}, {d}, {expr})", s.lineno, indent)

    def forward_assign(self, s, y, text, f: _Lines):
        f.push(y, s.lineno)
        self.mark_loop_assigned(y)
        f.add(text, s.lineno)

    def a_Name(self, s, y, value):
        f, b = _Lines(), _Lines()
        self.forward_assign(s, y, f"{y} = {value.id}", f)
        x = value.id
        if x in self.item_of and self.a.assign_count.get(y) == 1 and x != y:
            self.item_of[y] = self.item_of[x]  # `i = g[:, :H]` read under its own name
        if y not in self.a.scalar and y not in self.single_use and x != y:
            # y and x are one object: an array's gradient is in its shadow already
            d = self.adj(y)
            self.need(y)
            if self.is_active(value):
                dx = self.adj(x)
                self.need(x)
                b.add(f"{dx} = _rename_back({x}, {dx}, {y}, {d})", s.lineno)
            b.add(f"{d} = None", s.lineno)
            b.pop(y, s.lineno)
            return f, b
        g, _ = self.output(s, y, b)
        # a non-scalar y's cotangent may be None or an array: let _acc fit it
        self.contribute(b, s, value, g, scalar_ok=y in self.a.scalar)
        return f, b

    a_Constant = a_Name

    def a_BinOp(self, s, y, value):
        sym = _OP_SYMBOLS[type(value.op)]
        left, right = value.left, value.right
        if y in self.a.scalar and self.is_scalar(left) and self.is_scalar(right) and sym in "+-*/**":
            f, b = _Lines(), _Lines()
            self.forward_assign(s, y, f"{y} = {_atom(value)}", f)
            return f, self.scalar_binop(s, y, sym, left, right, b)
        return self.operator(s, y, "_binop", sym, _operator(_OP_FUNCTIONS[sym]), [left, right])

    def operator(self, s, y, helper, sym, op, operands):
        """``y = <op>(operands)``: the operator's rule for numbers and arrays, the dunder
        methods (differentiated through their source) for user classes."""
        f, b = _Lines(), _Lines()
        pb = self.fresh("pb")
        name = self.const(op, "_op")
        f.push(pb, s.lineno)
        self.mark_loop_assigned(pb)
        f.push(y, s.lineno)
        self.mark_loop_assigned(y)
        args = ", ".join(_atom(o) for o in operands)
        f.add(f"{y}, {pb} = {helper}({sym!r}, {name}, {args})", s.lineno)
        self.need(pb)
        for i, o in enumerate(operands):
            t = getattr(o, "id", None)
            if t in self.made_by and not self._reads_operand(sym, operands, i):
                f.add(self.ghost_line(t, pb), s.lineno)
        if y in self.temporaries and not self._reads_result(sym, operands):
            self.made_by[y] = pb
        g, ans = self.output(s, y, b, needs_ans=True)
        self.protocol_or_rule(b, s, pb, g, ans, op, operands)
        b.pop(pb, s.lineno)
        return f, b

    def ghost_line(self, t, pb_read, done=True) -> str:
        """``t = <its ghost>`` after its one read (see runtime/shadows.py, "ghosts");
        ``done``: that read is the general path's (the lean one leaves ``t`` to it)."""
        made = self.made_by.pop(t) if done else self.made_by[t]
        if made is MADE_BY_RULE:
            return f"{t} = _ghost_made({t}, {pb_read})"
        return f"{t} = _ghost({t}, {made}, {pb_read})"

    def _reads_operand(self, sym, operands, i) -> bool:
        """Whether the backward of operator ``sym`` reads the value of operand ``i`` (and
        not only its shape and dtype): the vjps of the other, active operands of ``*``,
        ``/`` and ``@`` do, every other operator but ``+`` and ``-`` may."""
        if sym in ("+", "-"):
            return False
        if sym in ("*", "/", "@") and len(operands) == 2:
            return self.is_active(operands[1 - i])
        return True

    def _reads_result(self, sym, operands) -> bool:
        """Whether the backward of operator ``sym`` reads its result (``/``: for an active
        divisor; ``**`` and the rest: assumed so)."""
        if sym in ("+", "-", "*", "@"):
            return False
        if sym == "/":
            return self.is_active(operands[1])
        return True

    def protocol_or_rule(self, b, s, pb, g, ans, op, operands):
        b.add(f"if {pb} is not None:", s.lineno)
        cts = self.fresh("cts")
        b.add(f"{cts}, _ = {pb}({g})", s.lineno, 1)
        for i, o in enumerate(operands):
            self.contribute(b, s, o, f"{cts}[{i}]", scalar_ok=False, indent=1)
        rule = self.rules.get(op)
        if rule is not None:
            b.add(f"elif {g} is not None:", s.lineno)
            self.rule_contributions(b, s, rule, g, ans, operands, indent=1)

    def rule_contributions(self, b, s, rule, g, ans, operands, indent=0):
        args = ", ".join(_atom(o) for o in operands)
        self.need_atoms(ast.Tuple(elts=list(operands)))
        if rule.per_arg is not None:
            for i, o in enumerate(operands):
                if self.is_active(o) and i < len(rule.per_arg) and rule.per_arg[i] is not None:
                    vjp = self.const(rule.per_arg[i], "_vjp")
                    self.contribute(b, s, o, f"{vjp}({g}, {ans}, {args})", scalar_ok=False,
                                    indent=indent)
        else:
            vjp = self.const(rule.vjp, "_vjp")
            cts = self.fresh("cts")
            b.add(f"{cts} = {vjp}({g}, {ans}, {args})", s.lineno, indent)
            for i, o in enumerate(operands):
                self.contribute(b, s, o, f"{cts}[{i}]", scalar_ok=False, indent=indent)

    def scalar_binop(self, s, y, sym, left, right, b):
        g, ans = self.output(s, y, b, needs_ans=sym in ("/", "**"))
        L, R = _atom(left), _atom(right)
        if sym == "+":
            self.contribute(b, s, left, g)
            self.contribute(b, s, right, g)
        elif sym == "-":
            self.contribute(b, s, left, g)
            self.contribute(b, s, right, f"-{g}")
        elif sym == "*":
            self.contribute(b, s, left, f"{g} * {R}")
            self.contribute(b, s, right, f"{g} * {L}")
        elif sym == "/":
            self.contribute(b, s, left, f"{g} / {R}")
            self.contribute(b, s, right, f"-{g} * {ans} / {R}")
        elif sym == "**":
            if isinstance(right, ast.Constant):
                self.contribute(b, s, left, f"{g} * {R} * {L} ** ({R} - 1)")
            else:
                self.contribute(b, s, left, f"({g} * {R} * {L} ** ({R} - 1) if {R} != 0 else 0.0)")
                self.contribute(b, s, right, f"({g} * {ans} * _log({L}) if {L} > 0 else 0.0)")
        return b

    def a_UnaryOp(self, s, y, value):
        if isinstance(value.op, ast.Not):
            return self.plain(s, [y])
        sym, fname = _UNARY[type(value.op)]
        x = value.operand
        if y in self.a.scalar and self.is_scalar(x):
            f, b = _Lines(), _Lines()
            self.forward_assign(s, y, f"{y} = {_atom(value)}", f)
            g, _ = self.output(s, y, b)
            self.contribute(b, s, x, f"-{g}" if sym == "-" else g)
            return f, b
        return self.operator(s, y, "_unop", sym, _operator(fname), [x])

    def a_Compare(self, s, y, value):
        return self.plain(s, [y])

    a_JoinedStr = a_Compare
    a_Set = a_Compare

    def a_Call(self, s, y, call):
        func = call.func
        resolved = self.callee(func)
        if y not in self.a.active and self.numbers_only(call):
            # a result nobody differentiates, of a call that can write into none of its
            # arguments (real numbers): its backward would add nothing (and could make
            # NaN of 0 * inf where the result overflowed)
            return self.plain(s, [y])
        if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in self.packed \
                and resolved in (np.array, np.asarray):
            return self.packed_array(s, y, call, self.packed[call.args[0].id])
        if resolved is not None and _safe(self.is_nondiff, resolved):
            return self.plain(s, [y])
        name = getattr(resolved, "__name__", None)
        if (resolved is not None and name in SCALAR_TEMPLATES and len(call.args) == 1
                and not call.keywords and _is_template_function(resolved, name)):
            if y in self.a.scalar and self.is_scalar(call.args[0]):
                return self.scalar_call(s, y, call, name)
            if resolved is getattr(math, name, None) and not isinstance(call.args[0], ast.Starred):
                # math's functions return a float whatever real number they get (the
                # result of a recursive call, an item of a list): inline too
                return self.scalar_call(s, y, call, name)
        return self.dispatched_call(s, y, call)

    def packed_array(self, s, y, call, items):
        """``y = np.array(t)`` for ``t = [s1, s2, ...]`` of real numbers."""
        f, b = _Lines(), _Lines()
        self.guard(call.func)
        self.forward_assign(s, y, f"{y} = {_atom(call)}", f)
        if y not in self.a.active:
            b.pop(y, s.lineno)
            return f, b
        g, _ = self.output(s, y, b)
        b.add(f"if {g} is not None:", s.lineno)
        for i, e in enumerate(items):
            self.contribute(b, s, e, f"{g}[{i}]", indent=1)
        return f, b

    def scalar_call(self, s, y, call, name):
        f, b = _Lines(), _Lines()
        self.guard(call.func)
        self.forward_assign(s, y, f"{y} = {_atom(call)}", f)
        template = SCALAR_TEMPLATES[name]
        g, ans = self.output(s, y, b, needs_ans="{ans}" in template)
        x = call.args[0]
        expr = template.format(x=_atom(x), ans=ans)
        if y in self.a.scalar:
            self.contribute(b, s, x, f"{g} * {expr}")
        elif self.is_active(x):  # a float whose cotangent may be absent
            b.add(f"if {g} is not None:", s.lineno)
            self.contribute(b, s, x, f"{g} * {expr}", scalar_ok=self.is_scalar(x), indent=1)
        return f, b

    def dispatched_call(self, s, y, call):
        f, b = _Lines(), _Lines()
        pb = self.fresh("pb")
        func = call.func
        args = [_atom(a) if not isinstance(a, ast.Starred) else f"*{_atom(a.value)}"
                for a in call.args]
        kws = [f"{k.arg}={_atom(k.value)}" if k.arg else f"**{_atom(k.value)}"
               for k in call.keywords]
        if isinstance(func, ast.Attribute) and not self._is_module(func.value):
            head = f"_call_method({_atom(func.value)}, {func.attr!r}"
            receiver = [func.value]
        else:
            constant = tuple(i for i, a in enumerate(call.args) if not self.is_active(a))
            if constant and not any(isinstance(a, ast.Starred) for a in call.args):
                head = f"_call_masked({constant!r}, {_atom(func)}"  # constants by position
            else:
                head = f"_call({_atom(func)}"
            receiver = []
        inner = ", ".join([head] + args + kws) + ")"
        direct = None if receiver else self.direct_recursion(func, call, constant)
        extremum = direct is None and not receiver and self.whole_extremum(func, call, y)
        # a local closure that writes `nonlocal` variables assigns them: restore them too;
        # so may the callee a closure is handed to (``apply(add, x)``): each written
        # variable's cotangent goes to the closure's cell for the callee's backward, and
        # what the callee leaves there is taken back after it
        writes = list(self.closure_writes.get(func.id, ())) if isinstance(func, ast.Name) else []
        holders = [(func.id, n) for n in writes]
        for a in list(call.args) + [k.value for k in call.keywords]:
            a = a.value if isinstance(a, ast.Starred) else a
            if isinstance(a, ast.Name) and a.id in self.closure_writes and \
                    not (isinstance(func, ast.Name) and a.id == func.id):
                self.need(a.id)
                for n in self.closure_writes[a.id]:
                    holders.append((a.id, n))
                    if n not in writes:
                        writes.append(n)
        escaped = [(c, n) for c, n in holders if not (isinstance(func, ast.Name) and c == func.id)]
        for name in writes:
            f.push(name, s.lineno)
            self.extra_loop_assigned.add(name)  # force the push: the call reassigns it
            self.need(name)
        if direct is not None or extremum:  # this very specialization: its own forward,
            # its saved data kept here (popped after pb: pushed before it); or np.max(x) of
            # a real array: kept is True
            kept = self.fresh("own")
            f.push(kept, s.lineno)
            self.mark_loop_assigned(kept)
            self.need(kept)
        f.push(pb, s.lineno)  # popped after y: pushed before it
        if self.try_depth:
            # if the call raises, the handler's backward must not find the pullback of an
            # earlier pass of this statement (its backward would run twice)
            f.add(f"{pb} = None", s.lineno)
        f.push(y, s.lineno)
        self.mark_loop_assigned(y)
        self.mark_loop_assigned(pb)
        if direct is None and not extremum:
            f.add(f"{y}, {pb} = {inner}", s.lineno)
        else:
            # (both start as None: the code that follows sets only one; in a loop or a try
            # body, the other may hold an earlier pass's)
            again = self.loop_depth or self.try_depth
            if extremum:
                x = args[0]
                self.guard(func)  # (np.max called as it is: np must stay what it was)
                f.add(f"if type({x}) is _ndarray and {x}.dtype.kind == 'f' and {x}.size:",
                      s.lineno)
                f.add(f"{y} = {_atom(func)}({x})", s.lineno, 1)
                f.add(f"{kept} = True", s.lineno, 1)
            else:
                check, own_forward, own_pullback = direct
                f.add(f"if {check}:", s.lineno)
                f.add(f"{y}, {kept} = {own_forward}({', '.join(args)})", s.lineno, 1)
            if again:
                f.add(f"{pb} = None", s.lineno, 1)
            f.add("else:", s.lineno)
            if again:
                f.add(f"{kept} = None", s.lineno, 1)
            f.add(f"{y}, {pb} = {inner}", s.lineno, 1)
        self.need(pb)
        try:
            rule = None if receiver else self.rules.get(self.callee(func))
        except TypeError:  # an unhashable callable
            rule = None
        if y in self.temporaries and rule is not None and rule.linear and not kws:
            self.made_by[y] = MADE_BY_RULE  # its result may become a ghost
        if y in self.a.active:
            g, ans = self.output(s, y, b, needs_ans=bool(extremum))
        else:
            g = "None"
            b.pop(y, s.lineno)
        put = set()
        for holder, name in holders:  # the closure's backward takes the variable's cotangent
            if name in put:
                continue
            put.add(name)
            d = self.adj(name)
            b.add(f"_put_cell_ct({holder}, {name!r}, {d})", s.lineno)
            b.add(f"{d} = {self.zero(name)}", s.lineno)
        cts, kwcts = self.fresh("cts"), self.fresh("kw")
        if extremum:  # (g goes to the maximum's place: no one-hot array)
            b.add(f"if {kept} is not None:", s.lineno)
            d = self.adj(call.args[0].id)
            self.need(call.args[0].id)
            b.add(f"{d} = _acc_extremum({args[0]}, {d}, {ans}, {g})", s.lineno, 1)
            b.add(f"elif {pb} is not None:", s.lineno)
        elif direct is not None:
            b.add(f"if {kept} is not None:", s.lineno)
            if self.returns_scalar() and not (y in self.a.active and y in self.a.scalar):
                g = "0.0" if g == "None" else f"({g} if {g} is not None else 0.0)"
            pulled, single = f"{own_pullback}({kept}, {g})", self.own_single()
            if single is None:
                b.add(f"{cts} = {pulled}", s.lineno, 1)
            for k, (a, p) in enumerate(zip(call.args, self.a.params)):
                if p in self.a.active:  # (an inactive parameter's cotangent is None)
                    self.contribute(b, s, a, pulled if single == k else f"{cts}[{k}]", indent=1,
                                    scalar_ok=p in self.a.scalar and self.is_scalar(a))
            if single is not None and not self.is_active(call.args[single]):
                b.add(pulled, s.lineno, 1)  # (for what it adds to shadows)
            b.add(f"elif {pb} is not None:", s.lineno)
        else:
            b.add(f"if {pb} is not None:", s.lineno)
        b.add(f"{cts}, {kwcts} = {pb}({g})", s.lineno, 1)
        positional = receiver + list(call.args)
        starred = any(isinstance(a, ast.Starred) for a in positional)
        if not starred:
            for i, a in enumerate(positional):
                self.contribute(b, s, a, f"{cts}[{i}]", scalar_ok=False, indent=1)
        else:
            k = self.fresh("k")
            b.add(f"{k} = 0", s.lineno, 1)
            for a in positional:
                if isinstance(a, ast.Starred):
                    self.need_atoms(a.value)
                    n = f"len({_atom(a.value)})"
                    self.contribute(b, s, a.value, f"tuple({cts}[{k}:{k} + {n}])", scalar_ok=False,
                                    indent=1)
                    b.add(f"{k} += {n}", s.lineno, 1)
                else:
                    self.contribute(b, s, a, f"{cts}[{k}]", scalar_ok=False, indent=1)
                    b.add(f"{k} += 1", s.lineno, 1)
        for kw in call.keywords:
            if kw.arg is None:
                self.contribute(b, s, kw.value, kwcts, scalar_ok=False, indent=1)
            elif self.is_active(kw.value):
                b.add(f"if {kwcts} is not None:", s.lineno, 1)
                self.contribute(b, s, kw.value, f"{kwcts}.get({kw.arg!r})", scalar_ok=False,
                                indent=2)
        if isinstance(func, ast.Name) and func.id in self.local_closures:
            # the closure read these variables as they are now: their cells' cotangents
            # belong to the current values
            self.need(func.id)
            for name in self.local_closures[func.id]:
                self.need(name)
                d = self.adj(name)
                expr = f"_cell_ct({func.id}, {name!r})"
                if name in self.a.scalar:
                    b.add(f"{d} += {expr} or 0.0", s.lineno)
                else:
                    b.add(f"{d} = _acc({name}, {d}, {expr})", s.lineno)
        taken = set()
        for holder, name in escaped:  # left on the cell: the value before the call's
            if name in taken:
                continue
            taken.add(name)
            self.need(name)
            d = self.adj(name)
            expr = f"_cell_ct({holder}, {name!r})"
            if name in self.a.scalar:
                b.add(f"{d} += {expr} or 0.0", s.lineno)
            else:
                b.add(f"{d} = _acc({name}, {d}, {expr})", s.lineno)
        b.pop(pb, s.lineno)
        if direct is not None or extremum:
            b.pop(kept, s.lineno)
        for name in reversed(writes):
            b.pop(name, s.lineno)
        return f, b

    def known_type(self, name, types_):
        """The type ``name`` surely has when read (None if not known): a parameter never
        rebound has the type it was specialized for; integer arithmetic gives ints."""
        params = self.a.params
        count = self.a.assign_count.get(name, 0)
        if name in params:
            return types_[params.index(name)] if not count else None
        if count != 1:
            return None
        value = next((node.value for node in _own_scope(self.fn)
                      if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                      and node.targets[0].id == name), None)
        if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub, ast.Mult,
                                                                  ast.FloorDiv, ast.Mod)):
            kinds = [type(v.value) if isinstance(v, ast.Constant) else
                     self.known_type(v.id, types_) if isinstance(v, ast.Name) else None
                     for v in (value.left, value.right)]
            if all(k in (int, bool) for k in kinds):
                return int
        return None

    def direct_recursion(self, func, call, constant):
        """``(run-time check, own forward, own backward)`` when ``call`` may call this
        very specialization (see generate()), else None."""
        if self.recursion is None or call.keywords or not isinstance(func, ast.Name):
            return None
        function, types_, own_constant = self.recursion
        if self.callee(func) is not function or len(call.args) != len(types_) or \
                any(isinstance(a, ast.Starred) for a in call.args):
            return None
        # positions without a gradient: as the caller knows them, and integers
        site_constant = set(constant) | {i for i, t in enumerate(types_) if t in (int, bool)}
        if site_constant != set(own_constant):
            return None
        # (checked at the call: the code before it may have rebound the name)
        checks = [f"{func.id} is {self.const(function, '_G')}"]
        for a, t in zip(call.args, types_):
            if isinstance(a, ast.Constant):
                if type(a.value) is not t:
                    return None
                continue
            if self.known_type(a.id, types_) is t:
                continue
            name = t.__name__ if t in (float, int, bool, complex) else self.const(t, "_T")
            checks.append(f"type({_atom(a)}) is {name}")
        if not self.self_cells:
            self.self_cells = (self.const(_OwnForward, "_own_forward"),
                               self.const(_OwnPullback, "_own_pullback"))
        return " and ".join(checks), *self.self_cells

    def whole_extremum(self, func, call, y) -> bool:
        """Whether ``y = np.max(x)`` (or min) of one active variable, whose cotangent may
        go to x's maximum's place alone (rules/numpy_reductions.acc_extremum) when x is
        a real array at run time."""
        from pygote.rules.numpy_reductions import WHOLE_EXTREMA

        if (call.keywords or len(call.args) != 1 or not isinstance(call.args[0], ast.Name)
                or not self.is_active(call.args[0]) or y not in self.a.active
                or call.args[0].id in self.a.scalar):
            return False
        try:
            return self.callee(func) in WHOLE_EXTREMA
        except TypeError:
            return False

    def returns_scalar(self):
        """Whether this function ends by returning a number (its pullback's ``_dret``
        is then a number, never None: see generate())."""
        ret = self.fn.body[-1] if self.fn.body else None
        return (isinstance(ret, ast.Return) and isinstance(ret.value, ast.Name)
                and ret.value.id in self.a.active and ret.value.id in self.a.scalar)

    def own_single(self):
        """Position of the one active parameter, whose cotangent a direct recursive call's
        pullback returns bare; None when it returns all parameters' as a tuple."""
        active = [k for k, p in enumerate(self.a.params) if p in self.a.active]
        return active[0] if len(active) == 1 else None

    def a_Attribute(self, s, y, value):
        f, b = _Lines(), _Lines()
        rec = self.fresh("rec")
        obj = _atom(value.value)
        f.push(rec, s.lineno)
        f.push(y, s.lineno)
        self.mark_loop_assigned(y)
        self.mark_loop_assigned(rec)
        f.add(f"{y}, {rec} = _getattr({obj}, {value.attr!r})", s.lineno)
        g, _ = self.output(s, y, b)
        self.need(rec)
        self.need_atoms(value.value)
        if self.is_active(value.value):
            d = self.adj(value.value.id)
            b.add(f"{d} = _acc_attr({obj}, {d}, {value.attr!r}, {g}, {rec})", s.lineno)
        b.pop(rec, s.lineno)
        return f, b

    def a_Subscript(self, s, y, value):
        if y in self.a.scalar:  # an item of a float64 vector (analysis: real_vectors)
            f, b = _Lines(), _Lines()
            self.forward_assign(s, y, f"{y} = {_atom(value)}", f)
            g, _ = self.output(s, y, b)
            if self.is_active(value.value):
                obj = value.value.id
                self.need(obj)
                b.add(f"_add_items({obj}, ({value.slice.value},), ({g},))", s.lineno)
            return f, b
        f, b = _Lines(), _Lines()
        rec = self.fresh("rec")
        obj = _atom(value.value)
        index = _index_expr(value.slice)
        f.push(rec, s.lineno)
        f.push(y, s.lineno)
        self.mark_loop_assigned(y)
        self.mark_loop_assigned(rec)
        f.add(f"{y}, {rec} = _getitem({obj}, {index})", s.lineno)
        self.need(rec)
        self.need_atoms(value.value)
        self.need_atoms(value.slice)
        if y in self.temporaries and y not in _names_in(value):
            self.item_of[y] = (obj, index, set(_names_in(value)))
        if (self.is_active(value.value) and y not in self.a.scalar and y not in self.single_use
                and y not in _names_in(value)):
            # one helper takes y's cotangent and adds it into the container's (for a view
            # of an array nothing moves: it is in the array's shadow already)
            d, dx = self.adj(y), self.adj(value.value.id)
            self.need(y)
            b.add(f"{dx} = _getitem_back({obj}, {dx}, {index}, {y}, {d}, {rec})", s.lineno)
            b.add(f"{d} = None", s.lineno)
            b.pop(y, s.lineno)
            b.pop(rec, s.lineno)
            return f, b
        g, _ = self.output(s, y, b)
        if self.is_active(value.value):
            d = self.adj(value.value.id)
            b.add(f"{d} = _acc_getitem({obj}, {d}, {index}, {g}, {rec})", s.lineno)
        b.pop(rec, s.lineno)
        return f, b

    def a_Tuple(self, s, y, value):
        f, b = _Lines(), _Lines()
        self.forward_assign(s, y, f"{y} = {_atom(value)}", f)
        if y in self.packed:  # read once, by np.array: see a_Call
            b.pop(y, s.lineno)
            return f, b
        elts = value.elts
        if isinstance(value, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in elts) \
                and y not in self.a.scalar:
            # a tuple is a value: its adjoint holds its items' cotangents (those of arrays
            # and other mutable items are in their shadows, where they stay)
            g = self.adj(y)
            if any(self.is_active(e) for e in elts):
                b.add(f"if {g} is not None:", s.lineno)
                for i, e in enumerate(elts):
                    self.contribute(b, s, e, f"{g}[{i}]", scalar_ok=False, indent=1)
            b.add(f"{g} = None", s.lineno)
            b.pop(y, s.lineno)
            return f, b
        g, _ = self.output(s, y, b)
        if any(isinstance(e, ast.Starred) for e in elts):
            b.add(f"if {g} is not None:", s.lineno)
            k = self.fresh("k")
            b.add(f"{k} = 0", s.lineno, 1)
            for e in elts:
                if isinstance(e, ast.Starred):
                    self.need_atoms(e.value)
                    n = f"len({_atom(e.value)})"
                    self.contribute(b, s, e.value, f"type({_atom(e.value)})({g}[{k}:{k} + {n}]) "
                                    f"if isinstance({_atom(e.value)}, (list, tuple)) else None",
                                    scalar_ok=False, indent=1)
                    b.add(f"{k} += {n}", s.lineno, 1)
                else:
                    self.contribute(b, s, e, f"{g}[{k}]", scalar_ok=False, indent=1)
                    b.add(f"{k} += 1", s.lineno, 1)
            return f, b
        if any(self.is_active(e) for e in elts):
            b.add(f"if {g} is not None:", s.lineno)
            for i, e in enumerate(elts):
                self.contribute(b, s, e, f"{g}[{i}]", scalar_ok=False, indent=1)
        return f, b

    a_List = a_Tuple

    def a_Dict(self, s, y, value):
        f, b = _Lines(), _Lines()
        self.forward_assign(s, y, f"{y} = {_atom(value)}", f)
        g, _ = self.output(s, y, b)
        b.add(f"if {g} is not None:", s.lineno)
        b.add("pass", s.lineno, 1)
        for k, v in zip(value.keys, value.values):
            if k is None:
                self.contribute(b, s, v, g, scalar_ok=False, indent=1)
            else:
                self.need_atoms(k)
                self.contribute(b, s, v, f"{g}.get({_atom(k)})", scalar_ok=False, indent=1)
        return f, b

    def setitem(self, s, target):
        obj = target.value
        if not self.is_active(obj):
            return self.plain(s)
        f, b = _Lines(), _Lines()
        rec = self.fresh("old")
        index = _index_expr(target.slice)
        self.mark_loop_assigned(rec)
        f.push(rec, s.lineno)
        f.add(f"{rec} = _setitem({_atom(obj)}, {index}, {_atom(s.value)})", s.lineno)
        t = getattr(s.value, "id", None)
        if t in self.made_by:
            made = self.made_by.pop(t)  # (a linear rule's result: no pullback to consult)
            made = "None" if made is MADE_BY_RULE else made
            f.add(f"{t} = _ghost_written({t}, {made}, {_atom(obj)})", s.lineno)
        self.need(rec)
        self.need_atoms(target)
        self.need_atoms(s.value)
        g = self.fresh("g")
        b.add(f"{g} = _setitem_back({_atom(obj)}, {index}, {_atom(s.value)}, {rec})", s.lineno)
        self.contribute(b, s, s.value, g, scalar_ok=False)
        b.pop(rec, s.lineno)
        return f, b

    def setattr(self, s, target):
        obj = target.value
        if not self.is_active(obj):
            return self.plain(s)
        f, b = _Lines(), _Lines()
        rec = self.fresh("old")
        self.mark_loop_assigned(rec)
        f.push(rec, s.lineno)
        f.add(f"{rec} = _setattr({_atom(obj)}, {target.attr!r}, {_atom(s.value)})", s.lineno)
        self.need(rec)
        self.need_atoms(obj)
        self.need_atoms(s.value)
        g = self.fresh("g")
        b.add(f"{g} = _setattr_back({_atom(obj)}, {target.attr!r}, {rec})", s.lineno)
        self.contribute(b, s, s.value, g, scalar_ok=False)
        b.pop(rec, s.lineno)
        return f, b

    def s_AugAssign(self, s):
        target = s.target
        if not isinstance(target, ast.Name):
            raise DifferentiationError(
                f"internal: augmented assignment to {ast.unparse(target)} was not normalized "
                f"({where(self.filename, s.lineno, self.fn.name)})")
        y = target.id
        sym = _OP_SYMBOLS[type(s.op)]
        if y not in self.a.active:
            return self.plain(s, [y])
        if y in self.a.scalar and self.is_scalar(s.value) and sym in ("+", "-", "*", "/", "**"):
            binop = ast.BinOp(left=ast.Name(y, ast.Load()), op=s.op, right=s.value)
            return self.a_BinOp(s, y, binop)
        f, b = _Lines(), _Lines()
        rec = self.fresh("aug")
        v = _atom(s.value)
        f.push(rec, s.lineno)
        f.push(y, s.lineno)
        self.mark_loop_assigned(y)
        self.mark_loop_assigned(rec)
        f.add(f"{y}, {rec} = _augassign({sym!r}, {y}, {v})", s.lineno)
        self.need(y, rec)
        self.need_atoms(s.value)
        d = self.adj(y)
        g = self.fresh("g")
        b.add(f"{d}, {g} = _augassign_back({rec}, {y}, {v}, {d})", s.lineno)
        b.pop(y, s.lineno)
        self.contribute(b, s, s.value, g, scalar_ok=False)
        b.pop(rec, s.lineno)
        return f, b

    # ------------------------------------------------------------ control flow

    def s_If(self, s):
        f, b = _Lines(), _Lines()
        test = _atom(s.test)
        if isinstance(s.test, ast.Name) and _assigns(s.body + s.orelse, s.test.id):
            # `c = a; if c: c = b` (from `a and b`): the backward needs the decision, not
            # the value c ends up with
            branch = self.fresh("branch")
            f.push(branch, s.lineno)
            self.mark_loop_assigned(branch)
            f.add(f"{branch} = {test}", s.lineno)
            b_tail = _Lines()
            b_tail.pop(branch, s.lineno)
            test = branch
            self.need(branch)
        else:
            b_tail = None
            self.need_atoms(s.test)
        f_then, b_then = self.block(s.body)
        f_else, b_else = self.block(s.orelse)
        f.add(f"if {test}:", s.lineno)
        f.extend(f_then) if f_then.items else f.add("pass", s.lineno, 1)
        if f_else.items:
            f.add("else:", s.lineno)
            f.extend(f_else)
        if not b_then.items and not b_else.items:
            if b_tail is not None:
                b.extend(b_tail, 0)
            return f, b  # `if flag: break` and other branches with nothing to undo
        b.add(f"if {test}:", s.lineno)
        b.extend(b_then) if b_then.items else b.add("pass", s.lineno, 1)
        if b_else.items:
            b.add("else:", s.lineno)
            b.extend(b_else)
        if b_tail is not None:
            b.extend(b_tail, 0)
        return f, b

    def loop_body(self, s, body, n, i, f, b):
        """The body of a loop: forward into ``f``, backward (run for iteration ``i`` of
        ``n``) into ``b``. Inside a ``try`` body an exception may stop the last iteration
        partway: a progress variable then records how far it got, and the backward of that
        iteration runs only the statements that ran."""
        if not self.try_depth:
            f_body, b_body = self.block(body)
            f.extend(f_body)
            b.extend(b_body) if b_body.items else b.add("pass", s.lineno, 1)
            return
        progress = self.fresh("prog")
        self.local.add(progress)
        self.need(progress)
        self.needed.add(progress)
        header = max(k for k, item in enumerate(f.items)
                     if item[0] == 0 and (item[1].startswith("for ") or item[1].startswith("while ")))
        f.items[header:header] = [("PUSH", progress, s.lineno, 0), (0, f"{progress} = 0", s.lineno)]
        parts = []
        f.add(f"{progress} = 0", s.lineno, 1)
        for k, stmt in enumerate(body, 1):
            fs, bs = self.statement(stmt)
            f.extend(fs)
            f.add(f"{progress} = {k}", stmt.lineno, 1)
            parts.append((k, bs, stmt.lineno))
        for k, bs, lineno in reversed(parts):
            if bs.items:
                b.add(f"if {i} != {n} - 1 or {progress} >= {k - 1}:", lineno, 1)
                b.extend(bs, 2)
        if not any(bs.items for _, bs, _ in parts):
            b.add("pass", s.lineno, 1)
        self.extra_loop_assigned.add(progress)
        return progress

    def loop_counter(self, s, f, b_after):
        n = self.fresh("n")
        f.push(n, s.lineno)
        if self.loop_depth:
            self.extra_loop_assigned.add(n)
        f.add(f"{n} = 0", s.lineno)
        self.need(n)
        self.local.add(n)
        self.needed.add(n)
        b_after.pop(n, s.lineno)
        return n

    def s_For(self, s):
        f, b = _Lines(), _Lines()
        x = s.target.id
        it = s.iter
        b_after = _Lines()
        n = self.loop_counter(s, f, b_after)
        element_active = x in self.a.active and self.is_active(it)
        seq = _atom(it)
        if element_active and it.id in self.a.float_sequences:
            seq, iter_pb = it.id, None  # a list or tuple of floats: walked as it is
            self.need(seq)
        elif element_active:
            seq, iter_pb = self.fresh("seq"), self.fresh("pb")
            f.push(iter_pb, s.lineno)
            f.push(seq, s.lineno)
            self.mark_loop_assigned(seq)
            self.mark_loop_assigned(iter_pb)
            f.add(f"{seq}, {iter_pb} = _iterate({_atom(it)})", s.lineno)
            self.need(seq, iter_pb)
            self.need_atoms(it)
        item = self.fresh("item")
        # (enumerate counts the passes; `for n, x in ...` when x's old value is not
        # pushed: see _direct_loop_targets)
        f.add(f"for {n}, {item} in enumerate({seq}, 1):", s.lineno)
        self.loop_depth += 1
        self.extra_loop_assigned.add(x)
        f.push(x, s.lineno, 1)
        f.add(f"{x} = {item}", s.lineno, 1)
        i = self.fresh("i")
        b.add(f"for {i} in range({n} - 1, -1, -1):", s.lineno)
        progress = self.loop_body(s, s.body, n, i, f, b)
        self.loop_depth -= 1
        if progress is not None:  # pushed after the counter: popped before it
            b_after.items.insert(0, ("POP", progress, s.lineno, 0))
        elements = None
        if element_active and x in self.a.scalar:
            # scalar elements: their cotangents gather in a local list, added once
            d = self.adj(x)
            elements = self.fresh("el")
            b.items.insert(0, (0, f"{elements} = [0.0] * len({seq})", s.lineno))
            b.add(f"{elements}[{i}] += {d}", s.lineno, 1)
            b.add(f"{d} = 0.0", s.lineno, 1)
        elif element_active:
            d = self.adj(x)
            dit = self.adj(it.id)
            self.need(x)
            b.add(f"{dit} = _acc_getitem({seq}, {dit}, {i}, _take({x}, {d}))", s.lineno, 1)
            b.add(f"{d} = {self.zero(x)}", s.lineno, 1)
        elif x in self.a.active:
            b.add(f"{self.adj(x)} = {self.zero(x)}", s.lineno, 1)
        b.pop(x, s.lineno, 1)
        if element_active:
            dit = self.adj(it.id)
            if elements is not None:
                b.add(f"{dit} = _acc({seq}, {dit}, {elements})", s.lineno)
            if iter_pb is not None:
                b.add(f"if {iter_pb} is not None:", s.lineno)  # a user class's __iter__
                b.add(f"{dit} = _acc({_atom(it)}, {dit}, {iter_pb}(_take({seq}, None))[0][0])",
                      s.lineno, 1)
                b.pop(seq, s.lineno)
                b.pop(iter_pb, s.lineno)
        b.extend(b_after, 0)
        return f, b

    def s_While(self, s):
        f, b = _Lines(), _Lines()
        b_after = _Lines()
        n = self.loop_counter(s, f, b_after)
        test = _atom(s.test)
        f.add(f"while {test}:", s.lineno)
        f.add(f"{n} += 1", s.lineno, 1)
        self.loop_depth += 1
        i = self.fresh("i")
        b.add(f"for {i} in range({n} - 1, -1, -1):", s.lineno)
        progress = self.loop_body(s, s.body, n, i, f, b)
        self.loop_depth -= 1
        if progress is not None:  # pushed after the counter: popped before it
            b_after.items.insert(0, ("POP", progress, s.lineno, 0))
        b.extend(b_after, 0)
        return f, b

    def s_Break(self, s):
        f = _Lines()
        f.add("break", s.lineno)
        return f, _Lines()

    def s_Pass(self, s):
        return _Lines(), _Lines()

    def s_Return(self, s):
        raise AssertionError("return is handled by generate()")

    def s_Expr(self, s):
        return self.plain(s)

    def s_Global(self, s):
        for name in s.names:
            if name in self.a.active:
                raise DifferentiationError(
                    f"pygote cannot differentiate a write of the global {name!r} "
                    f"({where(self.filename, s.lineno, self.fn.name)}): gradients cannot "
                    f"flow through module globals. Pass {name} as an argument and return "
                    "the new value instead.")
        return self.plain(s)

    def s_Nonlocal(self, s):
        self.nonlocals.update(s.names)
        return self.plain(s)

    def s_Import(self, s):
        names = [(a.asname or a.name).split(".")[0] for a in s.names]
        return self.plain(s, names)

    s_ImportFrom = s_Import

    def s_Delete(self, s):
        f, b = _Lines(), _Lines()
        for target in s.targets:
            if isinstance(target, ast.Subscript) and self.is_active(target.value):
                rec = self.fresh("old")
                index = _index_expr(target.slice)
                obj = _atom(target.value)
                self.mark_loop_assigned(rec)
                f.push(rec, s.lineno)
                f.add(f"{rec} = _delitem({obj}, {index})", s.lineno)
                self.need(rec)
                self.need_atoms(target)
                b.items[:0] = [(0, f"_delitem_back({obj}, {index}, {rec})", s.lineno),
                               ("POP", rec, s.lineno, 0)]
            elif isinstance(target, ast.Name) and target.id in self.needed_later:
                continue  # the backward pass reads it: keep it alive
            else:
                f.add(f"del {ast.unparse(target)}", s.lineno)
        return f, b

    def s_Raise(self, s):
        return self.plain(s)

    def s_ClassDef(self, s):
        return self.plain(s, [s.name])

    def captured(self, node) -> list:
        """Active variables of this function that nested def ``node`` reads."""
        inner = set(_names_in(node)) - {a.arg for a in node.args.args + node.args.kwonlyargs}
        return sorted(n for n in inner if n in self.a.active and n != node.name)

    def s_FunctionDef(self, s):
        f, b = self.plain(s, [s.name])
        defaults_lines = _Lines()
        for k, default in enumerate(s.args.defaults):  # computed here, read by calls
            if self.is_active(default):
                self.need(s.name, default.id)
                d = self.adj(default.id)
                defaults_lines.add(f"{d} = _acc({default.id}, {d}, _default_ct({s.name}, {k}))",
                                   s.lineno)
        b.items = defaults_lines.items + b.items
        captured = self.captured(s)
        if captured:
            self.need(s.name)
            cell_lines = _Lines()
            for name in captured:
                self.need(name)
                d = self.adj(name)
                cell_lines.add(f"{d} = _acc({name}, {d}, _cell_ct({s.name}, {name!r}))"
                               if name not in self.a.scalar else
                               f"{d} += _cell_ct({s.name}, {name!r}) or 0.0", s.lineno)
            # the cells' cotangents are taken before the name is restored
            items = b.items
            b.items = cell_lines.items + items
        return f, b

    def s_Try(self, s):
        f, b = _Lines(), _Lines()
        progress = self.fresh("try")
        handler = self.fresh("exc")
        for v in (progress, handler):
            self.local.add(v)
            f.push(v, s.lineno)
            self.mark_loop_assigned(v)
            self.need(v)
        f.add(f"{progress} = 0", s.lineno)
        f.add(f"{handler} = 0", s.lineno)
        f.add("try:", s.lineno)
        body_bwd = []
        self.try_depth += 1
        for k, stmt in enumerate(s.body, 1):
            fs, bs = self.statement(stmt)
            f.extend(fs)
            f.add(f"{progress} = {k}", stmt.lineno, 1)
            body_bwd.append((k, bs, stmt.lineno))
        self.try_depth -= 1
        handlers_bwd = []
        for j, h in enumerate(s.handlers, 1):
            head = "except" + (f" {_atom(h.type)}" if h.type else "") + (f" as {h.name}" if h.name else "")
            f.add(head + ":", h.lineno)
            f.add(f"{handler} = {j}", h.lineno, 1)
            fh, bh = self.block(h.body)
            f.extend(fh)
            handlers_bwd.append((j, bh, h.lineno))
        if s.orelse:
            f.add("else:", s.lineno)
            fe, be = self.block(s.orelse)
            f.extend(fe) if fe.items else f.add("pass", s.lineno, 1)
        else:
            be = _Lines()
        if s.finalbody:
            f.add("finally:", s.lineno)
            ff, bf = self.block(s.finalbody)
            f.extend(ff) if ff.items else f.add("pass", s.lineno, 1)
        else:
            bf = _Lines()
        b.extend(bf, 0)
        if be.items:
            b.add(f"if {handler} == 0:", s.lineno)
            b.extend(be)
        for j, bh, lineno in handlers_bwd:
            if bh.items:
                b.add(f"if {handler} == {j}:", lineno)
                b.extend(bh)
        for k, bs, lineno in reversed(body_bwd):
            if bs.items:
                b.add(f"if {progress} >= {k if not s.handlers else k - 1}:", lineno)
                b.extend(bs)
        b.pop(handler, s.lineno)
        b.pop(progress, s.lineno)
        return f, b


def _assigns(stmts, name) -> bool:
    """Whether any of ``stmts`` (at any depth, outside nested defs) assigns ``name``."""
    for st in stmts:
        for node in ast.walk(st):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.For)) else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def _is_template_function(func, name) -> bool:
    import builtins
    import math

    return func is getattr(math, name, None) or func is getattr(builtins, name, None)


def _operator(name):
    import operator

    return getattr(operator, name)


def _safe(predicate, value) -> bool:
    try:
        return bool(predicate(value))
    except TypeError:
        return False


def _own_scope(fn):
    """The nodes of ``fn``'s body, not entering nested functions, lambdas or classes."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                 ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


_FOR_ITEM = re.compile(r"(\s*)for (_n\d+_*), (_item\d+_*) in (.+):$")


def _direct_loop_targets(text, origin):
    """``for n, _item in ...: x = _item`` -> ``for n, x in ...:`` (x's old value was not
    pushed, so nothing comes between)."""
    text, origin = list(text), list(origin)
    k = 0
    while k < len(text) - 1:
        m = _FOR_ITEM.match(text[k])
        if m:
            indent, n, item, seq = m.groups()
            first = text[k + 1].strip()
            target = first.split(" = ")[0]
            if (first == f"{target} = {item}" and _IDENTIFIER.fullmatch(target)
                    and sum(line.count(item) for line in text) == 2):
                text[k] = f"{indent}for {n}, {target} in {seq}:"
                del text[k + 1]
                del origin[k + 1]
        k += 1
    return text, origin


def lean_gradient(fn, analysis, gen, body, ret):
    """``(condition, gradient)`` sources when ``fn`` is a run of array statements, the
    last giving what it returns, and one parameter gets a gradient; else ``("", "")``.

    ``f_lean_ok(params)`` tells whether every statement's lean path runs for these
    arguments (which depends on their types and shapes alone) and the result is a number;
    ``f_lean_gradient(params)`` is then that parameter's gradient as plain NumPy
    statements: the lean forward lines, then each statement's lean backward lines, the
    last seeded with 1, each earlier one with what the later ones sent to its result
    (summed to its shape: ``_sum_to``) — code that forward mode can differentiate again:
    pg.hessian's forward over reverse (rules/higher.py)."""
    a = fn.args
    records = gen.lean_records
    if (not records or ret is None or not isinstance(ret.value, ast.Name)
            or a.vararg or a.kwarg or a.kwonlyargs or analysis.free):
        return "", ""
    k = 0
    for rec in records:  # the records tile the body
        if k >= len(body) or rec.first is not body[k]:
            return "", ""
        k += rec.length
    outputs = [rec.output for rec in records]
    if (k != len(body) or outputs[-1] != ret.value.id or len(set(outputs)) != len(outputs)
            or set(outputs) & set(analysis.params)):
        return "", ""
    sent: dict = {}  # name -> cotangent expressions sent to it
    for j, rec in enumerate(records):
        for x, _ in rec.outer:
            if x in outputs[j:] or (x not in analysis.params and x not in outputs):
                return "", ""  # (a free or global variable, or a name made later)
    wanted = {x for rec in records for x, _ in rec.outer if x in analysis.params}
    if len(wanted) != 1:
        return "", ""
    (param,) = wanted

    def renamed(text, j):
        return re.sub(r"\b_gout\b", f"_gout{j}", text)

    forward = [line for rec in records for line in rec.forward]
    backward = []
    for j in range(len(records) - 1, -1, -1):
        rec = records[j]
        if j == len(records) - 1:
            backward.append(f"_gout{j} = 1.0")
        elif rec.output in sent:
            terms = " + ".join(f"({t})" for t in sent[rec.output])
            backward.append(f"_gout{j} = _sum_to({terms}, _np.shape({rec.output}))")
        else:
            continue  # (nothing reaches it)
        backward += [renamed(line, j) for line in rec.backward]
        for x, g in rec.outer:
            sent.setdefault(x, []).append(renamed(g, j))
    result = f"_sum_to({' + '.join(f'({t})' for t in sent[param])}, _np.shape({param}))"
    live, lines = set(_IDENTIFIER.findall(result)), []
    for line in reversed(forward + backward):
        target, value = line.split(" = ", 1)
        if target in live:  # (the primal's value and what only it reads: not needed)
            lines.append(line)
            live |= set(_IDENTIFIER.findall(value))
    params = ", ".join(analysis.params)
    check = []
    for rec in records:
        check += rec.check.render(set(), 1)[0]
        check.append(f"    if not {rec.flag}:")
        check.append("        return False")
        check.append(f"    {rec.output} = {rec.view}")
    ok = "\n".join([f"def {fn.name}_lean_ok({params}):"] + check +
                    [f"    return _np.ndim({records[-1].view}) == 0"])
    grad = "\n".join([f"def {fn.name}_lean_gradient({params}):"] +
                      [f"    {line}" for line in reversed(lines)] + [f"    return {result}"])
    return ok, grad


def generate(fn: ast.FunctionDef, analysis: Analysis, resolve, filename: str, source_lines,
             rules, nondifferentiable, recursion=None) -> Generated:
    """Forward and backward source of normalized ``fn`` (see the module docstring).

    ``recursion``, when given, is ``(function, argument types, constant positions)`` of the
    specialization being generated: a call of ``function`` by its global name with
    arguments of those types and the same constant positions calls this very adjoint's
    forward and backward directly (no dispatcher, no pullback closure)."""
    gen = Generator(fn, analysis, resolve, filename, source_lines, rules, nondifferentiable,
                    recursion)
    body = list(fn.body)
    ret = body.pop() if body and isinstance(body[-1], ast.Return) else None
    f_body, b_body = gen.block(body)
    ret_value = _atom(ret.value) if ret is not None and ret.value is not None else "None"
    ret_line = ret.lineno if ret is not None else fn.lineno
    if ret is not None and isinstance(ret.value, ast.Name) and \
            ret.value.id not in analysis.scalar:  # read by the backward's first _acc
        gen.need(ret.value.id)

    if fn.args.kwarg is not None and fn.args.kwarg.arg in gen.adjoint_names:
        gen.need(fn.args.kwarg.arg)
    loop_assigned = analysis.loop_assigned | gen.extra_loop_assigned
    params = set(analysis.params)
    counts = analysis.assign_count
    pushed = {
        n for n in gen.needed
        if n in loop_assigned or counts.get(n, 0) + (n in params) > 1
    }
    needed = sorted(gen.needed - set(analysis.free))
    name = fn.name

    # ---- forward
    fwd = _Lines()
    head = f"def {name}_forward({ast.unparse(fn.args)}):"
    for g, k in gen.guards.items():
        fwd.add(f"if {g} is not {k}:", fn.lineno)
        fwd.add("_stale()", fn.lineno, 1)
    for v in sorted(analysis.real_vectors):  # specialized for float64 vectors (a plan made
        # for another kind of array may call this: another specialization then serves)
        fwd.add(f"if type({v}) is not _ndarray or {v}.ndim != 1 or {v}.dtype is not _F64:",
                fn.lineno)
        fwd.add("_stale()", fn.lineno, 1)
    if pushed:
        fwd.add("_stack = []", fn.lineno)
        fwd.add("_push = _stack.append", fn.lineno)
    # variables the return may find unassigned (set only inside branches or loops)
    surely_assigned = {t.id for st in body if isinstance(st, ast.Assign)
                       for t in st.targets if isinstance(t, ast.Name)}
    for n in needed:
        if n not in params and (n not in surely_assigned or n in pushed  # push reads it
                                or n in gen.general_only):
            fwd.add(f"{n} = None", fn.lineno)
    fwd.extend(f_body, 0)
    saved = ", ".join((["_stack"] if pushed else []) + needed)
    fwd.add(f"return {ret_value}, ({saved}{',' if saved else ''})", ret_line)

    # ---- backward
    bwd = _Lines()
    bhead = f"def {name}_backward(_saved, _dret, _dfree=None):"
    written_free = [v for v in analysis.free if v in gen.nonlocals]
    if written_free:
        bwd.add(f"nonlocal {', '.join(written_free)}", fn.lineno)
    bwd.add(f"{saved}{',' if saved else ''} = _saved" if saved else "pass", fn.lineno)
    if pushed:
        bwd.add("_rev = reversed(_stack)", fn.lineno)  # (each run of the backward
        bwd.add("_pop = _rev.__next__", fn.lineno)  # reads the stack afresh)
    body_b, own_b = _Lines(), _Lines()  # (own_b: the pullback's, see below)
    if ret is not None and isinstance(ret.value, ast.Name) and ret.value.id in analysis.active:
        if ret.value.id in analysis.scalar:  # a caller that ignores the result passes None
            body_b.add("if _dret is not None:", ret.lineno)
            gen.contribute(body_b, ret, ret.value, "_dret", indent=1)
            gen.contribute(own_b, ret, ret.value, "_dret")  # (its callers pass a number)
        else:
            gen.contribute(body_b, ret, ret.value, "_dret", scalar_ok=False)
            own_b.items = list(body_b.items)
    body_b.extend(b_body, 0)
    own_b.extend(b_body, 0)
    single_use = {gen.adjoint_names[n] for n in gen.single_use if n in gen.adjoint_names}
    for d, kind in gen.declared_adjoints.items():
        if d not in single_use:  # those are written before they are read
            bwd.add(f"{d} = {'0.0' if kind == 'scalar' else 'None'}", fn.lineno)
    for k, v in enumerate(analysis.free):
        # the caller's cotangent comes in (the dispatcher takes every cell's when the
        # function writes some): a written variable's is consumed by the backward, a read
        # one's passes through, added to what this call's reads contribute
        if written_free and v in gen.adjoint_names:
            bwd.add(f"if _dfree is not None and _dfree[{k}] is not None:", fn.lineno)
            bwd.add(f"{gen.adjoint_names[v]} = _dfree[{k}]", fn.lineno, 1)
    param_adjoints = [gen.adjoint_names.get(p, "None") for p in analysis.params]
    if fn.args.kwarg is not None and fn.args.kwarg.arg in gen.adjoint_names:
        # the **kwargs dict is made by the call: its shadow goes back by value
        kw = fn.args.kwarg.arg
        param_adjoints[-1] = f"_take({kw}, {gen.adjoint_names[kw]})"
    free_adjoints = [gen.adjoint_names.get(v, f"_dfree[{k}] if _dfree is not None else None"
                                           if written_free else "None")
                     for k, v in enumerate(analysis.free)]
    own = _Lines()  # (only recursive specializations, which have no closure: see
    own.items = list(bwd.items)  # compile._recursion)
    bwd.extend(body_b, 0)
    pa = ", ".join(param_adjoints) + ("," if len(param_adjoints) == 1 else "")
    fa = ", ".join(free_adjoints) + ("," if len(free_adjoints) == 1 else "")
    bwd.add(f"return ({pa}), ({fa})" if free_adjoints else f"return ({pa}), None", fn.lineno)

    def render_backward(lines):
        return peephole(*_drop_unused_adjoints(*lines.render(pushed), gen.declared_adjoints))

    f_text, f_origin = _direct_loop_targets(*fwd.render(pushed))
    b_text, b_origin = render_backward(bwd)
    pullback, pullback_lines = "", []
    if gen.self_cells:
        own.extend(own_b, 0)
        single = gen.own_single()
        if single is None:
            own.add(f"return ({pa})", fn.lineno)
        else:  # (a scalar parameter's cotangent is a number, never None)
            p = analysis.params[single]
            zero = "0.0" if p in analysis.scalar else "None"
            own.add(f"return {gen.adjoint_names.get(p, zero)}", fn.lineno)
        p_text, p_origin = render_backward(own)
        pullback = "\n".join([f"def {name}_pullback(_saved, _dret):"] + p_text)
        pullback_lines = [fn.lineno] + p_origin
    lean_ok, lean_grad = lean_gradient(fn, analysis, gen, body, ret)
    return Generated(
        lean_ok=lean_ok,
        lean_gradient=lean_grad,
        forward="\n".join([head] + f_text),
        backward="\n".join([bhead] + b_text),
        forward_lines=[fn.lineno] + f_origin,
        backward_lines=[fn.lineno] + b_origin,
        constants=gen.constants,
        needed=needed,
        guards=list(gen.guards.items()),
        self_cells=gen.self_cells,
        pullback=pullback,
        pullback_lines=pullback_lines,
    )
