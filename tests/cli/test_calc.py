"""`isomargin calc`: figures in --json match the margin library, and bad input is one line + exit 2."""

import json
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isomargin.cli import app
from isomargin.margin.numbers import MONEY

runner = CliRunner()
BIN = Path(sys.executable).parent / "isomargin"


def calc(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["calc", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_liq_simple_is_the_seeds_58825() -> None:
    data = calc("liq", "--side", "long", "--entry", "65000", "--qty", "1", "--leverage", "10")
    assert data["liquidation_price"] == "58825" and data["bankruptcy_price"] == "58500"
    assert data["liquidation_distance"] == "0.095"  # (65,000 − 58,825)/65,000


def test_liq_explicit_rate_binance_convention() -> None:
    # --mmr/--cum on the binance profile: (6,500 + 0 − 65,000)/(0.005 − 1) = 65,000 × 0.9 / 0.995.
    data = calc(
        "liq",
        "--venue",
        "binance",
        "--mmr",
        "0.005",
        "--side",
        "long",
        "--entry",
        "65000",
        "--notional",
        "65000",
        "--margin",
        "6500",
    )
    assert D(str(data["liquidation_exact"])) == MONEY.divide(D(58500), D("0.995"))
    assert data["leverage"] == "10"  # derived: notional / margin


def test_liq_okx_with_taker_fee() -> None:
    data = calc(
        "liq",
        "--venue",
        "okx",
        "--symbol",
        "BTC-USDT-SWAP",
        "--side",
        "short",
        "--entry",
        "60000",
        "--qty",
        "1",
        "--margin",
        "3000",
        "--taker-fee",
        "0.0005",
    )
    # short LP = (margin + Q·EP)/(Q·(MMR + fee + 1)) = 63,000/1.0045
    assert D(str(data["liquidation_exact"])) == MONEY.divide(D(63000), D("1.0045"))


def test_margin_adjustment_moves_liquidation() -> None:
    data = calc("margin", "--side", "long", "--entry", "65000", "--qty", "1", "--leverage", "10", "--add", "1500")
    assert (data["liquidation_price"], data["adjusted_liquidation_price"]) == ("58825", "57325")
    assert data["margin_ratio"] == "0.05"  # MM 325 / balance 6,500 at mark = entry


def test_size_and_tiers() -> None:
    data = calc("size", "--side", "long", "--entry", "65000", "--account", "10000", "--risk", "2", "--leverage", "10")
    assert (data["margin"], data["size"]) == ("195", "0.03")
    tiers = calc("tiers", "--venue", "binance", "--symbol", "BTCUSDT", "--notional", "650000")
    assert tiers["selected_tier"] == 3 and tiers["maintenance_margin"] == "3275"
    assert len(tiers["tiers"]) == 12  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["liq", "--side", "long", "--entry", "65000", "--qty", "-1", "--leverage", "10"], "not_positive"),
        (["liq", "--side", "long", "--entry", "0", "--qty", "1", "--leverage", "10"], "not_positive"),
        (["liq", "--side", "long", "--entry", "abc", "--qty", "1", "--leverage", "10"], "bad_number"),
        (["liq", "--side", "up", "--entry", "1", "--qty", "1", "--leverage", "10"], "bad_side"),
        (
            [
                "liq",
                "--venue",
                "binance",
                "--symbol",
                "BTCUSDT",
                "--side",
                "long",
                "--entry",
                "65000",
                "--qty",
                "1",
                "--leverage",
                "125",
            ],
            "leverage_above_tier_max",
        ),
        (
            [
                "liq",
                "--venue",
                "binance",
                "--symbol",
                "XRPUSDT",
                "--side",
                "long",
                "--entry",
                "1",
                "--qty",
                "1",
                "--leverage",
                "5",
            ],
            "unknown_symbol",
        ),
        (["liq", "--venue", "ftx", "--side", "long", "--entry", "1", "--qty", "1", "--leverage", "5"], "unknown_venue"),
        (["liq", "--side", "long", "--entry", "1", "--qty", "1", "--notional", "1", "--leverage", "5"], "bad_size"),
        (["liq", "--side", "long", "--entry", "1", "--qty", "1"], "bad_margin"),
        (
            ["liq", "--venue", "binance", "--side", "long", "--entry", "1", "--qty", "1", "--leverage", "5"],
            "missing_symbol",
        ),
        (
            ["margin", "--side", "long", "--entry", "65000", "--qty", "1", "--leverage", "10", "--remove", "10"],
            "above_max_removable",
        ),
        (
            [
                "size",
                "--side",
                "long",
                "--entry",
                "65000",
                "--account",
                "10000",
                "--risk",
                "2",
                "--leverage",
                "10",
                "--stop",
                "58000",
            ],
            "stop_outside_range",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], code: str) -> None:
    # In-process (Typer's runner, stdout and stderr apart); the real process is checked once below.
    result = runner.invoke(app, ["calc", *args], env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {code}: "), result.stderr
    assert "Traceback" not in result.stderr and isinstance(result.exception, SystemExit)  # an exit, not a crash


def test_bad_input_in_a_real_process() -> None:
    # What a user's shell sees: the installed script's exit status and its stderr, no traceback.
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    args = ["liq", "--side", "up", "--entry", "1", "--qty", "1", "--leverage", "10"]
    done = subprocess.run([str(BIN), "calc", *args], capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip().splitlines() == ["error: bad_side: side must be long or short, got 'up'"]


def test_demo_walkthrough_runs() -> None:
    result = runner.invoke(app, ["calc", "examples"])
    assert result.exit_code == 0
    assert "58,825.00" in result.stdout and "74.16 %" in result.stdout
