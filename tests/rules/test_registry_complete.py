"""Every built-in rule works in both modes: a primitive with a reverse rule (vjp) must have
a forward rule (jvp) too, or forward mode would fail on it at run time."""

import pygote  # noqa: F401  (registers every rule)
from pygote.rules.registry import RULES


def _builtin(rule) -> bool:
    # users' rules (pg.custom_vjp, pg.register_vjp) are records, reverse only by design;
    # tests may register throwaway rules of their own
    module = getattr(rule.func, "__module__", None) or ""
    return rule.record is None and not module.startswith("tests")


def test_every_rule_with_a_vjp_has_a_jvp():
    missing = [r.name for r in RULES.values()
               if _builtin(r) and r.vjp is not None and r.jvp is None]
    assert missing == []



# ---------------------------------------------------------------- linear rules
#
# A rule marked linear (registry.deflinear) promises that its vjp reads only the shapes and
# dtypes of ``ans`` and of the array arguments: its pullback then keeps zero-strided
# stand-ins (runtime/shadows.stand_in) instead of the arrays. Each such rule is fed both
# here and must give the same cotangents.

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pygote.runtime.shadows import stand_in  # noqa: E402


def _samples(dtype):
    rng = np.random.default_rng(3)

    def A(*shape):
        x = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        return x.astype(dtype)

    return {
        np.flip: [((A(3, 4),), {}), ((A(3, 4), 0), {})],
        np.fliplr: [((A(3, 4),), {})],
        np.flipud: [((A(3, 4),), {})],
        np.roll: [((A(12), 2), {}), ((A(3, 4), (1, -1), (0, 1)), {}), ((A(3, 4), 5), {})],
        np.rot90: [((A(3, 4),), {}), ((A(3, 4), 3), {})],
        np.swapaxes: [((A(3, 4, 2), 0, 2), {})],
        np.moveaxis: [((A(3, 4, 2), 0, -1), {})],
        np.transpose: [((A(3, 4),), {}), ((A(3, 4, 2), (2, 0, 1)), {})],
        np.squeeze: [((A(3, 1, 4),), {})],
        np.expand_dims: [((A(3, 4), 1), {})],
        np.sum: [((A(3, 4),), {}), ((A(3, 4), 0), {}), ((A(3, 4),), {"axis": 1, "keepdims": True})],
        np.ndarray.sum: [((A(3, 4),), {}), ((A(3, 4), 1), {})],
        np.mean: [((A(3, 4),), {}), ((A(3, 4), 0), {"keepdims": True})],
        np.ndarray.mean: [((A(3, 4),), {}), ((A(3, 4), 1), {})],
    }


def test_every_linear_rule_has_samples():
    linear = {r.func for r in RULES.values() if r.linear}
    assert linear == set(_samples(np.float64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_linear_rules_read_shapes_only(dtype):
    for func, cases in _samples(dtype).items():
        rule = RULES[func]
        for args, kwargs in cases:
            ans = func(*args, **kwargs)
            g = np.ones_like(ans) * (1.5 - 0.5j if np.iscomplexobj(ans) else 1.5)
            g = g + np.arange(np.size(ans)).reshape(np.shape(ans))
            real = rule.vjp(g, ans, *args, **kwargs)
            ghosts = rule.vjp(g, stand_in(np.asarray(ans)) if np.ndim(ans) else ans,
                              *[stand_in(a) if isinstance(a, np.ndarray) else a for a in args],
                              **kwargs)
            for r, s in zip(real, ghosts):
                if r is None:
                    assert s is None
                else:
                    np.testing.assert_array_equal(r, s, err_msg=f"{rule.name} {kwargs}")
