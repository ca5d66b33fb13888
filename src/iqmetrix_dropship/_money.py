"""Money, as the supplier APIs take it: a ``Decimal`` of at most two decimals, never negative.

One rule for what we send (a wholesale cost) and what the shipping-options kit answers (a shipping
charge). A ``float`` is taken by its shortest spelling (``7.94`` is ``Decimal("7.94")``, not
``7.94000000000000039...``), so that a sum such as ``0.1 + 0.2`` is refused for its third decimal
rather than rounded behind the caller's back. ``-0`` is ``0``: never ``-0.0`` on the wire.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["CENT", "amount"]

CENT = Decimal("0.01")


def amount(value: Any, *, maximum: Decimal, text: bool = False) -> Decimal:
    """``value`` as money, or a ``ValueError`` saying what is wrong (without quoting it: the caller
    names the field and decides whether the value may be shown). ``text``: a string such as
    ``"12.99"`` is read too (a CSV cell); otherwise only numbers are."""
    kinds = (Decimal, int, float, str) if text else (Decimal, int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ValueError("must be a Decimal" + (", a number or its text" if text else " (or an int or float)"))
    try:
        if isinstance(value, float):
            cost = Decimal(repr(value))
        else:
            cost = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError("must be an amount of money") from None
    if not cost.is_finite():
        raise ValueError("must be a finite number")
    if cost < 0:
        raise ValueError("must be 0 or more")
    if cost >= maximum:
        raise ValueError(f"is too large (at most {maximum - CENT})")
    try:
        exact = cost == cost.quantize(CENT)
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValueError("must have at most 2 decimals")
    return cost.copy_abs() if cost.is_zero() else cost
