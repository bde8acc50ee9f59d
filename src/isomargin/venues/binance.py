"""Binance USDⓈ-M futures: brackets by notional with a cumulative maintenance amount, MM on mark value.

Isolated LP = (WB + cum − side·Q·EP) / (Q·MMR − side·Q), solved with the bracket that holds at the LP.
"""

from isomargin.margin import MMBasis
from isomargin.venues.profile import RatioConvention, VenueProfile
from isomargin.venues.registry import alerts_from, fee, load_data, partial_from, symbols_from

_DATA = load_data("binance")

PROFILE = VenueProfile(
    name="binance",
    title="Binance USDⓈ-M",
    docs="https://www.binance.com/en/support/faq/how-to-calculate-liquidation-price-of-usd%E2%93%A2-m-futures-contracts-b3c689c1f50a44cabb3a84e663b81d93",
    mm_basis=MMBasis.MARK,
    ratio=RatioConvention.MM_OVER_BALANCE,
    partial=partial_from(_DATA),
    alerts=alerts_from(_DATA),
    taker_fee=fee(_DATA, "taker_fee"),
    maker_fee=fee(_DATA, "maker_fee"),
    symbols=symbols_from(_DATA),
    formula="LP = (WB + cum − side·Q·EP) / (Q·MMR − side·Q), bracket taken at the LP's notional",
)
