"""Instruments: a venue's symbol spec plus the engine's own parameters, and the integer grid.

The book works in integer ticks and lots; `to_ticks`/`to_lots` refuse prices and sizes off the grid
instead of rounding them, so a client always learns its number was not tradable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from isomargin.engine.errors import Reject
from isomargin.venues import SymbolSpec, VenueProfile


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    profile: VenueProfile
    spec: SymbolSpec
    maker_fee: Decimal
    taker_fee: Decimal
    price_band: Decimal
    # Copied from the spec once: the hot path reads them for every order and fill.
    settle: str = field(init=False, compare=False)
    tick: Decimal = field(init=False, compare=False)
    step: Decimal = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settle", self.spec.settle)
        object.__setattr__(self, "tick", self.spec.tick_size)
        object.__setattr__(self, "step", self.spec.step_size)

    def to_ticks(self, price: Decimal, what: str = "price") -> int:
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            raise Reject("bad_price", f"{what} must be a positive decimal, got {price!r}")
        ticks = price / self.tick
        if ticks != ticks.to_integral_value():
            raise Reject("bad_price", f"{what} {price} is not a multiple of the tick size {self.tick}")
        return int(ticks)

    def to_lots(self, qty: Decimal) -> int:
        if not isinstance(qty, Decimal) or not qty.is_finite() or qty <= 0:
            raise Reject("bad_quantity", f"quantity must be a positive decimal, got {qty!r}")
        lots = qty / self.step
        if lots != lots.to_integral_value():
            raise Reject("bad_quantity", f"quantity {qty} is not a multiple of the step size {self.step}")
        return int(lots)

    def price(self, ticks: int) -> Decimal:
        return ticks * self.tick

    def qty(self, lots: int) -> Decimal:
        return lots * self.step
