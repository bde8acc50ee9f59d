"""Option markets as the engine keeps them: a listed European option compiled to integers (premium ticks,
contract lots), its book, marks, positions (a short's isolated pool is its own ledger balance) and open orders.

A premium is quoted in the settle asset per unit of the underlying (OKX BTC-USD: BTC per BTC); a contract is
`multiplier` units of the underlying, so a fill's value is lots × ticks × `tick_k` quanta of the settle asset.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Final

from isomargin.engine.book import OrderBook
from isomargin.engine.codes import AlertLevel, OrderStatus
from isomargin.engine.commands import OrderSide, TimeInForce
from isomargin.engine.instruments import Grid
from isomargin.engine.ledger import Balance
from isomargin.engine.spot_state import _units_of
from isomargin.engine.units import PRICE_POINTS, QUANTA, Rate
from isomargin.venues.options import OptionFamily, OptionKind

YEAR_MS: Final = 365 * 24 * 3_600_000  # Black-76's year: ACT/365


class OptionInstrument:
    """One listed option's fixed parameters in the integers the engine works in."""

    __slots__ = ("expiry", "family", "fee_cap", "grid", "kind", "liq_fee", "lot_units", "maker", "pp_k", "settle",
                 "step", "strike", "strike_f", "symbol", "taker", "tick", "tick_k", "tick_pp")  # fmt: skip

    def __init__(self, symbol: str, family: OptionFamily, kind: OptionKind, strike: Decimal, expiry: int,
                 maker: Decimal, taker: Decimal) -> None:  # fmt: skip
        self.symbol = symbol
        self.family = family
        self.kind = kind
        self.strike = strike
        self.strike_f = Fraction(strike)
        self.expiry = expiry
        self.settle = family.settle
        self.tick = family.tick_size
        self.step = family.step_size
        self.grid = Grid(symbol, family.settle, family.tick_size, family.step_size)
        self.lot_units = Fraction(family.step_size) * Fraction(family.multiplier)  # underlying units per lot
        tick_k = Fraction(family.tick_size) * self.lot_units * QUANTA
        if tick_k.denominator != 1 or tick_k <= 0:
            raise ValueError(f"{family.family}: tick × step × multiplier is not a whole number of 10^-10")
        self.tick_k = int(tick_k)  # settle quanta per tick·lot
        self.pp_k = self.lot_units * QUANTA / PRICE_POINTS  # settle quanta per price point·lot (a Fraction)
        tick_pp = Fraction(family.tick_size) * PRICE_POINTS
        if tick_pp.denominator != 1:
            raise ValueError(f"{family.family}: the premium tick is finer than 10^-8")
        self.tick_pp = int(tick_pp)
        self.maker = Rate(maker)
        self.taker = Rate(taker)
        self.fee_cap = Fraction(family.fee_cap)
        self.liq_fee = Fraction(family.liquidation_fee)

    def to_ticks(self, value: object) -> int | None:
        return _units_of(value, self.tick)

    def to_lots(self, value: object) -> int | None:
        return _units_of(value, self.step)

    @property
    def coin_margined(self) -> bool:
        return self.settle == self.family.underlying


class OptionPosition:
    """Signed contracts (lots; long > 0) with the premium of the open exposure (`cost`, quanta ≥ 0: paid by a
    long, received by a short); a short holds its margin and received premium in `pool`."""

    __slots__ = ("account", "alert", "cost", "lots", "market", "pool")

    def __init__(self, account: int, market: OptionMarket) -> None:
        self.account = account
        self.market = market
        self.lots = 0
        self.cost = 0
        self.pool: Balance | None = None
        self.alert = AlertLevel.OK


class OptionOrder:
    """A live option order: limit price, size and fills, and what it holds (a buy: premium and fee at its limit;
    a sell: initial margin for every contract, released as fills close instead of open)."""

    __slots__ = ("account", "client_order_id", "filled", "hold", "id", "lots", "per_lot", "reduce_only", "side",
                 "status", "symbol", "ticks", "tif")  # fmt: skip

    def __init__(self, oid: int, account: int, symbol: str, side: OrderSide, ticks: int, lots: int, tif: TimeInForce,
                 reduce_only: bool, client_order_id: str | None, per_lot: int) -> None:  # fmt: skip
        self.id = oid
        self.account = account
        self.symbol = symbol
        self.side = side
        self.ticks = ticks
        self.lots = lots
        self.tif = tif
        self.reduce_only = reduce_only
        self.client_order_id = client_order_id
        self.per_lot = per_lot  # quanta held per unfilled lot
        self.filled = 0
        self.hold = 0
        self.status = OrderStatus.NEW

    @property
    def remaining(self) -> int:
        return self.lots - self.filled


class OptionMarket:
    """One option's live state: book, mark (premium, price points), positions, the fund's inventory."""

    __slots__ = ("book", "held", "inst", "mark", "mark_dec", "positions")

    def __init__(self, inst: OptionInstrument) -> None:
        self.inst = inst
        self.book = OrderBook()
        self.mark: int | None = None
        self.mark_dec: Decimal | None = None
        self.positions: dict[int, OptionPosition] = {}
        self.held: OptionPosition | None = None  # what the insurance fund took over from liquidations
