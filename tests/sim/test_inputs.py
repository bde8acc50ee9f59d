"""Honest inputs: timestamps found by name or refused, an index column of dates read and said so, a tick that
does not fit the data's prices warned about, `--spread 0` kept as zero."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest

from isomargin.sim import BacktestConfig, BuyAndHold, MarketConfig, SimError, load, run_backtest

START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def _frame(price: float, n: int = 5) -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=n, freq="1min")
    return pd.DataFrame(
        {"Open": [price] * n, "High": [price * 1.001] * n, "Low": [price * 0.999] * n, "Close": [price] * n}, index=idx
    )


def test_unnamed_first_column_of_dates_is_the_timestamp_and_says_so(tmp_path: Path) -> None:
    p = tmp_path / "pandas_index.csv"
    _frame(60_000.0).to_csv(p)  # header ",Open,High,Low,Close"
    assert p.read_text().startswith(",Open")
    bars = load(p)
    assert bars.ts.tolist() == [START_MS + 60_000 * k for k in range(5)]
    assert len(bars.notes) == 1 and "unnamed first column" in bars.notes[0]


def test_row_numbers_are_refused_as_timestamps(tmp_path: Path) -> None:
    p = tmp_path / "row_index.csv"
    _frame(60_000.0).reset_index(drop=True).to_csv(p)  # ",Open,..." with 0, 1, 2, … in the first column
    with pytest.raises(SimError) as exc:
        load(p)
    assert exc.value.code == "no_timestamp" and "row numbers" in str(exc.value)
    q = tmp_path / "no_index.csv"
    _frame(60_000.0).to_csv(q, index=False)
    with pytest.raises(SimError, match="no timestamp column"):
        load(q)


def test_named_timestamp_column_needs_no_note(tmp_path: Path) -> None:
    p = tmp_path / "named.csv"
    _frame(60_000.0).rename_axis("timestamp").to_csv(p)
    bars = load(p)
    assert bars.notes == [] and int(bars.ts[0]) == START_MS


def test_prices_far_below_the_tick_grid_are_warned_about(tmp_path: Path) -> None:
    p = tmp_path / "eurusd.csv"
    _frame(1.07, 50).rename_axis("timestamp").to_csv(p)
    # BTCUSDT's tick is 0.1: 9.3 % of 1.07
    r = run_backtest(load(p), BuyAndHold(0.1), BacktestConfig(leverage=2))
    assert any("tick 0.1" in w and "9.3%" in w for w in r["warnings"]), r["warnings"]
    calm = _frame(60_000.0, 50).rename_axis("timestamp")
    calm.to_csv(p)
    assert run_backtest(load(p), BuyAndHold(0.1), BacktestConfig(leverage=2))["warnings"] == []


def test_zero_spread_is_zero() -> None:
    assert MarketConfig(spread=D(0)).spread == 0
