"""Isolated options: listing option markets, the family's index and each option's mark (a price, or Black-76 from
an implied volatility), margin added to or removed from a short's pool, and expiry settlement (intrinsic value,
shorts to longs, exactly, through a clearing balance; pools returned; markets delisted).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from isomargin.engine.admin import points_of, quanta_of, rate_of
from isomargin.engine.codes import BalanceKind, Code, OrderStatus, Posting
from isomargin.engine.commands import AdjustOptionMargin, ListOption, SetMarkPrice, SetOptionVol, SettleOptions
from isomargin.engine.errors import Reject
from isomargin.engine.events import MarkPriceUpdated
from isomargin.engine.ledger import Balance
from isomargin.engine.options_events import (
    OptionDelisted,
    OptionListed,
    OptionMarked,
    OptionPositionUpdated,
    OptionSettled,
)
from isomargin.engine.options_risk import price_of, removable
from isomargin.engine.options_state import YEAR_MS, OptionInstrument, OptionMarket, OptionPosition
from isomargin.engine.state import INSURANCE
from isomargin.engine.units import PRICE_POINTS, decimal_of, money, ratio_of
from isomargin.margin.errors import MarginError
from isomargin.margin.options import black76
from isomargin.venues.options import OptionKind, option_family, parse_symbol

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine, Handler

MAX_VOL = Decimal(20)  # 2,000 % a year: beyond any quoted surface, a typo


def handlers(engine: Engine) -> dict[type, Handler]:
    o = engine.options
    return {
        ListOption: (o.check_list, o.commit_list),
        SetOptionVol: (o.check_vol, o.commit_vol),
        AdjustOptionMargin: (o.check_adjust, o.commit_adjust),
        SettleOptions: (o.check_settle, o.commit_settle),
    }


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


class Options:
    """Owns the option markets, each family's index, and the positions' lifecycle (the pools are ledger
    balances); `OptionTrading` owns orders and fills, `OptionLiquidation` margin calls and liquidations."""

    __slots__ = ("e", "index", "markets")

    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.markets: dict[str, OptionMarket] = {}
        self.index: dict[str, tuple[int, Decimal]] = {}  # family -> (price points, Decimal)

    # -- look-ups ----------------------------------------------------------------------------------------------
    def market(self, symbol: object) -> OptionMarket:
        m = self.markets.get(symbol) if type(symbol) is str else None
        if m is None:
            raise Reject(Code.UNKNOWN_SYMBOL, f"option {symbol!r} is not listed")
        return m

    def families(self) -> set[str]:
        return {m.inst.family.family for m in self.markets.values()}

    def index_of(self, inst: OptionInstrument) -> Fraction | None:
        got = self.index.get(inst.family.family)
        return None if got is None else price_of(got[0])

    def position(self, market: OptionMarket, account: int) -> OptionPosition:
        """The account's position on `market`, opened flat the first time (commit steps only)."""
        pos = market.positions.get(account)
        if pos is None:
            pos = market.positions[account] = OptionPosition(account, market)
        return pos

    def pool(self, pos: OptionPosition) -> Balance:
        if pos.pool is None:
            inst = pos.market.inst
            pos.pool = self.e.ledger.open(BalanceKind.OPTION_POOL, inst.settle, pos.account,
                                          name=f"{pos.account}:{inst.symbol}")  # fmt: skip
        return pos.pool

    def tidy(self, pos: OptionPosition) -> None:
        """Forget a flat position whose pool is empty (memory stays bounded)."""
        if pos.lots == 0 and (pos.pool is None or pos.pool.amount == 0):
            if pos.pool is not None:
                self.e.ledger.close(pos.pool)
                pos.pool = None
            pos.cost = 0
            if pos.account != INSURANCE:
                pos.market.positions.pop(pos.account, None)

    def emit_position(self, pos: OptionPosition) -> None:
        g = pos.market.inst.grid
        self._emit(OptionPositionUpdated(self.e.ctx.env, 0, pos.account, pos.market.inst.symbol,
                                         g.qty(abs(pos.lots)) * (1 if pos.lots >= 0 else -1), money(pos.cost),
                                         money(0 if pos.pool is None else pos.pool.amount)))  # fmt: skip

    # -- listing -----------------------------------------------------------------------------------------------
    def check_list(self, cmd: ListOption) -> OptionInstrument:
        if type(cmd.symbol) is not str or type(cmd.venue) is not str:
            raise Reject(Code.UNKNOWN_SYMBOL, "symbol and venue must be strings")
        symbol = cmd.symbol.strip().upper()
        try:
            family, expiry, strike, kind = parse_symbol(symbol)
            fam = option_family(cmd.venue.strip().lower(), family)
        except (KeyError, ValueError, MarginError) as exc:
            raise Reject(Code.UNKNOWN_SYMBOL, str(exc).strip("'\"")) from None
        if symbol in self.markets or symbol in self.e.markets or symbol in self.e.spot.pairs:
            raise Reject(Code.ALREADY_LISTED, f"{symbol} is already listed")
        if cmd.ts >= expiry:
            raise Reject(Code.OPTION_EXPIRED, f"{symbol} expires at {expiry}, before this command's time")
        maker = fam.maker_fee if cmd.maker_fee is None else rate_of(cmd.maker_fee, "maker fee")
        taker = fam.taker_fee if cmd.taker_fee is None else rate_of(cmd.taker_fee, "taker fee")
        if maker < 0 or taker < maker:
            raise Reject(Code.BAD_FEE, "option fees must be ≥ 0 and the maker fee at most the taker fee")
        try:
            return OptionInstrument(symbol, fam, kind, strike, expiry, maker, taker)
        except ValueError as exc:
            raise Reject(Code.BAD_INSTRUMENT, str(exc)) from None

    def commit_list(self, inst: OptionInstrument) -> None:
        self.markets[inst.symbol] = OptionMarket(inst)
        f = inst.family
        self._emit(OptionListed(self.e.ctx.env, 0, inst.symbol, f.venue, f.family, inst.kind.value, inst.strike,
                                inst.expiry, inst.settle, f.multiplier, inst.tick, inst.step, inst.maker.decimal,
                                inst.taker.decimal))  # fmt: skip

    # -- marks -------------------------------------------------------------------------------------------------
    def owns_mark(self, symbol: object) -> bool:
        return type(symbol) is str and (symbol in self.markets or symbol in self.families())

    def check_mark(self, cmd: SetMarkPrice) -> tuple[str, int, Decimal]:
        mark = points_of(cmd.mark, "mark price")
        if cmd.index is not None:
            points_of(cmd.index, "index price")
        assert isinstance(cmd.mark, Decimal) and isinstance(cmd.symbol, str)
        return cmd.symbol, mark, cmd.mark

    def check_family_index(self, cmd: SetMarkPrice) -> tuple[str, int, Decimal]:
        """The family index a futures mark of the same name carries: its index price, else its mark."""
        value = cmd.mark if cmd.index is None else cmd.index
        pp = points_of(value, "index price")
        assert isinstance(value, Decimal) and isinstance(cmd.symbol, str)
        return cmd.symbol, pp, value

    def commit_mark(self, plan: tuple[str, int, Decimal], announce: bool = True) -> None:
        """Commit step: an option's mark, or a family's index (announced as a MarkPriceUpdated unless it rode on
        a futures market's own, which already carries it as its index price)."""
        symbol, pp, dec = plan
        market = self.markets.get(symbol)
        if market is None:  # a family's index: every short on it is measured again
            self.index[symbol] = (pp, dec)
            if announce:
                self._emit(MarkPriceUpdated(self.e.ctx.env, 0, symbol, dec, dec))
            for m in list(self.markets.values()):
                if m.inst.family.family == symbol:
                    self.e.option_liquidation.after_mark(m)
            return
        market.mark, market.mark_dec = pp, dec
        self._emit(OptionMarked(self.e.ctx.env, 0, symbol, dec))
        self.e.option_liquidation.after_mark(market)

    def check_vol(self, cmd: SetOptionVol) -> tuple[OptionMarket, int, Decimal, Decimal, Decimal]:
        market = self.market(cmd.symbol)
        inst = market.inst
        r = ratio_of(cmd.iv)
        if r is None or r[0] <= 0 or not isinstance(cmd.iv, Decimal) or cmd.iv > MAX_VOL:
            raise Reject(Code.BAD_VOL, f"implied volatility must be a decimal above 0 and at most {MAX_VOL}")
        got = self.index.get(inst.family.family)
        if got is None:
            raise Reject(Code.NO_INDEX_PRICE, f"{inst.family.family} has no index price for Black-76")
        left = inst.expiry - cmd.ts
        if left <= 0:
            raise Reject(Code.OPTION_EXPIRED, f"{inst.symbol} has expired")
        years = decimal_of(left * 10**12 // YEAR_MS, -12)  # to 10⁻¹² of a year (≈ 32 µs), rounded down
        try:
            value = black76(inst.kind, got[1], inst.strike, years, cmd.iv)
        except MarginError as exc:
            raise Reject(Code.BAD_VOL, exc.message) from None
        premium = Fraction(value) / Fraction(got[1]) if inst.coin_margined else Fraction(value)
        pp = max(1, int(premium * PRICE_POINTS))  # rounded down onto the price-point grid
        return market, pp, cmd.iv, got[1], years

    def commit_vol(self, plan: tuple[OptionMarket, int, Decimal, Decimal, Decimal]) -> None:
        market, pp, iv, underlying, years = plan
        market.mark, market.mark_dec = pp, decimal_of(pp, -8)
        self._emit(OptionMarked(self.e.ctx.env, 0, market.inst.symbol, market.mark_dec, iv, underlying, years))
        self.e.option_liquidation.after_mark(market)

    # -- margin ------------------------------------------------------------------------------------------------
    def check_adjust(self, cmd: AdjustOptionMargin) -> tuple[OptionPosition, int]:
        acct = self.e.accounts.get(cmd.account)
        market = self.market(cmd.symbol)
        amount = quanta_of(cmd.amount, "amount", positive=False)
        pos = market.positions.get(acct.id)
        if pos is None or pos.lots >= 0 or pos.pool is None:
            raise Reject(Code.NO_POSITION, f"account {acct.id} has no short {market.inst.symbol} position")
        if amount == 0:
            raise Reject(Code.BAD_AMOUNT, "the amount must not be zero (> 0 adds, < 0 removes)")
        if amount > 0 and amount > self.e.risk.available(acct, market.inst.settle):
            raise Reject(Code.INSUFFICIENT_BALANCE, f"adding {money(amount)} exceeds the available balance")
        if amount < 0:
            index = self.index_of(market.inst)
            if index is None or market.mark is None:
                raise Reject(Code.NO_MARK_PRICE, "margin can be removed only with an index and a mark price")
            most = removable(pos, index, price_of(market.mark))
            if -amount > most:
                raise Reject(Code.ABOVE_MAX_REMOVABLE, f"at most {money(most)} can be removed")
        return pos, amount

    def commit_adjust(self, plan: tuple[OptionPosition, int]) -> None:
        pos, amount = plan
        acct = self.e.accounts.by_id[pos.account]
        assert pos.pool is not None
        self.e.ledger.post(self.e.accounts.wallet(acct, pos.market.inst.settle), pos.pool, amount,
                           Posting.MARGIN_ADJUSTMENT)  # fmt: skip
        self.emit_position(pos)
        self.e.option_liquidation.measure(pos)

    # -- expiry ------------------------------------------------------------------------------------------------
    def check_settle(self, cmd: SettleOptions) -> tuple[list[OptionMarket], Fraction, Decimal]:
        if type(cmd.family) is not str or type(cmd.expiry) is not int:
            raise Reject(Code.UNKNOWN_SYMBOL, "family must be a string and expiry an integer time in ms")
        due = [m for m in self.markets.values() if m.inst.family.family == cmd.family and m.inst.expiry == cmd.expiry]
        if not due:
            raise Reject(Code.UNKNOWN_SYMBOL, f"no listed {cmd.family} option expires at {cmd.expiry}")
        if cmd.ts < cmd.expiry:
            raise Reject(Code.BEFORE_EXPIRY, f"the options expire at {cmd.expiry}; this command is at {cmd.ts}")
        points_of(cmd.price, "settlement price")
        assert isinstance(cmd.price, Decimal)
        return due, Fraction(cmd.price), cmd.price

    def commit_settle(self, plan: tuple[list[OptionMarket], Fraction, Decimal]) -> None:
        due, price, price_dec = plan
        for market in due:
            self._settle_market(market, price, price_dec)

    def _settle_market(self, market: OptionMarket, price: Fraction, price_dec: Decimal) -> None:
        inst = market.inst
        trading = self.e.option_trading
        for order in [o for o in trading.orders.values() if o.symbol == inst.symbol]:
            market.book.cancel(order.id)
            trading.finish(market, order, OrderStatus.CANCELED, "expiry")
        gap = price - inst.strike_f if inst.kind is OptionKind.CALL else inst.strike_f - price
        intrinsic = gap if gap > 0 else Fraction(0)  # quote per unit of the underlying
        per_unit = intrinsic / price if inst.coin_margined else intrinsic  # in the settle asset
        ledger = self.e.ledger
        clearing = ledger.open(BalanceKind.OPTION_SETTLEMENT, inst.settle)
        positions = list(market.positions.values()) + ([market.held] if market.held is not None else [])
        shorts = [p for p in positions if p.lots < 0]
        longs = [p for p in positions if p.lots > 0]
        for pos in shorts:  # shorts pay first (rounded up), so the clearing can pay every long (rounded down)
            self._settle_short(pos, per_unit, price_dec, clearing)
        for pos in longs:
            owed = int(pos.lots * inst.lot_units * per_unit * 10**10)
            owner = self._payee(pos)
            ledger.post(clearing, owner, owed, Posting.OPTION_SETTLEMENT)
            self._emit(OptionSettled(self.e.ctx.env, 0, pos.account, inst.symbol, inst.grid.qty(pos.lots), price_dec,
                                     money(owed), inst.settle, money(0)))  # fmt: skip
            pos.lots, pos.cost = 0, 0
            self.tidy(pos)
        ledger.post(clearing, ledger.open(BalanceKind.FEES, inst.settle), clearing.amount, Posting.ROUNDING)
        market.held = None
        del self.markets[inst.symbol]
        self._emit(OptionDelisted(self.e.ctx.env, 0, inst.symbol, price_dec))

    def _settle_short(self, pos: OptionPosition, per_unit: Fraction, price_dec: Decimal, clearing: Balance) -> None:
        inst = pos.market.inst
        ledger = self.e.ledger
        owe = _ceil(-pos.lots * inst.lot_units * per_unit * 10**10)
        source = pos.pool if pos.account != INSURANCE else self.fund(inst)
        assert source is not None
        paid = min(owe, source.amount) if source is pos.pool else owe
        ledger.post(source, clearing, paid, Posting.OPTION_SETTLEMENT)
        if paid < owe:  # the pool ran out: the insurance fund pays the rest
            ledger.post(self.fund(inst), clearing, owe - paid, Posting.BAD_DEBT)
        returned = 0
        if pos.pool is not None and pos.account != INSURANCE:
            returned = pos.pool.amount
            acct = self.e.accounts.by_id[pos.account]
            ledger.post(pos.pool, self.e.accounts.wallet(acct, inst.settle), returned, Posting.MARGIN_RELEASE)
        self._emit(OptionSettled(self.e.ctx.env, 0, pos.account, inst.symbol, -inst.grid.qty(-pos.lots), price_dec,
                                 -money(owe), inst.settle, money(returned)))  # fmt: skip
        pos.lots, pos.cost = 0, 0
        self.tidy(pos)

    def _payee(self, pos: OptionPosition) -> Balance:
        inst = pos.market.inst
        if pos.account == INSURANCE:
            return self.fund(inst)
        return self.e.accounts.wallet(self.e.accounts.by_id[pos.account], inst.settle)

    def fund(self, inst: OptionInstrument) -> Balance:
        name = f"{inst.settle}:{inst.symbol}" if self.e.insurance_per_symbol else ""
        return self.e.ledger.open(BalanceKind.INSURANCE, inst.settle, name=name)

    def _emit(self, event: Any) -> None:
        out = self.e.ctx.out
        event.index = len(out)
        out.append(event)
