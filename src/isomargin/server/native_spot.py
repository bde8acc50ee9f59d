"""The native API's spot and isolated spot-margin endpoints under /api/v1 (`/spot/…`, `/margin/isolated/…`) and
their operator endpoints (`/admin/spot/…`: a pair's mark price, borrow rates, interest charged now or at a given
time). Every change is an engine command through the venue (journaled before it is answered); reads go through
`engine.spot_queries` and the event-built `SpotHistory`. Errors are the native `{"code", "message"}`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from isomargin.engine import OrderSide, OrderType, SetMarkPrice, TimeInForce
from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import (
    AccrueInterest,
    Borrow,
    CancelSpotOrder,
    ListSpotPair,
    MarginTransfer,
    PlaceSpotOrder,
    Repay,
    SetBorrowRate,
    SideEffect,
)
from isomargin.engine.events import Event
from isomargin.engine.spot_events import InterestCharged, SpotOrderUpdated
from isomargin.margin.spot import AccountingMode
from isomargin.server.auth import no_duplicates
from isomargin.server.errors import ApiError, NativeError, error_responses
from isomargin.server.native import MAX_PAGE, Operator, Read, Trade, venue_of
from isomargin.server.params import bool_field, client_id_field, decimal_field, int_field, parse_symbol, symbol_field
from isomargin.server.venue import Venue, event_row, jsonable

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_duplicates)], responses=error_responses(NativeError))
MAX_TS: Final = 2**63 - 1  # the engine's bound on a command's timestamp (ms)
MAX_LEVELS: Final = 500  # book levels a side one request returns at most
ASSET_PATTERN: Final = "^[A-Z0-9]{1,12}$"
PairPath = Annotated[str, Path(description="spot pair, e.g. BTC-USDT (BTCUSDT is read as the same pair)"),
                     symbol_field()]  # fmt: skip
OrderId = Annotated[int, Path(description="the spot order's id"), int_field("order_id", 1)]
Limit = Annotated[int, Query(description=f"rows, 1..{MAX_PAGE}"), int_field("limit", 1, MAX_PAGE)]
OptPair = Annotated[str | None, Query(description="spot pair, e.g. BTC-USDT"), symbol_field().or_none()]
Asset = Annotated[str, Field(pattern=ASSET_PATTERN, description="the pair's base or quote asset, e.g. USDT",
                             examples=["USDT"])]  # fmt: skip
PositiveAmount = Annotated[Decimal, decimal_field("amount", example="100")]


def spot_pair(venue: Venue, symbol: str) -> str:
    """The engine symbol of a listed spot pair ("BTC-USDT"; its exchange spelling "BTCUSDT" also names it)."""
    s = parse_symbol(symbol)

    def find() -> str | None:
        if s in sq.spot_pairs(venue.engine):
            return s
        return sq.by_exchange_symbol(venue.engine, s)

    found: str | None = venue.read(find)
    if found is None:
        raise ApiError(404, "unknown_symbol", f"no spot pair {s!r} (GET /api/v1/spot/pairs lists them)", -1121,
                       "Invalid symbol.")  # fmt: skip
    return found


def positive(amount: Decimal, what: str = "amount") -> Decimal:
    if amount <= 0:
        raise ApiError(400, "bad_amount", f"{what} must be greater than zero", -4055, "Amount must be positive.")
    return amount


def pair_asset(venue: Venue, symbol: str, asset: str) -> str:
    """`asset` if it is the pair's base or quote; otherwise a 400 that names both (nothing is submitted)."""
    pair = venue.read(lambda: sq.spot_pair(venue.engine, symbol))
    assert pair is not None
    if asset not in (pair["base"], pair["quote"]):
        raise ApiError(400, "asset_not_in_pair", f"{asset} is neither {symbol}'s base ({pair['base']}) nor its "
                       f"quote ({pair['quote']})", -1130)  # fmt: skip
    return asset


def margin_view(venue: Venue, account: int, symbol: str, mode: AccountingMode = AccountingMode.NEW) -> Any:
    view = venue.read(lambda: sq.margin_account(venue.engine, account, symbol, mode))
    if view is None:
        raise ApiError(404, "no_margin_account", f"no isolated margin account on {symbol} yet: transfer into it "
                       "first (POST /api/v1/margin/isolated/transfer)", -3052)  # fmt: skip
    return jsonable(view)


# ================================================================ spot market data
@router.get("/spot/pairs", tags=["spot"], summary="Listed spot pairs: sizes, fees, leverage, risk rule, rates, prices")
async def pairs(request: Request) -> Any:
    venue = venue_of(request)
    return jsonable(venue.read(lambda: [sq.spot_pair(venue.engine, s) for s in sq.spot_pairs(venue.engine)]))


@router.get("/spot/pairs/{symbol}", tags=["spot"], summary="One spot pair")
async def pair(request: Request, symbol: PairPath) -> Any:
    venue = venue_of(request)
    s = spot_pair(venue, symbol)
    return jsonable(venue.read(lambda: sq.spot_pair(venue.engine, s)))


@router.get("/spot/pairs/{symbol}/book", tags=["spot"], summary="A spot pair's order book (wallet and margin orders)")
async def book(
    request: Request, symbol: PairPath,
    limit: Annotated[int, Query(description=f"levels a side, 1..{MAX_LEVELS}"),
                     int_field("limit", 1, MAX_LEVELS)] = 50,
) -> Any:  # fmt: skip
    venue = venue_of(request)
    s = spot_pair(venue, symbol)
    depth = venue.read(lambda: sq.spot_depth(venue.engine, s, limit))
    return jsonable({"symbol": s, **depth})


# ================================================================ spot orders
class SpotOrderIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    side: Literal["BUY", "SELL"]
    type: Literal["LIMIT", "MARKET"]
    quantity: Annotated[Decimal, decimal_field("quantity", example="0.01")] = Field(description="in the base asset")
    price: Annotated[Decimal | None, decimal_field("price", example="60000").or_none()] = Field(
        None, description="limit price in the quote asset (LIMIT only)"
    )
    time_in_force: Literal["GTC", "IOC", "FOK", "GTX"] = Field("GTC", description="GTX: post-only")
    isolated: Annotated[bool, bool_field("isolated")] = Field(
        False, description="trade in the isolated margin account on the pair (false: from the wallet)"
    )
    side_effect: Literal["NO_SIDE_EFFECT", "MARGIN_BUY", "AUTO_REPAY", "AUTO_BORROW_REPAY"] = Field(
        "NO_SIDE_EFFECT", description="isolated only: borrow what the order needs (MARGIN_BUY), repay from its fills "
        "(AUTO_REPAY), or both"
    )  # fmt: skip
    client_order_id: Annotated[str | None, client_id_field("client_order_id").or_none()] = None


def _order_of(venue: Venue, account: int, events: list[Event]) -> dict[str, Any]:
    for ev in events:
        if isinstance(ev, SpotOrderUpdated) and ev.account == account:
            rec = venue.spot_history.orders.get(ev.order_id)
            if rec is not None:
                return dict(rec)
    raise ApiError(500, "order_lost", "order accepted but not found in history", -1000)


def own_spot_order(venue: Venue, account: int, order_id: int) -> dict[str, Any]:
    rec = venue.spot_history.orders.get(order_id)
    if rec is None or rec["account"] != account:
        raise ApiError(404, "unknown_order", f"no spot order {order_id} for this account", -2013,
                       "Order does not exist.")  # fmt: skip
    return dict(rec)


@router.post(
    "/spot/orders", tags=["spot"], summary="Place a spot order, from the wallet or the isolated margin account"
)
async def post_order(request: Request, body: SpotOrderIn, who: Trade) -> Any:
    venue = venue_of(request)
    s = spot_pair(venue, body.symbol)
    if not body.isolated and body.side_effect != "NO_SIDE_EFFECT":
        raise ApiError(400, "bad_parameter", "side_effect needs isolated=true (a wallet order cannot borrow)", -1130)
    if body.type == "MARKET" and body.price is not None:
        raise ApiError(400, "bad_parameter", "a MARKET order takes no price", -1106)
    if body.type == "LIMIT" and body.price is None:
        raise ApiError(400, "missing_parameter", "a LIMIT order needs a price", -1102)
    cmd = PlaceSpotOrder(who.account, s, OrderSide[body.side], OrderType(body.type), body.quantity, body.price,
                         tif=TimeInForce(body.time_in_force), isolated=body.isolated,
                         side_effect=SideEffect(body.side_effect), client_order_id=body.client_order_id)  # fmt: skip
    return jsonable(_order_of(venue, who.account, await venue.submit(cmd)))


@router.get("/spot/orders", tags=["spot"], summary="The account's open spot orders, or all recent ones with status=all")
async def get_orders(
    request: Request, who: Read, symbol: OptPair = None, status: Literal["open", "all"] = "open",
    isolated: Annotated[bool | None, Query(description="only margin (true) or wallet (false) orders"),
                        bool_field("isolated").or_none()] = None,
    limit: Limit = 500,
) -> Any:  # fmt: skip
    venue = venue_of(request)
    s = None if symbol is None else spot_pair(venue, symbol)
    rows = [
        r for r in venue.spot_history.orders.values()
        if r["account"] == who.account and (s is None or r["symbol"] == s) and (status == "all" or r["open"])
        and (isolated is None or r["isolated"] is isolated)
    ]  # fmt: skip
    return jsonable(rows[-limit:])


@router.get("/spot/orders/{order_id}", tags=["spot"], summary="One spot order")
async def get_order(request: Request, order_id: OrderId, who: Read) -> Any:
    return jsonable(own_spot_order(venue_of(request), who.account, order_id))


@router.delete("/spot/orders/{order_id}", tags=["spot"], summary="Cancel a spot order")
async def delete_order(request: Request, order_id: OrderId, who: Trade) -> Any:
    venue = venue_of(request)
    rec = own_spot_order(venue, who.account, order_id)
    if not rec["open"]:
        raise ApiError(400, "unknown_order", f"spot order {order_id} is {rec['status']}, not open", -2011,
                       "Unknown order sent.")  # fmt: skip
    await venue.submit(CancelSpotOrder(who.account, rec["symbol"], order_id=order_id))
    return jsonable(own_spot_order(venue, who.account, order_id))


@router.get("/spot/fills", tags=["spot"], summary="The account's spot fills (wallet and margin)")
async def fills(request: Request, who: Read, symbol: OptPair = None, limit: Limit = 500) -> Any:
    venue = venue_of(request)
    s = None if symbol is None else spot_pair(venue, symbol)
    return venue.spot_history.rows(venue.spot_history.fills, who.account, s, limit)


# ================================================================ isolated margin
class TransferIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    asset: Asset
    amount: PositiveAmount = Field(description="decimal string, > 0")
    direction: Literal["in", "out"] = Field(
        description="in: wallet → the pair's isolated margin account; out: back to the wallet (only as far as the "
        "account's risk allows)"
    )


class BorrowIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    asset: Asset
    amount: PositiveAmount = Field(description="decimal string, > 0; at most max_borrowable")


class RepayIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    asset: Asset
    amount: Annotated[Decimal | None, decimal_field("amount", example="100").or_none()] = Field(
        None, description="interest first, then principal; omit (or null) to repay everything owed in the asset"
    )


@router.post("/margin/isolated/transfer", tags=["isolated margin"],
             summary="Move an asset between the wallet and a pair's isolated margin account")  # fmt: skip
async def transfer(request: Request, body: TransferIn, who: Trade) -> Any:
    venue = venue_of(request)
    s = spot_pair(venue, body.symbol)
    asset = pair_asset(venue, s, body.asset)
    amount = positive(body.amount)
    await venue.submit(MarginTransfer(who.account, s, asset, amount if body.direction == "in" else -amount))
    return margin_view(venue, who.account, s)


@router.post(
    "/margin/isolated/borrow",
    tags=["isolated margin"],
    summary="Borrow into a pair's isolated margin account (the first hour's interest is due at once)",
)
async def borrow(request: Request, body: BorrowIn, who: Trade) -> Any:
    venue = venue_of(request)
    s = spot_pair(venue, body.symbol)
    asset = pair_asset(venue, s, body.asset)
    await venue.submit(Borrow(who.account, s, asset, positive(body.amount)))
    return margin_view(venue, who.account, s)


@router.post("/margin/isolated/repay", tags=["isolated margin"],
             summary="Repay interest, then principal, from the isolated margin account's free balance")  # fmt: skip
async def repay(request: Request, body: RepayIn, who: Trade) -> Any:
    venue = venue_of(request)
    s = spot_pair(venue, body.symbol)
    asset = pair_asset(venue, s, body.asset)
    amount = None if body.amount is None else positive(body.amount)
    await venue.submit(Repay(who.account, s, asset, amount))
    return margin_view(venue, who.account, s)


@router.get(
    "/margin/isolated/accounts", tags=["isolated margin"], summary="Every isolated margin account of the account"
)
async def accounts(request: Request, who: Read, mode: Literal["old", "new"] = "new") -> Any:
    venue = venue_of(request)
    m = AccountingMode(mode)
    return jsonable(venue.read(lambda: [sq.margin_account(venue.engine, who.account, s, m)
                                        for s in sq.margin_accounts(venue.engine, who.account)]))  # fmt: skip


@router.get(
    "/margin/isolated/accounts/{symbol}",
    tags=["isolated margin"],
    summary="One isolated margin account: assets, liabilities, interest, risk, limits, position view",
)
async def account(request: Request, symbol: PairPath, who: Read,
                  mode: Annotated[Literal["old", "new"], Query(description="OKX's accounting display of the "
                                                               "position view")] = "new") -> Any:  # fmt: skip
    """`margin_level` is Binance's (assets ÷ liabilities); `margin_ratio` OKX's maintenance margin ratio (on OKX
    pairs); `level` the alert level at the mark; `position` the OKX-style view of an indebted account in `mode`."""
    venue = venue_of(request)
    return margin_view(venue, who.account, spot_pair(venue, symbol), AccountingMode(mode))


@router.get(
    "/margin/isolated/max-borrowable", tags=["isolated margin"], summary="The most of an asset one borrow may take"
)
async def max_borrowable(
    request: Request, who: Read, symbol: Annotated[str, Query(), symbol_field()],
    asset: Annotated[str, Query(pattern=ASSET_PATTERN)],
) -> Any:  # fmt: skip
    venue = venue_of(request)
    s = spot_pair(venue, symbol)
    a = pair_asset(venue, s, asset)
    view = venue.read(lambda: sq.margin_account(venue.engine, who.account, s))
    amount = Decimal(0) if view is None else view["assets"][a]["max_borrowable"]
    limit = venue.read(lambda: sq.spot_pair(venue.engine, s))["borrow_limits"].get(a)
    return jsonable({"symbol": s, "asset": a, "amount": amount, "borrow_limit": limit})


@router.get("/margin/isolated/max-transferable", tags=["isolated margin"],
            summary="The most of an asset that may move out to the wallet now")  # fmt: skip
async def max_transferable(
    request: Request, who: Read, symbol: Annotated[str, Query(), symbol_field()],
    asset: Annotated[str, Query(pattern=ASSET_PATTERN)],
) -> Any:  # fmt: skip
    venue = venue_of(request)
    s = spot_pair(venue, symbol)
    a = pair_asset(venue, s, asset)
    view = venue.read(lambda: sq.margin_account(venue.engine, who.account, s))
    return jsonable({"symbol": s, "asset": a,
                     "amount": Decimal(0) if view is None else view["assets"][a]["max_transferable"]})  # fmt: skip


@router.get("/margin/isolated/interest", tags=["isolated margin"],
            summary="Interest charged: each borrow's first hour and every hourly charge (from events)")  # fmt: skip
async def interest(request: Request, who: Read, symbol: OptPair = None, limit: Limit = 500) -> Any:
    venue = venue_of(request)
    s = None if symbol is None else spot_pair(venue, symbol)
    return venue.spot_history.rows(venue.spot_history.interest, who.account, s, limit)


@router.get("/margin/isolated/loans", tags=["isolated margin"], summary="Borrows and repayments (kind borrow | repay)")
async def loans(request: Request, who: Read, symbol: OptPair = None, limit: Limit = 500) -> Any:
    venue = venue_of(request)
    s = None if symbol is None else spot_pair(venue, symbol)
    return venue.spot_history.rows(venue.spot_history.loans, who.account, s, limit)


@router.get("/margin/isolated/transfers", tags=["isolated margin"], summary="Transfers in (+) and out (−)")
async def transfers(request: Request, who: Read, symbol: OptPair = None, limit: Limit = 500) -> Any:
    venue = venue_of(request)
    s = None if symbol is None else spot_pair(venue, symbol)
    return venue.spot_history.rows(venue.spot_history.transfers, who.account, s, limit)


@router.get("/margin/isolated/alerts", tags=["isolated margin"], summary="Margin calls and liquidation steps")
async def alerts(request: Request, who: Read, symbol: OptPair = None, limit: Limit = 500) -> Any:
    venue = venue_of(request)
    s = None if symbol is None else spot_pair(venue, symbol)
    h = venue.spot_history
    return {"margin_calls": h.rows(h.alerts, who.account, s, limit),
            "liquidations": h.rows(h.liquidations, who.account, s, limit)}  # fmt: skip


# ================================================================ operator
class SpotMarkIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    price: Annotated[Decimal, decimal_field("price", example="60000")] = Field(description="the pair's mark, > 0")


class RateIn(BaseModel):
    symbol: Annotated[str, symbol_field()]
    asset: Asset
    daily_rate: Annotated[Decimal, decimal_field("daily_rate", example="0.0002")] = Field(
        description="fraction a day, e.g. 0.0002 (0.02 %); applies from the next hour charged"
    )


class AccrueIn(BaseModel):
    ts: Annotated[int | None, int_field("ts", 0, MAX_TS).or_none()] = Field(
        None, description="charge every whole UTC hour up to this time (ms); default now. A time ahead charges "
        "those hours now (later charges skip them)"
    )  # fmt: skip


@router.post("/admin/spot/mark-price", tags=["operator"], summary="Set a spot pair's mark price")
async def admin_mark(request: Request, body: SpotMarkIn, _: Operator) -> Any:
    venue = venue_of(request)
    s = spot_pair(venue, body.symbol)
    price = positive(body.price, "price")
    events = await venue.submit(SetMarkPrice(s, price, price))
    return jsonable({"symbol": s, "mark_price": price, "events": [event_row(e) for e in events]})


@router.post("/admin/spot/borrow-rate", tags=["operator"], summary="Set the daily borrow rate of a pair's asset")
async def admin_rate(request: Request, body: RateIn, _: Operator) -> Any:
    venue = venue_of(request)
    s = spot_pair(venue, body.symbol)
    asset = pair_asset(venue, s, body.asset)
    await venue.submit(SetBorrowRate(s, asset, body.daily_rate))
    rates = venue.read(lambda: sq.spot_pair(venue.engine, s))["daily_rates"]
    return jsonable({"symbol": s, "asset": asset, "daily_rate": rates[asset]})


@router.post("/admin/spot/accrue-interest", tags=["operator"],
             summary="Charge interest for every whole UTC hour up to now (or `ts`)")  # fmt: skip
async def admin_accrue(request: Request, body: AccrueIn, _: Operator) -> Any:
    venue = venue_of(request)
    events = await venue.submit(AccrueInterest(), ts=body.ts)
    charges = [e for e in events if isinstance(e, InterestCharged)]
    return jsonable({"charges": len(charges), "rows": [event_row(e) for e in charges]})


class ListPairIn(BaseModel):
    symbol: Annotated[str, symbol_field()] = Field(description="BASE-QUOTE, e.g. BTC-USDT")
    venue: Literal["binance", "okx"] = Field("binance", description="whose spot-margin rules and data the pair takes")
    price: Annotated[Decimal | None, decimal_field("price", example="60000").or_none()] = Field(
        None, description="an opening mark price, > 0"
    )


@router.post("/admin/spot/pairs", tags=["operator"], summary="List a spot pair with isolated margin")
async def admin_list(request: Request, body: ListPairIn, _: Operator) -> Any:
    venue = venue_of(request)
    s = parse_symbol(body.symbol)
    price = None if body.price is None else positive(body.price, "price")
    await venue.submit(ListSpotPair(s, venue=body.venue))
    if price is not None:
        await venue.submit(SetMarkPrice(s, price, price))
    return jsonable(venue.read(lambda: sq.spot_pair(venue.engine, s)))
