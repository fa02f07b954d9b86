"""Checking derivatives against finite differences: the generic rule tester.

``check_rule(func, *args, **kwargs)`` checks the registered vjp of ``func`` at ``args``
against central finite differences in random directions: for random ``v`` (input
directions) and ``u`` (output cotangent) it compares ``<u, J v>`` computed by finite
differences with ``<vjp(u), v>``. Arguments that are not floating arrays or floats are
held fixed. Each rules file's tests drive this with a line of inputs per rule.
"""

from __future__ import annotations

import numpy as np

from pygote.rules.registry import rule_for
from pygote.runtime.values import fit, is_differentiable

__all__ = ["check_rule", "random_like", "inner"]


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
    if isinstance(a, (list, tuple)):
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


def check_rule(
    func,
    *args,
    argnums=None,
    rtol: float | None = None,
    atol: float | None = None,
    trials: int = 2,
    seed: int = 0,
    **kwargs,
) -> None:
    """Assert that the vjp registered for ``func`` matches finite differences at ``args``.

    ``argnums`` defaults to every differentiable positional argument. Finite differences
    run in float64 (float32 inputs are promoted for the difference quotient); tolerances
    default by the lowest input precision.
    """
    rule = rule_for(func)
    assert rule is not None and rule.vjp is not None, f"no vjp registered for {func!r}"
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
        cts = rule.vjp(u, ans, *args, **kwargs)
        lhs = sum(inner(fit(cts[i], args[i]), v) for i, v in zip(argnums, vs))
        h = 1e-6
        f64 = [np.asarray(a, dtype=np.result_type(a, np.float64)) if i in argnums and not
               isinstance(a, (float, complex)) else a for i, a in enumerate(args)]
        plus = func(*_perturb(f64, argnums, vs, h), **kwargs)
        minus = func(*_perturb(f64, argnums, vs, -h), **kwargs)
        fd = (np.asarray(plus, dtype=complex) - np.asarray(minus, dtype=complex)) / (2 * h)
        rhs = inner(u, fd)
        scale = max(1.0, abs(rhs))
        assert abs(lhs - rhs) <= atol + rtol * scale, (
            f"vjp of {rule.name} disagrees with finite differences: "
            f"<vjp(u), v> = {lhs!r}, <u, J v> = {rhs!r} (args shapes "
            f"{[np.shape(a) for a in args]}, kwargs {kwargs})"
        )
