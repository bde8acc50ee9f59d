"""The native API's isolated-options endpoints under /api/v1 (`/options/…`: markets and chains, books, orders,
positions with greeks, margin moves, fills, settlements, alerts) and their operator endpoints (`/admin/options/…`:
list an option, set a family's index or an option's mark or implied vol, settle an expiry). Every change is an
engine command through the venue; reads go through `engine.options_queries` and the event-built `OptionHistory`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from isomargin.engine import OrderSide, SetMarkPrice, TimeInForce
from isomargin.engine import options_queries as oq
from isomargin.engine.commands import (
    AdjustOptionMargin,
    CancelOptionOrder,
    ListOption,
    PlaceOptionOrder,
    SetOptionVol,
    SettleOptions,
)
from isomargin.engine.events import Event
from isomargin.engine.options_events import OptionDelisted, OptionOrderUpdated, OptionSettled
from isomargin.server.auth import no_duplicates
from isomargin.server.errors import ApiError, NativeError, error_responses
from isomargin.server.native import MAX_PAGE, Operator, Read, Trade, venue_of
from isomargin.server.params import (
    Grammar,
    bool_field,
    client_id_field,
    decimal_field,
    echo,
    int_field,
    symbol_field,
)
from isomargin.server.venue import Venue, event_row, jsonable, now_ms
from isomargin.venues.options import MAX_SYMBOL_CHARS, UnknownOptionFamily, option_family
from isomargin.venues.options import parse_symbol as parse_option_symbol

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_duplicates)], responses=error_responses(NativeError))
MAX_TS: Final = 2**63 - 1  # the engine's bound on a command's timestamp (ms)
MAX_LEVELS: Final = 500  # book levels a side one request returns at most
OPTION_RULE: Final = f"^[A-Za-z0-9.-]{{1,{MAX_SYMBOL_CHARS}}}$"
_OPTION = re.compile(f"[A-Za-z0-9.-]{{1,{MAX_SYMBOL_CHARS}}}")
FAMILY_VENUES: Final = ("okx", "binance")  # whose option families the venue can list


def parse_option(value: object, what: str = "symbol") -> str:
    """An option symbol as the edge reads it: ASCII letters, digits, '.' and '-' (at most 48), upper-cased."""
    if isinstance(value, str) and _OPTION.fullmatch(value):
        return value.upper()
    raise ApiError(400, "bad_symbol", f"{what} must be 1..{MAX_SYMBOL_CHARS} of A-Z 0-9 . -, got {echo(value)}",
                   -1100)  # fmt: skip


def option_field(what: str = "symbol") -> Grammar:
    return Grammar(lambda v: parse_option(v, what), {"type": "string", "pattern": OPTION_RULE,
                                                     "examples": ["BTC-USD-261225-100000-C"]})  # fmt: skip


OptionPath = Annotated[str, Path(description="option symbol, e.g. BTC-USD-261225-100000-C"), option_field()]
OrderId = Annotated[int, Path(description="the option order's id"), int_field("order_id", 1)]
Limit = Annotated[int, Query(description=f"rows, 1..{MAX_PAGE}"), int_field("limit", 1, MAX_PAGE)]
OptOption = Annotated[str | None, Query(description="option symbol"), option_field().or_none()]
OptFamily = Annotated[str | None, Query(description="option family, e.g. BTC-USD or BTCUSDT"),
                      symbol_field("family").or_none()]  # fmt: skip


def listed_option(venue: Venue, symbol: str) -> dict[str, Any]:
    """The engine view of a listed option, or a 404 that says where the list is (nothing is submitted)."""
    view = venue.read(lambda: oq.option(venue.engine, symbol))
    if view is None:
        settled = venue.option_history.delisted.get(symbol)
        why = f"settled at {settled['price']}" if settled is not None else "not listed"
        raise ApiError(404, "unknown_option", f"option {symbol!r} is {why} (GET /api/v1/options lists them)",
                       -1121, "Invalid symbol.")  # fmt: skip
    return dict(view)


def positive(amount: Decimal, what: str) -> Decimal:
    if amount <= 0:
        raise ApiError(400, "bad_amount", f"{what} must be greater than zero", -4055, "Amount must be positive.")
    return amount


def position_view(venue: Venue, account: int, symbol: str) -> dict[str, Any] | None:
    """A position as the API shows it: the engine's view, with greeks when the option was last marked from an IV."""
    got = venue.option_history.iv.get(symbol)
    vol = None if got is None else got[0]
    ts = now_ms()
    view = venue.read(lambda: oq.option_position(venue.engine, account, symbol, vol, ts))
    if view is None:
        return None
    return {**view, "iv": vol}


# ================================================================ markets
@router.get("/options", tags=["options"], summary="Listed options (one family's, one expiry's), by expiry and strike")
async def options(
    request: Request, family: OptFamily = None,
    expiry: Annotated[int | None, Query(description="expiry (ms)"), int_field("expiry", 0, MAX_TS).or_none()] = None,
) -> Any:  # fmt: skip
    venue = venue_of(request)
    rows = venue.read(lambda: oq.options(venue.engine, family))
    return jsonable([{**r, "iv": _iv(venue, r["symbol"])} for r in rows if expiry in (None, r["expiry"])])


def _iv(venue: Venue, symbol: str) -> Decimal | None:
    got = venue.option_history.iv.get(symbol)
    return None if got is None else got[0]


@router.get("/options/chain", tags=["options"], summary="A family's chain: expiries, each with strikes, call and put")
async def chain(request: Request,
                family: Annotated[str, Query(description="e.g. BTC-USD"), symbol_field("family")]) -> Any:  # fmt: skip
    venue = venue_of(request)
    rows = venue.read(lambda: oq.options(venue.engine, family))
    if not rows:
        raise ApiError(404, "unknown_family", f"no options listed on {family!r} (GET /api/v1/options lists them)",
                       -1121)  # fmt: skip
    expiries: dict[int, dict[Decimal, dict[str, Any]]] = {}
    for r in rows:
        row = expiries.setdefault(r["expiry"], {}).setdefault(r["strike"], {"strike": r["strike"], "call": None,
                                                                              "put": None})  # fmt: skip
        row[r["kind"]] = {"symbol": r["symbol"], "mark_price": r["mark_price"], "iv": _iv(venue, r["symbol"]),
                          "open_interest": r["open_interest"]}  # fmt: skip
    index = venue.read(lambda: oq.index_price(venue.engine, family))
    return jsonable({"family": family, "index_price": index, "expiries": [
        {"expiry": e, "strikes": [s[k] for k in sorted(s)]} for e, s in sorted(expiries.items())]})  # fmt: skip


@router.get("/options/index/{family}", tags=["options"], summary="A family's index price (the underlying)")
async def index(request: Request, family: Annotated[str, Path(), symbol_field("family")]) -> Any:
    venue = venue_of(request)
    price = venue.read(lambda: oq.index_price(venue.engine, family))
    if price is None:
        raise ApiError(404, "no_index_price", f"{family!r} has no index price", -1121)
    return jsonable({"family": family, "index_price": price})


# ================================================================ orders (fixed paths before /options/{symbol})
class OptionOrderIn(BaseModel):
    symbol: Annotated[str, option_field()]
    side: Literal["BUY", "SELL"]
    quantity: Annotated[Decimal, decimal_field("quantity", example="10")] = Field(description="contracts")
    price: Annotated[Decimal, decimal_field("price", example="0.03")] = Field(
        description="premium per unit of the underlying in the settle asset, on the option's tick"
    )
    time_in_force: Literal["GTC", "IOC", "FOK", "GTX"] = Field("GTC", description="GTX: post-only")
    reduce_only: Annotated[bool, bool_field("reduce_only")] = False
    client_order_id: Annotated[str | None, client_id_field("client_order_id").or_none()] = None


def _order_of(venue: Venue, account: int, events: list[Event]) -> dict[str, Any]:
    for ev in events:
        if isinstance(ev, OptionOrderUpdated) and ev.account == account:
            rec = venue.option_history.orders.get(ev.order_id)
            if rec is not None:
                return dict(rec)
    raise ApiError(500, "order_lost", "order accepted but not found in history", -1000)


def own_order(venue: Venue, account: int, order_id: int) -> dict[str, Any]:
    rec = venue.option_history.orders.get(order_id)
    if rec is None or rec["account"] != account:
        raise ApiError(404, "unknown_order", f"no option order {order_id} for this account", -2013,
                       "Order does not exist.")  # fmt: skip
    return dict(rec)


@router.post("/options/orders", tags=["options"], summary="Place a limit order for option contracts")
async def post_order(request: Request, body: OptionOrderIn, who: Trade) -> Any:
    """A buy holds its premium and the capped fee; a sell that opens a short holds OKX's sell-to-open margin (its
    pool then holds the short's initial margin). Refusals (off-tick premium, too little balance, expired option)
    are 400s and change nothing."""
    venue = venue_of(request)
    listed_option(venue, body.symbol)
    cmd = PlaceOptionOrder(who.account, body.symbol, OrderSide[body.side], positive(body.quantity, "quantity"),
                           positive(body.price, "price"), tif=TimeInForce(body.time_in_force),
                           reduce_only=body.reduce_only, client_order_id=body.client_order_id)  # fmt: skip
    return jsonable(_order_of(venue, who.account, await venue.submit(cmd)))


@router.get("/options/orders", tags=["options"], summary="The account's open option orders, or recent ones (all)")
async def get_orders(request: Request, who: Read, symbol: OptOption = None,
                     status: Literal["open", "all"] = "open", limit: Limit = 500) -> Any:  # fmt: skip
    venue = venue_of(request)
    rows = [
        r
        for r in venue.option_history.orders.values()
        if r["account"] == who.account and symbol in (None, r["symbol"]) and (status == "all" or r["open"])
    ]
    if status == "open":  # with what each open order holds now
        held = {o["order_id"]: o["margin"] for o in venue.read(lambda: oq.option_orders(venue.engine, who.account))}
        rows = [{**r, "margin": held.get(r["order_id"])} for r in rows]
    return jsonable(rows[-limit:])


@router.get("/options/orders/{order_id}", tags=["options"], summary="One option order")
async def get_order(request: Request, order_id: OrderId, who: Read) -> Any:
    return jsonable(own_order(venue_of(request), who.account, order_id))


@router.delete("/options/orders/{order_id}", tags=["options"], summary="Cancel an option order")
async def delete_order(request: Request, order_id: OrderId, who: Trade) -> Any:
    venue = venue_of(request)
    rec = own_order(venue, who.account, order_id)
    if not rec["open"]:
        raise ApiError(400, "unknown_order", f"option order {order_id} is {rec['status']}, not open", -2011,
                       "Unknown order sent.")  # fmt: skip
    await venue.submit(CancelOptionOrder(who.account, rec["symbol"], order_id=order_id))
    return jsonable(own_order(venue, who.account, order_id))


# ================================================================ positions, margin, histories
@router.get(
    "/options/positions",
    tags=["options"],
    summary="Open option positions: premium PnL, margin, ratio, liquidation mark, greeks (given an IV)",
)
async def positions(request: Request, who: Read) -> Any:
    venue = venue_of(request)
    symbols = [p["symbol"] for p in venue.read(lambda: oq.option_positions(venue.engine, who.account))]
    return jsonable([v for s in symbols if (v := position_view(venue, who.account, s)) is not None])


@router.get("/options/positions/{symbol}", tags=["options"], summary="One option position")
async def position(request: Request, symbol: OptionPath, who: Read) -> Any:
    venue = venue_of(request)
    listed_option(venue, symbol)
    view = position_view(venue, who.account, symbol)
    if view is None:
        raise ApiError(404, "no_position", f"no open {symbol} position", -4054)
    return jsonable(view)


class OptionMarginIn(BaseModel):
    symbol: Annotated[str, option_field()]
    amount: Annotated[Decimal, decimal_field("amount", example="0.01")] = Field(description="in the settle asset, > 0")
    type: Literal["add", "remove"] = Field(description="add to the short's pool, or remove (at most max_removable)")


@router.post("/options/margin", tags=["options"], summary="Add margin to, or remove it from, a short's pool")
async def margin(request: Request, body: OptionMarginIn, who: Trade) -> Any:
    venue = venue_of(request)
    listed_option(venue, body.symbol)
    amount = positive(body.amount, "amount")
    await venue.submit(AdjustOptionMargin(who.account, body.symbol, amount if body.type == "add" else -amount))
    return jsonable(position_view(venue, who.account, body.symbol))


@router.get("/options/fills", tags=["options"], summary="The account's option fills (premium and fee per fill)")
async def fills(request: Request, who: Read, symbol: OptOption = None, limit: Limit = 500) -> Any:
    h = venue_of(request).option_history
    return h.rows(h.fills, who.account, symbol, limit)


@router.get("/options/settlements", tags=["options"], summary="Expiry settlements: payout (+ received, − paid)")
async def settlements(request: Request, who: Read, symbol: OptOption = None, limit: Limit = 500) -> Any:
    h = venue_of(request).option_history
    return h.rows(h.settlements, who.account, symbol, limit)


@router.get("/options/margin-moves", tags=["options"], summary="Margin added (+) to and removed (−) from pools")
async def margin_moves(request: Request, who: Read, symbol: OptOption = None, limit: Limit = 500) -> Any:
    h = venue_of(request).option_history
    return h.rows(h.margin_moves, who.account, symbol, limit)


@router.get("/options/alerts", tags=["options"], summary="Option margin calls and liquidation steps")
async def alerts(request: Request, who: Read, symbol: OptOption = None, limit: Limit = 500) -> Any:
    h = venue_of(request).option_history
    return {"margin_calls": h.rows(h.alerts, who.account, symbol, limit),
            "liquidations": h.rows(h.liquidations, who.account, symbol, limit)}  # fmt: skip


# ================================================================ one option (after the fixed paths)
@router.get("/options/{symbol}", tags=["options"], summary="One option: contract, fees, mark, index, open interest")
async def one(request: Request, symbol: OptionPath) -> Any:
    venue = venue_of(request)
    return jsonable({**listed_option(venue, symbol), "iv": _iv(venue, symbol)})


@router.get("/options/{symbol}/book", tags=["options"], summary="An option's order book (premiums and contracts)")
async def book(
    request: Request, symbol: OptionPath,
    limit: Annotated[int, Query(description=f"levels a side, 1..{MAX_LEVELS}"),
                     int_field("limit", 1, MAX_LEVELS)] = 50,
) -> Any:  # fmt: skip
    venue = venue_of(request)
    listed_option(venue, symbol)
    depth = venue.read(lambda: oq.option_depth(venue.engine, symbol, limit))
    return jsonable({"symbol": symbol, **(depth or {"bids": [], "asks": []})})


# ================================================================ operator
class ListOptionIn(BaseModel):
    symbol: Annotated[str, option_field()] = Field(
        description="OKX: BTC-USD-YYMMDD-STRIKE-C|P (coin-margined); Binance: BTC-YYMMDD-STRIKE-C|P (USDT)"
    )
    venue: Literal["okx", "binance"] = Field("okx", description="whose option family data the option takes")
    mark_price: Annotated[Decimal | None, decimal_field("mark_price", example="0.03").or_none()] = Field(
        None, description="an opening mark premium, > 0"
    )
    iv: Annotated[Decimal | None, decimal_field("iv", example="0.55").or_none()] = Field(
        None, description="an opening Black-76 mark from this implied vol (needs the family's index)"
    )


def check_listable(venue: Venue, symbol: str, where: str) -> tuple[str, int]:
    """The option's family and expiry, read from its name before anything is submitted: a malformed name, a strike
    ≤ 0, an unknown family, or a past expiry is a 400. (A family may share its name with a futures
    market — Binance's BTCUSDT options — whose marks then carry the family's index.)"""
    try:
        family, expiry, _, _ = parse_option_symbol(symbol)
    except ValueError as exc:
        code = "bad_strike" if "strike" in str(exc) else "bad_option"
        raise ApiError(400, code, str(exc), -1121) from None
    try:
        fam = option_family(where, family)
    except UnknownOptionFamily as exc:
        raise ApiError(400, "bad_option", f"{symbol!r}: {exc}", -1121) from None
    if expiry <= now_ms():
        raise ApiError(400, "option_expired", f"{symbol!r} expired at {expiry} (ms); list a later expiry", -1121)
    return fam.family, expiry


@router.post("/admin/options", tags=["operator"], summary="List an option (optionally with an opening mark or IV)")
async def admin_list(request: Request, body: ListOptionIn, _: Operator) -> Any:
    venue = venue_of(request)
    family = check_listable(venue, body.symbol, body.venue)[0]
    mark = None if body.mark_price is None else positive(body.mark_price, "mark_price")
    iv = None if body.iv is None else positive(body.iv, "iv")
    if iv is not None and venue.read(lambda: oq.index_price(venue.engine, family)) is None:
        raise ApiError(400, "no_index_price", f"{family} has no index yet: list without iv, then set the index "
                       "(POST /api/v1/admin/options/index) and the IV", -2010)  # fmt: skip
    await venue.submit(ListOption(body.symbol, venue=body.venue))
    if mark is not None:
        await venue.submit(SetMarkPrice(body.symbol, mark, mark))
    if iv is not None:
        await venue.submit(SetOptionVol(body.symbol, iv))
    return jsonable({**listed_option(venue, body.symbol), "iv": _iv(venue, body.symbol)})


class IndexIn(BaseModel):
    family: Annotated[str, symbol_field("family")] = Field(description="e.g. BTC-USD (okx) or BTCUSDT (binance)")
    price: Annotated[Decimal, decimal_field("price", example="95000")] = Field(description="the underlying's index")


class MarkIn(BaseModel):
    symbol: Annotated[str, option_field()]
    price: Annotated[Decimal, decimal_field("price", example="0.03")] = Field(description="the option's mark premium")


class VolIn(BaseModel):
    symbol: Annotated[str, option_field()]
    iv: Annotated[Decimal, decimal_field("iv", example="0.55")] = Field(description="implied vol, e.g. 0.55 = 55 %")


class SettleIn(BaseModel):
    family: Annotated[str, symbol_field("family")]
    expiry: Annotated[int, int_field("expiry", 1, MAX_TS)] = Field(description="the expiry (ms) to settle")
    price: Annotated[Decimal, decimal_field("price", example="95000")] = Field(description="the settlement index")


def _family_listed(venue: Venue, family: str) -> None:
    if not venue.read(lambda: oq.options(venue.engine, family)):
        raise ApiError(404, "unknown_family", f"no options listed on {family!r}", -1121)


@router.post("/admin/options/index", tags=["operator"], summary="Set an option family's index (shorts re-measured)")
async def admin_index(request: Request, body: IndexIn, _: Operator) -> Any:
    venue = venue_of(request)
    _family_listed(venue, body.family)
    price = positive(body.price, "price")
    events = await venue.submit(SetMarkPrice(body.family, price, price))
    return jsonable({"family": body.family, "index_price": price, "events": [event_row(e) for e in events]})


@router.post("/admin/options/mark", tags=["operator"], summary="Set an option's mark premium")
async def admin_mark(request: Request, body: MarkIn, _: Operator) -> Any:
    venue = venue_of(request)
    listed_option(venue, body.symbol)
    price = positive(body.price, "price")
    events = await venue.submit(SetMarkPrice(body.symbol, price, price))
    return jsonable({"symbol": body.symbol, "mark_price": price, "events": [event_row(e) for e in events]})


@router.post("/admin/options/iv", tags=["operator"], summary="Mark an option by Black-76 from an implied vol")
async def admin_iv(request: Request, body: VolIn, _: Operator) -> Any:
    venue = venue_of(request)
    listed_option(venue, body.symbol)
    events = await venue.submit(SetOptionVol(body.symbol, positive(body.iv, "iv")))
    view = listed_option(venue, body.symbol)
    return jsonable({"symbol": body.symbol, "iv": body.iv, "mark_price": view["mark_price"],
                     "events": [event_row(e) for e in events]})  # fmt: skip


@router.post("/admin/options/settle", tags=["operator"], summary="Settle a family's expiry at a settlement index")
async def admin_settle(request: Request, body: SettleIn, _: Operator) -> Any:
    venue = venue_of(request)
    _family_listed(venue, body.family)
    events = await venue.submit(SettleOptions(body.family, body.expiry, positive(body.price, "price")))
    rows = [event_row(e) for e in events if isinstance(e, OptionSettled)]
    delisted = [e.symbol for e in events if isinstance(e, OptionDelisted)]
    return jsonable({"family": body.family, "expiry": body.expiry, "price": body.price, "settled": rows,
                     "delisted": delisted})  # fmt: skip
