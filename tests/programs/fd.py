"""Finite-difference oracle for the end-to-end program tests.

``numerical_gradient(f, args, eps=1e-6)`` perturbs every differentiable leaf of every
positional argument with central differences in float64 and returns one gradient per
argument, in the structure the public API promises:

* float / complex / numpy inexact scalar  -> a float (complex for complex leaves)
* numpy inexact array                      -> a float64 (complex128) array of its shape
* int / bool / str / bytes / None / integer arrays -> ``None``
* tuple -> tuple, list -> list, dict -> dict, namedtuple -> the same namedtuple type,
  dataclass -> the same dataclass type (built without calling ``__init__``),
* any other object with a ``__dict__`` -> a plain ``dict`` of its attributes' gradients
  (pygote returns a ``pg.Structural`` there; the comparison reads it by ``g[name]``).

Complex leaves follow the convention ``df/dx + 1j * df/dy`` (Zygote's).

Every evaluation runs on a fresh deep copy of the arguments (programs may mutate their
inputs), with every floating leaf promoted to float64 / complex128 first; the caller's
objects are never touched.

``assert_gradient_matches(f, *args, rtol=1e-5, atol=1e-6)`` calls
``pygote.gradient(f, *deep_copies_of_args)`` and compares it leaf by leaf with the oracle,
checking the container structure as well; the failure message names the program, where it
is defined, and the leaf path (``args[0]['w'][1, 2]``, ``args[1].weight``...). Arrays with
more than ``DIRECTIONAL_THRESHOLD`` elements are checked in 3 random unit directions
``v``: ``<grad, v>`` against ``(f(x + h v) - f(x - h v)) / 2h``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import types
import zlib

import numpy as np

import pygote as pg

__all__ = [
    "numerical_gradient",
    "assert_gradient_matches",
    "assert_forward_matches",
    "params",
    "DIRECTIONAL_THRESHOLD",
]

DIRECTIONAL_THRESHOLD = 20
N_DIRECTIONS = 3
LOW_PRECISION = (np.float16, np.float32, np.complex64)
LOW_RTOL = 2e-3
LOW_ATOL = 2e-3

_OPAQUE = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    types.ModuleType,
    type,
    functools.partial,
)


# ----------------------------------------------------------------------------------------
# Walking values
# ----------------------------------------------------------------------------------------

def _kind(x) -> str:
    """Classify a value: 'array', 'scalar' (differentiable leaves), 'const' (gradient None),
    'tuple', 'namedtuple', 'list', 'dict', 'dataclass', 'object', or 'opaque' (unchecked)."""
    if isinstance(x, np.ndarray):
        return "array" if np.issubdtype(x.dtype, np.inexact) else "const"
    if isinstance(x, np.generic):
        return "scalar" if np.issubdtype(x.dtype, np.inexact) else "const"
    if isinstance(x, (bool, int)):
        return "const"
    if isinstance(x, (float, complex)):
        return "scalar"
    if x is None or isinstance(x, (str, bytes, range, slice, type(Ellipsis))):
        return "const"
    if isinstance(x, tuple):
        return "namedtuple" if hasattr(type(x), "_fields") else "tuple"
    if isinstance(x, list):
        return "list"
    if isinstance(x, dict):
        return "dict"
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return "dataclass"
    if isinstance(x, _OPAQUE):
        return "opaque"
    if hasattr(x, "__dict__"):
        return "object"
    return "opaque"


def _children(x, kind):
    """(path element, child) pairs. Path elements are ('idx', i), ('field', (i, name)),
    ('key', k) or ('attr', name)."""
    if kind in ("tuple", "list"):
        return [(("idx", i), v) for i, v in enumerate(x)]
    if kind == "namedtuple":
        return [(("field", (i, name)), v) for i, (name, v) in enumerate(zip(x._fields, x))]
    if kind == "dict":
        return [(("key", k), v) for k, v in x.items()]
    if kind == "dataclass":
        return [(("attr", f.name), getattr(x, f.name)) for f in dataclasses.fields(x)]
    if kind == "object":
        return [(("attr", k), v) for k, v in vars(x).items()]
    return []


def _has_diff(x, _seen=None) -> bool:
    """True if any differentiable leaf is reachable in ``x``."""
    k = _kind(x)
    if k in ("array", "scalar"):
        return True
    if k in ("const", "opaque"):
        return False
    _seen = set() if _seen is None else _seen
    if id(x) in _seen:
        return False
    _seen = _seen | {id(x)}
    return any(_has_diff(v, _seen) for _, v in _children(x, k))


def _leaves(x, path=(), _seen=frozenset()):
    """Yield (path, leaf) for every differentiable leaf reachable in ``x``."""
    k = _kind(x)
    if k in ("array", "scalar"):
        yield path, x
        return
    if k in ("const", "opaque") or id(x) in _seen:
        return
    for el, v in _children(x, k):
        yield from _leaves(v, path + (el,), _seen | {id(x)})


def _get(x, el):
    kind, key = el
    if kind == "idx":
        return x[key]
    if kind == "field":
        return x[key[0]]
    if kind == "key":
        return x[key]
    return getattr(x, key)


def _replace(x, path, new):
    """Put ``new`` at ``path`` inside ``x`` (a private deep copy): mutable containers are
    updated in place, tuples and namedtuples are rebuilt. Returns the (new) ``x``."""
    if not path:
        return new
    el, rest = path[0], path[1:]
    child = _replace(_get(x, el), rest, new)
    kind, key = el
    if isinstance(x, tuple):
        items = list(x)
        items[key[0] if kind == "field" else key] = child
        if hasattr(type(x), "_fields"):
            return type(x)(*items)
        return type(x)(items) if type(x) is not tuple else tuple(items)
    if isinstance(x, (list, dict)):
        x[key] = child
        return x
    d = getattr(x, "__dict__", None)
    if d is not None and key in d:
        d[key] = child
    else:
        object.__setattr__(x, key, child)
    return x


def _fmt_path(argi, path) -> str:
    s = f"args[{argi}]"
    for kind, key in path:
        if kind == "idx":
            s += f"[{key}]"
        elif kind == "field":
            s += f".{key[1]}"
        elif kind == "key":
            s += f"[{key!r}]"
        else:
            s += f".{key}"
    return s


def _promote(leaf):
    """float64 / complex128 version of a differentiable leaf (type kept for Python floats)."""
    if isinstance(leaf, np.ndarray):
        dt = np.complex128 if np.iscomplexobj(leaf) else np.float64
        return np.array(leaf, dtype=dt)
    if isinstance(leaf, np.generic):
        return np.complex128(leaf) if np.iscomplexobj(leaf) else np.float64(leaf)
    return leaf


def _is_low(leaf) -> bool:
    return np.asarray(leaf).dtype.type in LOW_PRECISION


def _program_name(f) -> str:
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)
    code = getattr(f, "__code__", None)
    if code is not None:
        return f"{name} ({code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno})"
    return name


# ----------------------------------------------------------------------------------------
# Evaluating perturbed programs
# ----------------------------------------------------------------------------------------

class _Evaluator:
    """Holds a float64 copy of the arguments and evaluates ``f`` with one leaf replaced."""

    def __init__(self, f, args):
        self.f = f
        base = list(copy.deepcopy(tuple(args)))
        for i in range(len(base)):
            for path, leaf in list(_leaves(base[i])):
                base[i] = _replace(base[i], path, _promote(leaf))
        self.base = base
        self.name = _program_name(f)

    def leaf(self, argi, path):
        x = self.base[argi]
        for el in path:
            x = _get(x, el)
        return x

    def __call__(self, argi, path, new_leaf) -> float:
        args = copy.deepcopy(self.base)
        args[argi] = _replace(args[argi], path, new_leaf)
        out = self.f(*args)
        arr = np.asarray(out)
        if arr.size != 1:
            raise TypeError(f"{self.name} must return a scalar, returned shape {arr.shape}")
        val = arr.reshape(()).item()
        if isinstance(val, complex):
            raise TypeError(f"{self.name} must return a real scalar, returned {val!r}")
        return float(val)

    # one perturbed leaf ------------------------------------------------------------------

    def scalar_grad(self, argi, path, eps):
        x = self.leaf(argi, path)
        cx = isinstance(x, complex) or np.iscomplexobj(x)
        d_re = (self(argi, path, x + eps) - self(argi, path, x - eps)) / (2 * eps)
        if not cx:
            return d_re
        d_im = (self(argi, path, x + 1j * eps) - self(argi, path, x - 1j * eps)) / (2 * eps)
        return complex(d_re, d_im)

    def array_grad(self, argi, path, eps):
        x = self.leaf(argi, path)
        g = np.zeros(x.shape, dtype=x.dtype)
        steps = [1.0, 1j] if np.iscomplexobj(x) else [1.0]
        for idx in np.ndindex(*x.shape):
            for s in steps:
                xp = x.copy()
                xp[idx] += s * eps
                xm = x.copy()
                xm[idx] -= s * eps
                d = (self(argi, path, xp) - self(argi, path, xm)) / (2 * eps)
                g[idx] += s * d
        return g

    def directional(self, argi, path, eps, n=N_DIRECTIONS):
        """[(v, fd directional derivative)] for ``n`` seeded random unit directions."""
        x = self.leaf(argi, path)
        rng = np.random.default_rng(zlib.crc32(repr((self.name, argi, path)).encode()))
        out = []
        for _ in range(n):
            v = rng.standard_normal(x.shape)
            if np.iscomplexobj(x):
                v = v + 1j * rng.standard_normal(x.shape)
            v = v / np.sqrt(np.sum(np.abs(v) ** 2))
            d = (self(argi, path, x + eps * v) - self(argi, path, x - eps * v)) / (2 * eps)
            out.append((v, d))
        return out


def _build(x, leaf_fn, path=(), _seen=frozenset()):
    """The expected-gradient structure of ``x``; ``leaf_fn(path, leaf)`` gives leaves."""
    k = _kind(x)
    if k in ("array", "scalar"):
        return leaf_fn(path, x)
    if k in ("const", "opaque") or id(x) in _seen:
        return None
    seen = _seen | {id(x)}
    kids = [(el, _build(v, leaf_fn, path + (el,), seen)) for el, v in _children(x, k)]
    if k == "tuple":
        return tuple(g for _, g in kids)
    if k == "list":
        return [g for _, g in kids]
    if k == "namedtuple":
        return type(x)(*[g for _, g in kids])
    if k == "dict":
        return {el[1]: g for el, g in kids}
    if k == "dataclass":
        out = object.__new__(type(x))
        for el, g in kids:
            object.__setattr__(out, el[1], g)
        return out
    return {el[1]: g for el, g in kids}  # plain object: dict of attribute gradients


def numerical_gradient(f, args, eps: float = 1e-6):
    """Central finite-difference gradient of scalar ``f`` at ``args`` (a sequence of the
    positional arguments), one entry per argument, every element of every array perturbed."""
    ev = _Evaluator(f, args)
    out = []
    for i, a in enumerate(ev.base):
        def leaf_fn(path, leaf, i=i):
            if isinstance(leaf, np.ndarray):
                return ev.array_grad(i, path, eps)
            return ev.scalar_grad(i, path, eps)
        out.append(_build(a, leaf_fn))
    return tuple(out)


# ----------------------------------------------------------------------------------------
# Comparing pygote with the oracle
# ----------------------------------------------------------------------------------------

_MISSING = object()


def _structural_get(g, name):
    """Read attribute ``name`` of a Structural gradient: ``g[name]``, then ``getattr``."""
    try:
        return g[name]
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    try:
        return getattr(g, name)
    except AttributeError:
        return _MISSING


def _all_none(g) -> bool:
    if g is None or g is _MISSING:
        return True
    if isinstance(g, (tuple, list)):
        return all(_all_none(v) for v in g)
    if isinstance(g, dict):
        return all(_all_none(v) for v in g.values())
    if dataclasses.is_dataclass(g) and not isinstance(g, type):
        return all(_all_none(getattr(g, f.name, None)) for f in dataclasses.fields(g))
    return False


def _all_zero_or_none(g) -> bool:
    if _all_none(g):
        return True
    if isinstance(g, (tuple, list)):
        return all(_all_zero_or_none(v) for v in g)
    if isinstance(g, dict):
        return all(_all_zero_or_none(v) for v in g.values())
    try:
        return bool(np.all(np.asarray(g) == 0))
    except Exception:  # noqa: BLE001
        return False


def _short(x, limit=160) -> str:
    s = np.array2string(x, precision=6, threshold=12) if isinstance(x, np.ndarray) else repr(x)
    return s if len(s) <= limit else s[:limit] + "..."


class _Checker:
    def __init__(self, f, ev, eps, rtol, atol):
        self.f, self.ev, self.eps, self.rtol, self.atol = f, ev, eps, rtol, atol
        self.failures: list[str] = []
        self.n_leaves = 0

    def fail(self, where, msg):
        self.failures.append(f"{where}: {msg}")

    def check(self, argi, x, g, path=(), _seen=frozenset()):
        where = _fmt_path(argi, path)
        k = _kind(x)
        if k == "opaque":
            return
        if k == "const":
            if not _all_none(g):
                self.fail(where, f"non-differentiable value {_short(x, 60)} should get gradient "
                                 f"None, got {_short(g)}")
            return
        if k in ("array", "scalar"):
            self.check_leaf(argi, path, x, g)
            return
        if id(x) in _seen:
            return
        seen = _seen | {id(x)}
        if not _has_diff(x):
            if not _all_none(g):
                self.fail(where, f"container without differentiable leaves should get gradient "
                                 f"None (or all None), got {_short(g)}")
            return
        if g is None or g is _MISSING:
            self.fail(where, f"gradient is None/missing for a {type(x).__name__} holding "
                             "differentiable leaves (the contract promises zeros, not None)")
            return
        kids = _children(x, k)
        if k in ("tuple", "list", "namedtuple"):
            want = type(x) if k == "namedtuple" else (tuple if k == "tuple" else list)
            if type(g) is not want:
                self.fail(where, f"gradient of a {type(x).__name__} should be a "
                                 f"{want.__name__}, got {type(g).__name__}: {_short(g)}")
                return
            if len(g) != len(x):
                self.fail(where, f"gradient has length {len(g)}, value has length {len(x)}")
                return
            for (el, v), gv in zip(kids, g):
                self.check(argi, v, gv, path + (el,), seen)
        elif k == "dict":
            if not isinstance(g, dict):
                self.fail(where, f"gradient of a dict should be a dict, got {type(g).__name__}")
                return
            extra = [k for k in g if k not in x and not _all_zero_or_none(g[k])]
            if extra:
                self.fail(where, f"gradient dict has non-zero entries for keys the value did "
                                 f"not have: {sorted(map(repr, extra))}")
            for el, v in kids:
                self.check(argi, v, g.get(el[1], _MISSING), path + (el,), seen)
        elif k == "dataclass":
            if type(g) is not type(x):
                self.fail(where, f"gradient of dataclass {type(x).__name__} should be the same "
                                 f"dataclass type, got {type(g).__name__}")
                return
            for el, v in kids:
                self.check(argi, v, getattr(g, el[1], _MISSING), path + (el,), seen)
        else:  # plain object
            structural = getattr(pg, "Structural", None)
            if structural is None:
                self.fail(where, "pygote.Structural does not exist (gradients of plain objects "
                                 "must be pg.Structural)")
                return
            if not isinstance(g, structural):
                self.fail(where, f"gradient of object {type(x).__name__} should be a "
                                 f"pg.Structural, got {type(g).__name__}: {_short(g)}")
                return
            for el, v in kids:
                self.check(argi, v, _structural_get(g, el[1]), path + (el,), seen)

    def check_leaf(self, argi, path, x, g):
        where = _fmt_path(argi, path)
        self.n_leaves += 1
        if g is None or g is _MISSING:
            self.fail(where, f"gradient is None/missing for differentiable "
                             f"{type(x).__name__} (expected a zero of its shape if unused)")
            return
        try:
            ga = np.asarray(g)
        except Exception as e:  # noqa: BLE001
            self.fail(where, f"gradient {_short(g)} is not numeric ({e})")
            return
        if not np.issubdtype(ga.dtype, np.number) or np.issubdtype(ga.dtype, np.bool_):
            self.fail(where, f"gradient {_short(g)} of type {type(g).__name__} is not numeric")
            return
        cx = np.iscomplexobj(x)
        if not cx and np.iscomplexobj(ga):
            self.fail(where, f"real input got a complex gradient {_short(g)}")
            return
        if ga.shape != np.shape(x):
            self.fail(where, f"gradient shape {ga.shape} differs from value shape {np.shape(x)}")
            return
        ev = self.ev
        if isinstance(x, np.ndarray) and x.size > DIRECTIONAL_THRESHOLD:
            gd = ga.astype(np.complex128 if cx else np.float64)
            gnorm = float(np.sqrt(np.sum(np.abs(gd) ** 2)))
            for j, (v, fd) in enumerate(ev.directional(argi, path, self.eps)):
                lhs = float(np.real(np.sum(np.conj(gd) * v)))
                tol = self.atol + self.rtol * max(abs(fd), gnorm)
                if not (abs(lhs - fd) <= tol):
                    self.fail(where, f"random direction {j + 1}/{N_DIRECTIONS} on shape "
                                     f"{x.shape}: <pygote grad, v> = {lhs:.10g}, finite "
                                     f"differences = {fd:.10g} (|diff| {abs(lhs - fd):.3g} > "
                                     f"tol {tol:.3g})")
                    return
            return
        if isinstance(x, np.ndarray):
            fd = ev.array_grad(argi, path, self.eps)
        else:
            fd = np.asarray(ev.scalar_grad(argi, path, self.eps))
        gd = ga.astype(np.complex128 if cx else np.float64)
        err = np.abs(gd - fd)
        tol = self.atol + self.rtol * np.abs(fd)
        bad = ~(err <= tol)
        if np.any(bad):
            if fd.ndim == 0:
                self.fail(where, f"pygote {complex(gd) if cx else float(gd):.12g}, finite "
                                 f"differences {complex(fd) if cx else float(fd):.12g} "
                                 f"(|diff| {float(err):.3g} > tol {float(tol):.3g})")
            else:
                idx = np.unravel_index(np.argmax(np.where(bad, err - tol, -np.inf)), fd.shape)
                self.fail(where, f"{int(bad.sum())}/{fd.size} elements differ; worst at "
                                 f"{tuple(int(i) for i in idx)}: pygote {gd[idx]:.12g}, finite "
                                 f"differences {fd[idx]:.12g}\n      pygote: {_short(gd)}\n"
                                 f"      finite differences: {_short(fd)}")


def _directional_fd(f, args, directions, eps):
    """``(f(x + eps v) - f(x - eps v)) / 2 eps`` moving every leaf at once, in float64."""
    def shifted(h):
        moved = [copy.deepcopy(a) for a in args]
        for (i, path), v in directions.items():
            leaf = _promote(_get_path(args[i], path))
            moved[i] = _replace(moved[i], path, leaf + h * v)
        return float(np.real(f(*moved)))
    return (shifted(eps) - shifted(-eps)) / (2 * eps)


def _get_path(x, path):
    for el in path:
        x = _get(x, el)
    return x


def assert_forward_matches(f, *args, rtol: float = 1e-5, atol: float = 1e-6,
                           eps: float = 1e-6, seed: int | None = None):
    """Assert that ``pygote.jvp(f, args, v)`` matches finite differences along ``v``, a
    random direction moving every differentiable leaf of every argument at once."""
    name = _program_name(f)
    if any(_is_low(leaf) for a in args for _, leaf in _leaves(a)):
        rtol, atol = max(rtol, LOW_RTOL), max(atol, LOW_ATOL)
    rng = np.random.default_rng(zlib.crc32(name.encode()) if seed is None else seed)
    directions = {}

    def direction(i):
        def leaf_fn(path, leaf):
            shape = np.shape(leaf)
            v = rng.standard_normal(shape)
            if np.iscomplexobj(leaf):
                v = v + 1j * rng.standard_normal(shape)
            v = v / max(1.0, float(np.sqrt(np.sum(np.abs(v) ** 2))))
            if not isinstance(leaf, np.ndarray):
                v = complex(v) if np.iscomplexobj(leaf) else float(v)
            directions[(i, path)] = v
            return v
        return leaf_fn

    tangents = tuple(_build(a, direction(i)) for i, a in enumerate(args))
    y, dy = pg.jvp(f, tuple(copy.deepcopy(args)), tangents)
    fd = _directional_fd(f, args, directions, eps)
    got = float(np.real(dy))
    if not abs(got - fd) <= atol + rtol * max(1.0, abs(fd)):
        raise AssertionError(
            f"forward mode of program {name} disagrees with finite differences: "
            f"pg.jvp gives {got:.12g}, finite differences {fd:.12g} along a random direction")


def assert_gradient_matches(f, *args, rtol: float = 1e-5, atol: float = 1e-6,
                            eps: float = 1e-6, modes=("rev", "fwd")):
    """Assert that ``pygote.gradient(f, *args)`` matches central finite differences.

    Checks the structure of the result (one gradient per argument; containers mapped as the
    API promises; ``None`` for non-differentiable leaves; zeros, not ``None``, for unused
    differentiable ones) and every differentiable leaf's value. If any input leaf is
    float32/float16/complex64 the tolerances are loosened to ``LOW_RTOL``/``LOW_ATOL``.
    """
    name = _program_name(f)
    if any(_is_low(leaf) for a in args for _, leaf in _leaves(a)):
        rtol, atol = max(rtol, LOW_RTOL), max(atol, LOW_ATOL)
    grads = pg.gradient(f, *copy.deepcopy(args))
    if not isinstance(grads, tuple) or len(grads) != len(args):
        raise AssertionError(
            f"pygote.gradient({name}) must return a tuple of {len(args)} gradient(s), got "
            f"{type(grads).__name__} {_short(grads)}")
    ev = _Evaluator(f, args)
    checker = _Checker(f, ev, eps, rtol, atol)
    for i, (a, g) in enumerate(zip(args, grads)):
        checker.check(i, a, g)
    if checker.failures:
        shown = checker.failures[:20]
        more = len(checker.failures) - len(shown)
        raise AssertionError(
            f"gradient of program {name} disagrees with finite differences "
            f"(rtol={rtol}, atol={atol}):\n  " + "\n  ".join(shown)
            + (f"\n  ... and {more} more" if more else ""))
    if "fwd" in modes:
        assert_forward_matches(f, *args, rtol=rtol, atol=atol, eps=eps)
    if SECOND_ORDER and "rev" in modes and "fwd" in modes:
        assert_second_order_matches(f, *args)


# ----------------------------------------------------------------------------------------
# Second derivatives
# ----------------------------------------------------------------------------------------

# Programs are also checked at order 2 (``pg.check_grads(..., order=2, modes=("fwd",
# "rev"))``: forward over forward, reverse over forward, forward over reverse and reverse
# over reverse, each against central differences of the first derivative), except the
# programs listed in KNOWN_SECOND_ORDER_LIMITS, each with the reason it cannot be checked.
#
# Time: a second-order check costs about 15 times the first-order one (it transforms the
# generated tangent and adjoint code once more, per program), so by default it runs on a
# deterministic half of the programs: those whose ``module.qualname`` has an even CRC-32
# (``_second_order_selected``; stable under edits elsewhere in the files). Set
# ``PYGOTE_SECOND_ORDER=all`` to check every program (about a minute more), ``=off`` to
# check none. Every program passed the full run when this was written.
SECOND_ORDER = os.environ.get("PYGOTE_SECOND_ORDER", "half") != "off"
SECOND_ORDER_ALL = os.environ.get("PYGOTE_SECOND_ORDER") == "all"
SECOND_ORDER_RTOL = 1e-3
SECOND_ORDER_ATOL = 1e-4
KNOWN_SECOND_ORDER_LIMITS: dict = {
    # program __name__ -> why its second derivatives are not checked (none at present)
}


def _second_order_selected(f) -> bool:
    if SECOND_ORDER_ALL:
        return True
    key = f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', repr(f))}"
    return zlib.crc32(key.encode()) % 2 == 0


def assert_second_order_matches(f, *args, rtol: float = SECOND_ORDER_RTOL,
                                atol: float = SECOND_ORDER_ATOL):
    """Assert that pygote's second derivatives of ``f`` match finite differences of its
    first ones, in every pairing of modes (``pg.check_grads(order=2)``).

    The check runs on float64 copies of the arguments (float32 and complex64 leaves
    promoted): ``check_grads`` takes central differences with steps of 1e-6 to 1e-5, which
    are noise in single precision. Programs in ``KNOWN_SECOND_ORDER_LIMITS`` are skipped.
    """
    name = getattr(f, "__name__", None)
    if name in KNOWN_SECOND_ORDER_LIMITS or not _second_order_selected(f):
        return
    base = list(copy.deepcopy(tuple(args)))
    for i in range(len(base)):
        for path, leaf in list(_leaves(base[i])):
            base[i] = _replace(base[i], path, _promote(leaf))
    try:
        pg.check_grads(f, tuple(base), order=2, modes=("fwd", "rev"), atol=atol, rtol=rtol)
    except AssertionError as e:
        raise AssertionError(
            f"second derivatives of program {_program_name(f)} disagree with finite "
            f"differences of its first derivatives (rtol={rtol}, atol={atol}): {e}") from None


def params(cases):
    """pytest parameters for a list of (program, args) cases; ids are program names, with
    a suffix when a program appears more than once."""
    import pytest

    counts: dict[str, int] = {}
    for prog, _ in cases:
        counts[prog.__name__] = counts.get(prog.__name__, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for prog, args in cases:
        n = prog.__name__
        if counts[n] > 1:
            seen[n] = seen.get(n, 0) + 1
            n = f"{n}-{seen[n]}"
        out.append(pytest.param(prog, tuple(args), id=n))
    return out
