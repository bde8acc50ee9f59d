"""More of Binance USDⓈ-M: aggTrades, openInterest, premiumIndexKlines, positionMargin/history, order amendment
(PUT v1/order) and batch orders (POST / DELETE v1/batchOrders).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

from isomargin.engine import AmendOrder, CancelOrder
from isomargin.engine import queries as q
from isomargin.server.auth import Principal
from isomargin.server.errors import ApiError
from isomargin.server.fapi_account import MARGIN_ADJUST_ADD, MARGIN_ADJUST_REMOVE, new_order
from isomargin.server.fapi_base import (
    b_order,
    choice,
    decimal,
    find_order,
    integer,
    me,
    need,
    own_kind,
    route,
    symbol_of,
)
from isomargin.server.fapi_market import _klines
from isomargin.server.native import place
from isomargin.server.venue import OPEN_STATUSES, Venue, fmt, now_ms
from isomargin.server.views import ORDER_SIDES

BATCH_MAX: Final = 5  # orders per POST batchOrders (Binance)
CANCEL_BATCH_MAX: Final = 10  # ids per DELETE batchOrders (Binance)
BATCH_TEXT_MAX: Final = 8192  # characters of a batch parameter's JSON


@route("GET", "v1/aggTrades")
async def agg_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Every trade is its own aggregate (one taker fill against one maker): `a` = `f` = `l` = the trade id."""
    s = symbol_of(venue, p)
    limit = integer(p, "limit", 500, 1, 1000) or 500
    from_id, start, end = integer(p, "fromId"), integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: [
        r for r in venue.history.trades.get(s or "", ())
        if (from_id is None or r["id"] >= from_id) and (start is None or r["time"] >= start)
        and (end is None or r["time"] <= end)
    ])  # fmt: skip
    rows = rows[:limit] if from_id is not None or start is not None else rows[-limit:]
    return [{"a": r["id"], "p": fmt(r["price"]), "q": fmt(r["qty"]), "f": r["id"], "l": r["id"], "T": r["time"],
             "m": r["buyer_maker"]} for r in rows]  # fmt: skip


@route("GET", "v1/openInterest")
async def open_interest(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """The market's open interest: the sum of its long positions' sizes (= the short ones')."""
    s = symbol_of(venue, p)
    m = venue.read(lambda: q.market(venue.engine, s or ""))
    assert m is not None
    return {"openInterest": fmt(m["open_interest"]), "symbol": s, "time": now_ms()}


@route("GET", "v1/premiumIndexKlines")
async def premium_klines(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Premium index bars: (mark − index) / index from the one-minute mark and index bars (open and close of each
    bar; high and low are the larger and smaller of the bar's premium at its open and close)."""
    marks = {r[0]: r for r in _klines(venue, p, "mark")}
    out = []
    for r in _klines(venue, p, "index"):
        m = marks.get(r[0])
        if m is None:
            continue
        po = (Decimal(m[1]) - Decimal(r[1])) / Decimal(r[1]) if Decimal(r[1]) else Decimal(0)
        pc = (Decimal(m[4]) - Decimal(r[4])) / Decimal(r[4]) if Decimal(r[4]) else Decimal(0)
        cells = [fmt(x, 8) for x in (po, max(po, pc), min(po, pc), pc)]
        out.append([r[0], *cells, "0", r[6], "0", 0, "0", "0", "0"])
    return out


@route("GET", "v1/positionMargin/history", auth="read")
async def margin_history(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    kind = integer(p, "type", None, MARGIN_ADJUST_ADD, MARGIN_ADJUST_REMOVE)
    limit = integer(p, "limit", 500, 1, 500) or 500
    start, end = integer(p, "startTime"), integer(p, "endTime")
    rows = venue.read(lambda: [
        r for r in venue.history.margin_changes.get(me(who), ())
        if r["symbol"] == s and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)
        and (kind is None or kind == (MARGIN_ADJUST_ADD if r["amount"] > 0 else MARGIN_ADJUST_REMOVE))
    ])  # fmt: skip
    return [{"symbol": r["symbol"], "type": MARGIN_ADJUST_ADD if r["amount"] > 0 else MARGIN_ADJUST_REMOVE,
             "deltaType": "USER_ADJUST", "amount": fmt(abs(r["amount"])), "asset": r["asset"], "time": r["time"],
             "positionSide": r["position_side"]} for r in rows[-limit:]]  # fmt: skip


@route("PUT", "v1/order", auth="trade")
async def amend_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Binance's modify order: LIMIT orders only, `side`, `quantity` and `price` all sent. The engine keeps the
    order's place in its queue when only the quantity goes down (same price); a new price or a larger quantity
    puts it at the back of the queue of its (new) level."""
    s = symbol_of(venue, p)
    assert s is not None
    side = choice(p, "side", ORDER_SIDES, binance=-1117, msg="Invalid side.")
    need(p, "quantity")
    need(p, "price")
    qty, price = decimal(p, "quantity"), decimal(p, "price")
    rec = find_order(venue, me(who), p, "orderId", "origClientOrderId")
    if rec["symbol"] != s:
        raise ApiError(400, "unknown_order", "order does not exist for this account", -2013, "Order does not exist.")
    if rec["status"] not in OPEN_STATUSES:
        raise ApiError(400, "not_amendable", "only open orders can be amended", -2013, "Order does not exist.")
    if rec["side"] is not side:
        raise ApiError(400, "bad_side", "side differs from the order's", -4029, "side is not consistent.")
    await venue.submit(AmendOrder(me(who), s, order_id=rec["order_id"], qty=qty, price=price))
    return b_order(venue.read(lambda: venue.history.orders[rec["order_id"]]))


class _Inexact:
    """A JSON fraction, exponent or NaN in a batch: not an exact decimal, refused like a bad number (-1100)."""


def _inexact(text: str) -> _Inexact:
    return _Inexact()


def _json_list(p: dict[str, str], name: str, limit: int) -> list[Any]:
    raw = need(p, name)

    def no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ApiError(400, "duplicate_parameter", f"{name}: key {k[:32]!r} twice", -1101,
                               "Duplicate values for a parameter detected.")  # fmt: skip
            out[k] = v
        return out

    bad = ApiError(400, "bad_parameter", f"{name} must be a JSON list", -1130,
                   f"Data sent for parameter '{name}' is not valid.")  # fmt: skip
    if len(raw) > BATCH_TEXT_MAX:
        raise bad
    try:
        value = json.loads(raw, object_pairs_hook=no_dups, parse_float=_inexact, parse_constant=_inexact)
    except ValueError:
        raise bad from None
    if not isinstance(value, list) or not value:
        raise bad
    if len(value) > limit:
        raise ApiError(400, "batch_too_large", f"at most {limit} in one batch", -4079,
                       f"Invalid {name} length: at most {limit}.")  # fmt: skip
    return value


def _as_params(item: Any) -> dict[str, str]:
    """A batch item's fields as request parameters: strings as sent, integers and booleans spelled as in a query
    (a JSON fraction is refused by the decimal grammar like any non-string number would be)."""
    if not isinstance(item, dict):
        raise ApiError(400, "bad_parameter", "each batch order is a JSON object", -1130,
                       "Data sent for parameter 'batchOrders' is not valid.")  # fmt: skip
    out = {}
    for k, v in item.items():
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, int) and abs(v) < 10**20:
            out[k] = str(v)
        elif isinstance(v, str):
            out[k] = v
        else:
            out[k] = "\x00"  # refused by the grammar of whatever field it is (-1100)
    return out


def _error_row(exc: ApiError) -> dict[str, Any]:
    return {"code": exc.binance, "msg": exc.binance_msg or exc.message}


@route("POST", "v1/batchOrders", auth="trade")
async def batch_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Up to 5 orders; each is placed on its own (one refused does not stop the others), results in order."""
    items = _json_list(p, "batchOrders", BATCH_MAX)
    out: list[Any] = []
    for item in items:
        try:
            out.append(await new_order(venue, _as_params(item), who))
        except ApiError as exc:
            out.append(_error_row(exc))
    return out


@route("DELETE", "v1/batchOrders", auth="trade")
async def cancel_batch(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = symbol_of(venue, p)
    assert s is not None
    for name in ("orderIdList", "origClientOrderIdList"):  # ccxt sends them in lower case, which Binance takes
        if not p.get(name) and p.get(name.lower()):
            p = {**p, name: p[name.lower()]}
    if p.get("orderIdList"):
        keys = [("orderId", x) for x in _json_list(p, "orderIdList", CANCEL_BATCH_MAX)]
    else:
        if not p.get("origClientOrderIdList"):
            need(p, "orderIdList")
        keys = [("origClientOrderId", x) for x in _json_list(p, "origClientOrderIdList", CANCEL_BATCH_MAX)]
    out: list[Any] = []
    for name, value in keys:
        try:
            one = {name: str(value) if isinstance(value, int | str) and not isinstance(value, bool) else "\x00"}
            rec = find_order(venue, me(who), one, "orderId", "origClientOrderId")
            if rec["symbol"] != s:
                raise ApiError(400, "unknown_order", "order not on this symbol", -2011, "Unknown order sent.")
            await venue.submit(CancelOrder(me(who), s, order_id=rec["order_id"]))
            out.append(b_order(venue.read(lambda: venue.history.orders[rec["order_id"]])))  # noqa: B023
        except ApiError as exc:
            if exc.code == "unknown_order":
                exc = ApiError(400, "unknown_order", exc.message, -2011, "Unknown order sent.")
            out.append(_error_row(exc))
    return out


__all__ = ["agg_trades", "amend_order", "batch_orders", "cancel_batch", "margin_history", "open_interest",
           "own_kind", "place", "premium_klines"]  # fmt: skip
