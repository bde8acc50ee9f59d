"""Order state: what the engine remembers about a live order between commands."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from isomargin.engine.commands import STP, OrderSide, OrderType, PositionSide, TimeInForce, WorkingType

ZERO = Decimal(0)


@dataclass(slots=True)
class Order:
    id: int
    account: int
    symbol: str
    side: OrderSide
    type: OrderType
    tif: TimeInForce
    lots: int  # total quantity in lots (0 for an untriggered close-position order)
    price_ticks: int | None  # limit price; None for market
    stop_price: Decimal | None
    reduce_only: bool
    close_position: bool
    position_side: PositionSide
    client_order_id: str | None
    working_type: WorkingType
    stp: STP
    created: int
    callback_rate: Decimal | None = None
    activation_price: Decimal | None = None
    filled_lots: int = 0
    filled_cost: Decimal = ZERO  # Σ fill qty × price, for the average price
    hold: Decimal = ZERO  # margin reserved for the unfilled rest (ledger hold balance share)
    status: str = "NEW"
    triggered: bool = False
    extreme: Decimal | None = None  # trailing stop: best price seen since activation
    activated: bool = False

    @property
    def remaining(self) -> int:
        return self.lots - self.filled_lots

    @property
    def resting_conditional(self) -> bool:
        return self.type.conditional and not self.triggered
