"""Risk of isolated spot-margin accounts, read-only and exact: asset and liability values at the mark, Binance's
margin level, OKX's maintenance margin ratio (net assets / (maintenance margin + liquidation fee)), the alert
level each implies, the most an account may borrow and whether a transfer out keeps it within its limits.

Values are Fractions of quote quanta (a mark is a price in 10⁻⁸ points), so no comparison ever rounds.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

from isomargin.engine.codes import AlertLevel
from isomargin.engine.spot_state import SpotAccount
from isomargin.engine.units import PRICE_POINTS
from isomargin.venues.spot_margin import SpotRisk

OKX_ALERT: Final = Fraction(3)  # OKX: a liquidation alert below 300 %
ONE: Final = Fraction(1)
_ZERO: Final = Fraction(0)


def price_of(pp: int) -> Fraction:
    """A price in points as quote per base (quanta of quote per quantum of base)."""
    return Fraction(pp, PRICE_POINTS)


def values(sa: SpotAccount, price: Fraction) -> tuple[Fraction, Fraction]:
    """(total asset value, total liability incl. interest), both in quote quanta at `price`."""
    p = sa.pair
    assets = sa.holds(p.base) * price + sa.holds(p.quote)
    owed = sa.owes(p.base) * price + sa.owes(p.quote)
    return assets, owed


def margin_level(sa: SpotAccount, price: Fraction) -> Fraction | None:
    """Binance: total asset value / (total liability + interest); None without a liability."""
    assets, owed = values(sa, price)
    return None if owed <= 0 else assets / owed


def okx_requirement(sa: SpotAccount, price: Fraction) -> Fraction:
    """OKX: maintenance margin + liquidation fee, in quote quanta: Σ over the borrowed assets of liability value ×
    (mmr + (1 + mmr) × taker), with each asset's mmr from its tier at that liability."""
    p = sa.pair
    taker = Fraction(p.taker.num, p.taker.den)
    need = _ZERO
    for asset, px in ((p.base, price), (p.quote, ONE)):
        owed = sa.owes(asset)
        if owed <= 0:
            continue
        found = p.tier(asset, owed)
        mmr = _ZERO if found is None else found[1].mmr
        need += owed * px * (mmr + (1 + mmr) * taker)
    return need


def okx_ratio(sa: SpotAccount, price: Fraction) -> Fraction | None:
    """OKX: (assets − liabilities) / (maintenance margin + liquidation fee); None without a liability."""
    assets, owed = values(sa, price)
    if owed <= 0:
        return None
    need = okx_requirement(sa, price)
    if need <= 0:
        return None
    return (assets - owed) / need


def ratio(sa: SpotAccount, price: Fraction) -> Fraction | None:
    """The pair's own risk figure: margin level (Binance) or maintenance margin ratio (OKX)."""
    if sa.pair.risk is SpotRisk.MARGIN_LEVEL:
        return margin_level(sa, price)
    return okx_ratio(sa, price)


def alert(sa: SpotAccount, price: Fraction) -> tuple[AlertLevel, Fraction | None]:
    """The alert level at `price` and the ratio it comes from (OK without a liability)."""
    r = ratio(sa, price)
    if r is None:
        return AlertLevel.OK, None
    p = sa.pair
    if p.risk is SpotRisk.MARGIN_LEVEL:
        if r <= p.liq_level:
            return AlertLevel.LIQUIDATE, r
        return (AlertLevel.WARNING if r <= p.call_level else AlertLevel.OK), r
    if r <= ONE:
        return AlertLevel.LIQUIDATE, r
    return (AlertLevel.WARNING if r < OKX_ALERT else AlertLevel.OK), r


def leverage_cap(sa: SpotAccount, asset: str, extra: int) -> int:
    """OKX: the leverage limit once `extra` more of `asset` is owed — the pair's, lowered by the tier's."""
    p = sa.pair
    cap = p.max_leverage
    found = p.tier(asset, sa.owes(asset) + extra)
    if found is not None and found[1].max_leverage < cap:
        cap = found[1].max_leverage
    return cap


def within_initial(sa: SpotAccount, price: Fraction, d_assets: Fraction, d_owed: Fraction, lev: int) -> bool:
    """Whether the account, with its asset value and liability changed by these amounts (quote quanta), meets the
    requirement to borrow or move assets out: Binance's borrow / transfer-out margin level, OKX's
    liability ≤ leverage × net assets. No liability: always."""
    assets, owed = values(sa, price)
    assets += d_assets
    owed += d_owed
    if owed <= 0:
        return assets >= 0
    p = sa.pair
    if p.risk is SpotRisk.MARGIN_LEVEL:
        return assets >= p.borrow_level * owed
    return owed <= lev * (assets - owed)


def transfer_out_ok(sa: SpotAccount, price: Fraction | None, asset: str, amount: int) -> bool:
    """Whether `amount` of `asset` may leave: Binance needs the margin level after it at the transfer-out level,
    OKX the initial requirement; an account without a liability may move out all it holds free."""
    if not sa.indebted:
        return True
    if price is None:
        return False
    p = sa.pair
    value = amount * (price if asset == p.base else ONE)
    assets, owed = values(sa, price)
    assets -= value
    if p.risk is SpotRisk.MARGIN_LEVEL:
        return assets >= p.out_level * owed
    lev = min(leverage_cap(sa, p.base, 0), leverage_cap(sa, p.quote, 0))
    return owed <= lev * (assets - owed)


def borrow_ok(sa: SpotAccount, price: Fraction, asset: str, x: int) -> bool:
    """Whether borrowing `x` quanta of `asset` leaves the account within its borrow rule: Binance's borrow level,
    OKX's liability ≤ leverage × net assets with the leverage of the tier the new liability lands in. As the
    venues state their maxima, the first hour's interest (charged at once) is not in the bound."""
    p = sa.pair
    px = price if asset == p.base else ONE
    first = 0
    assets, owed = values(sa, price)
    assets += x * px
    owed += (x + first) * px
    if p.risk is SpotRisk.MARGIN_LEVEL:
        return assets >= p.borrow_level * owed
    lev = leverage_cap(sa, asset, x + first)
    return owed <= lev * (assets - owed)


def max_borrowable(sa: SpotAccount, price: Fraction | None, asset: str) -> int:
    """The most of `asset` (quanta) the account may borrow now: the largest x `borrow_ok` allows (the borrowed
    coin counts as both asset and liability), within the per-asset limit less what is already borrowed; 0 without
    a price."""
    p = sa.pair
    if price is None:
        return 0
    px = price if asset == p.base else ONE
    r = Fraction(0)  # the first hour's interest is outside the bound (see borrow_ok)
    assets, owed = values(sa, price)
    if p.risk is SpotRisk.MARGIN_LEVEL:
        t = p.borrow_level
        # (A + v) ≥ t (L + v)  ⇔  v ≤ (A − t L) / (t − 1)
        d = t * (1 + r) - 1
        value = (assets - t * owed) / d if d > 0 else Fraction(0)
        x = int(value / px) if value > 0 else 0
    else:
        x = _okx_bound(sa, asset, assets, owed, px, r)
    limit = p.limits.get(asset)
    if limit is not None:
        x = min(x, max(0, limit + sa.loan[asset].amount))  # loan ≤ 0: limit − principal
    if x <= 0 or borrow_ok(sa, price, asset, x):
        return max(x, 0)
    lo, hi = 0, x  # the closed form overshot (the first hour's rounding): the rule is monotone in x
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if borrow_ok(sa, price, asset, mid):
            lo = mid
        else:
            hi = mid
    return lo


def _okx_bound(sa: SpotAccount, asset: str, assets: Fraction, owed: Fraction, px: Fraction, r: Fraction) -> int:
    """OKX: the largest x with L + v (1 + r) ≤ lev × (A − L − v r) (v = x × price, r the share charged at once:
    0 as venues state their maxima), where lev is the leverage of the tier the asset's liability lands in: each
    tier's bound, kept where it lands in that tier, the largest of them."""
    p = sa.pair
    table = p.tiers.get(asset)
    now = sa.owes(asset)
    rows: list[tuple[int | None, int, int]] = []  # (cap, leverage, lower cap)
    if not table:
        rows.append((None, p.max_leverage, 0))
    else:
        lower = 0
        for t in table:
            rows.append((t.cap, min(p.max_leverage, t.max_leverage), lower))
            lower = t.cap if t.cap is not None else lower
    best = 0
    for cap, lev, lower in rows:
        value = (lev * (assets - owed) - owed) / (1 + r + lev * r)
        if value <= 0:
            continue
        x = int(value / px)
        if cap is not None:
            x = min(x, int((cap - now) / (1 + r)))  # the whole new liability stays within this tier
        if x > best and (now + x * (1 + r) > lower or lower == 0 or now >= lower):
            best = x
    return best
