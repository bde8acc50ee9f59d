"""The spot isolated margin data file loads, its lookups answer what docs/venues.md ("Spot isolated margin") says
the venues publish, and unknown venues, pairs, leverages and assets fail with a message saying what exists."""

from decimal import Decimal as D

import pytest

from isomargin.margin import MarginError
from isomargin.venues.spot_margin import SpotRisk, UnknownSpotPair, spot_pair, spot_pairs


def test_pairs_of_each_venue() -> None:
    assert set(spot_pairs("binance")) >= {"BTC-USDT", "ETH-USDT"}
    assert set(spot_pairs("okx")) >= {"BTC-USDT", "ETH-USDT"}
    assert spot_pairs("OKX") == spot_pairs("okx")


def test_binance_btcusdt_instrument() -> None:
    # exchangeInfo BTCUSDT: PRICE_FILTER tickSize 0.01, LOT_SIZE stepSize 0.00001, NOTIONAL minNotional 5.
    p = spot_pair("binance", "BTC-USDT")
    assert (p.venue, p.symbol, p.exchange_symbol, p.base, p.quote) == ("binance", "BTC-USDT", "BTCUSDT", "BTC", "USDT")
    assert (p.tick_size, p.step_size, p.min_notional) == (D("0.01"), D("0.00001"), D(5))
    assert (p.maker_fee, p.taker_fee) == (D("0.001"), D("0.001"))
    assert p.risk is SpotRisk.MARGIN_LEVEL and p.tiers == {} and p.max_leverage == 10
    assert p.liquidation_fee == D("0.02")  # isolated margin's fixed 2 % since 2024-08-12
    assert spot_pair("binance", "ETH-USDT").step_size == D("0.0001")


def test_binance_levels_per_leverage() -> None:
    # Binance "Tiered Leverage Function on Isolated Margin", tier 1 of each: 10× liquidation 1.05, call 1.1,
    # initial risk 1.111; 5× 1.15 / 1.19 / 1.25; 3× 1.18 / 1.22 / 1.5.
    p = spot_pair("binance", "BTC-USDT")
    ten, five, three = p.levels_for(10), p.levels_for(5), p.levels_for(3)
    assert (ten.liquidation, ten.margin_call, ten.borrow) == (D("1.05"), D("1.1"), D("1.111"))
    assert (five.liquidation, five.margin_call, five.borrow) == (D("1.15"), D("1.19"), D("1.25"))
    assert (three.liquidation, three.margin_call, three.borrow) == (D("1.18"), D("1.22"), D("1.5"))
    with pytest.raises(ValueError, match="no margin levels for 20x"):
        p.levels_for(20)


def test_okx_btc_usdt_tiers() -> None:
    # OKX's 2023-06-08 margin tiers for BTC/USDT: 35 BTC / 1,000,000 USDT at 3 % (10×), 70 / 2,000,000 at
    # 6.25 % (8×), 105 / 3,000,000 at 10 % (5×), then +35 BTC / +1,000,000 USDT and +1 % a tier.
    p = spot_pair("okx", "BTC-USDT")
    assert p.risk is SpotRisk.MAINTENANCE_RATIO and p.levels == ()
    assert (p.exchange_symbol, p.tick_size, p.step_size) == ("BTC-USDT", D("0.1"), D("0.00000001"))
    assert p.liquidation_fee == p.taker_fee == D("0.001")
    assert p.tier_for("BTC", D(35)).tier == 1  # a bound belongs to the tier it ends
    assert (p.tier_for("BTC", D("35.01")).tier, p.tier_for("BTC", D("35.01")).mmr) == (2, D("0.0625"))
    assert p.tier_for("USDT", D(2500000)).mmr == D("0.1")
    # The seed's 110 BTC + 0.5 BTC interest is in tier 4 (105 < 110.5 ≤ 140): 11 %, not the example's 4 %.
    t = p.tier_for("BTC", D("110.5"))
    assert (t.tier, t.mmr, t.max_leverage, t.max_liability) == (4, D("0.11"), 4, D(140))


def test_okx_lookup_errors() -> None:
    p = spot_pair("okx", "ETH-USDT")
    with pytest.raises(ValueError, match="above the largest tier"):
        p.tier_for("ETH", D(5001))
    with pytest.raises(ValueError, match="no margin tiers for 'BTC'"):
        p.tier_for("BTC", D(1))
    with pytest.raises(MarginError):
        p.tier_for("ETH", D(-1))


def test_rates_and_limits_cover_both_assets() -> None:
    for venue in ("binance", "okx"):
        for symbol in spot_pairs(venue):
            p = spot_pair(venue, symbol)
            assert set(p.daily_rates) == set(p.borrow_limits) == {p.base, p.quote}
            assert p.daily_rate(p.base) >= 0 and all(v > 0 for v in p.borrow_limits.values())


def test_unknown_pair_or_venue_is_a_key_error_saying_what_exists() -> None:
    with pytest.raises(KeyError) as info:
        spot_pair("binance", "DOGE-EUR")
    assert isinstance(info.value, UnknownSpotPair)
    assert str(info.value) == "binance has no spot margin pair 'DOGE-EUR' (known: BTC-USDT, ETH-USDT)"
    with pytest.raises(KeyError, match="known: binance, okx"):
        spot_pair("kraken", "BTC-USDT")
    with pytest.raises(KeyError):
        spot_pairs("kraken")
    # The perpetuals' spelling is not an engine spot symbol.
    with pytest.raises(KeyError):
        spot_pair("binance", "BTCUSDT")
