"""Margin balance and the two margin-ratio conventions venues publish.

Binance-style margin ratio = maintenance margin / margin balance (liquidation at ≥ 100 %).
OKX-style maintenance margin ratio = margin balance / (maintenance margin + liquidation fee)
(warning below 300 %, liquidation at ≤ 100 %).
"""

from __future__ import annotations

from decimal import Decimal

from isomargin.margin.numbers import D, exact, non_negative

INFINITY = Decimal("Infinity")


@exact
def margin_balance(margin: object, pnl: object) -> Decimal:
    """Collateral backing a position (isolated margin or cross wallet) plus its unrealised PnL."""
    return D(margin, "margin") + D(pnl, "unrealised pnl")


@exact
def margin_ratio(maintenance: object, balance: object) -> Decimal:
    """Binance convention: MM / margin balance; infinite once the balance is gone."""
    mm = non_negative(maintenance, "maintenance margin")
    bal = D(balance, "margin balance")
    return mm / bal if bal > 0 else INFINITY


@exact
def maintenance_margin_ratio(balance: object, maintenance: object, liquidation_fee: object = 0) -> Decimal:
    """OKX convention: margin balance / (MM + liquidation fee); infinite when nothing is required."""
    need = non_negative(maintenance, "maintenance margin") + non_negative(liquidation_fee, "liquidation fee")
    bal = D(balance, "margin balance")
    if need == 0:
        return INFINITY if bal > 0 else Decimal(0)
    return bal / need


@exact
def effective_leverage(notional_value: object, balance: object) -> Decimal:
    """Notional over margin balance: what the position's leverage really is now."""
    bal = D(balance, "margin balance")
    return non_negative(notional_value, "notional") / bal if bal > 0 else INFINITY
