"""The runner: check every gradient, then time it; collect everything in one dict.

``run.py`` is the command line around :func:`run_suite`; the smoke test calls
:func:`run_suite` directly with pygote alone. Nothing here imports a peer's library
before the peer is asked for (``benchmarks.peers.get``), and nothing imports matplotlib.

Per workload and peer the steps are:

1. the peer prepares its gradient (its own idiom, inputs converted once);
2. one call, whose result is checked against central finite differences of the PLAIN
   workload (``harness.check_gradient``); a failure or a wrong gradient is recorded with
   its message and NOT timed;
3. the gradient is timed (``harness.median_time``); a peer whose single call takes more
   than ``slow`` seconds is not timed again: the time of its checked call is reported,
   flagged ``single_call``;
4. (separately, ``first_gradients``) a fresh process per (peer, workload) measures the
   first gradient call minus the first primal call (``firstgrad.py``).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import time
import traceback

import numpy as np

from benchmarks import harness as H
from benchmarks import peers as P
from benchmarks.threads import THREAD_VARS
from benchmarks.workloads import (
    LSTM_BATCHES,
    LSTM_LAYERS,
    WORKLOADS,
    lstm_inputs,
    lstm_ops,
)

ZYGOTE_NS_PER_OP = 568.8  # the Zygote paper's LSTM figure (Julia)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Config:
    def __init__(self, min_time=0.2, repeats=7, slow=3.0, first_gradient=True,
                 first_peers=None, lstm_layers=LSTM_LAYERS, lstm_batches=LSTM_BATCHES,
                 first_timeout=180.0, first_skip_over=10.0):
        self.min_time = min_time
        self.repeats = repeats
        self.slow = slow  # seconds: a single gradient call slower than this is timed once
        self.first_gradient = first_gradient
        self.first_peers = first_peers  # None: all peers
        self.lstm_layers = tuple(lstm_layers)
        self.lstm_batches = tuple(lstm_batches)
        self.first_timeout = first_timeout
        self.first_skip_over = first_skip_over  # seconds: no fresh-process run past this

    def as_dict(self):
        return dict(vars(self))


def _short(e: BaseException, limit=400) -> str:
    msg = f"{type(e).__name__}: {e}".strip()
    msg = " ".join(msg.split())
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def load_peers(names, log=print):
    """name -> adapter, or name -> {"status": "not installed", ...}."""
    out, info = {}, {}
    for name in names:
        try:
            peer = P.get(name)
            out[name] = peer
            info[name] = {"label": P.LABELS[name], "status": "ok", "version": peer.version}
            log(f"  {P.LABELS[name]:14s} {peer.version}")
        except P.NotInstalled as e:
            out[name] = None
            info[name] = {"label": P.LABELS[name], "status": "not installed", "message": str(e)}
            log(f"  {P.LABELS[name]:14s} not installed ({e})")
    return out, info


def _timeit(fn, cfg):
    gc.collect()
    return H.median_time(fn, min_time=cfg.min_time, repeats=cfg.repeats)


def _measure_one(wl, peer, args, method, cfg, timed=True):
    """Prepare, check, time: the record of one peer on one workload (``timed=False``:
    prepare and check only, the record keeps the prepared callable)."""
    rec: dict = {}
    try:
        prepared = getattr(peer, method)(wl, args)
    except P.NotAvailable as e:
        return {"status": "not available", "message": str(e)}
    except P.NotExpressible as e:
        return {"status": "not expressible", "message": str(e)}
    except Exception as e:  # noqa: BLE001  (a failing peer is a result, not a crash)
        return {"status": "failed", "message": _short(e), "traceback": traceback.format_exc()}
    rec["note"] = prepared.note
    try:
        t0 = time.perf_counter()
        result = prepared.call()
        rec["first_call_in_process"] = time.perf_counter() - t0
        flat = prepared.flat(result)
    except Exception as e:  # noqa: BLE001
        rec.update(status="failed", message=_short(e), traceback=traceback.format_exc())
        return rec
    try:
        if wl.kind == "hessian":
            ok, err, detail = H.check_hessian(wl.fn, args, wl.argnums, flat)
        else:
            ok, err, detail = H.check_gradient(wl.fn, args, wl.argnums, flat)
    except Exception as e:  # noqa: BLE001
        rec.update(status="failed", message="finite-difference check failed: " + _short(e))
        return rec
    rec["check"] = {"ok": bool(ok), "rel_err": float(err), "detail": detail}
    if not ok:
        rec.update(status="wrong gradient",
                   message=f"relative error {err:.2e} against finite differences ({detail})")
        return rec
    rec["status"] = "ok"
    if not timed:
        rec["prepared"] = prepared
        return rec
    try:
        single = rec["first_call_in_process"]
        if single > cfg.slow and getattr(peer, "compiles", False):
            t0 = time.perf_counter()  # the first call compiled: is the second one slow?
            prepared.call()
            single = time.perf_counter() - t0
        if single > cfg.slow:
            rec["time"] = {"median": single, "repeats": 1, "calls": 1}
            rec["single_call"] = True
        else:
            # timed in turn with the primal: the ratio then compares two times taken over
            # the same minutes of this (noisy, shared) machine
            gc.collect()
            both = H.median_times_interleaved(
                {"gradient": prepared.call, "primal": lambda: wl.fn(*args)},
                min_time=cfg.min_time, repeats=cfg.repeats)
            rec["time"], rec["primal_beside"] = both["gradient"], both["primal"]
    except Exception as e:  # noqa: BLE001
        rec.update(status="failed", message="while timing: " + _short(e))
    return rec


def measure_workload(wl, peer_objs, cfg, log=print):
    method = "hessian" if wl.kind == "hessian" else "gradient"
    args = wl.make_inputs()
    out = {"what": wl.what, "wrt": wl.wrt, "kind": wl.kind, "peers": {}}
    out["primal"] = _timeit(lambda: wl.fn(*args), cfg)
    log(f"{wl.name:14s} primal {out['primal']['median'] * 1e6:12.2f} us")
    for name, peer in peer_objs.items():
        if peer is None:
            out["peers"][name] = {"status": "not installed"}
            continue
        t0 = time.perf_counter()
        rec = _measure_one(wl, peer, args, method, cfg)
        if rec.get("status") == "ok":
            primal = rec.get("primal_beside", out["primal"])  # (a single slow call: the first)
            rec["overhead"] = rec["time"]["median"] / primal["median"]
            log(f"{'':14s} {name:9s} {rec['time']['median'] * 1e6:12.2f} us  "
                f"x{rec['overhead']:9.2f}  (check err {rec['check']['rel_err']:.1e}; "
                f"{time.perf_counter() - t0:.1f} s)")
        else:
            log(f"{'':14s} {name:9s} {rec['status']}: {rec.get('message', '')[:200]}")
        out["peers"][name] = rec
    base = out["peers"].get("pygote", {})
    if base.get("status") == "ok":
        for name, rec in out["peers"].items():
            if rec.get("status") == "ok" and name != "pygote":
                rec["speedup_of_pygote"] = rec["time"]["median"] / base["time"]["median"]
    return out


def measure_lstm(peer_objs, cfg, log=print):
    wl = WORKLOADS["lstm_overhead"]
    ops = {L: lstm_ops(L) for L in cfg.lstm_layers}
    out = {"ops": {str(L): n for L, n in ops.items()}, "batches": list(cfg.lstm_batches),
           "zygote_ns_per_op": ZYGOTE_NS_PER_OP, "peers": {}}
    for name, peer in peer_objs.items():
        if peer is None:
            out["peers"][name] = {"status": "not installed"}
            continue
        rec = {"status": "ok", "times": {}, "fit": {}}
        t_start = time.perf_counter()
        for L in cfg.lstm_layers:
            calls = {}
            for B in cfg.lstm_batches:  # prepare and check every batch size first
                r = _measure_one(wl, peer, lstm_inputs(L, B), "backward", cfg, timed=False)
                if r.get("status") != "ok":
                    rec = {"status": r["status"], "message": f"L={L}, batch={B}: "
                           + r.get("message", ""), "note": r.get("note", "")}
                    break
                rec["note"] = r.get("note", "")
                calls[B] = r["prepared"].call
            if rec["status"] != "ok":
                break
            gc.collect()
            try:  # then time them in turn
                timed = H.median_times_interleaved(calls, cfg.min_time, cfg.repeats)
            except Exception as e:  # noqa: BLE001
                rec = {"status": "failed", "message": f"L={L}, while timing: " + _short(e)}
                break
            times = {B: t["median"] for B, t in timed.items()}
            a, b = H.fit_line(list(times), list(times.values()))
            rec["times"][str(L)] = {str(B): t for B, t in times.items()}
            rec["fit"][str(L)] = {"intercept": a, "slope_per_sample": b,
                                  "ns_per_op": a / ops[L] * 1e9}
            del calls
        if rec["status"] == "ok":
            per_op = [f["ns_per_op"] for f in rec["fit"].values()]
            rec["ns_per_op"] = float(np.mean(per_op))
            log(f"lstm           {name:9s} " + "  ".join(
                f"L={L}: {rec['fit'][str(L)]['ns_per_op']:9.1f} ns/op" for L in cfg.lstm_layers)
                + f"  ({time.perf_counter() - t_start:.1f} s)")
        else:
            log(f"lstm           {name:9s} {rec['status']}: {rec.get('message', '')[:200]}")
        out["peers"][name] = rec
    return out


def first_gradient(peer, workload, timeout=180.0):
    """The first gradient in a fresh process (firstgrad.py), minus the first primal call."""
    env = dict(os.environ, **THREAD_VARS)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, os.path.join(HERE, "firstgrad.py"), peer, workload]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "message": f"more than {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "failed", "message": tail[:300]}
    return json.loads(lines[-1])


def measure_first_gradients(results, cfg, log=print):
    for wname, w in results["workloads"].items():
        for pname, rec in w["peers"].items():
            if cfg.first_peers is not None and pname not in cfg.first_peers:
                continue
            if rec.get("status") != "ok":
                continue
            if rec.get("first_call_in_process", 0.0) > cfg.first_skip_over:
                rec["first"] = {"status": "skipped",
                                "message": f"a call takes {rec['first_call_in_process']:.0f} s"}
                continue
            rec["first"] = first_gradient(pname, wname, cfg.first_timeout)
            f = rec["first"]
            if f.get("status") == "ok":
                log(f"first gradient {wname:14s} {pname:9s} {f['first_gradient'] * 1e3:10.1f} ms")
            else:
                log(f"first gradient {wname:14s} {pname:9s} {f.get('status')}: {f.get('message')}")


def environment(peer_info, cfg, selection):
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import pygote

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pygote": pygote.__version__,
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": {k: os.environ.get(k) for k in THREAD_VARS},
        "config": cfg.as_dict(),
        "selection": selection,
        "peers": peer_info,
    }


def run_suite(workloads=None, peers=None, cfg=None, log=print, partial=False):
    """Run the chosen workloads (names; default all) for the chosen peers (names; default
    all); returns the results dict that ``report.py`` writes."""
    cfg = cfg or Config()
    workloads = list(workloads or WORKLOADS)
    peers = list(peers or P.PEERS)
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        raise KeyError(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    t0 = time.perf_counter()
    log("peers:")
    peer_objs, peer_info = load_peers(peers, log)
    results = {"meta": environment(peer_info, cfg, {"workloads": workloads, "peers": peers,
                                                      "partial": partial}),
               "workloads": {}, "lstm": None}
    for name in workloads:
        wl = WORKLOADS[name]
        if wl.kind == "backward":
            results["lstm"] = measure_lstm(peer_objs, cfg, log)
        else:
            results["workloads"][name] = measure_workload(wl, peer_objs, cfg, log)
    if cfg.first_gradient:
        measure_first_gradients(results, cfg, log)
    results["meta"]["seconds"] = time.perf_counter() - t0
    return results
