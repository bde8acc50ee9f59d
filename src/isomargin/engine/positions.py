"""Positions: the one owner of position mutation and of the money a fill moves for one party.

An order fill (`fill`) settles realised PnL, fees, the isolated pool's pro-rata release and new initial margin; a
liquidation, ADL or fund fill (`realize`) moves only PnL into the given collateral. Both go through `_close`, so
cost basis and realised PnL are kept one way. A balance that goes below zero is topped up by the insurance fund:
the owner's other money never pays for an isolated loss, and a wallet is never negative.
"""

from __future__ import annotations

from decimal import Decimal
from math import gcd
from typing import Final

from isomargin.engine.accounts import Accounts
from isomargin.engine.codes import BalanceKind, Posting, ShortfallReason
from isomargin.engine.commands import MarginMode, OrderSide, PositionSide
from isomargin.engine.context import Context
from isomargin.engine.events import BadDebt
from isomargin.engine.ledger import Balance, Ledger
from isomargin.engine.state import Account, Market, Position
from isomargin.engine.units import Rate, money, threshold
from isomargin.margin import Side, bankruptcy_price, make_leg, solve_liquidation_price

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_BAD_DEBT: Final = Posting.BAD_DEBT
_BALANCEKIND_ISOLATED: Final = BalanceKind.ISOLATED
_FEES: Final = BalanceKind.FEES
_FEE_SHORTFALL: Final = ShortfallReason.FEE_SHORTFALL
_FUNDING: Final = BalanceKind.FUNDING
_MARGIN_RELEASE: Final = Posting.MARGIN_RELEASE
_SETTLEMENT: Final = BalanceKind.SETTLEMENT

_CLOSED: Final = ShortfallReason.CLOSED_BEYOND_BANKRUPTCY
_CROSS_GONE: Final = ShortfallReason.CROSS_WALLET_EXHAUSTED
_ISOLATED: Final = MarginMode.ISOLATED
_TRADING_FEE: Final = Posting.TRADING_FEE
_REALIZED_PNL: Final = Posting.REALIZED_PNL
_ROUNDING: Final = Posting.ROUNDING
_ISOLATED_MARGIN: Final = Posting.ISOLATED_MARGIN


# Bound on the denominator of a position's exact inverse coin cost (`Position.xnum / xden`, in quanta). Fills at
# one price keep it at that price's denominator; fills at many prices multiply denominators, so past this bound
# the fraction is rounded down to a multiple of 1 / EXACT_COST_DEN_LIMIT quantum (10⁻⁵⁰ coin): the relative
# error per rounding is below 10⁻³⁰ for any cost of at least 10⁻²⁰ coin, so the entry keeps > 20 digits.
EXACT_COST_DEN_LIMIT: Final = 10**40


def add_exact(num: int, den: int, xn: int, xd: int) -> tuple[int, int]:
    """num / den + xn / xd as a reduced fraction, its denominator at most EXACT_COST_DEN_LIMIT."""
    n = num * xd + xn * den
    d = den * xd
    g = gcd(n, d)
    if g > 1:
        n //= g
        d //= g
    if d > EXACT_COST_DEN_LIMIT:
        n = n * EXACT_COST_DEN_LIMIT // d
        d = EXACT_COST_DEN_LIMIT
        g = gcd(n, d)
        if g > 1:
            n //= g
            d //= g
    return n, d


def share_of(cost: int, lots: int, whole: int, up: bool) -> int:
    """The cost basis `lots` of `whole` release on a close (all of it on a whole close).

    Pro rata, rounded down (the remainder keeps the dust, so its liquidation price does not fall) — except for an
    inverse short (`up`), whose PnL is exit value − released cost: its share rounds up, so the close never
    credits the trader a fraction of a quantum (for an inverse long, PnL = released − exit value, down already
    protects the venue). For an inverse position the cost is the coin value at entry (Σ face / price), so the
    closed face's share gives PnL = face × (1/entry − 1/exit) at the harmonic-mean entry."""
    if lots == whole:
        return cost
    if up:
        return -(-cost * lots // whole)
    return cost * lots // whole


class Positions:
    """Owns every `Position`; the shared settlement and fee balances are opened per asset."""

    __slots__ = ("accounts", "ctx", "fees", "funding", "ledger", "settlement")

    def __init__(self, ledger: Ledger, accounts: Accounts, ctx: Context) -> None:
        self.ledger = ledger
        self.accounts = accounts
        self.ctx = ctx
        self.settlement: dict[str, Balance] = {}
        self.fees: dict[str, Balance] = {}
        self.funding: dict[str, Balance] = {}

    def asset_books(self, asset: str) -> tuple[Balance, Balance]:
        """(settlement, fees) balances of `asset`: realised PnL clears through the first, fees collect in the
        second; `funding[asset]` clears funding payments (its balance is the rounding dust, never negative)."""
        s = self.settlement.get(asset)
        if s is None:
            s = self.settlement[asset] = self.ledger.open(_SETTLEMENT, asset)
            self.fees[asset] = self.ledger.open(_FEES, asset)
            self.funding[asset] = self.ledger.open(_FUNDING, asset)
        return s, self.fees[asset]

    def rounding(self, asset: str, dust: int) -> None:
        """An inverse fill booked `dust` quanta more for its seller than for its buyer (each rounded against
        itself): that difference sits in settlement, and goes to the venue's fee balance, so that settlement −
        Σ sign × cost over the inverse positions stays exactly zero."""
        settlement, fees = self.asset_books(asset)
        self.ledger.post(settlement, fees, dust, _ROUNDING)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def open(self, acct: Account, market: Market, side: PositionSide) -> Position:
        key = market.keys[side]
        pos = acct.positions.get(key)
        if pos is None:
            setting = acct.setting(key[0])
            pos = Position(acct.id, market, side, setting.margin_mode is _ISOLATED, setting.leverage, acct,
                           self.accounts.purse(acct, market.inst.settle))  # fmt: skip
            acct.positions[key] = pos
            market.positions[(acct.id, side)] = pos
        return pos

    def drop_if_flat(self, acct: Account, pos: Position) -> bool:
        if pos.lots:
            return False
        acct.positions.pop(pos.market.keys[pos.side], None)
        pos.market.positions.pop((acct.id, pos.side), None)
        if pos.pool is not None:
            self.ledger.close(pos.pool)
        return True

    def _pool(self, pos: Position) -> Balance:
        pool = pos.pool
        if pool is None:
            pool = pos.pool = self.ledger.open(
                _BALANCEKIND_ISOLATED, pos.inst.settle, pos.account, f"{pos.account}:{pos.symbol}:{pos.side}"
            )
        return pool

    # -- fills ----------------------------------------------------------------------------------------------
    def fill(
        self, acct: Account, pos: Position, side: OrderSide, lots: int, notional: int, rate: Rate, base: int = -1,
        xn: int = 0, xd: int = 0,
    ) -> tuple[int, int]:  # fmt: skip
        """One order fill of `lots` worth `notional` quanta for this party; returns (fee, realised PnL). The fee is
        charged on `base` (the exact notional; for an inverse fill the coin value rounded up, see
        `Instrument.fee_base`), which defaults to `notional`. An inverse fill passes its exact coin value xn / xd
        quanta (unrounded face / price) for the entry price; without it (xd = 0) the notional stands for it."""
        if base < 0:
            base = notional
        if xd == 0:
            xn = notional
            xd = 1
        held = pos.lots
        if held * side < 0:
            whole = held if held > 0 else -held
            if lots <= whole:
                pnl, fee = self._reduce(acct, pos, lots, notional, rate, base)
                return fee, pnl
            # A flip: the closing part and the opening part split the notional in proportion (exactly, at a tick
            # price: the caller's notional is lots × a per-lot amount).
            closing_notional = notional * whole // lots
            closing_base = base * whole // lots
            pnl, fee = self._reduce(acct, pos, whole, closing_notional, rate, closing_base)
            opening = lots - whole
            fee += self._increase(acct, pos, side, opening, notional - closing_notional, rate, base - closing_base,
                                  xn * opening, xd * lots)  # fmt: skip
            return fee, pnl
        return self._increase(acct, pos, side, lots, notional, rate, base, xn, xd), 0

    def _reduce(self, acct: Account, pos: Position, lots: int, notional: int, rate: Rate, base: int) -> tuple[int, int]:
        ledger = self.ledger
        settlement, fees = self.asset_books(pos.inst.settle)
        fee = rate.up(base) if rate.num else 0
        if pos.isolated:
            pool = self._pool(pos)
            whole = abs(pos.lots)
            share = pool.amount * lots // whole  # pro rata: the remainder's liquidation price holds
            pnl = self._close(pos, lots, notional, pool, settlement)
            ledger.post(pool, fees, fee, _TRADING_FEE)
            if lots == whole:
                self.cover(pool, pos.account, pos.market, _CLOSED)
                payout = pool.amount
            else:
                payout = share + pnl - fee
            if payout > 0:
                ledger.post(pool, self._wallet(acct, pos), payout, _MARGIN_RELEASE)
            self.cover(pool, pos.account, pos.market, _CLOSED)
            return pnl, fee
        wallet = self._wallet(acct, pos)
        pnl = self._close(pos, lots, notional, wallet, settlement)
        if fee:
            ledger.post(wallet, fees, fee, _TRADING_FEE)
        if wallet.amount < 0:
            self.cover(wallet, pos.account, pos.market, _CROSS_GONE)
        return pnl, fee

    def _increase(
        self, acct: Account, pos: Position, side: OrderSide, lots: int, notional: int, rate: Rate, base: int,
        xn: int, xd: int,
    ) -> int:  # fmt: skip
        ledger = self.ledger
        asset = pos.inst.settle
        wallet = self._wallet(acct, pos)
        if pos.lots == 0:  # a new position takes the account's current mode and leverage
            setting = acct.setting(pos.symbol)
            pos.isolated = setting.margin_mode is _ISOLATED
            pos.leverage = setting.leverage
        if pos.isolated:
            ledger.post(wallet, self._pool(pos), notional // pos.leverage, _ISOLATED_MARGIN)
        fee = rate.up(base) if rate.num else 0
        if fee:
            ledger.post(wallet, self.asset_books(asset)[1], fee, _TRADING_FEE)
            if wallet.amount < 0:
                self.cover(wallet, pos.account, pos.market, _FEE_SHORTFALL)
        pos.cost += notional
        if pos.inst.inverse:
            pos.xnum, pos.xden = add_exact(pos.xnum, pos.xden, xn, xd)
        pos.lots += side * lots
        return fee

    def _wallet(self, acct: Account, pos: Position) -> Balance:
        purse = pos.purse
        return purse.wallet if purse is not None else self.accounts.wallet(acct, pos.inst.settle)

    def realize(self, pos: Position, lots: int, notional: int, collateral: Balance) -> int:
        """Close `lots` worth `notional` quanta with the PnL into `collateral` only (no fee, no payout): the
        liquidated side of a fill, ADL and the fund's inventory. Returns the realised PnL."""
        settlement = self.asset_books(pos.inst.settle)[0]
        return self._close(pos, lots, notional, collateral, settlement)

    def _close(self, pos: Position, lots: int, notional: int, into: Balance, settlement: Balance) -> int:
        whole = abs(pos.lots)
        vsign = pos.inst.vsign
        if lots == whole:
            released = pos.cost
        else:  # `share_of`, inlined on the hot path
            released = pos.cost * lots // whole
            if vsign < 0 and pos.lots < 0 and pos.cost * lots % whole:
                released += 1  # an inverse short's share rounds up
        pnl = (notional - released) if pos.lots * vsign > 0 else (released - notional)
        self.ledger.post(settlement, into, pnl, _REALIZED_PNL)
        pos.cost -= released
        if vsign < 0:  # the exact coin cost keeps the remainder's share exactly, so its entry is unchanged
            if lots == whole:
                pos.xnum, pos.xden = 0, 1
            else:
                pos.xnum, pos.xden = add_exact(0, 1, pos.xnum * (whole - lots), pos.xden * whole)
        pos.lots -= lots if pos.lots > 0 else -lots
        pos.realized += pnl
        return pnl

    def add(self, pos: Position, exposure: int, notional: int) -> None:
        """Take on `exposure` signed lots worth `notional` without money moving (the fund's takeover inventory)."""
        pos.cost += notional
        if pos.inst.inverse:
            pos.xnum, pos.xden = add_exact(pos.xnum, pos.xden, notional, 1)
        pos.lots += exposure

    # -- shortfalls -------------------------------------------------------------------------------------------
    def cover(self, bal: Balance, account: int, market: Market, reason: ShortfallReason) -> None:
        """A balance below zero is topped up by the market's insurance fund, with a BadDebt event."""
        short = bal.amount
        if short >= 0:
            return
        self.ledger.post(market.fund, bal, -short, _BAD_DEBT)
        ctx = self.ctx
        ctx.out.append(BadDebt(ctx.env, len(ctx.out), account, market.inst.symbol, bal.asset, money(-short), reason))

    # -- derived prices -------------------------------------------------------------------------------------
    @staticmethod
    def refresh(pos: Position) -> None:
        """Recompute the cached isolated liquidation and bankruptcy prices after any change to the position."""
        if not pos.isolated or pos.lots == 0:
            pos.liquidation = pos.bankruptcy = pos.trigger = None
            return
        inst = pos.inst
        size = inst.qty(abs(pos.lots))
        entry = inst.entry(abs(pos.lots), pos.cost, pos.xnum, pos.xden)
        margin = money(pos.margin)
        side = Side.LONG if pos.lots > 0 else Side.SHORT
        fee = inst.taker_fee.decimal if inst.fee_in_mm else Decimal(0)
        leg = make_leg(side, size, entry, inst.spec.table, inst.kind, inst.profile.mm_basis, fee)
        pos.liquidation = solve_liquidation_price([leg], margin)
        pos.bankruptcy = bankruptcy_price(side, size, entry, margin, inst.kind)
        pos.trigger = threshold(pos.liquidation, pos.lots > 0)
