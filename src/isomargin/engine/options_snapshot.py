"""Option markets, positions, open option orders and the families' index prices as plain snapshot data, and back
(balances — holds, pools, the fund — travel in the ledger section)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isomargin.engine.book import OrderBook
from isomargin.engine.codes import AlertLevel, OrderStatus
from isomargin.engine.commands import OrderSide, TimeInForce
from isomargin.engine.engine import Engine
from isomargin.engine.options_state import OptionInstrument, OptionMarket, OptionOrder, OptionPosition
from isomargin.engine.state import INSURANCE
from isomargin.venues.options import option_family, parse_symbol


def snapshot_options(engine: Engine) -> dict[str, Any] | None:
    """The options part of a snapshot; None while no option is listed (older snapshots and hashes unchanged)."""
    o = engine.options
    if not o.markets and not o.index:
        return None
    return {
        "markets": [_market(m) for m in o.markets.values()],
        "index": {f: [pp, str(d)] for f, (pp, d) in o.index.items()},
        "orders": [_order(x) for x in engine.option_trading.orders.values()],
        "next_trade_id": engine.option_trading.next_trade_id,
    }


def _position(p: OptionPosition) -> list[Any]:
    return [p.account, p.lots, p.cost, None if p.pool is None else p.pool.key, p.alert.value]


def _market(m: OptionMarket) -> dict[str, Any]:
    i = m.inst
    return {
        "symbol": i.symbol, "venue": i.family.venue, "maker_fee": str(i.maker.decimal),
        "taker_fee": str(i.taker.decimal), "book": m.book.snapshot(), "mark": m.mark,
        "mark_dec": None if m.mark_dec is None else str(m.mark_dec),
        "positions": [_position(p) for p in m.positions.values()],
        "held": None if m.held is None else _position(m.held),
    }  # fmt: skip


def _order(o: OptionOrder) -> list[Any]:
    return [o.id, o.account, o.symbol, o.side.name, o.ticks, o.lots, o.tif.value, o.reduce_only, o.client_order_id,
            o.per_lot, o.filled, o.hold, o.status.value]  # fmt: skip


def restore_options(engine: Engine, data: dict[str, Any] | None) -> None:
    if data is None:
        return
    o = engine.options
    balances = engine.ledger.balances
    for raw in data["markets"]:
        family, expiry, strike, kind = parse_symbol(raw["symbol"])
        inst = OptionInstrument(raw["symbol"], option_family(raw["venue"], family), kind, strike, expiry,
                                Decimal(raw["maker_fee"]), Decimal(raw["taker_fee"]))  # fmt: skip
        m = o.markets[inst.symbol] = OptionMarket(inst)
        m.book = OrderBook.restore(raw["book"])
        m.mark = raw["mark"]
        m.mark_dec = None if raw["mark_dec"] is None else Decimal(raw["mark_dec"])
        for row in raw["positions"]:
            p = _restore_position(m, row, balances)
            m.positions[p.account] = p
        if raw["held"] is not None:
            m.held = _restore_position(m, raw["held"], balances)
    o.index = {f: (pp, Decimal(d)) for f, (pp, d) in data["index"].items()}
    t = engine.option_trading
    for oid, acct, sym, side, ticks, lots, tif, ro, cid, per_lot, filled, hold, status in data["orders"]:
        order = OptionOrder(oid, acct, sym, OrderSide[side], ticks, lots, TimeInForce(tif), ro, cid, per_lot)
        order.filled, order.hold, order.status = filled, hold, OrderStatus(status)
        t.orders[oid] = order
        if cid is not None:
            t.client_ids[(acct, cid)] = oid
    t.next_trade_id = data["next_trade_id"]


def _restore_position(m: OptionMarket, row: list[Any], balances: dict[str, Any]) -> OptionPosition:
    account, lots, cost, pool, alert = row
    p = OptionPosition(account, m)
    p.lots, p.cost, p.alert = lots, cost, AlertLevel(alert)
    p.pool = None if pool is None else balances[pool]
    assert account != INSURANCE or p.pool is None
    return p
