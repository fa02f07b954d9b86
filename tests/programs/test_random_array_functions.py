"""Random functions of a vector ``x`` and a matrix ``A`` made of array statements (names
that alias, ufuncs, products, quotients, matrix products), the kind the lean paths and
pg.hessian's forward over reverse take: the gradient against central differences, the
Hessian against second differences of the function. (A fixed seed per program: the same
programs every run; /tmp stress runs use more.)"""

import random

import numpy as np
import pytest

import pygote as pg

from .fd import assert_gradient_matches

_UNARY = ["np.tanh({})", "np.sin({})", "np.exp(0.3 * {})", "np.cos({})", "({}) ** 2", "-{}",
          "np.sqrt(2.0 + ({}) ** 2)", "np.log(3.0 + ({}) ** 2)"]
_BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (2.0 + ({}) ** 2)"]


def _expr(rng, names, depth):
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(names)
    r = rng.random()
    if r < 0.4:
        return rng.choice(_UNARY).format(_expr(rng, names, depth - 1))
    if r < 0.85:
        return "(" + rng.choice(_BINARY).format(_expr(rng, names, depth - 1),
                                                 _expr(rng, names, depth - 1)) + ")"
    return "(A @ " + _expr(rng, names, depth - 1) + ")"


def _program(seed):
    rng = random.Random(seed)
    lines, names = [], ["x"]
    for k in range(rng.randint(0, 3)):
        value = rng.choice(names) if rng.random() < 0.2 else _expr(rng, names, 3)
        lines.append(f"    v{k} = {value}")  # (sometimes a second name of the same array)
        names.append(f"v{k}")
    last = rng.choice(["np.sum({})", "np.sum(({}) ** 2)", "np.sum({}) * 0.5"])
    lines.append("    return " + last.format(_expr(rng, names, 3)))
    source = "def f(x, A):\n" + "\n".join(lines) + "\n"
    namespace = {"np": np}
    exec(compile(source, f"<random array function {seed}>", "exec"), namespace)
    f = namespace["f"]
    f.source = source
    return f


def _second_differences(f, x, A, h=1e-4):
    n = x.size
    H = np.empty((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(n):
            H[i, j] = (f(x + E[i] + E[j], A) - f(x + E[i] - E[j], A)
                       - f(x - E[i] + E[j], A) + f(x - E[i] - E[j], A)) / (4 * h * h)
    return H


@pytest.mark.parametrize("seed", range(40))
def test_random_array_function(seed, monkeypatch):
    import linecache

    f = _program(seed)
    # (pygote reads the source: register it as a file's lines)
    filename = f"<random array function {seed}>"
    monkeypatch.setitem(linecache.cache, filename, (len(f.source), None,
                                                    f.source.splitlines(True), filename))
    rng = np.random.default_rng(seed)
    x, A = rng.standard_normal(4) * 0.5, rng.standard_normal((4, 4)) * 0.5
    assert_gradient_matches(lambda x: f(x, A), x, modes=("rev",))
    expected = _second_differences(f, x, A)  # (its error grows with the entries' size)
    np.testing.assert_allclose(pg.hessian(f)(x, A), expected, rtol=1e-4,
                               atol=1e-5 + 1e-7 * np.abs(expected).max(), err_msg=f.source)
