"""The seeds' sizing framework and isolated-margin adjustment."""

from decimal import Decimal as D

import pytest

from isomargin.margin import (
    MarginError,
    MMBasis,
    Side,
    TierTable,
    adjust_isolated_margin,
    atr_stop,
    max_removable_margin,
    plan_position,
)

FLAT = TierTable.flat("0.005", "125")
ENTRY = MMBasis.ENTRY


def test_seeds_framework_two_percent_of_ten_thousand() -> None:
    # Seeds (article 000): 2 % of a 10,000 account = 200 isolated margin; at 10× that is 2,000 notional.
    plan = plan_position(Side.LONG, "10000", "0.02", "10", "65000", FLAT, mm_basis=ENTRY)
    assert plan.risk_budget == D(200) and plan.margin == D(200) and plan.notional == D(2000)
    # Liquidation by the seeds' formula: 65,000 × (1 − 0.1 + 0.005) = 58,825.
    assert plan.liquidation_price == D(58825)


def test_size_rounds_down_to_step_and_margin_follows() -> None:
    # 200 × 10 / 65,000 = 0.030769… BTC → 0.030 at step 0.001; margin = 0.03 × 65,000 / 10 = 195 ≤ budget.
    plan = plan_position(Side.LONG, "10000", "0.02", "10", "65000", FLAT, step="0.001", mm_basis=ENTRY)
    assert plan.size == D("0.030") and plan.margin == D(195)


def test_stop_must_lie_between_entry_and_liquidation() -> None:
    ok = plan_position(Side.LONG, "10000", "0.02", "10", "65000", FLAT, stop="62000", mm_basis=ENTRY)
    # Loss at the stop: 2,000/65,000 BTC × 3,000 = 92.307…
    assert ok.loss_at_stop is not None and ok.loss_at_stop.quantize(D("0.01")) == D("92.31")
    for bad in ("58000", "58825", "65000", "66000"):
        with pytest.raises(MarginError) as exc:
            plan_position(Side.LONG, "10000", "0.02", "10", "65000", FLAT, stop=bad, mm_basis=ENTRY)
        assert exc.value.code == "stop_outside_range"
    with pytest.raises(MarginError):
        plan_position(Side.SHORT, "10000", "0.02", "10", "65000", FLAT, stop="64000", mm_basis=ENTRY)
    short = plan_position(Side.SHORT, "10000", "0.02", "10", "65000", FLAT, stop="67000", mm_basis=ENTRY)
    assert short.liquidation_price == D(71175)


def test_atr_stop_fits_btc_but_not_sol_at_20x() -> None:
    # Seeds: SOL ~4 % ATR vs BTC ~1.5 %. A 2×ATR stop: BTC 3 %, SOL 8 % from entry. At 20× the seeds'
    # formula puts liquidation 1/20 − 0.5 % = 4.5 % away: BTC's stop fits, SOL's lies beyond liquidation.
    assert atr_stop(Side.LONG, "65000", "0.015", 2) == D(63050)
    plan_position(Side.LONG, "10000", "0.02", "20", "65000", FLAT, atr_fraction="0.015", atr_multiple=2, mm_basis=ENTRY)
    with pytest.raises(MarginError) as exc:
        plan_position(
            Side.LONG, "10000", "0.02", "20", "150", FLAT, atr_fraction="0.04", atr_multiple=2, mm_basis=ENTRY
        )
    assert exc.value.code == "stop_outside_range"
    # At 10× (liquidation 9.5 % away) the SOL stop fits.
    plan_position(Side.LONG, "10000", "0.02", "10", "150", FLAT, atr_fraction="0.04", atr_multiple=2, mm_basis=ENTRY)


def test_sizing_rejects_bad_inputs() -> None:
    with pytest.raises(MarginError, match="more than the whole account"):
        plan_position(Side.LONG, "100", "1.5", "10", "100", FLAT)
    with pytest.raises(MarginError) as exc:
        plan_position(Side.LONG, "100", "0.5", "200", "100", FLAT)
    assert exc.value.code == "leverage_above_tier_max"
    with pytest.raises(MarginError) as exc:
        plan_position(Side.LONG, "1", "0.01", "1", "65000", FLAT, step="0.001")
    assert exc.value.code == "below_step"


def test_max_removable_counts_losses_not_profits() -> None:
    # 10× long 1 at 65,000 with 8,000 margin. At mark 65,000: IM at mark 6,500 → 1,500 removable.
    assert max_removable_margin(Side.LONG, "1", "65000", "8000", "65000", "10") == D(1500)
    # Mark 70,000: +5,000 unrealised profit does not count; IM at mark 7,000 → 1,000.
    assert max_removable_margin(Side.LONG, "1", "65000", "8000", "70000", "10") == D(1000)
    # Mark 64,000: −1,000 loss counts; IM 6,400 → 8,000 − 1,000 − 6,400 = 600.
    assert max_removable_margin(Side.LONG, "1", "65000", "8000", "64000", "10") == D(600)
    assert max_removable_margin(Side.LONG, "1", "65000", "6500", "60000", "10") == 0


def test_adjusting_margin_moves_only_the_liquidation_price() -> None:
    # Seeds' formula, long 1 at 65,000: LP = 65,000 − (margin − 325). Add 1,500 to 6,500 → 58,825 − 1,500.
    adj = adjust_isolated_margin(Side.LONG, "1", "65000", "6500", "1500", "65000", "10", FLAT, mm_basis=ENTRY)
    assert (adj.liquidation_before, adj.liquidation_after) == (D(58825), D(57325))
    back = adjust_isolated_margin(Side.LONG, "1", "65000", "8000", "-1500", "65000", "10", FLAT, mm_basis=ENTRY)
    assert back.liquidation_after == D(58825) and back.max_removable == D(1500)
    with pytest.raises(MarginError) as exc:
        adjust_isolated_margin(Side.LONG, "1", "65000", "8000", "-1500.01", "65000", "10", FLAT, mm_basis=ENTRY)
    assert exc.value.code == "above_max_removable"
