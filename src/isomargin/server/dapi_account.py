"""Binance COIN-M account endpoints: account and balance per coin, positionRisk (contracts, coin notional),
leverage brackets by coin quantity (v1 per pair, v2 per symbol), settings, positionMargin and its history,
orders in whole contracts, userTrades, income.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from isomargin.engine import CancelOrder, MarginMode, OrderSide, SetLeverage
from isomargin.engine import queries as q
from isomargin.server import fapi_account as fa
from isomargin.server.auth import Principal
from isomargin.server.dapi_base import ZERO, d_algo, d_order, face_params, inst_of, pair_of, route, size_of
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import (
    choice,
    find_order,
    integer,
    markets,
    me,
    need,
    ok,
    orders_of,
    own_kind,
    symbol_of,
)
from isomargin.server.native import place
from isomargin.server.params import parse_symbol
from isomargin.server.venue import MARGIN_MODE_NAMES, OPEN_STATUSES, Venue, fmt, now_ms

UNBOUNDED = 9223372036854775807  # Binance's "no cap" (the last bracket)
MARGIN_TYPE_OF = {"ISOLATED": MarginMode.ISOLATED, "CROSSED": MarginMode.CROSS}

route("POST", "v1/marginType", auth="trade")(partial(fa.margin_type, inverse=True))
route("GET", "v1/positionSide/dual", auth="read")(fa.get_dual)
route("POST", "v1/positionSide/dual", auth="trade")(fa.set_dual)
route("POST", "v1/positionMargin", auth="trade")(partial(fa.position_margin, inverse=True))
route("DELETE", "v1/allOpenOrders", auth="trade", plain_json=True)(partial(fa.cancel_all, inverse=True))
route("GET", "v1/commissionRate", auth="read")(partial(fa.commission, inverse=True))
route("POST", "v1/listenKey", auth="key")(fa.listen_key)
route("PUT", "v1/listenKey", auth="key")(fa.keepalive)
route("DELETE", "v1/listenKey", auth="key")(fa.close_listen_key)


def coins(venue: Venue) -> list[str]:
    """The settle coins of the listed coin-margined markets, in listing order."""
    out: list[str] = []
    for s in markets(venue, inverse=True):
        inst = q.instrument(venue.engine, s)
        if inst is not None and inst.settle not in out:
            out.append(inst.settle)
    return out


def _positions(venue: Venue, account: int) -> list[dict[str, Any]]:
    return [x for x in q.positions(venue.engine, account) if inst_of(venue, x["symbol"]).inverse]


def _max_qty(venue: Venue, symbol: str, leverage: int) -> Decimal | None:
    """The largest coin notional the brackets allow at `leverage` (None: unbounded)."""
    tiers = inst_of(venue, symbol).spec.table.tiers
    caps = [t.cap for t in tiers if t.max_leverage >= leverage]
    return None if any(c is None for c in caps) else max((c for c in caps if c is not None), default=ZERO)


def _account(venue: Venue, account: int) -> dict[str, Any]:
    e = venue.engine
    t = now_ms()
    assets, plist = [], []
    pos = _positions(venue, account)
    for coin in coins(venue):
        b = q.balances(e, account, coin)
        mine = [x for x in pos if inst_of(venue, x["symbol"]).settle == coin]
        wallet = b["wallet"] + b["held"] + b["isolated_margin"]
        upnl = sum((x["unrealized_pnl"] for x in mine), ZERO)
        pos_im = sum((x["initial_margin"] for x in mine), ZERO)
        assets.append({
            "asset": coin, "walletBalance": fmt(wallet), "unrealizedProfit": fmt(upnl),
            "marginBalance": fmt(wallet + upnl), "maintMargin": fmt(sum((x["maintenance_margin"] for x in mine), ZERO)),
            "initialMargin": fmt(pos_im + b["held"]), "positionInitialMargin": fmt(pos_im),
            "openOrderInitialMargin": fmt(b["held"]), "maxWithdrawAmount": fmt(max(b["available"], ZERO)),
            "crossWalletBalance": fmt(b["wallet"] + b["held"]), "crossUnPnl": fmt(b["cross_unrealized_pnl"]),
            "availableBalance": fmt(b["available"]), "updateTime": t,
        })  # fmt: skip
    for x in pos:
        size = size_of(venue, x["symbol"])
        cap = _max_qty(venue, x["symbol"], x["leverage"])
        plist.append({
            "symbol": x["symbol"], "positionAmt": fmt(x["size"] / size), "initialMargin": fmt(x["initial_margin"]),
            "maintMargin": fmt(x["maintenance_margin"]), "unrealizedProfit": fmt(x["unrealized_pnl"]),
            "positionInitialMargin": fmt(x["initial_margin"]), "openOrderInitialMargin": "0",
            "leverage": str(x["leverage"]), "isolated": x["margin_mode"] is MarginMode.ISOLATED,
            "positionSide": x["position_side"], "entryPrice": fmt(x["entry_price"]),
            "maxQty": fmt(cap) if cap is not None else str(UNBOUNDED),
            "updateTime": venue.history.position_time.get((account, x["symbol"], x["position_side"]), t),
        })  # fmt: skip
    return {"assets": assets, "positions": plist, "canDeposit": True, "canTrade": True, "canWithdraw": True,
            "feeTier": 0, "updateTime": t}  # fmt: skip


@route("GET", "v1/account", auth="read")
async def account(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return venue.read(lambda: _account(venue, me(who)))


@route("GET", "v1/balance", auth="read")
async def balance(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rows = venue.read(lambda: _account(venue, me(who)))["assets"]
    return [{"accountAlias": "im", "asset": a["asset"], "balance": a["walletBalance"],
             "withdrawAvailable": a["maxWithdrawAmount"], "crossWalletBalance": a["crossWalletBalance"],
             "crossUnPnl": a["crossUnPnl"], "availableBalance": a["availableBalance"],
             "updateTime": a["updateTime"]} for a in rows]  # fmt: skip


def _position_risk(venue: Venue, account: int, symbol: str | None, pair: str | None) -> list[dict[str, Any]]:
    e = venue.engine
    out = []
    seen = set()
    for x in _positions(venue, account):
        if (symbol is not None and x["symbol"] != symbol) or (pair is not None and pair_of(x["symbol"]) != pair):
            continue
        seen.add(x["symbol"])
        size = size_of(venue, x["symbol"])
        sign = 1 if x["size"] > 0 else -1
        cap = _max_qty(venue, x["symbol"], x["leverage"])
        out.append({
            "symbol": x["symbol"], "positionAmt": fmt(x["size"] / size), "entryPrice": fmt(x["entry_price"]),
            "breakEvenPrice": fmt(x["break_even_price"]), "markPrice": fmt(x["mark_price"]),
            "unRealizedProfit": fmt(x["unrealized_pnl"]), "liquidationPrice": fmt(x["liquidation_price"]),
            "leverage": str(x["leverage"]), "maxQty": fmt(cap) if cap is not None else str(UNBOUNDED),
            "marginType": MARGIN_MODE_NAMES[x["margin_mode"]], "isolatedMargin": fmt(x["isolated_margin"]),
            "isAutoAddMargin": "false", "positionSide": x["position_side"],
            "notionalValue": fmt(sign * x["notional"]), "isolatedWallet": fmt(x["isolated_margin"]),
            "updateTime": venue.history.position_time.get((account, x["symbol"], x["position_side"]), now_ms()),
        })  # fmt: skip
    for s in markets(venue, inverse=True):  # COIN-M lists every market, flat ones with zeros
        if s in seen or (symbol is not None and s != symbol) or (pair is not None and pair_of(s) != pair):
            continue
        mode, lev = q.setting(e, account, s)
        m = q.market(e, s)
        assert m is not None
        cap = _max_qty(venue, s, lev)
        out.append({"symbol": s, "positionAmt": "0", "entryPrice": "0", "breakEvenPrice": "0",
                    "markPrice": fmt(m["mark_price"]), "unRealizedProfit": "0", "liquidationPrice": "0",
                    "leverage": str(lev), "maxQty": fmt(cap) if cap is not None else str(UNBOUNDED),
                    "marginType": MARGIN_MODE_NAMES[mode], "isolatedMargin": "0", "isAutoAddMargin": "false",
                    "positionSide": "BOTH", "notionalValue": "0", "isolatedWallet": "0", "updateTime": 0})  # fmt: skip
    return out


@route("GET", "v1/positionRisk", auth="read")
async def position_risk(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False, inverse=True)
    pair = parse_symbol(p["pair"]) if p.get("pair") else None
    return venue.read(lambda: _position_risk(venue, me(who), s, pair))


def _brackets(venue: Venue, symbol: str) -> list[dict[str, Any]]:
    """COIN-M brackets by coin quantity (the position's notional in the coin): qtyFloor / qtyCap."""
    return [
        {"bracket": t.tier, "initialLeverage": int(t.max_leverage),
         "qtyCap": float(t.cap) if t.cap is not None else UNBOUNDED, "qtyFloor": float(t.floor),
         "maintMarginRatio": float(t.mmr), "cum": float(t.maint_amount)}
        for t in inst_of(venue, symbol).spec.table.tiers
    ]  # fmt: skip


@route("GET", "v2/leverageBracket", auth="read")
async def leverage_bracket_v2(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False, inverse=True)
    rows = [x for x in venue.read(lambda: markets(venue, inverse=True)) if s is None or x == s]
    return [{"symbol": x, "notionalCoef": 1.0, "brackets": _brackets(venue, x)} for x in rows]


@route("GET", "v1/leverageBracket", auth="read")
async def leverage_bracket_v1(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    pair = parse_symbol(p["pair"]) if p.get("pair") else None
    out: dict[str, list[dict[str, Any]]] = {}
    for x in venue.read(lambda: markets(venue, inverse=True)):  # brackets are per pair: the first market's
        if (pair is None or pair_of(x) == pair) and pair_of(x) not in out:
            out[pair_of(x)] = _brackets(venue, x)
    if pair is not None and not out:
        raise ApiError(400, "unknown_symbol", f"no pair {pair!r}", -1121, "Invalid symbol.")
    return [{"pair": k, "brackets": v} for k, v in out.items()]


@route("POST", "v1/leverage", auth="trade")
async def leverage(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, inverse=True)
    assert s is not None
    lev = integer(p, "leverage", None, 1, 1000)
    if lev is None:
        need(p, "leverage")
    assert lev is not None
    await venue.submit(SetLeverage(me(who), s, lev))
    cap = _max_qty(venue, s, lev)
    return {"leverage": lev, "maxQty": fmt(cap) if cap is not None else str(UNBOUNDED), "symbol": s}


@route("GET", "v1/positionMargin/history", auth="read")
async def margin_history(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, inverse=True)
    kind = integer(p, "type", None, fa.MARGIN_ADJUST_ADD, fa.MARGIN_ADJUST_REMOVE)
    limit = integer(p, "limit", 50, 1, 500) or 50
    start, end = integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: [
        r for r in venue.history.margin_changes.get(me(who), ())
        if r["symbol"] == s and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)
        and (kind is None or kind == (fa.MARGIN_ADJUST_ADD if r["amount"] > 0 else fa.MARGIN_ADJUST_REMOVE))
    ])  # fmt: skip
    return [{"amount": fmt(abs(r["amount"])), "asset": r["asset"], "symbol": r["symbol"], "time": r["time"],
             "type": fa.MARGIN_ADJUST_ADD if r["amount"] > 0 else fa.MARGIN_ADJUST_REMOVE,
             "positionSide": r["position_side"]} for r in rows[-limit:]]  # fmt: skip


# ================================================================ orders
def _place_params(venue: Venue, p: dict[str, str]) -> dict[str, str]:
    own_kind(venue, p, inverse=True)
    s = symbol_of(venue, p, inverse=True) if p.get("symbol") else None
    return face_params(venue, p, s) if s is not None else dict(p)


@route("POST", "v1/order", auth="trade", plain_json=True)
async def new_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return d_order(venue, await place(venue, me(who), _place_params(venue, p)))


@route("GET", "v1/order", auth="read", plain_json=True)
async def get_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return d_order(venue, find_order(venue, me(who), p, "orderId", "origClientOrderId", inverse=True))


def _cancellable(venue: Venue, account: int, p: dict[str, str], id_name: str, coid_name: str) -> dict[str, Any]:
    try:
        return find_order(venue, account, p, id_name, coid_name, inverse=True)
    except ApiError as exc:
        if exc.code != "unknown_order":
            raise
        raise ApiError(400, "unknown_order", exc.message, -2011, "Unknown order sent.") from None


@route("DELETE", "v1/order", auth="trade", plain_json=True)
async def cancel_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, inverse=True)
    rec = _cancellable(venue, me(who), p, "orderId", "origClientOrderId")
    await venue.submit(CancelOrder(me(who), s or rec["symbol"], order_id=rec["order_id"]))
    return d_order(venue, rec)


@route("GET", "v1/openOrders", auth="read")
async def open_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False, inverse=True)
    return [d_order(venue, r) for r in orders_of(venue, me(who), s, False, True, inverse=True)]


# conditional orders as ccxt sends them to COIN-M (algoType CONDITIONAL; algoId = the engine's order id)
@route("POST", "v1/algoOrder", auth="trade")
async def new_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    choice(p, "algoType", fa.ALGO_TYPES, "CONDITIONAL", msg="Invalid data sent for a parameter 'algoType'.")
    params = _place_params(venue, p)
    if "orderType" in params and "type" not in params:
        params["type"] = params["orderType"]
    return d_algo(venue, await place(venue, me(who), params))


@route("GET", "v1/algoOrder", auth="read")
async def get_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return d_algo(venue, find_order(venue, me(who), p, "algoId", "clientAlgoId", inverse=True))


@route("DELETE", "v1/algoOrder", auth="trade")
async def cancel_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rec = _cancellable(venue, me(who), p, "algoId", "clientAlgoId")
    await venue.submit(CancelOrder(me(who), rec["symbol"], order_id=rec["order_id"]))
    return {"algoId": rec["order_id"], "clientAlgoId": rec.get("client_order_id") or "", "code": "200",
            "msg": "success"}  # fmt: skip


@route("DELETE", "v1/algoOpenOrders", auth="trade")
async def cancel_all_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, inverse=True)
    for rec in orders_of(venue, me(who), s, True, True, inverse=True):
        await venue.submit(CancelOrder(me(who), rec["symbol"], order_id=rec["order_id"]), raise_on_reject=False)
    return ok()


@route("GET", "v1/openAlgoOrders", auth="read")
async def open_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False, inverse=True)
    return [d_algo(venue, r) for r in orders_of(venue, me(who), s, True, True, inverse=True)]


@route("GET", "v1/allAlgoOrders", auth="read")
async def all_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False, inverse=True)
    rows = fa.order_window(orders_of(venue, me(who), s, True, False, inverse=True), p, "algoId")
    return [d_algo(venue, r) for r in rows]


@route("GET", "v1/openOrder", auth="read")
async def open_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rec = find_order(venue, me(who), p, "orderId", "origClientOrderId", inverse=True)
    if rec["status"] not in OPEN_STATUSES:
        raise ApiError(400, "unknown_order", "order is not open", -2013, "Order does not exist.")
    return d_order(venue, rec)


@route("GET", "v1/allOrders", auth="read")
async def all_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p, required=False, inverse=True)
    if s is None and not p.get("pair"):
        need(p, "symbol")
    pair = parse_symbol(p["pair"]) if s is None else None
    rows = [r for r in orders_of(venue, me(who), s, False, False, inverse=True)
            if pair is None or pair_of(r["symbol"]) == pair]  # fmt: skip
    return [d_order(venue, r) for r in fa.order_window(rows, p, "orderId")]


@route("GET", "v1/userTrades", auth="read")
async def user_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    out = []
    for r in fa.trade_rows(venue, p, who, inverse=True):
        inst = inst_of(venue, r["symbol"])
        out.append({
            "symbol": r["symbol"], "id": r["id"], "orderId": r["order_id"], "pair": pair_of(r["symbol"]),
            "side": r["side"].name, "price": fmt(r["price"]), "qty": fmt(r["qty"] / inst.spec.contract_size),
            "realizedPnl": fmt(r["realized_pnl"]), "marginAsset": inst.settle,
            "baseQty": fmt(r["qty"] / r["price"]), "commission": fmt(r["fee"]), "commissionAsset": inst.settle,
            "time": r["time"], "positionSide": r["position_side"], "buyer": r["side"] is OrderSide.BUY,
            "maker": r["maker"],
        })  # fmt: skip
    return out


@route("GET", "v1/income", auth="read")
async def income(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return fa.income_rows(venue, p, who, inverse=True)
