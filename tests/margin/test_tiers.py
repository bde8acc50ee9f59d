"""Tier tables: the maintenance-amount recurrence, validation, look-up and continuity."""

import itertools
from decimal import Decimal as D

import pytest

from isomargin.margin import Deduction, MarginError, Tier, TierBasis, TierTable, cumulative_amount
from isomargin.venues import get_profile

# Binance BTCUSDT brackets (GET /fapi/v1/leverageBracket via freqtrade's cached copy, 2024-10-24; see
# src/isomargin/venues/data/binance.json): cum values as Binance publishes them.
BINANCE_BTC = [
    (0, 50000, "0.004", 125, 0),
    (50000, 600000, "0.005", 100, 50),
    (600000, 3000000, "0.0065", 75, 950),
    (3000000, 12000000, "0.01", 50, 11450),
    (12000000, 70000000, "0.02", 25, 131450),
]


def rows(data: list[tuple[int, int | None, str, int, int]]) -> list[dict[str, object]]:
    return [
        {
            "tier": i,
            "floor": str(f),
            "cap": None if c is None else str(c),
            "mmr": r,
            "max_leverage": str(lev),
            "maint_amount": str(cum),
        }
        for i, (f, c, r, lev, cum) in enumerate(data, start=1)
    ]


def test_recurrence_reproduces_binance_published_cum() -> None:
    # cum_2 = 50,000 × (0.005 − 0.004) + 0 = 50; cum_3 = 600,000 × 0.0015 + 50 = 950;
    # cum_4 = 3,000,000 × 0.0035 + 950 = 11,450; cum_5 = 12,000,000 × 0.01 + 11,450 = 131,450.
    assert cumulative_amount(D(50000), D("0.005"), D("0.004"), D(0)) == 50
    derived = TierTable.from_rates([(f, c, r, lev) for f, c, r, lev, _ in BINANCE_BTC])
    assert [t.maint_amount for t in derived.tiers] == [D(c) for *_, c in BINANCE_BTC]
    assert TierTable.from_rows(rows(BINANCE_BTC)) == derived


def test_table_breaking_the_recurrence_is_rejected() -> None:
    broken = rows(BINANCE_BTC)
    broken[2]["maint_amount"] = "951"
    with pytest.raises(MarginError) as exc:
        TierTable.from_rows(broken)
    assert exc.value.code == "bad_tiers" and "expected 950" in exc.value.message


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda r: r[1].update(floor="40000"), "must equal the previous cap"),
        (lambda r: r[1].update(mmr="0.003", maint_amount="-50"), "must not fall"),
        (lambda r: r[1].update(max_leverage="150"), "must not rise"),
        (lambda r: r[0].update(mmr="0.01"), "exceeds the initial rate"),
        (lambda r: r[0].update(floor="10"), "must start at 0"),
        (lambda r: r[0].update(tier=2), "numbered 1..n"),
        (lambda r: r[0].update(mmr="0"), "between 0 and 1"),
    ],
)
def test_invalid_tables_are_rejected(mutate, fragment) -> None:  # type: ignore[no-untyped-def]
    data = rows(BINANCE_BTC)
    mutate(data)
    with pytest.raises(MarginError, match=fragment):
        TierTable.from_rows(data)


def test_lookup_edges_and_above_cap() -> None:
    table = TierTable.from_rows(rows(BINANCE_BTC))
    assert table.tier_for(D(0)).tier == 1
    assert table.tier_for(D(50000)).tier == 1  # floor ≤ size ≤ cap; the first match wins at a shared edge
    assert table.tier_for(D("50000.01")).tier == 2
    assert table.max_leverage(D(700000)) == 75
    with pytest.raises(MarginError) as exc:
        table.tier_for(D(70000001))
    assert exc.value.code == "above_max_tier"
    assert table.tier_at(D(70000001)).tier == 5  # an existing position keeps the last tier's rate


def test_maintenance_margin_is_continuous_at_every_cap() -> None:
    for venue in ("binance", "hyperliquid", "bybit"):
        for spec in get_profile(venue).symbols.values():
            tiers = spec.table.tiers
            for lower, upper in itertools.pairwise(tiers):
                assert lower.cap is not None
                assert lower.cap * lower.mmr - lower.maint_amount == lower.cap * upper.mmr - upper.maint_amount


def test_maintenance_margin_value() -> None:
    table = TierTable.from_rows(rows(BINANCE_BTC))
    # 650,000 notional is in tier 3: 650,000 × 0.0065 − 950 = 3,275.
    assert table.maintenance_margin(D(650000)) == D("3275")


def test_check_leverage_against_tier() -> None:
    table = TierTable.from_rows(rows(BINANCE_BTC))
    assert table.check_leverage("100", D(60000)) == 100
    with pytest.raises(MarginError) as exc:
        table.check_leverage("125", D(60000))
    assert exc.value.code == "leverage_above_tier_max"


def test_contracts_basis_table_uses_contract_count() -> None:
    table = TierTable(
        (Tier(1, D(0), D(1000), D("0.004"), D(100)), Tier(2, D(1000), None, D("0.005"), D(50))),
        TierBasis.CONTRACTS,
        Deduction.NONE,
        D("0.01"),
    )
    # 12 BTC at ctVal 0.01 = 1,200 contracts → tier 2; whole position at 0.5 %, no deduction.
    assert table.size_of(D(12), D(720000)) == D(1200)
    assert table.maintenance_margin(D(720000), size=D(1200)) == D(3600)
