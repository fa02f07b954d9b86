"""Quick overhead check: gradient time over primal time on a few workloads, one run.

    python benchmarks/quick.py

Prints a table of ratios (medians of repeated timings, the primal and the gradient
measured in the same run) and the time of a first gradient (transform + compile) of a
30-line function. The full side-by-side suite with peers is `make bench` (see
../shared/BENCHMARKS.md); this file is the small check the core issue asks for.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time


sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import pygote as pg  # noqa: E402


# ---------------------------------------------------------------- workloads

from benchmarks.workloads import COEFFS, WORKLOADS, loop, poly_horner, sincos  # noqa: E402
from benchmarks.workloads import mlp as mlp_loss  # noqa: E402


def thirty_lines(x, y):
    a = x * y + math.sin(x)
    b = a ** 2 - math.cos(y)
    c = math.exp(-abs(b) * 0.01)
    d = a * b + c
    if d > 0:
        e = math.sqrt(d + 1.0)
    else:
        e = -math.sqrt(1.0 - d)
    total = 0.0
    for i in range(5):
        total += e * i + a
        if total > 100.0:
            total = total * 0.5
    f = total / (1.0 + c)
    g = math.tanh(f) + math.atan(b)
    h = [a, b, c, d]
    s = 0.0
    for v in h:
        s = s + v * v
    k = s ** 0.5
    m = max(k, g)
    n = min(m, 50.0) + math.log1p(abs(e))
    p = n * x - y
    q = p / (1.0 + x * x)
    r = q + g * f
    t = r - k
    u = t * t
    w = u + d
    z = w * 0.5
    return z


# ---------------------------------------------------------------- timing


def _median_time(fn, min_time=0.2, repeats=7):
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time / 4:
            break
        n *= 2
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def main():
    W1, b1, W2, b2, X, labels = WORKLOADS["mlp"].make_inputs()
    cases = [
        ("sincos", sincos, (0.7,), 10),
        ("loop (1000 iterations)", loop, (0.9,), 5),
        ("poly_horner (degree 200)", poly_horner, (0.9, COEFFS), 5),
        ("mlp (128x784-256-10)", mlp_loss, (W1, b1, W2, b2, X, labels), 3),
    ]
    print(f"{'workload':28s} {'primal':>12s} {'gradient':>12s} {'ratio':>7s}  target")
    for name, f, args, target in cases:
        primal = _median_time(lambda: f(*args))
        if f is mlp_loss:  # gradients of the parameters, not of the data (as in JAX)
            gradient = pg.grad(f, argnums=(0, 1, 2, 3))
            grad = _median_time(lambda: gradient(*args))
        elif f is poly_horner:  # with respect to x (BENCHMARKS.md)
            gradient = pg.grad(f)
            grad = _median_time(lambda: gradient(*args))
        else:  # as the benchmark suite calls it
            gradient = pg.grad(f)
            grad = _median_time(lambda: gradient(*args))
        print(f"{name:28s} {primal * 1e6:10.2f}us {grad * 1e6:10.2f}us {grad / primal:6.2f}x  <= {target}x")
    t0 = time.perf_counter()
    pg.gradient(thirty_lines, 0.3, 0.4)
    first = time.perf_counter() - t0
    print(f"{'first gradient, 30 lines':28s} {first * 1e3:10.2f}ms {'':>12s} {'':>7s}  <= 50 ms")


if __name__ == "__main__":
    main()
