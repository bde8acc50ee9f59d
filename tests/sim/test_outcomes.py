"""Known outcomes computed by hand: liquidation at the profile's price, the cascade, the gap to the fund."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np

from isomargin.sim import (
    BacktestConfig,
    BuyAndHold,
    MarketConfig,
    compare_stress,
    make_bars,
    parse_positions,
    run_backtest,
)
from isomargin.sim.stress import EPISODES

T0 = 1_700_000_000_000


def path(prices: list[float], opens: list[float] | None = None):  # type: ignore[no-untyped-def]
    c = np.array(prices, dtype=float)
    o = np.array(opens if opens is not None else [prices[0], *prices[:-1]], dtype=float)
    return make_bars(T0 + np.arange(len(c)) * 60_000, o, np.maximum(o, c), np.minimum(o, c), c)


def test_buy_and_hold_10x_on_a_12_percent_fall_loses_exactly_margin_plus_fees() -> None:
    # simple venue (seeds' formula), fee-free maker, 0.05 % taker, spread 0: entry 65,000 exactly.
    # LP = 65,000 × (1 − 1/10 + 0.005) = 58,825; the path falls 12 % to 57,200, through the LP.
    market = MarketConfig(venue="simple", maker_fee=D(0), taker_fee=D("0.0005"), spread=D(0))
    cfg = BacktestConfig(leverage=10, deposit=D(10_000), market=market)
    bars = path([*np.linspace(65_000, 57_200, 25).round(1).tolist(), 57_200.0])
    r = run_backtest(bars, BuyAndHold(fraction=0.5), cfg)
    (pos,) = r["positions"]
    qty = pos["size"]  # 5,000 × 10 / 65,000 → 0.769
    margin = qty * D(65_000) / 10
    fee = qty * D(65_000) * D("0.0005")
    assert pos["entry"] == D(65_000)
    assert pos["liquidated"] and pos["liquidation_price"] == D(58_825)
    (liq,) = [x for x in r["liquidations"] if x["step"] == "close"]
    assert liq["mark"] == D(58_825)  # triggered at the profile's price, inside the bar, not at the bar's low
    assert pos["allocated_margin"] == margin
    assert pos["loss"] == margin + fee  # exactly its margin + the opening fee (the closing fee came out of the pool)
    assert r["wallet"] == D(10_000) - margin - fee  # the rest of the wallet is intact
    assert pos["loss_fraction_of_margin"] == 1 and pos["isolated_cap_ok"]


def test_three_position_cascade_differs_between_modes() -> None:
    # Seeds: BTC, ETH, SOL at 10×, one account; BTC −30 %. Isolated: only BTC liquidated, loss = its margin
    # (+ fees). Cross: the BTC loss eats the shared wallet and all three go.
    book = parse_positions("1@BTCUSDT:long:10x:1000,1@ETHUSDT:long:10x:900,1@SOLUSDT:long:10x:900")
    r = compare_stress(EPISODES["cascade"].build(), book, MarketConfig(venue="simple", maker_fee=D(0), taker_fee=D(0)))
    iso, cross = r["isolated"], r["cross"]
    assert [(p["symbol"], p["liquidated"]) for p in iso["positions"]] == [
        ("BTCUSDT", True),
        ("ETHUSDT", False),
        ("SOLUSDT", False),
    ]
    assert sorted(p["symbol"] for p in cross["positions"] if p["liquidated"]) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    btc = iso["positions"][0]
    assert btc["margin_loss"] == btc["allocated_margin"]  # lost exactly its allocation, no more
    (acct,) = iso["accounts"]
    assert acct["cap_ok"] and acct["loss"] < D(1100)
    (cacct,) = cross["accounts"]
    assert cacct["loss"] > D(2900)  # the whole account
    assert iso["isolated_cap_ok"]


def test_a_gap_through_the_liquidation_price_fills_at_the_open_and_draws_on_the_fund() -> None:
    # 10× long at 60,000 (LP 54,300, BP 54,000 on simple); the next bar opens at 50,000: no price in
    # between, so the book (re-quoted at the open) cannot take the IOC at 54,000; the fund takes the
    # position over at the bankruptcy price and sells it at ≈ 50,000, paying the ≈ 4,000 × qty gap.
    market = MarketConfig(venue="simple", maker_fee=D(0), taker_fee=D(0), spread=D(0), insurance=D(100_000))
    cfg = BacktestConfig(leverage=10, deposit=D(20_000), market=market)
    bars = path([60_000.0, 60_000.0, 50_000.0, 50_000.0], opens=[60_000.0, 60_000.0, 50_000.0, 50_000.0])
    r = run_backtest(bars, BuyAndHold(fraction=0.5), cfg)
    (pos,) = r["positions"]
    steps = [x["step"] for x in r["liquidations"]]
    assert steps == ["takeover"]
    assert r["liquidations"][0]["mark"] == D(50_000)  # at the open, not at the liquidation price
    # The fund sells at the book's bid at the open (zero spread: one tick under 50,000).
    assert r["insurance_draws"] == pos["size"] * (D(54_000) - D("49999.9"))
    assert pos["margin_loss"] == pos["allocated_margin"]  # the owner still lost only the margin
    assert r["wallet"] == D(20_000) - pos["allocated_margin"]


def test_a_stop_inside_a_bar_fills_near_its_price_not_at_the_low() -> None:
    market = MarketConfig(venue="simple", maker_fee=D(0), taker_fee=D(0), spread=D(0))
    cfg = BacktestConfig(leverage=5, deposit=D(10_000), market=market)
    c = np.array([60_000.0, 60_000.0, 54_000.0])
    o = np.array([60_000.0, 60_000.0, 60_000.0])
    bars = make_bars(T0 + np.arange(3) * 60_000, o, np.maximum(o, c), [60_000.0, 60_000.0, 54_000.0], c)
    r = run_backtest(bars, BuyAndHold(fraction=0.5, stop=0.03), cfg)
    (pos,) = r["positions"]
    assert not pos["liquidated"]
    sells = [t for t in r["trades_list"] if t["side"] == "SELL"]
    assert sells and sells[0]["price"] == D("58199.9")  # the bid under the 58,200 stop, where the walk stopped
