"""End to end with the unmodified ccxt package against a live server on 127.0.0.1."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from isomargin.server.testing import RunningVenue, ccxt_urls, signed

SYM = "BTC/USDT:USDT"


def client(venue: RunningVenue, creds: dict[str, Any], cls: Any = ccxt.binanceusdm, **options: Any) -> Any:
    ex = cls({"apiKey": creds["apiKey"], "secret": creds["secret"],
              "options": {"fetchCurrencies": False, **options}})  # fmt: skip
    ex.urls["api"].update(ccxt_urls(venue.base))
    return ex


@pytest.fixture(scope="module")
def trader(venue: RunningVenue) -> Any:
    ex = client(venue, venue.credentials())
    ex.load_markets()
    return ex


@pytest.fixture(scope="module")
def maker(venue: RunningVenue) -> Any:
    ex = client(venue, venue.new_account("5000000"))
    ex.load_markets()
    return ex


def engine_position(venue: RunningVenue, creds: dict[str, Any]) -> dict[str, Any]:
    status, rows = signed(venue.base, "/api/v1/positions", creds["apiKey"], creds["secret"])
    assert status == 200
    return {r["symbol"]: r for r in rows}


def test_market_data(trader: Any) -> None:
    assert SYM in trader.markets
    m = trader.market(SYM)
    assert m["precision"]["price"] == 0.1 and m["precision"]["amount"] == 0.001 and m["limits"]["cost"]["min"] == 100
    assert trader.fetch_ticker(SYM)["last"] == 60000
    assert trader.fetch_order_book(SYM)["bids"] == []
    bars = trader.fetch_ohlcv(SYM, "1m")  # nothing traded yet: the mark's bars, with no volume
    assert bars and all(b[1:] == [60000, 60000, 60000, 60000, 0] for b in bars)
    assert trader.fetch_funding_rate(SYM)["markPrice"] == 60000
    tiers = trader.fetch_leverage_tiers([SYM])[SYM]
    assert tiers[0]["maxLeverage"] == 125 and tiers[1]["maintenanceMarginRate"] == 0.005
    assert abs(trader.fetch_time() - trader.milliseconds()) < 5000


def test_trading_flow(venue: RunningVenue, trader: Any, maker: Any) -> None:
    maker.create_order(SYM, "limit", "sell", 1, 60010)
    maker.create_order(SYM, "limit", "buy", 1, 59990)
    trader.set_margin_mode("isolated", SYM)
    trader.set_leverage(10, SYM)
    order = trader.create_order(SYM, "market", "buy", 0.1)
    assert order["status"] == "closed" and order["filled"] == 0.1 and order["average"] == 60010
    limit = trader.create_order(SYM, "limit", "buy", 0.01, 55000)
    assert limit["status"] == "open"
    reduce = trader.create_order(SYM, "limit", "sell", 0.01, 70000, {"reduceOnly": True})
    assert reduce["reduceOnly"] is True
    stop = trader.create_order(SYM, "market", "sell", 0.05, None, {"triggerPrice": 58000, "reduceOnly": True})
    assert stop["status"] == "open" and stop["triggerPrice"] == 58000
    assert trader.fetch_order(limit["id"], SYM)["price"] == 55000
    assert trader.fetch_order(stop["id"], SYM, {"trigger": True})["type"] == "market"
    assert {o["id"] for o in trader.fetch_open_orders(SYM)} == {limit["id"], reduce["id"]}
    assert [o["id"] for o in trader.fetch_open_orders(SYM, params={"trigger": True})] == [stop["id"]]
    trades = trader.fetch_my_trades(SYM)
    assert len(trades) == 1 and trades[0]["price"] == 60010 and trades[0]["order"] == order["id"]

    (pos,) = trader.fetch_positions([SYM])
    engine = engine_position(venue, venue.credentials())["BTCUSDT"]
    assert pos["contracts"] == 0.1 and pos["side"] == "long" and pos["marginMode"] == "isolated"
    assert pos["liquidationPrice"] == pytest.approx(float(Decimal(engine["liquidation_price"])), rel=1e-12)
    before = Decimal(engine["liquidation_price"])
    trader.add_margin(SYM, 100)
    after_add = Decimal(engine_position(venue, venue.credentials())["BTCUSDT"]["liquidation_price"])
    assert after_add < before
    trader.reduce_margin(SYM, 50)
    after_reduce = Decimal(engine_position(venue, venue.credentials())["BTCUSDT"]["liquidation_price"])
    assert after_add < after_reduce < before

    canceled = trader.cancel_order(limit["id"], SYM)
    assert canceled["status"] == "canceled"
    trader.cancel_order(stop["id"], SYM, {"trigger": True})
    assert trader.fetch_open_orders(SYM, params={"trigger": True}) == []


def test_errors_map_to_ccxt_exceptions(trader: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        trader.create_order(SYM, "limit", "buy", 30, 50000)
    with pytest.raises(ccxt.InvalidOrder):
        trader.create_order(SYM, "limit", "buy", 0.001, 50000)  # below min notional
    with pytest.raises(ccxt.InvalidOrder):
        trader.create_order("ETH/USDT:USDT", "limit", "sell", 0.1, 3100, {"reduceOnly": True})
    with pytest.raises(ccxt.OrderNotFound):
        trader.fetch_order("999999", SYM)
    with pytest.raises(ccxt.OrderNotFound):
        trader.cancel_order("999999", SYM)


def test_liquidation_after_operator_mark_move(venue: RunningVenue, trader: Any) -> None:
    creds = venue.credentials()
    trader.cancel_all_orders(SYM)
    pos = engine_position(venue, creds)["BTCUSDT"]
    margin = Decimal(pos["isolated_margin"])
    _, bal = signed(venue.base, "/api/v1/balances", creds["apiKey"], creds["secret"])
    wallet = Decimal(bal["USDT"]["wallet"])
    liq = Decimal(pos["liquidation_price"])
    venue.admin("mark-price", {"symbol": "BTCUSDT", "price": str((liq - 100).quantize(Decimal("0.1")))})
    assert trader.fetch_positions([SYM]) == []
    _, bal = signed(venue.base, "/api/v1/balances", creds["apiKey"], creds["secret"])
    assert Decimal(bal["USDT"]["wallet"]) == wallet  # the isolated margin went, nothing else
    assert Decimal(bal["USDT"]["isolated_margin"]) == 0 and margin > 0
    _, rows = signed(venue.base, "/api/v1/my-liquidations", creds["apiKey"], creds["secret"])
    assert any(r["step"] == "close" for r in rows)
    assert {r["margin_mode"] for r in rows if r["event"] == "Liquidated"} == {"isolated"}  # the venue's spelling


def test_binance_class_with_swap_default(venue: RunningVenue) -> None:
    creds = venue.new_account("100000")
    ex = client(venue, creds, ccxt.binance, defaultType="swap", fetchMarkets={"types": ["linear"]})
    ex.load_markets()
    venue.admin("mark-price", {"symbol": "ETHUSDT", "price": "3000"})
    order = ex.create_order("ETH/USDT:USDT", "limit", "buy", 0.1, 2900)
    assert order["status"] == "open" and ex.fetch_order(order["id"], "ETH/USDT:USDT")["amount"] == 0.1
