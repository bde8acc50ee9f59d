"""Tiered maintenance margin: tier tables, look-up, the maintenance amount and its recurrence.

A tier covers floor ≤ size ≤ cap (the first matching tier wins at a shared edge). With a cumulative
deduction, MM = size × rate − maintenance amount and the amounts obey
cum_n = floor_n · (rate_n − rate_{n−1}) + cum_{n−1}, which makes MM continuous across tiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from isomargin.margin.errors import MarginError
from isomargin.margin.numbers import ONE, ZERO, D, exact, non_negative, positive


class TierBasis(StrEnum):
    """What selects the tier: the position's notional value, or its number of contracts (OKX)."""

    NOTIONAL = "notional"
    CONTRACTS = "contracts"


class Deduction(StrEnum):
    """How the maintenance amount is set: by the recurrence, not at all, or given as-is by a user."""

    CUMULATIVE = "cumulative"
    NONE = "none"
    GIVEN = "given"


@dataclass(frozen=True, slots=True)
class Tier:
    """One row of a tier table. `cap` None means unbounded."""

    tier: int
    floor: Decimal
    cap: Decimal | None
    mmr: Decimal
    max_leverage: Decimal
    maint_amount: Decimal = ZERO

    def holds(self, size: Decimal) -> bool:
        return self.floor <= size and (self.cap is None or size <= self.cap)


@dataclass(frozen=True)
class TierTable:
    """A validated tier table. Construct through `TierTable(...)`, `from_rows`, `from_rates` or `flat`."""

    tiers: tuple[Tier, ...]
    basis: TierBasis = TierBasis.NOTIONAL
    deduction: Deduction = Deduction.CUMULATIVE
    contract_size: Decimal = ONE

    def __post_init__(self) -> None:
        validate(self)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_rows(
        cls,
        rows: Iterable[dict[str, object]],
        basis: TierBasis = TierBasis.NOTIONAL,
        deduction: Deduction = Deduction.CUMULATIVE,
        contract_size: object = "1",
    ) -> TierTable:
        """Build from mappings with tier/floor/cap/mmr/max_leverage/maint_amount (data files)."""
        tiers = []
        for row in rows:
            cap = row.get("cap")
            tiers.append(
                Tier(
                    tier=int(str(row["tier"])),
                    floor=D(row["floor"], "floor"),
                    cap=None if cap is None else D(cap, "cap"),
                    mmr=D(row["mmr"], "mmr"),
                    max_leverage=D(row["max_leverage"], "max_leverage"),
                    maint_amount=D(row.get("maint_amount", "0"), "maint_amount"),
                )
            )
        return cls(tuple(tiers), basis, deduction, positive(contract_size, "contract_size"))

    @classmethod
    @exact
    def from_rates(
        cls,
        rows: Sequence[tuple[object, object | None, object, object]],
        basis: TierBasis = TierBasis.NOTIONAL,
        contract_size: object = "1",
    ) -> TierTable:
        """Build a cumulative table from (floor, cap, mmr, max_leverage), deriving every maintenance amount."""
        tiers: list[Tier] = []
        cum = ZERO
        prev_rate = ZERO
        for n, (floor, cap, mmr, lev) in enumerate(rows, start=1):
            f, rate = D(floor, "floor"), D(mmr, "mmr")
            cum = f * (rate - prev_rate) + cum if n > 1 else ZERO
            tiers.append(Tier(n, f, None if cap is None else D(cap, "cap"), rate, D(lev, "max_leverage"), cum))
            prev_rate = rate
        return cls(tuple(tiers), basis, Deduction.CUMULATIVE, positive(contract_size, "contract_size"))

    @classmethod
    def flat(cls, mmr: object, max_leverage: object = "125", maint_amount: object = "0") -> TierTable:
        """One rate for every size (the `simple` venue, dYdX, or a user's explicit --mmr/--cum)."""
        amount = non_negative(maint_amount, "maintenance amount")
        deduction = Deduction.GIVEN if amount else Deduction.CUMULATIVE
        tier = Tier(1, ZERO, None, D(mmr, "mmr"), D(max_leverage, "max_leverage"), amount)
        return cls((tier,), TierBasis.NOTIONAL, deduction)

    # -- look-ups -----------------------------------------------------------------------------------
    def size_of(self, base_size: Decimal, notional_value: Decimal) -> Decimal:
        """The quantity this table is keyed on, for a position of `base_size` worth `notional_value`."""
        if self.basis is TierBasis.NOTIONAL:
            return notional_value
        return base_size / self.contract_size

    def tier_for(self, size: object) -> Tier:
        """The tier holding `size` (notional or contracts, per `basis`); above the last cap is refused."""
        s = non_negative(size, "size")
        for tier in self.tiers:
            if tier.holds(s):
                return tier
        raise MarginError(
            "above_max_tier",
            f"size {s} exceeds the largest tier's cap {self.tiers[-1].cap}; the venue does not allow it",
        )

    def tier_at(self, size: Decimal) -> Tier:
        """Like `tier_for`, but past the last cap the last tier goes on applying.

        A price move can carry an existing position's value past the table's cap; its maintenance margin
        must still be defined there (only new orders are refused above the cap).
        """
        for tier in self.tiers:
            if tier.holds(size):
                return tier
        return self.tiers[-1]

    @exact
    def maintenance_margin(self, notional_value: object, size: object | None = None) -> Decimal:
        """MM for a position worth `notional_value`; `size` selects the tier when basis is contracts."""
        value = non_negative(notional_value, "notional")
        tier = self.tier_for(value if size is None else size)
        return max(value * tier.mmr - tier.maint_amount, ZERO)

    def max_leverage(self, size: object) -> Decimal:
        """The highest leverage allowed for a position of `size` (per basis)."""
        return self.tier_for(size).max_leverage

    def check_leverage(self, leverage: object, size: object) -> Decimal:
        """Validate leverage against the tier that holds `size`; returns it as a Decimal."""
        lev = positive(leverage, "leverage")
        tier = self.tier_for(size)
        if lev > tier.max_leverage:
            raise MarginError(
                "leverage_above_tier_max",
                f"leverage {lev} exceeds the maximum {tier.max_leverage} of tier {tier.tier} for size {size}",
            )
        return lev


@exact
def cumulative_amount(floor: Decimal, rate: Decimal, prev_rate: Decimal, prev_amount: Decimal) -> Decimal:
    """The maintenance-amount recurrence: cum_n = floor_n·(rate_n − rate_{n−1}) + cum_{n−1}."""
    return floor * (rate - prev_rate) + prev_amount


@exact
def validate(table: TierTable) -> None:
    """Reject tables that are not contiguous, not monotone, or break the recurrence."""
    tiers = table.tiers
    if not tiers:
        raise MarginError("bad_tiers", "a tier table needs at least one tier")
    prev: Tier | None = None
    for i, t in enumerate(tiers, start=1):
        where = f"tier {t.tier}"
        if t.tier != i:
            raise MarginError("bad_tiers", f"tiers must be numbered 1..n in order; found {t.tier} at {i}")
        if not (ZERO < t.mmr < ONE):
            raise MarginError("bad_tiers", f"{where}: maintenance rate {t.mmr} must be between 0 and 1")
        if t.max_leverage < 1:
            raise MarginError("bad_tiers", f"{where}: max leverage {t.max_leverage} must be at least 1")
        if t.mmr > 1 / t.max_leverage:
            raise MarginError(
                "bad_tiers", f"{where}: maintenance rate {t.mmr} exceeds the initial rate 1/{t.max_leverage}"
            )
        if t.cap is not None and t.cap <= t.floor:
            raise MarginError("bad_tiers", f"{where}: cap {t.cap} must exceed floor {t.floor}")
        if prev is None:
            if t.floor != 0:
                raise MarginError("bad_tiers", f"{where}: the first tier must start at 0, not {t.floor}")
        else:
            if prev.cap is None or t.floor != prev.cap:
                raise MarginError("bad_tiers", f"{where}: floor {t.floor} must equal the previous cap {prev.cap}")
            if t.mmr < prev.mmr:
                raise MarginError("bad_tiers", f"{where}: maintenance rate must not fall as size grows")
            if t.max_leverage > prev.max_leverage:
                raise MarginError("bad_tiers", f"{where}: max leverage must not rise as size grows")
        if table.deduction is Deduction.CUMULATIVE:
            expected = ZERO if prev is None else cumulative_amount(t.floor, t.mmr, prev.mmr, prev.maint_amount)
            if t.maint_amount != expected:
                raise MarginError(
                    "bad_tiers",
                    f"{where}: maintenance amount {t.maint_amount} breaks cum_n = floor_n·(rate_n − rate_n−1)"
                    f" + cum_n−1 (expected {expected})",
                )
        elif table.deduction is Deduction.NONE and t.maint_amount != 0:
            raise MarginError("bad_tiers", f"{where}: a table without deduction must have maintenance amount 0")
        elif table.deduction is Deduction.GIVEN and len(tiers) != 1:
            raise MarginError("bad_tiers", "a given maintenance amount is only allowed on a one-tier table")
        prev = t
