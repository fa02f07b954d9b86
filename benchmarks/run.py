"""The side-by-side benchmark suite: pygote, autograd, JAX (eager and jit), PyTorch.

    make bench                              # the whole suite (installs .[bench] in .venv)
    python benchmarks/run.py                # the same, with the current interpreter
    python benchmarks/run.py --quick        # small workloads, fewer/shorter repeats
    python benchmarks/run.py --only mlp --only heat_inplace --peers pygote,torch

A full run writes benchmarks/results/latest.{md,json} and latest_overhead.png; a partial
one (--quick, --only, --peers) writes partial.* instead, unless --stem says otherwise.
Workloads, peers and measurement rules: ../shared/BENCHMARKS.md. A peer that is not
installed is reported as such.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from benchmarks.threads import configure_threads  # noqa: E402

configure_threads()  # before numpy, torch or jax is imported

from benchmarks import peers as P  # noqa: E402
from benchmarks import report, suite  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small workloads only (unless --only), 3 repeats of >= 0.05 s, "
                         "a short LSTM study, first gradients for pygote only")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run this workload (repeatable, or comma-separated); "
                         f"names: {', '.join(WORKLOADS)}")
    ap.add_argument("--peers", default=None,
                    help=f"comma-separated peers (default all: {','.join(P.PEERS)})")
    ap.add_argument("--no-first", action="store_true",
                    help="skip the first-gradient measurements (fresh processes)")
    ap.add_argument("--no-chart", action="store_true", help="no PNG chart")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per timing (>= 7)")
    ap.add_argument("--min-time", type=float, default=None, help="seconds per repeat")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results"))
    ap.add_argument("--stem", default=None, help="file name stem (default latest/partial)")
    return ap.parse_args(argv)


def main(argv=None):
    a = parse(argv)
    only = [n for item in a.only for n in item.split(",") if n]
    for n in only:
        if n not in WORKLOADS:
            sys.exit(f"unknown workload {n!r}; known: {', '.join(WORKLOADS)}")
    peers = a.peers.split(",") if a.peers else list(P.PEERS)
    for p in peers:
        if p not in P.PEERS:
            sys.exit(f"unknown peer {p!r}; known: {', '.join(P.PEERS)}")
    if a.quick:
        cfg = suite.Config(min_time=0.05, repeats=3, first_peers={"pygote"},
                           lstm_layers=(1, 2), lstm_batches=(1, 8, 64))
        workloads = only or [n for n, w in WORKLOADS.items() if w.small]
    else:
        cfg = suite.Config()
        workloads = only or list(WORKLOADS)
    if a.repeats is not None:
        cfg.repeats = a.repeats
    if a.min_time is not None:
        cfg.min_time = a.min_time
    if a.no_first:
        cfg.first_gradient = False
    partial = bool(a.quick or only or a.peers)
    stem = a.stem or ("partial" if partial else "latest")
    results = suite.run_suite(workloads, peers, cfg, partial=partial)
    report.write_all(results, a.out, stem=stem, chart=not a.no_chart)
    print(f"done in {results['meta']['seconds']:.0f} s")


if __name__ == "__main__":
    main()
