"""A local order book kept by ccxt.pro from Binance depthUpdate messages, compared with REST depth for a while.

    python bench/ws_book_sync.py [seconds]   # default 300; starts `isomargin serve --demo-account` (temp data)

The demo market runs (feed, market maker, noise traders). Every time the local book's nonce equals REST's
lastUpdateId, both sides must be identical. Prints one JSON line: how long, how many comparisons, how many
mismatches, how many depthUpdates the local book applied (its nonce moves) and how many resyncs ccxt needed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ccxt.pro as ccxtpro

from isomargin.server.testing import RunningVenue, ccxt_urls

SYM = "BTC/USDT:USDT"


async def run(base: str, seconds: float) -> dict[str, Any]:
    ex = ccxtpro.binanceusdm({"options": {"fetchCurrencies": False}})
    ex.urls["api"].update(ccxt_urls(base))
    ex.urls["api"]["ws"]["linear"] = base.replace("http", "ws") + "/ws"
    compared = mismatches = updates = errors = 0
    last_nonce = None
    try:
        await ex.load_markets()
        end = time.time() + seconds
        while time.time() < end:
            try:
                book = await asyncio.wait_for(ex.watch_order_book(SYM), 15)
            except Exception:  # a gap ccxt detected (it resyncs from a new snapshot)
                errors += 1
                continue
            if book["nonce"] != last_nonce:
                updates += 1
                last_nonce = book["nonce"]
            raw = await ex.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 1000})
            if int(raw["lastUpdateId"]) != book["nonce"]:
                continue
            compared += 1
            rest = ([[float(p), float(q)] for p, q in raw["bids"]], [[float(p), float(q)] for p, q in raw["asks"]])
            local = ([[p, q] for p, q, *_ in book["bids"]], [[p, q] for p, q, *_ in book["asks"]])
            mismatches += rest != local
    finally:
        await ex.close()
    return {"seconds": seconds, "comparisons": compared, "mismatches": mismatches, "book_updates": updates,
            "resyncs": errors}  # fmt: skip


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    with tempfile.TemporaryDirectory() as tmp, RunningVenue(Path(tmp) / "data", "--demo-account") as v:
        print(json.dumps(asyncio.run(run(v.base, seconds))))


if __name__ == "__main__":
    main()
