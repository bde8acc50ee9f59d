"""The native spot and isolated-margin API against a live in-process venue: listing, transfers in and out (the
transfer-out level), borrowing (the first hour at once), hourly interest charged ahead by the operator and after a
rate change, repaying interest first, spot orders from the wallet and from the margin account with MARGIN_BUY,
the book, cancels, the histories, the account stream, and hostile input refused with nothing changed.

Every expected figure is worked out by hand below from the pair's published parameters (Binance BTC-USDT, 10×:
borrow level 1.111, transfer-out level 2, daily rate 0.00024 in both assets, fee 0.1 %), not read from the engine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from isomargin.server.config import VenueConfig
from isomargin.server.schedule import HOUR_MS, next_hour
from isomargin.server.testing import InProcessVenue, request, signed

PAIR = "BTC-USDT"
D = Decimal


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVenue]:
    data: Path = tmp_path_factory.mktemp("spot") / "data"
    config = VenueConfig(data_dir=data, admin_key="spot-admin", market_maker=False, feed=False, rate_limit=0,
                         interest_schedule=False, spot_pairs=((PAIR, "binance"),))  # fmt: skip
    with InProcessVenue(config) as v:  # BTC-USDT is listed at start-up at its start price, 60,000
        yield v


def call(v: InProcessVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None,
         params: dict[str, Any] | None = None) -> tuple[int, Any]:  # fmt: skip
    return signed(v.base, "/api/v1" + path, who["apiKey"], who["secret"], method, params=params, body=body)


def ok(v: InProcessVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None,
       params: dict[str, Any] | None = None) -> Any:  # fmt: skip
    status, data = call(v, who, path, method, body, params)
    assert status == 200, (path, data)
    return data


def view(v: InProcessVenue, who: dict[str, Any]) -> Any:
    return ok(v, who, f"/margin/isolated/accounts/{PAIR}")


def wallet(v: InProcessVenue, who: dict[str, Any], asset: str = "USDT") -> Decimal:
    return D(ok(v, who, "/balances")[asset]["wallet"])


def usdt(m: Any) -> dict[str, Any]:
    return dict(m["assets"]["USDT"])


def test_pairs_listing_and_book(venue: InProcessVenue) -> None:
    status, pairs = request(venue.base + "/api/v1/spot/pairs")
    assert status == 200 and [p["symbol"] for p in pairs] == [PAIR]
    p = pairs[0]
    assert p["mark_price"] == "60000"
    listed = venue.admin("spot/pairs", {"symbol": "ETH-USDT", "venue": "okx", "price": "3000"})
    assert (listed["symbol"], listed["risk"], listed["mark_price"]) == ("ETH-USDT", "maintenance_ratio", "3000")
    status, body = request(f"{venue.base}/api/v1/admin/spot/pairs", "POST", {"symbol": "ETH-USDT"},
                           {"X-Admin-Key": venue.admin_key})  # fmt: skip
    assert status == 400 and body["code"] == "already_listed"
    status, body = request(f"{venue.base}/api/v1/admin/spot/pairs", "POST", {"symbol": "BTC-USDT", "venue": "ftx"},
                           {"X-Admin-Key": venue.admin_key})  # fmt: skip
    assert status == 400 and body["code"] == "bad_request"
    assert [p["symbol"] for p in request(venue.base + "/api/v1/spot/pairs")[1]] == [PAIR, "ETH-USDT"]
    assert (p["base"], p["quote"], p["max_leverage"], p["risk"]) == ("BTC", "USDT", 10, "margin_level")
    assert p["daily_rates"] == {"BTC": "0.00024", "USDT": "0.00024"}
    assert request(venue.base + "/api/v1/spot/pairs/BTCUSDT")[1]["symbol"] == PAIR  # the exchange spelling
    status, body = request(venue.base + "/api/v1/spot/pairs/DOGE-USDT/book")
    assert status == 404 and body["code"] == "unknown_symbol"
    status, body = request(venue.base + "/api/v1/spot/pairs/BTCUSDT%E2%82%AC/book")
    assert status == 400 and body["code"] == "bad_symbol"
    status, body = request(venue.base + "/api/v1/spot/pairs/BTC-USDT/book?limit=0")
    assert status == 400 and body["code"] == "bad_parameter"


def test_transfer_borrow_interest_repay(venue: InProcessVenue) -> None:
    me = venue.new_account("10000")
    status, body = call(venue, me, f"/margin/isolated/accounts/{PAIR}")
    assert status == 404 and body["code"] == "no_margin_account"
    assert ok(venue, me, "/margin/isolated/max-borrowable", params={"symbol": PAIR, "asset": "USDT"})["amount"] == "0"

    # in: 1,000 USDT. No debt, so max borrowable x solves (1000 + x) = 1.111 x: x = 1000 / 0.111 = 9009.0090090090…,
    # floored to the 1e-10 quantum.
    m = ok(venue, me, "/margin/isolated/transfer", "POST",
           {"symbol": PAIR, "asset": "USDT", "amount": "1000", "direction": "in"})  # fmt: skip
    assert usdt(m)["free"] == "1000" and usdt(m)["max_borrowable"] == "9009.009009009"
    assert wallet(venue, me) == 9000

    # borrow 200: the first hour's interest at once, 200 × 0.00024 / 24 = 0.002
    m = ok(venue, me, "/margin/isolated/borrow", "POST", {"symbol": PAIR, "asset": "USDT", "amount": "200"})
    a = usdt(m)
    assert (a["free"], a["borrowed"], a["interest"], a["net"]) == ("1200", "200", "0.002", "999.998")
    # margin level = 1200 / 200.002 (18 places, rounded down)
    assert D(m["margin_level"]) == (D(1200) / D("200.002")).quantize(D("1e-18"), rounding="ROUND_DOWN")

    # hostile input: each refused with a clear code, and nothing changes
    before, wallet_before = view(venue, me), wallet(venue, me)
    hostile = [
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "ETH", "amount": "1", "direction": "in"},
            400,
            "asset_not_in_pair",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "usdt", "amount": "1", "direction": "in"},
            400,
            "bad_request",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": "-5", "direction": "in"},
            400,
            "bad_number",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": "１０", "direction": "in"},
            400,
            "bad_number",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": 1.5, "direction": "in"},
            400,
            "bad_number",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": "1e3", "direction": "in"},
            400,
            "bad_number",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": "0", "direction": "in"},
            400,
            "bad_amount",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": "1", "direction": "up"},
            400,
            "bad_request",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": "DOGE-USDT", "asset": "USDT", "amount": "1", "direction": "in"},
            404,
            "unknown_symbol",
        ),
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": "100000", "direction": "in"},
            400,
            "insufficient_balance",
        ),
        # out: the transfer-out level 2 allows 1200 − 2 × 200.002 = 799.996 out, not 800
        (
            "/margin/isolated/transfer",
            {"symbol": PAIR, "asset": "USDT", "amount": "800", "direction": "out"},
            400,
            "transfer_out_limited",
        ),
        ("/margin/isolated/repay", {"symbol": PAIR, "asset": "USDT", "amount": "300"}, 400, "repay_exceeds_debt"),
        ("/margin/isolated/repay", {"symbol": PAIR, "asset": "BTC"}, 400, "nothing_to_repay"),
        ("/margin/isolated/repay", {"symbol": PAIR, "asset": "USDT", "amount": "-1"}, 400, "bad_number"),
        ("/margin/isolated/borrow", {"symbol": PAIR, "asset": "USDT", "amount": "9000"}, 400, "above_max_borrowable"),
        ("/margin/isolated/borrow", {"symbol": PAIR, "asset": "ÜSDT", "amount": "1"}, 400, "bad_request"),
        ("/margin/isolated/borrow", {"symbol": PAIR, "asset": "USDT", "amount": "NaN"}, 400, "bad_number"),
        ("/margin/isolated/borrow", {"symbol": PAIR, "asset": "USDT", "amount": "1" * 41}, 400, "bad_number"),
    ]
    for path, body, want_status, want_code in hostile:
        status, answer = call(venue, me, path, "POST", body)
        assert (status, answer.get("code")) == (want_status, want_code), (path, body, answer)
        assert answer["message"]
    assert view(venue, me) == before and wallet(venue, me) == wallet_before

    # the exact limit goes out
    m = ok(venue, me, "/margin/isolated/transfer", "POST",
           {"symbol": PAIR, "asset": "USDT", "amount": "799.996", "direction": "out"})  # fmt: skip
    assert usdt(m)["free"] == "400.004" and wallet(venue, me) == D("9799.996")

    # hours charged ahead by the operator: three boundaries after the borrow, 3 × 0.002 = 0.006
    borrowed_at = ok(venue, me, "/margin/isolated/loans")[0]["time"]
    through = next_hour(borrowed_at) + 2 * HOUR_MS
    charged = venue.admin("spot/accrue-interest", {"ts": through})
    mine = [r for r in charged["rows"] if r["account"] == me["account"]]
    assert [(r["hours"], r["amount"], r["through"]) for r in mine] == [(3, "0.006", through)]
    assert usdt(view(venue, me))["interest"] == "0.008"
    assert venue.admin("spot/accrue-interest", {"ts": through})["charges"] == 0  # nothing twice

    # a new rate applies from the next hour: 200 × 0.00048 / 24 = 0.004
    assert venue.admin("spot/borrow-rate", {"symbol": PAIR, "asset": "USDT", "daily_rate": "0.00048"})["daily_rate"] \
        == "0.00048"  # fmt: skip
    venue.admin("spot/accrue-interest", {"ts": through + HOUR_MS})
    assert usdt(view(venue, me))["interest"] == "0.012"

    # repay 100: interest 0.012 first, then 99.988 of principal
    m = ok(venue, me, "/margin/isolated/repay", "POST", {"symbol": PAIR, "asset": "USDT", "amount": "100"})
    a = usdt(m)
    assert (a["free"], a["borrowed"], a["interest"]) == ("300.004", "100.012", "0")
    # repay all (no amount): 100.012
    m = ok(venue, me, "/margin/isolated/repay", "POST", {"symbol": PAIR, "asset": "USDT"})
    a = usdt(m)
    assert (a["free"], a["borrowed"], a["interest"]) == ("199.992", "0", "0")
    assert m["position"] is None and m["total_liability_value"] == "0"

    rows = ok(venue, me, "/margin/isolated/interest", params={"symbol": PAIR})
    assert [(r["kind"], r["hours"], r["amount"]) for r in rows] == [
        ("borrow", 1, "0.002"), ("hourly", 3, "0.006"), ("hourly", 1, "0.004")
    ]  # fmt: skip
    assert rows[2]["daily_rate"] == "0.00048"
    loans = ok(venue, me, "/margin/isolated/loans")
    assert [(r["kind"], r.get("amount"), r.get("interest"), r.get("principal")) for r in loans] == [
        ("borrow", "200", "0.002", "200"), ("repay", None, "0.012", "99.988"), ("repay", None, "0", "100.012")
    ]  # fmt: skip
    assert [r["amount"] for r in ok(venue, me, "/margin/isolated/transfers")] == ["1000", "-799.996"]
    # with no liability everything free may leave
    assert ok(venue, me, "/margin/isolated/max-transferable", params={"symbol": PAIR, "asset": "USDT"})["amount"] \
        == "199.992"  # fmt: skip
    venue.admin("spot/borrow-rate", {"symbol": PAIR, "asset": "USDT", "daily_rate": "0.00024"})


def test_operator_endpoints_need_the_admin_key(venue: InProcessVenue) -> None:
    for path, body in (("spot/accrue-interest", {}), ("spot/borrow-rate", {"symbol": PAIR, "asset": "USDT",
                       "daily_rate": "0.001"}), ("spot/mark-price", {"symbol": PAIR, "price": "1"})):  # fmt: skip
        status, answer = request(f"{venue.base}/api/v1/admin/{path}", "POST", body, {"X-Admin-Key": "wrong"})
        assert status == 401 and answer["code"] == "bad_admin_key"
    for body, code in (({"symbol": PAIR, "asset": "USDT", "daily_rate": "0.5"}, "bad_rate"),
                       ({"symbol": PAIR, "asset": "ETH", "daily_rate": "0.001"}, "asset_not_in_pair"),
                       ({"symbol": PAIR, "asset": "USDT", "daily_rate": "-0.001"}, "bad_number")):  # fmt: skip
        status, answer = request(f"{venue.base}/api/v1/admin/spot/borrow-rate", "POST", body,
                                 {"X-Admin-Key": venue.admin_key})  # fmt: skip
        assert status == 400 and answer["code"] == code, answer
    status, answer = request(f"{venue.base}/api/v1/admin/spot/accrue-interest", "POST", {"ts": "-1"},
                             {"X-Admin-Key": venue.admin_key})  # fmt: skip
    assert status == 400 and answer["code"] == "bad_number"
    assert request(venue.base + "/api/v1/spot/pairs")[1][0]["daily_rates"]["USDT"] == "0.00024"


def test_spot_orders_wallet_and_margin_buy_with_stream(venue: InProcessVenue) -> None:
    seller, buyer = venue.new_account("1"), venue.new_account("10000")
    venue.admin("deposit", {"account": seller["account"], "asset": "BTC", "amount": "1"})
    sell = ok(venue, seller, "/spot/orders", "POST", {"symbol": PAIR, "side": "SELL", "type": "LIMIT",
                                                     "quantity": "0.03", "price": "60000"})  # fmt: skip
    assert sell["status"] == "NEW" and sell["isolated"] is False and sell["open"] is True
    assert request(venue.base + f"/api/v1/spot/pairs/{PAIR}/book")[1]["asks"] == [["60000", "0.03"]]

    ok(venue, buyer, "/margin/isolated/transfer", "POST",
       {"symbol": PAIR, "asset": "USDT", "amount": "1000", "direction": "in"})  # fmt: skip
    lk = ok(venue, buyer, "/listen-key", "POST")["listenKey"]
    with connect(venue.base.replace("http", "ws") + f"/ws?listenKey={lk}") as ws:
        # 0.02 at 60,000 costs 1,200; 1,000 is free, so MARGIN_BUY borrows 200 (first hour 0.002). The buyer's fee
        # is 0.1 % of the base: 0.00002 BTC, so 0.01998 arrives; the seller gets 1,200 − 1.2 = 1,198.8 USDT.
        buy = ok(venue, buyer, "/spot/orders", "POST", {
            "symbol": PAIR, "side": "BUY", "type": "LIMIT", "quantity": "0.02", "price": "60000", "isolated": True,
            "side_effect": "MARGIN_BUY", "client_order_id": "mb-1",
        })  # fmt: skip
        assert (buy["status"], buy["filled"], buy["average_price"], buy["client_order_id"]) == (
            "FILLED", "0.02", "60000", "mb-1")  # fmt: skip
        seen: list[dict[str, Any]] = []
        wanted = {"BORROW", "SPOT_ORDER_UPDATE", "SPOT_TRADE", "MARGIN_ACCOUNT_UPDATE"}
        while not wanted <= {m.get("e") for m in seen}:
            seen.append(json.loads(ws.recv(timeout=10)))
    borrow = next(m for m in seen if m["e"] == "BORROW")
    assert (borrow["amount"], borrow["interest"], borrow["symbol"]) == ("200", "0.002", PAIR)
    trade = next(m for m in seen if m["e"] == "SPOT_TRADE")
    assert (trade["qty"], trade["price"], trade["buyer_fee"], trade["seller_fee"]) == ("0.02", "60000", "0.00002",
                                                                                        "1.2")  # fmt: skip
    update = [m for m in seen if m["e"] == "MARGIN_ACCOUNT_UPDATE"][-1]["margin_account"]
    assert update["assets"]["BTC"]["free"] == "0.01998" and update["assets"]["USDT"]["borrowed"] == "200"

    m = view(venue, buyer)
    assert (m["assets"]["BTC"]["free"], m["assets"]["USDT"]["free"], m["assets"]["USDT"]["borrowed"],
            m["assets"]["USDT"]["interest"]) == ("0.01998", "0", "200", "0.002")  # fmt: skip
    old = ok(venue, buyer, f"/margin/isolated/accounts/{PAIR}", params={"mode": "old"})["position"]
    assert m["position"]["mode"] == "new" and old["mode"] == "old"
    assert request(venue.base + f"/api/v1/spot/pairs/{PAIR}/book")[1]["asks"] == [["60000", "0.01"]]
    assert D(ok(venue, seller, "/balances")["USDT"]["wallet"]) == D("1199.8")  # 1 + 1,198.8
    fills = ok(venue, buyer, "/spot/fills")
    assert [(f["side"], f["qty"], f["fee"], f["fee_in"], f["maker"]) for f in fills] == [
        ("BUY", "0.02", "0.00002", "base", False)]  # fmt: skip

    # the seller's order, partly filled, is cancelled; a second cancel and a stranger's are refused
    oid = sell["order_id"]
    assert ok(venue, seller, f"/spot/orders/{oid}")["status"] == "PARTIALLY_FILLED"
    status, body = call(venue, buyer, f"/spot/orders/{oid}", "DELETE")
    assert status == 404 and body["code"] == "unknown_order"
    assert ok(venue, seller, f"/spot/orders/{oid}", "DELETE")["status"] == "CANCELED"
    status, body = call(venue, seller, f"/spot/orders/{oid}", "DELETE")
    assert status == 400 and body["code"] == "unknown_order"
    assert request(venue.base + f"/api/v1/spot/pairs/{PAIR}/book")[1]["asks"] == []
    assert ok(venue, seller, "/spot/orders") == []
    assert [o["status"] for o in ok(venue, seller, "/spot/orders", params={"status": "all"})] == ["CANCELED"]
    assert [o["order_id"] for o in ok(venue, buyer, "/spot/orders", params={"status": "all", "isolated": "true"})] \
        == [buy["order_id"]]  # fmt: skip

    # hostile orders: refused, nothing rests
    for body, code in (
        (
            {"side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "60000", "side_effect": "MARGIN_BUY"},
            "bad_parameter",
        ),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.01"}, "missing_parameter"),
        ({"side": "BUY", "type": "STOP", "quantity": "0.01", "price": "1"}, "bad_request"),
        ({"side": "BUY", "type": "MARKET", "quantity": "-0.01"}, "bad_number"),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "٦٠٠٠٠"}, "bad_number"),
        ({"side": "SELL", "type": "LIMIT", "quantity": "5", "price": "60000"}, "insufficient_balance"),
    ):
        status, answer = call(venue, seller, "/spot/orders", "POST", {"symbol": PAIR, **body})
        assert (status, answer.get("code")) == (400, code), (body, answer)
    assert ok(venue, seller, "/spot/orders") == []


def test_openapi_documents_the_spot_endpoints(venue: InProcessVenue) -> None:
    doc = request(venue.base + "/openapi.json")[1]
    paths = doc["paths"]
    for path, method in (("/api/v1/spot/pairs", "get"), ("/api/v1/spot/orders", "post"),
                         ("/api/v1/margin/isolated/transfer", "post"), ("/api/v1/margin/isolated/repay", "post"),
                         ("/api/v1/margin/isolated/accounts/{symbol}", "get"),
                         ("/api/v1/margin/isolated/interest", "get"),
                         ("/api/v1/admin/spot/accrue-interest", "post")):  # fmt: skip
        op = paths[path][method]
        assert {"400", "401", "404"} <= set(op["responses"]), path
        assert op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/NativeError")


def test_margin_call_and_liquidation_reach_the_stream_and_history(venue: InProcessVenue) -> None:
    # After a 0.01 BTC margin buy at 60,000 with 400 USDT in: 200 borrowed (0.002 interest), 0.00999 BTC held.
    # Binance 10×: liquidation below margin level 1.05, i.e. 0.00999 × P < 1.05 × 200.002 ⇔ P < 21,021.23…;
    # a mark of 20,000 liquidates.
    seller, buyer = venue.new_account("1"), venue.new_account("1000")
    venue.admin("deposit", {"account": seller["account"], "asset": "BTC", "amount": "1"})
    ok(venue, seller, "/spot/orders", "POST", {"symbol": PAIR, "side": "SELL", "type": "LIMIT", "quantity": "0.01",
                                               "price": "60000"})  # fmt: skip
    ok(venue, buyer, "/margin/isolated/transfer", "POST",
       {"symbol": PAIR, "asset": "USDT", "amount": "400", "direction": "in"})  # fmt: skip
    ok(venue, buyer, "/spot/orders", "POST", {"symbol": PAIR, "side": "BUY", "type": "LIMIT", "quantity": "0.01",
                                              "price": "60000", "isolated": True,
                                              "side_effect": "MARGIN_BUY"})  # fmt: skip
    m = view(venue, buyer)
    assert (m["assets"]["BTC"]["free"], usdt(m)["borrowed"], usdt(m)["interest"]) == ("0.00999", "200", "0.002")
    lk = ok(venue, buyer, "/listen-key", "POST")["listenKey"]
    with connect(venue.base.replace("http", "ws") + f"/ws?listenKey={lk}") as ws:
        venue.admin("spot/mark-price", {"symbol": PAIR, "price": "20000"})
        seen: list[dict[str, Any]] = []
        while not {"SPOT_MARGIN_CALL", "SPOT_LIQUIDATION"} <= {m.get("e") for m in seen}:
            seen.append(json.loads(ws.recv(timeout=10)))
    call_ = next(m for m in seen if m["e"] == "SPOT_MARGIN_CALL")
    assert call_["symbol"] == PAIR and call_["level"] == "liquidate"
    alerts = ok(venue, buyer, "/margin/isolated/alerts")
    assert alerts["margin_calls"][0]["level"] == "liquidate" and alerts["liquidations"]
    assert usdt(view(venue, buyer))["borrowed"] == "0"  # the debt was repaid by the liquidation
    venue.admin("spot/mark-price", {"symbol": PAIR, "price": "60000"})


def test_histories_come_back_after_a_restart(tmp_path: Path) -> None:
    config = VenueConfig(data_dir=tmp_path / "data", admin_key="spot-admin", market_maker=False, feed=False,
                         rate_limit=0, interest_schedule=False, spot_pairs=((PAIR, "binance"),))  # fmt: skip
    with InProcessVenue(config) as v:
        me = v.new_account("1000")
        ok(v, me, "/margin/isolated/transfer", "POST",
           {"symbol": PAIR, "asset": "USDT", "amount": "500", "direction": "in"})  # fmt: skip
        ok(v, me, "/margin/isolated/borrow", "POST", {"symbol": PAIR, "asset": "USDT", "amount": "100"})
        v.admin("spot/accrue-interest", {"ts": next_hour(int(time.time() * 1000)) + HOUR_MS})  # two hours
        ok(v, me, "/margin/isolated/repay", "POST", {"symbol": PAIR, "asset": "USDT"})
        paths = ("/margin/isolated/interest", "/margin/isolated/loans", "/margin/isolated/transfers",
                 f"/margin/isolated/accounts/{PAIR}")  # fmt: skip
        before = {p: ok(v, me, p) for p in paths}
    # 100 × 0.00024 / 24 = 0.001 an hour: the first at once, then two boundaries
    assert [r["amount"] for r in before["/margin/isolated/interest"]] == ["0.001", "0.002"]
    with InProcessVenue(config) as v:
        assert {p: ok(v, me, p) for p in before} == before
