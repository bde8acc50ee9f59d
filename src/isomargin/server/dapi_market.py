"""Binance COIN-M public market data: ping, time, exchangeInfo (contract size, contract type, delivery date,
margin asset), depth, trades, klines (last, mark, index), tickers, premiumIndex, fundingRate. Quantities are
whole contracts; volumes in the coin are the base-asset columns.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from isomargin.engine import queries as q
from isomargin.server import fapi_market as fm
from isomargin.server.auth import Principal
from isomargin.server.dapi_base import PERPETUAL_DELIVERY, ZERO, pair_of, route, size_of
from isomargin.server.fapi_base import ORDER_TYPES, integer, markets, symbol_of
from isomargin.server.venue import MINUTE, Venue, fmt, now_ms

for _path, _fn in (("v1/ping", fm.ping), ("v1/time", fm.time_)):
    route("GET", _path)(_fn)
route("GET", "v1/klines", "v1/continuousKlines")(partial(fm.klines, inverse=True))
route("GET", "v1/markPriceKlines")(partial(fm.mark_klines, inverse=True))
route("GET", "v1/indexPriceKlines")(partial(fm.index_klines, inverse=True))
route("GET", "v1/fundingRate")(partial(fm.funding_rate, inverse=True))
route("GET", "v1/forceOrders", auth="read")(partial(fm.force_orders, inverse=True))


def _precision(step: Any) -> int:
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[no-any-return]


@route("GET", "v1/exchangeInfo")
async def exchange_info(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def build() -> list[dict[str, Any]]:
        out = []
        e = venue.engine
        for sym in markets(venue, inverse=True):
            inst, m = q.instrument(e, sym), q.market(e, sym)
            assert inst is not None and m is not None
            t1 = inst.spec.table.tiers[0]
            expiry = inst.expiry  # None: a perpetual
            out.append({
                "symbol": sym, "pair": pair_of(sym),
                "contractType": "PERPETUAL" if expiry is None else "CURRENT_QUARTER",
                "deliveryDate": PERPETUAL_DELIVERY if expiry is None else expiry, "onboardDate": 1596006000000,
                "contractStatus": "DELIVERED" if m.get("delivered") else "BREAK" if m["paused"] else "TRADING",
                "contractSize": int(inst.spec.contract_size),
                "marginAsset": inst.settle, "maintMarginPercent": fmt(t1.mmr * 100),
                "requiredMarginPercent": fmt(100 / t1.max_leverage), "baseAsset": inst.settle, "quoteAsset": "USD",
                "pricePrecision": _precision(inst.tick), "quantityPrecision": 0, "baseAssetPrecision": 8,
                "quotePrecision": 8, "equalQtyPrecision": 4, "triggerProtect": "0.0500",
                "underlyingType": "COIN", "underlyingSubType": [],
                "liquidationFee": fmt(inst.spec.liquidation_fee_rate), "marketTakeBound": fmt(inst.price_band),
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": fmt(inst.tick), "maxPrice": "10000000",
                     "tickSize": fmt(inst.tick)},
                    {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "1000000", "stepSize": "1"},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": "1", "maxQty": "1000000", "stepSize": "1"},
                    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                    {"filterType": "PERCENT_PRICE", "multiplierUp": fmt(1 + inst.price_band),
                     "multiplierDown": fmt(1 - inst.price_band), "multiplierDecimal": "4"},
                ],
                "orderTypes": ORDER_TYPES, "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
            })  # fmt: skip
        return out

    return {
        "timezone": "UTC", "serverTime": now_ms(),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": venue.config.rate_limit},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [], "symbols": venue.read(build),
    }  # fmt: skip


@route("GET", "v1/depth")
async def depth(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, inverse=True)
    assert s is not None
    limit = integer(p, "limit", 500, 1, 1000) or 500
    size = size_of(venue, s)
    (bids, asks), uid = venue.read(lambda: (venue.book(s, limit), venue.book_ids.get(s, venue.core.seq)))
    t = now_ms()
    return {"lastUpdateId": uid, "symbol": s, "pair": pair_of(s), "E": t, "T": t,
            "bids": [[fmt(a), fmt(b / size)] for a, b in bids],
            "asks": [[fmt(a), fmt(b / size)] for a, b in asks]}  # fmt: skip


@route("GET", "v1/trades")
async def trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, inverse=True)
    assert s is not None
    limit = integer(p, "limit", 500, 1, 1000) or 500
    size = size_of(venue, s)
    rows = venue.read(lambda: list(venue.history.trades.get(s, ()))[-limit:])
    return [{"id": r["id"], "price": fmt(r["price"]), "qty": fmt(r["qty"] / size),
             "baseQty": fmt(r["qty"] / r["price"]), "time": r["time"],
             "isBuyerMaker": r["buyer_maker"]} for r in rows]  # fmt: skip


def _each(venue: Venue, p: dict[str, str], one: Any) -> Any:
    s = symbol_of(venue, p, required=False, inverse=True)
    if s is not None:  # COIN-M answers a list even for one symbol
        return venue.read(lambda: [one(s)])
    return venue.read(lambda: [one(x) for x in markets(venue, inverse=True)])


@route("GET", "v1/ticker/24hr")
async def ticker_24h(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        row = fm.ticker_row(venue, s)
        size = q.instrument(venue.engine, s).spec.contract_size  # type: ignore[union-attr]
        now = now_ms()
        bars = [b for t, b in venue.history.bar(s, "last").bars.items() if t >= now - 1440 * MINUTE]
        face = sum((b[4] for b in bars), ZERO)
        coin = sum((b[9] for b in bars), ZERO)
        tr = venue.history.trades.get(s)
        row.pop("quoteVolume")
        row.update(pair=pair_of(s), volume=fmt(face / size), baseVolume=fmt(coin),
                   weightedAvgPrice=fmt(face / coin) if coin else row["lastPrice"],  # harmonic: face / coin
                   lastQty=fmt(tr[-1]["qty"] / size) if tr else "0")  # fmt: skip
        return row

    return _each(venue, p, one)


@route("GET", "v1/ticker/price")
async def ticker_price(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        m = q.market(venue.engine, s)
        assert m is not None
        return {"symbol": s, "ps": pair_of(s), "price": fmt(m["last_price"] or m["mark_price"]), "time": now_ms()}

    return _each(venue, p, one)


@route("GET", "v1/ticker/bookTicker")
async def book_ticker(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        size = q.instrument(venue.engine, s).spec.contract_size  # type: ignore[union-attr]
        bids, asks = venue.book(s, 1)
        b = bids[0] if bids else (ZERO, ZERO)
        a = asks[0] if asks else (ZERO, ZERO)
        return {"symbol": s, "pair": pair_of(s), "bidPrice": fmt(b[0]), "bidQty": fmt(b[1] / size),
                "askPrice": fmt(a[0]), "askQty": fmt(a[1] / size), "time": now_ms(),
                "lastUpdateId": venue.book_ids.get(s, venue.core.seq)}  # fmt: skip

    return _each(venue, p, one)


@route("GET", "v1/premiumIndex")
async def premium_index(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        m = q.market(venue.engine, s)
        assert m is not None
        perpetual = q.instrument(venue.engine, s).expiry is None  # type: ignore[union-attr]
        return {
            "symbol": s, "pair": pair_of(s), "markPrice": fmt(m["mark_price"]), "indexPrice": fmt(m["index_price"]),
            "estimatedSettlePrice": fmt(m["index_price"]),
            "lastFundingRate": fmt(venue.funding_estimate.get(s, ZERO), 8) if perpetual else "",
            "interestRate": "0.00010000" if perpetual else "",
            "nextFundingTime": venue.next_funding.get(s, 0) if perpetual else 0, "time": now_ms(),
        }  # fmt: skip

    return _each(venue, p, one)
