"""Fail-stop at the edge: a fault injected into the running venue's engine (its ledger raises once while a
command commits) makes the venue answer 503 `engine_failed` to everything — writes, reads, /fapi, /health —
and close its streams; a restart recovers from the journal without the failed command."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from isomargin.engine.ledger import Ledger
from isomargin.server.config import VenueConfig
from isomargin.server.testing import InProcessVenue, request, signed


def config(data: Path) -> VenueConfig:
    return VenueConfig(data_dir=data, admin_key="test-admin", market_maker=False, feed=False, rate_limit=0)


def test_engine_fault_answers_503_everywhere_then_restart_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    with InProcessVenue(config(data)) as v:
        a = v.new_account("100000")
        bid = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000"}
        status, order = signed(v.base, "/api/v1/orders", a["apiKey"], a["secret"], "POST", body=bid)
        assert status == 200 and order["status"] == "NEW"
        _, lk = signed(v.base, "/api/v1/listen-key", a["apiKey"], a["secret"], "POST")
        stream = connect(v.base.replace("http", "ws") + f"/ws?listenKey={lk['listenKey']}&streams=mark:BTCUSDT")

        take = Ledger.take
        faults: list[int] = []

        def take_once(self: Ledger) -> Any:  # the first commit after this raises, as a bug in the engine would
            if not faults:
                faults.append(1)
                raise RuntimeError("injected fault")
            return take(self)

        monkeypatch.setattr(Ledger, "take", take_once)
        status, body = request(v.base + "/api/v1/admin/deposit", "POST",
                               {"account": a["account"], "amount": "5"}, {"X-Admin-Key": "test-admin"})  # fmt: skip
        assert status == 503 and body["code"] == "engine_failed" and "injected fault" in body["message"]
        assert faults == [1] and v.venue.engine.failed is not None
        monkeypatch.undo()  # the engine stays failed: nothing below may reach it

        key, secret = a["apiKey"], a["secret"]
        answers = [
            request(v.base + "/api/v1/markets"),
            request(v.base + "/api/v1/markets/BTCUSDT/book"),
            request(v.base + "/health"),
            request(v.base + "/api/v1/health"),
            signed(v.base, "/api/v1/positions", key, secret),
            signed(v.base, "/api/v1/balances", key, secret),
            signed(v.base, "/api/v1/orders", key, secret, "POST", body=bid),
            request(v.base + "/api/v1/admin/accounts", "POST", {}, {"X-Admin-Key": "test-admin"}),
        ]
        assert [s for s, _ in answers] == [503] * len(answers)
        assert all(b["code"] == "engine_failed" for _, b in answers), answers
        for path in ("/fapi/v1/depth?symbol=BTCUSDT", "/fapi/v1/exchangeInfo"):
            status, body = request(v.base + path)
            assert status == 503 and body["code"] == -1001
        status, body = signed(v.base, "/fapi/v2/account", key, secret)
        assert status == 503 and body["code"] == -1001

        for ws in (stream, connect(v.base.replace("http", "ws") + "/ws?streams=mark:BTCUSDT")):
            got: list[dict[str, Any]] = []  # the open stream and a new one: told why, then closed with 1011
            with ws, pytest.raises(ConnectionClosed) as closed:
                while True:
                    got.append(json.loads(ws.recv(timeout=5)))
            assert got[-1]["e"] == "engine_failed" and "injected fault" in got[-1]["message"]
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011

    with InProcessVenue(config(data)) as v:  # restart: the journal has everything before the fault, not it
        status, bal = signed(v.base, "/api/v1/balances", a["apiKey"], a["secret"])
        assert status == 200
        # 100,000 deposited; the resting bid holds 0.01 × 50,000 / 20 (default leverage) = 25 plus its taker fee
        # 0.01 × 50,000 × 0.0005 = 0.25; the 5 of the failed deposit never arrived
        assert Decimal(bal["USDT"]["wallet"]) == Decimal("100000") - Decimal("25.25")
        assert Decimal(bal["USDT"]["held"]) == Decimal("25.25")
        status, orders = signed(v.base, "/api/v1/orders", a["apiKey"], a["secret"])
        assert [o["order_id"] for o in orders] == [order["order_id"]] and orders[0]["status"] == "NEW"
        assert request(v.base + "/health")[0] == 200
