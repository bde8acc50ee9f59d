"""Loads venue profiles from their data files and hands them out by name.

Tier tables and instrument figures live in `venues/data/<venue>.json` with their sources; each venue
module adds only the switches that make its formula its own.
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from typing import Any

from isomargin.margin import ContractKind, Deduction, MarginError, TierBasis, TierTable
from isomargin.margin.numbers import ZERO, D
from isomargin.venues.profile import Alerts, PartialRule, SymbolSpec

UNKNOWN_TICK = Decimal("0.01")
UNKNOWN_STEP = Decimal("0.001")
PARTIAL_RULES = ("none", "tier_step", "slice")


def load_data(venue: str) -> dict[str, Any]:
    """The raw JSON of a venue's data file."""
    text = resources.files("isomargin.venues").joinpath("data", f"{venue}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def symbols_from(data: dict[str, Any]) -> dict[str, SymbolSpec]:
    """Build every SymbolSpec in a venue data file, validating its tier table."""
    specs: dict[str, SymbolSpec] = {}
    for name, raw in data["symbols"].items():
        try:
            table = TierTable.from_rows(
                raw["tiers"],
                basis=TierBasis(raw.get("basis", "notional")),
                deduction=Deduction(raw.get("deduction", "cumulative")),
                contract_size=raw.get("contract_size", "1"),
            )
        except MarginError as exc:
            raise MarginError("bad_venue_data", f"{data['venue']} {name}: {exc.message}") from None
        contract_size = D(raw.get("contract_size", "1"))
        kind = ContractKind(raw.get("kind", "linear"))
        # OKX and the inverse venues state lot sizes in contracts; isomargin sizes are base units (linear) or
        # face value in USD (inverse: contracts × contract size) everywhere.
        step = D(raw.get("step_size", "0"))
        if table.basis is TierBasis.CONTRACTS or kind is ContractKind.INVERSE:
            step *= contract_size
        tick = D(raw.get("tick_size", "0"))
        specs[name] = SymbolSpec(
            symbol=name,
            venue_symbol=raw.get("venue_symbol", name),
            table=table,
            kind=kind,
            settle=raw.get("settle", "USDT"),
            contract_size=contract_size,
            # "0" in a data file means the source did not publish it; fall back to fine defaults.
            tick_size=tick if tick > 0 else UNKNOWN_TICK,
            step_size=step if step > 0 else UNKNOWN_STEP,
            min_notional=D(raw.get("min_notional", "0")),
            liquidation_fee_rate=D(raw.get("liquidation_fee_rate", "0")),
            source=raw.get("source", data.get("source", "")),
            expiry_ms=expiry_ms(raw.get("expiry")),
            delivery=str(raw.get("delivery", "")),
        )
    return specs


def expiry_ms(value: object) -> int | None:
    """A dated future's expiry from the data file: milliseconds since the epoch (as the venues' APIs give
    `deliveryDate`), as a whole number or its decimal string; None (absent) for a perpetual."""
    if value is None:
        return None
    ms = D(value, "expiry")
    if ms <= 0 or ms != ms.to_integral_value():
        raise MarginError("bad_venue_data", f"expiry must be a positive whole number of milliseconds, got {value!r}")
    return int(ms)


def partial_from(data: dict[str, Any]) -> PartialRule:
    raw = data.get("partial_liquidation") or {"rule": "none"}
    rule = str(raw.get("rule", "none"))
    return PartialRule(
        # Rules the sources describe only in words (Binance, Bybit, dYdX) run as full liquidation.
        rule=rule if rule in PARTIAL_RULES else "none",
        tiers_down=int(raw.get("tiers_down", 0)),
        from_tier=int(raw.get("from_tier", 0)),
        fraction=D(raw.get("fraction", "0")),
        min_notional=D(raw.get("min_notional", "0")),
    )


def alerts_from(data: dict[str, Any]) -> Alerts:
    raw = data.get("alerts") or {}
    warn, cancel = raw.get("warning_ratio"), raw.get("cancel_ratio")
    return Alerts(None if warn is None else D(warn), None if cancel is None else D(cancel))


def fee(data: dict[str, Any], key: str) -> Decimal:
    value = data.get(key)
    return ZERO if value is None else D(value)


class UnknownListing(KeyError):
    """An unknown venue, pair or family in a venue's data; str() is the sentence (a bare KeyError prints its
    repr). The spot-margin and option loaders raise their own subclasses of it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
