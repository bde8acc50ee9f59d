"""One position's life in a simulation, from open to close or liquidation: what it was allocated, what it
lost, and whether the isolated loss cap held (loss ≤ allocated margin + fees); and `Holding`, what the
simulator keeps of an open position between the engine's events to value it at every mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from isomargin.engine import MarginMode

ZERO = Decimal(0)


@dataclass
class Episode:
    """One position from open to flat, with what it cost its owner."""

    account: int
    symbol: str
    side: str  # long | short ("?" until the position's first update)
    mode: MarginMode | None  # None until the position's first update
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
        if self.mode is MarginMode.ISOLATED:
            return self.allocated - self.pool_out - self.open_value + self.wallet_fees
        return -self.realized + self.fees - self.funding - self.open_value

    @property
    def margin_loss(self) -> Decimal:
        """Of the allocation: the isolated pool's loss, or the cross loss before fees' share of nothing."""
        return self.allocated - self.pool_out - self.open_value if self.mode is MarginMode.ISOLATED else self.loss

    @property
    def loss_fraction(self) -> Decimal | None:
        return self.margin_loss / self.allocated if self.allocated > 0 else None

    @property
    def cap_ok(self) -> bool:
        """Isolated: the loss never exceeded the allocated margin (the seeds' central claim)."""
        return self.mode is not MarginMode.ISOLATED or self.margin_loss <= self.allocated


def mode_name(mode: MarginMode) -> str:
    """A margin mode as the results spell it: isolated | cross."""
    return "isolated" if mode is MarginMode.ISOLATED else "cross"


class Holding:
    """A tracked account's open position as the simulator values it between events: the signed size (from
    PositionUpdated) and the signed cost basis (long +cost, short −cost, from the position query), so the
    unrealised PnL at any mark is size × mark − basis without asking the engine for a full view every bar."""

    __slots__ = ("basis", "mode", "size", "stale")

    def __init__(self, size: Decimal, mode: MarginMode) -> None:
        self.size = size
        self.mode = mode
        self.basis = ZERO
        self.stale = True  # the basis is read (once) the next time it is needed
