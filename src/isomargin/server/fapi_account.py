"""Binance-compatible account endpoints: account and balances, positionRisk v2/v3, brackets and settings
(leverage, marginType, dual side, multi-assets), positionMargin, orders and algo orders, userTrades, income.
"""

from __future__ import annotations

from typing import Any, Final

from isomargin.engine import (
    AdjustMargin,
    CancelAllOrders,
    CancelOrder,
    MarginMode,
    OrderSide,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
)
from isomargin.engine import queries as q
from isomargin.server.auth import Principal
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import (
    ZERO,
    b_algo,
    b_order,
    choice,
    decimal,
    find_order,
    flag,
    integer,
    markets,
    me,
    need,
    ok,
    orders_of,
    own_kind,
    route,
    symbol_of,
)
from isomargin.server.native import place
from isomargin.server.venue import MARGIN_MODE_NAMES, OPEN_STATUSES, Venue, fmt, now_ms
from isomargin.server.views import POSITION_SIDES

SYMBOL_CONFIG_MARGIN = {MarginMode.ISOLATED: "ISOLATED", MarginMode.CROSS: "CROSSED"}  # Binance's symbolConfig spelling
MARGIN_TYPES: Final = {"ISOLATED": MarginMode.ISOLATED, "CROSSED": MarginMode.CROSS, "CROSS": MarginMode.CROSS}
MARGIN_ADJUST_ADD: Final = 1  # positionMargin type: 1 adds, 2 removes (Binance)
MARGIN_ADJUST_REMOVE: Final = 2
ALGO_TYPES: Final = {"CONDITIONAL": "CONDITIONAL"}  # the only algoType Binance's algo endpoints take
# Binance's incomeType values (a filter: any of them is accepted, the venue produces three).
INCOME_TYPES: Final = {t: t for t in (
    "TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR",
    "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE", "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER",
    "OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE", "DELIVERED_SETTELMENT",
    "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW", "POSITION_LIMIT_INCREASE_FEE", "STRATEGY_UMFUTURES_TRANSFER",
    "FEE_RETURN", "BFUSD_REWARD",
)}  # fmt: skip


def _is_inverse(venue: Venue, symbol: str) -> bool:
    inst = q.instrument(venue.engine, symbol)
    return inst is not None and inst.inverse


def _account(venue: Venue, account: int, v3: bool) -> dict[str, Any]:
    e = venue.engine
    b = q.balances(e, account)
    pos = [x for x in q.positions(e, account) if not _is_inverse(venue, x["symbol"])]
    wallet = b["wallet"] + b["held"] + b["isolated_margin"]
    upnl = sum((x["unrealized_pnl"] for x in pos), ZERO)
    iso_upnl = sum((x["unrealized_pnl"] for x in pos if x["margin_mode"] is MarginMode.ISOLATED), ZERO)
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
            row.update(leverage=str(x["leverage"]), isolated=x["margin_mode"] is MarginMode.ISOLATED,
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


def max_notional(tiers: Any, leverage: int) -> str:
    """The largest notional a leverage allows: the cap of the highest bracket whose max leverage is at least it
    (what v1/leverage answers and leverageBracket's notionalCap say)."""
    caps = [t.cap for t in tiers if t.max_leverage >= leverage]
    if any(c is None for c in caps):
        return "9223372036854775807"
    return fmt(max((c for c in caps if c is not None), default=ZERO))


def _position_risk(venue: Venue, account: int, symbol: str | None, v3: bool) -> list[dict[str, Any]]:
    e = venue.engine
    out = []
    for x in q.positions(e, account):
        if (symbol is not None and x["symbol"] != symbol) or _is_inverse(venue, x["symbol"]):
            continue
        inst = q.instrument(e, x["symbol"])
        assert inst is not None
        liq = x["liquidation_price"]
        isolated = x["margin_mode"] is MarginMode.ISOLATED
        margin_type = MARGIN_MODE_NAMES[x["margin_mode"]]
        row = {
            "symbol": x["symbol"], "positionSide": x["position_side"], "positionAmt": fmt(x["size"]),
            "entryPrice": fmt(x["entry_price"]), "breakEvenPrice": fmt(x["break_even_price"]),
            "markPrice": fmt(x["mark_price"]), "unRealizedProfit": fmt(x["unrealized_pnl"]),
            "liquidationPrice": fmt(liq if liq is not None and liq > 0 else ZERO),
            "isolatedMargin": fmt(x["isolated_margin"] + x["unrealized_pnl"] if isolated else 0),
            "notional": fmt(x["size"] * x["mark_price"]), "isolatedWallet": fmt(x["isolated_margin"]),
            "updateTime": venue.history.position_time.get((account, x["symbol"], x["position_side"]), now_ms()),
        }  # fmt: skip
        if v3:
            row.update(marginAsset=inst.settle, initialMargin=fmt(x["initial_margin"]), leverage=str(x["leverage"]),
                       marginType=margin_type,
                       maintMargin=fmt(x["maintenance_margin"]), positionInitialMargin=fmt(x["initial_margin"]),
                       openOrderInitialMargin="0", adl=0, bidNotional="0", askNotional="0")  # fmt: skip
        else:
            row.update(leverage=str(x["leverage"]), marginType=margin_type, isAutoAddMargin="false",
                       maxNotionalValue=max_notional(inst.spec.table.tiers, int(x["leverage"])))  # fmt: skip
        out.append(row)
    if not out and symbol is not None and not v3:
        mode, lev = q.setting(e, account, symbol)
        pside = "LONG" if q.account(e, account)["hedge_mode"] else "BOTH"
        m = q.market(e, symbol)
        assert m is not None
        out.append({"symbol": symbol, "positionSide": pside, "positionAmt": "0", "entryPrice": "0",
                    "breakEvenPrice": "0", "markPrice": fmt(m["mark_price"]), "unRealizedProfit": "0",
                    "liquidationPrice": "0", "isolatedMargin": "0", "notional": "0", "isolatedWallet": "0",
                    "updateTime": 0, "leverage": str(lev), "marginType": MARGIN_MODE_NAMES[mode],
                    "isAutoAddMargin": "false",
                    "maxNotionalValue": max_notional(q.instrument(e, symbol).spec.table.tiers, lev)})  # type: ignore[union-attr]  # fmt: skip
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
    for sym in venue.read(lambda: markets(venue)):
        inst = q.instrument(venue.engine, sym)
        if inst is None or (s is not None and sym != s):
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

    def build() -> list[dict[str, Any]]:
        out = []
        for sym in markets(venue):
            if s is None or sym == s:
                mode, lev = q.setting(venue.engine, me(who), sym)
                out.append({"symbol": sym, "marginType": SYMBOL_CONFIG_MARGIN[mode], "isAutoAddMargin": False,
                            "leverage": lev, "maxNotionalValue": max_notional(
                                q.instrument(venue.engine, sym).spec.table.tiers, lev)})  # type: ignore[union-attr]  # fmt: skip
        return out

    return venue.read(build)


@route("GET", "v1/commissionRate", auth="read")
async def commission(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, inverse=inverse)
    inst = q.instrument(venue.engine, s or "")
    assert inst is not None
    return {
        "symbol": s,
        "makerCommissionRate": fmt(inst.maker_fee.decimal),
        "takerCommissionRate": fmt(inst.taker_fee.decimal),
    }


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
    inst = q.instrument(venue.engine, s)
    assert inst is not None
    return {"leverage": lev, "maxNotionalValue": max_notional(inst.spec.table.tiers, lev), "symbol": s}


@route("POST", "v1/marginType", auth="trade")
async def margin_type(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, inverse=inverse)
    assert s is not None
    mode = choice(p, "marginType", MARGIN_TYPES, binance=-4044, msg="Invalid marginType.")
    if venue.read(lambda: q.setting(venue.engine, me(who), s)[0]) is mode:
        raise ApiError(400, "no_change", "margin type is already set", -4046, "No need to change margin type.")
    await venue.submit(SetMarginMode(me(who), s, mode))
    return ok()


@route("GET", "v1/positionSide/dual", auth="read")
async def get_dual(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"dualSidePosition": venue.read(lambda: q.account(venue.engine, me(who))["hedge_mode"])}


@route("POST", "v1/positionSide/dual", auth="trade")
async def set_dual(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    want = flag(p, "dualSidePosition")
    if venue.read(lambda: q.account(venue.engine, me(who))["hedge_mode"]) == want:
        raise ApiError(400, "no_change", "position side is already set", -4059, "No need to change position side.")
    await venue.submit(SetPositionMode(me(who), want))
    return ok()


@route("GET", "v1/multiAssetsMargin", auth="read")
async def get_multi(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"multiAssetsMargin": False}


@route("POST", "v1/multiAssetsMargin", auth="trade")
async def set_multi(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    if flag(p, "multiAssetsMargin"):
        raise ApiError(400, "not_supported", "multi-assets mode is not supported (USDT only)", -1130,
                       "Multi-Assets mode is not supported by this venue.")  # fmt: skip
    return ok()


@route("POST", "v1/positionMargin", auth="trade")
async def position_margin(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, inverse=inverse)
    assert s is not None
    need(p, "amount")
    amount = decimal(p, "amount")
    need(p, "type")
    kind = integer(p, "type", None, MARGIN_ADJUST_ADD, MARGIN_ADJUST_REMOVE)
    pside = choice(p, "positionSide", POSITION_SIDES, PositionSide.BOTH, -4060, "Invalid position side.")
    assert amount is not None
    if amount <= 0:
        raise ApiError(400, "bad_amount", "amount must be positive", -4055, "Amount must be positive.")
    await venue.submit(AdjustMargin(me(who), s, amount if kind == MARGIN_ADJUST_ADD else -amount, pside))
    return {"amount": float(amount), "code": 200, "msg": "Successfully modify position margin.", "type": kind}


# ================================================================ orders
def _window(rows: list[dict[str, Any]], p: dict[str, str], id_name: str) -> list[dict[str, Any]]:
    """Binance's order-history window: from an id onwards (oldest first), or created within startTime..endTime,
    at most `limit` (the newest, when no id is given)."""
    limit = integer(p, "limit", 500, 1, 1000) or 500
    from_id, start, end = integer(p, id_name), integer(p, "startTime"), integer(p, "endTime")
    rows = [r for r in rows if (from_id is None or r["order_id"] >= from_id)
            and (start is None or r["created"] >= start) and (end is None or r["created"] <= end)]  # fmt: skip
    return rows[:limit] if from_id is not None else rows[-limit:]


order_window = _window  # shared with /dapi


def _cancellable(venue: Venue, account: int, p: dict[str, str], id_name: str, coid_name: str) -> dict[str, Any]:
    """The order to cancel; one that does not exist (or is another account's) is Binance's -2011 on cancel,
    while a malformed id keeps its own refusal."""
    try:
        return find_order(venue, account, p, id_name, coid_name)
    except ApiError as exc:
        if exc.code != "unknown_order":
            raise
        raise ApiError(400, "unknown_order", exc.message, -2011, "Unknown order sent.") from None


@route("POST", "v1/order", auth="trade", plain_json=True)
async def new_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    own_kind(venue, p)
    return b_order(await place(venue, me(who), p))


@route("GET", "v1/order", auth="read", plain_json=True)
async def get_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return b_order(find_order(venue, me(who), p, "orderId", "origClientOrderId"))


@route("DELETE", "v1/order", auth="trade", plain_json=True)
async def cancel_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    rec = _cancellable(venue, me(who), p, "orderId", "origClientOrderId")
    await venue.submit(CancelOrder(me(who), s or rec["symbol"], order_id=rec["order_id"]))
    return b_order(rec)


@route("DELETE", "v1/allOpenOrders", auth="trade", plain_json=True)
async def cancel_all(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> Any:
    s = symbol_of(venue, p, inverse=inverse)
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
    if rec["status"] not in OPEN_STATUSES:
        raise ApiError(400, "unknown_order", "order is not open", -2013, "Order does not exist.")
    return b_order(rec)


@route("GET", "v1/allOrders", auth="read")
async def all_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    rows = _window(orders_of(venue, me(who), s, False, False), p, "orderId")
    return [b_order(r) for r in rows]


@route("POST", "v1/algoOrder", auth="trade")
async def new_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    choice(p, "algoType", ALGO_TYPES, "CONDITIONAL", msg="Invalid data sent for a parameter 'algoType'.")
    own_kind(venue, p)
    params = dict(p)
    if "orderType" in params and "type" not in params:
        params["type"] = params["orderType"]
    return b_algo(await place(venue, me(who), params))


@route("GET", "v1/algoOrder", auth="read")
async def get_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return b_algo(find_order(venue, me(who), p, "algoId", "clientAlgoId"))


@route("DELETE", "v1/algoOrder", auth="trade")
async def cancel_algo(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rec = _cancellable(venue, me(who), p, "algoId", "clientAlgoId")
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
    rows = _window(orders_of(venue, me(who), s, True, False), p, "algoId")
    return [b_algo(r) for r in rows]


def trade_rows(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> list[dict[str, Any]]:
    """The account's fills on the API's markets, filtered by symbol, orderId, fromId, startTime..endTime, limit."""
    s = symbol_of(venue, p, required=False, inverse=inverse)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    oid, from_id = integer(p, "orderId"), integer(p, "fromId")
    start, end = integer(p, "startTime"), integer(p, "endTime")
    here = set(venue.read(lambda: markets(venue, inverse)))
    rows = venue.read(lambda: [
        r for r in venue.history.user_trades.get(me(who), ())
        if (r["symbol"] in here if s is None else r["symbol"] == s) and (oid is None or r["order_id"] == oid)
        and (from_id is None or r["id"] >= from_id)
        and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)
    ])  # fmt: skip
    if from_id is not None:  # Binance: the trades from that id onwards, oldest first
        rows = rows[:limit]
    return rows[-limit:]  # type: ignore[no-any-return]


@route("GET", "v1/userTrades", auth="read")
async def user_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return [{
        "buyer": r["side"] is OrderSide.BUY, "commission": fmt(r["fee"]), "commissionAsset": "USDT", "id": r["id"],
        "maker": r["maker"], "orderId": r["order_id"], "price": fmt(r["price"]), "qty": fmt(r["qty"]),
        "quoteQty": fmt(r["quote"]), "realizedPnl": fmt(r["realized_pnl"]), "side": r["side"].name,
        "positionSide": r["position_side"], "symbol": r["symbol"], "time": r["time"],
    } for r in trade_rows(venue, p, who)]  # fmt: skip


def income_rows(venue: Venue, p: dict[str, str], who: Principal | None, inverse: bool = False) -> list[dict[str, Any]]:
    """The account's income on the API's markets (REALIZED_PNL, COMMISSION, FUNDING_FEE), filtered as Binance."""
    s = symbol_of(venue, p, required=False, inverse=inverse)
    kind = choice(p, "incomeType", INCOME_TYPES, "") or None
    limit = integer(p, "limit", 100, 1, 1000) or 100
    start, end = integer(p, "startTime"), integer(p, "endTime")
    here = set(venue.read(lambda: markets(venue, inverse)))
    rows = venue.read(lambda: [
        r for r in venue.history.income.get(me(who), ())
        if (r["symbol"] in here if s is None else r["symbol"] == s) and (kind is None or r["incomeType"] == kind)
        and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)
    ])  # fmt: skip
    return [{**r, "income": fmt(r["income"]), "tranId": r["tranId"]} for r in rows[-limit:]]


@route("GET", "v1/income", auth="read")
async def income(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return income_rows(venue, p, who)


@route("POST", "v1/listenKey", auth="key")
async def listen_key(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"listenKey": venue.listen_keys.issue(me(who))}


@route("PUT", "v1/listenKey", auth="key")
async def keepalive(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"listenKey": venue.listen_keys.issue(me(who))}


@route("DELETE", "v1/listenKey", auth="key")
async def close_listen_key(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    venue.listen_keys.revoke(me(who))
    return {}
