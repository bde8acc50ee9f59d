"""Spot pairs, isolated spot-margin accounts and open spot orders as plain snapshot data, and back.

Balances themselves travel in the ledger section of the engine snapshot; this part carries what is not money:
pair settings, books, marks, loan clocks, net transfers, entry tallies, alert levels and the open orders.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isomargin.engine.book import OrderBook
from isomargin.engine.codes import AlertLevel, OrderStatus
from isomargin.engine.commands import OrderSide, OrderType, SideEffect, TimeInForce
from isomargin.engine.engine import Engine
from isomargin.engine.spot_state import SpotOrder, SpotPair
from isomargin.venues.spot_margin import spot_pair


def snapshot_spot(engine: Engine) -> dict[str, Any] | None:
    """The spot part of a snapshot; None while no spot pair is listed (older snapshots and hashes unchanged)."""
    spot = engine.spot
    if not spot.pairs:
        return None
    return {
        "pairs": [_pair(p) for p in spot.pairs.values()],
        "orders": [_order(o) for o in engine.spot_trading.orders.values()],
        "next_trade_id": engine.spot_trading.next_trade_id,
    }


def _pair(p: SpotPair) -> dict[str, Any]:
    return {
        "symbol": p.symbol, "venue": p.venue, "maker_fee": str(p.maker.decimal), "taker_fee": str(p.taker.decimal),
        "price_band": str(p.band_dec), "book": p.book.snapshot(), "mark": p.mark,
        "mark_dec": None if p.mark_dec is None else str(p.mark_dec), "last": p.last,
        "daily": {a: str(r) for a, r in p.daily.items()},
        "accounts": [
            {"account": sa.account, "paid_to": dict(sa.paid_to), "transferred": dict(sa.transferred),
             "alert": sa.alert.value, "fills": [sa.fills[OrderSide.BUY], sa.fills[OrderSide.SELL]]}
            for sa in p.accounts.values()
        ],
    }  # fmt: skip


def _order(o: SpotOrder) -> dict[str, Any]:
    return {
        "id": o.id, "account": o.account, "symbol": o.symbol, "side": o.side.name, "type": o.type.value,
        "tif": o.tif.value, "ticks": o.ticks, "lock_ticks": o.lock_ticks, "lots": o.lots, "filled": o.filled,
        "quote_filled": o.quote_filled, "locked": o.locked, "isolated": o.isolated,
        "side_effect": o.side_effect.value, "client_order_id": o.client_order_id, "status": o.status.value,
    }  # fmt: skip


def restore_spot(engine: Engine, data: dict[str, Any] | None) -> None:
    """Rebuild the spot part into `engine`, whose ledger already holds every balance."""
    if data is None:
        return
    spot, trading = engine.spot, engine.spot_trading
    for raw in data["pairs"]:
        spec = engine.spot_listings.get((raw["venue"], raw["symbol"])) or spot_pair(raw["venue"], raw["symbol"])
        pair = spot.pairs[spec.symbol] = SpotPair(
            spec, Decimal(raw["maker_fee"]), Decimal(raw["taker_fee"]), Decimal(raw["price_band"])
        )
        pair.book = OrderBook.restore(raw["book"])
        pair.mark, pair.last = raw["mark"], raw["last"]
        pair.mark_dec = None if raw["mark_dec"] is None else Decimal(raw["mark_dec"])
        pair.daily = {a: Decimal(r) for a, r in raw["daily"].items()}
        for ra in raw["accounts"]:
            acct = engine.accounts.by_id[ra["account"]]
            sa = spot.margin_account(acct, pair)
            sa.paid_to = dict(ra["paid_to"])
            sa.transferred = dict(ra["transferred"])
            sa.alert = AlertLevel(ra["alert"])
            sa.fills = {OrderSide.BUY: list(ra["fills"][0]), OrderSide.SELL: list(ra["fills"][1])}
    for r in data["orders"]:
        pair = spot.pairs[r["symbol"]]
        acct = engine.accounts.by_id[r["account"]]
        side = OrderSide[r["side"]]
        home = spot.margin_account(acct, pair) if r["isolated"] else None
        pay, get = (pair.quote, pair.base) if side is OrderSide.BUY else (pair.base, pair.quote)
        pay_free, pay_lock, get_free = trading.homes(acct, pair, home, pay, get)
        o = SpotOrder(
            r["id"], acct.id, pair.symbol, side, OrderType(r["type"]), TimeInForce(r["tif"]), r["ticks"],
            r["lock_ticks"], r["lots"], r["isolated"], SideEffect(r["side_effect"]), r["client_order_id"],
            pay_free, pay_lock, get_free, home,
        )  # fmt: skip
        o.filled, o.quote_filled, o.locked, o.status = (
            r["filled"],
            r["quote_filled"],
            r["locked"],
            OrderStatus(r["status"]),
        )
        trading.index(o)
    trading.next_trade_id = data["next_trade_id"]
