"""The Binance REST endpoints ccxt binanceusdm reached and found missing: aggTrades (fetch_trades), PUT order
(edit_order, with queue priority kept only on a smaller size), batchOrders (create_orders, cancel_orders),
positionMargin/history, premiumIndexKlines, openInterest; and positionRisk's maxNotionalValue agreeing with the
leverage brackets. A quiet venue (no feed, no market maker): every number is derived by hand below.
"""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from isomargin.server.testing import RunningVenue, ccxt_urls, signed

SYM = "BTC/USDT:USDT"


def client(venue: RunningVenue, creds: dict[str, Any]) -> Any:
    ex = ccxt.binanceusdm({"apiKey": creds["apiKey"], "secret": creds["secret"],
                           "options": {"fetchCurrencies": False}})  # fmt: skip
    ex.urls["api"].update(ccxt_urls(venue.base))
    ex.load_markets()
    return ex


@pytest.fixture(scope="module")
def actors(venue: RunningVenue) -> tuple[Any, Any, Any]:
    return (client(venue, venue.new_account("1000000")), client(venue, venue.new_account("5000000")),
            client(venue, venue.new_account("1000000")))  # fmt: skip


def test_rest_endpoints(venue: RunningVenue, actors: tuple[Any, Any, Any]) -> None:
    trader, maker, third = actors
    venue.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
    trader.set_margin_mode("isolated", SYM)
    trader.set_leverage(10, SYM)

    # fetch_trades (aggTrades): the maker's ask at 60,010 and the trader's market buy of 0.2
    maker.create_order(SYM, "limit", "sell", 0.5, 60010)
    trader.create_order(SYM, "market", "buy", 0.2)
    trades = trader.fetch_trades(SYM)
    assert [(t["price"], t["amount"], t["side"]) for t in trades[-1:]] == [(60010, 0.2, "buy")]

    # create_orders: three in one batch, the third off the tick: two placed, one refused on its own
    orders = trader.create_orders([
        {"symbol": SYM, "type": "limit", "side": "buy", "amount": 0.01, "price": 59000},
        {"symbol": SYM, "type": "limit", "side": "buy", "amount": 0.01, "price": 58900},
    ])  # fmt: skip
    assert [(o["price"], o["amount"], o["status"]) for o in orders] == [(59000, 0.01, "open"), (58900, 0.01, "open")]
    a1, a2 = orders[0]["id"], orders[1]["id"]
    status, rows = signed(venue.base, "/fapi/v1/batchOrders", *trader_keys(trader), "POST", params={
        "batchOrders": '[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.01","price":"58800",'
                       '"timeInForce":"GTC"},{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.01",'
                       '"price":"58800.05","timeInForce":"GTC"}]'})  # fmt: skip
    assert status == 200 and rows[0]["status"] == "NEW" and rows[1]["code"] == -1013, rows
    a3 = str(rows[0]["orderId"])

    # edit_order: a smaller size at the same price keeps the queue place; a larger size loses it
    m1 = maker.create_order(SYM, "limit", "buy", 0.01, 59000)["id"]
    m2 = maker.create_order(SYM, "limit", "buy", 0.01, 58900)["id"]
    edited = trader.edit_order(a1, SYM, "limit", "buy", 0.006, 59000)
    assert (edited["amount"], edited["price"]) == (0.006, 59000)
    third.create_order(SYM, "market", "sell", 0.006)  # the head of 59,000 is still the trader's order
    assert trader.fetch_order(a1, SYM)["status"] == "closed"
    assert maker.fetch_order(m1, SYM)["filled"] == 0
    trader.edit_order(a2, SYM, "limit", "buy", 0.012, 58900)  # now behind the maker's 0.01 at 58,900
    third.create_order(SYM, "market", "sell", 0.02)  # 0.01 at 59,000 (m1), then 0.01 at 58,900 (m2)
    assert maker.fetch_order(m1, SYM)["status"] == "closed" and maker.fetch_order(m2, SYM)["status"] == "closed"
    assert trader.fetch_order(a2, SYM)["filled"] == 0

    # cancel_orders: both of the trader's open orders in one batch
    cancelled = trader.cancel_orders([a2, a3], SYM)
    assert sorted(o["status"] for o in cancelled) == ["canceled", "canceled"]
    assert trader.fetch_open_orders(SYM) == []

    # margin adjustment history: add 100, remove 50
    trader.add_margin(SYM, 100)
    trader.reduce_margin(SYM, 50)
    hist = trader.fetch_margin_adjustment_history(SYM)
    assert [(h["type"], h["amount"]) for h in hist] == [("add", 100), ("reduce", 50)]

    # open interest: the longs are the trader's 0.2 + 0.006 (the maker is short 0.5 - 0.02, the third 0.026)
    oi = trader.fetch_open_interest(SYM)
    assert oi["openInterestAmount"] == pytest.approx(0.206)

    # premium index klines: mark 60,120 over index 60,000 is a premium of 0.002
    venue.admin("mark-price", {"symbol": "BTCUSDT", "mark": "60120", "index": "60000"})
    bars = trader.fetch_premium_index_ohlcv(SYM, "1m")
    assert bars and bars[-1][4] == pytest.approx(0.002)

    # positionRisk's maxNotionalValue is the cap leverageBracket gives at the position's leverage (10x)
    brackets = trader.fapiPrivateGetLeverageBracket({"symbol": "BTCUSDT"})[0]["brackets"]
    cap = max(float(b["notionalCap"]) for b in brackets if int(b["initialLeverage"]) >= 10)
    risk = trader.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})[0]
    assert float(risk["maxNotionalValue"]) == cap
    assert float(trader.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 10})["maxNotionalValue"]) == cap


def trader_keys(ex: Any) -> tuple[str, str]:
    return ex.apiKey, ex.secret
