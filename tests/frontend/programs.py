"""The program corpus of the frontend tests: (name, source, inputs).

Every source defines ``f`` (and maybe module-level helpers); ``inputs`` is a list of
argument tuples. Together the programs cover every construct docs/core-python.md lists.
"""

from __future__ import annotations

PROGRAMS: list[tuple[str, str, list[tuple]]] = []


def program(name: str, inputs: list[tuple]):
    def deco(src: str):
        PROGRAMS.append((name, src, inputs))
        return src
    return deco


# --- straight-line code, operators ------------------------------------------------------

program("arithmetic", [(3, 4), (-2, 7), (0, 1)])("""
def f(x, y):
    z = x * y + 3 - x / y
    w = -z ** 2 // 7 % 5
    v = (x << 2) | (y & 3) ^ ~x
    return z, w, v, +x, not y, x ** 2 ** 1
""")

program("matmul_and_all_binops", [(2, 3), (5, 7)])("""
class M:
    def __init__(self, v):
        self.v = v
    def __matmul__(self, other):
        return M(self.v * 10 + other.v)
    def __rshift__(self, k):
        return M(self.v - k)

def f(a, b):
    m = M(a) @ M(b) @ M(1)
    n = m >> 3
    return m.v, n.v, a >> 1, b // 2, a - b * a
""")

program("unary_and_compare_ops", [(1, 2), (2, 2), (0, -1)])("""
def f(a, b):
    return (a == b, a != b, a < b, a <= b, a > b, a >= b, a is b, a is not b,
            a in [1, 2], b not in (2, 3), -a, not a, ~b)
""")

# --- if / loops / break / continue / else / return ----------------------------------------

program("if_elif_else_returns", [(-5,), (0,), (3,), (50,)])("""
def f(x):
    if x < 0:
        return "neg"
    elif x == 0:
        return "zero"
    elif x < 10:
        y = x * 2
    else:
        y = x // 2
    return y
""")

program("for_break", [([1, 5, 8, 2],), ([],), ([9, 9],)])("""
def f(xs):
    found = None
    for i, x in enumerate(xs):
        if x > 4:
            found = i
            break
        print("skip", x)
    return found
""")

program("for_continue", [([1, 2, 3, 4, 5, 6],), ([],)])("""
def f(xs):
    total = 0
    for x in xs:
        if x % 2 == 0:
            continue
        total += x
        if x > 4:
            continue
        total *= 2
    return total
""")

program("for_else", [([1, 3, 5], 3), ([1, 3, 5], 4), ([], 1)])("""
def f(xs, target):
    for x in xs:
        if x == target:
            msg = "found"
            break
    else:
        msg = "missing"
    return msg
""")

program("while_break_else", [(10,), (3,), (0,)])("""
def f(n):
    i = 0
    acc = []
    while i < n:
        i += 1
        if i * i > 20:
            acc.append("big")
            break
        acc.append(i)
    else:
        acc.append("done")
    return acc, i
""")

program("while_else_no_break", [(4,), (0,)])("""
def f(n):
    out = []
    while n > 0:
        out.append(n)
        n -= 1
    else:
        out.append("else")
    return out
""")

program("nested_loops_break_continue", [(4,), (6,)])("""
def f(n):
    pairs = []
    for i in range(n):
        if i == 1:
            continue
        for j in range(n):
            if j > i:
                break
            if (i + j) % 3 == 0:
                continue
            pairs.append((i, j))
        else:
            pairs.append(("no-break", i))
    return pairs
""")

program("return_in_nested_loops", [(3, 4), (10, 2), (1, 1)])("""
def f(n, m):
    for i in range(n):
        for j in range(m):
            if i * j == 2:
                return (i, j)
            print(i, j)
        print("row", i)
    return None
""")

program("return_in_while_in_for", [([3, 7, 12],), ([1, 2],)])("""
def f(xs):
    count = 0
    for x in xs:
        k = x
        while k > 0:
            k -= 2
            count += 1
            if count > 6:
                return ("early", x, k, count)
    return ("late", count)
""")

program("while_true_break", [(1,), (7,), (12,)])("""
def f(x):
    steps = 0
    while True:
        if x == 1:
            break
        x = x // 2 if x % 2 == 0 else 3 * x + 1
        steps += 1
    return steps
""")

program("while_continue_counter", [(10,), (0,)])("""
def f(n):
    i = 0
    seen = []
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        seen.append(i)
    return seen
""")

program("no_return_mutates", [([3, 1, 2],), ([],)])("""
def f(xs):
    xs.append(len(xs))
    xs.sort()
    print(xs)
""")

program("bare_return_in_middle", [(1,), (-1,)])("""
def f(x):
    log = [x]
    if x < 0:
        return
    log.append(x * 2)
    return log
""")

program("deep_returns", [(0, 0), (1, 5), (3, 2), (7, 7)])("""
def f(a, b):
    if a > b:
        if a > 5:
            return "a big"
        for i in range(a):
            if i == b:
                return ("hit", i)
        r = "a wins"
    else:
        while b > a:
            b -= 1
            if b == 3:
                return "three"
        r = "b wins"
    r = r + "!"
    return r
""")

program("loop_else_returns", [([1, 2],), ([1, -2, 3],)])("""
def f(xs):
    for x in xs:
        if x < 0:
            break
    else:
        return "all positive"
    return "negative found"
""")

program("while_call_test_and_else", [([5, 4, 0, 7],), ([1],)])("""
def f(xs):
    stack = list(xs)
    out = []
    while len(stack) > 0 and stack[-1] != 0:
        out.append(stack.pop())
        if len(out) > 3:
            break
    else:
        out.append("drained")
    return out, stack
""")

# --- comprehensions ----------------------------------------------------------------------

program("nested_list_comprehension", [(4,), (0,)])("""
def f(n):
    grid = [[i * j for j in range(i)] for i in range(n)]
    flat = [x for row in grid for x in row if x % 2 == 0]
    return grid, flat
""")

program("comprehension_scoping", [(5,)])("""
def f(x):
    ys = [x * 2 for x in range(3)]
    i = "keep"
    zs = {i: i * i for i in range(x)}
    return x, i, ys, zs
""")

program("sum_generator", [([1, 2, 3],), ([],), ([-1, 4],)])("""
def f(xs):
    return sum(x * x for x in xs), sum(x for x in xs if x > 0)
""")

program("min_max_generator_lambda", [([3, -7, 2], 1), ([5], 0)])("""
def f(xs, t):
    biggest = max((abs(v) for v in xs), default=0)
    closest = min(xs, key=lambda v: (v - t) ** 2)
    return biggest, closest, max(xs, key=lambda v, w=t: -abs(v - w))
""")

program("dict_and_set_comprehension", [("hello world",), ("",)])("""
def f(s):
    counts = {c: s.count(c) for c in s if c != " "}
    letters = {c.upper() for c in s if c.isalpha()}
    inverted = {v: k for k, v in sorted(counts.items())}
    return counts, sorted(letters), inverted
""")

program("comprehension_tuple_targets", [([1, 2, 3], [4, 5, 6])])("""
def f(xs, ys):
    prods = [a * b for a, b in zip(xs, ys)]
    idx = [(i, v) for i, (v, _) in enumerate(zip(xs, ys)) if i != 1]
    return prods, idx
""")

program("lambdas_in_comprehension", [(3,)])("""
def f(n):
    late = [lambda: i for i in range(n)]
    early = [lambda k=i: k * 2 for i in range(n)]
    return [g() for g in late], [g() for g in early]
""")

program("comprehension_outer_var_in_inner_iter", [("abc", 3)])("""
def f(s, n):
    return [(c, i) for i in range(n) for c in s[:i]], [[c for c in s] for _ in range(2)]
""")

program("generator_in_any_all", [([1, 2, 3],), ([2, 4],), ([],)])("""
def f(xs):
    return any(x % 2 == 1 for x in xs), all(x > 1 for x in xs), list(x for x in xs)
""")

program("starred_generator_call", [([1, 2, 3],)])("""
def f(xs):
    print(*(x * 10 for x in xs), sep=",")
    return tuple(x for x in xs)
""")

program("comprehension_conditional_lazy", [(True,), (False,)])("""
def f(flag):
    calls = []
    def rec(v):
        calls.append(v)
        return v
    a = [rec(i) for i in range(3)] if flag else []
    b = flag and [rec(10 + i) for i in range(2)]
    c = flag or {rec(20): rec(21) for _ in range(1)}
    d = 0 < rec(1) < len([rec(30) for _ in range(2)]) < 5
    return a, b, c, d, calls
""")

program("ifexp_inside_comprehension", [([1, -2, 3, -4],)])("""
def f(xs):
    return [x if x > 0 else -x * 10 for x in xs if x != 3]
""")

program("walrus_in_comprehension", [([1, 2, 3, 4],), ([0],)])("""
def f(xs):
    y = None
    big = [y for x in xs if (y := x * 2) > 3]
    return big, y
""")

# --- lambdas, closures, nested defs -----------------------------------------------------

program("lambdas_with_defaults", [(2.0,), (3,)])("""
def f(x):
    scale = 3
    g = lambda v, p=2: v ** p * scale
    h = lambda *args, k=1, **kw: (len(args), k, sorted(kw))
    return g(x), g(x, 3), h(1, 2, k=5, z=1), (lambda: x + 1)()
""")

program("closures_and_nonlocal", [(3,), (0,)])("""
def f(n):
    count = 0
    def bump(by=1):
        nonlocal count
        count += by
        return count
    for _ in range(n):
        bump()
    before = count
    total = count + bump(10)
    return before, total, count
""")

program("nested_def_defaults_decorators", [(4,)])("""
def twice(fn):
    def wrapped(*a):
        return fn(fn(*a))
    return wrapped

def f(x):
    @twice
    def inc(v, step=x // 2):
        return v + step
    def g(k=lambda: 5, *, m=[1, 2]):
        return k() + len(m)
    return inc(x), g(), g(lambda: 7, m=[])
""")

program("class_in_function", [(3,)])("""
def f(x):
    class Box:
        scale = 2
        def __init__(self, v):
            self.v = v * self.scale
        def get(self):
            return self.v
    b = Box(x)
    return b.get(), Box.scale
""")

program("recursion", [(5,), (0,)])("""
def f(n):
    if n <= 1:
        return 1
    return n * f(n - 1)
""")

# --- conditional expressions, and/or, comparisons, walrus -----------------------------------

program("conditional_expressions", [(5, 2), (-1, 3), (0, 0)])("""
def f(a, b):
    s = "pos" if a > 0 else "neg" if a < 0 else "zero"
    m = a if a > b else b
    return s, m, (a * 2 if b else a / 1)
""")

program("and_or_values", [(0, [], "x"), (3, [1], ""), (None, 0, 5)])("""
def f(a, b, c):
    return (a or b, a and b, a or b or c, a and b and c, a and b or c,
            (a or c) and (b or "d"), not a or b)
""")

program("short_circuit_side_effects", [(0, 1), (2, 0), (1, 1)])("""
def f(a, b):
    log = []
    def t(v):
        log.append(v)
        return v
    r1 = t(a) or t(b) and t(0)
    r2 = t(a) and t(b) or t(7)
    return r1, r2, log
""")

program("chained_comparisons", [(1, 2, 3), (3, 2, 1), (1, 1, 2)])("""
def f(a, b, c):
    log = []
    def t(v):
        log.append(v)
        return v
    r = t(a) < t(b) < t(c)
    s = a <= b != c > 0
    if 0 < a < 10 and b in (1, 2) not in [False]:
        r = (r, "in")
    return r, s, log
""")

program("walrus", [(5,), (1,)])("""
def f(n):
    out = []
    if (m := n * 2) > 5:
        out.append(m)
    while (n := n - 1) > 0:
        out.append(n)
    return out, n, m
""")

program("walrus_evaluation_order", [(1,)])("""
def f(x):
    t = (x, (x := 5), x)
    return t, x
""")

# --- with ----------------------------------------------------------------------------------

program("with_user_context_manager", [(1,), (-1,), (0,)])("""
class CM:
    def __init__(self, name, log, suppress=False):
        self.name, self.log, self.suppress = name, log, suppress
    def __enter__(self):
        self.log.append(("enter", self.name))
        return self.name.upper()
    def __exit__(self, typ, exc, tb):
        self.log.append(("exit", self.name, typ.__name__ if typ else None,
                         str(exc) if exc else None, tb is not None))
        return self.suppress

def f(x):
    log = []
    with CM("a", log) as a, CM("b", log, suppress=True) as b:
        log.append((a, b))
        if x < 0:
            raise ValueError("neg")
        log.append("body")
    try:
        with CM("c", log):
            if x == 0:
                raise KeyError("zero")
            log.append("c body")
    except KeyError as e:
        log.append(("caught", str(e)))
    return log
""")

program("with_return_and_break", [(3,), (0,)])("""
class CM:
    def __init__(self, log):
        self.log = log
    def __enter__(self):
        self.log.append("in")
        return self
    def __exit__(self, *exc):
        self.log.append("out")
        return False

def f(n):
    log = []
    for i in range(5):
        with CM(log) as cm:
            if i == n:
                break
            if i == 1:
                continue
            log.append(i)
    with CM(log):
        if n == 0:
            return ("early", log)
        log.append("after")
    return log
""")

program("with_tuple_target", [(2,)])("""
class Pair:
    def __enter__(self):
        return (1, (2, 3))
    def __exit__(self, a, b, c):
        return None

def f(x):
    with Pair() as (a, (b, c)):
        s = a + b + c + x
    return s
""")

# --- assignments ----------------------------------------------------------------------------

program("augmented_assignments", [([1, 2, 3, 4], 2)])("""
class Obj:
    def __init__(self):
        self.x = 1
        self.items = [10, 20]

def f(a, k):
    n = 5
    n += k
    n *= 3
    n //= 2
    n **= 2
    n -= 1
    n %= 1000
    n <<= 1
    n |= 1
    a[0] += k
    a[k - 1] *= 10
    a[1:3] += [9]
    o = Obj()
    o.x += 5
    o.items[1] -= 3
    d = {"k": [1, 2]}
    d["k"][0] *= 7
    s = "ab"
    s += "c"
    t = a
    t += [0]
    return n, a, o.x, o.items, d, s, t is a
""")

program("augassign_evaluation_order", [([1, 2, 3],)])("""
def f(xs):
    log = []
    def t(v):
        log.append(v)
        return v
    holder = [xs]
    holder[t(0)][t(1)] += t(100)
    return xs, log
""")

program("starred_unpacking", [([1, 2, 3, 4],), ([7, 8],)])("""
def f(xs):
    a, *b, c = xs
    *d, e = xs
    first, *_ = xs
    [g, h, *i] = xs
    return a, b, c, d, e, first, g, h, i
""")

program("nested_and_chained_unpacking", [(1, 2), (5, -5)])("""
def f(x, y):
    (a, b), c = (x, y), x + y
    x, y = y, x
    p = q = [x, y]
    q.append(0)
    m, (n, *o) = [1, (2, 3, 4)]
    r = s, t = (7, 8)
    return a, b, c, x, y, p is q, p, m, n, o, r, s, t
""")

program("subscript_targets_order", [([0, 0, 0],)])("""
def f(xs):
    log = []
    def t(v):
        log.append(v)
        return v
    xs[t(0)] = t(5)
    xs[t(1)], xs[t(2)] = t(6), t(7)
    i = 0
    i, xs[i] = 2, 9
    return xs, log
""")

program("for_nested_unpacking", [([1, 2, 3], [4, 5, 6])])("""
def f(xs, ys):
    out = []
    for i, (a, b) in enumerate(zip(xs, ys)):
        out.append(i * 100 + a * b)
    for k, v in {"a": 1, "b": 2}.items():
        out.append(k * v)
    for [p, *q] in [(1, 2, 3), (4,)]:
        out.append((p, q))
    return out
""")

program("swap_in_loop_fibonacci", [(10,), (1,)])("""
def f(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
""")

program("annotated_and_multiple_targets", [(3,)])("""
def f(x):
    y: int = x + 1
    z: float
    a = [0, 0]
    b = {}
    a[0] = b["k"] = y * 2
    return y, a, b
""")

program("del_statements", [([1, 2, 3, 4, 5],)])("""
class O:
    pass

def f(xs):
    d = {"a": 1, "b": 2, "c": 3}
    del d["a"]
    del xs[0], xs[-1]
    del xs[1:2]
    o = O()
    o.v = 1
    o.w = 2
    del o.v
    tmp = 5
    del tmp
    return d, xs, hasattr(o, "v"), o.w
""")

program("docstring_and_constants", [(2,)])('''
def f(x):
    """A docstring."""
    ...
    42
    "another string"
    return x
''')

# --- try / assert / raise ----------------------------------------------------------------

program("try_except_finally", [(0,), (1,), (2,)])("""
def f(k):
    log = []
    try:
        log.append("try")
        if k == 1:
            raise ValueError("one")
        if k == 2:
            d = {}
            d["missing"]
    except ValueError as e:
        log.append(("value", str(e)))
    except (KeyError, IndexError):
        log.append("lookup")
    else:
        log.append("else")
    finally:
        log.append("finally")
    return log
""")

program("return_in_try_finally", [(0,), (5,)])("""
def f(x):
    log = []
    try:
        if x == 0:
            return ("zero", log)
        log.append("body")
    finally:
        log.append("fin")
    try:
        return 10 // x
    except ZeroDivisionError:
        return -1
""")

program("try_in_loop_with_break_continue", [([1, 0, 2, "a", 3],)])("""
def f(xs):
    out = []
    for x in xs:
        try:
            if x == "a":
                break
            out.append(10 // x)
        except ZeroDivisionError:
            out.append("div0")
            continue
        finally:
            out.append("f")
        out.append("end")
    return out
""")

program("assert_statements", [(5,), (-1,), (0,)])("""
def f(x):
    assert x != 0
    assert x > 0, f"x must be positive, got {x}"
    return x
""")

program("raise_and_raise_from", [(0,), (1,)])("""
def f(x):
    try:
        try:
            1 / x
            raise KeyError("k")
        except ZeroDivisionError as e:
            raise ValueError("wrapped") from e
    except ValueError as e:
        return ("value", str(e), type(e.__cause__).__name__)
    except KeyError:
        return "key"
""")

program("exception_escapes_loop", [([1, 2, 0],), ([1],)])("""
def f(xs):
    acc = 0
    for x in xs:
        acc += 6 // x
    return acc
""")

# --- f-strings, calls, attributes, subscripts -------------------------------------------

program("f_strings", [(3.14159, 8, "ab"), (-1.5, 3, "")])("""
def f(x, w, s):
    a = f"{x:.2f}|{x:>{w}.{w // 4}f}|{s!r}|{s=}|{len(s) + 1:03d}"
    b = f"{'nested' if x > 0 else 'neg'} {[i for i in range(2)]}"
    return a, b
""")

program("method_calls_chains", [(" A,b , C ",)])("""
class N:
    def __init__(self):
        self.b = self
        self.data = [3, 1, 2]
    def m(self, x):
        return sorted(self.data)[x]

def f(s):
    parts = s.strip().lower().split(",")
    n = N()
    return parts, n.b.m(1), n.b.b.data[0], "-".join(p.strip() for p in parts), "abc"[1]
""")

program("subscripts_and_slices", [([5, 6, 7, 8, 9], 1, 3)])("""
def f(a, i, j):
    m = [[1, 2], [3, 4]]
    return (a[1:-1:2], a[::-1], a[i:j], a[i + 1:], a[:j - 1], m[i][i - 1],
            m[0][1:], a[len(a) - 1], {"k": (1, 2)}["k"][0])
""")

program("attribute_of_subscript", [(1,)])("""
class P:
    def __init__(self, v):
        self.v = v
        self.vs = [v, v + 1]

def f(i):
    ps = [P(10), P(20)]
    ps[i].v = 99
    ps[0].vs[i] += 1
    return ps[i].v, ps[0].vs, ps[i - 1].vs[1]
""")

program("calls_star_kwargs", [(1, 2)])("""
def g(*args, **kwargs):
    return args, sorted(kwargs.items())

def f(a, b):
    args = [a, b]
    kw = {"x": 1}
    return (g(*args, b, *[9], y=a, **kw), g(**{"z": 3}, w=4), g(*args),
            dict(a=1, **kw), g(a, *args, k=b))
""")

program("container_literals", [(1, [2, 3])])("""
def f(a, bs):
    t = (a, *bs, a + 1)
    l = [*bs, *t]
    s = {a, *bs}
    d = {"a": a, **{"b": bs[0]}, "c": len(bs)}
    return t, l, sorted(s), d, {}, (), []
""")

program("string_ops_constant_receivers", [(["x", "y"],)])("""
def f(parts):
    return "-".join(parts), ", ".join(p.upper() for p in parts), "abc".upper()[1:]
""")

program("evaluation_order_calls", [(0,)])("""
def f(x):
    log = []
    def t(v):
        log.append(v)
        return v
    def g(*a, **k):
        return a, k
    r = t(1) + t(2) * t(3)
    s = g(t(4), t(5), k=t(6))
    u = [t(7), t(8)][t(0)]
    d = {t("k1"): t("v1"), t("k2"): t("v2")}
    return r, s, u, d, log
""")

program("nonlocal_read_order", [(2,)])("""
def f(n):
    count = n
    def bump():
        nonlocal count
        count += 100
        return count
    total = count + bump()
    return total, count
""")

# --- global / nonlocal / imports -----------------------------------------------------------

program("global_counter", [(3,), (4,)])("""
counter = 0
history = []

def f(x):
    global counter
    counter += x
    history.append(counter)
    return counter * 2
""")

program("global_read_before_call", [(1,)])("""
g = 1

def bump():
    global g
    g += 10
    return 0

def f(x):
    global g
    r = g + bump()
    return r, g
""")

program("imports_inside", [(4.0,)])("""
def f(x):
    import math
    from functools import reduce
    return math.sqrt(x), reduce(lambda a, b: a * b, [1, 2, 3, 4])
""")

# --- bigger programs ---------------------------------------------------------------------

program("bubble_sort", [([5, 1, 4, 2, 8],), ([],), ([1],)])("""
def f(xs):
    xs = list(xs)
    n = len(xs)
    for i in range(n):
        swapped = False
        for j in range(n - i - 1):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
        if not swapped:
            break
    return xs
""")

program("primes_sieve", [(30,), (2,)])("""
def f(n):
    sieve = [True] * (n + 1)
    sieve[0] = sieve[1] = False
    p = 2
    while p * p <= n:
        if sieve[p]:
            for k in range(p * p, n + 1, p):
                sieve[k] = False
        p += 1
    return [i for i, is_p in enumerate(sieve) if is_p]
""")

program("matrix_ops", [([[1, 2], [3, 4]], [[5, 6], [7, 8]])])("""
def f(a, b):
    n = len(a)
    c = [[sum(a[i][k] * b[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
    t = [list(row) for row in zip(*c)]
    tr = sum(c[i][i] for i in range(n))
    return c, t, tr
""")

program("binary_search", [([1, 3, 5, 7, 9, 11], 7), ([1, 3], 4), ([], 1)])("""
def f(xs, target):
    lo, hi = 0, len(xs) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if xs[mid] == target:
            return mid
        elif xs[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -(lo + 1)
""")

program("word_frequencies", [("the cat and the hat and the bat",)])("""
def f(text):
    freq = {}
    for w in text.split():
        freq[w] = freq.get(w, 0) + 1
    top = sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    return top, max(freq, key=freq.get), {k for k, v in freq.items() if v == 1}
""")

program("newton_sqrt", [(2.0,), (9.0,), (0.25,)])("""
def f(a):
    x = a if a > 1 else 1.0
    for it in range(100):
        nx = 0.5 * (x + a / x)
        if abs(nx - x) < 1e-12:
            break
        x = nx
    return round(x, 10), it
""")

program("state_machine", [("aabbbcab",), ("",)])("""
def f(s):
    state = "start"
    runs = []
    count = 0
    i = 0
    while i < len(s):
        ch = s[i]
        i += 1
        if state == "start":
            state, count = ch, 1
            continue
        if ch == state:
            count += 1
            continue
        runs.append((state, count))
        state, count = ch, 1
    if state != "start":
        runs.append((state, count))
    return runs
""")

program("continue_in_finally_and_else", [([1, 2, 3],)])("""
def f(xs):
    log = []
    for x in xs:
        try:
            if x == 2:
                continue
            log.append(x)
        finally:
            log.append("f%d" % x)
    else:
        log.append("else")
    return log
""")
