"""Exact decimal numbers for money: parsing, the arithmetic context, and venue-style rounding.

All margin math runs under `MONEY` (34 significant digits, traps on invalid operations) whatever
the caller's own decimal context is, so results never depend on ambient state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

from isomargin.margin.errors import MarginError

MONEY = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
ZERO = Decimal(0)
ONE = Decimal(1)

P = ParamSpec("P")
R = TypeVar("R")


def exact(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` under the MONEY context so the caller's decimal settings cannot change results."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(MONEY):
            return fn(*args, **kwargs)

    return wrapper


def D(value: object, name: str = "value") -> Decimal:
    """Parse a decimal from str/int/Decimal; floats are refused because they are not exact."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (bool, float)):
        raise MarginError("not_exact", f"{name} must be a decimal string or integer, not {type(value).__name__}")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise MarginError("bad_number", f"{name} is not a number: {value!r}") from None
    else:
        raise MarginError("bad_number", f"{name} is not a number: {value!r}")
    if not result.is_finite():
        raise MarginError("bad_number", f"{name} must be finite, got {value!r}")
    return result


def positive(value: object, name: str) -> Decimal:
    """A decimal that must be > 0 (prices, sizes, leverage)."""
    d = D(value, name)
    if d <= 0:
        raise MarginError("not_positive", f"{name} must be greater than zero, got {d}")
    return d


def non_negative(value: object, name: str) -> Decimal:
    """A decimal that must be >= 0 (margins, fees, rates)."""
    d = D(value, name)
    if d < 0:
        raise MarginError("negative", f"{name} must not be negative, got {d}")
    return d


def round_up(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of `step` >= value."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_down(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of `step` <= value."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def plain(value: Decimal) -> str:
    """Decimal as a plain string without exponent or trailing zeros ("58793.97", "0", "125")."""
    if value == 0:
        return "0"
    return format(value.normalize(MONEY), "f")  # MONEY, not the ambient context: never lose digits
