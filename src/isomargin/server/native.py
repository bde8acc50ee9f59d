"""The native API under /api/v1 (documented by the OpenAPI schema at /openapi.json).

Signed endpoints take the Binance scheme: `X-MBX-APIKEY` header, `timestamp` (+ optional `recvWindow`) and
`signature` = hex HMAC-SHA256(secret, raw query string without `signature` + raw body) in the query.
Operator endpoints under /api/v1/admin take the `X-Admin-Key` header. Errors are `{"code", "message"}`.
"""

from __future__ import annotations

import hmac
import time
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, Field

from isomargin.engine import (
    AdjustMargin,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    Deposit,
    MarginMode,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetMarkPrice,
    SetPositionMode,
    SettleFunding,
    Withdraw,
)
from isomargin.engine import queries as q
from isomargin.engine.commands import FundInsurance, SetMarketStatus
from isomargin.engine.events import FundingPaid, OrderUpdated
from isomargin.server.auth import Principal, authenticate, no_duplicates
from isomargin.server.errors import ApiError, NativeError, error_responses
from isomargin.server.native_history import adl_ranks, position_history, preview, private_copy
from isomargin.server.params import (
    bool_field,
    client_id_field,
    decimal_field,
    int_field,
    parse_symbol,
    symbol_field,
)
from isomargin.server.venue import (
    MARGIN_MODE_NAMES,
    MINUTE,
    OPEN_STATUSES,
    Venue,
    all_balances,
    event_row,
    jsonable,
    now_ms,
)
from isomargin.server.views import max_removable, order_command, position_views

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_duplicates)], responses=error_responses(NativeError))
INTERVALS = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360,
             "8h": 480, "12h": 720, "1d": 1440}  # fmt: skip
MAX_PAGE: Final = 1000  # rows a listing returns at most
# Every number and symbol goes through the edge grammar (isomargin.server.params), not pydantic's coercion.
Symbol = Annotated[str, Path(description="market symbol, e.g. BTCUSDT"), symbol_field()]
OptSymbol = Annotated[str | None, Query(description="market symbol"), symbol_field().or_none()]
OrderId = Annotated[int, Path(description="the order's id"), int_field("order_id", 1)]
Amount = Annotated[Decimal, decimal_field("amount", example="100")]
Limit = Annotated[int, Query(description=f"rows, 1..{MAX_PAGE}"), int_field("limit", 1, MAX_PAGE)]
MAX_KLINES: Final = 1500
KlineLimit = Annotated[int, Query(description=f"candles, 1..{MAX_KLINES}"), int_field("limit", 1, MAX_KLINES)]
MAX_BINS: Final = 200
# Refusals that are a clash with an existing order rather than a bad request: 409 on the native API (the /fapi
# answer stays Binance's 400 -4015, which ccxt maps).
CONFLICTS: Final = frozenset({"duplicate_client_order_id", "idempotency_key_reused"})
PositionSideName = Literal["BOTH", "LONG", "SHORT"]


def venue_of(request: Request) -> Venue:
    v: Venue = request.app.state.venue
    return v


def need(permission: str) -> Any:
    async def dependency(
        request: Request,
        x_mbx_apikey: Annotated[str | None, Header(alias="X-MBX-APIKEY", description="API key")] = None,
        timestamp: Annotated[str | None, Query(description="client time, ms (ASCII digits)")] = None,
        recvWindow: Annotated[str | None, Query(description="validity window, ms (default 5000)")] = None,
        signature: Annotated[str | None, Query(description="hex HMAC-SHA256 of query string + body")] = None,
    ) -> Principal:
        venue = venue_of(request)
        return await authenticate(request, venue.keys, permission, venue.config.recv_window_max)

    return Depends(dependency)


def operator() -> Any:
    async def dependency(
        request: Request,
        x_admin_key: Annotated[str | None, Header(alias="X-Admin-Key", description="operator key")] = None,
    ) -> None:
        venue = venue_of(request)
        expected = venue.config.admin_key
        if expected is None:
            raise ApiError(403, "operator_disabled", "operator endpoints are off: start with --admin-key", -2015)
        if x_admin_key is None and request.headers.get("x-mbx-apikey"):
            await authenticate(request, venue.keys, "operator", venue.config.recv_window_max)
            return
        if x_admin_key is None or not hmac.compare_digest(x_admin_key.encode(), expected.encode()):
            raise ApiError(401, "bad_admin_key", "missing or wrong X-Admin-Key", -2015)

    return Depends(dependency)


Read = Annotated[Principal, need("read")]
Trade = Annotated[Principal, need("trade")]
Operator = Annotated[None, operator()]


def market(venue: Venue, symbol: str) -> str:
    s = parse_symbol(symbol)
    if not venue.listed(s):
        raise ApiError(404, "unknown_symbol", f"no market {s!r}", -1121, "Invalid symbol.")
    return s


# ================================================================ public
@router.get("/health", tags=["public"], summary="Liveness (no auth, no engine work)")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/time", tags=["public"], summary="Server time (ms)")
async def server_time() -> dict[str, int]:
    return {"server_time": now_ms()}


@router.get("/markets", tags=["market data"], summary="Listed markets with sizes, fees, tiers and prices")
async def markets(request: Request) -> list[dict[str, Any]]:
    venue = venue_of(request)

    def build() -> list[dict[str, Any]]:
        e = venue.engine
        out = []
        for sym in q.symbols(e):
            inst, m = q.instrument(e, sym), q.market(e, sym)
            assert inst is not None and m is not None
            out.append({
                "symbol": sym, "settle": inst.settle, "tick_size": inst.tick, "step_size": inst.step,
                "kind": "inverse" if inst.inverse else "linear", "contract_size": inst.spec.contract_size,
                "min_notional": inst.spec.min_notional, "maker_fee": inst.maker_fee.decimal,
                "taker_fee": inst.taker_fee.decimal, "mark_price": m["mark_price"], "index_price": m["index_price"],
                "last_price": m["last_price"], "paused": m["paused"],
                "tiers": [{"tier": t.tier, "floor": t.floor, "cap": t.cap, "maintenance_rate": t.mmr,
                           "max_leverage": t.max_leverage, "maintenance_amount": t.maint_amount}
                          for t in inst.spec.table.tiers],
            })  # fmt: skip
        return out

    return jsonable(venue.read(build))  # type: ignore[no-any-return]


@router.get("/markets/{symbol}/book", tags=["market data"], summary="Order book (aggregated levels)")
async def book(request: Request, symbol: Symbol, limit: Limit = 50) -> dict[str, Any]:
    venue = venue_of(request)
    s = market(venue, symbol)
    bids, asks = venue.read(lambda: venue.book(s, limit))
    return jsonable({"symbol": s, "bids": bids, "asks": asks, "time": now_ms()})  # type: ignore[no-any-return]


@router.get("/markets/{symbol}/trades", tags=["market data"], summary="Recent public trades")
async def trades(request: Request, symbol: Symbol, limit: Limit = 100) -> Any:
    venue = venue_of(request)
    s = market(venue, symbol)
    rows = list(venue.history.trades.get(s, ()))[-limit:]
    return jsonable(rows)


@router.get("/markets/{symbol}/klines", tags=["market data"], summary="Candles of last, mark or index price")
async def klines(
    request: Request,
    symbol: Symbol,
    interval: Annotated[str, Query(pattern="^(1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d)$")] = "1m",
    price: Literal["last", "mark", "index"] = "last",
    limit: KlineLimit = 500,
) -> Any:
    venue = venue_of(request)
    s = market(venue, symbol)
    rows = venue.read(lambda: venue.history.bar(s, price).read(INTERVALS[interval] * MINUTE, None, None, limit))
    return jsonable([
        {"open_time": r[0], "open": r[1], "high": r[2], "low": r[3], "close": r[4], "volume": r[5],
         "quote_volume": r[6], "trades": r[7]} for r in rows
    ])  # fmt: skip


@router.get("/markets/{symbol}/ticker", tags=["market data"], summary="Mark, index, last price and funding")
async def ticker(request: Request, symbol: Symbol) -> Any:
    venue = venue_of(request)
    s = market(venue, symbol)
    m = venue.read(lambda: q.market(venue.engine, s))
    return jsonable({
        "symbol": s, "mark_price": m["mark_price"], "index_price": m["index_price"],
        "last_price": m["last_price"], "funding_rate": venue.funding_estimate.get(s, Decimal(0)),
        "next_funding_time": venue.next_funding.get(s, 0), "paused": m["paused"], "time": now_ms(),
    })  # fmt: skip


@router.get("/markets/{symbol}/funding-rates", tags=["market data"], summary="Funding rate history")
async def funding_rates(request: Request, symbol: Symbol, limit: Limit = 100) -> Any:
    venue = venue_of(request)
    s = market(venue, symbol)
    return jsonable(list(venue.history.funding.get(s, ()))[-limit:])


@router.get("/markets/{symbol}/liquidation-map", tags=["market data"],
            summary="Histogram of all open positions' liquidation prices (notional per price bin)")  # fmt: skip
async def liquidation_map(
    request: Request,
    symbol: Symbol,
    bins: Annotated[int, Query(description=f"2..{MAX_BINS}"), int_field("bins", 2, MAX_BINS)] = 40,
    span: Annotated[
        Decimal,
        Query(alias="range", description="window: ± this fraction of mark, in (0, 1]"),
        decimal_field("range", example="0.5"),
    ] = Decimal("0.5"),
) -> Any:
    venue = venue_of(request)
    s = market(venue, symbol)
    if not 0 < span <= 1:
        raise ApiError(400, "bad_parameter", f"range must be in (0, 1], got {span}", -1130)
    return jsonable(venue.read(lambda: venue.liquidation_map(s, bins, span)))


@router.get("/insurance-fund", tags=["market data"], summary="Insurance fund balance")
async def insurance(request: Request, asset: Annotated[str, Query(pattern="^[A-Z0-9]{1,12}$")] = "USDT") -> Any:
    venue = venue_of(request)
    return jsonable({"asset": asset, "balance": venue.read(lambda: q.insurance_fund(venue.engine, asset))})


@router.get("/liquidations", tags=["market data"], summary="Liquidation and ADL history (all accounts)")
async def liquidations(
    request: Request,
    symbol: OptSymbol = None,
    limit: Limit = 100,
) -> Any:
    venue = venue_of(request)
    rows = [r for r in venue.history.liquidations if symbol is None or r["symbol"] == symbol]
    return jsonable(rows[-limit:])


# ================================================================ account
@router.get("/account", tags=["account"], summary="Account, balances and settings")
async def account(request: Request, who: Read) -> Any:
    venue = venue_of(request)

    def build() -> dict[str, Any]:
        e = venue.engine
        acct = q.account(e, who.account)
        return {
            "account": who.account, "position_mode": "hedge" if acct["hedge_mode"] else "one_way",
            "permissions": list(who.permissions), "balances": all_balances(venue.engine, who.account),
            "settings": {s: {"margin_mode": MARGIN_MODE_NAMES[v["margin_mode"]], "leverage": v["leverage"]}
                         for s, v in acct["settings"].items()},
        }  # fmt: skip

    return jsonable(venue.read(build))


@router.get("/balances", tags=["account"], summary="Wallet, available, held, isolated margin, margin balance")
async def get_balances(request: Request, who: Read) -> Any:
    venue = venue_of(request)
    return jsonable(venue.read(lambda: all_balances(venue.engine, who.account)))


@router.get("/positions", tags=["positions"], summary="Get Positions: every figure a venue shows")
async def get_positions(request: Request, who: Read) -> Any:
    venue = venue_of(request)
    return jsonable(venue.read(lambda: position_views(venue.engine, who.account)))


class MarginIn(BaseModel):
    amount: Amount = Field(
        description="amount in the market's settle asset (USDT, or the coin of an inverse market), decimal string, > 0"
    )
    type: Literal["add", "remove"] = "add"
    position_side: PositionSideName = "BOTH"


@router.get("/positions/{symbol}/margin", tags=["positions"], summary="Isolated margin and the maximum removable")
async def get_margin(request: Request, symbol: Symbol, who: Read,
                     position_side: PositionSideName = "BOTH") -> Any:  # fmt: skip
    venue = venue_of(request)
    s = market(venue, symbol)
    e = venue.engine
    return jsonable({"symbol": s, "position_side": position_side,
                     "max_removable": venue.read(lambda: max_removable(e, who.account, s, position_side))})  # fmt: skip


@router.post("/positions/{symbol}/margin", tags=["positions"], summary="Add or remove isolated margin")
async def post_margin(request: Request, symbol: Symbol, body: MarginIn, who: Trade) -> Any:
    venue = venue_of(request)
    s = market(venue, symbol)
    amount = body.amount
    if amount <= 0:
        raise ApiError(400, "bad_amount", "amount must be greater than zero", -4055, "Amount must be positive.")
    signed = amount if body.type == "add" else -amount
    await venue.submit(AdjustMargin(who.account, s, signed, PositionSide(body.position_side)))
    e = venue.engine
    pos = venue.read(lambda: [p for p in position_views(e, who.account)
                              if p["symbol"] == s and p["position_side"] == body.position_side])  # fmt: skip
    return jsonable(pos[0] if pos else {})


MAX_LEVERAGE: Final = 1000  # above every venue's table; the engine refuses what the symbol's tiers do not allow


class LeverageIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    leverage: Annotated[int, int_field("leverage", 1, MAX_LEVERAGE)]


class MarginModeIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    mode: Literal["isolated", "cross", "ISOLATED", "CROSS"]


class PositionModeIn(BaseModel):
    hedge_mode: Annotated[bool, bool_field("hedge_mode")]


@router.post("/settings/leverage", tags=["settings"], summary="Set leverage for a symbol")
async def set_leverage(request: Request, body: LeverageIn, who: Trade) -> Any:
    venue = venue_of(request)
    s = market(venue, body.symbol)
    await venue.submit(SetLeverage(who.account, s, body.leverage))
    return {"symbol": s, "leverage": body.leverage}


@router.post("/settings/margin-mode", tags=["settings"], summary="Set isolated or cross margin for a symbol")
async def set_margin_mode(request: Request, body: MarginModeIn, who: Trade) -> Any:
    venue = venue_of(request)
    s = market(venue, body.symbol)
    await venue.submit(SetMarginMode(who.account, s, MarginMode(body.mode.upper())))
    return {"symbol": s, "margin_mode": body.mode.lower()}


@router.post("/settings/position-mode", tags=["settings"], summary="One-way or hedge mode (account-wide)")
async def set_position_mode(request: Request, body: PositionModeIn, who: Trade) -> Any:
    venue = venue_of(request)
    await venue.submit(SetPositionMode(who.account, body.hedge_mode))
    return {"hedge_mode": body.hedge_mode}


# ================================================================ orders
def _opt_decimal(what: str, example: str = "1") -> Any:
    return decimal_field(what, example=example).or_none()


class OrderIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    side: Literal["BUY", "SELL"]
    type: Literal["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
    quantity: Annotated[Decimal | None, _opt_decimal("quantity", "0.01")] = None
    price: Annotated[Decimal | None, _opt_decimal("price", "60000")] = None
    stop_price: Annotated[Decimal | None, _opt_decimal("stop_price", "58000")] = None
    time_in_force: Literal["GTC", "IOC", "FOK", "GTX"] = "GTC"
    reduce_only: Annotated[bool, bool_field("reduce_only")] = False
    close_position: Annotated[bool, bool_field("close_position")] = False
    position_side: PositionSideName = "BOTH"
    client_order_id: Annotated[str | None, client_id_field("client_order_id").or_none()] = None
    working_type: Literal["MARK_PRICE", "CONTRACT_PRICE"] = "CONTRACT_PRICE"
    callback_rate: Annotated[Decimal | None, _opt_decimal("callback_rate")] = None
    activation_price: Annotated[Decimal | None, _opt_decimal("activation_price", "70000")] = None


async def place(venue: Venue, account: int, params: dict[str, Any]) -> dict[str, Any]:
    """Shared by both APIs: build, check the market is open, submit; the order record afterwards."""
    cmd = order_command(account, params)
    for ev in await venue.submit(cmd):  # the placed order's (only) OrderUpdated names its record
        if isinstance(ev, OrderUpdated) and ev.account == account and ev.client_order_id == cmd.client_order_id:
            rec = venue.history.orders.get(ev.order_id)
            if rec is not None:
                return rec
    for rec in reversed(venue.history.orders.values()):
        if rec["account"] == account and rec["client_order_id"] == cmd.client_order_id:
            return rec
    raise ApiError(500, "order_lost", "order accepted but not found in history", -1000)


@router.post("/orders", tags=["orders"], summary="Place an order (every engine order type)")
async def post_order(request: Request, body: OrderIn, who: Trade) -> Any:
    venue = venue_of(request)
    params = {
        "symbol": body.symbol, "side": body.side, "type": body.type, "quantity": body.quantity, "price": body.price,
        "stopPrice": body.stop_price, "timeInForce": body.time_in_force, "reduceOnly": body.reduce_only,
        "closePosition": body.close_position, "positionSide": body.position_side,
        "newClientOrderId": body.client_order_id, "workingType": body.working_type,
        "callbackRate": body.callback_rate, "activationPrice": body.activation_price,
    }  # fmt: skip
    try:
        return jsonable(await place(venue, who.account, params))
    except ApiError as exc:
        if exc.code not in CONFLICTS:
            raise
        raise ApiError(409, exc.code, exc.message, exc.binance, exc.binance_msg) from None


class PreviewIn(OrderIn):
    leverage: Annotated[int | None, int_field("leverage", 1, MAX_LEVERAGE).or_none()] = Field(
        None, description="try the order at this leverage (the account's setting is not changed)"
    )
    margin_mode: Literal["isolated", "cross"] | None = Field(None, description="try it in this margin mode")


@router.post("/orders/preview", tags=["orders"],
             summary="What an order would do, before it is sent: fill, fee, margin and liquidation price")  # fmt: skip
async def post_preview(request: Request, body: PreviewIn, who: Read) -> Any:
    """The order (and the leverage / margin mode given) applied to a private copy of the engine, so every
    figure is the engine's: a market order (or a crossing limit) fills against the book as it stands; a resting
    limit is shown filled as maker at its price, a stop / take-profit as taker at its trigger price. Nothing is
    journaled or changed. `ok` false carries the engine's rejection (`code`, `message`)."""
    venue = venue_of(request)
    market(venue, body.symbol)
    params = {
        "symbol": body.symbol, "side": body.side, "type": body.type, "quantity": body.quantity, "price": body.price,
        "stopPrice": body.stop_price, "timeInForce": body.time_in_force, "reduceOnly": body.reduce_only,
        "closePosition": body.close_position, "positionSide": body.position_side,
        "newClientOrderId": body.client_order_id, "workingType": body.working_type,
        "callbackRate": body.callback_rate, "activationPrice": body.activation_price,
    }  # fmt: skip
    cmd = order_command(who.account, params)
    mode = None if body.margin_mode is None else MarginMode(body.margin_mode.upper())
    if venue.failure is not None:
        raise venue.halted_error()
    sim = venue.read(lambda: private_copy(venue.engine))
    return jsonable(preview(sim, who.account, cmd, body.leverage, mode, now_ms()))


class AmendIn(BaseModel):
    quantity: Annotated[Decimal | None, _opt_decimal("quantity", "0.02")] = Field(
        None, description="new total quantity (the filled part included)"
    )
    price: Annotated[Decimal | None, _opt_decimal("price", "60000")] = None


@router.put("/orders/{order_id}", tags=["orders"], summary="Amend a resting limit order's price and/or quantity")
async def amend_order(request: Request, order_id: OrderId, body: AmendIn, who: Trade) -> Any:
    venue = venue_of(request)
    rec = own_order(venue, who.account, order_id)
    if body.quantity is None and body.price is None:
        raise ApiError(400, "missing_parameter", "give quantity and/or price", -1102)
    await venue.submit(AmendOrder(who.account, rec["symbol"], order_id=order_id, qty=body.quantity,
                                  price=body.price))  # fmt: skip
    return jsonable(own_order(venue, who.account, order_id))


@router.get("/adl-rank", tags=["positions"], summary="Each open position's place in its auto-deleveraging queue")
async def adl_rank(request: Request, who: Read) -> Any:
    """`queue_position` 1 is deleveraged first; `adl_quantile` 1..5 is the five lights venues show (5: in the
    first fifth of the queue). Ranked by the engine's ADL score: PnL % × effective leverage (a loser: ÷)."""
    venue = venue_of(request)
    return jsonable(venue.read(lambda: adl_ranks(venue.engine, who.account)))


@router.get("/position-history", tags=["history"], summary="Round trips (opened → closed) with realised PnL")
async def get_position_history(request: Request, who: Read, limit: Limit = 100) -> Any:
    venue = venue_of(request)
    fills = venue.read(lambda: list(venue.history.user_trades.get(who.account, ())))
    return jsonable(position_history(fills, limit))


@router.get("/orders", tags=["orders"], summary="Open orders, or all recent orders with status=all")
async def get_orders(
    request: Request,
    who: Read,
    symbol: OptSymbol = None,
    status: Literal["open", "all"] = "open",
    limit: Limit = 500,
) -> Any:
    venue = venue_of(request)
    sym = symbol
    rows = [
        r for r in venue.history.orders.values()
        if r["account"] == who.account and (sym is None or r["symbol"] == sym)
        and (status == "all" or r["status"] in OPEN_STATUSES)
    ]  # fmt: skip
    return jsonable(rows[-limit:])


def own_order(venue: Venue, account: int, order_id: int) -> dict[str, Any]:
    rec = venue.history.orders.get(order_id)
    if rec is None or rec["account"] != account:
        raise ApiError(404, "unknown_order", f"no order {order_id} for this account", -2013, "Order does not exist.")
    return rec


@router.get("/orders/{order_id}", tags=["orders"], summary="One order")
async def get_order(request: Request, order_id: OrderId, who: Read) -> Any:
    return jsonable(own_order(venue_of(request), who.account, order_id))


@router.delete("/orders/{order_id}", tags=["orders"], summary="Cancel an order")
async def delete_order(request: Request, order_id: OrderId, who: Trade) -> Any:
    venue = venue_of(request)
    rec = own_order(venue, who.account, order_id)
    await venue.submit(CancelOrder(who.account, rec["symbol"], order_id=order_id))
    return jsonable(own_order(venue, who.account, order_id))


@router.delete("/orders", tags=["orders"], summary="Cancel all open orders of a symbol")
async def delete_orders(request: Request, symbol: Annotated[str, Query(), symbol_field()], who: Trade) -> Any:
    venue = venue_of(request)
    s = market(venue, symbol)
    await venue.submit(CancelAllOrders(who.account, s))
    return {"symbol": s, "canceled": True}


@router.get("/fills", tags=["history"], summary="The account's fills")
async def fills(request: Request, who: Read, limit: Limit = 500) -> Any:
    venue = venue_of(request)
    return jsonable(list(venue.history.user_trades.get(who.account, ()))[-limit:])


@router.get("/funding", tags=["history"], summary="The account's funding payments")
async def funding(request: Request, who: Read) -> Any:
    venue = venue_of(request)
    return list(venue.history.funding_paid.get(who.account, ()))


@router.get("/income", tags=["history"], summary="Realised PnL, commissions and funding as income rows")
async def income(request: Request, who: Read, limit: Limit = 500) -> Any:
    venue = venue_of(request)
    return jsonable(list(venue.history.income.get(who.account, ()))[-limit:])


@router.get("/alerts", tags=["history"], summary="Margin-call alerts of the account")
async def alerts(request: Request, who: Read) -> Any:
    venue = venue_of(request)
    return jsonable(list(venue.history.alerts.get(who.account, ())))


@router.get("/my-liquidations", tags=["history"], summary="Liquidation steps and ADL that hit the account")
async def my_liquidations(request: Request, who: Read) -> Any:
    venue = venue_of(request)
    return jsonable([r for r in venue.history.liquidations if r["account"] == who.account])


@router.post("/listen-key", tags=["account"], summary="A key for the account WebSocket stream (/ws?listenKey=…)")
async def listen_key(request: Request, who: Read) -> Any:
    venue = venue_of(request)
    return {"listenKey": venue_of(request).listen_keys.issue(who.account), "account": who.account,
            "expires": int(time.time() * 1000) + venue.listen_keys.ttl_ms}  # fmt: skip


# ================================================================ operator
AccountNo = Annotated[int, int_field("account", 1)]


class AccountIn(BaseModel):
    hedge_mode: Annotated[bool, bool_field("hedge_mode")] = False
    deposit: Annotated[Decimal | None, _opt_decimal("deposit", "10000")] = Field(
        None, description="USDT to deposit right away"
    )
    api_key: Annotated[bool, bool_field("api_key")] = Field(True, description="also create an API key (read, trade)")


class KeyIn(BaseModel):
    account: AccountNo
    permissions: list[Literal["read", "trade", "operator"]] = Field(["read", "trade"], min_length=1, max_length=3)
    label: str = Field("", max_length=64)


class MoneyIn(BaseModel):
    account: AccountNo
    amount: Amount
    asset: str = Field("USDT", pattern="^[A-Z0-9]{1,12}$")


class MarkIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    price: Annotated[Decimal | None, _opt_decimal("price", "60000")] = Field(None, description="sets index and mark")
    mark: Annotated[Decimal | None, _opt_decimal("mark", "60000")] = None
    index: Annotated[Decimal | None, _opt_decimal("index", "60000")] = None


class FundingIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    rate: Annotated[Decimal, decimal_field("rate", signed=True, example="0.0001")] = Field(
        description="fraction, e.g. 0.0001; longs pay a positive rate"
    )


class PauseIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    paused: Annotated[bool, bool_field("paused")] = True


class InsuranceIn(BaseModel):
    amount: Amount
    asset: str = Field("USDT", pattern="^[A-Z0-9]{1,12}$")


@router.post("/admin/accounts", tags=["operator"], summary="Create an account (and an API key)")
async def admin_account(request: Request, body: AccountIn, _: Operator) -> Any:
    venue = venue_of(request)
    acct = await venue.create_account(body.hedge_mode)
    out: dict[str, Any] = {"account": acct}
    if body.deposit is not None:
        await venue.submit(Deposit(acct, "USDT", body.deposit))
    if body.api_key:
        key = venue.keys.create(acct, ("read", "trade"))
        out.update(apiKey=key.key, secret=key.secret, permissions=list(key.permissions))
    return out


@router.post("/admin/api-keys", tags=["operator"], summary="Create an API key; the secret is shown only now")
async def admin_key(request: Request, body: KeyIn, _: Operator) -> Any:
    venue = venue_of(request)
    if not venue.read(lambda: venue.account_exists(body.account)):
        raise ApiError(404, "unknown_account", f"account {body.account} does not exist", -2015)
    try:
        key = venue.keys.create(body.account, tuple(body.permissions), body.label)
    except ValueError as exc:
        raise ApiError(400, "bad_permissions", str(exc), -1130) from None
    return {**key.public(), "secret": key.secret}


@router.get("/admin/api-keys", tags=["operator"], summary="API keys (never their secrets)")
async def admin_keys(
    request: Request, _: Operator, account: Annotated[int | None, Query(), int_field("account", 1).or_none()] = None
) -> Any:
    return [k.public() for k in venue_of(request).keys.of_account(account)]


@router.delete("/admin/api-keys/{key}", tags=["operator"], summary="Revoke an API key")
async def admin_revoke(request: Request, key: Annotated[str, Path(max_length=128)], _: Operator) -> Any:
    if not venue_of(request).keys.revoke(key):
        raise ApiError(404, "unknown_key", "no such API key", -2015)
    return {"revoked": True}


@router.post("/admin/deposit", tags=["operator"], summary="Deposit into an account's wallet")
async def admin_deposit(request: Request, body: MoneyIn, _: Operator) -> Any:
    venue = venue_of(request)
    await venue.submit(Deposit(body.account, body.asset, body.amount))
    return jsonable(venue.read(lambda: q.balances(venue.engine, body.account, body.asset)))


@router.post("/admin/withdraw", tags=["operator"], summary="Withdraw from an account's wallet")
async def admin_withdraw(request: Request, body: MoneyIn, _: Operator) -> Any:
    venue = venue_of(request)
    await venue.submit(Withdraw(body.account, body.asset, body.amount))
    return jsonable(venue.read(lambda: q.balances(venue.engine, body.account, body.asset)))


@router.post("/admin/mark-price", tags=["operator"], summary="Set index and mark price of a symbol")
async def admin_mark(request: Request, body: MarkIn, _: Operator) -> Any:
    venue = venue_of(request)
    s = market(venue, body.symbol)
    mark = body.mark if body.mark is not None else body.price
    if mark is None:
        raise ApiError(400, "missing_parameter", "give price (index and mark) or mark", -1102)
    index = body.index if body.index is not None else body.price
    events = await venue.submit(SetMarkPrice(s, mark, index))
    return jsonable({"symbol": s, "mark_price": mark, "index_price": index or mark,
                     "events": [event_row(e) for e in events]})  # fmt: skip


@router.post("/admin/funding", tags=["operator"], summary="Settle funding now at a rate")
async def admin_funding(request: Request, body: FundingIn, _: Operator) -> Any:
    venue = venue_of(request)
    s = market(venue, body.symbol)
    events = await venue.submit(SettleFunding(s, body.rate))
    paid = sum(1 for e in events if isinstance(e, FundingPaid))
    return jsonable({"symbol": s, "rate": body.rate, "payments": paid})


@router.post("/admin/pause", tags=["operator"], summary="Pause or resume a market (new orders refused)")
async def admin_pause(request: Request, body: PauseIn, _: Operator) -> Any:
    venue = venue_of(request)
    s = market(venue, body.symbol)
    if venue.paused(s) != body.paused:  # an engine command, journaled like every other change
        await venue.submit(SetMarketStatus(s, body.paused))
    return {"symbol": s, "paused": body.paused}


@router.post("/admin/insurance", tags=["operator"], summary="Pay into the insurance fund")
async def admin_insurance(request: Request, body: InsuranceIn, _: Operator) -> Any:
    venue = venue_of(request)
    await venue.submit(FundInsurance(body.asset, body.amount))
    return jsonable({"asset": body.asset, "balance": venue.read(lambda: q.insurance_fund(venue.engine, body.asset))})
