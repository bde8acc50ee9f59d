"""Engine state as plain data, its hash, and the exact inverse, component by component.

The snapshot is canonical JSON (sorted keys, integers for money, ticks, lots and points, decimals as strings), so
its SHA-256 is the state hash: the same command stream always yields the same hash, and a restored engine
snapshots to the same bytes. Derived indexes (price watches, cross bands, trigger lists) are rebuilt on restore;
every cross account starts dirty, which only costs its first re-measurement (a sound band never changes a level).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from isomargin.engine.book import OrderBook
from isomargin.engine.codes import AlertLevel, BalanceKind, OrderStatus, Posting
from isomargin.engine.commands import MarginMode, PositionSide
from isomargin.engine.engine import Engine
from isomargin.engine.events import OrderSpec
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import FUND_HISTORY, Balance
from isomargin.engine.options_snapshot import restore_options, snapshot_options
from isomargin.engine.spot_snapshot import restore_spot, snapshot_spot
from isomargin.engine.state import INSURANCE, Account, Market, Order, Position, Purse, Setting
from isomargin.venues import SymbolSpec, get_profile
from isomargin.venues.spot_margin import SpotPairSpec

VERSION: Final = 2
READS: Final = (2,)  # snapshot formats this build restores


class SnapshotError(ValueError):
    """A snapshot this build cannot restore (its format version, or damaged contents)."""


def _d(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dd(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything needed to rebuild `engine` exactly."""
    data = {
        "version": VERSION,
        "seq": engine.seq,
        "insurance_per_symbol": engine.insurance_per_symbol,
        "next_order_id": engine.orders.next_id,
        "next_trade_id": engine.trading.next_trade_id,
        "next_account_id": engine.accounts.next_id,
        "markets": [_market(m) for m in engine.markets.values()],
        "accounts": [_account(a) for a in engine.accounts.by_id.values()],
        "orders": [_order(o) for o in engine.orders.by_id.values()],
        "ledger": [[b.key, b.kind.value, b.asset, b.owner, b.amount] for b in engine.ledger.balances.values()],
        "fund_history": {k: [[r.value, a, b] for r, a, b in log] for k, log in engine.ledger.history.items()},
        "cross_alerts": [[a, asset, level.value] for (a, asset), level in engine.health.cross_alerts.items()],
    }
    spot = snapshot_spot(engine)
    if spot is not None:  # absent without spot pairs: snapshots and hashes of perps-only engines are as before
        data["spot"] = spot
    options = snapshot_options(engine)
    if options is not None:  # likewise without options
        data["options"] = options
    return data


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def state_hash(engine: Engine) -> str:
    """SHA-256 of the canonical snapshot without `seq`: the command counter advances on a rejected command too,
    while the hash speaks for state, which a rejection never changes."""
    data = snapshot(engine)
    del data["seq"]
    return hashlib.sha256(canonical(data)).hexdigest()


def _market(m: Market) -> dict[str, Any]:
    i = m.inst
    return {
        "symbol": i.symbol, "venue": i.profile.name, "maker_fee": str(i.maker_fee.decimal),
        "taker_fee": str(i.taker_fee.decimal), "price_band": str(i.price_band), "book": m.book.snapshot(),
        "mark": m.mark, "mark_dec": _d(m.mark_dec), "index": m.index, "index_dec": _d(m.index_dec), "last": m.last,
        "paused": m.paused, "fund": m.fund.key, "held": None if m.held is None else _position(m.held),
        "position_order": [[a, s.value] for a, s in m.positions],
        # Dated futures only (absent for perpetuals, so their snapshots and hashes are as before):
        **({"expiry": i.expiry, "delivered": m.delivered} if i.expiry is not None else {}),
    }  # fmt: skip


def _account(a: Account) -> dict[str, Any]:
    return {
        "id": a.id, "hedge_mode": a.hedge_mode,
        "settings": {sym: [s.margin_mode.value, s.leverage] for sym, s in a.settings.items()},
        "purses": [[asset, p.wallet.key, p.hold.key] for asset, p in a.purses.items()],
        "positions": [_position(p) for p in a.positions.values()],
    }  # fmt: skip


def _position(p: Position) -> dict[str, Any]:
    out: dict[str, Any] = {
        "account": p.account, "symbol": p.symbol, "side": p.side.value, "isolated": p.isolated,
        "leverage": p.leverage, "lots": p.lots, "cost": p.cost, "realized": p.realized, "funding": p.funding,
        "liquidation": _d(p.liquidation), "bankruptcy": _d(p.bankruptcy), "alert": p.alert.value,
        "pool": None if p.pool is None else p.pool.key,
    }  # fmt: skip
    if p.inst.inverse:  # the exact coin cost, inverse only (linear snapshots and hashes are as before)
        out["exact"] = [p.xnum, p.xden]
    return out


def _order(o: Order) -> dict[str, Any]:
    s = o.spec
    return {
        "spec": s.raw(), "leverage": o.leverage, "lots": o.lots, "ticks": o.ticks, "stop": o.stop,
        "filled": o.filled, "cost": o.cost,
        "hold": o.hold, "status": o.status.value, "triggered": o.triggered, "extreme": o.extreme,
        "activated": o.activated,
    }  # fmt: skip


# ------------------------------------------------------------------------------------------------------ restore
def restore(
    data: dict[str, Any], *, debug: bool = False, listings: Iterable[tuple[str, SymbolSpec]] = (),
    spot_listings: Iterable[SpotPairSpec] = (),
) -> Engine:  # fmt: skip
    """The engine a snapshot describes (the inverse of `snapshot`); `listings` as the snapshotted engine had them
    (`Engine(listings=…)`: symbol specs beyond the venue profiles' data)."""
    version = data.get("version")
    if version not in READS:
        raise SnapshotError(f"snapshot format {version!r}; this build reads format(s) {', '.join(map(str, READS))}")
    e = Engine(insurance_per_symbol=data["insurance_per_symbol"], debug=debug, listings=listings,
               spot_listings=spot_listings)  # fmt: skip
    e.seq = data["seq"]
    e.orders.next_id, e.trading.next_trade_id, e.accounts.next_id = (
        data["next_order_id"], data["next_trade_id"], data["next_account_id"],
    )  # fmt: skip
    balances = e.ledger.balances
    for key, kind, asset, owner, amount in data["ledger"]:
        bal = balances[key] = Balance(key, BalanceKind(kind), asset, owner)
        bal.amount = amount
    e.ledger.history = {
        k: deque(((Posting(r), a, b) for r, a, b in log), maxlen=FUND_HISTORY)
        for k, log in data["fund_history"].items()
    }
    for raw in data["markets"]:
        _restore_market(e, raw, balances)
    for raw in data["accounts"]:
        _restore_account(e, raw, balances)
    for raw in data["markets"]:  # markets walk their positions in opening order, which accounts do not keep
        market = e.markets[raw["symbol"]]
        market.positions = {
            (a, PositionSide(s)): e.accounts.by_id[a].positions[(market.inst.symbol, PositionSide(s))]
            for a, s in raw["position_order"]
        }
    for raw in data["orders"]:
        _restore_order(e, raw)
    e.health.cross_alerts = {(a, asset): AlertLevel(level) for a, asset, level in data["cross_alerts"]}
    for acct in e.accounts.by_id.values():
        for pos in acct.positions.values():
            if pos.isolated:
                e.health.watch(pos)
            else:
                e.health.dirty[acct.id] = None
    for asset in {m.inst.settle for m in e.markets.values()}:
        e.positions.asset_books(asset)
    restore_spot(e, data.get("spot"))
    restore_options(e, data.get("options"))
    return e


def _restore_market(e: Engine, raw: dict[str, Any], balances: dict[str, Balance]) -> None:
    profile = get_profile(raw["venue"])
    spec = e.listings.get((profile.name, raw["symbol"])) or profile.spec(raw["symbol"])
    inst = Instrument(profile, spec, Decimal(raw["maker_fee"]), Decimal(raw["taker_fee"]), Decimal(raw["price_band"]),
                      raw.get("expiry"))  # fmt: skip
    market = e.markets[inst.symbol] = Market(inst, balances[raw["fund"]])
    market.book = OrderBook.restore(raw["book"])
    market.mark, market.mark_dec = raw["mark"], _dd(raw["mark_dec"])
    market.index, market.index_dec = raw["index"], _dd(raw["index_dec"])
    market.last, market.paused = raw["last"], raw["paused"]
    market.delivered = raw.get("delivered", False)
    if raw["held"] is not None:
        market.held = _restore_position(e, raw["held"], balances)


def _restore_account(e: Engine, raw: dict[str, Any], balances: dict[str, Balance]) -> None:
    acct = e.accounts.by_id[raw["id"]] = Account(raw["id"], raw["hedge_mode"])
    acct.settings = {sym: Setting(MarginMode(m), lev) for sym, (m, lev) in raw["settings"].items()}
    acct.purses = {asset: Purse(balances[w], balances[h]) for asset, w, h in raw["purses"]}
    for p in raw["positions"]:
        pos = _restore_position(e, p, balances, acct)
        acct.positions[(pos.symbol, pos.side)] = pos


def _restore_position(
    e: Engine, raw: dict[str, Any], balances: dict[str, Balance], owner: Account | None = None
) -> Position:
    market = e.markets[raw["symbol"]]
    purse = None if owner is None else e.accounts.purse(owner, market.inst.settle)
    pos = Position(raw["account"], market, PositionSide(raw["side"]), raw["isolated"], raw["leverage"], owner, purse)
    pos.lots, pos.cost, pos.realized, pos.funding = raw["lots"], raw["cost"], raw["realized"], raw["funding"]
    if pos.inst.inverse:
        # Snapshots written before the exact coin cost was kept lack it: the money cost stands for it.
        pos.xnum, pos.xden = raw.get("exact", (pos.cost, 1))
    pos.liquidation, pos.bankruptcy = _dd(raw["liquidation"]), _dd(raw["bankruptcy"])
    pos.alert = AlertLevel(raw["alert"])
    pos.pool = None if raw["pool"] is None else balances[raw["pool"]]
    assert pos.account != INSURANCE or not pos.isolated
    return pos


def _restore_order(e: Engine, raw: dict[str, Any]) -> None:
    s = raw["spec"]
    market = e.markets[s["grid"].split("|")[0]]
    spec = OrderSpec.from_raw(s, market.inst.grid)
    owner = e.accounts.by_id[spec.account]
    order = Order(spec, owner, raw["leverage"], raw["lots"], raw["ticks"], raw["stop"])
    order.filled, order.cost, order.hold = raw["filled"], raw["cost"], raw["hold"]
    order.status, order.triggered = OrderStatus(raw["status"]), raw["triggered"]
    order.extreme, order.activated = raw["extreme"], raw["activated"]
    e.orders.add(e.accounts.by_id[order.account], order)
    if order.waiting:
        market.triggers.add(order)
