"""Read-only views the API and reports need: balances, positions with every figure a venue shows,
open orders, fills, funding history, insurance fund. Pure reads; never change state.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isomargin.engine.engine import Engine
from isomargin.engine.ledger import fees_key, hold_key
from isomargin.engine.orders import Order
from isomargin.engine.positions import Position
from isomargin.margin import Side, break_even_price, liquidation_price_cross, roe
from isomargin.margin.numbers import MONEY

ZERO = Decimal(0)


def balances(engine: Engine, account: int, asset: str = "USDT") -> dict[str, Decimal]:
    """Wallet, available, held by orders, in isolated pools, cross unrealised PnL and margin balance."""
    acct = engine.account(account)
    with _money():
        wallet = engine.wallet(account, asset)
        im, pnl = engine.cross_requirements(acct, asset)
        isolated = sum(
            (engine.isolated_margin(p) for p in acct.positions.values()
             if p.isolated and engine.instruments[p.symbol].settle == asset), ZERO,
        )  # fmt: skip
        return {
            "wallet": wallet,
            "available": engine.available(acct, asset),
            "held": engine.ledger.balance(hold_key(account, asset)),
            "isolated_margin": isolated,
            "cross_initial_margin": im,
            "cross_unrealized_pnl": pnl,
            "margin_balance": wallet + pnl,
        }


def positions(engine: Engine, account: int) -> list[dict[str, Any]]:
    """Every open position with the figures venues list under "Get Positions"."""
    acct = engine.account(account)
    with _money():
        return [_position_view(engine, p) for p in acct.positions.values() if p.lots]


def _position_view(engine: Engine, pos: Position) -> dict[str, Any]:
    inst = engine.instruments[pos.symbol]
    profile = inst.profile
    size = inst.qty(abs(pos.lots))
    entry = pos.cost / size
    mark = engine.reference_price(pos.symbol) or entry
    side = Side.LONG if pos.lots > 0 else Side.SHORT
    leg = profile.leg(inst.spec, side, size, entry, inst.taker_fee)
    pnl = side * (size * mark - pos.cost)
    initial = pos.cost / pos.leverage
    mm = leg.maintenance_at(mark)
    liq_fee = profile.liquidation_fee(inst.spec, size * mark)
    if pos.isolated:
        collateral = engine.isolated_margin(pos)
        liq = pos.liquidation
    else:
        collateral = engine.wallet(pos.account, inst.settle)
        liq = cross_liquidation_price(engine, pos)
    balance = collateral + pnl
    return {
        "symbol": pos.symbol, "position_side": pos.side.value, "margin_mode": "isolated" if pos.isolated else "cross",
        "leverage": pos.leverage, "size": size * pos.sign, "entry_price": entry, "mark_price": mark,
        "notional": size * mark, "isolated_margin": collateral if pos.isolated else ZERO,
        "initial_margin": initial, "maintenance_margin": mm, "unrealized_pnl": pnl, "pnl_ratio": roe(pnl, initial),
        "margin_balance": balance, "margin_ratio": profile.health(balance, mm, liq_fee),
        "tier": leg.tier_at(mark).tier, "liquidation_price": profile.display_price(inst.spec, side, liq),
        "bankruptcy_price": pos.bankruptcy, "realized_pnl": pos.realized, "funding": pos.funding,
        "break_even_price": break_even_price(side, entry, inst.taker_fee, inst.taker_fee, inst.spec.kind),
        "alert": profile.alert_level(profile.health(balance, mm, liq_fee)),
    }  # fmt: skip


def cross_liquidation_price(engine: Engine, pos: Position) -> Decimal | None:
    """Binance's cross form: this symbol's cross legs against the wallet, less other symbols' MM, plus their PnL."""
    acct = engine.accounts[pos.account]
    inst = engine.instruments[pos.symbol]
    legs = []
    other_mm = other_pnl = ZERO
    for p in acct.positions.values():
        if p.isolated or not p.lots:
            continue
        pinst = engine.instruments[p.symbol]
        if pinst.settle != inst.settle:
            continue
        size = pinst.qty(abs(p.lots))
        side = Side.LONG if p.lots > 0 else Side.SHORT
        leg = pinst.profile.leg(pinst.spec, side, size, p.cost / size, pinst.taker_fee)
        if p.symbol == pos.symbol:
            legs.append(leg)
        else:
            mark = engine.reference_price(p.symbol) or p.cost / size
            other_mm += leg.maintenance_at(mark)
            other_pnl += side * (size * mark - p.cost)
    return liquidation_price_cross(legs, engine.wallet(pos.account, inst.settle), other_mm, other_pnl)


def open_orders(engine: Engine, account: int, symbol: str | None = None) -> list[dict[str, Any]]:
    acct = engine.account(account)
    return [_order_view(engine, o) for o in acct.orders.values() if symbol is None or o.symbol == symbol]


def _order_view(engine: Engine, o: Order) -> dict[str, Any]:
    inst = engine.instruments[o.symbol]
    filled = inst.qty(o.filled_lots)
    return {
        "order_id": o.id, "client_order_id": o.client_order_id, "symbol": o.symbol, "side": o.side.name,
        "type": o.type.value, "time_in_force": o.tif.value, "status": o.status,
        "price": inst.price(o.price_ticks) if o.price_ticks is not None else None, "stop_price": o.stop_price,
        "qty": inst.qty(o.lots), "filled": filled, "avg_price": o.filled_cost / filled if o.filled_lots else None,
        "reduce_only": o.reduce_only, "close_position": o.close_position, "position_side": o.position_side.value,
        "working_type": o.working_type.value, "hold": o.hold, "created": o.created,
    }  # fmt: skip


def fills(engine: Engine, account: int) -> list[dict[str, str]]:
    engine.account(account)
    return list(engine.fills.get(account, ()))


def funding_history(engine: Engine, account: int) -> list[dict[str, str]]:
    engine.account(account)
    return list(engine.funding_log.get(account, ()))


def insurance_fund(engine: Engine, asset: str = "USDT", symbol: str = "") -> Decimal:
    return engine.ledger.balance(engine.fund_key(asset, symbol))


def insurance_history(engine: Engine, asset: str = "USDT", symbol: str = "") -> list[dict[str, Decimal | str]]:
    """The fund's recent movements, oldest first: reason (liquidation_fee, liquidation_remainder, bad_debt,
    realized_pnl of its inventory, funding, insurance_deposit), signed amount, and balance after."""
    key = engine.fund_key(asset, symbol)
    return [{"reason": r, "amount": a, "balance": b} for r, a, b in engine.ledger.history.get(key, ())]


def fee_income(engine: Engine, asset: str = "USDT") -> Decimal:
    return engine.ledger.balance(fees_key(asset))


def _money() -> Any:
    from decimal import localcontext

    return localcontext(MONEY)
