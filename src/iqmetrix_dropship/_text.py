"""Small rules about text that errors, validation and the parser share.

- ``preview``: how a value is quoted in an error message. Input can be hostile or huge (a 100 KB
  order id, a megabyte of text in one feed element): a message quotes its start and says how long
  it was, never the whole of it.
- ``is_blank``: what counts as "no value" in a field a rule requires (a tracking number of
  ``"   "`` or ``"\\t\\xa0"`` is no tracking number).
- ``unsendable_at``: where a string holds a character that cannot be encoded as UTF-8 (a lone
  surrogate), so that it is refused with a clear error before a request is built.
"""

from __future__ import annotations

import unicodedata

__all__ = ["PREVIEW_CHARS", "is_blank", "preview", "unsendable_at"]

PREVIEW_CHARS = 60


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """``repr(value)``, cut to about ``limit`` characters with the full length said."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} {'characters' if isinstance(value, str) else 'bytes'})"
    text = repr(value)
    if len(text) > limit + 20:
        return f"{text[:limit]}... ({type(value).__name__}, {len(text)} characters as text)"
    return text


def is_blank(value: str | None) -> bool:
    """``None``, empty, or only white space and invisible format characters (zero-width space, BOM)."""
    if value is None:
        return True
    return all(char.isspace() or unicodedata.category(char) in ("Cf", "Cc", "Zs") for char in value)


def unsendable_at(value: str) -> int | None:
    """The index of the first character UTF-8 cannot encode (a lone surrogate), or ``None``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None
