"""Loaders, validation, the intrabar rule, generators and the stress library."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isomargin.sim import EPISODES, SimError, from_dataframe, gbm, generate, intrabar, load, load_funding
from isomargin.sim.stress import resolve_path

DATA = Path(__file__).resolve().parents[2] / "src" / "isomargin" / "sim" / "data"


def test_bundled_binance_kline_csv_loads() -> None:
    bars = load(DATA / "btcusdt_1m_synthetic.csv")
    assert len(bars) == 2880 and bars.interval_ms == 60_000 and not bars.gaps
    f = load_funding(DATA / "btcusdt_funding_synthetic.csv")
    assert f.rate_at(int(bars.ts[-1])) is not None and f.rate_at(0) is None


def test_generic_csv_parquet_and_dataframe_agree(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "timestamp": [1, 2, 3, 5],
            "open": [10, 11, 12, 11],
            "high": [11, 12, 13, 12],
            "low": [9, 10, 11, 10],
            "close": [11, 12, 11, 11],
            "volume": [1, 1, 1, 1],
        }
    )
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    a, b, c = load(tmp_path / "a.csv"), load(tmp_path / "a.parquet"), from_dataframe(frame)
    assert a.ts.tolist() == b.ts.tolist() == c.ts.tolist() == [1000, 2000, 3000, 5000]  # seconds → ms
    assert a.gaps == [(3, 1000)]  # reported, not refused


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ("timestamp,open,high,low,close\n2,1,2,1,1\n1,1,2,1,1\n", "unsorted_timestamps"),
        ("timestamp,open,high,low,close\n1,1,2,1,1\n1,1,2,1,1\n", "duplicate_timestamp"),
        ("timestamp,open,high,low,close\n1,1,1,2,1\n", "high_below_low"),
        ("timestamp,open,high,low\n1,1,1,2\n", "bad_data"),
        ("timestamp,open,high,low,close\n1,1,2,1,x\n", "bad_data"),
        ("timestamp,open,high,low,close\n1,-1,2,1,1\n", "bad_price"),
    ],
)
def test_bad_csv_is_refused_with_a_code(tmp_path: Path, rows: str, code: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(rows)
    with pytest.raises(SimError) as exc:
        load(p)
    assert exc.value.code == code


def test_intrabar_visits_the_nearer_extreme_first() -> None:
    assert intrabar(100, 110, 99, 105) == (100, 99, 110, 105)
    assert intrabar(100, 101, 90, 95) == (100, 101, 90, 95)
    assert intrabar(100, 105, 95, 100) == (100, 95, 105, 100)  # tie: the low first


def test_generators_are_seeded_and_consistent() -> None:
    a, b = gbm(500, seed=3), gbm(500, seed=3)
    assert np.array_equal(a.close, b.close) and not np.array_equal(a.close, gbm(500, seed=4).close)
    for kind in ("gbm", "gbm-jumps", "garch"):
        bars = generate(kind, 300, seed=1)
        assert (bars.high >= np.maximum(bars.open, bars.close)).all() and (bars.low > 0).all()
    with pytest.raises(SimError):
        generate("brownian", 10)


def test_stress_library_shapes_follow_their_figures() -> None:
    covid = EPISODES["covid-2020"].build()["BTCUSDT"]
    assert 0.45 < covid.low.min() / covid.open[0] < 0.52  # ≈ −50 %
    assert covid.halt is not None and covid.halt.sum() == 25
    octo = EPISODES["oct-2025"].build()
    assert 0.84 < octo["BTCUSDT"].low.min() / octo["BTCUSDT"].open[0] < 0.88  # ≈ −14 %
    assert octo["SOLUSDT"].low.min() / octo["SOLUSDT"].open[0] <= 0.31  # alts −70 %
    assert octo["BTCUSDT"].depth is not None and octo["BTCUSDT"].depth.min() == 0  # book gone
    mango = EPISODES["mango"].build()["SOLUSDT"]
    assert mango.high.max() / mango.open[0] >= 23.5  # +2,300 %
    jelly = EPISODES["jelly"].build()["SOLUSDT"]
    assert 5.8 <= jelly.high.max() / jelly.open[0] <= 6.3  # +500 %
    for ep in EPISODES.values():
        assert ep.source and ep.figures
    with pytest.raises(SimError) as exc:
        resolve_path("lehman-2008")
    assert exc.value.code == "unknown_path"
