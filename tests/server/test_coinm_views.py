"""Coin-margined markets on the native API and the streams, against a live server: balances keyed by asset
(USDT, BTC, ETH side by side), the insurance fund seeded per settle asset, deposits and withdrawals per asset,
an inverse position shown in contracts with its margin asset, fees and income in the coin, and ACCOUNT_UPDATE
carrying every asset; the venue's histories rebuild after a restart with the coin kept."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
from websockets.sync.client import connect

from isomargin.server.config import VenueConfig
from isomargin.server.testing import InProcessVenue, RunningVenue, ccxt_urls, request, signed

ARGS = ("--no-feed", "--no-market-maker", "--rate-limit", "0")


def call(v: RunningVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None) -> Any:
    status, answer = signed(v.base, path, who["apiKey"], who["secret"], method, body=body)
    assert status == 200, answer
    return answer


def test_coin_figures_on_native_and_streams(tmp_path: Path) -> None:
    with RunningVenue(tmp_path / "data", *ARGS) as v:
        # the USDT seed's worth at the start price: 1,000,000 / 60,000 = 16.66666667 BTC; / 3,000 = 333.33… ETH
        assert request(v.base + "/api/v1/insurance-fund?asset=BTC")[1]["balance"] == "16.66666667"
        assert request(v.base + "/api/v1/insurance-fund?asset=ETH")[1]["balance"] == "333.33333333"
        assert request(v.base + "/api/v1/insurance-fund")[1]["balance"] == "1000000"
        maker, taker = v.new_account("1"), v.new_account("1")
        for who, amount in ((maker, "10"), (taker, "2")):
            v.admin("deposit", {"account": who["account"], "asset": "BTC", "amount": amount})
        v.admin("withdraw", {"account": taker["account"], "asset": "BTC", "amount": "1"})
        bal = call(v, taker, "/api/v1/balances")
        assert list(bal) == ["USDT", "BTC", "ETH"] and bal["BTC"]["wallet"] == "1" and bal["ETH"]["wallet"] == "0"
        assert call(v, taker, "/api/v1/account")["balances"]["BTC"]["wallet"] == "1"

        # native quantities are the engine's: face value in USD (3 contracts of 100 USD = 300)
        ask = {"symbol": "BTCUSD_PERP", "side": "SELL", "type": "LIMIT", "quantity": "300", "price": "60000"}
        assert call(v, maker, "/api/v1/orders", "POST", ask)["status"] == "NEW"
        lk = call(v, taker, "/api/v1/listen-key", "POST")["listenKey"]
        seen: list[dict[str, Any]] = []
        with connect(v.base.replace("http", "ws") + f"/ws?listenKey={lk}") as ws:
            buy = {"symbol": "BTCUSD_PERP", "side": "BUY", "type": "MARKET", "quantity": "300"}
            assert call(v, taker, "/api/v1/orders", "POST", buy)["status"] == "FILLED"
            end = time.time() + 8
            while time.time() < end and not any(m.get("e") == "ACCOUNT_UPDATE" for m in seen):
                seen.append(json.loads(ws.recv(timeout=5)))
        (acct,) = [m for m in seen if m["e"] == "ACCOUNT_UPDATE"]
        assert acct["balances"]["wallet"] == "1"  # "balances" stays USDT's (new_account deposits 1 USDT)
        assert set(acct["assets"]) == {"USDT", "BTC", "ETH"} and Decimal(acct["assets"]["BTC"]["wallet"]) < 1
        (trade,) = [m for m in seen if m["e"] == "TRADE"]
        assert trade["asset"] == "BTC" and trade["qty"] == "300"
        (fill,) = call(v, taker, "/api/v1/fills")
        assert fill["asset"] == "BTC" and Decimal(fill["fee"]) == Decimal("0.000002")
        (pos,) = acct["positions"]
        assert pos["symbol"] == "BTCUSD_PERP" and pos["margin_asset"] == "BTC" and pos["size"] == "300"

        (view,) = call(v, taker, "/api/v1/positions")
        assert (view["kind"], view["margin_asset"], view["base_asset"], view["quote_asset"]) == (
            "inverse", "BTC", "BTC", "USD")  # fmt: skip
        assert Decimal(view["contracts"]) == 3 and Decimal(view["contract_size"]) == 100
        # coin value 300 / 60,000 = 0.005 BTC; taker fee 0.04 % of it = 0.000002 BTC
        assert Decimal(view["notional"]) == Decimal("0.005")
        (fee,) = [r for r in call(v, taker, "/api/v1/income") if r["incomeType"] == "COMMISSION"]
        assert fee["asset"] == "BTC" and Decimal(fee["income"]) == Decimal("-0.000002")
        (dfee,) = call(v, taker, "/dapi/v1/income")
        assert dfee["asset"] == "BTC"
        assert call(v, taker, "/fapi/v1/income") == []  # /fapi shows the linear markets only
        (row,) = [p for p in call(v, taker, "/dapi/v1/positionRisk") if p["positionAmt"] != "0"]
        assert row["positionAmt"] == "3" and Decimal(row["notionalValue"]) == Decimal("0.005")
        assert call(v, taker, "/fapi/v2/positionRisk") == []
        before = call(v, taker, "/dapi/v1/income")
    with RunningVenue(tmp_path / "data", *ARGS) as v:  # restarted: the coin of each income row is kept
        assert call(v, taker, "/dapi/v1/income") == before
        assert request(v.base + "/api/v1/insurance-fund?asset=BTC")[1]["balance"] == "16.66666667"


def test_a_dated_future_is_listed_with_its_delivery_date(tmp_path: Path) -> None:
    """BTCUSD_200925 from the venue data (expiry 2020-09-25 08:00 UTC = 1601020800000 ms) listed beside the
    perpetual: exchangeInfo says CURRENT_QUARTER and its deliveryDate; ccxt binancecoinm reads it as a future."""
    config = VenueConfig(data_dir=tmp_path / "data", admin_key="test-admin", market_maker=False, feed=False,
                         coinm_symbols=("BTCUSD_PERP", "BTCUSD_200925"))  # fmt: skip
    with InProcessVenue(config) as v:
        info = {s["symbol"]: s for s in request(v.base + "/dapi/v1/exchangeInfo")[1]["symbols"]}
        assert (info["BTCUSD_200925"]["contractType"], info["BTCUSD_200925"]["deliveryDate"]) == (
            "CURRENT_QUARTER", 1601020800000)  # fmt: skip
        assert (info["BTCUSD_PERP"]["contractType"], info["BTCUSD_PERP"]["deliveryDate"]) == (
            "PERPETUAL", 4133404800000)  # fmt: skip
        assert info["BTCUSD_200925"]["pair"] == "BTCUSD" and info["BTCUSD_200925"]["contractSize"] == 100
        ex = ccxt.binancecoinm({"options": {"fetchCurrencies": False}})
        ex.urls["api"].update(ccxt_urls(v.base))
        ex.load_markets()
        m = ex.market("BTC/USD:BTC-200925")
        assert m["future"] and m["expiry"] == 1601020800000 and m["inverse"] and m["contractSize"] == 100
