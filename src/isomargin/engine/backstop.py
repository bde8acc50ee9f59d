"""What stands behind a liquidation the book cannot absorb: the insurance fund and auto-deleveraging.

The fund takes the rest of the position over at the bankruptcy price when it can carry the loss at mark (it then
holds inventory, pays and earns funding on it, and sells it back into the book on later marks); otherwise ADL
closes other accounts' opposite positions at the bankruptcy price, ranked by PnL % × effective leverage
(BitMEX's ranking), most profitable first. Hedge mode's offset of the two legs lives here too.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Final

from isomargin.engine.accounts import Accounts
from isomargin.engine.book import SelfTradePrevention
from isomargin.engine.book import TimeInForce as BookTIF
from isomargin.engine.codes import LiquidationStep, ShortfallReason
from isomargin.engine.commands import OrderSide, PositionSide
from isomargin.engine.context import Context
from isomargin.engine.events import AutoDeleveraged
from isomargin.engine.health import Health
from isomargin.engine.ledger import Balance
from isomargin.engine.orders import Orders
from isomargin.engine.positions import Positions
from isomargin.engine.risk import reference_value
from isomargin.engine.state import INSURANCE, Account, Market, Position
from isomargin.engine.trading import Trading
from isomargin.engine.units import Rate, money, points, threshold
from isomargin.margin import solve_liquidation_price

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_ADL: Final = LiquidationStep.ADL
_BOTH: Final = PositionSide.BOTH
_HEDGE_OFFSET: Final = LiquidationStep.HEDGE_OFFSET
_LIQUIDATED_BEYOND_BANKRUPTCY: Final = ShortfallReason.LIQUIDATED_BEYOND_BANKRUPTCY
_LONG: Final = PositionSide.LONG
_SHORT: Final = PositionSide.SHORT
_TAKEOVER: Final = LiquidationStep.TAKEOVER

if TYPE_CHECKING:
    from isomargin.engine.liquidation import Liquidation

NO_FEE: Final = Rate(money(0))
UNBOUNDED: Final = Fraction(10**9)  # effective leverage of a position whose balance is gone


def against(pos: Position, lots: int, points: int) -> int:
    """The notional (quanta) at which `lots` of `pos` close at an off-grid price: rounded against its holder (a
    long sells for the lower amount, a short buys back for the higher); the other side uses the same amount."""
    inst = pos.inst
    # A linear long (an inverse short) gains with the value: it closes at the lower amount; the others higher.
    return inst.value_down(lots, points) if pos.lots * inst.vsign > 0 else inst.value_up(lots, points)


def collateral(accounts: Accounts, pos: Position) -> Balance:
    """What backs a position: its isolated pool, its owner's wallet (cross), or the fund (its own inventory)."""
    if pos.account == INSURANCE:
        return pos.market.fund
    if pos.isolated:
        assert pos.pool is not None
        return pos.pool
    return accounts.wallet(accounts.by_id[pos.account], pos.inst.settle)


class Backstop:
    """Fund takeover and unwinding, ADL, hedge offset, and the bankruptcy price they all close at."""

    __slots__ = ("accounts", "ctx", "health", "liquidation", "orders", "positions", "ranked", "trading")

    def __init__(
        self, trading: Trading, positions: Positions, health: Health, accounts: Accounts, orders: Orders, ctx: Context
    ) -> None:
        self.trading = trading
        self.positions = positions
        self.health = health
        self.accounts = accounts
        self.orders = orders
        self.ctx = ctx
        self.liquidation: Liquidation | None = None  # wired by the engine (steps are reported there)
        # The ADL queue of one market side, ranked once per command (mark tick) and walked by every liquidation in
        # it: (seq, symbol, side of the bankrupt position) -> ranking. Ranking all positions per liquidation made a
        # gap cascade quadratic.
        self.ranked: tuple[int, str, int, deque[tuple[Fraction, int, str, Position]]] | None = None

    # -- the price everything here closes at -----------------------------------------------------------------
    def bankruptcy(self, pos: Position) -> int | None:
        """Isolated: the cached price where its margin is gone. Cross: where the account's equity is gone,
        holding its other symbols at their reference prices. In points, rounded against the trader (a long's
        up, a short's down), so amounts moved at this price never leave the owner short."""
        # Isolated: cached, kept current by every change (`Health.track`; `absorb` refreshes after fills).
        price = pos.bankruptcy if pos.isolated else self._cross_bankruptcy(pos)
        if price is None:
            return None
        return threshold(price, on_fall=pos.lots < 0)

    def _cross_bankruptcy(self, pos: Position) -> Decimal | None:
        acct = self.accounts.by_id[pos.account]
        asset = pos.inst.settle
        legs = []
        base = self.accounts.wallet_amount(acct, asset)
        for p in acct.positions.values():
            if p.isolated or not p.lots or p.inst.settle != asset:
                continue
            if p.symbol == pos.symbol:
                legs.append(self.health.leg(p))
            else:
                gains_up = p.lots * p.inst.vsign > 0  # gains as the value rises
                value = reference_value(p, up=not gains_up)  # against the account
                base += value - p.cost if gains_up else p.cost - value
        return solve_liquidation_price(legs, money(base), with_mm=False) if legs else None

    # -- what the book could not take --------------------------------------------------------------------------
    def absorb(self, pos: Position, mark: int) -> None:
        """Insurance takeover at the bankruptcy price if the fund can carry the loss at mark, else ADL."""
        if pos.isolated:
            self.positions.refresh(pos)  # a partly filled close changed it since the last refresh
        bankrupt = self.bankruptcy(pos)
        if bankrupt is None or bankrupt <= 0:
            bankrupt = mark
        lots = abs(pos.lots)
        # The fund would hold the same side from the bankruptcy price: what that loses at mark.
        loss_at_mark = pos.inst.loss(lots, pos.sign, bankrupt, mark)
        if pos.market.fund.amount >= loss_at_mark or not self.queue(pos, mark):
            self.takeover(pos, lots, bankrupt, mark)
        else:
            self.deleverage(pos, bankrupt, mark)

    def takeover(self, pos: Position, lots: int, price: int, mark: int) -> None:
        """The fund becomes the holder of `lots` of the position at `price` (points: its bankruptcy price)."""
        market = pos.market
        fund_before = market.fund.amount
        exposure = pos.sign * lots  # the fund takes over the same side the trader held
        notional = against(pos, lots, price)
        self.positions.realize(pos, lots, notional, collateral(self.accounts, pos))
        held = market.held
        if held is None:
            held = market.held = Position(INSURANCE, market, _BOTH, False, 1)
        if held.lots and held.sign != (1 if exposure > 0 else -1):  # the fund nets what it already holds
            close = min(abs(exposure), abs(held.lots))
            part = notional * close // lots
            self.positions.realize(held, close, part, market.fund)
            notional -= part
            exposure -= close if exposure > 0 else -close
        if exposure:
            self.positions.add(held, exposure, notional)
        self._step(pos, _TAKEOVER, mark, lots, price, market.fund.amount - fund_before)

    def queue(self, pos: Position, mark: int) -> deque[tuple[Fraction, int, str, Position]]:
        """The ADL ranking against `pos` for this command, computed on first use; positions it deleveraged to
        zero (or that turned to the bankrupt side) drop out from the front as they go."""
        seq, symbol, side = self.ctx.env.seq, pos.symbol, pos.sign
        cached = self.ranked
        if cached is None or cached[0] != seq or cached[1] != symbol or cached[2] != side:
            cached = self.ranked = (seq, symbol, side, deque(self.candidates(pos, mark)))
        ranking = cached[3]
        while ranking and (not ranking[0][3].lots or ranking[0][3].sign == side):
            ranking.popleft()
        return ranking

    def candidates(self, pos: Position, mark: int) -> list[tuple[Fraction, int, str, Position]]:
        """Opposite-side positions of other accounts, best ADL score first."""
        ranked = []
        wallet_amount = self.accounts.wallet_amount
        by_id = self.accounts.by_id
        for (account, pside), cand in pos.market.positions.items():
            if account == pos.account or not cand.lots or cand.sign == pos.sign:
                continue
            lots = abs(cand.lots)
            gains_up = cand.lots * cand.inst.vsign > 0
            value = cand.inst.value_down(lots, mark) if gains_up else cand.inst.value_up(lots, mark)
            pnl = value - cand.cost if gains_up else cand.cost - value
            col = cand.margin if cand.isolated else wallet_amount(by_id[account], cand.inst.settle)
            balance = col + pnl
            pnl_pct = Fraction(pnl * cand.leverage, cand.cost)
            leverage = Fraction(value, balance) if balance > 0 else UNBOUNDED
            score = pnl_pct * leverage if pnl_pct > 0 else pnl_pct / leverage
            ranked.append((-score, account, pside.value, cand))
        ranked.sort(key=lambda r: (r[0], r[1], r[2]))
        return ranked

    def deleverage(self, pos: Position, price: int, mark: int) -> None:
        market = pos.market
        by_id = self.accounts.by_id
        for _, account, _, cand in self.queue(pos, mark):  # stops at the first that is big enough
            if not pos.lots:
                break
            if account == pos.account or not cand.lots or cand.sign == pos.sign:
                continue
            lots = min(abs(pos.lots), abs(cand.lots))
            sides = ("long" if cand.lots > 0 else "short", "long" if pos.lots > 0 else "short")
            notional = against(pos, lots, price)  # both sides close at the same (rounded) notional
            self.positions.realize(pos, lots, notional, collateral(self.accounts, pos))
            cacct = by_id[account]
            _, pnl = self.positions.fill(cacct, cand, OrderSide(-cand.sign), lots, notional, NO_FEE)  # a close
            out = self.ctx.out
            out.append(AutoDeleveraged(self.ctx.env, len(out), account, pos.symbol, cand.side, pos.inst.qty(lots),
                                       points(price), money(pnl), pos.account, *sides, pos.inst.settle))  # fmt: skip
            self.trading.upkeep(cacct, market, cand.side)
            self._step(pos, _ADL, mark, lots, price)
        if pos.lots:  # nobody left on the other side: the fund must take it whatever it costs
            self.takeover(pos, abs(pos.lots), price, mark)

    def hedge_offset(self, acct: Account, pos: Position, mark: int) -> None:
        """Hedge mode: the account's opposite leg closes against this one at mark before anything else."""
        other_side = _SHORT if pos.side is _LONG else _LONG
        other = acct.positions.get((pos.symbol, other_side))
        if other is None or not other.lots:
            return
        lots = min(abs(pos.lots), abs(other.lots))
        notional = against(pos, lots, mark)
        col = collateral(self.accounts, pos)
        self.positions.realize(pos, lots, notional, col)
        # Past bankruptcy (a gap) the offset can leave the leg's own pool short: the fund covers it, never the owner.
        self.positions.cover(col, pos.account, pos.market, _LIQUIDATED_BEYOND_BANKRUPTCY)
        self.positions.fill(acct, other, OrderSide(-other.sign), lots, notional, NO_FEE)
        self.trading.upkeep(acct, pos.market, other_side)
        self.positions.refresh(pos)
        self._step(pos, _HEDGE_OFFSET, mark, lots, mark)

    # -- the fund's inventory ------------------------------------------------------------------------------------
    def unwind(self, market: Market) -> bool:
        """The fund sells what it took over back into the book (IOC within the market band); True if it traded."""
        held = market.held
        if held is None or not held.lots:
            return False
        side = OrderSide(-held.sign)
        ticks = self.trading.band_ticks(market, side)
        if ticks is None:
            return False
        if market.book.fillable(side, ticks, 1) == 0:
            return False  # nothing to sell into: no order id is spent
        order_id = self.orders.allocate()
        result = market.book.submit(order_id, INSURANCE, side, ticks, abs(held.lots), BookTIF.IOC, False,
                                    SelfTradePrevention.NONE)  # fmt: skip
        inst = market.inst
        touched = self.trading.fill_makers(
            market, result, None,
            lambda n, t: (0, self.positions.realize(held, n, inst.at_ticks(n, t, side), market.fund)),
            order_id, INSURANCE, side,
        )  # fmt: skip
        self.trading.upkeep_all(touched)
        return bool(result.fills)

    def _step(
        self, pos: Position, step: LiquidationStep, mark: int, lots: int, price: int, fund: int | None = None
    ) -> None:
        assert self.liquidation is not None
        self.liquidation.step(pos, step, mark, pos.inst.qty(lots), points(price), None if fund is None else money(fund))
