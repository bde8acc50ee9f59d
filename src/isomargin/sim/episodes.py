"""One position's life in a simulation, from open to close or liquidation: what it was allocated, what it
lost, and whether the isolated loss cap held (loss ≤ allocated margin + fees).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


@dataclass
class Episode:
    """One position from open to flat, with what it cost its owner."""

    account: int
    symbol: str
    side: str  # long | short
    mode: str  # isolated | cross
    leverage: int
    opened: int
    entry: Decimal | None = None
    peak_size: Decimal = ZERO
    allocated: Decimal = ZERO  # isolated: margin moved into the pool; cross: peak initial margin
    pool_out: Decimal = ZERO  # isolated: margin paid back to the wallet
    wallet_fees: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    realized: Decimal = ZERO
    covered: Decimal = ZERO  # bad debt the insurance fund paid for it
    open_value: Decimal = ZERO  # still open: what it is worth now (isolated: pool + PnL; cross: PnL)
    closed: int | None = None
    liquidated: bool = False
    liquidation_price: Decimal | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def loss(self) -> Decimal:
        """What the owner lost on it (negative: a gain)."""
        if self.mode == "isolated":
            return self.allocated - self.pool_out - self.open_value + self.wallet_fees
        return -self.realized + self.fees - self.funding - self.open_value

    @property
    def margin_loss(self) -> Decimal:
        """Of the allocation: the isolated pool's loss, or the cross loss before fees' share of nothing."""
        return self.allocated - self.pool_out - self.open_value if self.mode == "isolated" else self.loss

    @property
    def loss_fraction(self) -> Decimal | None:
        return self.margin_loss / self.allocated if self.allocated > 0 else None

    @property
    def cap_ok(self) -> bool:
        """Isolated: the loss never exceeded the allocated margin (the seeds' central claim)."""
        return self.mode != "isolated" or self.margin_loss <= self.allocated
