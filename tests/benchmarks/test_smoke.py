"""Smoke test of the benchmark runner (benchmarks/suite.py): one small workload, pygote
only, no timing assertions. Needs no peer library and no matplotlib."""

import json
import sys

from benchmarks import report, suite
from benchmarks.workloads import WORKLOADS


def test_one_workload_through_the_runner(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    cfg = suite.Config(min_time=0.002, repeats=3, first_gradient=False)
    results = suite.run_suite(["sincos"], ["pygote"], cfg, log=lambda *a: None, partial=True)

    rec = results["workloads"]["sincos"]["peers"]["pygote"]
    assert rec["status"] == "ok", rec
    assert rec["check"]["ok"]
    assert rec["time"]["median"] > 0 and rec["overhead"] > 0

    paths = report.write_all(results, str(tmp_path), stem="smoke", log=lambda *a: None)
    assert "png" not in paths  # no matplotlib: no chart, and no error
    md = (tmp_path / "smoke.md").read_text()
    assert "| sincos |" in md and "Overhead" in md
    assert json.loads((tmp_path / "smoke.json").read_text())["workloads"]["sincos"]


def test_a_missing_peer_is_reported_not_raised(monkeypatch):
    for name in ("autograd", "torch", "jax"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    objs, info = suite.load_peers(["autograd", "torch", "jax"], log=lambda *a: None)
    assert all(o is None for o in objs.values())
    assert all(i["status"] == "not installed" for i in info.values())


def test_every_workload_declares_what_is_differentiated():
    for w in WORKLOADS.values():
        args = w.make_inputs()
        assert w.argnums and all(i < len(args) for i in w.argnums)
        assert w.kind in ("gradient", "hessian", "backward")
