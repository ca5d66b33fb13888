"""How a pydantic validation error reads in the SDK's own errors: one line, field by field.

Apart from the models so that a module can word an error without loading the model classes.
"""

from __future__ import annotations

from pydantic import ValidationError

from ._text import PREVIEW_CHARS, preview

__all__ = ["validation_message"]


def validation_message(error: ValidationError) -> str:
    """One readable line for a pydantic error: ``Status: 'Exception' is not a valid ...``."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) if len(str(p)) <= PREVIEW_CHARS else preview(p) for p in item["loc"])
        if item["type"] == "extra_forbidden":
            message = "unknown field (misspelt?), refused rather than dropped"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
