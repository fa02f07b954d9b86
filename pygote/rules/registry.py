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
with ``tangents`` one entry per positional argument (``None`` for a zero tangent). The
helpers at the end of this module are the shared pieces of forward rules: ``add_tangents``
(a sum with ``None`` as zero), ``dense_tangent`` (a list argument's tangents as one
array), ``linear_jvp`` / ``bilinear_jvp`` (functions linear in their first one or two
arguments), ``first_tangent_jvp`` and ``with_array_args`` (``vjp_with_array_args`` is the
same for reverse rules).

Functions that are not differentiable at all (``len``, ``np.zeros``, ``np.argmax``) are
registered with ``nondifferentiable``: they are called plainly and record nothing.
"""

from __future__ import annotations

from typing import Any, Callable

from pygote.runtime.batched import Batched

__all__ = [
    "Rule",
    "defvjp",
    "defvjp_all",
    "defjvp",
    "defforward",
    "add_tangents",
    "dense_tangent",
    "linear_jvp",
    "bilinear_jvp",
    "first_tangent_jvp",
    "with_array_args",
    "vjp_with_array_args",
    "nondifferentiable",
    "rule_for",
    "is_nondifferentiable",
    "RULES",
    "NONDIFFERENTIABLE",
    "REPLACEMENTS",
    "DERIVATIVES",
    "defreplacement",
]


class Rule:
    """The derivative of one primitive.

    ``vjp(g, ans, *args, **kwargs)`` returns a tuple with one cotangent per positional
    argument (``None`` where there is none). ``linear`` marks rules whose vjp does not
    read ``ans`` or the arguments' values beyond their shapes (the runtime may then keep
    less).
    """

    __slots__ = ("func", "vjp", "jvp", "name", "per_arg", "record", "forward", "linear")

    def __init__(self, func: Any, name: str | None = None) -> None:
        self.func = func
        # a user's rule: record(args, kwargs) -> (ans, pullback), taking precedence
        self.record: Callable[..., tuple] | None = None
        # a user's forward rule: forward(args, targs, kwargs, tkw) -> (ans, tangent)
        self.forward: Callable[..., tuple] | None = None
        self.vjp: Callable[..., tuple] | None = None
        self.jvp: Callable[..., Any] | None = None
        self.per_arg: tuple | None = None
        self.linear = False
        self.name = name or _describe(func)

    def __repr__(self) -> str:
        return f"<pygote rule for {self.name}>"


RULES: dict[Any, Rule] = {}
NONDIFFERENTIABLE: set = set()
REPLACEMENTS: dict[Any, Any] = {}
# code objects of the functions pygote's transforms return (pg.grad's) -> (record, forward):
# how reverse and forward mode differentiate *them* (pygote.rules.higher)
DERIVATIVES: dict[Any, tuple] = {}


def _describe(func: Any) -> str:
    module = getattr(func, "__module__", None) or ""
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    if isinstance(func, _ufunc_type()):
        return f"numpy.{func.__name__}"
    return f"{module}.{qualname}" if module else qualname


def _ufunc_type():
    import numpy as np

    return np.ufunc


# called whenever a registration changes how some function is differentiated (the
# dispatcher's plans for plain Python functions are then forgotten)
ON_CHANGE: list = []


def _changed() -> None:
    for listener in ON_CHANGE:
        listener()


def _rule(func: Any) -> Rule:
    _changed()
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


def deflinear(*funcs: Any) -> None:
    """Mark rules whose vjp reads only the shapes and dtypes of ``ans`` and of the array
    arguments (roll, transpose, sum ...): their pullbacks keep shape-only stand-ins, and a
    temporary they make needs no keeping for them. Checked by
    ``tests/rules/test_registry_complete.py`` (each vjp, fed the stand-ins, must agree)."""
    for func in funcs:
        _rule(func).linear = True


def defjvp(func: Any, jvp: Callable[..., Any]) -> Any:
    """Register ``jvp(ans, tangents, *args, **kwargs) -> tangent`` for forward mode."""
    _rule(func).jvp = jvp
    return func


def nondifferentiable(*funcs: Any) -> None:
    """Mark functions whose outputs carry no gradient: called plainly, nothing recorded."""
    _changed()
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
    _changed()
    REPLACEMENTS[func] = python_impl


def defforward(func: Any, forward: Callable[..., tuple]) -> Any:
    """Register ``forward(args, targs, kwargs, tkw) -> (ans, tangent)`` for ``func``: the
    user-facing forward rules (``pg.custom_jvp``, ``pg.register_jvp``), taking precedence
    over everything else in forward mode."""
    _rule(func).forward = forward
    return func


def defrecord(func: Any, record: Callable[..., tuple]) -> Any:
    """Register ``record(args, kwargs) -> (ans, pullback)`` for ``func``: the most general
    form, used by the user-facing rules (``pg.custom_vjp``, ``pg.register_vjp``,
    ``pg.rrule``); ``pullback(g) -> (positional cotangents, keyword cotangents or None)``.
    """
    rule = _rule(func)
    rule.record = record
    return func


# ---------------------------------------------------------------------------------------
# Helpers for writing forward rules, shared by the rules files
# ---------------------------------------------------------------------------------------


def add_tangents(*terms: Any) -> Any:
    """The sum of tangents (or cotangents), ``None`` being zero; ``None`` if all are."""
    out = None
    for term in terms:
        if term is not None:
            out = term if out is None else out + term
    return out


def dense_tangent(t: Any, x: Any, dtype: Any = None) -> Any:
    """The tangent ``t`` of array-like ``x`` (nested lists and tuples of arrays and
    scalars) as one array of ``x``'s shape.

    Forward mode hands a list or tuple its tangents item by item, ``None`` for constant
    items (or for a whole constant sublist); a jvp that treats the argument as an array
    wants them stacked, the ``None`` entries as zeros of ``dtype`` (float64 by default),
    the array of ``dtype`` if it is given. Returns ``None`` when every entry's tangent is
    zero, and any ``t`` that is not a list or tuple unchanged.
    """
    if not isinstance(t, (list, tuple)):
        return t
    import numpy as np

    items = [dense_tangent(ti, xi, dtype) for ti, xi in zip(t, x)]
    if all(i is None for i in items):
        return None
    return np.array([np.zeros(np.shape(xi), dtype) if i is None else i
                     for i, xi in zip(items, x)], dtype)


def linear_jvp(func: Any) -> Callable[..., Any]:
    """The jvp of ``func(x, *args, **kwargs)``, linear in ``x`` alone: ``func`` of the
    tangent, as an array (``ndarray`` methods want one; a list's tangent is stacked)."""
    import numpy as np

    def jvp(ans, tangents, x, *args, **kwargs):
        t = dense_tangent(tangents[0], x)
        if type(t) is Batched:  # a batch of tangents (runtime/batched.py): kept as one
            return batched_call(func, t, args, kwargs)
        return None if t is None else func(np.asarray(t), *args, **kwargs)

    return jvp


def batched_call(func, t, args, kwargs):
    """``func(t, *args, **kwargs)`` for batched ``t``: an ``ndarray`` method (which wants a
    real array) as its NumPy function, which batches."""
    import numpy as np

    twin = _NUMPY_TWINS.get(func)
    if twin is None:
        return func(t, *args, **kwargs)
    if func in (np.ndarray.reshape, np.ndarray.transpose) and len(args) > 1:
        args = (args,)  # (x.reshape(2, 3) is np.reshape(x, (2, 3)))
    return twin(t, *args, **kwargs)


def _numpy_twins():
    import numpy as np

    a = np.ndarray
    return {a.reshape: np.reshape, a.transpose: np.transpose, a.swapaxes: np.swapaxes,
            a.ravel: np.ravel, a.flatten: np.ravel, a.squeeze: np.squeeze,
            a.sum: np.sum, a.mean: np.mean, a.copy: np.copy}


_NUMPY_TWINS = _numpy_twins()


def bilinear_jvp(func: Any, n_args: int | None = None) -> Callable[..., Any]:
    """The jvp of ``func(a, b, *args, **kwargs)``, (real-)bilinear in ``a`` and ``b``: the
    product rule ``func(da, b) + func(a, db)``. Of the further positional arguments the
    first ``n_args`` are passed on (all if ``None``; not a positional ``out``), and every
    keyword but ``out``. A list argument's tangent is stacked (``dense_tangent``)."""
    def jvp(ans, tangents, a, b, *args, out=None, **kwargs):
        ta, tb = dense_tangent(tangents[0], a), dense_tangent(tangents[1], b)
        if n_args is not None:
            args = args[:n_args]
        return add_tangents(None if ta is None else func(ta, b, *args, **kwargs),
                            None if tb is None else func(a, tb, *args, **kwargs))

    return jvp


def first_tangent_jvp(rule: Callable[..., Any]) -> Callable[..., Any]:
    """A jvp that only the first argument's tangent ``t`` feeds (the other arguments are
    axes, flags or constants): ``rule(t, ans, x, *args, **kwargs)``, ``None`` for t zero."""
    def jvp(ans, tangents, x, *args, **kwargs):
        t = tangents[0]
        return None if t is None else rule(t, ans, x, *args, **kwargs)

    return jvp


def _sequences_at(args: tuple, positions: tuple) -> list:
    """The positions among ``positions`` where ``args`` holds a list or tuple."""
    n = len(args)
    return [i for i in positions if i < n and isinstance(args[i], (list, tuple))]


def with_array_args(jvp: Callable[..., Any], positions: tuple = (0,)) -> Callable[..., Any]:
    """``jvp`` seeing the positional arguments at ``positions`` as arrays: a list or tuple
    there (``np.sum([a, b])``) becomes ``np.asarray`` of it, its tangent ``dense_tangent``."""
    import numpy as np

    def wrapped(ans, tangents, *args, **kwargs):
        found = _sequences_at(args, positions)
        if not found:
            return jvp(ans, tangents, *args, **kwargs)
        tangents, args = list(tangents), list(args)
        for i in found:
            tangents[i] = dense_tangent(tangents[i], args[i])
            args[i] = np.asarray(args[i])
        return jvp(ans, tuple(tangents), *args, **kwargs)

    return wrapped


def vjp_with_array_args(vjp: Callable[..., Any], positions: tuple = (0,)) -> Callable[..., Any]:
    """``vjp`` (one of ``defvjp``'s) seeing the positional arguments at ``positions`` as
    arrays: a list or tuple there (``np.log([a, 2.0])``) becomes ``np.asarray`` of it. The
    cotangent it returns for such an argument is then an array, which ``fit`` splits into
    the items' cotangents."""
    import numpy as np

    def wrapped(g, ans, *args, **kwargs):
        found = _sequences_at(args, positions)
        if found:
            args = list(args)
            for i in found:
                args[i] = np.asarray(args[i])
        return vjp(g, ans, *args, **kwargs)

    return wrapped
