"""Instruments: a venue's symbol spec compiled once into the integers the hot path works in.

Book prices are ticks and sizes lots; `to_ticks`/`to_lots` refuse values off the grid instead of rounding them,
so a client always learns its number was not tradable. A fill's notional in quanta is exactly lots × ticks ×
`tick_k`; at an off-grid price (a mark, in price points) `value_down`/`value_up` round it once, to the side the
caller says. The maintenance and leverage tables become integer schedules; `Grid` is the immutable part events
carry to turn their integers back into Decimals.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Final

from isomargin.engine.units import MAX_MAGNITUDE, PRICE_POINTS, QUANTA, Rate, div_up, ratio_of, scaled
from isomargin.margin import ContractKind, MMBasis, TierBasis, TierTable
from isomargin.margin.numbers import MONEY
from isomargin.venues import SymbolSpec, VenueProfile

MAX_LEVERAGE: Final = 1000  # above any venue's tier tables; leverage is a whole number 1..this


class Grid:
    """How one instrument's integers read as Decimals: ticks → price, lots → quantity (immutable)."""

    __slots__ = ("_qm", "_qx", "_tm", "_tx", "settle", "spec", "step", "symbol", "tick")

    def __init__(self, symbol: str, settle: str, tick: Decimal, step: Decimal) -> None:
        self.symbol = symbol
        self.settle = settle
        self.tick = tick
        self.step = step
        t = tick.as_tuple()
        s = step.as_tuple()
        assert isinstance(t.exponent, int) and isinstance(s.exponent, int)
        self._tm = int(tick.scaleb(-t.exponent))
        self._tx = t.exponent
        self._qm = int(step.scaleb(-s.exponent))
        self._qx = s.exponent
        self.spec = f"{symbol}|{settle}|{tick}|{step}"  # what the journal codec writes for this grid

    def price(self, ticks: int) -> Decimal:
        return Decimal(f"{ticks * self._tm}E{self._tx}")

    def qty(self, lots: int) -> Decimal:
        return Decimal(f"{lots * self._qm}E{self._qx}")

    @classmethod
    def parse(cls, spec: str) -> Grid:
        symbol, settle, tick, step = spec.split("|")
        return cls(symbol, settle, Decimal(tick), Decimal(step))

    def __repr__(self) -> str:
        return f"Grid({self.spec})"


class Schedule:
    """One tier table in integers: each tier's cap (quanta of notional, or lots for a contracts table), its
    maintenance rate (the taker fee added where the venue adds it), maintenance amount (quanta) and max leverage."""

    __slots__ = ("by_lots", "caps", "cums", "levs", "max_rate", "rates")

    def __init__(self, table: TierTable, step: Decimal, fee: Decimal) -> None:
        self.by_lots = table.basis is TierBasis.CONTRACTS
        caps: list[int | None] = []
        for tier in table.tiers:
            if tier.cap is None:
                caps.append(None)
            elif self.by_lots:  # size ≤ cap contracts ⇔ lots ≤ ⌊cap × contract size / step⌋
                with localcontext(MONEY):
                    caps.append(int((tier.cap * table.contract_size / step).to_integral_value(rounding=ROUND_FLOOR)))
            else:
                caps.append(_quanta(tier.cap))
        self.caps = caps
        self.rates = [Rate(tier.mmr + fee) for tier in table.tiers]
        self.cums = [_quanta(tier.maint_amount) for tier in table.tiers]
        self.levs = [tier.max_leverage for tier in table.tiers]
        self.max_rate = max(self.rates, key=lambda r: Fraction(r.num, r.den))

    def index(self, lots: int, value: int) -> int:
        """Index of the tier that holds a position of `lots` worth `value` quanta; past the last cap, the last."""
        size = lots if self.by_lots else value
        caps = self.caps
        for i, cap in enumerate(caps):
            if cap is None or size <= cap:
                return i
        return len(caps) - 1

    def maintenance(self, lots: int, value: int) -> int:
        """Maintenance margin (quanta, rounded up) of `lots` whose notional on the venue's basis is `value`."""
        i = self.index(lots, value)
        return max(self.rates[i].up(value) - self.cums[i], 0)

    def leverage_cap(self, leverage: int) -> tuple[bool, int | None]:
        """(allowed at all, the largest size — quanta or lots — a position may reach at `leverage`; None = any)."""
        cap: int | None = None
        allowed = False
        for lev, tier_cap in zip(self.levs, self.caps, strict=True):
            if lev < leverage:
                break
            allowed = True
            cap = tier_cap
        return allowed, cap


def _quanta(value: Decimal) -> int:
    n = scaled(value, QUANTA)
    if n is None:
        raise ValueError(f"{value} is not a whole number of money quanta (10^-10)")
    return n


class Instrument:
    """A listed market's fixed parameters (immutable once listed)."""

    __slots__ = (
        "_sden",
        "_snum",
        "_tden",
        "_tnum",
        "band",
        "fee_in_mm",
        "grid",
        "kind",
        "lev_caps",
        "liq_fee",
        "maker_fee",
        "mark_den",
        "mark_num",
        "max_lots",
        "max_ticks",
        "min_notional",
        "mm",
        "mm_on_entry",
        "price_band",
        "profile",
        "settle",
        "spec",
        "step",
        "symbol",
        "taker_fee",
        "tick",
        "tick_k",
        "tick_pp",
    )

    def __init__(
        self, profile: VenueProfile, spec: SymbolSpec, maker_fee: Decimal, taker_fee: Decimal, price_band: Decimal
    ) -> None:
        self.profile = profile
        self.spec = spec
        self.symbol = spec.symbol
        self.settle = spec.settle
        self.kind = spec.kind
        self.tick = spec.tick_size
        self.step = spec.step_size
        self.grid = Grid(spec.symbol, spec.settle, self.tick, self.step)
        tick_pp = scaled(self.tick, PRICE_POINTS)
        with localcontext(MONEY):
            tick_k = scaled(self.tick * self.step, QUANTA)
        if not tick_pp or not tick_k or spec.kind is not ContractKind.LINEAR:
            raise ValueError(f"{spec.symbol}: tick {self.tick} must be a multiple of 1e-8 and tick × step "
                             f"({self.tick} × {self.step}) a multiple of 1e-10")  # fmt: skip
        self.tick_pp = tick_pp
        self.tick_k = tick_k  # price points per tick; quanta per lot per tick
        self.mark_num, self.mark_den = _mark_ratio(self.step)
        self._tnum, self._tden = self.tick.as_integer_ratio()
        self._snum, self._sden = self.step.as_integer_ratio()
        self.max_ticks = MAX_MAGNITUDE * PRICE_POINTS // tick_pp
        self.max_lots = div_up(MAX_MAGNITUDE * self._sden, self._snum)  # lots × step < 10¹² ⇔ lots < this
        self.min_notional = _quanta_ceil(spec.min_notional)
        self.maker_fee = Rate(maker_fee)
        self.taker_fee = Rate(taker_fee)
        self.price_band = price_band
        self.band = Rate(price_band)
        self.liq_fee = Rate(spec.liquidation_fee_rate)
        self.fee_in_mm = profile.fee_in_maintenance
        self.mm_on_entry = profile.mm_basis is MMBasis.ENTRY
        self.mm = Schedule(spec.table, self.step, taker_fee if self.fee_in_mm else Decimal(0))
        self.lev_caps: dict[int, tuple[bool, int | None]] = {}

    # -- notionals -----------------------------------------------------------------------------------
    def value_down(self, lots: int, points: int) -> int:
        """Notional (quanta) of `lots` at a price in points, rounded down."""
        return lots * points * self.mark_num // self.mark_den

    def value_up(self, lots: int, points: int) -> int:
        """Notional (quanta) of `lots` at a price in points, rounded up."""
        return div_up(lots * points * self.mark_num, self.mark_den)

    # -- the grid ------------------------------------------------------------------------------------
    def to_ticks(self, value: object) -> int | None:
        """Ticks of a positive on-grid price within bounds, else None."""
        r = ratio_of(value)
        if r is None:
            return None
        num, den = r
        n = num * self._tden
        d = den * self._tnum
        if n <= 0 or n % d:
            return None
        ticks = n // d
        return ticks if ticks < self.max_ticks else None

    def to_lots(self, value: object) -> int | None:
        """Lots of a positive on-grid quantity within bounds, else None."""
        r = ratio_of(value)
        if r is None:
            return None
        num, den = r
        n = num * self._sden
        d = den * self._snum
        if n <= 0 or n % d:
            return None
        lots = n // d
        return lots if lots < self.max_lots else None

    def price(self, ticks: int) -> Decimal:
        return self.grid.price(ticks)

    def qty(self, lots: int) -> Decimal:
        return self.grid.qty(lots)

    # -- leverage tiers --------------------------------------------------------------------------------
    def leverage_cap(self, leverage: int) -> tuple[bool, int | None]:
        """Cached `Schedule.leverage_cap` against the venue's own table (fees play no part in leverage)."""
        cap = self.lev_caps.get(leverage)
        if cap is None:
            cap = self.lev_caps[leverage] = self.mm.leverage_cap(leverage)
        return cap

    def leverage_ok(self, leverage: int, lots: int, value: int) -> bool:
        """May a position of `lots` worth `value` quanta (at the order's price) be held at `leverage`?"""
        allowed, cap = self.leverage_cap(leverage)
        if not allowed:
            return False
        if cap is None:
            return True
        return (lots if self.mm.by_lots else value) <= cap


def _quanta_ceil(value: Decimal) -> int:
    r = ratio_of(value)
    assert r is not None
    return div_up(r[0] * QUANTA, r[1])


def _mark_ratio(step: Decimal) -> tuple[int, int]:
    """(num, den): the notional in quanta of one lot at one price point is num / den (step × 10¹⁰ / 10⁸)."""
    f = Fraction(step) * QUANTA / PRICE_POINTS
    return f.numerator, f.denominator
