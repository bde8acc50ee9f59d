"""Venue profiles: data files load and validate, and each venue's formula gives its documented numbers."""

import dataclasses
from decimal import Decimal as D

import pytest

from isomargin.margin import MarginError, Side
from isomargin.margin.numbers import MONEY
from isomargin.venues import VENUES, get_profile
from isomargin.venues.registry import load_data


@pytest.mark.parametrize("venue", VENUES)
def test_every_profile_loads_with_sourced_tables(venue: str) -> None:
    profile = get_profile(venue)
    # Every linear venue lists BTCUSDT; a coin-margined venue (binancecoinm) lists inverse symbols only.
    assert "BTCUSDT" in profile.symbols or (profile.inverse_symbols() and not profile.linear_symbols())
    for spec in profile.symbols.values():
        assert spec.source, f"{venue} {spec.symbol} names no source"
        assert spec.tick_size > 0 and spec.step_size > 0
    if venue != "simple":
        assert load_data(venue)["source"]


def test_real_venues_carry_btc_eth_sol_where_sources_exist() -> None:
    for venue in ("binance", "okx", "hyperliquid", "dydx"):
        assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= set(get_profile(venue).symbols)


def test_binance_profile_uses_bracket_2_for_65k_notional() -> None:
    # Bracket 2 (50k–600k): 0.5 %, cum 50. LP = (6,500 + 50 − 65,000)/(0.005 − 1) = 58,450/0.995.
    p = get_profile("binance")
    q = p.liquidation_price(p.spec("BTCUSDT"), Side.LONG, "1", "65000", "6500")
    assert q.tier == 2 and q.exact == MONEY.divide(D(58450), D("0.995"))
    assert q.bankruptcy == D(58500)


def test_bybit_profile_reproduces_help_centre_example() -> None:
    # Bybit: long 1 BTC at 20,000, 50×, MMR 0.5 % (risk-limit tier 1) → 19,700.
    p = get_profile("bybit")
    assert p.liquidation_price(p.spec("BTCUSDT"), Side.LONG, "1", "20000", "400").price == D(19700)
    # The short mirrors it: 20,000 + (400 − 100) = 20,300.
    assert p.liquidation_price(p.spec("BTCUSDT"), Side.SHORT, "1", "20000", "400").price == D(20300)


def test_okx_profile_adds_taker_fee_and_tiers_by_contracts() -> None:
    # BTC-USDT-SWAP ctVal 0.01: 1 BTC = 100 contracts → tier 1 (0.4 %). Taker 0.05 %.
    # long LP = (margin − Q·EP)/(Q·(MMR + fee − 1)) = (3,000 − 60,000)/(0.0045 − 1) = 57,000/0.9955.
    p = get_profile("okx")
    q = p.liquidation_price(p.spec("BTC-USDT-SWAP"), Side.LONG, "1", "60000", "3000", taker_fee="0.0005")
    assert q.exact == MONEY.divide(D(57000), D("0.9955"))
    assert q.rate == D("0.0045")


def test_okx_alerts_and_partial_rule() -> None:
    p = get_profile("okx")
    assert p.alert_level(D("3.5")) == "ok"
    assert p.alert_level(D("3")) == "ok"  # OKX warns *below* 300 %
    assert p.alert_level(D("2.99")) == "warning"
    assert p.alert_level(D("1")) == "liquidate"  # ≤ 100 %: orders cancelled, then liquidation
    assert p.alert_level(D("0.7416")) == "liquidate"
    assert p.is_liquidatable(p.health("95300", "128180", "333.27"))
    # Seeds: tier 3+ reduce two tiers; tier 2 or lower are closed outright.
    assert p.partial.target_tier(5) == 3 and p.partial.target_tier(3) == 1 and p.partial.target_tier(2) is None


def test_hyperliquid_rate_is_half_initial_margin_at_max_leverage() -> None:
    # Hyperliquid docs: liq = price − side·margin_available/size/(1 − l·side), l = 1/(2·max leverage) and
    # margin_available = margin − MM. BTC max 40× → l = 0.0125. Long 1 at 100,000 with 10,000:
    # MM = 1,250, available 8,750 → 100,000 − 8,750/0.9875.
    p = get_profile("hyperliquid")
    spec = p.spec("BTC")
    assert spec.table.tiers[0].mmr == D("0.0125")
    q = p.liquidation_price(spec, Side.LONG, "1", "100000", "10000")
    assert q.exact is not None
    assert abs(q.exact - MONEY.subtract(D(100000), MONEY.divide(D(8750), D("0.9875")))) < D("1e-28")
    assert p.partial.slice_fraction(D(150000)) == D("0.2") and p.partial.slice_fraction(D(99999)) is None
    eth = p.spec("ETHUSDT").table.tiers[1]
    assert abs(eth.mmr * 30 - 1) < D("1e-33")  # 1/(2·15) at full precision, not a 20-digit rounding


def test_dydx_profile_formula() -> None:
    # dYdX: P = (e − s·p)/(|s|·MMF − s). BTC-USD MMF 3 %: short 3 at 3,000 with 1,000 → 10,000/3.09.
    p = get_profile("dydx")
    q = p.liquidation_price(p.spec("BTC-USD"), Side.SHORT, "3", "3000", "1000")
    assert q.exact == MONEY.divide(D(10000), D("3.09"))


def test_simple_profile_is_the_seeds_formula() -> None:
    p = get_profile("simple")
    assert p.liquidation_price(p.spec("BTCUSDT"), Side.LONG, "1", "65000", "6500").price == D(58825)
    # Short mirror: 65,000 × (1 + 0.1 − 0.005) = 71,175.
    assert p.liquidation_price(p.spec("BTCUSDT"), Side.SHORT, "1", "65000", "6500").price == D(71175)


def test_rounding_against_the_trader_only_when_the_venue_rounds() -> None:
    p = get_profile("binance")
    spec = p.spec("BTCUSDT")  # tick 0.10
    plain_q = p.liquidation_price(spec, Side.LONG, "1", "65000", "6500")
    assert plain_q.price == plain_q.exact  # no documented rounding rule for Binance: keep exact
    rounding = dataclasses.replace(p, rounds_liquidation=True)
    long_q = rounding.liquidation_price(spec, Side.LONG, "1", "65000", "6500")
    short_q = rounding.liquidation_price(spec, Side.SHORT, "1", "65000", "6500")
    assert long_q.price == D("58743.8")  # 58,743.718… rounds up for a long (liquidated sooner)
    assert short_q.exact is not None and short_q.price == short_q.exact.quantize(D("0.1"), rounding="ROUND_FLOOR")


def test_unknown_venue_and_symbol() -> None:
    with pytest.raises(MarginError) as exc:
        get_profile("ftx")
    assert exc.value.code == "unknown_venue"
    with pytest.raises(MarginError) as exc:
        get_profile("bybit").spec("DOGEUSDT")
    assert exc.value.code == "unknown_symbol" and "BTCUSDT" in exc.value.message


def test_leverage_above_tier_max_is_refused_at_order_time() -> None:
    p = get_profile("binance")
    spec = p.spec("BTCUSDT")
    p.check_order(spec, D(1), D(40000), D(125))  # 40k notional: bracket 1 allows 125×
    with pytest.raises(MarginError) as exc:
        p.check_order(spec, D(1), D(65000), D(125))  # 65k: bracket 2 caps at 100×
    assert exc.value.code == "leverage_above_tier_max"
