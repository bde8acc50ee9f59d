"""The demo market switched on: the feed moves the mark, the market maker quotes both sides so a market
order fills, and the WebSocket carries mark prices, trades, book deltas and the account stream.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from isomargin.server.testing import RunningVenue, signed


def test_market_maker_feed_and_streams(tmp_path: Path) -> None:
    with RunningVenue(tmp_path / "live", "--demo-account") as v:
        c = v.credentials()
        deadline = time.time() + 15
        book: dict[str, Any] = {}
        while time.time() < deadline:
            _, book = signed(v.base, "/api/v1/markets/BTCUSDT/book", c["apiKey"], c["secret"])
            if book["bids"] and book["asks"]:
                break
            time.sleep(0.3)
        assert book["bids"] and book["asks"] and float(book["bids"][0][0]) < float(book["asks"][0][0])
        _, lk = signed(v.base, "/api/v1/listen-key", c["apiKey"], c["secret"], "POST")
        url = (
            v.base.replace("http", "ws")
            + f"/ws?listenKey={lk['listenKey']}&streams=mark:BTCUSDT,trades:BTCUSDT,book:BTCUSDT"
        )
        kinds: dict[str, dict[str, Any]] = {}
        with connect(url) as ws:
            buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.05"}
            status, order = signed(v.base, "/api/v1/orders", c["apiKey"], c["secret"], "POST", body=buy)
            assert status == 200 and order["status"] == "FILLED", order
            end = time.time() + 8
            while time.time() < end and not {"markPriceUpdate", "trade", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE",
                                              "depthUpdate", "depthSnapshot"} <= kinds.keys():  # fmt: skip
                msg = json.loads(ws.recv(timeout=5))
                kinds.setdefault(msg.get("e", "?"), msg)
        assert {"markPriceUpdate", "trade", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "depthSnapshot"} <= kinds.keys()
        assert kinds["ACCOUNT_UPDATE"]["positions"][0]["symbol"] == "BTCUSDT"
        _, kl = signed(v.base, "/api/v1/markets/BTCUSDT/klines", c["apiKey"], c["secret"], params={"price": "mark"})
        assert kl
