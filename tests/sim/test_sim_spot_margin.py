"""The simulator's spot-margin leg: hourly interest along a path as hand-derived, a crash liquidating the isolated
margin account with the loss inside its collateral, the same seed giving the same events, and the CLI refusing
flags that do not fit the product.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from isomargin.engine.commands import SideEffect
from isomargin.sim.backtest import BacktestConfig, run_backtest
from isomargin.sim.cli import app
from isomargin.sim.errors import SimError
from isomargin.sim.generators import gbm_jumps
from isomargin.sim.market import MarketConfig
from isomargin.sim.paths import Bars, make_bars
from isomargin.sim.results import dumps
from isomargin.sim.spot_vs_perp import compare, table
from isomargin.sim.strategy import BuyAndHold, Context, SpotMarginLong, Strategy

PAIR = "BTC-USDT"
HOUR = 3_600_000
MINUTE = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a whole hour
NO_FEES = MarketConfig(maker_fee=D(0), taker_fee=D(0))
runner = CliRunner()


def path(prices: list[float], start: int = T0, every: int = HOUR) -> Bars:
    """Bars whose open, high, low and close are each the given price (no move inside a bar)."""
    p = np.asarray(prices, dtype=float)
    return make_bars(start + np.arange(len(p)) * every, p, p, p, p)


def spot_run(bars: Bars, strategy: Strategy, market: MarketConfig = NO_FEES, leverage: int = 3) -> dict[str, Any]:
    cfg = BacktestConfig(symbol=PAIR, leverage=leverage, market=market, product="spot-margin")
    return run_backtest(bars, strategy, cfg)


# Binance BTC-USDT, no fees, the provider's half-spread 0.0002 on a flat 60,000: ask 60,012.00, bid 59,988.00.
# 10,000 USDT, fraction 0.9 → 9,000 collateral; 3× → buy for 27,000 at the ask: 27,000 / 60,012 = 0.449910…,
# rounded down to the 0.00001 step → 0.44991 BTC costing 0.44991 × 60,012 = 26,999.99892; MARGIN_BUY borrows
# 26,999.99892 − 9,000 = 17,999.99892 USDT.
PRINCIPAL = D("17999.99892")


def test_interest_is_principal_times_daily_over_24_per_hour_crossed() -> None:
    # Daily 0.00013: one hour = 17,999.99892 × 0.00013 / 24 = 2.3399998596 / 24 = 0.09749999415, rounded up to
    # 10⁻¹⁰ → 0.0974999942. Ten 1-hour bars from 00:00: the first hour at borrowing (bar 0), then one at each bar's
    # whole hour 01:00 … 09:00 → 10 hours = 0.974999942 USDT.
    market = MarketConfig(maker_fee=D(0), taker_fee=D(0), borrow_rate=D("0.00013"))
    r = spot_run(path([60_000.0] * 10), SpotMarginLong(leverage=3, fraction=0.9), market)
    hour = D("0.0974999942")
    assert r["loans_list"][0]["amount"] == PRINCIPAL
    assert r["interest_hours"] == 10
    assert [x["amount"] for x in r["interest_list"]] == [hour] * 10
    assert r["interest"] == 10 * hour == D("0.974999942")
    # Sold at the bid: 0.44991 × 59,988 = 26,989.20108, repaying 17,999.99892 + 0.974999942; the margin account
    # keeps 8,988.227160058, the wallet its 1,000: 9,988.227160058 (10,000 − 10.79784 of spread − the interest).
    assert r["final_equity"] == D("9988.227160058")
    assert r["full_liquidations"] == 0 and r["rejections"] == 0


def test_minute_bars_charge_at_each_whole_hour_they_reach() -> None:
    # 120 one-minute bars from 00:30 to 02:29: the hour 00:00 at borrowing (00:30), then 01:00 and 02:00 → 3 hours
    # at the venue's 0.00024 a day: 17,999.99892 × 0.00001 = 0.1799999892 each, exact.
    r = spot_run(path([60_000.0] * 120, T0 + 30 * MINUTE, MINUTE), SpotMarginLong(leverage=3, fraction=0.9))
    assert r["interest_hours"] == 3
    assert [x["bar"] for x in r["interest_list"]] == [0, 30, 90]
    assert r["interest"] == 3 * D("0.1799999892")


def crash(start: float, end: float, n: int, every: int) -> Bars:
    """A continuous fall: each bar opens at the previous close (no gap), so the walk meets every price between."""
    c = np.linspace(start, end, n)
    o = np.concatenate(([start], c[:-1]))
    return make_bars(T0 + np.arange(n) * every, o, np.maximum(o, c), np.minimum(o, c), c)


def test_a_crash_liquidates_at_the_liquidation_price_within_the_collateral() -> None:
    # 5× on half the wallet: 5,000 collateral buys 25,000 / 60,012 → 0.41658 BTC for 24,999.79896, borrowing
    # 19,999.79896 (first hour 19,999.79896 × 0.00001 = 0.1999979896). Binance liquidates at margin level 1.05:
    # 0.41658 · P = 1.05 × 19,999.9989579896 → P = 50,410.482754546…; the walk (one-minute bars, all inside the
    # first hour) stops at it on the 10⁻⁸ grid. Sold at the bid ⌊50,410.48275454 × 0.9998⌋₀.₀₁ = 50,400.40:
    # 0.41658 × 50,400.40 = 20,995.798632; the loan 19,999.9989579896 and the 2 % fee on it 399.9999791598 repaid,
    # 595.7996948506 goes back to the wallet beside its untouched 5,000.
    r = spot_run(crash(60_000.0, 45_000.0, 61, MINUTE), SpotMarginLong(leverage=5, fraction=0.5), leverage=5)
    close, done = r["spot_liquidations"]
    assert (close["step"], done["step"]) == ("close", "done") and r["full_liquidations"] == 1
    assert close["mark"] == D("50410.48275454")
    assert close["repaid"] == D("19999.9989579896") and close["fee"] == D("399.9999791598")
    assert done["returned"] == D("595.7996948506") and close["shortfall"] == 0
    assert r["final_equity"] == D("5595.7996948506")  # the loss, 4,404.20…, is inside the 5,000 collateral


def test_a_gap_through_the_liquidation_price_loses_at_most_the_collateral() -> None:
    # Flat hourly bars 60,000 → 30,000: every bar gaps, so the account is liquidated at the first open below
    # its liquidation price (≈ 50,410 as above) with a margin level under 1.05. The wallet's other 5,000 is never
    # touched: the loss is at most the 5,000 collateral, whatever the gap.
    falling = list(np.linspace(60_000.0, 30_000.0, 20))
    r = spot_run(path(falling), SpotMarginLong(leverage=5, fraction=0.5), leverage=5)
    assert r["full_liquidations"] == 1 and r["bad_debt"] == 0
    loss = D(10_000) - r["final_equity"]
    assert D(0) < loss <= D(5_000)
    assert r["final_equity"] >= r["wallet"] >= D(5_000)


def test_same_seed_same_events() -> None:
    bars = gbm_jumps(600, seed=11, tick=0.01)
    runs = [dumps(spot_run(bars, SpotMarginLong(leverage=4), MarketConfig(), leverage=4)) for _ in range(2)]
    assert runs[0] == runs[1]
    other = dumps(spot_run(gbm_jumps(600, seed=12, tick=0.01), SpotMarginLong(leverage=4), MarketConfig(), 4))
    assert other != runs[0]


def test_a_perp_strategy_is_refused_on_spot_margin_and_back() -> None:
    with pytest.raises(SimError, match="trades perp"):
        run_backtest(path([60_000.0] * 3), BuyAndHold(), BacktestConfig(symbol=PAIR, product="spot-margin"))
    with pytest.raises(SimError, match="trades spot-margin"):
        run_backtest(path([60_000.0] * 3), SpotMarginLong(), BacktestConfig(symbol="BTCUSDT"))


SPOT = ["--product", "spot-margin", "--symbol", PAIR, "--strategy", "spot-margin-long"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--product", "spot", "--symbol", PAIR], "bad_product"),
        (["--product", "spot-margin", "--symbol", PAIR], "wrong_product"),  # the default buy-and-hold is a perp's
        (["--symbol", PAIR, "--strategy", "spot-margin-long"], "wrong_product"),
        ([*SPOT, "--leverage", "11"], "bad_leverage"),  # Binance isolated BTC-USDT: at most 10×
        ([*SPOT, "--margin-mode", "cross"], "bad_margin_mode"),
        ([*SPOT, "--funding", "0.0001"], "bad_parameter"),
        ([*SPOT, "--compare-modes"], "bad_parameter"),
        ([*SPOT, "--borrow-rate", "1.5"], "bad_borrow_rate"),
        (["--borrow-rate", "0.001"], "bad_parameter"),
        ([*SPOT, "--balance", "1 BTC"], "balance_asset_mismatch"),
        (["--product", "spot-margin", "--symbol", "DOGE-USDT", "--strategy", "spot-margin-long"], "bad_symbol"),
    ],
)
def test_cli_refuses_flags_that_do_not_fit(args: list[str], code: str) -> None:
    res = runner.invoke(app, ["backtest", *args, "--generator", "gbm", "--bars", "10", "-q"])
    assert res.exit_code == 2, res.output
    assert f"error: {code}:" in res.output


def test_cli_runs_a_spot_margin_backtest() -> None:
    res = runner.invoke(app, ["backtest", *SPOT, "--leverage", "3", "--generator", "gbm", "--bars", "120", "--json"])
    assert res.exit_code == 0, res.output
    assert '"product":"spot-margin"' in res.output and '"interest_hours":2' in res.output


def test_the_readme_comparison_charges_interest_hourly_and_funding_every_8_hours() -> None:
    # 3 days of hourly bars from 00:00: spot interest for all 72 hours on the 17,999.99892 loan at 0.00024 a day
    # (0.1799999892 an hour) = 12.9599992224; the perpetual pays at the 8 boundaries crossed after its first bar.
    runs = compare(seed=4, days=3)
    spot, perp = runs["spot margin"], runs["perpetual"]
    assert spot["interest_hours"] == 72 and spot["interest"] == D("12.9599992224")
    assert len(perp["funding_list"]) == 8 and perp["funding"] < 0 and spot["funding"] == 0
    assert "interest, 72 h" in table(runs) and "funding, 8 × 8 h" in table(runs)


def test_the_readme_and_docs_show_what_the_comparison_prints() -> None:
    root = Path(__file__).resolve().parents[2]
    printed = table(compare(seed=4))
    assert printed in (root / "README.md").read_text(encoding="utf-8")
    assert printed in (root / "docs" / "simulator.md").read_text(encoding="utf-8")


def test_an_opening_beyond_the_borrow_limit_is_refused_and_said() -> None:
    # 10× on the whole 10,000: 100,000 / 60,012 → 1.66633 BTC for 99,999.79596, so MARGIN_BUY would borrow
    # 89,999.79596 USDT, beyond Binance's 70,000 USDT limit on an isolated BTC-USDT account: nothing is bought.
    r = spot_run(path([60_000.0] * 3), SpotMarginLong(), leverage=10)
    assert r["trades"] == 0 and r["final_equity"] == D(10_000)
    (why,) = r["rejections_list"]
    assert why["code"] == "above_max_borrowable" and "89999.79596" in why["message"]
    assert any(w.startswith("spot-margin-long did not open: above_max_borrowable") for w in r["warnings"])


class BorrowBuySellRepay(Strategy):
    """The API by hand: 5,000 USDT in, 5,000 borrowed, 0.1 BTC bought without a side effect; at bar 2's close sold
    without one and everything owed repaid."""

    product = "spot-margin"

    def on_start(self, ctx: Context) -> None:
        assert ctx.spot is not None
        assert ctx.spot.transfer(5_000) and ctx.spot.borrow(5_000)
        assert ctx.spot.buy(D("0.1"), side_effect=SideEffect.NO_SIDE_EFFECT)

    def on_bar(self, ctx: Context) -> None:
        if ctx.i == 2:
            assert ctx.spot is not None
            assert ctx.spot.sell(D("0.1"), side_effect=SideEffect.NO_SIDE_EFFECT) and ctx.spot.repay()


def test_a_strategy_transfers_borrows_trades_and_repays_through_ctx_spot() -> None:
    # Three hourly bars at 60,000: interest 5,000 × 0.00024 / 24 = 0.05 an hour, charged at 00:00 (the borrow),
    # 01:00 and 02:00 = 0.15. Bought 0.1 at 60,012 = 6,001.20, sold at 59,988 = 5,998.80; repaid 5,000.15.
    # Margin account: 5,000 + 5,000 − 6,001.20 + 5,998.80 − 5,000.15 = 4,997.45; with the wallet's 5,000: 9,997.45.
    r = spot_run(path([60_000.0] * 3), BorrowBuySellRepay())
    assert [(x["kind"], x["amount"], x["auto"]) for x in r["loans_list"]] == [
        ("borrow", D(5_000), None),
        ("repay", D("5000.15"), "user"),
    ]
    assert r["interest"] == D("0.15") and r["interest_hours"] == 3
    assert r["final_equity"] == D("9997.45") and r["rejections"] == 0
