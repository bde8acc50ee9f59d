"""A venue profile: the data and the few switches that make one venue's margin numbers differ.

Switches: maintenance on mark or entry value, taker fee added to the maintenance rate (OKX),
ratio convention, partial-liquidation rule, alert thresholds, liquidation-price rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from isomargin.margin import (
    ContractKind,
    Leg,
    MarginError,
    MMBasis,
    Side,
    TierTable,
    bankruptcy_price,
    maintenance_margin_ratio,
    make_leg,
    margin_ratio,
    notional,
    round_down,
    round_up,
    solve_liquidation_price,
)
from isomargin.margin.numbers import ZERO, D, exact, non_negative


class RatioConvention(StrEnum):
    """How a venue states account health."""

    MM_OVER_BALANCE = "mm_over_balance"  # Binance/Bybit "margin ratio": liquidation at ≥ 1
    BALANCE_OVER_MM = "balance_over_mm"  # OKX "maintenance margin ratio": liquidation at ≤ 1


@dataclass(frozen=True, slots=True)
class PartialRule:
    """How a venue liquidates large positions before closing them outright.

    tier_step: reduce the position until it sits `tiers_down` tiers lower, for tiers ≥ `from_tier` (OKX).
    slice: close `fraction` of the position per step while its notional is ≥ `min_notional` (Hyperliquid).
    none: always liquidate the whole position.
    """

    rule: str = "none"
    tiers_down: int = 0
    from_tier: int = 0
    fraction: Decimal = ZERO
    min_notional: Decimal = ZERO

    def target_tier(self, tier: int) -> int | None:
        """Tier a partial liquidation reduces to, or None when the whole position goes."""
        if self.rule == "tier_step" and tier >= self.from_tier:
            return max(tier - self.tiers_down, 1)
        return None

    def slice_fraction(self, notional_value: Decimal) -> Decimal | None:
        """Fraction to close in one step, or None when the whole position goes."""
        if self.rule == "slice" and notional_value >= self.min_notional:
            return self.fraction
        return None


@dataclass(frozen=True, slots=True)
class Alerts:
    """Margin-call thresholds in the venue's own ratio convention (None: the venue sends none)."""

    warning: Decimal | None = None
    cancel_orders: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One instrument on one venue: its sizes, tick, tier table and liquidation fee."""

    symbol: str
    venue_symbol: str
    table: TierTable
    kind: ContractKind = ContractKind.LINEAR
    settle: str = "USDT"
    contract_size: Decimal = Decimal(1)
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.001")
    min_notional: Decimal = ZERO
    liquidation_fee_rate: Decimal = ZERO
    source: str = ""
    expiry_ms: int | None = None  # dated futures: delivery time (ms since the epoch, UTC); None for perpetuals
    delivery: str = ""  # how a dated future settles, from the venue data

    @property
    def inverse(self) -> bool:
        """Coin-margined: size is face value in USD (contracts × contract size), margin and PnL in the coin."""
        return self.kind is ContractKind.INVERSE


@dataclass(frozen=True, slots=True)
class LiquidationQuote:
    """A liquidation price as the venue shows it (`price`) and exactly (`exact`), with its neighbours."""

    exact: Decimal | None
    price: Decimal | None
    bankruptcy: Decimal | None
    tier: int
    maintenance_margin: Decimal  # at the mark price asked about
    rate: Decimal  # maintenance rate used at that mark, fee included where the venue adds it


@dataclass(frozen=True)
class VenueProfile:
    """Everything that makes one venue's margin numbers its own."""

    name: str
    title: str
    docs: str
    mm_basis: MMBasis = MMBasis.MARK
    fee_in_maintenance: bool = False
    ratio: RatioConvention = RatioConvention.MM_OVER_BALANCE
    partial: PartialRule = field(default_factory=PartialRule)
    alerts: Alerts = field(default_factory=Alerts)
    rounds_liquidation: bool = False
    keeps_remainder: bool = False  # after a liquidation the trader keeps leftover margin (else the fund takes it)
    taker_fee: Decimal = ZERO
    maker_fee: Decimal = ZERO
    symbols: Mapping[str, SymbolSpec] = field(default_factory=dict)
    formula: str = ""

    # -- symbols ------------------------------------------------------------------------------------
    def spec(self, symbol: str) -> SymbolSpec:
        key = symbol.strip().upper()
        for spec in self.symbols.values():
            if key in (spec.symbol, spec.venue_symbol.upper()):
                return spec
        known = ", ".join(sorted(self.symbols)) or "none"
        raise MarginError("unknown_symbol", f"{self.name} has no symbol {symbol!r} (known: {known})")

    def inverse_symbols(self) -> dict[str, SymbolSpec]:
        """This venue's coin-margined (inverse) instruments, perpetual and dated, by symbol."""
        return {name: spec for name, spec in self.symbols.items() if spec.inverse}

    def linear_symbols(self) -> dict[str, SymbolSpec]:
        """This venue's linear (quote-margined) instruments, by symbol."""
        return {name: spec for name, spec in self.symbols.items() if not spec.inverse}

    # -- the venue's numbers ------------------------------------------------------------------------
    def leg(self, spec: SymbolSpec, side: Side, size: object, entry: object, taker_fee: object = None) -> Leg:
        fee = self._fee(taker_fee) if self.fee_in_maintenance else ZERO
        return make_leg(side, size, entry, spec.table, spec.kind, self.mm_basis, fee)

    def _fee(self, taker_fee: object) -> Decimal:
        return self.taker_fee if taker_fee is None else non_negative(taker_fee, "taker fee")

    @exact
    def maintenance_margin(
        self, spec: SymbolSpec, side: Side, size: object, entry: object, mark: object, taker_fee: object = None
    ) -> Decimal:
        """MM at `mark` (or at entry value where the venue charges it there), fee included where added."""
        return self.leg(spec, side, size, entry, taker_fee).maintenance_at(D(mark, "mark"))

    @exact
    def liquidation_price(
        self,
        spec: SymbolSpec,
        side: Side,
        size: object,
        entry: object,
        margin: object,
        mark: object | None = None,
        taker_fee: object = None,
    ) -> LiquidationQuote:
        """Isolated liquidation price with the tier that holds at that price; rounded as the venue rounds."""
        leg = self.leg(spec, side, size, entry, taker_fee)
        m = non_negative(margin, "margin")
        exact_price = solve_liquidation_price([leg], m)
        at = D(mark, "mark") if mark is not None else leg.entry
        tier = leg.tier_at(at)
        return LiquidationQuote(
            exact=exact_price,
            price=self.display_price(spec, side, exact_price),
            bankruptcy=bankruptcy_price(side, leg.size, leg.entry, m, spec.kind),
            tier=tier.tier,
            maintenance_margin=leg.maintenance_at(at),
            rate=tier.mmr + leg.fee_rate,
        )

    def display_price(self, spec: SymbolSpec, side: Side, price: Decimal | None) -> Decimal | None:
        """Round against the trader (long up, short down) to the tick, only where the venue does."""
        if price is None or not self.rounds_liquidation:
            return price
        return round_up(price, spec.tick_size) if side is Side.LONG else round_down(price, spec.tick_size)

    @exact
    def liquidation_fee(self, spec: SymbolSpec, notional_value: object) -> Decimal:
        """Fee charged on liquidated notional (to the insurance fund)."""
        return non_negative(notional_value, "notional") * spec.liquidation_fee_rate

    @exact
    def health(self, balance: object, maintenance: object, liquidation_fee: object = ZERO) -> Decimal:
        """The venue's own margin ratio (see RatioConvention)."""
        if self.ratio is RatioConvention.BALANCE_OVER_MM:
            return maintenance_margin_ratio(balance, maintenance, liquidation_fee)
        return margin_ratio(maintenance, balance)

    def is_liquidatable(self, ratio: Decimal) -> bool:
        if self.ratio is RatioConvention.BALANCE_OVER_MM:
            return ratio <= 1
        return ratio >= 1

    def alert_level(self, ratio: Decimal) -> str:
        """'liquidate', 'cancel_orders', 'warning' or 'ok' for a ratio in this venue's convention."""
        if self.is_liquidatable(ratio):
            return "liquidate"
        if self._past(ratio, self.alerts.cancel_orders, inclusive=True):
            return "cancel_orders"
        if self._past(ratio, self.alerts.warning, inclusive=False):
            return "warning"
        return "ok"

    def _past(self, ratio: Decimal, threshold: Decimal | None, inclusive: bool) -> bool:
        """OKX words it so: a warning *below* 300 %, orders cancelled *at or below* 100 %."""
        if threshold is None:
            return False
        if self.ratio is RatioConvention.BALANCE_OVER_MM:
            return ratio <= threshold if inclusive else ratio < threshold
        return ratio >= threshold if inclusive else ratio > threshold

    def check_order(self, spec: SymbolSpec, size: Decimal, price: Decimal, leverage: Decimal) -> None:
        """Leverage within the tier that holds the position's size (what venues check at order time)."""
        value = notional(size, price, spec.kind)
        spec.table.check_leverage(leverage, spec.table.size_of(size, value))
