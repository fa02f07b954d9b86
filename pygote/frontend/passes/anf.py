"""Pass 7, ``anf``: A-normal form -- one operation per statement, atoms everywhere else.

Guarantees afterwards, for the function's own scope (nested def/lambda/class bodies are
not entered), given the earlier passes' output (it also copes with their input: any
comprehension, conditional expression, walrus, unpacking or augmented subscript left is
lowered the same way):

* ``y = e`` has a single-name target and ``e`` is an atom or ONE operation on atoms:
  ``a OP b``, ``OP a``, ``a CMP b`` (one comparator), ``f(args)`` with ``f`` a name,
  ``r.m(args)`` (a method call stays one statement, the receiver a name: ``a.b.m(x)`` ->
  ``_t1 = a.b; _t2 = _t1.m(x)``), ``r.attr``, ``r[index]`` (index an atom, a slice of
  atoms/None, or a tuple of those), a tuple/list/set/dict display of atoms (``*atom`` in
  tuple/list/call arguments, ``**atom`` in dicts/calls), an f-string whose formatted
  values (format specs included) are atoms, or a ``lambda`` whose defaults are atoms
  (``lambdas`` turns those into defs). Receivers ``r`` are names (a constant receiver such
  as ``"".join`` is stored into a temporary first).
* ``r.attr = atom``, ``r[index] = atom``, ``y OP= atom``, ``del r[index]``, ``del r.attr``.
* ``if``/``while`` tests are names; a while test needing statements has them before the
  loop and again as the last statements of the body (before a final ``if flag: break``,
  under ``if flag: pass else:``). ``for`` targets are names and iterables atoms.
* ``return atom``, ``raise atom [from atom]``; nested ``def`` decorators and defaults are
  atoms (evaluated in Python's order: decorators, then defaults).
* Evaluation order is Python's: left to right, a call's function and arguments before
  the call, an assignment's right-hand side before its target's receiver and index.
  Operands are computed into temporaries ``_t1``, ``_t2``, ... in that order; a read of an
  unstable name (walrus target, ``global``/``nonlocal`` name, a cell a nested function
  rebinds) is stored into a temporary before a later operand is evaluated. Known
  deviation: the attribute lookup of a method call happens after its arguments.

Handler types of ``except`` clauses and class definitions are left as written. Outside
the pipeline this pass also lowers ``with`` statements (as ``with_`` does); a ``while``
whose test needs statements and whose body has ``break``/``continue`` must have gone
through ``control_flow`` first (otherwise DifferentiationError).
Generated statements carry the location of the user statement they came from.
"""

from __future__ import annotations

import ast
import copy

from . import comprehensions, expressions  # noqa: F401  (register their lowerings)
from ._engine import Linearizer


def to_anf(fn: ast.FunctionDef, filename: str | None = None,
        *, copy_input: bool = True) -> ast.FunctionDef:
    """Bring ``fn``'s own scope into A-normal form."""
    if copy_input:  # normalize() passes its own private copy
        fn = copy.deepcopy(fn)
    return Linearizer(fn, filename).run(fn)


run = to_anf
