"""Derivative rules, one module per library area; importing this package registers them all."""

from pygote.rules import registry  # noqa: F401
from pygote.rules import (  # noqa: F401
    builtins,
    math_,
    numpy_indexing,
    numpy_linalg,
    numpy_misc,
    numpy_nondiff,
    numpy_products,
    numpy_reductions,
    numpy_shape,
    numpy_ufuncs,
    operators,
)
