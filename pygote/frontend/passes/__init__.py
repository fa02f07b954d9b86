"""Normalization: bring a user function into core Python (docs/core-python.md).

``normalize(fn_def, filename)`` runs the passes below in order on a deep copy of the
``ast.FunctionDef`` and returns a new one (args, defaults, decorators and annotations of
the function itself kept). Each pass is a pure ``FunctionDef -> FunctionDef`` function in
its own module, whose docstring states what it guarantees afterwards:

1. ``prepare``       reject yield/async/await/match/except*; hoist global/nonlocal
2. ``with_``         ``with`` -> explicit ``__enter__``/``__exit__`` with try/except/finally
3. ``control_flow``  break/continue/early return/loop else -> flags; one final return;
                     while tests computed into names
4. ``assignments``   unpacking, chained/annotated/augmented-subscript assignment, assert,
                     del, for targets, expression statements, docstrings
5. ``comprehensions`` comprehensions/generator expressions -> loops
6. ``expressions``   ``x if c else y``, and/or, chained comparisons, walrus -> ifs
7. ``anf``           A-normal form: one operation per statement, atom operands
8. ``lambdas``       ``lambda`` -> nested ``def _lambda_N``

Constructs that cannot be normalized raise ``pygote.errors.DifferentiationError`` naming
the construct, the file and line; no other exception escapes ``normalize``.
"""

from __future__ import annotations

import ast
import copy

from pygote.errors import DifferentiationError, unsupported

from .anf import to_anf
from .assignments import lower_assignments
from .comprehensions import lower_comprehensions
from .control_flow import lower_control_flow
from .expressions import lower_expressions
from .lambdas import lower_lambdas
from .prepare import prepare
from .with_ import lower_with

__all__ = ["normalize", "PASSES", "prepare", "lower_with", "lower_control_flow",
           "lower_assignments", "lower_comprehensions", "lower_expressions", "to_anf",
           "lower_lambdas"]

PASSES = (
    prepare,
    lower_with,
    lower_control_flow,
    lower_assignments,
    lower_comprehensions,
    lower_expressions,
    to_anf,
    lower_lambdas,
)


def normalize(fn: ast.FunctionDef, filename: str | None = None) -> ast.FunctionDef:
    """``fn`` (not modified) in core Python, as a new ``ast.FunctionDef``."""
    out = copy.deepcopy(fn)
    for p in PASSES:
        try:
            out = p(out, filename, copy_input=False)
        except DifferentiationError:
            raise
        except RecursionError:
            raise unsupported("a function this deeply nested", filename,
                              getattr(fn, "lineno", None), getattr(fn, "name", None),
                              "Split the expression or statement into smaller parts.") from None
        except Exception as e:  # an internal failure must not surface as a random error
            raise unsupported(f"this function (normalization pass `{p.__name__}` failed: "
                              f"{type(e).__name__}: {e})", filename,
                              getattr(fn, "lineno", None), getattr(fn, "name", None),
                              "Please report this; rewriting the construct in simpler "
                              "Python may work around it.") from e
    ast.fix_missing_locations(out)
    return out
