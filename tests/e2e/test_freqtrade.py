"""Unmodified freqtrade, live (not dry-run), futures, isolated, stop-loss on exchange, against `isomargin serve
--demo-account` alone (its feed, market maker and noise traders): within a bounded time it opens and closes
trades, places its stop on the exchange (algoOrder) and reads funding (income).

freqtrade is not a dependency of isomargin: it lives in its own virtual environment, created here once
(~/.cache/isomargin/freqtrade-venv, `pip install "freqtrade>=2026.9"`; about 3-6 minutes the first time) and
reused. The test skips only when the package index has no freqtrade.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from isomargin.server.testing import RunningVenue, ccxt_urls, signed

FREQTRADE = "freqtrade>=2026.9"
VENV = Path(os.environ.get("ISOMARGIN_FREQTRADE_VENV", Path.home() / ".cache/isomargin/freqtrade-venv"))
RUN_LIMIT_S = 200  # freqtrade's whole run is bounded by this
STRATEGY = '''
from freqtrade.strategy import IStrategy


class Churn(IStrategy):
    """Enter long at once, leave after 40 s: trades open and close within a couple of minutes."""

    INTERFACE_VERSION = 3
    timeframe = "1m"
    minimal_roi = {"0": 10}
    stoploss = -0.05
    process_only_new_candles = False
    startup_candle_count = 0

    def populate_indicators(self, df, metadata):
        return df

    def populate_entry_trend(self, df, metadata):
        df["enter_long"] = 1
        return df

    def populate_exit_trend(self, df, metadata):
        df["exit_long"] = 0
        return df

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        return "churn" if (current_time - trade.open_date_utc).total_seconds() > 40 else None
'''


def freqtrade_bin() -> Path:
    exe = VENV / "bin" / "freqtrade"
    if exe.exists():
        return exe
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", FREQTRADE],
                         capture_output=True, text=True)  # fmt: skip
    if pip.returncode != 0:
        if "No matching distribution" in pip.stderr or "Could not find a version" in pip.stderr:
            pytest.skip(f"freqtrade is not available from the package index: {pip.stderr.strip()[-200:]}")
        raise RuntimeError(f"pip install {FREQTRADE} failed: {pip.stderr[-2000:]}")
    return exe


def config(base: str, creds: dict[str, Any], db: Path) -> dict[str, Any]:
    ccxt_cfg = {"urls": {"api": ccxt_urls(base)},
                "options": {"fetchCurrencies": False, "fetchMarkets": {"types": ["linear"]}}}  # fmt: skip
    pricing = {"price_side": "other", "use_order_book": True, "order_book_top": 1}
    return {
        "trading_mode": "futures", "margin_mode": "isolated", "max_open_trades": 1, "stake_currency": "USDT",
        "stake_amount": 300, "dry_run": False, "timeframe": "1m", "initial_state": "running",
        "exchange": {"name": "binance", "key": creds["apiKey"], "secret": creds["secret"], "ccxt_config": ccxt_cfg,
                     "ccxt_async_config": ccxt_cfg, "pair_whitelist": ["BTC/USDT:USDT"]},
        "pairlists": [{"method": "StaticPairList"}], "entry_pricing": pricing, "exit_pricing": pricing,
        "order_types": {"entry": "market", "exit": "market", "stoploss": "market", "stoploss_on_exchange": True},
        "unfilledtimeout": {"entry": 1, "exit": 1, "unit": "minutes"}, "internals": {"process_throttle_secs": 3},
        "bot_name": "isomargin-e2e", "db_url": f"sqlite:///{db}",
    }  # fmt: skip


def closed_trades(db: Path) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        try:
            return con.execute("SELECT id, funding_fees FROM trades WHERE is_open = 0").fetchall()
        except sqlite3.Error:
            return []


def test_freqtrade_live_on_the_demo_market(tmp_path: Path) -> None:
    exe = freqtrade_bin()
    user = tmp_path / "user_data"
    (user / "strategies").mkdir(parents=True)
    (user / "strategies" / "churn.py").write_text(STRATEGY)
    db = tmp_path / "trades.sqlite"
    with RunningVenue(tmp_path / "venue", "--demo-account") as v:
        c = v.credentials()
        (tmp_path / "config.json").write_text(json.dumps(config(v.base, c, db)))
        log = open(tmp_path / "freqtrade.log", "w")  # noqa: SIM115 (closed below, after the process)
        proc = subprocess.Popen([str(exe), "trade", "-c", str(tmp_path / "config.json"), "--userdir", str(user),
                                 "-s", "Churn"], stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            deadline = time.time() + RUN_LIMIT_S
            while time.time() < deadline and proc.poll() is None and len(closed_trades(db)) < 2:
                time.sleep(2)
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
        text = (tmp_path / "freqtrade.log").read_text()
        closed = closed_trades(db)
        assert len(closed) >= 2, text[-3000:]
        assert all(fee is not None for _, fee in closed), closed  # funding read on each exit
        _, algo = signed(v.base, "/fapi/v1/allAlgoOrders", c["apiKey"], c["secret"], params={"symbol": "BTCUSDT"})
        assert algo and all(a["orderType"] == "STOP_MARKET" for a in algo), algo  # the stop, on the exchange
        _, fills = signed(v.base, "/fapi/v1/userTrades", c["apiKey"], c["secret"], params={"symbol": "BTCUSDT"})
        assert {f["side"] for f in fills} == {"BUY", "SELL"} and len(fills) >= 4
        _, income = signed(v.base, "/fapi/v1/income", c["apiKey"], c["secret"], params={"symbol": "BTCUSDT"})
        assert any(r["incomeType"] == "COMMISSION" for r in income)
        assert "Traceback" not in text, text[-3000:]
