"""Users' own derivatives: ``custom_vjp``, ``register_vjp``, ``rrule``, and the ways to
stop gradients (``stop_gradient``, ``nondifferentiable``).

A rule defined here takes precedence over everything else the dispatcher would do with
the function, including transforming its source.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from pygote.rules import registry

__all__ = ["custom_vjp", "register_vjp", "rrule", "stop_gradient", "nondifferentiable"]


def _positional(func, args, kwargs):
    """Bind keyword arguments into positional ones (in ``func``'s signature order).

    Returns the positional list and, for each keyword the caller used, its position.
    """
    if not kwargs:
        return list(args), {}
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        raise TypeError(f"pygote cannot bind keyword arguments of {func!r}: pass them "
                        "positionally") from None
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    names = list(bound.arguments)
    return list(bound.arguments.values()), {k: names.index(k) for k in kwargs if k in names}


def _pad(cts, n: int) -> tuple:
    cts = tuple(cts) if isinstance(cts, (tuple, list)) else (cts,)
    return cts + (None,) * (n - len(cts))


def _vjp_record(func, fwd, bwd, nondiff_argnums=()):
    """record(args, kwargs) for the JAX convention: fwd -> (y, res); bwd(res, g) -> tuple."""

    def record(args, kwargs):
        full, keyword_positions = _positional(func, args, kwargs)
        ans, residuals = fwd(*full)

        def pullback(g):
            fixed = [full[i] for i in nondiff_argnums]
            cts = bwd(*fixed, residuals, g)
            differentiable = [i for i in range(len(full)) if i not in nondiff_argnums]
            per_position = [None] * len(full)
            for i, ct in zip(differentiable, _pad(cts, len(differentiable))):
                per_position[i] = ct
            kw = {k: per_position[i] for k, i in keyword_positions.items()} or None
            return tuple(per_position[: len(args)]), kw

        return ans, pullback

    return record


class custom_vjp:  # noqa: N801 (JAX's spelling)
    """A function with a reverse-mode rule of its own (JAX's ``jax.custom_vjp``).

    >>> import math
    >>> @custom_vjp
    ... def f(x):
    ...     return math.sin(x)
    >>> f.defvjp(lambda x: (math.sin(x), math.cos(x)), lambda cos_x, g: (g * cos_x,))
    <...>

    ``fwd(*args) -> (y, residuals)``; ``bwd(residuals, g)`` (with the arguments at
    ``nondiff_argnums`` first: ``bwd(*nondiff, residuals, g)``) returns one cotangent per
    differentiable positional argument.
    """

    def __init__(self, fun: Callable, nondiff_argnums: tuple = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)

    def defvjp(self, fwd: Callable, bwd: Callable) -> custom_vjp:
        registry.defrecord(self, _vjp_record(self.fun, fwd, bwd, self.nondiff_argnums))
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<pygote.custom_vjp {getattr(self.fun, '__qualname__', self.fun)!r}>"


def register_vjp(func: Callable, fwd: Callable, bwd: Callable, nondiff_argnums: tuple = ()):
    """Give ``func`` (a C function, a third-party function) a rule in the ``custom_vjp``
    convention: ``fwd(*args) -> (y, residuals)``, ``bwd(residuals, g) -> tuple``."""
    registry.defrecord(func, _vjp_record(func, fwd, bwd, tuple(nondiff_argnums)))
    return func


def rrule(func: Callable) -> Callable:
    """Decorator: ``rule(*args, **kwargs) -> (y, pullback)`` becomes ``func``'s rule, with
    ``pullback(dy)`` returning one cotangent per positional argument (Zygote's ``@adjoint``).
    """

    def register(rule: Callable) -> Callable:
        def record(args, kwargs):
            ans, pb = rule(*args, **kwargs)
            return ans, lambda g: (_pad(pb(g), len(args)), None)

        registry.defrecord(func, record)
        return rule

    return register


def stop_gradient(x: Any) -> Any:
    """``x`` itself, through which no gradient flows."""
    return x


def nondifferentiable(func: Callable) -> Callable:
    """Mark ``func``: its results carry no gradient and it is called as it is (usable as a
    decorator)."""
    registry.nondifferentiable(func)
    return func


registry.nondifferentiable(stop_gradient)
