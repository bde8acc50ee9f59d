"""Plumbing shared by the Binance spot API (/api/v3) and the isolated-margin API (/sapi): their route tables (the same
dispatch, signing, permissions and parameter grammar as /fapi), spot pairs by their venue spelling ("BTCUSDT" is the
engine's "BTC-USDT"), Binance's margin error codes for engine rejections, and Binance-shaped spot orders and fills.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from isomargin.engine import Command, Event, OrderSide, OrderType, TimeInForce
from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import PlaceSpotOrder, SideEffect
from isomargin.engine.spot_events import Borrowed, SpotOrderUpdated, SpotTrade
from isomargin.server.errors import ApiError, BinanceError, error_responses
from isomargin.server.fapi_base import Api, choice, decimal, integer, need
from isomargin.server.params import parse_client_id, parse_symbol
from isomargin.server.venue import Venue, fmt

ZERO = Decimal(0)
SPOT = Api("api", inverse=False)  # /api/v3/…
SAPI = Api("sapi", inverse=False)  # /sapi/v1/…
TRAN_STRIDE: Final = 10**6  # a tranId: the command's seq × this + the event's index
BTC_PAIR: Final = "BTC-USDT"  # what "…OfBtc" totals are valued with
SIDES: Final = {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}
SPOT_TYPES: Final = {"LIMIT": "LIMIT", "MARKET": "MARKET", "LIMIT_MAKER": "LIMIT_MAKER"}
TIFS: Final = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
SIDE_EFFECTS: Final = {s.value: s for s in SideEffect}
RESP_TYPES: Final = {"ACK": "ACK", "RESULT": "RESULT", "FULL": "FULL"}
OPEN_NAMES: Final = frozenset({"NEW", "PARTIALLY_FILLED"})

router = APIRouter()
SPOT_DOC = ("Binance spot compatible endpoints (the paths, parameters and answers of Binance's /api/v3: exchangeInfo, "
            "depth, trades, tickers, account, order, openOrders, allOrders, myTrades); errors are Binance's "
            "{code, msg}.")  # fmt: skip
SAPI_DOC = ("Binance isolated-margin compatible endpoints (/sapi/v1/margin/…: isolated account, borrow-repay, "
            "transfers, orders, trades, interest history, isolatedMarginData, maxBorrowable, maxTransferable; "
            "/sapi/v1/asset/transfer); errors are Binance's {code, msg}.")  # fmt: skip


def _mount_spot() -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):

        async def endpoint(request: Request, path: str) -> Response:
            return await SPOT.serve(request, "v3", path)

        router.add_api_route("/api/v3/{path:path}", endpoint, methods=[method], tags=["api"],
                             summary=f"Binance spot compatible {method}", description=SPOT_DOC,
                             name=f"api_v3_{method.lower()}", responses=error_responses(BinanceError))  # fmt: skip


_mount_spot()
SAPI.mount(router, "Binance isolated margin compatible", SAPI_DOC)


# ================================================================ pairs, numbers
def unknown_symbol(text: str) -> ApiError:
    return ApiError(400, "unknown_symbol", f"no spot pair {text!r}", -1121, "Invalid symbol.")


def pair_of(venue: Venue, p: dict[str, str], name: str = "symbol") -> str:
    """The engine symbol of the spot pair a parameter names in the venue's spelling (BTCUSDT → BTC-USDT)."""
    s = parse_symbol(need(p, name), name)
    found: str | None = venue.read(lambda: sq.by_exchange_symbol(venue.engine, s))
    if found is None:
        raise unknown_symbol(s)
    return found


def pair_or_none(venue: Venue, p: dict[str, str], name: str = "symbol") -> str | None:
    return pair_of(venue, p, name) if p.get(name) else None


def exchange_symbol(venue: Venue, symbol: str) -> str:
    pair = venue.read(lambda: sq.spot_pair(venue.engine, symbol))
    return str(pair["exchange_symbol"]) if pair is not None else symbol.replace("-", "")


def pair_info(venue: Venue, symbol: str) -> dict[str, Any]:
    pair: dict[str, Any] | None = venue.read(lambda: sq.spot_pair(venue.engine, symbol))
    if pair is None:
        raise unknown_symbol(symbol)
    return pair


def positive(p: dict[str, str], name: str) -> Decimal:
    """A required amount > 0 through the decimal grammar (-1100 outside it, -1102 absent, -3026 zero)."""
    need(p, name)
    value = decimal(p, name)
    assert value is not None
    if value <= 0:
        raise ApiError(400, "bad_amount", f"{name} must be greater than zero", -3026,
                       f"Your input param is invalid: {name} must be greater than zero.")  # fmt: skip
    return value


def asset_of(p: dict[str, str], venue: Venue, symbol: str, name: str = "asset") -> str:
    """The pair's base or quote asset named by `name` (-3027 otherwise)."""
    text = parse_symbol(need(p, name), name)
    pair = pair_info(venue, symbol)
    if text not in (pair["base"], pair["quote"]):
        raise ApiError(400, "asset_not_in_pair", f"{text} is neither {pair['base']} nor {pair['quote']}", -3027,
                       f"Not a valid margin asset: {text} is neither {pair['base']} nor {pair['quote']}.")  # fmt: skip
    return text


def tran_id(events: Iterable[Event], kind: type[Event] | None = None) -> int:
    """The tranId of what a command did: the seq of its command and the index of its first `kind` event."""
    for ev in events:
        if kind is None or isinstance(ev, kind):
            return int(ev.env.seq) * TRAN_STRIDE + int(ev.index)
    return 0


# ================================================================ engine rejections → Binance margin codes
# code -> (Binance code, Binance message; the engine's own text follows it in parentheses)
MARGIN_REJECTS: Final[dict[str, tuple[int, str]]] = {
    "above_max_borrowable": (-3006, "Your borrow amount has exceed maximum borrow amount."),
    "repay_exceeds_debt": (-3015, "Repay amount exceeds borrow amount."),
    "nothing_to_repay": (-3015, "Repay amount exceeds borrow amount."),
    "transfer_out_limited": (-3020, "Transfer out amount exceeds max amount."),
    "asset_not_in_pair": (-3027, "Not a valid margin asset."),
    "no_mark_price": (-3042, "PriceIndex not available for this margin pair."),
    "no_reference_price": (-3042, "PriceIndex not available for this margin pair."),
    "unknown_symbol": (-1121, "Invalid symbol."),
    "not_spot": (-1121, "Invalid symbol."),
    "bad_amount": (-3026, "Your input param is invalid."),
    "not_positive": (-3026, "Your input param is invalid."),
    "bad_number": (-3026, "Your input param is invalid."),
}
BALANCE_MSG: Final = "Balance is not enough"
ORDER_BALANCE_MSG: Final = "Account has insufficient balance for requested action."  # ccxt: InsufficientFunds
ORDER_REJECTS: Final[dict[str, tuple[int, str | None]]] = {
    "insufficient_balance": (-2010, ORDER_BALANCE_MSG),
    "above_max_borrowable": (-3006, "Your borrow amount has exceed maximum borrow amount."),
    "bad_quantity": (-1013, "Filter failure: LOT_SIZE"),
    "bad_price": (-1013, "Filter failure: PRICE_FILTER"),
    "below_min_notional": (-2010, "Filter failure: NOTIONAL"),  # -2010: ccxt's common table says InvalidOrder
    "post_only_would_cross": (-2010, "Order would immediately match and take."),
    "fok_unfillable": (-2010, "Order would immediately match and take."),
    "no_reference_price": (-2010, None),
    "no_mark_price": (-2010, None),
    "unknown_order": (-2011, "Unknown order sent."),
    "unknown_symbol": (-1121, "Invalid symbol."),
    "not_spot": (-1121, "Invalid symbol."),
}


def margin_error(exc: ApiError) -> ApiError:
    """A rejected transfer, borrow or repay in Binance's margin codes (ccxt reads the code; the text says why)."""
    hit = MARGIN_REJECTS.get(exc.code)
    if exc.code == "insufficient_balance":
        hit = (-3041, BALANCE_MSG)
    if hit is None:
        return exc
    code, msg = hit
    return ApiError(400, exc.code, exc.message, code, f"{msg} ({exc.message})")


def order_error(exc: ApiError) -> ApiError:
    """A rejected spot order: -2010 with Binance's exact insufficient-balance text (ccxt's InsufficientFunds), the
    filter failures as -1013 (InvalidOrder), other refusals as -2010 NEW_ORDER_REJECTED with the engine's reason."""
    if exc.status >= 500 or exc.binance in (-1100, -1102, -1121):
        return exc
    hit = ORDER_REJECTS.get(exc.code)
    if hit is None:
        return ApiError(400, exc.code, exc.message, -2010, exc.message)
    code, msg = hit
    if code == -2010 and msg == ORDER_BALANCE_MSG:
        return ApiError(400, exc.code, exc.message, code, msg)  # exact: ccxt matches the whole message
    return ApiError(400, exc.code, exc.message, code, f"{msg} ({exc.message})" if msg else exc.message)


async def submit_margin(venue: Venue, cmd: Command) -> list[Event]:
    try:
        return await venue.submit(cmd)
    except ApiError as exc:
        raise margin_error(exc) from None


# ================================================================ orders
def spot_order_command(venue: Venue, account: int, p: dict[str, str], margin: bool) -> PlaceSpotOrder:
    """A PlaceSpotOrder from Binance's order parameters (symbol, side, type, timeInForce, quantity or quoteOrderQty,
    price, newClientOrderId; with `margin`, isIsolated=TRUE and sideEffectType)."""
    symbol = pair_of(venue, p)
    side = choice(p, "side", SIDES, binance=-1117, msg="Invalid side.")
    kind = choice(p, "type", SPOT_TYPES, binance=-1116, msg="Invalid orderType.")
    if p.get("stopPrice") or p.get("trailingDelta") or p.get("icebergQty"):
        raise ApiError(400, "bad_parameter", "stop, trailing and iceberg spot orders are not offered here", -1106,
                       "Parameter 'stopPrice' sent when not required.")  # fmt: skip
    price = decimal(p, "price")
    if kind == "MARKET":
        if price is not None:
            raise ApiError(400, "bad_parameter", "a MARKET order takes no price", -1106,
                           "Parameter 'price' sent when not required.")  # fmt: skip
        if p.get("timeInForce"):
            raise ApiError(400, "bad_parameter", "a MARKET order takes no timeInForce", -1106,
                           "Parameter 'timeInForce' sent when not required.")  # fmt: skip
        tif = TimeInForce.IOC
    elif kind == "LIMIT_MAKER":
        tif = TimeInForce.GTX
    else:
        tif = choice(p, "timeInForce", TIFS, binance=-1115, msg="Invalid timeInForce.")
    if kind != "MARKET":
        if price is None:
            need(p, "price")
        if price is None or price <= 0:
            raise ApiError(400, "bad_price", "price must be greater than zero", -1013, "Invalid price.")
    qty = decimal(p, "quantity")
    quote = decimal(p, "quoteOrderQty")
    if qty is not None and quote is not None:
        raise ApiError(400, "bad_parameter", "send quantity or quoteOrderQty, not both", -1106,
                       "Parameter 'quoteOrderQty' sent when not required.")  # fmt: skip
    if quote is not None:
        if kind != "MARKET":
            raise ApiError(400, "bad_parameter", "quoteOrderQty is for MARKET orders", -1106,
                           "Parameter 'quoteOrderQty' sent when not required.")  # fmt: skip
        qty = qty_for_quote(venue, symbol, side, quote)
    if qty is None:
        need(p, "quantity")
    assert qty is not None
    if qty <= 0:
        raise ApiError(400, "bad_quantity", "quantity must be greater than zero", -1013, "Invalid quantity.")
    coid = parse_client_id(p["newClientOrderId"], "newClientOrderId") if p.get("newClientOrderId") else None
    effect = SideEffect.NO_SIDE_EFFECT
    if margin:
        isolated = choice(p, "isIsolated", {"TRUE": True, "FALSE": False}, False)
        if not isolated:
            raise ApiError(400, "cross_margin_unsupported", "only isolated margin is offered: send isIsolated=TRUE",
                           -3003, "Margin account does not exist: only isolated margin (isIsolated=TRUE) is "
                           "offered here.")  # fmt: skip
        effect = choice(p, "sideEffectType", SIDE_EFFECTS, SideEffect.NO_SIDE_EFFECT)
    otype = OrderType.MARKET if kind == "MARKET" else OrderType.LIMIT
    return PlaceSpotOrder(account, symbol, side, otype, qty, None if kind == "MARKET" else price, tif, margin, effect,
                          coid)  # fmt: skip


def qty_for_quote(venue: Venue, symbol: str, side: OrderSide, quote: Decimal) -> Decimal:
    """The base quantity a MARKET order of `quote` (quoteOrderQty) takes from the book now: level by level,
    rounded down to the step (0 on an empty book, which the engine then refuses)."""
    if quote <= 0:
        raise ApiError(400, "bad_quantity", "quoteOrderQty must be greater than zero", -1013, "Invalid quantity.")
    pair = pair_info(venue, symbol)
    depth = venue.read(lambda: sq.spot_depth(venue.engine, symbol, 1000)) or {"bids": [], "asks": []}
    levels = depth["asks"] if side is OrderSide.BUY else depth["bids"]
    left, qty = quote, ZERO
    for price, size in levels:
        take = min(size, left / price)
        qty += take
        left -= take * price
        if left <= 0:
            break
    step: Decimal = pair["step_size"]
    return (qty / step).to_integral_value(ROUND_DOWN) * step


def _num(value: Any) -> Decimal:
    return ZERO if value is None or value == "" else Decimal(str(value))


def type_name(rec: dict[str, Any]) -> str:
    return "LIMIT_MAKER" if rec.get("tif") == "GTX" else str(rec.get("type"))


def b_spot_order(venue: Venue, rec: dict[str, Any], margin: bool = False) -> dict[str, Any]:
    """A spot order record (SpotHistory's plain spelling) as Binance's GET order shows it."""
    kind = type_name(rec)
    out: dict[str, Any] = {
        "symbol": exchange_symbol(venue, rec["symbol"]), "orderId": rec["order_id"], "orderListId": -1,
        "clientOrderId": rec.get("client_order_id") or f"im{rec['order_id']}", "price": fmt(_num(rec.get("price"))),
        "origQty": fmt(_num(rec["qty"])), "executedQty": fmt(_num(rec["filled"])),
        "cummulativeQuoteQty": fmt(_num(rec["quote_filled"])), "status": rec["status"],
        "timeInForce": "GTC" if kind == "LIMIT_MAKER" else rec.get("tif", "GTC"), "type": kind, "side": rec["side"],
        "stopPrice": "0", "icebergQty": "0", "time": rec["created"], "updateTime": rec["updated"],
        "isWorking": rec["status"] in OPEN_NAMES, "workingTime": rec["created"], "origQuoteOrderQty": "0",
        "selfTradePreventionMode": "NONE",
    }  # fmt: skip
    if margin:
        out["isIsolated"] = bool(rec.get("isolated"))
    return out


def order_of(venue: Venue, account: int, events: list[Event]) -> dict[str, Any]:
    """The record of the order a PlaceSpotOrder made (its last SpotOrderUpdated), from the history or the events."""
    last = None
    for ev in events:
        if isinstance(ev, SpotOrderUpdated) and ev.account == account:
            last = ev
    if last is None:
        raise ApiError(500, "order_lost", "the order was accepted but no order event came back", -1000)
    rec: dict[str, Any] | None = venue.read(lambda: venue.spot_history.orders.get(last.order_id))
    if rec is None:  # beyond the history's bound (cannot happen for a fresh order); the event has the same fields
        rec = {"order_id": last.order_id, "account": last.account, "symbol": last.symbol, "side": last.side.name,
               "type": last.type.value, "tif": last.tif.value, "price": last.price, "qty": last.qty,
               "filled": last.filled, "quote_filled": last.quote_filled, "status": last.status.value,
               "isolated": last.isolated, "client_order_id": last.client_order_id, "created": last.env.ts or 0,
               "updated": last.env.ts or 0}  # fmt: skip
    return dict(rec)


def placed_response(venue: Venue, rec: dict[str, Any], events: list[Event], resp_type: str,
                    margin: bool) -> dict[str, Any]:  # fmt: skip
    """POST order's answer: ACK (ids), RESULT (the order) or FULL (and its fills from this command)."""
    sym = exchange_symbol(venue, rec["symbol"])
    coid = rec.get("client_order_id") or f"im{rec['order_id']}"
    base: dict[str, Any] = {"symbol": sym, "orderId": rec["order_id"], "orderListId": -1, "clientOrderId": coid,
                            "transactTime": rec["updated"]}  # fmt: skip
    if margin:
        base["isIsolated"] = bool(rec.get("isolated"))
    if resp_type == "ACK":
        return base
    view = b_spot_order(venue, rec, margin)
    for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking", "origQuoteOrderQty"):
        view.pop(key, None)
    out = {**base, **view}
    for ev in events:
        if isinstance(ev, Borrowed) and margin:
            out["marginBuyBorrowAmount"] = fmt(ev.amount)
            out["marginBuyBorrowAsset"] = ev.asset
    if resp_type == "FULL":
        pair = pair_info(venue, rec["symbol"])
        fills = []
        for ev in events:
            if not isinstance(ev, SpotTrade):
                continue
            if ev.buyer_order_id == rec["order_id"]:
                fills.append({"price": fmt(ev.price), "qty": fmt(ev.qty), "commission": fmt(ev.buyer_fee),
                              "commissionAsset": pair["base"], "tradeId": ev.trade_id})  # fmt: skip
            elif ev.seller_order_id == rec["order_id"]:
                fills.append({"price": fmt(ev.price), "qty": fmt(ev.qty), "commission": fmt(ev.seller_fee),
                              "commissionAsset": pair["quote"], "tradeId": ev.trade_id})  # fmt: skip
        out["fills"] = fills
    return out


def find_spot_order(venue: Venue, account: int, p: dict[str, str], symbol: str,
                    coid_name: str = "origClientOrderId") -> dict[str, Any]:  # fmt: skip
    """The account's spot order on `symbol` named by orderId or a client id (else -2013 Order does not exist)."""
    oid = integer(p, "orderId")
    coid = parse_client_id(p[coid_name], coid_name) if p.get(coid_name) else None
    if oid is None and coid is None:
        raise ApiError(400, "missing_parameter", f"send orderId or {coid_name}", -1102,
                       f"Param 'orderId' or '{coid_name}' must be sent, but both were empty/null!")  # fmt: skip

    def look() -> dict[str, Any] | None:
        orders = venue.spot_history.orders
        if oid is not None:
            return orders.get(oid)
        for rec in reversed(orders.values()):
            if rec["account"] == account and rec.get("client_order_id") == coid:
                return rec
        return None

    rec: dict[str, Any] | None = venue.read(look)
    if rec is None or rec["account"] != account or rec["symbol"] != symbol:
        raise ApiError(400, "unknown_order", "order does not exist for this account", -2013, "Order does not exist.")
    return dict(rec)


def orders_of(venue: Venue, account: int, symbol: str | None, isolated: bool, open_only: bool) -> list[dict[str, Any]]:
    def look() -> list[dict[str, Any]]:
        return [dict(r) for r in venue.spot_history.orders.values()
                if r["account"] == account and (symbol is None or r["symbol"] == symbol)
                and bool(r.get("isolated")) is isolated and (not open_only or r["status"] in OPEN_NAMES)]  # fmt: skip

    rows: list[dict[str, Any]] = venue.read(look)
    return rows


def window(rows: list[dict[str, Any]], p: dict[str, str], id_key: str, id_param: str, time_key: str = "time",
           default_limit: int = 500, max_limit: int = 1000) -> list[dict[str, Any]]:  # fmt: skip
    """Binance's paging: from an id (fromId / orderId) or a time window, at most `limit` rows, oldest first."""
    start, end = integer(p, "startTime"), integer(p, "endTime")
    from_id = integer(p, id_param)
    limit = integer(p, "limit", default_limit, 1, max_limit) or default_limit
    out = [r for r in rows if (from_id is None or r[id_key] >= from_id)
           and (start is None or r[time_key] >= start) and (end is None or r[time_key] <= end)]  # fmt: skip
    out.sort(key=lambda r: r[id_key])
    return out[:limit] if from_id is not None or start is not None else out[-limit:]


def fill_rows(venue: Venue, account: int, symbol: str, isolated: bool) -> list[dict[str, Any]]:
    """The account's fills on `symbol`, of wallet or of isolated margin orders (by the order they belong to)."""

    def look() -> list[dict[str, Any]]:
        h = venue.spot_history
        out = []
        for r in h.fills.get(account, ()):
            if r["symbol"] != symbol:
                continue
            rec = h.orders.get(r["order_id"])
            if bool(rec and rec.get("isolated")) is isolated:
                out.append(dict(r))
        return out

    rows: list[dict[str, Any]] = venue.read(look)
    return rows


def b_fill(venue: Venue, r: dict[str, Any], margin: bool) -> dict[str, Any]:
    pair = pair_info(venue, r["symbol"])
    out: dict[str, Any] = {
        "symbol": pair["exchange_symbol"], "id": r["trade_id"], "orderId": r["order_id"], "orderListId": -1,
        "price": fmt(_num(r["price"])), "qty": fmt(_num(r["qty"])), "quoteQty": fmt(_num(r["quote_qty"])),
        "commission": fmt(_num(r["fee"])), "commissionAsset": pair["base"] if r["fee_in"] == "base" else pair["quote"],
        "time": r["time"], "isBuyer": r["side"] == "BUY", "isMaker": bool(r["maker"]), "isBestMatch": True,
    }  # fmt: skip
    if margin:
        out["isIsolated"] = True
    return out


def public_trades(venue: Venue, symbol: str) -> list[dict[str, Any]]:
    """A pair's fills, each once (by trade id), oldest first, from the accounts' fill rows."""

    def look() -> list[dict[str, Any]]:
        seen: dict[int, dict[str, Any]] = {}
        for rows in venue.spot_history.fills.values():
            for r in rows:
                if r["symbol"] == symbol and r["trade_id"] not in seen:
                    taker_buy = (r["side"] == "BUY") != bool(r["maker"])
                    seen[r["trade_id"]] = {"id": r["trade_id"], "price": _num(r["price"]), "qty": _num(r["qty"]),
                                           "quote": _num(r["quote_qty"]), "time": r["time"],
                                           "buyer_maker": not taker_buy}  # fmt: skip
        return [seen[k] for k in sorted(seen)]

    rows: list[dict[str, Any]] = venue.read(look)
    return rows
