"""Adding and removing isolated margin: the new liquidation price and the most that may be removed.

Only the position's margin pool changes; size, entry and the wallet's other uses do not, so the
liquidation price moves and nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from isomargin.margin.contract import ContractKind, Side, notional, unrealized_pnl
from isomargin.margin.errors import MarginError
from isomargin.margin.liquidation import MMBasis, liquidation_price_isolated
from isomargin.margin.numbers import ZERO, D, exact, non_negative, positive
from isomargin.margin.tiers import TierTable


@exact
def max_removable_margin(
    side: Side,
    size: object,
    entry: object,
    margin: object,
    mark: object,
    leverage: object,
    kind: ContractKind = ContractKind.LINEAR,
) -> Decimal:
    """What can leave the pool while margin + min(uPnL, 0) stays ≥ initial margin at mark.

    Unrealised profit never counts (it is not cash yet); unrealised loss always does. This is the
    venue-protecting reading of "keep the position at or above its initial margin at the current mark".
    """
    m = non_negative(margin, "margin")
    pnl = unrealized_pnl(side, D(size, "size"), D(entry, "entry"), D(mark, "mark"), kind)
    required = notional(D(size, "size"), D(mark, "mark"), kind) / positive(leverage, "leverage")
    return max(min(m + min(pnl, ZERO) - required, m), ZERO)


@dataclass(frozen=True, slots=True)
class MarginAdjustment:
    """Result of moving margin into (delta > 0) or out of (delta < 0) an isolated position."""

    margin_before: Decimal
    margin_after: Decimal
    liquidation_before: Decimal | None
    liquidation_after: Decimal | None
    max_removable: Decimal


@exact
def adjust_isolated_margin(
    side: Side,
    size: object,
    entry: object,
    margin: object,
    delta: object,
    mark: object,
    leverage: object,
    table: TierTable,
    kind: ContractKind = ContractKind.LINEAR,
    mm_basis: MMBasis = MMBasis.MARK,
    fee_rate: object = ZERO,
) -> MarginAdjustment:
    """Apply `delta` to the pool; removal beyond the maximum removable is refused."""
    m = non_negative(margin, "margin")
    d = D(delta, "delta")
    removable = max_removable_margin(side, D(size, "size"), D(entry, "entry"), m, D(mark, "mark"), leverage, kind)
    if d < 0 and -d > removable:
        raise MarginError(
            "above_max_removable", f"cannot remove {-d}: at most {removable} can leave this position's margin"
        )
    before = liquidation_price_isolated(side, size, entry, m, table, kind, mm_basis, fee_rate)
    after = liquidation_price_isolated(side, size, entry, m + d, table, kind, mm_basis, fee_rate)
    return MarginAdjustment(m, m + d, before, after, removable)
