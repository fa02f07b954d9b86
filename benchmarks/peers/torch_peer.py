"""PyTorch eager autograd: the same mathematics on float64 tensors.

Differences from the plain code: floats and arrays become float64 tensors (the
differentiated ones with ``requires_grad=True``), ``math.sin`` becomes ``torch.sin``,
``np.array([..])`` becomes ``torch.stack``. The heat equation keeps its IN-PLACE update
(``u[1:-1] = ...`` on a clone: PyTorch records it). The gradient call is the forward pass
plus ``torch.autograd.grad``; the Hessian is ``torch.func.hessian``.
"""

from __future__ import annotations

import io
import math

import numpy as np

from benchmarks.harness import flatten
from benchmarks.peers import NotExpressible, Prepared

torch = None  # bound by Torch.load()

# ---------------------------------------------------------------- the workloads

TAYLOR_OUT = io.StringIO()


def sincos(x):
    return torch.sin(torch.cos(x))


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
        y = y * x * 0.999 + torch.sin(y) * 0.001
    return y


def poly_horner(x, coeffs):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def _descend(x, n):
    if n == 0:
        return x
    return x * 0.01 + torch.sin(_descend(x, n - 1))


def recursion(x):
    return _descend(x, 200)


def logsumexp(x):
    m = torch.max(x)
    return m + torch.log(torch.sum(torch.exp(x - m)))


def mlp(W1, b1, W2, b2, X, labels):
    h = torch.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = torch.amax(logits, dim=1, keepdim=True)
    z = logits - m
    logp = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return -torch.mean(logp[torch.arange(X.shape[0]), labels])


def lotka_volterra(u, p):
    a, b, c, d = p
    x, y = u
    return torch.stack([a * x - b * x * y, -c * y + d * x * y])


def rk4_lotka(p, u0):
    dt = 0.01
    u = u0
    for _ in range(1000):
        k1 = lotka_volterra(u, p)
        k2 = lotka_volterra(u + 0.5 * dt * k1, p)
        k3 = lotka_volterra(u + 0.5 * dt * k2, p)
        k4 = lotka_volterra(u + dt * k3, p)
        u = u + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return torch.sum(u * u)


def heat_inplace(u0):
    r = 0.25
    u = u0.clone()
    for _ in range(500):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return torch.sum(u * u)


def hessian_100(x, A):
    return torch.sum(torch.tanh(A @ x) ** 2) + torch.sum(x**4)


def lstm_cell(x, h, c, W, U, b):
    H = h.shape[1]
    z = x @ W + h @ U + b
    g = 1.0 / (1.0 + torch.exp(-z[:, : 3 * H]))
    i, f, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H :]
    u = torch.tanh(z[:, 3 * H :])
    c = f * c + i * u
    h = o * torch.tanh(c)
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
    return torch.sum(inp * inp)


FUNCTIONS = {
    "sincos": sincos, "taylor_sin": taylor_sin, "loop": loop, "poly_horner": poly_horner,
    "recursion": recursion, "logsumexp": logsumexp, "mlp": mlp, "rk4_lotka": rk4_lotka,
    "heat_inplace": heat_inplace, "hessian_100": hessian_100, "lstm_overhead": lstm,
}
NOTES = {
    "rk4_lotka": "torch.stack for the state",
    "heat_inplace": "in place on a clone (u[1:-1] = ...), as the plain code",
}


# ---------------------------------------------------------------- conversion


def _to_torch(x, requires_grad):
    if isinstance(x, float):
        return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)
    if isinstance(x, np.ndarray):
        if np.issubdtype(x.dtype, np.integer):
            return torch.from_numpy(x.astype(np.int64))
        return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)
    if isinstance(x, tuple):
        return tuple(_to_torch(e, requires_grad) for e in x)
    if isinstance(x, list):
        if all(isinstance(e, float) for e in x) and not requires_grad:
            return list(x)  # a list of constant floats stays a list (Horner's coefficients)
        return [_to_torch(e, requires_grad) for e in x]
    return x


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [t for e in x for t in _leaves(e)]
    return [x]


def _to_numpy(g):
    if isinstance(g, (list, tuple)):
        return [_to_numpy(e) for e in g]
    return g.detach().numpy()


def _flat(g):
    return flatten(_to_numpy(g))


class Torch:
    name = "torch"

    def load(self):
        global torch
        import torch as torch_

        torch = torch_
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already set in this process
        torch.set_default_dtype(torch.float64)
        return torch.__version__

    def _prepare(self, wl, args):
        if wl.name not in FUNCTIONS:
            raise NotExpressible(f"no PyTorch version of {wl.name}")
        targs = tuple(_to_torch(a, i in wl.argnums) for i, a in enumerate(args))
        leaves = [t for i in wl.argnums for t in _leaves(targs[i])]
        return FUNCTIONS[wl.name], targs, leaves

    def gradient(self, wl, args):
        f, targs, leaves = self._prepare(wl, args)

        def call():
            return torch.autograd.grad(f(*targs), leaves)

        return Prepared(call, _flat, NOTES.get(wl.name, ""))

    def hessian(self, wl, args):
        f, targs, _ = self._prepare(wl, args)
        x = targs[0].detach()
        rest = targs[1:]
        h = torch.func.hessian(lambda x_: f(x_, *rest))
        return Prepared(lambda: h(x), _flat, "torch.func.hessian (jacfwd of jacrev)")

    def backward(self, wl, args):
        f, targs, leaves = self._prepare(wl, args)
        y = f(*targs)

        def call():
            return torch.autograd.grad(y, leaves, retain_graph=True)

        return Prepared(call, _flat, "torch.autograd.grad(y, weights, retain_graph=True) timed")
