"""Position sizing from a risk budget: the seeds' isolated-margin framework.

Risk % of the account is the isolated margin (the most the trade can lose barring gaps); leverage
turns it into notional and size; the stop must sit strictly between entry and liquidation price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from isomargin.margin.contract import ContractKind, Side, notional
from isomargin.margin.errors import MarginError
from isomargin.margin.liquidation import MMBasis, bankruptcy_price, liquidation_price_isolated
from isomargin.margin.numbers import ZERO, D, exact, non_negative, plain, positive, round_down
from isomargin.margin.tiers import TierTable


@dataclass(frozen=True, slots=True)
class SizingPlan:
    """A sized isolated position and the prices that bound it."""

    side: Side
    entry: Decimal
    leverage: Decimal
    account: Decimal
    risk_fraction: Decimal
    risk_budget: Decimal  # account × risk fraction
    margin: Decimal  # isolated margin actually allocated (≤ budget after size rounding)
    notional: Decimal
    size: Decimal
    liquidation_price: Decimal | None
    bankruptcy_price: Decimal | None
    stop: Decimal | None
    loss_at_stop: Decimal | None
    stop_distance: Decimal | None  # |entry − stop| / entry
    liquidation_distance: Decimal | None  # |entry − liquidation| / entry


@exact
def atr_stop(side: Side, entry: object, atr_fraction: object, multiple: object = 1) -> Decimal:
    """A stop `multiple` ATRs away from entry, ATR given as a fraction of price (SOL 0.04, BTC 0.015)."""
    e = positive(entry, "entry price")
    distance = positive(atr_fraction, "ATR fraction") * positive(multiple, "ATR multiple")
    stop = e * (1 - side * distance)
    if stop <= 0:
        raise MarginError("bad_stop", f"an ATR stop {distance} away from {e} falls at or below zero")
    return stop


@exact
def plan_position(
    side: Side,
    account: object,
    risk_fraction: object,
    leverage: object,
    entry: object,
    table: TierTable,
    *,
    step: object | None = None,
    stop: object | None = None,
    atr_fraction: object | None = None,
    atr_multiple: object = 1,
    kind: ContractKind = ContractKind.LINEAR,
    mm_basis: MMBasis = MMBasis.MARK,
    fee_rate: object = ZERO,
) -> SizingPlan:
    """Size an isolated position so its margin equals account × risk; check the stop (if any)."""
    acct = positive(account, "account balance")
    risk = positive(risk_fraction, "risk fraction")
    if risk > 1:
        raise MarginError("bad_risk", f"risk fraction {risk} is more than the whole account")
    lev = positive(leverage, "leverage")
    e = positive(entry, "entry price")
    budget = acct * risk
    raw_notional = budget * lev
    # Linear size is base units; inverse size is face value (quote units).
    raw_size = raw_notional / e if kind is ContractKind.LINEAR else raw_notional * e
    size = round_down(raw_size, positive(step, "step")) if step is not None else raw_size
    if size <= 0:
        raise MarginError("below_step", f"a budget of {budget} at {lev}x buys less than one step")
    value = notional(size, e, kind)
    table.check_leverage(lev, table.size_of(size, value))
    margin = value / lev
    liq = liquidation_price_isolated(side, size, e, margin, table, kind, mm_basis, fee_rate)
    bust = bankruptcy_price(side, size, e, margin, kind)
    stop_price = D(stop, "stop") if stop is not None else None
    if stop_price is None and atr_fraction is not None:
        stop_price = atr_stop(side, e, atr_fraction, atr_multiple)
    loss = stop_dist = None
    if stop_price is not None:
        _check_stop(side, e, stop_price, liq)
        stop_dist = abs(e - stop_price) / e
        loss = (
            abs(notional(size, stop_price, kind) - value)
            if kind is ContractKind.LINEAR
            else (size * abs(1 / e - 1 / stop_price))
        )
    liq_dist = abs(e - liq) / e if liq is not None else None
    return SizingPlan(
        side, e, lev, acct, risk, budget, margin, value, size, liq, bust, stop_price, loss, stop_dist, liq_dist
    )


def _check_stop(side: Side, entry: Decimal, stop: Decimal, liq_exact: Decimal | None) -> None:
    """A stop must lie strictly between entry and the liquidation price, or it can never save the trade."""
    non_negative(stop, "stop")
    liq = None if liq_exact is None else plain(liq_exact.quantize(Decimal("0.00000001")))
    if side is Side.LONG:
        ok = (liq_exact is None or liq_exact < stop) and 0 < stop < entry
        where = (
            f"between the liquidation price {liq} and entry {plain(entry)}"
            if liq is not None
            else f"below {plain(entry)}"
        )
    else:
        ok = entry < stop and (liq_exact is None or stop < liq_exact)
        where = (
            f"between entry {plain(entry)} and the liquidation price {liq}"
            if liq is not None
            else f"above {plain(entry)}"
        )
    if not ok:
        raise MarginError("stop_outside_range", f"stop {plain(stop)} must lie strictly {where}")
