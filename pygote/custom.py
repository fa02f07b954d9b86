"""Users' own derivatives: ``custom_vjp``, ``custom_jvp``, ``register_vjp``,
``register_jvp``, ``rrule``, and the ways to stop gradients (``stop_gradient``,
``nondifferentiable``, ``with ignore():``).

A rule defined here takes precedence over everything else the dispatchers would do with
the function, including transforming its source. One rule serves both modes: the other
mode's rule is its transpose, found by differentiating the user's rule once more
(``pygote.rules.transpose``).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from pygote.rules import registry

__all__ = ["custom_vjp", "custom_jvp", "register_vjp", "register_jvp", "rrule", "stop_gradient",
           "nondifferentiable", "ignore"]


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


def _differentiable(n, nondiff_argnums):
    return [i for i in range(n) if i not in nondiff_argnums]


def _vjp_forward(func, fwd, bwd, nondiff_argnums=()):
    """forward(args, targs, kwargs, tkw) for the JAX vjp convention: the transpose of bwd."""
    from pygote.rules.transpose import jvp_from_vjp

    def forward(args, targs, kwargs, tkw):
        full, keyword_positions = _positional(func, args, kwargs)
        full_t = list(targs) + [None] * (len(full) - len(targs))
        for k, i in keyword_positions.items():
            full_t[i] = (tkw or {}).get(k)
        ans, residuals = fwd(*full)
        kept = _differentiable(len(full), nondiff_argnums)
        if all(full_t[i] is None for i in kept):
            return ans, None
        fixed = [full[i] for i in nondiff_argnums]
        tangents = tuple(full_t[i] if full_t[i] is not None else _zero_of(full[i]) for i in kept)
        return ans, jvp_from_vjp(bwd, fixed, residuals, ans, tangents)

    return forward


def _zero_of(x):
    from pygote.runtime.values import zeros_like

    z = zeros_like(x)
    return 0.0 if z is None else z


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
        registry.defforward(self, _vjp_forward(self.fun, fwd, bwd, self.nondiff_argnums))
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<pygote.custom_vjp {getattr(self.fun, '__qualname__', self.fun)!r}>"


def register_vjp(func: Callable, fwd: Callable, bwd: Callable, nondiff_argnums: tuple = ()):
    """Give ``func`` (a C function, a third-party function) a rule in the ``custom_vjp``
    convention: ``fwd(*args) -> (y, residuals)``, ``bwd(residuals, g) -> tuple``."""
    registry.defrecord(func, _vjp_record(func, fwd, bwd, tuple(nondiff_argnums)))
    registry.defforward(func, _vjp_forward(func, fwd, bwd, tuple(nondiff_argnums)))
    return func


def _jvp_rules(func, rule, nondiff_argnums=()):
    """(forward, record) for the JAX jvp convention ``rule(primals, tangents) -> (y, dy)``,
    with the arguments at ``nondiff_argnums`` passed first and taking no tangents."""
    from pygote.rules.transpose import vjp_from_jvp

    def split(full):
        kept = _differentiable(len(full), nondiff_argnums)
        return [full[i] for i in nondiff_argnums], kept

    def forward(args, targs, kwargs, tkw):
        full, keyword_positions = _positional(func, args, kwargs)
        full_t = list(targs) + [None] * (len(full) - len(targs))
        for k, i in keyword_positions.items():
            full_t[i] = (tkw or {}).get(k)
        fixed, kept = split(full)
        primals = tuple(full[i] for i in kept)
        tangents = tuple(full_t[i] if full_t[i] is not None else _zero_of(full[i]) for i in kept)
        return rule(*fixed, primals, tangents)

    def record(args, kwargs):
        full, keyword_positions = _positional(func, args, kwargs)
        fixed, kept = split(full)
        primals = tuple(full[i] for i in kept)
        ans = func(*args, **kwargs)

        def pullback(g):
            if g is None:
                return (None,) * len(args), None
            cts = vjp_from_jvp(rule, fixed, primals, g)
            per_position = [None] * len(full)
            for i, ct in zip(kept, cts):
                per_position[i] = ct
            kw = {k: per_position[i] for k, i in keyword_positions.items()} or None
            return tuple(per_position[: len(args)]), kw

        return ans, pullback

    return forward, record


class custom_jvp:  # noqa: N801 (JAX's spelling)
    """A function with a forward-mode rule of its own (JAX's ``jax.custom_jvp``).

    ``f.defjvp(rule)`` with ``rule(primals, tangents) -> (y, dy)`` (the arguments at
    ``nondiff_argnums`` first: ``rule(*nondiff, primals, tangents)``). Reverse mode uses
    the transpose of the rule (the rule is differentiated once more, so it must be code
    pygote can differentiate).
    """

    def __init__(self, fun: Callable, nondiff_argnums: tuple = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)

    def defjvp(self, rule: Callable) -> Callable:
        forward, record = _jvp_rules(self.fun, rule, self.nondiff_argnums)
        registry.defforward(self, forward)
        registry.defrecord(self, record)
        return rule

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<pygote.custom_jvp {getattr(self.fun, '__qualname__', self.fun)!r}>"


def register_jvp(func: Callable, rule: Callable, nondiff_argnums: tuple = ()):
    """Give ``func`` (a C function, a third-party function) a forward rule in the
    ``custom_jvp`` convention: ``rule(primals, tangents) -> (y, dy)``; reverse mode uses
    its transpose."""
    forward, record = _jvp_rules(func, rule, tuple(nondiff_argnums))
    registry.defforward(func, forward)
    registry.defrecord(func, record)
    return func


def rrule(func: Callable) -> Callable:
    """Decorator: ``rule(*args, **kwargs) -> (y, pullback)`` becomes ``func``'s rule, with
    ``pullback(dy)`` returning one cotangent per positional argument (Zygote's ``@adjoint``).
    """

    def register(rule: Callable) -> Callable:
        def record(args, kwargs):
            ans, pb = rule(*args, **kwargs)
            return ans, lambda g: (_pad(pb(g), len(args)), None)

        def forward(args, targs, kwargs, tkw):
            from pygote.rules.transpose import jvp_from_pullback

            ans, pb = rule(*args, **kwargs)
            if all(t is None for t in targs):
                return ans, None
            tangents = tuple(t if t is not None else _zero_of(a) for a, t in zip(args, targs))
            return ans, jvp_from_pullback(pb, ans, tangents)

        registry.defrecord(func, record)
        registry.defforward(func, forward)
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


class _Ignore:
    """The context manager of ``with pg.ignore():``."""

    def __enter__(self):
        from pygote.runtime import dispatch

        dispatch.ignoring += 1
        return self

    def __exit__(self, *exc):
        from pygote.runtime import dispatch

        dispatch.ignoring -= 1
        return False

    def stop(self, x):
        """What the block made, leaving it: ``x`` itself, with no gradient."""
        return x


def ignore() -> _Ignore:
    """``with pg.ignore():`` -- a block inside which nothing is recorded: the calls it makes
    run plainly and the values it assigns carry no gradient out of it (spell it
    ``pg.ignore()``, ``pygote.ignore()`` or ``ignore()`` so the differentiator sees it).
    In-place writes inside the block to arrays made before it are still differentiated.

    >>> import pygote as pg
    >>> def f(x):
    ...     with pg.ignore():
    ...         scale = x * 2.0
    ...     return scale * x
    >>> pg.gradient(f, 3.0)
    (6.0,)
    """
    return _Ignore()


registry.nondifferentiable(stop_gradient, _Ignore.stop, _Ignore.__enter__, _Ignore.__exit__,
                           ignore)
