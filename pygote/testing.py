"""Checking derivatives against finite differences: the generic rule tester.

``check_rule(func, *args, **kwargs)`` checks the registered vjp and jvp of ``func`` at
``args`` against central finite differences in random directions: for random ``v`` (input
directions) and ``u`` (output cotangent) it compares ``<u, J v>`` computed by finite
differences with ``<vjp(u), v>`` (reverse) and with ``<u, jvp(v)>`` (forward). Arguments that are not floating arrays or floats are
held fixed. Each rules file's tests drive this with a line of inputs per rule.
"""

from __future__ import annotations

import numpy as np

from pygote.rules.registry import rule_for
from pygote.rules.transpose import pairing
from pygote.runtime.values import fit, fit_tangent, is_differentiable

__all__ = ["check_rule", "check_grads", "random_like", "inner"]


def random_like(x, rng: np.random.Generator):
    """A random direction with the shape and dtype of ``x`` (complex where ``x`` is)."""
    if isinstance(x, (float, complex)) or np.isscalar(x):
        v = rng.standard_normal()
        if np.iscomplexobj(x):
            v = v + 1j * rng.standard_normal()
        return type(x)(v) if isinstance(x, (float, complex)) else np.asarray(x).dtype.type(v)
    x = np.asarray(x)
    v = rng.standard_normal(x.shape)
    if np.iscomplexobj(x):
        v = v + 1j * rng.standard_normal(x.shape)
    return v.astype(x.dtype)


def inner(a, b) -> float:
    """Real inner product ``Re(sum(conj(a) * b))`` of two values (None is zero)."""
    if a is None or b is None:
        return 0.0
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return sum(inner(x, y) for x, y in zip(a, b))
    return float(np.real(np.sum(np.conj(np.asarray(a, dtype=complex)) * np.asarray(b))))


def _perturb(args, argnums, directions, h):
    out = list(args)
    for i, v in zip(argnums, directions):
        x = args[i]
        if isinstance(x, (float, complex)):
            out[i] = x + h * v
        else:
            out[i] = np.asarray(np.asarray(x, dtype=np.result_type(x, np.float64)) + h * v)
    return out


def _shape_or_type(a):
    """``a``'s shape, or its type name where it has none (ragged lists, index tuples)."""
    try:
        return np.shape(a)
    except ValueError:
        return type(a).__name__


def _describe_args(args, kwargs) -> str:
    """The arguments' shapes for a failure message (only built when an assertion fails)."""
    return f"(args shapes {[_shape_or_type(a) for a in args]}, kwargs {kwargs})"


def check_rule(
    func,
    *args,
    argnums=None,
    rtol: float | None = None,
    atol: float | None = None,
    trials: int = 2,
    seed: int = 0,
    modes=("rev", "fwd"),
    **kwargs,
) -> None:
    """Assert that the rules registered for ``func`` match finite differences at ``args``.

    ``modes`` names the rules checked: ``"rev"`` the vjp, ``"fwd"`` the jvp.

    ``argnums`` defaults to every differentiable positional argument. Finite differences
    run in float64 (float32 inputs are promoted for the difference quotient); tolerances
    default by the lowest input precision.
    """
    rule = rule_for(func)
    assert rule is not None, f"no rule registered for {func!r}"
    assert "rev" not in modes or rule.vjp is not None, f"no vjp registered for {func!r}"
    assert "fwd" not in modes or rule.jvp is not None, f"no jvp registered for {func!r}"
    if argnums is None:
        argnums = [i for i, a in enumerate(args) if is_differentiable(a)]
    low = any(
        np.asarray(args[i]).dtype in (np.float32, np.complex64, np.float16) for i in argnums
    )
    rtol = rtol if rtol is not None else (2e-2 if low else 1e-5)
    atol = atol if atol is not None else (2e-2 if low else 1e-6)
    rng = np.random.default_rng(seed)
    ans = func(*args, **kwargs)
    for _ in range(trials):
        u = random_like(ans, rng)
        vs = [random_like(np.asarray(args[i], dtype=np.result_type(args[i], np.float64))
                          if not isinstance(args[i], (float, complex)) else args[i], rng)
              for i in argnums]
        h = 1e-6
        f64 = [np.asarray(a, dtype=np.result_type(a, np.float64)) if i in argnums and not
               isinstance(a, (float, complex)) else a for i, a in enumerate(args)]
        plus = func(*_perturb(f64, argnums, vs, h), **kwargs)
        minus = func(*_perturb(f64, argnums, vs, -h), **kwargs)
        fd = (np.asarray(plus, dtype=complex) - np.asarray(minus, dtype=complex)) / (2 * h)
        rhs = inner(u, fd)
        scale = max(1.0, abs(rhs))
        if "rev" in modes:
            cts = rule.vjp(u, ans, *args, **kwargs)
            lhs = sum(inner(fit(cts[i], args[i]), v) for i, v in zip(argnums, vs))
            assert abs(lhs - rhs) <= atol + rtol * scale, (
                f"vjp of {rule.name} disagrees with finite differences: "
                f"<vjp(u), v> = {lhs!r}, <u, J v> = {rhs!r} {_describe_args(args, kwargs)}")
        if "fwd" in modes:
            tangents = [None] * len(args)
            for i, v in zip(argnums, vs):
                tangents[i] = v
            dy = fit_tangent(rule.jvp(ans, tuple(tangents), *args, **kwargs), ans)
            if isinstance(ans, (np.ndarray, np.generic)) and is_differentiable(ans):
                assert dy is None or np.shape(dy) == np.shape(ans), (
                    f"jvp of {rule.name} has shape {np.shape(dy)}, its output {np.shape(ans)}")
            lhs = inner(u, dy)
            assert abs(lhs - rhs) <= atol + rtol * scale, (
                f"jvp of {rule.name} disagrees with finite differences: "
                f"<u, jvp(v)> = {lhs!r}, <u, J v> = {rhs!r} {_describe_args(args, kwargs)}")


def _leaves(x, path=()):
    """(path, value) for every differentiable leaf of a structure."""
    if isinstance(x, (float, complex)) or (isinstance(x, (np.ndarray, np.generic))
                                           and np.issubdtype(np.asarray(x).dtype, np.inexact)):
        yield path, x
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _leaves(v, path + (i,))
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, path + (k,))


def _replace(x, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(x, tuple):
        items = list(x)
        items[head] = _replace(items[head], rest, value)
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, list):
        items = list(x)
        items[head] = _replace(items[head], rest, value)
        return items
    out = dict(x)
    out[head] = _replace(out[head], rest, value)
    return out


def _get(g, path):
    for p in path:
        if g is None:
            return None
        g = g[p]
    return g


def check_grads(f, args, order: int = 1, modes=("rev",), atol: float = 1e-6,
                rtol: float = 1e-5, eps: float = 1e-6, seed: int = 0) -> None:
    """Compare pygote's derivatives of ``f`` at ``args`` with central finite differences.

    For random input directions ``v`` (every differentiable leaf of every argument moves)
    and a random output cotangent ``u``:
    - ``"rev"``: ``<back(u), v>`` against ``<u, (f(x + eps v) - f(x - eps v)) / 2 eps>``;
    - ``"fwd"``: ``<u, jvp(f, x, v)>`` against the same difference quotient;
    - ``order=2`` also checks the derivative of those derivatives, in each mode: the
      function ``x -> <u, jvp(f, x, v)>`` (forward) or ``x -> <back(u), v>`` (reverse) is
      itself checked at order 1, so reverse-over-reverse and forward-over-reverse run.
    Raises ``AssertionError`` with both numbers on a mismatch. Arguments may be floats,
    arrays and (nested) tuples, lists and dicts of them.

    >>> check_grads(lambda x: x ** 3, (2.0,), order=2, modes=("fwd", "rev"))
    """
    import copy

    from pygote.api import gradient
    from pygote.api_forward import jvp

    if order < 1:
        raise ValueError("check_grads: order must be at least 1")
    unknown = set(modes) - {"fwd", "rev"}
    if unknown:
        raise ValueError(f"check_grads: unknown modes {sorted(unknown)}; use 'fwd' and 'rev'")
    args = tuple(args)
    rng = np.random.default_rng(seed)
    y = f(*copy.deepcopy(args))
    u = random_like(y, rng) if not isinstance(y, (float, int)) else 1.0
    leaves = [(i, path, value) for i, a in enumerate(args) for path, value in _leaves(a)]
    directions = [random_like(value, rng) for _, _, value in leaves]

    def shifted(h):
        moved = list(copy.deepcopy(args))
        for (i, path, value), v in zip(leaves, directions):
            moved[i] = _replace(moved[i], path, value + h * v)
        return f(*moved)

    fd = (np.asarray(shifted(eps), dtype=complex) - np.asarray(shifted(-eps), dtype=complex)) / (
        2 * eps)
    rhs = inner(u, fd)
    name = getattr(f, "__qualname__", f)
    tangents = [copy.deepcopy(a) for a in args]
    for i, a in enumerate(args):
        tangents[i] = _zeros_like_tree(a)
    for (i, path, _), v in zip(leaves, directions):
        tangents[i] = _replace(tangents[i], path, v)

    def weighted(*xs):
        return pairing(u, f(*xs))

    def reverse_value(*xs):
        grads = gradient(weighted, *xs)
        total = 0.0
        for (i, path, _), v in zip(leaves, directions):
            total = total + pairing(_get(grads[i], path), v)
        return total

    def forward_value(*xs):
        return pairing(u, jvp(f, xs, tuple(tangents))[1])

    for mode in modes:
        value = reverse_value if mode == "rev" else forward_value
        lhs = value(*copy.deepcopy(args))
        assert abs(lhs - rhs) <= atol + rtol * max(1.0, abs(rhs)), (
            f"pygote's {'reverse' if mode == 'rev' else 'forward'} mode disagrees with finite "
            f"differences for {name}: {lhs!r}, finite differences {rhs!r}")
        if order > 1:
            check_grads(value, args, order - 1, modes, atol=atol * 10, rtol=rtol * 10,
                        eps=max(eps, 1e-5), seed=seed + 1)


def _zeros_like_tree(x):
    if isinstance(x, (float, complex)):
        return type(x)(0)
    if isinstance(x, (np.ndarray, np.generic)):
        return np.zeros_like(x)
    if isinstance(x, tuple):
        items = [_zeros_like_tree(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, list):
        return [_zeros_like_tree(v) for v in x]
    if isinstance(x, dict):
        return {k: _zeros_like_tree(v) for k, v in x.items()}
    return None
