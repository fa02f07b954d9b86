"""Array statements: one source statement of NumPy arithmetic, given a lean second path.

A statement such as ``u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])`` is
normalized into a run of temporaries (item reads, ``+ - * /``, unary minus) ending in a
write into an array or an assignment to a variable. The general code handles every type
that may flow through it (user classes, lists, broadcasting, complex numbers) with one
runtime helper per operation. When, at run time, the arrays are real NumPy arrays, the
other operands real numbers, the indices basic and no operation broadcasts, the statement
runs as plain NumPy and its backward pass is straight-line code over value adjoints:

    forward                           backward
    _f2 = u[1:-1]                     _S = shadow(u); _g = _S[1:-1].copy()
    ...                               _S[1:-1] = 0.0; u[1:-1] = _old   (the write undone)
    _f10 = _f2 + _f9                  _g9 = _g; _g8 = _g9 * r; ...
    _old = u[1:-1].copy()             _S[1:-1] += _g2; _S[2:] += _g3 ... (the reads)
    u[1:-1] = _f10

Only the values the backward reads are saved (operands of products and quotients whose
other side is active, quotients themselves): a stencil update saves nothing but what it
overwrites. Which path ran is recorded per execution; anything unusual takes the
general path, which is generated from the same statements as before.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

__all__ = ["ArrayStatements", "LeanRecord", "UFUNC_DERIVATIVES"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
# NumPy functions of one array: (derivative of the output in terms of the input "{x}" and
# the output "{ans}", or None for "same as ..."; which of them it reads)
UFUNC_DERIVATIVES = {
    "exp": ("{ans}", "ans"),
    "tanh": ("(1.0 - {ans} * {ans})", "ans"),
    "log": ("1.0 / {x}", "x"),
    "sin": ("_np.cos({x})", "x"),
    "cos": ("-_np.sin({x})", "x"),
    "sqrt": ("0.5 / {ans}", "ans"),
}


def _constant_power(v) -> bool:
    """``x ** c`` for a number ``c`` other than 0 (``c x ** (c - 1)`` is its derivative)."""
    return (isinstance(v, ast.BinOp) and isinstance(v.op, ast.Pow)
            and isinstance(v.right, ast.Constant) and type(v.right.value) in (int, float)
            and v.right.value != 0)


def _is_atom(node) -> bool:
    return isinstance(node, ast.Name) or (
        isinstance(node, ast.Constant) and type(node.value) in (int, float))


def _basic_index(node) -> bool:
    """An index of constants, slices and names (guarded to be ints at run time)."""
    if isinstance(node, ast.Tuple):
        return all(_basic_index(e) for e in node.elts) and node.elts != []
    if isinstance(node, ast.Slice):
        return all(p is None or _index_atom(p) for p in (node.lower, node.upper, node.step))
    return _index_atom(node)


def _index_atom(node) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) is int or node.value is None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant) and type(node.operand.value) is int
    return isinstance(node, ast.Name)


def _names(node) -> list:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _item(container: str, index) -> str:
    """Source of ``container[index]`` in NumPy's own syntax (``u[1:-1]``, ``z[:, :H]``)."""
    return ast.unparse(ast.Subscript(value=ast.Name(id=container, ctx=ast.Load()),
                                     slice=index, ctx=ast.Load()))


def _makes_view(index) -> bool:
    """Whether a basic index selects a view (it has a slice, ``...`` or ``None``) rather
    than one element."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return any(isinstance(p, ast.Slice) or (isinstance(p, ast.Constant) and p.value in (None, ...))
               for p in parts)


def _components(pairs) -> list:
    """Groups of names that ``pairs`` (a flat list: a, b, c, d ... meaning a~b, c~d) say
    must share one shape; each group is checked as one chained comparison."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for k in range(0, len(pairs), 2):
        parent[find(pairs[k])] = find(pairs[k + 1])
    groups: dict = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return [g for g in groups.values() if len(g) > 1]


_BROADCAST = re.compile(r"_np\.broadcast_to\((\w+), _np\.shape\((\w+)\)\)$")
_PRODUCT = re.compile(r"(\w+) \* (\w+)$")
_NEGATION = re.compile(r"-([A-Za-z_][A-Za-z0-9_]*)$")
_SCALED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*) \* (-?[0-9.]+(?:e-?[0-9]+)?)$")


def _simplify(lines, region_adds, outer):
    """The lean backward's adjoint lines with copies substituted (``_gf2 = _gf1``), a
    negation folded into the constant factor that follows it (``_gf3 = -_gf2``, ``_gf4 =
    _gf3 * 2`` -> ``_gf4 = _gf2 * -2``: a full-size operation fewer), and a sum's
    cotangent broadcast to ``s``'s shape only to be multiplied by ``s`` left a number."""
    lines = [line.split(" = ", 1) for line in lines]
    uses = Counter(n for e in [e for _, e in lines] + [g for _, _, g in region_adds]
                   + [e for _, e in outer] for n in _IDENT.findall(e))
    rename: dict = {}  # copy -> what it copies

    def sub(e):
        return _IDENT.sub(lambda m: rename.get(m.group(0), m.group(0)), e)

    negated: dict = {}
    broadcast: dict = {}  # A -> (g, s) for `A = _np.broadcast_to(g, _np.shape(s))`
    out = []
    for name, e in lines:
        e = sub(e)
        if _IDENT.fullmatch(e):
            rename[name] = e
            continue
        m = _BROADCAST.match(e)
        if m and uses.get(name) == 1:
            broadcast[name] = m.groups()
        m = _PRODUCT.match(e)
        if m and m.group(1) in broadcast and broadcast[m.group(1)][1] == m.group(2):
            # a number broadcast to s's shape, times s: the product broadcasts it anyway
            g, shaped = broadcast.pop(m.group(1))
            e = f"{g} * {shaped}"
            out = [(n, x) for n, x in out if n != m.group(1)]
        m = _NEGATION.match(e)
        if m and uses.get(name) == 1:
            negated[name] = m.group(1)
        m = _SCALED.match(e)
        if m and m.group(1) in negated:
            factor = m.group(2)
            factor = factor[1:] if factor.startswith("-") else "-" + factor
            e = f"{negated.pop(m.group(1))} * {factor}"
            out = [(n, x) for n, x in out if n != m.group(1)]
        out.append((name, e))
    return ([f"{n} = {e}" for n, e in out], [(c, i, sub(g)) for c, i, g in region_adds],
            [(node, sub(e)) for node, e in outer])


def _makes_array(g_expr) -> bool:
    """An adjoint expression computing a new array (a product, a quotient...), not naming
    one (``g``, the output's cotangent, maybe the caller's own) nor viewing one
    (``broadcast_to``), nor negating one (``_acc_neg`` sums a number's first)."""
    return not (_IDENT.fullmatch(g_expr) or g_expr.startswith(("_np.broadcast_to", "-")))


def _owners(outer, fresh):
    """The contributions to outer names, ordered so that every read of a fresh temporary
    comes before the one that hands it over, marked: ``(node, expression, owned)``. An
    expression making an array is owned by its one use; a fresh temporary by its one bare
    use, after the reads (a later contribution may add into it in place). A temporary given
    bare to two names is owned by neither: the first's shadow may borrow it (keep it as
    it is), and the second's would then add into the first's."""
    reading = [(n, e) for n, e in outer if not (e in fresh or _makes_array(e))]
    making = [(n, e) for n, e in outer if e not in fresh and _makes_array(e)]
    handing = [(n, e) for n, e in outer if e in fresh]
    out = [(n, e, False) for n, e in reading] + [(n, e, True) for n, e in making]
    bare = [e for _, e in handing]
    out += [(n, e, bare.count(e) == 1) for n, e in handing]
    return out


@dataclass
class LeanRecord:
    """One array statement's lean path as plain code, for a gradient written out whole
    (reverse.lean_gradient): its condition (``check``: sets ``flag``, the result in
    ``view``), its forward lines, its backward lines from the seed ``_gout``, and what
    they add to variables outside it (``outer``: name, cotangent expression)."""

    first: ast.stmt
    length: int
    output: str
    flag: str
    view: str
    check: object
    forward: list
    backward: list
    outer: list


class ArrayStatements:
    """Mixin of the reverse-mode ``Generator``: detection and code of array statements."""

    def array_statement_end(self, stmts, i):
        """End (exclusive) of the array statement starting at ``stmts[i]``, or None: a run
        of temporaries ending in a write into an array or an assignment of a variable (or
        of the last temporary, when something else reads it)."""
        if self.try_depth:  # a statement raising halfway is the general path's business
            return None
        lineno = stmts[i].lineno
        temps: list = []
        k = i
        while k < len(stmts) and self._array_temp(stmts[k], lineno):
            temps.append(stmts[k].targets[0].id)
            k += 1
        for j, t in enumerate(temps[:-1]):  # a temporary read after the run ends it
            later = {n for st in stmts[i + j + 1:k] for n in _names(st)}
            if t not in later:
                temps, k = temps[:j + 1], i + j + 1
                break
        if k < len(stmts) and self._array_final(stmts[k], lineno, temps, stmts[i:k]):
            end = k + 1
        elif temps and self._array_final(stmts[k - 1], lineno, temps[:-1], stmts[i:k - 1]):
            temps, end = temps[:-1], k  # the last temporary is the result (read elsewhere)
        else:
            return None
        group = stmts[i:end]
        # every temporary is read once, inside the statement; none is a real scalar
        reads = [n for st in group for n in _names(st.value)]
        if any(reads.count(t) != 1 or t in self.a.scalar for t in temps):
            return None
        index_reads = {n for st in group for node in ast.walk(st)
                       if isinstance(node, ast.Subscript) for n in _names(node.slice)}
        if index_reads & set(temps):  # index arithmetic stays outside (it is not renamed)
            return None
        if not any(isinstance(st.value, (ast.BinOp, ast.UnaryOp, ast.Call)) for st in group):
            return None
        return end

    def _array_temp(self, s, lineno) -> bool:
        if not (isinstance(s, ast.Assign) and s.lineno == lineno
                and isinstance(s.targets[0], ast.Name)):
            return False
        t = s.targets[0].id
        if not (t.startswith("_t") and self.a.assign_count.get(t) == 1
                and self.loads.get(t) == 1):
            return False
        return self._array_value(s.value)

    def _array_value(self, v) -> bool:
        if isinstance(v, ast.BinOp):
            if _constant_power(v):
                return isinstance(v.left, ast.Name)
            return type(v.op) in _OPS and _is_atom(v.left) and _is_atom(v.right)
        if isinstance(v, ast.UnaryOp):
            return type(v.op) in _UNARY and _is_atom(v.operand)
        if isinstance(v, ast.Subscript):
            return isinstance(v.value, ast.Name) and _basic_index(v.slice)
        if isinstance(v, ast.Call):
            return self._ufunc(v) is not None
        return False

    def _ufunc(self, call):
        """The name of the NumPy function of one array that ``call`` makes, or None."""
        if call.keywords or len(call.args) != 1 or not isinstance(call.args[0], ast.Name):
            return None
        if not isinstance(call.func, (ast.Name, ast.Attribute)):
            return None
        func = self.callee(call.func)
        name = getattr(func, "__name__", None)
        if (name in UFUNC_DERIVATIVES or name == "sum") and func is getattr(np, name):
            return name
        return None

    def _array_final(self, s, lineno, temps, before) -> bool:
        if not (isinstance(s, ast.Assign) and s.lineno == lineno):
            return False
        target = s.targets[0]
        if isinstance(target, ast.Subscript):  # u[idx] = <temporary>
            return (isinstance(target.value, ast.Name) and target.value.id in self.a.active
                    and _basic_index(target.slice) and isinstance(s.value, ast.Name)
                    and bool(temps) and s.value.id == temps[-1])
        if isinstance(target, ast.Name):  # y = <operation>
            y = target.id
            # (the backward reads the group's inputs: y may not be one of them)
            group_names = {n for st in before + [s] for n in _names(st.value)} | set(temps)
            return (y in self.a.active and y not in self.a.scalar and y not in temps
                    and y not in self.cell_holder and y not in group_names
                    and isinstance(s.value, (ast.BinOp, ast.UnaryOp, ast.Call))
                    and self._array_value(s.value))
        return False

    # ------------------------------------------------------------ code

    def array_statement(self, group):
        from pygote.transform.reverse import _Lines, _atom

        lineno = group[0].lineno
        final = group[-1]
        writes = isinstance(final.targets[0], ast.Subscript)
        ops = group[:-1] if writes else group
        fast_name = {st.targets[0].id: self.fresh("f") for st in group[:-1]}
        self.general_only.update(fast_name)  # assigned by the general path alone

        def val(node):
            if isinstance(node, ast.Name) and node.id in fast_name:
                return fast_name[node.id]
            return _atom(node)

        def expr(v):
            if _constant_power(v):
                return f"{val(v.left)} ** {v.right.value!r}"
            if isinstance(v, ast.BinOp):
                return f"{val(v.left)} {_OPS[type(v.op)]} {val(v.right)}"
            if isinstance(v, ast.UnaryOp):
                return f"{_UNARY[type(v.op)]}{val(v.operand)}"
            if isinstance(v, ast.Call):
                self.guard(v.func)
                return f"{_atom(v.func)}({val(v.args[0])})"
            return _item(val(v.value), v.slice)

        # ---- the run-time condition for the lean path
        containers, operands, indices = [], [], []
        for st in group:
            v = st.value
            nodes = [v.left, v.right] if isinstance(v, ast.BinOp) else \
                [v.operand] if isinstance(v, ast.UnaryOp) else \
                [v.args[0]] if isinstance(v, ast.Call) else []
            if isinstance(v, ast.Subscript):
                containers.append(v.value.id)
                indices += _names(v.slice)
            operands += [n.id for n in nodes if isinstance(n, ast.Name)
                         and n.id not in fast_name]
        if writes:
            containers.append(final.targets[0].value.id)
            indices += _names(final.targets[0].slice)
        containers = list(dict.fromkeys(containers))
        operands = [n for n in dict.fromkeys(operands) if n not in self.a.scalar]
        indices = [n for n in dict.fromkeys(indices) if n not in self.a.scalar]
        checks = [f"type({c}) is _ndarray and {c}.dtype.kind == 'f'" for c in containers]
        checks += [f"_is_real({n})" for n in operands]
        checks += [f"type({n}) is int" for n in indices]

        flag = self.fresh("fast")
        self.mark_loop_assigned(flag)
        f = _Lines()
        f.push(flag, lineno)
        f.add(f"{flag} = {' and '.join(checks) or 'True'}", lineno)
        f.add(f"if {flag}:", lineno)
        for st in group[:-1]:
            f.add(f"{fast_name[st.targets[0].id]} = {expr(st.value)}", lineno, 1)
        # the result (checked too: no operation may broadcast), or the region written
        view = self.fresh("fv")
        if not writes:
            f.add(f"{view} = {expr(final.value)}", lineno, 1)
        else:
            target = final.targets[0]
            obj, index = target.value.id, target.slice
            f.add(f"{view} = {_item(obj, index)}", lineno, 1)
        agree, matrices = [], []
        for st in group:
            v = st.value
            out = fast_name.get(st.targets[0].id, view) if isinstance(st.targets[0], ast.Name) \
                else view
            if isinstance(v, ast.BinOp) and type(v.op) is ast.MatMult:
                matrices += [val(v.left), val(v.right)]
            elif isinstance(v, ast.BinOp):  # elementwise: no temporary may broadcast
                agree += [x for o in (v.left, v.right) if isinstance(o, ast.Name)
                          and o.id in fast_name for x in (out, fast_name[o.id])]
            elif isinstance(v, ast.Name):  # the write: the value fills its region
                agree += [view, fast_name[v.id]]
        tests = [" == ".join(f"{x}.shape" for x in part) for part in _components(agree)]
        if matrices:
            tests.append(f"_matrices({', '.join(matrices)})")
        if agree:  # (a Python number has no shape: the general path then)
            f.add("try:", lineno, 1)
            f.add(f"{flag} = {' and '.join(tests)}", lineno, 2)
            f.add("except AttributeError:", lineno, 1)
            f.add(f"{flag} = False", lineno, 2)
        else:
            f.add(f"{flag} = {' and '.join(tests) or 'True'}", lineno, 1)

        check = _Lines()  # (the lean path's condition alone, for a lean gradient)
        check.items = list(f.items)

        # ---- the lean backward, and which values it reads
        b = _Lines()
        saved: dict = {}  # fast temporary -> name it is saved under
        grads: dict = {}  # fast temporary -> its value adjoint
        lines: list = []  # backward lines of the operations, in backward order
        region_adds: list = []  # (container, index, adjoint)
        outer: list = []  # (operand node, adjoint expression)

        value_read: set = set()  # outer names whose values the lean backward reads
        fresh: set = set()  # backward temporaries holding an array made by their line

        def saved_value(node):
            if isinstance(node, ast.Name):
                value_read.add(node.id)
            if isinstance(node, ast.Name) and node.id in fast_name:
                t = fast_name[node.id]
                if t not in saved:
                    saved[t] = self.fresh("fs")
                    self.mark_loop_assigned(saved[t])
                self.need(saved[t])
                return saved[t]
            self.need_atoms(node)
            return _atom(node)

        def send(node, g_expr):
            if isinstance(node, ast.Constant) or not self.is_active(node):
                return
            if node.id in fast_name:
                g = self.fresh("gf")
                lines.append(f"{g} = {g_expr}")
                grads[fast_name[node.id]] = g
                if _makes_array(g_expr):
                    fresh.add(g)
            else:
                outer.append((node, g_expr))

        out_name = None
        if writes:  # the written value's adjoint is what the write's slot collected
            grads[fast_name[final.value.id]] = "_gout"
        for st in reversed(ops):
            y = st.targets[0].id
            if y in fast_name:
                g = grads.get(fast_name[y])
            else:
                out_name = y
                g = "_gout"
            if g is None:
                continue  # no gradient reaches it
            v = st.value
            if isinstance(v, ast.Subscript):
                if self.is_active(v.value):
                    self.need(v.value.id, *_names(v.slice))
                    region_adds.append((v.value.id, v.slice, g))
            elif isinstance(v, ast.UnaryOp):
                send(v.operand, f"-{g}" if _UNARY[type(v.op)] == "-" else g)
            elif isinstance(v, ast.Call):
                arg = v.args[0]
                if self._grad_wanted(arg) and self._ufunc(v) == "sum":  # every item: g
                    send(arg, f"_np.broadcast_to({g}, _np.shape({saved_value(arg)}))")
                elif self._grad_wanted(arg):
                    form, reads = UFUNC_DERIVATIVES[self._ufunc(v)]
                    if reads == "ans":
                        form = form.format(ans=self._saved_result(y, fast_name, saved))
                    else:
                        form = form.format(x=saved_value(arg))
                    send(arg, f"{g} * {form}")
            elif _constant_power(v):
                if self._grad_wanted(v.left):
                    p, base = v.right.value, saved_value(v.left)
                    send(v.left, f"{g} * (2.0 * {base})" if p == 2 else
                         f"{g} * ({p!r} * {base} ** {p - 1!r})")
            else:
                sym = _OPS[type(v.op)]
                a, c = v.left, v.right
                if sym == "+":
                    send(a, g)
                    send(c, g)
                elif sym == "-":
                    send(a, g)
                    send(c, f"-{g}")
                elif sym == "@":
                    # (a matrix or a vector on either side: see values.matrices)
                    if self._grad_wanted(a):
                        sc = saved_value(c)
                        send(a, f"({g} @ {sc}.T if {sc}.ndim == 2 else _np.outer({g}, {sc}))")
                    if self._grad_wanted(c):
                        sa = saved_value(a)
                        send(c, f"({sa}.T @ {g} if {sa}.ndim == 2 else _np.outer({sa}, {g}))")
                elif sym == "*":
                    if self._grad_wanted(a):
                        send(a, f"{g} * {saved_value(c)}")
                    if self._grad_wanted(c):
                        send(c, f"{g} * {saved_value(a)}")
                else:  # "/"
                    if self._grad_wanted(a) or self._grad_wanted(c):
                        divisor = saved_value(c)
                    if self._grad_wanted(a):
                        send(a, f"{g} / {divisor}")
                    if self._grad_wanted(c):
                        quotient = self._saved_result(y, fast_name, saved)
                        send(c, f"-{g} * {quotient} / {divisor}")

        # forward: commit (the write, or the assignment), save what the backward reads
        f.add(f"if {flag}:", lineno)
        if writes:
            old = self.fresh("fold")
            self.mark_loop_assigned(old)
            self.need(old, obj, *_names(target.slice))
            f.push(old, lineno, 1)
            f.add(f"{old} = {view}.copy()", lineno, 1)
            f.add(f"{_item(obj, index)} = {val(final.value)}", lineno, 1)
            f.add(f"_wrote({obj})", lineno, 1)
        else:
            y = final.targets[0].id
            self.mark_loop_assigned(y)
            self.need(y)
            f.push(y, lineno, 1)
            f.add(f"{y} = {view}", lineno, 1)
        for t, s_name in saved.items():
            f.push(s_name, lineno, 1)
            f.add(f"{s_name} = {t}", lineno, 1)
        for name in operands:  # fresh arrays made before, read here once: ghosts now
            if name in self.made_by and name not in value_read:
                f.add(self.ghost_line(name, "None", done=False), lineno, 1)

        # backward of the lean path
        lines, region_adds, outer = _simplify(lines, region_adds, outer)
        # `u[i] = u[i] + ...`: the read of the written region passes the slot's cotangent
        # back unchanged; when nothing else keeps or adds the cotangent as it is, the slot
        # keeps it (no copy, no zeroing, no addition back)
        passing = [k for k, (c, i, g) in enumerate(region_adds)
                   if writes and c == obj and g == "_gout" and _makes_view(i)
                   and ast.dump(i) == ast.dump(index)]
        views = {"_gout"}  # (the slot itself, and broadcasts of it: lines make new arrays)
        for line in lines:
            name, e = line.split(" = ", 1)
            if (_IDENT.fullmatch(e) or e.startswith("_np.broadcast_to(")) and \
                    views & set(_IDENT.findall(e)):
                views.add(name)
        keep_slot = len(passing) == 1 and not any(
            views & set(_IDENT.findall(g)) for k, (_, _, g) in enumerate(region_adds)
            if k != passing[0]) and not any(views & set(_IDENT.findall(e)) for _, e in outer)
        if keep_slot:
            del region_adds[passing[0]]
        if not writes and not region_adds:
            y = final.targets[0].id
            commit = [f"{y} = {view}"] + [f"{s_name} = {t}" for t, s_name in saved.items()]
            self.lean_records.append(LeanRecord(
                first=group[0], length=len(group), output=y, flag=flag, view=view,
                check=check,
                forward=[f"{fast_name[st.targets[0].id]} = {expr(st.value)}"
                         for st in group[:-1]] + [f"{view} = {expr(final.value)}"] + commit,
                backward=list(lines), outer=[(node.id, g) for node, g in outer]))
        b.add(f"if {flag}:", lineno)
        if writes:
            sh = self.fresh("S")
            b.add(f"{sh} = _shadow({obj})", lineno, 1)
            if keep_slot:  # (read before any addition into the shadow below)
                b.add(f"_gout = {_item(sh, index)}", lineno, 1)
            else:
                b.add(f"_gout = {_item(sh, index)}.copy()", lineno, 1)
                b.add(f"{_item(sh, index)} = 0.0", lineno, 1)
            b.add(f"{_item(obj, index)} = {old}", lineno, 1)
            body_indent = 1
        else:
            d = self.adj(out_name)
            b.add(f"_gout = _take({out_name}, {d})", lineno, 1)
            b.add(f"{d} = None", lineno, 1)
            b.add("if _gout is not None:", lineno, 1)
            body_indent = 2
        for line in lines:
            b.add(line, lineno, body_indent)
        shadows_of: dict = {obj: sh} if writes else {}  # (the written array's is at hand)
        for container, index, g in region_adds:
            if container not in shadows_of:
                shadows_of[container] = self.fresh("S")
                b.add(f"{shadows_of[container]} = _shadow({container})", lineno, body_indent)
            region = _item(shadows_of[container], index)
            if _makes_view(index):  # add into the view: no write-back of the region
                r = self.fresh("R")
                b.add(f"{r} = {region}", lineno, body_indent)
                b.add(f"{r} += {g}", lineno, body_indent)
            else:  # an element: a NumPy scalar, not a view
                b.add(f"{region} += {g}", lineno, body_indent)
        for node, g_expr, owned in _owners(outer, fresh):
            x = node.id
            if owned and x not in self.item_of and x not in self.a.scalar:
                # a fresh array, read by nothing after: the shadow may keep it
                d = self.adj(x)
                self.need(x, *_IDENT.findall(g_expr))
                b.add(f"{d} = _acc_owned({x}, {d}, {g_expr})", lineno, body_indent)
            elif g_expr.startswith("-") and _IDENT.fullmatch(g_expr[1:]) and \
                    x not in self.item_of:
                # -g into a number: sum first, negate the sum (a full-size negation fewer)
                d = self.adj(x)
                self.need(x, g_expr[1:])
                b.add(f"{d} = _acc_neg({x}, {d}, {g_expr[1:]})", lineno, body_indent)
            else:
                self.contribute(b, final, node, g_expr, scalar_ok=False, indent=body_indent)
        for s_name in reversed(saved.values()):
            b.pop(s_name, lineno, 1)
        if writes:
            b.pop(old, lineno, 1)
        else:
            b.pop(out_name, lineno, 1)

        # ---- the general path: the statements as before
        gf, gb_parts = _Lines(), []
        for st in group:
            sf, sb = self.statement(st)
            gf.extend(sf, 0)
            gb_parts.append(sb)
        f.add("else:", lineno)
        f.extend(gf, 1)
        b.add("else:", lineno)
        for sb in reversed(gb_parts):
            b.extend(sb, 1)
        b.pop(flag, lineno)
        self.need(flag)
        return f, b

    def _grad_wanted(self, node) -> bool:
        return isinstance(node, ast.Name) and self.is_active(node)

    def _saved_result(self, y, fast_name, saved):
        """The saved value of the quotient ``y`` (a fast temporary or the output)."""
        t = fast_name.get(y, y)
        if t not in saved:
            saved[t] = self.fresh("fs")
            self.mark_loop_assigned(saved[t])
        self.need(saved[t])
        return saved[t]
