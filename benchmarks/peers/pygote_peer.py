"""pygote: the plain workload functions themselves, untouched."""

from __future__ import annotations

from benchmarks.harness import flatten
from benchmarks.peers import Prepared


def _argnums(argnums):
    return argnums[0] if len(argnums) == 1 else tuple(argnums)


class Pygote:
    name = "pygote"

    def load(self):
        import pygote

        self.pg = pygote
        return pygote.__version__

    def gradient(self, wl, args):
        g = self.pg.grad(wl.fn, argnums=_argnums(wl.argnums))
        return Prepared(lambda: g(*args), flatten)

    def hessian(self, wl, args):
        # forward mode over the gradient written out as NumPy code (reverse over forward
        # where that cannot be), every unit direction in one batched pass
        h = self.pg.hessian(wl.fn, argnums=wl.argnums[0])
        return Prepared(lambda: h(*args), flatten,
                        "pg.hessian (forward over reverse, directions batched)")

    def backward(self, wl, args):
        # pg.pullback runs the forward pass once; back(dy) may be called again and again.
        # It returns the cotangents of every positional argument (also of the data xs and
        # of the zero state h0); the check uses those of argnums.
        _, back = self.pg.pullback(wl.fn, *args)

        def flat(cts):
            return flatten([cts[i] for i in wl.argnums])

        return Prepared(lambda: back(1.0), flat,
                        "pg.pullback; back(1.0) also returns the cotangents of xs and h0")
