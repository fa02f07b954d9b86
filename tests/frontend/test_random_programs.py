"""Random small programs (hypothesis): normalize keeps behaviour and yields core Python.

The generator writes straight-line arithmetic, if/elif/else, ``for`` loops over small
ranges with ``break``/``continue``/``else``, bounded ``while`` loops with ``break`` and
``continue``, early returns, conditional expressions, and/or, chained comparisons,
comprehensions, augmented assignment and prints.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pygote.frontend.passes import normalize

from .core_checker import assert_core
from .harness import assert_same

VARS = ("a", "b", "c")
INPUTS = [(1, 2, 3), (0, -1, 5), (7, 7, -2), (-3, 4, 0)]


class _Gen:
    def __init__(self, rng):
        self.rng = rng
        self.loops = 0

    def pick(self, n: int) -> int:
        return self.rng.randrange(n)

    def expr(self, depth: int = 0) -> str:
        k = self.pick(2 if depth >= 2 else 7)
        if k == 0:
            return VARS[self.pick(3)]
        if k == 1:
            return str(self.pick(7) - 3)
        if k == 2:
            return f"({self.expr(depth + 1)} {'+-*'[self.pick(3)]} {self.expr(depth + 1)})"
        if k == 3:
            return f"({self.expr(depth + 1)} if {self.cond(depth + 1)} else {self.expr(depth + 1)})"
        if k == 4:
            return f"({self.expr(depth + 1)} {('and', 'or')[self.pick(2)]} {self.expr(depth + 1)})"
        if k == 5:
            return (f"sum(x * {self.expr(depth + 1)} for x in range({self.pick(4)})"
                    f" if x != {VARS[self.pick(3)]})")
        return f"abs({self.expr(depth + 1)}) % 7"

    def cond(self, depth: int = 0) -> str:
        k = self.pick(2 if depth >= 1 else 4)
        if k == 0:
            op = ("<", "<=", "==", "!=", ">")[self.pick(5)]
            return f"{self.expr(depth + 1)} {op} {self.expr(depth + 1)}"
        if k == 1:
            return f"{self.expr(depth + 1)} < {self.expr(depth + 1)} <= {self.expr(depth + 1)}"
        if k == 2:
            return f"not ({self.cond(depth + 1)})"
        return f"({self.cond(depth + 1)}) {('and', 'or')[self.pick(2)]} ({self.cond(depth + 1)})"

    def block(self, indent: int, depth: int, in_loop: bool) -> list[str]:
        n = 1 + self.pick(3 if depth == 0 else 2)
        out: list[str] = []
        for _ in range(n):
            out += self.stmt(indent, depth, in_loop)
        return out

    def stmt(self, indent: int, depth: int, in_loop: bool) -> list[str]:
        pad = "    " * indent
        kinds = 6 if depth < 2 else 3
        k = self.pick(kinds + (2 if in_loop else 0))
        v = VARS[self.pick(3)]
        if k == 0:
            return [f"{pad}{v} = ({self.expr()}) % 1009"]
        if k == 1:
            return [f"{pad}{v} {('+=', '-=')[self.pick(2)]} {self.expr()}",
                    f"{pad}print({v}, {self.expr()})"]
        if k == 2:
            return [f"{pad}if {self.cond()}:", f"{pad}    return {self.expr()}"]
        if k == 3:
            lines = [f"{pad}if {self.cond()}:"] + self.block(indent + 1, depth + 1, in_loop)
            if self.pick(2):
                lines += [f"{pad}elif {self.cond()}:"] + self.block(indent + 1, depth + 1, in_loop)
            if self.pick(2):
                lines += [f"{pad}else:"] + self.block(indent + 1, depth + 1, in_loop)
            return lines
        if k == 4:
            self.loops += 1
            i = f"i{self.loops}"
            lines = [f"{pad}for {i} in range({self.pick(5)}):",
                     f"{pad}    {v} = ({v} + {i}) % 1009"]
            lines += self.block(indent + 1, depth + 1, True)
            if self.pick(2):
                lines += [f"{pad}else:"] + self.block(indent + 1, depth + 1, in_loop)
            return lines
        if k == 5:
            self.loops += 1
            w = f"w{self.loops}"
            lines = [f"{pad}{w} = 0",
                     f"{pad}while {w} < {1 + self.pick(4)} and ({self.cond()}):",
                     f"{pad}    {w} += 1"]
            lines += self.block(indent + 1, depth + 1, True)
            if self.pick(2):
                lines += [f"{pad}else:"] + self.block(indent + 1, depth + 1, in_loop)
            return lines
        # in a loop only
        jump = ("break", "continue")[k - kinds]
        return [f"{pad}if {self.cond()}:", f"{pad}    {jump}"]


@st.composite
def programs(draw):
    gen = _Gen(draw(st.randoms(use_true_random=False)))
    body = gen.block(1, 0, False)
    if gen.pick(3):
        body.append(f"    return ({gen.expr()}, a, b, c)")
    return "def f(a, b, c):\n" + "\n".join(body) + "\n"


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_keep_behaviour(src):
    new = assert_same(src, lambda d: normalize(d, "<test>"), INPUTS)
    assert_core(new)
