"""Reads and writes of items and attributes, and augmented assignment, for generated code.

Forward helpers return ``(value, record)``; the matching backward helpers take the record
and route cotangents: reads add into the container's adjoint, writes move the written
slot's gradient to the written value, zero the slot and restore the old contents, so
every earlier adjoint sees the values it saw going forward (DESIGN.md, "The gradient
model").
"""

from __future__ import annotations

import operator

import numpy as np

from pygote.rules.registry import rule_for
from pygote.runtime import journal, shadows
from pygote.runtime.batched import Batched, BatchingError
from pygote.runtime.shadows import acc, is_mutable, peek, set_shadow, take
from pygote.runtime.values import fit

__all__ = [
    "getitem", "acc_getitem", "getitem_back", "acc_item", "add_items",
    "rename_back", "setitem",
    "setitem_back", "getattr_", "acc_attr", "setattr_", "setattr_back", "augassign",
    "augassign_back", "AUG_OPS",
]

ndarray = np.ndarray
_MISSING = object()
_PLAIN_CONTAINERS = frozenset([ndarray, list, tuple, dict, str, range])


# ---------------------------------------------------------------- items


def getitem(x, index):
    """``x[index]``; user classes' ``__getitem__`` is differentiated through its source."""
    t = type(x)
    if t in _PLAIN_CONTAINERS or t is Batched or isinstance(x, (tuple, list, dict, ndarray)):
        return x[index], None
    method = getattr(t, "__getitem__", None)
    if method is None or not hasattr(method, "__code__"):
        return x[index], None
    from pygote.runtime.dispatch import call

    return call(method, x, index)


def acc_getitem(x, dx, index, g, record=None):
    """Cotangent ``g`` of ``x[index]`` added into the adjoint of ``x``."""
    if record is not None:  # a user __getitem__ was differentiated
        cts, _ = record(g)
        return acc(x, dx, cts[0])
    if g is None:
        return dx
    t = type(x)
    if t is ndarray or isinstance(x, ndarray):
        if not issubclass(x.dtype.type, np.inexact):
            return dx
        shadow = shadows.array_shadow(x, create=True)
        if type(g) is Batched and type(shadow) is not Batched:  # (see shadows.batch_shadow)
            shadows.batch_shadow(x, g)
            shadow = shadows.array_shadow(x, create=True)
        if _has_array_index(index):
            np.add.at(shadow, index, fit(g, np.empty(np.shape(x[index]), x.dtype))
                      if np.iscomplexobj(g) and not np.iscomplexobj(x) else g)
        else:
            if np.iscomplexobj(g) and not np.iscomplexobj(x):
                g = np.real(g)
            shadow[index] += g
        return dx
    if t is list:
        entry = shadows._entry(x, None)
        if entry[1] is None:
            entry[1] = [None] * len(x)
        shadow = entry[1]
        if type(index) is slice:
            for i, gi in zip(range(*index.indices(len(x))), g):
                shadow[i] = _acc_slot(x[i], shadow[i], gi)
        else:
            shadow[index] = _acc_slot(x[index], shadow[index], g)
        return dx
    if t is tuple or isinstance(x, tuple):
        n = len(x)
        out = list(dx) if dx is not None else [None] * n
        if type(index) is slice:
            for i, gi in zip(range(*index.indices(n)), g):
                out[i] = _acc_slot(x[i], out[i], gi)
        else:
            out[index] = _acc_slot(x[index], out[index], g)
        return tuple(out)
    if t is dict or isinstance(x, dict):
        entry = shadows._entry(x, None)
        if entry[1] is None:
            entry[1] = {}
        entry[1][index] = _acc_slot(x[index], entry[1].get(index), g)
        return dx
    if t is Batched:  # the members' cotangents, scattered (runtime/batched.py)
        whole = Batched(np.zeros_like(x.data)) if type(g) is Batched else \
            np.zeros(x.shape, x.dtype)
        if _has_array_index(index):
            np.add.at(whole, index, g)
        else:
            whole[index] += g
        return acc(x, dx, whole)
    return dx


def acc_item(y, dy, g, x, index):
    """Add cotangent ``g`` into the adjoint of ``y = x[index]`` (``x`` and ``index`` as they
    were when ``y`` was read): for a view of an array that owns its memory, straight into
    that region of the array's shadow (which is where ``acc`` would put it, without working
    out the view's offset)."""
    if (type(y) is ndarray and y.base is x and type(x) is ndarray and x.base is None
            and (x.flags.c_contiguous or x.flags.f_contiguous)):
        g = fit(g, y)
        if g is not None:
            shadows.array_shadow(x, create=True)[index] += g
        return dy
    return acc(y, dy, g)


def add_items(x, indices, gs):
    """Cotangents ``gs`` (real numbers) of items ``x[i]`` of a float64 vector, added into
    the vector's shadow (one look-up of it for all of them)."""
    shadow = None
    for index, g in zip(indices, gs):
        if g:
            if shadow is None:
                shadow = shadows.array_shadow(x, create=True)
            shadow[index] += g


def rename_back(x, dx, y, dy):
    """The backward of ``y = x``: y's whole cotangent added into x's adjoint. They are
    one object: an array's gradient (not a ghost's) is in its shadow already."""
    if dy is None and type(y) is ndarray and y is x:
        return dx
    return acc(x, dx, take(y, dy))


def getitem_back(x, dx, index, y, dy, record=None):
    """The backward of ``y = x[index]`` (``dy``: ``y``'s value adjoint): ``y``'s whole
    cotangent added into the adjoint of ``x``.

    A view of an array that owns its memory already keeps its gradient in its region of
    the array's shadow; moving it out and back would change nothing, so nothing is done.
    """
    if (dy is None and record is None and type(y) is ndarray and y.base is x
            and type(x) is ndarray and x.base is None
            and (x.flags.c_contiguous or x.flags.f_contiguous)):
        return dx
    if (record is None and type(index) is int and (type(x) is list or type(x) is tuple)
            and -len(x) <= index < len(x) and x[index] is y):
        # an item read back from its slot (``W, U, b = params[k]``): an array's (a list's,
        # an object's) gradient is in its shadow and stays there; a tuple's arrays too,
        # only its value adjoint goes to the slot
        if type(y) is tuple:
            return acc_getitem(x, dx, index, dy, record)
        if dy is None and is_mutable(y):
            return dx
    return acc_getitem(x, dx, index, take(y, dy), record)


def _acc_slot(value, slot, g):
    if is_mutable(value):
        acc(value, None, g)
        return slot
    return acc(value, slot, g)


def _has_array_index(index) -> bool:
    if type(index) is tuple:
        return any(isinstance(i, (ndarray, list)) and not _is_bool(i) for i in index)
    return isinstance(index, (ndarray, list)) and not _is_bool(index)


def _is_bool(i) -> bool:
    return isinstance(i, ndarray) and i.dtype == bool


def setitem(x, index, v):
    """``x[index] = v``, returning what was overwritten (the record for the backward)."""
    t = type(x)
    if t is ndarray or isinstance(x, ndarray):
        old = np.array(x[index], copy=True)
        x[index] = v
        journal.wrote(x)
        return old
    if t is dict or isinstance(x, dict):
        old = x.get(index, _MISSING)
    elif t is Batched:  # (reverse mode keeps no record of its writes)
        raise BatchingError("reverse mode over a write into a batched value")
    else:
        old = x[index]
    x[index] = v
    if journal.current is not None:
        journal.current.append((operator.setitem, (x, index, v)))
    return old


def _advanced(index) -> bool:
    """Whether an index selects by integer arrays (where entries may repeat)."""
    if isinstance(index, tuple):
        return any(isinstance(i, (list, ndarray)) for i in index)
    return isinstance(index, (list, ndarray))


def _overwritten_later(x, index):
    """Mask over ``x[index]`` of the entries a later entry of the same write overwrote
    (NumPy assigns repeated indices in order: the last write wins); None if none."""
    positions = np.arange(x.size).reshape(x.shape)[index]
    if positions.dtype == bool or positions.size < 2:
        return None
    flat = positions.ravel()
    reversed_first = np.unique(flat[::-1], return_index=True)[1]
    if reversed_first.size == flat.size:
        return None
    keep = np.zeros(flat.size, dtype=bool)
    keep[flat.size - 1 - reversed_first] = True
    return ~keep.reshape(positions.shape)


def setitem_back(x, index, v, old):
    """Undo ``x[index] = v``: returns the cotangent of ``v`` and restores ``x``."""
    t = type(x)
    g = None
    if t is ndarray or isinstance(x, ndarray):
        shadow = peek(x)
        if shadow is not None:
            g = np.array(shadow[index], copy=True)
            shadow[index] = 0
            if _advanced(index):
                overwritten = _overwritten_later(x, index)
                if overwritten is not None:  # repeated indices: the last write wins
                    g[overwritten] = 0
        x[index] = old
        return g
    if t is dict or isinstance(x, dict):
        shadow = peek(x)
        if shadow is not None:
            g = shadow.pop(index, None)
        if old is _MISSING:
            del x[index]
        else:
            x[index] = old
        return g
    if t is list or isinstance(x, list):
        shadow = peek(x)
        if shadow is not None:
            if type(index) is slice:
                g = shadow[index]
                shadow[index] = [None] * len(old)
            else:
                g = shadow[index]
                shadow[index] = None
        x[index] = old
        return g
    x[index] = old
    return None


# ---------------------------------------------------------------- attributes

_ARRAY_ATTRIBUTES: dict = {}


def _array_attribute(name):
    if not _ARRAY_ATTRIBUTES:
        _ARRAY_ATTRIBUTES.update({"T": np.transpose, "real": np.real, "imag": np.imag})
        try:
            from pygote.rules.numpy_shape import ATTRIBUTE_RULES
        except ImportError:
            ATTRIBUTE_RULES = {}
        for (cls, attr), func in ATTRIBUTE_RULES.items():
            if cls is ndarray:
                _ARRAY_ATTRIBUTES[attr] = func
    return _ARRAY_ATTRIBUTES.get(name)


def getattr_(x, name):
    """``x.name``; properties are differentiated through their getter's source."""
    t = type(x)
    if t is ndarray:
        func = _array_attribute(name)
        if func is not None:
            from pygote.runtime.dispatch import call

            return call(func, x)
        return getattr(x, name), None
    descriptor = getattr(t, name, None) if t.__getattribute__ is object.__getattribute__ else None
    if type(descriptor) is property and descriptor.fget is not None:
        from pygote.runtime.dispatch import call

        return call(descriptor.fget, x)
    if t is complex or isinstance(x, np.generic):
        func = {"real": np.real, "imag": np.imag}.get(name)
        if func is not None:
            from pygote.runtime.dispatch import call

            return call(func, x)
    return getattr(x, name), None


def acc_attr(x, dx, name, g, record=None):
    """Cotangent ``g`` of ``x.name`` added into the adjoint of ``x``."""
    if record is not None:
        cts, _ = record(g)
        return acc(x, dx, cts[0])
    if g is None:
        return dx
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple field
        i = x._fields.index(name)
        out = list(dx) if dx is not None else [None] * len(x)
        out[i] = _acc_slot(x[i], out[i], g)
        return type(x)(*out)
    if isinstance(x, type):
        return dx
    d = getattr(x, "__dict__", None)
    if d is not None and name in d:
        value = d[name]
    elif hasattr(type(x), "__slots__") and hasattr(x, name):
        value = getattr(x, name)
    else:
        return dx
    if is_mutable(value):
        acc(value, None, g)
        return dx
    entry = shadows._entry(x, None)
    if entry[1] is None:
        entry[1] = {}
    entry[1][name] = acc(value, entry[1].get(name), g)
    return dx


def setattr_(x, name, v):
    """``x.name = v``, returning the overwritten value (or a marker that there was none)."""
    old = getattr(x, name, _MISSING)
    setattr(x, name, v)
    if journal.current is not None:
        journal.current.append((setattr, (x, name, v)))
    return old


def setattr_back(x, name, old):
    """Undo ``x.name = v``: returns the cotangent of ``v`` and restores ``x.name``."""
    shadow = peek(x)
    g = shadow.pop(name, None) if isinstance(shadow, dict) else None
    if old is _MISSING:
        try:
            delattr(x, name)
        except AttributeError:
            pass
    else:
        setattr(x, name, old)
    return g


# ---------------------------------------------------------------- augmented assignment

AUG_OPS = {
    "+": (operator.add, operator.iadd), "-": (operator.sub, operator.isub),
    "*": (operator.mul, operator.imul), "/": (operator.truediv, operator.itruediv),
    "//": (operator.floordiv, operator.ifloordiv), "%": (operator.mod, operator.imod),
    "**": (operator.pow, operator.ipow), "@": (operator.matmul, operator.imatmul),
    "&": (operator.and_, operator.iand), "|": (operator.or_, operator.ior),
    "^": (operator.xor, operator.ixor), "<<": (operator.lshift, operator.ilshift),
    ">>": (operator.rshift, operator.irshift),
}


class _InPlace:
    __slots__ = ("op", "old", "ans", "v")

    def __init__(self, op, old, ans, v):
        self.op, self.old, self.ans, self.v = op, old, ans, v


class _Rebind:
    __slots__ = ("op", "old", "ans", "v")

    def __init__(self, op, old, ans, v):
        self.op, self.old, self.ans, self.v = op, old, ans, v


class _ListExtend:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


def augassign(symbol, y, v):
    """``y op= v``: in place for arrays and lists (a mutation), a rebinding otherwise."""
    pure, inplace = AUG_OPS[symbol]
    t = type(y)
    if t is ndarray and issubclass(y.dtype.type, np.inexact):
        old = y.copy()
        # `a += a`, `a *= a[::-1]`: the right-hand side's value is read before the write
        v_value = old if v is y else v.copy() if isinstance(v, ndarray) and \
            np.shares_memory(v, y) else v
        out = inplace(y, v)
        journal.wrote(y)
        return out, _InPlace(pure, old, out, v_value)
    if t is list and symbol == "+":
        n = len(y)
        y += v
        if journal.current is not None:
            journal.current.append((list.extend, (y, y[n:])))
        return y, _ListExtend(n)
    if t is float or t is int or t is complex or t is tuple or t is Batched or \
            isinstance(y, (np.generic, ndarray)):
        ans = pure(y, v)  # (a batched value: rebound, as reverse mode sees it)
        return ans, _Rebind(pure, y, ans, v)
    method = getattr(t, "__i" + pure.__name__.strip("_") + "__", None)
    if method is not None and hasattr(method, "__code__"):
        from pygote.runtime.dispatch import call

        ans, record = call(method, y, v)
        return ans, record
    ans = inplace(y, v)
    if ans is y and is_mutable(y):
        return ans, None  # an object we cannot see into: no gradient through it
    from pygote.runtime.dispatch import call

    ans, record = call(pure, y, v)
    return ans, record


def augassign_back(record, y, v, dy):
    """Undo ``y op= v``: returns ``(adjoint of the old y, cotangent of v)``.

    ``y`` is the value after the operation; the caller restores the variable itself.
    """
    if record is None:
        return dy, None
    t = type(record)
    if t is _Rebind:
        g = take(record.ans, dy)
        if g is None:
            return None, None
        # record.v, not v: in `y *= y` the variable already holds the result
        cts = rule_for(record.op).vjp(g, record.ans, record.old, record.v)
        return acc(record.old, None, cts[0]), cts[1]
    if t is _InPlace:
        g = peek(y)
        if g is not None:  # a snapshot: the live shadow is rewritten just below
            g = g.copy()
        ct_v = None
        if g is not None:
            cts = rule_for(record.op).vjp(g, record.ans, record.old, record.v)
            # the shadow now holds the gradient of the old contents; own its memory
            ct_y = fit(cts[0], y)
            set_shadow(y, ct_y)
            ct_v = cts[1]
        y[...] = record.old
        return dy, ct_v
    if t is _ListExtend:
        shadow = peek(y)
        ct_v = None
        if shadow is not None:
            ct_v = shadow[record.n:]
            del shadow[record.n:]
        del y[record.n:]
        return dy, ct_v
    # a user __iadd__ differentiated through its source
    cts, _ = record(take(y, dy))
    return acc(y, None, cts[0]), cts[1]



def delitem(x, index):
    """``del x[index]``, returning what was removed (the record for the backward)."""
    old = x[index]
    del x[index]
    if journal.current is not None:
        journal.current.append((operator.delitem, (x, index)))
    return old


def delitem_back(x, index, old):
    """Undo ``del x[index]``: put the items back, with zero gradient slots for them."""
    shadow = peek(x)
    if isinstance(x, list):
        if type(index) is slice:
            positions = range(*index.indices(len(x) + len(old)))
            x[index.start:index.start] = old if index.step in (None, 1) else x[0:0]
            if index.step not in (None, 1):
                for i, v in zip(positions, old):
                    x.insert(i, v)
            if shadow is not None:
                for i in positions:
                    shadow.insert(i, None)
        else:
            i = index if index >= 0 else len(x) + 1 + index
            x.insert(i, old)
            if shadow is not None:
                shadow.insert(i, None)
    else:
        x[index] = old


# ---------------------------------------------------------------- iteration

_SEQUENCES = frozenset([list, tuple, range, str, ndarray])


def iterate(x):
    """What a ``for`` loop over ``x`` walks, as an indexable sequence: ``(seq, record)``.

    Sequences are walked as they are; a user class's ``__iter__`` is differentiated
    through its source (``record`` is its pullback); other iterables (generators, zip
    objects) are read into a list.
    """
    t = type(x)
    if t in _SEQUENCES or isinstance(x, (list, tuple, ndarray)):
        return x, None
    if isinstance(x, dict):
        return list(x), None
    method = getattr(t, "__iter__", None)
    if hasattr(method, "__code__"):
        from pygote.runtime.dispatch import call

        seq, record = call(method, x)
        if type(seq) in _SEQUENCES:
            return seq, record
        return list(seq), record
    return list(x), None

