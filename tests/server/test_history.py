"""Histories and streams built from engine events only, against a live server: account ids come from the
engine, a taker that fills at once streams NEW then FILLED, fills/income/funding carry the right figures and
spellings on both APIs, a SettleFunding that paid nobody still leaves its rate, and every history comes back
the same after a restart (rebuilt from the journal's stored events)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from isomargin.server.testing import RunningVenue, request, signed

ARGS = ("--no-feed", "--no-market-maker", "--rate-limit", "0")


def histories(v: RunningVenue, who: dict[str, Any]) -> dict[str, Any]:
    key, secret = who["apiKey"], who["secret"]
    out = {
        path: signed(v.base, path, key, secret, params=params)[1]
        for path, params in (("/api/v1/orders", {"status": "all"}), ("/api/v1/fills", None),
                             ("/api/v1/funding", None), ("/api/v1/income", None), ("/fapi/v1/userTrades", None),
                             ("/fapi/v1/allOrders", {"symbol": "BTCUSDT"}), ("/fapi/v1/income", None))
    }  # fmt: skip
    for path in ("/api/v1/markets/BTCUSDT/funding-rates", "/api/v1/markets/ETHUSDT/funding-rates",
                 "/api/v1/markets/BTCUSDT/trades", "/api/v1/markets/BTCUSDT/klines?price=mark",
                 "/fapi/v1/fundingRate?symbol=ETHUSDT"):  # fmt: skip
        out[path] = request(v.base + path)[1]
    return out


def test_histories_streams_and_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with RunningVenue(data, *ARGS) as v:
        maker, taker = v.new_account("1000000"), v.new_account("100000")
        assert (maker["account"], taker["account"]) == (1, 2)  # allocated by the engine, in order
        v.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
        for path, body in (("/api/v1/settings/margin-mode", {"symbol": "BTCUSDT", "mode": "isolated"}),
                           ("/api/v1/settings/leverage", {"symbol": "BTCUSDT", "leverage": 10})):  # fmt: skip
            assert signed(v.base, path, taker["apiKey"], taker["secret"], "POST", body=body)[0] == 200
        ask = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "quantity": "0.01", "price": "60000"}
        status, resting = signed(v.base, "/api/v1/orders", maker["apiKey"], maker["secret"], "POST", body=ask)
        assert status == 200 and resting["status"] == "NEW"

        _, lk = signed(v.base, "/api/v1/listen-key", taker["apiKey"], taker["secret"], "POST")
        seen: list[dict[str, Any]] = []
        with connect(v.base.replace("http", "ws") + f"/ws?listenKey={lk['listenKey']}") as ws:
            buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
            status, order = signed(v.base, "/api/v1/orders", taker["apiKey"], taker["secret"], "POST", body=buy)
            assert status == 200 and order["status"] == "FILLED" and order["filled"] == "0.01"
            end = time.time() + 8
            while time.time() < end and not any(m.get("e") == "ACCOUNT_UPDATE" for m in seen):
                seen.append(json.loads(ws.recv(timeout=5)))
        updates = [m["o"] for m in seen if m["e"] == "ORDER_TRADE_UPDATE" and m["o"]["order_id"] == order["order_id"]]
        assert [(u["status"], u["filled"]) for u in updates] == [("NEW", "0"), ("FILLED", "0.01")]
        assert updates[0]["avg_price"] is None and updates[1]["avg_price"] == "60000"
        (trade,) = [m for m in seen if m["e"] == "TRADE"]
        assert trade["taker_side"] == "BUY" and Decimal(trade["price"]) == 60000 and "seq" not in trade
        (acct,) = [m for m in seen if m["e"] == "ACCOUNT_UPDATE"]
        assert acct["positions"][0]["margin_mode"] == "isolated" and acct["positions"][0]["size"] == "0.01"

        # fees: taker 0.01 × 60,000 × 0.0005 = 0.3, maker × 0.0002 = 0.12
        _, fills = signed(v.base, "/api/v1/fills", taker["apiKey"], taker["secret"])
        assert [(f["side"], f["price"], f["qty"], f["fee"], f["maker"], f["liquidation"]) for f in fills] == [
            ("BUY", "60000", "0.01", "0.3", False, False)]  # fmt: skip
        _, trades = signed(v.base, "/fapi/v1/userTrades", maker["apiKey"], maker["secret"])
        assert [(t["side"], t["buyer"], t["maker"], t["commission"], t["orderId"]) for t in trades] == [
            ("SELL", False, True, "0.12", resting["order_id"])]  # fmt: skip

        # funding at 0.0001 and mark 60,000: the long pays 0.01 × 60,000 × 0.0001 = 0.06, the short receives it
        assert v.admin("funding", {"symbol": "BTCUSDT", "rate": "0.0001"})["payments"] == 2
        assert v.admin("funding", {"symbol": "ETHUSDT", "rate": "0.0002"})["payments"] == 0  # nobody holds ETH
        _, paid = signed(v.base, "/api/v1/funding", taker["apiKey"], taker["secret"])
        rows = [(r["symbol"], r["position_side"], Decimal(r["rate"]), Decimal(r["mark"]), Decimal(r["amount"]))
                for r in paid]  # fmt: skip
        assert rows == [("BTCUSDT", "BOTH", Decimal("0.0001"), Decimal(60000), Decimal("-0.06"))]
        _, income = signed(
            v.base, "/fapi/v1/income", maker["apiKey"], maker["secret"], params={"incomeType": "FUNDING_FEE"}
        )
        assert [r["income"] for r in income] == ["0.06"]
        rates = request(v.base + "/fapi/v1/fundingRate?symbol=ETHUSDT")[1]
        # the mark it settled at, though nobody paid
        assert [(r["fundingRate"], r["markPrice"]) for r in rates] == [("0.00020000", "3000")]

        # the venue's spellings: lower-case margin types in positionRisk and the native views
        _, risk = signed(v.base, "/fapi/v2/positionRisk", taker["apiKey"], taker["secret"])
        assert [(r["marginType"], r["positionAmt"], r["leverage"]) for r in risk] == [("isolated", "0.01", "10")]
        _, risk = signed(v.base, "/fapi/v3/positionRisk", maker["apiKey"], maker["secret"])
        assert [(r["marginType"], r["positionAmt"]) for r in risk] == [("cross", "-0.01")]
        _, config = signed(v.base, "/fapi/v1/symbolConfig", taker["apiKey"], taker["secret"],
                           params={"symbol": "BTCUSDT"})  # fmt: skip
        assert [(c["marginType"], c["leverage"]) for c in config] == [("ISOLATED", 10)]
        _, account = signed(v.base, "/api/v1/account", taker["apiKey"], taker["secret"])
        assert account["settings"] == {"BTCUSDT": {"margin_mode": "isolated", "leverage": 10}}
        before = histories(v, taker)

    with RunningVenue(data, *ARGS) as v:  # restart: the histories are rebuilt from the journal's events
        after = histories(v, taker)
    assert after == before
    assert [r["status"] for r in before["/api/v1/orders"]] == ["FILLED"]
    assert [(r["rate"], r["mark"]) for r in before["/api/v1/markets/ETHUSDT/funding-rates"]] == [("0.0002", "3000")]
    assert [r["incomeType"] for r in before["/api/v1/income"]] == ["COMMISSION", "FUNDING_FEE"]
