"""Invariants the engine must hold after every command, checked in full when the engine runs with `debug=True`
(the test suite's stateful machine does) and callable by anyone at any time: `audit(engine)` raises
AssertionError naming the first broken one. Pure reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from isomargin.engine.codes import BalanceKind
from isomargin.engine.health import LIQ
from isomargin.engine.positions import Positions
from isomargin.engine.state import Position
from isomargin.engine.units import threshold

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine

_NON_NEGATIVE = (BalanceKind.WALLET, BalanceKind.HOLD, BalanceKind.ISOLATED, BalanceKind.FUNDING, BalanceKind.MARGIN,
                 BalanceKind.LOCKED, BalanceKind.LENDING, BalanceKind.OPTION_HOLD, BalanceKind.OPTION_POOL,
                 BalanceKind.OPTION_SETTLEMENT)  # fmt: skip
_NON_POSITIVE = (BalanceKind.LOAN, BalanceKind.INTEREST)


def audit(engine: Engine) -> None:
    ledger_sound(engine)
    orders_sound(engine)
    positions_sound(engine)
    spot_sound(engine)
    options_sound(engine)


def ledger_sound(engine: Engine) -> None:
    """Every asset's balances sum to exactly zero; wallets, holds, pools and the funding dust are never negative;
    realised PnL nets out: settlement + Σ signed open cost (the fund's inventory included) = 0."""
    for asset, total in engine.ledger.totals().items():
        assert total == 0, f"{asset} balances sum to {total}, not 0"
    for bal in engine.ledger.balances.values():
        if bal.kind in _NON_NEGATIVE:
            assert bal.amount >= 0, f"{bal.key} is negative: {bal.amount}"
        elif bal.kind in _NON_POSITIVE:
            assert bal.amount <= 0, f"{bal.key} is positive: {bal.amount}"
    open_cost: dict[str, int] = {}
    for market in engine.markets.values():
        asset = market.inst.settle
        held = [] if market.held is None else [market.held]
        for pos in [*market.positions.values(), *held]:
            # An inverse position's cost is its coin value, which falls as the price rises: it counts with the
            # opposite sign (settlement − Σ sign × cost = 0 there).
            open_cost[asset] = open_cost.get(asset, 0) + pos.sign * pos.cost * market.inst.vsign
    for asset, settlement in engine.positions.settlement.items():
        assert settlement.amount + open_cost.get(asset, 0) == 0, f"{asset} settlement identity broken"


def orders_sound(engine: Engine) -> None:
    """Holds equal the orders' holds; every index of open orders agrees; books hold exactly the resting orders,
    uncrossed; trigger indexes exactly the waiting conditional orders."""
    by_id = engine.orders.by_id
    for acct in engine.accounts.by_id.values():
        held: dict[str, int] = {}
        for order in acct.orders.values():
            assert by_id.get(order.id) is order, f"order {order.id} missing from the index"
            asset = engine.markets[order.symbol].inst.settle
            held[asset] = held.get(asset, 0) + order.hold
            if order.reduce_only or order.waiting:
                assert order.hold == 0, f"order {order.id} holds margin it must not"
        for asset, purse in acct.purses.items():
            bal = purse.hold
            assert bal.amount == held.get(asset, 0), f"account {acct.id} {asset} hold {bal.amount} != orders'"
        assert acct.reducing == sum(1 for o in acct.orders.values() if o.reduce_only)
        for cid, oid in acct.client_ids.items():
            assert acct.orders[oid].spec.client_order_id == cid
    assert len(by_id) == sum(len(a.orders) for a in engine.accounts.by_id.values())
    for symbol, market in engine.markets.items():
        book = market.book
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask, f"{symbol} crossed at rest: {bid} >= {ask}"
        resting = [o for o in by_id.values() if o.symbol == symbol and not o.waiting]
        assert len(resting) == len(book), f"{symbol}: {len(resting)} resting orders, {len(book)} in the book"
        for o in resting:
            r = book.get(o.id)
            assert r is not None and r.qty == o.lots - o.filled > 0 and r.price == o.ticks and r.side == o.side
        waiting = sum(1 for o in by_id.values() if o.symbol == symbol and o.waiting)
        assert market.triggers.size == waiting, f"{symbol} trigger index holds {market.triggers.size}, not {waiting}"


def positions_sound(engine: Engine) -> None:
    """No flat position is kept; the per-account and per-market indexes agree; open interest nets to zero; every
    isolated position's cached liquidation and bankruptcy prices equal a fresh solve and sit in the watch."""
    count = 0
    for acct in engine.accounts.by_id.values():
        for (symbol, side), pos in acct.positions.items():
            assert pos.lots != 0, f"flat position kept: {acct.id} {symbol} {side}"
            assert engine.markets[symbol].positions.get((acct.id, side)) is pos
            count += 1
            if pos.isolated:
                _isolated_sound(pos)
    assert count == sum(len(m.positions) for m in engine.markets.values())
    for symbol, market in engine.markets.items():
        held = market.held.lots if market.held is not None else 0
        assert sum(p.lots for p in market.positions.values()) + held == 0, f"{symbol} open interest does not net"


def _isolated_sound(pos: Position) -> None:
    cached = (pos.liquidation, pos.bankruptcy)
    Positions.refresh(pos)  # idempotent: recomputes the same values from the same inputs
    assert (pos.liquidation, pos.bankruptcy) == cached, f"stale liquidation price on {pos.account} {pos.symbol}"
    long = pos.lots > 0
    where = pos.market.watch.where.get((pos.account, pos.side, LIQ))
    want = threshold(pos.liquidation, long)
    assert (where[0] if where else None) == want, f"watch out of date for {pos.account} {pos.symbol}"


def spot_sound(engine: Engine) -> None:
    """Locked balances equal their open spot orders' locks; books hold exactly the resting spot orders, uncrossed;
    a loan clock runs exactly while principal is owed; every order is in its margin account's index."""
    locked: dict[str, int] = {}
    for o in engine.spot_trading.orders.values():
        locked[o.pay_lock.key] = locked.get(o.pay_lock.key, 0) + o.locked
        assert o.remaining > 0 and o.locked >= 0, f"spot order {o.id} is spent but open"
        assert o.margin is None or o.margin.orders.get(o.id) is o, f"spot order {o.id} missing from its account"
    for bal in engine.ledger.balances.values():
        if bal.kind is BalanceKind.LOCKED:
            assert bal.amount == locked.get(bal.key, 0), f"{bal.key} {bal.amount} != its orders' {locked.get(bal.key)}"
    for symbol, pair in engine.spot.pairs.items():
        book = pair.book
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask, f"{symbol} crossed at rest: {bid} >= {ask}"
        resting = [o for o in engine.spot_trading.orders.values() if o.symbol == symbol]
        assert len(resting) == len(book), f"{symbol}: {len(resting)} resting spot orders, {len(book)} in the book"
        for o in resting:
            r = book.get(o.id)
            assert r is not None and r.qty == o.remaining and r.price == o.lock_ticks and r.side == o.side
        for sa in pair.accounts.values():
            for asset in (pair.base, pair.quote):
                running = sa.paid_to[asset] is not None
                assert running == (sa.owes(asset) > 0), f"{sa.account} {symbol} {asset}: loan clock out of step"


def options_sound(engine: Engine) -> None:
    """Option holds equal their orders' holds; books hold exactly the resting option orders, uncrossed; open
    interest nets to zero (the fund's inventory included); only shorts have pools; the settlement clearing is
    empty between commands."""
    held: dict[str, int] = {}
    trading = engine.option_trading
    for o in trading.orders.values():
        key = trading.hold_of(o.account, engine.options.markets[o.symbol].inst.settle).key
        held[key] = held.get(key, 0) + o.hold
        assert o.remaining > 0 and o.hold == o.per_lot * o.remaining, f"option order {o.id} holds {o.hold}"
    for bal in engine.ledger.balances.values():
        if bal.kind is BalanceKind.OPTION_HOLD:
            assert bal.amount == held.get(bal.key, 0), f"{bal.key} {bal.amount} != its orders' {held.get(bal.key)}"
        if bal.kind is BalanceKind.OPTION_SETTLEMENT:
            assert bal.amount == 0, f"{bal.key} keeps {bal.amount} after a command"
    for symbol, m in engine.options.markets.items():
        bid, ask = m.book.best_bid(), m.book.best_ask()
        assert bid is None or ask is None or bid < ask, f"{symbol} crossed at rest"
        resting = [o for o in trading.orders.values() if o.symbol == symbol]
        assert len(resting) == len(m.book), f"{symbol}: {len(resting)} resting option orders, {len(m.book)} in book"
        net = sum(p.lots for p in m.positions.values()) + (0 if m.held is None else m.held.lots)
        assert net == 0, f"{symbol} open interest does not net: {net}"
        for p in m.positions.values():
            assert p.lots != 0 or (p.pool is not None and p.pool.amount > 0), f"flat option position kept: {p.account}"
            assert p.lots < 0 or p.pool is None or p.pool.amount == 0, f"{p.account} {symbol}: a long with a pool"
