"""Measurement machinery shared by ``run.py``, ``firstgrad.py`` and the smoke test.

- one thread everywhere: see ``threads.py`` (called before NumPy is imported).
- :func:`flatten` / :func:`unflatten` turn the differentiated arguments (floats, arrays,
  lists and tuples of them) and the peers' gradients into one float64 vector.
- :func:`check_gradient` / :func:`check_hessian` compare a gradient (a Hessian) with
  central finite differences of the PLAIN workload, along random directions.
- :func:`median_time` times a zero-argument callable: medians of ``repeats`` repeats,
  each a batch of calls lasting at least ``min_time`` seconds (the garbage collector
  stays on: collecting what a system allocates is part of its cost);
  :func:`median_times_interleaved` does the same for several callables in turn.
"""

from __future__ import annotations

import copy
import statistics
import time

import numpy as np

from benchmarks.threads import THREAD_VARS, configure_threads  # noqa: F401

# ---------------------------------------------------------------- flattening


def flatten(obj) -> np.ndarray:
    """Every float of ``obj`` (a float, an array, a list/tuple of them, nested) as one
    float64 vector, in order."""
    parts: list = []

    def walk(o):
        if isinstance(o, (list, tuple)):
            for e in o:
                walk(e)
        elif o is None:
            raise TypeError("a gradient is None")
        else:
            parts.append(np.asarray(o, dtype=np.float64).ravel())

    walk(obj)
    return np.concatenate(parts) if parts else np.zeros(0)


def unflatten(vec: np.ndarray, like):
    """The inverse of :func:`flatten`: ``vec`` in the structure (and types) of ``like``."""
    pos = 0

    def build(o):
        nonlocal pos
        if isinstance(o, list):
            return [build(e) for e in o]
        if isinstance(o, tuple):
            return tuple(build(e) for e in o)
        if isinstance(o, np.ndarray):
            n = o.size
            out = vec[pos : pos + n].reshape(o.shape).astype(o.dtype)
            pos += n
            return out
        v = float(vec[pos])
        pos += 1
        return v

    return build(like)


def select(args: tuple, argnums: tuple):
    """The differentiated arguments, as a tuple."""
    return tuple(args[i] for i in argnums)


def with_diff_args(args: tuple, argnums: tuple, new) -> tuple:
    out = list(args)
    for i, v in zip(argnums, new):
        out[i] = v
    return tuple(out)


def fresh(args):
    """A deep copy: a workload that writes into its inputs cannot disturb the next call."""
    return copy.deepcopy(args)


# ---------------------------------------------------------------- finite differences


def _directional(f, args, argnums, v, h):
    x = flatten(select(args, argnums))
    like = select(args, argnums)

    def at(s):
        new = unflatten(x + s * v, like)
        return float(f(*fresh(with_diff_args(args, argnums, new))))

    return (at(h) - at(-h)) / (2 * h)


def fd_directional(f, args, argnums, v, h=None):
    """d/ds f(x + s v) at 0: central differences with one Richardson step (O(h^4)) at
    three step sizes h0, h0/10, h0/100 (h0 = 1e-3 times the RMS of x, at least 1e-3);
    the estimate of the adjacent pair that agrees best is returned, so that both a
    strongly nonlinear function (small h) and round-off (large h) are handled."""
    x = flatten(select(args, argnums))
    if h is None:
        h = 1e-3 * max(1.0, float(np.sqrt(np.mean(x * x))) if x.size else 1.0)
    est = []
    for k in range(3):
        hk = h / 10**k
        d1 = _directional(f, args, argnums, v, hk)
        d2 = _directional(f, args, argnums, v, hk / 2)
        est.append((4 * d2 - d1) / 3)
    gaps = [abs(est[k] - est[k + 1]) for k in range(2)]
    return est[1 + int(np.argmin(gaps))]


def random_direction(n, seed=1):
    v = np.random.default_rng(seed).standard_normal(n)
    return v / np.linalg.norm(v)


def check_gradient(f, args, argnums, grad_flat, rtol=1e-6, seed=1):
    """(ok, relative error) of ``<grad, v>`` against finite differences of the plain ``f``."""
    x = flatten(select(args, argnums))
    grad_flat = np.asarray(grad_flat, dtype=np.float64)
    if grad_flat.shape != x.shape:
        return False, float("inf"), f"gradient has {grad_flat.size} entries, expected {x.size}"
    if not np.all(np.isfinite(grad_flat)):
        return False, float("inf"), "gradient is not finite"
    v = random_direction(x.size, seed)
    fd = fd_directional(f, args, argnums, v)
    ad = float(grad_flat @ v)
    scale = max(abs(fd), abs(ad), float(np.linalg.norm(grad_flat)) * 1e-3, 1e-12)
    err = abs(ad - fd) / scale
    return err <= rtol, err, f"<grad, v> = {ad:.10g}, finite differences {fd:.10g}"


def check_hessian(f, args, argnums, hess, rtol=1e-5, seed=1):
    """(ok, relative error) of ``v' H w`` against mixed central second differences of the
    plain ``f`` (one Richardson step)."""
    x = flatten(select(args, argnums))
    H = np.asarray(hess, dtype=np.float64).reshape(x.size, x.size)
    if not np.all(np.isfinite(H)):
        return False, float("inf"), "Hessian is not finite"
    v = random_direction(x.size, seed)
    w = random_direction(x.size, seed + 1)
    like = select(args, argnums)

    def at(a, b):
        new = unflatten(x + a * v + b * w, like)
        return float(f(*fresh(with_diff_args(args, argnums, new))))

    def mixed(h):
        return (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)

    h = 1e-2
    fd = (4 * mixed(h / 2) - mixed(h)) / 3
    ad = float(v @ H @ w)
    scale = max(abs(fd), abs(ad), float(np.linalg.norm(H)) * 1e-3, 1e-12)
    err = abs(ad - fd) / scale
    return err <= rtol, err, f"v'Hw = {ad:.10g}, finite differences {fd:.10g}"


# ---------------------------------------------------------------- timing


def _calibrate(fn, min_time, max_calls=None):
    """(n, seconds of the last batch): n the smallest power of two (found by doubling,
    jumping at most x16 at a time) whose batch of calls lasts at least ``min_time``."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or (max_calls is not None and n >= max_calls):
            return n, dt
        grow = 2
        while grow < 16 and dt * grow * 2 < min_time * 1.2:
            grow *= 2
        n *= grow


def _summary(times, n):
    return {"median": statistics.median(times), "repeats": len(times), "calls": n,
            "min": min(times), "max": max(times)}


def median_time(fn, min_time=0.2, repeats=7, max_calls=None):
    """Median seconds per call of ``fn()``: ``repeats`` batches of n calls, each batch
    lasting at least ``min_time`` (the calibration's last batch counts as the first)."""
    fn()  # warm
    n, dt = _calibrate(fn, min_time, max_calls)
    times = [dt / n]
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return _summary(times, n)


def median_times_interleaved(fns: dict, min_time=0.2, repeats=7):
    """:func:`median_time` of several callables, their repeats taken in turn (round
    robin), so that a slow drift of the machine spreads over all of them alike."""
    cal = {}
    for k, fn in fns.items():
        fn()
        cal[k] = _calibrate(fn, min_time)
    times = {k: [dt / n] for k, (n, dt) in cal.items()}
    for _ in range(repeats - 1):
        for k, fn in fns.items():
            n = cal[k][0]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[k].append((time.perf_counter() - t0) / n)
    return {k: _summary(ts, cal[k][0]) for k, ts in times.items()}


def fit_line(xs, ys):
    """Least-squares ``y = a + b x``: (intercept a, slope b)."""
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    b, a = np.polyfit(xs, ys, 1)
    return float(a), float(b)
