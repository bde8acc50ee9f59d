"""Instruments: a venue's symbol spec compiled once into the integers the hot path works in.

Book prices are ticks and sizes lots; `to_ticks`/`to_lots` refuse values off the grid instead of rounding them,
so a client always learns its number was not tradable. A fill's notional in quanta is exactly lots × ticks ×
`tick_k`; at an off-grid price (a mark, in price points) `value_down`/`value_up` round it once, to the side the
caller says. The maintenance and leverage tables become integer schedules; `Grid` is the immutable part events
carry to turn their integers back into Decimals.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Final

from isomargin.engine.units import (
    MAX_MAGNITUDE,
    PRICE_POINTS,
    QUANTA,
    Rate,
    div_up,
    money,
    quotient,
    ratio_of,
    scaled,
)
from isomargin.margin import ContractKind, MMBasis, TierBasis, TierTable
from isomargin.margin.numbers import MONEY
from isomargin.venues import SymbolSpec, VenueProfile

MAX_LEVERAGE: Final = 1000  # above any venue's tier tables; leverage is a whole number 1..this


class Grid:
    """How one instrument's integers read as Decimals: ticks → price, lots → quantity (immutable)."""

    __slots__ = ("_qm", "_qx", "_tm", "_tx", "inverse", "settle", "spec", "step", "symbol", "tick")

    def __init__(self, symbol: str, settle: str, tick: Decimal, step: Decimal, inverse: bool = False) -> None:
        self.symbol = symbol
        self.settle = settle
        self.tick = tick
        self.step = step
        self.inverse = inverse  # coin-margined: a cost in quanta is the coin value, the average is size / cost
        t = tick.as_tuple()
        s = step.as_tuple()
        assert isinstance(t.exponent, int) and isinstance(s.exponent, int)
        self._tm = int(tick.scaleb(-t.exponent))
        self._tx = t.exponent
        self._qm = int(step.scaleb(-s.exponent))
        self._qx = s.exponent
        # What the journal codec writes for this grid (a linear grid's spelling is unchanged by the inverse flag).
        self.spec = f"{symbol}|{settle}|{tick}|{step}" + ("|inverse" if inverse else "")

    def price(self, ticks: int) -> Decimal:
        return Decimal(f"{ticks * self._tm}E{self._tx}")

    def qty(self, lots: int) -> Decimal:
        return Decimal(f"{lots * self._qm}E{self._qx}")

    def average(self, cost: int, lots: int) -> Decimal:
        """The average price of `lots` (> 0) that cost `cost` quanta: cost / size for a linear contract; for an
        inverse one the cost is the coin value, so the average is the harmonic mean size / cost (Binance's)."""
        if self.inverse:
            return quotient(self.qty(lots), money(cost))
        return quotient(money(cost), self.qty(lots))

    def exact_average(self, cost: int, lots: int, xnum: int, xden: int) -> Decimal:
        """The average price of `lots` (> 0), from an inverse position's exact coin cost xnum / xden quanta when it
        has one: size / (Σ face / price) to 34 digits, so fills at one price average to exactly that price (the
        money `cost` is rounded per fill). Linear, or without an exact cost (xnum = 0): `average`."""
        if not self.inverse or xnum <= 0:
            return self.average(cost, lots)
        # size × xden / xnum quanta, with size = lots × qm × 10^qx and a quantum = 10⁻¹⁰: built exactly as one
        # Decimal (an integer and an exponent) and divided once in the MONEY context.
        return quotient(Decimal(f"{lots * self._qm * xden}E{self._qx + 10}"), Decimal(xnum))

    @classmethod
    def parse(cls, spec: str) -> Grid:
        parts = spec.split("|")
        if len(parts) == 5 and parts[4] == "inverse":
            return cls(parts[0], parts[1], Decimal(parts[2]), Decimal(parts[3]), True)
        symbol, settle, tick, step = parts
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
        "expiry",
        "fee_in_mm",
        "grid",
        "inverse",
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
        "pv_den",
        "pv_num",
        "settle",
        "spec",
        "step",
        "symbol",
        "taker_fee",
        "tick",
        "tick_k",
        "tick_pp",
        "tv_den",
        "tv_num",
        "value_down",
        "value_up",
        "vsign",
    )

    value_down: Callable[[int, int], int]  # picked once per instrument (linear or inverse), see below
    value_up: Callable[[int, int], int]

    def __init__(
        self, profile: VenueProfile, spec: SymbolSpec, maker_fee: Decimal, taker_fee: Decimal, price_band: Decimal,
        expiry: int | None = None,
    ) -> None:  # fmt: skip
        self.profile = profile
        self.spec = spec
        self.symbol = spec.symbol
        self.settle = spec.settle
        self.kind = spec.kind
        self.inverse = inverse = spec.kind is ContractKind.INVERSE
        # +1 linear, −1 inverse: the sign of d(value)/d(price). A position gains when its value moves in the
        # direction of sign × vsign (an inverse long gains as its coin value falls), so every PnL below is
        # "value − cost" for sign × vsign > 0 and "cost − value" otherwise.
        self.vsign = -1 if inverse else 1
        self.expiry = expiry  # dated futures: delivery time (ms, as commands carry it); None for a perpetual
        self.tick = spec.tick_size
        self.step = spec.step_size
        self.grid = Grid(spec.symbol, spec.settle, self.tick, self.step, inverse)
        tick_pp = scaled(self.tick, PRICE_POINTS)
        with localcontext(MONEY):
            tick_k = scaled(self.tick * self.step, QUANTA)
        if spec.kind is not ContractKind.LINEAR and not inverse:
            raise ValueError(f"{spec.symbol}: unknown contract kind {spec.kind!r}")
        if not tick_pp or (not tick_k and not inverse):
            raise ValueError(f"{spec.symbol}: tick {self.tick} must be a multiple of 1e-8 and tick × step "
                             f"({self.tick} × {self.step}) a multiple of 1e-10")  # fmt: skip
        self.tick_pp = tick_pp
        # Quanta per lot per tick (linear). An inverse fill's value is not a product (face / price), so its
        # tick_k is 0: a linear-only formula that reached an inverse instrument would value it at nothing, which
        # every conservation and margin test notices at once, instead of at a plausible wrong number.
        self.tick_k = 0 if inverse else (tick_k or 0)
        # Inverse valuation: lots × step (face, quote units) / price, in coin quanta, is lots × tv / ticks at a
        # book price and lots × pv / points at a mark (tv = step·10¹⁰/tick, pv = step·10¹⁰·10⁸, exact ratios).
        tv = Fraction(self.step) * QUANTA / Fraction(self.tick)
        pv = Fraction(self.step) * QUANTA * PRICE_POINTS
        self.tv_num, self.tv_den = tv.numerator, tv.denominator
        self.pv_num, self.pv_den = pv.numerator, pv.denominator
        if inverse:
            self.value_down = self._inverse_down
            self.value_up = self._inverse_up
        else:
            self.value_down = self._linear_down
            self.value_up = self._linear_up
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
    # `value_down`/`value_up(lots, points)`: the notional (quanta of the settle asset) of `lots` at a price in
    # points, rounded down/up. Linear: lots × step × price, growing with the price. Inverse: lots × step / price
    # (face value over price: coin), *falling* as the price rises, and only defined at a positive price.
    def _linear_down(self, lots: int, points: int) -> int:
        return lots * points * self.mark_num // self.mark_den

    def _linear_up(self, lots: int, points: int) -> int:
        return div_up(lots * points * self.mark_num, self.mark_den)

    def _inverse_down(self, lots: int, points: int) -> int:
        return lots * self.pv_num // (points * self.pv_den)

    def _inverse_up(self, lots: int, points: int) -> int:
        return div_up(lots * self.pv_num, points * self.pv_den)

    def at_ticks(self, lots: int, ticks: int, side: int) -> int:
        """The notional (quanta) one party books for a fill of `lots` at a book price, by its side (+1 buys, −1
        sells). Linear: exactly lots × ticks × tick_k for both. Inverse: lots × step / price is rarely a whole
        number of quanta, so it rounds once, against the party: the buyer books the lower amount and the seller
        the higher (the venue keeps the quantum between them, see `Positions`). Why those directions: a buyer
        either opens a long, whose later PnL (cost − exit value) falls with a lower cost, or closes a short, whose
        PnL (exit value − cost) falls with a lower exit value; a seller mirrors both with the higher amount."""
        if not self.inverse:
            return lots * ticks * self.tick_k
        n = lots * self.tv_num
        d = ticks * self.tv_den
        return n // d if side > 0 else -(-n // d)

    def fee_base(self, lots: int, ticks: int) -> int:
        """What a fee on a fill at a book price is charged on: the exact notional (linear), or the inverse value
        rounded up, so a fee rounded up from it is never below the exact rate × value."""
        if not self.inverse:
            return lots * ticks * self.tick_k
        return -(-(lots * self.tv_num) // (ticks * self.tv_den))

    def loss(self, lots: int, sign: int, entry: int, mark: int) -> int:
        """What `lots` held on side `sign` (+1 long) entered at `entry` lose marked at `mark` (both in points), in
        quanta rounded up; 0 when they gain. Linear: lots × step × the adverse gap. Inverse: the difference of
        the coin values (an inverse long loses value(mark) − value(entry) when the price falls)."""
        if not self.inverse:
            gap = sign * (entry - mark)
            return self._linear_up(lots, gap) if gap > 0 else 0
        if sign > 0:
            loss = self._inverse_up(lots, mark) - self._inverse_down(lots, entry)
        else:
            loss = self._inverse_up(lots, entry) - self._inverse_down(lots, mark)
        return loss if loss > 0 else 0

    def entry_points(self, lots: int, cost: int) -> int:
        """The average entry price of `lots` that cost `cost` quanta, in points, rounded down (at least 1)."""
        if self.inverse:
            return lots * self.pv_num // (cost * self.pv_den) if cost > 0 else 1
        return cost * self.mark_den // (lots * self.mark_num) or 1

    def entry(self, lots: int, cost: int, xnum: int = 0, xden: int = 1) -> Decimal:
        """The exact average entry (34 digits) of `lots` > 0 that cost `cost` quanta: cost / size, or for an inverse
        contract the harmonic mean size / cost (total face over total coin value, as Binance averages) — from the
        position's exact coin cost xnum / xden quanta when given (`Position.xnum`), so the entry a user sees and
        the one the liquidation price is solved from are the same (one fill at 60,000: exactly 60,000)."""
        if self.inverse:
            if xnum > 0:
                return self.grid.exact_average(cost, lots, xnum, xden)
            return MONEY.divide(self.qty(lots), money(cost))
        return MONEY.divide(money(cost), self.qty(lots))

    def notional_at(self, size: Decimal, price: Decimal) -> Decimal:
        """Exact notional (settle asset, 34 digits) of a size at a price: size × price, or size / price (inverse)."""
        if self.inverse:
            return MONEY.divide(size, price)
        return MONEY.multiply(size, price)

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
