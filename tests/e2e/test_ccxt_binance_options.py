"""End to end with the unmodified ccxt `binance` and its option markets loaded (`options.fetchMarkets.types` with
"option": a ccxt setting, not a patch) against a live venue: load_markets reads /eapi/v1/exchangeInfo, a short is sold
to open and a long bought against it with create_order, fetch_order / fetch_open_orders / cancel_order, fetch_positions
(method "option"), fetch_my_trades, the options account, and refusals as ccxt exceptions.

The venue here lists ETHUSDT only, so the family's index is set directly (with a BTCUSDT perpetual listed, its marks
would carry the family's index: tests/engine/test_options_engine.py).

Figures worked by hand (binance BTCUSDT family, illustrative OKX USDⓈ rule: 1 BTC a contract, a 0.1, b 0.15, fee
0.03 % taker / 0.02 % maker of the index capped at 7 % of the premium; index 95,000, call 100,000 at 3,000 USDT):
  sell to open 1: IM = max(0.1, 0.15 − 5,000/95,000) × 95,000 + 3,000 = 12,500; hold 12,500 − 3,000 + 28.5 = 9,528.5
  (above the floor 0.1 × 95,000 = 9,500); filled as maker: pool 9,528.5 + 3,000 − 19 = 12,509.5.
  buy 1 as taker: premium 3,000 + fee min(28.5, 210) = 3,028.5.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from isomargin.server.config import VenueConfig
from isomargin.server.testing import InProcessVenue, ccxt_urls, request, signed

D = Decimal
YEAR = datetime.now(UTC).year + 1
EXP = f"{YEAR % 100:02d}1225"
ID = f"BTC-{EXP}-100000-C"
SYM = f"BTC/USDT:USDT-{EXP}-100000-C"
EXPIRY_MS = int(datetime(YEAR, 12, 25, 8, tzinfo=UTC).timestamp()) * 1000


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVenue]:
    data: Path = tmp_path_factory.mktemp("eapi") / "data"
    config = VenueConfig(data_dir=data, admin_key="eapi-admin", market_maker=False, feed=False, rate_limit=0,
                         interest_schedule=False, symbols=("ETHUSDT",))  # fmt: skip
    with InProcessVenue(config) as v:
        for body, path in (({"symbol": ID, "venue": "binance", "mark_price": "3000"}, "options"),
                           ({"family": "BTCUSDT", "price": "95000"}, "options/index")):  # fmt: skip
            status, got = request(v.base + "/api/v1/admin/" + path, "POST", body, {"X-Admin-Key": v.admin_key})
            assert status == 200, got
        yield v


def client(venue: InProcessVenue, creds: dict[str, Any]) -> Any:
    ex = ccxt.binance({"apiKey": creds["apiKey"], "secret": creds["secret"], "options": {
        "fetchCurrencies": False, "fetchMarkets": {"types": ["spot", "linear", "inverse", "option"]}}})  # fmt: skip
    ex.urls["api"].update(ccxt_urls(venue.base))
    ex.load_markets()
    return ex


def usdt(venue: InProcessVenue, creds: dict[str, Any]) -> Decimal:
    status, body = signed(venue.base, "/api/v1/balances", creds["apiKey"], creds["secret"])
    assert status == 200, body
    return D(body["USDT"]["wallet"])


def test_load_markets_trade_and_positions(venue: InProcessVenue) -> None:
    seller_creds, buyer_creds = venue.new_account("1000000"), venue.new_account("100000")
    seller, buyer = client(venue, seller_creds), client(venue, buyer_creds)
    m = seller.market(SYM)
    assert (m["id"], m["type"], m["option"], m["optionType"], m["strike"]) == (ID, "option", True, "call", 100000)
    assert (m["settle"], m["expiry"], m["contractSize"], m["linear"]) == ("USDT", EXPIRY_MS, 1, True)
    assert m["precision"]["price"] == 5 and m["precision"]["amount"] == 0.01 and m["limits"]["amount"]["min"] == 0.01
    assert "ETH/USDT:USDT" in seller.markets  # the perpetuals are loaded beside the options

    sell = seller.create_order(SYM, "limit", "sell", 1, 3000, {"clientOrderId": "short-1"})
    assert (sell["status"], sell["amount"], sell["price"], sell["clientOrderId"]) == ("open", 1, 3000, "short-1")
    assert usdt(venue, seller_creds) == D(1000000) - D("9528.5")
    assert [o["id"] for o in seller.fetch_open_orders(SYM)] == [sell["id"]]
    book = seller.fetch_order_book(SYM)
    assert book["asks"] == [[3000, 1]] and book["bids"] == []

    buy = buyer.create_order(SYM, "limit", "buy", 1, 3000)
    assert (buy["status"], buy["filled"], buy["average"]) == ("closed", 1, 3000)
    assert buy["fee"]["cost"] == 28.5 and buy["fee"]["currency"] == "USDT"
    assert usdt(venue, buyer_creds) == D(100000) - D("3028.5")
    assert seller.fetch_order(sell["id"], SYM)["status"] == "closed"

    (long,) = buyer.fetch_positions([SYM], {"method": "option"})
    assert (long["symbol"], long["side"], long["contracts"], long["entryPrice"], long["markPrice"]) == (
        SYM, "long", 1, 3000, 3000)  # fmt: skip
    (short,) = seller.fetch_option_positions([SYM])
    assert (short["side"], short["contracts"], short["entryPrice"], short["collateral"]) == ("short", -1, 3000, 3000)
    native = signed(venue.base, f"/api/v1/options/positions/{ID}", seller_creds["apiKey"], seller_creds["secret"])[1]
    assert native["margin"] == "12509.5"
    (fill,) = buyer.fetch_my_trades(SYM)
    assert (fill["side"], fill["amount"], fill["price"], fill["order"]) == ("buy", 1, 3000, buy["id"])
    account = seller.eapiPrivateGetAccount()
    (row,) = account["asset"]
    assert row["asset"] == "USDT" and D(row["marginBalance"]) == D(1000000) - D("9528.5") + D("12509.5")

    # a resting order cancelled, then refusals as ccxt's exceptions, nothing changed
    rest = buyer.create_order(SYM, "limit", "buy", 0.5, 1000)
    assert buyer.cancel_order(rest["id"], SYM)["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        buyer.cancel_order(rest["id"], SYM)
    poor_creds = venue.new_account("100")
    poor = client(venue, poor_creds)
    with pytest.raises(ccxt.InsufficientFunds):
        poor.create_order(SYM, "limit", "sell", 1, 3000)  # a 9,528.5 hold from 100
    with pytest.raises(ccxt.InvalidOrder):
        poor.create_order(SYM, "market", "buy", 1)  # ccxt itself: options take limit orders only
    with pytest.raises(ccxt.BadSymbol):
        poor.eapiPrivatePostOrder({"symbol": "BTC-200101-1-C", "side": "BUY", "type": "LIMIT", "quantity": "1",
                                   "price": "5"})  # fmt: skip
    assert poor.fetch_open_orders(SYM) == [] and buyer.fetch_open_orders(SYM) == []
    assert usdt(venue, poor_creds) == 100


def test_hostile_order_parameters(venue: InProcessVenue) -> None:
    who = venue.new_account("100000")
    base = {"symbol": ID, "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "3000"}
    for change, code in (
        ({"quantity": "１"}, -1100),  # full-width digit
        ({"price": "3e3"}, -1100),
        ({"price": "3001"}, -1013),  # off the 5 USDT tick
        ({"quantity": "0.001"}, -1013),  # off the 0.01 step
        ({"quantity": "0"}, -1013),
        ({"type": "MARKET"}, -1116),
        ({"side": "HOLD"}, -1117),
        ({"timeInForce": "GTD"}, -1115),
        ({"symbol": "BTC-USD-261225-100000-C"}, -1121),  # an OKX option is not served on /eapi
        ({"symbol": "x" * 500}, -1121),
    ):
        status, body = signed(venue.base, "/eapi/v1/order", who["apiKey"], who["secret"], "POST",
                              params={**base, **change})  # fmt: skip
        assert (status, body["code"]) == (400, code), (change, body)
    status, body = signed(venue.base, "/eapi/v1/order", who["apiKey"], who["secret"], params={"symbol": ID})
    assert (status, body["code"]) == (400, -1102)
    status, body = request(venue.base + "/eapi/v1/nothing")
    assert (status, body["code"]) == (404, -5000)
    assert usdt(venue, who) == 100000
    assert signed(venue.base, "/eapi/v1/openOrders", who["apiKey"], who["secret"])[1] == []
