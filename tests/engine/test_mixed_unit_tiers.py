"""A tier table keyed by contracts with Binance's cumulative maintenance amounts mixes units: the amounts
(floor × Δrate, in contracts × rate) are subtracted from a maintenance margin in the coin, so a big position's MM
comes out negative. The venue loader accepts such a table (`TierTable.from_rates(basis=CONTRACTS)`); the engine
and its queries must stay total over it.

The table (enginekit's INVERSE_BRACKETS keyed by contracts): the top tier (≥ 100 contracts) has rate 0.1 and a
cumulative amount 0 + 5·0.001 + 10·0.005 + 20·0.015 + 50·0.025 + 100·0.05 = 6.605. A long of 1,000,000 USD
(10,000 contracts) at 60,000 is worth 1,000,000 / 60,000 = 16.6666… BTC, so MM = 16.6666… × 0.1 − 6.605 =
1.6666… − 6.605 = −4.9383… BTC: no venue requires a negative margin, so it reads as 0.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from enginekit import D, Venue, inverse_spec, of

from isomargin.engine import (
    AdjustMargin,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetMarginMode,
    SettleFunding,
    queries,
)
from isomargin.engine.events import Trade
from isomargin.margin import TierBasis

SYM = "BTCUSD_PERP"


def venue(isolated: bool, name: str = "binance") -> Venue:
    spec = inverse_spec(basis=TierBasis.CONTRACTS)
    assert spec.table.tiers[-1].maint_amount == D("6.605")
    v = Venue(venue=name, symbols=("BTCUSDT",), inverse=(spec,))
    for n in (1, 2, 3):
        v.account(n, usdt="0", coins={"BTC": "100"}, leverage=5)
    if isolated:
        v.ok(SetMarginMode(1, SYM, MarginMode.ISOLATED))
    v.mark(SYM, "60000")
    v.ok(PlaceOrder(2, SYM, OrderSide.SELL, OrderType.LIMIT, D(1_000_000), D(60000)))
    assert of(v.ok(PlaceOrder(1, SYM, OrderSide.BUY, OrderType.LIMIT, D(1_000_000), D(60000))), Trade)
    return v


def test_negative_maintenance_reads_as_zero_in_the_position_view() -> None:
    for isolated in (True, False):
        v = venue(isolated)
        p = v.position(1, SYM)  # raised MarginError (negative maintenance margin) before
        assert p["maintenance_margin"] == 0
        assert p["size"] == D(1_000_000) and p["entry_price"] == D(60000)
        # The short is the same size: its view is total too.
        assert v.position(2, SYM)["maintenance_margin"] == 0
        # Every account-level query reads through the same view.
        for n in (1, 2):
            assert queries.account(v.engine, n) is not None


@pytest.mark.parametrize("name", ["binance", "okx"])  # OKX measures isolated margin calls with the ratio
def test_engine_commands_stay_total_over_the_table(name: str) -> None:
    # Marks across a wide range, funding, margin changes and closes: each command is taken or rejected with a
    # code, never an exception (Venue runs the invariant audit after every command).
    for isolated in (True, False):
        v = venue(isolated, name)
        for mark in ("50000", "30000", "12000", "90000", "60000"):
            v.mark(SYM, mark)
            v.position(1, SYM)
            v.position(2, SYM)
        v.ok(SettleFunding(SYM, Decimal("0.0001")))
        if isolated:
            v.engine.apply(AdjustMargin(1, SYM, D(1)))
            v.engine.apply(AdjustMargin(1, SYM, D(-1)))
        for mark in ("40000", "20000", "6000"):
            v.engine.apply(PlaceOrder(3, SYM, OrderSide.BUY, OrderType.LIMIT, D(100_000), D(mark)))
            v.mark(SYM, mark)
            for n in (1, 2, 3):
                v.position(n, SYM)
                queries.account(v.engine, n)
