"""Batched values: B values of one shape carried as one, through unchanged code.

``Batched(data)`` stands for the B arrays ``data[0], ..., data[B - 1]`` (its *members*).
To the code that meets it, it looks like one member: ``shape``, ``ndim``, ``dtype``, ``len``
and every NumPy function and operator have the member's meaning, computed for all members
at once on ``data`` (its leading axis is the batch). This is what vmap does in JAX, and
what lets ``pg.hessian`` and ``pg.jacfwd`` take all their directions in one pass: the
direction is a ``Batched`` of the unit vectors, and so is everything computed from it
(tangents; in a Hessian, the cotangents that depend on them), while values that do not
depend on it stay plain arrays.

- Elementwise operations (NumPy ufuncs, hence the operators) align each batched operand's
  member to the result's rank and broadcast as for members; reductions move their axes
  past the batch; ``@`` puts a batched vector in a matrix's column. NumPy functions with a
  rule here (``_FUNCTIONS``) batch directly; any other is called once per member and its
  results stacked: correct for any function of arrays, only slower.
- A batched value can never become a plain one by accident: converting it to an array,
  a number or a truth value (``np.asarray``, ``float``, ``if b:``), or writing it into a
  plain array in place, raises ``BatchingError``. Whoever started the batch then does the
  work one member at a time instead (the reference, and the fallback).
"""

from __future__ import annotations

import numpy as np

from pygote.errors import DifferentiationError

__all__ = ["Batched", "BatchingError", "unit_directions", "unit_batch", "attempt",
           "fit_batched"]


class BatchingError(DifferentiationError):
    """A batched value met an operation that cannot keep its members apart."""


ndarray = np.ndarray


class Batched:
    __slots__ = ("data",)
    __array_priority__ = 1000.0

    def __init__(self, data) -> None:
        self.data = data

    # ------------------------------------------------------------ one member's view

    @property
    def shape(self):
        return self.data.shape[1:]

    @property
    def ndim(self):
        return self.data.ndim - 1

    @property
    def size(self):
        return int(np.prod(self.data.shape[1:], dtype=np.int64))

    @property
    def dtype(self):
        return self.data.dtype

    def __len__(self):
        if self.data.ndim < 2:
            raise TypeError("len() of a 0-d batched value")
        return self.data.shape[1]

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]

    def __repr__(self) -> str:
        return f"Batched({self.data!r})"

    def _refuse(self, *args, **kwargs):
        raise BatchingError("a batched value cannot become one plain value")

    __array__ = __float__ = __int__ = __complex__ = __bool__ = __index__ = _refuse

    # ------------------------------------------------------------ NumPy protocols

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and ufunc.signature is None:
            # (the common case first: an elementwise operation of one or two operands)
            if len(inputs) == 1:
                return Batched(ufunc(self.data))
            if len(inputs) == 2:
                a, b = inputs
                ta, tb = type(a) is Batched, type(b) is Batched
                if ta and tb and a.data.ndim == b.data.ndim:
                    return _wrap(ufunc(a.data, b.data))
                if ta and not tb and a.data.ndim > np.ndim(b):
                    return _wrap(ufunc(a.data, b))
                if tb and not ta and b.data.ndim > np.ndim(a):
                    return _wrap(ufunc(a, b.data))
        out = kwargs.get("out")
        if out is not None:
            if not all(type(o) is Batched for o in out):
                raise BatchingError(f"np.{ufunc.__name__} cannot write batched values into "
                                    "a plain array")
            kwargs["out"] = tuple(o.data for o in out)
        if method == "__call__":
            if ufunc is np.matmul:
                return _matmul(*inputs)
            if ufunc.signature is not None:
                return _per_member(ufunc, inputs, kwargs)
            result = ufunc(*_aligned(inputs), **kwargs)
            return _wrap(result)
        if method in ("reduce", "accumulate") and ufunc.signature is None:
            x = inputs[0]
            if type(x) is not Batched or len(inputs) > 1:
                return _per_member(getattr(ufunc, method), inputs, kwargs)
            axis = kwargs.pop("axis", 0)
            kwargs["axis"] = _member_axes(axis, x.ndim)
            return _wrap(getattr(ufunc, method)(x.data, **kwargs))
        if method == "at" and type(inputs[0]) is not Batched:
            raise BatchingError(f"np.{ufunc.__name__}.at cannot write batched values into a "
                                "plain array")
        return _per_member(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        rule = _FUNCTIONS.get(func)
        if rule is not None:
            return rule(*args, **kwargs)
        return _per_member(func, args, kwargs)

    # ------------------------------------------------------------ items

    def __getitem__(self, index):
        index = index if type(index) is tuple else (index,)
        if _basic(index):
            item = self.data[(slice(None),) + index]
            if item.ndim == 1 and Ellipsis not in index:
                # a number of each member: a copy, as NumPy's a[0] of a vector is (a
                # view would see later writes into the array)
                item = item.copy()
            return Batched(item)
        arrays = [k for k, i in enumerate(index) if not _basic((i,))]
        if all(type(i) is not Batched for i in index) and \
                arrays == list(range(arrays[0], arrays[-1] + 1)):
            # advanced indices side by side keep their place after the batch axis
            return Batched(self.data[(slice(None),) + index])
        return _per_member(_getitem, (self, index), {})

    def __setitem__(self, index, value):
        index = index if type(index) is tuple else (index,)
        if type(index) is Batched or any(type(i) is Batched for i in index):
            raise BatchingError("an index that differs between members")
        region = self.data[(slice(None),) + index]
        if type(value) is Batched:
            value = _lift(value.data, region.ndim - 1)
        self.data[(slice(None),) + index] = value

    # ------------------------------------------------------------ methods

    @property
    def T(self):
        return Batched(np.swapaxes(self.data, 1, -1) if self.ndim == 2 else
                       self.data.transpose((0,) + tuple(range(self.data.ndim - 1, 0, -1))))

    @property
    def real(self):
        return Batched(self.data.real)

    @property
    def imag(self):
        return Batched(self.data.imag)

    def copy(self):
        return Batched(self.data.copy())

    def astype(self, dtype, copy=True):
        return Batched(self.data.astype(dtype, copy=copy))

    def conj(self):
        return Batched(self.data.conj())

    conjugate = conj

    def reshape(self, *shape):
        return _reshape(self, shape[0] if len(shape) == 1 else shape)

    def ravel(self):
        return _reshape(self, (-1,))

    flatten = ravel

    def transpose(self, *axes):
        return _transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def sum(self, axis=None, **kwargs):
        return _FUNCTIONS[np.sum](self, axis=axis, **kwargs)

    def mean(self, axis=None, **kwargs):
        return _FUNCTIONS[np.mean](self, axis=axis, **kwargs)

    def max(self, axis=None, **kwargs):
        return _FUNCTIONS[np.max](self, axis=axis, **kwargs)

    def min(self, axis=None, **kwargs):
        return _FUNCTIONS[np.min](self, axis=axis, **kwargs)

    def dot(self, other):
        return _dot(self, other)

    def fill(self, value):
        self.data[...] = value

    def item(self, *args):
        return self._refuse()

    # operators: NumPy's ufuncs, which come back to __array_ufunc__
    def __add__(self, o): return np.add(self, o)  # noqa: E704
    def __radd__(self, o): return np.add(o, self)  # noqa: E704
    def __sub__(self, o): return np.subtract(self, o)  # noqa: E704
    def __rsub__(self, o): return np.subtract(o, self)  # noqa: E704
    def __mul__(self, o): return np.multiply(self, o)  # noqa: E704
    def __rmul__(self, o): return np.multiply(o, self)  # noqa: E704
    def __truediv__(self, o): return np.true_divide(self, o)  # noqa: E704
    def __rtruediv__(self, o): return np.true_divide(o, self)  # noqa: E704
    def __pow__(self, o): return np.power(self, o)  # noqa: E704
    def __rpow__(self, o): return np.power(o, self)  # noqa: E704
    def __matmul__(self, o): return _matmul(self, o)  # noqa: E704
    def __rmatmul__(self, o): return _matmul(o, self)  # noqa: E704
    def __neg__(self): return np.negative(self)  # noqa: E704
    def __pos__(self): return np.positive(self)  # noqa: E704
    def __abs__(self): return np.absolute(self)  # noqa: E704
    def __lt__(self, o): return np.less(self, o)  # noqa: E704
    def __le__(self, o): return np.less_equal(self, o)  # noqa: E704
    def __gt__(self, o): return np.greater(self, o)  # noqa: E704
    def __ge__(self, o): return np.greater_equal(self, o)  # noqa: E704
    # (elementwise, as arrays compare: ``if b == 0`` then refuses, never a silent False)
    def __eq__(self, o): return np.equal(self, o)  # noqa: E704
    def __ne__(self, o): return np.not_equal(self, o)  # noqa: E704
    __hash__ = object.__hash__  # (shadows and tables hold batches by identity)
    # (no in-place operators: ``b += c`` rebinds ``b``, as for a number. Generated code
    # writes ``_dx += g`` for the derivative of a number, which may be a batch shared with
    # another name; a write into a batch in place is spelled ``b[...] = ...``)


# ---------------------------------------------------------------- the callers' side


def unit_directions(x, dtype):
    """The unit directions of the entries of ``x``, one by one (a number's as a number)."""
    xa = np.asarray(x)
    for k in range(max(xa.size, 1)):
        e = np.zeros(xa.shape, dtype=dtype)
        e.flat[k] = 1.0
        yield type(x)(e.reshape(()).item()) if isinstance(x, (float, complex)) else e


def unit_batch(x, dtype):
    """The unit directions of the entries of array ``x`` as one batch."""
    return Batched(np.eye(x.size, dtype=dtype).reshape((x.size,) + x.shape))


def attempt(run, args):
    """``(True, run(args))``, or ``(False, None)`` when the pass could not keep its batch:
    an operation that cannot keep the members apart raises (``BatchingError``, or NumPy's
    own error at a batch written into a plain array), and the caller does the work one
    member at a time, the reference way, where a genuine error is raised again. The pass
    gets copies of the array arguments: stopped half-way, it may have written into them."""
    args = tuple(a.copy() if type(a) is ndarray else a for a in args)
    try:
        return True, run(args)
    except Exception:  # (see above)
        return False, None


# ---------------------------------------------------------------- fitting to a value


def fit_batched(g, shape, dtype, real: bool, reduce: bool):
    """Batched ``g`` made to fit members of ``shape`` and ``dtype`` (real if ``real``):
    broadcasting undone by sums when ``reduce`` (a cotangent: ``values.unbroadcast`` with
    the batch axis last, where it lines up with itself), else the member broadcast to
    ``shape`` (a tangent, in memory of its own)."""
    from pygote.runtime.values import unbroadcast

    data = g.data
    size = data.shape[0]
    if data.shape[1:] != shape:
        if reduce:
            last = unbroadcast(np.moveaxis(data, 0, -1), shape + (size,))
            data = np.moveaxis(last, -1, 0)
        else:
            data = np.array(np.broadcast_to(_lift(data, len(shape)), (size,) + shape))
    if real and np.iscomplexobj(data):
        data = data.real
    if dtype is not None and data.dtype != dtype:
        data = data.astype(dtype)
    return Batched(data)


# ---------------------------------------------------------------- helpers


def _wrap(result):
    if type(result) is tuple:
        return tuple(_wrap(r) for r in result)
    return Batched(result)


def _lift(data, rank):
    """Batched ``data`` with its member given leading axes of length 1 up to ``rank``."""
    missing = rank - (data.ndim - 1)
    if missing <= 0:
        return data
    return data.reshape(data.shape[:1] + (1,) * missing + data.shape[1:])


def _aligned(inputs):
    rank = max(x.ndim if type(x) is Batched else np.ndim(x) for x in inputs)
    return [_lift(x.data, rank) if type(x) is Batched else x for x in inputs]


def _member_axes(axis, ndim):
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, tuple):
        return tuple(a % ndim + 1 for a in axis)
    return axis % ndim + 1


def _basic(index) -> bool:
    for i in index:
        if not (i is None or i is Ellipsis or type(i) in (int, slice) or
                isinstance(i, np.integer)):
            return False
    return True


def _getitem(x, index):
    return x[index]


def _member(x, k):
    if type(x) is Batched:
        return x.data[k]
    if type(x) in (tuple, list):
        return type(x)(_member(v, k) for v in x)
    if type(x) is dict:
        return {key: _member(v, k) for key, v in x.items()}
    return x


def _per_member(func, args, kwargs):
    """``func`` called once per member, its results stacked (the fallback)."""
    size = _size_in([args, kwargs])
    if size is None:
        return func(*args, **kwargs)
    results = [func(*_member(list(args), k), **_member(kwargs, k)) for k in range(size)]
    return _stack(results)


def _size_in(x):
    if type(x) is Batched:
        return x.data.shape[0]
    if type(x) in (tuple, list):
        for v in x:
            s = _size_in(v)
            if s is not None:
                return s
    if type(x) is dict:
        return _size_in(list(x.values()))
    return None


def _stack(results):
    first = results[0]
    if first is None:
        return None
    if type(first) is tuple:
        return tuple(_stack([r[i] for r in results]) for i in range(len(first)))
    if type(first) is list:
        return [_stack([r[i] for r in results]) for i in range(len(first))]
    if isinstance(first, (ndarray, np.generic, float, int, complex, bool)):
        return Batched(np.stack([np.asarray(r) for r in results]))
    raise BatchingError(f"a batched call returned {type(first).__name__}")


# ---------------------------------------------------------------- rules for NumPy functions


def _matmul(a, b):
    """``a @ b`` for members: a vector operand becomes a row (left) or a column (right),
    dropped after; a batched operand's member is lifted to the other's rank, so that its
    batch axis lines up with nothing of the plain operand's."""
    ba, bb = type(a) is Batched, type(b) is Batched
    if not (ba or bb):
        return np.matmul(a, b)
    da = a.data if ba else np.asarray(a)
    db = b.data if bb else np.asarray(b)
    na = da.ndim - ba
    nb = db.ndim - bb
    if na == 0 or nb == 0:
        raise ValueError("matmul: an operand is a scalar")
    # one matrix product for the whole batch where the plain operand is a matrix
    if bb and not ba and na == 2 and nb in (1, 2):
        if nb == 1:  # rows of b's data times a.T
            return Batched(db @ da.T)
        size, n, k = db.shape
        out = da @ db.transpose(1, 0, 2).reshape(n, size * k)
        return Batched(out.reshape(da.shape[0], size, k).transpose(1, 0, 2))
    if ba and not bb and nb == 2 and na in (1, 2):
        return Batched((da.reshape(-1, da.shape[-1]) @ db).reshape(da.shape[:-1] + db.shape[1:]))
    if na == 1:
        da = da[..., None, :]
    if nb == 1:
        db = db[..., :, None]
    rank = max(na, nb, 2)
    if ba:
        da = _lift(da, rank)
    if bb:
        db = _lift(db, rank)
    out = np.matmul(da, db)
    if nb == 1:
        out = out[..., 0]
    if na == 1:
        out = out[..., 0] if nb == 1 else out[..., 0, :]
    return Batched(out)


def _dot(a, b):
    na = a.ndim if type(a) is Batched else np.ndim(a)
    nb = b.ndim if type(b) is Batched else np.ndim(b)
    if na == 0 or nb == 0:
        return np.multiply(a, b)
    if na <= 2 and nb <= 2:
        return _matmul(a, b)
    return _per_member(np.dot, (a, b), {})


def _reduction(func):
    def rule(x, axis=None, keepdims=False, **kwargs):
        if type(x) is not Batched or kwargs.get("out") is not None:
            return _per_member(func, (x,), dict(axis=axis, keepdims=keepdims, **kwargs))
        return Batched(func(x.data, axis=_member_axes(axis, x.ndim), keepdims=keepdims,
                            **kwargs))
    return rule


def _reshape(x, shape, order="C"):
    if type(x) is not Batched:
        return np.reshape(x, shape, order=order)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return Batched(x.data.reshape(x.data.shape[:1] + shape, order=order))


def _transpose(x, axes=None):
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    return Batched(x.data.transpose((0,) + tuple(a % x.ndim + 1 for a in axes)))


def _broadcast_to(x, shape, subok=False):
    if type(x) is not Batched:
        return np.broadcast_to(x, shape)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return Batched(np.broadcast_to(_lift(x.data, len(shape)), x.data.shape[:1] + shape))


def _expand_dims(x, axis):
    axes = axis if isinstance(axis, tuple) else (axis,)
    ndim = x.ndim + len(axes)
    return Batched(np.expand_dims(x.data, tuple(a % ndim + 1 for a in axes)))


def _squeeze(x, axis=None):
    if axis is None:
        axis = tuple(k for k, n in enumerate(x.shape) if n == 1)
    return Batched(np.squeeze(x.data, _member_axes(axis, x.ndim)))


def _outer(a, b, out=None):
    if out is not None:
        return _per_member(np.outer, (a, b), dict(out=out))
    return np.multiply(_reshape(a, (-1, 1)), _reshape(b, (1, -1)))


def _where(cond, x=None, y=None):
    if x is None:
        return _per_member(np.where, (cond,), {})
    inputs = [cond, x, y]
    return _wrap(np.where(*_aligned(inputs)))


def _like(func):
    def rule(x, *args, **kwargs):
        if type(x) is not Batched:
            return func(x, *args, **kwargs)
        if "shape" in kwargs and kwargs["shape"] is not None:
            return _per_member(func, (x,) + args, kwargs)
        return Batched(func(x.data, *args, **kwargs))
    return rule


def _copy(x, *args, **kwargs):
    return Batched(x.data.copy()) if type(x) is Batched else np.copy(x, *args, **kwargs)


def _stack_like(func):
    def rule(arrays, axis=0, **kwargs):
        arrays = list(arrays)
        size = _size_in(arrays)
        if size is None or kwargs.get("out") is not None:
            return _per_member(func, (arrays,), dict(axis=axis, **kwargs))
        ndim = max(a.ndim if type(a) is Batched else np.ndim(a) for a in arrays)
        datas = [a.data if type(a) is Batched else
                 np.broadcast_to(np.asarray(a), (size,) + np.shape(a)) for a in arrays]
        if func is np.stack:
            return Batched(np.stack(datas, axis=axis % (ndim + 1) + 1, **kwargs))
        if axis is None:
            return Batched(np.concatenate([d.reshape(size, -1) for d in datas], axis=1,
                                          **kwargs))
        return Batched(func(datas, axis=axis % ndim + 1, **kwargs))
    return rule


def _shape(x):
    return x.shape


def _ndim(x):
    return x.ndim


def _size(x, axis=None):
    return x.size if axis is None else x.shape[axis]


def _iscomplexobj(x):
    return issubclass(x.dtype.type, np.complexfloating)


def _result_type(*args):
    return np.result_type(*[a.dtype if type(a) is Batched else a for a in args])


_FUNCTIONS = {
    np.sum: _reduction(np.sum), np.mean: _reduction(np.mean), np.prod: _reduction(np.prod),
    np.max: _reduction(np.max), np.min: _reduction(np.min),
    np.amax: _reduction(np.max), np.amin: _reduction(np.min),
    np.matmul: _matmul, np.dot: _dot, np.outer: _outer,
    np.reshape: _reshape, np.transpose: _transpose, np.broadcast_to: _broadcast_to,
    np.expand_dims: _expand_dims, np.squeeze: _squeeze, np.where: _where,
    np.zeros_like: _like(np.zeros_like), np.ones_like: _like(np.ones_like),
    np.empty_like: _like(np.empty_like), np.full_like: _like(np.full_like),
    np.copy: _copy, np.stack: _stack_like(np.stack), np.concatenate: _stack_like(np.concatenate),
    np.shape: _shape, np.ndim: _ndim, np.size: _size, np.iscomplexobj: _iscomplexobj,
    np.isrealobj: lambda x: not _iscomplexobj(x), np.result_type: _result_type,
    np.real: lambda x: x.real, np.imag: lambda x: x.imag,
    np.ravel: lambda x, order="C": _reshape(x, (-1,), order),
}
