"""Self-check of the program corpus and the finite-difference oracle, without pygote.

Run from the repository root:  python tests/programs/selfcheck.py [--pytest]

For every (program, args) case in every ``test_*.py`` module here (all module-level lists
whose name ends in ``CASES``) it checks that

1. the program runs on a copy of its inputs, deterministically, and returns a finite real
   scalar;
2. the oracle ``numerical_gradient`` is finite, leaves the caller's arguments untouched,
   and is not identically zero (a case that cannot fail would be vacuous);
3. the oracle is accurate at the tests' tolerance: a stand-in ``pygote.gradient`` built
   from an independent, far more accurate estimate (Richardson-extrapolated central
   differences at h = 1e-4, 2e-4), shaped like the API promises (Structural for plain
   objects, input dtype kept), passes ``assert_gradient_matches``; this is what a correct
   differentiator will see, so the inputs are away from kinks and FD noise is small;
4. the comparison is sensitive: the same stand-in with one leaf's gradient shifted by 1%
   fails ``assert_gradient_matches`` with a message naming the program and leaf.

With ``--pytest`` it then installs the stand-in into the ``pygote`` module (in this process
only) and runs pytest on this directory, as a dry run of the whole suite. Tests that demand
exact values (the closed-form Taylor and Linear-layer tests) are expected to fail there,
because the stand-in is only accurate to ~1e-10.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import pygote  # noqa: E402

from tests.programs import fd  # noqa: E402

fd.SECOND_ORDER = False  # checks of the oracle against stand-ins: no pygote second derivatives

MODULES = [
    "test_control_flow",
    "test_recursion_closures",
    "test_data_structures",
    "test_numpy_programs",
    "test_mutation_basic",
    "test_scalar_math",
]


class FakeStructural:
    """Stand-in for pg.Structural: attribute and item access over a dict."""

    def __init__(self, fields):
        object.__setattr__(self, "_fields", dict(fields))

    def __getitem__(self, name):
        return self._fields[name]

    def __getattr__(self, name):
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        return f"FakeStructural({self._fields!r})"


def _shape_like_api(x, g):
    """Turn oracle output ``g`` for value ``x`` into what pygote promises to return."""
    k = fd._kind(x)
    if k in ("const", "opaque"):
        return None
    if k == "array":
        return np.asarray(g).astype(x.dtype)
    if k == "scalar":
        if isinstance(x, np.generic):
            return x.dtype.type(g)
        return complex(g) if isinstance(x, complex) else float(g)
    kids = fd._children(x, k)
    if k in ("tuple", "list"):
        return type(g)(_shape_like_api(v, gv) for (_, v), gv in zip(kids, g))
    if k == "namedtuple":
        return type(x)(*[_shape_like_api(v, gv) for (_, v), gv in zip(kids, g)])
    if k == "dict":
        return {el[1]: _shape_like_api(v, g[el[1]]) for el, v in kids}
    if k == "dataclass":
        out = object.__new__(type(x))
        for el, v in kids:
            object.__setattr__(out, el[1], _shape_like_api(v, getattr(g, el[1])))
        return out
    return FakeStructural({el[1]: _shape_like_api(v, g[el[1]]) for el, v in kids})


def _map_leaves(a, b, fn):
    """Combine two oracle outputs of the same structure leaf by leaf."""
    if isinstance(a, (float, complex, np.ndarray, np.generic)):
        return fn(a, b)
    if a is None:
        return None
    if isinstance(a, tuple) and hasattr(type(a), "_fields"):
        return type(a)(*[_map_leaves(x, y, fn) for x, y in zip(a, b)])
    if isinstance(a, (tuple, list)):
        return type(a)(_map_leaves(x, y, fn) for x, y in zip(a, b))
    if isinstance(a, dict):
        return {k: _map_leaves(a[k], b[k], fn) for k in a}
    out = object.__new__(type(a))
    for k, v in vars(a).items():
        object.__setattr__(out, k, _map_leaves(v, getattr(b, k), fn))
    return out


def accurate_gradient(f, args):
    g1 = fd.numerical_gradient(f, args, eps=1e-4)
    g2 = fd.numerical_gradient(f, args, eps=2e-4)
    return _map_leaves(g1, g2, lambda a, b: (4.0 * a - b) / 3.0)


def make_fake_gradient(shift_first_leaf=False):
    def gradient(f, *args):
        with contextlib.redirect_stdout(io.StringIO()):
            raw = accurate_gradient(f, args)
        out = tuple(_shape_like_api(a, g) for a, g in zip(args, raw))
        if shift_first_leaf:
            out = _shift_first(args, out)
        return out
    return gradient


def _shift_first(args, grads):
    """Shift the gradient of the first differentiable leaf (in argument order) by 1%."""
    for i, a in enumerate(args):
        for path, _ in fd._leaves(a):
            return grads[:i] + (_gset(grads[i], path, _shift),) + grads[i + 1:]
    return grads


def _gset(g, path, fn):
    """Copy of gradient ``g`` with ``fn`` applied to the leaf at ``path``."""
    if not path:
        return fn(g)
    kind, key = path[0]
    rest = path[1:]
    if isinstance(g, FakeStructural):
        d = dict(g._fields)
        d[key] = _gset(d[key], rest, fn)
        return FakeStructural(d)
    if isinstance(g, tuple):
        items = list(g)
        j = key[0] if kind == "field" else key
        items[j] = _gset(items[j], rest, fn)
        return type(g)(*items) if hasattr(type(g), "_fields") else tuple(items)
    if isinstance(g, (list, dict)):
        out = type(g)(g)
        out[key] = _gset(g[key], rest, fn)
        return out
    out = copy.copy(g)
    object.__setattr__(out, key, _gset(getattr(g, key), rest, fn))
    return out


def _shift(g):
    if isinstance(g, np.ndarray):
        return (g + 0.01 * (1.0 + np.abs(g))).astype(g.dtype)
    return type(g)(g + 0.01 * (1.0 + abs(g)))


def _snapshot_equal(a, b):
    try:
        if type(a) is not type(b):
            return False
        if isinstance(a, np.ndarray):
            return a.dtype == b.dtype and a.shape == b.shape and bool(np.all(a == b))
        if isinstance(a, (list, tuple)):
            return len(a) == len(b) and all(_snapshot_equal(x, y) for x, y in zip(a, b))
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(_snapshot_equal(a[k], b[k]) for k in a)
        if fd._kind(a) in ("object", "dataclass"):
            return _snapshot_equal(vars(a), vars(b)) if hasattr(a, "__dict__") else a == b
        return a == b
    except Exception:  # noqa: BLE001
        return False


def _all_finite_and_zero(g):
    finite, nonzero = True, False
    stack = [g]
    while stack:
        x = stack.pop()
        if x is None:
            continue
        if isinstance(x, (float, complex, np.ndarray, np.generic)):
            arr = np.asarray(x)
            finite &= bool(np.all(np.isfinite(arr)))
            nonzero |= bool(np.any(arr != 0))
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif hasattr(x, "__dict__"):
            stack.extend(vars(x).values())
    return finite, nonzero


def check_case(prog, args):
    problems = []
    name = fd._program_name(prog)
    snapshot = copy.deepcopy(args)
    with contextlib.redirect_stdout(io.StringIO()):
        v1 = prog(*copy.deepcopy(args))
        v2 = prog(*copy.deepcopy(args))
    a1 = np.asarray(v1)
    if a1.size != 1 or np.iscomplexobj(a1) or not np.isfinite(a1).all():
        problems.append(f"returns {v1!r}, not a finite real scalar")
    elif float(a1) != float(np.asarray(v2)):
        problems.append("not deterministic")
    with contextlib.redirect_stdout(io.StringIO()):
        g = fd.numerical_gradient(prog, args)
    finite, nonzero = _all_finite_and_zero(g)
    if not finite:
        problems.append(f"finite differences not finite: {g!r}")
    if not nonzero:
        problems.append("gradient identically zero (vacuous case)")
    if not _snapshot_equal(args, snapshot):
        problems.append("the oracle or program modified the caller's arguments")

    # 3. an accurate stand-in passes
    pygote.gradient = make_fake_gradient()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fd.assert_gradient_matches(prog, *args)
    except AssertionError as e:
        problems.append(f"accurate stand-in FAILS the check:\n{e}")
    # 4. a 1%-wrong stand-in is caught
    pygote.gradient = make_fake_gradient(shift_first_leaf=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fd.assert_gradient_matches(prog, *args)
        problems.append("a stand-in with one leaf 1% off still PASSES")
    except AssertionError as e:
        if name.split(" ")[0] not in str(e) or "args[" not in str(e):
            problems.append(f"failure message lacks program name / leaf path: {e}")
    if not _snapshot_equal(args, snapshot):
        problems.append("assert_gradient_matches modified the caller's arguments")
    return problems


def structure_smoke_tests():
    """A few hand-made wrong answers that must be rejected."""
    problems = []

    def f(x, y):
        return x * 2.0

    def expect_fail(label, fake):
        pygote.gradient = fake
        try:
            fd.assert_gradient_matches(f, 1.5, np.array([1.0, 2.0]))
            problems.append(f"smoke test '{label}' was not rejected")
        except AssertionError as e:
            return str(e)

    expect_fail("None for unused input", lambda f, x, y: (2.0, None))
    expect_fail("list instead of tuple", lambda f, x, y: [2.0, np.zeros(2)])
    expect_fail("wrong shape", lambda f, x, y: (2.0, np.zeros(3)))
    expect_fail("too few", lambda f, x, y: (2.0,))
    msg = expect_fail("wrong value", lambda f, x, y: (2.1, np.zeros(2)))
    pygote.gradient = lambda f, x, y: (2.0, np.zeros(2))
    try:
        fd.assert_gradient_matches(f, 1.5, np.array([1.0, 2.0]))
    except AssertionError as e:
        problems.append(f"correct answer rejected: {e}")

    def h(d):
        return d["a"] * 3.0

    pygote.gradient = lambda f, d: ({"a": 3.0, "n": 1.0},)
    try:
        fd.assert_gradient_matches(h, {"a": 1.0, "n": 2})
        problems.append("gradient 1.0 for an int leaf was not rejected")
    except AssertionError:
        pass
    return problems, msg


def closed_form_checks():
    problems = []
    from tests.programs import test_scalar_math as sm
    d = sm._ds_exact(1.0)
    if not abs(d - math.cos(1.0)) < 2.1e-9:
        problems.append(f"Taylor: exact derivative {d!r} vs cos(1) differs by {d - math.cos(1.0)}")
    with contextlib.redirect_stdout(io.StringIO()):
        for x in (1.0, 0.5, 2.0, -1.3):
            (g,) = accurate_gradient(sm.s, (x,))
            if abs(g - sm._ds_exact(x)) > 1e-9:
                problems.append(f"Taylor: _ds_exact({x}) = {sm._ds_exact(x)} but FD gives {g}")
    from tests.programs import test_data_structures as ds
    W = np.array([[0.5, -1.0, 0.3], [1.2, 0.1, -0.7]])
    b = np.array([0.1, -0.1])
    (g,) = accurate_gradient(ds.linear_layer_loss, (ds.Linear(W, b),))
    x = np.array([0.5, -1.0, 2.0])
    r = 2.0 * (W @ x + b - np.array([1.0, 0.0]))
    if not (np.allclose(g["weight"], np.outer(r, x), atol=1e-8)
            and np.allclose(g["bias"], r, atol=1e-8)):
        problems.append("Linear layer closed form disagrees with FD")
    return problems, d - math.cos(1.0)


def main():
    t0 = time.time()
    total = 0
    bad = 0
    counts = {}
    for modname in MODULES:
        mod = importlib.import_module(f"tests.programs.{modname}")
        lists = {n: v for n, v in vars(mod).items() if n.endswith("CASES")}
        n_mod = 0
        for lname, cases in lists.items():
            for prog, args in cases:
                n_mod += 1
                try:
                    problems = check_case(prog, tuple(args))
                except Exception as e:  # noqa: BLE001
                    import traceback
                    problems = [f"crashed: {type(e).__name__}: {e}\n{traceback.format_exc()}"]
                if problems:
                    bad += 1
                    print(f"[{modname}.{lname}] {prog.__name__}{tuple(args)!r:.80}")
                    for p in problems:
                        print("    -", p.replace("\n", "\n      "))
        counts[modname] = {k: len(v) for k, v in lists.items()}
        total += n_mod
    smoke, example = structure_smoke_tests()
    closed, taylor_gap = closed_form_checks()
    for p in smoke + closed:
        bad += 1
        print("  -", p)
    print("\ncases per file:")
    for m, c in counts.items():
        print(f"  {m:28s} {sum(c.values()):4d}   {c}")
    print(f"  {'total':28s} {total:4d}")
    print(f"\nTaylor s'(1.0) - cos(1.0) = {taylor_gap:.4g}")
    print("\nexample failure message (wrong scalar value):\n" + (example or "<none>"))
    print(f"\n{bad} problem(s); {time.time() - t0:.1f}s")
    return bad


def run_pytest_dry():
    import pytest

    pygote.gradient = make_fake_gradient()
    pygote.Structural = FakeStructural
    return pytest.main([HERE, "-q", "-p", "no:cacheprovider"])


if __name__ == "__main__":
    pygote.Structural = FakeStructural
    rc = main()
    if "--pytest" in sys.argv:
        rc = run_pytest_dry() or rc
    sys.exit(1 if rc else 0)
