"""Read views of spot pairs and isolated spot-margin accounts for adapters: pairs, books, open spot orders, each
margin account's assets, liabilities, risk and limits, and the position view OKX's Get Positions gives (asset,
liability, margin in old or new accounting). Pure reads, exact Decimals; never change state.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from fractions import Fraction
from typing import Any

from isomargin.engine.commands import OrderSide
from isomargin.engine.engine import Engine
from isomargin.engine.spot_risk import alert, margin_level, max_borrowable, okx_ratio, okx_requirement, values
from isomargin.engine.spot_state import SpotAccount, SpotOrder, SpotPair
from isomargin.engine.units import decimal_of, money, points, quotient
from isomargin.margin.errors import MarginError
from isomargin.margin.spot import AccountingMode, SpotAccountState, SpotAsset, position_view
from isomargin.venues.spot_margin import SpotRisk

ZERO = Decimal(0)


def _dec(x: Fraction | None, places: int = 18) -> Decimal | None:
    """A Fraction as a Decimal rounded down to `places` decimals (risk ratios, prices shown to people)."""
    if x is None:
        return None
    q = x.numerator * 10**places // x.denominator
    return decimal_of(q, -places)


def spot_pairs(engine: Engine) -> list[str]:
    """Listed spot pairs in listing order (engine symbols, BASE-QUOTE)."""
    return list(engine.spot.pairs)


def spot_pair(engine: Engine, symbol: str) -> dict[str, Any] | None:
    """A pair's fixed parameters and its live prices."""
    p = engine.spot.pairs.get(symbol)
    if p is None:
        return None
    s = p.spec
    return {
        "symbol": p.symbol, "exchange_symbol": s.exchange_symbol, "venue": p.venue, "base": p.base,
        "quote": p.quote, "tick_size": p.tick, "step_size": p.step, "min_notional": s.min_notional,
        "maker_fee": p.maker.decimal, "taker_fee": p.taker.decimal, "price_band": p.band_dec,
        "max_leverage": p.max_leverage, "risk": p.risk.value, "mark_price": p.mark_dec,
        "last_price": None if p.last is None else p.grid.price(p.last),
        "daily_rates": dict(p.daily),
        "borrow_limits": {a: None if v is None else money(v) for a, v in p.limits.items()},
        "resting_orders": len(p.book),
    }  # fmt: skip


def by_exchange_symbol(engine: Engine, exchange_symbol: str) -> str | None:
    """The engine symbol of a pair spelt the venue's way ("BTCUSDT" → "BTC-USDT")."""
    for p in engine.spot.pairs.values():
        if p.spec.exchange_symbol == exchange_symbol:
            return p.symbol
    return None


def spot_depth(engine: Engine, symbol: str, levels: int = 100) -> dict[str, Any] | None:
    p = engine.spot.pairs.get(symbol)
    if p is None:
        return None
    bids, asks = p.book.depth(levels)
    g = p.grid
    return {"bids": [(g.price(t), g.qty(q)) for t, q in bids], "asks": [(g.price(t), g.qty(q)) for t, q in asks]}


def _order(p: SpotPair, o: SpotOrder) -> dict[str, Any]:
    g = p.grid
    avg = None if o.filled == 0 else money(o.quote_filled) / g.qty(o.filled)
    return {
        "order_id": o.id, "account": o.account, "symbol": o.symbol, "side": o.side.name, "type": o.type.value,
        "tif": o.tif.value, "price": None if o.ticks is None else g.price(o.ticks), "qty": g.qty(o.lots),
        "filled": g.qty(o.filled), "quote_filled": money(o.quote_filled), "average_price": avg,
        "status": o.status.value, "isolated": o.isolated, "side_effect": o.side_effect.value,
        "client_order_id": o.client_order_id, "locked": money(o.locked),
    }  # fmt: skip


def spot_orders(engine: Engine, account: int, symbol: str | None = None,
                isolated: bool | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """An account's open spot orders (optionally one pair's, wallet or isolated only), oldest first."""
    out = []
    for o in engine.spot_trading.orders.values():
        wanted = (symbol is None or o.symbol == symbol) and (isolated is None or o.isolated is isolated)
        if o.account == account and wanted:
            out.append(_order(engine.spot.pairs[o.symbol], o))
    return out


def spot_order(engine: Engine, order_id: int) -> dict[str, Any] | None:
    o = engine.spot_trading.orders.get(order_id)
    return None if o is None else _order(engine.spot.pairs[o.symbol], o)


def spot_wallet_locked(engine: Engine, account: int, asset: str) -> Decimal:
    """What the account's open wallet (non-margin) spot orders lock of `asset`."""
    return money(engine.ledger.get(f"locked:{account}:spot:{asset}"))


def margin_accounts(engine: Engine, account: int) -> list[str]:
    """The pairs on which the account has an isolated margin account."""
    return [s for s, p in engine.spot.pairs.items() if account in p.accounts]


def state_of(sa: SpotAccount) -> SpotAccountState:
    p = sa.pair
    return SpotAccountState(
        money(sa.holds(p.base)), money(sa.holds(p.quote)), money(-sa.loan[p.base].amount),
        money(-sa.interest[p.base].amount), money(-sa.loan[p.quote].amount), money(-sa.interest[p.quote].amount),
    )  # fmt: skip


def margin_account(engine: Engine, account: int, symbol: str,
                   mode: AccountingMode = AccountingMode.NEW) -> dict[str, Any] | None:  # fmt: skip
    """One isolated margin account: per asset free / locked / borrowed / interest / net; its risk (margin level
    or maintenance ratio at the mark, alert level), limits (max borrowable, max transferable out) and the
    position view in `mode`. None if the account never opened one on the pair."""
    p = engine.spot.pairs.get(symbol)
    sa = None if p is None else p.accounts.get(account)
    if p is None or sa is None:
        return None
    price = engine.spot.price(p)
    assets: dict[str, Any] = {}
    for a in (p.base, p.quote):
        assets[a] = {
            "free": money(sa.free[a].amount), "locked": money(sa.locked[a].amount),
            "borrowed": money(-sa.loan[a].amount), "interest": money(-sa.interest[a].amount),
            "net": money(sa.holds(a) - sa.owes(a)), "total": money(sa.holds(a)),
            "transferred": money(sa.transferred[a]),
            "max_borrowable": money(max_borrowable(sa, price, a)),
            "max_transferable": money(_max_out(sa, price, a)),
            "daily_rate": p.daily[a],
        }  # fmt: skip
    out: dict[str, Any] = {"account": account, "symbol": symbol, "base": p.base, "quote": p.quote, "assets": assets,
                           "risk": p.risk.value, "mark_price": p.mark_dec, "alert": sa.alert.value}  # fmt: skip
    if price is not None:
        av, lv = values(sa, price)
        out["total_asset_value"] = _dec(av / 10**10, 10)
        out["total_liability_value"] = _dec(lv / 10**10, 10)
        out["margin_level"] = _dec(margin_level(sa, price))
        out["margin_ratio"] = _dec(okx_ratio(sa, price)) if p.risk is SpotRisk.MAINTENANCE_RATIO else None
        out["maintenance_requirement"] = _dec(okx_requirement(sa, price) / 10**10, 10)
        out["level"] = alert(sa, price)[0].value
    out["position"] = position(engine, account, symbol, mode)
    return out


def _max_out(sa: SpotAccount, price: Fraction | None, asset: str) -> int:
    """The most of `asset` that may move out now (bisection over the exact transfer rule)."""
    from isomargin.engine.spot_risk import transfer_out_ok

    free = sa.free[asset].amount
    if free <= 0 or transfer_out_ok(sa, price, asset, free):
        return max(free, 0)
    lo, hi = 0, free
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if transfer_out_ok(sa, price, asset, mid):
            lo = mid
        else:
            hi = mid
    return lo


def position(engine: Engine, account: int, symbol: str,
             mode: AccountingMode = AccountingMode.NEW) -> dict[str, Any] | None:  # fmt: skip
    """The OKX-style position view of an indebted margin account (None without a liability or a price): side,
    asset, liability (principal, interest), margin (what was transferred in, in its currency), liquidation
    price, floating PnL and ratio, in `mode`."""
    p = engine.spot.pairs.get(symbol)
    sa = None if p is None else p.accounts.get(account)
    if p is None or sa is None or not sa.indebted:
        return None
    price = p.reference()
    if price is None:
        return None
    base_margin = sa.transferred[p.base] > 0 and sa.transferred[p.quote] <= 0
    margin_asset = p.base if base_margin else p.quote
    mmr = None
    if p.risk is SpotRisk.MAINTENANCE_RATIO:
        owed_asset = p.base if sa.owes(p.base) > 0 else p.quote
        found = p.tier(owed_asset, sa.owes(owed_asset))
        mmr = None if found is None else Decimal(found[1].mmr.numerator) / found[1].mmr.denominator
    level = None if p.risk is SpotRisk.MAINTENANCE_RATIO else p.liq_level
    side = OrderSide.BUY if sa.owes(p.quote) > 0 else OrderSide.SELL
    qty, value = sa.fills[side]
    entry = None if qty <= 0 else money(value) / money(qty)
    margin = _collateral(sa, margin_asset, entry)
    try:
        view = position_view(
            state_of(sa), points(price), SpotAsset.BASE if base_margin else SpotAsset.QUOTE, margin, mode,
            entry_price=entry, mmr=mmr, taker=p.taker.decimal,
            liquidation_level=None if level is None else Decimal(level.numerator) / level.denominator,
            base=p.base, quote=p.quote,
        )  # fmt: skip
    except MarginError:  # owes both assets, or holds less than its margin: no single position to show
        return None
    out = {f.name: getattr(view, f.name) for f in fields(view)}
    out["side"] = view.side.name.lower()
    out["mode"] = view.mode.value
    return out


def _collateral(sa: SpotAccount, asset: str, entry: Decimal | None) -> Decimal:
    """The position's margin in `asset`: what the account holds of it beyond what the position's own trades put
    there — a long holds the base its quote loan bought (principal / entry), a short the quote its base loan
    sold for (principal × entry). So after a flip (long, then selling more than it holds) the margin is what
    stays in the account beyond the new short's proceeds, as OKX shows it."""
    p = sa.pair
    held = money(sa.holds(asset))
    if entry is None or entry <= 0:
        return held
    if asset == p.base and sa.owes(p.quote) > 0:  # long, margin in base
        held -= quotient(money(-sa.loan[p.quote].amount), entry)
    elif asset == p.quote and sa.owes(p.base) > 0:  # short, margin in quote
        held -= money(-sa.loan[p.base].amount) * entry
    return held if held > 0 else ZERO


def side_of(engine: Engine, account: int, symbol: str) -> OrderSide | None:
    """LONG-like (BUY) when the account owes quote, SHORT-like (SELL) when it owes base."""
    p = engine.spot.pairs.get(symbol)
    sa = None if p is None else p.accounts.get(account)
    if p is None or sa is None:
        return None
    if sa.owes(p.quote) > 0:
        return OrderSide.BUY
    if sa.owes(p.base) > 0:
        return OrderSide.SELL
    return None
