"""One user rule gives both modes: a forward rule is linear in the tangents, a reverse rule
linear in the cotangent, so each is the other's transpose, found by differentiating the
user's own rule once more (pygote transforms its source):

- reverse mode through a ``pg.custom_jvp`` function: the cotangent of the inputs is the
  gradient, with respect to the tangents (at zero), of ``<g, jvp(primals, tangents)>``;
- forward mode through a ``pg.custom_vjp`` function: the output tangent is the gradient,
  with respect to the cotangent (at zero), of ``<bwd(residuals, u), tangents>``.

This module lives among the rules because its functions are differentiated.
"""

from __future__ import annotations

import numpy as np

from pygote.rules.registry import nondifferentiable
from pygote.runtime.values import zeros_like

__all__ = ["vjp_from_jvp", "jvp_from_vjp", "jvp_from_pullback", "pairing"]


def pairing(a, b):
    """``Re <a, b>`` (None is zero), in operations pygote differentiates."""
    if a is None or b is None:
        return 0.0
    if isinstance(a, (tuple, list)):
        total = 0.0
        for x, y in zip(a, b):
            total = total + pairing(x, y)
        return total
    return np.real(np.sum(np.conj(a) * b))


def _zeros(values):
    return tuple(zeros_like(v) if zeros_like(v) is not None else 0.0 for v in values)


def _gradient(f, args):
    from pygote.api import gradient

    return gradient(f, *args)


nondifferentiable(_zeros)


def vjp_from_jvp(rule, fixed, primals, g):
    """Cotangents of ``primals`` for output cotangent ``g`` of a function whose forward
    rule is ``rule(*fixed, primals, tangents) -> (y, dy)`` (JAX's convention)."""
    def paired(*tangents):
        _, dy = rule(*fixed, tuple(primals), tangents)
        return pairing(g, dy)

    return _gradient(paired, _zeros(primals))


def jvp_from_vjp(bwd, fixed, residuals, ans, tangents):
    """Tangent of ``ans`` for input ``tangents`` of a function whose reverse rule is
    ``bwd(*fixed, residuals, u) -> cotangents`` (JAX's convention)."""
    def pullback(u):
        return bwd(*fixed, residuals, u)

    return jvp_from_pullback(pullback, ans, tangents)


def jvp_from_pullback(pullback, ans, tangents):
    """Tangent of ``ans`` for input ``tangents``, from ``pullback(u) -> cotangents``."""
    def paired(u):
        cts = pullback(u)
        if not isinstance(cts, (tuple, list)):
            cts = (cts,)
        return pairing(cts, tangents)

    return _gradient(paired, _zeros((ans,)))[0]
