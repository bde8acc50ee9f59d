"""Position state: signed size in lots, exact cost basis, mode, leverage and running totals.

Cost is Σ lots·price of the open exposure kept exactly; the entry price (cost / size) is only ever
derived, so realised PnL across all traders nets to exactly what the settlement balance shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from isomargin.engine.commands import PositionSide

ZERO = Decimal(0)


@dataclass(slots=True)
class Position:
    account: int
    symbol: str
    side: PositionSide
    isolated: bool
    leverage: int
    lots: int = 0  # signed: long > 0, short < 0
    cost: Decimal = ZERO  # quote value of the open exposure at entry, always ≥ 0
    realized: Decimal = ZERO
    funding: Decimal = ZERO
    liquidation: Decimal | None = None  # cached isolated liquidation price (exact)
    bankruptcy: Decimal | None = None

    @property
    def sign(self) -> int:
        return (self.lots > 0) - (self.lots < 0)
