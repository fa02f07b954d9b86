"""The journal of the mutations a forward pass made, to redo them after a backward pass.

A backward pass undoes every write of its forward pass as it goes (so each adjoint sees
the values its statement saw). When it ends, the caller's objects are therefore back in
the state they had before the call; replaying the journal, in order, brings them to the
state a plain call of the function leaves them in. That is what the user sees after
``pg.gradient``, and what lets ``back`` of ``pg.pullback`` run more than once.

Entries are ``(function, arguments)``: replaying calls them again from the pre-call
state, so every object goes through the same sequence of states as in the forward pass.
Writes into arrays are the exception: the forward pass notes only which array it wrote
(``wrote``), and when the forward pass ends (``seal``) each written array's entries become
one copy of its final contents, put back at the place of its last write. Keeping every
written value instead would keep, for a loop updating an array in place, one array per
step: more than the backward pass itself needs. (Entries of other objects that read an
array's contents at an intermediate state would see its final contents; the entries of
lists, dicts and attributes hold references, not contents.)
"""

from __future__ import annotations

__all__ = ["current", "start", "stop", "wrote", "seal", "replay"]

current: list | None = None  # the journal being written, if a forward pass is recording
_outer: list = []


def start() -> list:
    """Begin recording (nested recordings each get their own journal)."""
    global current
    _outer.append(current)
    current = []
    return current


def stop() -> list:
    """End the innermost recording and return its entries."""
    global current
    entries = current
    current = _outer.pop()
    return entries


def _written(array):
    """The marker of a write into ``array`` (``seal`` replaces it)."""


def _put_back(array, contents):
    array[...] = contents


def wrote(array) -> None:
    """Note a write into ndarray ``array`` (if a forward pass is recording)."""
    if current is not None:
        current.append((_written, (array,)))


def seal(entries) -> None:
    """At the end of a forward pass: each written array's notes become one restoration of
    its final contents, at the place of its last write."""
    last: dict = {}
    for i, (function, args) in enumerate(entries):
        if function is _written:
            last[id(args[0])] = i
    if not last:
        return
    kept = []
    for i, entry in enumerate(entries):
        if entry[0] is not _written:
            kept.append(entry)
        elif last[id(entry[1][0])] == i:
            array = entry[1][0]
            kept.append((_put_back, (array, array.copy())))
    entries[:] = kept


def replay(entries) -> None:
    """Redo the recorded mutations, in order."""
    for function, args in entries:
        function(*args)
