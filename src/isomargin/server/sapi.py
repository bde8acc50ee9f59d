"""Binance isolated-margin compatible API under /sapi/v1, as unmodified ccxt `binance` calls it: the isolated account,
borrow-repay (and the older loan/repay), transfers (asset/transfer MAIN_ISOLATED_MARGIN / ISOLATED_MARGIN_MAIN and
margin/isolated/transfer), margin orders and fills, interest history, isolatedMarginData, maxBorrowable,
maxTransferable. Engine refusals answer in Binance's margin codes (-3006, -3015, -3020, -3041, …).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any, Final

from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import Borrow, MarginTransfer, Repay
from isomargin.engine.spot_events import Borrowed, MarginTransferred, Repaid
from isomargin.server import spot_api
from isomargin.server.auth import Principal
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import choice, flag, integer, me, need
from isomargin.server.params import parse_enum, parse_symbol
from isomargin.server.spot_base import (
    BTC_PAIR,
    SAPI,
    ZERO,
    asset_of,
    b_fill,
    b_spot_order,
    fill_rows,
    find_spot_order,
    orders_of,
    pair_info,
    pair_of,
    pair_or_none,
    positive,
    router,
    submit_margin,
    tran_id,
    window,
)
from isomargin.server.venue import Venue, fmt

route = SAPI.route
__all__ = ["router"]  # with /api/v3 (spot_api, imported above): both are registered on it
HOUR: Final = 3_600_000
SPLIT_HOURS_MAX: Final = 1000  # an hourly charge of more hours than this is shown as one row
LEVEL_STATUS: Final = {"ok": "NORMAL", "warning": "MARGIN_CALL", "cancel_orders": "PRE_LIQUIDATION",
                       "liquidate": "FORCE_LIQUIDATION"}  # fmt: skip
PLACES: Final = Decimal("1E-8")  # margin level and liquidation price as Binance shows them (8 decimals)
NO_DEBT_LEVEL: Final = "999"  # Binance's margin level of an account that owes nothing
LOAN_TYPES: Final = {"BORROW": "BORROW", "REPAY": "REPAY"}
TRANSFER_TYPES: Final = {"MAIN_ISOLATED_MARGIN": 1, "ISOLATED_MARGIN_MAIN": -1, "ISOLATEDMARGIN_ISOLATEDMARGIN": 0,
                         "MAIN_UMFUTURE": 0, "UMFUTURE_MAIN": 0, "MAIN_CMFUTURE": 0, "CMFUTURE_MAIN": 0,
                         "MAIN_MARGIN": 0, "MARGIN_MAIN": 0, "MAIN_FUNDING": 0, "FUNDING_MAIN": 0}  # fmt: skip
ISOLATED_SIDES: Final = {"SPOT": "SPOT", "ISOLATED_MARGIN": "ISOLATED_MARGIN"}


def _isolated(p: dict[str, str]) -> bool:
    """isIsolated: TRUE for the isolated account; FALSE (the default) is cross margin, which is not offered."""
    return flag(p, "isIsolated", False)


def _need_isolated(p: dict[str, str]) -> None:
    if not _isolated(p):
        raise ApiError(400, "cross_margin_unsupported", "only isolated margin is offered: send isIsolated=TRUE", -3003,
                       "Margin account does not exist: only isolated margin (isIsolated=TRUE) is offered "
                       "here.")  # fmt: skip


@route("GET", "v1/system/status")
async def system_status(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """ccxt's fetch_status: a venue that answers is a working one (a failed engine answers 503 before this)."""
    return {"status": 0, "msg": "normal"}


# ================================================================ the isolated account
def _btc_value(venue: Venue, asset: str, amount: Decimal) -> Decimal:
    """`amount` of `asset` in BTC at the marks (0 where a mark is missing)."""
    if asset == "BTC" or not amount:
        return amount
    btc = sq.spot_pair(venue.engine, BTC_PAIR)
    btc_mark: Decimal | None = None if btc is None else btc["mark_price"]
    if not btc_mark:
        return ZERO
    if asset == "USDT":
        return amount / btc_mark
    other = sq.spot_pair(venue.engine, f"{asset}-USDT")
    mark: Decimal | None = None if other is None else other["mark_price"]
    return amount * mark / btc_mark if mark else ZERO


def _q8(x: Decimal) -> str:
    return fmt(x, 8)


def _asset_row(venue: Venue, asset: str, a: dict[str, Any]) -> dict[str, Any]:
    return {
        "asset": asset, "borrowEnabled": True, "borrowed": fmt(a["borrowed"]), "free": fmt(a["free"]),
        "interest": fmt(a["interest"]), "locked": fmt(a["locked"]), "netAsset": fmt(a["net"]),
        "netAssetOfBtc": _q8(_btc_value(venue, asset, a["net"])), "repayEnabled": True,
        "totalAsset": fmt(a["total"]),
    }  # fmt: skip


def isolated_row(venue: Venue, view: dict[str, Any]) -> dict[str, Any]:
    """One isolated margin account as Binance's GET /sapi/v1/margin/isolated/account shows it."""
    pair = sq.spot_pair(venue.engine, view["symbol"])
    assert pair is not None
    base, quote = view["base"], view["quote"]
    level = view.get("margin_level")
    owes = any(view["assets"][a]["borrowed"] or view["assets"][a]["interest"] for a in (base, quote))
    status = LEVEL_STATUS.get(view.get("level") or "ok", "NORMAL") if owes else "EXCESSIVE"
    owes_quote = bool(view["assets"][quote]["borrowed"] or view["assets"][quote]["interest"])  # a long: round up
    position = view.get("position") or {}
    liq = position.get("liquidation_price")
    return {
        "baseAsset": _asset_row(venue, base, view["assets"][base]),
        "quoteAsset": _asset_row(venue, quote, view["assets"][quote]),
        "symbol": pair["exchange_symbol"], "isolatedCreated": True, "enabled": True,
        "marginLevel": fmt(level.quantize(PLACES, ROUND_DOWN)) if level is not None else NO_DEBT_LEVEL,
        "marginLevelStatus": status,
        "marginRatio": str(pair["max_leverage"]), "indexPrice": fmt(view.get("mark_price") or ZERO),
        "liquidatePrice": fmt(liq.quantize(PLACES, ROUND_UP if owes_quote else ROUND_DOWN)) if liq is not None else "0",
        "liquidateRate": "0", "tradeEnabled": True,
    }  # fmt: skip


def _accounts(venue: Venue, account: int, wanted: list[str] | None) -> dict[str, Any]:
    e = venue.engine
    rows = []
    totals = [ZERO, ZERO, ZERO]
    for s in sq.margin_accounts(e, account):
        if wanted is not None and s not in wanted:
            continue
        view = sq.margin_account(e, account, s)
        if view is None:
            continue
        rows.append(isolated_row(venue, view))
        for a in (view["base"], view["quote"]):
            x = view["assets"][a]
            totals[0] += _btc_value(venue, a, x["total"])
            totals[1] += _btc_value(venue, a, x["borrowed"] + x["interest"])
            totals[2] += _btc_value(venue, a, x["net"])
    out: dict[str, Any] = {"assets": rows}
    if wanted is None:
        out.update(totalAssetOfBtc=_q8(totals[0]), totalLiabilityOfBtc=_q8(totals[1]),
                   totalNetAssetOfBtc=_q8(totals[2]))  # fmt: skip
    return out


@route("GET", "v1/margin/isolated/account", auth="read")
async def isolated_account(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    wanted = None
    if p.get("symbols"):
        names = [x for x in p["symbols"].split(",") if x]
        if not names or len(names) > 5:
            raise ApiError(400, "bad_parameter", "symbols takes 1..5 comma-separated pairs", -1130,
                           "Data sent for parameter 'symbols' is not valid.")  # fmt: skip
        wanted = [pair_of(venue, {"symbols": n}, "symbols") for n in names]
    return venue.read(lambda: _accounts(venue, me(who), wanted))


def _pair_row(venue: Venue, s: str) -> dict[str, Any]:
    pair = pair_info(venue, s)
    return {"symbol": pair["exchange_symbol"], "base": pair["base"], "quote": pair["quote"], "isMarginTrade": True,
            "isBuyAllowed": True, "isSellAllowed": True}  # fmt: skip


@route("GET", "v1/margin/isolated/pair", auth="read")
async def isolated_pair(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return _pair_row(venue, pair_of(venue, p))


@route("GET", "v1/margin/isolated/allPairs", auth="read")
async def isolated_all_pairs(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return [_pair_row(venue, s) for s in venue.read(lambda: sq.spot_pairs(venue.engine))]


@route("GET", "v1/margin/allPairs", auth="read")
async def cross_all_pairs(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Cross-margin pairs: none (only isolated margin is offered)."""
    return []


@route("GET", "v1/margin/isolated/accountLimit", auth="read")
async def account_limit(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    n = len(venue.read(lambda: sq.margin_accounts(venue.engine, me(who))))
    return {"enabledAccount": n, "maxAccount": len(venue.read(lambda: sq.spot_pairs(venue.engine)))}


@route("GET", "v1/margin/isolatedMarginData", auth="read")
async def isolated_margin_data(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    names = [pair_of(venue, p)] if p.get("symbol") else venue.read(lambda: sq.spot_pairs(venue.engine))
    out = []
    for s in names:
        pair = pair_info(venue, s)
        data = []
        for a in (pair["base"], pair["quote"]):
            cap = pair["borrow_limits"].get(a)
            data.append({"coin": a, "dailyInterest": fmt(pair["daily_rates"][a]),
                         "borrowLimit": fmt(cap) if cap is not None else "0"})  # fmt: skip
        out.append({"vipLevel": 0, "symbol": pair["exchange_symbol"], "leverage": str(pair["max_leverage"]),
                    "data": data})  # fmt: skip
    return out


def _limit_view(venue: Venue, account: int, p: dict[str, str]) -> tuple[str, str, dict[str, Any] | None]:
    s = pair_of(venue, p, "isolatedSymbol")
    asset = asset_of(p, venue, s)
    view: dict[str, Any] | None = venue.read(lambda: sq.margin_account(venue.engine, account, s))
    return s, asset, view


@route("GET", "v1/margin/maxBorrowable", auth="read")
async def max_borrowable(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s, asset, view = _limit_view(venue, me(who), p)
    cap = pair_info(venue, s)["borrow_limits"].get(asset)
    amount = view["assets"][asset]["max_borrowable"] if view is not None else ZERO
    return {"amount": fmt(amount), "borrowLimit": fmt(cap) if cap is not None else "0"}


@route("GET", "v1/margin/maxTransferable", auth="read")
async def max_transferable(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    _, asset, view = _limit_view(venue, me(who), p)
    return {"amount": fmt(view["assets"][asset]["max_transferable"] if view is not None else ZERO)}


# ================================================================ borrow and repay
async def _loan(venue: Venue, account: int, p: dict[str, str], kind: str) -> dict[str, Any]:
    _need_isolated(p)
    s = pair_of(venue, p)
    asset = asset_of(p, venue, s)
    amount = positive(p, "amount")
    if kind == "BORROW":
        events = await submit_margin(venue, Borrow(account, s, asset, amount))
        return {"tranId": tran_id(events, Borrowed), "clientTag": ""}
    events = await submit_margin(venue, Repay(account, s, asset, amount))
    return {"tranId": tran_id(events, Repaid), "clientTag": ""}


@route("POST", "v1/margin/borrow-repay", auth="trade")
async def borrow_repay(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    kind = choice(p, "type", LOAN_TYPES)
    return await _loan(venue, me(who), p, kind)


@route("POST", "v1/margin/loan", auth="trade")
async def loan(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return await _loan(venue, me(who), p, "BORROW")


@route("POST", "v1/margin/repay", auth="trade")
async def repay(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return await _loan(venue, me(who), p, "REPAY")


def _page(rows: list[dict[str, Any]], p: dict[str, str], time_key: str) -> dict[str, Any]:
    """Binance's `current` / `size` paging over rows newest first, within startTime..endTime."""
    start, end = integer(p, "startTime"), integer(p, "endTime")
    current = integer(p, "current", 1, 1, 10**6) or 1
    size = integer(p, "size", 10, 1, 100) or 10
    picked = [r for r in rows if (start is None or r[time_key] >= start) and (end is None or r[time_key] <= end)]
    picked.sort(key=lambda r: (r[time_key], r["txId"]), reverse=True)
    return {"rows": picked[(current - 1) * size : current * size], "total": len(picked)}


def _tx_ids(rows: list[dict[str, Any]], time_key: str) -> list[dict[str, Any]]:
    """Give each row a txId: its time (ms) × 1000 + its place among the rows of the same time."""
    seen: dict[int, int] = {}
    for r in rows:
        k = seen.get(r[time_key], 0)
        seen[r[time_key]] = k + 1
        r["txId"] = int(r[time_key]) * 1000 + k
    return rows


def _filter_symbol_asset(venue: Venue, p: dict[str, str]) -> tuple[str | None, str | None]:
    s = pair_or_none(venue, p, "isolatedSymbol")
    asset = None
    if p.get("asset"):
        asset = asset_of(p, venue, s) if s is not None else parse_symbol(p["asset"], "asset")
    return s, asset


@route("GET", "v1/margin/borrow-repay", auth="read")
async def loans(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    kind = choice(p, "type", LOAN_TYPES)
    s, asset = _filter_symbol_asset(venue, p)
    raw = venue.read(lambda: list(venue.spot_history.loans.get(me(who), ())))
    rows = []
    for r in raw:
        if r["kind"] != kind.lower() or (s is not None and r["symbol"] != s) or (asset and r["asset"] != asset):
            continue
        pair = pair_info(venue, r["symbol"])
        if kind == "BORROW":
            row = {"isolatedSymbol": pair["exchange_symbol"], "amount": r["amount"], "asset": r["asset"],
                   "interest": "0", "principal": r["amount"], "status": "CONFIRMED",
                   "timestamp": r["time"]}  # fmt: skip
        else:
            total = Decimal(r["interest"]) + Decimal(r["principal"])
            row = {"isolatedSymbol": pair["exchange_symbol"], "amount": fmt(total), "asset": r["asset"],
                   "interest": r["interest"], "principal": r["principal"], "status": "CONFIRMED",
                   "timestamp": r["time"]}  # fmt: skip
        rows.append(row)
    return _page(_tx_ids(rows, "timestamp"), p, "timestamp")


@route("GET", "v1/margin/interestHistory", auth="read")
async def interest_history(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Interest charged: at borrow time (ON_BORROW) and at each whole hour after (PERIODIC, one row an hour)."""
    s, asset = _filter_symbol_asset(venue, p)
    raw = venue.read(lambda: list(venue.spot_history.interest.get(me(who), ())))
    rows = []
    for r in raw:
        if (s is not None and r["symbol"] != s) or (asset and r["asset"] != asset):
            continue
        pair = pair_info(venue, r["symbol"])
        rate = r["daily_rate"] if r["daily_rate"] is not None else fmt(pair["daily_rates"][r["asset"]])
        row = {"isolatedSymbol": pair["exchange_symbol"], "asset": r["asset"], "rawAsset": r["asset"],
               "principal": r["principal"], "interestRate": rate}  # fmt: skip
        hours = int(r["hours"])
        if r["kind"] == "borrow":
            rows.append({**row, "interest": r["amount"], "interestAccuredTime": r["time"], "type": "ON_BORROW"})
        elif hours <= SPLIT_HOURS_MAX:
            each = Decimal(r["amount"]) / hours  # exact: every hour of one charge is the same quantum count
            for i in range(hours):
                at = int(r["through"]) - (hours - 1 - i) * HOUR
                rows.append({**row, "interest": fmt(each), "interestAccuredTime": at, "type": "PERIODIC"})
        else:
            rows.append({**row, "interest": r["amount"], "interestAccuredTime": r["through"], "type": "PERIODIC"})
    return _page(_tx_ids(rows, "interestAccuredTime"), p, "interestAccuredTime")


@route("GET", "v1/margin/forceLiquidationRec", auth="read")
async def force_liquidations(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_or_none(venue, p, "isolatedSymbol")
    raw = venue.read(lambda: list(venue.spot_history.liquidations.get(me(who), ())))
    rows = []
    for r in raw:
        if (s is not None and r["symbol"] != s) or r.get("step") == "done":
            continue
        pair = pair_info(venue, r["symbol"])
        rows.append({"avgPrice": r["mark"], "executedQty": r["repaid"], "orderId": 0, "price": r["mark"],
                     "qty": r["repaid"], "side": "SELL", "symbol": pair["exchange_symbol"], "timeInForce": "GTC",
                     "isIsolated": True, "updatedTime": r["time"]})  # fmt: skip
    return _page(_tx_ids(rows, "updatedTime"), p, "updatedTime")


# ================================================================ transfers
async def _transfer(venue: Venue, account: int, symbol: str, asset: str, amount: Decimal) -> dict[str, Any]:
    events = await submit_margin(venue, MarginTransfer(account, symbol, asset, amount))
    return {"tranId": tran_id(events, MarginTransferred), "clientTag": ""}


@route("POST", "v1/asset/transfer", auth="trade")
async def asset_transfer(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """The universal transfer, for the wallet ⇄ isolated margin legs; spot and futures share one wallet here."""
    kind = need(p, "type")
    direction = parse_enum(kind, TRANSFER_TYPES, "type", binance=-1130,
                           binance_msg="Data sent for parameter 'type' is not valid.")  # fmt: skip
    if direction == 0:
        raise ApiError(400, "transfer_unsupported", f"transfer type {kind.upper()} is not offered: spot and futures "
                       "share one wallet here; only MAIN_ISOLATED_MARGIN and ISOLATED_MARGIN_MAIN move money", -3029,
                       f"Transfer failed: type {kind.upper()} is not offered here (spot and futures share one "
                       "wallet); use MAIN_ISOLATED_MARGIN or ISOLATED_MARGIN_MAIN.")  # fmt: skip
    s = pair_of(venue, p, "toSymbol" if direction > 0 else "fromSymbol")
    asset = asset_of(p, venue, s)
    amount = positive(p, "amount")
    return await _transfer(venue, me(who), s, asset, amount * direction)


@route("GET", "v1/asset/transfer", auth="read")
async def asset_transfer_history(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """The universal transfer's history (ccxt's fetch_transfers): the wallet ⇄ isolated margin legs; the futures
    types have none (one wallet)."""
    kind = need(p, "type")
    direction = parse_enum(kind, TRANSFER_TYPES, "type", binance=-1130,
                           binance_msg="Data sent for parameter 'type' is not valid.")  # fmt: skip
    name = "toSymbol" if direction > 0 else "fromSymbol"
    s = pair_or_none(venue, p, name)
    raw = venue.read(lambda: list(venue.spot_history.transfers.get(me(who), ()))) if direction else []
    rows = []
    for r in raw:
        amount = Decimal(r["amount"])
        if (amount > 0) != (direction > 0) or (s is not None and r["symbol"] != s):
            continue
        rows.append({"asset": r["asset"], "amount": fmt(abs(amount)), "type": kind.upper(), "status": "CONFIRMED",
                     "timestamp": r["time"]})  # fmt: skip
    page = _page(_tx_ids(rows, "timestamp"), p, "timestamp")
    for row in page["rows"]:
        row["tranId"] = row.pop("txId")
    return page


@route("GET", "v1/asset/tradeFee", auth="read")
async def trade_fee(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    names = [pair_of(venue, p)] if p.get("symbol") else venue.read(lambda: sq.spot_pairs(venue.engine))
    out = []
    for s in names:
        pair = pair_info(venue, s)
        out.append({"symbol": pair["exchange_symbol"], "makerCommission": fmt(pair["maker_fee"]),
                    "takerCommission": fmt(pair["taker_fee"])})  # fmt: skip
    return out


@route("POST", "v1/margin/isolated/transfer", auth="trade")
async def isolated_transfer(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    asset = asset_of(p, venue, s)
    src = choice(p, "transFrom", ISOLATED_SIDES)
    dst = choice(p, "transTo", ISOLATED_SIDES)
    if src == dst:
        raise ApiError(400, "bad_parameter", "transFrom and transTo must differ", -1130,
                       "Data sent for parameter 'transTo' is not valid.")  # fmt: skip
    amount = positive(p, "amount")
    return await _transfer(venue, me(who), s, asset, amount if dst == "ISOLATED_MARGIN" else -amount)


@route("GET", "v1/margin/isolated/transfer", auth="read")
async def transfer_history(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    asset = asset_of(p, venue, s) if p.get("asset") else None
    raw = venue.read(lambda: list(venue.spot_history.transfers.get(me(who), ())))
    rows = []
    for r in raw:
        if r["symbol"] != s or (asset and r["asset"] != asset):
            continue
        into = Decimal(r["amount"]) > 0
        rows.append({"amount": fmt(abs(Decimal(r["amount"]))), "asset": r["asset"], "status": "CONFIRMED",
                     "timestamp": r["time"], "transFrom": "SPOT" if into else "ISOLATED_MARGIN",
                     "transTo": "ISOLATED_MARGIN" if into else "SPOT", "clientTag": "",
                     "isolatedSymbol": pair_info(venue, s)["exchange_symbol"]})  # fmt: skip
    return _page(_tx_ids(rows, "timestamp"), p, "timestamp")


# ================================================================ margin orders and fills
@route("POST", "v1/margin/order", auth="trade")
async def new_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return await spot_api.place(venue, me(who), p, margin=True)


@route("GET", "v1/margin/order", auth="read")
async def get_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    rec = find_spot_order(venue, me(who), p, s)
    if not rec.get("isolated") or not _isolated(p):
        raise ApiError(400, "unknown_order", "no such isolated margin order (send isIsolated=TRUE)", -2013,
                       "Order does not exist.")  # fmt: skip
    return b_spot_order(venue, rec, margin=True)


@route("DELETE", "v1/margin/order", auth="trade")
async def cancel_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    _need_isolated(p)
    return await spot_api.cancel(venue, me(who), p, isolated=True)


@route("DELETE", "v1/margin/openOrders", auth="trade")
async def cancel_open(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    _need_isolated(p)
    return await spot_api.cancel_all(venue, me(who), p, isolated=True)


@route("GET", "v1/margin/openOrders", auth="read")
async def open_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_or_none(venue, p)
    if not _isolated(p):
        return []  # cross margin: none
    return [b_spot_order(venue, r, margin=True) for r in orders_of(venue, me(who), s, True, True)]


@route("GET", "v1/margin/allOrders", auth="read")
async def all_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    if not _isolated(p):
        return []
    rows = [{**r, "time": r["created"]} for r in orders_of(venue, me(who), s, True, False)]
    return [b_spot_order(venue, r, margin=True) for r in window(rows, p, "order_id", "orderId", max_limit=500)]


@route("GET", "v1/margin/myTrades", auth="read")
async def my_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = pair_of(venue, p)
    if not _isolated(p):
        return []
    rows = fill_rows(venue, me(who), s, isolated=True)
    oid = integer(p, "orderId")
    if oid is not None:
        rows = [r for r in rows if r["order_id"] == oid]
    return [b_fill(venue, r, True) for r in window(rows, p, "trade_id", "fromId")]
