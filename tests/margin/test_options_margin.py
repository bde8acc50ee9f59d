"""Option math in isomargin.margin.options: OKX's published worked margin and fee examples reproduced exactly,
Black-76 against a textbook value and an independent continued fraction, put-call parity at rate 0
(Hypothesis), greeks' signs and bounds, settlement of ITM/ATM/OTM calls and puts, tiers, the liquidation mark,
and bad input refused with a MarginError."""

from collections.abc import Iterator
from dataclasses import replace
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isomargin.margin import MarginError
from isomargin.margin.numbers import MONEY
from isomargin.margin.options import (
    OptionKind,
    OrderAction,
    black76,
    greeks,
    intrinsic,
    liquidation_fee,
    liquidation_mark,
    liquidation_step,
    margin_ratio,
    norm_cdf,
    norm_pdf,
    order_margin,
    otm_amount,
    premium_value,
    settlement_in_coin,
    settlement_in_quote,
    short_im_per_contract,
    short_initial_margin,
    short_maintenance_margin,
    short_margin_balance,
    short_mm_per_contract,
    tier_of,
    trading_fee,
)
from isomargin.venues.options import OptionFamily, option_family

BTC = option_family("okx", "BTC-USD")
ETH = option_family("okx", "ETH-USD")
USDT = option_family("binance", "BTCUSDT")
# OKX's margin examples predate the 0.01 BTC multiplier: they use 0.1 BTC a contract.
OKX_2020 = replace(BTC, multiplier=D("0.1"))
TIER2 = 15_000  # contracts in tier 2 (margin factor 1.02, the factor of OKX's examples)
C, P = OptionKind.CALL, OptionKind.PUT


@pytest.fixture(autouse=True)
def money_context() -> Iterator[None]:
    # The tests' own arithmetic (expected values, differences) runs at 34 digits like the library's; the
    # library itself ignores the ambient context (last test).
    with localcontext(MONEY):
        yield


def half_up(value: Decimal, places: str) -> Decimal:
    return value.quantize(D(places), rounding=ROUND_HALF_UP, context=MONEY)


# ------------------------------------------------------------------------------ OKX's worked examples
# https://www.okx.com/help-center/360053909092 ("Introduction to options margin calculation", tier 2, margin
# factor 1.02; contract multiplier 0.1 BTC, LV1 fee 0.02 % → 0.00002 BTC a contract).
OKX_FEE = D("0.00002")
OKX_IM = ((Fraction("0.15") - Fraction(1, 59)) * Fraction("1.02") + Fraction("0.0575")) * Fraction("0.1")


def test_okx_buy_to_open_order_margin() -> None:
    # Buy 100 calls at 0.0475 BTC: (0.0475 × 0.1 + 0.00002) × 100 = 0.477 BTC.
    got = order_margin(
        OrderAction.BUY_OPEN, C, 8500, 8500, D("0.0475"), D("0.05"), OKX_2020, 100, fee_per_contract=OKX_FEE
    )
    assert got == D("0.477")


def test_okx_sell_to_open_position_and_order_margin() -> None:
    # Sell 100 calls at 0.06 BTC, OTM 100 against the 5,900 forward (strike 6,000), mark 0.0575:
    # position margin [max(0.1, 0.15 − 100/5900) × 1.02 + 0.0575] × 0.1 = 0.01932 BTC (OKX shows 5 places);
    # order margin max(0.01932 − 0.06 × 0.1 + 0.00002, 0.1 × 0.1) × 100 = 1.334 BTC (3 places).
    im = short_im_per_contract(C, 5900, 6000, D("0.0575"), OKX_2020, TIER2)
    # Exactly: (0.15 − 1/59) × 1.02 + 0.0575 = 0.1932118644…, × 0.1.
    assert abs(Fraction(im) - OKX_IM) < Fraction(1, 10**35)
    assert half_up(im, "0.00001") == D("0.01932")
    om = order_margin(
        OrderAction.SELL_OPEN, C, 5900, 6000, D("0.06"), D("0.0575"), OKX_2020, 100, TIER2, fee_per_contract=OKX_FEE
    )
    assert half_up(om, "0.001") == D("1.334")
    assert om == (im - D("0.006") + OKX_FEE) * 100


def test_okx_closing_order_margins_are_zero() -> None:
    # Sell 100 puts to close at 0.0755: max(0.00002 − 0.00755, 0) × 100 = 0.
    assert order_margin(OrderAction.SELL_CLOSE, P, 6000, 6000, D("0.0755"), D("0.0755"), OKX_2020, 100,
                        fee_per_contract=OKX_FEE) == 0  # fmt: skip
    # Buy 100 calls to close at 0.05 against the 0.01932 position margin: max(0.05·0.1 − 0.01932 + fee, 0) = 0.
    assert order_margin(OrderAction.BUY_CLOSE, C, 5900, 6000, D("0.05"), D("0.0575"), OKX_2020, 100, TIER2,
                        fee_per_contract=OKX_FEE) == 0  # fmt: skip


def test_okx_trading_fee_example() -> None:
    # OKX Trading Fee Rules FAQ (https://www.okx.com/help/trading-fee-rules-faq, seen on an OKX mirror: search
    # "cm3/min"): 100 calls, multiplier 0.01, premium 0.05 BTC; taker min(0.03 % × 0.01 × 100, 7 % × 0.05 × 0.01
    # × 100) = 0.0003 BTC, maker 0.0002 BTC.
    assert trading_fee(BTC, 100, D("0.05")) == D("0.0003")
    assert trading_fee(BTC, 100, D("0.05"), maker=True) == D("0.0002")
    # The cap binds on a cheap option: 7 % × 0.001 × 0.01 × 100 = 0.00007 < 0.0003.
    assert trading_fee(BTC, 100, D("0.001")) == D("0.00007")


def test_okx_settlement_example() -> None:
    # OKEx's exercise formula as restated at https://woaiqun.com/2056.html: 20 calls (0.1 BTC each) struck at
    # 7,000, settled at 8,000: (8000 − 7000) × 0.1 × 20 / 8000 = 0.25 BTC.
    assert settlement_in_coin(C, 8000, 7000, D("0.1")) * 20 == D("0.25")


# --------------------------------------------------------------------------------- margins by formula
def test_current_okx_short_call_and_put_margins() -> None:
    # BTC-USD (a 0.1, b 0.15, c 0.03, tier 1 factor 1, multiplier 0.01), index 95,000, strike 100,000, mark 0.012:
    # call OTM 5,000 → IMR (max(0.1, 0.15 − 5000/95000) + 0.012) × 0.01 = (0.1 + 0.012) × 0.01 = 0.00112
    # (0.15 − 0.0526… = 0.097 < 0.1); MMR (0.03 + 0.012) × 0.01 = 0.00042.
    assert short_im_per_contract(C, 95000, 100000, D("0.012"), BTC, 10) == D("0.00112")
    assert short_mm_per_contract(C, 95000, D("0.012"), BTC, 10) == D("0.00042")
    assert short_initial_margin(C, 95000, 100000, D("0.012"), BTC, 10) == D("0.0112")
    assert short_maintenance_margin(C, 95000, D("0.012"), BTC, 10) == D("0.0042")
    # A put struck at 100,000 is 5,000 in the money: OTM 0 → IMR (0.15 + 0.07) × 0.01 = 0.0022; MMR
    # (max(0.03, 0.03 × 0.07) + 0.07) × 0.01 = 0.001.
    assert short_im_per_contract(P, 95000, 100000, D("0.07"), BTC, 10) == D("0.0022")
    assert short_mm_per_contract(P, 95000, D("0.07"), BTC, 10) == D("0.001")
    # ETH-USD's c is 0.05 and its multiplier 0.1: MMR (0.05 + 0.01) × 0.1 = 0.006.
    assert short_mm_per_contract(C, 3000, D("0.01"), ETH, 1) == D("0.006")


def test_usdt_margined_margins_scale_by_the_index() -> None:
    # binance BTCUSDT (multiplier 1; OKX's USD-margined rule): index 95,000, strike 90,000 put, mark 1,200 USDT:
    # OTM 5,000 → IMR max(0.1, 0.15 − 5000/95000) × 95000 + 1200 = 0.1 × 95000 + 1200 = 10,700;
    # MMR max(0.03 × 95000, 0.03 × 1200) + 1200 = 2,850 + 1,200 = 4,050; sell-to-open floor 0.1 × 95000 = 9,500.
    assert short_im_per_contract(P, 95000, 90000, 1200, USDT, 2) == D(10700)
    assert short_mm_per_contract(P, 95000, 1200, USDT, 2) == D(4050)
    # Fee per contract min(0.03 % × 95000, 7 % × 1200) = min(28.5, 84) = 28.5; order margin
    # max(10700 − 1200 + 28.5, 9500) = 9,528.5.
    assert order_margin("sell_open", P, 95000, 90000, 1200, 1200, USDT, 1, 2) == D("9528.5")
    assert liquidation_fee(USDT, 2, 1200, index=95000) == D(57)


def test_tier_lookup_and_the_margin_factor() -> None:
    assert tier_of(BTC.tiers, 0).tier == 1
    assert tier_of(BTC.tiers, 10_000).tier == 1  # bounds inclusive
    assert tier_of(BTC.tiers, 10_001).margin_factor == D("1.02")
    assert tier_of(BTC.tiers, 10**9).tier == len(BTC.tiers)
    # The factor multiplies only the max(a, …) part: tier 2 call IMR (0.1 × 1.02 + 0.012) × 0.01.
    assert short_im_per_contract(C, 95000, 100000, D("0.012"), BTC, 15_000) == D("0.001140")


def test_liquidation_step_goes_down_one_tier() -> None:
    assert liquidation_step(BTC.tiers, 25_000) == (D(5000), False)  # tier 3 → tier 2's 20,000
    assert liquidation_step(BTC.tiers, 15_000) == (D(5000), False)
    assert liquidation_step(BTC.tiers, 500) == (D(500), True)  # tier 1: full


def test_margin_ratio_and_balance() -> None:
    # Balance 0.0112 + (0.012 − 0.02) × 0.01 × 10 = 0.0104; MM (0.03 + 0.02) × 0.1 = 0.005; fee 0.00003 → 0.0104
    # / 0.00503.
    bal = short_margin_balance(D("0.0112"), D("0.012"), D("0.02"), BTC.multiplier, 10)
    assert bal == D("0.0104")
    mm = short_maintenance_margin(C, 95000, D("0.02"), BTC, 10)
    fee = liquidation_fee(BTC, 10, D("0.02"))
    assert (mm, fee) == (D("0.005"), D("0.00003"))
    assert margin_ratio(bal, mm, fee) == MONEY.divide(D("0.0104"), D("0.00503"))
    with pytest.raises(MarginError):
        margin_ratio(1, 0, 0)


@pytest.mark.parametrize("kind", [C, P])
@pytest.mark.parametrize(
    ("fam", "margin"),
    [(BTC, "0.0112"), (BTC, "0.5"), (BTC, "3"), (USDT, "30000"), (USDT, "107000"), (USDT, "2000000")],
    ids=["coin-im", "coin-0.5", "coin-3", "usdt-30k", "usdt-107k", "usdt-2m"],
)
def test_the_liquidation_mark_is_where_the_ratio_is_one(kind: OptionKind, fam: OptionFamily, margin: str) -> None:
    index, entry = (D(95000), D("0.012")) if fam is BTC else (D(95000), D(1200))
    g = D(margin)
    x = liquidation_mark(kind, index, entry, g, fam, 10)
    assert x > 0
    bal = short_margin_balance(g, entry, x, fam.multiplier, 10)
    need = short_maintenance_margin(kind, index, x, fam, 10) + liquidation_fee(fam, 10, x, index=index)
    assert abs(bal - need) <= D("1e-25") * max(D(1), abs(need))
    # One tick either side: above it the ratio is below 100 %, below it above.
    for step, below in ((D("1e-6"), True), (D("-1e-6"), False)):
        y = x + step * (1 if fam is BTC else 1000)
        r = margin_ratio(
            short_margin_balance(g, entry, y, fam.multiplier, 10),
            short_maintenance_margin(kind, index, y, fam, 10),
            liquidation_fee(fam, 10, y, index=index),
        )
        assert (r < 1) is below


def test_the_liquidation_mark_hand_worked() -> None:
    # 10 BTC-USD calls, margin 0.5 BTC, entry 0.012: per unit B = 0.5/0.1 + 0.012 = 5.012; above the fee kink
    # (0.0003/0.07) MM + fee per unit = 0.03 + x + 0.0003, so 5.012 − x = 0.0303 + x → x = 4.9817/2 = 2.49085.
    assert liquidation_mark(C, 95000, D("0.012"), D("0.5"), BTC, 10) == D("2.49085")
    # Already under water at a zero mark: 0 (margin 0.0001 BTC against MM 0.03 × 0.1 = 0.003).
    assert liquidation_mark(C, 95000, D(0), D("0.0001"), BTC, 10) == 0


# --------------------------------------------------------------------------------------------- payoff
@pytest.mark.parametrize(
    ("kind", "s", "k", "quote", "coin"),
    [
        # ITM call: (110000 − 100000) = 10,000; in coin 10000/110000 × 0.01 = 0.000909…
        (C, 110000, 100000, D(10000), MONEY.divide(D(100), D(110000))),
        (C, 100000, 100000, D(0), D(0)),  # ATM
        (C, 90000, 100000, D(0), D(0)),  # OTM
        # ITM put: 100000 − 80000 = 20,000; 20000/80000 × 0.01 = 0.0025
        (P, 80000, 100000, D(20000), D("0.0025")),
        (P, 100000, 100000, D(0), D(0)),
        (P, 120000, 100000, D(0), D(0)),
    ],
)
def test_settlement(kind: OptionKind, s: int, k: int, quote: Decimal, coin: Decimal) -> None:
    assert intrinsic(kind, s, k) == quote
    assert settlement_in_coin(kind, s, k, D("0.01")) == coin
    assert settlement_in_quote(kind, s, k, 1) == quote


def test_premium_value_and_otm() -> None:
    assert premium_value(10, D("0.012"), D("0.01")) == D("0.0012")  # size × mark × multiplier (seed 003)
    assert otm_amount(C, 95000, 100000) == 5000
    assert otm_amount(P, 95000, 100000) == 0
    assert otm_amount(P, 95000, 90000) == 5000


# ---------------------------------------------------------------------------------------------- Black-76
def test_normal_cdf_digits() -> None:
    # Φ(1) = (1 + erf(1/√2))/2; erf(1/√2) = 0.68268949213708589717046509126407584495582593345320…
    assert norm_cdf(1) == D("0.8413447460685429485852325456320379")
    assert norm_cdf(0) == D("0.5")
    assert norm_cdf(-1) + norm_cdf(1) == 1
    assert norm_pdf(0) == MONEY.divide(1, MONEY.sqrt(2 * D("3.141592653589793238462643383279502884197")))


def _erfc_continued_fraction(z: Decimal, terms: int) -> Decimal:
    # erfc(z) = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), an independent route for the tail.
    with localcontext(Context(prec=80)):
        acc = z
        for n in range(terms, 0, -1):
            acc = z + (D(n) / 2) / acc
        pi = D("3.14159265358979323846264338327950288419716939937510582097494459230781640628620899863")
        return (-(z * z)).exp() / pi.sqrt() / acc


@pytest.mark.parametrize("x", ["-6", "-8.5", "-12"])
def test_normal_tail_matches_a_continued_fraction_to_28_digits(x: str) -> None:
    z = -D(x) / MONEY.sqrt(2)
    ref = _erfc_continued_fraction(z, 4000) / 2
    got = norm_cdf(x)
    assert abs(got - ref) / ref < D("1e-28")


def test_black76_textbook_put() -> None:
    # Hull, Options, Futures, and Other Derivatives (Black's model for futures options, the crude-oil example):
    # a 4-month European put on a futures at 20, strike 20, r 9 %, σ 25 % is worth 1.12.
    assert half_up(black76(P, 20, 20, MONEY.divide(4, 12), D("0.25"), D("0.09")), "0.01") == D("1.12")


def test_black76_at_the_money_closed_form() -> None:
    # ATM, r = 0: C = P = F·(2Φ(σ√T/2) − 1); with σ√T = 0.2, F = 100: 100 × (2Φ(0.1) − 1).
    expect = 100 * (2 * norm_cdf(D("0.1")) - 1)
    assert abs(black76(C, 100, 100, 1, D("0.2")) - expect) < D("1e-28")
    assert abs(black76(P, 100, 100, 1, D("0.2")) - expect) < D("1e-28")


prices = st.decimals(min_value=D(100), max_value=D(200000), places=2, allow_nan=False, allow_infinity=False)
years = st.decimals(min_value=D("0.003"), max_value=D(3), places=3)
vols = st.decimals(min_value=D("0.05"), max_value=D(3), places=2)


@settings(max_examples=60, deadline=None)
@given(f=prices, k=prices, t=years, v=vols)
def test_put_call_parity_at_rate_zero(f: Decimal, k: Decimal, t: Decimal, v: Decimal) -> None:
    # C − P = F − K, undiscounted; both prices are rounded to 34 digits, so allow a few units in the last one.
    diff = black76(C, f, k, t, v) - black76(P, f, k, t, v)
    assert abs(diff - (f - k)) <= D("1e-26") * max(f, k)


@settings(max_examples=40, deadline=None)
@given(f=prices, k=prices, t=years, v=vols)
def test_greeks_signs_and_bounds(f: Decimal, k: Decimal, t: Decimal, v: Decimal) -> None:
    gc = greeks(C, f, k, t, v)
    gp = greeks(P, f, k, t, v)
    assert 0 <= gc.delta <= 1 and -1 <= gp.delta <= 0
    assert abs(gc.delta - gp.delta - 1) < D("1e-30")  # r = 0: Δc − Δp = 1
    assert gc.gamma >= 0 and gc.gamma == gp.gamma
    assert gc.vega >= 0 and gc.vega == gp.vega
    assert gc.theta <= 0 and gc.theta == gp.theta


def test_delta_is_the_slope_of_the_price() -> None:
    # Central difference with h = 10⁻⁶ of F: error O(h²·gamma') far below 10⁻⁹.
    f, k, t, v, h = D(95000), D(100000), D("0.5"), D("0.55"), D("0.095")
    slope = (black76(C, f + h, k, t, v) - black76(C, f - h, k, t, v)) / (2 * h)
    assert abs(slope - greeks(C, f, k, t, v).delta) < D("1e-9")
    bump = D("1e-7")
    vega = (black76(C, f, k, t, v + bump) - black76(C, f, k, t, v - bump)) / (2 * bump)
    assert abs(vega - greeks(C, f, k, t, v).vega) < D("1e-6")


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((C, 100, 0, 1, D("0.5")), "not_positive"),  # strike 0
        ((C, 100, -5, 1, D("0.5")), "negative"),
        ((C, 100, 100, 1, 0), "not_positive"),  # vol 0
        ((C, 100, 100, 0, D("0.5")), "not_positive"),  # t 0
        ((C, 100, 100, -1, D("0.5")), "negative"),
        ((C, "NaN", 100, 1, D("0.5")), "bad_number"),
        ((C, 100, "Infinity", 1, D("0.5")), "bad_number"),
        ((C, "١٠٠", 100, 1, D("0.5")), "bad_number"),  # Arabic-Indic digits Decimal would accept
        ((C, 100.0, 100, 1, D("0.5")), "not_exact"),
        (("X", 100, 100, 1, D("0.5")), "bad_kind"),
        ((C, D(10) ** 20, 100, 1, D("0.5")), "too_large"),
    ],
)
def test_bad_input_is_a_margin_error(args: tuple[object, ...], code: str) -> None:
    with pytest.raises(MarginError) as err:
        black76(*args)  # type: ignore[arg-type]
    assert err.value.code == code
    with pytest.raises(MarginError):
        greeks(*args)  # type: ignore[arg-type]


def test_bad_margin_inputs() -> None:
    with pytest.raises(MarginError):
        short_im_per_contract(C, 95000, 0, D("0.01"), BTC, 1)
    with pytest.raises(MarginError):
        short_mm_per_contract(C, 95000, D("-0.01"), BTC, 1)
    with pytest.raises(MarginError):
        liquidation_mark(C, 95000, D("0.01"), D(1), BTC, 0)
    with pytest.raises(MarginError):
        order_margin("sideways", C, 1, 1, 1, 1, BTC, 1)
    with pytest.raises(MarginError):
        intrinsic(C, "1e999999", 1)


def test_results_do_not_depend_on_the_ambient_context() -> None:
    want = black76(C, 95000, 100000, D("0.5"), D("0.55"))
    with localcontext(Context(prec=5, rounding=ROUND_HALF_UP)):
        assert black76(C, 95000, 100000, D("0.5"), D("0.55")) == want
        assert abs(Fraction(short_im_per_contract(C, 5900, 6000, D("0.0575"), OKX_2020, TIER2)) - OKX_IM) < Fraction(
            1, 10**35
        )
