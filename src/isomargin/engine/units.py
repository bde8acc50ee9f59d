"""Integer units of the hot path and their exact conversions to and from Decimal at the edges.

Money is an int of quanta (10⁻¹⁰) of its asset: fine enough that every fill notional (ticks × lots) and fee is
exact, coarse enough that real balances stay within a machine word, where compiled code keeps ints unboxed.
Marks, index and other off-grid prices are ints of price points (10⁻⁸); book prices are ticks and sizes lots
(see `instruments`). Rates are exact (num, den) ratios.
Nothing here reads the decimal context: Decimals are built from strings or (sign, digits, exponent) tuples and
read through `as_integer_ratio`, so an ambient context (ccxt changes the process-wide one) cannot change a value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from isomargin.margin.numbers import MONEY

QUANTA: Final = 10**10  # money quanta per unit of an asset
PRICE_POINTS: Final = 10**8  # price points per unit of quote: marks and stops carry at most 8 decimals
MAX_PLACES: Final = 8  # decimals accepted for money, marks, rates (Binance's precision for all three)
MAX_MAGNITUDE: Final = 10**12  # |value| must stay below this in any unit: far above real balances and prices
MIN_ADJUSTED: Final = -19  # Decimal.adjusted() bounds checked before any conversion touches the digits
MAX_ADJUSTED: Final = 15
MAX_DENOMINATOR: Final = 2**80  # a value's exact denominator beyond 2⁸⁰ (≈ 10²⁴) cannot sit on any grid here

_DECIMAL: Final = Decimal
_ONE: Final = Decimal(1)


def ratio_of(value: object) -> tuple[int, int] | None:
    """(numerator, denominator) of a finite, moderately sized Decimal, or None for anything else.

    Total over its input: NaN, sNaN, infinities, 10⁴⁰⁰, 40-digit values, non-Decimals all give None or an
    exact ratio, never an exception; the exponent is bounded before the digits are expanded."""
    if type(value) is not _DECIMAL:
        return None
    adjusted = value.adjusted()  # 0 for NaN and infinities, which as_integer_ratio then refuses
    if adjusted < MIN_ADJUSTED or adjusted > MAX_ADJUSTED:
        return None
    try:
        num, den = value.as_integer_ratio()
    except (ValueError, OverflowError):  # NaN, sNaN, ±Infinity
        return None
    if den > MAX_DENOMINATOR:
        return None
    return num, den


def scaled(value: object, scale: int) -> int | None:
    """`value` × `scale` as an exact int (e.g. a mark in price points), or None if it is not exactly one."""
    r = ratio_of(value)
    if r is None:
        return None
    num, den = r
    n = num * scale
    if n % den:
        return None
    return n // den


def decimal_of(n: int, exponent: int) -> Decimal:
    """The exact Decimal n × 10^exponent in its shortest plain form (no trailing zeros past the point)."""
    if exponent >= 0:
        return _DECIMAL(n * 10**exponent)
    if n == 0:
        return _DECIMAL(0)
    digits = str(n)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    if exponent >= 0:
        return _DECIMAL(int(stripped) * 10**exponent)
    return _DECIMAL(f"{stripped}E{exponent}")  # the string constructor is exact whatever the context


def money(quanta: int) -> Decimal:
    """Quanta as an exact Decimal amount of the asset."""
    return decimal_of(quanta, -10)


def points(pp: int) -> Decimal:
    """Price points as an exact Decimal price."""
    return decimal_of(pp, -8)


class Rate:
    """An exact ratio (a fee — negative for a maker rebate —, funding or liquidation-fee rate) and what it takes."""

    __slots__ = ("decimal", "den", "num")

    def __init__(self, value: Decimal) -> None:
        r = ratio_of(value)
        if r is None:
            raise ValueError(f"rate {value!r} must be a finite decimal")
        self.num, self.den = r
        self.decimal = value

    def up(self, amount: int) -> int:
        """amount × rate rounded up: what a trader pays (a fee) never falls short by rounding."""
        x = amount * self.num
        if x >= 0:  # non-negative operands keep compiled floor division on its fast path
            return (x + self.den - 1) // self.den
        return -(-x // self.den)

    def down(self, amount: int) -> int:
        """amount × rate rounded down: what a trader receives never exceeds the exact value."""
        return amount * self.num // self.den

    def __bool__(self) -> bool:
        return self.num != 0

    def __repr__(self) -> str:
        return f"Rate({self.decimal})"


def quotient(a: Decimal, b: Decimal) -> Decimal:
    """a / b exact to 34 significant digits (the MONEY context), in plain notation when it is a whole number."""
    q = MONEY.divide(a, b)
    exponent = q.as_tuple().exponent
    return q.quantize(_ONE, context=MONEY) if isinstance(exponent, int) and exponent > 0 else q


def div_up(a: int, b: int) -> int:
    """⌈a / b⌉ for b > 0."""
    if a >= 0:
        return (a + b - 1) // b
    return -(-a // b)


def threshold(price: Decimal | None, on_fall: bool) -> int | None:
    """The integer watch price (points) equivalent to `price`: mark ≤ price ⇔ mark_pp ≤ ⌊price·10⁸⌋ on a fall,
    mark ≥ price ⇔ mark_pp ≥ ⌈price·10⁸⌉ on a rise."""
    if price is None:
        return None
    num, den = price.as_integer_ratio()
    n = num * PRICE_POINTS
    return n // den if on_fall else -(-n // den)
