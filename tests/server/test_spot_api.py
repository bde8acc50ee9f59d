"""The Binance spot (/api/v3) and isolated-margin (/sapi/v1) adapters against a live in-process venue: each
endpoint's fields, and hostile input (unknown symbols, negative, Unicode, exponent and oversized amounts, repaying
more than owed, borrowing beyond the maximum, moving out below the transfer-out level, cross margin, unknown types)
answered as Binance's JSON {code, msg} with a 4xx, never a 500, and nothing changed.

Figures by hand from Binance BTC-USDT 10x (borrow level 1.111, transfer-out level 2, daily rate 0.00024, fee 0.1 %,
tick 0.01, step 0.00001, minimum notional 5) at the start mark 60,000:
  1,000 USDT in, nothing owed: max borrowable x solves 1,000 + x = 1.111 x, x = 1,000 / 0.111 = 9,009.0090090090…;
  borrow 3,000: the first hour 3,000 × 0.00024 / 24 = 0.03; margin level 4,000 / 3,000.03;
  moving x out keeps (4,000 − x) / 3,000.03 ≥ 2: at most 4,000 − 6,000.06 < 0, so nothing can go out.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest

from isomargin.server.config import VenueConfig
from isomargin.server.testing import InProcessVenue, request, signed

D = Decimal
NUMBERS = ["-1", "１０", "1e3", "NaN", "0x10", "1" * 25, "1.2.3", " 1", "1_000", "+1", "Infinity", "٣"]


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVenue]:
    data: Path = tmp_path_factory.mktemp("spot-api") / "data"
    config = VenueConfig(data_dir=data, admin_key="spot-api-admin", market_maker=False, feed=False, rate_limit=0,
                         interest_schedule=False, demo_account=False)  # fmt: skip
    with InProcessVenue(config) as v:
        yield v


def call(v: InProcessVenue, who: dict[str, Any], path: str, method: str = "GET",
         params: dict[str, Any] | None = None) -> tuple[int, Any]:  # fmt: skip
    return signed(v.base, path, who["apiKey"], who["secret"], method, params=params)


def ok(v: InProcessVenue, who: dict[str, Any], path: str, method: str = "GET",
       params: dict[str, Any] | None = None) -> Any:  # fmt: skip
    status, body = call(v, who, path, method, params)
    assert status == 200, (path, body)
    return body


def refused(v: InProcessVenue, who: dict[str, Any], path: str, method: str, params: dict[str, Any],
            code: int) -> str:  # fmt: skip
    status, body = call(v, who, path, method, params)
    assert 400 <= status < 500 and body["code"] == code, (path, params, status, body)
    assert set(body) == {"code", "msg"}
    return str(body["msg"])


def iso(v: InProcessVenue, who: dict[str, Any]) -> dict[str, Any]:
    (row,) = ok(v, who, "/sapi/v1/margin/isolated/account")["assets"]
    return dict(row)


def test_public_endpoints(venue: InProcessVenue) -> None:
    status, info = request(venue.base + "/api/v3/exchangeInfo")
    assert status == 200 and [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    btc = info["symbols"][0]
    assert (btc["baseAsset"], btc["quoteAsset"], btc["status"]) == ("BTC", "USDT", "TRADING")
    assert btc["isMarginTradingAllowed"] is True and btc["permissions"] == ["SPOT", "MARGIN"]
    assert btc["permissionSets"] == [["SPOT", "MARGIN"]]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01" and filters["LOT_SIZE"]["stepSize"] == "0.00001"
    assert filters["NOTIONAL"]["minNotional"] == "5"
    assert request(venue.base + "/api/v3/exchangeInfo?symbol=ETHUSDT")[1]["symbols"][0]["baseAsset"] == "ETH"
    assert len(request(venue.base + '/api/v3/exchangeInfo?symbols=["BTCUSDT","ETHUSDT"]')[1]["symbols"]) == 2
    assert request(venue.base + "/api/v3/ping") == (200, {})
    assert request(venue.base + "/sapi/v1/system/status") == (200, {"status": 0, "msg": "normal"})
    assert request(venue.base + "/api/v3/time")[1]["serverTime"] > 0
    assert request(venue.base + "/api/v3/ticker/price?symbol=BTCUSDT")[1] == {"symbol": "BTCUSDT", "price": "60000"}
    book = request(venue.base + "/api/v3/depth?symbol=BTCUSDT&limit=5")[1]
    assert book["bids"] == [] and book["asks"] == [] and book["lastUpdateId"] > 0
    t = request(venue.base + "/api/v3/ticker/24hr?symbol=BTCUSDT")[1]
    assert (t["lastPrice"], t["volume"], t["count"]) == ("60000", "0", 0)
    assert request(venue.base + "/api/v3/ticker/bookTicker?symbol=ETHUSDT")[1]["bidPrice"] == "0"
    assert request(venue.base + "/api/v3/trades?symbol=BTCUSDT")[1] == []
    for path, code in [
        ("/api/v3/exchangeInfo?symbol=DOGEUSDT", -1121), ("/api/v3/depth?symbol=BTC%E2%82%ACUSDT", -1100),
        ("/api/v3/depth?symbol=BTCUSDT&limit=0", -1130), ("/api/v3/depth", -1102),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1M", -1120), ("/api/v3/trades?symbol=" + "A" * 30, -1100),
        ("/api/v3/depth?symbol=BTCUSDT&symbol=ETHUSDT", -1101), ("/api/v3/nothing", -5000),
        ("/sapi/v1/nothing", -5000), ("/api/v3/account", -2014), ("/sapi/v1/margin/isolated/account", -2014),
    ]:  # fmt: skip
        status, body = request(venue.base + path)
        assert 400 <= status < 500 and body["code"] == code, (path, status, body)


def test_spot_wallet_orders(venue: InProcessVenue) -> None:
    me = venue.new_account("10000")
    order = ok(venue, me, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                   "timeInForce": "GTC", "quantity": "0.01", "price": "50000",
                                                   "newClientOrderId": "w-1"})  # fmt: skip
    assert (order["status"], order["origQty"], order["price"], order["fills"]) == ("NEW", "0.01", "50000", [])
    acct = ok(venue, me, "/api/v3/account")
    usdt = next(b for b in acct["balances"] if b["asset"] == "USDT")
    assert (usdt["free"], usdt["locked"]) == ("9500", "500")  # 0.01 × 50,000 locked by the order
    assert acct["permissions"] == ["SPOT", "MARGIN"]
    got = ok(venue, me, "/api/v3/order", params={"symbol": "BTCUSDT", "origClientOrderId": "w-1"})
    assert got["orderId"] == order["orderId"] and got["isWorking"] is True
    assert [o["orderId"] for o in ok(venue, me, "/api/v3/openOrders", params={"symbol": "BTCUSDT"})] == [
        order["orderId"]
    ]
    refused(venue, me, "/api/v3/order", "GET", {"symbol": "ETHUSDT", "orderId": order["orderId"]}, -2013)
    refused(venue, me, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                "timeInForce": "GTC", "quantity": "1", "price": "50000"},
            -2010)  # needs 50,000 USDT: Binance's insufficient-balance refusal  # fmt: skip
    msg = refused(venue, me, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                      "timeInForce": "GTC", "quantity": "0.000001",
                                                      "price": "50000"}, -1013)  # fmt: skip
    assert "LOT_SIZE" in msg
    for bad in NUMBERS:
        refused(venue, me, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                    "timeInForce": "GTC", "quantity": bad, "price": "50000"},
                -1100)  # fmt: skip
    refused(venue, me, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "ſELL", "type": "LIMIT",
                                                "quantity": "1", "price": "1"}, -1117)  # fmt: skip
    refused(venue, me, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_LOSS",
                                                "quantity": "1", "price": "1"}, -1116)  # fmt: skip
    canceled = ok(venue, me, "/api/v3/order", "DELETE", {"symbol": "BTCUSDT", "orderId": order["orderId"]})
    assert canceled["status"] == "CANCELED"
    refused(venue, me, "/api/v3/order", "DELETE", {"symbol": "BTCUSDT", "orderId": order["orderId"]}, -2011)
    assert ok(venue, me, "/api/v3/openOrders", params={"symbol": "BTCUSDT"}) == []
    assert [o["status"] for o in ok(venue, me, "/api/v3/allOrders", params={"symbol": "BTCUSDT"})] == ["CANCELED"]
    usdt = next(b for b in ok(venue, me, "/api/v3/account")["balances"] if b["asset"] == "USDT")
    assert (usdt["free"], usdt["locked"]) == ("10000", "0")


def test_isolated_margin_fields_and_refusals(venue: InProcessVenue) -> None:
    me = venue.new_account("10000")
    assert ok(venue, me, "/sapi/v1/margin/isolated/account")["assets"] == []
    assert ok(venue, me, "/sapi/v1/margin/maxBorrowable", params={"asset": "USDT", "isolatedSymbol": "BTCUSDT"})[
        "amount"] == "0"  # fmt: skip

    # in: 1,000 USDT by the universal transfer
    t = ok(venue, me, "/sapi/v1/asset/transfer", "POST",
           {"type": "MAIN_ISOLATED_MARGIN", "asset": "USDT", "amount": "1000", "toSymbol": "BTCUSDT"})  # fmt: skip
    assert t["tranId"] > 0
    row = iso(venue, me)
    assert row["symbol"] == "BTCUSDT" and row["quoteAsset"]["free"] == "1000" and row["marginLevel"] == "999"
    assert row["marginLevelStatus"] == "EXCESSIVE" and row["indexPrice"] == "60000"
    top = D(1000) / D("0.111")
    mb = ok(venue, me, "/sapi/v1/margin/maxBorrowable", params={"asset": "USDT", "isolatedSymbol": "BTCUSDT"})
    assert D(mb["amount"]) == top.quantize(D("1E-10"), ROUND_DOWN) and mb["borrowLimit"] == "70000"
    mt = ok(venue, me, "/sapi/v1/margin/maxTransferable", params={"asset": "USDT", "isolatedSymbol": "BTCUSDT"})
    assert mt == {"amount": "1000"}

    # hostile: every refusal is Binance's JSON and changes nothing
    before = iso(venue, me)
    base = {"asset": "USDT", "isIsolated": "TRUE", "symbol": "BTCUSDT", "type": "BORROW"}
    for bad in NUMBERS:
        refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "amount": bad}, -1100)
        refused(venue, me, "/sapi/v1/asset/transfer", "POST", {"type": "MAIN_ISOLATED_MARGIN", "asset": "USDT",
                                                              "amount": bad, "toSymbol": "BTCUSDT"}, -1100)  # fmt: skip
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "amount": "0"}, -3026)
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "amount": ""}, -1102)
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "amount": "100000"}, -3006)
    assert "3006" not in refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST",
                                 {**base, "type": "REPAY", "amount": "1"}, -3015)  # nothing owed  # fmt: skip
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "symbol": "DOGEUSDT", "amount": "1"}, -1121)
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "asset": "ETH", "amount": "1"}, -3027)
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "isIsolated": "FALSE", "amount": "1"}, -3003)
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "type": "LEND", "amount": "1"}, -1130)
    refused(venue, me, "/sapi/v1/asset/transfer", "POST", {"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": "1"},
            -3029)  # fmt: skip
    too_much = {"type": "MAIN_ISOLATED_MARGIN", "asset": "USDT", "amount": "1000000", "toSymbol": "BTCUSDT"}
    refused(venue, me, "/sapi/v1/asset/transfer", "POST", too_much, -3041)
    refused(venue, me, "/sapi/v1/margin/isolated/transfer", "POST", {"asset": "USDT", "symbol": "BTCUSDT",
                                                                    "transFrom": "SPOT", "transTo": "SPOT",
                                                                    "amount": "1"}, -1130)  # fmt: skip
    refused(venue, me, "/sapi/v1/margin/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                        "timeInForce": "GTC", "quantity": "0.01", "price": "60000",
                                                        "isIsolated": "FALSE"}, -3003)  # fmt: skip
    refused(venue, me, "/sapi/v1/margin/interestHistory", "GET", {"asset": "US€"}, -1100)
    refused(venue, me, "/sapi/v1/margin/interestHistory", "GET", {"size": "101"}, -1130)
    refused(venue, me, "/sapi/v1/margin/isolated/account", "GET", {"symbols": "BTCUSDT,DOGEUSDT"}, -1121)
    refused(venue, me, "/sapi/v1/margin/isolated/account", "GET", {"symbols": ",".join(["BTCUSDT"] * 6)}, -1130)
    assert iso(venue, me) == before

    # borrow 3,000: the first hour's interest at once
    loan = ok(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "amount": "3000"})
    assert loan["tranId"] > 0
    row = iso(venue, me)
    q = row["quoteAsset"]
    assert (q["free"], q["borrowed"], q["interest"], q["netAsset"]) == ("4000", "3000", "0.03", "999.97")
    assert D(row["marginLevel"]) == (D(4000) / D("3000.03")).quantize(D("1E-8"), ROUND_DOWN)
    assert row["marginLevelStatus"] == "NORMAL"
    limits = {"asset": "USDT", "isolatedSymbol": "BTCUSDT"}
    assert ok(venue, me, "/sapi/v1/margin/maxTransferable", params=limits) == {"amount": "0"}
    refused(venue, me, "/sapi/v1/margin/isolated/transfer", "POST", {"asset": "USDT", "symbol": "BTCUSDT",
                                                                    "transFrom": "ISOLATED_MARGIN", "transTo": "SPOT",
                                                                    "amount": "1"}, -3020)  # fmt: skip
    refused(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "type": "REPAY", "amount": "3000.04"}, -3015)
    hist = ok(venue, me, "/sapi/v1/margin/interestHistory", params={"isolatedSymbol": "BTCUSDT"})
    assert hist["total"] == 1
    (r,) = hist["rows"]
    assert (r["type"], r["interest"], r["principal"], r["asset"]) == ("ON_BORROW", "0.03", "3000", "USDT")
    loans = ok(venue, me, "/sapi/v1/margin/borrow-repay", params={"type": "BORROW", "isolatedSymbol": "BTCUSDT"})
    assert [x["amount"] for x in loans["rows"]] == ["3000"] and loans["rows"][0]["status"] == "CONFIRMED"

    # repay interest first, then principal: 1,000.03 leaves 2,000 owed
    ok(venue, me, "/sapi/v1/margin/borrow-repay", "POST", {**base, "type": "REPAY", "amount": "1000.03"})
    q = iso(venue, me)["quoteAsset"]
    assert (q["free"], q["borrowed"], q["interest"]) == ("2999.97", "2000", "0")
    repays = ok(venue, me, "/sapi/v1/margin/borrow-repay", params={"type": "REPAY"})["rows"]
    assert [(x["interest"], x["principal"], x["amount"]) for x in repays] == [("0.03", "1000", "1000.03")]
    moves = ok(venue, me, "/sapi/v1/margin/isolated/transfer", params={"symbol": "BTCUSDT"})["rows"]
    legs = ok(venue, me, "/sapi/v1/asset/transfer", params={"type": "MAIN_ISOLATED_MARGIN"})
    assert legs["total"] == 1 and legs["rows"][0]["amount"] == "1000" and legs["rows"][0]["tranId"] > 0
    assert ok(venue, me, "/sapi/v1/asset/transfer", params={"type": "ISOLATED_MARGIN_MAIN"}) == {"rows": [], "total": 0}
    assert ok(venue, me, "/sapi/v1/asset/tradeFee", params={"symbol": "BTCUSDT"}) == [
        {"symbol": "BTCUSDT", "makerCommission": "0.001", "takerCommission": "0.001"}]  # fmt: skip
    assert [(x["amount"], x["transFrom"], x["transTo"]) for x in moves] == [("1000", "SPOT", "ISOLATED_MARGIN")]

    data = ok(venue, me, "/sapi/v1/margin/isolatedMarginData", params={"symbol": "BTCUSDT"})
    assert data == [{"vipLevel": 0, "symbol": "BTCUSDT", "leverage": "10",
                     "data": [{"coin": "BTC", "dailyInterest": "0.00024", "borrowLimit": "9"},
                              {"coin": "USDT", "dailyInterest": "0.00024", "borrowLimit": "70000"}]}]  # fmt: skip
    pairs = ok(venue, me, "/sapi/v1/margin/isolated/allPairs")
    assert [x["symbol"] for x in pairs] == ["BTCUSDT", "ETHUSDT"] and ok(venue, me, "/sapi/v1/margin/allPairs") == []


def test_margin_orders(venue: InProcessVenue) -> None:
    me, seller = venue.new_account("10000"), venue.new_account("10")
    venue.admin("deposit", {"account": seller["account"], "asset": "BTC", "amount": "1"})
    ok(venue, seller, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                               "timeInForce": "GTC", "quantity": "0.1", "price": "60000"})  # fmt: skip
    ok(venue, me, "/sapi/v1/margin/isolated/transfer", "POST", {"asset": "USDT", "symbol": "BTCUSDT",
                                                               "transFrom": "SPOT", "transTo": "ISOLATED_MARGIN",
                                                               "amount": "1000"})  # fmt: skip
    # 0.05 BTC at 60,000 = 3,000 USDT: MARGIN_BUY borrows the 2,000 the free 1,000 lacks
    order = ok(venue, me, "/sapi/v1/margin/order", "POST", {
        "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.05", "isIsolated": "TRUE",
        "sideEffectType": "MARGIN_BUY", "newOrderRespType": "FULL"})  # fmt: skip
    assert (order["status"], order["executedQty"], order["cummulativeQuoteQty"]) == ("FILLED", "0.05", "3000")
    assert order["isIsolated"] is True and order["marginBuyBorrowAmount"] == "2000"
    assert order["fills"] == [{"price": "60000", "qty": "0.05", "commission": "0.00005", "commissionAsset": "BTC",
                               "tradeId": order["fills"][0]["tradeId"]}]  # fmt: skip
    row = iso(venue, me)
    assert (row["baseAsset"]["free"], row["quoteAsset"]["borrowed"]) == ("0.04995", "2000")
    got = ok(venue, me, "/sapi/v1/margin/order", params={"symbol": "BTCUSDT", "orderId": order["orderId"],
                                                        "isIsolated": "TRUE"})  # fmt: skip
    assert got["status"] == "FILLED" and got["isIsolated"] is True
    refused(venue, me, "/api/v3/order", "GET", {"symbol": "BTCUSDT", "orderId": order["orderId"]}, -2013)
    (fill,) = ok(venue, me, "/sapi/v1/margin/myTrades", params={"symbol": "BTCUSDT", "isIsolated": "TRUE"})
    assert (fill["isBuyer"], fill["isMaker"], fill["qty"], fill["commissionAsset"]) == (True, False, "0.05", "BTC")
    assert ok(venue, me, "/api/v3/myTrades", params={"symbol": "BTCUSDT"}) == []  # not a wallet fill
    # a wallet market buy for 600 USDT: 600 / 60,000 = 0.01 BTC from the ask's remaining 0.05
    spent = ok(venue, me, "/api/v3/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                   "quoteOrderQty": "600"})  # fmt: skip
    assert (spent["executedQty"], spent["cummulativeQuoteQty"], spent["status"]) == ("0.01", "600", "FILLED")
    assert [t["qty"] for t in ok(venue, me, "/api/v3/myTrades", params={"symbol": "BTCUSDT"})] == ["0.01"]
    rest = ok(venue, me, "/sapi/v1/margin/order", "POST", {
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT_MAKER", "quantity": "0.01", "price": "70000",
        "isIsolated": "TRUE", "newOrderRespType": "RESULT"})  # fmt: skip
    assert rest["type"] == "LIMIT_MAKER" and rest["status"] == "NEW" and "fills" not in rest
    opened = ok(venue, me, "/sapi/v1/margin/openOrders", params={"symbol": "BTCUSDT", "isIsolated": "TRUE"})
    assert [o["orderId"] for o in opened] == [rest["orderId"]]
    assert ok(venue, me, "/api/v3/openOrders", params={"symbol": "BTCUSDT"}) == []
    done = ok(venue, me, "/sapi/v1/margin/order", "DELETE", {"symbol": "BTCUSDT", "orderId": rest["orderId"],
                                                             "isIsolated": "TRUE"})  # fmt: skip
    assert done["status"] == "CANCELED"
    every = ok(venue, me, "/sapi/v1/margin/allOrders", params={"symbol": "BTCUSDT", "isIsolated": "TRUE"})
    assert [o["status"] for o in every] == ["FILLED", "CANCELED"]
    refused(venue, me, "/sapi/v1/margin/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                        "timeInForce": "GTC", "quantity": "1", "price": "60000",
                                                        "isIsolated": "TRUE",
                                                        "sideEffectType": "MARGIN_BUY"}, -3006)  # fmt: skip
    refused(venue, me, "/sapi/v1/margin/order", "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                        "timeInForce": "GTC", "quantity": "0.01", "price": "60000",
                                                        "isIsolated": "TRUE", "sideEffectType": "BORROW_ALL"},
            -1130)  # fmt: skip
    read_only = venue.admin("api-keys", {"account": me["account"], "permissions": ["read"]})
    status, body = signed(venue.base, "/sapi/v1/margin/borrow-repay", read_only["apiKey"], read_only["secret"], "POST",
                          params={"asset": "USDT", "isIsolated": "TRUE", "symbol": "BTCUSDT", "type": "BORROW",
                                  "amount": "1"})  # fmt: skip
    assert status == 403 and body["code"] == -2015


def test_demo_feed_moves_spot_marks(venue: InProcessVenue) -> None:
    """One demo feed tick: each spot pair's mark is its perpetual's (the same seeded path), on the pair's 0.01 tick
    (the perpetual's is 0.1 for BTCUSDT and 0.01 for ETHUSDT), so they differ by at most half a perpetual tick."""
    import asyncio

    from isomargin.server.market import DemoMarket

    v = venue.venue
    assert v.loop is not None
    asyncio.run_coroutine_threadsafe(DemoMarket(v).feed_tick(), v.loop).result(30)
    for pair, perp, tick in (("BTC-USDT", "BTCUSDT", D("0.1")), ("ETH-USDT", "ETHUSDT", D("0.01"))):
        s = D(request(f"{venue.base}/api/v1/spot/pairs/{pair}")[1]["mark_price"])
        f = D(request(f"{venue.base}/fapi/v1/premiumIndex?symbol={perp}")[1]["markPrice"])
        assert abs(s - f) <= tick / 2 and s == s.quantize(D("0.01")) and f != 60000


def test_demo_maker_quotes_spot_pairs(tmp_path: Path) -> None:
    """The demo maker quotes 5 levels a side on each spot pair from its wallet, around the mark 60,000: first bid
    60,000 × (1 − 0.0004) = 59,976.00, first ask 60,000 × 1.0004 = 60,024.00 + one tick = 60,024.01, each
    40,000 USD × (1 + i/2) / 60,000 in BTC rounded down to 0.00001 (level 0: 0.66666)."""
    import time

    config = VenueConfig(data_dir=tmp_path / "d", admin_key="k", feed=False, noise_traders=False, rate_limit=0,
                         interest_schedule=False, quote_interval=0.2)  # fmt: skip
    with InProcessVenue(config) as v:
        deadline = time.time() + 20
        book: dict[str, Any] = {"bids": []}
        while time.time() < deadline and len(book["bids"]) < 5:
            time.sleep(0.2)
            book = request(f"{v.base}/api/v3/depth?symbol=BTCUSDT")[1]
        assert len(book["bids"]) == 5 and len(book["asks"]) == 5
        assert book["bids"][0] == ["59976", "0.66666"] and book["asks"][0] == ["60024.01", "0.66666"]
        assert book["asks"][4][1] == "2"  # level 4: 40,000 × (1 + 4/2) / 60,000 = 2 exactly


def test_restart_keeps_pairs_accounts_and_histories(tmp_path: Path) -> None:
    """Stopped and reopened on the same data: the pairs are not listed twice, the marks stay, and what the Binance
    endpoints show (isolated account, orders, interest rows) is rebuilt from the journal unchanged."""
    config = VenueConfig(data_dir=tmp_path / "d", admin_key="k", market_maker=False, feed=False, rate_limit=0,
                         interest_schedule=False)  # fmt: skip
    with InProcessVenue(config) as v:
        me = v.new_account("5000")
        ok(v, me, "/sapi/v1/margin/isolated/transfer", "POST", {"asset": "USDT", "symbol": "ETHUSDT",
                                                               "transFrom": "SPOT", "transTo": "ISOLATED_MARGIN",
                                                               "amount": "1000"})  # fmt: skip
        ok(v, me, "/sapi/v1/margin/borrow-repay", "POST", {"asset": "USDT", "isIsolated": "TRUE", "symbol": "ETHUSDT",
                                                          "type": "BORROW", "amount": "240"})  # fmt: skip
        ok(v, me, "/api/v3/order", "POST", {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT",
                                           "timeInForce": "GTC", "quantity": "0.1", "price": "2000"})  # fmt: skip
        reads = [("/sapi/v1/margin/isolated/account", None), ("/api/v3/allOrders", {"symbol": "ETHUSDT"}),
                 ("/sapi/v1/margin/interestHistory", None), ("/api/v3/account", None)]  # fmt: skip
        before = [ok(v, me, path, params=params) for path, params in reads]
        info = request(v.base + "/api/v3/exchangeInfo")[1]["symbols"]
    assert before[2]["rows"][0]["interest"] == "0.0024"  # 240 × 0.00024 / 24
    with InProcessVenue(config) as v:
        after = [ok(v, me, path, params=params) for path, params in reads]
        assert request(v.base + "/api/v3/exchangeInfo")[1]["symbols"] == info
        assert request(v.base + "/api/v3/ticker/price?symbol=ETHUSDT")[1]["price"] == "3000"
    for b, a in zip(before, after, strict=True):
        for body in (a, b):
            if isinstance(body, dict):
                body.pop("updateTime", None)  # the account's "now"
        assert a == b
