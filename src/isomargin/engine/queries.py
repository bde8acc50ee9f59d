"""The read API: everything adapters (venue, simulator, journal tools, reports) may know about engine state, as
exact Decimals and plain values. Pure reads; never change state. Adapters use these, not engine internals.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from isomargin.engine.codes import AlertLevel, BalanceKind
from isomargin.engine.commands import MarginMode, PositionSide
from isomargin.engine.engine import Engine
from isomargin.engine.health import Health
from isomargin.engine.instruments import Instrument
from isomargin.engine.state import Account, Order, Position
from isomargin.engine.units import money, points, quotient
from isomargin.margin import Side, break_even_price, liquidation_price_cross, roe
from isomargin.margin.numbers import MONEY

ZERO = Decimal(0)


# ------------------------------------------------------------------------------------------------ markets
def symbols(engine: Engine) -> list[str]:
    """Listed symbols in listing order."""
    return list(engine.markets)


def instrument(engine: Engine, symbol: str) -> Instrument | None:
    """A listed market's fixed parameters (immutable: venue profile, spec, tick, step, fees, tiers)."""
    market = engine.markets.get(symbol)
    return None if market is None else market.inst


def market(engine: Engine, symbol: str) -> dict[str, Any] | None:
    """Mark, index and last price, pause and delivery state and open interest of one market."""
    m = engine.markets.get(symbol)
    if m is None:
        return None
    return {
        "symbol": symbol,
        "mark_price": m.mark_dec,
        "index_price": m.index_dec,
        "last_price": None if m.last is None else m.inst.price(m.last),
        "reference_price": None if m.reference() is None else points(m.reference() or 0),
        "paused": m.paused,
        "delivered": m.delivered,  # a dated future after DeliverInstrument: closed to new orders for good
        "open_interest": m.inst.qty(sum(p.lots for p in m.positions.values() if p.lots > 0)),
        "resting_orders": len(m.book),
    }


def reference_price(engine: Engine, symbol: str) -> Decimal | None:
    m = engine.markets.get(symbol)
    ref = None if m is None else m.reference()
    return None if ref is None else points(ref)


def depth(
    engine: Engine, symbol: str, limit: int
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """Top `limit` aggregated (price, qty) levels per side: bids descending, asks ascending."""
    m = engine.markets[symbol]
    bids, asks = m.book.depth(limit)
    price, qty = m.inst.price, m.inst.qty
    return [(price(p), qty(q)) for p, q in bids], [(price(p), qty(q)) for p, q in asks]


# ------------------------------------------------------------------------------------------------ accounts
def accounts(engine: Engine) -> list[int]:
    return list(engine.accounts.by_id)


def account_exists(engine: Engine, account: int) -> bool:
    return account in engine.accounts.by_id


def next_account_id(engine: Engine) -> int:
    """The id `CreateAccount(account=None)` would allocate now."""
    return engine.accounts.next_id


def account(engine: Engine, account_id: int) -> dict[str, Any]:
    """Position mode, settings per configured symbol, how many open orders and positions."""
    a = _account(engine, account_id)
    return {
        "account": a.id,
        "hedge_mode": a.hedge_mode,
        "settings": {s: {"margin_mode": v.margin_mode, "leverage": v.leverage} for s, v in a.settings.items()},
        "open_orders": len(a.orders),
        "positions": sum(1 for p in a.positions.values() if p.lots),
    }


def setting(engine: Engine, account_id: int, symbol: str) -> tuple[MarginMode, int]:
    """(margin mode, leverage) the account trades `symbol` with (defaults if never set)."""
    s = _account(engine, account_id).setting(symbol)
    return s.margin_mode, s.leverage


def wallet(engine: Engine, account_id: int, asset: str = "USDT") -> Decimal:
    return money(engine.accounts.wallet_amount(_account(engine, account_id), asset))


def available(engine: Engine, account_id: int, asset: str = "USDT") -> Decimal:
    return money(engine.risk.available(_account(engine, account_id), asset))


def balances(engine: Engine, account_id: int, asset: str = "USDT") -> dict[str, Decimal]:
    """Wallet, available, held by orders, in isolated pools, cross initial margin, unrealised PnL, margin balance."""
    a = _account(engine, account_id)
    wallet_quanta = engine.accounts.wallet_amount(a, asset)
    im, pnl = engine.risk.cross_requirements(a, asset)
    purse = a.purses.get(asset)
    hold = None if purse is None else purse.hold
    isolated = sum(p.margin for p in a.positions.values() if p.isolated and p.inst.settle == asset)
    return {
        "wallet": money(wallet_quanta),
        "available": money(engine.risk.available(a, asset)),
        "held": money(0 if hold is None else hold.amount),
        "isolated_margin": money(isolated),
        "cross_initial_margin": money(im),
        "cross_unrealized_pnl": money(pnl),
        "margin_balance": money(wallet_quanta + pnl),
    }


# ------------------------------------------------------------------------------------------------ positions
def positions(engine: Engine, account_id: int) -> list[dict[str, Any]]:
    """Every open position with the figures venues list under "Get Positions"."""
    return [position_view(engine, p) for p in _account(engine, account_id).positions.values() if p.lots]


def position(
    engine: Engine, account_id: int, symbol: str, side: PositionSide = PositionSide.BOTH
) -> dict[str, Any] | None:
    a = engine.accounts.by_id.get(account_id)
    pos = None if a is None else a.positions.get((symbol, side))
    return None if pos is None or not pos.lots else position_view(engine, pos)


def position_view(engine: Engine, pos: Position) -> dict[str, Any]:
    inst = pos.inst
    profile = inst.profile
    size = inst.qty(abs(pos.lots))
    # Inverse: the harmonic mean (face / coin cost) from the exact coin cost, so one price reads back exactly.
    entry = pos.inst.grid.exact_average(pos.cost, abs(pos.lots), pos.xnum, pos.xden)
    ref = pos.market.reference()
    mark = entry if ref is None else points(ref)
    side = Side.LONG if pos.lots > 0 else Side.SHORT
    leg = profile.leg(inst.spec, side, size, entry, inst.taker_fee.decimal)
    # Everything below is in the settle asset (the coin for an inverse contract): notional = size × mark or
    # face / mark; PnL = side × (value − cost), the value's sign flipped for inverse (side × face × (1/E − 1/M)).
    notional = inst.notional_at(size, mark)
    pnl = MONEY.multiply(side * inst.vsign, MONEY.subtract(notional, money(pos.cost)))
    initial = quotient(money(pos.cost), Decimal(pos.leverage))
    # A table the loader accepts can mix units (keyed by contracts with Binance's cumulative amounts, which are
    # then floor × Δrate in contracts, subtracted from a coin MM): rate × notional − amount < 0. No venue requires
    # a negative margin, and the engine's own integer MM (`TierTable.maintenance`) clamps at 0: so does the view.
    mm = _at_least_zero(leg.maintenance_at(mark))
    liq_fee = profile.liquidation_fee(inst.spec, notional)
    if pos.isolated:
        collateral = money(pos.margin)
        liq = pos.liquidation
    else:
        collateral = money(engine.accounts.wallet_amount(engine.accounts.by_id[pos.account], inst.settle))
        liq = cross_liquidation_price(engine, pos.account, pos.symbol, pos.side)
    balance = MONEY.add(collateral, pnl)
    ratio = profile.health(balance, mm, liq_fee)
    return {
        "symbol": pos.symbol, "position_side": pos.side, "margin_mode": pos.mode, "leverage": pos.leverage,
        "size": inst.qty(pos.lots), "lots": pos.lots, "entry_price": entry, "mark_price": mark, "notional": notional,
        "isolated_margin": collateral if pos.isolated else ZERO, "initial_margin": initial, "maintenance_margin": mm,
        "unrealized_pnl": pnl, "pnl_ratio": roe(pnl, initial), "margin_balance": balance, "margin_ratio": ratio,
        "tier": leg.tier_at(mark).tier, "liquidation_price": profile.display_price(inst.spec, side, liq),
        "liquidation_exact": liq, "bankruptcy_price": pos.bankruptcy, "realized_pnl": money(pos.realized),
        "funding": money(pos.funding), "cost": money(pos.cost), "alert": profile.alert_level(ratio),
        "break_even_price": break_even_price(side, entry, inst.taker_fee.decimal, inst.taker_fee.decimal, inst.kind),
    }  # fmt: skip


def _at_least_zero(value: Decimal) -> Decimal:
    return value if value > 0 else ZERO


def cross_liquidation_price(engine: Engine, account_id: int, symbol: str, side: PositionSide) -> Decimal | None:
    """Binance's cross form: this symbol's cross legs against the wallet, less other symbols' MM, plus their PnL."""
    a = engine.accounts.by_id[account_id]
    pos = a.positions[(symbol, side)]
    asset = pos.inst.settle
    legs = []
    other_mm = other_pnl = ZERO
    for p in a.positions.values():
        if p.isolated or not p.lots or p.inst.settle != asset:
            continue
        leg = Health.leg(p)
        if p.symbol == symbol:
            legs.append(leg)
        else:
            ref = p.market.reference()
            mark = leg.entry if ref is None else points(ref)
            other_mm += _at_least_zero(leg.maintenance_at(mark))  # (see position_view)
            other_pnl += leg.pnl_at(mark)
    wallet_amount = money(engine.accounts.wallet_amount(a, asset))
    return liquidation_price_cross(legs, wallet_amount, other_mm, other_pnl)


def liquidation_prices(engine: Engine, symbol: str) -> Iterator[tuple[Decimal, Decimal, bool]]:
    """(liquidation price, size, is long) of every open position on `symbol` that has one (the liquidation map)."""
    m = engine.markets[symbol]
    for pos in m.positions.values():
        if not pos.lots:
            continue
        liq = pos.liquidation if pos.isolated else cross_liquidation_price(engine, pos.account, symbol, pos.side)
        if liq is not None and liq > 0:
            yield liq, m.inst.qty(abs(pos.lots)), pos.lots > 0


def cross_health(engine: Engine, account_id: int, asset: str = "USDT") -> dict[str, Any] | None:
    """The account-level health of its cross positions in `asset` (None without any): equity and maintenance
    margin at the reference prices, the venue's ratio, the alert level that ratio means now, and the level last
    reported in a MarginCall."""
    a = _account(engine, account_id)
    equity, mm, profile = engine.health.measure(a, asset)
    if profile is None:
        return None
    ratio = engine.health.ratio(profile, equity, mm)
    level = profile.alert_level(ratio)
    return {
        "equity": money(equity),
        "maintenance_margin": money(mm),
        "ratio": ratio,
        "level": AlertLevel.CANCEL_ORDERS if level == "liquidate" else AlertLevel(level),
        "reported": engine.health.cross_alerts.get((account_id, asset), AlertLevel.OK),
    }


# ------------------------------------------------------------------------------------------------ orders
def open_orders(engine: Engine, account_id: int, symbol: str | None = None) -> list[dict[str, Any]]:
    a = _account(engine, account_id)
    return [order_view(o) for o in a.orders.values() if symbol is None or o.symbol == symbol]


def order(engine: Engine, order_id: int) -> dict[str, Any] | None:
    """An open order's view, or None once it has left the book (filled, cancelled, expired)."""
    o = engine.orders.by_id.get(order_id)
    return None if o is None else order_view(o)


def order_view(o: Order) -> dict[str, Any]:
    s = o.spec
    grid = s.grid
    filled = grid.qty(o.filled)
    return {
        "order_id": o.id, "client_order_id": s.client_order_id, "account": o.account, "symbol": o.symbol,
        "side": o.side, "type": o.type, "time_in_force": o.tif, "status": o.status,
        "price": None if o.ticks is None else grid.price(o.ticks), "stop_price": s.stop_price,
        "qty": grid.qty(o.lots), "filled": filled,
        "avg_price": o.spec.grid.average(o.cost, o.filled) if o.filled else None, "reduce_only": o.reduce_only,
        "close_position": s.close_position, "position_side": o.position_side, "working_type": s.working_type,
        "callback_rate": s.callback_rate, "activation_price": s.activation_price, "hold": money(o.hold),
        "created": s.created, "triggered": o.triggered,
    }  # fmt: skip


# ------------------------------------------------------------------------------------------------ venue money
def insurance_fund(engine: Engine, asset: str = "USDT", symbol: str = "") -> Decimal:
    return money(engine.ledger.get(_fund_key(engine, asset, symbol)))


def insurance_history(engine: Engine, asset: str = "USDT", symbol: str = "") -> list[dict[str, Decimal | str]]:
    """The fund's recent movements, oldest first: reason (liquidation_fee, liquidation_remainder, bad_debt,
    realized_pnl of its inventory, funding, insurance_deposit), signed amount, and balance after."""
    log = engine.ledger.history.get(_fund_key(engine, asset, symbol), ())
    return [{"reason": r.value, "amount": money(a), "balance": money(b)} for r, a, b in log]


def insurance_inventory(engine: Engine, symbol: str) -> tuple[Decimal, Decimal]:
    """(signed size, cost) of what the fund took over on `symbol` and has not sold back yet."""
    m = engine.markets[symbol]
    held = m.held
    if held is None:
        return ZERO, ZERO
    return m.inst.qty(held.lots), money(held.cost)


def fee_income(engine: Engine, asset: str = "USDT") -> Decimal:
    return money(engine.ledger.get(f"{BalanceKind.FEES}:{asset}"))


def ledger_balance(engine: Engine, key: str) -> Decimal:
    """One ledger balance by name (`wallet:1:USDT`, `isolated:1:BTCUSDT:BOTH`, `settlement:USDT`, …)."""
    return money(engine.ledger.get(key))


def ledger_summary(engine: Engine) -> dict[str, dict[str, Decimal]]:
    """Per asset, the sum of balances of each kind; the kinds of one asset always sum to zero."""
    out: dict[str, dict[str, int]] = {}
    for bal in engine.ledger.balances.values():
        kinds = out.setdefault(bal.asset, {})
        kinds[bal.kind.value] = kinds.get(bal.kind.value, 0) + bal.amount
    return {asset: {k: money(v) for k, v in kinds.items()} for asset, kinds in out.items()}


def stats(engine: Engine) -> dict[str, Any]:
    return engine.stats()


def _fund_key(engine: Engine, asset: str, symbol: str) -> str:
    if engine.insurance_per_symbol and symbol:
        return f"{BalanceKind.INSURANCE}:{asset}:{symbol}"
    return f"{BalanceKind.INSURANCE}:{asset}"


def _account(engine: Engine, account_id: int) -> Account:
    return engine.accounts.get(account_id)
