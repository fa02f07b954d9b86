"""``Structural``: the gradient of a user object, one entry per attribute.

``g.weight`` and ``g["weight"]`` both read the gradient of the ``weight`` attribute;
attributes that received no gradient read as ``None``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Structural"]


class Structural:
    """Gradient of an object with attributes (API.md): attribute and mapping access."""

    __slots__ = ("fields", "of")

    def __init__(self, fields: dict | None = None, of: type | None = None) -> None:
        object.__setattr__(self, "fields", dict(fields or {}))
        object.__setattr__(self, "of", of)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.fields.get(name)

    def __getitem__(self, name: str) -> Any:
        return self.fields.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a pygote.Structural gradient is read-only")

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def keys(self):
        return self.fields.keys()

    def items(self):
        return self.fields.items()

    def __iter__(self):
        return iter(self.fields)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __len__(self) -> int:
        return len(self.fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Structural) and other.fields == self.fields

    def merged(self, other: Structural | None) -> Structural:
        from pygote.runtime.values import add

        if other is None:
            return self
        fields = dict(self.fields)
        for k, v in other.fields.items():
            fields[k] = add(fields.get(k), v)
        return Structural(fields, self.of or other.of)

    def __repr__(self) -> str:
        name = self.of.__name__ if self.of is not None else "object"
        inner = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"Structural[{name}]({inner})"
