"""The first gradient in a FRESH process: ``python benchmarks/firstgrad.py PEER WORKLOAD``.

Prints one JSON line: the wall time of the first call of the plain primal, of the first
gradient call (the peer's preparation, i.e. input conversion and building its gradient
function, plus the call: transformation, tracing, compilation included), and their
difference ``first_gradient``. Imports (NumPy, the peer's library) happen before the
clock starts. Run by ``suite.first_gradient`` once per (peer, workload).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from benchmarks.threads import configure_threads  # noqa: E402

configure_threads()

import json  # noqa: E402
import time  # noqa: E402

from benchmarks import peers as P  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402


def main(peer_name, workload):
    wl = WORKLOADS[workload]
    peer = P.get(peer_name)  # imports the library
    args = wl.make_inputs()
    method = "hessian" if wl.kind == "hessian" else "gradient"
    t0 = time.perf_counter()
    wl.fn(*args)
    t1 = time.perf_counter()
    prepared = getattr(peer, method)(wl, args)
    prepared.call()
    t2 = time.perf_counter()
    print(json.dumps({"status": "ok", "primal_first": t1 - t0, "gradient_first": t2 - t1,
                      "first_gradient": (t2 - t1) - (t1 - t0)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
