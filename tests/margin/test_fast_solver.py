"""The single-leg fast path of `solve_liquidation_price` gives exactly the general piecewise solver's answer.

For one linear leg whose equity − MM is monotone (every venue table here, alerts' scales included), the solver
stops at the first tier piece holding the root instead of building them all; the engine solves this on every
isolated position change. Property: same Decimal, digit for digit, as the general solver, over every venue's
tables, both sides, sizes across tiers, margins from thin to more than the notional, and alert scales.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isomargin.margin import Side, make_leg, solve_liquidation_price
from isomargin.margin.liquidation import _monotone, _pick, _roots
from isomargin.margin.numbers import MONEY
from isomargin.venues import VENUES, get_profile

# The fast path is for linear legs; inverse (coin-margined) legs always take the general solver.
SPECS = [(name, symbol) for name in VENUES for symbol in get_profile(name).linear_symbols()]
INVERSE_SPECS = [(name, symbol) for name in VENUES for symbol in get_profile(name).inverse_symbols()]


def general(leg: object, base: Decimal, scale: Decimal) -> Decimal | None:
    from decimal import localcontext

    with localcontext(MONEY):
        return _pick(_roots([leg], base, True, scale), leg.side * leg.size)  # type: ignore[list-item, attr-defined]


@given(
    spec=st.sampled_from(SPECS),
    side=st.sampled_from([Side.LONG, Side.SHORT]),
    size_e3=st.integers(1, 5_000_000),  # 0.001 .. 5,000 base units: across every tier of the big tables
    entry_e1=st.integers(10, 2_000_000),  # 1.0 .. 200,000.0
    margin_pct=st.integers(1, 150),  # isolated margin as % of notional: thin to over-collateralised
    scale=st.sampled_from(["1", "3", "1.25", "1.1111111111111111111111111"]),
)
def test_fast_path_equals_the_general_solver(
    spec: tuple[str, str], side: Side, size_e3: int, entry_e1: int, margin_pct: int, scale: str
) -> None:
    profile = get_profile(spec[0])
    symbol = profile.spec(spec[1])
    size, entry = Decimal(size_e3) / 1000, Decimal(entry_e1) / 10
    margin = size * entry * margin_pct / 100
    fee = profile.taker_fee if profile.fee_in_maintenance else Decimal(0)
    leg = make_leg(side, size, entry, symbol.table, symbol.kind, profile.mm_basis, fee)
    s = Decimal(scale)
    assert solve_liquidation_price([leg], margin, mm_scale=s) == general(leg, margin, s)


@pytest.mark.parametrize(("venue", "symbol"), SPECS)
def test_every_venue_table_takes_the_fast_path(venue: str, symbol: str) -> None:
    """The fast path is not dead code: every stored table is monotone at scale 1 (and the solver uses it)."""
    profile = get_profile(venue)
    spec = profile.spec(symbol)
    leg = make_leg(Side.LONG, "1", "100", spec.table, spec.kind, profile.mm_basis)
    table = spec.table
    continuous = table.deduction.value != "none" or len(table.tiers) == 1
    not_by_price = profile.mm_basis.value == "entry" or table.basis.value != "notional"
    assert _monotone(leg, Decimal(1)) is (continuous or not_by_price)


@pytest.mark.parametrize(("venue", "symbol"), INVERSE_SPECS)
def test_inverse_tables_never_take_the_linear_fast_path(venue: str, symbol: str) -> None:
    profile = get_profile(venue)
    spec = profile.spec(symbol)
    leg = make_leg(Side.LONG, "100", "100", spec.table, spec.kind, profile.mm_basis)
    assert _monotone(leg, Decimal(1)) is False


def test_a_root_on_a_breakpoint_is_found_once() -> None:
    """Binance BTCUSDT: a long whose liquidation price sits exactly on the 50,000-notional bracket edge (1 BTC at
    LP 50,000, bracket 1: 0.4 %, cum 0): margin = 50,000·(1 − 0.004) − … solved by hand: equity − MM at P is
    M + (P − E) − 0.004·P; with E = 55,000 and P = 50,000: M = 5,000 + 200 = 5,200."""
    profile = get_profile("binance")
    spec = profile.spec("BTCUSDT")
    leg = make_leg(Side.LONG, "1", "55000", spec.table, spec.kind, profile.mm_basis)
    assert solve_liquidation_price([leg], "5200") == 50000 == general(leg, Decimal(5200), Decimal(1))
