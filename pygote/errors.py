"""The errors pygote raises for what cannot be differentiated, written for the user."""

from __future__ import annotations


class DifferentiationError(TypeError):
    """Something in the user's program cannot be differentiated.

    The message names what failed (a function, a construct), where it was reached in the
    user's code (file and line), and what to do about it.
    """


def where(filename: str | None, lineno: int | None, function: str | None = None) -> str:
    """``"file.py", line 12, in f`` in the style of a Python traceback."""
    parts = []
    if filename:
        parts.append(f'"{filename}"')
    if lineno:
        parts.append(f"line {lineno}")
    if function:
        parts.append(f"in {function}")
    return ", ".join(parts) if parts else "an unknown location"


def unsupported(construct: str, filename: str | None, lineno: int | None, function: str | None,
                remedy: str) -> DifferentiationError:
    """The error for a language construct that pygote does not differentiate."""
    return DifferentiationError(
        f"pygote cannot differentiate {construct} ({where(filename, lineno, function)}). "
        f"{remedy}"
    )
