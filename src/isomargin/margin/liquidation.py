"""Liquidation and bankruptcy prices, solved exactly over tier breakpoints.

Equity minus maintenance margin is piecewise linear in the price P (linear contracts) or in 1/P
(inverse), with pieces where a leg's tier changes. Each piece is solved in closed form and only a
root inside its own piece counts, which is Binance's rule: use the tier that holds *at* that price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from isomargin.margin.contract import ContractKind, Side
from isomargin.margin.errors import MarginError
from isomargin.margin.numbers import ONE, ZERO, D, exact, non_negative, positive
from isomargin.margin.tiers import Deduction, Tier, TierBasis, TierTable


class MMBasis(StrEnum):
    """Whether maintenance margin is charged on the mark value (most venues) or the entry value (Bybit)."""

    MARK = "mark"
    ENTRY = "entry"


@dataclass(frozen=True, slots=True)
class Leg:
    """One position leg as the solver sees it. `size` is base units (linear) or face value (inverse)."""

    side: Side
    size: Decimal
    entry: Decimal
    table: TierTable
    kind: ContractKind = ContractKind.LINEAR
    mm_basis: MMBasis = MMBasis.MARK
    fee_rate: Decimal = ZERO  # added to the maintenance rate (OKX counts the liquidation fee)

    def notional_at(self, price: Decimal) -> Decimal:
        return self.size * price if self.kind is ContractKind.LINEAR else self.size / price

    def tier_at(self, price: Decimal) -> Tier:
        basis_price = self.entry if self.mm_basis is MMBasis.ENTRY else price
        value = self.notional_at(basis_price)
        return self.table.tier_at(self.table.size_of(self.size, value))

    def pnl_at(self, price: Decimal) -> Decimal:
        if self.kind is ContractKind.LINEAR:
            return self.side * self.size * (price - self.entry)
        return self.side * self.size * (1 / self.entry - 1 / price)

    def maintenance_at(self, price: Decimal) -> Decimal:
        basis_price = self.entry if self.mm_basis is MMBasis.ENTRY else price
        tier = self.tier_at(price)
        return self.notional_at(basis_price) * (tier.mmr + self.fee_rate) - tier.maint_amount


def make_leg(
    side: Side,
    size: object,
    entry: object,
    table: TierTable,
    kind: ContractKind = ContractKind.LINEAR,
    mm_basis: MMBasis = MMBasis.MARK,
    fee_rate: object = ZERO,
) -> Leg:
    """Validated constructor for `Leg`."""
    return Leg(
        side,
        positive(size, "size"),
        positive(entry, "entry price"),
        table,
        kind,
        mm_basis,
        non_negative(fee_rate, "fee rate"),
    )


@exact
def equity_at(legs: Sequence[Leg], base: Decimal, price: Decimal) -> Decimal:
    """Collateral `base` plus every leg's PnL at `price`."""
    return base + sum((leg.pnl_at(price) for leg in legs), ZERO)


@exact
def maintenance_at(legs: Sequence[Leg], price: Decimal) -> Decimal:
    """Total maintenance margin of `legs` at `price`."""
    return sum((leg.maintenance_at(price) for leg in legs), ZERO)


def _x_of(kind: ContractKind, price: Decimal) -> Decimal:
    return price if kind is ContractKind.LINEAR else 1 / price


def _piece(
    legs: Sequence[Leg], base: Decimal, x_rep: Decimal, with_mm: bool, scale: Decimal = ONE
) -> tuple[Decimal, Decimal]:
    """Coefficients (A, B) of f(x) = A + B·x (equity − scale·MM) on the piece containing x_rep."""
    a, b = base, ZERO
    for leg in legs:
        s, q = leg.side, leg.size
        if leg.kind is ContractKind.LINEAR:
            a -= s * q * leg.entry
            b += s * q
        else:
            a += s * q / leg.entry
            b -= s * q
        if not with_mm:
            continue
        price = x_rep if leg.kind is ContractKind.LINEAR else 1 / x_rep
        tier = leg.tier_at(price)
        rate = (tier.mmr + leg.fee_rate) * scale
        amount = tier.maint_amount * scale
        if leg.mm_basis is MMBasis.ENTRY:
            a -= leg.notional_at(leg.entry) * rate - amount
        else:
            a += amount
            b -= q * rate
    return a, b


def _breakpoints(legs: Sequence[Leg], with_mm: bool) -> list[Decimal]:
    """x values where some leg's tier changes (tier caps over size); sorted, positive, unique."""
    points: set[Decimal] = set()
    if with_mm:
        for leg in legs:
            table = leg.table
            if leg.mm_basis is MMBasis.ENTRY or table.basis is TierBasis.CONTRACTS:
                continue
            for tier in table.tiers[:-1]:
                assert tier.cap is not None  # validated: only the last tier may be unbounded
                points.add(tier.cap / leg.size)
    return sorted(points)


def _roots(legs: Sequence[Leg], base: Decimal, with_mm: bool, scale: Decimal = ONE) -> list[tuple[Decimal, int]]:
    """All prices where f changes sign, each with the sign of df/dP there (+1 rising, −1 falling)."""
    kinds = {leg.kind for leg in legs}
    if len(kinds) != 1:
        raise MarginError("mixed_kinds", "linear and inverse legs cannot share one liquidation price")
    kind = legs[0].kind
    linear = kind is ContractKind.LINEAR
    points = _breakpoints(legs, with_mm)
    edges = [ZERO, *points]
    roots: list[tuple[Decimal, int]] = []  # (price, sign of df/dP); x = 1/P for inverse, so signs flip
    prev_right: Decimal | None = None  # f just right of the previous breakpoint
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        a, b = _piece(legs, base, _rep(lo, hi), with_mm, scale)
        if prev_right is not None:  # a jump across the breakpoint lo (tables without deduction)
            left_val = a + b * lo
            if (prev_right < 0 < left_val) or (left_val < 0 < prev_right):
                rising = 1 if left_val > prev_right else -1
                roots.append((lo, rising) if linear else (1 / lo, -rising))
        x = _in_piece(a, b, lo, hi)
        if x is not None:
            # Inverse: P = −b/a straight from the coefficients, so the price is rounded once, not twice.
            roots.append((x, 1 if b > 0 else -1) if linear else (-b / a, -1 if b > 0 else 1))
        prev_right = a + b * hi if hi is not None else None
    roots.sort()
    return roots


def _monotone(leg: Leg, scale: Decimal) -> bool:
    """Is equity − scale·MM of this single leg strictly monotone and continuous in price? True for a linear leg
    whose every tier rate (fee included, scaled) is below 1, on a table whose MM has no jumps: one tier, tiers not
    keyed by price (entry basis, contracts), or Binance's cumulative maintenance amounts."""
    table = leg.table
    if leg.kind is not ContractKind.LINEAR:
        return False
    if any((tier.mmr + leg.fee_rate) * scale >= ONE for tier in table.tiers):
        return False
    keyed_by_price = leg.mm_basis is MMBasis.MARK and table.basis is TierBasis.NOTIONAL and len(table.tiers) > 1
    return not keyed_by_price or table.deduction is not Deduction.NONE


def _single_leg(leg: Leg, base: Decimal, scale: Decimal) -> Decimal | None:
    """The one root of a monotone single leg (see `_monotone`), found piece by piece from the lowest price: the
    same candidate roots, computed with the same arithmetic, as `_roots`, without building every piece."""
    table = leg.table
    caps = []
    if leg.mm_basis is MMBasis.MARK and table.basis is TierBasis.NOTIONAL:
        caps = [tier.cap / leg.size for tier in table.tiers[:-1] if tier.cap is not None]
    edges = [ZERO, *caps]
    for i in range(len(edges)):
        x = _piece_root(leg, base, scale, edges, i)
        if x is None:
            continue
        # Exactly one root exists; rounding at a breakpoint could give the next piece one too, which the general
        # solver would also see and weigh: look there before answering.
        nxt = _piece_root(leg, base, scale, edges, i + 1) if i + 1 < len(edges) else None
        if nxt is None:
            return x
        return max(x, nxt) if leg.side > 0 else min(x, nxt)
    return None


def _piece_root(leg: Leg, base: Decimal, scale: Decimal, edges: list[Decimal], i: int) -> Decimal | None:
    lo = edges[i]
    hi = edges[i + 1] if i + 1 < len(edges) else None
    a, b = _piece([leg], base, _rep(lo, hi), True, scale)
    return _in_piece(a, b, lo, hi)


def _rep(lo: Decimal, hi: Decimal | None) -> Decimal:
    """A price strictly inside the piece (lo, hi]: where its tiers are read."""
    return (lo + hi) / 2 if hi is not None else (lo * 2 if lo > 0 else Decimal(1))


def _in_piece(a: Decimal, b: Decimal, lo: Decimal, hi: Decimal | None) -> Decimal | None:
    """The root −a/b of f = a + b·x if it lies in the piece (lo, hi], else None."""
    if b != 0 and a != 0:
        x = -a / b
        if x > lo and (hi is None or x <= hi):
            return x
    return None


def _pick(roots: list[tuple[Decimal, int]], net: Decimal) -> Decimal | None:
    """The liquidation boundary on the adverse side of the net exposure."""
    rising = [p for p, d in roots if d > 0]  # below it equity < MM: where a long dies
    falling = [p for p, d in roots if d < 0]  # above it equity < MM: where a short dies
    if net > 0:
        return rising[-1] if rising else None
    if net < 0:
        return falling[0] if falling else None
    if falling:
        return falling[0]
    return rising[-1] if rising else None


@exact
def solve_liquidation_price(
    legs: Sequence[Leg], base: object, with_mm: bool = True, mm_scale: object = ONE
) -> Decimal | None:
    """Price where `base` + Σ PnL equals Σ maintenance margin × `mm_scale` (or zero when with_mm is False).

    `base` is everything that does not move with this symbol's price: isolated margin, or for cross the
    wallet minus other symbols' maintenance plus their unrealised PnL. None when no such price exists.
    `mm_scale` turns a ratio threshold into a price: OKX's 300 % warning is equity = 3 × (MM + fee).
    """
    if not legs:
        raise MarginError("no_position", "a liquidation price needs at least one position leg")
    scale = positive(mm_scale, "mm scale")
    if with_mm and len(legs) == 1 and _monotone(legs[0], scale):
        return _single_leg(legs[0], D(base, "base"), scale)
    roots = _roots(legs, D(base, "base"), with_mm, scale)
    net = sum((leg.side * leg.size for leg in legs), ZERO)
    return _pick(roots, net)


@exact
def liquidation_price_isolated(
    side: Side,
    size: object,
    entry: object,
    margin: object,
    table: TierTable,
    kind: ContractKind = ContractKind.LINEAR,
    mm_basis: MMBasis = MMBasis.MARK,
    fee_rate: object = ZERO,
) -> Decimal | None:
    """Isolated position: where its margin plus PnL equals its maintenance margin; None if never."""
    leg = make_leg(side, size, entry, table, kind, mm_basis, fee_rate)
    return solve_liquidation_price([leg], non_negative(margin, "margin"))


@exact
def liquidation_price_cross(
    legs: Sequence[Leg], wallet: object, other_maintenance: object = ZERO, other_pnl: object = ZERO
) -> Decimal | None:
    """Cross position(s) of one symbol: the wallet backs them, less what other symbols need.

    Binance's form: LP solves WB − TMM₁ + UPNL₁ + Σ PnL(P) = Σ MM(P), where TMM₁ and UPNL₁ are the
    maintenance margin and unrealised PnL of every *other* cross position.
    """
    base = D(wallet, "wallet") - non_negative(other_maintenance, "other maintenance") + D(other_pnl, "other pnl")
    return solve_liquidation_price(legs, base)


@exact
def bankruptcy_price(
    side: Side, size: object, entry: object, margin: object, kind: ContractKind = ContractKind.LINEAR
) -> Decimal | None:
    """Price where an isolated position's margin is exactly used up; None if it cannot be reached."""
    q = positive(size, "size")
    e = positive(entry, "entry price")
    m = non_negative(margin, "margin")
    if kind is ContractKind.LINEAR:
        price = e - side * m / q  # M + s·q·(P − E) = 0
        return price if price > 0 else None
    denom = side * m + q / e  # M + s·q·(1/E − 1/P) = 0  →  P = q / (s·M + q/E)
    return q / denom if denom > 0 else None
