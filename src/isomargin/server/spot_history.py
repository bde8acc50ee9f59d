"""What the APIs show about spot pairs and isolated spot-margin accounts that the engine does not keep: spot orders
(open and ended), fills, transfers, loans and repayments, interest charges, margin calls and liquidations, bounded
and rebuilt from journaled events like the venue's `History`; and the native account-stream messages those events
make (`SPOT_ORDER_UPDATE`, `SPOT_TRADE`, `MARGIN_TRANSFER`, `BORROW`, `REPAY`, `INTEREST`, …).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any, Final

from isomargin.engine.codes import OrderStatus
from isomargin.engine.events import ColdEvent, Event
from isomargin.engine.spot_events import (
    Borrowed,
    BorrowRateSet,
    InterestCharged,
    MarginTransferred,
    Repaid,
    SpotLiquidated,
    SpotMarginCall,
    SpotOrderUpdated,
    SpotTrade,
)

SPOT_ORDER_KEEP: Final = 50_000  # spot orders remembered (open and ended), oldest dropped first
ROWS_PER_ACCOUNT: Final = 1000  # rows each per-account history keeps
OPEN: Final = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
# the native account stream's event name for each spot event
STREAM_NAMES: Final[dict[type[Event], str]] = {
    SpotOrderUpdated: "SPOT_ORDER_UPDATE", MarginTransferred: "MARGIN_TRANSFER", Borrowed: "BORROW",
    Repaid: "REPAY", InterestCharged: "INTEREST", SpotMarginCall: "SPOT_MARGIN_CALL",
    SpotLiquidated: "SPOT_LIQUIDATION",
}  # fmt: skip
Rows = dict[int, deque[dict[str, Any]]]


def plain(value: Any) -> Any:
    """An event field as the APIs spell it: a Decimal in plain notation without trailing zeros ("100000", not
    "100000.0" or "0E-8"), an order side as BUY / SELL, another enum as its value."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, Enum):
        return value.value
    return value


def spot_row(ev: ColdEvent) -> dict[str, Any]:
    """A spot event's own fields (no envelope), spelt for JSON, with its command's time."""
    row = {name: plain(getattr(ev, name)) for name, _ in ev.FIELDS}
    row["time"] = ev.env.ts or 0
    return row


def interest_row(ev: Borrowed | InterestCharged) -> dict[str, Any]:
    """One interest charge: the first hour at borrow time (`kind` "borrow") or hours charged at hour boundaries
    (`kind` "hourly", `through` the boundary charged up to)."""
    ts = ev.env.ts or 0
    if isinstance(ev, Borrowed):
        return {"symbol": ev.symbol, "asset": ev.asset, "kind": "borrow", "principal": plain(ev.amount),
                "daily_rate": None, "hours": 1, "amount": plain(ev.interest), "through": None, "time": ts}  # fmt: skip
    return {"symbol": ev.symbol, "asset": ev.asset, "kind": "hourly", "principal": plain(ev.principal),
            "daily_rate": plain(ev.daily_rate), "hours": ev.hours, "amount": plain(ev.amount),
            "through": ev.through, "time": ts}  # fmt: skip


class SpotHistory:
    """Spot and spot-margin read models per account, from events only (never from engine internals)."""

    def __init__(self) -> None:
        self.orders: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.fills: Rows = {}
        self.transfers: Rows = {}
        self.loans: Rows = {}  # borrows and repayments
        self.interest: Rows = {}
        self.alerts: Rows = {}
        self.liquidations: Rows = {}
        self.rates: deque[dict[str, Any]] = deque(maxlen=ROWS_PER_ACCOUNT)  # operator rate changes

    @staticmethod
    def _push(table: Rows, account: int, row: dict[str, Any]) -> None:
        rows = table.get(account)
        if rows is None:
            rows = table[account] = deque(maxlen=ROWS_PER_ACCOUNT)
        rows.append(row)

    @staticmethod
    def rows(
        table: Rows, account: int, symbol: str | None = None, limit: int = ROWS_PER_ACCOUNT
    ) -> list[dict[str, Any]]:
        """An account's rows of one table (one pair's if `symbol`), oldest first, the last `limit`."""
        out = [r for r in table.get(account, ()) if symbol is None or r.get("symbol") == symbol]
        return out[-limit:]

    def ingest(self, events: Iterable[Event]) -> None:
        """Take in one command's events."""
        for ev in events:
            if isinstance(ev, SpotOrderUpdated):
                self._order(ev)
            elif isinstance(ev, SpotTrade):
                self._fill(ev)
            elif isinstance(ev, MarginTransferred):
                self._push(self.transfers, ev.account, spot_row(ev))
            elif isinstance(ev, Borrowed):
                self._push(self.loans, ev.account, {**spot_row(ev), "kind": "borrow"})
                self._push(self.interest, ev.account, interest_row(ev))
            elif isinstance(ev, Repaid):
                self._push(self.loans, ev.account, {**spot_row(ev), "kind": "repay"})
            elif isinstance(ev, InterestCharged):
                self._push(self.interest, ev.account, interest_row(ev))
            elif isinstance(ev, SpotMarginCall):
                self._push(self.alerts, ev.account, spot_row(ev))
            elif isinstance(ev, SpotLiquidated):
                self._push(self.liquidations, ev.account, spot_row(ev))
            elif isinstance(ev, BorrowRateSet):
                self.rates.append(spot_row(ev))

    def _order(self, ev: SpotOrderUpdated) -> None:
        row = spot_row(ev)
        rec = self.orders.get(ev.order_id)
        if rec is None:
            rec = self.orders[ev.order_id] = {"created": row["time"]}
            while len(self.orders) > SPOT_ORDER_KEEP:
                self.orders.popitem(last=False)
        rec.update(row)
        rec["updated"] = rec.pop("time")
        rec["open"] = ev.status in OPEN
        rec["average_price"] = plain(ev.quote_filled / ev.filled) if ev.filled else None

    def _fill(self, ev: SpotTrade) -> None:
        row = spot_row(ev)
        for acct, side, oid, fee, fee_in in (
            (ev.buyer_account, "BUY", ev.buyer_order_id, ev.buyer_fee, "base"),
            (ev.seller_account, "SELL", ev.seller_order_id, ev.seller_fee, "quote"),
        ):
            if acct > 0:
                self._push(self.fills, acct, {
                    "trade_id": ev.trade_id, "symbol": ev.symbol, "order_id": oid, "side": side, "price": row["price"],
                    "qty": row["qty"], "quote_qty": row["quote_qty"], "fee": plain(fee), "fee_in": fee_in,
                    "maker": ev.taker_side.name != side, "time": row["time"],
                })  # fmt: skip


def stream_messages(ev: Event, topics: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """The native account-stream messages one spot event makes, for the `account:N` topics someone reads. A fill
    goes to both sides' streams; every other spot event to its account's."""
    if isinstance(ev, SpotTrade):
        out = []
        for acct in dict.fromkeys((ev.buyer_account, ev.seller_account)):
            if acct > 0 and f"account:{acct}" in topics:
                out.append((f"account:{acct}", {"e": "SPOT_TRADE", "E": ev.env.ts, **spot_row(ev)}))
        return out
    name = STREAM_NAMES.get(type(ev))
    owner = getattr(ev, "account", None)
    if name is None or not isinstance(ev, ColdEvent) or not isinstance(owner, int):
        return []
    topic = f"account:{owner}"
    return [(topic, {"e": name, "E": ev.env.ts, **spot_row(ev)})] if topic in topics else []


def touched(ev: Event) -> list[tuple[int, str]]:
    """The (account, pair) isolated margin accounts an event may have changed (their view is re-sent)."""
    if isinstance(ev, SpotTrade):
        return [(a, ev.symbol) for a in (ev.buyer_account, ev.seller_account) if a > 0]
    if isinstance(ev, MarginTransferred | Borrowed | Repaid | InterestCharged | SpotMarginCall | SpotLiquidated):
        return [(ev.account, ev.symbol)]
    if isinstance(ev, SpotOrderUpdated) and ev.isolated:
        return [(ev.account, ev.symbol)]
    return []
