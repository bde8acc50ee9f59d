"""Binance COIN-M futures (ccxt id `binancecoinm`): inverse contracts margined and settled in the coin.

Brackets by the position's notional in the coin (contracts × contract size / price) with a cumulative maintenance
amount in the coin, MM on mark value. Isolated LP solves WB + side·Q·(1/EP − 1/P) = Q/P·MMR − cum, i.e.
LP = Q·(MMR + side) / (WB + cum + side·Q/EP) with Q = contracts × contract size, using the bracket that holds at
the LP's coin notional (Binance's COIN-M liquidation-price FAQ, isolated: TMM = UPNL = 0).
"""

from isomargin.margin import MMBasis
from isomargin.venues.profile import RatioConvention, VenueProfile
from isomargin.venues.registry import alerts_from, fee, load_data, partial_from, symbols_from

_DATA = load_data("binancecoinm")

PROFILE = VenueProfile(
    name="binancecoinm",
    title="Binance COIN-M",
    docs="https://www.binance.com/en/support/faq/ceccfcfb4e3a45e3b48b0b1bb1a8ae46",
    mm_basis=MMBasis.MARK,
    ratio=RatioConvention.MM_OVER_BALANCE,
    partial=partial_from(_DATA),
    alerts=alerts_from(_DATA),
    taker_fee=fee(_DATA, "taker_fee"),
    maker_fee=fee(_DATA, "maker_fee"),
    symbols=symbols_from(_DATA),
    formula="LP = Q·(MMR + side) / (WB + cum + side·Q/EP), Q = contracts × contract size, bracket at the LP's notional",
)
