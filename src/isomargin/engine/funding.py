"""Funding: at each settlement every position on the market pays or receives its notional at mark × rate (size ×
mark, or face / mark in the coin for an inverse contract; longs pay a positive rate) from or to its collateral,
through the asset's funding clearing balance; the fund's taken-over inventory pays and earns it too. A payment
rounds against the position (paid up, received down); the dust stays with the venue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from isomargin.engine.accounts import Accounts
from isomargin.engine.backstop import collateral
from isomargin.engine.codes import Posting, ShortfallReason
from isomargin.engine.context import Context
from isomargin.engine.events import FundingPaid, FundingSettled
from isomargin.engine.health import Health
from isomargin.engine.positions import Positions
from isomargin.engine.state import Market, Position
from isomargin.engine.trading import Trading
from isomargin.engine.units import Rate, money

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_FUNDING: Final = Posting.FUNDING
_FUNDING_BEYOND_MARGIN: Final = ShortfallReason.FUNDING_BEYOND_MARGIN


class Funding:
    """Settles one funding rate on one market."""

    __slots__ = ("accounts", "ctx", "health", "positions", "trading")

    def __init__(
        self, positions: Positions, accounts: Accounts, health: Health, trading: Trading, ctx: Context
    ) -> None:
        self.positions = positions
        self.accounts = accounts
        self.health = health
        self.trading = trading
        self.ctx = ctx

    def settle(self, market: Market, rate: Decimal) -> None:
        assert market.mark is not None and market.mark_dec is not None
        ratio = Rate(rate)
        out = self.ctx.out
        out.append(FundingSettled(self.ctx.env, len(out), market.inst.symbol, rate, market.mark_dec))
        self.positions.asset_books(market.inst.settle)
        settlement = self.positions.funding[market.inst.settle]
        ledger = self.positions.ledger
        for pos in list(market.positions.values()):
            amount = self._amount(pos, market.mark, ratio)
            col = collateral(self.accounts, pos)
            ledger.post(settlement, col, amount, _FUNDING)
            self.positions.cover(col, pos.account, market, _FUNDING_BEYOND_MARGIN)
            pos.funding += amount
            self._paid(pos, rate, market, amount)
            self.health.track(pos)
            self.trading.position_event(pos)
        held = market.held
        if held is not None and held.lots:
            amount = self._amount(held, market.mark, ratio)
            ledger.post(settlement, market.fund, amount, _FUNDING)
            held.funding += amount
            self._paid(held, rate, market, amount)

    @staticmethod
    def _amount(pos: Position, mark: int, rate: Rate) -> int:
        """−sign × notional at mark × rate in quanta, floored: a payment rounds up, a receipt down. The notional
        is size × mark (linear) or face / mark in the coin (inverse; longs still pay a positive rate)."""
        inst = pos.inst
        if inst.inverse:
            return -pos.lots * inst.pv_num * rate.num // (mark * inst.pv_den * rate.den)
        return -pos.lots * mark * inst.mark_num * rate.num // (inst.mark_den * rate.den)

    def _paid(self, pos: Position, rate: Decimal, market: Market, amount: int) -> None:
        out = self.ctx.out
        assert market.mark_dec is not None
        out.append(FundingPaid(self.ctx.env, len(out), pos.account, pos.symbol, pos.side, rate, market.mark_dec,
                               money(amount), pos.inst.settle))  # fmt: skip
