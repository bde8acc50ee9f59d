"""Binance European options compatible API under /eapi/v1, enough for unmodified ccxt `binance` with option markets
loaded: exchangeInfo (the binance BTCUSDT family's listed options), depth, mark and index, orders (LIMIT; POST, GET,
DELETE, openOrders, historyOrders), userTrades, position and account. Only USDT-settled (binance family) options
are served here; OKX's coin-margined ones are on the native API. Errors are Binance's {code, msg}.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from fastapi import APIRouter

from isomargin.engine import OrderSide, TimeInForce
from isomargin.engine import options_queries as oq
from isomargin.engine import queries as q
from isomargin.engine.commands import CancelOptionOrder, PlaceOptionOrder
from isomargin.engine.events import Event
from isomargin.engine.options_events import OptionOrderUpdated
from isomargin.server.auth import Principal
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import Api, choice, decimal, flag, integer, me, need
from isomargin.server.params import parse_client_id
from isomargin.server.spot_base import ORDER_BALANCE_MSG, order_error
from isomargin.server.venue import Venue, fmt, now_ms

EAPI = Api("eapi", inverse=False)
route = EAPI.route
router = APIRouter()
EAPI_DOC = ("Binance European options compatible endpoints (/eapi/v1: exchangeInfo, depth, mark, index, order, "
            "openOrders, historyOrders, userTrades, position, account) for the USDT-settled options listed here; "
            "errors are Binance's {code, msg}.")  # fmt: skip
EAPI.mount(router, "Binance options compatible", EAPI_DOC)

VENUE: Final = "binance"  # the option family data whose options /eapi serves
SIDES: Final = {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}
TIFS: Final = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
STATUS: Final = {"NEW": "ACCEPTED", "CANCELED": "CANCELLED"}  # Binance options' spellings; the rest are the same
MAX_PRICE: Final = Decimal("1000000")  # PRICE_FILTER maxPrice shown (the engine's own bound is far above)
MAX_QTY: Final = Decimal("10000")
ZERO = Decimal(0)


def _scale(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


def served(venue: Venue) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = venue.read(lambda: oq.options(venue.engine))
    return [r for r in rows if r["venue"] == VENUE]


def option_of(venue: Venue, p: dict[str, str], name: str = "symbol") -> dict[str, Any]:
    """The listed /eapi option a parameter names (Binance's id is the engine's symbol: BTC-261225-100000-C)."""
    text = need(p, name).upper()
    view: dict[str, Any] | None = venue.read(lambda: oq.option(venue.engine, text)) if len(text) <= 48 else None
    if view is None or view["venue"] != VENUE:
        raise ApiError(400, "unknown_symbol", f"no option {text[:48]!r} is listed on /eapi", -1121, "Invalid symbol.")
    return view


def _symbol_row(r: dict[str, Any]) -> dict[str, Any]:
    tick, step = r["tick_size"], r["step_size"]
    return {
        "symbol": r["symbol"], "side": "CALL" if r["kind"] == "call" else "PUT", "strikePrice": fmt(r["strike"]),
        "underlying": r["family"], "unit": fmt(r["multiplier"]), "expiryDate": r["expiry"], "quoteAsset": r["settle"],
        "makerFeeRate": fmt(r["maker_fee"]), "takerFeeRate": fmt(r["taker_fee"]), "minQty": fmt(step),
        "maxQty": fmt(MAX_QTY), "priceScale": _scale(tick), "quantityScale": _scale(step), "status": "TRADING",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt(tick), "maxPrice": fmt(MAX_PRICE), "tickSize": fmt(tick)},
            {"filterType": "LOT_SIZE", "minQty": fmt(step), "maxQty": fmt(MAX_QTY), "stepSize": fmt(step)},
        ],
    }  # fmt: skip


# ================================================================ public
@route("GET", "v1/ping")
async def ping(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {}


@route("GET", "v1/time")
async def time_(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return {"serverTime": now_ms()}


@route("GET", "v1/exchangeInfo")
async def exchange_info(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rows = served(venue)
    families = {r["family"]: r for r in rows}
    return {
        "timezone": "UTC", "serverTime": now_ms(),
        "optionContracts": [{"baseAsset": r["underlying"], "quoteAsset": r["settle"], "underlying": f,
                             "settleAsset": r["settle"]} for f, r in families.items()],
        "optionAssets": [{"name": a} for a in sorted({r["settle"] for r in rows})],
        "optionSymbols": [_symbol_row(r) for r in rows],
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                        "limit": venue.config.rate_limit or 2400}],
    }  # fmt: skip


@route("GET", "v1/depth")
async def depth(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = option_of(venue, p)["symbol"]
    limit = integer(p, "limit", 100, 1, 1000) or 100
    book = venue.read(lambda: oq.option_depth(venue.engine, s, limit)) or {"bids": [], "asks": []}
    return {"T": now_ms(), "u": venue.core.seq, "bids": [[fmt(a), fmt(b)] for a, b in book["bids"]],
            "asks": [[fmt(a), fmt(b)] for a, b in book["asks"]]}  # fmt: skip


@route("GET", "v1/index")
async def index(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    underlying = need(p, "underlying").upper()
    price = venue.read(lambda: oq.index_price(venue.engine, underlying)) if len(underlying) <= 20 else None
    if price is None:
        raise ApiError(400, "unknown_symbol", f"no index for {underlying[:20]!r}", -1121, "Invalid symbol.")
    return {"time": now_ms(), "indexPrice": fmt(price)}


@route("GET", "v1/mark")
async def mark(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rows = [option_of(venue, p)] if p.get("symbol") else served(venue)
    out = []
    for r in rows:
        got = venue.option_history.iv.get(r["symbol"])
        iv = "0" if got is None else fmt(got[0])
        out.append({"symbol": r["symbol"], "markPrice": fmt(r["mark_price"]), "bidIV": iv, "askIV": iv, "markIV": iv,
                    "highPriceLimit": fmt(MAX_PRICE), "lowPriceLimit": fmt(r["tick_size"]),
                    "riskFreeInterest": "0"})  # fmt: skip
    return out


# ================================================================ orders
def _fills(venue: Venue, account: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = venue.read(lambda: [dict(r) for r in venue.option_history.fills.get(account, ())])
    return rows


def b_order(venue: Venue, rec: dict[str, Any], info: dict[str, Any] | None = None) -> dict[str, Any]:
    """An option order record (OptionHistory's plain spelling) as Binance's options API shows it."""
    mine = [f for f in _fills(venue, rec["account"]) if f["order_id"] == rec["order_id"]]
    qty = sum((Decimal(f["qty"]) for f in mine), ZERO)
    avg = sum((Decimal(f["price"]) * Decimal(f["qty"]) for f in mine), ZERO) / qty if qty else ZERO
    fee = sum((Decimal(f["fee"]) for f in mine), ZERO)
    view = info or venue.read(lambda: oq.option(venue.engine, rec["symbol"])) or {}
    tick, step = view.get("tick_size", Decimal("0.01")), view.get("step_size", Decimal("0.01"))
    return {
        "orderId": rec["order_id"], "symbol": rec["symbol"], "price": fmt(Decimal(rec["price"])),
        "quantity": fmt(Decimal(rec["qty"])), "executedQty": fmt(Decimal(rec["filled"])), "fee": fmt(fee),
        "side": rec["side"], "type": "LIMIT", "timeInForce": "GTC" if rec["tif"] == "GTX" else rec["tif"],
        "reduceOnly": bool(rec["reduce_only"]), "postOnly": rec["tif"] == "GTX", "createTime": rec["created"],
        "updateTime": rec["updated"], "status": STATUS.get(rec["status"], rec["status"]), "avgPrice": fmt(avg),
        "source": "API", "clientOrderId": rec.get("client_order_id") or f"im{rec['order_id']}",
        "priceScale": _scale(tick), "quantityScale": _scale(step), "optionSide": "CALL" if view.get("kind") == "call"
        else "PUT", "quoteAsset": view.get("settle", "USDT"), "mmp": False,
    }  # fmt: skip


def _placed(venue: Venue, account: int, events: list[Event]) -> dict[str, Any]:
    for ev in events:
        if isinstance(ev, OptionOrderUpdated) and ev.account == account:
            rec = venue.read(lambda: venue.option_history.orders.get(ev.order_id))  # noqa: B023 (read at once)
            if rec is not None:
                return dict(rec)
    raise ApiError(500, "order_lost", "the order was accepted but no order event came back", -1000)


@route("POST", "v1/order", auth="trade")
async def new_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    info = option_of(venue, p)
    side = choice(p, "side", SIDES, binance=-1117, msg="Invalid side.")
    choice(p, "type", {"LIMIT": "LIMIT"}, "LIMIT", binance=-1116, msg="Invalid orderType: options take LIMIT only.")
    tif = choice(p, "timeInForce", TIFS, TimeInForce.GTC, binance=-1115, msg="Invalid timeInForce.")
    if flag(p, "postOnly", False):
        tif = TimeInForce.GTX
    need(p, "quantity")
    need(p, "price")
    qty, price = decimal(p, "quantity"), decimal(p, "price")
    assert qty is not None and price is not None
    if qty <= 0:
        raise ApiError(400, "bad_quantity", "quantity must be greater than zero", -1013, "Invalid quantity.")
    if price <= 0:
        raise ApiError(400, "bad_price", "price must be greater than zero", -1013, "Invalid price.")
    coid = parse_client_id(p["clientOrderId"], "clientOrderId") if p.get("clientOrderId") else None
    cmd = PlaceOptionOrder(me(who), info["symbol"], side, qty, price, tif=tif,
                           reduce_only=flag(p, "reduceOnly", False), client_order_id=coid)  # fmt: skip
    try:
        events = await venue.submit(cmd)
    except ApiError as exc:
        if exc.code in ("insufficient_margin", "insufficient_balance"):  # exact text: ccxt's InsufficientFunds
            raise ApiError(400, exc.code, exc.message, -2010, ORDER_BALANCE_MSG) from None
        raise order_error(exc) from None
    return b_order(venue, _placed(venue, me(who), events), info)


def _find(venue: Venue, account: int, p: dict[str, str]) -> dict[str, Any]:
    info = option_of(venue, p)
    oid = integer(p, "orderId")
    coid = parse_client_id(p["clientOrderId"], "clientOrderId") if p.get("clientOrderId") else None
    if oid is None and coid is None:
        raise ApiError(400, "missing_parameter", "send orderId or clientOrderId", -1102,
                       "Param 'orderId' or 'clientOrderId' must be sent, but both were empty/null!")  # fmt: skip

    def look() -> dict[str, Any] | None:
        orders = venue.option_history.orders
        if oid is not None:
            return orders.get(oid)
        for rec in reversed(orders.values()):
            if rec["account"] == account and rec.get("client_order_id") == coid:
                return rec
        return None

    rec: dict[str, Any] | None = venue.read(look)
    if rec is None or rec["account"] != account or rec["symbol"] != info["symbol"]:
        raise ApiError(400, "unknown_order", "order does not exist for this account", -2013, "Order does not exist.")
    return dict(rec)


@route("GET", "v1/order", auth="read")
async def get_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return b_order(venue, _find(venue, me(who), p))


@route("DELETE", "v1/order", auth="trade")
async def cancel_order(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    rec = _find(venue, me(who), p)
    if not rec["open"]:
        raise ApiError(400, "unknown_order", f"order {rec['order_id']} is {rec['status']}, not open", -2011,
                       "Unknown order sent.")  # fmt: skip
    await venue.submit(CancelOptionOrder(me(who), rec["symbol"], order_id=rec["order_id"]))
    return b_order(venue, _find(venue, me(who), {**p, "orderId": str(rec["order_id"])}))


def _orders(venue: Venue, account: int, p: dict[str, str], open_only: bool) -> list[dict[str, Any]]:
    s = option_of(venue, p)["symbol"] if p.get("symbol") else None
    rows: list[dict[str, Any]] = venue.read(lambda: [
        dict(r) for r in venue.option_history.orders.values()
        if r["account"] == account and s in (None, r["symbol"]) and (r["open"] or not open_only)])  # fmt: skip
    limit = integer(p, "limit", 100, 1, 1000) or 100
    return [b_order(venue, r) for r in rows[-limit:]]


@route("GET", "v1/openOrders", auth="read")
async def open_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return _orders(venue, me(who), p, True)


@route("GET", "v1/historyOrders", auth="read")
async def history_orders(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    option_of(venue, p)  # Binance requires the symbol here
    return _orders(venue, me(who), p, False)


@route("GET", "v1/userTrades", auth="read")
async def user_trades(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = option_of(venue, p)["symbol"] if p.get("symbol") else None
    limit = integer(p, "limit", 100, 1, 1000) or 100
    out = []
    for f in _fills(venue, me(who)):
        if s not in (None, f["symbol"]):
            continue
        price, qty = Decimal(f["price"]), Decimal(f["qty"])
        out.append({"id": f["trade_id"], "tradeId": f["trade_id"], "orderId": f["order_id"], "symbol": f["symbol"],
                    "price": fmt(price), "quantity": fmt(qty), "fee": fmt(Decimal(f["fee"])), "realizedProfit": "0",
                    "side": f["side"], "type": "LIMIT", "liquidity": "MAKER" if f["maker"] else "TAKER",
                    "time": f["time"], "quoteAsset": "USDT"})  # fmt: skip
    return out[-limit:]


# ================================================================ positions, account
def _positions(venue: Venue, account: int) -> list[dict[str, Any]]:
    def look() -> list[dict[str, Any]]:
        out = []
        for pos in oq.option_positions(venue.engine, account):
            info = oq.option(venue.engine, pos["symbol"])
            if info is not None and info["venue"] == VENUE:
                out.append({**pos, "info": info})
        return out

    rows: list[dict[str, Any]] = venue.read(look)
    return rows


def _position_row(venue: Venue, pos: dict[str, Any]) -> dict[str, Any]:
    info = pos["info"]
    qty = abs(pos["contracts"])
    return {
        "entryPrice": fmt(pos["entry_price"]), "symbol": pos["symbol"], "side": pos["side"].upper(),
        "quantity": fmt(qty), "reducibleQty": fmt(qty), "markValue": fmt(pos.get("value")),
        "ror": fmt(pos.get("pnl_ratio")), "unrealizedPNL": fmt(pos.get("pnl")), "markPrice": fmt(pos["mark_price"]),
        "strikePrice": fmt(info["strike"]), "positionCost": fmt(pos["premium"]), "expiryDate": info["expiry"],
        "priceScale": _scale(info["tick_size"]), "quantityScale": _scale(info["step_size"]),
        "optionSide": "CALL" if info["kind"] == "call" else "PUT", "quoteAsset": info["settle"],
        "time": now_ms(),
    }  # fmt: skip


@route("GET", "v1/position", auth="read")
async def position(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    s = option_of(venue, p)["symbol"] if p.get("symbol") else None
    return [_position_row(venue, pos) for pos in _positions(venue, me(who)) if s in (None, pos["symbol"])]


@route("GET", "v1/account", "v1/marginAccount", auth="read")
async def account(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """USDT: `available` the wallet's free USDT, `locked` what open option orders hold, `marginBalance` those plus
    the shorts' pools, `equity` that plus the longs' value less the shorts' value at the mark."""
    acct = me(who)
    bal = venue.read(lambda: q.balances(venue.engine, acct, "USDT"))
    orders = venue.read(lambda: oq.option_orders(venue.engine, acct))
    served_symbols = {r["symbol"] for r in served(venue)}
    locked = sum((o["margin"] for o in orders if o["symbol"] in served_symbols), ZERO)
    positions = _positions(venue, acct)
    pools = sum((pos.get("margin", ZERO) for pos in positions if pos["side"] == "short"), ZERO)
    value = sum(((pos.get("value") or ZERO) * (1 if pos["side"] == "long" else -1) for pos in positions), ZERO)
    pnl = sum((pos.get("pnl") or ZERO for pos in positions), ZERO)
    margin = bal["available"] + locked + pools
    return {
        "asset": [{"asset": "USDT", "marginBalance": fmt(margin), "equity": fmt(margin + value),
                   "available": fmt(bal["available"]), "locked": fmt(locked), "unrealizedPNL": fmt(pnl)}],
        "greek": [], "time": now_ms(), "riskLevel": "NORMAL",
    }  # fmt: skip
