"""Plumbing of the Binance USDⓈ-M compatible API: the route table, the one dispatch route under
/fapi/{version}/…, parameter helpers and Binance-shaped order views. The endpoints live in fapi_market
(public data) and fapi_account (account, positions, settings, orders, trades, income).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from isomargin.engine import OrderStatus, OrderType
from isomargin.engine import queries as q
from isomargin.server.auth import Principal, api_key_of, authenticate, request_params
from isomargin.server.errors import ApiError, BinanceError, error_responses
from isomargin.server.params import (
    clip,
    parse_bool,
    parse_client_id,
    parse_decimal,
    parse_enum,
    parse_int,
    parse_symbol,
)
from isomargin.server.venue import OPEN_STATUSES, Venue, fmt

router = APIRouter()
Handler = Callable[[Venue, dict[str, str], Principal | None], Awaitable[Any]]
ZERO = Decimal(0)
T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Awaitable[Any]])  # a handler; extra keyword parameters keep their type
ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]


@dataclass(frozen=True)
class Route:
    fn: Handler
    auth: str | None = None  # None: public; "key": API key only; "read"/"trade": signed with that permission
    # The answer holds only str, int, bool, None, str-valued enums, lists and dicts with str keys, for which
    # orjson writes the bytes the stdlib's compact JSON would (without floats, whose spelling differs): encoded
    # with it, once, instead of through JSONResponse.
    plain_json: bool = False


class Api:
    """One Binance-compatible API: its path prefix (fapi, dapi), the kind of market it serves (linear or
    inverse) and its route table, served by one dispatch route per method."""

    def __init__(self, prefix: str, inverse: bool) -> None:
        self.prefix = prefix
        self.inverse = inverse
        self.routes: dict[tuple[str, str], Route] = {}

    def route(self, method: str, *paths: str, auth: str | None = None,
              plain_json: bool = False) -> Callable[[H], H]:  # fmt: skip
        def deco(fn: H) -> H:
            for p in paths:
                self.routes[(method, p)] = Route(fn, auth, plain_json)
            return fn

        return deco

    async def serve(self, request: Request, version: str, path: str) -> Response:
        venue: Venue = request.app.state.venue
        r = self.routes.get((request.method, f"{version}/{path}"))
        if r is None:
            shown = clip(f"/{self.prefix}/{version}/{path}")  # the path is the client's text: quoted short
            raise ApiError(404, "not_found", f"{request.method} {shown} is not served here", -5000,
                           f"Path {shown}, Method {request.method} is invalid")  # fmt: skip
        who = None
        if r.auth == "key":
            key = api_key_of(request, venue.keys)
            who = Principal(key.account, key.key, key.permissions)
        elif r.auth is not None:
            who = await authenticate(request, venue.keys, r.auth, venue.config.recv_window_max)
        _, _, params = await request_params(request)  # refuses a parameter sent twice (-1101); parsed once
        result = await r.fn(venue, params, who)
        if r.plain_json:
            return Response(orjson.dumps(result), media_type="application/json")
        return JSONResponse(result)

    def mount(self, router: APIRouter, title: str, doc: str) -> None:
        for method in ("GET", "POST", "PUT", "DELETE"):  # one documented operation per method (one id each)
            router.add_api_route(f"/{self.prefix}/{{version}}/{{path:path}}", self.dispatch, methods=[method],
                                 tags=[self.prefix], summary=f"{title} {method}", description=doc,
                                 name=f"{self.prefix}_{method.lower()}",
                                 responses=error_responses(BinanceError))  # fmt: skip

    async def dispatch(self, request: Request, version: str, path: str) -> Response:
        return await self.serve(request, version, path)


FAPI = Api("fapi", inverse=False)
ROUTES = FAPI.routes
route = FAPI.route

FAPI_DOC = ("Binance USDⓈ-M compatible endpoints (the paths, parameters and answers of Binance's futures API, e.g. "
            "v1/order, v2/account); errors are Binance's {code, msg}.")  # fmt: skip


async def dispatch(request: Request, version: str, path: str) -> Response:
    return await FAPI.serve(request, version, path)


FAPI.mount(router, "Binance USDⓈ-M compatible", FAPI_DOC)


# ================================================================ helpers
def need(p: dict[str, str], name: str) -> str:
    v = p.get(name)
    if v is None or v == "":
        raise ApiError(400, "missing_parameter", f"parameter '{name}' is required", -1102,
                       f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")  # fmt: skip
    return v


def markets(venue: Venue, inverse: bool = False) -> list[str]:
    """The listed symbols of one kind: linear (/fapi) or coin-margined (/dapi); read under the state lock."""
    e = venue.engine
    return [s for s in q.symbols(e) if (i := q.instrument(e, s)) is not None and i.inverse == inverse]


def symbol_of(venue: Venue, p: dict[str, str], required: bool = True, inverse: bool = False) -> str | None:
    """The `symbol` parameter, a market of the API's kind (another kind's symbol is not listed there)."""
    s = p.get("symbol")
    if not s:
        if required:
            need(p, "symbol")
        return None
    s = parse_symbol(s)
    inst = venue.read(lambda: q.instrument(venue.engine, s))
    if inst is None or inst.inverse != inverse:
        raise ApiError(400, "unknown_symbol", f"no market {s!r}", -1121, "Invalid symbol.")
    return s


def own_kind(venue: Venue, p: dict[str, str], inverse: bool = False) -> None:
    """Refuse an order for a listed market of the other kind (-1121); anything else is left to the order
    grammar and the engine, as before."""
    raw = p.get("symbol")
    if not raw:
        return
    try:
        s = parse_symbol(raw)
    except ApiError:
        return
    inst = venue.read(lambda: q.instrument(venue.engine, s))
    if inst is not None and inst.inverse != inverse:
        raise ApiError(400, "unknown_symbol", f"no market {s!r}", -1121, "Invalid symbol.")


def integer(p: dict[str, str], name: str, default: int | None = None, lo: int = 0, hi: int = 10**15) -> int | None:
    """An integer parameter through the edge grammar (ASCII digits, lo..hi); empty or absent gives `default`."""
    v = p.get(name)
    if v is None or v == "":
        return default
    return parse_int(v, name, lo=lo, hi=hi)


def decimal(p: dict[str, str], name: str, *, signed: bool = False) -> Decimal | None:
    """A decimal parameter through the edge grammar; empty or absent gives None."""
    v = p.get(name)
    return None if v is None or v == "" else parse_decimal(v, name, signed=signed)


def flag(p: dict[str, str], name: str, default: bool | None = None) -> bool:
    """true or false (any ASCII case); absent gives `default`, or -1102 when there is none."""
    v = p.get(name)
    if v is None or v == "":
        if default is None:
            need(p, name)
        return bool(default)
    return parse_bool(v, name)


def choice(p: dict[str, str], name: str, table: Mapping[str, T], default: T | None = None, binance: int = -1130,
           msg: str | None = None) -> T:  # fmt: skip
    """One of `table`'s keys (any ASCII case); absent gives `default`, or -1102 when there is none."""
    v = p.get(name)
    if v is None or v == "":
        if default is None:
            need(p, name)
        assert default is not None
        return default
    return parse_enum(v, table, name, binance=binance, binance_msg=msg)


def me(who: Principal | None) -> int:
    assert who is not None
    return who.account


def ok(msg: str = "success") -> dict[str, Any]:
    return {"code": 200, "msg": msg}


def status_of(rec: dict[str, Any]) -> OrderStatus:
    s: OrderStatus = rec["status"]
    return OrderStatus.NEW if s is OrderStatus.TRIGGERED else s


def b_order(rec: dict[str, Any]) -> dict[str, Any]:
    avg = rec.get("avg_price") or ZERO
    return {
        "orderId": rec["order_id"], "symbol": rec["symbol"], "status": status_of(rec),
        "clientOrderId": rec.get("client_order_id") or "", "price": fmt(rec.get("price") or ZERO),
        "avgPrice": fmt(avg), "origQty": fmt(rec["qty"]), "executedQty": fmt(rec["filled"]),
        "cumQty": fmt(rec["filled"]), "cumQuote": fmt(rec["filled"] * avg), "timeInForce": rec.get("tif", "GTC"),
        "type": rec["type"], "reduceOnly": rec["reduce_only"], "closePosition": rec.get("close_position", False),
        "side": rec["side"].name, "positionSide": rec["position_side"], "stopPrice": fmt(rec.get("stop_price") or ZERO),
        "workingType": rec.get("working_type", "CONTRACT_PRICE"), "priceProtect": False,
        "origType": rec.get("orig_type", rec["type"]), "priceMatch": "NONE", "selfTradePreventionMode": "NONE",
        "goodTillDate": 0, "time": rec["created"], "updateTime": rec["updated"],
        **({"activatePrice": fmt(rec["activation_price"])} if rec.get("activation_price") else {}),
        **({"priceRate": fmt(rec["callback_rate"])} if rec.get("callback_rate") else {}),
    }  # fmt: skip


_ALGO_STATUS = {OrderStatus.NEW: "NEW", OrderStatus.TRIGGERED: "TRIGGERED", OrderStatus.PARTIALLY_FILLED: "TRIGGERED",
                OrderStatus.FILLED: "FINISHED", OrderStatus.CANCELED: "CANCELED",
                OrderStatus.EXPIRED: "EXPIRED"}  # fmt: skip


def b_algo(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "algoId": rec["order_id"], "clientAlgoId": rec.get("client_order_id") or "", "algoType": "CONDITIONAL",
        "orderType": rec["type"], "symbol": rec["symbol"], "side": rec["side"].name,
        "positionSide": rec["position_side"],
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


def find_order(venue: Venue, account: int, p: dict[str, str], id_name: str, coid_name: str,
               inverse: bool = False) -> dict[str, Any]:  # fmt: skip
    """The account's order named by id or client id, on a market of the API's kind (else -2013)."""
    oid = integer(p, id_name)
    coid = parse_client_id(p[coid_name], coid_name) if p.get(coid_name) else None
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
    if rec is None or rec["account"] != account or _inverse(venue, rec["symbol"]) != inverse:
        raise ApiError(400, "unknown_order", "order does not exist for this account", -2013, "Order does not exist.")
    return rec  # type: ignore[no-any-return]


def _inverse(venue: Venue, symbol: str) -> bool:
    inst = venue.read(lambda: q.instrument(venue.engine, symbol))
    return inst is not None and inst.inverse


def orders_of(venue: Venue, account: int, symbol: str | None, conditional: bool, open_only: bool,
              inverse: bool = False) -> list[Any]:  # fmt: skip
    def look() -> list[dict[str, Any]]:
        here = set(markets(venue, inverse))
        return [
            r for r in venue.history.orders.values()
            if r["account"] == account and (r["symbol"] == symbol if symbol is not None else r["symbol"] in here)
            and OrderType(r["orig_type"]).conditional == conditional
            and (not open_only or r["status"] in OPEN_STATUSES)
        ]  # fmt: skip

    return venue.read(look)  # type: ignore[no-any-return]


# ================================================================ market data
