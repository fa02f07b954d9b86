"""Complex derivatives of holomorphic functions: ``holomorphic_grad``.

pygote's gradients follow one convention for complex numbers (API.md): for a real-valued
``f`` of ``z = x + iy``, ``grad(f)(z) == df/dx + 1j*df/dy``, the direction of steepest
ascent. A holomorphic ``f`` is complex-valued; its reverse-mode cotangent for the seed 1
is the gradient of ``Re(f)``, which by the Cauchy-Riemann equations is
``d Re f/dx + 1j * d Re f/dy = Re f'(z) - 1j * Im f'(z) = conj(f'(z))``. So the complex
derivative is the conjugate of that gradient, and this module computes it that way (the
function it returns lives in ``pygote.rules.complex_`` so that pygote can differentiate it
again).
"""

from __future__ import annotations

from typing import Callable

from pygote.rules.complex_ import holomorphic_gradient_function
from pygote.rules.registry import defreplacement

__all__ = ["holomorphic_grad"]


def holomorphic_grad(f: Callable, argnums=0) -> Callable:
    """``f`` -> its complex derivative ``f'(z)``, for holomorphic scalar-valued ``f``.

    ``argnums`` is an int or a tuple of ints (then a tuple of derivatives is returned).
    Complex scalars give ``f'(z)``; a complex array ``z`` (``f`` still returning a
    scalar) gives the array of partial derivatives ``df/dz_k``. Real float arguments in
    ``argnums`` are promoted to complex first, so ``holomorphic_grad(np.exp)(1.0)`` is
    ``e + 0j``.

    The result is ``conj(grad(Re f))``: the gradient of ``Re f`` in pygote's convention
    (``d/dx + 1j*d/dy``) is, by the Cauchy-Riemann equations, ``conj(f'(z))``. For an
    ``f`` that is not holomorphic the result is that conjugated gradient of ``Re f``,
    which is not a complex derivative (none exists). It composes with the other
    transforms: ``holomorphic_grad(holomorphic_grad(f))`` is ``f''``.

    >>> holomorphic_grad(lambda z: z ** 3)(1 + 2j)
    (-9+12j)
    """
    g = holomorphic_gradient_function(f, argnums)
    name = f"holomorphic_grad({getattr(f, '__name__', 'f')})"
    g.__name__ = g.__qualname__ = name
    g.__doc__ = getattr(f, "__doc__", None)
    return g


# inside differentiated code the maker is followed as plain Python (as pg.grad's is), so
# the function it makes carries the dependence on what f captures; not nondifferentiable,
# which would make it a constant whose calls at a constant point record nothing
defreplacement(holomorphic_grad, holomorphic_gradient_function)
