"""OKX perpetual swaps: position tiers by contracts, the whole position at its tier's rate, and the taker
fee added to the maintenance rate (MM ratio = margin balance / (MM + liquidation fee)).

Isolated long LP = (margin − ctVal·n·EP) / (ctVal·n·(MMR + fee − 1)); warning below 300 %, orders cancelled
and liquidation at ≤ 100 %; tier ≥ 3 positions are reduced two tiers before a full close.
"""

from isomargin.margin import MMBasis
from isomargin.venues.profile import RatioConvention, VenueProfile
from isomargin.venues.registry import alerts_from, fee, load_data, partial_from, symbols_from

_DATA = load_data("okx")

PROFILE = VenueProfile(
    name="okx",
    title="OKX perpetual swaps",
    docs="https://www.okx.com/help/iv-isolated-margin-mode",
    mm_basis=MMBasis.MARK,
    fee_in_maintenance=True,
    ratio=RatioConvention.BALANCE_OVER_MM,
    partial=partial_from(_DATA),
    alerts=alerts_from(_DATA),
    taker_fee=fee(_DATA, "taker_fee"),
    maker_fee=fee(_DATA, "maker_fee"),
    symbols=symbols_from(_DATA),
    formula="long LP = (margin − Q·EP) / (Q·(MMR + taker fee − 1)), tier by contracts",
)
