"""European cash-settled option families as data: one underlying on one venue (okx BTC-USD and ETH-USD settled
in the coin, binance BTCUSDT settled in USDT) with its contract multiplier, premium tick, fees, the seller's margin
parameters a, b, c and margin-factor tiers, loaded once from `venues/data/options.json` (sources and the
illustrative values in docs/venues.md), and the venues' option symbols (BTC-USD-261225-100000-C).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from isomargin.margin import MarginError
from isomargin.margin.numbers import D, non_negative, plain, positive
from isomargin.margin.options import OptionKind
from isomargin.venues.registry import UnknownListing

# Every venue here expires its options at 08:00 UTC on the expiry date (OKX's rule; Binance's too for its
# current listings), so a symbol's date is enough to know the instant.
EXPIRY_HOUR_UTC = 8
MS_PER_HOUR = 3_600_000
MAX_SYMBOL_CHARS = 48
_STRIKE = r"[0-9]{1,12}(?:\.[0-9]{1,8})?"
_OKX = re.compile(rf"([A-Z]{{2,10}})-(USD|USDT|USDC)-([0-9]{{6}})-({_STRIKE})-([CP])", re.ASCII)
_BINANCE = re.compile(rf"([A-Z]{{2,10}})-([0-9]{{6}})-({_STRIKE})-([CP])", re.ASCII)


@dataclass(frozen=True)
class OptionTier:
    """One row of a family's seller tiers: the seller's contracts (positions and open sell orders together) up to
    `max_contracts` (None: unbounded) take `margin_factor` in both the initial and the maintenance formula (OKX
    uses the one factor for both)."""

    tier: int
    max_contracts: Decimal | None
    margin_factor: Decimal


@dataclass(frozen=True)
class TickBand:
    """Premiums up to `up_to` (None: any) move by `tick` (OKX has a finer tick for cheap options)."""

    up_to: Decimal | None
    tick: Decimal


class UnknownOptionFamily(UnknownListing):
    """An unknown venue or family."""


@dataclass(frozen=True)
class OptionFamily:
    """The options on one underlying at one venue. A premium (tick_size, a mark, an order price) is quoted per ONE
    unit of the underlying in the settle asset (BTC per BTC for a coin-margined family, USDT per BTC for a
    USDT-margined one); one contract is `multiplier` units of the underlying and trades in steps of `step_size`
    contracts. Fees are rates on the underlying's value (the coin amount itself when coin-margined, × index when
    not), capped at `fee_cap` × the premium; `liquidation_fee` is the rate charged the same way on liquidation."""

    venue: str
    family: str
    underlying: str
    quote: str
    settle: str
    multiplier: Decimal
    tick_size: Decimal  # the finest premium tick; `tick_for` gives the band's
    tick_bands: tuple[TickBand, ...]
    step_size: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    fee_cap: Decimal
    liquidation_fee: Decimal
    a: Decimal
    b: Decimal
    c: Decimal
    min_order_margin: Decimal
    tiers: tuple[OptionTier, ...]
    symbol_style: str  # "okx" (BTC-USD-261225-100000-C) or "binance" (BTC-261225-100000-C)

    @property
    def coin_margined(self) -> bool:
        """Margined and settled in the underlying (OKX BTC-USD); otherwise in the quote (Binance BTCUSDT)."""
        return self.settle == self.underlying

    def tier_for(self, contracts: Decimal) -> OptionTier:
        """The tier of a seller holding `contracts` (positions and open sell orders; bounds inclusive)."""
        n = non_negative(contracts, "contracts")
        for row in self.tiers:
            if row.max_contracts is None or n <= row.max_contracts:
                return row
        return self.tiers[-1]

    def tick_for(self, premium: Decimal) -> Decimal:
        """The premium tick at price `premium` (OKX: 0.0001 up to 0.005, 0.0005 above)."""
        p = non_negative(premium, "premium")
        for band in self.tick_bands:
            if band.up_to is None or p <= band.up_to:
                return band.tick
        return self.tick_bands[-1].tick

    def symbol(self, expiry_ms: int, strike: Decimal, kind: OptionKind) -> str:
        """The venue's name for one option: OKX BTC-USD-261225-100000-C, Binance BTC-261225-100000-C."""
        if isinstance(expiry_ms, bool) or not isinstance(expiry_ms, int) or not 0 < expiry_ms < 10**14:
            raise MarginError("bad_expiry", f"expiry must be a positive millisecond timestamp, got {expiry_ms!r}")
        k = positive(strike, "strike")
        day = datetime.fromtimestamp(expiry_ms / 1000, tz=UTC).strftime("%y%m%d")
        kind = OptionKind.parse(kind)
        if self.symbol_style == "okx":
            return f"{self.family}-{day}-{plain(k)}-{kind.value}"
        return f"{self.underlying}-{day}-{plain(k)}-{kind.value}"


_cache: dict[str, dict[str, OptionFamily]] = {}


def _load() -> dict[str, dict[str, OptionFamily]]:
    if not _cache:
        text = resources.files("isomargin.venues").joinpath("data", "options.json").read_text(encoding="utf-8")
        raw: dict[str, Any] = json.loads(text)
        for venue, families in raw["families"].items():
            _cache[venue] = {name: _family(venue, name, body) for name, body in families.items()}
    return _cache


def _family(venue: str, name: str, raw: dict[str, Any]) -> OptionFamily:
    try:
        tiers = tuple(
            OptionTier(
                tier=int(r["tier"]),
                max_contracts=None if r["max_contracts"] is None else positive(r["max_contracts"], "max_contracts"),
                margin_factor=positive(r["margin_factor"], "margin_factor"),
            )
            for r in raw["tiers"]
        )
        bands = tuple(
            TickBand(None if b["up_to"] is None else positive(b["up_to"], "up_to"), positive(b["tick"], "tick"))
            for b in raw["tick_bands"]
        )
        fam = OptionFamily(
            venue=venue,
            family=name,
            underlying=str(raw["underlying"]),
            quote=str(raw["quote"]),
            settle=str(raw["settle"]),
            multiplier=positive(raw["multiplier"], "multiplier"),
            tick_size=positive(raw["tick_size"], "tick_size"),
            tick_bands=bands,
            step_size=positive(raw["step_size"], "step_size"),
            maker_fee=D(raw["maker_fee"], "maker_fee"),
            taker_fee=non_negative(raw["taker_fee"], "taker_fee"),
            fee_cap=positive(raw["fee_cap"], "fee_cap"),
            liquidation_fee=non_negative(raw["liquidation_fee"], "liquidation_fee"),
            a=positive(raw["a"], "a"),
            b=positive(raw["b"], "b"),
            c=positive(raw["c"], "c"),
            min_order_margin=non_negative(raw["min_order_margin"], "min_order_margin"),
            tiers=tiers,
            symbol_style=str(raw["symbol_style"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        detail = exc.message if isinstance(exc, MarginError) else f"{type(exc).__name__}: {exc}"
        raise MarginError("bad_venue_data", f"{venue} {name}: {detail}") from None
    where = f"{venue} {name}"
    for i, row in enumerate(fam.tiers, start=1):
        if row.tier != i:
            raise MarginError("bad_venue_data", f"{where}: tiers must be numbered 1, 2, …")
        if i > 1:
            prev = fam.tiers[i - 2]
            if prev.max_contracts is None or (
                row.max_contracts is not None and row.max_contracts <= prev.max_contracts
            ):
                raise MarginError("bad_venue_data", f"{where}: tier {i}'s bound must be above tier {i - 1}'s")
            if row.margin_factor < prev.margin_factor:
                raise MarginError("bad_venue_data", f"{where}: tier {i}'s margin factor is below tier {i - 1}'s")
    if not fam.tiers or fam.tiers[-1].max_contracts is not None:
        raise MarginError("bad_venue_data", f"{where}: the last tier must be unbounded")
    if fam.tick_size != min(b.tick for b in fam.tick_bands) or fam.tick_bands[-1].up_to is not None:
        raise MarginError("bad_venue_data", f"{where}: tick_size must be the finest band's and the last band open")
    if fam.symbol_style not in ("okx", "binance"):
        raise MarginError("bad_venue_data", f"{where}: unknown symbol style {fam.symbol_style!r}")
    if fam.symbol_style == "okx" and name != f"{fam.underlying}-{fam.quote}":
        raise MarginError("bad_venue_data", f"{where}: an OKX family is underlying-quote")
    return fam


def option_families(venue: str) -> tuple[str, ...]:
    """The family names of `venue` ("BTC-USD", "ETH-USD" on okx; "BTCUSDT" on binance)."""
    families = _load().get(venue.strip().lower())
    if families is None:
        raise UnknownOptionFamily(f"no option families for venue {venue!r} (known: {', '.join(_load())})")
    return tuple(families)


def option_family(venue: str, family: str) -> OptionFamily:
    """One family by venue and name; an `UnknownOptionFamily` (a KeyError) saying what exists when either is
    unknown."""
    families = _load().get(venue.strip().lower())
    if families is None:
        raise UnknownOptionFamily(f"no option families for venue {venue!r} (known: {', '.join(_load())})")
    fam = families.get(family.strip().upper())
    if fam is None:
        raise UnknownOptionFamily(f"{venue} has no option family {family!r} (known: {', '.join(families)})")
    return fam


def expiry_ms_of(yymmdd: str) -> int:
    """08:00 UTC of the date YYMMDD, in milliseconds; a ValueError if it is no date."""
    day = datetime.strptime(yymmdd, "%y%m%d").replace(tzinfo=UTC)
    return int(day.timestamp()) * 1000 + EXPIRY_HOUR_UTC * MS_PER_HOUR


def parse_symbol(symbol: str) -> tuple[str, int, Decimal, OptionKind]:
    """(family, expiry in ms at 08:00 UTC, strike, kind) of an OKX (BTC-USD-261225-100000-C) or Binance
    (BTC-261225-100000-C, family BTCUSDT) option symbol; a ValueError for anything else."""
    if not isinstance(symbol, str) or len(symbol) > MAX_SYMBOL_CHARS or not symbol.isascii():
        raise ValueError(f"not an option symbol: {symbol!r}")
    okx = _OKX.fullmatch(symbol)
    if okx:
        family, day, strike, kind = f"{okx[1]}-{okx[2]}", okx[3], okx[4], okx[5]
    else:
        bn = _BINANCE.fullmatch(symbol)
        if not bn:
            raise ValueError(f"not an option symbol (UND-QUOTE-YYMMDD-STRIKE-C|P or UND-YYMMDD-STRIKE-C|P): {symbol!r}")
        family, day, strike, kind = f"{bn[1]}USDT", bn[2], bn[3], bn[4]
    try:
        expiry = expiry_ms_of(day)
    except ValueError:
        raise ValueError(f"{symbol!r}: {day} is not a date (YYMMDD)") from None
    k = Decimal(strike)
    if k <= 0:
        raise ValueError(f"{symbol!r}: the strike must be positive")
    return family, expiry, k, OptionKind(kind)


__all__ = [
    "EXPIRY_HOUR_UTC",
    "OptionFamily",
    "OptionKind",
    "OptionTier",
    "TickBand",
    "UnknownOptionFamily",
    "expiry_ms_of",
    "option_families",
    "option_family",
    "parse_symbol",
]
