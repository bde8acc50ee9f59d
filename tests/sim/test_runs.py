"""Determinism, the CLI's contract, Monte Carlo in processes, and self-contained reports."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from typer.testing import CliRunner

from isomargin.sim import BacktestConfig, MACross, MarketConfig, MCParams, dumps, gbm, run_backtest, run_monte_carlo
from isomargin.sim.cli import app
from isomargin.sim.executors import ProcessExecutor, SerialExecutor

DATA = Path(__file__).resolve().parents[2] / "src" / "isomargin" / "sim" / "data"
runner = CliRunner()


def test_same_data_strategy_and_seed_give_byte_identical_json() -> None:
    cfg = BacktestConfig(leverage=10, market=MarketConfig(funding_rate=D("0.0001")))
    a = dumps(run_backtest(gbm(1500, seed=9), MACross(10, 30), cfg))
    b = dumps(run_backtest(gbm(1500, seed=9), MACross(10, 30), cfg))
    assert a == b and '"trades":' in a


def test_cli_json_is_byte_identical_across_runs() -> None:
    args = [
        "backtest",
        "--data",
        str(DATA / "btcusdt_1m_synthetic.csv"),
        "--strategy",
        "ma-cross",
        "--param",
        "fast=10",
        "--param",
        "slow=40",
        "--funding",
        str(DATA / "btcusdt_funding_synthetic.csv"),
        "--json",
    ]
    one = runner.invoke(app, args)
    two = runner.invoke(app, args)
    assert one.exit_code == 0, one.output
    assert one.stdout == two.stdout
    assert '"funding_list":[{' in one.stdout


def test_compare_modes_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = runner.invoke(
        app,
        [
            "stress",
            "--path",
            "cascade",
            "--positions",
            "1@BTCUSDT:long:10x:1000,1@ETHUSDT:long:10x:900,1@SOLUSDT:long:10x:900",
            "--compare-modes",
            "--report",
            str(out),
            "--json-out",
            str(tmp_path / "r.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "<script" in text and 'src="https://cdn' not in text and "Liquidation map" in text
    res = runner.invoke(
        app,
        [
            "backtest",
            "--generator",
            "gbm",
            "--bars",
            "300",
            "--compare-modes",
            "-q",
            "--report",
            str(tmp_path / "b.html"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Equity side by side" in (tmp_path / "b.html").read_text()


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close\n2,1,2,1,1\n1,1,2,1,1\n")
    cases = [
        (["backtest", "--data", str(bad)], "error: unsorted_timestamps:"),
        (["backtest", "--generator", "gbm", "--strategy", "nowhere:Nothing"], "error: bad_strategy:"),
        (["backtest", "--generator", "gbm", "--strategy", "justaname"], "error: bad_strategy:"),
        (["stress", "--path", "atlantis", "--positions", "long:10x:100"], "error: unknown_path:"),
        (["stress", "--path", "cascade", "--positions", "sideways:10x:100"], "error: bad_positions:"),
        (["backtest", "--generator", "gbm", "--margin-mode", "portfolio"], "error: bad_margin_mode:"),
    ]
    for args, start in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith(start), res.output


def test_monte_carlo_in_processes_matches_serial() -> None:
    p = MCParams(paths=4, bars=240, leverage=50, sigma=1.0, seed=5)
    serial = run_monte_carlo(p, SerialExecutor(), chunk=2)
    parallel = run_monte_carlo(p, ProcessExecutor(2), chunk=2)
    assert dumps(serial) == dumps(parallel)
    run = serial["runs"][0]
    assert 0 <= run["p_liquidation"] <= 1 and run["paths"] == 4
    assert run["max_loss_fraction_of_margin"] is None or run["max_loss_fraction_of_margin"] <= 1


def test_strategy_from_a_file(tmp_path: Path) -> None:
    f = tmp_path / "mystrat.py"
    f.write_text(
        "from isomargin.sim import Strategy\n\nclass Short(Strategy):\n"
        "    def on_start(self, ctx):\n        ctx.sell(margin=1000)\n"
    )
    res = runner.invoke(app, ["backtest", "--generator", "gbm", "--bars", "200", "--strategy", f"{f}:Short", "--json"])
    assert res.exit_code == 0, res.output
    assert '"side":"short"' in res.stdout
