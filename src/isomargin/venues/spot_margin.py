"""Spot isolated margin pairs as data: Binance's margin-level thresholds per leverage, OKX's margin tiers per
borrowed asset, fees, tick/step sizes, liquidation fee, default interest rates and borrow limits, loaded from
`venues/data/spot_margin.json` (sources in docs/venues.md) once, on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from typing import Any

from isomargin.margin import MarginError
from isomargin.margin.numbers import D, non_negative, positive
from isomargin.venues.registry import UnknownListing


class SpotRisk(StrEnum):
    """How a venue measures an isolated margin account's risk."""

    MARGIN_LEVEL = "margin_level"  # Binance: total asset value / (liability + interest)
    MAINTENANCE_RATIO = "maintenance_ratio"  # OKX: net assets / (maintenance margin + liquidation fee)


@dataclass(frozen=True)
class MarginLevels:
    """Binance's margin-level thresholds for one isolated leverage (e.g. 10×)."""

    leverage: int
    borrow: Decimal  # the level a borrow must leave (Binance's tier-1 Initial Risk Ratio)
    transfer_out: Decimal  # the level a transfer out must leave
    margin_call: Decimal
    liquidation: Decimal


@dataclass(frozen=True)
class SpotTier:
    """One OKX margin tier of a borrowed asset: it holds liabilities up to `max_liability` (in that asset)."""

    tier: int
    max_liability: Decimal | None  # None: the unbounded last tier
    mmr: Decimal
    max_leverage: int


class UnknownSpotPair(UnknownListing):
    """An unknown venue or pair."""


@dataclass(frozen=True)
class SpotPairSpec:
    """One spot pair with isolated margin on one venue."""

    venue: str
    symbol: str  # engine symbol, base-quote with a dash ("BTC-USDT"): never one of the perpetuals' names
    exchange_symbol: str  # the venue's spelling: "BTCUSDT" (Binance) / "BTC-USDT" (OKX)
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    max_leverage: int
    risk: SpotRisk
    levels: tuple[MarginLevels, ...]  # Binance; empty for OKX
    tiers: dict[str, tuple[SpotTier, ...]]  # OKX, by borrowed asset; empty for Binance
    liquidation_fee: Decimal  # rate on the liquidated value
    daily_rates: dict[str, Decimal]  # default daily interest rate per asset
    borrow_limits: dict[str, Decimal]  # max principal per asset per isolated account

    def levels_for(self, leverage: int) -> MarginLevels:
        """The thresholds for `leverage`; a MarginError (a ValueError) if the pair has none for it."""
        for row in self.levels:
            if row.leverage == leverage:
                return row
        known = ", ".join(f"{r.leverage}x" for r in self.levels) or "none"
        raise MarginError(
            "no_margin_levels", f"{self.venue} {self.symbol} has no margin levels for {leverage}x (has: {known})"
        )

    def tier_for(self, asset: str, liability: Decimal) -> SpotTier:
        """The tier holding a liability of `liability` units of `asset` (bounds inclusive: a liability equal to a
        tier's maximum is in that tier). A MarginError if the asset has no tiers or the liability is above them."""
        table = self.tiers.get(asset)
        if table is None:
            known = ", ".join(self.tiers) or "none"
            raise MarginError(
                "no_tiers", f"{self.venue} {self.symbol} has no margin tiers for {asset!r} (has: {known})"
            )
        owed = non_negative(liability, "liability")
        for row in table:
            if row.max_liability is None or owed <= row.max_liability:
                return row
        top = table[-1].max_liability
        raise MarginError(
            "above_tiers", f"a liability of {owed} {asset} is above the largest tier ({top} {asset}) of {self.symbol}"
        )

    def daily_rate(self, asset: str) -> Decimal:
        try:
            return self.daily_rates[asset]
        except KeyError:
            raise MarginError("no_rate", f"{self.venue} {self.symbol} has no interest rate for {asset!r}") from None


_cache: dict[str, dict[str, SpotPairSpec]] = {}


def _load() -> dict[str, dict[str, SpotPairSpec]]:
    if not _cache:
        text = resources.files("isomargin.venues").joinpath("data", "spot_margin.json").read_text(encoding="utf-8")
        raw: dict[str, Any] = json.loads(text)
        for venue, pairs in raw["pairs"].items():
            _cache[venue] = {symbol: _pair(venue, symbol, body) for symbol, body in pairs.items()}
    return _cache


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MarginError("bad_venue_data", f"{name} must be a positive whole number, got {value!r}")
    return value


def _pair(venue: str, symbol: str, raw: dict[str, Any]) -> SpotPairSpec:
    where = f"{venue} {symbol}"
    try:
        levels = tuple(
            MarginLevels(
                leverage=_int(r["leverage"], "leverage"),
                borrow=positive(r["borrow"], "borrow"),
                transfer_out=positive(r["transfer_out"], "transfer_out"),
                margin_call=positive(r["margin_call"], "margin_call"),
                liquidation=positive(r["liquidation"], "liquidation"),
            )
            for r in raw["levels"]
        )
        for row in levels:
            # The venue's order of events as the level falls: stop borrowing, then the call, then liquidation.
            if not row.borrow > row.margin_call > row.liquidation > 1:
                raise MarginError("bad_venue_data", f"{row.leverage}x levels are not borrow > call > liquidation > 1")
        tiers = {asset: _tiers(rows) for asset, rows in raw["tiers"].items()}
        spec = SpotPairSpec(
            venue=venue,
            symbol=symbol,
            exchange_symbol=str(raw["exchange_symbol"]),
            base=str(raw["base"]),
            quote=str(raw["quote"]),
            tick_size=positive(raw["tick_size"], "tick_size"),
            step_size=positive(raw["step_size"], "step_size"),
            min_notional=non_negative(raw["min_notional"], "min_notional"),
            maker_fee=D(raw["maker_fee"], "maker_fee"),
            taker_fee=non_negative(raw["taker_fee"], "taker_fee"),
            max_leverage=_int(raw["max_leverage"], "max_leverage"),
            risk=SpotRisk(raw["risk"]),
            levels=levels,
            tiers=tiers,
            liquidation_fee=non_negative(raw["liquidation_fee"], "liquidation_fee"),
            daily_rates={a: non_negative(v, f"daily rate {a}") for a, v in raw["daily_rates"].items()},
            borrow_limits={a: non_negative(v, f"borrow limit {a}") for a, v in raw["borrow_limits"].items()},
        )
    except (KeyError, ValueError, TypeError) as exc:
        detail = exc.message if isinstance(exc, MarginError) else f"{type(exc).__name__}: {exc}"
        raise MarginError("bad_venue_data", f"{where}: {detail}") from None
    if symbol != f"{spec.base}-{spec.quote}":
        raise MarginError("bad_venue_data", f"{where}: the symbol must be base-quote ({spec.base}-{spec.quote})")
    for asset in (spec.base, spec.quote):
        if asset not in spec.daily_rates or asset not in spec.borrow_limits:
            raise MarginError("bad_venue_data", f"{where}: no interest rate or borrow limit for {asset}")
    return spec


def _tiers(rows: list[dict[str, Any]]) -> tuple[SpotTier, ...]:
    out: list[SpotTier] = []
    for i, r in enumerate(rows, start=1):
        cap = None if r.get("max_liability") is None else positive(r["max_liability"], "max_liability")
        tier = SpotTier(
            tier=_int(r["tier"], "tier"),
            max_liability=cap,
            mmr=positive(r["mmr"], "mmr"),
            max_leverage=_int(r["max_leverage"], "max_leverage"),
        )
        if "imr" in r and tier.max_leverage != int(1 / positive(r["imr"], "imr")):
            # The file keeps OKX's initial margin ratio for reference; its max leverage must agree with it.
            raise MarginError("bad_venue_data", f"tier {i}: max_leverage is not floor(1 / imr)")
        if tier.tier != i:
            raise MarginError("bad_venue_data", f"tiers must be numbered 1, 2, …; found {tier.tier} at {i}")
        if out:
            prev = out[-1]
            if prev.max_liability is None or (cap is not None and cap <= prev.max_liability):
                raise MarginError("bad_venue_data", f"tier {i}'s maximum must be above tier {i - 1}'s")
            if tier.mmr < prev.mmr:
                raise MarginError("bad_venue_data", f"tier {i}'s MMR is below tier {i - 1}'s")
        out.append(tier)
    return tuple(out)


def spot_pairs(venue: str) -> tuple[str, ...]:
    """The engine symbols of `venue`'s spot margin pairs."""
    pairs = _load().get(venue.strip().lower())
    if pairs is None:
        raise UnknownSpotPair(f"no spot margin pairs for venue {venue!r} (known: {', '.join(_load())})")
    return tuple(pairs)


def spot_pair(venue: str, symbol: str) -> SpotPairSpec:
    """One pair by venue and engine symbol ("BTC-USDT"); an `UnknownSpotPair` (a KeyError) saying what exists
    when either is unknown."""
    pairs = _load().get(venue.strip().lower())
    if pairs is None:
        raise UnknownSpotPair(f"no spot margin pairs for venue {venue!r} (known: {', '.join(_load())})")
    spec = pairs.get(symbol.strip().upper())
    if spec is None:
        raise UnknownSpotPair(f"{venue} has no spot margin pair {symbol!r} (known: {', '.join(pairs)})")
    return spec
