"""Spot pairs and isolated spot-margin accounts: listing, moving assets between the wallet and a pair's margin
account, borrowing, repaying and hourly interest (Binance's rule: the first hour at borrow time, then one hour at
every whole UTC hour). Each command is a pure check and a commit that cannot refuse, as everywhere in the engine.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from isomargin.engine.admin import asset_of, quanta_of, rate_of
from isomargin.engine.codes import BalanceKind, Code, Posting
from isomargin.engine.commands import AccrueInterest, Borrow, ListSpotPair, MarginTransfer, Repay, SetBorrowRate
from isomargin.engine.errors import Reject
from isomargin.engine.ledger import Balance
from isomargin.engine.spot_events import (
    Borrowed,
    BorrowRateSet,
    InterestCharged,
    MarginTransferred,
    Repaid,
    SpotPairListed,
)
from isomargin.engine.spot_risk import max_borrowable, price_of, transfer_out_ok
from isomargin.engine.spot_state import HOUR, SpotAccount, SpotPair
from isomargin.engine.state import Account
from isomargin.engine.units import money, ratio_of
from isomargin.venues.spot_margin import spot_pair

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine, Handler

MAX_DAILY_RATE = Decimal("0.1")  # 10 % a day is far above any venue's rate: a typo, not a rate


def handlers(engine: Engine) -> dict[type, Handler]:
    s = engine.spot
    return {
        ListSpotPair: (s.check_list, s.commit_list),
        MarginTransfer: (s.check_transfer, s.commit_transfer),
        Borrow: (s.check_borrow, s.commit_borrow),
        Repay: (s.check_repay, s.commit_repay),
        SetBorrowRate: (s.check_rate, s.commit_rate),
        AccrueInterest: (s.check_accrue, s.commit_accrue),
    }


def hourly(principal: int, daily: Decimal) -> int:
    """One hour's interest on `principal` quanta at `daily` / 24, rounded up to a quantum (the lender's side)."""
    num, den = daily.as_integer_ratio()
    x = principal * num
    d = den * 24
    return (x + d - 1) // d


class Spot:
    """Owns the spot pairs and their margin accounts; money moves only through the shared ledger."""

    __slots__ = ("e", "pairs")

    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.pairs: dict[str, SpotPair] = {}

    # -- look-ups (checks: never create anything) --------------------------------------------------------------
    def pair(self, symbol: object) -> SpotPair:
        p = self.pairs.get(symbol) if type(symbol) is str else None
        if p is None:
            if type(symbol) is str and symbol in self.e.markets:
                raise Reject(Code.NOT_SPOT, f"{symbol} is a futures market, not a spot pair")
            raise Reject(Code.UNKNOWN_SYMBOL, f"spot pair {symbol!r} is not listed")
        return p

    @staticmethod
    def asset_in(pair: SpotPair, asset: object) -> str:
        a = asset_of(asset)
        if a != pair.base and a != pair.quote:
            raise Reject(Code.ASSET_NOT_IN_PAIR, f"{a} is neither {pair.symbol}'s base nor its quote")
        return a

    def price(self, pair: SpotPair) -> Fraction | None:
        ref = pair.reference()
        return None if ref is None else price_of(ref)

    def margin_account(self, acct: Account, pair: SpotPair) -> SpotAccount:
        """The account's isolated margin account on `pair`, opened (balances at zero) the first time (commits)."""
        sa = pair.accounts.get(acct.id)
        if sa is None:
            sa = pair.accounts[acct.id] = self._open(acct.id, pair)
        return sa

    def _open(self, account: int, pair: SpotPair) -> SpotAccount:
        ledger = self.e.ledger

        def bal(kind: BalanceKind, asset: str) -> Balance:
            return ledger.open(kind, asset, account, name=f"{account}:{pair.symbol}:{asset}")

        assets = (pair.base, pair.quote)
        return SpotAccount(
            account, pair, {a: bal(BalanceKind.MARGIN, a) for a in assets},
            {a: bal(BalanceKind.LOCKED, a) for a in assets}, {a: bal(BalanceKind.LOAN, a) for a in assets},
            {a: bal(BalanceKind.INTEREST, a) for a in assets},
        )  # fmt: skip

    def fund(self, pair: SpotPair, asset: str) -> Balance:
        """The insurance fund that backs `pair` in `asset` (per pair where funds are per symbol)."""
        name = f"{asset}:{pair.symbol}" if self.e.insurance_per_symbol else ""
        return self.e.ledger.open(BalanceKind.INSURANCE, asset, name=name)

    # -- listing -----------------------------------------------------------------------------------------------
    def check_list(self, cmd: ListSpotPair) -> SpotPair:
        if type(cmd.symbol) is not str or type(cmd.venue) is not str:
            raise Reject(Code.UNKNOWN_SYMBOL, "symbol and venue must be strings")
        symbol = cmd.symbol.strip().upper()
        venue = cmd.venue.strip().lower()
        try:
            spec = self.e.spot_listings.get((venue, symbol)) or spot_pair(venue, symbol)
        except (KeyError, ValueError) as exc:
            raise Reject(Code.UNKNOWN_SYMBOL, str(exc).strip("'\"")) from None
        if spec.symbol in self.pairs or spec.symbol in self.e.markets:
            raise Reject(Code.ALREADY_LISTED, f"{spec.symbol} is already listed")
        band = cmd.price_band
        r = ratio_of(band)
        if r is None or not (0 < r[0] < r[1]):
            raise Reject(Code.BAD_PRICE_BAND, "the market-order price band must be a decimal between 0 and 1")
        maker = spec.maker_fee if cmd.maker_fee is None else rate_of(cmd.maker_fee, "maker fee")
        taker = spec.taker_fee if cmd.taker_fee is None else rate_of(cmd.taker_fee, "taker fee")
        if taker < 0 or maker < 0 or maker > taker:
            raise Reject(Code.BAD_FEE, "spot fees must be ≥ 0 and the maker fee at most the taker fee")
        assert isinstance(band, Decimal)
        try:
            return SpotPair(spec, maker, taker, band)
        except ValueError as exc:
            raise Reject(Code.BAD_INSTRUMENT, str(exc)) from None

    def commit_list(self, pair: SpotPair) -> None:
        self.pairs[pair.symbol] = pair
        s = pair.spec
        self._emit(SpotPairListed(
            self.e.ctx.env, 0, pair.symbol, pair.venue, pair.base, pair.quote, s.tick_size, s.step_size,
            s.min_notional, pair.maker.decimal, pair.taker.decimal, pair.band_dec, pair.max_leverage, pair.risk.value,
        ))  # fmt: skip

    # -- transfers ---------------------------------------------------------------------------------------------
    def check_transfer(self, cmd: MarginTransfer) -> tuple[Account, SpotPair, str, int]:
        e = self.e
        acct = e.accounts.get(cmd.account)
        pair = self.pair(cmd.symbol)
        asset = self.asset_in(pair, cmd.asset)
        amount = quanta_of(cmd.amount, "transfer amount", positive=False)
        if amount == 0:
            raise Reject(Code.NOT_POSITIVE, "transfer amount must not be zero (> 0 moves in, < 0 moves out)")
        if amount > 0:
            free = e.risk.available(acct, asset)
            if amount > free:
                raise Reject(Code.INSUFFICIENT_BALANCE, f"transfer {money(amount)} exceeds the available "
                             f"{money(max(free, 0))} {asset} in the wallet")  # fmt: skip
            return acct, pair, asset, amount
        sa = pair.accounts.get(acct.id)
        have = 0 if sa is None else sa.free[asset].amount
        if -amount > have:
            raise Reject(Code.INSUFFICIENT_BALANCE, f"transfer out {money(-amount)} exceeds the free {money(have)} "
                         f"{asset} in the {pair.symbol} isolated margin account")  # fmt: skip
        assert sa is not None
        if not transfer_out_ok(sa, self.price(pair), asset, -amount):
            raise Reject(Code.TRANSFER_OUT_LIMITED, f"moving {money(-amount)} {asset} out would take the "
                         f"{pair.symbol} isolated account below its transfer-out risk level")  # fmt: skip
        return acct, pair, asset, amount

    def commit_transfer(self, plan: tuple[Account, SpotPair, str, int]) -> None:
        acct, pair, asset, amount = plan
        sa = self.margin_account(acct, pair)
        wallet = self.e.accounts.wallet(acct, asset)
        self.e.ledger.post(wallet, sa.free[asset], amount, Posting.MARGIN_TRANSFER)
        sa.transferred[asset] += amount
        self._emit(MarginTransferred(self.e.ctx.env, 0, acct.id, pair.symbol, asset, money(amount),
                                     money(sa.free[asset].amount)))  # fmt: skip
        if amount < 0:
            return
        self.e.spot_liquidation.measure(sa)

    # -- loans -------------------------------------------------------------------------------------------------
    def check_borrow(self, cmd: Borrow) -> tuple[Account, SpotPair, str, int]:
        acct = self.e.accounts.get(cmd.account)
        pair = self.pair(cmd.symbol)
        asset = self.asset_in(pair, cmd.asset)
        amount = quanta_of(cmd.amount, "borrow amount")
        self.check_borrowable(acct, pair, asset, amount)
        return acct, pair, asset, amount

    def check_borrowable(self, acct: Account, pair: SpotPair, asset: str, amount: int) -> None:
        sa = pair.accounts.get(acct.id)
        if sa is None:
            raise Reject(Code.ABOVE_MAX_BORROWABLE, f"nothing is in the {pair.symbol} isolated margin account to "
                         "borrow against: transfer collateral in first")  # fmt: skip
        price = self.price(pair)
        if price is None:
            raise Reject(Code.NO_REFERENCE_PRICE, f"{pair.symbol} has no mark or trade price to value a loan at")
        most = max_borrowable(sa, price, asset)
        if amount > most:
            raise Reject(Code.ABOVE_MAX_BORROWABLE, f"borrowing {money(amount)} {asset} exceeds the maximum "
                         f"borrowable {money(most)} {asset} on {pair.symbol}")  # fmt: skip

    def commit_borrow(self, plan: tuple[Account, SpotPair, str, int]) -> None:
        acct, pair, asset, amount = plan
        sa = self.margin_account(acct, pair)
        self.lend(sa, asset, amount)
        self.e.spot_liquidation.measure(sa)  # the hours it caught up may have moved the account's level

    def lend(self, sa: SpotAccount, asset: str, amount: int) -> None:
        """Commit step: lend `amount` into the account's free balance and charge the first hour at once."""
        ts = self.e.ctx.env.command.ts
        self.catch_up(sa, asset, ts)
        ledger = self.e.ledger
        ledger.post(sa.loan[asset], sa.free[asset], amount, Posting.BORROW)
        pair = sa.pair
        first = hourly(amount, pair.daily[asset])
        lender = ledger.open(BalanceKind.LENDING, asset)
        ledger.post(sa.interest[asset], lender, first, Posting.INTEREST)
        start = ts - ts % HOUR
        paid = sa.paid_to[asset]
        sa.paid_to[asset] = start if paid is None or paid < start else paid
        self._emit(Borrowed(self.e.ctx.env, 0, sa.account, pair.symbol, asset, money(amount), money(first),
                            money(-sa.loan[asset].amount), money(-sa.interest[asset].amount)))  # fmt: skip

    def due(self, sa: SpotAccount, asset: str, ts: int) -> tuple[int, int, int]:
        """(hours, interest, through) that catching the loan up to `ts` would charge (pure)."""
        paid = sa.paid_to[asset]
        principal = -sa.loan[asset].amount
        if paid is None or principal <= 0:
            return 0, 0, 0 if paid is None else paid
        hours = (ts - ts % HOUR - paid) // HOUR
        if hours <= 0:
            return 0, 0, paid
        return hours, hours * hourly(principal, sa.pair.daily[asset]), paid + hours * HOUR

    def catch_up(self, sa: SpotAccount, asset: str, ts: int) -> int:
        """Commit step: charge the hours due up to `ts`; returns the interest charged."""
        hours, amount, through = self.due(sa, asset, ts)
        if hours <= 0:
            return 0
        ledger = self.e.ledger
        ledger.post(sa.interest[asset], ledger.open(BalanceKind.LENDING, asset), amount, Posting.INTEREST)
        sa.paid_to[asset] = through
        pair = sa.pair
        self._emit(InterestCharged(self.e.ctx.env, 0, sa.account, pair.symbol, asset, money(-sa.loan[asset].amount),
                                   pair.daily[asset], hours, money(amount), through))  # fmt: skip
        return amount

    def check_repay(self, cmd: Repay) -> tuple[SpotAccount, str, int | None]:
        acct = self.e.accounts.get(cmd.account)
        pair = self.pair(cmd.symbol)
        asset = self.asset_in(pair, cmd.asset)
        sa = pair.accounts.get(acct.id)
        owed = 0 if sa is None else sa.owes(asset) + self.due(sa, asset, cmd.ts)[1]
        if sa is None or owed <= 0:
            raise Reject(Code.NOTHING_TO_REPAY, f"nothing is owed in {asset} on {pair.symbol}")
        amount = None if cmd.amount is None else quanta_of(cmd.amount, "repay amount")
        pay = owed if amount is None else amount
        if pay > owed:
            raise Reject(Code.REPAY_EXCEEDS_DEBT, f"repaying {money(pay)} {asset} exceeds the {money(owed)} owed "
                         "(principal and interest)")  # fmt: skip
        free = sa.free[asset].amount
        if pay > free:
            raise Reject(Code.INSUFFICIENT_BALANCE, f"repaying {money(pay)} {asset} needs that much free in the "
                         f"isolated account, which holds {money(free)} free")  # fmt: skip
        return sa, asset, amount

    def commit_repay(self, plan: tuple[SpotAccount, str, int | None]) -> None:
        sa, asset, amount = plan
        self.catch_up(sa, asset, self.e.ctx.env.command.ts)
        self.settle_debt(sa, asset, sa.owes(asset) if amount is None else amount, "user")
        self.e.spot_liquidation.measure(sa)

    def settle_debt(self, sa: SpotAccount, asset: str, amount: int, why: str) -> int:
        """Commit step: repay up to `amount` of `asset` from the free balance, interest first; returns the sum."""
        free = sa.free[asset]
        amount = min(amount, free.amount, sa.owes(asset))
        if amount <= 0:
            return 0
        ledger = self.e.ledger
        interest = min(amount, -sa.interest[asset].amount)
        principal = amount - interest
        ledger.post(free, sa.interest[asset], interest, Posting.REPAY)
        ledger.post(free, sa.loan[asset], principal, Posting.REPAY)
        if sa.owes(asset) == 0:
            sa.paid_to[asset] = None
            if not sa.indebted:  # the position is closed: the next one has its own entry price
                for tally in sa.fills.values():
                    tally[0] = tally[1] = 0
        pair = sa.pair
        self._emit(Repaid(self.e.ctx.env, 0, sa.account, pair.symbol, asset, money(interest), money(principal),
                          money(-sa.loan[asset].amount), money(-sa.interest[asset].amount), why))  # fmt: skip
        return amount

    # -- rates and interest ----------------------------------------------------------------------------------------
    def check_rate(self, cmd: SetBorrowRate) -> tuple[SpotPair, str, Decimal]:
        pair = self.pair(cmd.symbol)
        asset = self.asset_in(pair, cmd.asset)
        rate = cmd.daily_rate
        r = ratio_of(rate)
        if r is None or r[0] < 0 or not isinstance(rate, Decimal) or rate > MAX_DAILY_RATE:
            raise Reject(Code.BAD_RATE, f"a daily interest rate is a decimal from 0 to {MAX_DAILY_RATE}, got {rate!r}")
        if rate.as_tuple().exponent < -12:  # type: ignore[operator]
            raise Reject(Code.BAD_RATE, "a daily interest rate has at most 12 decimal places")
        return pair, asset, rate

    def commit_rate(self, plan: tuple[SpotPair, str, Decimal]) -> None:
        pair, asset, rate = plan
        ts = self.e.ctx.env.command.ts
        charged = [sa for sa in pair.accounts.values() if self.catch_up(sa, asset, ts)]  # at the old rate
        pair.daily[asset] = rate
        self._emit(BorrowRateSet(self.e.ctx.env, 0, pair.symbol, asset, rate))
        for sa in charged:
            self.e.spot_liquidation.measure(sa)

    def check_accrue(self, cmd: AccrueInterest) -> int:
        return cmd.ts

    def commit_accrue(self, ts: int) -> None:
        for pair in self.pairs.values():
            for sa in list(pair.accounts.values()):
                charged = 0
                for asset in (pair.base, pair.quote):
                    charged += self.catch_up(sa, asset, ts)
                if charged:
                    self.e.spot_liquidation.measure(sa)

    def _emit(self, event: Any) -> None:
        out = self.e.ctx.out
        event.index = len(out)
        out.append(event)
