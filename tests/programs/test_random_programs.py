"""Property-based end-to-end tests: pygote on randomly generated programs.

The grammar (``program_grammar.py``) draws small modules of plain Python: arithmetic,
math functions, if/elif/else, for and while loops with break/continue, early returns,
helper functions, tuples and augmented assignment, conditional expressions; and, in a
second strategy, NumPy arrays of length 3 with indexing and in-place updates on local
copies. Each program is compiled under a unique file name registered in ``linecache`` so
pygote can read its source. Programs that are not smooth and bounded around the sampled
inputs (a comparison within 1e-3 of flipping, a branch trace that changes under the
finite-difference perturbations, |f| > 1e6, an exception, a central difference at 2h that
disagrees with the one at h) are rejected with ``assume``. The oracle is central finite
differences of the original program (h = 1e-6, float64), compared with ``pg.gradient`` at
rtol = 1e-4, atol = 1e-6 * max(1, |f|). A failure message contains the generated source
and the inputs; when pygote raises, the failure is a ``PygoteRaised<ExceptionType>`` with
pygote's traceback in the message.

Also here: fixed regression programs, one per grammar feature, written out literally, and
a check that two modules with identical function text get their own gradients.

``test_random_scalar_programs_soak`` (500 examples) is marked ``slow``: run it with
``python3 -m pytest -m slow tests/programs/test_random_programs.py``.
"""

import inspect
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings

import pygote as pg

from .program_grammar import check_program, compare, exec_module, finite_difference, \
    numpy_programs, scalar_programs

HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
          HealthCheck.large_base_example]
# no "explain" phase: its line-coverage report says nothing about generated programs, and it
# re-runs every failure under a tracer
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


# --- generated programs -------------------------------------------------------------------

@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=HEALTH, phases=PHASES)
@given(scalar_programs())
def test_random_scalar_programs(case):
    prog, args = case
    check_program(prog, args, pg.gradient)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=HEALTH, phases=PHASES)
@given(numpy_programs())
def test_random_numpy_programs(case):
    prog, args = case
    check_program(prog, args, pg.gradient)


@pytest.mark.slow
@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=HEALTH, phases=PHASES)
@given(scalar_programs())
def test_random_scalar_programs_soak(case):
    prog, args = case
    check_program(prog, args, pg.gradient)


# --- fixed regression programs: each grammar feature once -----------------------------------

def reg_arithmetic(x, y):
    """+ - * / **, integer / fractional / variable exponents on positive bases, math."""
    t = x * y - x / (1.0 + y * y) + (x - y) ** 3 / 3.0
    t = t + (1.0 + x * x) ** 1.5 - (0.5 + y ** 2) ** -1 + (1.0 + y * y) ** math.sin(x)
    u = math.sin(x) * math.cos(y) + math.tanh(x - y) + math.exp(math.tanh(x))
    u += math.log(1.0 + x * x) + math.sqrt(1.0 + y * y) + math.exp(-(y ** 2))
    return t * u - (-u)


def reg_branches(x, y):
    """if / elif / else, early return, and / or / not, chained comparison, x if c else y."""
    if x > 1.0 and y < 0.0:
        return x * y
    elif not x < -0.5:
        z = x * x if y > 0.2 else x - y
    elif -2.0 < y < 0.0 or x > 5.0:
        z = math.sin(y) * x
        return z + 1.0
    else:
        z = y ** 3
    return z * y + math.cos(x)


def reg_for_break_continue(x, y):
    """for over range(k), continue on the index, break on data, early return in a loop."""
    s = 0.0
    for i in range(5):
        if i == 1:
            continue
        s += x * i + math.sin(y * s)
        if s > 3.0:
            break
        for j in range(2):
            if s < -0.5:
                return s * y
            s = s * 0.9 + y * j
    return s * x


def reg_while(x):
    """while with a counter and a data-dependent exit; a counter-only while."""
    n = 0
    t = x
    while n < 10 and t < 4.0:
        n += 1
        t += 0.5 + t * t
    k = 0
    while k < 3:
        k += 1
        t = t * 0.5 + math.sin(t)
    return t


def _reg_pair(a, b):
    if a > b:
        return a * b, a - b
    return b, a + b * b


def _reg_scalar(a):
    c, d = _reg_pair(a, 0.5)
    return c * math.exp(math.sin(d))


def reg_helpers(x, y):
    """Module-level helpers: a pair-returning helper (two return sites), one calling it."""
    u, v = _reg_pair(x, y)
    return _reg_scalar(u) + v * _reg_pair(y, x)[1]


def reg_tuples_aug(x, y, z):
    """Tuple construction / indexing / unpacking, swaps, augmented assignment."""
    a, b = x, y
    for _ in range(4):
        a, b = b, a + b
    p = (a * z, b - z)
    c, d = p
    c += d * p[0]
    c -= 0.5 * z
    c *= math.cos(d)
    c /= 1.0 + z * z
    return c


def reg_numpy_inplace(x, y, s):
    """a = x.copy(), a[i] = expr (constant, negative and loop indices), a += b, a *= b,
    np.sum, np.dot, elementwise ufuncs."""
    a = x.copy()
    a[0] = a[1] * s + math.sin(a[2])
    a[-1] = np.sum(y) * a[0]
    for i in range(3):
        a[i] = a[i] * y[2 - i] + np.tanh(a[i])
    a += y * s
    b = np.exp(np.tanh(a)) + np.log(1.0 + y * y)
    a *= b
    return np.dot(a, y) + np.sum(np.sqrt(1.0 + a ** 2))


def reg_numpy_branches(x, s):
    """Branch on np.sum, a loop with break reading a[i], in-place updates in branches."""
    a = x.copy()
    if np.sum(a) > 0.0:
        a[1] += s * a[0]
    else:
        a[1] -= np.dot(a, a)
    t = 0.0
    for i in range(3):
        if a[i] > 1.5:
            break
        t += a[i] * np.cos(s)
        a = a * 1.5
    return t + np.sum(a * x)


def reg_numpy_self_inplace(x):
    """In-place updates of an array by itself: the right-hand side is the old value."""
    a = x.copy()
    a += a
    a *= a
    return np.sum(a * x)


def reg_numpy_inplace_reads_target(x):
    """a += <expression of a>: the right-hand side was computed from a's old value."""
    a = x.copy()
    b = a * a
    a += b
    return np.sum(a * x)


REGRESSION_CASES = [
    (reg_arithmetic, (0.7, -0.4)),
    (reg_branches, (1.3, -0.6)),     # early return in the if
    (reg_branches, (0.4, 0.9)),      # elif, conditional expression
    (reg_branches, (-0.8, -0.7)),    # chained comparison, return in the elif
    (reg_branches, (-0.8, 0.7)),     # else
    (reg_for_break_continue, (0.6, 0.3)),
    (reg_for_break_continue, (0.3, -0.2)),
    (reg_for_break_continue, (-0.4, 0.5)),  # return inside the inner loop
    (reg_while, (0.3,)),
    (reg_while, (-1.2,)),
    (reg_helpers, (0.8, 0.3)),
    (reg_helpers, (-0.5, 0.4)),
    (reg_tuples_aug, (0.3, 0.2, -0.7)),
    (reg_numpy_inplace, (np.array([0.3, -0.8, 0.5]), np.array([0.9, 0.2, -0.4]), 0.6)),
    (reg_numpy_branches, (np.array([0.3, -0.8, 0.9]), 0.6)),
    (reg_numpy_branches, (np.array([0.2, -1.4, 0.9]), -0.3)),  # else, break at i = 2
    (reg_numpy_self_inplace, (np.array([-2.0, 0.5, 1.5]),)),
    (reg_numpy_inplace_reads_target, (np.array([-2.0, 0.5, 1.5]),)),
]


@pytest.mark.parametrize("case", REGRESSION_CASES, ids=[
    f"{c[0].__name__}-{i}" for i, c in enumerate(REGRESSION_CASES)])
def test_regression_program(case):
    fn, args = case
    value = float(fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args]))
    expected = finite_difference(fn, list(args))
    helpers = [_reg_pair, _reg_scalar] if fn is reg_helpers else []
    source = "".join(inspect.getsource(h) + "\n\n" for h in helpers) + inspect.getsource(fn)
    compare(fn, list(args), value, expected, pg.gradient,
            f"{fn.__name__}{tuple(args)!r}:\n\n{source}")


def test_identical_functions_in_two_modules():
    """Two modules with the same entry-function text at the same line, over different
    helpers (as two generated programs, or two notebooks / files, can have): CPython code
    objects of the two ``f`` compare equal, yet each must get its own gradient."""
    text = "def h(a):\n    return a * {c}\n\n\ndef f(y):\n    return h(y)\n"
    for c in (3.0, 5.0):
        src = text.format(c=c)
        mod = exec_module(src, f"/pygote-random-programs/two_modules_{c:g}.py", {})
        compare(mod.f, [0.5], mod.f(0.5), [c], pg.gradient, f"f(0.5):\n\n{src}")
