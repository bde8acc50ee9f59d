"""End to end with the unmodified ccxt `binancecoinm` against a live server on 127.0.0.1: Binance COIN-M
(/dapi) markets, balances in BTC and ETH, an isolated 10x BTCUSD_PERP long in contracts, its liquidation price
before and after margin changes, open orders, leverage tiers, income and funding, and a liquidation by an
operator mark move that costs the trader the isolated margin and nothing more.

Reference numbers are derived by hand below (exact fractions), from Binance's COIN-M isolated liquidation
formula as margin/inverse.py states it: WB + Q·(1/EP − 1/LP) = Q/LP·MMR − cum for a long, i.e.
LP = Q·(1 + MMR) / (WB + cum + Q/EP), with Q the face value (contracts × 100 USD) and WB the isolated margin.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import ccxt
import pytest

from isomargin.server.testing import RunningVenue, ccxt_urls, request, signed

BTC = "BTC/USD:BTC"
ETH = "ETH/USD:ETH"
COIN_QUANTUM = 1e-10  # the engine keeps coin amounts in 1e-10 units; a cost or pool rounds by one at most


def client(venue: RunningVenue, creds: dict[str, Any]) -> Any:
    ex = ccxt.binancecoinm({"apiKey": creds["apiKey"], "secret": creds["secret"],
                            "options": {"fetchCurrencies": False}})  # fmt: skip
    ex.urls["api"].update(ccxt_urls(venue.base))
    ex.load_markets()
    return ex


def funded(venue: RunningVenue, **coins: str) -> dict[str, Any]:
    creds = venue.new_account("1")
    for asset, amount in coins.items():
        venue.admin("deposit", {"account": creds["account"], "asset": asset, "amount": amount})
    return creds


def insurance_btc(venue: RunningVenue) -> Decimal:
    status, body = request(f"{venue.base}/api/v1/insurance-fund?asset=BTC")
    assert status == 200 and body["asset"] == "BTC"
    return Decimal(body["balance"])


def native(venue: RunningVenue, creds: dict[str, Any], path: str) -> Any:
    status, body = signed(venue.base, f"/api/v1/{path}", creds["apiKey"], creds["secret"])
    assert status == 200, body
    return body


@pytest.fixture(scope="module")
def trader(venue: RunningVenue) -> Any:
    return client(venue, venue.credentials())


@pytest.fixture(scope="module")
def maker(venue: RunningVenue) -> Any:
    return client(venue, funded(venue, BTC="100", ETH="1000"))


def test_coinm_markets(trader: Any) -> None:
    assert set(trader.markets) == {BTC, ETH}  # COIN-M lists only the coin-margined markets
    m = trader.market(BTC)
    assert m["id"] == "BTCUSD_PERP" and m["inverse"] and m["swap"] and m["settle"] == "BTC" and m["quote"] == "USD"
    assert m["contractSize"] == 100 and m["precision"]["amount"] == 1 and m["precision"]["price"] == 0.1
    assert m["limits"]["amount"]["min"] == 1
    assert trader.market(ETH)["contractSize"] == 10 and trader.market(ETH)["settle"] == "ETH"
    assert trader.fetch_ticker(BTC)["last"] == 60000
    assert trader.fetch_funding_rate(BTC)["markPrice"] == 60000
    assert trader.fetch_order_book(BTC)["bids"] == []
    assert all(b[5] == 0 for b in trader.fetch_ohlcv(BTC, "1m"))  # no trade yet: mark bars, no volume
    assert abs(trader.fetch_time() - trader.milliseconds()) < 5000
    # Binance COIN-M brackets are by the position's notional in the coin (qtyFloor/qtyCap, BTC): BTCUSD 125x up
    # to 10 BTC at 0.4 %, then 100x up to 20 BTC at 0.5 % (venues/data/binancecoinm.json, 2020-06-11 page).
    tiers = trader.fetch_leverage_tiers([BTC])[BTC]
    assert (tiers[0]["maxLeverage"], tiers[0]["maxNotional"], tiers[0]["maintenanceMarginRate"]) == (125, 10, 0.004)
    assert (tiers[1]["minNotional"], tiers[1]["maintenanceMarginRate"], tiers[1]["info"]["cum"]) == (10, 0.005, 0.01)


def test_coinm_balance_in_each_coin(trader: Any) -> None:
    b = trader.fetch_balance()
    assert b["BTC"]["free"] == 10 and b["BTC"]["total"] == 10  # the demo account's coin deposits
    assert b["ETH"]["free"] == 200 and "USDT" not in b  # USDT belongs to /fapi


def test_isolated_long_liquidation_story(venue: RunningVenue, trader: Any, maker: Any) -> None:
    creds = venue.credentials()
    maker.create_order(BTC, "limit", "sell", 100, 60000)
    maker.create_order(BTC, "limit", "buy", 100, 53500)
    trader.set_margin_mode("isolated", BTC)
    with pytest.raises(ccxt.MarginModeAlreadySet):
        trader.set_margin_mode("isolated", BTC)
    assert trader.set_leverage(10, BTC)["leverage"] == 10

    order = trader.create_order(BTC, "market", "buy", 50)  # 50 contracts of 100 USD: Q = 5000 USD
    q = Fraction(5000)
    entry = Fraction(60000)
    value = q / entry  # 1/12 BTC
    im = value / 10  # 10x: 1/120 BTC = 0.0083333…
    fee = value * Fraction(4, 10000)  # taker 0.04 % of the coin value: 1/30000 BTC
    assert order["status"] == "closed" and order["filled"] == 50 and order["amount"] == 50
    assert order["average"] == pytest.approx(60000, rel=1e-9)
    assert order["cost"] == pytest.approx(float(value), abs=COIN_QUANTUM)  # cumBase: the fill's value in BTC
    (trade,) = trader.fetch_my_trades(BTC)
    assert trade["amount"] == 50 and trade["price"] == 60000 and trade["fee"]["currency"] == "BTC"
    assert trade["fee"]["cost"] == pytest.approx(float(fee), abs=COIN_QUANTUM)

    (pos,) = trader.fetch_positions([BTC])
    assert pos["contracts"] == 50 and pos["contractSize"] == 100 and pos["side"] == "long"
    assert pos["marginMode"] == "isolated" and pos["leverage"] == 10
    assert pos["notional"] == pytest.approx(float(value), abs=COIN_QUANTUM)
    assert pos["collateral"] == pytest.approx(float(im), abs=COIN_QUANTUM)
    # LP = Q(1 + MMR)/(WB + Q/EP), tier 1 (coin notional < 10 BTC): MMR 0.4 %, cum 0
    #    = 5020 / (1/120 + 1/12) = 5020 · 120/11 = 602400/11 = 54763.6363…
    lp1 = q * Fraction(1004, 1000) / (im + value)
    assert lp1 == Fraction(602400, 11)
    assert pos["liquidationPrice"] == pytest.approx(float(lp1), rel=1e-8)
    bal = trader.fetch_balance()["BTC"]
    assert bal["used"] == pytest.approx(float(im), abs=COIN_QUANTUM)
    assert bal["free"] == pytest.approx(float(10 - im - fee), abs=2 * COIN_QUANTUM)

    # add 1 BTC (ccxt's addMargin sends type=1; it rounds the amount to the market's amount precision, whole
    # units, so fractions go through the implicit endpoint below): WB = 121/120
    #    LP = 5020 / (121/120 + 10/120) = 602400/131 = 4598.47…
    assert trader.add_margin(BTC, 1)["code"] == "BTC"
    (pos,) = trader.fetch_positions([BTC])
    lp2 = q * Fraction(1004, 1000) / (im + 1 + value)
    assert pos["liquidationPrice"] == pytest.approx(float(lp2), rel=1e-8) and lp2 < lp1
    # remove 0.998 BTC (type=2): WB = 1/120 + 0.002 = 31/3000; LP = 5020 / (281/3000) = 15060000/281 = 53594.31…
    answer = trader.dapiPrivatePostPositionMargin({"symbol": "BTCUSD_PERP", "amount": "0.998", "type": 2})
    assert answer["code"] == 200 and answer["type"] == 2
    (pos,) = trader.fetch_positions([BTC])
    margin = im + Fraction(2, 1000)
    lp3 = q * Fraction(1004, 1000) / (margin + value)
    assert lp3 == Fraction(15060000, 281)
    assert pos["liquidationPrice"] == pytest.approx(float(lp3), rel=1e-8) and lp2 < lp3 < lp1
    assert pos["collateral"] == pytest.approx(float(margin), abs=COIN_QUANTUM)
    history = trader.dapiPrivateGetPositionMarginHistory({"symbol": "BTCUSD_PERP"})
    assert [(h["type"], h["amount"], h["asset"]) for h in history] == [(1, "1", "BTC"), (2, "0.998", "BTC")]

    # a resting limit order in contracts: listed, then cancelled
    limit = trader.create_order(BTC, "limit", "buy", 10, 50000)
    assert limit["status"] == "open" and limit["amount"] == 10 and limit["price"] == 50000
    assert [o["id"] for o in trader.fetch_open_orders(BTC)] == [limit["id"]]
    assert trader.fetch_order(limit["id"], BTC)["remaining"] == 10
    assert trader.cancel_order(limit["id"], BTC)["id"] == limit["id"]
    assert trader.fetch_open_orders(BTC) == []
    assert trader.fetch_order(limit["id"], BTC)["status"] == "canceled"
    # a reduce-only stop (ccxt sends conditional COIN-M orders to v1/algoOrder): listed with trigger, cancelled
    stop = trader.create_order(BTC, "market", "sell", 50, None, {"triggerPrice": 55000, "reduceOnly": True})
    assert stop["status"] == "open" and stop["triggerPrice"] == 55000 and stop["amount"] == 50
    assert [o["id"] for o in trader.fetch_open_orders(BTC, params={"trigger": True})] == [stop["id"]]
    assert trader.fetch_open_orders(BTC) == []  # plain openOrders: no conditional ones, as on /fapi
    trader.cancel_order(stop["id"], BTC, {"trigger": True})
    assert trader.fetch_open_orders(BTC, params={"trigger": True}) == []

    # the operator moves the mark below the LP: the position is closed at or better than bankruptcy,
    # BP = Q / (WB + Q/EP) = 5000 · 3000/281 = 53380.78… (the maker's bid at 53500 is better)
    before = native(venue, creds, "balances")["BTC"]
    fund_before = insurance_btc(venue)
    venue.admin("mark-price", {"symbol": "BTCUSD_PERP", "price": "53000"})
    assert trader.fetch_positions([BTC]) == []
    after = native(venue, creds, "balances")["BTC"]
    pool = Decimal(before["isolated_margin"])
    assert abs(pool - Decimal(margin.numerator) / Decimal(margin.denominator)) <= Decimal("1e-10")
    total_before = Decimal(before["wallet"]) + pool
    total_after = Decimal(after["wallet"]) + Decimal(after["isolated_margin"])
    loss = total_before - total_after
    assert 0 < loss <= pool  # the isolated margin, in BTC, and not a satoshi of the wallet
    assert Decimal(after["wallet"]) == Decimal(before["wallet"])
    # the trader's PnL at 53500: Q·(1/60000 − 1/53500) = −0.0101246… BTC; what is left of the pool
    # (31/3000 − 0.0101246… ≈ 0.000209 BTC) goes to the BTC insurance fund
    pnl = q * (1 / entry - Fraction(1, 53500))
    fund_after = insurance_btc(venue)
    assert float(fund_after - fund_before) == pytest.approx(float(margin + pnl), abs=3 * COIN_QUANTUM)
    income = trader.dapiPrivateGetIncome({"incomeType": "REALIZED_PNL"})
    assert income[-1]["asset"] == "BTC"
    assert float(income[-1]["income"]) == pytest.approx(float(pnl), abs=3 * COIN_QUANTUM)
    assert trader.fetch_balance()["BTC"]["total"] == pytest.approx(float(total_after), abs=COIN_QUANTUM)


def test_funding_paid_in_the_coin(venue: RunningVenue, maker: Any) -> None:
    creds = funded(venue, ETH="10")
    trader = client(venue, creds)
    assert trader.fetch_position_mode(ETH)["hedged"] is False
    maker.create_order(ETH, "limit", "sell", 10, 3000)
    filled = trader.create_order(ETH, "limit", "buy", 10, 3000)  # crosses: 10 contracts of 10 USD, Q = 100 USD
    assert filled["status"] == "closed" and filled["filled"] == 10 and filled["average"] == pytest.approx(3000)
    assert filled["cost"] == pytest.approx(100 / 3000, abs=COIN_QUANTUM)  # cumBase, ETH
    assert trader.fetch_leverage(ETH)["marginMode"] == "cross"
    venue.admin("funding", {"symbol": "ETHUSD_PERP", "rate": "0.0001"})
    # a long pays Q / mark × rate = 100 / 3000 × 0.0001 = 1/300000 ETH
    (row,) = trader.fetch_funding_history(ETH)
    assert row["code"] == "ETH" and row["symbol"] == ETH
    assert row["amount"] == pytest.approx(-1 / 300000, abs=COIN_QUANTUM)
    assert trader.fetch_positions([ETH])[0]["contracts"] == 10


def test_the_apis_do_not_mix(venue: RunningVenue, trader: Any) -> None:
    usdm = ccxt.binanceusdm({"apiKey": trader.apiKey, "secret": trader.secret, "options": {"fetchCurrencies": False}})
    usdm.urls["api"].update(ccxt_urls(venue.base))
    usdm.load_markets()
    assert "BTC/USD:BTC" not in usdm.markets and "BTC/USDT:USDT" in usdm.markets
    with pytest.raises(ccxt.BadSymbol):
        trader.dapiPublicGetDepth({"symbol": "BTCUSDT"})
    with pytest.raises(ccxt.BadSymbol):
        usdm.fapiPublicGetDepth({"symbol": "BTCUSD_PERP"})
    with pytest.raises(ccxt.BadRequest):  # 1.5 contracts: Binance's -1111 precision error, nothing placed
        trader.dapiPrivatePostOrder({"symbol": "BTCUSD_PERP", "side": "BUY", "type": "MARKET", "quantity": "1.5"})
    assert trader.fetch_open_orders(BTC) == [] and trader.fetch_positions([BTC]) == []
