"""Shadows: gradients of mutable objects, keyed by the object's identity.

Immutable values (floats, complex, tuples) have value adjoints, local variables of the
generated backward code. Mutable objects (ndarrays, lists, dicts, user objects, closure
cells) have a shadow in the current ``Store``: an accumulator keyed by ``id(obj)``, with
the object itself kept alive beside it so that no identity is reused while a backward pass
runs. Every name that refers to the same object therefore shares one gradient, which is
what makes writes through aliases exact.

Shadows by kind:
- ndarray: a float array of the object's shape and dtype;
- list: a list of cotangents, one per element (``None`` is zero);
- dict: a dict of cotangents by key;
- user object: a dict of cotangents by attribute name;
- cell: the cotangent of the cell's content.

The generated backward code talks to this module through ``acc`` (add a cotangent into
a value's adjoint), ``take`` (the whole cotangent of a value at the statement that made
it, removing its shadow) and the ``acc_*`` helpers for reads of items and attributes.
"""

from __future__ import annotations

import types

import numpy as np

from pygote.runtime.batched import Batched, BatchingError, fit_batched
from pygote.runtime.values import add, fit, unbroadcast

__all__ = ["Store", "current", "push_store", "pop_store", "acc", "take", "is_mutable", "ghost",
           "ghost_written", "ghost_made", "stand_in"]

ndarray = np.ndarray
CellType = types.CellType


class Store:
    """The shadows of one backward pass."""

    __slots__ = ("shadows", "views")

    def __init__(self) -> None:
        self.shadows: dict[int, list] = {}  # id(obj) -> [obj, shadow, owned]
        # id(view) -> (view, root entry, root shadow, the view's region of it): a view's
        # region is found once per pass (working out its offset costs microseconds)
        self.views: dict[int, tuple] = {}

    def clear(self) -> None:
        """Forget every shadow (the backward pass is over)."""
        self.shadows.clear()
        self.views.clear()


_stack: list[Store] = [Store()]
current = _stack[-1]


def push_store() -> Store:
    global current
    current = Store()
    _stack.append(current)
    return current


def pop_store() -> None:
    global current
    _stack.pop()
    current = _stack[-1]


_FLOAT_ONLY = {float}
_IMMUTABLE = frozenset([float, int, bool, complex, str, bytes, type(None), tuple, range,
                        slice, type(Ellipsis), frozenset])


def is_mutable(x) -> bool:
    """Objects whose gradient lives in a shadow (identity matters for them)."""
    t = type(x)
    if t is ndarray or t is list or t is dict or t is CellType:
        return True
    if t in _IMMUTABLE or isinstance(x, (tuple, np.generic, type, types.ModuleType,
                                         types.BuiltinFunctionType)):
        return False
    if isinstance(x, (ndarray, list, dict)):
        return True
    if isinstance(x, types.FunctionType):
        return False
    return (hasattr(x, "__dict__") or hasattr(t, "__slots__")) and not isinstance(x, type)


def attributes(x) -> dict:
    """An object's attributes, from its ``__dict__`` and its classes' ``__slots__``."""
    d = getattr(x, "__dict__", None)
    out = dict(d) if d is not None else {}
    for cls in type(x).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(x, name):
                out[name] = getattr(x, name)
    return out


# ---------------------------------------------------------------- accumulation


def acc(x, dx, g):
    """Add cotangent ``g`` to the adjoint of value ``x``; returns the new value adjoint.

    For mutable ``x`` the cotangent goes to its shadow and ``dx`` is returned unchanged.
    """
    if g is None:
        return dx
    t = type(x)
    if t is float or t is np.float64:  # (a NumPy number: np.max(x), a reduction's)
        if type(g) is not t:
            g = fit(g, x)
        return g if dx is None else dx + g
    if t is ndarray:
        if type(x.base) is GhostBuffer:  # a temporary's stand-in: a value adjoint
            g = fit(g, x)
            return g if dx is None else add(dx, g)
        _acc_array(x, g)
        return dx
    if t is tuple or (isinstance(x, tuple) and t is not tuple):
        return _acc_tuple(x, dx, g)
    if t is list:
        _acc_list(x, g)
        return dx
    if t is dict:
        _acc_dict(x, g)
        return dx
    if t in _IMMUTABLE:
        if t is complex:
            g = fit(g, x)
            return g if dx is None else dx + g
        return dx  # int, bool, str, None: no gradient
    if isinstance(x, np.generic):
        g = fit(g, x)
        return g if dx is None else (None if g is None else dx + g)
    if isinstance(x, ndarray):
        _acc_array(x, g)
        return dx
    if t is CellType:
        entry = _entry(x, None)
        entry[1] = add(entry[1], g)
        return dx
    if t is Batched:  # its members' cotangents, by identity as an array's
        g = fit_batched(g, x.shape, x.dtype, x.dtype.kind != "c", True) if type(g) is Batched \
            else unbroadcast(np.asarray(g), x.shape)
        entry = _entry(x, None)
        entry[1] = add(entry[1], g)
        return dx
    if is_mutable(x):
        _acc_object(x, g)
        return dx
    return dx


def acc_neg(x, dx, g):
    """``acc(x, dx, -g)``; for a number ``x``, ``g`` is summed before it is negated."""
    t = type(x)
    if (t is float or t is np.float64) and type(g) is ndarray and g.dtype.kind == "f":
        s = -g.sum()  # (a real array's sum, as fit would make it: the common case)
        s = float(s) if t is float else np.float64(s)
        return s if dx is None else dx + s
    if t is float or isinstance(x, np.generic):
        g = fit(g, x)
        return dx if g is None else acc(x, dx, -g)
    return acc(x, dx, None if g is None else -g)


def acc_owned(x, dx, g):
    """``acc``, where ``g`` is a fresh array that nothing else holds (made by the lean
    backward of transform/arrays.py for this one use): the shadow of an array owning its
    memory keeps it as its own (later contributions add into it in place) instead of
    borrowing it, and a borrowed shadow is added into it."""
    if (type(x) is ndarray and type(g) is ndarray and x.base is None
            and g.shape == x.shape and g.dtype == x.dtype):
        _acc_array(x, g, owned=True)
        return dx
    return acc(x, dx, g)


def acc_at(x, dx, index, g):
    """``acc`` of the cotangent that is number ``g`` at flat (C order) ``index`` of array
    ``x`` and zero elsewhere: added in place where x's shadow is an array of its own, so
    that nothing of x's size is made (the place of a maximum, an item read)."""
    if type(x) is ndarray and x.base is None:
        entry = current.shadows.get(id(x))
        if entry is not None and entry[2] and type(entry[1]) is ndarray \
                and entry[1].shape == x.shape:
            shadow = entry[1]
            if shadow.ndim == 1:
                shadow[index] += g
            else:
                shadow.flat[index] += g
            return dx
    one = np.zeros(x.shape, np.result_type(g, x.dtype))
    one.flat[index] = g
    return acc_owned(x, dx, one)


def _entry(x, make):
    shadows = current.shadows
    entry = shadows.get(id(x))
    if entry is None:
        entry = shadows[id(x)] = [x, make]
    return entry


def _acc_array(x, g, owned=False):
    g = fit(g, x)
    if g is None:
        return
    if x.base is None:  # the common case: an array that owns its memory
        shadows = current.shadows
        entry = shadows.get(id(x))
        if entry is None:
            # borrowed (unless ``owned``): g may be shared (a view of another cotangent,
            # the user's dy), so it is never written in place; the first accumulation
            # makes an owned array
            shadows[id(x)] = [x, g, owned]
        elif entry[2] and type(g) is ndarray:
            entry[1] += g
        elif owned and type(entry[1]) is ndarray:  # (g is ours: add the shadow into it)
            g += entry[1]
            entry[1] = g
            entry[2] = True
        else:  # (also a batched cotangent: see runtime/batched.py)
            entry[1] = entry[1] + g
            entry[2] = True
        return
    region = array_shadow(x, create=True)
    if type(g) is Batched and type(region) is not Batched:  # (see batch_shadow)
        batch_shadow(x, g)
        region = array_shadow(x, create=True)
    if type(region) is Batched:  # (in place: a batch's += rebinds, see batched.py)
        region[...] = region + g
    else:
        region += g


# ---------------------------------------------------------------- arrays and their views
#
# A view's shadow is the same view into the shadow of the array that owns the memory
# (its root), so a write through any alias meets the gradient of every read through any
# other alias. The root's shadow has the root's layout; the view's shadow is built with
# the view's byte offset and strides. Views whose elements overlap (broadcasts, sliding
# windows) cannot share memory safely and keep a shadow of their own.


def _root(x):
    root = x
    while isinstance(root.base, ndarray):
        root = root.base
    return root


def _own_root(x) -> bool:
    """Views that cannot share their root's shadow: overlapping or oddly laid-out memory."""
    if x.size <= 1:
        return False
    span = x.itemsize + sum((n - 1) * abs(st) for n, st in zip(x.shape, x.strides))
    return span < x.nbytes


def array_shadow(x, create: bool):
    """The shadow of ndarray ``x``: its own, or a view into its root's (None if absent)."""
    if x.base is not None:
        hit = current.views.get(id(x))
        if hit is not None and hit[0] is x and hit[1][1] is hit[2] and \
                current.shadows.get(id(hit[1][0])) is hit[1]:
            return hit[3]
    root, entry = _root_entry(x, create)
    if entry is None:
        return None
    if root is x:
        return entry[1]
    offset = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if type(entry[1]) is Batched:  # the same view of every member (see batch_shadow)
        data = entry[1].data
        if not root.flags.c_contiguous:  # (members are laid out in C order)
            raise BatchingError("a batched cotangent for a view of a Fortran-ordered array")
        if not data.flags.c_contiguous:  # (a sum may have come laid out otherwise)
            data = np.ascontiguousarray(data)
            entry[1] = Batched(data)
        return Batched(np.ndarray(data.shape[:1] + x.shape, x.dtype, buffer=data,
                                  offset=offset, strides=data.strides[:1] + x.strides))
    region = np.ndarray(x.shape, x.dtype, buffer=entry[1], offset=offset, strides=x.strides)
    current.views[id(x)] = (x, entry, entry[1], region)
    return region


def _root_entry(x, create: bool):
    """``(root, its shadow entry)`` for ndarray ``x``: the array whose shadow ``x``'s is
    a view of (``x`` itself where views cannot share one), and its entry, owned (callers
    write into it), made of zeros if absent and ``create`` (else None)."""
    root = _root(x) if x.base is not None else x
    if root is not x and (_own_root(x) or not (root.flags.c_contiguous or root.flags.f_contiguous)):
        root = x
    shadows = current.shadows
    entry = shadows.get(id(root))
    if entry is None:
        if not create:
            return root, None
        entry = shadows[id(root)] = [root, np.zeros_like(root), True]
    elif not entry[2]:  # callers write into what they get: own it first
        entry[1] = entry[1].copy() if type(entry[1]) is Batched else \
            np.array(entry[1], dtype=root.dtype, copy=True)
        entry[2] = True
    return root, entry


def batch_shadow(x, g):
    """Make the shadow of the array whose memory ndarray ``x`` views a ``Batched`` of as
    many members as ``g`` (runtime/batched.py), each a copy of the shadow so far, laid out
    as the array is (C order: its views' strides then hold for every member)."""
    root, entry = _root_entry(x, True)
    if type(entry[1]) is Batched:
        return
    size = g.data.shape[0]
    entry[1] = Batched(np.array(np.broadcast_to(entry[1], (size,) + root.shape), order="C"))
    entry[2] = True


def writable_shadow(x):
    """The shadow of ndarray ``x`` (made if absent), to be written in place."""
    return array_shadow(x, True)


def _take_array(y):
    if type(y.base) is GhostBuffer:
        return None
    if y.base is None or array_shadow_is_own(y):
        entry = current.shadows.pop(id(y), None)
        return None if entry is None else entry[1]
    region = array_shadow(y, create=False)
    if region is None:
        return None
    value = region.copy()
    region[...] = 0
    return value


def array_shadow_is_own(y) -> bool:
    root = _root(y)
    return root is y or _own_root(y) or not (root.flags.c_contiguous or root.flags.f_contiguous)


def _acc_list(x, g):
    if type(g) is not list and type(g) is not tuple:
        g = fit(g, x)  # an array cotangent (of np.sum(x)): the items' cotangents
        if type(g) is not list:
            return
    entry = _entry(x, None)
    if entry[1] is None:
        if len(g) == len(x) and set(map(type, x)) == _FLOAT_ONLY:  # the common fast case
            entry[1] = [gi if type(gi) is float else fit(gi, 0.0) for gi in g]
            return
        entry[1] = [None] * len(x)
    shadow = entry[1]
    for i, gi in enumerate(g):
        if gi is not None and i < len(x):
            shadow[i] = acc(x[i], shadow[i], gi) if not is_mutable(x[i]) else acc(x[i], None, gi)


def _acc_dict(x, g):
    if not isinstance(g, dict):
        return
    entry = _entry(x, None)
    if entry[1] is None:
        entry[1] = {}
    shadow = entry[1]
    for k, gk in g.items():
        if gk is not None and k in x:
            v = x[k]
            if is_mutable(v):
                acc(v, None, gk)
            else:
                shadow[k] = acc(v, shadow.get(k), gk)


def _acc_tuple(x, dx, g):
    from pygote.runtime.structural import Structural

    if isinstance(g, Structural):
        g = tuple(g.get(f) for f in x._fields) if hasattr(x, "_fields") else None
    elif not isinstance(g, tuple):
        g = fit(g, x)  # an array cotangent (of np.sum(x)): the items' cotangents
    if g is None:
        return dx
    out = list(dx) if dx is not None else [None] * len(x)
    for i, (xi, gi) in enumerate(zip(x, g)):
        if gi is None:
            continue
        if is_mutable(xi):
            acc(xi, None, gi)
        else:
            out[i] = acc(xi, out[i], gi)
    return tuple(out)


def _acc_object(x, g):
    from pygote.runtime.structural import Structural

    if isinstance(g, Structural):
        g = g.fields
    elif not isinstance(g, dict):
        fields = getattr(type(g), "__dataclass_fields__", None)
        if fields is not None and type(g) is type(x):
            g = {k: getattr(g, k) for k in fields}
        else:
            return
    entry = _entry(x, None)
    if entry[1] is None:
        entry[1] = {}
    shadow = entry[1]
    attrs = attributes(x)
    for k, gk in g.items():
        if gk is None or k not in attrs:
            continue
        v = attrs[k]
        if is_mutable(v):
            acc(v, None, gk)
        else:
            shadow[k] = acc(v, shadow.get(k), gk)


# ---------------------------------------------------------------- ghosts
#
# A fresh array made by an operator and read once, by another operator whose backward
# reads only its shape and dtype (``+``, ``-``, ``*`` by an inactive factor, a write
# into an array), needs neither its values nor its identity in the backward pass. After
# that one read the generated forward code replaces it by a ghost: a zero-strided array
# of the same shape and dtype over a few bytes, whose adjoint is a plain value (it is
# never aliased). The backward then keeps no more than what the program overwrote.


class GhostBuffer(bytearray):
    """The memory behind every ghost (its type marks an array as a ghost)."""


_GHOST_MEMORY = GhostBuffer(64)
_ghosts: dict = {}


def ghost(x, pb_made, pb_read):
    """``x`` itself, or its ghost when ``x`` is a fresh array of more than a few elements
    that no user method made or read (``pb_made``/``pb_read``: their pullbacks)."""
    if pb_made is None and pb_read is None and type(x) is ndarray and x.base is None:
        return stand_in(x)
    return x


def stand_in(x):
    """The ghost of any NumPy array of more than a few elements, view or not, for a value
    whose identity no longer matters (a linear rule's ``ans`` and arguments, a temporary
    that rule made, read once by NumPy arithmetic)."""
    if type(x) is ndarray and x.size > 8 and x.dtype.kind in "fc":
        key = (x.shape, x.dtype)
        g = _ghosts.get(key)
        if g is None:
            if len(_ghosts) > 256:
                _ghosts.clear()
            g = _ghosts[key] = np.ndarray(x.shape, x.dtype, buffer=_GHOST_MEMORY,
                                          strides=(0,) * x.ndim)
        return g
    return x


def ghost_made(x, pb_read):
    """``ghost`` for a temporary a linear NumPy rule made (a view of a private array, as
    ``np.roll`` returns, is fine: it is read once, not written)."""
    return stand_in(x) if pb_read is None else x


def ghost_written(x, pb_made, target):
    """``ghost`` for a value written into ``target[...]``: NumPy copies it there."""
    return ghost(x, pb_made, None) if type(target) is ndarray else x


# ---------------------------------------------------------------- taking


def take(y, dy):
    """The whole cotangent of ``y`` where the statement that made ``y`` is undone.

    Value adjoints pass through; a mutable object's shadow is removed from the store and
    returned as a value (an array, a list of cotangents, a dict, a ``Structural``).
    """
    t = type(y)
    if t is float or t is np.float64:  # (numbers first: the common case)
        return dy
    if t is tuple or isinstance(y, tuple):
        # a tuple made by this statement may hold arrays (a rule's outputs): their
        # gradients are in their own shadows
        if not any(is_mutable(v) or type(v) is tuple for v in y):
            return dy
        parts = [take(v, None if dy is None else dy[i]) for i, v in enumerate(y)]
        if all(p is None for p in parts):
            return None
        return type(y)(*parts) if hasattr(y, "_fields") else tuple(parts)
    if t is float or t in _IMMUTABLE or isinstance(y, np.generic):
        return dy
    if t is ndarray or isinstance(y, ndarray):
        return add(dy, _take_array(y))
    entry = current.shadows.pop(id(y), None)
    if entry is None:
        return dy
    shadow = entry[1]
    if t is list:
        shadow = [s if not is_mutable(v) else None for v, s in zip(y, shadow)]
    elif t is not dict and t is not CellType and t is not Batched and not isinstance(y, ndarray):
        from pygote.runtime.structural import Structural

        shadow = Structural(shadow, type(y))
    return add(dy, shadow)


def peek(y):
    """The shadow of mutable ``y`` without removing it (``None`` if there is none)."""
    if isinstance(y, ndarray):
        return array_shadow(y, create=False)
    entry = current.shadows.get(id(y))
    return None if entry is None else entry[1]


def set_shadow(y, shadow) -> None:
    """Overwrite the shadow of ndarray ``y`` (in-place operations' adjoints)."""
    region = array_shadow(y, create=shadow is not None)
    if region is not None:
        region[...] = 0 if shadow is None else shadow
