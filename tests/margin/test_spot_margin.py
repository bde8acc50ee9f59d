"""Spot isolated margin math against numbers worked out by hand: the seed's (003) OKX short example, the seed's
two position tables built from the trades that make them, Binance's margin-level prices and interest examples,
and Hypothesis properties (the ratio is 1 at OKX's liquidation price, the level is the target at `level_price`,
borrowing the maximum leaves exactly the borrow level, interest only ever rounds up)."""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from isomargin.margin import MarginError, Side
from isomargin.margin.numbers import MONEY
from isomargin.margin.spot import (
    INTEREST_QUANTUM,
    AccountingMode,
    SpotAccountState,
    SpotAsset,
    borrow_level_of,
    hourly_interest,
    hours_charged,
    interest_over,
    level_price,
    margin_level,
    max_borrowable,
    net_assets,
    okx_liquidation_fee,
    okx_liquidation_price,
    okx_maintenance,
    okx_margin_ratio,
    position_view,
)

# The seed's OKX example: a short BTC/USDT with USDT margin holding 3,299,800 USDT, owing 110 BTC + 0.5 BTC
# interest, at mark 29,000 with a 0.01 % taker fee and a 4 % MMR.
SEED_SHORT = SpotAccountState(quote_assets=D(3299800), base_liability=D(110), base_interest=D("0.5"))
MMR, TAKER = D("0.04"), D("0.0001")


def test_seed_okx_short_example() -> None:
    # Owed 110.5 BTC × 29,000 = 3,204,500 USDT. Net assets 3,299,800 − 3,204,500 = 95,300.
    # MM = 3,204,500 × 4 % = 128,180. Fee = 3,204,500 × 1.04 × 0.01 % = 333.268 (the seed shows 333.27).
    # Ratio = 95,300 / 128,513.268 = 0.74155… (the seed's 74.16 %): at or below 100 %, so liquidation.
    assert net_assets(SEED_SHORT, 29000) == 95300
    assert okx_maintenance(SEED_SHORT, 29000, MMR) == 128180
    assert okx_liquidation_fee(SEED_SHORT, 29000, MMR, TAKER) == D("333.268")
    ratio = okx_margin_ratio(SEED_SHORT, 29000, MMR, TAKER)
    assert ratio == MONEY.divide(D(95300), D("128513.268"))
    assert ratio is not None and round(ratio * 100, 2) == D("74.16")
    # At the seed's earlier mark 19,500 (owed 2,154,750): net 1,145,050 over 86,190 + 224.094 = 13.25… (1,325 %).
    assert okx_margin_ratio(SEED_SHORT, 19500, MMR, TAKER) == MONEY.divide(D(1145050), D("86414.094"))


def test_seed_okx_short_liquidation_price() -> None:
    # Short (QL = BA = 0): p = QA / (BLt × 1.04 × 1.0001) = 3,299,800 / (110.5 × 1.040104) = 3,299,800 / 114.931492,
    # OKX's old-mode "position assets / ((liability + interest) × (1 + MMR) × (1 + taker))".
    assert okx_liquidation_price(SEED_SHORT, MMR, TAKER) == MONEY.divide(D(3299800), D("114.931492"))


def test_no_liability_has_no_ratio_level_or_price() -> None:
    collateral = SpotAccountState(quote_assets=D(1000))
    assert okx_margin_ratio(collateral, 100, MMR, TAKER) is None
    assert margin_level(collateral, 100) is None
    assert okx_liquidation_price(collateral, MMR, TAKER) is None
    assert level_price(collateral, "1.05") is None


def test_okx_long_liquidation_price_by_hand() -> None:
    # Long 1 BTC at 100,000, 10× with 0.1 BTC margin (BA 1.1, QL 100,000), MMR 3 %, taker 0.1 %:
    # p = 100,000 × 1.03 × 1.001 / 1.1 = 103,103 / 1.1 = 93,730 (OKX old mode: owed × (1+MMR)(1+fee) / assets).
    s = SpotAccountState(base_assets=D("1.1"), quote_liability=D(100000))
    assert okx_liquidation_price(s, "0.03", "0.001") == 93730
    # A fully funded account (assets worth more than any multiple of the debt at any price) never gets there.
    assert (
        okx_liquidation_price(SpotAccountState(base_assets=D(2), quote_assets=D(10**9), base_liability=D(1)), MMR, 0)
        is None
    )


# ------------------------------------------------------------------------------------- the seed's tables
# Each account is built from its trade at 100,000 with no fee, 10×: the margin is 1/10 of the 100,000 position
# (0.1 BTC or 10,000 USDT); a long borrows 100,000 USDT and buys 1 BTC, a short borrows 1 BTC and sells it.
LONG_BASE = SpotAccountState(base_assets=D("1.1"), quote_liability=D(100000))  # 0.1 BTC in, +1 BTC bought
LONG_QUOTE = SpotAccountState(base_assets=D(1), quote_assets=D(10000), quote_liability=D(100000))  # 10,000 USDT in
SHORT_BASE = SpotAccountState(base_assets=D("0.1"), quote_assets=D(100000), base_liability=D(1))  # 0.1 BTC in
SHORT_QUOTE = SpotAccountState(quote_assets=D(110000), base_liability=D(1))  # 10,000 USDT in + 100,000 from the sale


@pytest.mark.parametrize(
    ("state", "margin_asset", "margin", "mode", "side", "asset", "asset_ccy", "owed", "owed_ccy", "margin_ccy"),
    [
        # Long 1 BTC at 100,000 with 10× (seed table 1).
        (LONG_BASE, "base", "0.1", "old", Side.LONG, "1.1", "BTC", "100000", "USDT", "BTC"),
        (LONG_BASE, "base", "0.1", "new", Side.LONG, "1", "BTC", "100000", "USDT", "BTC"),
        (LONG_QUOTE, "quote", "10000", "old", Side.LONG, "1", "BTC", "100000", "USDT", "USDT"),
        (LONG_QUOTE, "quote", "10000", "new", Side.LONG, "1", "BTC", "100000", "USDT", "USDT"),
        # Short 1 BTC at 100,000 with 10× (seed table 2).
        (SHORT_BASE, "base", "0.1", "old", Side.SHORT, "100000", "USDT", "1", "BTC", "BTC"),
        (SHORT_BASE, "base", "0.1", "new", Side.SHORT, "100000", "USDT", "1", "BTC", "BTC"),
        (SHORT_QUOTE, "quote", "10000", "old", Side.SHORT, "110000", "USDT", "1", "BTC", "USDT"),
        (SHORT_QUOTE, "quote", "10000", "new", Side.SHORT, "100000", "USDT", "1", "BTC", "USDT"),
    ],
)
def test_seed_position_tables(
    state: SpotAccountState,
    margin_asset: str,
    margin: str,
    mode: str,
    side: Side,
    asset: str,
    asset_ccy: str,
    owed: str,
    owed_ccy: str,
    margin_ccy: str,
) -> None:
    view = position_view(state, 100000, margin_asset, D(margin), mode, entry_price=100000, base="BTC", quote="USDT")
    assert view.side is side and view.mode is AccountingMode(mode)
    assert (view.asset, view.asset_currency) == (D(asset), asset_ccy)
    assert (view.liability, view.interest, view.liability_total) == (D(owed), D(0), D(owed))
    assert view.liability_currency == owed_ccy
    assert (view.margin, view.margin_currency) == (D(margin), margin_ccy)
    # At the entry price with no fee nothing is won or lost yet.
    assert view.pnl == 0 and view.pnl_ratio == 0 and view.pnl_currency == margin_ccy
    assert view.entry_price == 100000


def test_pnl_follows_okx_formulas() -> None:
    # Long, base margin, mark 110,000: OKX "assets − margin − (liability + interest) / mark" in BTC
    # = 1.1 − 0.1 − 100,000/110,000 = 1 − 10/11 = 1/11 BTC; PnL ratio = (1/11) / 0.1 = 10/11.
    view = position_view(LONG_BASE, 110000, SpotAsset.BASE, D("0.1"), AccountingMode.OLD)
    assert view.pnl == MONEY.divide(1, 11) and view.pnl_ratio == MONEY.divide(MONEY.divide(1, 11), D("0.1"))
    # Short, quote margin, mark 90,000: "assets − margin − (liability + interest) × mark" in USDT
    # = 110,000 − 10,000 − 90,000 = 10,000 USDT, 100 % of the margin.
    view = position_view(SHORT_QUOTE, 90000, "quote", 10000, "new")
    assert (view.pnl, view.pnl_ratio) == (D(10000), D(1))
    # Long, quote margin, mark 95,000: equity 95,000 + 10,000 − 100,000 = 5,000 USDT, less the 10,000 margin.
    view = position_view(LONG_QUOTE, 95000, "quote", 10000, "old")
    assert (view.pnl, view.pnl_ratio) == (D(-5000), D("-0.5"))


def test_position_view_liquidation_price_and_ratios() -> None:
    # With an MMR: OKX's closed form (93,730 as worked above) and its ratio; without: Binance's level price.
    okx = position_view(LONG_BASE, 100000, "base", "0.1", "old", mmr="0.03", taker="0.001")
    assert okx.liquidation_price == 93730
    # Ratio at 100,000: net 10,000 / (3,000 + 100,000 × 1.03 × 0.1 % = 103) = 10,000 / 3,103.
    assert okx.margin_ratio == MONEY.divide(10000, 3103)
    binance = position_view(LONG_BASE, 100000, "base", "0.1", "old", liquidation_level="1.05")
    assert binance.liquidation_price == MONEY.divide(D(105000), D("1.1"))  # 1.05 × 100,000 / 1.1
    assert binance.margin_ratio is None and binance.margin_level == D("1.1")  # 110,000 / 100,000
    assert position_view(LONG_BASE, 100000, "base", "0.1", "old").liquidation_price is None


def test_position_view_refuses_what_is_not_one_position() -> None:
    with pytest.raises(MarginError, match="owes nothing"):
        position_view(SpotAccountState(base_assets=D(1)), 100, "base", 1, "old")
    with pytest.raises(MarginError, match="both assets"):
        position_view(SpotAccountState(base_liability=D(1), quote_liability=D(1)), 100, "base", 1, "old")
    with pytest.raises(MarginError, match="more than the account holds"):
        position_view(LONG_BASE, 100000, "base", 2, "new")
    with pytest.raises(MarginError, match="base or quote"):
        position_view(LONG_BASE, 100000, "usdt", 1, "new")
    with pytest.raises(MarginError, match="old or new"):
        position_view(LONG_BASE, 100000, "base", 1, "newer")


def test_state_refuses_floats_and_negatives() -> None:
    with pytest.raises(MarginError):
        SpotAccountState(base_assets=1.5)  # type: ignore[arg-type]
    with pytest.raises(MarginError):
        SpotAccountState(quote_liability=D(-1))
    with pytest.raises(MarginError):
        SpotAccountState(quote_interest=D("NaN"))


# ------------------------------------------------------------------------------------------ Binance
def test_binance_margin_level_and_level_prices_long() -> None:
    # Long with quote margin (BA 1, QA 10,000, QL 100,000): level = (p + 10,000) / 100,000.
    # Level 1.05 (10× liquidation): p = 1.05 × 100,000 − 10,000 = 95,000; 1.1 (margin call): 100,000.
    assert margin_level(LONG_QUOTE, 100000) == D("1.1")
    assert level_price(LONG_QUOTE, "1.05") == 95000
    assert level_price(LONG_QUOTE, "1.1") == 100000
    assert margin_level(LONG_QUOTE, 95000) == D("1.05")


def test_binance_level_prices_short() -> None:
    # Short with base margin (BA 0.1, QA 100,000, BL 1): level = (0.1 p + 100,000) / p = 0.1 + 100,000 / p, so
    # p = 100,000 / (level − 0.1): 1.05 → 100,000 / 0.95 = 105,263.15…; 1.1 → 100,000.
    assert level_price(SHORT_BASE, "1.05") == MONEY.divide(100000, D("0.95"))
    assert level_price(SHORT_BASE, "1.1") == 100000
    # A level the account can never fall to (the short's level tends to 0.1 only as p → ∞) has no price:
    # 0.1 exactly gives a zero denominator; below it the price would be negative.
    assert level_price(SHORT_BASE, "0.1") is None
    assert level_price(SHORT_BASE, "0.05") is None


def test_max_borrowable_by_hand() -> None:
    margin_only = SpotAccountState(base_assets=D("0.1"))  # 0.1 BTC transferred in, worth 10,000 at 100,000
    # 10× as a whole leverage: level L/(L−1) = 10/9, x ≤ 10,000 / (1/9) = 90,000 USDT (9 borrowed per 1 own).
    assert borrow_level_of(10) == MONEY.divide(10, 9)
    assert max_borrowable(margin_only, "quote", 100000, 10) == 90000
    # Binance's published 1.111 (a rounded 10/9): 10,000 / 0.111 = 90,090.09…
    assert max_borrowable(margin_only, SpotAsset.QUOTE, 100000, D("1.111")) == MONEY.divide(10000, D("0.111"))
    # In base: the same 90,000 USDT is 0.9 BTC.
    assert max_borrowable(SpotAccountState(quote_assets=D(10000)), "base", 100000, 10) == D("0.9")
    # The borrow limit caps it, less the principal already owed: 70,000 − 30,000 = 40,000.
    owing = SpotAccountState(base_assets=D("0.4"), quote_liability=D(30000))  # level 40,000/30,000 = 1.33
    assert max_borrowable(owing, "quote", 100000, 10, limit=70000) == 40000
    # Without the cap: (40,000 − 10/9 × 30,000) × 9 = (40,000 − 33,333.3…) × 9 = 60,000.
    assert max_borrowable(owing, "quote", 100000, 10) == 60000
    # At or below the borrow level nothing more can be borrowed.
    assert max_borrowable(LONG_BASE, "quote", 100000, 10) == 0


def test_borrow_level_inputs() -> None:
    with pytest.raises(MarginError):
        borrow_level_of(1)
    with pytest.raises(MarginError):
        borrow_level_of(True)
    with pytest.raises(MarginError, match="exceed 1"):
        max_borrowable(LONG_BASE, "quote", 100000, D(1))


# ------------------------------------------------------------------------------------------ interest
def test_interest_binance_examples() -> None:
    # Binance's FAQ: hourly 0.001 % (daily 0.024 %), 1,000 USDT borrowed at 13:55, at 14:30 two hours are
    # charged (one at 13:55, one at 14:00): 1,000 × 0.001 % × 2 = 0.02 USDT.
    assert hourly_interest(1000, D("0.00024")) == D("0.01")
    t0 = 13 * 3_600_000 + 55 * 60_000
    assert hours_charged(t0, 14 * 3_600_000 + 30 * 60_000) == 2
    assert interest_over(1000, D("0.00024"), 2) == D("0.02")
    # The older FAQ: daily 0.02 %, 1,000 USDT from 13:20 to 14:15 → 2 hours, shown as 0.01666667. Each hour is
    # 1,000 × 0.0002 / 24 = 0.008333… rounded up to 0.0083333334; two of them 0.0166666668 (0.01666667 to 8 places).
    assert hours_charged(13 * 3_600_000 + 20 * 60_000, 14 * 3_600_000 + 15 * 60_000) == 2
    assert interest_over(1000, D("0.0002"), 2) == D("0.0166666668")
    assert round(interest_over(1000, D("0.0002"), 2), 8) == D("0.01666667")
    # Repaid within the hour it was borrowed in: one hour (Binance's 09:20 → 09:55).
    assert hours_charged(9 * 3_600_000 + 20 * 60_000, 9 * 3_600_000 + 55 * 60_000) == 1


def test_interest_inputs() -> None:
    with pytest.raises(MarginError):
        interest_over(1000, D("0.0002"), -1)
    with pytest.raises(MarginError):
        interest_over(1000, D("0.0002"), 1.5)  # type: ignore[arg-type]
    with pytest.raises(MarginError):
        hours_charged(10, 5)
    with pytest.raises(MarginError):
        hourly_interest(-1, D("0.0002"))


# ------------------------------------------------------------------------------------------ properties
amounts = st.integers(1, 10**9).map(lambda n: D(n) / 100)  # 0.01 … 10,000,000
rates = st.integers(0, 2000).map(lambda n: D(n) / 10000)  # 0 … 20 %


@st.composite
def accounts(draw: st.DrawFn) -> SpotAccountState:
    """A long (owes quote) or a short (owes base), with some of the other asset possibly held as well."""
    if draw(st.booleans()):
        return SpotAccountState(
            base_assets=draw(amounts),
            quote_assets=draw(st.sampled_from([D(0)])) if draw(st.booleans()) else draw(amounts),
            quote_liability=draw(amounts),
            quote_interest=draw(amounts) / 1000,
        )
    return SpotAccountState(
        base_assets=D(0) if draw(st.booleans()) else draw(amounts) / 1000,
        quote_assets=draw(amounts),
        base_liability=draw(amounts) / 1000,
        base_interest=draw(amounts) / 10**6,
    )


def _exact_okx_price(s: SpotAccountState, mmr: D, taker: D) -> Fraction:
    k = (1 + Fraction(mmr)) * (1 + Fraction(taker))
    qlt, blt = Fraction(s.quote_owed), Fraction(s.base_owed)
    return (qlt * k - Fraction(s.quote_assets)) / (Fraction(s.base_assets) - blt * k)


@given(accounts(), rates.filter(lambda r: r > 0), st.integers(0, 20).map(lambda n: D(n) / 10000))
def test_ratio_is_one_at_the_okx_liquidation_price(s: SpotAccountState, mmr: D, taker: D) -> None:
    price = okx_liquidation_price(s, mmr, taker)
    assume(price is not None)
    assert price is not None
    # In exact rationals the closed form puts the ratio at exactly 1 …
    p = _exact_okx_price(s, mmr, taker)
    qlt, blt = Fraction(s.quote_owed), Fraction(s.base_owed)
    net = Fraction(s.quote_assets) - qlt + (Fraction(s.base_assets) - blt) * p
    need = (qlt + blt * p) * Fraction(mmr) + (qlt + blt * p) * (1 + Fraction(mmr)) * Fraction(taker)
    assert net == need
    # … the Decimal price is that value to 34 significant digits …
    assert abs(Fraction(price) - p) <= abs(p) * Fraction(1, 10**33)
    # … and the Decimal ratio there is 1 to within that rounding.
    ratio = okx_margin_ratio(s, price, mmr, taker)
    assert ratio is not None and abs(ratio - 1) < D("1e-24")


@given(accounts(), st.integers(1001, 3000).map(lambda n: D(n) / 1000))
def test_level_is_the_target_at_level_price(s: SpotAccountState, level: D) -> None:
    price = level_price(s, level)
    assume(price is not None)
    assert price is not None
    got = margin_level(s, price)
    assert got is not None and abs(got - level) < D("1e-24")


@given(accounts(), st.sampled_from(["base", "quote"]), amounts, st.sampled_from([3, 5, 10]))
def test_borrowing_the_maximum_leaves_the_borrow_level(s: SpotAccountState, asset: str, mark: D, lev: int) -> None:
    x = max_borrowable(s, asset, mark, lev)
    assume(x > 0)
    grown = SpotAccountState(
        base_assets=s.base_assets + (x if asset == "base" else 0),
        quote_assets=s.quote_assets + (x if asset == "quote" else 0),
        base_liability=s.base_liability + (x if asset == "base" else 0),
        base_interest=s.base_interest,
        quote_liability=s.quote_liability + (x if asset == "quote" else 0),
        quote_interest=s.quote_interest,
    )
    level = margin_level(grown, mark)
    assert level is not None and abs(level - D(lev) / D(lev - 1)) < D("1e-24")


@given(st.integers(0, 10**12).map(lambda n: D(n) / 10**4), st.integers(0, 10**6).map(lambda n: D(n) / 10**8))
def test_interest_rounds_up_by_less_than_the_quantum(principal: D, daily: D) -> None:
    exact = Fraction(principal) * Fraction(daily) / 24
    charged = hourly_interest(principal, daily)
    assert Fraction(charged) >= exact
    assert Fraction(charged) - exact < Fraction(INTEREST_QUANTUM)
    assert charged == charged.quantize(INTEREST_QUANTUM)
