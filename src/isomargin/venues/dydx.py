"""dYdX v4 isolated markets: one maintenance margin fraction per market on the oracle (mark) value.

LP solves equity + size·(P − p) = |size|·P·MMF, i.e. P = (e − s·p) / (|s|·MMF − s).
"""

from isomargin.margin import MMBasis
from isomargin.venues.profile import RatioConvention, VenueProfile
from isomargin.venues.registry import alerts_from, fee, load_data, partial_from, symbols_from

_DATA = load_data("dydx")

PROFILE = VenueProfile(
    name="dydx",
    title="dYdX v4",
    docs="https://docs.dydx.exchange/concepts/trading/margin",
    mm_basis=MMBasis.MARK,
    ratio=RatioConvention.MM_OVER_BALANCE,
    keeps_remainder=True,  # docs: a positive-value account keeps what is left after the penalty
    partial=partial_from(_DATA),
    alerts=alerts_from(_DATA),
    taker_fee=fee(_DATA, "taker_fee"),
    maker_fee=fee(_DATA, "maker_fee"),
    symbols=symbols_from(_DATA),
    formula="LP = (e − s·p) / (|s|·MMF − s)",
)
