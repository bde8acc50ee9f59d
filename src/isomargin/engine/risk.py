"""Pre-trade risk: available balance, what an order needs before it may touch the book, order holds, and the
size checks (minimum notional, leverage tier of the position an order can grow to).

Money rules: a resting order holds IM + open loss + a taker-fee estimate at its own price (makers always fill
there, so the hold always covers); a taker is pre-checked at its worst possible fill price. Every amount the
venue requires rounds up, every amount it releases rounds down. Reads here never change state.
"""

from __future__ import annotations

from typing import Final

from isomargin.engine.accounts import Accounts
from isomargin.engine.codes import Code, Posting
from isomargin.engine.commands import OrderSide, PositionSide
from isomargin.engine.errors import Reject
from isomargin.engine.ledger import Ledger
from isomargin.engine.positions import share_of
from isomargin.engine.state import Account, Market, Order, Position
from isomargin.engine.units import div_up, money
from isomargin.margin import MarginError
from isomargin.margin.numbers import MONEY

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_BUY: Final = OrderSide.BUY

_ORDER_HOLD: Final = Posting.ORDER_HOLD
_HOLD_RELEASE: Final = Posting.HOLD_RELEASE


class Risk:
    """Stateless checks over accounts, positions and markets; holds move through the ledger."""

    __slots__ = ("accounts", "ledger")

    def __init__(self, ledger: Ledger, accounts: Accounts) -> None:
        self.ledger = ledger
        self.accounts = accounts

    # -- balances ---------------------------------------------------------------------------------------------
    @staticmethod
    def cross_requirements(acct: Account, asset: str, leverage: tuple[str, int] | None = None) -> tuple[int, int]:
        """(initial margin at the reference price, rounded up; unrealised PnL) over the cross positions in
        `asset`; `leverage` (symbol, lev) measures as if that symbol's leverage were changed."""
        im = pnl = 0
        for pos in acct.positions.values():
            if pos.isolated or not pos.lots:
                continue
            inst = pos.inst
            if inst.settle != asset:
                continue
            lev = leverage[1] if leverage is not None and leverage[0] == pos.symbol else pos.leverage
            lots = pos.lots if pos.lots > 0 else -pos.lots
            market = pos.market
            if inst.inverse:  # value = face / price: both roundings of the one quotient
                ref = market.reference()
                if ref is None:
                    high = low = pos.cost
                else:
                    high = inst.value_up(lots, ref)
                    low = inst.value_down(lots, ref)
            elif market.mark is not None:
                exact = lots * market.mark * inst.mark_num  # one product; its two roundings below
                high = (exact + inst.mark_den - 1) // inst.mark_den
                low = exact // inst.mark_den
            elif market.last is not None:
                high = low = lots * market.last * inst.tick_k
            else:
                high = low = pos.cost
            # Against the trader: PnL at the value that is worse for it (a linear long's or an inverse short's at
            # the lower value, the others' at the higher); IM on the higher.
            pnl += low - pos.cost if pos.lots * inst.vsign > 0 else pos.cost - high
            im += (high + lev - 1) // lev
        return im, pnl

    def available(self, acct: Account, asset: str, leverage: tuple[str, int] | None = None) -> int:
        """Free to open, withdraw or move into isolated margin: wallet less cross initial margin, with cross
        unrealised losses counted and profits not (the venue-protecting reading of Binance's formula)."""
        purse = acct.purses.get(asset)
        free = 0 if purse is None else purse.wallet.amount
        if acct.positions:
            im, pnl = self.cross_requirements(acct, asset, leverage)
            free -= im - (pnl if pnl < 0 else 0)
        return free

    # -- orders -----------------------------------------------------------------------------------------------
    @staticmethod
    def worst_ticks(market: Market, side: OrderSide, ticks: int) -> int:
        """The price a fill can cost the most margin at. Linear (margin grows with the price): the highest — a buy
        never pays above its limit; a sell can be filled up to the best bid. Inverse (margin = face / price / lev
        grows as the price falls): the lowest — a sell never fills below its limit; a buy can fill down to the
        best ask."""
        if market.inst.inverse:
            if side is _BUY:
                ask = market.book.best_ask()
                return ticks if ask is None or ask > ticks else ask
            return ticks
        if side is _BUY:
            return ticks
        bid = market.book.best_bid()
        return ticks if bid is None or bid < ticks else bid

    @staticmethod
    def open_loss(market: Market, side: OrderSide, ticks: int, lots: int) -> int:
        """Binance's open loss: a limit priced worse than mark is already losing the difference (quanta, up):
        what the position it opens at its price would lose marked at mark (a value difference for inverse)."""
        mark = market.mark
        if mark is None:
            return 0
        inst = market.inst
        if inst.inverse:
            return inst.loss(lots, side, ticks * inst.tick_pp, mark)
        gap = (ticks * inst.tick_pp - mark) * side
        return inst.value_up(lots, gap) if gap > 0 else 0

    def required(
        self,
        acct: Account,
        market: Market,
        side: OrderSide,
        lots: int,
        ticks: int,
        may_rest: bool,
        pos: Position | None,
        leverage: int | None = None,
    ) -> int:
        """Free balance an opening order of `lots` at `ticks` needs before it may touch the book (quanta, rounded
        up): initial margin and the taker fee at its worst fill price, plus the open loss if it may rest."""
        inst = market.inst
        lev = acct.setting(inst.symbol).leverage if leverage is None else leverage
        worst_ticks = self.worst_ticks(market, side, ticks)
        opening = lots
        credit = 0
        if not may_rest and pos is not None and pos.lots * side < 0 and not acct.hedge_mode:
            closing = min(lots, abs(pos.lots))
            opening = lots - closing  # a taker's reducing part runs first and needs nothing
            if pos.isolated:
                credit = self.release_credit(
                    pos, closing, inst.at_ticks(closing, ticks, side), inst.fee_base(closing, ticks)
                )
        if inst.inverse:  # the value at the worst price, rounded up (a requirement)
            need = div_up(inst.fee_base(opening, worst_ticks), lev) + inst.taker_fee.up(
                inst.fee_base(lots, worst_ticks)
            )
        else:
            worst = worst_ticks * inst.tick_k
            need = div_up(opening * worst, lev) + inst.taker_fee.up(lots * worst)
        need -= credit
        if may_rest:
            need += self.open_loss(market, side, ticks, lots)
        return need

    @staticmethod
    def release_credit(pos: Position, lots: int, notional: int, base: int) -> int:
        """What closing `lots` of an isolated position pays back to the wallet at `notional` (the worst price the
        taker accepts; every fill is at least that good): the pro-rata margin plus PnL less the fee, exactly as
        the close will compute them. A flip's new margin is drawn after this arrives."""
        whole = abs(pos.lots)
        share = pos.margin * lots // whole
        inst = pos.inst
        vsign = inst.vsign
        released = share_of(pos.cost, lots, whole, pos.lots * vsign > 0 > vsign)
        pnl = (notional - released) if pos.lots * vsign > 0 else (released - notional)
        return max(0, share + pnl - inst.taker_fee.up(base))

    def hold_for(self, acct: Account, market: Market, order: Order) -> int:
        """The margin a resting order's unfilled rest reserves, in quanta (nothing for reduce-only orders)."""
        if order.reduce_only or order.ticks is None:
            return 0
        inst = market.inst
        lots = order.lots - order.filled
        lev = order.leverage
        # exact (linear); the inverse value rounded up
        notional = inst.fee_base(lots, order.ticks) if inst.inverse else lots * order.ticks * inst.tick_k
        fee = inst.taker_fee
        hold = notional * (fee.den + lev * fee.num) // (lev * fee.den)  # notional × (1/lev + fee), rounded down
        return hold + self.open_loss(market, order.side, order.ticks, lots)

    def reserve(self, acct: Account, market: Market, order: Order) -> None:
        hold = self.hold_for(acct, market, order)
        if not hold:
            return
        purse = self.accounts.purse(acct, market.inst.settle)
        wallet = purse.wallet
        if hold > wallet.amount:  # pre-checked; the cap only guards rounding dust
            hold = max(wallet.amount, 0)
        self.ledger.post(wallet, purse.hold, hold, _ORDER_HOLD)
        order.hold += hold

    def release(self, acct: Account, market: Market, order: Order) -> None:
        if order.hold:
            purse = self.accounts.purse(acct, market.inst.settle)
            self.ledger.post(purse.hold, purse.wallet, order.hold, _HOLD_RELEASE)
            order.hold = 0

    def release_share(self, acct: Account, market: Market, order: Order, lots: int) -> None:
        """A maker's fill frees the part of its hold that covered `lots` (all of it on the last lots)."""
        hold = order.hold
        rest = order.lots - order.filled
        share = hold if lots == rest else hold * lots // rest
        purse = self.accounts.purse(acct, market.inst.settle)
        self.ledger.post(purse.hold, purse.wallet, share, _HOLD_RELEASE)
        order.hold = hold - share

    # -- size checks -------------------------------------------------------------------------------------------
    def check_size(
        self, acct: Account, market: Market, side: OrderSide, pside: PositionSide, lots: int, ticks: int | None,
        leverage: int | None = None,
    ) -> None:  # fmt: skip
        """Min notional and the leverage tier of the position this order can grow to (Reject if not)."""
        inst = market.inst
        ref = None
        if ticks is None:
            ref = market.reference()
            if ref is None:
                return  # no price anywhere yet: a market order will simply find nothing to fill
        inverse = inst.inverse
        if ticks is None:
            notional = inst.value_up(lots, ref or 1)
        else:
            notional = inst.fee_base(lots, ticks) if inverse else lots * ticks * inst.tick_k
        if notional < inst.min_notional:  # 0 (inverse venues publish none) is no minimum
            raise Reject(
                Code.BELOW_MIN_NOTIONAL,
                f"order value {money(notional)} is below the minimum {inst.spec.min_notional}",
            )
        pos = acct.positions.get(market.keys[pside])
        grown = lots + (abs(pos.lots) if pos is not None and pos.sign == side else 0)
        lev = acct.setting(inst.symbol).leverage if leverage is None else leverage
        if ticks is None:
            value = inst.value_up(grown, ref or 1)
        else:
            value = inst.fee_base(grown, ticks) if inverse else grown * ticks * inst.tick_k
        if not inst.leverage_ok(lev, grown, value):
            self._leverage_reject(market, grown, value, lev)

    @staticmethod
    def _leverage_reject(market: Market, lots: int, value: int, leverage: int) -> None:
        """The venue's own words for a leverage-tier refusal (computed only when refusing)."""
        inst = market.inst
        size = inst.qty(lots)
        price = MONEY.divide(size, money(value)) if inst.inverse else MONEY.divide(money(value), size)
        try:
            inst.profile.check_order(inst.spec, size, price, MONEY.create_decimal(leverage))
        except MarginError as exc:
            raise Reject(Code(exc.code), exc.message) from None
        raise Reject(Code.LEVERAGE_ABOVE_TIER_MAX, f"leverage {leverage} is not allowed for size {size}")


def reference_value(pos: Position, up: bool) -> int:
    """A position's notional at its market's reference price (its cost when there is none yet), in quanta,
    rounded up or down as the caller needs it to fall against the trader."""
    market = pos.market
    mark = market.mark
    if mark is None:
        last = market.last
        if last is None:
            return pos.cost
        if not pos.inst.inverse:
            return abs(pos.lots) * last * pos.inst.tick_k
        mark = last * pos.inst.tick_pp
    inst = pos.inst
    return inst.value_up(abs(pos.lots), mark) if up else inst.value_down(abs(pos.lots), mark)
