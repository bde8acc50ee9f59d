"""Bybit USDT perpetuals (isolated): maintenance margin on the entry value, so the liquidation price
is fixed by entry, margin and the risk-limit tier: long LP = EP − (IM − MM)/size − extra margin/size.
"""

from isomargin.margin import MMBasis
from isomargin.venues.profile import RatioConvention, VenueProfile
from isomargin.venues.registry import alerts_from, fee, load_data, partial_from, symbols_from

_DATA = load_data("bybit")

PROFILE = VenueProfile(
    name="bybit",
    title="Bybit USDT perpetual",
    docs="https://www.bybit.com/en/help-center/article/Liquidation-Price-USDT-Contract",
    mm_basis=MMBasis.ENTRY,
    ratio=RatioConvention.MM_OVER_BALANCE,
    partial=partial_from(_DATA),
    alerts=alerts_from(_DATA),
    taker_fee=fee(_DATA, "taker_fee"),
    maker_fee=fee(_DATA, "maker_fee"),
    symbols=symbols_from(_DATA),
    formula="long LP = EP − (IM − MM)/size − extra/size, MM on entry value",
)
