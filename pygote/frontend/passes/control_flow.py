"""Pass 3, ``control_flow``: break/continue/early return/loop-else -> flags and ifs.

Guarantees afterwards, for the function's own scope (nested def/lambda/class bodies are
not entered):

* No ``continue`` statement.
* The only ``break`` is ``if _break_N: break``, the last statement of a loop body; a loop
  that needs it is preceded by ``_break_N = False``. ``break`` sets ``_break_N = True``.
* ``continue`` sets ``_continue_N = True`` (reset to False as the loop body's first
  statement). After a statement that may have jumped, the rest of the block runs under
  ``if not <flag>:`` where the flag is the loop's skip flag (``_continue_N`` if the loop
  has a continue, else ``_break_N``) inside a loop, and ``_return_flag`` outside loops.
* No ``for``/``while ... else``: the else block follows the loop, under
  ``if not _break_N:`` when the loop can break. The ``else`` block of a ``try`` whose
  body may jump runs under ``if not <flag>:`` (a jump out of the body skips it).
* ``while`` tests are names: ``while c:`` keeps a name ``c``; otherwise
  ``_tN = test`` is computed before the loop and again as the last statements of the
  body (under ``if _break_N: pass else:`` just before the final ``if _break_N: break``,
  so a loop that breaks does not evaluate its test again). A constant test is computed
  only before the loop.
* Exactly one ``return``, the last statement of the body (``return None`` appended when
  the function has none). If the only return was already the last statement it is kept.
  Otherwise ``_return_value = None`` (and ``_return_flag = False`` when needed) start the
  body, ``return e`` becomes ``_return_value = e`` plus -- unless nothing can run after
  it -- ``_return_flag = True`` and, inside loops, every enclosing loop's
  ``_break_N``/``_continue_N = True``; the body ends with ``return _return_value``.
* Statements after an unconditional return/break/continue/raise in the same block are
  dropped (dead code); a ``continue`` at the end of a loop body is dropped.
* The statements after an ``if`` (without ``else``) whose body ends in ``return`` become its
  ``else`` branch: at the function's tail, the ``return`` then needs no flag.

Every generated statement carries the location of the user statement it replaces (a
guard ``if`` takes the location of the first statement it guards).
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

from ._util import (SCOPE_NODES, Namer, Where, assign, const, located, name, not_,
                    replace_body)

_JUMPS = (ast.Return, ast.Break, ast.Continue, ast.Raise)


@dataclass
class _Loop:
    brk: str | None
    cont: str | None

    @property
    def skip(self) -> str | None:
        return self.cont or self.brk


def _summarize(stmts: list[ast.stmt]) -> tuple[bool, bool, bool]:
    """(break, continue, return) reachable from ``stmts`` for the loop around them."""
    brk = cont = ret = False
    for s in stmts:
        if isinstance(s, ast.Break):
            brk = True
        elif isinstance(s, ast.Continue):
            cont = True
        elif isinstance(s, ast.Return):
            ret = True
        elif isinstance(s, SCOPE_NODES):
            pass
        elif isinstance(s, (ast.For, ast.While)):
            ret |= _summarize(s.body)[2]
            b, c, r = _summarize(s.orelse)
            brk, cont, ret = brk or b, cont or c, ret or r
        else:
            blocks = [getattr(s, f, None) or [] for f in ("body", "orelse", "finalbody")]
            blocks += [h.body for h in getattr(s, "handlers", None) or []]
            for blk in blocks:
                b, c, r = _summarize(blk)
                brk, cont, ret = brk or b, cont or c, ret or r
    return brk, cont, ret


def _count_returns(stmts: list[ast.stmt]) -> int:
    n = 0
    for s in stmts:
        if isinstance(s, ast.Return):
            n += 1
        elif not isinstance(s, SCOPE_NODES):
            for f in ("body", "orelse", "finalbody"):
                n += _count_returns(getattr(s, f, None) or [])
            for h in getattr(s, "handlers", None) or []:
                n += _count_returns(h.body)
    return n


def _drop_dead(stmts: list[ast.stmt]) -> list[ast.stmt]:
    for i, s in enumerate(stmts):
        if isinstance(s, _JUMPS):
            return stmts[: i + 1]
    return stmts


def _strip_tail_continue(stmts: list[ast.stmt]) -> list[ast.stmt]:
    stmts = _drop_dead(stmts)
    if not stmts:
        return stmts
    last = stmts[-1]
    if isinstance(last, ast.Continue):
        return stmts[:-1] or [located(ast.Pass(), last)]
    if isinstance(last, ast.If):
        new = copy.copy(last)
        new.body = _strip_tail_continue(last.body)
        new.orelse = _strip_tail_continue(last.orelse)
        return stmts[:-1] + [new]
    return stmts


class _ControlFlow:
    def __init__(self, fn: ast.FunctionDef, where: Where):
        self.namer = Namer(fn)
        self.where = where
        n = _count_returns(fn.body)
        body = _drop_dead(fn.body)
        if n == 0:
            self.scheme = "none"
        elif n == 1 and body and isinstance(body[-1], ast.Return):
            self.scheme = "keep"
        else:
            self.scheme = "flags"
        self.rv = self.namer.exact("_return_value") if self.scheme == "flags" else None
        self.rf: str | None = None

    def return_flag(self) -> str:
        if self.rf is None:
            self.rf = self.namer.exact("_return_flag")
        return self.rf

    # -- blocks ---------------------------------------------------------------------------

    def block(self, stmts: list[ast.stmt], loops: list[_Loop], tail: bool) -> list[ast.stmt]:
        stmts = _drop_dead(stmts)
        for i, s in enumerate(stmts[:-1]):
            # `if c: ...; return a` then the rest: the rest is the else branch (at the
            # function's tail, no flag is needed to skip it)
            if isinstance(s, ast.If) and not s.orelse and isinstance(_drop_dead(s.body)[-1],
                                                                    ast.Return):
                new = copy.copy(s)
                new.orelse = stmts[i + 1:]
                stmts = stmts[:i] + [new]
                break
        out: list[ast.stmt] = []
        for i, s in enumerate(stmts):
            last = i == len(stmts) - 1
            out.extend(self.stmt(s, loops, tail and last))
            if not last and self.jumps(s, loops):
                rest = self.block(stmts[i + 1:], loops, tail)
                flag = loops[-1].skip if loops else self.return_flag()
                guard = ast.If(test=not_(name(flag)), body=rest or [ast.Pass()], orelse=[])
                out.append(located(guard, stmts[i + 1]))
                return out
        return out

    @staticmethod
    def jumps(s: ast.stmt, loops: list[_Loop]) -> bool:
        b, c, r = _summarize([s])
        return r or (bool(loops) and (b or c))

    # -- statements -----------------------------------------------------------------------

    def stmt(self, s: ast.stmt, loops: list[_Loop], tail: bool) -> list[ast.stmt]:
        if isinstance(s, ast.Return):
            return self.ret(s, loops, tail)
        if isinstance(s, ast.Break):
            loop = loops[-1]
            out = [assign(loop.brk, const(True))]
            if loop.cont:
                out.append(assign(loop.cont, const(True)))
            return [located(x, s) for x in out]
        if isinstance(s, ast.Continue):
            return [located(assign(loops[-1].cont, const(True)), s)]
        if isinstance(s, (ast.For, ast.While)):
            return self.loop(s, loops, tail)
        if isinstance(s, SCOPE_NODES):
            return [s]
        if isinstance(s, ast.If):
            new = copy.copy(s)
            new.body = self.block(s.body, loops, tail) or [located(ast.Pass(), s)]
            new.orelse = self.block(s.orelse, loops, tail)
            return [new]
        if isinstance(s, ast.Try):
            new = copy.copy(s)
            new.body = self.block(s.body, loops, tail and not s.orelse) or \
                [located(ast.Pass(), s)]
            hs = []
            for h in s.handlers:
                h = copy.copy(h)
                h.body = self.block(h.body, loops, tail) or [located(ast.Pass(), h)]
                hs.append(h)
            new.handlers = hs
            new.orelse = self.block(s.orelse, loops, tail)
            if new.orelse and any(self.jumps(x, loops) for x in s.body):
                # a jump out of the try body skips its else clause
                flag = loops[-1].skip if loops else self.return_flag()
                new.orelse = [located(ast.If(test=not_(name(flag)), body=new.orelse,
                                             orelse=[]), s.orelse[0])]
            new.finalbody = self.block(s.finalbody, loops, tail)
            return [new]
        if isinstance(s, ast.With):
            new = copy.copy(s)
            new.body = self.block(s.body, loops, False) or [located(ast.Pass(), s)]
            return [new]
        return [s]

    def ret(self, s: ast.Return, loops: list[_Loop], tail: bool) -> list[ast.stmt]:
        value = s.value if s.value is not None else const(None)
        if self.scheme != "flags":
            return [located(ast.Return(value=value), s)]
        out: list[ast.stmt] = [assign(self.rv, value)]
        if not (tail and not loops):
            out.append(assign(self.return_flag(), const(True)))
            for loop in reversed(loops):
                out.append(assign(loop.brk, const(True)))
                if loop.cont:
                    out.append(assign(loop.cont, const(True)))
        return [located(x, s) for x in out]

    def loop(self, s: ast.For | ast.While, loops: list[_Loop], tail: bool) -> list[ast.stmt]:
        body = _strip_tail_continue(s.body)
        has_b, has_c, has_r = _summarize(body)
        brk = cont = None
        if has_b or has_r or has_c:
            b_name, c_name = self.namer.numbered_group(["_break_", "_continue_"])
            brk = b_name if (has_b or has_r) else None
            cont = c_name if has_c else None
        loop = _Loop(brk, cont)
        new_body = self.block(body, loops + [loop], False)
        if cont:
            new_body.insert(0, located(assign(cont, const(False)), s))
        pre: list[ast.stmt] = []
        new = copy.copy(s)
        new.orelse = []
        if isinstance(s, ast.While):
            test = s.test
            if not isinstance(test, ast.Name):
                t = self.namer.fresh()
                pre.append(located(assign(t, copy.deepcopy(test)), s))
                new.test = name(t)
                if not isinstance(test, ast.Constant):
                    again = located(assign(t, copy.deepcopy(test)), s)
                    if brk:
                        again = located(ast.If(test=name(brk), body=[ast.Pass()],
                                               orelse=[again]), s)
                    new_body.append(again)
        if brk:
            pre.insert(0, located(assign(brk, const(False)), s))
            new_body.append(located(ast.If(test=name(brk), body=[ast.Break()], orelse=[]), s))
        new.body = new_body or [located(ast.Pass(), s)]
        out = pre + [new]
        if s.orelse:
            orelse = self.block(s.orelse, loops, tail)
            if brk:
                out.append(located(ast.If(test=not_(name(brk)), body=orelse or [ast.Pass()],
                                          orelse=[]), s.orelse[0]))
            else:
                out.extend(orelse)
        return out

    # -- function -------------------------------------------------------------------------

    def function(self, fn: ast.FunctionDef) -> list[ast.stmt]:
        body = self.block(fn.body, [], True)
        last = fn.body[-1] if fn.body else fn
        if self.scheme == "none":
            body.append(located(ast.Return(value=const(None)), last))
            return body
        if self.scheme == "keep":
            return body
        # a body ending in `return e` returns a value on every path: the first value of
        # `_return_value` is never returned, and a float keeps a real function's result
        # known as a real number (inline adjoints; None would hide that)
        always = bool(fn.body) and isinstance(_drop_dead(fn.body)[-1], ast.Return)
        init = [located(assign(self.rv, const(0.0 if always else None)), fn.body[0])]
        if self.rf is not None:
            init.append(located(assign(self.rf, const(False)), fn.body[0]))
        k = 0
        while k < len(body) and isinstance(body[k], (ast.Global, ast.Nonlocal)):
            k += 1
        body = body[:k] + init + body[k:]
        body.append(located(ast.Return(value=name(self.rv)), last))
        return body


def lower_control_flow(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Remove break/continue/early returns/loop-else from ``fn``'s own scope."""
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    return replace_body(fn, _ControlFlow(fn, Where(fn, filename)).function(fn))


run = lower_control_flow
