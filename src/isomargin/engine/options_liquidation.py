"""Margin calls and liquidation of short option positions. At each index, mark and fill a short is measured:
below 300 % an alert, at ≤ 100 % its orders on the option are cancelled; if still there, it is bought back one
tier at a time (seed 003: options step down ONE tier, futures two) — contracts down to the cap of the tier below
— and measured again; in the first tier the whole position. A buy-back goes through the book within a band of
the mark and is paid from the pool; what the book does not take the insurance fund takes over at the mark. The
liquidation fee goes to the fund; a shortfall is the fund's; what is left of the pool goes to the wallet.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from isomargin.engine.codes import AlertLevel, LiquidationStep, Posting
from isomargin.engine.commands import OrderSide, TimeInForce
from isomargin.engine.options_events import OptionLiquidated, OptionMarginCall
from isomargin.engine.options_risk import alert, contracts, liquidation_fee, price_of, tier_index
from isomargin.engine.options_state import OptionMarket, OptionOrder, OptionPosition
from isomargin.engine.state import INSURANCE
from isomargin.engine.units import QUANTA, decimal_of, money

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine

BAND: Final = Fraction(1, 10)  # a buy-back pays at most 10 % above the mark (option books are thin)
MAX_STEPS: Final = 64


def _ratio(r: Fraction | None) -> Decimal:
    return Decimal(0) if r is None else decimal_of(r.numerator * 10**18 // r.denominator, -18)


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


class OptionLiquidation:
    """Owns the order of work (liquidations never nest) and which live orders are liquidations paid from a pool."""

    __slots__ = ("active", "e", "from_pool", "pending")

    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.active = False
        self.pending: dict[tuple[int, str], OptionPosition] = {}
        self.from_pool: set[int] = set()

    def after_mark(self, market: OptionMarket) -> None:
        for pos in list(market.positions.values()):
            if pos.lots < 0 or pos.alert is not AlertLevel.OK:
                self.measure(pos)

    def measure(self, pos: OptionPosition) -> None:
        """Commit step: report an alert level change; liquidate at the threshold."""
        if pos.account == INSURANCE:
            return
        if self.active:
            self.pending[(pos.account, pos.market.inst.symbol)] = pos
            return
        self.active = True
        try:
            self._measure(pos)
            while self.pending:
                self._measure(self.pending.pop(next(iter(self.pending))))
        finally:
            self.active = False

    def _prices(self, market: OptionMarket) -> tuple[Fraction, Fraction] | None:
        index = self.e.options.index_of(market.inst)
        if index is None or market.mark is None:
            return None
        return index, price_of(market.mark)

    def _measure(self, pos: OptionPosition) -> None:
        prices = self._prices(pos.market)
        if prices is None:
            return
        if pos.lots >= 0:
            if pos.alert is not AlertLevel.OK:
                self._set_alert(pos, AlertLevel.OK, None)
            return
        level, r = alert(pos, *prices)
        if level is AlertLevel.LIQUIDATE:
            self._liquidate(pos, prices, r)
        elif level is not pos.alert:
            self._set_alert(pos, level, r)

    def _set_alert(self, pos: OptionPosition, level: AlertLevel, r: Fraction | None) -> None:
        pos.alert = level
        self._emit(OptionMarginCall(self.e.ctx.env, 0, pos.account, pos.market.inst.symbol, level, _ratio(r)))

    def _liquidate(self, pos: OptionPosition, prices: tuple[Fraction, Fraction], r: Fraction | None) -> None:
        market = pos.market
        inst = market.inst
        mark = market.mark_dec or Decimal(0)
        if pos.alert is not AlertLevel.LIQUIDATE:
            self._set_alert(pos, AlertLevel.LIQUIDATE, r)
        trading = self.e.option_trading
        mine = [o for o in trading.orders.values() if o.account == pos.account and o.symbol == inst.symbol]
        if mine:
            for order in mine:
                trading.cancel(market, order, "liquidation")
            level, r = alert(pos, *prices)
            self._step(pos, LiquidationStep.CANCEL_ORDERS, mark, r, 0, 0, 0, 0, 0)
            if level is not AlertLevel.LIQUIDATE:
                self._set_alert(pos, level, r)
                return
        for _ in range(MAX_STEPS):
            i = tier_index(inst, contracts(inst, pos.lots))
            if i == 0:
                break
            cap = inst.family.tiers[i - 1].max_contracts
            assert cap is not None
            keep = int(Fraction(cap) / Fraction(inst.step))  # lots at the cap of the tier below
            cut = -pos.lots - keep
            if cut <= 0:
                break
            booked, taken, fee, short = self._buy_back(pos, cut, prices)
            level, r = alert(pos, *prices)
            self._step(pos, LiquidationStep.PARTIAL, mark, r, booked, taken, fee, short, 0)
            if level is not AlertLevel.LIQUIDATE:
                self._set_alert(pos, level, r)
                return
        booked, taken, fee, shortfall = self._buy_back(pos, -pos.lots, prices)
        returned = self._close_pool(pos)
        self._step(pos, LiquidationStep.CLOSE, mark, None, booked, taken, fee, shortfall, returned)
        self._set_alert(pos, AlertLevel.OK, None)
        self.e.options.tidy(pos)

    def _buy_back(self, pos: OptionPosition, lots: int,
                  prices: tuple[Fraction, Fraction]) -> tuple[int, int, int, int]:  # fmt: skip
        """Commit step: buy `lots` back, through the book (an IOC paid from the pool) then the fund at the mark;
        charge the liquidation fee on them. Returns (lots through the book, lots taken over, fee, shortfall)."""
        market = pos.market
        inst = market.inst
        _, mark = prices
        before = pos.lots
        pool = self.e.options.pool(pos)
        edge = _ceil(mark * (1 + BAND) / Fraction(inst.tick_pp, 10**8))
        per_lot = edge * inst.tick_k + _ceil(edge * inst.tick_k * inst.fee_cap)
        affordable = min(lots, pool.amount // per_lot) if per_lot > 0 else 0
        if affordable > 0 and market.book.best_ask() is not None:
            trading = self.e.option_trading
            order = OptionOrder(self.e.orders.allocate(), pos.account, inst.symbol, OrderSide.BUY, edge, affordable,
                                TimeInForce.IOC, True, None, per_lot)  # fmt: skip
            self.from_pool.add(order.id)
            try:
                trading.lock(order, pool)
                trading.execute(market, order, release=pool)
            finally:
                self.from_pool.discard(order.id)
        booked = pos.lots - before
        rest = lots - booked
        shortfall = self._take_over(pos, rest, mark) if rest > 0 else 0
        fee = self._fee(pos, lots, prices)
        return booked, rest, fee, shortfall

    def _take_over(self, pos: OptionPosition, lots: int, mark: Fraction) -> int:
        """The fund takes `lots` of the short at the mark: the pool pays it their value, as much as it holds;
        returns what it could not pay (the fund's loss on taking them)."""
        market = pos.market
        inst = market.inst
        ledger = self.e.ledger
        fund = self.e.options.fund(inst)
        value = _ceil(lots * inst.lot_units * mark * QUANTA)
        pool = self.e.options.pool(pos)
        paid = min(value, pool.amount)
        ledger.post(pool, fund, paid, Posting.LIQUIDATION_REMAINDER)
        share = pos.cost * lots // -pos.lots
        pos.cost -= share
        pos.lots += lots
        held = market.held
        if held is None:
            held = market.held = OptionPosition(INSURANCE, market)
        held.lots -= lots
        held.cost += value
        self.e.options.emit_position(held)
        self.e.options.emit_position(pos)
        return value - paid

    def _fee(self, pos: OptionPosition, lots: int, prices: tuple[Fraction, Fraction]) -> int:
        inst = pos.market.inst
        index, mark = prices
        pool = self.e.options.pool(pos)
        fee = min(_ceil(liquidation_fee(inst, lots * inst.lot_units, index, mark) * QUANTA), max(pool.amount, 0))
        self.e.ledger.post(pool, self.e.options.fund(inst), fee, Posting.LIQUIDATION_FEE)
        return fee

    def _close_pool(self, pos: OptionPosition) -> int:
        """After the full buy-back: the pool's rest to the wallet (a negative pool is impossible: every payment
        from it is capped at what it holds)."""
        pool = pos.pool
        if pool is None:
            return 0
        rest = pool.amount
        acct = self.e.accounts.by_id[pos.account]
        self.e.ledger.post(pool, self.e.accounts.wallet(acct, pos.market.inst.settle), rest, Posting.MARGIN_RELEASE)
        return rest

    def _step(self, pos: OptionPosition, step: LiquidationStep, mark: Decimal, r: Fraction | None, booked: int,
              taken: int, fee: int, shortfall: int, returned: int) -> None:  # fmt: skip
        g = pos.market.inst.grid
        self._emit(OptionLiquidated(self.e.ctx.env, 0, pos.account, pos.market.inst.symbol, step, mark,
                                    None if r is None else _ratio(r), g.qty(booked), g.qty(taken), money(fee),
                                    money(shortfall), money(returned)))  # fmt: skip

    def _emit(self, event: Any) -> None:
        out = self.e.ctx.out
        event.index = len(out)
        out.append(event)
