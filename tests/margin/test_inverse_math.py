"""Inverse (coin-margined) pure functions: hand-derived numbers, and properties on every venue profile that lists
inverse symbols (binancecoinm today).

Binance's COIN-M liquidation-price FAQ (https://www.binance.com/en/support/faq/ceccfcfb4e3a45e3b48b0b1bb1a8ae46,
2021-02-05) defines the liquidation price from WB (wallet balance; the isolated margin in isolated mode, where
TMM = UPNL = 0), cum_B, Side_B, B (contracts), EP_B, MMR_B and CM (contract size). Its condition is
equity = maintenance margin in BTC: WB + Side·B·CM·(1/EP − 1/LP) = B·CM/LP·MMR − cum, which solves to
LP = B·CM·(MMR + Side) / (WB + cum + Side·B·CM/EP), with the bracket that holds at the LP's coin notional
B·CM/LP (the FAQ: "if the position notional at the liquidation price and the assumed level differ, substitute the
other level's rate and amount and recalculate"). Every expected number below is worked from that by hand.
"""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isomargin.margin import (
    ContractKind,
    MarginError,
    Side,
    average_entry,
    coin_notional,
    contracts_of,
    equity_at,
    face_value,
    harmonic_entry,
    inverse_bankruptcy_price,
    inverse_maintenance_margin,
    inverse_pnl,
    maintenance_at,
)
from isomargin.margin.numbers import MONEY
from isomargin.venues import VENUES, get_profile

COINM = get_profile("binancecoinm")
BTCUSD = COINM.spec("BTCUSD_PERP")
INVERSE = [(v, s) for v in VENUES for s in get_profile(v).inverse_symbols()]


def test_contracts_and_face_value() -> None:
    assert face_value(10, 100) == 1000  # 10 BTCUSD contracts = 1,000 USD face
    assert contracts_of("1000", "100") == 10
    with pytest.raises(MarginError, match="not_whole_contracts"):
        contracts_of("1050", "100")
    with pytest.raises(MarginError, match="not_whole_contracts"):
        face_value("2.5", "100")
    assert coin_notional("1000", "50000") == D("0.02")


def test_10x_btcusd_perp_long_by_hand() -> None:
    # 10 contracts × 100 USD = Q 1,000 USD at EP 50,000: notional 1,000/50,000 = 0.02 BTC (bracket 1: ≤ 10 BTC,
    # MMR 0.4 %, cum 0). 10×: WB = 0.02/10 = 0.002 BTC.
    # LP = 1,000·(0.004 + 1)/(0.002 + 0 + 1,000/50,000) = 1,004/0.022 = 45,636.3636…  (notional there 0.0219 BTC,
    # still bracket 1). Bankruptcy: 1,000/(0.002 + 0.02) = 1,000/0.022 = 45,454.5454…
    q = COINM.liquidation_price(BTCUSD, Side.LONG, "1000", "50000", "0.002")
    assert q.exact == MONEY.divide(D(1004), D("0.022"))
    assert q.bankruptcy == inverse_bankruptcy_price(Side.LONG, "1000", "50000", "0.002")
    assert q.bankruptcy == MONEY.divide(D(1000), D("0.022"))
    assert q.tier == 1 and q.maintenance_margin == D("0.00008")  # 0.02 BTC × 0.4 % at entry


def test_10x_btcusd_perp_short_by_hand() -> None:
    # Side −1: LP = 1,000·(0.004 − 1)/(0.002 + 0 − 0.02) = −996/−0.018 = 55,333.3333…
    # Bankruptcy: 1,000/(−0.002 + 0.02) = 1,000/0.018 = 55,555.5555…
    q = COINM.liquidation_price(BTCUSD, Side.SHORT, "1000", "50000", "0.002")
    assert q.exact == MONEY.divide(D(996), D("0.018"))
    assert q.bankruptcy == MONEY.divide(D(1000), D("0.018"))


def test_the_bracket_at_the_liquidation_price_applies() -> None:
    # 25,000 contracts = Q 2,500,000 USD long at 50,000: notional 50 BTC, bracket 4 (30–50 BTC: 2.5 %, cum 0.56,
    # max 20×). 10×: WB = 5 BTC. With bracket 4: LP = 2,500,000·1.025/(5 + 0.56 + 50) = 46,121.3…, where the
    # notional is 2,500,000/46,121.3 = 54.2 BTC > 50, so bracket 4 does not hold there. Bracket 5 (50–100 BTC: 5 %,
    # cum 1.81): LP = 2,500,000·1.05/(5 + 1.81 + 50) = 2,625,000/56.81 = 46,206.65…, notional 54.1 BTC: it holds.
    q = COINM.liquidation_price(BTCUSD, Side.LONG, "2500000", "50000", "5")
    assert q.exact == MONEY.divide(D(2625000), D("56.81"))
    assert q.tier == 4  # at entry (the quote's mark defaults to entry); MM there 50 × 2.5 % − 0.56 = 0.69 BTC
    assert q.maintenance_margin == D("0.69")


def test_inverse_maintenance_margin_by_hand() -> None:
    t = BTCUSD.table
    # FAQ example: 100 contracts at mark 25,000: 0.4 BTC × 0.4 % = 0.0016 BTC.
    assert inverse_maintenance_margin("10000", "25000", t) == D("0.0016")
    # 300 BTC of notional (Q 15,000,000 at 50,000): bracket 7, 300 × 12.5 % − 11.81 = 25.69 BTC.
    assert inverse_maintenance_margin("15000000", "50000", t) == D("25.69")
    # The taker fee added to the rate (OKX's convention): 0.4 BTC × (0.4 % + 0.05 %) = 0.0018 BTC.
    assert inverse_maintenance_margin("10000", "25000", t, "0.0005") == D("0.0018")


def test_inverse_pnl_and_harmonic_entry_by_hand() -> None:
    # Long 10 contracts (1,000 USD) from 50,000 to 40,000: 1,000·(1/50,000 − 1/40,000) = 0.02 − 0.025 = −0.005 BTC.
    assert inverse_pnl(Side.LONG, "1000", "50000", "40000") == D("-0.005")
    # 10,000 USD at 40,000 (0.25 BTC) + 10,000 USD at 60,000 (0.1666… BTC): 20,000/(5/12) = 48,000 exactly.
    assert harmonic_entry([("10000", "40000"), ("10000", "60000")]) == 48000
    assert average_entry(ContractKind.INVERSE, "10000", "40000", "10000", "60000") == 48000
    assert average_entry(ContractKind.LINEAR, "1", "40000", "1", "60000") == 50000
    assert average_entry(ContractKind.INVERSE, "0", "0", "100", "61000") == 61000
    with pytest.raises(MarginError, match="no_fills"):
        harmonic_entry([])


faces = st.integers(1, 100_000).map(lambda n: D(n) * 100)
fills = st.lists(
    st.tuples(faces, st.integers(1_000, 2_000_000).map(lambda c: D(c) / 10)),
    min_size=1,
    max_size=6,
)


@given(fills, st.integers(1_000, 2_000_000).map(lambda c: D(c) / 10))
def test_pnl_at_the_harmonic_entry_is_the_sum_of_the_fills_pnl(parts: list[tuple[D, D]], exit_price: D) -> None:
    entry = harmonic_entry(parts)
    total = sum((q for q, _ in parts), D(0))
    exact = sum((Fraction(q) * (1 / Fraction(p) - 1 / Fraction(exit_price)) for q, p in parts), Fraction(0))
    got = Fraction(inverse_pnl(Side.LONG, total, entry, exit_price))
    assert abs(got - exact) <= Fraction(total) / Fraction(exit_price) * Fraction(1, 10**28)


@given(
    spec=st.sampled_from(INVERSE),
    side=st.sampled_from([Side.LONG, Side.SHORT]),
    contracts=st.integers(1, 200_000),
    entry_e1=st.integers(1_000, 2_000_000),
    leverage_pick=st.integers(1, 125),
    extra_pct=st.integers(0, 50),
)
def test_equity_equals_maintenance_at_the_inverse_liquidation_price(
    spec: tuple[str, str], side: Side, contracts: int, entry_e1: int, leverage_pick: int, extra_pct: int
) -> None:
    profile = get_profile(spec[0])
    symbol = profile.spec(spec[1])
    face = face_value(contracts, symbol.contract_size)
    entry = D(entry_e1) / 10
    value = coin_notional(face, entry)
    max_lev = symbol.table.tier_at(symbol.table.size_of(face, value)).max_leverage
    leverage = min(D(leverage_pick), max_lev)
    with localcontext(MONEY):
        margin = value / leverage * (100 + extra_pct) / 100
    q = profile.liquidation_price(symbol, side, face, entry, margin)
    leg = profile.leg(symbol, side, face, entry)
    bust = inverse_bankruptcy_price(side, face, entry, margin)
    if bust is not None:  # the margin is used up exactly at the bankruptcy price
        assert abs(equity_at([leg], margin, bust)) <= value * D("1E-25")
    if q.exact is None:  # only a short margined at (or above) its whole notional escapes
        assert side is Side.SHORT and margin >= value
        return
    lp = q.exact
    with localcontext(MONEY):
        gap = equity_at([leg], margin, lp) - maintenance_at([leg], lp)
        leg_mm = leg.maintenance_at(lp)
    assert abs(gap) <= value * D("1E-24")
    # The pure function agrees with the solver's leg on the maintenance margin there, tier for tier.
    assert inverse_maintenance_margin(face, lp, symbol.table, leg.fee_rate) == leg_mm
    # The liquidation price lies between entry and bankruptcy, on the adverse side.
    if side is Side.LONG:
        assert bust is not None and bust < lp < entry
    else:
        assert entry < lp and (bust is None or lp < bust)
