"""The function ``pg.holomorphic_grad`` returns, written as plain Python that pygote can
differentiate again (so ``holomorphic_grad(holomorphic_grad(f))`` is ``f''`` and
``pg.grad``/``pg.jacfwd`` of a function calling it work, like ``pg.grad``'s in
``higher.py``).

For holomorphic ``f`` the complex derivative is ``conj(grad(Re f))``: the gradient of
``Re f`` in pygote's convention (``d/dx + 1j*d/dy``) is, by the Cauchy-Riemann equations,
``Re f'(z) - 1j * Im f'(z)``. The gradient is a ``pg.grad`` function, which both
transformers already know how to differentiate; everything else here is a promotion to
complex, a conjugation, and value checks done by nondifferentiable helpers.
"""

from __future__ import annotations

import numpy as np

from pygote.api import grad  # called, not made nondifferentiable: see holomorphic_gradient
from pygote.errors import DifferentiationError
from pygote.rules.registry import nondifferentiable

__all__ = ["holomorphic_gradient_function"]


def _name(f) -> str:
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


def _check_output(f, y):
    """``f`` returned ``y``: a scalar number, or an error saying what to use instead."""
    if np.ndim(y) != 0:
        raise DifferentiationError(
            f"pg.holomorphic_grad needs a scalar output, but {_name(f)} returned a value of "
            f"shape {np.shape(y)}. For a vector output use pg.jacobian(f, holomorphic=True) "
            "or pg.jacfwd(f) (forward mode's tangent 1 gives f'(z) for a holomorphic f).")
    if not isinstance(y, (float, complex, int, np.number)) and not (
            isinstance(y, np.ndarray) and issubclass(y.dtype.type, np.number)):
        raise DifferentiationError(
            f"pg.holomorphic_grad needs a complex scalar output, but {_name(f)} returned a "
            f"{type(y).__name__}.")


def _check_argnums(f, argnums, n):
    wanted = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in wanted:
        if not -n <= i < n:
            raise DifferentiationError(
                f"argnums asks for argument {i} of {_name(f)}, but it was called with {n} "
                "positional arguments.")
    return tuple(i % n for i in wanted)


def _promotion(x):
    """How ``x`` becomes complex: ``"float"``, ``"array64"``, ``"array128"`` or ``None``."""
    if type(x) is float:
        return "float"
    if isinstance(x, (np.ndarray, np.floating)) and issubclass(x.dtype.type, np.floating):
        return "array64" if x.dtype == np.float32 else "array128"
    return None


def _conj_kind(g):
    if type(g) is complex:
        return "complex"
    if isinstance(g, (np.ndarray, np.generic)) and np.iscomplexobj(g):
        return "array"
    if isinstance(g, tuple) and not hasattr(type(g), "_fields"):
        return "tuple"
    if isinstance(g, list):
        return "list"
    if isinstance(g, dict):
        return "dict"
    return "plain"


nondifferentiable(_name, _check_output, _check_argnums, _promotion, _conj_kind)


def as_complex(x):
    kind = _promotion(x)
    if kind == "float":
        return complex(x)
    if kind == "array64":
        return x.astype(np.complex64)
    if kind == "array128":
        return x.astype(np.complex128)
    return x


def conj_tree(g):
    """The complex conjugate of a gradient, structurally; ``+ 0`` turns the ``-0.0``
    imaginary parts conjugation makes of zeros into ``+0.0``."""
    kind = _conj_kind(g)
    if kind == "complex":
        return complex(g.real, 0.0 - g.imag)
    if kind == "array":
        return np.conj(g) + 0
    if kind == "tuple" or kind == "list":
        out = []
        for item in g:
            out.append(conj_tree(item))
        if kind == "tuple":
            return tuple(out)
        return out
    if kind == "dict":
        d = {}
        for k in g:
            d[k] = conj_tree(g[k])
        return d
    return g


def real_part_of(f):
    """``Re(f)``, checking that ``f`` is scalar-valued."""
    def real_part(*args, **kwargs):
        y = f(*args, **kwargs)
        _check_output(f, y)
        return np.real(y)

    return real_part


def holomorphic_gradient_function(f, argnums=0):
    """The function ``pg.holomorphic_grad(f, argnums)`` returns."""
    def holomorphic_gradient(*args, **kwargs):
        wanted = _check_argnums(f, argnums, len(args))
        promoted = []
        for i in range(len(args)):
            if i in wanted:
                promoted.append(as_complex(args[i]))
            else:
                promoted.append(args[i])
        # pg.grad itself, not a nondifferentiable helper that calls it: the function it
        # makes must stay active, so that cotangents reach the variables f captures even
        # when the point z is a constant
        g = grad(real_part_of(f), argnums)
        return conj_tree(g(*promoted, **kwargs))

    return holomorphic_gradient
