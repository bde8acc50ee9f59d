"""Margin calls and liquidation of isolated spot-margin accounts, and spot marks.

Measured at each mark, interest charge, transfer in and fill: an account at its venue's liquidation threshold has
its orders cancelled; if still there, OKX's rule liquidates part (a liability in tier 3 or above comes down to the
cap two tiers lower) and re-measures, Binance's (and OKX's tiers 1–2) the whole account: what it holds is sold (or
the borrowed coin bought back) through the book within the price band, the fund takes the rest at the mark,
liabilities are repaid, a shortfall is the insurance fund's, the liquidation fee goes to it, and what is left
returns to the wallet. Nothing here ever touches the wallet or another pair's account except to return the rest.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from isomargin.engine.admin import points_of
from isomargin.engine.codes import AlertLevel, LiquidationStep, OrderStatus, Posting
from isomargin.engine.commands import OrderSide, OrderType, SetMarkPrice, SideEffect, TimeInForce
from isomargin.engine.events import MarkPriceUpdated
from isomargin.engine.spot_events import SpotLiquidated, SpotMarginCall
from isomargin.engine.spot_risk import alert
from isomargin.engine.spot_state import SpotAccount, SpotOrder, SpotPair
from isomargin.engine.units import decimal_of, money
from isomargin.venues.spot_margin import SpotRisk

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine

MAX_STEPS: Final = 32  # partial steps before a full close: far above any tier table's length


def _ratio(r: Fraction | None) -> Decimal | None:
    """A risk ratio for events: exact to 18 places, rounded down (towards liquidation: never flattering)."""
    if r is None:
        return None
    q = r.numerator * 10**18 // r.denominator
    return decimal_of(q, -18)


class SpotLiquidation:
    """Owns the order of work when several accounts need measuring at once (liquidations never nest)."""

    __slots__ = ("active", "e", "pending")

    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.active = False
        self.pending: dict[tuple[int, str], SpotAccount] = {}

    # -- marks -----------------------------------------------------------------------------------------------
    def check_mark(self, cmd: SetMarkPrice) -> tuple[SpotPair, int, Decimal]:
        pair = self.e.spot.pair(cmd.symbol)
        mark = points_of(cmd.mark, "mark price")
        if cmd.index is not None:
            points_of(cmd.index, "index price")
        assert isinstance(cmd.mark, Decimal)
        return pair, mark, cmd.mark

    def commit_mark(self, plan: tuple[SpotPair, int, Decimal]) -> None:
        pair, mark, mark_dec = plan
        pair.mark = mark
        pair.mark_dec = mark_dec
        self._emit(MarkPriceUpdated(self.e.ctx.env, 0, pair.symbol, mark_dec, mark_dec))
        for sa in list(pair.accounts.values()):
            if sa.indebted or sa.alert is not AlertLevel.OK:
                self.measure(sa)

    # -- measuring -------------------------------------------------------------------------------------------
    def measure(self, sa: SpotAccount) -> None:
        """Commit step: report an alert level change; liquidate at the threshold."""
        if self.active:
            self.pending[(sa.account, sa.pair.symbol)] = sa
            return
        self.active = True
        try:
            self._measure(sa)
            while self.pending:
                key = next(iter(self.pending))
                self._measure(self.pending.pop(key))
        finally:
            self.active = False

    def _measure(self, sa: SpotAccount) -> None:
        price = self.e.spot.price(sa.pair)
        if price is None:
            return
        # The hours already due are owed whether or not an AccrueInterest has come by: charge them first, so a
        # liquidation repays them and the threshold is measured against them.
        spot = self.e.spot
        ts = self.e.ctx.env.command.ts
        for asset in (sa.pair.base, sa.pair.quote):
            if spot.due(sa, asset, ts)[0] > 0:
                spot.catch_up(sa, asset, ts)
        level, r = alert(sa, price)
        if level is AlertLevel.LIQUIDATE:
            self._liquidate(sa, price, r)
        elif level is not sa.alert:
            self._set_alert(sa, level, r)

    def _set_alert(self, sa: SpotAccount, level: AlertLevel, r: Fraction | None) -> None:
        sa.alert = level
        ratio = _ratio(r)
        self._emit(SpotMarginCall(self.e.ctx.env, 0, sa.account, sa.pair.symbol, level,
                                  Decimal(0) if ratio is None else ratio))  # fmt: skip

    # -- liquidation -----------------------------------------------------------------------------------------
    def _liquidate(self, sa: SpotAccount, price: Fraction, r: Fraction | None) -> None:
        pair = sa.pair
        mark = self._mark(pair)
        if sa.alert is not AlertLevel.LIQUIDATE:
            self._set_alert(sa, AlertLevel.LIQUIDATE, r)
        if sa.orders:
            trading = self.e.spot_trading
            for order in list(sa.orders.values()):
                trading.cancel(pair, order, "liquidation")
            level, r = alert(sa, price)
            self._step(sa, LiquidationStep.CANCEL_ORDERS, mark, r, None, 0, 0, 0, 0)
            if level is not AlertLevel.LIQUIDATE:
                self._set_alert(sa, level, r)
                return
        for _ in range(MAX_STEPS):
            partial = self._partial_target(sa) if pair.risk is SpotRisk.MAINTENANCE_RATIO else None
            if partial is None:
                break
            asset, cut = partial
            repaid = self._reduce(sa, asset, cut, price)
            fee = self._fee(sa, asset, repaid, price)
            level, r = alert(sa, price)
            self._step(sa, LiquidationStep.PARTIAL, mark, r, asset, repaid, fee, 0, 0)
            if level is not AlertLevel.LIQUIDATE:
                self._set_alert(sa, level, r)
                return
        self._close(sa, price, mark)

    def _partial_target(self, sa: SpotAccount) -> tuple[str, int] | None:
        """OKX: (asset, amount to repay) bringing a liability in tier 3 or above down to the cap two tiers lower;
        None when no liability is that high (the account then closes in full)."""
        pair = sa.pair
        for asset in (pair.base, pair.quote):
            owed = sa.owes(asset)
            found = pair.tier(asset, owed) if owed > 0 else None
            if found is None or found[0] < 2:
                continue
            cap = pair.tiers[asset][found[0] - 2].cap
            if cap is not None and owed > cap:
                return asset, owed - cap
        return None

    def _close(self, sa: SpotAccount, price: Fraction, mark: Decimal) -> None:
        pair = sa.pair
        spot = self.e.spot
        for asset in (pair.base, pair.quote):
            owed = sa.owes(asset)
            if owed <= 0:
                continue
            repaid = self._reduce(sa, asset, owed, price)
            shortfall = sa.owes(asset)
            if shortfall > 0:  # nothing left to sell: the insurance fund pays the rest of the loan
                self.e.ledger.post(spot.fund(pair, asset), sa.free[asset], shortfall, Posting.BAD_DEBT)
                spot.settle_debt(sa, asset, shortfall, "liquidation")
            fee = self._fee(sa, asset, repaid, price)
            self._step(sa, LiquidationStep.CLOSE, mark, None, asset, repaid + shortfall, fee, shortfall, 0)
        returned = 0
        wallet_of = self.e.accounts.wallet
        owner = self.e.accounts.by_id[sa.account]
        for asset in (pair.base, pair.quote):
            rest = sa.free[asset].amount
            if rest > 0:
                returned += int(Fraction(rest) * (price if asset == pair.base else 1))
                self.e.ledger.post(sa.free[asset], wallet_of(owner, asset), rest, Posting.MARGIN_TRANSFER)
            sa.transferred[asset] = 0
        self._step(sa, LiquidationStep.DONE, mark, None, None, 0, 0, 0, returned)
        self._set_alert(sa, AlertLevel.OK, None)

    def _reduce(self, sa: SpotAccount, asset: str, amount: int, price: Fraction) -> int:
        """Repay `amount` of the `asset` liability: from what the account holds of it, then from what selling the
        other asset brings. Returns what was repaid."""
        spot = self.e.spot
        repaid = spot.settle_debt(sa, asset, amount, "liquidation")
        need = amount - repaid
        if need > 0:
            self._convert(sa, asset, need, price)
            repaid += spot.settle_debt(sa, asset, need, "liquidation")
        return repaid

    def _convert(self, sa: SpotAccount, want: str, need: int, price: Fraction) -> None:
        """Obtain `need` of `want` for the other asset: an IOC order through the book within the band, then the
        insurance fund at the mark for what the book did not give (rounded against the account)."""
        pair = sa.pair
        got = sa.free[want]
        before = got.amount
        give = sa.free[pair.other(want)]
        taker = Fraction(pair.taker.num, pair.taker.den)
        mark_ticks = price * pair.lot_k / pair.tick_k  # the mark in ticks (price is quote quanta per base quanta)
        if want == pair.quote:
            edge = max(1, int(mark_ticks * (1 - pair.band)))
            per_lot = edge * pair.tick_k * (1 - taker)
            lots = min(_ceil(Fraction(need) / per_lot) if per_lot > 0 else 0, give.amount // pair.lot_k)
            if lots > 0 and pair.book.best_bid() is not None:
                self._order(sa, OrderSide.SELL, edge, lots, lots * pair.lot_k)
        else:
            edge = _ceil(mark_ticks * (1 + pair.band))
            lots = min(_ceil(Fraction(need) / (pair.lot_k * (1 - taker))), give.amount // (edge * pair.tick_k))
            if lots > 0 and pair.book.best_ask() is not None:
                self._order(sa, OrderSide.BUY, edge, lots, lots * edge * pair.tick_k)
        rest = need - (got.amount - before)
        if rest <= 0 or give.amount <= 0:
            return
        ledger = self.e.ledger
        fund_base, fund_quote = self.e.spot.fund(pair, pair.base), self.e.spot.fund(pair, pair.quote)
        if want == pair.quote:  # the fund buys base at the mark
            b = min(_ceil(Fraction(rest) / price), give.amount)
            ledger.post(give, fund_base, b, Posting.SPOT_TRADE)
            ledger.post(fund_quote, got, int(b * price), Posting.SPOT_TRADE)
        else:  # the fund sells base at the mark
            q = min(_ceil(rest * price), give.amount)
            ledger.post(give, fund_quote, q, Posting.SPOT_TRADE)
            ledger.post(fund_base, got, int(q / price), Posting.SPOT_TRADE)

    def _order(self, sa: SpotAccount, side: OrderSide, ticks: int, lots: int, lock: int) -> None:
        e = self.e
        pair = sa.pair
        pay, get = (pair.quote, pair.base) if side is OrderSide.BUY else (pair.base, pair.quote)
        order = SpotOrder(
            e.orders.allocate(), sa.account, pair.symbol, side, OrderType.LIMIT, TimeInForce.IOC, ticks, ticks,
            lots, True, SideEffect.NO_SIDE_EFFECT, None, sa.free[pay], sa.locked[pay], sa.free[get], sa,
        )  # fmt: skip
        e.ledger.post(order.pay_free, order.pay_lock, lock, Posting.ORDER_HOLD)
        order.locked = lock
        order.status = OrderStatus.NEW
        e.spot_trading.execute(order, pair)

    def _fee(self, sa: SpotAccount, asset: str, repaid: int, price: Fraction) -> int:
        """Commit step: the liquidation fee on the value repaid (quote quanta, rounded up), to the insurance fund:
        from the account's quote, then its base at the mark; never more than it holds. Returns the fee charged
        (quote quanta)."""
        pair = sa.pair
        value = Fraction(repaid) * (price if asset == pair.base else 1)
        fee = _ceil(value * Fraction(pair.liq_fee.num, pair.liq_fee.den))
        ledger = self.e.ledger
        spot = self.e.spot
        q = min(fee, sa.free[pair.quote].amount)
        ledger.post(sa.free[pair.quote], spot.fund(pair, pair.quote), q, Posting.LIQUIDATION_FEE)
        charged = q
        if fee > q:
            b = min(_ceil(Fraction(fee - q) / price), sa.free[pair.base].amount)
            ledger.post(sa.free[pair.base], spot.fund(pair, pair.base), b, Posting.LIQUIDATION_FEE)
            charged += int(b * price)
        return charged

    def _step(self, sa: SpotAccount, step: LiquidationStep, mark: Decimal, r: Fraction | None, asset: str | None,
              repaid: int, fee: int, shortfall: int, returned: int) -> None:  # fmt: skip
        self._emit(SpotLiquidated(self.e.ctx.env, 0, sa.account, sa.pair.symbol, step, mark, _ratio(r), asset,
                                  money(repaid), money(fee), money(shortfall), money(returned)))  # fmt: skip

    @staticmethod
    def _mark(pair: SpotPair) -> Decimal:
        if pair.mark_dec is not None:
            return pair.mark_dec
        ref = pair.reference()
        return Decimal(0) if ref is None else Decimal(ref).scaleb(-8)

    def _emit(self, event: Any) -> None:
        out = self.e.ctx.out
        event.index = len(out)
        out.append(event)


def _ceil(x: Fraction | int) -> int:
    if isinstance(x, int):
        return x
    return -(-x.numerator // x.denominator)
