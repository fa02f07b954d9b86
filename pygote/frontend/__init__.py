"""The frontend: a function object -> its source's AST -> core Python (docs/core-python.md)."""

from pygote.frontend.passes import normalize
from pygote.frontend.source import get_source

__all__ = ["normalize", "get_source"]
