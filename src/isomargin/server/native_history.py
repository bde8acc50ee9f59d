"""Native read models the dashboard's ticket and history panels use, built from engine queries and events only:

- `preview`: what an order would do before it is sent (margin, liquidation price, fee, fill) — the order is
  applied to a private copy of the engine, so the figures are the engine's own, never a re-derived formula;
- `adl_ranks`: the account's positions' place in their market side's auto-deleveraging queue, by the score the
  engine ranks with (PnL % × effective leverage, from the public position view);
- `position_history`: closed (and the open) round trips rebuilt from the account's fills, with realised PnL.

Also the dashboard's static files (`/dashboard/static/…`: its script, style sheet and the vendored
lightweight-charts build).
"""

from __future__ import annotations

import math
from decimal import Decimal
from importlib import resources
from typing import Any, Final

from fastapi import APIRouter
from fastapi.responses import Response

from isomargin.engine import (
    CancelAllOrders,
    CreateAccount,
    Deposit,
    Engine,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetLeverage,
    SetMarginMode,
    TimeInForce,
    restore,
    snapshot,
)
from isomargin.engine import queries as q
from isomargin.engine.events import AccountCreated, Event, Rejected, Trade
from isomargin.margin import round_down, round_up
from isomargin.server.errors import ApiError

ZERO: Final = Decimal(0)
ADL_QUANTILES: Final = 5  # Binance's five lights: 5 = the first fifth of the queue
HELPER_DEPOSIT: Final = Decimal(10) ** 10  # the preview's counterparty (the engine refuses larger deposits)
_STOPS: Final = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET, OrderType.STOP_LIMIT,
                           OrderType.TAKE_PROFIT_LIMIT})  # fmt: skip


def _rejection(events: list[Event]) -> Rejected | None:
    return next((e for e in events if isinstance(e, Rejected)), None)


def _crosses(engine: Engine, symbol: str, side: OrderSide, price: Decimal) -> bool:
    bids, asks = q.depth(engine, symbol, 1)
    if side is OrderSide.BUY:
        return bool(asks) and Decimal(asks[0][0]) <= price
    return bool(bids) and Decimal(bids[0][0]) >= price


def preview(
    engine: Engine, account: int, cmd: PlaceOrder, leverage: int | None, mode: MarginMode | None, ts: int
) -> dict[str, Any]:
    """Apply the settings and the order to `engine` (a private copy: `private_copy`) and report what the
    account's position and balance became. A market order (and a limit that crosses) fills against the book as
    it stands; a resting limit is filled as maker at its price and a stop / take-profit as taker at its trigger
    price by a counterparty that exists only in the copy, with the book cleared first."""
    inst = q.instrument(engine, cmd.symbol)
    if inst is None:
        raise ApiError(404, "unknown_symbol", f"no market {cmd.symbol!r}", -1121, "Invalid symbol.")
    settle = inst.settle
    before = q.position(engine, account, cmd.symbol, cmd.position_side)
    bal_before = q.balances(engine, account, settle)
    out: dict[str, Any] = {"symbol": cmd.symbol, "asset": settle, "ok": True}

    def fail(ev: Rejected) -> dict[str, Any]:
        return {**out, "ok": False, "code": ev.code.value, "message": ev.message}

    if mode is not None and q.setting(engine, account, cmd.symbol)[0] is not mode:
        rej = _rejection(engine.apply(SetMarginMode(account, cmd.symbol, mode, ts=ts)))
        if rej is not None:
            return fail(rej)
    if leverage is not None and q.setting(engine, account, cmd.symbol)[1] != leverage:
        rej = _rejection(engine.apply(SetLeverage(account, cmd.symbol, leverage, ts=ts)))
        if rej is not None:
            return fail(rej)
    price = cmd.stop_price if cmd.type in _STOPS else cmd.price
    events: list[Event] = []
    if cmd.type is OrderType.MARKET or (
        cmd.type is OrderType.LIMIT and price is not None and cmd.tif is not TimeInForce.GTX
        and _crosses(engine, cmd.symbol, cmd.side, price)
    ):  # fmt: skip
        events = engine.apply(cmd)
    elif price is not None and price > 0 and cmd.qty is not None and cmd.qty > 0:
        helper = _counterparty(engine, settle, ts)
        for other in q.accounts(engine):
            engine.apply(CancelAllOrders(other, cmd.symbol, ts=ts))
        opposite = OrderSide.SELL if cmd.side is OrderSide.BUY else OrderSide.BUY
        counter = PlaceOrder(helper, cmd.symbol, opposite, OrderType.LIMIT, cmd.qty, price, ts=ts)
        mine = PlaceOrder(account, cmd.symbol, cmd.side, OrderType.LIMIT, cmd.qty, price,
                          tif=TimeInForce.GTC if cmd.type is OrderType.LIMIT else TimeInForce.IOC,
                          reduce_only=cmd.reduce_only, position_side=cmd.position_side,
                          client_order_id=cmd.client_order_id, ts=ts)  # fmt: skip
        if cmd.type is OrderType.LIMIT:  # rests, then is taken: the maker's fee
            events = engine.apply(mine)
            if _rejection(events) is None:
                events = events + engine.apply(
                    PlaceOrder(helper, cmd.symbol, opposite, OrderType.MARKET, cmd.qty, ts=ts)
                )
        else:  # triggered: takes the counterparty's resting order
            rej = _rejection(engine.apply(counter))
            events = [rej] if rej is not None else engine.apply(mine)
    else:
        events = engine.apply(cmd)  # the engine says what is missing
    rej = _rejection(events)
    if rej is not None:
        return fail(rej)
    fee = filled = value = realized = ZERO
    for ev in events:
        if isinstance(ev, Trade):
            if ev.taker_account == account:
                fee, realized = fee + ev.taker_fee, realized + ev.taker_realized_pnl
            elif ev.maker_account == account:
                fee, realized = fee + ev.maker_fee, realized + ev.maker_realized_pnl
            else:
                continue
            filled, value = filled + ev.qty, value + ev.qty * ev.price
    after = q.position(engine, account, cmd.symbol, cmd.position_side)
    bal_after = q.balances(engine, account, settle)

    def margin_of(view: dict[str, Any] | None) -> Decimal:
        if view is None:
            return ZERO
        m: Decimal = view["isolated_margin"] if view["margin_mode"] is MarginMode.ISOLATED else view["initial_margin"]
        return m

    out.update({
        "filled_qty": filled, "average_price": value / filled if filled else None, "fee": fee,
        "realized_pnl": realized, "margin_before": margin_of(before), "margin_after": margin_of(after),
        "margin_change": margin_of(after) - margin_of(before),
        "size_after": ZERO if after is None else after["size"],
        "entry_price_after": None if after is None else after["entry_price"],
        "liquidation_price_after": None if after is None else _to_tick(after, inst.tick),
        "liquidation_exact_after": None if after is None else after["liquidation_exact"],
        "leverage": q.setting(engine, account, cmd.symbol)[1],
        "margin_mode": q.setting(engine, account, cmd.symbol)[0].value.lower(),
        "available_before": bal_before["available"], "available_after": bal_after["available"],
        "resting": filled == 0 and cmd.type is OrderType.LIMIT,
    })  # fmt: skip
    return out


def _to_tick(view: dict[str, Any], tick: Decimal) -> Decimal | None:
    """The liquidation price on the tick grid, rounded against the trader (long: up, short: down)."""
    liq: Decimal | None = view["liquidation_price"]
    if liq is None:
        return None
    return round_up(liq, tick) if view["size"] > 0 else round_down(liq, tick)


def _counterparty(engine: Engine, settle: str, ts: int) -> int:
    created = engine.apply(CreateAccount(None, ts=ts))
    acct = next(e.account for e in created if isinstance(e, AccountCreated))
    engine.apply(Deposit(acct, settle, HELPER_DEPOSIT, ts=ts))
    return int(acct)


def private_copy(engine: Engine) -> Engine:
    """A copy of the engine to try commands on (call under the venue's read lock). Through a snapshot rather
    than `copy.deepcopy`: the compiled (mypyc) engine's classes cannot be deep-copied (TypeError), and a
    snapshot is the engine's own exact description of its state."""
    return restore(snapshot(engine), listings=[(venue, spec) for (venue, _), spec in engine.listings.items()])


def _adl_score(view: dict[str, Any]) -> Decimal:
    """The engine's ADL score from the position view: PnL % (of initial margin) × effective leverage for a
    winner, PnL % ÷ effective leverage for a loser (so a loser with more leverage ranks later)."""
    pnl_pct: Decimal = view["pnl_ratio"]
    balance: Decimal = view["margin_balance"]
    lev = abs(view["notional"]) / balance if balance > 0 else Decimal("1e30")
    if pnl_pct > 0:
        return pnl_pct * lev
    return pnl_pct / lev if lev else pnl_pct


def adl_ranks(engine: Engine, account: int) -> list[dict[str, Any]]:
    """For each open position of `account`: its place in the queue of its market side (1 = deleveraged first)
    and the quantile light 1..5 (5 = in the first fifth). Walks every account's positions of those markets."""
    mine = q.positions(engine, account)
    if not mine:
        return []
    symbols = {v["symbol"] for v in mine}
    sides: dict[tuple[str, bool], list[tuple[Decimal, int, str]]] = {}
    for acct in q.accounts(engine):
        for v in q.positions(engine, acct):
            if v["symbol"] in symbols and v["size"]:
                sides.setdefault((v["symbol"], v["size"] > 0), []).append(
                    (_adl_score(v), acct, str(v["position_side"]))
                )
    out = []
    for v in mine:
        queue = sorted(sides.get((v["symbol"], v["size"] > 0), []), key=lambda r: (-r[0], r[1], r[2]))
        me = (_adl_score(v), account, str(v["position_side"]))
        place = queue.index(me) + 1 if me in queue else len(queue)
        n = max(len(queue), 1)
        quantile = ADL_QUANTILES - math.floor((place - 1) * ADL_QUANTILES / n)
        out.append({"symbol": v["symbol"], "position_side": v["position_side"], "side": "long" if v["size"] > 0
                    else "short", "queue_position": place, "queue_size": len(queue), "adl_quantile": quantile,
                    "score": _adl_score(v)})  # fmt: skip
    return out


def position_history(fills: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Round trips per (symbol, position side) from the account's fills in order: opened when the size leaves
    zero, closed when it returns to zero (a fill through zero closes one and opens the next); realised PnL and
    fees summed over the trip. The newest first; an open trip has `closed_time` None."""
    trips: list[dict[str, Any]] = []
    open_: dict[tuple[str, str], dict[str, Any]] = {}
    for f in fills:
        key = (f["symbol"], f["position_side"])
        signed = f["qty"] if f["side"] is OrderSide.BUY or f["side"] == "BUY" else -f["qty"]
        qty_left = signed
        while qty_left:
            t = open_.get(key)
            if t is None:
                t = open_[key] = {"symbol": f["symbol"], "position_side": f["position_side"], "asset": f["asset"],
                                  "side": "long" if qty_left > 0 else "short", "opened_time": f["time"],
                                  "closed_time": None, "size": ZERO, "max_size": ZERO, "entry_value": ZERO,
                                  "entry_qty": ZERO, "exit_value": ZERO, "exit_qty": ZERO,
                                  "realized_pnl": ZERO, "fees": ZERO, "liquidated": False}  # fmt: skip
                trips.append(t)
            grows = (t["size"] >= 0 and qty_left > 0 and t["side"] == "long") or (
                t["size"] <= 0 and qty_left < 0 and t["side"] == "short"
            )
            step = qty_left if grows else (max(qty_left, -t["size"]) if t["size"] > 0 else min(qty_left, -t["size"]))
            share = abs(step) / f["qty"]
            if grows:
                t["entry_value"] += abs(step) * f["price"]
                t["entry_qty"] += abs(step)
            else:
                t["exit_value"] += abs(step) * f["price"]
                t["exit_qty"] += abs(step)
                t["realized_pnl"] += f["realized_pnl"] * share
            t["fees"] += f["fee"] * share
            t["liquidated"] = t["liquidated"] or bool(f.get("liquidation"))
            t["size"] += step
            t["max_size"] = max(t["max_size"], abs(t["size"]))
            qty_left -= step
            if t["size"] == 0:
                t["closed_time"] = f["time"]
                del open_[key]
    rows = []
    for t in reversed(trips):
        rows.append({
            "symbol": t["symbol"], "position_side": t["position_side"], "side": t["side"], "asset": t["asset"],
            "opened_time": t["opened_time"], "closed_time": t["closed_time"], "max_size": t["max_size"],
            "size": t["size"],
            "entry_price": t["entry_value"] / t["entry_qty"] if t["entry_qty"] else None,
            "close_price": t["exit_value"] / t["exit_qty"] if t["exit_qty"] else None,
            "realized_pnl": t["realized_pnl"], "fees": t["fees"], "net_pnl": t["realized_pnl"] - t["fees"],
            "liquidated": t["liquidated"],
        })  # fmt: skip
    return rows[:limit]


# ------------------------------------------------------------------------ the dashboard's static files
assets = APIRouter(include_in_schema=False)
STATIC_TYPES: Final = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
                       "txt": "text/plain; charset=utf-8"}  # fmt: skip
STATIC_FILES: Final = frozenset({
    "dashboard.js", "dashboard.css", "margin_panel.js", "options_panel.js",
    "vendor/lightweight-charts.standalone.production.js",
    "vendor/LICENSE-lightweight-charts.txt", "vendor/NOTICE-fancy-canvas.txt",
})  # fmt: skip


@assets.get("/dashboard/static/{name:path}")
async def dashboard_static(name: str) -> Response:
    if name not in STATIC_FILES:  # a fixed list: no path from the request reaches the file system
        raise ApiError(404, "not_found", "no such file", -1000)
    body = resources.files("isomargin.server").joinpath("static/" + name).read_bytes()
    return Response(body, media_type=STATIC_TYPES[name.rsplit(".", 1)[1]], headers={"Cache-Control": "no-cache"})
