"""Engine state as plain data, its hash, and the exact inverse.

The snapshot is canonical JSON (sorted keys, decimals as strings, fixed separators), so its SHA-256
is the state hash: the same command stream always yields the same hash, and a restored engine
snapshots to the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from decimal import Decimal
from typing import Any

from isomargin.engine.book import OrderBook
from isomargin.engine.commands import STP, MarginMode, OrderSide, OrderType, PositionSide, TimeInForce, WorkingType
from isomargin.engine.engine import Engine
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import FUND_HISTORY
from isomargin.engine.orders import Order
from isomargin.engine.positions import Position
from isomargin.engine.state import HISTORY, Account, Setting
from isomargin.engine.triggers import TriggerIndex
from isomargin.engine.watch import PriceWatch
from isomargin.venues import get_profile

VERSION = 1


def _d(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dd(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything needed to rebuild `engine` exactly."""
    return {
        "version": VERSION,
        "seq": engine.seq,
        "next_order_id": engine.next_order_id,
        "next_trade_id": engine.next_trade_id,
        "instruments": [
            {
                "symbol": i.symbol,
                "venue": i.profile.name,
                "maker_fee": str(i.maker_fee),
                "taker_fee": str(i.taker_fee),
                "price_band": str(i.price_band),
            }
            for i in engine.instruments.values()
        ],
        "books": {sym: book.snapshot() for sym, book in engine.books.items()},
        "accounts": [
            {
                "id": a.id,
                "hedge_mode": a.hedge_mode,
                "settings": {sym: [s.margin_mode.value, s.leverage] for sym, s in a.settings.items()},
            }
            for a in engine.accounts.values()
        ],
        "orders": [_order(o) for o in engine.orders.values()],
        "positions": [_position(p) for a in engine.accounts.values() for p in a.positions.values()],
        # Funding (and later liquidation) walks a symbol's positions in opening order, which the per-account
        # list above does not keep: record it so a restored engine emits events in the same order.
        "position_order": {
            sym: [[account, side.value] for account, side in by_key] for sym, by_key in engine.positions.items()
        },
        "insurance_per_symbol": engine.insurance_per_symbol,
        "insurance_positions": [_position(p) for p in engine.insurance_positions.values()],
        "alert_levels": [[sym, acct, side, level] for (sym, acct, side), level in engine.alert_levels.items()],
        "ledger": {k: str(v) for k, v in engine.ledger.balances.items()},
        "fund_history": {k: [[r, str(a), str(b)] for r, a, b in log] for k, log in engine.ledger.history.items()},
        "paused": list(engine.paused),
        "marks": {k: str(v) for k, v in engine.marks.items()},
        "index_prices": {k: str(v) for k, v in engine.index_prices.items()},
        "last_prices": {k: str(v) for k, v in engine.last_prices.items()},
        "fills": {str(k): list(v) for k, v in engine.fills.items()},
        "funding_log": {str(k): list(v) for k, v in engine.funding_log.items()},
    }


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def state_hash(engine: Engine) -> str:
    """SHA-256 of the canonical snapshot without `seq`: the command counter belongs to the journal (it
    advances on a rejected command too), while the hash speaks for state, which a rejection never changes."""
    data = snapshot(engine)
    del data["seq"]
    return hashlib.sha256(canonical(data)).hexdigest()


def restore(data: dict[str, Any]) -> Engine:
    """The engine a snapshot describes (the inverse of `snapshot`)."""
    if data.get("version") != VERSION:
        raise ValueError(f"unsupported snapshot version {data.get('version')!r}")
    e = Engine(insurance_per_symbol=data["insurance_per_symbol"])
    e.seq, e.next_order_id, e.next_trade_id = data["seq"], data["next_order_id"], data["next_trade_id"]
    for raw in data["instruments"]:
        profile = get_profile(raw["venue"])
        spec = profile.spec(raw["symbol"])
        e.instruments[spec.symbol] = Instrument(
            spec.symbol, profile, spec, Decimal(raw["maker_fee"]), Decimal(raw["taker_fee"]), Decimal(raw["price_band"])
        )
        e.books[spec.symbol] = OrderBook.restore(data["books"][spec.symbol])
        e.triggers[spec.symbol] = TriggerIndex()
        e.positions[spec.symbol] = {}
        e.watches[spec.symbol] = PriceWatch()
    for raw in data["accounts"]:
        acct = Account(raw["id"], raw["hedge_mode"])
        acct.settings = {sym: Setting(MarginMode(m), lev) for sym, (m, lev) in raw["settings"].items()}
        e.accounts[acct.id] = acct
    for raw in data["orders"]:
        order = _order_from(raw)
        e.add_order(e.accounts[order.account], order)
        if order.resting_conditional:
            e.triggers[order.symbol].add(order)
    for raw in data["positions"]:
        pos = _position_from(raw)
        e.accounts[pos.account].positions[(pos.symbol, pos.side)] = pos
    for sym, keys in data["position_order"].items():
        e.positions[sym] = {
            (account, PositionSide(side)): e.accounts[account].positions[(sym, PositionSide(side))]
            for account, side in keys
        }
    e.ledger.balances = {k: Decimal(v) for k, v in data["ledger"].items()}
    e.ledger.history = {
        k: deque(((r, Decimal(a), Decimal(b)) for r, a, b in log), maxlen=FUND_HISTORY)
        for k, log in data["fund_history"].items()
    }
    e.insurance_positions = {raw["symbol"]: _position_from(raw) for raw in data["insurance_positions"]}
    e.alert_levels = {(sym, acct, side): level for sym, acct, side, level in data["alert_levels"]}
    for by_key in e.positions.values():  # liquidation and alert watches, cross holders: all derived
        for pos in by_key.values():
            e.watch_position(pos)
    e.paused = dict.fromkeys(data["paused"])
    e.marks = {k: Decimal(v) for k, v in data["marks"].items()}
    e.index_prices = {k: Decimal(v) for k, v in data["index_prices"].items()}
    e.last_prices = {k: Decimal(v) for k, v in data["last_prices"].items()}
    e.fills = {int(k): deque(v, maxlen=HISTORY) for k, v in data["fills"].items()}
    e.funding_log = {int(k): deque(v, maxlen=HISTORY) for k, v in data["funding_log"].items()}
    return e


def _order(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "account": o.account,
        "symbol": o.symbol,
        "side": int(o.side),
        "type": o.type.value,
        "tif": o.tif.value,
        "lots": o.lots,
        "price_ticks": o.price_ticks,
        "stop_price": _d(o.stop_price),
        "reduce_only": o.reduce_only,
        "close_position": o.close_position,
        "position_side": o.position_side.value,
        "client_order_id": o.client_order_id,
        "working_type": o.working_type.value,
        "stp": o.stp.value,
        "created": o.created,
        "callback_rate": _d(o.callback_rate),
        "activation_price": _d(o.activation_price),
        "filled_lots": o.filled_lots,
        "filled_cost": str(o.filled_cost),
        "hold": str(o.hold),
        "status": o.status,
        "triggered": o.triggered,
        "extreme": _d(o.extreme),
        "activated": o.activated,
    }


def _order_from(r: dict[str, Any]) -> Order:
    return Order(
        id=r["id"],
        account=r["account"],
        symbol=r["symbol"],
        side=OrderSide(r["side"]),
        type=OrderType(r["type"]),
        tif=TimeInForce(r["tif"]),
        lots=r["lots"],
        price_ticks=r["price_ticks"],
        stop_price=_dd(r["stop_price"]),
        reduce_only=r["reduce_only"],
        close_position=r["close_position"],
        position_side=PositionSide(r["position_side"]),
        client_order_id=r["client_order_id"],
        working_type=WorkingType(r["working_type"]),
        stp=STP(r["stp"]),
        created=r["created"],
        callback_rate=_dd(r["callback_rate"]),
        activation_price=_dd(r["activation_price"]),
        filled_lots=r["filled_lots"],
        filled_cost=Decimal(r["filled_cost"]),
        hold=Decimal(r["hold"]),
        status=r["status"],
        triggered=r["triggered"],
        extreme=_dd(r["extreme"]),
        activated=r["activated"],
    )


def _position(p: Position) -> dict[str, Any]:
    return {
        "account": p.account,
        "symbol": p.symbol,
        "side": p.side.value,
        "isolated": p.isolated,
        "leverage": p.leverage,
        "lots": p.lots,
        "cost": str(p.cost),
        "realized": str(p.realized),
        "funding": str(p.funding),
        "liquidation": _d(p.liquidation),
        "bankruptcy": _d(p.bankruptcy),
    }


def _position_from(raw: dict[str, Any]) -> Position:
    return Position(
        raw["account"], raw["symbol"], PositionSide(raw["side"]), raw["isolated"], raw["leverage"], raw["lots"],
        Decimal(raw["cost"]), Decimal(raw["realized"]), Decimal(raw["funding"]), _dd(raw["liquidation"]),
        _dd(raw["bankruptcy"]),
    )  # fmt: skip
