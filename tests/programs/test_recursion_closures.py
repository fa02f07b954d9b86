"""End-to-end programs: recursion, closures, higher-order functions, calling conventions,
globals and side effects."""

import functools
import math

import numpy as np
import pytest

from .fd import assert_gradient_matches, params, pg

SCALE = 3.0
OFFSETS = np.array([0.5, -1.0, 2.0])
LOG = []


# --- recursion ----------------------------------------------------------------------------

def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def recursive_power(x):
    return power(x, 5) + power(x, 2)


def fast_power(x, n):
    if n == 0:
        return 1.0
    half = fast_power(x, n // 2)
    if n % 2 == 0:
        return half * half
    return half * half * x


def recursive_fast_power(x):
    return fast_power(x, 11)


def tree_sum(tree):
    if isinstance(tree, list):
        return sum(tree_sum(t) for t in tree)
    return tree * tree


def recursive_tree(tree):
    return tree_sum(tree)


def halve_until_small(x):
    if x < 1.0:
        return x * x
    return halve_until_small(x / 2.0) + x


def recursive_data_depth(x):
    return halve_until_small(x)


def ping(x, n):
    if n == 0:
        return x
    return pong(x * 1.1, n - 1)


def pong(x, n):
    if n == 0:
        return x * x
    return ping(math.sin(x) + x, n - 1)


def mutual_recursion(x):
    return ping(x, 5)


def continued_fraction(x, depth):
    if depth == 0:
        return x
    return 1.0 + 1.0 / continued_fraction(x, depth - 1)


def recursive_continued_fraction(x):
    return continued_fraction(x, 6)


def matpow(A, n):
    if n == 1:
        return A
    return A @ matpow(A, n - 1)


def recursive_matrix_power(A):
    return np.sum(matpow(A, 4))


def recursive_closure(x):
    def go(v, n):
        if n == 0:
            return v
        return go(v * x + 1.0, n - 1)
    return go(1.0, 4)


# --- closures -----------------------------------------------------------------------------

def closure_lambda(w):
    g = lambda x: x * w  # noqa: E731
    return g(2.0)


def closure_nested_def(w):
    def inner(x):
        return x * w + w * w
    return inner(3.0)


def make_scaler(w):
    def scale(x):
        return w * x
    return scale


def closure_from_factory(w, x):
    s = make_scaler(w)
    return s(x) ** 2


def make_affine(a, b):
    return lambda t: a * t + b


def closure_list_of_affines(a, b, t):
    fs = [make_affine(a, b), make_affine(b, a)]
    return fs[0](t) * fs[1](t)


def closure_nonlocal_accumulator(x):
    total = 0.0

    def add(v):
        nonlocal total
        total += v * x

    add(1.0)
    add(2.0)
    add(x)
    return total


def closure_late_binding(x):
    y = x
    g = lambda: y * y  # noqa: E731
    y = 2.0 * x
    return g()


def closures_in_loop_defaults(x):
    fs = [lambda t, k=k: t * k * x for k in range(1, 4)]
    return sum(f(1.5) for f in fs)


def outer_mid_inner(a, b, c):
    def outer(p):
        def mid(q):
            def inner(r):
                return p * q * r + p
            return inner
        return mid
    return outer(a)(b)(c)


def closure_over_array(W):
    x = np.array([1.0, -2.0, 0.5])

    def layer(v):
        return np.tanh(W @ v)

    return np.sum(layer(layer(x)))


def closure_captured_param_in_loop(w):
    def step(h):
        return math.tanh(w * h + 0.1)
    h = 0.5
    for _ in range(5):
        h = step(h)
    return h


# --- higher-order functions ---------------------------------------------------------------

def map_lambda(xs):
    return sum(map(lambda v: v * v, xs))


def map_builtin(xs):
    return sum(map(math.sin, xs))


def map_two_lists(xs, ys):
    return sum(map(lambda a, b: a * b - a, xs, ys))


def reduce_product(xs):
    return functools.reduce(lambda a, b: a * b, xs)


def reduce_with_initial_closure(xs, w):
    return functools.reduce(lambda acc, v: acc * w + v, xs, 0.5)


def sorted_key(xs):
    ys = sorted(xs, key=abs)
    return ys[0] * 1.0 + ys[1] * 2.0 + ys[-1] * 3.0


def sorted_plain(xs):
    ys = sorted(xs, reverse=True)
    return sum(y * (i + 1) for i, y in enumerate(ys))


def max_with_key(xs):
    best = max(xs, key=lambda v: v * v)
    return best * best * best


def filter_positive(xs):
    return sum(filter(lambda v: v > 0.0, xs))


def apply_twice(fn, x):
    return fn(fn(x))


def higher_order_builtin(x):
    return apply_twice(math.sin, x)


def cube(v):
    return v * v * v


def higher_order_user(x):
    return apply_twice(cube, x) + apply_twice(lambda v: v + x, 1.0)


def trapezoid(fn, a, b, n):
    h = (b - a) / n
    s = 0.5 * (fn(a) + fn(b))
    for i in range(1, n):
        s += fn(a + i * h)
    return s * h


def integrate_gaussian(k):
    return trapezoid(lambda t: math.exp(-k * t * t), 0.0, 2.0, 50)


def integrate_limits(a, b):
    return trapezoid(math.cos, a, b, 40)


def weighted(w, x, bias=0.0):
    return w * x + bias


def partial_positional(w, x):
    p = functools.partial(weighted, w)
    return p(x) ** 2


def partial_keyword(w, b, x):
    p = functools.partial(weighted, bias=b)
    return p(w, x) * x


def dispatch_table(x):
    ops = {"sq": lambda v: v * v, "sin": math.sin, "cube": cube}
    total = 0.0
    for name in ("sq", "sin", "cube"):
        total = total + ops[name](x)
    return total


def compose(*fns):
    def composed(x):
        for f in reversed(fns):
            x = f(x)
        return x
    return composed


def composition(x):
    h = compose(math.exp, math.sin, lambda v: v * 0.5)
    return h(x)


# --- calling conventions ------------------------------------------------------------------

def scaled(x, scale=2.0):
    return x * scale


def default_arguments(x, s):
    return scaled(x) + scaled(x, s) + scaled(x, scale=s * s)


def model(x, *, w, b=0.1):
    return w * x + b


def keyword_only(x, w, b):
    return model(x, w=w) ** 2 + model(x, w=b, b=w)


def total_sq(*vals):
    return sum(v * v for v in vals)


def star_args_call(x, y, z):
    vals = [x, y]
    return total_sq(*vals, z) + total_sq(x)


def star_args_program(*xs):
    s = 0.0
    for i, x in enumerate(xs):
        s = s + (i + 1.0) * math.sin(x)
    return s


def combine(**params):
    return params["a"] * params["b"] + params.get("c", 1.0)


def kwargs_call(a, b):
    extra = {"c": a * a}
    return combine(a=a, b=b) + combine(b=b, a=b, **extra)


def kwargs_forwarding(x, w):
    def inner(v, scale=1.0, shift=0.0):
        return v * scale + shift

    def outer(v, **kw):
        return inner(v, **kw) ** 2

    return outer(x, scale=w, shift=0.5) + outer(w)


def program_with_default(x, y=3.0):
    return x * y + y


# --- globals and side effects -------------------------------------------------------------

def global_constant(x):
    return SCALE * x * x


def global_array(w):
    return np.sum((w - OFFSETS) ** 2)


def with_print(x):
    y = x * x
    print("y =", y)
    print(f"x = {x:.3f}, y = {y}")
    return y * x


def with_logging_side_effect(x):
    y = math.exp(x)
    LOG.append(float(y))
    return y + x


def twice(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return fn(fn(x))
    return wrapper


@twice
def decorated_step(x):
    return x * x + 0.5


def uses_decorated_helper(x):
    return decorated_step(x)


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        result = fn(*args)
        print(fn.__name__, "->", result)
        return result
    return wrapper


@logged
def decorated_program(x, y):
    return x * math.exp(y)


def terms(x, n):
    for i in range(n):
        yield x ** i / math.factorial(i)


def generator_function(x):
    return sum(terms(x, 12))


CASES = [
    (recursive_power, (1.3,)),
    (recursive_fast_power, (1.05,)),
    (recursive_tree, ([1.0, [2.0, -0.5, [0.25]], 3.0],)),
    (recursive_data_depth, (5.3,)),
    (mutual_recursion, (0.7,)),
    (recursive_continued_fraction, (1.3,)),
    (recursive_matrix_power, (np.array([[0.5, 0.2], [-0.3, 0.9]]),)),
    (recursive_closure, (0.8,)),
    (closure_lambda, (1.7,)),
    (closure_nested_def, (0.6,)),
    (closure_from_factory, (1.5, -0.8)),
    (closure_list_of_affines, (0.5, 1.5, 2.0)),
    (closure_nonlocal_accumulator, (1.2,)),
    (closure_late_binding, (0.9,)),
    (closures_in_loop_defaults, (0.7,)),
    (outer_mid_inner, (1.1, -0.4, 2.0)),
    (closure_over_array, (np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6], [0.0, 0.4, 0.2]]),)),
    (closure_captured_param_in_loop, (1.3,)),
    (map_lambda, ([1.0, -2.0, 0.5],)),
    (map_builtin, ([0.1, 1.0, 2.5],)),
    (map_two_lists, ([1.0, 2.0], [0.5, -1.5])),
    (reduce_product, ([1.5, -0.5, 2.0, 0.8],)),
    (reduce_with_initial_closure, ([1.0, 2.0, 3.0], 0.7)),
    (sorted_key, ([0.5, -2.0, 1.2, -0.1, 3.3],)),
    (sorted_plain, ([0.5, -2.0, 1.2, 3.3],)),
    (max_with_key, ([0.5, -2.0, 1.2],)),
    (filter_positive, ([1.0, -2.0, 0.5, 3.0],)),
    (higher_order_builtin, (0.9,)),
    (higher_order_user, (0.8,)),
    (integrate_gaussian, (0.7,)),
    (integrate_limits, (0.2, 1.4)),
    (partial_positional, (1.5, 0.4)),
    (partial_keyword, (1.5, 0.3, -0.8)),
    (dispatch_table, (0.6,)),
    (composition, (0.9,)),
    (default_arguments, (1.2, 0.7)),
    (keyword_only, (1.5, 0.4, -0.2)),
    (star_args_call, (1.0, -2.0, 0.5)),
    (star_args_program, (0.1, 0.2, 0.3, 1.5)),
    (kwargs_call, (1.3, -0.6)),
    (kwargs_forwarding, (0.8, 1.7)),
    (program_with_default, (0.8,)),
    (program_with_default, (0.8, -1.5)),
    (global_constant, (1.5,)),
    (global_array, (np.array([1.0, 1.0, 1.0]),)),
    (with_print, (1.3,)),
    (with_logging_side_effect, (0.4,)),
    (uses_decorated_helper, (0.7,)),
    (decorated_program, (1.5, 0.3)),
]


@pytest.mark.parametrize("program, args", params(CASES))
def test_recursion_closures(program, args):
    assert_gradient_matches(program, *args)


def test_generator_function_is_refused_with_its_line():
    # issue: generator functions are an unsupported construct, named with their line
    with pytest.raises(pg.DifferentiationError, match="generator function") as info:
        pg.gradient(generator_function, 0.9)
    assert "line 412" in str(info.value) and "terms" in str(info.value)
