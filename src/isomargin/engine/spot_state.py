"""Spot markets and isolated spot-margin accounts as the engine keeps them: a listed pair compiled to integers,
each (account, pair) margin account's ledger balances and loan clocks, and open spot orders.

Money is quanta (10⁻¹⁰) of its asset in the shared ledger: an account's free and locked assets are `margin:` and
`locked:` balances, what it owes are `loan:` (principal) and `interest:` balances at or below zero.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Final

from isomargin.engine.book import OrderBook
from isomargin.engine.codes import AlertLevel, OrderStatus
from isomargin.engine.commands import OrderSide, OrderType, SideEffect, TimeInForce
from isomargin.engine.instruments import Grid
from isomargin.engine.ledger import Balance
from isomargin.engine.units import MAX_MAGNITUDE, PRICE_POINTS, QUANTA, Rate, ratio_of
from isomargin.venues.spot_margin import SpotPairSpec, SpotRisk

HOUR: Final = 3_600_000  # interest is charged per whole UTC hour (ms)


def _exact(value: Decimal, scale: int, what: str) -> int:
    n = value * scale
    if n != n.to_integral_value():
        raise ValueError(f"{what} {value} is not a whole number of 10^-{len(str(scale)) - 1} units")
    return int(n)


def _units_of(value: object, unit: Decimal) -> int | None:
    r = ratio_of(value)
    if r is None:
        return None
    num, den = r
    unum, uden = unit.as_integer_ratio()
    n = num * uden
    d = den * unum
    if n <= 0 or n % d:
        return None
    units = n // d
    return units if units * unum < MAX_MAGNITUDE * uden else None


class Tier:
    """One OKX margin tier of a borrowed asset: liability cap (quanta, None = unbounded), maintenance rate."""

    __slots__ = ("cap", "max_leverage", "mmr", "number")

    def __init__(self, number: int, cap: int | None, mmr: Fraction, max_leverage: int) -> None:
        self.number = number
        self.cap = cap
        self.mmr = mmr
        self.max_leverage = max_leverage


class SpotPair:
    """One listed spot pair: grid constants, fees, risk rules, rates, its book and its margin accounts."""

    __slots__ = (
        "accounts", "band", "band_dec", "base", "book", "borrow_level", "call_level", "daily", "grid", "last",
        "limits", "liq_fee", "liq_level", "lot_k", "maker", "mark", "mark_dec", "max_leverage", "min_notional",
        "out_level", "quote", "risk", "spec", "step", "symbol", "taker", "tick", "tick_k", "tick_pp", "tiers", "venue",
    )  # fmt: skip

    def __init__(self, spec: SpotPairSpec, maker: Decimal, taker: Decimal, band: Decimal) -> None:
        self.spec = spec
        self.symbol = spec.symbol
        self.venue = spec.venue
        self.base = spec.base
        self.quote = spec.quote
        self.tick = spec.tick_size
        self.step = spec.step_size
        self.lot_k = _exact(spec.step_size, QUANTA, "step size")  # base quanta per lot
        self.tick_k = _exact(spec.tick_size * spec.step_size, QUANTA, "tick × step")  # quote quanta per tick·lot
        self.tick_pp = _exact(spec.tick_size, PRICE_POINTS, "tick size")  # price points per tick
        if self.lot_k <= 0 or self.tick_k <= 0:
            raise ValueError("tick and step sizes must be positive")
        self.grid = Grid(spec.symbol, spec.quote, spec.tick_size, spec.step_size)
        self.min_notional = _exact(spec.min_notional, QUANTA, "minimum notional")
        self.maker = Rate(maker)
        self.taker = Rate(taker)
        self.band = Fraction(band)
        self.band_dec = band
        self.max_leverage = spec.max_leverage
        self.risk = spec.risk
        self.liq_fee = Rate(spec.liquidation_fee)
        self.borrow_level = self.out_level = self.call_level = self.liq_level = Fraction(0)
        if spec.risk is SpotRisk.MARGIN_LEVEL:
            levels = spec.levels_for(spec.max_leverage)
            self.borrow_level = Fraction(levels.borrow)
            self.out_level = Fraction(levels.transfer_out)
            self.call_level = Fraction(levels.margin_call)
            self.liq_level = Fraction(levels.liquidation)
        self.tiers: dict[str, list[Tier]] = {
            asset: [
                Tier(t.tier, None if t.max_liability is None else _exact(t.max_liability, QUANTA, "tier cap"),
                     Fraction(t.mmr), t.max_leverage)
                for t in table
            ]
            for asset, table in spec.tiers.items()
        }  # fmt: skip
        self.daily: dict[str, Decimal] = {a: spec.daily_rates.get(a, Decimal(0)) for a in (self.base, self.quote)}
        self.limits: dict[str, int | None] = {
            a: (_exact(spec.borrow_limits[a], QUANTA, "borrow limit") if a in spec.borrow_limits else None)
            for a in (self.base, self.quote)
        }
        self.book = OrderBook()
        self.mark: int | None = None  # price points
        self.mark_dec: Decimal | None = None
        self.last: int | None = None  # ticks
        self.accounts: dict[int, SpotAccount] = {}  # isolated margin accounts on this pair, in opening order

    def to_ticks(self, value: object) -> int | None:
        """Ticks of a positive on-grid price below 10¹², else None (never rounds: off-grid is refused)."""
        return _units_of(value, self.tick)

    def to_lots(self, value: object) -> int | None:
        return _units_of(value, self.step)

    def other(self, asset: str) -> str:
        return self.quote if asset == self.base else self.base

    def reference(self) -> int | None:
        """Mark, else last trade, in price points: what risk and market orders are measured at."""
        if self.mark is not None:
            return self.mark
        return None if self.last is None else self.last * self.tick_pp

    def tier(self, asset: str, owed: int) -> tuple[int, Tier] | None:
        """(index, tier) of the OKX tier holding a liability of `owed` quanta of `asset` (None: no table)."""
        table = self.tiers.get(asset)
        if not table:
            return None
        for i, t in enumerate(table):
            if t.cap is None or owed <= t.cap:
                return i, t
        return len(table) - 1, table[-1]


class SpotAccount:
    """One account's isolated margin account on one pair: its balances (by asset), loan clocks, net transfers
    (the margin a position view shows), alert level and open orders."""

    __slots__ = ("account", "alert", "fills", "free", "interest", "loan", "locked", "orders", "paid_to", "pair",
                 "transferred")  # fmt: skip

    def __init__(self, account: int, pair: SpotPair, free: dict[str, Balance], locked: dict[str, Balance],
                 loan: dict[str, Balance], interest: dict[str, Balance]) -> None:  # fmt: skip
        self.account = account
        self.pair = pair
        self.free = free
        self.locked = locked
        self.loan = loan  # ≤ 0
        self.interest = interest  # ≤ 0
        self.paid_to: dict[str, int | None] = {pair.base: None, pair.quote: None}  # hour boundary charged through
        self.transferred: dict[str, int] = {pair.base: 0, pair.quote: 0}  # net quanta moved in from the wallet
        self.alert = AlertLevel.OK
        self.orders: dict[int, SpotOrder] = {}
        # Base quanta and quote quanta filled each way since the account was last free of debt: the entry price
        # of the position view (long: what it bought; short: what it sold).
        self.fills: dict[OrderSide, list[int]] = {OrderSide.BUY: [0, 0], OrderSide.SELL: [0, 0]}

    def holds(self, asset: str) -> int:
        return self.free[asset].amount + self.locked[asset].amount

    def owes(self, asset: str) -> int:
        return -(self.loan[asset].amount + self.interest[asset].amount)

    @property
    def indebted(self) -> bool:
        p = self.pair
        return self.owes(p.base) > 0 or self.owes(p.quote) > 0


class SpotOrder:
    """A live spot order: fixed fields, fills so far, and the balances it pays from, locks in and receives into
    (the wallet's, or its isolated margin account's)."""

    __slots__ = (
        "account", "client_order_id", "filled", "get_free", "id", "isolated", "lock_ticks", "locked", "lots",
        "margin", "pay_free", "pay_lock", "quote_filled", "side", "side_effect", "status", "symbol", "ticks",
        "tif", "type",
    )  # fmt: skip

    def __init__(
        self, oid: int, account: int, symbol: str, side: OrderSide, type: OrderType, tif: TimeInForce,
        ticks: int | None, lock_ticks: int, lots: int, isolated: bool, side_effect: SideEffect,
        client_order_id: str | None, pay_free: Balance, pay_lock: Balance, get_free: Balance,
        margin: SpotAccount | None,
    ) -> None:  # fmt: skip
        self.id = oid
        self.account = account
        self.symbol = symbol
        self.side = side
        self.type = type
        self.tif = tif
        self.ticks = ticks  # limit price; None for a market order
        self.lock_ticks = lock_ticks  # the price a buy locks quote at (its limit, or the band's edge)
        self.lots = lots
        self.filled = 0
        self.quote_filled = 0  # quanta
        self.locked = 0  # quanta of the pay asset still locked for the rest
        self.isolated = isolated
        self.side_effect = side_effect
        self.client_order_id = client_order_id
        self.status = OrderStatus.NEW
        self.pay_free = pay_free
        self.pay_lock = pay_lock
        self.get_free = get_free
        self.margin = margin

    @property
    def remaining(self) -> int:
        return self.lots - self.filled
