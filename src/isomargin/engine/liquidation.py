"""The liquidation pipeline and margin calls, run after every mark change.

Order of steps for a position whose mark crosses its liquidation price (fixed; each step is an event):
  1. cancel the account's open orders on it (cross: all the account's orders), return holds, re-check;
  2. hedge mode: close the opposite leg against it at mark, re-check;
  3. partial liquidation where the venue does it (OKX: two tiers down from tier 3; Hyperliquid: 20 % slices
     of large positions), an IOC at the bankruptcy price, re-check after each step;
  4. full close: an IOC into the book at the bankruptcy price. The liquidation fee and whatever margin is left
     go to the insurance fund (or the remainder back to the trader where the venue says so);
  5. what the book cannot absorb goes to `Backstop` (fund takeover or auto-deleveraging).
The isolated owner's wallet never pays; a flat account never pays; ADL never touches the same side.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Final, cast

from isomargin.engine.accounts import Accounts
from isomargin.engine.backstop import Backstop, collateral
from isomargin.engine.book import SelfTradePrevention
from isomargin.engine.book import TimeInForce as BookTIF
from isomargin.engine.codes import AlertLevel, LiquidationStep, OrderReason, Posting, ShortfallReason
from isomargin.engine.commands import OrderSide, PositionSide
from isomargin.engine.context import Context
from isomargin.engine.events import Liquidated, MarginCall
from isomargin.engine.health import ALERT, LIQ, Health
from isomargin.engine.orders import Orders
from isomargin.engine.positions import Positions
from isomargin.engine.state import Account, Market, Position
from isomargin.engine.trading import Trading
from isomargin.engine.units import div_up, money, points, quotient
from isomargin.margin.numbers import MONEY

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_CANCEL_ORDERS: Final = AlertLevel.CANCEL_ORDERS
_CROSS_LIQUIDATION: Final = ShortfallReason.CROSS_LIQUIDATION
_LIQUIDATED_BEYOND_BANKRUPTCY: Final = ShortfallReason.LIQUIDATED_BEYOND_BANKRUPTCY
_LIQUIDATION: Final = OrderReason.LIQUIDATION
_LIQUIDATION_FEE: Final = Posting.LIQUIDATION_FEE
_LIQUIDATION_REMAINDER: Final = Posting.LIQUIDATION_REMAINDER
_OK: Final = AlertLevel.OK
_PARTIAL: Final = LiquidationStep.PARTIAL
_SELL: Final = OrderSide.SELL

MAX_TICK_ROUNDS: Final = 100_000  # passes of one mark tick; each one that trades consumes resting orders
MAX_WATCH_ROUNDS: Final = 1_000_000  # a pass's watch rounds; each round removes at least one entry for good
MAX_PARTIAL_STEPS: Final = 1_000  # partial-liquidation steps of one position within one tick
_CANCEL = LiquidationStep.CANCEL_ORDERS
_DONE = LiquidationStep.DONE
_CLOSE = LiquidationStep.CLOSE


class Liquidation:
    """Margin calls and liquidations of isolated positions and cross accounts."""

    __slots__ = ("accounts", "backstop", "ctx", "health", "markets", "orders", "positions", "trading")

    def __init__(
        self,
        trading: Trading,
        backstop: Backstop,
        positions: Positions,
        health: Health,
        accounts: Accounts,
        orders: Orders,
        markets: dict[str, Market],
        ctx: Context,
    ) -> None:
        self.trading = trading
        self.backstop = backstop
        self.positions = positions
        self.health = health
        self.accounts = accounts
        self.orders = orders
        self.markets = markets
        self.ctx = ctx

    # ================================================================ on every mark change
    def after_mark(self, market: Market) -> None:
        """Everything a new mark sets off, until nothing more does: isolated positions at their liquidation or
        alert price, cross accounts outside their band or changed since they were last measured, then the fund
        sells inventory into the book. A fill in any step can put another position past its price (a stale
        resting order hit at a bad price), so the passes repeat until one changes nothing."""
        for _ in range(MAX_TICK_ROUNDS):
            self._isolated_pass(market)
            self._cross_pass(market)
            if not self.backstop.unwind(market) and not self.health.dirty:
                return
        raise AssertionError("a mark tick did not settle")

    def _isolated_pass(self, market: Market) -> None:
        mark = market.mark
        assert mark is not None
        symbol = market.inst.symbol
        by_id = self.accounts.by_id
        for _ in range(MAX_WATCH_ROUNDS):
            fired = market.watch.fire(mark)
            if not fired:
                return
            for account, side, kind in fired:
                pos = by_id[account].positions.get((symbol, cast(PositionSide, side)))  # the key holds the member
                if pos is None or not pos.lots or not pos.isolated:
                    continue
                if kind == LIQ:
                    self.liquidate_isolated(pos, mark)
                elif kind == ALERT:
                    self.alert_isolated(pos, mark)
        raise AssertionError("price watch did not settle")

    def _cross_pass(self, market: Market) -> None:
        """Re-measure the cross accounts whose band this mark left, and every account whose money changed."""
        assert market.mark is not None
        due = self.health.dirty
        for account, _asset, _edge in market.cross.fire(market.mark):
            due[account] = None
        if not due:
            return
        batch = sorted(due)  # an order independent of history
        due.clear()  # what measuring dirties again is measured in the next round
        by_id = self.accounts.by_id
        for account in batch:
            acct = by_id.get(account)
            if acct is not None:
                self.check_cross(acct)

    # ================================================================ margin calls
    def alert_isolated(self, pos: Position, mark: int) -> None:
        profile = pos.inst.profile
        ratio = self.health.isolated_ratio(pos, mark)
        level = _alert(profile.alert_level(ratio))
        if pos.alert is not level:
            pos.alert = level
            self._call(pos.account, pos.symbol, pos.side, level, ratio, pos.inst.settle)
        self.health.watch(pos)
        # The watch fires at equality, but a level can hold at it (OKX warns *below* 300 %): re-armed at a price
        # this very mark reaches, the entry would fire again at once, forever (the pass's round bound, then a
        # fail-stop). The level was just measured exactly at this mark, so it can only change at another one:
        # re-arm one point beyond it.
        watch = pos.market.watch
        key = (pos.account, pos.side, ALERT)
        where = watch.where.get(key)
        if where is not None:
            price, on_fall = where
            if on_fall and price >= mark:
                watch.set(key, mark - 1, True)
            elif not on_fall and price <= mark:
                watch.set(key, mark + 1, False)

    def _call(
        self, account: int, symbol: str | None, side: PositionSide | None, level: AlertLevel, ratio: Decimal,
        asset: str,
    ) -> None:  # fmt: skip
        out = self.ctx.out
        out.append(MarginCall(self.ctx.env, len(out), account, symbol, side, level, ratio, asset))

    # ================================================================ isolated
    @staticmethod
    def liquidatable(pos: Position, mark: int) -> bool:
        trigger = pos.trigger  # the liquidation price as a watch price: integer comparisons, exactly mark vs LP
        if trigger is None:
            return False
        return mark <= trigger if pos.lots > 0 else mark >= trigger

    def liquidate_isolated(self, pos: Position, mark: int) -> None:
        acct = self.accounts.by_id[pos.account]
        market = pos.market
        self.step(pos, _CANCEL, mark)
        self.trading.cancel_orders(acct, market, _LIQUIDATION, pos.side)
        if acct.hedge_mode:
            self.backstop.hedge_offset(acct, pos, mark)
            if not pos.lots or not self.liquidatable(pos, mark):
                self.after_liquidation(acct, pos)
                return
        for _ in range(MAX_PARTIAL_STEPS):
            if not (pos.lots and self.liquidatable(pos, mark)):
                break
            lots = self.partial_lots(pos, mark)
            if lots is None or not self.close_into_book(pos, lots, _PARTIAL, mark):
                break
            self.positions.refresh(pos)
        if pos.lots and self.liquidatable(pos, mark) and not self.close_into_book(pos, abs(pos.lots), _CLOSE, mark):
            self.backstop.absorb(pos, mark)
        self.after_liquidation(acct, pos)

    def partial_lots(self, pos: Position, mark: int) -> int | None:
        """Lots a partial step closes, or None for a full close."""
        inst = pos.inst
        rule = inst.profile.partial
        if rule.rule == "none":
            return None  # the venue always closes the whole position
        whole = abs(pos.lots)
        price = points(mark)
        target = rule.target_tier(self.health.leg(pos).tier_at(price).tier)
        if target is not None:
            table = inst.spec.table
            cap = table.tiers[target - 1].cap
            if cap is None:
                return None
            if table.basis.value == "contracts":
                keep = cap * table.contract_size
            else:  # the size whose notional is the cap: cap / price (linear), cap × price (inverse: cap in coin)
                keep = cap * price if inst.inverse else cap / price
            keep_lots = int((keep / inst.step).to_integral_value(rounding=ROUND_FLOOR))
            return whole - keep_lots if 0 < keep_lots < whole else None
        fraction = rule.slice_fraction(inst.notional_at(inst.qty(whole), price))
        if fraction is not None:
            lots = int((whole * fraction).to_integral_value(rounding=ROUND_CEILING))
            return lots if 0 < lots < whole else None
        return None

    def close_into_book(self, pos: Position, lots: int, step: LiquidationStep, mark: int) -> bool:
        """IOC at the bankruptcy price for `lots`; True when it all filled."""
        market = pos.market
        inst = pos.inst
        bankrupt = self.backstop.bankruptcy(pos)
        side = OrderSide(-pos.sign)
        if bankrupt is None or bankrupt <= 0:
            ticks = self.trading.band_ticks(market, side)  # nothing to lose at any price: take the market
        elif side is _SELL:  # never worse than bankruptcy
            ticks = div_up(bankrupt, inst.tick_pp)
        else:
            ticks = bankrupt // inst.tick_pp
        if ticks is None or ticks <= 0:
            return False
        order_id = self.orders.allocate()
        result = market.book.submit(
            order_id, pos.account, side, ticks, lots, BookTIF.IOC, False, SelfTradePrevention.CANCEL_TAKER
        )
        fund_before = market.fund.amount
        touched = self.trading.fill_makers(
            market, result, None, lambda n, t: self.liquidation_fill(pos, n, t, ticks), order_id, pos.account, side
        )
        fills = result.fills
        filled = 0
        for f in fills:
            filled += f.qty
        if fills:
            if len(fills) == 1:
                avg = inst.price(fills[0].price)
            else:
                if inst.inverse:  # the harmonic mean: total face over total coin value (exact)
                    value = Fraction(0)
                    for f in fills:
                        value += Fraction(f.qty, f.price)
                    # face / Σ(lots·step / (ticks·tick)) = filled·tick / Σ(lots/ticks)
                    avg = quotient(MONEY.multiply(Decimal(filled * value.denominator), inst.tick),
                                   Decimal(value.numerator))  # fmt: skip
                else:
                    cost = 0
                    for f in fills:
                        cost += f.price * f.qty
                    avg = quotient(money(cost * inst.tick_k), inst.qty(filled))
            self.step(pos, step, mark, inst.qty(filled), avg, money(market.fund.amount - fund_before))
        self.trading.upkeep_all(touched)
        return filled == lots

    def liquidation_fill(self, pos: Position, lots: int, ticks: int, limit: int) -> tuple[int, int]:
        """The liquidated side of a fill: PnL into its own collateral, the liquidation fee to the fund; no margin
        goes back to the wallet until the liquidation is over.

        Isolated: the fee is capped by what is left of the pool *beyond what the lots still open need* to close
        at the order's limit (`limit`, ticks: the bankruptcy price, never worse), i.e. by what the fills so far
        beat bankruptcy by. One IOC can fill at several prices inside its limit; a fee that took the margin
        backing the rest let a later fill drive the pool below zero (the isolated loss cap broken, and a
        fail-stop in `bankruptcy_price` when the rest went to the backstop). Should the pool still end below
        zero (rounding), the fund covers it at once, so the pool is never negative."""
        market = pos.market
        col = collateral(self.accounts, pos)
        inst = pos.inst
        notional = inst.at_ticks(lots, ticks, -pos.sign)  # the liquidated side closes: rounded against it
        pnl = self.positions.realize(pos, lots, notional, col)
        room = col.amount
        if pos.isolated and pos.lots:
            room -= self._reserve(pos, limit)
        fee = min(inst.liq_fee.up(inst.fee_base(lots, ticks)), max(room, 0))
        self.positions.ledger.post(col, market.fund, fee, _LIQUIDATION_FEE)
        if pos.isolated:
            self.positions.cover(col, pos.account, market, _LIQUIDATED_BEYOND_BANKRUPTCY)
        return fee, pnl

    @staticmethod
    def _reserve(pos: Position, limit: int) -> int:
        """What the open rest of `pos` would lose closing at `limit` ticks (quanta, ≥ 0): the part of its
        pool a liquidation fee may not take. Computed as `Positions._close` computes PnL, so it is exact."""
        inst = pos.inst
        value = inst.at_ticks(abs(pos.lots), limit, -pos.sign)  # as the close would book it
        loss = pos.cost - value if pos.lots * inst.vsign > 0 else value - pos.cost
        return loss if loss > 0 else 0

    def after_liquidation(self, acct: Account, pos: Position) -> None:
        """Settle what is left of an isolated pool, then the usual position upkeep."""
        market = pos.market
        if pos.isolated and not pos.lots and pos.pool is not None:
            pool = pos.pool
            self.positions.cover(pool, pos.account, market, _LIQUIDATED_BEYOND_BANKRUPTCY)
            target = self.accounts.wallet(acct, pos.inst.settle) if pos.inst.profile.keeps_remainder else market.fund
            self.positions.ledger.post(pool, target, pool.amount, _LIQUIDATION_REMAINDER)
        assert market.mark is not None
        self.step(pos, _DONE, market.mark)
        self.trading.upkeep(acct, market, pos.side)

    # ================================================================ cross
    def check_cross(self, acct: Account) -> None:
        """Account-level health of the cross positions in each settle asset; liquidate them together."""
        health = self.health
        assets = sorted({p.inst.settle for p in acct.positions.values() if not p.isolated and p.lots})
        for asset in {a for (i, a) in health.cross_alerts if i == acct.id} - set(assets):
            health.unband(acct, asset)  # flat in this asset now: nothing to watch
        for asset in assets:
            equity, mm, profile = health.measure(acct, asset)
            if profile is None:
                continue
            ratio = health.ratio(profile, equity, mm)
            self._cross_alert(acct, asset, _alert(profile.alert_level(ratio)), ratio)
            if equity > mm:
                health.band(acct, asset, equity, mm, profile)
                continue
            self.trading.cancel_orders(acct, None, _LIQUIDATION)
            equity, mm, _ = health.measure(acct, asset)
            if equity > mm:  # the holds it got back saved it: report where it stands now
                ratio = health.ratio(profile, equity, mm)
                self._cross_alert(acct, asset, _alert(profile.alert_level(ratio)), ratio)
                health.band(acct, asset, equity, mm, profile)
                continue
            self.liquidate_cross(acct, asset)

    def liquidate_cross(self, acct: Account, asset: str) -> None:
        for pos in [p for p in acct.positions.values() if not p.isolated and p.lots and p.inst.settle == asset]:
            market = pos.market
            mark = market.reference()
            if mark is None:  # never traded, never marked: its own entry price
                mark = pos.inst.entry_points(abs(pos.lots), pos.cost)
            self.step(pos, _CANCEL, mark)
            if not self.close_into_book(pos, abs(pos.lots), _CLOSE, mark) and pos.lots:
                self.backstop.absorb(pos, mark)
            self.step(pos, _DONE, mark)
            self.trading.upkeep(acct, market, pos.side)
        wallet = self.accounts.wallet(acct, asset)
        if wallet.amount < 0:
            any_market = next(m for m in self.markets.values() if m.inst.settle == asset)
            self.positions.cover(wallet, acct.id, any_market, _CROSS_LIQUIDATION)
        self.health.unband(acct, asset)
        self.health.dirty[acct.id] = None

    def _cross_alert(self, acct: Account, asset: str, level: AlertLevel, ratio: Decimal) -> None:
        key = (acct.id, asset)
        if self.health.cross_alerts.get(key, _OK) is level:
            return
        if level is _OK:
            del self.health.cross_alerts[key]
        else:
            self.health.cross_alerts[key] = level
        self._call(acct.id, None, None, level, ratio, asset)

    # ================================================================ events
    def step(self, pos: Position, step: LiquidationStep, mark: int, qty: Decimal | None = None,
             price: Decimal | None = None, fund: Decimal | None = None) -> None:  # fmt: skip
        out = self.ctx.out
        mark_dec = pos.market.mark_dec if pos.market.mark == mark and pos.market.mark_dec is not None else points(mark)
        out.append(Liquidated(
            self.ctx.env, len(out), pos.account, pos.symbol, pos.side, pos.mode, step, mark_dec, pos.liquidation,
            pos.bankruptcy, qty, price, fund, pos.inst.settle,
        ))  # fmt: skip


def _alert(level: str) -> AlertLevel:
    """The venue's level as an alert: at 'liquidate' the alert says cancel_orders (the pipeline does the rest)."""
    return _CANCEL_ORDERS if level == "liquidate" else AlertLevel(level)
