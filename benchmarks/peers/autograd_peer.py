"""autograd (HIPS): the same mathematics written with ``autograd.numpy``.

Differences from the plain code: ``math.sin`` becomes ``anp.sin`` (autograd does not see
through ``math``); the heat equation builds a new array with ``anp.concatenate`` at each
step (autograd has no in-place updates); several differentiated arguments are passed as
one tuple (autograd's ``grad`` takes one ``argnum``).
"""

from __future__ import annotations

import io
import math

from benchmarks.harness import flatten
from benchmarks.peers import NotExpressible, Prepared

anp = None  # autograd.numpy, bound by Autograd.load()


# ---------------------------------------------------------------- the workloads

TAYLOR_OUT = io.StringIO()


def sincos(x):
    return anp.sin(anp.cos(x))


def taylor_sin(x):
    t, sign = 0.0, -1.0
    for i in range(1, 20):
        if i % 2 == 1:
            newterm = x**i / math.factorial(i)
            if abs(newterm) < 1e-8:
                return t
            print("i =", i, file=TAYLOR_OUT)
            sign = -sign
            t += sign * newterm
    return t


def loop(x):
    y = x
    for _ in range(1000):
        y = y * x * 0.999 + anp.sin(y) * 0.001
    return y


def poly_horner(x, coeffs):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def _descend(x, n):
    if n == 0:
        return x
    return x * 0.01 + anp.sin(_descend(x, n - 1))


def recursion(x):
    return _descend(x, 200)


def logsumexp(x):
    m = anp.max(x)
    return m + anp.log(anp.sum(anp.exp(x - m)))


def mlp(W1, b1, W2, b2, X, labels):
    h = anp.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = anp.max(logits, axis=1, keepdims=True)
    z = logits - m
    logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
    return -anp.mean(logp[anp.arange(X.shape[0]), labels])


def lotka_volterra(u, p):
    a, b, c, d = p
    x, y = u
    return anp.array([a * x - b * x * y, -c * y + d * x * y])


def rk4_lotka(p, u0):
    dt = 0.01
    u = u0
    for _ in range(1000):
        k1 = lotka_volterra(u, p)
        k2 = lotka_volterra(u + 0.5 * dt * k1, p)
        k3 = lotka_volterra(u + 0.5 * dt * k2, p)
        k4 = lotka_volterra(u + dt * k3, p)
        u = u + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return anp.sum(u * u)


def heat_inplace(u0):
    r = 0.25
    u = u0
    for _ in range(500):
        inner = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
        u = anp.concatenate([u[:1], inner, u[-1:]])  # no in-place updates in autograd
    return anp.sum(u * u)


def hessian_100(x, A):
    return anp.sum(anp.tanh(A @ x) ** 2) + anp.sum(x**4)


def lstm_cell(x, h, c, W, U, b):
    H = h.shape[1]
    z = x @ W + h @ U + b
    g = 1.0 / (1.0 + anp.exp(-z[:, : 3 * H]))
    i, f, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H :]
    u = anp.tanh(z[:, 3 * H :])
    c = f * c + i * u
    h = o * anp.tanh(c)
    return h, c


def lstm(params, xs, h0):
    hs = [h0 for _ in params]
    cs = [h0 for _ in params]
    for t in range(xs.shape[0]):
        inp = xs[t]
        for layer in range(len(params)):
            W, U, b = params[layer]
            h, c = lstm_cell(inp, hs[layer], cs[layer], W, U, b)
            hs[layer] = h
            cs[layer] = c
            inp = h
    return anp.sum(inp * inp)


FUNCTIONS = {
    "sincos": sincos, "taylor_sin": taylor_sin, "loop": loop, "poly_horner": poly_horner,
    "recursion": recursion, "logsumexp": logsumexp, "mlp": mlp, "rk4_lotka": rk4_lotka,
    "heat_inplace": heat_inplace, "hessian_100": hessian_100, "lstm_overhead": lstm,
}
NOTES = {
    "heat_inplace": "anp.concatenate per step (no in-place updates in autograd)",
    "mlp": "weights passed as one tuple (grad takes one argnum)",
}


def _packed(f, args, argnums):
    """f as a function of the tuple of its differentiated arguments."""

    def g(diff):
        full = list(args)
        for i, v in zip(argnums, diff):
            full[i] = v
        return f(*full)

    return g


class Autograd:
    name = "autograd"

    def load(self):
        global anp
        from importlib.metadata import version

        import autograd
        import autograd.numpy as np_

        anp = np_
        self.ag = autograd
        return version("autograd")

    def _fn(self, wl):
        if wl.name not in FUNCTIONS:
            raise NotExpressible(f"no autograd version of {wl.name}")
        return FUNCTIONS[wl.name]

    def gradient(self, wl, args):
        f = self._fn(wl)
        if len(wl.argnums) == 1:
            g = self.ag.grad(f, wl.argnums[0])
            return Prepared(lambda: g(*args), flatten, NOTES.get(wl.name, ""))
        g = self.ag.grad(_packed(f, args, wl.argnums))
        diff = tuple(args[i] for i in wl.argnums)
        return Prepared(lambda: g(diff), flatten, NOTES.get(wl.name, ""))

    def hessian(self, wl, args):
        h = self.ag.hessian(self._fn(wl), wl.argnums[0])
        return Prepared(lambda: h(*args), flatten, "autograd.hessian")

    def backward(self, wl, args):
        from autograd import make_vjp

        vjp, _ = make_vjp(self._fn(wl), wl.argnums[0])(*args)
        return Prepared(lambda: vjp(1.0), flatten, "make_vjp; vjp(1.0) timed")
