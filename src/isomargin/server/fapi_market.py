"""Binance-compatible public market data: ping, time, exchangeInfo, depth, trades, klines (last, mark, index),
tickers, premiumIndex, funding rate and info, forceOrders.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from isomargin.engine import queries as q
from isomargin.server.auth import Principal
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import ORDER_TYPES, ZERO, integer, markets, me, need, route, symbol_of
from isomargin.server.native import INTERVALS
from isomargin.server.params import echo
from isomargin.server.venue import MINUTE, Venue, fmt, now_ms


@route("GET", "v1/ping")
async def ping(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {}


@route("GET", "v1/time")
async def time_(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"serverTime": now_ms()}


@route("GET", "v1/exchangeInfo")
async def exchange_info(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def build() -> list[dict[str, Any]]:
        out = []
        e = venue.engine
        for sym in markets(venue):
            inst, m = q.instrument(e, sym), q.market(e, sym)
            assert inst is not None and m is not None
            base = sym[: -len(inst.settle)]
            tiers = inst.spec.table.tiers
            t1 = tiers[0]
            qp = max(0, -inst.step.normalize().as_tuple().exponent)  # type: ignore[operator]
            pp = max(0, -inst.tick.normalize().as_tuple().exponent)  # type: ignore[operator]
            out.append({
                "symbol": sym, "pair": sym, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000, "status": "BREAK" if m["paused"] else "TRADING",
                "maintMarginPercent": fmt(t1.mmr * 100), "requiredMarginPercent": fmt(100 / t1.max_leverage),
                "baseAsset": base, "quoteAsset": inst.settle, "marginAsset": inst.settle,
                "pricePrecision": pp, "quantityPrecision": qp, "baseAssetPrecision": 8, "quotePrecision": 8,
                "underlyingType": "COIN", "underlyingSubType": [], "settlePlan": 0, "triggerProtect": "0.0500",
                "liquidationFee": fmt(inst.spec.liquidation_fee_rate), "marketTakeBound": fmt(inst.price_band),
                "maxMoveOrderLimit": 10000,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": fmt(inst.tick), "maxPrice": "10000000",
                     "tickSize": fmt(inst.tick)},
                    {"filterType": "LOT_SIZE", "minQty": fmt(inst.step), "maxQty": "100000",
                     "stepSize": fmt(inst.step)},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": fmt(inst.step), "maxQty": "100000",
                     "stepSize": fmt(inst.step)},
                    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                    {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                    {"filterType": "MIN_NOTIONAL", "notional": fmt(inst.spec.min_notional)},
                    {"filterType": "PERCENT_PRICE", "multiplierUp": fmt(1 + inst.price_band),
                     "multiplierDown": fmt(1 - inst.price_band), "multiplierDecimal": "4"},
                ],
                "orderTypes": ORDER_TYPES, "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
            })  # fmt: skip
        return out

    return {
        "timezone": "UTC", "serverTime": now_ms(), "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": venue.config.rate_limit},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": venue.read(build),
    }  # fmt: skip


@route("GET", "v1/depth")
async def depth(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, inverse=inverse)
    assert s is not None
    limit = integer(p, "limit", 500, 1, 1000) or 500
    # the book and its update id, read together: the id is the `u` of the depth stream's last update of this book
    (bids, asks), seq = venue.read(lambda: (venue.book(s, limit), venue.book_ids.get(s, venue.core.seq)))
    t = now_ms()
    return {"lastUpdateId": seq, "E": t, "T": t,
            "bids": [[fmt(a), fmt(b)] for a, b in bids], "asks": [[fmt(a), fmt(b)] for a, b in asks]}  # fmt: skip


@route("GET", "v1/trades")
async def trades(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, inverse=inverse)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    rows = venue.read(lambda: list(venue.history.trades.get(s or "", ()))[-limit:])
    return [{"id": r["id"], "price": fmt(r["price"]), "qty": fmt(r["qty"]), "quoteQty": fmt(r["quote"]),
             "time": r["time"], "isBuyerMaker": r["buyer_maker"]} for r in rows]  # fmt: skip


def _klines(venue: Venue, p: dict[str, str], kind: str, inverse: bool = False) -> Any:
    """Binance kline rows; on an inverse market volume is in contracts and the fourth volume column is the
    base (coin) volume, as on COIN-M."""
    s = symbol_of(venue, p, inverse=inverse)
    interval = need(p, "interval")
    if interval not in INTERVALS:  # case matters: 1m is a minute, 1M a month
        raise ApiError(400, "bad_interval", f"interval must be one of {', '.join(INTERVALS)}, got {echo(interval)}",
                       -1120, "Invalid interval.")  # fmt: skip
    ms = INTERVALS[interval] * MINUTE
    limit = integer(p, "limit", 500, 1, 1500) or 500
    start, end = integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: venue.history.bar(s or "", kind).read(ms, start, end, limit))
    if kind == "last":  # an interval in which nothing traded is the mark's bar, with no volume
        marks = venue.read(lambda: venue.history.bar(s or "", "mark").read(ms, start, end, limit))
        traded = {r[0] for r in rows}
        zero = [ZERO, ZERO, 0, ZERO, ZERO, ZERO, ZERO]
        rows = sorted(rows + [[*r[:5], *zero] for r in marks if r[0] not in traded], key=lambda r: r[0])
        rows = rows[-limit:] if start is None else rows[:limit]
    out = []
    for r in rows:
        vol = [fmt(r[5]), r[0] + ms - 1, fmt(r[6]), r[7], fmt(r[8]), fmt(r[9]), "0"]
        if inverse:
            cs = venue.read(lambda: q.instrument(venue.engine, s or "")).spec.contract_size
            vol = [fmt(r[5] / cs), r[0] + ms - 1, fmt(r[10]), r[7], fmt(r[8] / cs), fmt(r[11]), "0"]
        if kind != "last":
            vol = ["0", r[0] + ms - 1, "0", 0, "0", "0", "0"]
        out.append([r[0], fmt(r[1]), fmt(r[2]), fmt(r[3]), fmt(r[4]), *vol])
    return out


@route("GET", "v1/klines", "v1/continuousKlines")
async def klines(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    if "pair" in p and "symbol" not in p:
        p = {**p, "symbol": p["pair"]}
    return _klines(venue, p, "last", inverse)


@route("GET", "v1/markPriceKlines")
async def mark_klines(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    return _klines(venue, p, "mark", inverse)


@route("GET", "v1/indexPriceKlines")
async def index_klines(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    if "pair" in p and "symbol" not in p:
        p = {**p, "symbol": p["pair"]}
    return _klines(venue, p, "index", inverse)


def _each(venue: Venue, p: dict[str, str], one: Callable[[str], dict[str, Any]], inverse: bool = False) -> Any:
    s = symbol_of(venue, p, required=False, inverse=inverse)
    if s is not None:
        return venue.read(lambda: one(s))
    return venue.read(lambda: [one(x) for x in markets(venue, inverse)])


@route("GET", "v1/ticker/24hr")
async def ticker_24h(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return _each(venue, p, lambda s: ticker_row(venue, s))


def ticker_row(venue: Venue, s: str) -> dict[str, Any]:
    """One market's rolling 24-hour figures (volume in the order quantity unit, quoteVolume = Σ price × qty)."""
    now = now_ms()
    bars = [b for t, b in venue.history.bar(s, "last").bars.items() if t >= now - 1440 * MINUTE]
    m = q.market(venue.engine, s)
    assert m is not None
    last = m["last_price"] or m["mark_price"] or ZERO
    tr = venue.history.trades.get(s)
    if bars:
        o, hi, lo = bars[0][0], max(b[1] for b in bars), min(b[2] for b in bars)
        vol = sum((b[4] for b in bars), ZERO)
        qv = sum((b[5] for b in bars), ZERO)
        n = sum(int(b[6]) for b in bars)
    else:
        o = hi = lo = last
        vol = qv = ZERO
        n = 0
    change = last - Decimal(o)
    return {
        "symbol": s, "priceChange": fmt(change),
        "priceChangePercent": fmt((change / Decimal(o) * 100).quantize(Decimal("0.001")) if o else ZERO),
        "weightedAvgPrice": fmt(qv / vol if vol else last), "lastPrice": fmt(last),
        "lastQty": fmt(tr[-1]["qty"]) if tr else "0", "openPrice": fmt(o), "highPrice": fmt(hi),
        "lowPrice": fmt(lo), "volume": fmt(vol), "quoteVolume": fmt(qv),
        "openTime": now - 1440 * MINUTE, "closeTime": now, "firstId": tr[0]["id"] if tr else 0,
        "lastId": tr[-1]["id"] if tr else 0, "count": n,
    }  # fmt: skip


@route("GET", "v1/ticker/price", "v2/ticker/price")
async def ticker_price(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    def one(s: str) -> dict[str, Any]:
        m = q.market(venue.engine, s)
        assert m is not None
        return {"symbol": s, "price": fmt(m["last_price"] or m["mark_price"]), "time": now_ms()}

    return _each(venue, p, one, inverse)


@route("GET", "v1/ticker/bookTicker")
async def book_ticker(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    def one(s: str) -> dict[str, Any]:
        bids, asks = venue.book(s, 1)
        b = bids[0] if bids else (ZERO, ZERO)
        a = asks[0] if asks else (ZERO, ZERO)
        return {"symbol": s, "bidPrice": fmt(b[0]), "bidQty": fmt(b[1]), "askPrice": fmt(a[0]), "askQty": fmt(a[1]),
                "time": now_ms(), "lastUpdateId": venue.book_ids.get(s, venue.core.seq)}  # fmt: skip

    return _each(venue, p, one, inverse)


@route("GET", "v1/premiumIndex")
async def premium_index(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        m = q.market(venue.engine, s)
        assert m is not None
        return {
            "symbol": s, "markPrice": fmt(m["mark_price"]), "indexPrice": fmt(m["index_price"]),
            "estimatedSettlePrice": fmt(m["index_price"]),
            "lastFundingRate": fmt(venue.funding_estimate.get(s, ZERO), 8), "interestRate": "0.00010000",
            "nextFundingTime": venue.next_funding.get(s, 0), "time": now_ms(),
        }  # fmt: skip

    return _each(venue, p, one)


@route("GET", "v1/fundingRate")
async def funding_rate(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, required=False, inverse=inverse)
    limit = integer(p, "limit", 100, 1, 1000) or 100
    start, end = integer(p, "startTime"), integer(p, "endTime")

    def look() -> list[dict[str, Any]]:
        here = set(markets(venue, inverse))
        rows = [r for sym, q in venue.history.funding.items() if (sym in here if s is None else sym == s) for r in q]
        rows = [r for r in rows if (start is None or r["time"] >= start) and (end is None or r["time"] <= end)]
        rows.sort(key=lambda r: r["time"])
        return rows[:limit] if start is not None else rows[-limit:]

    return [{"symbol": r["symbol"], "fundingRate": fmt(r["rate"], 8), "fundingTime": r["time"],
             "markPrice": fmt(r["mark"])} for r in venue.read(look)]  # fmt: skip


@route("GET", "v1/fundingInfo")
async def funding_info(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return [{"symbol": s, "adjustedFundingRateCap": "0.00750000", "adjustedFundingRateFloor": "-0.00750000",
             "fundingIntervalHours": 8} for s in venue.read(lambda: markets(venue))]  # fmt: skip


@route("GET", "v1/forceOrders", auth="read")
async def force_orders(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, required=False, inverse=inverse)
    here = set(venue.read(lambda: markets(venue, inverse)))
    limit = integer(p, "limit", 50, 1, 100) or 50
    start, end = integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: [
        r for r in venue.history.liquidations
        if r["account"] == me(who) and (r["symbol"] in here if s is None else r["symbol"] == s)
        and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)
    ])  # fmt: skip
    return rows[-limit:]


# ================================================================ account
