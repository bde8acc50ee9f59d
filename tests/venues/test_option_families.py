"""venues/options.py and data/options.json: the families and their published figures (sources in docs/venues.md,
'Isolated options'), symbols both ways, tick bands, tiers, and unknown names or bad symbols refused."""

from decimal import Decimal as D

import pytest

from isomargin.venues.options import (
    OptionKind,
    UnknownOptionFamily,
    expiry_ms_of,
    option_families,
    option_family,
    parse_symbol,
)

# 2026-12-25 08:00 UTC: 20,812 days after 1970-01-01 → 20812 × 86,400,000 + 8 × 3,600,000.
XMAS_2026_MS = 20812 * 86_400_000 + 8 * 3_600_000


def test_families_listed() -> None:
    assert option_families("okx") == ("BTC-USD", "ETH-USD")
    assert option_families("binance") == ("BTCUSDT",)


def test_okx_published_figures() -> None:
    btc, eth = option_family("okx", "BTC-USD"), option_family("okx", "ETH-USD")
    # OKX "Get started with OKX Options": 1 BTC contract = 0.01 BTC, 1 ETH contract = 0.1 ETH; settled in the coin.
    assert (btc.multiplier, eth.multiplier) == (D("0.01"), D("0.1"))
    assert btc.settle == "BTC" and btc.coin_margined and eth.coin_margined
    # OKX "Option Margin": a 0.1, b 0.15, min open-order margin 0.1; c 0.03 (BTC), 0.05 (ETH).
    assert (btc.a, btc.b, btc.c, eth.c, btc.min_order_margin) == (D("0.1"), D("0.15"), D("0.03"), D("0.05"), D("0.1"))
    # Fees: maker 0.02 %, taker 0.03 %, capped at 7 % of the premium (since 2025-05-15).
    assert (btc.maker_fee, btc.taker_fee, btc.fee_cap) == (D("0.0002"), D("0.0003"), D("0.07"))
    # Tick since 2023-08-31: 0.0001 up to 0.005, 0.0005 above.
    assert btc.tick_for(D("0.005")) == D("0.0001") and btc.tick_for(D("0.0051")) == D("0.0005")
    assert btc.tick_size == D("0.0001")


def test_binance_btcusdt_is_usdt_margined() -> None:
    fam = option_family("binance", "BTCUSDT")
    # Binance Options Contract Specifications: unit 1 BTC, tick 5 USDT, min order 0.01, settled in USDT.
    assert (fam.multiplier, fam.tick_size, fam.step_size, fam.settle) == (D(1), D(5), D("0.01"), "USDT")
    assert not fam.coin_margined


def test_tiers() -> None:
    btc = option_family("okx", "BTC-USD")
    assert [t.tier for t in btc.tiers] == [1, 2, 3, 4, 5]
    assert btc.tiers[1].margin_factor == D("1.02")  # OKX's worked examples' tier-2 factor
    assert btc.tier_for(D(10000)).tier == 1 and btc.tier_for(D(10001)).tier == 2
    assert btc.tiers[-1].max_contracts is None


def test_symbols_both_ways() -> None:
    assert expiry_ms_of("261225") == XMAS_2026_MS
    btc = option_family("okx", "BTC-USD")
    assert btc.symbol(XMAS_2026_MS, D(100000), OptionKind.CALL) == "BTC-USD-261225-100000-C"
    assert option_family("binance", "BTCUSDT").symbol(XMAS_2026_MS, D("95000"), OptionKind.PUT) == "BTC-261225-95000-P"
    assert parse_symbol("BTC-USD-261225-100000-C") == ("BTC-USD", XMAS_2026_MS, D(100000), OptionKind.CALL)
    assert parse_symbol("ETH-USD-270326-3500.5-P") == ("ETH-USD", expiry_ms_of("270326"), D("3500.5"), OptionKind.PUT)
    assert parse_symbol("BTC-261225-95000-P") == ("BTCUSDT", XMAS_2026_MS, D(95000), OptionKind.PUT)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "BTC-USD-261225-100000-X",
        "BTC-USD-261332-100000-C",  # no 32nd of a 13th month
        "BTC-USD-261225-0-C",
        "BTC-USD-261225-1e5-C",
        "BTC-USD-261225--5-C",
        "BTC-USD-261225-١٠٠-C",  # Arabic-Indic digits
        "btc-usd-261225-100000-c",
        "BTC-USD-261225-100000-C" * 3,
        "BTC-USD-SWAP",
    ],
)
def test_bad_symbols(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_symbol(bad)


def test_unknown_names_are_key_errors_with_a_sentence() -> None:
    with pytest.raises(KeyError) as err:
        option_family("okx", "DOGE-USD")
    assert isinstance(err.value, UnknownOptionFamily) and "BTC-USD" in str(err.value)
    with pytest.raises(KeyError):
        option_family("nasdaq", "BTC-USD")
    with pytest.raises(KeyError):
        option_families("nasdaq")
