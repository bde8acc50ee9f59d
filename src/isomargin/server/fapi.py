"""Binance USDⓈ-M futures compatible API under /fapi/v1, /fapi/v2, /fapi/v3, enough for unmodified ccxt
(binanceusdm; binance with defaultType swap): market data, account, positions, settings, orders and
algo (conditional) orders, trades and income — Binance field names, decimal strings, status values and
error codes. One dispatch route; the handler table below lists every endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from isomargin.engine import (
    AdjustMargin,
    CancelAllOrders,
    CancelOrder,
    MarginMode,
    OrderType,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
)
from isomargin.engine.queries import balances, positions
from isomargin.server.auth import Principal, authenticate, request_params
from isomargin.server.errors import ApiError
from isomargin.server.native import INTERVALS, place
from isomargin.server.venue import MINUTE, Venue, dec, fmt, now_ms

router = APIRouter()
Handler = Callable[[Venue, dict[str, str], Principal | None], Awaitable[Any]]
ZERO = Decimal(0)
CONDITIONAL = {t.value for t in OrderType if t.conditional}
ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]


@dataclass(frozen=True)
class Route:
    fn: Handler
    auth: str | None = None  # None: public; "key": API key only; "read"/"trade": signed with that permission


ROUTES: dict[tuple[str, str], Route] = {}


def route(method: str, *paths: str, auth: str | None = None) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        for p in paths:
            ROUTES[(method, p)] = Route(fn, auth)
        return fn

    return deco


@router.api_route("/fapi/{version}/{path:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
async def dispatch(request: Request, version: str, path: str) -> Response:
    venue: Venue = request.app.state.venue
    r = ROUTES.get((request.method, f"{version}/{path}"))
    if r is None:
        raise ApiError(404, "not_found", f"{request.method} /fapi/{version}/{path} is not served here", -5000,
                       f"Path /fapi/{version}/{path}, Method {request.method} is invalid")  # fmt: skip
    who = None
    if r.auth == "key":
        key = venue.keys.get(request.headers.get("x-mbx-apikey", ""))
        if key is None:
            raise ApiError(401, "invalid_api_key", "unknown API key", -2015,
                           "Invalid API-key, IP, or permissions for action.")  # fmt: skip
        who = Principal(key.account, key.key, key.permissions)
    elif r.auth is not None:
        who = await authenticate(request, venue.keys, r.auth, venue.config.recv_window_max)
    _, _, params = await request_params(request)
    return JSONResponse(await r.fn(venue, params, who))


# ================================================================ helpers
def need(p: dict[str, str], name: str) -> str:
    v = p.get(name)
    if v is None or v == "":
        raise ApiError(400, "missing_parameter", f"parameter '{name}' is required", -1102,
                       f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")  # fmt: skip
    return v


def symbol_of(venue: Venue, p: dict[str, str], required: bool = True) -> str | None:
    s = p.get("symbol")
    if not s:
        if required:
            need(p, "symbol")
        return None
    s = s.upper()
    if s not in venue.core.engine.instruments:
        raise ApiError(400, "unknown_symbol", f"no market {s!r}", -1121, "Invalid symbol.")
    return s


def integer(p: dict[str, str], name: str, default: int | None = None, lo: int = 0, hi: int = 10**15) -> int | None:
    v = p.get(name)
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        raise ApiError(
            400,
            "bad_parameter",
            f"{name} must be an integer",
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        ) from None
    if not lo <= n <= hi:
        raise ApiError(400, "bad_parameter", f"{name} out of range {lo}..{hi}", -1130,
                       f"Invalid data sent for a parameter '{name}'.")  # fmt: skip
    return n


def me(who: Principal | None) -> int:
    assert who is not None
    return who.account


def ok(msg: str = "success") -> dict[str, Any]:
    return {"code": 200, "msg": msg}


def status_of(rec: dict[str, Any]) -> str:
    s: str = rec["status"]
    return "NEW" if s == "TRIGGERED" else s


def b_order(rec: dict[str, Any]) -> dict[str, Any]:
    avg = rec.get("avg_price") or ZERO
    return {
        "orderId": rec["order_id"], "symbol": rec["symbol"], "status": status_of(rec),
        "clientOrderId": rec.get("client_order_id") or "", "price": fmt(rec.get("price") or ZERO),
        "avgPrice": fmt(avg), "origQty": fmt(rec["qty"]), "executedQty": fmt(rec["filled"]),
        "cumQty": fmt(rec["filled"]), "cumQuote": fmt(rec["filled"] * avg), "timeInForce": rec.get("tif", "GTC"),
        "type": rec["type"], "reduceOnly": rec["reduce_only"], "closePosition": rec.get("close_position", False),
        "side": rec["side"], "positionSide": rec["position_side"], "stopPrice": fmt(rec.get("stop_price") or ZERO),
        "workingType": rec.get("working_type", "CONTRACT_PRICE"), "priceProtect": False,
        "origType": rec.get("orig_type", rec["type"]), "priceMatch": "NONE", "selfTradePreventionMode": "NONE",
        "goodTillDate": 0, "time": rec["created"], "updateTime": rec["updated"],
        **({"activatePrice": fmt(rec["activation_price"])} if rec.get("activation_price") else {}),
        **({"priceRate": fmt(rec["callback_rate"])} if rec.get("callback_rate") else {}),
    }  # fmt: skip


_ALGO_STATUS = {"NEW": "NEW", "TRIGGERED": "TRIGGERED", "PARTIALLY_FILLED": "TRIGGERED", "FILLED": "FINISHED",
                "CANCELED": "CANCELED", "EXPIRED": "EXPIRED"}  # fmt: skip


def b_algo(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "algoId": rec["order_id"], "clientAlgoId": rec.get("client_order_id") or "", "algoType": "CONDITIONAL",
        "orderType": rec["type"], "symbol": rec["symbol"], "side": rec["side"], "positionSide": rec["position_side"],
        "timeInForce": rec.get("tif", "GTC"), "quantity": fmt(rec["qty"]),
        "algoStatus": _ALGO_STATUS.get(rec["status"], rec["status"]),
        "triggerPrice": fmt(rec.get("stop_price") or ZERO), "price": fmt(rec.get("price") or ZERO),
        "icebergQuantity": None, "selfTradePreventionMode": "NONE",
        "workingType": rec.get("working_type", "CONTRACT_PRICE"), "priceMatch": "NONE",
        "closePosition": rec.get("close_position", False), "priceProtect": False, "reduceOnly": rec["reduce_only"],
        "createTime": rec["created"], "updateTime": rec["updated"], "triggerTime": rec.get("triggered_at", 0),
        "goodTillDate": 0, "actualOrderId": str(rec["order_id"]) if rec.get("triggered_at") else "",
        "actualPrice": fmt(rec.get("avg_price") or ZERO), "executedQty": fmt(rec["filled"]),
        "callbackRate": fmt(rec["callback_rate"]) if rec.get("callback_rate") else None,
        "activatePrice": fmt(rec["activation_price"]) if rec.get("activation_price") else None,
    }  # fmt: skip


def find_order(venue: Venue, account: int, p: dict[str, str], id_name: str, coid_name: str) -> dict[str, Any]:
    oid = integer(p, id_name)
    coid = p.get(coid_name)
    if oid is None and not coid:
        raise ApiError(400, "missing_parameter", f"send {id_name} or {coid_name}", -1102,
                       f"Param '{id_name}' or '{coid_name}' must be sent, but both were empty/null!")  # fmt: skip

    def look() -> dict[str, Any] | None:
        if oid is not None:
            return venue.history.orders.get(oid)
        for rec in reversed(venue.history.orders.values()):
            if rec["account"] == account and rec.get("client_order_id") == coid:
                return rec
        return None

    rec = venue.read(look)
    if rec is None or rec["account"] != account:
        raise ApiError(400, "unknown_order", "order does not exist for this account", -2013, "Order does not exist.")
    return rec  # type: ignore[no-any-return]


def orders_of(venue: Venue, account: int, symbol: str | None, conditional: bool, open_only: bool) -> list[Any]:
    def look() -> list[dict[str, Any]]:
        return [
            r for r in venue.history.orders.values()
            if r["account"] == account and (symbol is None or r["symbol"] == symbol)
            and (r.get("orig_type", r["type"]) in CONDITIONAL) == conditional
            and (not open_only or r["status"] in ("NEW", "PARTIALLY_FILLED", "TRIGGERED"))
        ]  # fmt: skip

    return venue.read(look)  # type: ignore[no-any-return]


# ================================================================ market data
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
        for sym, inst in venue.core.engine.instruments.items():
            base = sym[: -len(inst.settle)]
            tiers = inst.spec.table.tiers
            t1 = tiers[0]
            qp = max(0, -inst.step.normalize().as_tuple().exponent)  # type: ignore[operator]
            pp = max(0, -inst.tick.normalize().as_tuple().exponent)  # type: ignore[operator]
            out.append({
                "symbol": sym, "pair": sym, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000, "status": "BREAK" if venue.paused(sym) else "TRADING",
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
async def depth(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    assert s is not None
    limit = integer(p, "limit", 500, 1, 1000) or 500
    bids, asks = venue.read(lambda: venue.book(s, limit))
    t = now_ms()
    return {"lastUpdateId": venue.core.seq, "E": t, "T": t,
            "bids": [[fmt(a), fmt(b)] for a, b in bids], "asks": [[fmt(a), fmt(b)] for a, b in asks]}  # fmt: skip


@route("GET", "v1/trades")
async def trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    rows = venue.read(lambda: list(venue.history.trades.get(s or "", ()))[-limit:])
    return [{"id": r["id"], "price": fmt(r["price"]), "qty": fmt(r["qty"]), "quoteQty": fmt(r["quote"]),
             "time": r["time"], "isBuyerMaker": r["buyer_maker"]} for r in rows]  # fmt: skip


def _klines(venue: Venue, p: dict[str, str], kind: str) -> Any:
    s = symbol_of(venue, p)
    interval = need(p, "interval")
    if interval not in INTERVALS:
        raise ApiError(400, "bad_interval", f"interval must be one of {', '.join(INTERVALS)}", -1120,
                       "Invalid interval.")  # fmt: skip
    ms = INTERVALS[interval] * MINUTE
    limit = integer(p, "limit", 500, 1, 1500) or 500
    start, end = integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: venue.history.bar(s or "", kind).read(ms, start, end, limit))
    out = []
    for r in rows:
        vol = [fmt(r[5]), r[0] + ms - 1, fmt(r[6]), r[7], fmt(r[8]), fmt(r[9]), "0"]
        if kind != "last":
            vol = ["0", r[0] + ms - 1, "0", 0, "0", "0", "0"]
        out.append([r[0], fmt(r[1]), fmt(r[2]), fmt(r[3]), fmt(r[4]), *vol])
    return out


@route("GET", "v1/klines", "v1/continuousKlines")
async def klines(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    if "pair" in p and "symbol" not in p:
        p = {**p, "symbol": p["pair"]}
    return _klines(venue, p, "last")


@route("GET", "v1/markPriceKlines")
async def mark_klines(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return _klines(venue, p, "mark")


@route("GET", "v1/indexPriceKlines")
async def index_klines(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    if "pair" in p and "symbol" not in p:
        p = {**p, "symbol": p["pair"]}
    return _klines(venue, p, "index")


def _each(venue: Venue, p: dict[str, str], one: Callable[[str], dict[str, Any]]) -> Any:
    s = symbol_of(venue, p, required=False)
    if s is not None:
        return venue.read(lambda: one(s))
    return venue.read(lambda: [one(x) for x in venue.core.engine.instruments])


@route("GET", "v1/ticker/24hr")
async def ticker_24h(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        now = now_ms()
        bars = [b for t, b in venue.history.bar(s, "last").bars.items() if t >= now - 1440 * MINUTE]
        e = venue.core.engine
        last = e.last_prices.get(s) or e.marks.get(s) or ZERO
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

    return _each(venue, p, one)


@route("GET", "v1/ticker/price", "v2/ticker/price")
async def ticker_price(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    e = venue.core.engine
    return _each(venue, p, lambda s: {"symbol": s, "price": fmt(e.last_prices.get(s) or e.marks.get(s)),
                                      "time": now_ms()})  # fmt: skip


@route("GET", "v1/ticker/bookTicker")
async def book_ticker(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    def one(s: str) -> dict[str, Any]:
        bids, asks = venue.book(s, 1)
        b = bids[0] if bids else (ZERO, ZERO)
        a = asks[0] if asks else (ZERO, ZERO)
        return {"symbol": s, "bidPrice": fmt(b[0]), "bidQty": fmt(b[1]), "askPrice": fmt(a[0]), "askQty": fmt(a[1]),
                "time": now_ms(), "lastUpdateId": venue.core.seq}  # fmt: skip

    return _each(venue, p, one)


@route("GET", "v1/premiumIndex")
async def premium_index(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    e = venue.core.engine

    def one(s: str) -> dict[str, Any]:
        return {
            "symbol": s, "markPrice": fmt(e.marks.get(s)), "indexPrice": fmt(e.index_prices.get(s)),
            "estimatedSettlePrice": fmt(e.index_prices.get(s)),
            "lastFundingRate": fmt(venue.funding_estimate.get(s, ZERO), 8), "interestRate": "0.00010000",
            "nextFundingTime": venue.next_funding.get(s, 0), "time": now_ms(),
        }  # fmt: skip

    return _each(venue, p, one)


@route("GET", "v1/fundingRate")
async def funding_rate(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    limit = integer(p, "limit", 100, 1, 1000) or 100
    start, end = integer(p, "startTime"), integer(p, "endTime")

    def look() -> list[dict[str, Any]]:
        rows = [r for sym, q in venue.history.funding.items() if s is None or sym == s for r in q]
        rows = [r for r in rows if (start is None or r["time"] >= start) and (end is None or r["time"] <= end)]
        rows.sort(key=lambda r: r["time"])
        return rows[:limit] if start is not None else rows[-limit:]

    return [{"symbol": r["symbol"], "fundingRate": fmt(r["rate"], 8), "fundingTime": r["time"],
             "markPrice": fmt(r["mark"])} for r in venue.read(look)]  # fmt: skip


@route("GET", "v1/fundingInfo")
async def funding_info(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return [{"symbol": s, "adjustedFundingRateCap": "0.00750000", "adjustedFundingRateFloor": "-0.00750000",
             "fundingIntervalHours": 8} for s in venue.core.engine.instruments]  # fmt: skip


@route("GET", "v1/forceOrders", auth="read")
async def force_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rows = venue.read(lambda: [r for r in venue.history.liquidations if r["account"] == me(who)])
    return rows


# ================================================================ account
def _account(venue: Venue, account: int, v3: bool) -> dict[str, Any]:
    e = venue.core.engine
    b = balances(e, account)
    pos = positions(e, account)
    wallet = b["wallet"] + b["held"] + b["isolated_margin"]
    upnl = sum((x["unrealized_pnl"] for x in pos), ZERO)
    iso_upnl = sum((x["unrealized_pnl"] for x in pos if x["margin_mode"] == "isolated"), ZERO)
    pos_im = sum((x["initial_margin"] for x in pos), ZERO)
    mm = sum((x["maintenance_margin"] for x in pos), ZERO)
    t = now_ms()
    cross_wallet = b["wallet"] + b["held"]
    asset = {
        "asset": "USDT", "walletBalance": fmt(wallet), "unrealizedProfit": fmt(upnl),
        "marginBalance": fmt(wallet + upnl), "maintMargin": fmt(mm), "initialMargin": fmt(pos_im + b["held"]),
        "positionInitialMargin": fmt(pos_im), "openOrderInitialMargin": fmt(b["held"]),
        "crossWalletBalance": fmt(cross_wallet), "crossUnPnl": fmt(b["cross_unrealized_pnl"]),
        "availableBalance": fmt(b["available"]), "maxWithdrawAmount": fmt(max(b["available"], ZERO)),
        "marginAvailable": True, "updateTime": t,
    }  # fmt: skip
    plist = []
    for x in pos:
        row = {
            "symbol": x["symbol"], "positionSide": x["position_side"], "positionAmt": fmt(x["size"]),
            "unrealizedProfit": fmt(x["unrealized_pnl"]), "isolatedMargin": fmt(x["isolated_margin"]),
            "notional": fmt(x["size"] * x["mark_price"]), "isolatedWallet": fmt(x["isolated_margin"]),
            "initialMargin": fmt(x["initial_margin"]), "maintMargin": fmt(x["maintenance_margin"]),
            "updateTime": venue.history.position_time.get((account, x["symbol"], x["position_side"]), t),
        }  # fmt: skip
        if not v3:
            row.update(leverage=str(x["leverage"]), isolated=x["margin_mode"] == "isolated",
                       entryPrice=fmt(x["entry_price"]), positionInitialMargin=fmt(x["initial_margin"]),
                       openOrderInitialMargin="0", maxNotional="0", bidNotional="0", askNotional="0")  # fmt: skip
        plist.append(row)
    return {
        "feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "updateTime": 0,
        "multiAssetsMargin": False, "tradeGroupId": -1,
        "totalInitialMargin": asset["initialMargin"], "totalMaintMargin": asset["maintMargin"],
        "totalWalletBalance": asset["walletBalance"], "totalUnrealizedProfit": asset["unrealizedProfit"],
        "totalMarginBalance": asset["marginBalance"], "totalPositionInitialMargin": asset["positionInitialMargin"],
        "totalOpenOrderInitialMargin": asset["openOrderInitialMargin"],
        "totalCrossWalletBalance": fmt(cross_wallet), "totalCrossUnPnl": fmt(upnl - iso_upnl),
        "availableBalance": asset["availableBalance"], "maxWithdrawAmount": asset["maxWithdrawAmount"],
        "assets": [asset], "positions": plist,
    }  # fmt: skip


@route("GET", "v1/account", "v2/account", auth="read")
async def account_v2(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return venue.read(lambda: _account(venue, me(who), False))


@route("GET", "v3/account", auth="read")
async def account_v3(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return venue.read(lambda: _account(venue, me(who), True))


@route("GET", "v2/balance", "v3/balance", auth="read")
async def balance(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    a = venue.read(lambda: _account(venue, me(who), True))["assets"][0]
    return [{"accountAlias": "im", "asset": "USDT", "balance": a["walletBalance"],
             "crossWalletBalance": a["crossWalletBalance"], "crossUnPnl": a["crossUnPnl"],
             "availableBalance": a["availableBalance"], "maxWithdrawAmount": a["maxWithdrawAmount"],
             "marginAvailable": True, "updateTime": a["updateTime"]}]  # fmt: skip


def _position_risk(venue: Venue, account: int, symbol: str | None, v3: bool) -> list[dict[str, Any]]:
    e = venue.core.engine
    out = []
    for x in positions(e, account):
        if symbol is not None and x["symbol"] != symbol:
            continue
        inst = e.instruments[x["symbol"]]
        liq = x["liquidation_price"]
        row = {
            "symbol": x["symbol"], "positionSide": x["position_side"], "positionAmt": fmt(x["size"]),
            "entryPrice": fmt(x["entry_price"]), "breakEvenPrice": fmt(x["break_even_price"]),
            "markPrice": fmt(x["mark_price"]), "unRealizedProfit": fmt(x["unrealized_pnl"]),
            "liquidationPrice": fmt(liq if liq is not None and liq > 0 else ZERO),
            "isolatedMargin": fmt(x["isolated_margin"] + x["unrealized_pnl"] if x["margin_mode"] == "isolated" else 0),
            "notional": fmt(x["size"] * x["mark_price"]), "isolatedWallet": fmt(x["isolated_margin"]),
            "updateTime": venue.history.position_time.get((account, x["symbol"], x["position_side"]), now_ms()),
        }  # fmt: skip
        tier = inst.spec.table.tiers[x["tier"] - 1]
        if v3:
            row.update(marginAsset=inst.settle, initialMargin=fmt(x["initial_margin"]), leverage=str(x["leverage"]),
                       marginType=x["margin_mode"],
                       maintMargin=fmt(x["maintenance_margin"]), positionInitialMargin=fmt(x["initial_margin"]),
                       openOrderInitialMargin="0", adl=0, bidNotional="0", askNotional="0")  # fmt: skip
        else:
            row.update(leverage=str(x["leverage"]), marginType=x["margin_mode"], isAutoAddMargin="false",
                       maxNotionalValue=fmt(tier.cap) if tier.cap is not None else "9223372036854775807")  # fmt: skip
        out.append(row)
    if not out and symbol is not None and not v3:
        acct = e.account(account)
        st = acct.setting(symbol)
        pside = "BOTH" if not acct.hedge_mode else "LONG"
        out.append({"symbol": symbol, "positionSide": pside, "positionAmt": "0", "entryPrice": "0",
                    "breakEvenPrice": "0", "markPrice": fmt(e.marks.get(symbol)), "unRealizedProfit": "0",
                    "liquidationPrice": "0", "isolatedMargin": "0", "notional": "0", "isolatedWallet": "0",
                    "updateTime": 0, "leverage": str(st.leverage), "marginType": st.margin_mode.value.lower(),
                    "isAutoAddMargin": "false", "maxNotionalValue": "0"})  # fmt: skip
    return out


@route("GET", "v2/positionRisk", auth="read")
async def position_risk_v2(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    return venue.read(lambda: _position_risk(venue, me(who), s, False))


@route("GET", "v3/positionRisk", auth="read")
async def position_risk_v3(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    return venue.read(lambda: _position_risk(venue, me(who), s, True))


@route("GET", "v1/leverageBracket", auth="read")
async def leverage_bracket(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    out = []
    for sym, inst in venue.core.engine.instruments.items():
        if s is not None and sym != s:
            continue
        out.append({"symbol": sym, "notionalCoef": 1.0, "brackets": [
            {"bracket": t.tier, "initialLeverage": int(t.max_leverage), "notionalCap": float(t.cap or 0),
             "notionalFloor": float(t.floor), "maintMarginRatio": float(t.mmr), "cum": float(t.maint_amount)}
            for t in inst.spec.table.tiers
        ]})  # fmt: skip
    return out


@route("GET", "v1/symbolConfig", auth="read")
async def symbol_config(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    acct = venue.read(lambda: venue.core.engine.account(me(who)))
    return [{"symbol": sym, "marginType": "ISOLATED" if acct.setting(sym).margin_mode is MarginMode.ISOLATED
             else "CROSSED", "isAutoAddMargin": False, "leverage": acct.setting(sym).leverage,
             "maxNotionalValue": "0"} for sym in venue.core.engine.instruments if s is None or sym == s]  # fmt: skip


@route("GET", "v1/commissionRate", auth="read")
async def commission(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    inst = venue.core.engine.instruments[s or ""]
    return {"symbol": s, "makerCommissionRate": fmt(inst.maker_fee), "takerCommissionRate": fmt(inst.taker_fee)}


# ================================================================ settings
@route("POST", "v1/leverage", auth="trade")
async def leverage(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    assert s is not None
    lev = integer(p, "leverage", None, 1, 1000)
    if lev is None:
        need(p, "leverage")
    assert lev is not None
    await venue.submit(SetLeverage(me(who), s, lev))
    tiers = venue.core.engine.instruments[s].spec.table.tiers
    cap = max((t.cap or ZERO for t in tiers if t.max_leverage >= lev), default=ZERO)
    return {"leverage": lev, "maxNotionalValue": fmt(cap), "symbol": s}


@route("POST", "v1/marginType", auth="trade")
async def margin_type(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    assert s is not None
    kind = need(p, "marginType").upper()
    if kind not in ("ISOLATED", "CROSSED", "CROSS"):
        raise ApiError(400, "bad_margin_type", "marginType must be ISOLATED or CROSSED", -4044,
                       "Invalid marginType.")  # fmt: skip
    mode = MarginMode.ISOLATED if kind == "ISOLATED" else MarginMode.CROSS
    if venue.read(lambda: venue.core.engine.account(me(who)).setting(s).margin_mode) is mode:
        raise ApiError(400, "no_change", "margin type is already set", -4046, "No need to change margin type.")
    await venue.submit(SetMarginMode(me(who), s, mode))
    return ok()


@route("GET", "v1/positionSide/dual", auth="read")
async def get_dual(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"dualSidePosition": venue.read(lambda: venue.core.engine.account(me(who)).hedge_mode)}


@route("POST", "v1/positionSide/dual", auth="trade")
async def set_dual(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    want = need(p, "dualSidePosition").lower() == "true"
    if venue.read(lambda: venue.core.engine.account(me(who)).hedge_mode) == want:
        raise ApiError(400, "no_change", "position side is already set", -4059, "No need to change position side.")
    await venue.submit(SetPositionMode(me(who), want))
    return ok()


@route("GET", "v1/multiAssetsMargin", auth="read")
async def get_multi(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"multiAssetsMargin": False}


@route("POST", "v1/multiAssetsMargin", auth="trade")
async def set_multi(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    if need(p, "multiAssetsMargin").lower() == "true":
        raise ApiError(400, "not_supported", "multi-assets mode is not supported (USDT only)", -1130,
                       "Multi-Assets mode is not supported by this venue.")  # fmt: skip
    return ok()


@route("POST", "v1/positionMargin", auth="trade")
async def position_margin(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    assert s is not None
    amount = dec(need(p, "amount"), "amount")
    kind = integer(p, "type", None, 1, 2)
    if kind is None:
        need(p, "type")
    if amount <= 0:
        raise ApiError(400, "bad_amount", "amount must be positive", -4055, "Amount must be positive.")
    pside = PositionSide((p.get("positionSide") or "BOTH").upper())
    await venue.submit(AdjustMargin(me(who), s, amount if kind == 1 else -amount, pside))
    return {"amount": float(amount), "code": 200, "msg": "Successfully modify position margin.", "type": kind}


# ================================================================ orders
@route("POST", "v1/order", auth="trade")
async def new_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return b_order(await place(venue, me(who), p))


@route("GET", "v1/order", auth="read")
async def get_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return b_order(find_order(venue, me(who), p, "orderId", "origClientOrderId"))


@route("DELETE", "v1/order", auth="trade")
async def cancel_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    try:
        rec = find_order(venue, me(who), p, "orderId", "origClientOrderId")
    except ApiError as exc:
        raise ApiError(400, "unknown_order", exc.message, -2011, "Unknown order sent.") from None
    await venue.submit(CancelOrder(me(who), s or rec["symbol"], order_id=rec["order_id"]))
    return b_order(rec)


@route("DELETE", "v1/allOpenOrders", auth="trade")
async def cancel_all(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    assert s is not None
    await venue.submit(CancelAllOrders(me(who), s))
    return ok("The operation of cancel all open order is done.")


@route("GET", "v1/openOrders", auth="read")
async def open_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    return [b_order(r) for r in orders_of(venue, me(who), s, False, True)]


@route("GET", "v1/openOrder", auth="read")
async def open_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rec = find_order(venue, me(who), p, "orderId", "origClientOrderId")
    if rec["status"] not in ("NEW", "PARTIALLY_FILLED", "TRIGGERED"):
        raise ApiError(400, "unknown_order", "order is not open", -2013, "Order does not exist.")
    return b_order(rec)


@route("GET", "v1/allOrders", auth="read")
async def all_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    return [b_order(r) for r in orders_of(venue, me(who), s, False, False)][-limit:]


@route("POST", "v1/algoOrder", auth="trade")
async def new_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    algo_type = p.get("algoType", "CONDITIONAL").upper()
    if algo_type != "CONDITIONAL":
        raise ApiError(400, "bad_algo_type", "only algoType CONDITIONAL is supported", -1130,
                       "Invalid data sent for a parameter 'algoType'.")  # fmt: skip
    params = dict(p)
    if "orderType" in params and "type" not in params:
        params["type"] = params["orderType"]
    return b_algo(await place(venue, me(who), params))


@route("GET", "v1/algoOrder", auth="read")
async def get_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return b_algo(find_order(venue, me(who), p, "algoId", "clientAlgoId"))


@route("DELETE", "v1/algoOrder", auth="trade")
async def cancel_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    try:
        rec = find_order(venue, me(who), p, "algoId", "clientAlgoId")
    except ApiError as exc:
        raise ApiError(400, "unknown_order", exc.message, -2011, "Unknown order sent.") from None
    await venue.submit(CancelOrder(me(who), rec["symbol"], order_id=rec["order_id"]))
    return {"algoId": rec["order_id"], "clientAlgoId": rec.get("client_order_id") or "", "code": "200",
            "msg": "success"}  # fmt: skip


@route("DELETE", "v1/algoOpenOrders", auth="trade")
async def cancel_all_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    for rec in orders_of(venue, me(who), s, True, True):
        await venue.submit(CancelOrder(me(who), rec["symbol"], order_id=rec["order_id"]), raise_on_reject=False)
    return ok()


@route("GET", "v1/openAlgoOrders", auth="read")
async def open_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    return [b_algo(r) for r in orders_of(venue, me(who), s, True, True)]


@route("GET", "v1/allAlgoOrders", auth="read")
async def all_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    return [b_algo(r) for r in orders_of(venue, me(who), s, True, False)][-limit:]


@route("GET", "v1/userTrades", auth="read")
async def user_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    oid = integer(p, "orderId")
    start, end = integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: [
        r for r in venue.history.user_trades.get(me(who), ())
        if (s is None or r["symbol"] == s) and (oid is None or r["order_id"] == oid)
        and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)
    ])  # fmt: skip
    return [{
        "buyer": r["side"] == "BUY", "commission": fmt(r["fee"]), "commissionAsset": "USDT", "id": r["id"],
        "maker": r["maker"], "orderId": r["order_id"], "price": fmt(r["price"]), "qty": fmt(r["qty"]),
        "quoteQty": fmt(r["quote"]), "realizedPnl": fmt(r["realized_pnl"]), "side": r["side"],
        "positionSide": r["position_side"], "symbol": r["symbol"], "time": r["time"],
    } for r in rows[-limit:]]  # fmt: skip


@route("GET", "v1/income", auth="read")
async def income(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False)
    kind = p.get("incomeType")
    limit = integer(p, "limit", 100, 1, 1000) or 100
    start, end = integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: [
        r for r in venue.history.income.get(me(who), ())
        if (s is None or r["symbol"] == s) and (kind is None or r["incomeType"] == kind)
        and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)
    ])  # fmt: skip
    return [{**r, "income": fmt(r["income"]), "tranId": r["tranId"]} for r in rows[-limit:]]


@route("POST", "v1/listenKey", auth="key")
async def listen_key(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"listenKey": venue.listen_keys.issue(me(who))}


@route("PUT", "v1/listenKey", auth="key")
async def keepalive(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"listenKey": venue.listen_keys.issue(me(who))}


@route("DELETE", "v1/listenKey", auth="key")
async def close_listen_key(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {}
