"""Venue profiles as data: tier tables, fees, formulas' switches, liquidation and alert rules.

`get_profile("binance")` returns a `VenueProfile`; `VENUES` lists the names. Profiles load lazily so a
user of one venue never parses the others' data.
"""

from __future__ import annotations

import importlib

from isomargin.margin import MarginError
from isomargin.venues.profile import (
    Alerts,
    LiquidationQuote,
    PartialRule,
    RatioConvention,
    SymbolSpec,
    VenueProfile,
)

VENUES = ("binance", "okx", "bybit", "hyperliquid", "dydx", "simple", "binancecoinm")

_cache: dict[str, VenueProfile] = {}


def get_profile(name: str) -> VenueProfile:
    """The profile of venue `name` (case-insensitive)."""
    key = name.strip().lower()
    if key not in VENUES:
        raise MarginError("unknown_venue", f"unknown venue {name!r} (known: {', '.join(VENUES)})")
    if key not in _cache:
        module = importlib.import_module(f"isomargin.venues.{key}")
        _cache[key] = module.PROFILE
    return _cache[key]


__all__ = [
    "VENUES",
    "Alerts",
    "LiquidationQuote",
    "PartialRule",
    "RatioConvention",
    "SymbolSpec",
    "VenueProfile",
    "get_profile",
]
