"""The rule registry: how each primitive differentiates, keyed by the primitive itself.

A reverse rule is a vector-Jacobian product. Two spellings, one storage:

    defvjp(np.exp, lambda g, ans, x: g * ans)             # one function per positional arg
    defvjp_all(np.einsum, lambda g, ans, *args: (...))    # one function for all of them

Every vjp function receives ``(g, ans, *args, **kwargs)``: the cotangent of the output,
the output itself, and the arguments exactly as the primitive was called. It returns the
cotangent of its argument *before* broadcasting is undone: the runtime sums a cotangent
down to its argument's shape, casts it to the argument's dtype and drops the imaginary
part for real arguments, in one place (``pygote.runtime.values.fit``). ``None`` means
"no gradient" (a zero).

Complex convention (API.md): ``g`` is the gradient of a real loss, so a holomorphic
primitive with derivative ``f'`` has the vjp ``g * conj(f')``.

A forward rule (``defjvp``) is ``jvp(ans, tangents, *args, **kwargs) -> tangent of ans``,
with ``tangents`` one entry per positional argument (``None`` for a zero tangent).

Functions that are not differentiable at all (``len``, ``np.zeros``, ``np.argmax``) are
registered with ``nondifferentiable``: they are called plainly and record nothing.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = [
    "Rule",
    "defvjp",
    "defvjp_all",
    "defjvp",
    "dense_tangent",
    "with_array_args",
    "nondifferentiable",
    "rule_for",
    "is_nondifferentiable",
    "RULES",
    "NONDIFFERENTIABLE",
    "REPLACEMENTS",
    "defreplacement",
]


class Rule:
    """The derivative of one primitive.

    ``vjp(g, ans, *args, **kwargs)`` returns a tuple with one cotangent per positional
    argument (``None`` where there is none). ``linear`` marks rules whose vjp does not
    read ``ans`` or the arguments' values beyond their shapes (the runtime may then keep
    less).
    """

    __slots__ = ("func", "vjp", "jvp", "name", "per_arg", "record")

    def __init__(self, func: Any, name: str | None = None) -> None:
        self.func = func
        # a user's rule: record(args, kwargs) -> (ans, pullback), taking precedence
        self.record: Callable[..., tuple] | None = None
        self.vjp: Callable[..., tuple] | None = None
        self.jvp: Callable[..., Any] | None = None
        self.per_arg: tuple | None = None
        self.name = name or _describe(func)

    def __repr__(self) -> str:
        return f"<pygote rule for {self.name}>"


RULES: dict[Any, Rule] = {}
NONDIFFERENTIABLE: set = set()
REPLACEMENTS: dict[Any, Any] = {}


def _describe(func: Any) -> str:
    module = getattr(func, "__module__", None) or ""
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    if isinstance(func, _ufunc_type()):
        return f"numpy.{func.__name__}"
    return f"{module}.{qualname}" if module else qualname


def _ufunc_type():
    import numpy as np

    return np.ufunc


def _rule(func: Any) -> Rule:
    rule = RULES.get(func)
    if rule is None:
        rule = RULES[func] = Rule(func)
    return rule


def defvjp(func: Any, *vjps: Callable[..., Any] | None) -> Any:
    """Register one vjp per positional argument of ``func`` (``None``: not differentiable).

    Arguments past the last listed vjp get no gradient.
    """
    rule = _rule(func)
    rule.per_arg = vjps

    def vjp(g, ans, *args, **kwargs):
        return tuple(
            None if i >= len(vjps) or vjps[i] is None else vjps[i](g, ans, *args, **kwargs)
            for i in range(len(args))
        )

    rule.vjp = vjp
    return func


def defvjp_all(func: Any, vjp: Callable[..., tuple]) -> Any:
    """Register ``vjp(g, ans, *args, **kwargs) -> tuple`` (one cotangent per positional arg)."""
    rule = _rule(func)
    rule.per_arg = None
    rule.vjp = vjp
    return func


def defjvp(func: Any, jvp: Callable[..., Any]) -> Any:
    """Register ``jvp(ans, tangents, *args, **kwargs) -> tangent`` for forward mode."""
    _rule(func).jvp = jvp
    return func


def dense_tangent(t: Any, x: Any) -> Any:
    """The tangent of array-like ``x`` (a list or tuple of values) as one array.

    Forward mode hands a list or tuple its tangents item by item, ``None`` for constant
    items; a jvp that treats the argument as an array wants them stacked. Returns ``None``
    when every item's tangent is zero, and any other ``t`` unchanged.
    """
    if not isinstance(t, (list, tuple)):
        return t
    import numpy as np

    items = [dense_tangent(ti, xi) for ti, xi in zip(t, x)]
    if all(i is None for i in items):
        return None
    return np.asarray([np.zeros(np.shape(xi)) if i is None else i for i, xi in zip(items, x)])


def with_array_args(jvp: Callable[..., Any], positions: tuple = (0,)) -> Callable[..., Any]:
    """``jvp`` seeing the positional arguments at ``positions`` as arrays: a list or tuple
    there (``np.sum([a, b])``) becomes ``np.asarray`` of it, its tangent ``dense_tangent``."""
    import numpy as np

    def wrapped(ans, tangents, *args, **kwargs):
        n = len(args)
        for i in positions:
            if i < n and isinstance(args[i], (list, tuple)):
                break
        else:
            return jvp(ans, tangents, *args, **kwargs)
        tangents, args = list(tangents), list(args)
        for i in positions:
            if i < n and isinstance(args[i], (list, tuple)):
                tangents[i] = dense_tangent(tangents[i], args[i])
                args[i] = np.asarray(args[i])
        return jvp(ans, tuple(tangents), *args, **kwargs)

    return wrapped


def nondifferentiable(*funcs: Any) -> None:
    """Mark functions whose outputs carry no gradient: called plainly, nothing recorded."""
    for func in funcs:
        if func is not None:
            NONDIFFERENTIABLE.add(func)


def rule_for(func: Any) -> Rule | None:
    try:
        return RULES.get(func)
    except TypeError:  # unhashable callables
        return None


def is_nondifferentiable(func: Any) -> bool:
    try:
        return func in NONDIFFERENTIABLE
    except TypeError:
        return False


def defreplacement(func: Any, python_impl: Any) -> None:
    """Differentiate calls to ``func`` through the source of ``python_impl`` instead.

    For C functions whose derivative is easiest said by a few lines of Python: higher-order
    builtins (``map``, ``sorted(key=...)``, ``functools.reduce``) and iteration helpers
    (``zip``, ``enumerate``). ``python_impl`` must compute the same values (returning
    lists where the builtin returns a lazy iterator is fine) and be plain Python that
    pygote can transform.
    """
    REPLACEMENTS[func] = python_impl


def defrecord(func: Any, record: Callable[..., tuple]) -> Any:
    """Register ``record(args, kwargs) -> (ans, pullback)`` for ``func``: the most general
    form, used by the user-facing rules (``pg.custom_vjp``, ``pg.register_vjp``,
    ``pg.rrule``); ``pullback(g) -> (positional cotangents, keyword cotangents or None)``.
    """
    rule = _rule(func)
    rule.record = record
    return func
