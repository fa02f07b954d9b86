"""The systems measured side by side: pygote and its peers.

Each adapter knows how to express a workload of ``benchmarks.workloads`` in its own
idiom and hands back a :class:`Prepared`: a zero-argument callable computing the
gradient (or Hessian, or only the backward pass of the LSTM), and a converter of its
result into one float64 NumPy vector (to check it against finite differences).

A peer's library is imported only when the peer is used (:func:`get`), so a missing peer
is reported as "not installed" and the rest runs on.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

# name -> (module inside this package, class name)
PEERS = {
    "pygote": ("pygote_peer", "Pygote"),
    "autograd": ("autograd_peer", "Autograd"),
    "jax": ("jax_peer", "JaxEager"),
    "jax_jit": ("jax_peer", "JaxJit"),
    "torch": ("torch_peer", "Torch"),
}

LABELS = {
    "pygote": "pygote",
    "autograd": "autograd",
    "jax": "JAX eager",
    "jax_jit": "JAX jit",
    "torch": "PyTorch eager",
}


class NotInstalled(Exception):
    """The peer's library cannot be imported."""


class NotAvailable(Exception):
    """The system has no such feature (yet): reported, not timed."""


class NotExpressible(Exception):
    """The peer cannot express the workload: reported, not timed."""


@dataclass
class Prepared:
    call: Callable[[], object]  # computes the gradient (Hessian / backward pass)
    flat: Callable[[object], object]  # its result -> float64 vector (NumPy)
    note: str = ""  # how the peer's version differs from the plain code, if it does


def get(name: str):
    """The adapter instance for ``name``; raises :class:`NotInstalled` when its library is
    missing."""
    if name not in PEERS:
        raise KeyError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    module, cls = PEERS[name]
    mod = importlib.import_module(f"{__name__}.{module}")
    peer = getattr(mod, cls)()
    try:
        peer.version = peer.load()
    except ImportError as e:
        raise NotInstalled(str(e)) from None
    return peer
