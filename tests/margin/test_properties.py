"""Hypothesis invariants of the liquidation math over random tier tables, sides, kinds and sizes.

At the liquidation price equity equals maintenance margin (and a hair beyond it, in the adverse
direction, equity is below it); at the bankruptcy price equity is zero; margin moves the price the
right way; more leverage never moves it farther away.
"""

from decimal import Decimal, localcontext

from hypothesis import assume, given
from hypothesis import strategies as st

from isomargin.margin import (
    ContractKind,
    MMBasis,
    Side,
    TierTable,
    bankruptcy_price,
    equity_at,
    liquidation_price_cross,
    liquidation_price_isolated,
    maintenance_at,
    make_leg,
)
from isomargin.margin.numbers import MONEY


@st.composite
def tables(draw: st.DrawFn) -> TierTable:
    """Random valid cumulative tables: rising caps, non-falling rates, falling max leverage."""
    n = draw(st.integers(1, 6))
    floor = Decimal(0)
    rate = Decimal(draw(st.integers(1, 20))) / 1000  # 0.1 % … 2 %
    rows = []
    for i in range(n):
        cap = None if i == n - 1 else floor + Decimal(draw(st.integers(1, 5_000))) * 1000
        max_lev = min(Decimal(125), (1 / rate).to_integral_value(rounding="ROUND_FLOOR"))
        rows.append((floor, cap, rate, max_lev))
        if cap is not None:
            floor = cap
            rate = min(rate + Decimal(draw(st.integers(0, 30))) / 1000, Decimal("0.5"))
    return TierTable.from_rates(rows)


sides = st.sampled_from([Side.LONG, Side.SHORT])
kinds = st.sampled_from([ContractKind.LINEAR, ContractKind.INVERSE])
bases = st.sampled_from([MMBasis.MARK, MMBasis.ENTRY])
prices = st.integers(1, 200_000_00).map(lambda c: Decimal(c) / 100)
sizes = st.integers(1, 5_000_000).map(lambda c: Decimal(c) / 1000)
leverages = st.integers(1, 125).map(Decimal)


def margin_for(kind: ContractKind, size: Decimal, entry: Decimal, leverage: Decimal) -> Decimal:
    value = size * entry if kind is ContractKind.LINEAR else size / entry
    with localcontext(MONEY):
        return value / leverage


@given(tables(), sides, kinds, bases, sizes, prices, leverages, st.integers(0, 30))
def test_equity_equals_maintenance_at_the_liquidation_price(
    table: TierTable,
    side: Side,
    kind: ContractKind,
    basis: MMBasis,
    size: Decimal,
    entry: Decimal,
    leverage: Decimal,
    fee_bp: int,
) -> None:
    fee = Decimal(fee_bp) / 10000
    margin = margin_for(kind, size, entry, leverage)
    lp = liquidation_price_isolated(side, size, entry, margin, table, kind, basis, fee)
    leg = make_leg(side, size, entry, table, kind, basis, fee)
    if lp is None:
        # Only a long can escape liquidation (linear: margin covers the notional; inverse short likewise).
        tiny = entry / 10**9
        assert equity_at([leg], margin, tiny) >= maintenance_at([leg], tiny) or side is Side.SHORT
        return
    assert lp > 0
    # A position a rounding hair short of full cover (inverse short at 1×) has its root near infinity, where
    # 34 digits cannot resolve the two sides; such prices mean "never" to anyone.
    assume(lp < entry * 10**6)
    with localcontext(MONEY):
        gap = equity_at([leg], margin, lp) - maintenance_at([leg], lp)
        scale = margin + size * entry if kind is ContractKind.LINEAR else margin + size / entry
        assert abs(gap) <= scale * Decimal("1e-25")
        # One part in a million past it (adverse side) equity is short; as far on the safe side it is not.
        worse, better = (lp * Decimal("0.999999"), lp * Decimal("1.000001"))
        if side is Side.SHORT:
            worse, better = better, worse
        assert equity_at([leg], margin, worse) < maintenance_at([leg], worse)
        assert equity_at([leg], margin, better) > maintenance_at([leg], better)


@given(sides, kinds, sizes, prices, leverages)
def test_equity_is_zero_at_the_bankruptcy_price(
    side: Side, kind: ContractKind, size: Decimal, entry: Decimal, leverage: Decimal
) -> None:
    margin = margin_for(kind, size, entry, leverage)
    bp = bankruptcy_price(side, size, entry, margin, kind)
    leg = make_leg(side, size, entry, TierTable.flat("0.005", "100"), kind)
    if bp is None:
        assert side is Side.LONG if kind is ContractKind.LINEAR else side is Side.SHORT
        return
    with localcontext(MONEY):
        assert abs(equity_at([leg], margin, bp)) <= (margin + 1) * Decimal("1e-25")


@given(tables(), sides, kinds, bases, sizes, prices, leverages, st.integers(1, 10_000))
def test_adding_margin_moves_liquidation_away(
    table: TierTable,
    side: Side,
    kind: ContractKind,
    basis: MMBasis,
    size: Decimal,
    entry: Decimal,
    leverage: Decimal,
    extra_pct: int,
) -> None:
    margin = margin_for(kind, size, entry, leverage)
    extra = margin * extra_pct / 1000
    before = liquidation_price_isolated(side, size, entry, margin, table, kind, basis)
    after = liquidation_price_isolated(side, size, entry, margin + extra, table, kind, basis)
    assume(before is not None)
    assert before is not None
    # None after means it can no longer be liquidated at all: a linear long, or an inverse short, fully covered.
    if after is None:
        assert side is Side.LONG if kind is ContractKind.LINEAR else side is Side.SHORT
    elif side is Side.LONG:
        assert after < before
    else:
        assert after > before


@given(tables(), sides, kinds, bases, sizes, prices, leverages, leverages)
def test_higher_leverage_never_moves_liquidation_farther(
    table: TierTable,
    side: Side,
    kind: ContractKind,
    basis: MMBasis,
    size: Decimal,
    entry: Decimal,
    lev_a: Decimal,
    lev_b: Decimal,
) -> None:
    low, high = sorted((lev_a, lev_b))
    at_low = liquidation_price_isolated(side, size, entry, margin_for(kind, size, entry, low), table, kind, basis)
    at_high = liquidation_price_isolated(side, size, entry, margin_for(kind, size, entry, high), table, kind, basis)
    if at_low is None:  # fully covered at the lower leverage: any liquidation price at higher leverage is closer
        return
    assert at_high is not None
    assert at_high >= at_low if side is Side.LONG else at_high <= at_low


@given(tables(), sizes, prices, prices, st.integers(1, 10_000_000))
def test_cross_hedged_legs_solve_to_a_boundary(
    table: TierTable, size: Decimal, entry_long: Decimal, entry_short: Decimal, wallet_units: int
) -> None:
    # Two legs of one symbol in cross: whatever root is reported, equity equals total maintenance there.
    wallet = Decimal(wallet_units) / 10
    legs = [make_leg(Side.LONG, size * 2, entry_long, table), make_leg(Side.SHORT, size, entry_short, table)]
    lp = liquidation_price_cross(legs, wallet)
    if lp is None:
        return
    with localcontext(MONEY):
        gap = equity_at(legs, wallet, lp) - maintenance_at(legs, lp)
        assert abs(gap) <= (wallet + size * (entry_long + entry_short) * 3) * Decimal("1e-24")
