"""Hyperliquid perpetuals: maintenance margin is half the initial margin at the tier's maximum leverage
(rate = 1 / (2 · max leverage)), on mark value; large positions are liquidated in 20 % slices.
"""

import dataclasses
from decimal import localcontext

from isomargin.margin import MMBasis, TierTable
from isomargin.margin.numbers import MONEY
from isomargin.venues.profile import RatioConvention, SymbolSpec, VenueProfile
from isomargin.venues.registry import alerts_from, fee, load_data, partial_from, symbols_from

_DATA = load_data("hyperliquid")


def _derived(spec: SymbolSpec) -> SymbolSpec:
    """Rates from the venue's rule, not the file: 1/(2·L) can be a repeating decimal (ETH's 15× is 1/30),
    so it is computed at full precision and the deductions re-derived from it by the recurrence."""
    with localcontext(MONEY):
        rows = [(t.floor, t.cap, 1 / (2 * t.max_leverage), t.max_leverage) for t in spec.table.tiers]
    return dataclasses.replace(spec, table=TierTable.from_rates(rows))


_SYMBOLS = {name: _derived(spec) for name, spec in symbols_from(_DATA).items()}

PROFILE = VenueProfile(
    name="hyperliquid",
    title="Hyperliquid perpetuals",
    docs="https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations",
    mm_basis=MMBasis.MARK,
    ratio=RatioConvention.MM_OVER_BALANCE,
    keeps_remainder=True,  # docs: a positive-value account keeps what is left after the penalty
    partial=partial_from(_DATA),
    alerts=alerts_from(_DATA),
    taker_fee=fee(_DATA, "taker_fee"),
    maker_fee=fee(_DATA, "maker_fee"),
    symbols=_SYMBOLS,
    formula="LP = price − side·margin_available/size/(1 − l·side), l = 1/(2·max leverage)",
)
