"""Account health indexes: which mark price must make something happen to which position or account.

Isolated positions sit in their market's watch at their exact liquidation price and at the price of their next
margin-call level. Cross accounts sit in each of their markets' `cross` watch at the edges of a band: a move of
the marks inside every band provably cannot change the account's alert level or make it liquidatable (the
band is the level's distance divided by a Lipschitz bound of equity − c·MM in that mark), so a tick costs
O(log n + k) instead of a scan of every cross account. An account whose money changed is marked dirty and
re-measured exactly at the next mark tick, as the cross check always was.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Final

from isomargin.engine.codes import AlertLevel
from isomargin.engine.positions import Positions
from isomargin.engine.state import Account, Market, Position
from isomargin.engine.units import money, points, threshold
from isomargin.margin import Leg, Side, make_leg, solve_liquidation_price
from isomargin.margin.numbers import MONEY
from isomargin.venues import RatioConvention, VenueProfile

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_OK: Final = AlertLevel.OK

ONE = Decimal(1)
_ZERO: Final = Decimal(0)
LIQ = "liq"
ALERT = "alert"
LO = "lo"
HI = "hi"


class Health:
    """Owns the isolated watches' entries, the cross bands and the set of cross accounts to re-measure."""

    __slots__ = ("cross_alerts", "dirty", "markets", "positions")

    def __init__(self, positions: Positions, markets: dict[str, Market]) -> None:
        self.positions = positions
        self.markets = markets
        self.dirty: dict[int, None] = {}  # cross accounts to re-measure at the next mark tick
        self.cross_alerts: dict[tuple[int, str], AlertLevel] = {}  # (account, asset) -> level last reported

    # -- isolated ---------------------------------------------------------------------------------------------
    def track(self, pos: Position) -> None:
        """After any change to a position: refresh its cached prices and re-index it."""
        if pos.isolated and pos.lots:
            Positions.refresh(pos)
            self.watch(pos)
            return
        pos.liquidation = pos.bankruptcy = pos.trigger = None
        watch = pos.market.watch
        key = (pos.account, pos.side, LIQ)  # the StrEnum member is its own string: no Enum.value call
        if key in watch.where:
            watch.drop(key)
            watch.drop((pos.account, pos.side, ALERT))
        if not pos.isolated:
            self.dirty[pos.account] = None

    def watch(self, pos: Position) -> None:
        """(Re-)index an isolated position at its liquidation price and next alert price."""
        watch = pos.market.watch
        long = pos.lots > 0
        side = pos.side
        pos.trigger = threshold(pos.liquidation, long)
        watch.set((pos.account, side, LIQ), pos.trigger, long)
        profile = pos.inst.profile
        first = profile.alerts.warning if profile.alerts.warning is not None else profile.alerts.cancel_orders
        if first is None:
            return
        on_fall = long if pos.alert is _OK else not long  # next level down, or the way back up
        price = self.level_price(pos, first)
        watch.set((pos.account, side, ALERT), threshold(price, on_fall), on_fall)

    @staticmethod
    def leg(pos: Position) -> Leg:
        inst = pos.inst
        size = inst.qty(abs(pos.lots))
        side = Side.LONG if pos.lots > 0 else Side.SHORT
        fee = inst.taker_fee.decimal if inst.fee_in_mm else Decimal(0)
        entry = inst.entry(abs(pos.lots), pos.cost, pos.xnum, pos.xden)
        return make_leg(side, size, entry, inst.spec.table, inst.kind, inst.profile.mm_basis, fee)

    def level_price(self, pos: Position, level: Decimal) -> Decimal | None:
        """The mark at which the position's ratio reaches `level` (same solver as the liquidation price)."""
        profile = pos.inst.profile
        scale = level if profile.ratio is RatioConvention.BALANCE_OVER_MM else MONEY.divide(ONE, level)
        return solve_liquidation_price([self.leg(pos)], money(pos.margin), mm_scale=scale)

    def isolated_ratio(self, pos: Position, mark: int) -> Decimal:
        leg = self.leg(pos)
        price = points(mark)
        balance = MONEY.add(money(pos.margin), leg.pnl_at(price))
        mm = leg.maintenance_at(price)
        # Never below 0, as `TierTable.maintenance` clamps it (a table mixing units can give rate × notional less
        # than its maintenance amount; see queries.position_view).
        return pos.inst.profile.health(balance, mm if mm > 0 else _ZERO)

    # -- cross ------------------------------------------------------------------------------------------------
    def measure(self, acct: Account, asset: str) -> tuple[int, int, VenueProfile | None]:
        """(equity, maintenance margin, the profile of the first position) of the account's cross positions in
        `asset`, at each market's reference price, in quanta (each rounded against the account)."""
        purse = acct.purses.get(asset)
        equity = 0 if purse is None else purse.wallet.amount
        mm = 0
        profile: VenueProfile | None = None
        for pos in acct.positions.values():
            if pos.isolated or not pos.lots:
                continue
            inst = pos.inst
            if inst.settle != asset:
                continue
            profile = profile or inst.profile
            lots = abs(pos.lots)
            mark = _reference(pos)
            high = inst.value_up(lots, mark)
            # PnL at the value worse for the trader (a linear long's / an inverse short's at the lower value).
            equity += inst.value_down(lots, mark) - pos.cost if pos.lots * inst.vsign > 0 else pos.cost - high
            mm += inst.mm.maintenance(lots, pos.cost if inst.mm_on_entry else high)
        return equity, mm, profile

    @staticmethod
    def ratio(profile: VenueProfile, equity: int, mm: int) -> Decimal:
        return profile.health(money(equity), money(mm))

    def band(self, acct: Account, asset: str, equity: int, mm: int, profile: VenueProfile) -> None:
        """Re-index the account's cross band on each market it holds in `asset`."""
        symbols: dict[str, list[Position]] = {}
        for pos in acct.positions.values():
            if not pos.isolated and pos.lots and pos.inst.settle == asset:
                symbols.setdefault(pos.symbol, []).append(pos)
        self.unband(acct, asset)
        if not symbols:
            return
        # Every threshold the level depends on: equity − c·MM changes sign at liquidation (c = 1) and at each
        # alert level; the band must keep all of them away from zero.
        factors = [Fraction(1), *(_factor(profile, t) for t in (profile.alerts.warning, profile.alerts.cancel_orders))]
        gaps = [(abs(equity * c.denominator - mm * c.numerator), c) for c in factors if c]
        k = len(symbols)
        key_lo = (acct.id, asset, LO)
        key_hi = (acct.id, asset, HI)
        for symbol, legs in symbols.items():
            market = self.markets[symbol]
            inst = market.inst
            mark = _reference(legs[0])
            if inst.inverse:
                # value = lots·pv/p has |d/dp| = lots·pv/p², unbounded as p → 0: bound it on p ≥ mark/2, where it
                # is at most 4·lots·pv/mark², and keep the band inside that range (below).
                per_point = Fraction(4 * inst.pv_num, inst.pv_den * mark * mark)
            else:
                per_point = Fraction(inst.mark_num, inst.mark_den)  # quanta per lot per price point
            net = abs(sum(p.lots for p in legs)) * per_point  # d(equity)/d(mark)
            gross = sum(abs(p.lots) for p in legs) * per_point
            rate = Fraction(0) if inst.mm_on_entry else Fraction(inst.mm.max_rate.num, inst.mm.max_rate.den)
            delta: int | None = None
            for gap, c in gaps:  # gap is |equity − c·MM| × c.denominator; rounding costs at most 2 quanta a leg
                slope = _ceil(net * c.denominator + c.numerator * rate * gross) + 2 * len(legs) * c.denominator
                if slope == 0:
                    continue
                d = max(0, (gap - 1) // (k * slope))
                delta = d if delta is None or d < delta else delta
            if delta is None:
                continue  # nothing on this market can move the level
            if inst.inverse and delta > mark // 2 - 2:
                delta = max(mark // 2 - 2, 0)  # the slope bound above holds only down to mark / 2
            lo = mark - delta - 1
            hi = mark + delta + 1
            market.cross.set(key_lo, lo if lo > 0 else None, True)
            market.cross.set(key_hi, hi, False)

    def unband(self, acct: Account, asset: str) -> None:
        key_lo = (acct.id, asset, LO)
        key_hi = (acct.id, asset, HI)
        for market in self.markets.values():
            cross = market.cross
            if key_lo in cross.where or key_hi in cross.where:
                cross.drop(key_lo)
                cross.drop(key_hi)


def _factor(profile: VenueProfile, level: Decimal | None) -> Fraction | None:
    """c such that the ratio reaches `level` exactly where equity − c·MM = 0."""
    if level is None:
        return None
    t = Fraction(level)
    if t <= 0:
        return None
    return t if profile.ratio is RatioConvention.BALANCE_OVER_MM else 1 / t


def _ceil(x: Fraction | int) -> int:
    return -(-x.numerator // x.denominator) if isinstance(x, Fraction) else x


def _reference(pos: Position) -> int:
    market = pos.market
    if market.mark is not None:
        return market.mark
    if market.last is not None:
        return market.last * pos.inst.tick_pp
    return pos.inst.entry_points(abs(pos.lots), pos.cost)
