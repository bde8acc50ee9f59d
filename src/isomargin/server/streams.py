"""WebSocket streams: the native topics (`mark:BTCUSDT`, `trades:…`, `book:…`, `liquidations`, the account) and
Binance USDⓈ-M's stream names and payloads (`btcusdt@aggTrade`, `@depth`, `@markPrice`, `@kline_1m`, `@ticker`,
`@bookTicker`, `@forceOrder`, the listenKey user data stream), on the paths Binance clients and ccxt 4.5 use.

A connection subscribes the hub to native topics; Binance stream names are served by translating the native
messages of the topics they need (streams read the venue's events, histories and queries only).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal
from typing import Any, Final

from fastapi import WebSocket, WebSocketDisconnect

from isomargin.engine import queries as q
from isomargin.server.venue import HALT, MINUTE, Venue, fmt, now_ms

INTERVALS: Final = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360,
                    "8h": 480, "12h": 720, "1d": 1440, "3d": 4320, "1w": 10080}  # fmt: skip
LISTEN_KEY_POLL_S: Final = 1.0  # how soon a stream notices its listenKey expired or was deleted
MAX_STREAMS: Final = 200  # Binance's limit of streams per connection
ZERO = Decimal(0)


def is_binance_name(name: str) -> bool:
    return "@" in name or name.startswith("!")


def parse_binance(name: str) -> tuple[str, str | None, str] | None:
    """(kind, SYMBOL or None for all markets, argument) of a Binance stream name, or None if it is not one."""
    low = name.lower()
    if low.startswith("!"):
        kind = low[1:].split("@")[0]
        return (kind.lower(), None, "") if kind in ("forceorder", "markprice", "ticker", "bookticker") else None
    sym, _, rest = name.partition("@")
    if not sym or not rest:
        return None
    kind, _, arg = rest.partition("@")
    k = kind.lower()
    if k.startswith("kline_"):
        return ("kline", sym.upper(), kind[6:]) if kind[6:] in INTERVALS else None
    if k.startswith("depth"):
        levels = k[5:]
        if levels in ("", "5", "10", "20"):
            return ("depth", sym.upper(), levels)
        return None
    if k in ("aggtrade", "trade", "markprice", "ticker", "miniticker", "bookticker", "forceorder"):
        return (k, sym.upper(), arg)
    return None


def native_topics(kind: str, symbol: str | None, symbols: list[str]) -> set[str]:
    """The native topics a Binance stream is made from."""
    syms = symbols if symbol is None else [symbol]
    if kind in ("aggtrade", "trade"):
        return {f"trades:{s}" for s in syms}
    if kind in ("depth", "bookticker"):
        return {f"book:{s}" for s in syms}
    if kind == "markprice":
        return {f"mark:{s}" for s in syms}
    if kind in ("kline", "ticker", "miniticker"):
        return {f"trades:{s}" for s in syms} | {f"mark:{s}" for s in syms}
    if kind == "forceorder":
        return {"liquidations"}
    return set()


class Connection:
    """One WebSocket client: its native topics, its Binance streams, its account (listenKey), and the translation
    of the hub's native messages into what it asked for."""

    def __init__(self, websocket: WebSocket, venue: Venue, binance: bool, combined: bool) -> None:
        self.ws = websocket
        self.venue = venue
        self.binance = binance  # a Binance-only path: account messages in Binance's shape, replies without extras
        self.combined = combined  # /stream: every message wrapped as {"stream", "data"}
        self.native: set[str] = set()
        self.streams: dict[str, tuple[str, str | None, str]] = {}  # Binance name -> parsed
        self.topics: set[str] = set()  # what the hub sends (native topics the above need)
        self.account: int | None = None
        self.listen_key: str | None = None
        self.symbols: list[str] = venue.read(lambda: linear_symbols(venue))
        self._trades: dict[int, list[dict[str, Any]]] = {}  # my fills waiting for their order's update
        self._seen_trades: set[int] = set()
        self._positions: set[tuple[str, str]] = set()

    # -- subscriptions ------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        topics = set(self.native)
        for kind, symbol, _ in self.streams.values():
            topics |= native_topics(kind, symbol, self.symbols)
        if self.account is not None:
            topics.add(f"account:{self.account}")
        self.topics.clear()
        self.topics.update(topics)

    def add(self, names: list[str]) -> list[str]:
        """Subscribe; returns the native topics newly added (they get a snapshot)."""
        fresh = []
        for name in names:
            if is_binance_name(name):
                parsed = parse_binance(name)
                if parsed is not None and len(self.streams) < MAX_STREAMS:
                    self.streams[name] = parsed
            elif not name.startswith("account:") and name not in self.native:
                self.native.add(name)
                fresh.append(name)
        self._refresh()
        return fresh

    def remove(self, names: list[str]) -> None:
        for name in names:
            self.streams.pop(name, None)
            self.native.discard(name)
        self._refresh()

    def names(self) -> list[str]:
        return sorted(self.native) + sorted(self.streams)

    # -- output -------------------------------------------------------------------------------------------
    async def send(self, stream: str, payload: Any) -> None:
        if self.combined:
            await self.ws.send_json({"stream": stream, "data": payload})
        else:
            await self.ws.send_json(payload)

    async def native_snapshot(self, topic: str) -> None:
        kind, _, symbol = topic.partition(":")
        venue = self.venue
        if kind == "book" and venue.read(lambda: q.instrument(venue.engine, symbol)) is not None:
            bids, asks, uid = venue.book_snapshot(symbol)
            await self.ws.send_json({
                "e": "depthSnapshot", "E": now_ms(), "s": symbol, "u": uid,
                "b": [[fmt(p), fmt(x)] for p, x in bids], "a": [[fmt(p), fmt(x)] for p, x in asks],
            })  # fmt: skip

    async def deliver(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        """One hub batch (the messages of one durable group, in order)."""
        for topic, msg in batch:
            if topic in self.native or (topic.startswith("account:") and not self.binance):
                await self.ws.send_json(msg)
            if self.streams or (self.binance and topic.startswith("account:")):
                for name, payload in self.translate(topic, msg):
                    await self.send(name, payload)

    # -- Binance payloads ---------------------------------------------------------------------------------
    def _mine(self, kind: str, symbol: str) -> list[tuple[str, str]]:
        return [(n, arg) for n, (k, s, arg) in self.streams.items() if k == kind and (s is None or s == symbol)]

    def translate(self, topic: str, msg: dict[str, Any]) -> list[tuple[str, Any]]:
        e = msg.get("e")
        out: list[tuple[str, Any]] = []
        symbol = msg.get("s", "")
        if topic.startswith("trades:") and e == "trade":
            for name, _ in self._mine("aggtrade", symbol):
                out.append(
                    (
                        name,
                        {
                            "e": "aggTrade",
                            "E": msg["E"],
                            "s": symbol,
                            "a": msg["t"],
                            "p": msg["p"],
                            "q": msg["q"],
                            "f": msg["t"],
                            "l": msg["t"],
                            "T": msg["T"],
                            "m": msg["m"],
                        },
                    )
                )
            for name, _ in self._mine("trade", symbol):
                out.append(
                    (
                        name,
                        {
                            "e": "trade",
                            "E": msg["E"],
                            "T": msg["T"],
                            "s": symbol,
                            "t": msg["t"],
                            "p": msg["p"],
                            "q": msg["q"],
                            "X": "MARKET",
                            "m": msg["m"],
                        },
                    )
                )
            out += self._klines_and_tickers(symbol)
        elif topic.startswith("mark:") and e == "markPriceUpdate":
            for name, _ in self._mine("markprice", symbol):
                out.append(
                    (
                        name,
                        {
                            "e": "markPriceUpdate",
                            "E": msg["E"],
                            "s": symbol,
                            "p": msg["p"],
                            "i": msg["i"],
                            "P": msg["i"],
                            "r": msg["r"],
                            "T": msg["T"],
                        },
                    )
                )
            out += self._klines_and_tickers(symbol)
        elif topic.startswith("book:") and e == "depthUpdate":
            for name, levels in self._mine("depth", symbol):
                if not levels:
                    out.append((name, {k: msg[k] for k in ("e", "E", "T", "s", "U", "u", "pu", "b", "a")}))
                else:
                    bids, asks, _ = self.venue.book_snapshot(symbol)
                    n = int(levels)
                    out.append((name, {"e": "depthUpdate", "E": msg["E"], "T": msg["T"], "s": symbol, "U": msg["U"],
                                       "u": msg["u"], "pu": msg["pu"], "b": [[fmt(p), fmt(x)] for p, x in bids[:n]],
                                       "a": [[fmt(p), fmt(x)] for p, x in asks[:n]]}))  # fmt: skip
            mine = self._mine("bookticker", symbol)
            if mine:
                bids, asks, _ = self.venue.book_snapshot(symbol)
                b = bids[0] if bids else (ZERO, ZERO)
                a = asks[0] if asks else (ZERO, ZERO)
                payload = {"e": "bookTicker", "u": msg["u"], "s": symbol, "b": fmt(b[0]), "B": fmt(b[1]),
                           "a": fmt(a[0]), "A": fmt(a[1]), "T": msg["T"], "E": msg["E"]}  # fmt: skip
                out += [(name, payload) for name, _ in mine]
        elif topic == "liquidations" and e == "LIQUIDATION":
            mine = self._mine("forceorder", symbol or msg.get("symbol", ""))
            if mine:
                long = Decimal(msg.get("bankruptcy_price") or 0) < Decimal(msg.get("mark") or 0)
                order = {"s": msg.get("symbol"), "S": "SELL" if long else "BUY", "o": "LIMIT", "f": "IOC",
                         "q": fmt(Decimal(str(msg.get("qty") or 0)).copy_abs()), "p": str(msg.get("price") or 0),
                         "ap": str(msg.get("price") or 0), "X": "FILLED",
                         "l": fmt(Decimal(str(msg.get("qty") or 0)).copy_abs()),
                         "z": fmt(Decimal(str(msg.get("qty") or 0)).copy_abs()), "T": msg["E"]}  # fmt: skip
                out += [(name, {"e": "forceOrder", "E": msg["E"], "o": order}) for name, _ in mine]
        elif topic.startswith("account:") and self.account is not None:
            out += [(self.listen_key or "", p) for p in self._account(msg)]
        return out

    def _klines_and_tickers(self, symbol: str) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        venue = self.venue
        for name, interval in self._mine("kline", symbol):
            k = venue.read(lambda: kline_now(venue, symbol, interval))  # noqa: B023 (read at once)
            if k is not None:
                out.append((name, {"e": "kline", "E": now_ms(), "s": symbol, "k": k}))
        tick = self._mine("ticker", symbol) + self._mine("miniticker", symbol)
        if tick:
            from isomargin.server.fapi_market import ticker_row  # (fapi_market imports the native API module)

            row = venue.read(lambda: ticker_row(venue, symbol))
            full = {
                "e": "24hrTicker", "E": now_ms(), "s": symbol, "p": row["priceChange"], "P": row["priceChangePercent"],
                "w": row["weightedAvgPrice"], "c": row["lastPrice"], "Q": row["lastQty"], "o": row["openPrice"],
                "h": row["highPrice"], "l": row["lowPrice"], "v": row["volume"], "q": row["quoteVolume"],
                "O": row["openTime"], "C": row["closeTime"], "F": row["firstId"], "L": row["lastId"], "n": row["count"],
            }  # fmt: skip
            mini = {k: full[k] for k in ("E", "s", "c", "o", "h", "l", "v", "q")} | {"e": "24hrMiniTicker"}
            for name, _ in tick:
                out.append((name, full if "miniticker" not in name.lower() else mini))
        return out

    def _account(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        """A native account message as Binance's user data stream events (possibly none, possibly several)."""
        e = msg.get("e")
        t = msg.get("E") or now_ms()
        me = self.account
        if e == "TRADE":
            tid = int(msg["trade_id"])
            both = msg["maker_account"] == me and msg["taker_account"] == me
            maker = msg["maker_account"] == me and not (both and tid in self._seen_trades)
            self._seen_trades.add(tid)
            if len(self._seen_trades) > 10_000:
                self._seen_trades.clear()
            oid = int(msg["maker_order_id"] if maker else msg["taker_order_id"])
            self._trades.setdefault(oid, []).append({**msg, "_maker": maker})
            return []
        if e == "ORDER_TRADE_UPDATE":
            return self._order_updates(msg["o"], t)
        if e == "ACCOUNT_UPDATE":
            return [self._account_update(msg, t)]
        if e == "ACCOUNT_CONFIG" and msg.get("setting") == "leverage":
            return [{"e": "ACCOUNT_CONFIG_UPDATE", "E": t, "T": t,
                     "ac": {"s": msg.get("symbol"), "l": int(str(msg.get("value")))}}]  # fmt: skip
        if e == "MARGIN_CALL":
            return [self._margin_call(msg, t)]
        return []

    def _order_updates(self, o: dict[str, Any], t: int) -> list[dict[str, Any]]:
        oid = int(o["order_id"])
        status = "NEW" if o["status"] == "TRIGGERED" else o["status"]
        filled = Decimal(str(o["filled"]))
        trades = self._trades.pop(oid, [])
        out = []
        done = filled - sum((Decimal(str(x["qty"])) for x in trades), ZERO)
        for i, tr in enumerate(trades):
            done += Decimal(str(tr["qty"]))
            last = i == len(trades) - 1
            x_status = status if last and status in ("FILLED", "PARTIALLY_FILLED") else (
                "FILLED" if done >= Decimal(str(o["qty"])) else "PARTIALLY_FILLED")  # fmt: skip
            maker = tr["_maker"]
            out.append(self._otu(o, t, "TRADE", x_status, {
                "l": str(tr["qty"]), "z": fmt(done), "L": str(tr["price"]), "n": str(tr["maker_fee" if maker else
                                                                                         "taker_fee"]),
                "t": tr["trade_id"], "m": maker, "rp": str(tr["maker_realized_pnl" if maker else "taker_realized_pnl"]),
                "N": tr.get("asset", "USDT"),
            }))  # fmt: skip
        if not trades or status not in ("FILLED", "PARTIALLY_FILLED"):
            if trades and status in ("FILLED", "PARTIALLY_FILLED"):
                return out
            if status in ("FILLED", "PARTIALLY_FILLED"):  # a fill whose trade this stream did not see
                out.append(self._otu(o, t, "TRADE", status, {"z": fmt(filled)}))
            else:
                out.append(self._otu(o, t, "NEW" if status == "NEW" else status, status, {"z": fmt(filled)}))
        return out

    def _otu(self, o: dict[str, Any], t: int, x: str, status: str, extra: dict[str, Any]) -> dict[str, Any]:
        body = {
            "s": o["symbol"], "c": o.get("client_order_id") or "", "S": o["side"], "o": o["type"],
            "f": o.get("tif") or "GTC", "q": str(o["qty"]), "p": str(o.get("price") or "0"),
            "ap": str(o.get("avg_price") or "0"), "sp": str(o.get("stop_price") or "0"), "x": x, "X": status,
            "i": o["order_id"], "l": "0", "z": "0", "L": "0", "N": "USDT", "n": "0", "T": o.get("updated") or t,
            "t": 0, "b": "0", "a": "0", "m": False, "R": bool(o.get("reduce_only")), "wt": o.get("working_type") or
            "CONTRACT_PRICE", "ot": o.get("orig_type") or o["type"], "ps": o.get("position_side") or "BOTH",
            "cp": bool(o.get("close_position")), "rp": "0", "pP": False, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE",
            "gtd": 0,
        }  # fmt: skip
        if o.get("activation_price"):
            body["AP"] = str(o["activation_price"])
        if o.get("callback_rate"):
            body["cr"] = str(o["callback_rate"])
        body.update(extra)
        return {"e": "ORDER_TRADE_UPDATE", "E": t, "T": t, "o": body}

    def _account_update(self, msg: dict[str, Any], t: int) -> dict[str, Any]:
        balances = []
        for asset, b in (msg.get("assets") or {"USDT": msg.get("balances", {})}).items():
            wallet = Decimal(b["wallet"]) + Decimal(b["held"]) + Decimal(b["isolated_margin"])
            balances.append({"a": asset, "wb": fmt(wallet), "cw": fmt(Decimal(b["wallet"]) + Decimal(b["held"])),
                             "bc": "0"})  # fmt: skip
        positions = []
        now: set[tuple[str, str]] = set()
        for x in msg.get("positions", []):
            if x["symbol"] not in self.symbols:
                continue
            key = (x["symbol"], x["position_side"])
            now.add(key)
            positions.append({
                "s": x["symbol"], "pa": x["size"], "ep": x["entry_price"], "bep": x.get("break_even_price", "0"),
                "cr": "0", "up": x["unrealized_pnl"], "mt": x["margin_mode"], "iw": x["isolated_margin"],
                "ps": x["position_side"], "ma": x.get("margin_asset", "USDT"),
            })  # fmt: skip
        for sym, ps in sorted(self._positions - now):  # closed since the last update: Binance shows size 0
            positions.append({"s": sym, "pa": "0", "ep": "0", "bep": "0", "cr": "0", "up": "0", "mt": "isolated",
                              "iw": "0", "ps": ps, "ma": "USDT"})  # fmt: skip
        self._positions = now
        return {"e": "ACCOUNT_UPDATE", "E": t, "T": t, "a": {"m": "ORDER", "B": balances, "P": positions}}

    def _margin_call(self, msg: dict[str, Any], t: int) -> dict[str, Any]:
        venue = self.venue
        me = self.account
        assert me is not None
        rows = venue.read(lambda: [x for x in q.positions(venue.engine, me) if x["symbol"] == msg.get("symbol")])
        b = venue.read(lambda: q.balances(venue.engine, me))
        return {"e": "MARGIN_CALL", "E": t, "cw": fmt(b["wallet"] + b["held"]), "p": [{
            "s": x["symbol"], "ps": x["position_side"], "pa": fmt(x["size"]),
            "mt": "ISOLATED" if str(x["margin_mode"]).lower().endswith("isolated") else "CROSSED",
            "iw": fmt(x["isolated_margin"]), "mp": fmt(x["mark_price"]), "up": fmt(x["unrealized_pnl"]),
            "mm": fmt(x["maintenance_margin"]),
        } for x in rows]}  # fmt: skip


def linear_symbols(venue: Venue) -> list[str]:
    out = []
    for s in q.symbols(venue.engine):
        inst = q.instrument(venue.engine, s)
        if inst is not None and not inst.inverse:
            out.append(s)
    return out


def kline_now(venue: Venue, symbol: str, interval: str) -> dict[str, Any] | None:
    """The current kline of an interval: from trades; a bar with no trade yet is the mark's (volume 0)."""
    ms = INTERVALS[interval] * MINUTE
    now = now_ms()
    start = now - now % ms
    rows = venue.history.bar(symbol, "last").read(ms, start, None, 1)
    zero = True
    if rows and rows[0][0] == start:
        r = rows[0]
        zero = False
    else:
        marks = venue.history.bar(symbol, "mark").read(ms, start, None, 1)
        if not marks or marks[0][0] != start:
            return None
        r = marks[0]
    return {
        "t": start, "T": start + ms - 1, "s": symbol, "i": interval, "f": 0, "L": 0, "o": fmt(r[1]), "c": fmt(r[4]),
        "h": fmt(r[2]), "l": fmt(r[3]), "v": "0" if zero else fmt(r[5]), "n": 0 if zero else r[7], "x": False,
        "q": "0" if zero else fmt(r[6]), "V": "0" if zero else fmt(r[8]), "Q": "0" if zero else fmt(r[9]), "B": "0",
    }  # fmt: skip


async def serve(websocket: WebSocket, venue: Venue, *, names: list[str], listen_key: str | None, binance: bool,
                combined: bool) -> None:  # fmt: skip
    """Run one stream connection until the client leaves (or the venue stops)."""
    if venue.failure is not None:  # accept, then say why and close (a refused handshake would not say)
        await websocket.accept()
        await websocket.send_json({"e": HALT, "E": now_ms(), "message": venue.failure})
        await websocket.close(code=1011, reason=HALT)
        return
    conn = Connection(websocket, venue, binance, combined)
    if listen_key:
        acct = venue.listen_keys.account(listen_key)
        if acct is None:
            await websocket.close(code=4001, reason="unknown or expired listenKey")
            return
        conn.account, conn.listen_key = acct, listen_key
    await websocket.accept()
    fresh = conn.add(names)
    sid, queue = venue.hub.add(conn.topics)
    for topic in sorted(fresh):
        await conn.native_snapshot(topic)

    async def reader() -> None:
        while True:
            try:
                msg = json.loads(await websocket.receive_text())
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            method = str(msg.get("method", msg.get("op", ""))).upper()
            asked = [str(x) for x in msg.get("params") or msg.get("streams") or []]
            if method in ("SUBSCRIBE", "SUB"):
                for t in conn.add(asked):
                    await conn.native_snapshot(t)
            elif method in ("UNSUBSCRIBE", "UNSUB"):
                conn.remove(asked)
            elif method == "LIST_SUBSCRIPTIONS":
                await websocket.send_json({"result": conn.names(), "id": msg.get("id")})
                continue
            reply: dict[str, Any] = {"result": None, "id": msg.get("id")}
            if not binance:
                reply["streams"] = conn.names()
            await websocket.send_json(reply)

    async def writer() -> None:
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            for _, msg in batch:
                if msg.get("e") == HALT:
                    await websocket.send_json(msg)
                    await websocket.close(code=1011, reason=HALT)
                    return
            await conn.deliver(batch)

    async def expiry() -> None:
        while True:
            await asyncio.sleep(LISTEN_KEY_POLL_S)
            if conn.listen_key is not None and venue.listen_keys.account(conn.listen_key) is None:
                await conn.send(conn.listen_key, {"e": "listenKeyExpired", "E": now_ms(), "listenKey": conn.listen_key})
                conn.account = None
                conn._refresh()
                conn.listen_key = None

    tasks = [asyncio.create_task(reader()), asyncio.create_task(writer())]
    if conn.listen_key is not None:
        tasks.append(asyncio.create_task(expiry()))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for task in tasks:
            task.cancel()
        venue.hub.remove(sid)
        with contextlib.suppress(Exception):
            await websocket.close()


def path_parts(rest: str, query: dict[str, str]) -> tuple[list[str], str | None]:
    """Stream names and listen key from a path tail (`btcusdt@aggTrade`, a ccxt stream index like `0`, or a
    listen key) and the query (`streams=a/b`, `listenKey=…`)."""
    names: list[str] = []
    key = query.get("listenKey")
    for part in [x for x in rest.split("/") if x] + [x for x in (query.get("streams") or "").split("/") if x]:
        if is_binance_name(part):
            names.append(part)
        elif part.isdigit():
            continue
        elif key is None:
            key = part
    return names, key
