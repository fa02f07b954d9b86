"""A peephole pass over generated backward code: fewer assignments in scalar adjoint code.

The generator writes each statement's adjoint on its own, so a scalar loop body reads

    _g4 = _dy                      (the output's adjoint, taken)
    _dy = 0.0                      (... and reset)
    y = _pop()
    _d_t1 = _g4                    (a temporary's adjoint: a copy)
    _dy += _d_t1 * x
    _dx += _d_t1 * y

Three rewrites, applied inside straight-line runs of one-line statements at one
indentation (no block header in between), until nothing changes:

- a reset ``D = 0.0`` whose next mention of ``D`` is ``D += E`` (``E`` not reading ``D``)
  becomes ``D = E`` there, and the reset goes;
- a copy ``A = B`` of generated names, where ``A`` is mentioned nowhere else in the
  function but later in the run, and ``B`` is not rebound before ``A``'s last use there:
  ``A`` is replaced by ``B`` and the copy goes;
- ... and when ``B`` is rebound before that last use by ``B = E`` that nothing in between
  depends on, the rebinding moves after the last use first (``_sink_rebinding``).

Then, once:
- resets in the function's own body that nothing after them reads go (``_dead_resets``);
- the item cotangents of a vector unpacked item by item (``a, b, c = p``) are added by one
  ``_add_items(p, (2, 1, 0), (_g3, _g2, _g1))`` (``_group_item_adds``): one look-up of the
  vector's shadow instead of one per item;
- a backward loop whose body pops one value per pass walks the reversed stack instead
  (``_popping_loops``).

The loop body above becomes ``y = _pop(); _dx += _dy * y; _dy = _dy * x``, and the pop
moves into the loop's header: ``for y in _islice(_rev, _n1):``.
"""

from __future__ import annotations

import re

__all__ = ["peephole"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESET = re.compile(r"(_d[A-Za-z0-9_]*) = 0\.0$")
_AUG = re.compile(r"(_d[A-Za-z0-9_]*) \+= (.+)$")
_COPY = re.compile(r"(_g\d+|_d_t\d+_*) = (_[A-Za-z0-9_]+)$")
_ADD_ITEM = re.compile(r"_add_items\((\w+), \((-?\d+),\), \((\w+),\)\)$")
_TARGETS = re.compile(r"^([A-Za-z_][A-Za-z0-9_, ]*?)\s*(?:[-+*/]?=)(?!=)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _runs(text):
    """Index ranges of straight-line runs: one-line statements at one indentation."""
    start = None
    for k, line in enumerate(text):
        simple = not line.rstrip().endswith(":") and line.strip()
        if start is not None and (not simple or _indent(line) != _indent(text[start])):
            yield start, k
            start = None
        if simple and start is None:
            start = k
    if start is not None:
        yield start, len(text)


def _assigned(line: str) -> set:
    """The names a one-line statement binds (``a = ...``, ``a += ...``, ``a, b = ...``)."""
    m = _TARGETS.match(line.strip())
    return {n.strip() for n in m.group(1).split(",")} if m else set()


def peephole(text: list, origin: list) -> tuple[list, list]:
    text, origin = list(text), list(origin)
    changed = True
    while changed:
        changed = False
        counts: dict = {}
        for line in text:
            for n in _IDENT.findall(line):
                counts[n] = counts.get(n, 0) + 1
        for start, end in list(_runs(text)):
            for i in range(start, end):
                line = text[i]
                if line is None:
                    continue
                body = line.strip()
                m = _RESET.match(body)
                if m:
                    d = m.group(1)
                    for j in range(i + 1, end):
                        if text[j] is None or d not in _IDENT.findall(text[j]):
                            continue
                        aug = _AUG.match(text[j].strip())
                        if aug and aug.group(1) == d and d not in _IDENT.findall(aug.group(2)):
                            text[j] = " " * _indent(text[j]) + f"{d} = {aug.group(2)}"
                            text[i] = None
                            changed = True
                        break
                    continue
                m = _COPY.match(body)
                if m:
                    a, b = m.group(1), m.group(2)
                    uses = [j for j in range(i + 1, end)
                            if text[j] is not None and a in _IDENT.findall(text[j])]
                    inside = sum(_IDENT.findall(text[j]).count(a) for j in uses)
                    if not uses or counts.get(a, 0) != inside + 1:
                        continue  # mentioned elsewhere (or unused: left alone)
                    if any(a in _assigned(text[j]) for j in uses):
                        continue
                    last = uses[-1]
                    if _sink_rebinding(text, origin, i, last, b):
                        changed = True
                        continue
                    if any(text[j] is not None and b in _assigned(text[j])
                           for j in range(i + 1, last)):
                        continue  # b is rebound before a's last use (at it is fine: the
                        # right-hand side is read before the store)
                    for j in uses:
                        text[j] = re.sub(rf"\b{re.escape(a)}\b", b, text[j])
                    text[i] = None
                    changed = True
        if changed:
            text, origin = _compact(text, origin)
    return _popping_loops(*_group_item_adds(*_dead_resets(text, origin)))


def _compact(text, origin):
    """The lines not deleted (``None``), with their origins."""
    kept = [(t, o) for t, o in zip(text, origin) if t is not None]
    return [t for t, _ in kept], [o for _, o in kept]


def _dead_resets(text, origin):
    """A reset ``D = 0.0`` in the function's own body (not in a block: run once) that
    nothing after it mentions."""
    later: set = set()
    keep = [True] * len(text)
    for k in range(len(text) - 1, -1, -1):
        m = _RESET.match(text[k].strip())
        if m and _indent(text[k]) == 4 and m.group(1) not in later:
            keep[k] = False
            continue
        later.update(_IDENT.findall(text[k]))
    return _compact([t if c else None for t, c in zip(text, keep)], origin)


def _sink_rebinding(text, origin, i, last, b) -> bool:
    """After a copy ``A = B`` at ``i``: when ``B`` is next mentioned by a rebinding
    ``B = E`` before ``A``'s last use at ``last``, and nothing up to ``last`` reads ``B`` or
    rebinds what ``E`` reads, move the rebinding after ``last`` (the copy then goes)."""
    mentions = [j for j in range(i + 1, last + 1)
                if text[j] is not None and b in _IDENT.findall(text[j])]
    if not mentions or mentions[0] == last:
        return False
    j = mentions[0]
    line = text[j].strip()
    if _assigned(line) != {b} or not line.startswith(f"{b} = "):
        return False
    reads = set(_IDENT.findall(line.split(" = ", 1)[1]))
    if b in reads or len(mentions) > 1:
        return False
    if any(text[k] is not None and _assigned(text[k]) & reads for k in range(j + 1, last + 1)):
        return False
    text[j:last + 1] = text[j + 1:last + 1] + [text[j]]
    origin[j:last + 1] = origin[j + 1:last + 1] + [origin[j]]
    return True


_COUNTED = re.compile(r"(\s*)for (_i\d+_*) in range\((\w+) - 1, -1, -1\):$")
_POP = re.compile(r"(\w+) = _pop\(\)$")


def _popping_loops(text, origin):
    """A backward loop whose straight-line body pops one value per pass, before anything
    reads that variable: ``for _i in range(_n - 1, -1, -1): ...; y = _pop(); ...`` ->
    ``for y in _islice(_rev, _n): ...`` (``_rev`` is the reversed stack ``_pop`` reads)."""
    text, origin = list(text), list(origin)
    for k, line in enumerate(text):
        m = _COUNTED.match(line) if line is not None else None
        if not m:
            continue
        indent, i, n = m.groups()
        body = []
        for j in range(k + 1, len(text)):
            if text[j] is None:  # (a pop already moved to its loop's header)
                continue
            if _indent(text[j]) <= len(indent):
                break
            body.append(j)
        if not body or any(_indent(text[j]) != _indent(text[body[0]])
                           or text[j].rstrip().endswith(":") for j in body):
            continue
        pops = [j for j in body if "_pop()" in text[j]]
        if len(pops) != 1 or any(i in _IDENT.findall(text[j]) for j in body):
            continue
        p = _POP.match(text[pops[0]].strip())
        if not p or any(p.group(1) in _IDENT.findall(text[j]) for j in body if j < pops[0]):
            continue
        text[k] = f"{indent}for {p.group(1)} in _islice(_rev, {n}):"
        text[pops[0]] = None if len(body) > 1 else " " * _indent(text[pops[0]]) + "pass"
    return _compact(text, origin)


def _group_item_adds(text, origin):
    text = list(text)
    for start, end in list(_runs(text)):
        i = start
        while i < end:
            m = _ADD_ITEM.match(text[i].strip())
            if not m:
                i += 1
                continue
            vector = m.group(1)
            group = [(i, m.group(2), m.group(3))]
            since = [set()]  # names bound after each member of the group
            for j in range(i + 1, end):
                names = _assigned(text[j])
                if vector in names:
                    break
                for bound in since:
                    bound |= names
                n = _ADD_ITEM.match(text[j].strip())
                if n and n.group(1) == vector:
                    if any(g in bound for (_, _, g), bound in zip(group, since)):
                        break
                    group.append((j, n.group(2), n.group(3)))
                    since.append(set())
            if len(group) > 1:
                last = group[-1][0]
                indices = ", ".join(k for _, k, _ in group)
                cotangents = ", ".join(g for _, _, g in group)
                text[last] = " " * _indent(text[last]) + \
                    f"_add_items({vector}, ({indices},), ({cotangents},))"
                for j, _, _ in group[:-1]:
                    text[j] = None
                i = last + 1
            else:
                i += 1
    return _compact(text, origin)
