"""Read views of option markets for adapters: listed options and their chain, a family's index, books, open
option orders, positions with premium PnL, margin, maintenance ratio, the mark that would liquidate a short, and
Black-76 greeks when a volatility is known. Pure reads, exact Decimals; never change state.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from fractions import Fraction
from typing import Any

from isomargin.engine.engine import Engine
from isomargin.engine.options_risk import alert, measure, per_unit, price_of, removable, tier_index, units
from isomargin.engine.options_state import YEAR_MS, OptionMarket, OptionOrder, OptionPosition
from isomargin.engine.units import decimal_of, money
from isomargin.margin.errors import MarginError
from isomargin.margin.options import greeks, liquidation_mark


def _dec(x: Fraction | None, places: int = 18) -> Decimal | None:
    return None if x is None else decimal_of(x.numerator * 10**places // x.denominator, -places)


def options(engine: Engine, family: str | None = None) -> list[dict[str, Any]]:
    """Listed options (one family's, or all), by expiry, strike, call before put."""
    rows = [option(engine, s) for s, m in engine.options.markets.items() if family in (None, m.inst.family.family)]
    out = [r for r in rows if r is not None]
    return sorted(out, key=lambda r: (r["family"], r["expiry"], r["strike"], r["kind"]))


def option(engine: Engine, symbol: str) -> dict[str, Any] | None:
    m = engine.options.markets.get(symbol)
    if m is None:
        return None
    i = m.inst
    f = i.family
    index = engine.options.index.get(f.family)
    return {
        "symbol": i.symbol, "venue": f.venue, "family": f.family, "underlying": f.underlying, "settle": i.settle,
        "kind": "call" if i.kind.value == "C" else "put", "strike": i.strike, "expiry": i.expiry,
        "multiplier": f.multiplier, "tick_size": i.tick, "step_size": i.step, "maker_fee": i.maker.decimal,
        "taker_fee": i.taker.decimal, "mark_price": m.mark_dec, "index_price": None if index is None else index[1],
        "open_interest": i.grid.qty(sum(p.lots for p in m.positions.values() if p.lots > 0)),
        "resting_orders": len(m.book),
    }  # fmt: skip


def index_price(engine: Engine, family: str) -> Decimal | None:
    got = engine.options.index.get(family)
    return None if got is None else got[1]


def option_depth(engine: Engine, symbol: str, levels: int = 50) -> dict[str, Any] | None:
    m = engine.options.markets.get(symbol)
    if m is None:
        return None
    bids, asks = m.book.depth(levels)
    g = m.inst.grid
    return {"bids": [(g.price(t), g.qty(q)) for t, q in bids], "asks": [(g.price(t), g.qty(q)) for t, q in asks]}


def _order(m: OptionMarket, o: OptionOrder) -> dict[str, Any]:
    g = m.inst.grid
    return {
        "order_id": o.id, "account": o.account, "symbol": o.symbol, "side": o.side.name, "price": g.price(o.ticks),
        "qty": g.qty(o.lots), "filled": g.qty(o.filled), "tif": o.tif.value, "reduce_only": o.reduce_only,
        "client_order_id": o.client_order_id, "status": o.status.value, "margin": money(o.hold),
    }  # fmt: skip


def option_orders(engine: Engine, account: int, symbol: str | None = None) -> list[dict[str, Any]]:
    markets = engine.options.markets
    return [_order(markets[o.symbol], o) for o in engine.option_trading.orders.values()
            if o.account == account and symbol in (None, o.symbol)]  # fmt: skip


def option_positions(
    engine: Engine, account: int, vol: Decimal | None = None, ts: int | None = None
) -> list[dict[str, Any]]:
    """The account's open option positions (see `option_position`)."""
    out = []
    for m in engine.options.markets.values():
        p = m.positions.get(account)
        if p is not None and p.lots != 0:
            out.append(_position(engine, p, vol, ts))
    return out


def option_position(engine: Engine, account: int, symbol: str, vol: Decimal | None = None,
                    ts: int | None = None) -> dict[str, Any] | None:  # fmt: skip
    """One position: signed contracts, entry premium, value at the mark (size × mark × multiplier, seed 003),
    premium PnL and its ratio to the premium paid or received, a short's margin, maintenance and initial margin,
    ratio, alert level, removable margin and liquidation mark; greeks (per position) when `vol` and `ts` are
    given."""
    m = engine.options.markets.get(symbol)
    p = None if m is None else m.positions.get(account)
    return None if p is None or p.lots == 0 else _position(engine, p, vol, ts)


def _position(engine: Engine, p: OptionPosition, vol: Decimal | None, ts: int | None) -> dict[str, Any]:
    m = p.market
    i = m.inst
    n = units(i, p.lots)  # units of the underlying
    sign = 1 if p.lots > 0 else -1
    entry = Fraction(p.cost, 10**10) / n
    out: dict[str, Any] = {
        "symbol": i.symbol, "account": p.account, "side": "long" if sign > 0 else "short",
        "contracts": i.grid.qty(abs(p.lots)) * sign, "entry_price": _dec(entry, 10), "premium": money(p.cost),
        "mark_price": m.mark_dec, "settle": i.settle,
    }  # fmt: skip
    index = engine.options.index_of(i)
    if m.mark is not None:
        mark = price_of(m.mark)
        value = n * mark
        pnl = (value - Fraction(p.cost, 10**10)) * sign
        out.update(value=_dec(value, 10), pnl=_dec(pnl, 10), pnl_ratio=_dec(pnl / Fraction(p.cost, 10**10))
                   if p.cost else None)  # fmt: skip
    if sign < 0 and p.pool is not None:
        out["margin"] = money(p.pool.amount)
        if index is not None and m.mark is not None:
            mark = price_of(m.mark)
            balance, mm, fee = measure(p, index, mark)
            im, _ = per_unit(i, index, mark, abs(p.lots) * Fraction(i.step))
            level, r = alert(p, index, mark)
            out.update(
                margin_balance=_dec(balance / 10**10, 10), maintenance_margin=_dec(mm / 10**10, 10),
                liquidation_fee=_dec(fee / 10**10, 10), initial_margin=_dec(im * n, 10), margin_ratio=_dec(r),
                level=level.value, tier=i.family.tiers[tier_index(i, abs(p.lots) * Fraction(i.step))].tier,
                max_removable=money(removable(p, index, mark)),
            )  # fmt: skip
            try:
                # OKX's balance is margin + (entry − mark) × size: the pool is the margin; the entry to 30 places
                # (the premium per unit is cost / size, rarely a finite decimal).
                liq = liquidation_mark(i.kind, index_price(engine, i.family.family), _dec(entry, 30),
                                       money(p.pool.amount), i.family, i.grid.qty(abs(p.lots)))  # fmt: skip
            except MarginError:
                liq = None
            out["liquidation_mark"] = liq
    if vol is not None and ts is not None and index is not None and ts < i.expiry:
        years = decimal_of((i.expiry - ts) * 10**12 // YEAR_MS, -12)
        try:
            g = greeks(i.kind, index_price(engine, i.family.family), i.strike, years, vol)
        except MarginError:
            return out
        scale = n * sign
        out["greeks"] = {f.name: _dec(Fraction(getattr(g, f.name)) * scale, 12) for f in fields(g)}
    return out
