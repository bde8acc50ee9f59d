"""Binance spot compatible API under /api/v3, enough for unmodified ccxt `binance`: ping, time, exchangeInfo (the spot
pairs with PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and NOTIONAL), depth, trades, aggTrades, klines, tickers, account
(the wallet: free and what open spot orders lock), and wallet spot orders and fills.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from isomargin.engine import queries as q
from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import CancelSpotOrder
from isomargin.server.auth import Principal
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import choice, integer, me, need
from isomargin.server.native import INTERVALS
from isomargin.server.params import echo, parse_symbol
from isomargin.server.spot_base import (
    RESP_TYPES,
    SPOT,
    ZERO,
    b_fill,
    b_spot_order,
    exchange_symbol,
    fill_rows,
    find_spot_order,
    order_error,
    order_of,
    orders_of,
    pair_info,
    pair_of,
    pair_or_none,
    placed_response,
    public_trades,
    spot_order_command,
    unknown_symbol,
    window,
)
from isomargin.server.venue import MINUTE, Bars, Venue, fmt, now_ms

route = SPOT.route
DAY: Final = 1440 * MINUTE
MAX_PRICE: Final = Decimal("1000000")  # PRICE_FILTER maxPrice shown (the engine's own bound is far above)
MAX_QTY: Final = Decimal("9000")


@route("GET", "v3/ping")
async def ping(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {}


@route("GET", "v3/time")
async def time_(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"serverTime": now_ms()}


def _pairs(venue: Venue) -> list[str]:
    rows: list[str] = venue.read(lambda: sq.spot_pairs(venue.engine))
    return rows


def _symbol_row(pair: dict[str, Any]) -> dict[str, Any]:
    tick, step = pair["tick_size"], pair["step_size"]
    places = max(0, -tick.as_tuple().exponent), max(0, -step.as_tuple().exponent)
    return {
        "symbol": pair["exchange_symbol"], "status": "TRADING", "baseAsset": pair["base"], "baseAssetPrecision": 8,
        "quoteAsset": pair["quote"], "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8, "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"], "icebergAllowed": False,
        "ocoAllowed": False, "otoAllowed": False, "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False,
        "cancelReplaceAllowed": False, "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt(tick, places[0]), "maxPrice": fmt(MAX_PRICE, places[0]),
             "tickSize": fmt(tick, places[0])},
            {"filterType": "LOT_SIZE", "minQty": fmt(step, places[1]), "maxQty": fmt(MAX_QTY, places[1]),
             "stepSize": fmt(step, places[1])},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0", "maxQty": fmt(MAX_QTY, places[1]), "stepSize": "0"},
            {"filterType": "NOTIONAL", "minNotional": fmt(pair["min_notional"]), "applyMinToMarket": True,
             "maxNotional": "9000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": ["SPOT", "MARGIN"], "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"],
    }  # fmt: skip


@route("GET", "v3/exchangeInfo")
async def exchange_info(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    wanted: list[str] | None = None
    if p.get("symbol"):
        wanted = [pair_of(venue, p)]
    elif p.get("symbols"):
        wanted = [_named(venue, s) for s in _symbol_list(p["symbols"])]
    rows = [_symbol_row(pair_info(venue, s)) for s in (wanted if wanted is not None else _pairs(venue))]
    return {
        "timezone": "UTC", "serverTime": now_ms(),
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                        "limit": venue.config.rate_limit}],
        "exchangeFilters": [], "symbols": rows,
    }  # fmt: skip


def _symbol_list(text: str) -> list[str]:
    """`symbols` as Binance takes it: a JSON array of names (["BTCUSDT","ETHUSDT"]), or a comma list."""
    if len(text) > 400:
        raise ApiError(400, "bad_parameter", "symbols is too long", -1100,
                       "Illegal characters found in parameter 'symbols'.")  # fmt: skip
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    names = [x.strip().strip('"') for x in inner.split(",") if x.strip()]
    if not names:
        raise ApiError(400, "bad_parameter", "symbols names no symbol", -1102,
                       "Mandatory parameter 'symbols' was not sent, was empty/null, or malformed.")  # fmt: skip
    return [parse_symbol(n, "symbols") for n in names]


def _named(venue: Venue, name: str) -> str:
    found: str | None = venue.read(lambda: sq.by_exchange_symbol(venue.engine, name))
    if found is None:
        raise unknown_symbol(name)
    return found


def _each(venue: Venue, p: dict[str, str], one: Callable[[str], dict[str, Any]]) -> Any:
    if p.get("symbol"):
        s = pair_of(venue, p)
        return venue.read(lambda: one(s))
    names = [_named(venue, x) for x in _symbol_list(p["symbols"])] if p.get("symbols") else _pairs(venue)
    return venue.read(lambda: [one(x) for x in names])


@route("GET", "v3/depth")
async def depth(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    limit = integer(p, "limit", 100, 1, 5000) or 100
    book, seq = venue.read(lambda: (sq.spot_depth(venue.engine, s, limit), venue.core.seq))
    return {"lastUpdateId": seq, "bids": [[fmt(a), fmt(b)] for a, b in book["bids"]],
            "asks": [[fmt(a), fmt(b)] for a, b in book["asks"]]}  # fmt: skip


@route("GET", "v3/trades", "v3/historicalTrades")
async def trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    rows = public_trades(venue, s)
    from_id = integer(p, "fromId")
    rows = [r for r in rows if r["id"] >= from_id][:limit] if from_id is not None else rows[-limit:]
    return [{"id": r["id"], "price": fmt(r["price"]), "qty": fmt(r["qty"]), "quoteQty": fmt(r["quote"]),
             "time": r["time"], "isBuyerMaker": r["buyer_maker"], "isBestMatch": True} for r in rows]  # fmt: skip


@route("GET", "v3/aggTrades")
async def agg_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Each fill is its own aggregate (a = f = l = its trade id)."""
    s = pair_of(venue, p)
    rows = [{**r, "time": r["time"]} for r in public_trades(venue, s)]
    picked = window(rows, p, "id", "fromId")
    return [{"a": r["id"], "p": fmt(r["price"]), "q": fmt(r["qty"]), "f": r["id"], "l": r["id"], "T": r["time"],
             "m": r["buyer_maker"], "M": True} for r in picked]  # fmt: skip


@route("GET", "v3/klines", "v3/uiKlines")
async def klines(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Bars of the pair's fills; an interval in which nothing traded is the mark's bar, with no volume."""
    s = pair_of(venue, p)
    interval = need(p, "interval")
    if interval not in INTERVALS:  # case matters: 1m is a minute, 1M a month
        raise ApiError(400, "bad_interval", f"interval must be one of {', '.join(INTERVALS)}, got {echo(interval)}",
                       -1120, "Invalid interval.")  # fmt: skip
    ms = INTERVALS[interval] * MINUTE
    limit = integer(p, "limit", 500, 1, 1000) or 500
    start, end = integer(p, "startTime"), integer(p, "endTime")
    bars = Bars()
    for r in public_trades(venue, s):
        bars.add(r["time"], r["price"], r["qty"], not r["buyer_maker"])
    rows = bars.read(ms, start, end, limit)
    marks = venue.read(lambda: venue.history.bar(s, "mark").read(ms, start, end, limit))
    traded = {r[0] for r in rows}
    zero = [ZERO, ZERO, 0, ZERO, ZERO, ZERO, ZERO]
    rows = sorted(rows + [[*r[:5], *zero] for r in marks if r[0] not in traded], key=lambda r: r[0])
    rows = rows[-limit:] if start is None else rows[:limit]
    return [[r[0], fmt(r[1]), fmt(r[2]), fmt(r[3]), fmt(r[4]), fmt(r[5]), r[0] + ms - 1, fmt(r[6]), r[7], fmt(r[8]),
             fmt(r[9]), "0"] for r in rows]  # fmt: skip


def _last(venue: Venue, s: str) -> Decimal:
    pair = sq.spot_pair(venue.engine, s)
    assert pair is not None
    price: Decimal = pair["last_price"] or pair["mark_price"] or ZERO
    return price


def _ticker(venue: Venue, s: str) -> dict[str, Any]:
    now = now_ms()
    rows = [r for r in public_trades(venue, s) if r["time"] >= now - DAY]
    last = _last(venue, s)
    if rows:
        o, hi, lo = rows[0]["price"], max(r["price"] for r in rows), min(r["price"] for r in rows)
        vol = sum((r["qty"] for r in rows), ZERO)
        qv = sum((r["quote"] for r in rows), ZERO)
    else:
        o = hi = lo = last
        vol = qv = ZERO
    book = sq.spot_depth(venue.engine, s, 1) or {"bids": [], "asks": []}
    bid = book["bids"][0] if book["bids"] else (ZERO, ZERO)
    ask = book["asks"][0] if book["asks"] else (ZERO, ZERO)
    change = last - o
    return {
        "symbol": exchange_symbol(venue, s), "priceChange": fmt(change),
        "priceChangePercent": fmt((change / o * 100).quantize(Decimal("0.001")) if o else ZERO),
        "weightedAvgPrice": fmt(qv / vol if vol else last), "prevClosePrice": fmt(o), "lastPrice": fmt(last),
        "lastQty": fmt(rows[-1]["qty"]) if rows else "0", "bidPrice": fmt(bid[0]), "bidQty": fmt(bid[1]),
        "askPrice": fmt(ask[0]), "askQty": fmt(ask[1]), "openPrice": fmt(o), "highPrice": fmt(hi),
        "lowPrice": fmt(lo), "volume": fmt(vol), "quoteVolume": fmt(qv), "openTime": now - DAY, "closeTime": now,
        "firstId": rows[0]["id"] if rows else -1, "lastId": rows[-1]["id"] if rows else -1, "count": len(rows),
    }  # fmt: skip


@route("GET", "v3/ticker/24hr")
async def ticker_24h(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return _each(venue, p, lambda s: _ticker(venue, s))


@route("GET", "v3/ticker/price")
async def ticker_price(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return _each(venue, p, lambda s: {"symbol": exchange_symbol(venue, s), "price": fmt(_last(venue, s))})


@route("GET", "v3/ticker/bookTicker")
async def book_ticker(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        book = sq.spot_depth(venue.engine, s, 1) or {"bids": [], "asks": []}
        b = book["bids"][0] if book["bids"] else (ZERO, ZERO)
        a = book["asks"][0] if book["asks"] else (ZERO, ZERO)
        return {"symbol": exchange_symbol(venue, s), "bidPrice": fmt(b[0]), "bidQty": fmt(b[1]), "askPrice": fmt(a[0]),
                "askQty": fmt(a[1])}  # fmt: skip

    return _each(venue, p, one)


@route("GET", "v3/avgPrice")
async def avg_price(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    return {"mins": 5, "price": fmt(venue.read(lambda: _last(venue, s))), "closeTime": now_ms()}


# ================================================================ account
def wallet_assets(venue: Venue) -> list[str]:
    """USDT, then every coin a futures market settles in or a spot pair trades (BTC, ETH), in listing order."""
    e = venue.engine
    out = ["USDT"]
    for s in q.symbols(e):
        inst = q.instrument(e, s)
        if inst is not None and inst.settle not in out:
            out.append(inst.settle)
    for s in sq.spot_pairs(e):
        pair = sq.spot_pair(e, s)
        assert pair is not None
        for a in (pair["base"], pair["quote"]):
            if a not in out:
                out.append(a)
    return out


def _account(venue: Venue, account: int) -> dict[str, Any]:
    e = venue.engine
    balances = []
    for a in wallet_assets(venue):
        free = max(q.balances(e, account, a)["available"], ZERO)
        balances.append({"asset": a, "free": fmt(free), "locked": fmt(sq.spot_wallet_locked(e, account, a))})
    rate = "0.00100000"
    return {
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": rate, "taker": rate, "buyer": "0.00000000", "seller": "0.00000000"},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": now_ms(), "accountType": "SPOT",
        "balances": balances, "permissions": ["SPOT", "MARGIN"], "uid": account,
    }  # fmt: skip


@route("GET", "v3/account", auth="read")
async def account(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return venue.read(lambda: _account(venue, me(who)))


# ================================================================ wallet orders
async def place(venue: Venue, account: int, p: dict[str, str], margin: bool) -> dict[str, Any]:
    cmd = spot_order_command(venue, account, p, margin)
    resp = choice(p, "newOrderRespType", RESP_TYPES, "FULL")
    try:
        events = await venue.submit(cmd)
    except ApiError as exc:
        raise order_error(exc) from None
    return placed_response(venue, order_of(venue, account, events), events, resp, margin)


@route("POST", "v3/order", auth="trade")
async def new_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return await place(venue, me(who), p, margin=False)


@route("POST", "v3/order/test", auth="trade")
async def test_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    spot_order_command(venue, me(who), p, margin=False)  # the parameters are checked; nothing is sent
    return {}


@route("GET", "v3/order", auth="read")
async def get_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    rec = find_spot_order(venue, me(who), p, s)
    if rec.get("isolated"):
        raise ApiError(400, "unknown_order", "that order is an isolated margin order (GET /sapi/v1/margin/order)",
                       -2013, "Order does not exist.")  # fmt: skip
    return b_spot_order(venue, rec)


async def cancel(venue: Venue, account: int, p: dict[str, str], isolated: bool) -> dict[str, Any]:
    s = pair_of(venue, p)
    try:
        rec = find_spot_order(venue, account, p, s)
    except ApiError as exc:
        if exc.code != "unknown_order":  # a bad id or a missing one keeps its own code
            raise
        raise ApiError(400, "unknown_order", exc.message, -2011, "Unknown order sent.") from None
    if bool(rec.get("isolated")) is not isolated or rec["status"] not in ("NEW", "PARTIALLY_FILLED"):
        raise ApiError(400, "unknown_order", "the order is not open", -2011, "Unknown order sent.")
    try:
        await venue.submit(CancelSpotOrder(account, s, order_id=rec["order_id"]))
    except ApiError as exc:
        raise order_error(exc) from None
    done = find_spot_order(venue, account, {"orderId": str(rec["order_id"])}, s)
    view = b_spot_order(venue, done, isolated)
    view["origClientOrderId"] = view["clientOrderId"]
    for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking", "workingTime", "origQuoteOrderQty"):
        view.pop(key, None)
    return view


@route("DELETE", "v3/order", auth="trade")
async def cancel_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return await cancel(venue, me(who), p, isolated=False)


async def cancel_all(venue: Venue, account: int, p: dict[str, str], isolated: bool) -> list[dict[str, Any]]:
    s = pair_of(venue, p)
    out = []
    for rec in orders_of(venue, account, s, isolated, True):
        out.append(await cancel(venue, account, {"symbol": p["symbol"], "orderId": str(rec["order_id"])}, isolated))
    return out


@route("DELETE", "v3/openOrders", auth="trade")
async def cancel_open(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return await cancel_all(venue, me(who), p, isolated=False)


@route("GET", "v3/openOrders", auth="read")
async def open_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_or_none(venue, p)
    return [b_spot_order(venue, r) for r in orders_of(venue, me(who), s, False, True)]


@route("GET", "v3/allOrders", auth="read")
async def all_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    rows = [{**r, "time": r["created"]} for r in orders_of(venue, me(who), s, False, False)]
    return [b_spot_order(venue, r) for r in window(rows, p, "order_id", "orderId")]


@route("GET", "v3/myTrades", auth="read")
async def my_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    rows = fill_rows(venue, me(who), s, isolated=False)
    oid = integer(p, "orderId")
    if oid is not None:
        rows = [r for r in rows if r["order_id"] == oid]
    return [b_fill(venue, r, False) for r in window(rows, p, "trade_id", "fromId")]
