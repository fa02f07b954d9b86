"""A grammar of small random Python programs, and the oracle that checks pygote on them.

Used by ``test_random_programs.py``. Two Hypothesis strategies:

* ``scalar_programs()``: modules with 0-2 module-level helper functions and an entry
  function ``f`` of 1-3 float arguments, built from arithmetic (``+ - * / **``), math
  functions (sin, cos, tanh, exp of bounded arguments, log/sqrt of positive values),
  ``if``/``elif``/``else`` on comparisons (also ``and``/``or``/``not``/chained), ``for``
  loops over ``range(k)``, ``while`` loops with a counter and an optional data-dependent
  exit, ``break``/``continue``, early ``return`` in branches, helper calls (scalar- and
  pair-returning), tuple construction / indexing / unpacking / swaps, augmented
  assignment and conditional expressions.
* ``numpy_programs()``: the same scalar grammar plus arrays of length 3: elementwise
  arithmetic and ufuncs, ``np.sum``, ``np.dot``, indexing ``a[i]`` (constant, negative or
  loop index), in-place ``a[i] = expr`` and ``a += b`` on local copies (``a = x.copy()``),
  writes through views (``w = a[i:j]; w[k] = expr; w += expr``, a write to ``a`` read back
  through ``w``, then reads of ``a``), and local lists (``append``, also in a loop, of
  floats or arrays; ``pop()``; ``lst[k] = expr``; ``lst[k] += expr``; read back with
  ``sum(lst)`` or ``lst[k]``).

Each generated program is rendered twice from the same tree: the plain source (compiled
under a file name derived from its text, registered in ``linecache`` so pygote can read it,
with function names suffixed by the same hash: ``f_3fa9c2``) and an instrumented twin where
every comparison goes through ``_cmp(id, l, op, r)``, which records the branch trace and
the distance of each float comparison from flipping.

``check_program`` rejects (``hypothesis.assume(False)``) programs that raise, return a
non-finite value or one above 1e6 in magnitude, take a float comparison within 1e-3
(relative) of flipping, whose branch trace changes at any finite-difference perturbation,
or whose central difference at 2h disagrees with the one at h (the oracle would not be
accurate enough); then compares ``pg.gradient`` with central finite differences of the
plain program (h = 1e-6, float64) at rtol 1e-4, atol 1e-6 * max(1, |f|). Failure messages
contain the generated source and the inputs.
"""

from __future__ import annotations

import hashlib
import linecache
import math
import operator
import re
import traceback
import types

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

__all__ = [
    "Program", "scalar_programs", "numpy_programs", "compile_program", "exec_module",
    "check_program", "screen", "check_fd_reliable", "finite_difference", "compare",
    "run_traced", "Rejected", "EPS", "RTOL", "ATOL", "MAX_ABS", "MARGIN",
]

EPS = 1e-6          # central-difference step
RTOL = 1e-4
ATOL = 1e-6         # scaled by max(1, |f(x)|)
MAX_ABS = 1e6       # reject programs whose value is larger than this
MARGIN = 1e-3       # reject float comparisons closer than this (relative) to flipping


# ---------------------------------------------------------------------------------------
# Program trees
# ---------------------------------------------------------------------------------------

class Node:
    """An expression (or condition) rendered from a format string and child nodes."""

    __slots__ = ("fmt", "kids")

    def __init__(self, fmt, *kids):
        self.fmt = fmt
        self.kids = kids

    def render(self, inst):
        return self.fmt.format(*[k.render(inst) for k in self.kids])


def leaf(text):
    return Node(text.replace("{", "{{").replace("}", "}}"))


class Cmp:
    """``left op right``; instrumented as ``_cmp(id, left, op, right, checked)``."""

    __slots__ = ("cid", "left", "op", "right", "checked")

    def __init__(self, cid, left, op, right, checked=True):
        self.cid, self.left, self.op, self.right, self.checked = cid, left, op, right, checked

    def render(self, inst):
        lhs, rhs = self.left.render(inst), self.right.render(inst)
        if inst:
            return f"_cmp({self.cid}, {lhs}, {self.op!r}, {rhs}, {self.checked})"
        return f"{lhs} {self.op} {rhs}"


class Chain:
    """``a < b < c``; instrumented as two ``_cmp`` calls joined by ``and``."""

    __slots__ = ("c1", "c2")

    def __init__(self, c1, c2):
        self.c1, self.c2 = c1, c2

    def render(self, inst):
        if inst:
            return f"({self.c1.render(True)} and {self.c2.render(True)})"
        return f"{self.c1.render(False)} {self.c2.op} {self.c2.right.render(False)}"


class Stmt:
    """A simple one-line statement."""

    def __init__(self, fmt, *kids):
        self.node = Node(fmt, *kids)

    def lines(self, inst, ind):
        return [ind + self.node.render(inst)]


class If:
    def __init__(self, branches, orelse):
        self.branches = branches  # [(cond, [stmt])]
        self.orelse = orelse      # [stmt] or None

    def lines(self, inst, ind):
        out = []
        for j, (cond, body) in enumerate(self.branches):
            out.append(f"{ind}{'if' if j == 0 else 'elif'} {cond.render(inst)}:")
            out += _block_lines(body, inst, ind + "    ")
        if self.orelse is not None:
            out.append(f"{ind}else:")
            out += _block_lines(self.orelse, inst, ind + "    ")
        return out


class For:
    def __init__(self, var, k, body):
        self.var, self.k, self.body = var, k, body

    def lines(self, inst, ind):
        return [f"{ind}for {self.var} in range({self.k}):"] + _block_lines(
            self.body, inst, ind + "    ")


class While:
    """``n = 0; while n < k [and cond]: n += 1; body``: at most ``k`` iterations."""

    def __init__(self, counter, cnt_cmp, cond, body):
        self.counter, self.cnt_cmp, self.cond, self.body = counter, cnt_cmp, cond, body

    def lines(self, inst, ind):
        test = self.cnt_cmp.render(inst)
        if self.cond is not None:
            test = f"{test} and {self.cond.render(inst)}"
        return ([f"{ind}{self.counter} = 0", f"{ind}while {test}:",
                 f"{ind}    {self.counter} += 1"] + _block_lines(self.body, inst, ind + "    "))


def _block_lines(body, inst, ind):
    out = []
    for s in body:
        out += s.lines(inst, ind)
    return out or [ind + "pass"]


class FuncDef:
    def __init__(self, name, params, body):
        self.name, self.params, self.body = name, params, body

    def lines(self, inst):
        return [f"def {self.name}({', '.join(self.params)}):"] + _block_lines(
            self.body, inst, "    ")


_FUNC_NAME = re.compile(r"(?<![\w.])(f|h\d+)(?=\()")


class Program:
    """A generated module: helper functions, then the entry function ``f``."""

    def __init__(self, funcs, arg_kinds):
        self.funcs = funcs            # [FuncDef], the entry function last
        self.arg_kinds = arg_kinds    # ["float" | "array"] per parameter of f

    def source(self, inst=False, tag=""):
        """The module's text; ``tag`` is appended to every function name (f -> f_12)."""
        header = "import math\n\nimport numpy as np\n\n\n"
        text = header + "\n\n\n".join("\n".join(fn.lines(inst)) for fn in self.funcs) + "\n"
        if tag:
            text = _FUNC_NAME.sub(lambda m: m.group(0) + tag, text)
        return text

    def __repr__(self):
        return "Program(''''\n" + self.source() + "''')"


# ---------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------

CONSTS = ["0.5", "1.5", "2.0", "(-0.7)", "1.0", "0.3", "(-1.2)", "3.0"]
CMP_OPS = ["<", ">", "<=", ">="]
# positive-valued wrappers (log / sqrt / division / fractional powers need them)
POSITIVE = ["(1.0 + {0} * {0})", "(2.0 + math.sin({0}))", "(0.5 + {0} ** 2)",
            "(1.0 + math.exp(math.cos({0})))"]
# bounded-valued wrappers (arguments of exp, variable exponents)
BOUNDED = ["math.sin({0})", "math.tanh({0})", "math.cos({0})", "-{0} ** 2",
           "0.5 * math.tanh({0})"]


class Scope:
    """What a block may read: float variables, int variables (loop indices, counters),
    tuple variables, plus where the block sits (loop / nesting depth)."""

    def __init__(self, floats, ints=(), tuples=(), arrays=(), mutable=(), loops=0, nest=0,
                 loop_k=()):
        self.floats = list(floats)
        self.ints = list(ints)
        self.tuples = list(tuples)
        self.arrays = list(arrays)
        self.mutable = list(mutable)
        self.loops = loops
        self.nest = nest
        self.loop_k = list(loop_k)   # [(index var, k)] of enclosing for loops

    def child(self, **kw):
        s = Scope(self.floats, self.ints, self.tuples, self.arrays, self.mutable, self.loops,
                  self.nest + 1, self.loop_k)
        for k, v in kw.items():
            setattr(s, k, v)
        return s


class FuncCtx:
    def __init__(self, helpers, ret, max_nest, max_stmts):
        self.helpers = helpers    # [(name, nargs, kind)] callable from this function
        self.ret = ret            # "scalar" | "pair"
        self.max_nest = max_nest
        self.max_stmts = max_stmts
        self.counts = {}

    def fresh(self, prefix):
        n = self.counts.get(prefix, 0)
        self.counts[prefix] = n + 1
        return f"{prefix}{n}"


class Gen:
    """Draws a scalar program with Hypothesis' ``draw``."""

    def __init__(self, draw):
        self.draw = draw
        self.ncmp = 0
        self.ctx = None

    # -- drawing helpers
    def pick(self, seq):
        return self.draw(st.sampled_from(list(seq)))

    def upto(self, lo, hi):
        return self.draw(st.integers(lo, hi))

    def flag(self):
        return self.draw(st.booleans())

    def cid(self):
        self.ncmp += 1
        return self.ncmp

    # -- expressions
    def leaf(self, sc, need_var=False):
        kinds = ["var"] * 4 + ([] if need_var else ["const"])
        if sc.ints:
            kinds.append("int")
        if sc.tuples:
            kinds.append("tuple")
        kind = self.pick(kinds)
        if kind == "var":
            return leaf(self.pick(sc.floats))
        if kind == "const":
            return leaf(self.pick(CONSTS))
        if kind == "int":
            return leaf(self.pick(sc.ints))
        name, n = self.pick(sc.tuples)
        return leaf(f"{name}[{self.upto(0, n - 1)}]")

    def expr_kinds(self, sc):
        kinds = ["add", "sub", "mul", "div", "neg", "pow", "pospow", "sin", "cos", "tanh",
                 "exp", "log", "sqrt", "ifexp"]
        if any(k == "scalar" for _, _, k in self.ctx.helpers):
            kinds += ["call", "call"]
        if any(k == "pair" for _, _, k in self.ctx.helpers):
            kinds.append("callidx")
        return kinds

    def expr(self, sc, depth, need_var=True):
        """An expression; with ``need_var`` its first operand chain ends in a variable (no
        constant-only expressions, which would make much of the program dead)."""
        if depth <= 0 or self.upto(0, 2) == 0:
            return self.leaf(sc, need_var)
        return self.compound(sc, depth, self.pick(self.expr_kinds(sc)), need_var)

    def compound(self, sc, depth, kind, need_var=True):
        needs = [need_var]

        def e():
            need = needs[0]
            needs[0] = False
            return self.expr(sc, depth - 1, need)
        if kind in ("add", "sub", "mul"):
            op = {"add": "+", "sub": "-", "mul": "*"}[kind]
            return Node("({0} %s {1})" % op, e(), e())
        if kind == "div":
            if self.flag():
                return Node("({0} / %s)" % self.pick(["2.0", "3.0", "(-1.5)"]), e())
            return Node("({0} / %s)" % self.pick(POSITIVE), e(), e())
        if kind == "neg":
            return Node("(-{0})", e())
        if kind == "pow":
            return Node("({0} ** %d)" % self.pick([2, 3, 2]), e())
        if kind == "pospow":
            base = self.pick(POSITIVE)
            expo = self.pick(["-1", "0.5", "1.5", "(-0.5)", "2", "({1})"])
            if expo == "({1})":
                return Node("(" + base + " ** (" + self.pick(BOUNDED).replace("{0}", "{1}")
                            + "))", e(), e())
            return Node("(" + base + " ** " + expo + ")", e())
        if kind in ("sin", "cos", "tanh"):
            return Node("math.%s({0})" % kind, e())
        if kind == "exp":
            return Node("math.exp(%s)" % self.pick(BOUNDED), e())
        if kind == "log":
            return Node("math.log(%s)" % self.pick(POSITIVE), e())
        if kind == "sqrt":
            return Node("math.sqrt(%s)" % self.pick(POSITIVE), e())
        if kind == "ifexp":
            return Node("({0} if {1} else {2})", e(), self.cond(sc, depth - 1), e())
        if kind == "call":
            name, nargs, _ = self.pick([h for h in self.ctx.helpers if h[2] == "scalar"])
            return Node("%s(%s)" % (name, ", ".join("{%d}" % i for i in range(nargs))),
                        *[e() for _ in range(nargs)])
        if kind == "callidx":
            name, nargs, _ = self.pick([h for h in self.ctx.helpers if h[2] == "pair"])
            return Node("%s(%s)[%d]" % (name, ", ".join("{%d}" % i for i in range(nargs)),
                                        self.upto(0, 1)), *[e() for _ in range(nargs)])
        raise AssertionError(kind)

    # -- conditions
    def simple_cond(self, sc, depth):
        lhs = self.expr(sc, max(depth, 0))
        rhs = self.pick([lambda: leaf(self.pick(sc.floats)), lambda: leaf(self.pick(CONSTS))])()
        return Cmp(self.cid(), lhs, self.pick(CMP_OPS), rhs)

    def cond(self, sc, depth=1):
        kinds = ["simple"] * 4 + ["and", "or", "not", "chain"]
        if sc.ints:
            kinds.append("int")
        kind = self.pick(kinds)
        if kind == "simple":
            return self.simple_cond(sc, depth)
        if kind in ("and", "or"):
            return Node("({0} %s {1})" % kind, self.simple_cond(sc, depth),
                        self.simple_cond(sc, depth))
        if kind == "not":
            return Node("(not {0})", self.simple_cond(sc, depth))
        if kind == "chain":
            lo, hi = sorted(self.draw(st.lists(st.sampled_from([-1.5, -0.5, 0.0, 0.5, 1.5]),
                                                min_size=2, max_size=2, unique=True)))
            mid = self.expr(sc, max(depth, 0))
            return Chain(Cmp(self.cid(), leaf(repr(lo)), "<", mid),
                         Cmp(self.cid(), mid, "<", leaf(repr(hi))))
        # integer comparison (loop index / counter): exact, never near a flip
        return Cmp(self.cid(), leaf(self.pick(sc.ints)), self.pick(["==", "<", ">=", "!="]),
                   leaf(str(self.upto(0, 3))), checked=False)

    # -- statements
    def stmt_kinds(self, sc):
        kinds = ["assign_new"] * 3 + ["assign"] + ["aug"] * 2 + ["swap", "tuple"]
        if sc.tuples:
            kinds.append("unpack")
        if any(k == "pair" for _, _, k in self.ctx.helpers):
            kinds.append("unpack_call")
        if sc.loops:
            kinds.append("guard")
        if sc.nest < self.ctx.max_nest:
            kinds += ["if"] * 2
            if sc.loops < 2:
                kinds += ["for", "while"]
        return kinds

    def block(self, sc, lo=1, hi=None):
        hi = self.ctx.max_stmts if hi is None else hi
        out = []
        for _ in range(self.upto(lo, hi)):
            out += self.stmt(sc)
        return out

    def new_float(self, sc):
        """A fresh float variable name (the caller adds it to ``sc`` once it is bound)."""
        del sc
        return self.ctx.fresh("v")

    def stmt(self, sc):
        return self.do_stmt(sc, self.pick(self.stmt_kinds(sc)))

    def do_stmt(self, sc, kind):
        if kind == "assign_new":
            value = self.expr(sc, 3)
            name = self.new_float(sc)
            sc.floats.append(name)
            return [Stmt(f"{name} = {{0}}", value)]
        if kind == "assign":
            return [Stmt(f"{self.pick(sc.floats)} = {{0}}", self.expr(sc, 3))]
        if kind == "aug":
            target = self.pick(sc.floats)
            op = self.pick(["+=", "-=", "*=", "/="])
            if op == "/=":
                return [Stmt(f"{target} /= " + self.pick(POSITIVE), self.expr(sc, 2))]
            return [Stmt(f"{target} {op} {{0}}", self.expr(sc, 2))]
        if kind == "swap":
            # a, b = b, a + b   (both sides evaluated before assignment)
            a = self.pick(sc.floats)
            b = self.pick(sc.floats)
            if a == b:
                e1, e2 = self.expr(sc, 2), self.expr(sc, 2)
                b = self.new_float(sc)
                sc.floats.append(b)
                return [Stmt(f"{a}, {b} = {{0}}, {{1}}", e1, e2)]
            return [Stmt(f"{a}, {b} = {b}, {{0}}", self.expr(sc, 2))]
        if kind == "tuple":
            name = self.ctx.fresh("p")
            st_ = Stmt(f"{name} = ({{0}}, {{1}})", self.expr(sc, 2), self.expr(sc, 2))
            sc.tuples.append((name, 2))
            return [st_]
        if kind == "unpack":
            name, n = self.pick(sc.tuples)
            targets = [self.new_float(sc) for _ in range(n)]
            sc.floats += targets
            return [Stmt(f"{', '.join(targets)} = {name}")]
        if kind == "unpack_call":
            name, nargs, _ = self.pick([h for h in self.ctx.helpers if h[2] == "pair"])
            args = [self.expr(sc, 2) for _ in range(nargs)]
            targets = [self.new_float(sc) for _ in range(2)]
            sc.floats += targets
            return [Stmt(f"{', '.join(targets)} = {name}("
                         + ", ".join("{%d}" % i for i in range(nargs)) + ")", *args)]
        if kind == "if":
            return [self.if_stmt(sc)]
        if kind == "guard":  # if <cond>: break / continue
            return [If([(self.cond(sc), [Stmt(self.pick(["break", "continue"]))])], None)]
        if kind == "for":
            return [self.for_stmt(sc)]
        if kind == "while":
            return [self.while_stmt(sc)]
        raise AssertionError(kind)

    def ret_stmt(self, sc):
        """``return`` an expression of the latest variable (so the body is not dead code)."""
        if self.ctx.ret == "pair":
            return Stmt("return {0}, {1}", self.ret_expr(sc), self.expr(sc, 2))
        return Stmt("return {0}", self.ret_expr(sc))

    def ret_expr(self, sc):
        last = leaf(sc.floats[-1])
        return self.pick([
            lambda: Node("({0} %s {1})" % self.pick(["+", "-", "*"]), last, self.expr(sc, 2)),
            lambda: Node("({0} %s {1})" % self.pick(["+", "-", "*"]), self.expr(sc, 3), last),
            lambda: self.expr(sc, 3),
        ])()

    def terminal(self, sc):
        """What may end a branch: nothing, an early return, break/continue in loops."""
        kinds = ["none"] * 3 + ["return"]
        if sc.loops:
            kinds += ["break", "continue"] * 2
        kind = self.pick(kinds)
        if kind == "none":
            return []
        if kind == "return":
            return [self.ret_stmt(sc)]
        return [Stmt(kind)]

    def if_stmt(self, sc):
        branches = []
        for _ in range(1 + self.upto(0, 2)):
            cond = self.cond(sc)
            inner = sc.child()
            body = self.block(inner, 1, 2) + self.terminal(inner)
            branches.append((cond, body))
        orelse = None
        if self.flag():
            inner = sc.child()
            orelse = self.block(inner, 1, 2) + self.terminal(inner)
        return If(branches, orelse)

    def for_stmt(self, sc):
        var = self.ctx.fresh("i")
        k = self.upto(1, 4)
        inner = sc.child(ints=sc.ints + [var], loops=sc.loops + 1, loop_k=sc.loop_k + [(var, k)])
        return For(var, k, self.block(inner, 1, 3))

    def while_stmt(self, sc):
        counter = self.ctx.fresh("n")
        k = self.upto(1, 5)
        cnt_cmp = Cmp(self.cid(), leaf(counter), "<", leaf(str(k)), checked=False)
        cond = None
        moving = None
        if self.flag():  # data-dependent exit on a variable the body moves towards it
            var = self.pick(sc.floats)
            op = self.pick(["<", ">"])
            cond = Cmp(self.cid(), leaf(var), op, leaf(self.pick(["1.0", "2.5", "(-1.0)",
                                                                    "4.0"])))
            moving = (var, "+=" if op == "<" else "-=")
        inner = sc.child(ints=sc.ints + [counter], loops=sc.loops + 1)
        body = self.block(inner, 1, 3)
        if moving is not None:
            body.append(Stmt(f"{moving[0]} {moving[1]} " + self.pick(POSITIVE),
                             self.expr(inner, 1)))
        return While(counter, cnt_cmp, cond, body)

    # -- functions
    def function(self, name, params, ret, helpers, max_nest, max_stmts, scope=None):
        self.ctx = FuncCtx(helpers, ret, max_nest, max_stmts)
        sc = scope or Scope(params)
        body = self.use_helper(sc) if name == "f" else []
        body += self.block(sc, 1, max_stmts)
        body.append(self.ret_stmt(sc))
        return FuncDef(name, params, body)

    def use_helper(self, sc):
        """``v = h(...)`` (or ``v, w = h(...)``) calling the last helper, if there is one,
        so that helpers are never dead code."""
        if not self.ctx.helpers:
            return []
        hname, nargs, kind = self.ctx.helpers[-1]
        args = [self.expr(sc, 1) for _ in range(nargs)]
        targets = [self.ctx.fresh("v") for _ in range(2 if kind == "pair" else 1)]
        sc.floats += targets
        return [Stmt(f"{', '.join(targets)} = {hname}("
                     + ", ".join("{%d}" % i for i in range(nargs)) + ")", *args)]

    def program(self):
        helpers = []
        funcs = []
        for j in range(self.upto(0, 2)):
            nargs = self.upto(1, 2)
            kind = self.pick(["scalar", "scalar", "pair"])
            name = f"h{j}"
            funcs.append(self.function(name, ["a", "b"][:nargs], kind, list(helpers), 1, 3))
            helpers.append((name, nargs, kind))
        nargs = self.upto(1, 3)
        funcs.append(self.function("f", ["x", "y", "z"][:nargs], "scalar", helpers, 2, 5))
        return Program(funcs, ["float"] * nargs)


# ---------------------------------------------------------------------------------------
# NumPy extension: arrays of length 3
# ---------------------------------------------------------------------------------------

ARR_UNARY = ["np.sin({0})", "np.cos({0})", "np.tanh({0})", "np.exp(np.tanh({0}))",
             "np.log(1.0 + {0} * {0})", "np.sqrt(1.0 + {0} ** 2)", "({0} ** 2)", "(-{0})"]


class NumpyGen(Gen):
    """Adds array variables (length 3) to the scalar grammar."""

    def index(self, sc):
        opts = ["0", "1", "2", "-1"]
        for var, k in sc.loop_k:
            if k <= 3:
                opts += [var, var, f"2 - {var}"]
        return self.pick(opts)

    def aexpr(self, sc, depth):
        if depth <= 0 or self.upto(0, 2) == 0:
            return leaf(self.pick(sc.arrays))
        kind = self.pick(["binop", "binop", "scale", "shift", "div", "unary", "unary"])
        a = lambda: self.aexpr(sc, depth - 1)  # noqa: E731
        if kind == "binop":
            return Node("({0} %s {1})" % self.pick(["+", "-", "*"]), a(), a())
        if kind == "scale":
            return Node("({0} * {1})", a(), self.expr(sc, depth - 1))
        if kind == "shift":
            return Node("({0} + {1})", a(), self.expr(sc, depth - 1))
        if kind == "div":
            return Node("({0} / (1.0 + {1} * {1}))", a(), a())
        return Node(self.pick(ARR_UNARY), a())

    def leaf(self, sc, need_var=False):
        if sc.arrays and self.upto(0, 2) == 0:
            return leaf(f"{self.pick(sc.arrays)}[{self.index(sc)}]")
        return super().leaf(sc, need_var)

    def expr_kinds(self, sc):
        extra = ["sum", "sum", "dot", "index"] if sc.arrays else []
        return super().expr_kinds(sc) + extra

    def compound(self, sc, depth, kind, need_var=True):
        if kind == "sum":
            return Node("np.sum({0})", self.aexpr(sc, depth - 1))
        if kind == "dot":
            return Node("np.dot({0}, {1})", self.aexpr(sc, depth - 1), self.aexpr(sc, depth - 1))
        if kind == "index":
            return Node("{0}[%s]" % self.index(sc), self.aexpr(sc, depth - 1))
        return super().compound(sc, depth, kind, need_var)

    def stmt_kinds(self, sc):
        extra = ["arr_new", "setitem", "setitem", "arr_aug", "arr_assign", "view", "view",
                 "list"] if sc.mutable else []
        return super().stmt_kinds(sc) + extra

    def do_stmt(self, sc, kind):
        if kind == "arr_new":
            value = self.aexpr(sc, 2)
            name = self.ctx.fresh("a")
            sc.arrays.append(name)
            sc.mutable.append(name)
            if not value.kids:  # a bare name: copy it, never alias
                return [Stmt(f"{name} = {{0}}.copy()", value)]
            return [Stmt(f"{name} = {{0}}", value)]
        if kind == "setitem":
            return [Stmt(f"{self.pick(sc.mutable)}[{self.index(sc)}] = {{0}}", self.expr(sc, 2))]
        if kind == "arr_aug":
            op = self.pick(["+=", "-=", "*="])
            if self.flag():
                return [Stmt(f"{self.pick(sc.mutable)} {op} {{0}}", self.aexpr(sc, 2))]
            return [Stmt(f"{self.pick(sc.mutable)}[{self.index(sc)}] {op} {{0}}",
                         self.expr(sc, 2))]
        if kind == "arr_assign":
            value = self.aexpr(sc, 2)
            if not value.kids:
                return [Stmt(f"{self.pick(sc.mutable)} = {{0}}.copy()", value)]
            return [Stmt(f"{self.pick(sc.mutable)} = {{0}}", value)]
        if kind == "view":
            return self.view_stmts(sc)
        if kind == "list":
            return self.list_stmts(sc)
        return super().do_stmt(sc, kind)

    def view_stmts(self, sc):
        """``w = m[i:j]`` (a basic slice of a local array: a view), writes through it
        (``w[k] = e``, ``w += e``, ``w *= m2[i:j]``...), optionally a write to ``m`` read
        back through ``w``, then a float that reads ``m``. The view is not kept in scope."""
        m = self.pick(sc.mutable)
        i, j = sorted(self.draw(st.lists(st.integers(0, 3), min_size=2, max_size=2,
                                         unique=True)))
        n = j - i
        w = self.ctx.fresh("w")
        slices = [f"{i}:{j}", f"{i}:{j}", f"{i - 3}:" if j == 3 else f"{i - 3}:{j - 3}"]
        if i == 0:
            slices.append(f":{j}")
        if j == 3:
            slices.append(f"{i}:")
        sl = self.pick(slices)
        out = [Stmt(f"{w} = {m}[{sl}]")]
        for _ in range(self.upto(1, 2)):
            kind = self.pick(["item", "item", "aug", "aug_arr"])
            if kind == "item":
                out.append(Stmt(f"{w}[{self.pick(list(range(n)) + [-1])}] = {{0}}",
                                self.expr(sc, 2)))
            elif kind == "aug":
                out.append(Stmt(f"{w} {self.pick(['+=', '-=', '*='])} {{0}}", self.expr(sc, 2)))
            else:
                src = self.pick(sc.arrays)
                out.append(Stmt(f"{w} {self.pick(['+=', '-=', '*='])} {{0}}[{i}:{j}]",
                                leaf(src)))
        name = self.new_float(sc)
        if self.flag():  # write to the base, read it back through the view
            out.append(Stmt(f"{m}[{i + self.upto(0, n - 1)}] = {{0}}", self.expr(sc, 2)))
            out.append(Stmt(f"{name} = np.sum({w}) * {{0}}", self.expr(sc, 1)))
        else:
            out.append(Stmt(f"{name} = {{0}} + {m}[{self.index(sc)}]", self.expr(sc, 1)))
        sc.floats.append(name)
        return out

    def list_array(self, sc):
        """An array to put in a list: a bare local array is appended as is (the list
        aliases it), a bare argument is copied (list writes must not reach the caller)."""
        value = self.aexpr(sc, 2)
        if not value.kids and value.fmt not in sc.mutable:
            return Node("{0}.copy()", value)
        return value

    def list_stmts(self, sc):
        """A local list of floats (or of arrays): ``append`` (also in a ``for`` loop),
        ``pop()``, ``lst[k] = e``, read back with ``sum(lst)`` or ``lst[k]`` into a new float.
        The list is not kept in scope."""
        arrays = self.upto(0, 2) == 0
        item = (lambda: self.list_array(sc)) if arrays else (lambda: self.expr(sc, 2))
        name = self.ctx.fresh("l")
        out = []
        n = 0
        if self.flag():
            out.append(Stmt(f"{name} = [{{0}}]", item()))
            n = 1
        else:
            out.append(Stmt(f"{name} = []"))
        for _ in range(self.upto(1, 2)):
            if self.flag():
                out.append(Stmt(f"{name}.append({{0}})", item()))
                n += 1
            else:
                var = self.ctx.fresh("i")
                k = self.upto(1, 3)
                inner = sc.child(ints=sc.ints + [var], loop_k=sc.loop_k + [(var, k)])
                out.append(For(var, k, [Stmt(f"{name}.append({{0}})",
                                             self.list_array(inner) if arrays
                                             else self.expr(inner, 2))]))
                n += k
        ops = ["pop", "set", "aug", "none"]
        for _ in range(self.upto(0, 2)):
            op = self.pick(ops)
            if op == "pop" and n > 1:
                if not arrays and self.flag():
                    popped = self.new_float(sc)
                    out.append(Stmt(f"{popped} = {name}.pop()"))
                    sc.floats.append(popped)
                else:
                    out.append(Stmt(f"{name}.pop()"))
                n -= 1
            elif op in ("set", "aug"):
                k = self.pick(list(range(n)) + [-1])
                value = item()
                if op == "aug":
                    out.append(Stmt(f"{name}[{k}] {self.pick(['+=', '-=', '*='])} {{0}}", value))
                else:
                    out.append(Stmt(f"{name}[{k}] = {{0}}", value))
        res = self.new_float(sc)
        k = self.pick(list(range(n)) + [-1])
        if arrays:
            out.append(Stmt(f"{res} = " + self.pick([
                f"np.sum(sum({name}))", f"np.dot({name}[{k}], {name}[0])",
                f"np.sum({name}[{k}] * {name}[-1])", f"{name}[{k}][{self.index(sc)}]"])))
        else:
            out.append(Stmt(f"{res} = " + self.pick([
                f"sum({name})", f"sum({name}) * {name}[{k}]", f"{name}[{k}]",
                f"{name}[{k}] - {name}[0]"])))
        sc.floats.append(res)
        return out

    def program(self):
        helpers = []
        funcs = []
        if self.flag():
            nargs = self.upto(1, 2)
            funcs.append(self.function("h0", ["a", "b"][:nargs], "scalar", [], 1, 2))
            helpers.append(("h0", nargs, "scalar"))
        kinds = ["array"] + self.pick([[], ["array"], ["float"], ["array", "float"]])
        params = ["x", "y", "z"][:len(kinds)]
        arrays = [p for p, k in zip(params, kinds) if k == "array"]
        floats = [p for p, k in zip(params, kinds) if k == "float"]
        sc = Scope(floats or [], arrays=arrays + ["a0"], mutable=["a0"])
        # every program starts by copying its first array argument
        self.ctx = FuncCtx(helpers, "scalar", 2, 4)
        self.ctx.fresh("a")
        if not sc.floats:
            # scalar expressions need a float variable to read
            s0 = self.ctx.fresh("s")
            sc.floats.append(s0)
            first = [Stmt("a0 = x.copy()"), Stmt(f"{s0} = np.sum(x) * 0.5")]
        else:
            first = [Stmt("a0 = x.copy()")]
        first += self.use_helper(sc)
        body = self.block(sc, 1, 4)
        # the result reads the local array a0 (mutated in place) and the latest scalar
        ret = Stmt("return {0}", self.pick([
            lambda: Node("np.sum(a0 * {0}) + {1}", self.aexpr(sc, 1), self.ret_expr(sc)),
            lambda: Node("np.dot(a0, {0}) + {1}", self.aexpr(sc, 1), self.ret_expr(sc)),
            lambda: Node("np.sum({0}) + a0[%s] * {1}" % self.index(sc), self.aexpr(sc, 2),
                         self.ret_expr(sc)),
            lambda: self.ret_expr(sc),
        ])())
        funcs.append(FuncDef("f", params, first + body + [ret]))
        return Program(funcs, kinds)


# ---------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------

# inputs on a 1e-3 grid in [-2, 2], spread out (a golden-ratio walk) rather than clustered
# at 0 where Hypothesis' small integers would put them
_FLOAT = st.integers(0, 10**6).map(lambda k: round(4.0 * ((k * 0.6180339887498949) % 1.0) - 2.0,
                                                   3))


def _args(kinds):
    return st.tuples(*[
        _FLOAT if k == "float"
        else st.lists(_FLOAT, min_size=3, max_size=3).map(lambda v: np.array(v, dtype=float))
        for k in kinds])


@st.composite
def scalar_programs(draw):
    """(Program, args): a random scalar program and float inputs in [-2, 2]."""
    prog = Gen(draw).program()
    return prog, draw(_args(prog.arg_kinds))


@st.composite
def numpy_programs(draw):
    """(Program, args): a random NumPy program, arrays of length 3 and floats."""
    prog = NumpyGen(draw).program()
    return prog, draw(_args(prog.arg_kinds))


# ---------------------------------------------------------------------------------------
# Compiling and running
# ---------------------------------------------------------------------------------------

_OPS = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


class Compiled:
    def __init__(self, prog, fn, traced, trace, margins, filename, source):
        self.prog, self.fn, self.traced, self.filename = prog, fn, traced, filename
        self.trace, self.margins = trace, margins
        self.source = source


def exec_module(src, filename, extra):
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    mod = types.ModuleType(filename.rsplit("/", 1)[-1].removesuffix(".py"))
    mod.__file__ = filename
    mod.__dict__.update(extra)
    exec(compile(src, filename, "exec"), mod.__dict__)
    return mod


def compile_program(prog):
    """Compile the plain source (registered in linecache under a unique file name) and its
    instrumented twin. Returns a ``Compiled``."""
    # File and function names are derived from the program text, so replaying a program
    # (Hypothesis does, while shrinking and reporting) gives the same names and the same
    # failure location. Different programs get different function names (f_<hash>,
    # h0_<hash>): CPython code objects compare equal across modules when name, first line
    # and bytecode agree, and pygote caches adjoints by code object, so identical functions
    # from two programs whose helpers differ would share one adjoint (with the first
    # program's globals baked in). That collision is tested on its own, by
    # test_identical_functions_in_two_modules; here it would make results order-dependent.
    digest = hashlib.sha1(prog.source().encode()).hexdigest()[:10]
    filename = f"/pygote-random-programs/program_{digest}.py"
    tag = f"_{digest[:6]}"
    source = prog.source(tag=tag)
    plain = exec_module(source, filename, {})
    trace, margins = [], []

    def _cmp(cid, lhs, op, rhs, checked=True):
        res = bool(_OPS[op](lhs, rhs))
        trace.append((cid, res))
        if checked:
            lv, rv = float(lhs), float(rhs)
            margins.append(abs(lv - rv) / max(1.0, abs(lv), abs(rv)))
        return res

    traced = exec_module(prog.source(inst=True, tag=tag),
                          f"/pygote-random-programs/program_{digest}_traced.py",
                          {"_cmp": _cmp})
    return Compiled(prog, getattr(plain, "f" + tag), getattr(traced, "f" + tag), trace, margins,
                    filename, source)


class Rejected(Exception):
    """The program is not smooth / bounded at these inputs."""


def _as_float(val):
    arr = np.asarray(val)
    if arr.shape != () or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise Rejected(f"returned {val!r}")
    return float(arr)


def run_traced(comp, args):
    """(value, branch trace, smallest float-comparison margin) of the instrumented twin."""
    del comp.trace[:], comp.margins[:]
    try:
        with np.errstate(all="raise"):
            val = _as_float(comp.traced(*_copy(args)))
    except (ArithmeticError, ValueError, FloatingPointError, TypeError, RecursionError) as e:
        raise Rejected(f"raised {type(e).__name__}: {e}") from None
    if not math.isfinite(val) or abs(val) > MAX_ABS:
        raise Rejected(f"value {val}")
    return val, tuple(comp.trace), min(comp.margins, default=math.inf)


def _copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _perturbations(args, h):
    """(arg index, element index or None, args at +h, args at -h) for every input leaf."""
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            for j in range(a.size):
                plus, minus = _copy(args), _copy(args)
                plus[i][j] += h
                minus[i][j] -= h
                yield i, j, plus, minus
        else:
            plus, minus = list(args), list(args)
            plus[i] = a + h
            minus[i] = a - h
            yield i, None, plus, minus


def screen(comp, args, h=EPS):
    """Raise ``Rejected`` unless the program is smooth and bounded around ``args``: no
    exception, finite |f| <= 1e6, every float comparison at least ``MARGIN`` from flipping,
    and the same branch trace at every finite-difference perturbation. Returns f(args)."""
    val, trace, margin = run_traced(comp, args)
    if margin < MARGIN:
        raise Rejected(f"comparison within {margin:.2g} of flipping")
    for _, _, plus, minus in _perturbations(args, h):
        for p in (plus, minus):
            _, tr, _ = run_traced(comp, p)
            if tr != trace:
                raise Rejected("branch trace changes under perturbation")
    return val


def finite_difference(fn, args, h=EPS):
    """Central differences of ``fn`` at ``args``: a float per float argument, an array per
    array argument."""
    out = [np.zeros(a.shape) if isinstance(a, np.ndarray) else 0.0 for a in args]
    for i, j, plus, minus in _perturbations(args, h):
        d = (_as_float(fn(*plus)) - _as_float(fn(*minus))) / (2 * h)
        if j is None:
            out[i] = d
        else:
            out[i][j] = d
    return out


def _tolerance(value, fd):
    return ATOL * max(1.0, abs(value)) + RTOL * np.abs(np.asarray(fd, dtype=float))


def check_fd_reliable(fn, args, value, expected, h=EPS):
    """Raise ``Rejected`` if the oracle itself is not accurate to the test's tolerance: the
    central difference at 2h must agree with the one at h to a quarter of the tolerance
    (their difference is about 3x the O(h^2) truncation error of the h estimate). Rapidly
    oscillating programs (third derivative ~1e13) fail this and are not used."""
    coarse = finite_difference(fn, args, 2 * h)
    for fd, fd2 in zip(expected, coarse):
        if np.any(np.abs(np.asarray(fd) - np.asarray(fd2)) > 0.25 * _tolerance(value, fd)):
            raise Rejected("finite differences unreliable (h vs 2h)")


def describe(comp, args):
    shown = ", ".join(np.array2string(a, precision=17, separator=", ") if isinstance(
        a, np.ndarray) else repr(a) for a in args)
    return f"{comp.fn.__name__}({shown}) in generated module {comp.filename}:\n\n{comp.source}"


def check_program(prog, args, gradient, reject=None):
    """Check ``gradient(f, *args)`` against central finite differences of the program.

    ``reject(reason)`` is called for programs not smooth/bounded around ``args``
    (default: ``hypothesis.assume(False)``)."""
    comp = compile_program(prog)
    try:
        value = screen(comp, args)
        expected = finite_difference(comp.fn, args)
        check_fd_reliable(comp.fn, args, value, expected)
    except Rejected as r:
        if reject is None:
            assume(False)
        reject(str(r))
        return None
    compare(comp.fn, args, value, expected, gradient, describe(comp, args))
    return expected


_RAISED: dict = {}


def _raised(exc):
    """An AssertionError subclass per pygote exception type (``PygoteRaisedTypeError``...)."""
    name = "PygoteRaised" + type(exc).__name__
    if name not in _RAISED:
        _RAISED[name] = type(name, (AssertionError,), {"__module__": __name__})
    return _RAISED[name]


def compare(fn, args, value, expected, gradient, what):
    """Run pygote and compare leaf by leaf; the message names the program source.

    If pygote raises, the failure is a ``PygoteRaised<Type>`` (an AssertionError) carrying
    the traceback as text and raised *outside* the ``except`` block: Hypothesis tells bugs
    apart by exception type, location and ``__context__``, and the context's location is in
    each generated file, which would make every program a "distinct" bug."""
    error = None
    try:
        got = gradient(fn, *_copy(args))
    except Exception as e:  # noqa: BLE001 - any pygote error is a test failure
        tb = "".join(traceback.format_exception(e)[-8:])
        error = _raised(e)(f"pg.gradient raised {type(e).__name__}: {e}\nfor {what}\n"
                           f"pygote traceback (innermost frames):\n{tb}")
    if error is not None:
        raise error
    if not isinstance(got, tuple) or len(got) != len(args):
        raise AssertionError(f"pg.gradient returned {got!r}, expected a tuple of "
                             f"{len(args)} gradients\nfor {what}")
    problems = []
    for i, (a, g, fd) in enumerate(zip(args, got, expected)):
        try:
            ga = np.asarray(g, dtype=float)
        except (TypeError, ValueError):
            problems.append(f"  d/d arg {i}: pygote returned {g!r}, finite differences {fd!r}")
            continue
        if ga.shape != np.shape(a):
            problems.append(f"  d/d arg {i}: gradient shape {ga.shape} != argument shape "
                            f"{np.shape(a)} (got {g!r})")
            continue
        fda = np.asarray(fd, dtype=float)
        tol = _tolerance(value, fda)
        if not np.all(np.abs(ga - fda) <= tol):
            problems.append(f"  d/d arg {i}: pygote {g!r}, finite differences {fd!r} "
                            f"(|diff| {np.max(np.abs(ga - fda)):.3g})")
    if problems:
        raise AssertionError("gradient disagrees with central finite differences (h=%g, "
                             "rtol=%g, atol=%g*max(1,|f|)), f = %r:\n%s\nfor %s"
                             % (EPS, RTOL, ATOL, value, "\n".join(problems), what))
