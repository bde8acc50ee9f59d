"""ccxt.pro (unmodified) against the live demo venue: all nine watch methods of binanceusdm deliver data equal to
what REST says and to the orders placed, and a local book kept from depthUpdate equals REST depth after a burst
of order activity.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from isomargin.server.testing import RunningVenue, ccxt_urls

SYM = "BTC/USDT:USDT"
TIMEOUT = 15


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    data: Path = tmp_path_factory.mktemp("pro") / "data"
    with RunningVenue(data, "--demo-account", "--no-noise-traders") as v:  # exact REST comparisons
        yield v


def pro(v: RunningVenue, creds: dict[str, Any]) -> Any:
    ex = ccxtpro.binanceusdm({"apiKey": creds["apiKey"], "secret": creds["secret"],
                              "options": {"fetchCurrencies": False}})  # fmt: skip
    ex.urls["api"].update(ccxt_urls(v.base))
    ex.urls["api"]["ws"]["linear"] = v.base.replace("http", "ws") + "/ws"
    return ex


async def after(watch: Awaitable[Any], action: Callable[[], Awaitable[Any]]) -> Any:
    """Start a watch, then act, then the watch's answer."""
    task = asyncio.ensure_future(watch)
    await asyncio.sleep(0.5)
    await action()
    return await asyncio.wait_for(task, TIMEOUT)


async def until(fn: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], seconds: float = TIMEOUT) -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        value = await asyncio.wait_for(fn(), TIMEOUT)
        if ok(value) or loop.time() > end:
            return value


def book_rows(rows: list[list[Any]]) -> list[tuple[float, float]]:
    return [(float(p), float(q)) for p, q, *_ in rows]


async def scenario(v: RunningVenue) -> None:
    ex = pro(v, v.credentials())
    try:
        await ex.load_markets()
        await ex.set_margin_mode("isolated", SYM)
        await ex.set_leverage(10, SYM)

        # mark price: the stream's mark is REST's premiumIndex mark (read right after; the feed ticks each second)
        mark = await asyncio.wait_for(ex.watch_mark_price(SYM), TIMEOUT)
        rest_mark = (await ex.fetch_mark_price(SYM))["markPrice"]
        assert mark["symbol"] == SYM and abs(mark["markPrice"] - rest_mark) / rest_mark < 0.01

        # order book: a book kept from depthUpdate is REST depth at the same update id
        book = await until(lambda: ex.watch_order_book(SYM), lambda b: bool(b["bids"] and b["asks"]))
        assert book["bids"] and book["asks"]
        best_bid, best_ask = book["bids"][0][0], book["asks"][0][0]
        ids = []
        for i in range(8):  # a burst: resting orders at new levels, some cancelled, one taker
            o = await ex.create_order(SYM, "limit", "buy", 0.002 + 0.001 * i, round(best_bid * (0.99 - 0.001 * i), 1))
            ids.append(o["id"])
        for oid in ids[::3]:
            await ex.cancel_order(oid, SYM)
        await ex.create_order(SYM, "market", "sell", 0.003)
        matched = False
        for _ in range(40):
            local = await asyncio.wait_for(ex.watch_order_book(SYM), TIMEOUT)
            raw = await ex.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 1000})
            if int(raw["lastUpdateId"]) == local["nonce"]:
                assert book_rows(local["bids"]) == book_rows(raw["bids"])
                assert book_rows(local["asks"]) == book_rows(raw["asks"])
                matched = True
                break
        assert matched, "the local book never caught up with a REST snapshot"
        assert best_ask > best_bid

        # trades, my trades, orders, positions, balance: a market buy seen on every stream
        trades_task = asyncio.ensure_future(ex.watch_trades(SYM))
        mine_task = asyncio.ensure_future(ex.watch_my_trades(SYM))
        pos_task = asyncio.ensure_future(ex.watch_positions([SYM]))
        bal_task = asyncio.ensure_future(ex.watch_balance())
        await asyncio.sleep(1.0)
        buy = await ex.create_order(SYM, "market", "buy", 0.01)
        trades = await asyncio.wait_for(trades_task, TIMEOUT)
        mine = await asyncio.wait_for(mine_task, TIMEOUT)
        rest_mine = await ex.fetch_my_trades(SYM, params={"orderId": buy["id"]})
        assert rest_mine and sum(t["amount"] for t in rest_mine) == pytest.approx(0.01)
        rest_ids = {t["id"]: t for t in rest_mine}
        assert any(t["id"] in rest_ids and t["price"] == rest_ids[t["id"]]["price"] for t in trades)
        mine = [t for t in mine if t["order"] == buy["id"]]
        while sum(t["amount"] for t in mine) < 0.01 - 1e-9:  # a fill per level: the rest follow
            mine = [t for t in await asyncio.wait_for(ex.watch_my_trades(SYM), TIMEOUT) if t["order"] == buy["id"]]
        for t in mine:
            r = rest_ids[t["id"]]
            assert (t["price"], t["amount"], t["side"], t["fee"]["cost"]) == (
                r["price"], r["amount"], r["side"], r["fee"]["cost"])  # fmt: skip
        rest_pos = {p["symbol"]: p for p in await ex.fetch_positions([SYM])}[SYM]
        positions = await asyncio.wait_for(pos_task, TIMEOUT)
        if not any(p["contracts"] == rest_pos["contracts"] for p in positions):  # a later update has it
            positions = await until(lambda: ex.watch_positions([SYM]),
                                    lambda ps: any(p["contracts"] == rest_pos["contracts"] for p in ps))  # fmt: skip
        got = [p for p in positions if p["symbol"] == SYM][-1]
        assert got["contracts"] == rest_pos["contracts"] and got["side"] == "long"
        assert got["entryPrice"] == pytest.approx(rest_pos["entryPrice"])
        await asyncio.wait_for(bal_task, TIMEOUT)
        rest_bal = await ex.fetch_balance()
        # ccxt's REST total is the margin balance (wallet + unrealised PnL), its stream total Binance's wallet
        # balance `wb`: compare the stream with REST's walletBalance
        wallet = next(float(a["walletBalance"]) for a in rest_bal["info"]["assets"] if a["asset"] == "USDT")
        for _ in range(50):  # the stream's latest balance (funding may have updated it before the buy did)
            bal = ex.balance["linear"]
            if bal["USDT"]["total"] == wallet:
                break
            await asyncio.sleep(0.1)
        assert bal["USDT"]["total"] == wallet
        assert bal["BTC"]["total"] == 10 and bal["ETH"]["total"] == 200  # the demo account's coins

        # ohlcv and ticker: the current bar and the 24 h ticker agree with REST
        candles = await asyncio.wait_for(ex.watch_ohlcv(SYM, "1m"), TIMEOUT)
        rest_candles = await ex.fetch_ohlcv(SYM, "1m", limit=2)
        assert candles[-1][0] == rest_candles[-1][0] and candles[-1][5] > 0
        assert candles[-1][2] <= rest_candles[-1][2] and candles[-1][3] >= rest_candles[-1][3]
        ticker = await asyncio.wait_for(ex.watch_ticker(SYM), TIMEOUT)
        rest_ticker = await ex.fetch_ticker(SYM)
        assert ticker["symbol"] == SYM and ticker["last"] == rest_ticker["last"]
        assert ticker["baseVolume"] == pytest.approx(rest_ticker["baseVolume"], rel=0.05)

        # orders: a resting limit order opens, then is cancelled
        price = round(best_bid * 0.9, 1)
        placed: dict[str, Any] = {}

        async def place() -> None:
            placed.update(await ex.create_order(SYM, "limit", "buy", 0.004, price))

        orders = await after(ex.watch_orders(SYM), place)
        seen = [o for o in orders if o["id"] == placed["id"]]
        while not seen:
            seen = [o for o in await asyncio.wait_for(ex.watch_orders(SYM), TIMEOUT) if o["id"] == placed["id"]]
        assert seen[-1]["status"] == "open" and seen[-1]["price"] == price and seen[-1]["amount"] == 0.004

        async def cancel() -> None:
            await ex.cancel_order(placed["id"], SYM)

        orders = await after(ex.watch_orders(SYM), cancel)
        status = {o["id"]: o["status"] for o in orders}
        while status.get(placed["id"]) != "canceled":
            status.update({o["id"]: o["status"] for o in await asyncio.wait_for(ex.watch_orders(SYM), TIMEOUT)})
        assert status[placed["id"]] == "canceled"

        # positions from the stream itself (ACCOUNT_UPDATE): a second buy grows the long
        before = rest_pos["contracts"]

        async def buy_more() -> None:
            await ex.create_order(SYM, "market", "buy", 0.005)

        positions = await after(ex.watch_positions([SYM]), buy_more)
        grown = round(before + 0.005, 3)
        if not any(p["contracts"] == grown for p in positions):
            positions = await until(lambda: ex.watch_positions([SYM]),
                                    lambda ps: any(p["contracts"] == grown for p in ps))  # fmt: skip
        got = [p for p in positions if p["symbol"] == SYM][-1]
        rest_pos = {p["symbol"]: p for p in await ex.fetch_positions([SYM])}[SYM]
        assert got["contracts"] == grown == rest_pos["contracts"]
        assert got["entryPrice"] == pytest.approx(rest_pos["entryPrice"])
    finally:
        await ex.close()


def test_ccxt_pro_nine_watch_methods(live: RunningVenue) -> None:
    asyncio.run(scenario(live))


def test_binance_stream_protocol(live: RunningVenue) -> None:
    """SUBSCRIBE / LIST_SUBSCRIPTIONS / UNSUBSCRIBE answer with their ids; /stream wraps payloads; a deleted
    listenKey ends the user stream with listenKeyExpired; ACCOUNT_CONFIG_UPDATE on a leverage change."""
    import json

    from websockets.sync.client import connect

    from isomargin.server.testing import request

    c = live.new_account("10000")
    ws_base = live.base.replace("http", "ws")
    with connect(ws_base + "/stream?streams=btcusdt@markPrice@1s/btcusdt@kline_1m") as ws:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@aggTrade"], "id": 7}))
        ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
        replies: dict[int, Any] = {}
        wrapped: dict[str, Any] = {}
        for _ in range(30):
            m = json.loads(ws.recv(timeout=5))
            if "id" in m:
                replies[m["id"]] = m
            else:
                wrapped[m["stream"]] = m["data"]
            if len(replies) == 2 and "btcusdt@markPrice@1s" in wrapped and "btcusdt@kline_1m" in wrapped:
                break
        assert replies[7] == {"result": None, "id": 7}
        assert replies[8] == {"result": ["btcusdt@kline_1m", "btcusdt@markPrice@1s", "ethusdt@aggTrade"], "id": 8}
        mark = wrapped["btcusdt@markPrice@1s"]
        assert mark["e"] == "markPriceUpdate" and mark["s"] == "BTCUSDT" and float(mark["p"]) > 0
        k = wrapped["btcusdt@kline_1m"]["k"]
        assert k["i"] == "1m" and k["T"] - k["t"] == 59_999
    headers = {"X-MBX-APIKEY": c["apiKey"]}
    status, lk = request(live.base + "/fapi/v1/listenKey", "POST", headers=headers)
    assert status == 200
    key = lk["listenKey"]
    with connect(ws_base + f"/private/ws?listenKey={key}") as ws:
        time.sleep(0.3)
        from isomargin.server.testing import signed

        status, _ = signed(live.base, "/fapi/v1/leverage", c["apiKey"], c["secret"], "POST",
                           params={"symbol": "BTCUSDT", "leverage": "7"})  # fmt: skip
        assert status == 200
        msg = json.loads(ws.recv(timeout=5))
        assert msg["e"] == "ACCOUNT_CONFIG_UPDATE" and msg["ac"] == {"s": "BTCUSDT", "l": 7}
        status, _ = request(live.base + "/fapi/v1/listenKey", "DELETE", headers=headers)
        assert status == 200
        for _ in range(10):  # (the leverage change's ACCOUNT_UPDATE may come first)
            msg = json.loads(ws.recv(timeout=5))
            if msg["e"] == "listenKeyExpired":
                break
        assert msg["e"] == "listenKeyExpired" and msg["listenKey"] == key
