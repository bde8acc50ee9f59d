"""Position arithmetic for linear (USDT-margined) and inverse (coin-margined) contracts.

Linear: size is in base units, notional and PnL in the quote (settle) asset.
Inverse: size is the face value in quote units (contracts × contract size), notional and PnL in the coin.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum

from isomargin.margin.errors import MarginError
from isomargin.margin.numbers import exact, non_negative, positive


class Side(IntEnum):
    """Direction of a position; the value is the sign of its exposure."""

    LONG = 1
    SHORT = -1

    @classmethod
    def parse(cls, text: str) -> Side:
        key = text.strip().lower()
        if key in ("long", "buy", "l"):
            return cls.LONG
        if key in ("short", "sell", "s"):
            return cls.SHORT
        raise MarginError("bad_side", f"side must be long or short, got {text!r}")


class ContractKind(StrEnum):
    """Linear contracts settle in the quote asset; inverse contracts settle in the base coin."""

    LINEAR = "linear"
    INVERSE = "inverse"


@exact
def notional(size: Decimal, price: Decimal, kind: ContractKind = ContractKind.LINEAR) -> Decimal:
    """Position value at `price` in the settle asset (quote for linear, coin for inverse)."""
    size = non_negative(size, "size")
    price = positive(price, "price")
    return size * price if kind is ContractKind.LINEAR else size / price


@exact
def initial_margin(notional_value: Decimal, leverage: Decimal) -> Decimal:
    """Margin needed to open `notional_value` at `leverage` (notional / leverage)."""
    return non_negative(notional_value, "notional") / positive(leverage, "leverage")


@exact
def unrealized_pnl(
    side: Side, size: Decimal, entry: Decimal, mark: Decimal, kind: ContractKind = ContractKind.LINEAR
) -> Decimal:
    """PnL of a position marked at `mark`, in the settle asset."""
    size = non_negative(size, "size")
    entry = positive(entry, "entry price")
    mark = positive(mark, "mark price")
    if kind is ContractKind.LINEAR:
        return side * size * (mark - entry)
    return side * size * (1 / entry - 1 / mark)


@exact
def roe(pnl: Decimal, initial: Decimal) -> Decimal:
    """Return on equity as a fraction: PnL / initial margin (0.25 means +25 %)."""
    initial = positive(initial, "initial margin")
    return pnl / initial


@exact
def break_even_price(
    side: Side,
    entry: Decimal,
    open_fee_rate: Decimal,
    close_fee_rate: Decimal,
    kind: ContractKind = ContractKind.LINEAR,
) -> Decimal:
    """Exit price at which PnL exactly pays the opening and the closing fee.

    Linear long: P·(1 − fc) = E·(1 + fo). Inverse long (fees in coin on face/price): (1 − fo)/E = (1 + fc)/P.
    Shorts mirror both.
    """
    entry = positive(entry, "entry price")
    fo = non_negative(open_fee_rate, "open fee rate")
    fc = non_negative(close_fee_rate, "close fee rate")
    if fo >= 1 or fc >= 1:
        raise MarginError("bad_fee", "fee rates must be below 1 (100 %)")
    if kind is ContractKind.LINEAR:
        if side is Side.LONG:
            return entry * (1 + fo) / (1 - fc)
        return entry * (1 - fo) / (1 + fc)
    if side is Side.LONG:
        return entry * (1 + fc) / (1 - fo)
    return entry * (1 - fc) / (1 + fo)
