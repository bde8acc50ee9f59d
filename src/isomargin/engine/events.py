"""Events: every state change the engine makes, as frozen dataclasses with plain, exact fields.

Adapters (journal, WebSocket streams, reports) consume these; `to_dict` gives a JSON-ready form with
decimals as strings so the same events serialise to the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from enum import Enum
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Event:
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": type(self).__name__}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


@dataclass(frozen=True, slots=True)
class Rejected(Event):
    command: str
    code: str
    message: str
    account: int | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class InstrumentListed(Event):
    symbol: str
    venue: str
    settle: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    maker_fee: Decimal
    taker_fee: Decimal


@dataclass(frozen=True, slots=True)
class MarketStatusChanged(Event):
    symbol: str
    paused: bool


@dataclass(frozen=True, slots=True)
class AccountCreated(Event):
    account: int
    hedge_mode: bool


@dataclass(frozen=True, slots=True)
class Posted(Event):
    """One double-entry ledger movement: `amount` leaves `debit` and arrives at `credit`."""

    debit: str
    credit: str
    asset: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class SettingChanged(Event):
    account: int
    setting: str  # position_mode | margin_mode | leverage
    value: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class OrderUpdated(Event):
    """An order's state after a change (Binance ORDER_TRADE_UPDATE in spirit)."""

    order_id: int
    account: int
    symbol: str
    client_order_id: str | None
    side: str
    type: str
    status: str  # NEW | PARTIALLY_FILLED | FILLED | CANCELED | EXPIRED | TRIGGERED
    price: Decimal | None
    stop_price: Decimal | None
    qty: Decimal
    filled: Decimal
    avg_price: Decimal | None
    reduce_only: bool
    position_side: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Trade(Event):
    trade_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    taker_side: str
    maker_order_id: int
    taker_order_id: int
    maker_account: int
    taker_account: int
    maker_fee: Decimal
    taker_fee: Decimal
    maker_realized_pnl: Decimal
    taker_realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class PositionUpdated(Event):
    account: int
    symbol: str
    position_side: str
    size: Decimal  # signed: long > 0, short < 0
    entry_price: Decimal | None
    margin_mode: str
    leverage: int
    isolated_margin: Decimal
    liquidation_price: Decimal | None
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class MarkPriceUpdated(Event):
    symbol: str
    mark: Decimal
    index: Decimal


@dataclass(frozen=True, slots=True)
class FundingPaid(Event):
    account: int
    symbol: str
    position_side: str
    rate: Decimal
    mark: Decimal
    amount: Decimal  # signed: negative means the position paid


@dataclass(frozen=True, slots=True)
class MarginAdjusted(Event):
    account: int
    symbol: str
    position_side: str
    amount: Decimal
    isolated_margin: Decimal
    liquidation_price: Decimal | None


@dataclass(frozen=True, slots=True)
class BadDebt(Event):
    """A loss the position's own collateral could not cover, taken by the insurance fund."""

    account: int
    symbol: str
    asset: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Liquidated(Event):
    """One step of a liquidation, with what explains it afterwards.

    step: cancel_orders | hedge_offset | partial | close | takeover | adl | done. `qty`/`price` are what the
    step closed and at what (average) price; `fund_change` what the insurance fund gained (−: paid).
    """

    account: int
    symbol: str
    position_side: str
    margin_mode: str
    step: str
    mark: Decimal
    liquidation_price: Decimal | None
    bankruptcy_price: Decimal | None
    qty: Decimal | None = None
    price: Decimal | None = None
    fund_change: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AutoDeleveraged(Event):
    """A profitable opposite position closed at the bankrupt position's price because the fund could not."""

    account: int
    symbol: str
    position_side: str
    qty: Decimal
    price: Decimal
    realized_pnl: Decimal
    liquidated_account: int
    side: str  # the deleveraged position's direction: long | short
    liquidated_side: str  # the bankrupt position's direction (always the other one)


@dataclass(frozen=True, slots=True)
class MarginCall(Event):
    """An alert level crossed (warning / cancel_orders) or left (ok); `symbol` None for a cross account."""

    account: int
    symbol: str | None
    position_side: str | None
    level: str
    ratio: Decimal
