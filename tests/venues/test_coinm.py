"""Coin-margined (inverse) venue data: Binance COIN-M as its own profile `binancecoinm`, nothing else changed.

Numbers are Binance's own: the COIN-M liquidation-price FAQ (https://www.binance.com/en/support/faq/
ceccfcfb4e3a45e3b48b0b1bb1a8ae46, 2021-02-05 revision) and the /dapi/v1/exchangeInfo capture cited in
venues/data/binance_coinm.json.
"""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from isomargin.margin import ContractKind, MarginError, Side, TierBasis
from isomargin.venues import VENUES, get_profile
from isomargin.venues.registry import expiry_ms, load_data

COINM = get_profile("binancecoinm")


def test_binancecoinm_lists_its_inverse_symbols_and_no_linear_one() -> None:
    assert set(COINM.inverse_symbols()) == {"BTCUSD_PERP", "BTCUSD_200925", "ETHUSD_PERP"}
    assert COINM.linear_symbols() == {}
    data = load_data("binancecoinm")
    assert data["source"] and data["as_of"] and data["notes"]
    for raw in data["symbols"].values():
        assert raw["source"]


@pytest.mark.parametrize("venue", [v for v in VENUES if v != "binancecoinm"])
def test_the_linear_venues_gain_no_inverse_symbol(venue: str) -> None:
    # What the server and the simulator list today (linear venues) is unchanged by the COIN-M data.
    profile = get_profile(venue)
    assert profile.inverse_symbols() == {}
    assert profile.linear_symbols() == dict(profile.symbols)


def test_btcusd_perp_contract_spec() -> None:
    # exchangeInfo 2020-08-17: contractSize 100 (USD), marginAsset BTC, tickSize 0.1, stepSize/minQty 1 contract.
    spec = COINM.spec("BTCUSD_PERP")
    assert spec.kind is ContractKind.INVERSE and spec.inverse and spec.settle == "BTC"
    assert spec.contract_size == 100 and spec.tick_size == D("0.1")
    assert spec.step_size == 100  # one contract, as face value in USD (isomargin's inverse size)
    assert spec.table.basis is TierBasis.NOTIONAL  # brackets by the notional in BTC (qtyFloor/qtyCap)
    assert spec.expiry_ms is None
    eth = COINM.spec("ETHUSD_PERP")
    assert eth.settle == "ETH" and eth.contract_size == 10 and eth.step_size == 10


def test_quarterly_expiry_is_binances_delivery_date() -> None:
    spec = COINM.spec("BTCUSD_200925")
    # deliveryDate 1601020800000 ms = 2020-09-25 08:00 UTC, the quarter's last Friday at 08:00.
    assert spec.expiry_ms == 1_601_020_800_000
    assert datetime.fromtimestamp(spec.expiry_ms / 1000, tz=UTC) == datetime(2020, 9, 25, 8, tzinfo=UTC)
    assert "delivered" in spec.delivery
    # Brackets are per pair (BTCUSD): the quarterly shares the perpetual's table.
    assert spec.table.tiers == COINM.spec("BTCUSD_PERP").table.tiers


def test_maintenance_amounts_are_the_faqs() -> None:
    tiers = COINM.spec("BTCUSD_PERP").table.tiers
    # FAQ: "the BTCUSD Maintenance Amount on Level 5 = 50 BTC × (5% − 2.5%) + 0.56 BTC = 1.81 BTC".
    assert tiers[3].mmr == D("0.025") and tiers[3].maint_amount == D("0.56")
    assert tiers[4].floor == 50 and tiers[4].mmr == D("0.05")
    assert tiers[4].maint_amount == 50 * (D("0.05") - D("0.025")) + D("0.56") == D("1.81")
    # FAQ: "if the position of BTCUSD Contract is 300 BTC … maintenance margin rate 12.5 % … amount 11.81 BTC".
    t = COINM.spec("BTCUSD_PERP").table.tier_for(D(300))
    assert (t.mmr, t.maint_amount) == (D("0.125"), D("11.81"))


def test_ethusd_brackets_are_the_2021_05_17_announcement() -> None:
    # Binance "Updates to Leverage and Margin Tiers of Binance Futures Contracts (2021-05-17)", ETH Perpetual, after
    # the change (notional in ETH): 0–15 at 100× 0.5 %, 15–100 at 75× 0.65 %, 100–250 at 50× 1 %, 250–500 at 20×
    # 2.5 %, …, above 7,500 at 1× 50 %. Amounts by the recurrence: 15 × (0.65 % − 0.5 %) = 0.0225 ETH at 75×;
    # + 100 × (1 % − 0.65 %) = 0.3725 at 50×; + 250 × (2.5 % − 1 %) = 4.1225 at 20×.
    t = COINM.spec("ETHUSD_PERP").table
    assert [(x.cap, x.mmr, x.max_leverage) for x in t.tiers[:4]] == [
        (15, D("0.005"), 100),
        (100, D("0.0065"), 75),
        (250, D("0.01"), 50),
        (500, D("0.025"), 20),
    ]
    assert [x.maint_amount for x in t.tiers[:4]] == [0, D("0.0225"), D("0.3725"), D("4.1225")]
    last = t.tiers[-1]
    assert (last.floor, last.cap, last.mmr, last.max_leverage) == (7500, None, D("0.5"), 1)


def test_maintenance_margin_is_the_faqs_worked_example() -> None:
    # FAQ: 100 contracts, mark 25,000: notional 100 × 100 / 25,000 = 0.4 BTC, level 1,
    # MM = 0.4 × 0.4 % − 0 = 0.0016 BTC. isomargin's size is the face value: 100 × 100 = 10,000 USD.
    spec = COINM.spec("BTCUSD_PERP")
    assert COINM.maintenance_margin(spec, Side.LONG, "10000", "25000", "25000") == D("0.0016")


def test_expiry_must_be_whole_positive_milliseconds() -> None:
    assert expiry_ms(None) is None
    assert expiry_ms("1601020800000") == 1_601_020_800_000
    for bad in ("0", "-5", "1.5", "soon"):
        with pytest.raises(MarginError):
            expiry_ms(bad)
