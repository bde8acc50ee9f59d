"""Dated futures before delivery: no funding, and from the expiry no orders of any kind (only delivery settles).

Same dated listings as test_delivery.py (a linear and an inverse quarterly, expiry 2026-03-27 08:00 UTC); fees 0.
"""

from __future__ import annotations

from enginekit import D, of
from test_delivery import EXPIRY, INVERSE, LINEAR, dated

from isomargin.engine import (
    AmendOrder,
    CancelOrder,
    DeliverInstrument,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetMarkPrice,
    SettleFunding,
)
from isomargin.engine.events import OrderUpdated, Trade

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_funding_is_refused_on_a_dated_future_and_settles_on_the_perpetual() -> None:
    v = dated()
    v.account(1)
    for sym in (LINEAR.symbol, INVERSE.symbol):
        v.ok(SetMarkPrice(sym, D(60000), ts=1))
        v.no(SettleFunding(sym, D("0.0001"), ts=2), "not_perpetual")
        v.no(SettleFunding(sym, D("0.0001"), ts=EXPIRY + 1), "not_perpetual")
    v.mark("BTCUSDT", "60000")
    v.ok(SettleFunding("BTCUSDT", D("0.0001")))


def test_orders_are_refused_from_the_expiry_on_reduce_only_and_close_too() -> None:
    # Long 0.1 at 60,000 opened one ms before the expiry; at the expiry nothing trades any more: a new order, a
    # reduce-only close and a close-position stop are all refused (market_expired), amendments too; a cancel is
    # still taken, and a stop placed before the expiry does not fire on a later mark (delivery cancels it).
    v = dated()
    sym = LINEAR.symbol
    v.account(1)
    v.account(2)
    v.ok(SetMarkPrice(sym, D(60000), ts=EXPIRY - 10))
    v.ok(PlaceOrder(2, sym, SELL, OrderType.LIMIT, D("0.1"), D(60000), ts=EXPIRY - 2))
    events = v.ok(PlaceOrder(1, sym, BUY, OrderType.LIMIT, D("0.1"), D(60000), ts=EXPIRY - 1))
    assert of(events, Trade)
    # A resting bid and a stop, both before the expiry.
    v.ok(PlaceOrder(2, sym, BUY, OrderType.LIMIT, D("0.05"), D(59000), ts=EXPIRY - 1))
    v.ok(PlaceOrder(1, sym, SELL, OrderType.STOP_MARKET, D("0.1"), stop_price=D(59500), reduce_only=True,
                    ts=EXPIRY - 1))  # fmt: skip
    [bid] = [o for o in v.orders(2) if o["symbol"] == sym]
    v.no(PlaceOrder(1, sym, BUY, OrderType.LIMIT, D("0.1"), D(60000), ts=EXPIRY), "market_expired")
    v.no(PlaceOrder(1, sym, SELL, OrderType.MARKET, D("0.1"), reduce_only=True, ts=EXPIRY), "market_expired")
    v.no(PlaceOrder(1, sym, SELL, OrderType.LIMIT, D("0.05"), D(59000), reduce_only=True, ts=EXPIRY + 5),
         "market_expired")  # fmt: skip
    v.no(PlaceOrder(1, sym, SELL, OrderType.STOP_MARKET, None, stop_price=D(50000), close_position=True,
                    ts=EXPIRY), "market_expired")  # fmt: skip
    v.no(AmendOrder(2, sym, order_id=bid["order_id"], qty=D("0.04"), price=D(59000), ts=EXPIRY), "market_expired")
    # The mark falls through the stop after the expiry: it does not fire (no trade against the resting bid).
    events = v.ok(SetMarkPrice(sym, D(59000), ts=EXPIRY + 10))
    assert not of(events, Trade) and not [e for e in of(events, OrderUpdated) if e.status == "TRIGGERED"]
    assert v.position(1, sym)["size"] == D("0.1")
    # Cancels are harmless and still taken.
    v.ok(CancelOrder(2, sym, order_id=bid["order_id"], ts=EXPIRY + 11))
    # Delivery settles the position and cancels the stop.
    events = v.ok(DeliverInstrument(sym, D(59000), ts=EXPIRY + 12))
    assert [e.reason for e in of(events, OrderUpdated)] == ["delivery"]
    assert v.position(1, sym) is None


def test_the_inverse_dated_market_is_closed_at_the_expiry_too() -> None:
    v = dated()
    sym = INVERSE.symbol
    v.account(1, usdt="0", coins={"BTC": "1"})
    v.ok(SetMarkPrice(sym, D(60000), ts=1))
    v.ok(PlaceOrder(1, sym, BUY, OrderType.LIMIT, D(1000), D(50000), ts=EXPIRY - 1))
    v.no(PlaceOrder(1, sym, BUY, OrderType.LIMIT, D(1000), D(50000), ts=EXPIRY), "market_expired")
    # The perpetual beside it is untouched by the dated market's expiry.
    v.mark("BTCUSDT", "60000")
    v.account(2)
    v.ok(PlaceOrder(2, "BTCUSDT", BUY, OrderType.LIMIT, D("0.01"), D(50000), ts=EXPIRY))
