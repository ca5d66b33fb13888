"""Checks of the values the emulator takes from outside: admin JSON bodies and Python callers.

Each check returns the value it accepts, or raises :class:`InvalidFieldError` naming the field.
The admin endpoints and the Python methods call the same checks, so that a value the Python
API refuses is refused over HTTP too, with the same message.

Numbers must be real numbers, not ``bool`` (a ``True`` is no count of seconds) and never NaN or
an infinity: Python's ``json`` module reads ``NaN`` and ``Infinity``, and a stored NaN compares
false with everything, so that it slips past ``value < 0`` checks and poisons the state (a NaN
clock refuses every token; a NaN latency cannot be written back as JSON).
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["InvalidFieldError", "boolean", "integer", "number", "preview", "text", "unknown_fields"]


class _Repr(reprlib.Repr):
    def repr_Decimal(self, value: Decimal, level: int) -> str:  # noqa: N802 - reprlib's dispatch name
        """A number read from JSON as a ``Decimal`` is shown as the number it is: ``12.999``."""
        text = str(value)
        return text if len(text) <= self.maxother else f"{text[:27]}...{text[-30:]}"


_repr = _Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlevel = 3


def preview(value: object) -> str:
    """``value`` for an error message: short, and bounded however large or nested it is."""
    return _repr.repr(value)


class InvalidFieldError(ValueError):
    """A value the emulator refuses; ``field`` names it (``items[0].quantity``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def integer(value: object, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFieldError(field, f"must be an integer, not {preview(value)}")
    if not minimum <= value <= maximum:
        raise InvalidFieldError(field, f"must be from {minimum} to {maximum}, not {preview(value)}")
    return value


def number(value: object, field: str, *, minimum: float, maximum: float) -> float:
    """A finite ``int`` or ``float`` in ``[minimum, maximum]``, as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFieldError(field, f"must be a number, not {preview(value)}")
    # Compared before float(): float() of a 400-digit JSON integer raises OverflowError.
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidFieldError(field, f"must be a finite number, not {value}")
    if not minimum <= value <= maximum:
        raise InvalidFieldError(field, f"must be from {minimum} to {maximum}, not {preview(value)}")
    return float(value)


def boolean(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidFieldError(field, f"must be true or false, not {preview(value)}")
    return value


def text(value: object, field: str, *, min_length: int, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"must be a string, not {preview(value)}")
    if not min_length <= len(value) <= max_length:
        raise InvalidFieldError(field, f"must be {min_length} to {max_length} characters long, not {len(value)}")
    return value


def unknown_fields(given: Mapping[Any, object], known: tuple[str, ...], where: str = "") -> None:
    """Refuse a key of ``given`` that is not in ``known``."""
    for key in given:
        if key not in known:
            plain = (
                isinstance(key, str)
                and len(key) <= 60
                and key.isprintable()
                and key.encode("utf-8", "ignore") == key.encode("utf-8", "surrogatepass")
            )
            name = key if plain else preview(key)
            raise InvalidFieldError(
                f"{where}.{name}" if where else name, f"unknown field; the fields are {', '.join(known)}"
            )
