"""End to end with the unmodified ccxt `binance` (spot and isolated margin) against `isomargin serve` on 127.0.0.1:
USDT moved into the BTC/USDT isolated margin account and partly back, a borrow, a MARGIN_BUY against a resting ask
of a second account, the margin account (margin level, liquidation price), interest over operator-advanced hours,
refusals mapped to Binance's margin codes, and a liquidation by a mark move that costs the owner no more than the
pair's collateral.

Figures worked by hand (Binance BTC-USDT 10x: liquidation margin level 1.05, fee 0.1 % taken from what is bought;
daily rate set to 0.0003 here, so an hour's interest is principal × 0.0000125 rounded up to 1e-10):
  in 10,000, out 100 → 9,900 USDT; borrow 1,234.5679 → first hour 0.01543209875 → 0.0154320988;
  buy 0.3 BTC at 60,000 = 18,000: MARGIN_BUY borrows 18,000 − 11,134.5679 = 6,865.4321 → 0.08581790125 →
  0.0858179013; principal 8,100 → 0.10125 an hour after; base held 0.3 − 0.0003 fee = 0.2997 BTC.
  margin level at 60,000 = 0.2997 × 60,000 / (8,100 + 0.1012500001) = 17,982 / 8,100.1012500001.
  5 hours ahead: owed 8,100 + 0.1012500001 + 5 × 0.10125 = 8,100.6075000001; liquidation price 1.05 × owed / 0.2997.
  Liquidated into a bid at 27,990: 0.2997 × 27,990 × 0.999 = 8,380.214397, less owed, less 2 % of owed
  (162.0121500001, rounded up) = 117.5947469998 back to the wallet; the wallet lost 9,900 − that, BTC untouched.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

import ccxt
import pytest

from isomargin.server.testing import RunningVenue, ccxt_urls, signed

SYM = "BTC/USDT"
D = Decimal
HOUR = 3_600_000
RATE = D("0.0003")
QUANTUM = D("1E-10")
HOURS_AHEAD = 5


def hourly(principal: Decimal) -> Decimal:
    """One hour's interest, rounded up to the quantum (the lender's side)."""
    return (principal * RATE / 24).quantize(QUANTUM, rounding=ROUND_CEILING)


def client(venue: RunningVenue, creds: dict[str, Any]) -> Any:
    ex = ccxt.binance({"apiKey": creds["apiKey"], "secret": creds["secret"], "options": {"fetchCurrencies": False}})
    ex.urls["api"].update(ccxt_urls(venue.base))
    ex.load_markets()
    return ex


@pytest.fixture(scope="module")
def trader(venue: RunningVenue) -> Any:
    return client(venue, venue.credentials())


@pytest.fixture(scope="module")
def maker(venue: RunningVenue) -> Any:
    creds = venue.new_account("5000000")
    venue.admin("deposit", {"account": creds["account"], "asset": "BTC", "amount": "10"})
    return client(venue, creds)


def native(venue: RunningVenue, path: str, params: dict[str, Any] | None = None) -> Any:
    creds = venue.credentials()
    status, body = signed(venue.base, "/api/v1" + path, creds["apiKey"], creds["secret"], params=params)
    assert status == 200, body
    return body


def wallet(venue: RunningVenue, asset: str) -> Decimal:
    return D(native(venue, "/balances")[asset]["wallet"])


def isolated(trader: Any) -> dict[str, Any]:
    (row,) = trader.sapiGetMarginIsolatedAccount({"symbols": "BTCUSDT"})["assets"]
    return dict(row)


def test_markets_and_public_data(trader: Any) -> None:
    m = trader.market(SYM)
    assert m["spot"] and m["margin"] and m["id"] == "BTCUSDT"
    assert m["precision"]["price"] == 0.01 and m["precision"]["amount"] == 0.00001 and m["limits"]["cost"]["min"] == 5
    assert "BTC/USDT:USDT" in trader.markets  # the perpetual sits beside the spot pair
    assert trader.fetch_ticker(SYM)["last"] == 60000  # nothing traded: the mark
    assert trader.fetch_order_book(SYM)["bids"] == []
    assert abs(trader.fetch_time() - trader.milliseconds()) < 5000
    rates = trader.fetch_isolated_borrow_rate(SYM)
    assert rates["base"] == "BTC" and rates["quote"] == "USDT" and rates["quoteRate"] == 0.00024


def test_margin_flow(venue: RunningVenue, trader: Any, maker: Any) -> None:
    venue.admin("spot/borrow-rate", {"symbol": "BTC-USDT", "asset": "USDT", "daily_rate": str(RATE)})
    assert trader.fetch_isolated_borrow_rate(SYM)["quoteRate"] == 0.0003
    usdt0, btc0 = wallet(venue, "USDT"), wallet(venue, "BTC")
    spot = trader.fetch_balance()
    assert spot["USDT"]["free"] == float(usdt0) and spot["BTC"]["free"] == float(btc0)

    trader.transfer("USDT", 10000, "spot", SYM)
    trader.transfer("USDT", 100, SYM, "spot")
    assert wallet(venue, "USDT") == usdt0 - 9900
    loan = trader.borrow_isolated_margin(SYM, "USDT", 1234.5679)
    assert int(loan["id"]) > 0

    ask = maker.create_order(SYM, "limit", "sell", 0.5, 60000)
    assert ask["status"] == "open"
    resting = trader.create_order(SYM, "limit", "buy", 0.01, 50000, {"marginMode": "isolated"})
    assert [o["id"] for o in trader.fetch_open_orders(SYM, params={"marginMode": "isolated"})] == [resting["id"]]
    assert trader.cancel_order(resting["id"], SYM, {"marginMode": "isolated"})["status"] == "canceled"
    assert trader.fetch_open_orders(SYM, params={"marginMode": "isolated"}) == []

    order = trader.create_order(SYM, "limit", "buy", 0.3, 60000,
                                {"marginMode": "isolated", "sideEffectType": "MARGIN_BUY"})  # fmt: skip
    assert order["status"] == "closed" and order["filled"] == 0.3 and order["cost"] == 18000
    assert order["info"]["marginBuyBorrowAmount"] == "6865.4321" and order["fee"]["cost"] == 0.0003
    assert trader.fetch_order(order["id"], SYM, {"marginMode": "isolated"})["status"] == "closed"
    (fill,) = trader.fetch_my_trades(SYM, params={"marginMode": "isolated"})
    assert fill["order"] == order["id"] and fill["price"] == 60000 and fill["amount"] == 0.3
    assert maker.fetch_my_trades(SYM)[0]["side"] == "sell"  # the maker's fill is a wallet (spot) one

    first = hourly(D("1234.5679")) + hourly(D("6865.4321"))
    assert first == D("0.0154320988") + D("0.0858179013")
    bal = trader.fetch_balance({"type": "margin", "marginMode": "isolated"})
    assert bal["BTC"]["free"] == 0.2997 and bal["USDT"]["free"] == 0
    assert D(str(bal["USDT"]["debt"])) == D("8100") + first
    row = isolated(trader)
    level = D("0.2997") * 60000 / (D("8100") + first)
    assert D(row["marginLevel"]) == level.quantize(D("1E-8"), ROUND_DOWN)
    assert row["marginLevelStatus"] == "NORMAL" and row["quoteAsset"]["borrowed"] == "8100"
    liq = D("1.05") * (D("8100") + first) / D("0.2997")  # margin level 1.05 at the liquidation price
    assert D(row["liquidatePrice"]) == liq.quantize(D("1E-8"), ROUND_UP)
    assert D(native(venue, "/margin/isolated/accounts/BTC-USDT")["position"]["liquidation_price"]) == pytest.approx(
        liq, rel=D("1E-15")
    )

    # interest: the operator charges the hours up to HOURS_AHEAD ahead of the server clock now
    now = trader.fetch_time()
    ahead = now + HOURS_AHEAD * HOUR
    venue.admin("spot/accrue-interest", {"ts": ahead})
    rows = trader.fetch_borrow_interest("USDT", SYM, None, 100)
    on_borrow = [r for r in rows if r["info"]["type"] == "ON_BORROW"]
    periodic = [r for r in rows if r["info"]["type"] == "PERIODIC"]
    assert sorted(r["amountBorrowed"] for r in on_borrow) == [1234.5679, 6865.4321]
    start = min(r["timestamp"] for r in on_borrow)
    assert len(periodic) == (ahead - ahead % HOUR - (start - start % HOUR)) // HOUR >= HOURS_AHEAD
    for r in periodic:  # each whole hour: the principal then owed × rate / 24, rounded up to 1e-10
        assert D(r["info"]["interest"]) == hourly(D(r["info"]["principal"]))
        assert r["interestRate"] == 0.0003 and r["marginMode"] == "isolated" and r["symbol"] == "BTCUSDT"
    total = sum((D(r["info"]["interest"]) for r in rows), D(0))
    if len(periodic) == HOURS_AHEAD and all(r["info"]["principal"] == "8100" for r in periodic):
        assert total == first + HOURS_AHEAD * D("0.10125")
    row = isolated(trader)
    assert D(row["quoteAsset"]["interest"]) == total
    owed = D("8100") + total
    assert D(row["liquidatePrice"]) == (D("1.05") * owed / D("0.2997")).quantize(D("1E-8"), ROUND_UP)

    # refusals in Binance's margin codes
    with pytest.raises(ccxt.ExchangeError, match="-3006"):
        trader.borrow_isolated_margin(SYM, "USDT", 100000)
    with pytest.raises(ccxt.ExchangeError, match="-3015"):
        trader.repay_isolated_margin(SYM, "USDT", 9000)
    with pytest.raises(ccxt.ExchangeError, match="-3020"):
        trader.transfer("BTC", 0.2, SYM, "spot")  # leaves the margin level under the transfer-out level 2
    with pytest.raises(ccxt.BadSymbol):
        trader.sapiPostMarginBorrowRepay({"asset": "USDT", "symbol": "DOGEUSDT", "isIsolated": "TRUE",
                                          "type": "BORROW", "amount": "1"})  # fmt: skip
    with pytest.raises(ccxt.InsufficientFunds):
        trader.create_order(SYM, "limit", "buy", 1, 60000, {"marginMode": "isolated"})  # no free USDT, no side effect

    # a mark under the liquidation price: the account is liquidated through the maker's bid
    maker.create_order(SYM, "limit", "buy", 1, 27990)
    usdt1 = wallet(venue, "USDT")
    assert usdt1 == usdt0 - 9900
    mark = (D("1.05") * owed / D("0.2997") - 30).quantize(D("0.01"))
    venue.admin("spot/mark-price", {"symbol": "BTC-USDT", "price": str(mark)})
    row = isolated(trader)
    assert row["quoteAsset"]["borrowed"] == "0" and row["quoteAsset"]["interest"] == "0"
    assert row["baseAsset"]["totalAsset"] == "0" and row["marginLevelStatus"] == "EXCESSIVE"
    steps = native(venue, "/margin/isolated/alerts", {"symbol": "BTC-USDT"})["liquidations"]
    assert steps and steps[-1]["step"] == "done"
    returned = sum((D(s["returned"]) for s in steps), D(0))
    usdt2 = wallet(venue, "USDT")
    assert usdt2 == usdt1 + returned  # what was left of the pair's account came back, nothing else moved
    # sold 0.2997 at the bid 27,990 less the 0.1 % fee, the loan and interest repaid, 2 % of that to the fund
    fee = (D("0.02") * owed).quantize(QUANTUM, rounding=ROUND_CEILING)
    assert returned == D("0.2997") * 27990 * D("0.999") - owed - fee
    assert 0 <= returned < 9900 and usdt0 - usdt2 <= 9900  # the loss stays within the pair's collateral
    assert wallet(venue, "BTC") == btc0
    assert trader.fetch_balance()["USDT"]["free"] == float(usdt2)


def test_spot_wallet_orders(venue: RunningVenue, maker: Any) -> None:
    before = maker.fetch_balance()["USDT"]
    order = maker.create_order("ETH/USDT", "limit", "buy", 1, 2500)
    assert order["status"] == "open" and order["price"] == 2500
    assert maker.fetch_balance()["USDT"]["used"] == before["used"] + 2500  # locked by the order
    assert maker.fetch_order(order["id"], "ETH/USDT")["remaining"] == 1
    assert [o["id"] for o in maker.fetch_open_orders("ETH/USDT")] == [order["id"]]
    assert maker.cancel_order(order["id"], "ETH/USDT")["status"] == "canceled"
    assert [o["status"] for o in maker.fetch_orders("ETH/USDT")] == ["canceled"]
    assert maker.fetch_balance()["USDT"]["free"] == before["free"]
    with pytest.raises(ccxt.OrderNotFound):
        maker.cancel_order(order["id"], "ETH/USDT")
    with pytest.raises(ccxt.InvalidOrder):
        maker.create_order("ETH/USDT", "limit", "buy", 0.001, 2500)  # 2.5 USDT: under the minimum notional 5


def test_borrow_and_repay_through_ccxt(venue: RunningVenue, trader: Any) -> None:
    """After the liquidation: 100 USDT in, borrow 50 (first hour 50 × 0.0003 / 24 = 0.000625), repay 50.000625:
    100 + 50 − 50.000625 = 99.999375 left, all of which may go back."""
    trader.transfer("USDT", 100, "spot", SYM)
    trader.borrow_isolated_margin(SYM, "USDT", 50)
    assert isolated(trader)["quoteAsset"]["interest"] == "0.000625"
    trader.repay_isolated_margin(SYM, "USDT", 50.000625)
    q = isolated(trader)["quoteAsset"]
    assert (q["borrowed"], q["interest"], q["free"]) == ("0", "0", "99.999375")
    trader.transfer("USDT", 99.999375, SYM, "spot")  # nothing owed: all of it may go back
    assert isolated(trader)["quoteAsset"]["totalAsset"] == "0"
    tickers = trader.fetch_tickers(["BTC/USDT", "ETH/USDT"])
    assert set(tickers) == {"BTC/USDT", "ETH/USDT"} and tickers["ETH/USDT"]["last"] == 3000
