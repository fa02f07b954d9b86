"""End-to-end programs: tuples, lists, dicts, namedtuples, dataclasses and user classes
(attributes, methods, ``__call__``, properties, dunder and reflected operators)."""

import math
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np
import pytest

from .fd import assert_gradient_matches, params, pg

_rng = np.random.default_rng(7)

Point = namedtuple("Point", ["x", "y"])
Gaussian = namedtuple("Gaussian", "mu log_sigma")


@dataclass
class Params:
    w: np.ndarray
    b: float


@dataclass
class Config:
    rate: float
    n_steps: int
    name: str = "euler"

    def decay(self, x):
        for _ in range(self.n_steps):
            x = x - self.rate * x
        return x


@dataclass
class Network:
    weights: list
    bias: np.ndarray
    scale: float = 1.0
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FrozenSpring:
    k: float
    rest: float


class Particle:
    def __init__(self, pos, vel, mass):
        self.pos = pos
        self.vel = vel
        self.mass = mass
        self.label = "p"

    def kinetic_energy(self):
        return 0.5 * self.mass * np.sum(self.vel ** 2)

    def momentum(self):
        return self.mass * self.vel


class Rect:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    @property
    def area(self):
        return self.w * self.h

    @property
    def diagonal(self):
        return math.hypot(self.w, self.h)


class Linear:
    def __init__(self, weight, bias):
        self.weight = weight
        self.bias = bias

    def __call__(self, x):
        return self.weight @ x + self.bias


class MLP:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = np.tanh(x)
        return x


class Vec2:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        if isinstance(other, Vec2):
            return Vec2(self.x + other.x, self.y + other.y)
        return Vec2(self.x + other, self.y + other)

    __radd__ = __add__

    def __sub__(self, other):
        return Vec2(self.x - other.x, self.y - other.y)

    def __rsub__(self, other):
        return Vec2(other - self.x, other - self.y)

    def __mul__(self, s):
        return Vec2(self.x * s, self.y * s)

    def __rmul__(self, s):
        return Vec2(s * self.x, s * self.y)

    def __truediv__(self, s):
        return Vec2(self.x / s, self.y / s)

    def __rtruediv__(self, s):
        return Vec2(s / self.x, s / self.y)

    def __neg__(self):
        return Vec2(-self.x, -self.y)

    def __matmul__(self, other):
        return self.x * other.x + self.y * other.y

    def __abs__(self):
        return math.sqrt(self.x * self.x + self.y * self.y)

    def __pow__(self, p):
        return Vec2(self.x ** p, self.y ** p)


class Dual:
    """A hand-written forward-mode number: pygote must see through it."""

    def __init__(self, val, der):
        self.val = val
        self.der = der

    def __add__(self, o):
        o = o if isinstance(o, Dual) else Dual(o, 0.0)
        return Dual(self.val + o.val, self.der + o.der)

    __radd__ = __add__

    def __mul__(self, o):
        o = o if isinstance(o, Dual) else Dual(o, 0.0)
        return Dual(self.val * o.val, self.der * o.val + self.val * o.der)

    __rmul__ = __mul__


class Polynomial:
    def __init__(self, coeffs):
        self.coeffs = coeffs

    def __getitem__(self, i):
        return self.coeffs[i]

    def __len__(self):
        return len(self.coeffs)

    def __iter__(self):
        return iter(self.coeffs)

    def __call__(self, x):
        y = 0.0
        for c in reversed(self.coeffs):
            y = y * x + c
        return y

    def derivative(self):
        return Polynomial([i * c for i, c in enumerate(self.coeffs)][1:])


class Shape:
    def __init__(self, size):
        self.size = size

    def area(self):
        raise NotImplementedError

    def cost(self, price):
        return self.area() * price


class Square(Shape):
    def area(self):
        return self.size ** 2


class Circle(Shape):
    def area(self):
        return math.pi * self.size ** 2

    def cost(self, price):
        return super().cost(price) + 1.0


class Scaler:
    factor = 2.0

    @staticmethod
    def square(v):
        return v * v

    @classmethod
    def make(cls, v):
        return cls.factor * v


class Counter:
    def __init__(self, start):
        self.total = start

    def add(self, v):
        self.total = self.total + v
        return self


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


class Model:
    def __init__(self, params, n_layers):
        self.params = params
        self.n_layers = n_layers

    def predict(self, x):
        h = x
        for i in range(self.n_layers):
            h = np.tanh(self.params[f"W{i}"] @ h)
        return h


# --- tuples and lists ---------------------------------------------------------------------

def tuple_arg(t):
    return t[0] * t[1] + t[2]


def nested_tuple(t):
    (a, b), c = t
    return a * b * c + b


def tuple_unpack_in_loop(pairs):
    s = 0.0
    for w, x in pairs:
        s = s + w * x
    return s


def star_unpack(xs):
    first, *rest = xs
    return first * sum(rest)


def list_with_ints(xs):
    return xs[0] * xs[1] + xs[2] * xs[0]


def list_slicing(xs):
    return sum(xs[1:3]) * xs[-1] + sum(xs[::-1][:2])


def list_concat_repeat(xs, ys):
    zs = xs + ys
    rep = ys * 2
    return sum(z * z for z in zs) + sum(rep)


def list_len_mean(xs):
    mean = sum(xs) / len(xs)
    return sum((x - mean) ** 2 for x in xs) / len(xs)


def transpose_zip_star(M):
    cols = list(zip(*M))
    return sum(c[0] * c[1] for c in cols)


def helper_returns_tuple(x, y):
    def polar(a, b):
        return math.hypot(a, b), math.atan2(b, a)
    r, theta = polar(x, y)
    return r * theta


def list_of_arrays(arrs):
    return sum(np.sum(a * a) for a in arrs) + arrs[0][1] * arrs[1][0]


def list_of_tuples_mixed(items):
    s = 0.0
    for name, weight, count in items:
        s = s + weight * count * len(name)
    return s


# --- dicts --------------------------------------------------------------------------------

def dict_params(p):
    return np.sum(p["w"] ** 2) * p["b"] + len(p["name"])


def nested_dict_of_lists(p):
    return sum(p["layer1"]["w"]) * p["layer2"]["scale"] + p["layer1"]["b"][0]


def dict_get_default(d, x):
    return d.get("a", 1.0) * x + d.get("missing", 2.0) * x


def dict_tuple_keys(d):
    return d[(0, 1)] * d[(1, 0)] - d[(1, 1)]


def dict_copy_and_modify(p):
    q = dict(p)
    q["w"] = q["w"] * 2.0
    return q["w"] * p["w"] + q["b"]


def dict_of_namedtuples(d):
    return d["a"].x * d["b"].y + d["a"].y


# --- namedtuples --------------------------------------------------------------------------

def namedtuple_norm(p):
    return math.sqrt(p.x ** 2 + p.y ** 2)


def namedtuple_replace(p):
    q = p._replace(x=p.x * 2.0)
    return q.x * q.y + p.x


def namedtuple_built_inside(a, b):
    p = Point(a * b, a + b)
    q = Point(*[2.0 * v for v in p])
    return p.x * q.y + q.x


def namedtuple_gaussian_nll(g, xs):
    sigma = math.exp(g.log_sigma)
    return sum(0.5 * ((x - g.mu) / sigma) ** 2 + g.log_sigma for x in xs)


def nested_containers(data):
    return data[0]["p"].x * data[1][0] + data[0]["p"].y * data[1][1]


# --- dataclasses --------------------------------------------------------------------------

def dataclass_params(p, x):
    return np.sum((p.w * x + p.b) ** 2)


def dataclass_with_int_field(c, x):
    return c.decay(x) * c.rate


def dataclass_nested(net, x):
    h = x
    for W in net.weights:
        h = np.tanh(W @ h)
    return net.scale * np.sum(h + net.bias)


def dataclass_frozen(s, x):
    return 0.5 * s.k * (x - s.rest) ** 2


def dataclass_built_inside(w, b):
    p = Params(w=w, b=b)
    return np.sum(p.w) * p.b


# --- user classes -------------------------------------------------------------------------

def object_attributes(p):
    return 0.5 * p.mass * np.sum(p.vel ** 2) + np.sum(p.pos)


def object_method(p):
    return p.kinetic_energy() + np.sum(p.momentum() * p.pos)


def object_built_inside(x, v):
    p = Particle(np.array([x, 1.0]), np.array([v, v * x]), 2.0)
    return p.kinetic_energy()


def object_property(r):
    return r.area * r.diagonal


def linear_layer_loss(layer):
    x = np.array([0.5, -1.0, 2.0])
    y = np.array([1.0, 0.0])
    return np.sum((layer(x) - y) ** 2)


def mlp_object_loss(model, x):
    return np.sum(model(x) ** 2)


def dunder_operators(a, b):
    c = a + b * 2.0
    d = -(c - a) / 3.0
    return abs(c) + c @ d + (a ** 2) @ b


def reflected_operators(v, s):
    w = 2.0 * v
    u = 1.0 + w
    z = 3.0 - u
    q = s / v
    return z @ q + (s * v).x


def reflected_from_float_args(x, y):
    v = Vec2(x, y)
    total = x * v + y * v
    return abs(1.5 + total) + abs(2.0 / v)


def dual_numbers(x):
    d = Dual(x, 1.0)
    y = 3.0 * d * d + d * 2.0 + 1.0
    return y.val + y.der


def polynomial_object(poly, x):
    d = poly.derivative()
    return poly(x) * d(x) + poly[0] * len(poly) + sum(c * c for c in poly)


def inheritance_super(sq, ci, price):
    return sq.cost(price) + ci.cost(price)


def static_and_class_methods(x):
    return Scaler.square(x) + Scaler.make(x)


def method_chaining(x, y):
    c = Counter(x)
    c.add(y).add(x * y)
    return c.total ** 2


def slotted_inside(x, y):
    s = Slotted(x, y * 2.0)
    return s.a * s.b + s.a


def object_with_dict_of_params(m, x):
    return np.sum(m.predict(x))


def getattr_by_name(r):
    total = 0.0
    for name in ("w", "h"):
        total = total + getattr(r, name) ** 2
    return total


CASES = [
    (tuple_arg, ((1.5, -2.0, 0.5),)),
    (nested_tuple, (((1.5, -2.0), 0.5),)),
    (tuple_unpack_in_loop, ([(0.5, 1.0), (2.0, -1.5), (0.3, 0.3)],)),
    (star_unpack, ([2.0, 0.5, -1.0, 3.0],)),
    (list_with_ints, ([1.5, 2, 3.0],)),
    (list_slicing, ([1.0, 2.0, -3.0, 0.5, 4.0],)),
    (list_concat_repeat, ([1.0, 2.0], [0.5, -1.5])),
    (list_len_mean, ([1.0, 2.5, -0.5, 3.0],)),
    (transpose_zip_star, ([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]],)),
    (helper_returns_tuple, (1.2, 0.7)),
    (list_of_arrays, ([np.array([1.0, 2.0]), np.array([0.5, -1.5, 2.0])],)),
    (list_of_tuples_mixed, ([("ab", 0.5, 2), ("cde", 1.5, 1)],)),
    (dict_params, ({"w": np.array([1.0, -2.0, 0.5]), "b": 0.3, "name": "lin"},)),
    (nested_dict_of_lists, ({"layer1": {"w": [1.0, 2.0], "b": [0.5, 1.0]},
                             "layer2": {"scale": 1.5, "act": "tanh"}},)),
    (dict_get_default, ({"a": 0.7}, 1.3)),
    (dict_tuple_keys, ({(0, 1): 1.5, (1, 0): -0.5, (1, 1): 2.0, (0, 0): 4.0},)),
    (dict_copy_and_modify, ({"w": 1.5, "b": -0.5},)),
    (dict_of_namedtuples, ({"a": Point(1.0, 2.0), "b": Point(-0.5, 0.25)},)),
    (namedtuple_norm, (Point(3.0, 4.0),)),
    (namedtuple_replace, (Point(1.5, -0.5),)),
    (namedtuple_built_inside, (1.2, 0.3)),
    (namedtuple_gaussian_nll, (Gaussian(0.3, -0.2), [0.1, 0.9, -0.4])),
    (nested_containers, ([{"p": Point(1.0, 2.0), "n": 3}, (0.5, -1.5)],)),
    (dataclass_params, (Params(np.array([0.5, -1.0]), 0.2), np.array([1.5, 2.0]))),
    (dataclass_with_int_field, (Config(0.1, 5), 2.0)),
    (dataclass_nested, (Network([_rng.standard_normal((3, 2)), _rng.standard_normal((2, 3))],
                                np.array([0.1, -0.2]), 1.5, {"kind": "mlp"}),
                        np.array([0.5, -1.0]))),
    (dataclass_frozen, (FrozenSpring(2.0, 0.5), 1.3)),
    (dataclass_built_inside, (np.array([1.0, 2.0]), 0.5)),
    (object_attributes, (Particle(np.array([1.0, 2.0]), np.array([0.5, -0.3]), 2.0),)),
    (object_method, (Particle(np.array([1.0, 2.0]), np.array([0.5, -0.3]), 2.0),)),
    (object_built_inside, (1.2, 0.7)),
    (object_property, (Rect(1.5, 2.5),)),
    (linear_layer_loss, (Linear(_rng.standard_normal((2, 3)), np.array([0.1, -0.1])),)),
    (mlp_object_loss, (MLP([Linear(_rng.standard_normal((4, 3)), _rng.standard_normal(4)),
                            Linear(_rng.standard_normal((2, 4)), _rng.standard_normal(2))]),
                       np.array([0.5, -1.0, 0.2]))),
    (dunder_operators, (Vec2(1.0, 2.0), Vec2(0.5, -1.5))),
    (reflected_operators, (Vec2(1.5, -0.5), 2.0)),
    (reflected_from_float_args, (0.8, 1.3)),
    (dual_numbers, (1.3,)),
    (polynomial_object, (Polynomial([1.0, -2.0, 0.5, 0.25]), 1.1)),
    (inheritance_super, (Square(1.5), Circle(0.7), 2.0)),
    (static_and_class_methods, (1.3,)),
    (method_chaining, (1.5, -0.4)),
    (slotted_inside, (1.5, -0.4)),
    (object_with_dict_of_params, (Model({"W0": _rng.standard_normal((3, 3)),
                                         "W1": _rng.standard_normal((3, 3))}, 2),
                                  np.array([0.5, -1.0, 0.3]))),
    (getattr_by_name, (Rect(1.5, 2.5),)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_data_structures(program, args):
    assert_gradient_matches(program, *args)


def test_linear_layer_structural_access():
    """``pg.gradient(loss, layer)[0].weight``: attribute and item access on Structural."""
    W = np.array([[0.5, -1.0, 0.3], [1.2, 0.1, -0.7]])
    b = np.array([0.1, -0.1])
    layer = Linear(W.copy(), b.copy())
    (g,) = pg.gradient(linear_layer_loss, layer)
    assert isinstance(g, pg.Structural)
    x = np.array([0.5, -1.0, 2.0])
    r = 2.0 * (W @ x + b - np.array([1.0, 0.0]))
    np.testing.assert_allclose(g.weight, np.outer(r, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g["weight"], np.outer(r, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g.bias, r, rtol=1e-12, atol=1e-12)
    assert g.weight.shape == W.shape
    # the caller's layer is untouched
    np.testing.assert_array_equal(layer.weight, W)


def test_nested_structural_access():
    layers = [Linear(np.array([[0.5, -0.2], [0.1, 0.3]]), np.array([0.0, 0.1])),
              Linear(np.array([[1.0, -1.0]]), np.array([0.2]))]
    (g, gx) = pg.gradient(mlp_object_loss, MLP(layers), np.array([1.0, -0.5]))
    assert isinstance(g, pg.Structural)
    assert isinstance(g.layers, list) and len(g.layers) == 2
    assert isinstance(g.layers[0], pg.Structural)
    assert g.layers[1].weight.shape == (1, 2)
    assert g["layers"][0]["bias"].shape == (2,)
    assert gx.shape == (2,)
