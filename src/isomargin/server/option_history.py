"""What the APIs show about isolated options that the engine does not keep, built from journaled events only: option
orders (open and ended), fills, margin moves, margin calls, liquidation steps, expiry settlements, the last implied
volatility each option was marked at (for greeks), and the native account-stream messages those events make
(`OPTION_ORDER_UPDATE`, `OPTION_TRADE`, `OPTION_POSITION_UPDATE`, `OPTION_MARGIN_CALL`, …).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from isomargin.engine.codes import OrderStatus
from isomargin.engine.events import Event
from isomargin.engine.options_events import (
    OptionDelisted,
    OptionLiquidated,
    OptionMarginCall,
    OptionMarked,
    OptionOrderUpdated,
    OptionPositionUpdated,
    OptionSettled,
    OptionTrade,
)
from isomargin.server.spot_history import plain, spot_row

OPTION_ORDER_KEEP: Final = 50_000  # option orders remembered (open and ended), oldest dropped first
ROWS_PER_ACCOUNT: Final = 1000  # rows each per-account history keeps
OPEN: Final = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
# the native account stream's event name for each option event that belongs to one account
STREAM_NAMES: Final[dict[type[Event], str]] = {
    OptionOrderUpdated: "OPTION_ORDER_UPDATE", OptionPositionUpdated: "OPTION_POSITION_UPDATE",
    OptionMarginCall: "OPTION_MARGIN_CALL", OptionLiquidated: "OPTION_LIQUIDATION",
    OptionSettled: "OPTION_SETTLEMENT",
}  # fmt: skip
Rows = dict[int, deque[dict[str, Any]]]


class OptionHistory:
    """Option read models per account, from events only (never from engine internals)."""

    def __init__(self) -> None:
        self.orders: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.fills: Rows = {}
        self.margin_moves: Rows = {}  # AdjustOptionMargin: + added, − removed
        self.alerts: Rows = {}
        self.liquidations: Rows = {}
        self.settlements: Rows = {}
        self.iv: dict[str, tuple[Decimal, int]] = {}  # option -> (last implied vol it was marked at, when)
        self.delisted: dict[str, dict[str, Any]] = {}  # option -> its settlement price and time
        self._pool: dict[tuple[int, str], Decimal] = {}  # (account, option) -> last pool, to size margin moves

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
        """An account's rows of one table (one option's if `symbol`), oldest first, the last `limit`."""
        out = [r for r in table.get(account, ()) if symbol is None or r.get("symbol") == symbol]
        return out[-limit:]

    def ingest(self, events: Iterable[Event]) -> None:
        """Take in one command's events."""
        for ev in events:
            if isinstance(ev, OptionOrderUpdated):
                self._order(ev)
            elif isinstance(ev, OptionTrade):
                self._fill(ev)
            elif isinstance(ev, OptionPositionUpdated):
                self._position(ev)
            elif isinstance(ev, OptionMarked):
                if ev.iv is not None:
                    self.iv[ev.symbol] = (ev.iv, ev.env.ts or 0)
            elif isinstance(ev, OptionMarginCall):
                self._push(self.alerts, ev.account, spot_row(ev))
            elif isinstance(ev, OptionLiquidated):
                self._push(self.liquidations, ev.account, spot_row(ev))
            elif isinstance(ev, OptionSettled):
                self._push(self.settlements, ev.account, spot_row(ev))
            elif isinstance(ev, OptionDelisted):
                self.delisted[ev.symbol] = {"symbol": ev.symbol, "price": plain(ev.price), "time": ev.env.ts or 0}
                self.iv.pop(ev.symbol, None)

    def _order(self, ev: OptionOrderUpdated) -> None:
        row = spot_row(ev)
        rec = self.orders.get(ev.order_id)
        if rec is None:
            rec = self.orders[ev.order_id] = {"created": row["time"]}
            while len(self.orders) > OPTION_ORDER_KEEP:
                self.orders.popitem(last=False)
        rec.update(row)
        rec["updated"] = rec.pop("time")
        rec["open"] = ev.status in OPEN

    def _fill(self, ev: OptionTrade) -> None:
        row = spot_row(ev)
        for acct, side, oid, fee in (
            (ev.buyer_account, "BUY", ev.buyer_order_id, ev.buyer_fee),
            (ev.seller_account, "SELL", ev.seller_order_id, ev.seller_fee),
        ):
            if acct > 0:
                self._push(self.fills, acct, {
                    "trade_id": ev.trade_id, "symbol": ev.symbol, "order_id": oid, "side": side, "price": row["price"],
                    "qty": row["qty"], "premium": row["premium"], "fee": plain(fee),
                    "maker": ev.taker_side.name != side, "time": row["time"],
                })  # fmt: skip

    def _position(self, ev: OptionPositionUpdated) -> None:
        key = (ev.account, ev.symbol)
        before = self._pool.get(key, Decimal(0))
        self._pool[key] = ev.margin
        if ev.env.kind == "AdjustOptionMargin" and ev.account > 0:
            self._push(self.margin_moves, ev.account, {"symbol": ev.symbol, "amount": plain(ev.margin - before),
                                                       "margin": plain(ev.margin), "time": ev.env.ts or 0})  # fmt: skip


def stream_messages(ev: Event, topics: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """The native account-stream messages one option event makes, for the `account:N` topics someone reads. A fill
    goes to both sides' streams; every other option event to its account's."""
    if isinstance(ev, OptionTrade):
        out = []
        for acct in dict.fromkeys((ev.buyer_account, ev.seller_account)):
            if acct > 0 and f"account:{acct}" in topics:
                out.append((f"account:{acct}", {"e": "OPTION_TRADE", "E": ev.env.ts, **spot_row(ev)}))
        return out
    name = STREAM_NAMES.get(type(ev))
    owner = getattr(ev, "account", None)
    if name is None or not isinstance(owner, int) or owner <= 0:
        return []
    topic = f"account:{owner}"
    return [(topic, {"e": name, "E": ev.env.ts, **spot_row(ev)})] if topic in topics else []  # type: ignore[arg-type]
