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

