"""pygote in six short scenes: plain Python in, exact gradients out.

Run with `make demo`. Every function below is ordinary Python + NumPy: no wrapped numpy,
no decorators. Each gradient is printed next to an independent check (a closed form or
central finite differences of the very same function).
"""

import math
import time
import tracemalloc

import numpy as np

import pygote as pg


def finite_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def banner(title):
    print()
    print(title)
    print("-" * len(title))


# 1. The Zygote paper's opening example: a Taylor series with a loop, a branch, an early
#    return on convergence, math.factorial and a print.
def s(x):
    t, sign = 0.0, -1.0
    for i in range(1, 20):
        if i % 2 == 1:
            newterm = x**i / math.factorial(i)
            if abs(newterm) < 1e-8:
                return t
            sign = -sign
            t += sign * newterm
    return t


banner("1. Taylor series of sin, differentiated through its loop and early return")
(ds,) = pg.gradient(s, 1.0)
print(f"d/dx s(x) at 1.0 = {ds:.15f}")
print(f"cos(1.0)         = {math.cos(1.0):.15f}   (the series' derivative is cos)")


# 2. A small multilayer perceptron, its loss written the way one writes it in NumPy.
def mlp_loss(params, X, labels):
    W1, b1, W2, b2 = params
    hidden = np.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(labels)), labels])


banner("2. Gradient of a 2-layer MLP's cross-entropy loss, then a few steps of descent")
rng = np.random.default_rng(0)
X = rng.standard_normal((64, 8))
labels = (X[:, 0] + X[:, 1] > 0).astype(int)
params = [rng.standard_normal((8, 16)) * 0.3, np.zeros(16), rng.standard_normal((16, 2)) * 0.3,
          np.zeros(2)]
(grads,) = pg.gradient(mlp_loss, params, X, labels)[:1]
direction = [rng.standard_normal(p.shape) for p in params]
along = sum(np.sum(g * d) for g, d in zip(grads, direction))
check = finite_difference(
    lambda t: mlp_loss([p + t * d for p, d in zip(params, direction)], X, labels), 0.0)
print(f"directional derivative: pygote {along:.10f}, finite differences {check:.10f}")
for step in range(31):
    loss, (grads, *_) = pg.withgradient(mlp_loss, params, X, labels)
    if step % 10 == 0:
        print(f"step {step:2d}: loss {loss:.4f}")
    params = [p - 0.5 * g for p, g in zip(params, grads)]


# 3. A simulation with a loop: a ball thrown against air drag, explicit Euler steps.
#    How does the landing distance change with the launch angle?
def landing_distance(angle, speed=20.0, drag=0.05, dt=0.01):
    x, y = 0.0, 0.0
    vx, vy = speed * math.cos(angle), speed * math.sin(angle)
    while y >= 0.0:
        v = math.sqrt(vx * vx + vy * vy)
        vx = vx - dt * drag * v * vx
        vy = vy - dt * (9.81 + drag * v * vy)
        x = x + dt * vx
        y = y + dt * vy
    return x


banner("3. A drag simulation: d(distance)/d(angle), through a data-dependent while loop")
for angle in (0.5, 0.6, 0.7):
    (d,) = pg.gradient(landing_distance, angle)
    print(f"angle {angle:.1f} rad: distance {landing_distance(angle):7.3f} m, "
          f"d/dangle = {d:8.3f} (finite differences {finite_difference(landing_distance, angle):8.3f})")


# 4. The code pygote generated: readable Python, with the source line of each block.
def horner(x, coefficients):
    y = 0.0
    for c in coefficients:
        y = y * x + c
    return y


banner("4. What pygote generated for Horner's rule (pg.show_adjoint)")
pg.show_adjoint(horner, 0.5, [1.0, 2.0, 3.0])
dx, dcoefficients = pg.gradient(horner, 0.5, [1.0, 2.0, 3.0])
print(f"horner(x, [1, 2, 3]) = x^2 + 2x + 3: d/dx at 0.5 = {dx} (closed form 2*0.5 + 2 = 3.0)")
print(f"d/dcoefficients = {dcoefficients} (closed form [x^2, x, 1] = [0.25, 0.5, 1.0])")


banner("5. Forward mode, higher order, mixed mode")
y, dy = pg.jvp(horner, (0.5, [1.0, 2.0, 3.0]), (1.0, [0.0, 0.0, 0.0]))
print(f"jvp of horner at 0.5 along x: {dy} (closed form 3.0), no tape, one pass")
d3 = pg.grad(pg.grad(pg.grad(math.sin)))
print(f"sin'''(0.3) = {d3(0.3):.12f}   -cos(0.3) = {-math.cos(0.3):.12f}")
confused = pg.grad(lambda x: x * pg.grad(lambda y: x * y)(1.0))(4.0)
print(f"d/dx [x * d/dy (x * y)] at x = 4: {confused} (closed form 2x = 8; no perturbation confusion)")


def energy(x):
    return np.sum(np.tanh(x) ** 2) + 0.25 * np.sum(x ** 4)


x = np.array([0.3, -0.8, 1.1])
H = pg.hessian(energy)(x)
t = np.tanh(x)
closed = np.diag(2 * (1 - t ** 2) * (1 - 3 * t ** 2) + 3 * x ** 2)
print("Hessian of sum(tanh(x)^2) + sum(x^4)/4 (reverse over forward):")
print(np.round(H, 8))
print(f"largest difference from the closed form: {np.max(np.abs(H - closed)):.2e}")


def heat(u0, steps=200):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + 0.25 * (u[2:] - 2 * u[1:-1] + u[:-2])  # in place
    return np.sum(u * u)


banner("6. In-place updates: a heat-equation stencil, written as NumPy users write it")
u0 = np.sin(np.linspace(0.0, np.pi, 2000)) ** 2
(du0,) = pg.gradient(heat, u0)
direction = np.cos(np.linspace(0.0, 7.0, 2000))
fd = (heat(u0 + 1e-6 * direction) - heat(u0 - 1e-6 * direction)) / 2e-6
print(f"directional derivative: pygote {du0 @ direction:.10f}, finite differences {fd:.10f}")
tracemalloc.start()
_, back = pg.pullback(heat, u0)
kept = tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
overwritten = 200 * 1998 * 8
print(f"kept for the backward pass: {kept / 1e6:.2f} MB; values the loop overwrote: "
      f"{overwritten / 1e6:.2f} MB (no copy per step of the temporaries)")
t0 = time.perf_counter()
heat(u0)
t1 = time.perf_counter()
pg.gradient(heat, u0)
t2 = time.perf_counter()
print(f"gradient / function time: {(t2 - t1) / (t1 - t0):.1f}x (one run; see README, Performance)")
