"""The journal of the mutations a forward pass made, to redo them after a backward pass.

A backward pass undoes every write of its forward pass as it goes (so each adjoint sees
the values its statement saw). When it ends, the caller's objects are therefore back in
the state they had before the call; replaying the journal, in order, brings them to the
state a plain call of the function leaves them in. That is what the user sees after
``pg.gradient``, and what lets ``back`` of ``pg.pullback`` run more than once.

Entries are ``(function, arguments)``: replaying calls them again from the pre-call
state, so every object goes through the same sequence of states as in the forward pass
and no values need copying.
"""

from __future__ import annotations

__all__ = ["current", "start", "stop", "replay"]

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


def replay(entries) -> None:
    """Redo the recorded mutations, in order."""
    for function, args in entries:
        function(*args)
