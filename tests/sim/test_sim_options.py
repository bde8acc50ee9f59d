"""The simulator's options leg: a +30 % gap liquidates a tier-2 short strangle one tier down first, then in full,
within its pools; expiry along a path settles at the bar's open and pays intrinsic; same seed, same events; the
stress book's tier-3 short steps down tier by tier; CLI refusals. Figures hand-derived from OKX BTC-USD's rules.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from isomargin.engine import LiquidationStep
from isomargin.sim.backtest import BacktestConfig, run_backtest
from isomargin.sim.cli import app
from isomargin.sim.generators import START_TS, gbm
from isomargin.sim.market import MarketConfig
from isomargin.sim.options_leg import OptionsSetup, expiry_after
from isomargin.sim.options_stress import OptionsBook, gap_path, run_options_stress
from isomargin.sim.paths import Bars, make_bars
from isomargin.sim.results import dumps
from isomargin.sim.strategy import Context, CoveredCall, ShortStrangle, Strategy

H = 3_600_000
runner = CliRunner()
CFG = dict(symbol="BTC-USD", product="options", market=MarketConfig(venue="okx"))


def flat_then(price: float, at: int, n: int, start: float = 95_000.0) -> Bars:
    """Hourly bars flat at `start`, then from bar `at` (its open included) flat at `price`."""
    close = np.full(n, start)
    close[at:] = price
    return make_bars(START_TS + np.arange(n) * H, close, close, close, close)


class Recording(ShortStrangle):
    """A short strangle that notes its wallet right after selling."""

    def on_start(self, ctx: Context) -> None:
        super().on_start(ctx)
        self.wallet_after_sale = ctx.wallet


def steps_of(result: dict[str, Any], symbol: str) -> list[tuple[LiquidationStep, D]]:
    return [(x["step"], x["qty"] + x["taken_over"]) for x in result["option_liquidations"] if x["symbol"] == symbol]


def test_expiry_is_08_utc_at_least_the_days_ahead() -> None:
    assert expiry_after(START_TS, 7) == START_TS + 7 * 86_400_000 + 8 * H  # 2024-01-01 00:00 → 01-08 08:00
    assert expiry_after(START_TS + 9 * H, 1) == START_TS + 2 * 86_400_000 + 8 * H  # 01-02 09:00 is past 08:00


def test_a_gap_liquidates_a_tier_2_strangle_one_tier_down_then_in_full_within_its_pools() -> None:
    strategy = Recording(contracts=15_000, otm=0.1, days=7)
    r = run_backtest(flat_then(123_500, 24, 48), strategy, BacktestConfig(deposit=D(100), **CFG))
    # strikes 10 % out at 95,000 on the 1,000 grid, away from the money: call 104,500 → 105,000, put 85,500 → 85,000
    call, put = "BTC-USD-240108-105000-C", "BTC-USD-240108-85000-P"
    assert [t["symbol"] for t in r["trades_list"][:2]] == [call, put]
    # 15,000 contracts is tier 2 (10,001–20,000): first down to tier 1's cap, 10,000 (5,000 bought back), then
    # tier 1 closes in full; the put, further out of the money after a rise, is not touched
    assert steps_of(r, call) == [(LiquidationStep.PARTIAL, D(5000)), (LiquidationStep.CLOSE, D(10000))]
    assert steps_of(r, put) == []
    assert r["option_liquidations_by_step"] == {"close": 1, "partial": 1}
    assert (r["partial_liquidations"], r["full_liquidations"]) == (1, 1)
    partial = r["option_liquidations"][0]
    # liquidation fee per contract min(0.0003 × 0.01, 7 % × mark × 0.01): at a mark of ~0.15 the rate's 0.000003
    assert partial["fee"] == D("0.000003") * 5000
    # the pools pay the loss, the wallet is never drawn: what is left after the sale is all still there
    assert r["wallet"] >= strategy.wallet_after_sale
    close = r["option_liquidations"][1]
    assert close["shortfall"] > 0 and r["insurance_draws"] == close["shortfall"]  # the fund took the rest over
    assert r["final_equity"] < 100 and r["max_drawdown"] > 0
    assert r["premium_collected"] == sum(t["premium"] for t in r["trades_list"] if t["side"] == "SELL")


class LongCall(Strategy):
    product = "options"

    def on_start(self, ctx: Context) -> None:
        assert ctx.options is not None
        desk = ctx.options
        symbol = desk.option(desk.expiry(7), desk.strike("C", otm=0.1), "C")
        assert desk.buy_to_open(symbol, 20_000)


def test_a_long_through_the_gap_gains_its_value_and_the_provider_short_is_never_liquidated() -> None:
    r = run_backtest(flat_then(123_500, 24, 48), LongCall(), BacktestConfig(deposit=D(100), **CFG))
    buy = r["trades_list"][0]
    assert (buy["price"], buy["qty"]) == (D("0.0055"), D(20000))  # the provider's ask over a mark of ~0.0054
    # premium 20,000 × 0.0055 × 0.01 = 1.1 BTC; fee min(0.0003 × 0.01, 7 % × 0.0055 × 0.01) = 0.000003 a contract
    assert buy["premium"] == D("1.1") and buy["fee"] == D("0.06")
    (pos,) = r["option_positions"]
    assert r["final_equity"] == 100 - D("1.1") - D("0.06") + 20_000 * pos["mark_price"] * D("0.01")
    assert r["insurance_income"] == r["insurance_draws"] == 0  # nobody was liquidated, the provider included


def test_covered_call_sells_only_the_call_and_rolls() -> None:
    r = run_backtest(flat_then(80_000, 176, 180), CoveredCall(contracts=100, otm=0.1), BacktestConfig(**CFG))
    # 10 % over 95,000 and then over 80,000, on the 1,000 grid: 105,000 and 88,000; both expire worthless
    assert [t["symbol"] for t in r["trades_list"]] == ["BTC-USD-240108-105000-C", "BTC-USD-240115-88000-C"]
    assert r["settlement_paid"] == 0 and r["premium_collected"] > 0


def test_expiry_settles_at_the_first_bar_open_after_it_and_pays_intrinsic() -> None:
    # expiry 2024-01-08 08:00 is bar 176's open; the path drops to 80,000 there
    r = run_backtest(flat_then(80_000, 176, 180), ShortStrangle(contracts=100, otm=0.1), BacktestConfig(**CFG))
    got = {x["symbol"]: x for x in r["settlements"]}
    put, call = got["BTC-USD-240108-85000-P"], got["BTC-USD-240108-105000-C"]
    assert put["price"] == call["price"] == D(80000) and put["bar"] == 176
    # put: (K − S) / S × 0.01 BTC × 100 contracts = 5,000 / 80,000 = 0.0625 BTC paid; the call expires worthless
    assert put["payout"] == D("-0.0625") and call["payout"] == 0
    assert r["settlement_paid"] == D("0.0625") and r["settlement_received"] == 0
    assert r["option_liquidations"] == []
    # rolled at expiry: a new strangle 10 % around 80,000 (88,000 C, 72,000 P); the bar's last mark was its open
    # (08:00, the rest of the bar is flat), so the first 08:00 at least seven days on is 01-15 08:00
    assert [t["symbol"] for t in r["trades_list"][2:]] == ["BTC-USD-240115-88000-C", "BTC-USD-240115-72000-P"]


def test_same_seed_same_events() -> None:
    def run() -> str:
        path = gbm(200, seed=3, start=95_000, interval_ms=H, sigma=0.9)
        return dumps(
            run_backtest(path, ShortStrangle(contracts=2_000, delta=0.2, days=2), BacktestConfig(deposit=D(20), **CFG))
        )

    first = run()
    assert first == run() and '"settlements":[{' in first


def test_the_stress_book_steps_a_tier_3_short_down_tier_by_tier() -> None:
    r = run_options_stress(gap_path(0.3), OptionsBook(), MarketConfig(venue="okx"), OptionsSetup())
    steps = {a["contracts"]: a["steps"] for a in r["accounts"]}
    call = "BTC-USD-240108-105000-C"
    assert steps[25_000] == [f"{call} partial 5000", f"{call} partial 10000", f"{call} close 10000"]
    assert steps[15_000] == [f"{call} partial 5000", f"{call} close 10000"]
    assert steps[5_000] == [f"{call} close 5000"]
    assert r["cap_ok"] and all(a["loss"] <= a["posted"] for a in r["accounts"])


def test_the_docs_show_what_the_stress_book_prints() -> None:
    text = (Path(__file__).parents[2] / "docs" / "simulator.md").read_text(encoding="utf-8")
    r = run_options_stress(
        gap_path(0.3), OptionsBook(), MarketConfig(venue="okx", insurance=D(100_000)), OptionsSetup()
    )
    for a in r["accounts"]:
        assert f"account {a['account']}: {a['contracts']:,} contracts" in text
        assert f"│ {a['loss'].normalize():f} │" in text.replace("  ", " ").replace("  ", " ")
    assert f"{r['insurance_end']}" in text and "105000-C partial 5000 → 105000-C close 10000" in text


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--iv", "0.6"], "bad_parameter"),
        (["--product", "options", "--strategy", "short-strangle", "--iv", "abc"], "bad_iv"),
        (["--product", "options", "--strategy", "short-strangle", "--iv", "9"], "bad_iv"),
        (["--product", "options", "--strategy", "short-strangle", "--funding", "0.0001"], "bad_parameter"),
        (["--product", "options", "--strategy", "short-strangle", "--margin-mode", "cross"], "bad_parameter"),
        (["--product", "options", "--strategy", "buy-and-hold"], "wrong_product"),
        (["--product", "options", "--strategy", "short-strangle", "--symbol", "DOGE-USD"], "bad_symbol"),
        (["--product", "options", "--strategy", "short-strangle", "--param", "delta=0.7"], "bad_parameter"),
        (["--strategy", "short-strangle"], "wrong_product"),
    ],
)
def test_cli_refuses_flags_that_do_not_fit(args: list[str], code: str) -> None:
    res = runner.invoke(app, ["backtest", *args, "--generator", "gbm", "--bars", "10", "-q"])
    assert res.exit_code == 2, res.output
    assert f"error: {code}:" in res.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--gap", "0"], "bad_gap"),
        (["--path", "luna-2022"], "bad_parameter"),
        (["--contracts", "0"], "bad_positions"),
        (["--iv", "-1"], "bad_iv"),
    ],
)
def test_cli_stress_options_refusals(args: list[str], code: str) -> None:
    res = runner.invoke(app, ["stress", "--product", "options", *args])
    assert res.exit_code == 2, res.output
    assert f"error: {code}:" in res.output


def test_cli_runs_an_options_backtest_and_stress() -> None:
    res = runner.invoke(app, ["backtest", "--product", "options", "--strategy", "short-strangle", "--iv", "0.6",
                              "--generator", "gbm", "--bars", "60", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert '"product":"options"' in res.output and '"premium_collected":"0.0' in res.output
    res = runner.invoke(app, ["stress", "--product", "options", "--contracts", "15000", "--json"])
    assert res.exit_code == 0, res.output
    assert '"option_liquidations_by_step":{"close":1,"partial":1}' in res.output
